"""What kind of Azure ML file is this? Decided from its content, not its name."""

from __future__ import annotations

from pathlib import Path

from amlrun.spec.component import is_sdk20
from amlrun.spec.v1 import is_v1_module

MODULE_KINDS = {"module"}
PIPELINE_KINDS = {"pipeline"}
#: kinds amlrun recognises but does not check as modules or pipelines
OTHER_KINDS = {
    "conda": "conda environment",
    "environment": "environment",
    "runconfig": "v1 run configuration",
    "parallel_run_config": "v1 parallel run configuration",
    "schedule": "schedule",
    "mltable": "MLTable data",
    "mlmodel": "MLflow model",
    "data": "data asset",
}


def kind_of(doc: object, path: Path) -> str:
    """One of: module, pipeline, one of OTHER_KINDS, or 'unknown'."""
    if path.name == "MLTable":
        return "mltable"
    if path.name == "MLmodel":
        return "mlmodel"
    if not isinstance(doc, dict):
        return "unknown"
    schema = str(doc.get("$schema", "")).lower()
    typ = str(doc.get("type", "")).lower()
    if isinstance(doc.get("pipeline"), dict):
        return "pipeline"
    if "schedule" in schema or ("trigger" in doc and "create_job" in doc):
        return "schedule"
    if (
        "pipelinejob" in schema
        or "pipelinecomponent" in schema
        or typ in ("pipeline", "pipelinecomponent")
    ):
        return "pipeline"
    if "jobs" in doc and isinstance(doc["jobs"], dict):
        return "pipeline"
    if is_v1_module(doc) or is_sdk20(doc):
        return "module"
    if (
        "component" in schema
        or typ in ("command", "parallel", "component")
        or ("command" in doc and ("inputs" in doc or "outputs" in doc or "code" in doc))
    ):
        return "module"
    if "parallel_run_config" in doc:
        return "parallel_run_config"
    if "dependencies" in doc:
        return "conda"
    if {"framework", "communicator"} & set(doc) or ("target" in doc and "environment" in doc):
        return "runconfig"
    if "environment" in schema or ("image" in doc and ("conda_file" in doc or "name" in doc)):
        return "environment"
    if "data" in schema or typ in ("uri_file", "uri_folder", "mltable"):
        return "data"
    return "unknown"

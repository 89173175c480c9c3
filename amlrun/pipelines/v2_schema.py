"""The keys a v2 pipeline job, its nodes and its settings may have, and the reference forms
their values take (``${{parent.jobs.a.outputs.b}}``, cloud and remote data)."""

from __future__ import annotations

import re

JOB_OUTPUT = re.compile(r"^(?:parents?\.)?jobs\.([^.]+)\.outputs\.(.+)$")
PARENT_OUTPUT = re.compile(r"^(?:parents?\.)?outputs\.(.+)$")
CLOUD = ("azureml:", "azureml://", "wasbs://", "wasb://", "abfss://", "adl://")
REMOTE = ("s3://", "gs://", "gcs://", "abfs://", "az://", "http://", "https://", "memory://")

MAX_STEPS = 100_000
PIPELINE_KEYS = {
    "$schema",
    "type",
    "name",
    "display_name",
    "description",
    "tags",
    "experiment_name",
    "settings",
    "inputs",
    "outputs",
    "jobs",
    "compute",
    "version",
    "is_deterministic",
    "identity",
    "properties",
}
NODE_KEYS = {
    "type",
    "component",
    "inputs",
    "outputs",
    "compute",
    "resources",
    "distribution",
    "limits",
    "services",
    "environment_variables",
    "code",
    "command",
    "environment",
    "name",
    "display_name",
    "description",
    "tags",
    "is_deterministic",
    "settings",
    "identity",
    "input_data",
    "mini_batch_size",
    "task",
    "retry_settings",
    "logging_level",
    "max_concurrency_per_instance",
    "mini_batch_error_threshold",
    "error_threshold",
    "partition_keys",
    "properties",
    "queue_settings",
    "experiment_name",
    "$schema",
    "additional_includes",
    "trial",
    "search_space",
    "objective",
    "sampling_algorithm",
    "early_termination",
}
SETTINGS_KEYS = {
    "default_compute",
    "default_datastore",
    "continue_on_step_failure",
    "force_rerun",
    "datastore",
    "on_init",
    "on_finalize",
}

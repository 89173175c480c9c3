"""v1 pipeline YAML (``az ml run submit-pipeline -y``): PythonScriptStep and friends.

Each step becomes a module built on the fly: ``python <script_name> <arguments>`` in
``source_directory``, with ``input:``/``output:``/``parameter:`` tokens as placeholders.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from amlrun.errors import Diagnostics, SpecError, line_of
from amlrun.pipelines.model import NONE, Binding, Step
from amlrun.pipelines.validate import check_bindings, check_overrides
from amlrun.registry.layered import NotRegistered
from amlrun.registry.resolve import RegistryResolver
from amlrun.spec import yamlio
from amlrun.spec.common import conda_environment, read_conda
from amlrun.spec.model import Code, Command, Environment, Module, Parameter, Port, Ref, Text
from amlrun.spec.shape import check_names, local_path, mapping, sequence, what

PIPELINE_KEYS = {"name", "description", "parameters", "data_references", "default_compute", "steps"}
STEP_KEYS = {
    "type",
    "name",
    "compute",
    "script_name",
    "source_directory",
    "runconfig",
    "allow_reuse",
    "arguments",
    "parameters",
    "inputs",
    "outputs",
    "side_inputs",
    "parallel_run_config",
    "hash_paths",
    "runconfig_parameters",
}
_TYPES = {"string": "string", "int": "integer", "float": "number", "bool": "boolean"}


def load_v1_pipeline(
    doc: dict,
    path: Path,
    overrides: dict[str, Any],
    diags: Diagnostics,
    datastores: dict[str, str],
    resolver: RegistryResolver | None = None,
) -> tuple[str, dict[str, Step], dict[str, Any], str | None]:
    body = doc["pipeline"]
    diags.unknown_keys(body, PIPELINE_KEYS, file=path, where="pipeline")
    params: dict[str, tuple[str, Any]] = {}
    declared = mapping(body, "parameters", file=path, where="pipeline")
    check_overrides(overrides, declared, file=path, field="pipeline.parameters", noun="parameter")
    for name, spec in declared.items():
        spec = spec if isinstance(spec, dict) else {"default": spec}
        ptype = _TYPES.get(str(spec.get("type", "string")).lower(), "string")
        value = overrides.get(name, spec.get("default"))
        params[name] = (ptype, value)
    refs: dict[str, Binding] = {}
    data_refs = mapping(body, "data_references", file=path, where="pipeline")
    for name, spec in data_refs.items():
        spec = mapping(data_refs, name, file=path, where="pipeline.data_references")
        line = line_of(data_refs, name)
        refs[name] = _data_reference(spec, path, datastores, line, resolver)
    steps_doc = body.get("steps")
    if not isinstance(steps_doc, dict) or not steps_doc:
        raise SpecError(
            "the pipeline has no steps",
            file=path,
            line=line_of(body),
            field="pipeline.steps",
            fix="add steps: {Name: {type: PythonScriptStep, ...}}",
        )
    check_names(steps_doc, file=path, where="pipeline.steps")
    producers: dict[str, tuple[str, str]] = {}  # destination name -> (step, output)
    for key in steps_doc:
        step = mapping(steps_doc, key, file=path, where="pipeline.steps")
        for oname, ospec in mapping(step, "outputs", file=path, where=f"steps.{key}").items():
            dest = (ospec or {}).get("destination", oname) if isinstance(ospec, dict) else oname
            producers[str(dest)] = (str(key), str(oname))
    steps: dict[str, Step] = {}
    for key in steps_doc:
        step = mapping(steps_doc, key, file=path, where="pipeline.steps")
        steps[key] = _step(
            str(key), step, path, params, refs, producers, diags, body.get("default_compute")
        )
    name = str(body.get("name") or body.get("description") or path.stem)
    return name, steps, {k: v for k, (_, v) in params.items()}, body.get("default_compute")


def _data_reference(
    spec: dict, path: Path, datastores: dict[str, str], line, resolver: RegistryResolver | None
) -> Binding:
    if "dataset_name" in spec:
        if resolver is not None:  # a registered data asset, or [tool.amlrun.datasets]
            try:
                return Binding("path", resolver.data(f"azureml:{spec['dataset_name']}"), line=line)
            except NotRegistered:
                pass
        return Binding(
            "cloud",
            f"dataset '{spec['dataset_name']}' is an Azure ML dataset; "
            "map it with [tool.amlrun.datasets] to a local path or register it "
            "(amlrun data register NAME:VERSION PATH)",
            line=line,
        )
    from amlrun.pipelines.datastores import datastore_binding

    root = resolver.workspace_root if resolver is not None else Path.cwd()
    store, rel = str(spec.get("datastore")), str(spec.get("path_on_datastore") or "")
    return datastore_binding(store, rel, datastores, root, line=line, field="data_references")


def _step(
    key: str, step: dict, path: Path, params, refs, producers, diags, default_compute
) -> Step:
    line = getattr(step, "line", None)
    diags.unknown_keys(step, STEP_KEYS, file=path, where=f"steps.{key}")
    stype = str(step.get("type", "PythonScriptStep"))
    where = f"pipeline.steps.{key}"
    ports, bindings = _inputs(step, path, where, line, refs, producers)

    outputs = [Port(str(o), "uri_folder") for o in mapping(step, "outputs", file=path)]
    parameters = _parameters(step, path, where, params, bindings)

    items = _arguments(step, path, where, line, ports, outputs, parameters)

    parallel = None
    if stype == "ParallelRunStep":
        from amlrun.pipelines.v1_parallel import parallel_run_step

        command, env, src_dir, parallel, blocked = parallel_run_step(
            step, path, where, line, items, ports, outputs
        )
    else:
        command, env, blocked, src_dir = _command(step, stype, path, where, line, items)

    root = (
        local_path(path.parent, src_dir, file=path, line=line, field=f"{where}.source_directory")
        if src_dir
        else path.parent
    )
    from amlrun.spec.reads import record

    record(root)
    module = Module(
        name=str(step.get("name") or key),
        version=None,
        command=command,
        environment=env,
        code=Code(root=root, missing=None if root.is_dir() else str(src_dir)),
        inputs=tuple(ports),
        outputs=tuple(outputs),
        parameters=tuple(parameters),
        source=path,
        format="v1-pipeline",
        kind="parallel" if stype == "ParallelRunStep" else "command",
        parallel=parallel,
    )
    check_bindings(module, bindings, diags, file=path, where=where, line=line)
    allow_reuse = step.get("allow_reuse", True)
    return Step(
        name=key,
        module=module,
        bindings=bindings,
        source=path,
        line=line,
        compute=str(step.get("compute") or default_compute or "") or None,
        force_rerun=allow_reuse is False or str(allow_reuse).lower() == "false",
        blocked=blocked,
    )


def _inputs(
    step: dict, path: Path, where: str, line, refs, producers
) -> tuple[list[Port], dict[str, Binding]]:
    """The step's input ports, each bound to a data reference, a step output or the cloud."""
    bindings: dict[str, Binding] = {}
    ports: list[Port] = []
    step_inputs = mapping(step, "inputs", file=path, where=where)
    side = mapping(step, "side_inputs", file=path, where=where)
    for iname, ispec in {**step_inputs, **side}.items():
        src = ispec.get("source", iname) if isinstance(ispec, dict) else ispec
        if not isinstance(src, str):
            raise SpecError(
                f"input '{iname}' names its source with {what(src)}",
                file=path,
                line=line_of(step_inputs, iname) or line,
                field=f"{where}.inputs.{iname}",
                fix="give the name of a data reference or of another step's output",
            )
        ports.append(Port(str(iname), "uri_folder"))
        iline = line_of(step_inputs, iname) or line
        if src in producers:
            up, out = producers[src]
            bindings[str(iname)] = Binding("step", step=up, output=out, line=iline)
        elif src in refs:
            bindings[str(iname)] = refs[src]
        else:  # not in this file: only a workspace dataset or an earlier run could provide it
            bindings[str(iname)] = Binding(
                "cloud",
                f"source '{src}' is neither a data reference nor a step output in this "
                "file (on Azure ML it must be a registered dataset)",
                line=iline,
            )
    return ports, bindings


def _parameters(
    step: dict, path: Path, where: str, params, bindings: dict[str, Binding]
) -> list[Parameter]:
    """The step's parameters (their literal bindings are added to ``bindings``)."""
    parameters: list[Parameter] = []
    for pname, pspec in mapping(step, "parameters", file=path, where=where).items():
        if isinstance(pspec, dict) and "source" in pspec:
            src = pspec["source"]
            if not isinstance(src, str) or src not in params:
                raise SpecError(
                    f"parameter source '{src}' is not a pipeline parameter",
                    file=path,
                    line=line_of(step["parameters"], pname),
                    field=f"{where}.parameters",
                    fix="declare it under pipeline.parameters",
                )
            ptype, value = params[src]
        else:
            ptype, value = "string", pspec
        parameters.append(Parameter(str(pname), ptype))
        bindings[str(pname)] = NONE if value is None else Binding("literal", value)
    return parameters


def _arguments(
    step: dict, path: Path, where: str, line, ports: list, outputs: list, parameters: list
) -> list:
    """The command's arguments; ``input:x``/``output:y``/``parameter:z`` name declared ports."""
    items: list = []
    for i, arg in enumerate(sequence(step, "arguments", file=path, where=where)):
        text = str(arg)
        kind, _, ref = text.partition(":")
        if kind in ("input", "output", "parameter", "side_input") and ref:
            known = {p.name for p in (outputs if kind == "output" else ports)} | (
                {p.name for p in parameters} if kind == "parameter" else set()
            )
            if ref not in known:
                raise SpecError(
                    f"argument '{text}' names no declared {kind}",
                    file=path,
                    line=line_of(step["arguments"], i) or line,
                    field=f"{where}.arguments",
                    fix=f"declare '{ref}' under the step's {kind}s",
                )
            items.append(Ref("output" if kind == "output" else "input", ref))
        else:
            items.append(Text(text))
    return items


def _command(
    step: dict, stype: str, path: Path, where: str, line, items: list
) -> tuple[Command, Environment, str | None, str | None]:
    """(command, environment, why it cannot run locally, source folder) of a step type."""
    blocked = None
    src_dir = step.get("source_directory")
    script = step.get("script_name")
    env = Environment()
    if stype == "PythonScriptStep":
        if not script:
            raise SpecError(
                "a PythonScriptStep needs script_name",
                file=path,
                line=line,
                field=f"{where}.script_name",
                fix="add script_name: train.py",
            )
        command = Command("argv", (Text("python"), Text(str(script)), *items))
        if step.get("runconfig") and (
            rc := _side_file(path, step["runconfig"], line, f"{where}.runconfig")
        ):
            env = _runconfig_env(rc)
    else:
        command = Command("argv", tuple(items))
        blocked = f"{stype} runs only on Azure ML"
    return command, env, blocked, src_dir


def _runconfig_env(path: Path) -> Environment:
    env = mapping(_document(path), "environment", file=path)
    py = mapping(env, "python", file=path, where="environment")
    docker = mapping(env, "docker", file=path, where="environment")
    conda_file = py.get("condaDependenciesFile")
    conda, missing = None, None
    if conda_file:
        cpath = path.parent / str(conda_file)
        conda = read_conda(cpath, file=path, line=None, field="environment.python")
        missing = None if conda is not None else cpath
    image = docker.get("baseImage") if docker.get("enabled") else None
    e = conda_environment(conda, conda_file, image, missing)
    name = str(env.get("name") or "")
    if name.startswith("AzureML-") and not conda_file and image is None:
        version = env.get("version")  # a curated environment by name, resolved like azureml:
        ref = f"azureml:{name}:{version}" if version else f"azureml:{name}"
        e = Environment(kind="reference", reference=ref)
    variables = tuple(
        (str(k), str(v))
        for k, v in mapping(env, "environmentVariables", file=path, where="environment").items()
    )
    from dataclasses import replace

    return replace(e, variables=variables)


def _side_file(path: Path, raw: Any, line: int | None, field: str) -> Path | None:
    """A runconfig or parallel run config next to the pipeline, if it exists."""
    side = local_path(path.parent, raw, file=path, line=line, field=field)
    return side if side.is_file() else None


def _document(path: Path) -> dict:
    """A side file (runconfig, parallel run config) that is not a mapping adds nothing."""
    doc = yamlio.load(path)
    return doc if isinstance(doc, dict) else {}

"""Dict-style components: sdk-2.0 CommandComponent, CLI v2 command/parallel components and
the 2021 preview syntax. They share one shape (``inputs``/``outputs`` mappings and a string
command) and differ in placeholder style, environment and ``code`` spelling."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from amlrun.errors import Diagnostics, SpecError, line_of
from amlrun.spec.common import (
    _plain,
    check_interface_refs,
    conda_environment,
    include_name,
    make_input,
    port_type,
    read_conda,
    sidecar_includes,
)
from amlrun.spec.model import Code, Command, Environment, Module, Parallel, Parameter, Port, Text
from amlrun.spec.names import check_name
from amlrun.spec.parallel import parallel_settings
from amlrun.spec.render import check_shell_command
from amlrun.spec.shape import local_path, mapping, sequence
from amlrun.spec.template import parse_shell

V2_KEYS = {
    "$schema",
    "type",
    "name",
    "version",
    "display_name",
    "description",
    "tags",
    "is_deterministic",
    "inputs",
    "outputs",
    "command",
    "code",
    "environment",
    "additional_includes",
    "distribution",
    "resources",
    "limits",
    "services",
    "compute",
    "environment_variables",
    "task",
    "input_data",
    "mini_batch_size",
    "partition_keys",
    "mini_batch_error_threshold",
    "logging_level",
    "max_concurrency_per_instance",
    "retry_settings",
    "error_threshold",
    "id",
    "creation_context",
    "queue_settings",
}
SDK20_KEYS = {
    "$schema",
    "name",
    "version",
    "display_name",
    "type",
    "description",
    "tags",
    "inputs",
    "outputs",
    "command",
    "environment",
    "code",
    "is_deterministic",
    "successful_return_code",
    "meta",
    "parallel",
    "hdinsight",
    "distribution",
    "launcher",
}
SDK20_TYPES = {
    "commandcomponent",
    "parallelcomponent",
    "distributedcomponent",
    "pipelinecomponent",
    "hdinsightcomponent",
}
ENV_V2_KEYS = {
    "image",
    "conda_file",
    "build",
    "name",
    "version",
    "description",
    "tags",
    "os_type",
    "inference_config",
    "$schema",
}
ENV_SDK20_KEYS = {"docker", "conda", "os", "name", "version"}


def is_sdk20(doc: dict) -> bool:
    return "sdk-2-0" in str(doc.get("$schema", "")) or (
        str(doc.get("type", "")).lower() in SDK20_TYPES
    )


def load_component(
    doc: dict, path: Path, diags: Diagnostics, *, base: Path | None = None
) -> Module:
    """Load a component; ``base`` is the folder relative paths start from (inline components)."""
    sdk20 = is_sdk20(doc)
    style = "sdk20" if sdk20 else "v2"
    base = base or path.parent
    kind_raw = str(doc.get("type") or "command").lower()
    diags.unknown_keys(doc, SDK20_KEYS if sdk20 else V2_KEYS, file=path)
    parallel_kind = _parallel_kind(doc, path, kind_raw)

    ports, params = _interface(doc.get("inputs"), path, diags, "inputs")
    outputs = _outputs(doc, path)

    task = doc.get("task") if parallel_kind and isinstance(doc.get("task"), dict) else None
    holder = task or doc
    root, code_raw, missing = _code_root(holder, base, path)

    command = _command(doc, task, path, diags, style, parallel_kind)
    cmd_line = line_of(holder, "program_arguments" if task else "command")
    check_interface_refs(command, ports, params, outputs, file=path, line=cmd_line, diags=diags)
    field = "task.program_arguments" if task else "command"
    check_shell_command(command, params, file=path, line=cmd_line, field=field)

    env_raw = holder.get("environment")
    if sdk20:
        env = _sdk20_environment(env_raw, root, path, diags)
    else:
        env = environment_v2(env_raw, base, path, diags, line_of(holder, "environment"))
    env = _with_variables(env, doc, path)

    includes_raw = sequence(doc, "additional_includes", file=path) + sidecar_includes(path)
    includes = tuple((base / str(r), include_name(str(r))) for r in includes_raw)
    parallel = _parallel(doc, task) if parallel_kind else None

    return Module(
        name=str(doc.get("name") or path.stem),
        version=None if doc.get("version") is None else str(doc.get("version")),
        display_name=doc.get("display_name"),
        description=str(doc.get("description") or ""),
        tags=tuple((str(k), str(v or "")) for k, v in (doc.get("tags") or {}).items())
        if isinstance(doc.get("tags"), dict)
        else (),
        is_deterministic=doc.get("is_deterministic", True) is not False,
        kind="parallel" if parallel_kind else "command",
        job_type="parallel" if parallel_kind else "basic",
        parallel=parallel,
        inputs=tuple(ports),
        outputs=tuple(outputs),
        parameters=tuple(params),
        command=command,
        environment=env,
        # v2 without `code:` uploads nothing; sdk-2.0 snapshots the spec's folder
        code=Code(root=root if code_raw or sdk20 else None, includes=includes, missing=missing),
        source=path,
        format=style,
    )


def _parallel_kind(doc: dict, path: Path, kind_raw: str) -> bool:
    """Whether the component is a parallel one; a type that cannot run locally is refused."""
    if kind_raw in ("pipelinecomponent", "pipeline"):
        raise SpecError(
            "this is a pipeline, not a module",
            file=path,
            line=line_of(doc, "type"),
            field="type",
            fix="run it with 'amlrun run'",
        )
    if kind_raw not in (
        "command",
        "component",
        "commandcomponent",
        "parallel",
        "parallelcomponent",
        "distributedcomponent",
    ):
        raise SpecError(
            f"component type '{doc.get('type')}' cannot run locally",
            file=path,
            line=line_of(doc, "type"),
            field="type",
            fix="use a command component",
        )
    return kind_raw in ("parallel", "parallelcomponent")


def _outputs(doc: dict, path: Path) -> list[Port]:
    outputs: list[Port] = []
    outs = doc.get("outputs") or {}
    if not isinstance(outs, dict):
        raise SpecError(
            "'outputs' must be a mapping",
            file=path,
            line=line_of(doc, "outputs"),
            field="outputs",
            fix="write outputs as 'name: {type: uri_folder}'",
        )
    for name, spec in outs.items():
        check_name(str(name), "port", file=path, line=line_of(outs, name), field=f"outputs.{name}")
        spec = spec if isinstance(spec, dict) else {"type": spec}
        outputs.append(
            Port(
                str(name),
                port_type(
                    spec.get("type"),
                    file=path,
                    line=line_of(outs, name),
                    field=f"outputs.{name}.type",
                ),
                False,
                str(spec.get("description") or ""),
            )
        )
    return outputs


def _code_root(holder: dict, base: Path, path: Path) -> tuple[Path, Any, str | None]:
    """(snapshot root, ``code:`` as written, the folder named when it does not exist)."""
    code_raw = holder.get("code")
    if isinstance(code_raw, dict):  # 2021 preview: code: {local_path: ./src}
        code_raw = code_raw.get("local_path")
    root = (
        local_path(base, code_raw, file=path, line=line_of(holder, "code"), field="code")
        if code_raw
        else base
    )
    missing = None
    if code_raw and str(code_raw).startswith(("azureml:", "azureml://", "http")):
        raise SpecError(
            f"code '{code_raw}' is a cloud asset",
            file=path,
            line=line_of(holder, "code"),
            field="code",
            fix="point code at a local folder",
        )
    if code_raw:
        from amlrun.spec.reads import record

        record(root)
        if not root.is_dir():
            missing = str(code_raw)
    return root, code_raw, missing


def _parallel(doc: dict, task: dict | None) -> Parallel:
    data = doc.get("input_data")
    return Parallel(
        input_data=(str(data),) if data else (),
        output_data=str(task.get("append_row_to")) if task and task.get("append_row_to") else None,
        entry_script=str(task.get("entry_script")) if task else None,
        mini_batch_size=None if doc.get("mini_batch_size") is None else str(doc["mini_batch_size"]),
        settings=parallel_settings(doc),
    )


def _interface(raw: Any, path: Path, diags: Diagnostics, where: str) -> tuple[list, list]:
    ports: list[Port] = []
    params: list[Parameter] = []
    if raw is None:
        return ports, params
    if not isinstance(raw, dict):
        raise SpecError(
            f"'{where}' must be a mapping",
            file=path,
            field=where,
            fix=f"write {where} as 'name: {{type: ...}}'",
        )
    for name, spec in raw.items():
        check_name(str(name), "port", file=path, line=line_of(raw, name), field=f"{where}.{name}")
        item = make_input(str(name), spec, file=path, diags=diags, where=f"{where}.{name}")
        (params if isinstance(item, Parameter) else ports).append(item)
    return ports, params


def _command(
    doc: dict, task: dict | None, path: Path, diags: Diagnostics, style: str, parallel_kind: bool
) -> Command:
    if parallel_kind:
        entry = (task or {}).get("entry_script") or (doc.get("parallel") or {}).get("entry")
        args = str((task or {}).get("program_arguments") or "")
        cmd = parse_shell(
            args,
            style,
            file=path,
            line=line_of(task or doc),
            diags=diags,
            field="task.program_arguments",
        )
        return Command("shell", (Text(f"python {entry or 'entry.py'} "), *cmd.items))
    text = doc.get("command")
    if not text or not isinstance(text, str):
        raise SpecError(
            "the component has no command",
            file=path,
            line=line_of(doc),
            field="command",
            fix="add command: python your_script.py ...",
        )
    return parse_shell(text, style, file=path, line=line_of(doc, "command"), diags=diags)


def environment_v2(
    raw: Any, base: Path, path: Path, diags: Diagnostics, line: int | None
) -> Environment:
    """A v2 ``environment``: a reference string, or inline image / conda_file / build."""
    if raw is None:
        return Environment()
    if isinstance(raw, str):
        return Environment(kind="reference", reference=raw)
    if not isinstance(raw, dict):
        raise SpecError(
            "environment must be a string or a mapping",
            file=path,
            line=line,
            field="environment",
            fix="write environment: {image: ...}",
        )
    diags.unknown_keys(raw, ENV_V2_KEYS, file=path, where="environment")
    build = raw.get("build")
    if isinstance(build, dict) and build.get("path"):
        ctx = (base / str(build["path"])).resolve()
        return Environment(
            kind="build", build_context=str(ctx), dockerfile=build.get("dockerfile_path")
        )
    conda_raw = raw.get("conda_file")
    conda, conda_file, missing = None, None, None
    if isinstance(conda_raw, dict):
        conda = _plain(conda_raw)
    elif conda_raw:
        conda_file = str(conda_raw)
        conda = read_conda(base / conda_file, file=path, line=line, field="environment.conda_file")
        if conda is None:
            missing = base / conda_file
    return conda_environment(conda, conda_file, raw.get("image"), missing)


def _with_variables(env: Environment, doc: dict, path: Path) -> Environment:
    """Component-level ``environment_variables``: every backend sets them, the key covers them."""
    raw = doc.get("environment_variables")
    if raw is None:
        return env
    if not isinstance(raw, dict):
        raise SpecError(
            "environment_variables must be a mapping",
            file=path,
            line=line_of(doc, "environment_variables"),
            field="environment_variables",
            fix="write environment_variables: {NAME: value}",
        )
    from dataclasses import replace

    return replace(env, variables=tuple((str(k), str(v)) for k, v in raw.items()))


def _sdk20_environment(raw: Any, root: Path, path: Path, diags: Diagnostics) -> Environment:
    if not isinstance(raw, dict):
        return environment_v2(raw, root, path, diags, None)
    diags.unknown_keys(raw, ENV_SDK20_KEYS, file=path, where="environment")
    image = mapping(raw, "docker", file=path, where="environment", names=False).get("image")
    conda_spec = mapping(raw, "conda", file=path, where="environment", names=False)
    conda, conda_file, missing = conda_spec.get("conda_dependencies"), None, None
    pip: tuple[str, ...] = ()
    if conda is None and conda_spec.get("conda_dependencies_file"):
        conda_file = str(conda_spec["conda_dependencies_file"])
        conda = read_conda(
            root / conda_file,
            file=path,
            line=line_of(raw, "conda"),
            field="environment.conda.conda_dependencies_file",
        )
        missing = None if conda is not None else root / conda_file
    if conda_spec.get("pip_requirements_file"):
        req = root / str(conda_spec["pip_requirements_file"])
        from amlrun.spec.reads import record

        record(req)
        if req.is_file():
            pip = tuple(
                ln.strip()
                for ln in req.read_text().splitlines()
                if ln.strip() and not ln.startswith("#")
            )
    env = conda_environment(_plain(conda) if conda else None, conda_file, image, missing)
    if pip and env.kind == "current":
        return Environment(kind="pip", pip=pip)
    return env

"""The v1 "module spec" (2020): amlModuleIdentifier / moduleIdentifier / G0 custom modules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from amlrun.errors import Diagnostics, SpecError, line_of
from amlrun.spec.common import (
    check_interface_refs,
    conda_environment,
    default_for,
    include_name,
    number,
    param_type,
    port_type,
    read_conda,
    sidecar_includes,
)
from amlrun.spec.model import (
    Code,
    Command,
    Condition,
    Environment,
    Module,
    Parallel,
    Parameter,
    Port,
    Text,
)
from amlrun.spec.shape import mapping, sequence, what
from amlrun.spec.template import parse_v1_args

TOP_KEYS = {
    "amlModuleIdentifier",
    "moduleIdentifier",
    "name",
    "id",
    "version",
    "category",
    "description",
    "jobType",
    "metadata",
    "isDeterministic",
    "inputs",
    "outputs",
    "implementation",
    "$schema",
}
IDENT_KEYS = {"namespace", "moduleName", "moduleVersion", "description"}
ITEM_KEYS = {
    "name",
    "type",
    "optional",
    "default",
    "description",
    "min",
    "max",
    "options",
    "port",
    "argumentName",
    "label",
    "columnPickerFor",
    "singleColumnSelection",
}
CONTAINER_KEYS = {
    "amlEnvironment",
    "image",
    "conda",
    "command",
    "args",
    "additionalIncludes",
    "entry",
}
PARALLEL_KEYS = {
    "amlEnvironment",
    "image",
    "conda",
    "inputData",
    "outputData",
    "entry",
    "args",
    "additionalIncludes",
}


def is_v1_module(doc: dict) -> bool:
    if "amlModuleIdentifier" in doc or "moduleIdentifier" in doc:
        return True
    impl = doc.get("implementation")
    return isinstance(impl, dict) and isinstance(doc.get("inputs", []), list)


def load_v1(doc: dict, path: Path, diags: Diagnostics) -> Module:
    diags.unknown_keys(doc, TOP_KEYS, file=path)
    name, version, namespace, description = _identifier(doc, path, diags)
    ports: list[Port] = []
    params: list[Parameter] = []
    inputs = doc.get("inputs") or []
    _expect_list(inputs, path, doc, "inputs")
    for i, item in enumerate(inputs):
        _interface_item(item, path, diags, f"inputs[{i}]", (), ports, params, line_of(inputs, i))
    outputs = _outputs(doc, path, diags)
    command, body, where, job_type, parallel = _implementation(doc, path, diags)
    check_interface_refs(
        command, ports, params, outputs, file=path, line=line_of(body), diags=diags
    )

    root = path.parent
    raw_includes = (
        sequence(doc, "additionalIncludes", file=path)
        + sequence(body, "additionalIncludes", file=path, where=where)
        + sidecar_includes(path)
    )
    includes = tuple((root / str(r), include_name(str(r))) for r in raw_includes)
    return Module(
        name=str(name).strip(),
        version=None if version is None else str(version),
        namespace=None if namespace is None else str(namespace),
        display_name=str(name).strip(),
        description=str(description),
        tags=_tags(doc, path),
        is_deterministic=_bool(doc.get("isDeterministic", True)),
        job_type=job_type,
        kind="parallel" if parallel else "command",
        parallel=parallel,
        inputs=tuple(ports),
        outputs=tuple(outputs),
        parameters=tuple(params),
        command=command,
        environment=_environment(body, root, path, where),
        code=Code(root=root, includes=includes),
        source=path,
        format="v1",
    )


def _identifier(doc: dict, path: Path, diags: Diagnostics) -> tuple[Any, Any, Any, Any]:
    """(name, version, namespace, description) from amlModuleIdentifier, or a G0 module's."""
    ident = doc.get("amlModuleIdentifier") or doc.get("moduleIdentifier")
    if ident is not None:
        if not isinstance(ident, dict):
            raise SpecError(
                "must be a mapping",
                file=path,
                line=line_of(doc, "amlModuleIdentifier"),
                field="amlModuleIdentifier",
                fix="give namespace, moduleName and moduleVersion",
            )
        diags.unknown_keys(ident, IDENT_KEYS, file=path, where="amlModuleIdentifier")
        name, version = ident.get("moduleName"), ident.get("moduleVersion")
        namespace = ident.get("namespace")
        description = doc.get("description") or ident.get("description") or ""
    else:  # G0 custom module
        name, version, namespace = doc.get("name"), doc.get("version"), doc.get("category")
        description = doc.get("description") or ""
    if not name:
        raise SpecError(
            "the module has no name",
            file=path,
            line=line_of(ident or doc),
            field="amlModuleIdentifier.moduleName",
            fix="add moduleName under amlModuleIdentifier",
        )
    return name, version, namespace, description


def _outputs(doc: dict, path: Path, diags: Diagnostics) -> list[Port]:
    outputs: list[Port] = []
    outs = doc.get("outputs") or []
    _expect_list(outs, path, doc, "outputs")
    for i, item in enumerate(outs):
        if not isinstance(item, dict) or "name" not in item:
            raise SpecError(
                "an output needs a name",
                file=path,
                line=line_of(outs, i),
                field=f"outputs[{i}]",
                fix="write '- name: <output>'",
            )
        diags.unknown_keys(item, ITEM_KEYS, file=path, where=f"outputs[{i}]")
        outputs.append(
            Port(
                str(item["name"]).strip(),
                port_type(
                    item.get("type"), file=path, line=line_of(outs, i), field=f"outputs[{i}]"
                ),
                bool(item.get("optional", False)),
                str(item.get("description") or ""),
            )
        )
    return outputs


def _implementation(
    doc: dict, path: Path, diags: Diagnostics
) -> tuple[Command, dict, str, str, Parallel | None]:
    """(command, implementation body, its field, job type, parallel settings)."""
    impl = doc.get("implementation")
    if not isinstance(impl, dict):
        raise SpecError(
            "the module has no implementation",
            file=path,
            line=line_of(doc),
            field="implementation",
            fix="add implementation.container with command and args",
        )
    job_type = str(doc.get("jobType") or "basic").lower()
    parallel = None
    if "container" in impl:
        body = mapping(impl, "container", file=path, where="implementation", names=False)
        where = "implementation.container"
        diags.unknown_keys(body, CONTAINER_KEYS, file=path, where=where)
        command = _container_command(body, path, diags, where)
    elif "parallel" in impl:
        body = mapping(impl, "parallel", file=path, where="implementation", names=False)
        where = "implementation.parallel"
        diags.unknown_keys(body, PARALLEL_KEYS, file=path, where=where)
        entry = body.get("entry")
        args = parse_v1_args(
            sequence(body, "args", file=path, where=where),
            file=path,
            diags=diags,
            field=f"{where}.args",
        )
        command = Command("argv", (Text("python"), Text(str(entry)), *args))
        data = body.get("inputData") or []
        parallel = Parallel(
            input_data=tuple([data] if isinstance(data, str) else data),
            output_data=body.get("outputData"),
            entry_script=entry,
        )
        job_type = "parallel"
    elif "hdinsight" in impl:
        raise SpecError(
            "hdinsight (Spark) modules cannot run locally",
            file=path,
            line=line_of(impl, "hdinsight"),
            field="implementation.hdinsight",
            fix="run it on Azure ML, or port it to a container implementation",
        )
    else:
        raise SpecError(
            "implementation needs one of container, parallel, hdinsight",
            file=path,
            line=line_of(impl),
            field="implementation",
            fix="add implementation.container with command and args",
        )
    return command, body, where, job_type, parallel


def _expect_list(value: Any, path: Path, doc: dict, field: str) -> None:
    if not isinstance(value, list):
        raise SpecError(
            f"'{field}' must be a list",
            file=path,
            line=line_of(doc, field),
            field=field,
            fix=f"write {field} as '- name: ...' items",
        )


def _bool(v: Any) -> bool:
    return v if isinstance(v, bool) else str(v).strip().lower() not in ("false", "0", "no")


def _tags(doc: dict, path: Path) -> tuple[tuple[str, str], ...]:
    meta = mapping(doc, "metadata", file=path, names=False)
    annotations = mapping(meta, "annotations", file=path, where="metadata", names=False)
    tags = annotations.get("tags") or []
    if isinstance(tags, dict):
        return tuple((str(k), str(v or "")) for k, v in tags.items())
    return tuple((str(t), "") for t in sequence(annotations, "tags", file=path))


def _interface_item(
    item: Any,
    path: Path,
    diags: Diagnostics,
    where: str,
    conditions: tuple[Condition, ...],
    ports: list[Port],
    params: list[Parameter],
    line: int | None,
) -> None:
    if not isinstance(item, dict) or "name" not in item:
        diags.warn("an entry without a name is ignored", file=path, line=line, field=where)
        return
    diags.unknown_keys(item, ITEM_KEYS, file=path, where=where)
    name = str(item["name"]).strip()
    ptype = None if item.get("port") else param_type(item.get("type"))
    optional = _bool(item.get("optional", False))
    desc = str(item.get("description") or "")
    if ptype is None:
        if conditions:
            diags.warn(
                "a data port cannot be conditional; it is treated as always present",
                file=path,
                line=line,
                field=where,
            )
        ptype_text = port_type(item.get("type"), file=path, line=line, field=where)
        ports.append(Port(name, ptype_text, optional, desc))
        return
    names, sub = _options(item, path, where)
    if names and ptype == "string":
        ptype = "enum"
    params.append(
        Parameter(
            name=name,
            type=ptype,
            default=default_for(item.get("default"), ptype),
            optional=optional,
            description=desc,
            min=number(item.get("min"), file=path, line=line, field=f"{where}.min"),
            max=number(item.get("max"), file=path, line=line, field=f"{where}.max"),
            enum=tuple(names),
            active_when=conditions,
        )
    )
    for value, children in sub:
        cond = (*conditions, Condition(name, value))
        for j, child in enumerate(children):
            _interface_item(
                child,
                path,
                diags,
                f"{where}.options.{value}[{j}]",
                cond,
                ports,
                params,
                line_of(children, j) or line,
            )


def _options(item: dict, path: Path, where: str) -> tuple[list[str], list[tuple[str, list]]]:
    """An enum parameter's option names, and the items each option makes active."""
    sub: list[tuple[str, list]] = []
    names: list[str] = []
    for opt in sequence(item, "options", file=path, where=where):
        if isinstance(opt, dict) and len(opt) == 1:
            value = next(iter(opt))
            names.append(str(value))
            sub.append((str(value), sequence(opt, value, file=path, where=where)))
        else:
            names.append(str(opt))
    return names, sub


def _container_command(body: dict, path: Path, diags: Diagnostics, where: str) -> Command:
    cmd = body.get("command")
    if cmd is None and body.get("entry"):  # G0: entry script
        cmd = ["python", body["entry"]]
    if cmd is None:
        raise SpecError(
            "the container has no command",
            file=path,
            line=line_of(body),
            field=f"{where}.command",
            fix="add command: [python, your_script.py]",
        )
    if isinstance(cmd, str):
        import shlex

        try:
            cmd = shlex.split(cmd)
        except ValueError as exc:  # an unclosed quote
            raise SpecError(
                f"the command cannot be split into words: {exc}",
                file=path,
                line=line_of(body, "command"),
                field=f"{where}.command",
                fix="close the quote, or write command: as a YAML list",
            ) from None
    if not isinstance(cmd, list):
        raise SpecError(
            f"the command must be a list or a string, not {what(cmd)}",
            file=path,
            line=line_of(body, "command"),
            field=f"{where}.command",
            fix="write command: [python, your_script.py]",
        )
    head = parse_v1_args(cmd, file=path, diags=diags, field=f"{where}.command")
    args = body.get("args") or []
    if not isinstance(args, list):
        raise SpecError(
            "'args' must be a list",
            file=path,
            line=line_of(body, "args"),
            field=f"{where}.args",
            fix="write args as a YAML list",
        )
    return Command(
        "argv", head + parse_v1_args(args, file=path, diags=diags, field=f"{where}.args")
    )


def _environment(body: dict, root: Path, path: Path, where: str) -> Environment:
    aml = mapping(body, "amlEnvironment", file=path, where=where, names=False)
    image = body.get("image") or mapping(aml, "docker", file=path, names=False).get("baseImage")
    py = mapping(aml, "python", file=path, where=f"{where}.amlEnvironment", names=False)
    conda_file = body.get("conda") or py.get("condaDependenciesFile")
    conda = py.get("condaDependencies")
    missing = None
    if conda is None and conda_file:
        conda_path = root / str(conda_file)
        conda = read_conda(conda_path, file=path, line=line_of(body), field=f"{where}.conda")
        if conda is None:
            missing = conda_path
    if isinstance(conda, dict):
        from amlrun.spec.common import _plain

        conda = _plain(conda)
    return conda_environment(conda, conda_file and str(conda_file), image, missing)

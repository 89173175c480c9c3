"""The v1 "module spec" (2020): amlModuleIdentifier / moduleIdentifier / G0 custom modules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from amlrun.errors import Diagnostics, SpecError, line_of
from amlrun.spec.common import (
    check_interface_refs,
    default_for,
    include_name,
    number,
    param_type,
    port_type,
    sidecar_includes,
)
from amlrun.spec.model import (
    Code,
    Condition,
    Module,
    Parameter,
    Port,
)
from amlrun.spec.shape import mapping, sequence
from amlrun.spec.v1_implementation import container_environment, implementation

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
    command, body, where, job_type, parallel = implementation(doc, path, diags)
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
        environment=container_environment(body, root, path, where),
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

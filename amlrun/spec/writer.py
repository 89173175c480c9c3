"""Writing a Module out as a v2 command component spec (meant to be saved in its code root)."""

from __future__ import annotations

import shlex

import yaml

from amlrun.spec.model import Command, Item, Module, Ref, Text


def command_text(cmd: Command) -> str:
    def enc(items: tuple[Item, ...]) -> list[str]:
        out = []
        for it in items:
            if isinstance(it, Text):
                out.append(shlex.quote(it.text) if cmd.style == "argv" else it.text)
            elif isinstance(it, Ref):
                out.append(f"${{{{{it.kind}s.{it.name}}}}}")
            else:
                sep = " " if cmd.style == "argv" else ""
                out.append("$[[" + sep.join(enc(it.items)) + "]]")
        return out

    return (" " if cmd.style == "argv" else "").join(enc(cmd.items))


def to_v2_yaml(module: Module) -> str:
    inputs: dict = {}
    for p in module.inputs:
        inputs[p.name] = {"type": p.type, **({"optional": True} if p.optional else {})}
    for p in module.parameters:
        spec: dict = {"type": "string" if p.type == "enum" else p.type}
        if p.default is not None:
            spec["default"] = p.default
        if p.optional:
            spec["optional"] = True
        if p.min is not None:
            spec["min"] = p.min
        if p.max is not None:
            spec["max"] = p.max
        if p.enum:
            spec["enum"] = list(p.enum)
        inputs[p.name] = spec
    doc: dict = {
        "$schema": "https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json",
        "type": "command",
        "name": module.name,
    }
    if module.version:
        doc["version"] = module.version
    if module.description:
        doc["description"] = module.description
    if inputs:
        doc["inputs"] = inputs
    if module.outputs:
        doc["outputs"] = {o.name: {"type": o.type} for o in module.outputs}
    doc["code"] = "."
    env = module.environment
    if env.kind == "reference":
        doc["environment"] = env.reference
    elif env.image:
        doc["environment"] = {
            "image": env.image,
            **({"conda_file": env.conda} if env.conda else {}),
        }
    if env.variables:
        doc["environment_variables"] = dict(env.variables)
    if not module.is_deterministic:
        doc["is_deterministic"] = False
    doc["command"] = command_text(module.command)
    return yaml.safe_dump(doc, sort_keys=False, width=100)

"""The one normalized module model every spec format loads into.

Values are frozen dataclasses: loaders build them, everything else only reads them. The
``identity`` methods return the plain data that goes into the step key: everything that can
change what a command does, nothing cosmetic (name, version, description, display name).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from amlrun.hashing import hash_json
from amlrun.spec import behaviour
from amlrun.spec.datatypes import FILE_TYPES

# ---------------------------------------------------------------- data types and params

PARAM_TYPES = ("string", "integer", "number", "boolean", "enum")

#: spellings seen in real files -> canonical parameter type
PARAM_TYPE_ALIASES = {
    "string": "string",
    "str": "string",
    "integer": "integer",
    "int": "integer",
    "float": "number",
    "number": "number",
    "double": "number",
    "boolean": "boolean",
    "bool": "boolean",
    "enum": "enum",
    "mode": "enum",
}


@dataclass(frozen=True)
class Port:
    """A data input or output."""

    name: str
    type: str
    optional: bool = False
    description: str = ""
    file: bool | None = None  # a registered custom type's kind (built-ins: from the name)

    @property
    def is_file(self) -> bool:
        """File ports get their parent folder created; folder ports get the folder itself."""
        return self.file if self.file is not None else self.type.lower() in FILE_TYPES

    def identity(self) -> dict:
        """The kind, not the type's name: a type changes what runs only through its kind."""
        return {"name": self.name, "file": self.is_file, "optional": self.optional}


@dataclass(frozen=True)
class Condition:
    """``parameter == value``: when a v1 nested (conditional) sub-parameter applies."""

    parameter: str
    value: str


@dataclass(frozen=True)
class Parameter:
    """A literal input. ``active_when`` chains the enum options a sub-parameter sits under."""

    name: str
    type: str  # one of PARAM_TYPES
    default: Any = None
    optional: bool = False
    description: str = ""
    min: float | None = None
    max: float | None = None
    enum: tuple[str, ...] = ()
    active_when: tuple[Condition, ...] = ()

    def identity(self) -> dict:
        return {
            "name": self.name,
            "type": self.type,
            "default": self.default,
            "optional": self.optional,
            "min": self.min,
            "max": self.max,
            "enum": list(self.enum),
            "active_when": [[c.parameter, c.value] for c in self.active_when],
        }


# ---------------------------------------------------------------- command template


@dataclass(frozen=True)
class Text:
    """Literal text: a whole argument (argv style) or raw shell text (shell style)."""

    text: str


@dataclass(frozen=True)
class Ref:
    """A placeholder: the value or path of input ``name`` or the path of output ``name``."""

    kind: Literal["input", "output"]
    name: str


@dataclass(frozen=True)
class Group:
    """An optional group, dropped when any input it references has no value."""

    items: tuple[Text | Ref | Group, ...]


Item = Text | Ref | Group


@dataclass(frozen=True)
class Command:
    """A command template.

    ``style == "argv"`` (v1 module specs): items are whole arguments, run without a shell.
    ``style == "shell"`` (sdk-2.0 and v2): items are pieces of one shell command line.
    """

    style: Literal["argv", "shell"]
    items: tuple[Item, ...]

    def refs(self) -> list[Ref]:
        out: list[Ref] = []

        def walk(items: tuple[Item, ...]) -> None:
            for it in items:
                if isinstance(it, Ref):
                    out.append(it)
                elif isinstance(it, Group):
                    walk(it.items)

        walk(self.items)
        return out

    def identity(self) -> list:
        def enc(it: Item) -> object:
            if isinstance(it, Text):
                return it.text
            if isinstance(it, Ref):
                return {it.kind: it.name}
            return [enc(x) for x in it.items]

        return [self.style, [enc(x) for x in self.items]]


# ---------------------------------------------------------------- environment


@dataclass(frozen=True)
class Environment:
    """What a command runs in.

    kind: ``current`` (amlrun's interpreter), ``conda`` / ``pip`` (a virtualenv built from
    the spec), ``image`` (a Docker image, optionally plus a conda file), ``build`` (a Docker
    build context) or ``reference`` (a cloud asset such as ``azureml:...``, which runs on the
    current interpreter locally with a warning).
    """

    kind: Literal["current", "conda", "pip", "image", "build", "reference"] = "current"
    image: str | None = None
    conda: dict | None = None  # parsed conda specification (inline or from conda_file)
    conda_file: str | None = None  # as written, for display
    pip: tuple[str, ...] = ()  # pip requirement lines
    build_context: str | None = None  # absolute folder
    dockerfile: str | None = None
    reference: str | None = None
    variables: tuple[tuple[str, str], ...] = ()

    def describe(self) -> str:
        if self.kind == "current":
            return "current interpreter"
        if self.kind == "reference":
            return f"{self.reference} (cloud reference; runs on the current interpreter)"
        if self.kind == "image":
            extra = f" + conda {self.conda_file or 'inline'}" if self.conda else ""
            return f"docker image {self.image}{extra}"
        if self.kind == "build":
            return f"docker build {self.build_context}"
        if self.kind == "conda":
            return f"conda spec {self.conda_file or 'inline'}"
        return "pip requirements " + ", ".join(self.pip)


# ---------------------------------------------------------------- snapshot spec


@dataclass(frozen=True)
class Code:
    """Where the snapshot comes from: a root folder plus additional includes.

    ``includes`` holds (source path, name in snapshot) pairs; a name of ``""`` merges the
    source folder's contents into the snapshot root (``additionalIncludes: [../../../]``).
    ``missing`` is set when the folder named by the spec does not exist (the corpus ships
    specs without their scripts): loading works, running says which folder is missing.
    ``root`` is None for an inline pipeline command without ``code``: an empty snapshot.
    """

    root: Path | None
    includes: tuple[tuple[Path, str], ...] = ()
    missing: str | None = None


# ---------------------------------------------------------------- module


@dataclass(frozen=True)
class Parallel:
    """The parallel (mini-batch) settings of a v1 parallel module or a v2 parallel component."""

    input_data: tuple[str, ...] = ()
    output_data: str | None = None
    entry_script: str | None = None
    mini_batch_size: str | None = None
    settings: tuple[tuple[str, str], ...] = ()

    def identity(self) -> list:
        return [
            list(self.input_data),
            self.output_data,
            self.entry_script,
            self.mini_batch_size,
            [list(s) for s in self.settings],
        ]


@dataclass(frozen=True)
class Module:
    """A versioned unit of computation, whatever format it was written in."""

    name: str
    version: str | None
    command: Command
    environment: Environment
    code: Code
    inputs: tuple[Port, ...] = ()
    outputs: tuple[Port, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    namespace: str | None = None
    display_name: str | None = None
    description: str = ""
    tags: tuple[tuple[str, str], ...] = ()
    is_deterministic: bool = True
    job_type: str = "basic"
    kind: Literal["command", "parallel"] = "command"
    parallel: Parallel | None = None
    source: Path | None = None
    format: str = "v2"
    func: Any = field(default=None, compare=False, repr=False)

    # -- lookups
    def port(self, name: str) -> Port | None:
        return next((p for p in self.inputs if p.name == name), None)

    def output(self, name: str) -> Port | None:
        return next((p for p in self.outputs if p.name == name), None)

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)

    @property
    def input_names(self) -> list[str]:
        return [p.name for p in self.inputs] + [p.name for p in self.parameters]

    # -- identity for the step key
    def identity(self) -> dict:
        """Interface + command; excludes name, version, description and display name."""
        return {
            "inputs": [p.identity() for p in self.inputs],
            "outputs": [p.identity() for p in self.outputs],
            "parameters": [p.identity() for p in self.parameters],
            "command": self.command.identity(),
            "kind": self.kind,
            "job_type": self.job_type.lower(),
            "parallel": self.parallel and self.parallel.identity(),
        }

    @cached_property
    def identity_hash(self) -> str:
        """The hash of ``identity()``, the module part of a step key. Computed when a plan is
        cached, it is pickled with the module: a null run does not hash 1,000 modules again."""
        return hash_json(self.identity())

    # -- behaviour, delegated so the model stays plain data
    def run(self, **values: Any):
        """Run this module locally, like ``amlrun module run``; returns a ModuleResult."""
        return behaviour.call("run_module", self, values)

    def __call__(self, **bindings: Any):
        """Inside an ``@amlrun.pipeline`` function: add this module as a step."""
        return behaviour.call("call_module", self, bindings)

    @classmethod
    def from_func(cls, fn: Any, **options: Any) -> Module:
        return behaviour.call("module_from_func", fn, **options)

    def to_yaml(self) -> str:
        """Write this module out as a v2 command component spec."""
        from amlrun.spec.writer import to_v2_yaml

        return to_v2_yaml(self)

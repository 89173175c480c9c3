"""Curated Azure ML environments amlrun ships a local definition for (``curated.json``).

A curated name resolves to the packages it was published with, built in a virtualenv like
any conda file, so its steps' keys hold those packages, never just the name. The published
Python pin travels with it: where this machine cannot honour it, the run says so once.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files

from amlrun.spec.model import Environment

TABLE = "[tool.amlrun.environments]"


@cache
def _shipped() -> dict[str, dict]:
    text = files("amlrun.registry").joinpath("curated.json").read_text(encoding="utf-8")
    return {k.lower(): v for k, v in json.loads(text).items() if not k.startswith("_")}


def curated_environment(name: str) -> Environment | None:
    """The shipped definition of curated environment ``name`` (any case), or None."""
    entry = _shipped().get(name.lower())
    if entry is None:
        return None
    deps = [f"python={entry['python']}", "pip", {"pip": list(entry["pip"])}]
    return Environment(kind="conda", conda={"dependencies": deps}, conda_file=f"curated {name}")


def mapping_line(name: str) -> str:
    """The line that gives ``name`` a local definition."""
    return f'"{name}" = {{pip = ["PACKAGE==VERSION"]}}'

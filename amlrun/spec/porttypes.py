"""Data port types: a misspelt one (``uri_foldr``) is an error with the likely type.

Unknown types that resemble no known one are left alone: v1 modules declare their own
data types, and a custom type is not a typo.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from amlrun.errors import SpecError

KNOWN_PORT_TYPES = (
    "uri_folder",
    "uri_file",
    "mltable",
    "mlflow_model",
    "custom_model",
    "triton_model",
    "path",
    "AnyDirectory",
    "AnyFile",
    "DataFrameDirectory",
    "ModelDirectory",
    "ImageDirectory",
    "TransformationDirectory",
    "UntrainedModelDirectory",
    "CsvFile",
    "ZipFile",
)
_LOWER = {t.lower(): t for t in KNOWN_PORT_TYPES}


def check_port_type(type_: str, *, file: str | Path | None, line: int | None, field: str) -> None:
    """Raise for a type one or two letters away from a known type (never for a known one)."""
    for part in type_.split("|"):
        low = part.strip().lower()
        if low in _LOWER:
            continue
        close = difflib.get_close_matches(low, list(_LOWER), n=1, cutoff=0.8)
        if close:
            raise SpecError(
                f"unknown data type '{part}' (did you mean '{_LOWER[close[0]]}'?)",
                file=file,
                line=line,
                field=field,
                fix=f"write type: {_LOWER[close[0]]}",
            )

"""Forming mini-batches so that a small change to the input changes few batches.

Items are sorted; a batch ends after an item whose *name* hashes to a boundary (one item in
``size`` on average), or when it reaches ``MAX_FACTOR`` times ``size``. Boundaries depend
only on the item itself, not on its position, so adding or removing one file changes the
batch it falls in (or splits it in two, when the new file is itself a boundary), never every
later batch as fixed-size slicing would. Editing a file's content changes only its batch's
key. Only where the cap cuts a run of items without a boundary (about 2% of batches) does
an added item also shift the cut batches up to the next boundary.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import xxhash

from amlrun.errors import SpecError

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
#: a batch is cut at this many times ``size`` even without a boundary
MAX_FACTOR = 4
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


@dataclass(frozen=True)
class Item:
    """One thing run() sees: a file (relative path, content hash) or a row (its hash)."""

    name: str  # what the boundary is decided on (a relative path, a row's hash)
    digest: str  # the content the item's key covers


def batches(items: Sequence[Item], size: int) -> list[list[Item]]:
    """Split items (in the order given) into content-defined batches of about ``size``."""
    size = max(1, size)
    out: list[list[Item]] = []
    current: list[Item] = []
    for item in items:
        current.append(item)
        if size == 1 or len(current) >= MAX_FACTOR * size or _is_boundary(item.name, size):
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out


def _is_boundary(name: str, size: int) -> bool:
    return xxhash.xxh64_intdigest(name.encode("utf-8", "surrogateescape")) % size == 0


def parse_size(raw: str | int | None, *, tabular: bool, field: str) -> int:
    """``mini_batch_size``: a file count for files; bytes ("10kb", "1MB", 1024) for tables.
    Unset, it is Azure ML's default: 10 files, or 1MB of rows."""
    unset = raw is None or str(raw).strip() in ("", "None")
    text = ("1MB" if tabular else "10") if unset else str(raw)
    m = _SIZE.match(text)
    if m is None or (not tabular and m.group(2)) or float(m.group(1)) <= 0:
        raise SpecError(
            f"mini_batch_size {text!r} is not "
            + ("a size such as 10kb or 1MB" if tabular else "a positive number of files"),
            field=field,
            fix="write a number of files (e.g. 10) for file inputs, a size (e.g. 10kb) for "
            "mltable/tabular inputs",
        )
    return max(1, int(float(m.group(1)) * _UNITS[m.group(2).lower()]))

"""Tabular (mltable) input: the MLTable file's rows, read with pandas, as mini-batches.

The ``mltable`` package needs Azure ML's data runtime, which does not install everywhere, so
amlrun reads the MLTable file itself: ``paths`` (``file``, ``folder``, ``pattern``) relative to
the MLTable's folder and one of the ``read_delimited`` (delimiter, encoding, header),
``read_parquet`` or ``read_json_lines`` transformations. Other transformations are refused.
Each mini-batch is a DataFrame with a fresh 0-based index, so a row's position in the whole
table (which shifts when rows are added before it) is not something run() can see.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from amlrun.errors import SpecError
from amlrun.hashing import hash_bytes
from amlrun.parallel.batching import Item, batches
from amlrun.spec import yamlio

_READERS = ("read_delimited", "read_parquet", "read_json_lines")


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise SpecError(
            "tabular (mltable) mini-batches need pandas",
            fix="pip install 'amlrun[parallel]'",
        ) from None
    return pandas


def _files(root: Path, doc: dict, mltable: Path) -> list[Path]:
    out: list[Path] = []
    for entry in doc.get("paths") or []:
        entry = entry if isinstance(entry, dict) else {}
        if entry.get("file"):
            out.append(root / str(entry["file"]))
        elif entry.get("folder"):
            out.extend(sorted(p for p in (root / str(entry["folder"])).rglob("*") if p.is_file()))
        elif entry.get("pattern"):
            out.extend(sorted(p for p in root.glob(str(entry["pattern"])) if p.is_file()))
    missing = [p for p in out if not p.is_file()]
    if not out or missing:
        raise SpecError(
            f"MLTable paths name no readable file ({missing[0] if missing else 'none given'})",
            file=mltable,
            field="paths",
            fix="list the data files as paths: [{file: ./data.csv}]",
        )
    return out


def read_mltable(folder: Path) -> Any:
    """The whole table of the MLTable in ``folder`` as one DataFrame."""
    pandas = _pandas()
    mltable = folder / "MLTable" if folder.is_dir() else folder
    doc = yamlio.load(mltable) if mltable.is_file() else None
    if not isinstance(doc, dict):
        raise SpecError(
            f"{mltable} is not an MLTable file",
            file=mltable,
            fix="bind an mltable input to a folder with an MLTable file",
        )
    steps = [t for t in doc.get("transformations") or [] if isinstance(t, dict)]
    reader = next((t for t in steps if set(t) & set(_READERS)), {"read_delimited": {}})
    extra = [k for t in steps for k in t if k not in _READERS]
    if extra:
        raise SpecError(
            f"MLTable transformation '{extra[0]}' is not supported locally",
            file=mltable,
            field="transformations",
            fix="use read_delimited, read_parquet or read_json_lines only",
        )
    kind, opts = next(iter(reader.items()))
    opts = opts if isinstance(opts, dict) else {}
    frames = [_read(pandas, kind, opts, p) for p in _files(mltable.parent, doc, mltable)]
    return pandas.concat(frames, ignore_index=True)


def _read(pandas: Any, kind: str, opts: dict, path: Path) -> Any:
    if kind == "read_parquet":
        return pandas.read_parquet(path)
    if kind == "read_json_lines":
        return pandas.read_json(path, lines=True, encoding=opts.get("encoding") or "utf8")
    header = str(opts.get("header") or "all_files_same_headers")
    return pandas.read_csv(
        path,
        sep=str(opts.get("delimiter") or ","),
        encoding=str(opts.get("encoding") or "utf8"),
        header=None if header == "no_header" else 0,
    )


def table_batches(folder: Path, size_bytes: int) -> list[tuple[Any, str]]:
    """(mini-batch DataFrame, content digest) per batch, about ``size_bytes`` of rows each."""
    pandas = _pandas()
    table = read_mltable(folder)
    if table.empty:
        return []
    row_bytes = max(1, int(table.memory_usage(deep=True, index=False).sum()) // len(table))
    names = pandas.util.hash_pandas_object(table, index=False)
    items = [Item(f"{h:x}", str(i)) for i, h in enumerate(names)]
    out = []
    for group in batches(items, max(1, size_bytes // row_bytes)):
        frame = table.iloc[int(group[0].digest) : int(group[-1].digest) + 1].reset_index(drop=True)
        text = f"{list(frame.dtypes.astype(str))}\n{frame.to_csv(index=False)}"
        out.append((frame, hash_bytes(text.encode())))
    return out

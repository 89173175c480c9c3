"""``amlrun module validate PATH...``: one line per file: ok, warning or error."""

from __future__ import annotations

from pathlib import Path

import click

YAML_SUFFIXES = {".yml", ".yaml"}
DATA_NAMES = {"MLTable", "MLmodel"}


def candidate_files(paths: tuple[str, ...]) -> list[Path]:
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out.extend(
                f
                for f in sorted(p.rglob("*"))
                if f.is_file()
                and (f.suffix in YAML_SUFFIXES or f.name in DATA_NAMES)
                and ".amlrun" not in f.parts
            )
        else:
            out.append(p)
    return out


def is_component(doc: dict) -> bool:
    """A pipeline component (its schema says so, or it has no schema): a definition whose
    inputs its caller binds; a pipeline job must carry their values itself."""
    schema = str(doc.get("$schema") or "").lower()
    return "pipelinejob" not in schema and not isinstance(doc.get("pipeline"), dict)


def validate_file(path: Path) -> tuple[str, str, list[str]]:
    """(status, summary, warnings) for one file; status is ok, warning, error or other."""
    from amlrun.errors import AmlrunError, Diagnostics
    from amlrun.registry.resolve import RegistryResolver
    from amlrun.spec import yamlio
    from amlrun.spec.detect import OTHER_KINDS, kind_of
    from amlrun.spec.load import module_from_doc
    from amlrun.spec.porttypes import typed_module
    from amlrun.workspace import Workspace

    diags = Diagnostics()
    try:
        doc = yamlio.load(path) if path.name not in DATA_NAMES else None
        kind = kind_of(doc, path)
        if kind == "module":
            m = module_from_doc(doc, path.resolve(), diags)
            typed_module(m, RegistryResolver(Workspace.find().config).datatypes)
            summary = f"module {m.name}" + (f" {m.version}" if m.version else "")
        elif kind == "pipeline":
            from amlrun.pipelines.load import load_yaml_pipeline

            p = load_yaml_pipeline(path, diags=diags, definition=is_component(doc))
            summary = f"pipeline {p.name} ({len(p.steps)} steps)"
        elif kind in OTHER_KINDS:
            return "other", f"{OTHER_KINDS[kind]} (recognized, not checked)", []
        else:
            return "error", "not a recognized Azure ML file (module, pipeline, environment...)", []
    except AmlrunError as exc:
        return "error", str(exc), [str(w) for w in diags.warnings]
    status = "warning" if diags.warnings else "ok"
    return status, summary, [str(w) for w in diags.warnings]


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("-q", "--quiet", is_flag=True, help="Print only files with warnings or errors.")
def validate(paths: tuple[str, ...], quiet: bool) -> None:
    """Load and check module and pipeline files (folders are searched recursively)."""
    import sys

    counts = {"ok": 0, "warning": 0, "error": 0, "other": 0}
    for f in candidate_files(paths):
        status, summary, warnings = validate_file(f)
        counts[status] += 1
        if quiet and status in ("ok", "other"):
            continue
        label = {"ok": "ok", "warning": "warning", "error": "error", "other": "skip"}[status]
        click.echo(f"{label:8} {f}: {summary}")
        for w in warnings:
            click.echo(f"         warning: {w}")
    click.echo(
        f"{counts['ok']} ok, {counts['warning']} with warnings, {counts['error']} errors, "
        f"{counts['other']} other files"
    )
    if counts["error"]:
        sys.exit(2)

"""Every real Azure ML file in ../shared/corpus loads unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from amlrun.errors import Diagnostics
from amlrun.spec import yamlio
from amlrun.spec.detect import kind_of
from amlrun.spec.load import load_module
from amlrun.spec.model import Command, Group
from tests.conftest import CORPUS
from tests.helpers import amlrun


def _files(kind: str) -> list[Path]:
    assert CORPUS.is_dir(), f"the shared corpus is missing at {CORPUS}"
    out = []
    for p in sorted(CORPUS.rglob("*")):
        if p.suffix in (".yml", ".yaml") and kind_of(yamlio.load(p), p) == kind:
            out.append(p)
    return out


def _groups(items: tuple) -> list[tuple]:
    out = []
    for it in items:
        if isinstance(it, Group):
            out.append(it.items)
            out.extend(_groups(it.items))
    return out


MODULES = _files("module")
PIPELINES = _files("pipeline")


def test_corpus_has_the_files_we_expect():
    assert len(MODULES) >= 18 and len(PIPELINES) >= 12


@pytest.mark.parametrize("spec", MODULES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_every_corpus_module_loads(spec: Path):
    m = load_module(spec, Diagnostics())
    assert m.name and m.command.items
    # a placeholder naming nothing declared is only tolerated inside an optional group
    # (where loading warns and the group is dropped); everywhere else it must resolve
    grouped = {id(r) for g in _groups(m.command.items) for r in Command("shell", g).refs()}
    for ref in m.command.refs():
        known = (
            m.output(ref.name)
            if ref.kind == "output"
            else (m.port(ref.name) or m.parameter(ref.name))
        )
        assert known is not None or id(ref) in grouped, ref


@pytest.mark.parametrize("spec", PIPELINES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_every_corpus_pipeline_loads(spec: Path):
    from amlrun.loading import load_pipeline

    p = load_pipeline(spec, diags=Diagnostics())
    assert p.steps


def test_validate_the_whole_corpus_reports_no_errors(corpus, tmp_path):
    proc = amlrun("module", "validate", str(corpus), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " 0 errors" in proc.stdout
    assert "error " not in proc.stdout
    # pipelines are recognized as pipelines, conda files as recognized-but-not-checked
    assert (
        "pipeline " in proc.stdout and "conda environment (recognized, not checked)" in proc.stdout
    )


def test_misspelled_key_warns_with_the_likely_key(corpus):
    spec = next(p for p in MODULES if p.name == "pca_train_module.yaml")
    diags = Diagnostics()
    load_module(spec, diags)
    text = "\n".join(str(w) for w in diags.warnings)
    assert "pca_train_module.yaml:9: isdeterministric" in text
    assert "did you mean 'isDeterministic'" in text


def test_versions_stay_as_written(tmp_path):
    spec = tmp_path / "c.yml"
    spec.write_text("type: command\nname: x\nversion: 01\ncommand: echo hi\n")
    assert load_module(spec).version == "01"


def test_v1_nested_enum_sub_parameters_carry_their_conditions(corpus):
    spec = next(p for p in MODULES if p.name == "sar_score.yaml" and "v1_module_spec" in str(p))
    m = load_module(spec)
    remove_seen = m.parameter("Remove seen items")
    assert [(c.parameter, c.value) for c in remove_seen.active_when] == [
        ("Score type", "Item recommendation"),
        ("Ranking metric", "Rating"),
    ]


def test_type_aliases_seen_in_real_files_are_accepted(corpus):
    spec = next(p for p in MODULES if p.name == "pca_train_module.yaml")
    m = load_module(spec)
    assert m.parameter("Whiten principal components").type == "boolean"  # Bool
    assert m.parameter("Gamma").type == "number"  # lowercase float
    assert m.parameter("Kernel").type == "enum"  # Mode

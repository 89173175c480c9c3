"""Shared pytest setup. Real-server fixtures live in tests/fixtures/ (one module each)."""

from __future__ import annotations

from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"

# fixture modules for real servers; each skips with the reason printed when it cannot start
pytest_plugins: list[str] = [
    "tests.fixtures.azurite",
    "tests.fixtures.dask_cluster",
    "tests.fixtures.docker_engine",
    "tests.fixtures.s3",
    "pytester",  # tests/test_pytest_plugin.py
]


@pytest.fixture
def corpus() -> Path:
    assert CORPUS.is_dir(), f"the shared corpus is missing at {CORPUS}"
    return CORPUS

"""amlrun's own development tasks: doit test, lint, bench, examples and fuzz."""

from __future__ import annotations

DOIT_CONFIG = {"default_tasks": ["lint", "test"], "backend": "sqlite3", "verbosity": 2}


def task_lint():
    """ruff check and format check."""
    return {"actions": ["ruff check .", "ruff format --check ."]}


def task_test():
    """The whole test suite (real servers start in fixtures; they skip with a reason)."""
    return {"actions": ["python -m pytest -q"]}


def task_bench():
    """Measure every figure README quotes (~18 min) and write them to bench/RESULTS.md."""
    return {"actions": ["python bench/run.py"], "verbosity": 2}


def task_examples():
    """Run the example pipeline twice: the second run reuses every step."""
    run = "amlrun run examples/sklearn-pipeline/pipeline.yml"
    return {"actions": [run, run]}


def task_fuzz():
    """The long fuzz campaign: 3,000 mutated corpus/example files, no traceback, no hang."""
    return {"actions": ["python -m tests.fuzz --cases 3000 --seed 80"]}

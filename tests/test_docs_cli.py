"""docs/cli.md is generated from the click commands: a stale copy fails here."""

from __future__ import annotations

from pathlib import Path

from amlrun.cli.reference import reference

CLI_MD = Path(__file__).parent.parent / "docs" / "cli.md"


def test_the_cli_reference_in_docs_matches_the_commands():
    assert CLI_MD.read_text() == reference(), (
        "docs/cli.md is stale: run 'python -m amlrun.cli.reference > docs/cli.md'"
    )


def test_the_cli_reference_lists_every_command_and_option():
    text = reference()
    for heading in ("## `amlrun run`", "## `amlrun init`", "## `amlrun module show`"):
        assert heading in text
    assert "`-j, --jobs N`" in text and "_AMLRUN_COMPLETE=bash_source" in text

"""The configuration reference and the ``amlrun init`` template come from one table
(amlrun/settings.py) that lists every key the code reads."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from amlrun.settings import SETTINGS, config_template, reference

ROOT = Path(__file__).parent.parent


def test_the_configuration_reference_in_docs_matches_the_settings():
    assert (ROOT / "docs" / "configuration.md").read_text() == reference(), (
        "docs/configuration.md is stale: run 'python -m amlrun.settings > docs/configuration.md'"
    )


def test_every_key_the_code_reads_from_the_configuration_is_documented():
    read: set[str] = set()
    for path in [*ROOT.glob("amlrun/**/*.py"), *ROOT.glob("plugins/**/*.py")]:
        read |= set(re.findall(r"config\.get\(\s*\"(\w+)\"", path.read_text()))
    assert read, "the scan found nothing: has the way config is read changed?"
    assert read <= {s.name for s in SETTINGS}, read - {s.name for s in SETTINGS}


def test_the_init_template_uncommented_is_a_valid_configuration_of_the_examples():
    template = config_template()
    assert yaml.safe_load(template) is None  # as written, every setting is commented out
    uncommented = "\n".join(line[2:] for line in template.splitlines() if line.startswith("# "))
    assert yaml.safe_load(uncommented) == {s.name: s.example for s in SETTINGS}

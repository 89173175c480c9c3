"""An environment's identity for the step key: what it resolves to, never where its files are.

It lives beside the tree hashes because a docker build environment is identified by the
tree hash of its build context; the model (spec/) stays plain data that hashes nothing.
"""

from __future__ import annotations

from pathlib import Path

from amlrun.snapshot.tree import hash_folder
from amlrun.spec.model import Environment


def environment_spec_identity(env: Environment) -> dict:
    """What ``env`` resolves to, so two clones of one project share keys.

    ``variables`` are keyed one by one with the step's own (see ``engine.keys``), so
    ``status`` can name the variable that changed.
    """
    conda = env.conda
    if conda is not None and "missing_file" in conda:  # fails before it runs
        conda = {"missing_file": env.conda_file}
    build = None
    if env.build_context:
        build = hash_folder(Path(env.build_context)) + (
            f":{env.dockerfile}" if env.dockerfile else ""
        )
    return {
        "kind": env.kind,
        "image": env.image,
        "conda": conda,
        "pip": list(env.pip),
        "build": build,
        "reference": env.reference,
    }

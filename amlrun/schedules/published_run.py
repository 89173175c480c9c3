"""``python -m amlrun.schedules.published_run ROOT NAME VERSION VALUES``: one run of a
published pipeline for the standalone scheduler, printing the result as ``amlrun run
--json`` does. (Inside ``amlrun serve`` schedules go through its run queue instead.)"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from amlrun.errors import AmlrunError, SpecError


def published_ref(ref: str) -> tuple[str, str | None]:
    """(name, version or None: the default) of ``azureml:NAME[:VERSION]``."""
    name, _, version = ref.removeprefix("azureml:").partition(":")
    if not name:
        raise SpecError(
            f"{ref!r} names no pipeline",
            field="create_job.job",
            fix="write azureml:NAME or azureml:NAME:VERSION",
        )
    return name, version or None


def main(argv: list[str]) -> int:
    from amlrun.cache.store import open_store
    from amlrun.engine.runner import Engine
    from amlrun.published import resolve_published
    from amlrun.workspace import Workspace

    root, name, version, values = argv
    ws = Workspace(Path(root))
    try:
        published = resolve_published(ws, name, version or None, json.loads(values))
        store = open_store(ws.config.get("store"), ws.root)
        result = Engine(published.pipeline, workspace=ws, store=store).run()
    except AmlrunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result.as_json()))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

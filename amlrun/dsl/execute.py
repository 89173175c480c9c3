"""``python -m amlrun.dsl.execute --source FILE --name FUNC --x V ...``: run a function module.

This is the command every function-defined module renders to (like ``mldesigner execute``).
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    head = argparse.ArgumentParser(add_help=False)
    head.add_argument("--source", required=True)
    head.add_argument("--name", required=True)
    known, rest = head.parse_known_args(argv)
    path = Path(known.source).resolve()
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    spec.loader.exec_module(mod)
    target = getattr(mod, known.name)
    fn = getattr(target, "func", None) or target  # a Module made by @amlrun.module
    from amlrun.dsl.function import module_from_func

    m = module_from_func(fn, code=Path.cwd())
    parser = argparse.ArgumentParser(prog=f"{path.name}:{known.name}")
    for p in m.parameters:
        conv = {
            "integer": int,
            "number": float,
            "string": str,
            "boolean": lambda s: s.lower() in ("true", "1", "yes"),
        }[p.type]
        parser.add_argument(f"--{p.name}", type=conv, default=p.default)
    for port in (*m.inputs, *m.outputs):
        parser.add_argument(f"--{port.name}", default=None)
    args = vars(parser.parse_args(rest))
    names = inspect.signature(fn).parameters
    result = fn(**{k: v for k, v in args.items() if k in names})
    if result is not None:
        print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())

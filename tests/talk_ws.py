"""A workspace whose step talks: ``talker`` prints ``tick N`` lines (optionally slowly) and
may fail with a traceback; ``quiet`` prints one line. For the terminal tests."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import write_workspace

FILES = {
    "talk.yml": """
        type: command
        name: talk
        inputs:
          lines: {type: integer, default: 3}
          delay: {type: number, default: 0}
          fail: {type: integer, default: 0}
        outputs:
          o: {type: uri_folder}
        code: ./src
        command: python talk.py ${{inputs.lines}} ${{inputs.delay}} ${{inputs.fail}} ${{outputs.o}}
    """,
    "src/talk.py": """
        import pathlib, sys, time
        n, delay, fail = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
        for i in range(n):
            print(f"tick {i}", flush=True)
            time.sleep(delay)
        if fail:
            raise ValueError("boom")
        pathlib.Path(sys.argv[4], "o.txt").write_text(str(n))
    """,
    "pipeline.yml": """
        type: pipeline
        display_name: talking
        inputs:
          lines: 3
          delay: 0
          fail: 0
        outputs:
          result: {type: uri_folder}
        jobs:
          talker:
            component: ./talk.yml
            inputs:
              lines: ${{parent.inputs.lines}}
              delay: ${{parent.inputs.delay}}
              fail: ${{parent.inputs.fail}}
            outputs:
              o: ${{parent.outputs.result}}
          quiet:
            component: ./talk.yml
            inputs: {lines: 1}
    """,
}


def make_talking_workspace(root: Path) -> Path:
    write_workspace(root, FILES)
    return root / "pipeline.yml"

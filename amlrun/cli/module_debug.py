"""``amlrun module debug RUN STEP``: a recorded step's working folder, to rerun it by hand."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import click

from amlrun.cli.common import open_pipeline, set_option, store_option


def describe(folder) -> None:
    """Print everything the step's command sees."""
    click.echo(f"folder:      {folder.root}")
    source = folder.job.snapshot_dir or "the store's blobs"
    click.echo(f"working dir: {folder.workdir} (snapshot copied from {source})")
    for name, path in folder.inputs.items():
        click.echo(f"input  {name}: {path}")
    for name, path in folder.outputs.items():
        click.echo(f"output {name}: {path} (empty)")
    for k, v in sorted(folder.env.items()):
        click.echo(f"env    {k}={v}")
    click.echo(f"interpreter: {folder.environ()['PATH'].split(':')[0]}/python")
    click.echo(f"command:     {shlex.join(folder.argv)}")
    click.echo(f"rerun with:  {folder.root / 'run.sh'}")


@click.command()
@click.argument("run_id", metavar="RUN")
@click.argument("step")
@click.option("--run", "mode", flag_value="run", help="Run the command there, in the foreground.")
@click.option("--shell", "mode", flag_value="shell", help="Open $SHELL in the working folder.")
@click.option("--pdb", "mode", flag_value="pdb", help="Run it with python meaning python -m pdb.")
@click.option("-o", "--output", type=click.Path(file_okay=False), help="Folder to create.")
@set_option
@store_option
def debug(run_id, step, mode, output, sets, store) -> None:
    """Recreate STEP of recorded run RUN (snapshot, inputs, empty outputs, env, command);
    the run's --set values are used again unless --set is given.

    RUN is a run id, a prefix or the random suffix of one, `last` (the newest run)
    or `last~N` (N runs before it).
    """
    import os

    from amlrun.engine.debug import recorded_step, recreate
    from amlrun.spec.names import folder_name
    from amlrun.workspace import Workspace

    ws = Workspace.find()
    rec = recorded_step(ws, run_id, step)
    if sets or not rec.sets:
        pipeline, st = open_pipeline(ws, rec.source, sets, store)
    else:  # the run's own --set values, read in its folder (relative data paths)
        where = rec.cwd if rec.cwd and Path(rec.cwd).is_dir() else os.getcwd()
        here = os.getcwd()
        os.chdir(where)  # contextlib.chdir is 3.11+; amlrun supports 3.10
        try:
            pipeline, st = open_pipeline(ws, rec.source, rec.sets, store)
        finally:
            os.chdir(here)
    if output:
        root = Path(output).resolve()
    else:  # a new folder each time: never over what an earlier debug session left or edited
        root = _fresh(ws.dir / "debug" / f"{rec.run_id}-{folder_name(step)}")
    folder = recreate(ws, pipeline, st, rec, root)
    describe(folder)
    if mode is None:
        return
    argv, env = folder.argv, folder.environ()
    if mode == "pdb":
        env = folder.pdb_environ()
    elif mode == "shell":
        argv = [os.environ.get("SHELL", "/bin/sh")]
    sys.stdout.flush()
    sys.exit(subprocess.run(argv, cwd=folder.workdir, env=env).returncode)


def _fresh(base: Path) -> Path:
    """``base``, or ``base-2``, ``base-3``… the first that does not exist yet."""
    root, n = base, 1
    while root.exists():
        n += 1
        root = base.with_name(f"{base.name}-{n}")
    return root.resolve()

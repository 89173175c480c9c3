"""``amlrun module run SPEC``: run one module locally and exit with its status."""

from __future__ import annotations

import sys

import click


@click.command()
@click.argument("spec", metavar="SPEC|azureml:NAME:VERSION|azureml:NAME@LABEL")
@click.option("--input", "-i", "inputs", multiple=True, metavar="NAME=PATH", help="Bind an input.")
@click.option(
    "--param", "-p", "params", multiple=True, metavar="NAME=VALUE", help="Set a parameter."
)
@click.option(
    "--output", "-o", "outputs", multiple=True, metavar="NAME=PATH", help="Where an output goes."
)
@click.option(
    "--force-output",
    is_flag=True,
    help="Replace output destinations that hold files amlrun did not write (a link: the link).",
)
@click.option("--quiet", "-q", is_flag=True, help="Do not stream the command's output.")
def run(spec: str, inputs, params, outputs, force_output: bool, quiet: bool) -> None:
    """Stage SPEC's snapshot (a file, or a registered version) into a run folder and run its
    command here."""
    from amlrun.cli.main import parse_pairs
    from amlrun.cli.module_source import load_cli_module, resolve_inputs
    from amlrun.errors import Diagnostics
    from amlrun.runs.module_run import print_warning, run_module

    diags = Diagnostics()
    module = load_cli_module(spec, diags)
    for w in diags.warnings:
        print_warning(str(w))
    given = resolve_inputs(parse_pairs(inputs, "--input"))
    values = {**parse_pairs(params, "--param"), **given, **parse_pairs(outputs, "--output")}
    from amlrun.pipelines.validate import check_data_path

    for name, value in given.items():
        check_data_path(value, file=None, line=None, field=f"--input {name}")
        if module.port(name) is None:
            from amlrun.errors import SpecError

            ports = ", ".join(repr(p.name) for p in module.inputs) or "none"
            raise SpecError(
                f"module has no input port '{name}'", file=spec, fix=f"use one of: {ports}"
            )
    _check_script(module)
    result = run_module(
        module, values, stream=not quiet, warn=print_warning, force_output=force_output
    )
    status = "succeeded" if result.ok else f"failed with exit code {result.exit_code}"
    click.echo(
        f"amlrun: {module.name} {status} in {result.duration_s:.2f} s; log: {result.log}", err=True
    )
    for name, path in result.outputs.items():
        click.echo(f"  output {name}: {path}", err=True)
    sys.exit(result.exit_code)


def _check_script(module) -> None:
    from amlrun.errors import SpecError
    from amlrun.spec.scripts import missing_script

    script = missing_script(module)
    if script is not None:
        raise SpecError(
            f"the command runs {script}, which is not in the code folder {module.code.root}",
            file=module.source,
            field="command",
            fix="add the script there, or fix the name in the command",
        )

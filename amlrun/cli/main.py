"""The ``amlrun`` command. Subcommands are imported only when invoked (start-up is hot)."""

from __future__ import annotations

import importlib
import sys

from amlrun.collector import paused

with paused():  # importing builds only long-lived objects (amlrun/collector.py)
    import click

#: command name -> "module:attribute"; one file per command, like doit
COMMANDS = {
    "init": "amlrun.cli.init:init",
    "run": "amlrun.cli.run:run",
    "status": "amlrun.cli.status:status",
    "runs": "amlrun.cli.runs:runs",
    "backends": "amlrun.cli.backends:backends",
    "cache": "amlrun.cli.cache:cache",
    "env": "amlrun.cli.env_register:env",
    "data": "amlrun.cli.data_register:data",
    "datatype": "amlrun.cli.datatype:datatype",
    "schedule": "amlrun.cli.schedule:schedule",
    "scheduler": "amlrun.cli.scheduler:scheduler",
    "serve": "amlrun.cli.serve:serve",
    "token": "amlrun.cli.token:token",
}
MODULE_COMMANDS = {
    "validate": "amlrun.cli.module_validate:validate",
    "show": "amlrun.cli.module_show:show",
    "run": "amlrun.cli.module_run:run",
    "register": "amlrun.cli.module_register:register",
    "list": "amlrun.cli.module_list:list_",
    "set-default": "amlrun.cli.module_versions:set_default",
    "disable": "amlrun.cli.module_versions:disable",
    "enable": "amlrun.cli.module_versions:enable",
    "download": "amlrun.cli.module_download:download",
    "init": "amlrun.cli.module_init:init",
    "build": "amlrun.cli.module_build:build",
    "debug": "amlrun.cli.module_debug:debug",
}
PIPELINE_COMMANDS = {
    "export": "amlrun.cli.pipeline_export:export",
    "publish": "amlrun.cli.pipeline_publish:publish",
    "endpoint": "amlrun.cli.pipeline_endpoint:endpoint",
}


class LazyGroup(click.Group):
    def __init__(self, *args, lazy: dict[str, str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.lazy, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            mod, attr = self.lazy[name].split(":")
            return getattr(importlib.import_module(mod), attr)
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="amlrun")
def cli() -> None:
    """Run Azure ML modules and pipelines locally, incrementally."""


@cli.group(cls=LazyGroup, lazy=MODULE_COMMANDS)
def module() -> None:
    """Validate, inspect and run single modules (components)."""


@cli.group(cls=LazyGroup, lazy=PIPELINE_COMMANDS)
def pipeline() -> None:
    """Export pipelines; publish them as versioned endpoints that `amlrun serve` runs."""


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    try:
        cli.main(args=args, prog_name="amlrun", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        from amlrun.cli.errors import show, told

        what = told(exc)
        if what is None:
            raise
        show(exc, what, as_json="--json" in args)
        sys.exit(what.exit_code)


def parse_pairs(pairs: tuple[str, ...], option: str) -> dict[str, str]:
    """``NAME=VALUE`` options; names may contain spaces (v1 'Trained model=...')."""
    from amlrun.errors import SpecError

    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise SpecError(
                f"{option} '{pair}' is not NAME=VALUE", fix=f"write {option} 'name=value'"
            )
        out[name.strip()] = value
    return out

"""The ``workbench`` command: a thin shell over the functions the notebooks call.

Each command lives in its own private module (``_contract``, ``_drift``, ``_cost``,
``_incident``, ``_pack``, ``_sample``) exposing a click command or group named ``command``.
Errors: :class:`~workbench.errors.WorkbenchError` subclasses become one line on stderr and
their exit code (2 for unusable input); an OSError (disk full, permission denied, a
read-only --out) is the environment's failure: one line, exit 4. Nothing else is caught,
so real bugs stay visible.
"""

from __future__ import annotations

import importlib
import sys

import click

from workbench.errors import WorkbenchError, environment_failure

COMMANDS = {
    "contract": "workbench.cli._contract",
    "drift": "workbench.cli._drift",
    "cost": "workbench.cli._cost",
    "incident": "workbench.cli._incident",
    "pack": "workbench.cli._pack",
    "performance": "workbench.cli._performance",
    "sample": "workbench.cli._sample",
}


def names(text: str | None) -> list[str]:
    """A comma-separated option as a list, blanks dropped (``"a, b,"`` -> ``["a", "b"]``)."""
    return [c.strip() for c in text.split(",") if c.strip()] if text else []


class _Group(click.Group):
    """Loads each command module on first use, so `workbench --help` stays fast."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module = COMMANDS.get(name)
        if module is None:
            return None
        return importlib.import_module(module).command

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except WorkbenchError as exc:
            click.echo(f"workbench: error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except OSError as exc:  # disk full, read-only or impossible --out, permission denied
            failure = environment_failure(exc)
            click.echo(f"workbench: error: {failure}", err=True)
            ctx.exit(failure.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="workbench")
def cli() -> None:
    """Review packs for production ML: contracts, drift, cost-to-value, incidents."""


INTERNAL_ERROR = 70  # EX_SOFTWARE (sysexits.h): a bug, never a verdict a scheduler acts on


def main(argv: list[str] | None = None) -> None:
    """Console entry point. Usage errors exit 2 (click's convention matches ours).

    An exception nobody anticipated is a bug: its traceback is printed for the report, and
    the exit code is 70, never 1 (which a scheduler reads as "a gate failed").
    """
    try:
        cli.main(
            args=argv if argv is not None else sys.argv[1:],
            prog_name="workbench",
            standalone_mode=True,
        )
    except Exception:  # SystemExit (every planned exit) is not an Exception
        import traceback

        traceback.print_exc()
        print(
            "workbench: internal error (a bug, please report it with the traceback above)",
            file=sys.stderr,
        )
        sys.exit(INTERNAL_ERROR)

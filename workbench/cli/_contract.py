"""`workbench contract check|init|lint|diff|sla`: ODCS contracts from the command line.

Exit codes: ``check``: 0 every error-severity check passed (warnings may have failed); 1 an
error-severity check failed. ``lint``: 1 on a problem. ``diff``: 1 on a breaking change.
``sla``: 1 when a service level was missed. Every command: 2 when a contract is invalid (one
line per problem on stderr; ``lint`` lists them instead) or the data cannot be read.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from workbench.cli import names

if TYPE_CHECKING:
    from workbench.contracts import Contract


@click.group("contract")
def command() -> None:
    """Data contracts (ODCS v3): check data, start a contract from data (init), lint it,
    compare two versions (diff), measure its service levels (sla)."""


@command.command("check")
@click.argument("contract", type=click.Path(dir_okay=False))
@click.argument("data", required=False)
@click.option("--schema", "schema", default=None, metavar="NAME",
              help="Schema object to check (default: every one, each against its own "
                   "server path; needed with DATA when the contract has several).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Output format.")
@click.option("--as-of", "as_of", default=None, metavar="ISO",
              help="Instant freshness is measured from (default: now, UTC).")
@click.option("--no-undeclared", is_flag=True, default=False,
              help="Also fail when the data has columns the contract does not declare.")
@click.option("--deliveries", "deliveries", default=None, metavar="LOG",
              help="Delivery log (CSV or JSON lines: delivered_at, rows, success) for the "
                   "service levels measured on deliveries (availability, errorRate, ...).")
@click.option("--sensitive", "sensitive", default=None, metavar="CLASSES",
              help="Comma-separated ODCS classifications whose columns are masked (default: "
                   "$WORKBENCH_SENSITIVE_CLASSIFICATIONS, else confidential,restricted,"
                   "sensitive,pii). A pii tag or custom property always masks.")
@click.option("--server", "server", default=None, metavar="NAME",
              help="Check the data on this server of the contract (files, DuckDB or "
                   "PostgreSQL; databases are checked where the data lives). Credentials: "
                   "$DATACONTRACT_POSTGRES_USERNAME and $DATACONTRACT_POSTGRES_PASSWORD.")
def check_command(contract: str, data: str | None, schema: str | None, fmt: str,
                  as_of: str | None, no_undeclared: bool, deliveries: str | None,
                  sensitive: str | None, server: str | None) -> int:
    """Check DATA (default: the contract's server paths) against CONTRACT.

    A contract with several schema objects is checked in one run, each object against the
    server whose path is named after it or holds a {model} placeholder; foreign keys
    (ODCS relationships) are checked against the referenced object's data.
    """
    from workbench.atomic import json_safe
    from workbench.contracts import check, check_server, load_contract

    loaded = load_contract(contract, classifications=names(sensitive) or None)
    if server is not None:
        if data is not None:
            raise click.UsageError("give DATA or --server, not both")
        result = check_server(loaded, server, schema=schema, as_of=as_of,
                              allow_undeclared=not no_undeclared)
    else:
        result = check(loaded, data, schema=schema, as_of=as_of,
                       allow_undeclared=not no_undeclared, deliveries=deliveries)
    if fmt == "json":
        click.echo(json.dumps(json_safe(result.to_dict()), ensure_ascii=False, allow_nan=False))
    else:
        click.echo(_table(result))
    return 0 if result.passed else 1


def _table(result) -> str:
    frame = result.frame()
    rows = [("check", "severity", "result", "failed rows", "observed", "expected")]
    for r in frame.iter_rows(named=True):
        rows.append((r["id"], r["severity"], "pass" if r["passed"] else "FAIL",
                     "" if r["failed_rows"] is None else f"{r['failed_rows']:,}",
                     _cut(r["observed"]), _cut(r["expected"])))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    m = result.metrics
    verdict = "PASSED" if result.passed else "FAILED"
    lines.append("")
    lines.append(f"{verdict}: {result.contract} on {result.dataset} ({result.rows:,} rows): "
                 f"{m['checks_failed']} of {m['checks_total']} checks failed "
                 f"({m['error_checks_failed']} error, {m['warning_checks_failed']} warning).")
    return "\n".join(lines)


def _cut(text: str | None, width: int = 48) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def _load_or_exit(path: str) -> Contract:
    """A validated contract; a ContractError reaches the CLI's one error printer (exit 2)."""
    from workbench.contracts import load_contract

    return load_contract(path)


@command.command("diff")
@click.argument("old", type=click.Path(dir_okay=False))
@click.argument("new", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Output format.")
def diff_command(old: str, new: str, fmt: str) -> int:
    """Every change from contract OLD to NEW, each breaking or not for consumers, and the
    semantic version the changes call for. Exit 1 when a change is breaking."""
    from workbench.contracts import diff

    result = diff(_load_or_exit(old), _load_or_exit(new))
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, allow_nan=False))
    else:
        rows = [("path", "change", "breaking", "reason")]
        rows += [(c.path, c.kind, "BREAKING" if c.breaking else "no", c.reason)
                 for c in result.changes]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = ["  ".join([*(cell.ljust(w) for cell, w in zip(r[:3], widths, strict=True)),
                            r[3]]).rstrip() for r in rows] if result.changes else []
        lines += ["", result.headline()] if lines else [result.headline()]
        click.echo("\n".join(lines))
    return 1 if result.breaking else 0


@command.command("init")
@click.argument("data")
@click.option("--name", "name", default=None, metavar="NAME",
              help="Name of the dataset (default: the file's name).")
@click.option("--out", "out", default=None, type=click.Path(dir_okay=False), metavar="FILE",
              help="Write the contract here (never over an existing file); default: stdout.")
@click.option("--format", "fmt", default=None, metavar="FORMAT",
              help="The data's format when its suffix does not say (csv, parquet, json, jsonl).")
def init_command(data: str, name: str | None, out: str | None, fmt: str | None) -> None:
    """A starter ODCS v3.1 contract inferred from DATA (types, required, ranges with a
    margin, valid values, unique keys, a row-count band), commented for editing."""
    from pathlib import Path

    from workbench.contracts import init
    from workbench.errors import input_error
    from workbench.io import write_text_atomic

    if out is not None and Path(out).exists():
        raise input_error(out, None, "a new file (init never overwrites a contract)")
    text = init(data, name=name, out=out, fmt=fmt)
    if out is None:
        click.echo(text, nl=False)
    else:
        write_text_atomic(out, text)
        click.echo(f"wrote {out}", err=True)


@command.command("lint")
@click.argument("contract", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Output format.")
def lint_command(contract: str, fmt: str) -> int:
    """Schema errors and problems a person would miss in CONTRACT, each with its YAML path:
    contradictory rules, rules that cannot apply to the column's type, rules on unknown
    columns, unsupported metrics, servers without what they need. Exit 1 on a problem."""
    from workbench.contracts import lint

    result = lint(contract)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        for line in result.lines():
            click.echo(line)
        n = sum(not p.note for p in result.problems)
        click.echo(f"{contract}: clean" if result.clean else
                   f"{contract}: {n} problem{'s' if n != 1 else ''}")
    return 0 if result.clean else 1


@command.command("sla")
@click.argument("contract", type=click.Path(dir_okay=False))
@click.argument("data", required=False)
@click.option("--deliveries", "deliveries", default=None, metavar="LOG",
              help="Delivery log (CSV or JSON lines: delivered_at, rows, success).")
@click.option("--window", "window", default="28d", show_default=True, metavar="DURATION",
              help="Window the attainment is measured over (28d, 12h, P7D, ...).")
@click.option("--as-of", "as_of", default=None, metavar="ISO",
              help="End of the window (default: now, UTC).")
@click.option("--schema", "schema", default=None, metavar="NAME",
              help="Only the service levels of this schema object.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Output format.")
def sla_command(contract: str, data: str | None, deliveries: str | None, window: str,
                as_of: str | None, schema: str | None, fmt: str) -> int:
    """Measure the contract's service levels (slaProperties) on DATA (default: the server
    paths) and a delivery log: attainment over the window and error budget left. A level
    that cannot be measured is "not run" with the reason. Exit 1 when a level is missed."""
    from workbench.contracts import service_levels

    result = service_levels(_load_or_exit(contract), data, deliveries=deliveries,
                            as_of=as_of, window=window, schema=schema)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, default=str))
    else:
        rows = [("level", "target", "status", "attainment", "budget left", "why")]
        for lv in result.levels:
            rows.append((lv.property, lv.target, lv.status.upper() if lv.status == "fail"
                         else lv.status, "" if lv.attainment is None else f"{lv.attainment:.2%}",
                         "" if lv.budget_left is None else f"{lv.budget_left:.1%}", lv.reason))
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        for r in rows:
            click.echo("  ".join([*(c.ljust(w) for c, w in zip(r[:5], widths, strict=True)),
                                  r[5]]).rstrip())
        click.echo("")
        click.echo(result.headline)
    return 1 if result.status == "fail" else 0

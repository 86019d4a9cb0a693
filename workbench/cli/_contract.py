"""`workbench contract check`: check a dataset against an ODCS contract.

Exit codes: 0 every error-severity check passed (warnings may have failed); 1 an
error-severity check failed; 2 the contract is invalid (one line per problem on stderr)
or the data cannot be read.
"""

from __future__ import annotations

import json

import click

from workbench.cli import names


@click.group("contract")
def command() -> None:
    """Data contracts (ODCS v3): check a dataset against its contract."""


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
@click.option("--sensitive", "sensitive", default=None, metavar="CLASSES",
              help="Comma-separated ODCS classifications whose columns are masked (default: "
                   "$WORKBENCH_SENSITIVE_CLASSIFICATIONS, else confidential,restricted,"
                   "sensitive,pii). A pii tag or custom property always masks.")
def check_command(contract: str, data: str | None, schema: str | None, fmt: str,
                  as_of: str | None, no_undeclared: bool, sensitive: str | None) -> int:
    """Check DATA (default: the contract's server paths) against CONTRACT.

    A contract with several schema objects is checked in one run, each object against the
    server whose path is named after it or holds a {model} placeholder; foreign keys
    (ODCS relationships) are checked against the referenced object's data.
    """
    from workbench.atomic import json_safe
    from workbench.contracts import check, load_contract

    loaded = load_contract(contract, classifications=names(sensitive) or None)
    result = check(loaded, data, schema=schema, as_of=as_of, allow_undeclared=not no_undeclared)
    if fmt == "json":
        click.echo(json.dumps(json_safe(result.to_dict()), ensure_ascii=False, allow_nan=False))
    else:
        click.echo(_table(result))
    return 0 if result.passed else 1


def _table(result) -> str:
    frame = result.frame
    rows = [("check", "severity", "result", "failed rows", "observed", "expected")]
    for r in frame.iter_rows(named=True):
        rows.append((r["id"], r["severity"], "pass" if r["passed"] else "FAIL",
                     "" if r["failed_rows"] is None else f"{r['failed_rows']:,}",
                     _cut(r["observed"]), _cut(r["expected"])))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    m = result.metrics()
    verdict = "PASSED" if result.passed else "FAILED"
    lines.append("")
    lines.append(f"{verdict}: {result.contract} on {result.dataset} ({result.rows:,} rows): "
                 f"{m['checks_failed']} of {m['checks_total']} checks failed "
                 f"({m['error_checks_failed']} error, {m['warning_checks_failed']} warning).")
    return "\n".join(lines)


def _cut(text: str | None, width: int = 48) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= width else text[: width - 1] + "…"

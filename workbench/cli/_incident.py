"""`workbench incident`: postmortem numbers for one incident, or a portfolio of incidents.

    workbench incident RECORD [--events E] [--slis S] [--slos Y] [--format table|json]
    workbench incident portfolio DIR_OR_GLOB [--format table|json]

``RECORD`` alone is short for ``workbench incident analyze RECORD``. Signals default to the
record's ``signals`` paths. An invalid record exits 2 with one stderr line per problem.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from workbench.errors import input_error

_FORMAT = click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
                       show_default=True, help="Human-readable text or one JSON object.")
_AS_OF = click.option("--as-of", "as_of", default=None, metavar="ISO_DATE",
                      help="Date that decides which action items are overdue (default: now, UTC).")


def _parse_as_of(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise input_error("--as-of", None, "an ISO 8601 date or datetime", text) from exc
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


class _Group(click.Group):
    """Routes ``incident RECORD`` to the ``analyze`` subcommand."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["analyze", *args]
        return super().parse_args(ctx, args)


@click.group("incident", cls=_Group)
def command() -> None:
    """Incident postmortems: timeline, impact, error budget, burn-rate alerts; portfolios.

    `workbench incident RECORD` is short for `workbench incident analyze RECORD`.
    """


def _run(fn: Any, *args: Any, **kw: Any) -> Any:
    """Call ``fn``; a record with problems prints one stderr line per problem and exits 2."""
    from workbench.incidents import RecordError

    try:
        return fn(*args, **kw)
    except RecordError as exc:
        for line in exc.problems:
            click.echo(f"workbench: error: {line}", err=True)
        raise click.exceptions.Exit(2) from exc


@command.command("analyze")
@click.argument("record", type=click.Path(path_type=Path))
@click.option("--events", type=click.Path(path_type=Path), default=None,
              help="Event log (CSV or JSONL: timestamp, source, kind, message).")
@click.option("--slis", type=click.Path(path_type=Path), default=None,
              help="Per-minute SLIs (timestamp, requests, errors, latency_pNN_ms).")
@click.option("--slos", type=click.Path(path_type=Path), default=None,
              help="SLO definitions (YAML).")
@click.option("--results-dir", type=click.Path(path_type=Path), default=None,
              help="Directory with drift/contract_checks results of the same pack (evidence).")
@_AS_OF
@_FORMAT
def analyze_cmd(record: Path, events: Path | None, slis: Path | None, slos: Path | None,
                results_dir: Path | None, as_of: str | None, fmt: str) -> None:
    """Postmortem numbers for one incident RECORD (YAML)."""
    from workbench import incidents
    from workbench.io import dumps_json

    result = _run(incidents.load, record, as_of=_parse_as_of(as_of), events_path=events,
                  slis_path=slis, slos_path=slos, results_dir=results_dir)
    if fmt == "json":
        click.echo(dumps_json(result.to_dict()), nl=False)
        return
    click.echo(_table(result))


@command.command("portfolio")
@click.argument("source")
@_AS_OF
@_FORMAT
def portfolio_cmd(source: str, as_of: str | None, fmt: str) -> None:
    """Summarise every incident record in a directory (or matching a glob)."""
    from workbench import incidents
    from workbench.io import dumps_json

    folio = _run(incidents.portfolio, source, as_of=_parse_as_of(as_of))
    if fmt == "json":
        click.echo(dumps_json(folio.to_dict()), nl=False)
        return
    m = folio.metrics
    lines = [f"{m['portfolio_incidents']} incidents, {m['portfolio_overdue_action_items']} overdue "
             f"action items (as of {folio.as_of.date().isoformat()})", "",
             f"{'month':<8} {'incidents':>9} {'median TTD min':>15} {'median TTR min':>15}"]
    for r in folio.by_month.iter_rows(named=True):
        lines.append(f"{r['month']:<8} {r['incidents']:>9} {_n(r['median_ttd_minutes']):>15} "
                     f"{_n(r['median_ttr_minutes']):>15}")
    lines += ["", "by category: " + ", ".join(f"{r['category']} {r['incidents']}"
                                              for r in folio.by_category.iter_rows(named=True)),
              "by severity: " + ", ".join(f"{r['severity']} {r['incidents']}"
                                          for r in folio.by_severity.iter_rows(named=True)), ""]
    for r in folio.overdue.iter_rows(named=True):
        lines.append(f"overdue {r['days_overdue']:>4} d  {r['incident']} {r['id']} {r['priority']} "
                     f"{r['owner']}: {r['description']}")
    click.echo("\n".join(lines))


def _n(v: float | None) -> str:
    return "-" if v is None else f"{v:,.0f}"


def _table(result: Any) -> str:
    from workbench.incidents import DEFINITIONS

    lines = [result.headline, ""]
    for key, minutes in result.durations.items():
        name, definition = DEFINITIONS[key]
        lines.append(f"{key.upper():<4} {_n(minutes):>8} min  {name}: {definition}")
    lines.append("")
    for k, v in result.impact.items():
        lines.append(f"{k.replace('_', ' '):<32} {v:,.4g}" if isinstance(v, float)
                     else f"{k.replace('_', ' '):<32} {v:,}")
    for sli, b in result.budget.items():
        lines.append(f"{sli} budget ({b['objective']}, {b['window']}): incident consumed "
                     f"{b['consumed_by_incident_pct']:.1f}%, remaining {b['remaining_pct']:.1f}%")
    lines.append("")
    for a in result.alerts:
        when = a.first_fired_at.isoformat() if a.first_fired_at else "never"
        delta = a.minutes_vs_detection
        rel = "" if delta is None else f" ({delta:+.0f} min vs detection)"
        lines.append(f"{a.sli:<12} {a.alert}: first fires {when}{rel}")
    lines.append("")
    for r in result.action_items.iter_rows(named=True):
        flag = "OVERDUE " if r["overdue"] else ""
        lines.append(f"{r['id']} {r['priority']} {r['status']:<11} due {r['due']} {flag}"
                     f"{r['owner']}: {r['description']}")
    return "\n".join(lines)

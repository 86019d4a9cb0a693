"""`workbench incident`: postmortem numbers for one incident, or a portfolio of incidents.

    workbench incident RECORD [--events E] [--slis S | --prometheus KIND=FILE ...] [--slos Y]
                              [--slo-period 28d] [--window-requests N --window-errors N]
                              [--format table|json]
    workbench incident portfolio DIR_OR_GLOB [--format table|json]
    workbench incident import pagerduty|opsgenie EXPORT_DIR --out DIR [--started ISO]
                              [--mitigated ISO] [--jira FILE] [--prometheus KIND=FILE] [--slos Y]

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


def _prometheus(pairs: tuple[str, ...]) -> dict[str, list[str]] | None:
    """``KIND=FILE`` pairs, repeatable; the files of one kind are the chunks of one query."""
    from workbench.incidents._prometheus import KINDS

    out: dict[str, list[str]] = {}
    for pair in pairs:
        kind, sep, file = pair.partition("=")
        if not sep or kind not in KINDS or not file:
            raise input_error("--prometheus", None,
                              f"KIND=FILE with KIND one of {', '.join(KINDS)}", pair)
        out.setdefault(kind, []).append(file)
    return out or None


def _period(text: str | None) -> int | None:
    if not text:
        return None
    from workbench.incidents._openslo import window_days

    return window_days(text, "--slo-period", "value")


_PROMETHEUS = click.option(
    "--prometheus", "prometheus", multiple=True, metavar="KIND=FILE",
    help="Prometheus query_range JSON; KIND is requests, errors or latency_buckets. Repeat "
         "for each kind and for each chunk of a long range.")
_SLOS = click.option("--slos", type=click.Path(path_type=Path), default=None,
                     help="SLO definitions: workbench YAML, OpenSLO v1 or Sloth.")


def _warn(lines: list[str]) -> None:
    for line in lines:
        click.echo(f"workbench: note: {line}", err=True)


@command.command("analyze")
@click.argument("record", type=click.Path(path_type=Path))
@click.option("--events", type=click.Path(path_type=Path), default=None,
              help="Event log (CSV or JSONL: timestamp, source, kind, message).")
@click.option("--slis", type=click.Path(path_type=Path), default=None,
              help="Per-minute SLIs (timestamp, requests, errors, latency_pNN_ms).")
@_PROMETHEUS
@_SLOS
@click.option("--slo-period", default=None, metavar="DURATION",
              help="Sloth's SLO period (its --default-slo-period), e.g. 28d; default 30d.")
@click.option("--window-requests", type=float, default=None,
              help="Requests in the whole SLO window, when the SLIs cover only part of it.")
@click.option("--window-errors", type=float, default=None,
              help="Failed requests in the whole SLO window (with --window-requests).")
@click.option("--results-dir", type=click.Path(path_type=Path), default=None,
              help="Directory with drift/contract_checks results of the same pack (evidence).")
@_AS_OF
@_FORMAT
def analyze_cmd(record: Path, events: Path | None, slis: Path | None,
                prometheus: tuple[str, ...], slos: Path | None, slo_period: str | None,
                window_requests: float | None, window_errors: float | None,
                results_dir: Path | None, as_of: str | None, fmt: str) -> None:
    """Postmortem numbers for one incident RECORD (YAML)."""
    from workbench import incidents
    from workbench.io import dumps_json

    totals = None
    if window_requests is not None:
        totals = {"requests": window_requests}
        if window_errors is not None:
            totals["errors"] = window_errors
    elif window_errors is not None:
        raise input_error("--window-errors", None, "--window-requests as well")
    result = incidents.load(record, as_of=_parse_as_of(as_of), events_path=events,
                            slis_path=slis, slos_path=slos, prometheus=_prometheus(prometheus),
                            results_dir=results_dir, window_totals=totals,
                            slo_period_days=_period(slo_period))
    _warn(result.notes)
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

    folio = incidents.portfolio(source, as_of=_parse_as_of(as_of))
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


@command.group("import")
def import_group() -> None:
    """A record skeleton and event log from an incident tool's JSON export."""


def _import(source: str, export_dir: Path, out: Path, started: str | None, mitigated: str | None,
            jira: Path | None, prometheus: tuple[str, ...], slos: Path | None) -> None:
    from workbench.incidents._import import parse_when, write_import

    try:
        done = write_import(source, export_dir, out, started=parse_when(started, "--started"),
                            mitigated=parse_when(mitigated, "--mitigated"), jira=jira,
                            prometheus=_prometheus(prometheus), slos=slos)
    except OSError as exc:  # disk full, permission denied: the environment, not the input
        click.echo(f"workbench: error: {out}: could not write the import: {exc.strerror or exc}",
                   err=True)
        raise click.exceptions.Exit(4) from exc
    click.echo(f"{done.record_path}: record skeleton, {done.action_items} action item(s), "
               f"{len(done.todo)} TODO field(s) to write")
    click.echo(f"{done.events_path}: {done.events} event(s)")


def _import_options(fn: Any) -> Any:
    for deco in reversed((
        click.argument("export_dir", type=click.Path(path_type=Path)),
        click.option("--out", type=click.Path(path_type=Path), required=True,
                     help="Folder for <id>.yaml and <id>/events.csv."),
        click.option("--started", default=None, metavar="ISO",
                     help="When the impact started (default: the incident's creation)."),
        click.option("--mitigated", default=None, metavar="ISO",
                     help="When the impact ended (default: the resolution, marked TODO)."),
        click.option("--jira", type=click.Path(path_type=Path), default=None,
                     help="Jira search result JSON ({\"issues\": [...]}) for the action items."),
        _PROMETHEUS,
        _SLOS,
    )):
        fn = deco(fn)
    return fn


@import_group.command("pagerduty")
@_import_options
def import_pagerduty(export_dir: Path, out: Path, started: str | None, mitigated: str | None,
                     jira: Path | None, prometheus: tuple[str, ...], slos: Path | None) -> None:
    """From a PagerDuty REST v2 export: incident.json, log_entries.json, notes.json,
    change_events.json."""
    _import("pagerduty", export_dir, out, started, mitigated, jira, prometheus, slos)


@import_group.command("opsgenie")
@_import_options
def import_opsgenie(export_dir: Path, out: Path, started: str | None, mitigated: str | None,
                    jira: Path | None, prometheus: tuple[str, ...], slos: Path | None) -> None:
    """From an Opsgenie export: alert.json (or incident.json), logs.json, notes.json."""
    _import("opsgenie", export_dir, out, started, mitigated, jira, prometheus, slos)


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
        if k == "revenue_at_risk" or (isinstance(v, float) and abs(v) >= 1000):
            text = f"{v:,.2f}" if k == "revenue_at_risk" else f"{v:,.0f}"
        else:
            text = f"{v:,.4g}" if isinstance(v, float) else f"{v:,}"
        lines.append(f"{k.replace('_', ' '):<32} {text}")
    for sli, b in result.budget.items():
        if b["consumed_by_incident_pct"] is None:
            lines.append(f"{sli} budget ({b['objective']}, {b['window']}): {b['basis']}")
            continue
        remaining = "unknown" if b["remaining_pct"] is None else f"{b['remaining_pct']:.1f}%"
        lines.append(f"{sli} budget ({b['objective']}, {b['window']}): incident consumed "
                     f"{b['consumed_by_incident_pct']:.1f}%, remaining {remaining}")
    lines.append("")
    for a in result.alerts:
        when = (a.first_fired_at.isoformat() if a.first_fired_at else
                "never" if a.outcome == "never" else
                f"unknown ({a.unknown_minutes} min with the window not covered by the SLIs)")
        delta = a.minutes_vs_detection
        rel = "" if delta is None else f" ({delta:+.0f} min vs detection)"
        lines.append(f"{a.sli:<12} {a.alert}: first fires {when}{rel}")
    lines.append("")
    for r in result.action_items.iter_rows(named=True):
        flag = "OVERDUE " if r["overdue"] else ""
        lines.append(f"{r['id']} {r['priority']} {r['status']:<11} due {r['due']} {flag}"
                     f"{r['owner']}: {r['description']}")
    return "\n".join(lines)

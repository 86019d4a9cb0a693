"""Incident record + events + SLIs + SLOs -> :class:`IncidentResult` (the postmortem numbers).

:func:`analyze` works on typed inputs; :func:`load` reads the files and calls it."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import polars as pl

from workbench import io
from workbench.errors import input_error
from workbench.incidents import _slo
from workbench.incidents._evidence import EVIDENCE, pack_evidence
from workbench.incidents._model import IncidentResult
from workbench.incidents._openslo import load_slos
from workbench.incidents._prometheus import load_prometheus
from workbench.incidents._record import (
    IncidentRecord,
    comment_cuts,
    load_events,
    read_slis,
    resolve_signal,
    todo_fields,
    validate_record,
)

SPANS = {
    "ttd": ("started_at", "detected_at"),
    "tta": ("detected_at", "acknowledged_at"),
    "ttm": ("started_at", "mitigated_at"),
    "ttr": ("started_at", "resolved_at"),
}
def durations(record: IncidentRecord) -> dict[str, float | None]:
    """TTD, TTA, TTM, TTR in minutes (None when an end is not recorded yet)."""
    out: dict[str, float | None] = {}
    for key, (a, b) in SPANS.items():
        t0, t1 = getattr(record, a), getattr(record, b)
        out[key] = None if t0 is None or t1 is None else (t1 - t0).total_seconds() / 60.0
    return out


def action_items_frame(record: IncidentRecord, as_of: datetime) -> pl.DataFrame:
    rows = [
        {
            "incident": record.id,
            "id": a.id,
            "description": a.description,
            "owner": a.owner,
            "due": a.due,
            "status": a.status,
            "priority": a.priority,
            "kind": a.kind,
            "overdue": a.overdue(as_of),
            "days_overdue": (as_of.date() - cast(date, a.due)).days if a.overdue(as_of) else 0,
        }
        for a in record.action_items
    ]
    schema = {
        "incident": pl.String,
        "id": pl.String,
        "description": pl.String,
        "owner": pl.String,
        "due": pl.Date,
        "status": pl.String,
        "priority": pl.String,
        "kind": pl.String,
        "overdue": pl.Boolean,
        "days_overdue": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema)


def analyze(
    record: IncidentRecord,
    *,
    as_of: datetime,
    events: pl.DataFrame | None = None,
    slis: pl.DataFrame | None = None,
    slo: _slo.SLOSpec | None = None,
    results_dir: str | os.PathLike[str] | None = None,
    evidence_lookback: timedelta = timedelta(days=3),
    evidence_findings: Sequence[str] = EVIDENCE,
    chart_margin: timedelta = timedelta(hours=3),
    window_totals: dict[str, float] | None = None,
    notes: list[str] | None = None,
) -> IncidentResult:
    """The postmortem from typed inputs; ``as_of`` decides which action items are overdue.

    Impact (failed requests, error ratio, minutes out of SLO, budget consumed) is counted over
    the impact window, start to mitigation (to resolution, or ``as_of``, when not mitigated);
    alerts are looked for from the start to the resolution. ``notes`` (what the readers
    resampled or warned about) are shown on the page.
    """
    start = record.started_at
    end = record.resolved_at or record.mitigated_at or as_of
    impact_end = record.mitigated_at or end
    impact: dict[str, Any] = {}
    budget: dict[str, Any] = {}
    alerts: list[_slo.AlertFiring] = []
    rates = pl.DataFrame()
    if slis is not None and slo is not None and slis.height:
        impact, budget = _impact_and_budget(slis, slo, start, impact_end, window_totals)
        all_rates = _slo.burn_rates(slis, slo)
        alerts = _slo.alert_firings(all_rates, slo, start, end, record.detected_at)
        lo = start - chart_margin
        hi = (record.mitigated_at or end) + chart_margin
        rates = all_rates.filter((pl.col("at") > lo) & (pl.col("at") <= hi))
    for key in ("users_affected", "decisions_affected", "revenue_at_risk"):
        value = getattr(record.impact, key)
        if value is not None:
            impact[key] = value

    timeline, found_notes = _timeline(record, events, results_dir, start - evidence_lookback,
                                      end, evidence_lookback, evidence_findings)
    return IncidentResult(
        record=record,
        as_of=as_of,
        durations=durations(record),
        impact=impact,
        budget=budget,
        alerts=alerts,
        timeline=timeline,
        rates=rates,
        action_items=action_items_frame(record, as_of),
        evidence_notes=found_notes,
        slo=slo,
        notes=list(notes or []),
    )


def _timeline(record: IncidentRecord, events: pl.DataFrame | None,
              results_dir: str | os.PathLike[str] | None, lo: datetime, end: datetime,
              evidence_lookback: timedelta,
              evidence_findings: Sequence[str] = EVIDENCE) -> tuple[pl.DataFrame, list[str]]:
    """The record's milestones, the logged events in ``[lo, end]`` and this pack's evidence,
    by time; with notes on what was found and left out."""
    start = record.started_at
    rows: list[dict[str, Any]] = []
    for name, label in (
        ("started_at", "impact starts"),
        ("detected_at", "detected"),
        ("acknowledged_at", "acknowledged"),
        ("mitigated_at", "mitigated"),
        ("resolved_at", "resolved"),
    ):
        t = getattr(record, name)
        if t is not None:
            rows.append(
                {
                    "timestamp": t,
                    "source": "incident record",
                    "kind": "milestone",
                    "message": f"{label} ({name})",
                    "origin": "record",
                }
            )
    if events is not None:
        for ev in events.filter(
            (pl.col("timestamp") >= lo) & (pl.col("timestamp") <= end)
        ).to_dicts():
            rows.append({**ev, "origin": "event log"})
    found, found_notes = pack_evidence(results_dir, start, end, evidence_lookback,
                                       evidence_findings)
    if record.incident_kind == "service":
        # Drift and contract results are an ML pack's; their absence is no news for a service.
        found_notes = [
            n for n in found_notes if "not found" not in n and "no results directory" not in n
        ]
    rows += [{**ev, "origin": "pack evidence"} for ev in found]
    if events is not None:
        outside = events.height - sum(1 for r in rows if r["origin"] == "event log")
        if outside:
            found_notes = [
                *found_notes,
                f"{outside} logged event(s) outside the timeline range "
                f"({lo.isoformat()} to {end.isoformat()}) not shown",
            ]
    schema: dict[str, Any] = {
        "timestamp": pl.Datetime("us", "UTC"),
        "source": pl.String,
        "kind": pl.String,
        "message": pl.String,
        "origin": pl.String,
    }
    timeline = pl.DataFrame(rows, schema=schema).sort("timestamp", maintain_order=True)
    return timeline, found_notes


def _coverage(first: datetime, window_start: datetime, window_end: datetime) -> float:
    """Share of the SLO window the SLIs span (0..1, never more)."""
    span = (window_end - max(first, window_start)).total_seconds()
    return max(0.0, min(1.0, span / (window_end - window_start).total_seconds()))


def _budget_row(
    *,
    objective: str,
    window: str,
    coverage: float,
    unit: str,
    allowed: float | None,
    spent_inc: float,
    spent_all: float | None,
    basis: str,
) -> dict[str, Any]:
    return {
        "objective": objective,
        "window": window,
        "coverage": coverage,
        "basis": basis,
        "budget": allowed,
        "unit": unit,
        "consumed_by_incident": spent_inc,
        "consumed_by_incident_pct": (
            None if allowed is None else _slo.budget_pct(spent_inc, allowed)
        ),
        "spent_in_window": spent_all,
        "remaining_pct": (
            None
            if allowed is None or spent_all is None or allowed <= 0
            else 100.0 - cast(float, _slo.budget_pct(spent_all, allowed))
        ),
    }


def _impact_and_budget(
    slis: pl.DataFrame,
    slo: _slo.SLOSpec,
    start: datetime,
    end: datetime,
    window_totals: dict[str, float] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Impact over ``[start, end)`` (the impact window: start to mitigation) and the budget.

    A budget is only stated when the SLIs span the whole SLO window, or when the window's
    totals are given (``window_totals``: ``requests`` and optionally ``errors``); otherwise its
    percentages are None and ``basis`` says why, with the coverage.
    """
    frame = _slo.with_bad_minutes(slis, slo)
    window_end = cast(datetime, frame["timestamp"].max()) + _slo.MINUTE
    window_start = window_end - timedelta(days=slo.window_days)
    window = frame.filter(pl.col("timestamp") >= window_start)
    inc = frame.filter((pl.col("timestamp") >= start) & (pl.col("timestamp") < end))
    inc_in_window = inc.filter(pl.col("timestamp") >= window_start)
    impact: dict[str, Any] = {
        "requests_during_incident": int(inc["requests"].sum()),
        "failed_requests": int(inc["errors"].sum()),
        "error_ratio_during_incident": (
            float(cast(int, inc["errors"].sum()) / cast(int, inc["requests"].sum()))
            if inc["requests"].sum()
            else None
        ),
        "minutes_out_of_slo": int(inc["out_of_slo"].sum()),
    }
    mode = _slo.latency_mode(frame, slo)
    if mode == "minutes":
        impact["minutes_over_latency_threshold"] = int(inc["lat_bad"].sum())
    elif mode == "requests":
        impact["slow_requests"] = int(inc["lat_bad"].sum())
    coverage = _coverage(cast(datetime, frame["timestamp"].min()), window_start, window_end)
    wtext = f"{slo.window_days} days to {window_end.isoformat()}"
    totals = window_totals or {}
    full = coverage >= 1.0
    if full:
        basis = "SLIs cover the whole window"
    elif "requests" in totals:
        basis = f"window totals given (SLIs cover {coverage:.1%} of the window)"
    else:
        basis = (
            f"unknown: the SLIs cover {coverage:.1%} of the {slo.window_days}-day window "
            "(give SLIs for the whole window, or the window's request and error totals)"
        )
    target = slo.availability.target
    if full:
        allowed: float | None = _slo.error_budget(float(window["requests"].sum()), target)
        spent_all: float | None = int(window["errors"].sum())
    elif "requests" in totals:
        allowed = _slo.error_budget(float(totals["requests"]), target)
        spent_all = totals.get("errors")
    else:
        allowed = spent_all = None
    budget: dict[str, Any] = {
        "availability": _budget_row(
            objective=f"{target * 100:g}% of requests succeed",
            window=wtext,
            coverage=coverage,
            unit="requests",
            allowed=allowed,
            spent_inc=int(inc_in_window["errors"].sum()),
            spent_all=spent_all,
            basis=basis,
        )
    }
    if mode is not None:
        lat = slo.latency
        assert lat is not None
        per = "requests" if mode == "requests" else "minutes"
        objective = (
            f"{lat.target * 100:g}% of requests within {lat.threshold_ms:g} ms"
            if mode == "requests"
            else f"{lat.percentile} ≤ {lat.threshold_ms:g} ms in {lat.target * 100:g}% of minutes"
        )
        if full:
            lat_allowed: float | None = _slo.error_budget(
                float(window["lat_units"].sum()), lat.target
            )
            lat_all: float | None = float(window["lat_bad"].sum())
        else:
            lat_allowed = lat_all = None
        budget["latency"] = _budget_row(
            objective=objective,
            window=wtext,
            coverage=coverage,
            unit=per,
            allowed=lat_allowed,
            spent_inc=float(inc_in_window["lat_bad"].sum()),
            spent_all=lat_all,
            basis=basis
            if full or "requests" not in totals
            else basis.split(" (")[0].replace(
                "window totals given", "unknown: window totals cover availability only"
            ),
        )
    return impact, budget


def load(
    record_path: str | os.PathLike[str],
    *,
    as_of: datetime,
    events_path: str | os.PathLike[str] | None = None,
    slis_path: str | os.PathLike[str] | None = None,
    slos_path: str | os.PathLike[str] | None = None,
    prometheus: Mapping[str, Sequence[str | os.PathLike[str]]] | None = None,
    results_dir: str | os.PathLike[str] | None = None,
    evidence_lookback: timedelta = timedelta(days=3),
    evidence_findings: Sequence[str] = EVIDENCE,
    window_totals: dict[str, float] | None = None,
    slo_period_days: int | None = None,
) -> IncidentResult:
    """Read a record and its signals (paths default to the record's ``signals``) and analyze.

    SLIs come from a per-minute table (``slis_path``) or from Prometheus ``query_range`` JSON
    (``prometheus``: kind -> files, see :mod:`workbench.incidents._prometheus`), not both.
    """
    data = io.read_yaml(record_path)  # parsed once: validated, then searched for TODOs
    record = validate_record(data, file=record_path)
    notes = comment_cuts(record_path)
    todo = todo_fields(data)
    if todo:
        notes.append(
            f"{len(todo)} field(s) of the record still marked TODO: {', '.join(todo[:6])}"
            + (", ..." if len(todo) > 6 else "")
        )
    ev = resolve_signal(record_path, record, "events", events_path)
    sl = resolve_signal(record_path, record, "slis", slis_path)
    so = resolve_signal(record_path, record, "slos", slos_path)
    if prometheus is None and not slis_path and record.signals.prometheus:
        base = Path(record_path).parent
        prometheus = {
            k: [base / f for f in ([v] if isinstance(v, str) else v)]
            for k, v in record.signals.prometheus.items()
        }
        sl = None
    if prometheus and slis_path:
        raise input_error("--prometheus", None, "either --slis or --prometheus, not both")
    slo = load_slos(so, period_days=slo_period_days) if so else None
    slis = None
    if prometheus:
        lat = slo.latency.threshold_ms if slo and slo.latency else None
        slis, pnotes = load_prometheus(prometheus, latency_threshold_ms=lat)
        notes += pnotes
    elif sl:
        slis, snotes = read_slis(sl)
        notes += snotes
    return analyze(
        record,
        as_of=as_of,
        events=load_events(ev) if ev else None,
        slis=slis,
        slo=slo,
        results_dir=results_dir,
        evidence_lookback=evidence_lookback,
        evidence_findings=evidence_findings,
        window_totals=window_totals,
        notes=notes,
    )

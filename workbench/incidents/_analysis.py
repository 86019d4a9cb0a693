"""Incident record + events + SLIs + SLOs -> :class:`IncidentResult` (the postmortem numbers)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from workbench import io, render
from workbench.incidents import _slo
from workbench.incidents._evidence import pack_evidence
from workbench.incidents._record import (
    IncidentRecord,
    comment_cuts,
    load_events,
    read_slis,
    resolve_signal,
    todo_fields,
    validate_record,
)

DEFINITIONS = {
    "ttd": ("Time to detect", "started_at → detected_at: how long the impact went unnoticed"),
    "tta": (
        "Time to acknowledge",
        "detected_at → acknowledged_at: how long the page waited for a human",
    ),
    "ttm": ("Time to mitigate", "started_at → mitigated_at: how long users felt the impact"),
    "ttr": ("Time to resolve", "started_at → resolved_at: until the underlying cause was fixed"),
}
SPANS = {
    "ttd": ("started_at", "detected_at"),
    "tta": ("detected_at", "acknowledged_at"),
    "ttm": ("started_at", "mitigated_at"),
    "ttr": ("started_at", "resolved_at"),
}
WHEN = "%Y-%m-%d %H:%M UTC"
SECTIONS = (
    "summary",
    "impact",
    "root_causes",
    "trigger",
    "resolution",
    "detection",
    "action_items",
    "lessons_learned",
    "timeline",
)


def article(word: str) -> str:
    """'a' or 'an' before ``word`` (by its first letter; enough for our own labels)."""
    return "an" if word[:1].lower() in "aeiou" else "a"


def best_severity(alert: _slo.AlertFiring) -> str:
    name = alert.alert.split(":")[0].strip()
    return name if name in ("page", "ticket") else "alert"


def _number(key: str, value: Any) -> Any:
    """Money and counts as grouped digits (never ``2.12e+05``), ratios as they are."""
    if isinstance(value, float) and ("revenue" in key or abs(value) >= 1000):
        return f"{value:,.2f}" if "revenue" in key else f"{value:,.0f}"
    return value


def _when(t: datetime | None) -> str | None:
    return None if t is None else t.strftime(WHEN)


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
            "days_overdue": (as_of.date() - a.due).days if a.overdue(as_of) else 0,
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


@dataclass(frozen=True)
class IncidentResult:
    """The computed postmortem. ``to_dict()`` is the JSON form; sections render escaped HTML."""

    record: IncidentRecord
    as_of: datetime
    durations: dict[str, float | None]
    impact: dict[str, Any]
    budget: dict[str, Any]
    alerts: list[_slo.AlertFiring]
    timeline: pl.DataFrame  # timestamp, source, kind, message, origin
    rates: pl.DataFrame  # burn rates around the incident, per minute
    action_items: pl.DataFrame
    evidence_notes: list[str] = field(default_factory=list)
    slo: _slo.SLOSpec | None = None
    notes: list[str] = field(default_factory=list)  # input notes: resampling, cut values, TODOs

    # --- numbers -----------------------------------------------------------------------
    @property
    def metrics(self) -> dict[str, float | int | bool | None]:
        d, i, b = self.durations, self.impact, self.budget
        return {
            "ttd_minutes": d["ttd"],
            "tta_minutes": d["tta"],
            "ttm_minutes": d["ttm"],
            "ttr_minutes": d["ttr"],
            "failed_requests": i.get("failed_requests"),
            "minutes_out_of_slo": i.get("minutes_out_of_slo"),
            "error_budget_consumed_pct": b.get("availability", {}).get("consumed_by_incident_pct"),
            "error_budget_remaining_pct": b.get("availability", {}).get("remaining_pct"),
            "latency_budget_consumed_pct": b.get("latency", {}).get("consumed_by_incident_pct"),
            "latency_budget_remaining_pct": b.get("latency", {}).get("remaining_pct"),
            "open_action_items": int(
                (~self.action_items["status"].is_in(["done", "wontfix"])).sum()
            ),
            "overdue_action_items": int(self.action_items["overdue"].sum()),
            "burn_rate_alert_minutes_before_detection": self._best_lead(),
        }

    def _best_lead(self) -> float | None:
        leads = [-a.minutes_vs_detection for a in self.alerts if a.minutes_vs_detection is not None]
        return max(leads) if leads else None

    @property
    def status(self) -> str:
        m = self.metrics
        if (
            (m["error_budget_remaining_pct"] is not None and m["error_budget_remaining_pct"] < 0)
            or not self.record.closed
            and self.record.mitigated_at is None
        ):
            return "fail"
        unknown_budget = any(
            b.get("consumed_by_incident_pct") is None for b in self.budget.values()
        )
        if m["overdue_action_items"] or not self.record.closed or unknown_budget:
            return "warn"
        return "ok"

    @property
    def headline(self) -> str:
        r, m = self.record, self.metrics
        parts = [f"{r.id} ({r.severity}, {r.status})"]
        if m["failed_requests"] is not None:
            parts.append(f"{m['failed_requests']:,} failed requests")
        avail = self.budget.get("availability")
        if m["error_budget_consumed_pct"] is not None:
            parts.append(
                f"{m['error_budget_consumed_pct']:.0f}% of the "
                f"{self.slo.window_days if self.slo else ''}-day error budget"
            )
        elif avail is not None:
            parts.append(
                f"error budget unknown (the SLIs cover {avail['coverage']:.1%} of the "
                f"{self.slo.window_days if self.slo else ''}-day window)"
            )
        if m["ttd_minutes"] is not None:
            parts.append(f"detected after {m['ttd_minutes']:.0f} min")
        lead = m["burn_rate_alert_minutes_before_detection"]
        if lead is not None and lead > 0:
            best = max(
                (a for a in self.alerts if a.minutes_vs_detection is not None),
                key=lambda a: -a.minutes_vs_detection,
            )  # type: ignore[operator]
            parts.append(
                f"{article(best.sli)} {best.sli} burn-rate {best_severity(best)} "
                f"({best.burn_rate:g}x) would have fired {lead:.0f} min earlier"
            )
        if m["overdue_action_items"]:
            n = m["overdue_action_items"]
            parts.append(f"{n} action item{'s' if n != 1 else ''} overdue")
        return "; ".join(parts) + "."

    def to_dict(self) -> dict[str, Any]:
        r = self.record
        return {
            "incident": {
                "id": r.id,
                "title": r.title,
                "severity": r.severity,
                "status": r.status,
                "started_at": r.started_at,
                "detected_at": r.detected_at,
                "acknowledged_at": r.acknowledged_at,
                "mitigated_at": r.mitigated_at,
                "resolved_at": r.resolved_at,
                "kind": r.incident_kind,
                "affected_models": r.affected_models,
                "affected_services": r.affected_services,
                "categories": r.categories,
            },
            "as_of": self.as_of,
            "durations": [
                {"key": k, "name": DEFINITIONS[k][0], "definition": DEFINITIONS[k][1], "minutes": v}
                for k, v in self.durations.items()
            ],
            "impact": self.impact,
            "error_budget": self.budget,
            "alerts": [a.to_dict() for a in self.alerts],
            "timeline": self.timeline.to_dicts(),
            "action_items": self.action_items.to_dicts(),
            "evidence_notes": self.evidence_notes,
            "notes": self.notes,
            "slo": None
            if self.slo is None
            else {
                "source": self.slo.source,
                "service": self.slo.service,
                "window_days": self.slo.window_days,
                "alerts": [a.model_dump() for a in self.slo.alerts],
            },
            "metrics": self.metrics,
            "status": self.status,
            "headline": self.headline,
        }

    def results(self, portfolio: Any = None) -> dict[str, Any]:
        """The notebook's results JSON: ``notebook``, ``status``, ``headline``, flat ``metrics``."""
        d = self.to_dict()
        metrics = dict(d.pop("metrics"))
        status = d.pop("status")
        out = {
            "notebook": "incident_postmortem",
            "status": status,
            "headline": d.pop("headline"),
            "metrics": metrics,
            **d,
        }
        if portfolio is not None:
            metrics.update(portfolio.metrics)
            out["portfolio"] = portfolio.to_dict()
            if portfolio.metrics["portfolio_overdue_action_items"] and status == "ok":
                out["status"] = "warn"
        else:
            metrics["portfolio_incidents"] = 0
        return out

    # --- rendering ---------------------------------------------------------------------
    def duration_table(self) -> render.HTML:
        rows = [
            {
                "measure": f"{DEFINITIONS[k][0]} ({k.upper()})",
                "minutes": None if v is None else round(v, 1),
                "definition": DEFINITIONS[k][1],
            }
            for k, v in self.durations.items()
        ]
        return render.HTML(render.html_table(rows))

    def section(self, name: str) -> render.HTML:
        """One section of the SRE postmortem template as escaped HTML."""
        r = self.record
        e = render.escape
        if name == "summary":
            affected = ", ".join(r.affected_models + r.affected_services) or "(not recorded)"
            notes = "".join(f"<li>{e(n)}</li>" for n in self.notes)
            return render.HTML(
                f"<p><b>{e(r.id)}: {e(r.title)}</b> {render.badge('info', r.severity)} "
                f"{render.badge('ok' if r.closed else 'warn', r.status)}</p><p>{e(r.summary)}</p>"
                f"<p>Affected: {e(affected)}. Contributing categories: "
                f"{e(', '.join(r.categories))}.</p>"
                + (f'<ul class="wb-note">{notes}</ul>' if notes else "")
                + self.duration_table().markup
            )
        if name == "impact":
            rows = [
                {"measure": k.replace("_", " "), "value": _number(k, v)}
                for k, v in self.impact.items()
                if not isinstance(v, dict | list)
            ]
            brows = []
            for sli, b in self.budget.items():
                brows.append(
                    {
                        "SLO": sli,
                        "objective": b["objective"],
                        "window": b["window"],
                        "SLIs cover": f"{b['coverage']:.1%}",
                        "basis": b["basis"],
                        "budget": b["budget"],
                        "spent by incident": b["consumed_by_incident"],
                        "consumed by incident %": b["consumed_by_incident_pct"],
                        "spent in window": b["spent_in_window"],
                        "remaining %": b["remaining_pct"],
                    }
                )
            return render.HTML(
                f"<p>{e(r.impact.description)}</p>"
                + render.html_table(rows)
                + "<h4>Error budget</h4>"
                + render.html_table(brows)
            )
        if name == "root_causes":
            items = "".join(f"<li>{e(c)}</li>" for c in r.root_causes)
            factors = [
                {"category": f.category, "contributing factor": f.description}
                for f in r.contributing_factors
            ]
            return render.HTML(f"<ol>{items}</ol>" + render.html_table(factors))
        if name == "trigger":
            return render.HTML(f"<p>{e(r.trigger)}</p>")
        if name == "resolution":
            return render.HTML(f"<p>{e(r.resolution or '(not recorded)')}</p>")
        if name == "detection":
            alert = f" Alert: <code>{e(r.detection.alert)}</code>." if r.detection.alert else ""
            rows = [
                {
                    "alert": a.alert,
                    "SLI": a.sli,
                    "outcome": {"fires": "fires", "never": "never fires"}.get(
                        a.outcome, f"unknown for {a.unknown_minutes} min (window not covered)"
                    ),
                    "would first fire at": _when(a.first_fired_at),
                    "vs detection (min)": a.minutes_vs_detection,
                    "minutes firing": a.firing_minutes,
                }
                for a in self.alerts
            ]
            return render.HTML(
                f"<p>Detected by {e(r.detection.method)} at {e(r.detected_at.isoformat())}: "
                f"{e(r.detection.description.rstrip('.'))}.{alert}</p>"
                f"<p>{e(self.alerts_text())} Each is evaluated over the recorded SLIs every "
                "minute; shown is its first firing between the start and the resolution of the "
                "incident (negative: before detection).</p>" + render.html_table(rows)
            )
        if name == "action_items":
            return render.HTML(
                render.html_table(
                    self.action_items,
                    columns=[
                        "id",
                        "priority",
                        "kind",
                        "description",
                        "owner",
                        "due",
                        "status",
                        "overdue",
                        "days_overdue",
                    ],
                    caption=f"Overdue as of {self.as_of.date().isoformat()}",
                )
            )
        if name == "lessons_learned":
            ll = r.lessons_learned
            parts = []
            for title, items in (
                ("What went well", ll.went_well),
                ("What went wrong", ll.went_wrong),
                ("Where we got lucky", ll.got_lucky),
            ):
                lis = "".join(f"<li>{e(x)}</li>" for x in items) or "<li>(none recorded)</li>"
                parts.append(f"<h4>{e(title)}</h4><ul>{lis}</ul>")
            return render.HTML("".join(parts))
        if name == "timeline":
            notes = "".join(f"<li>{e(n)}</li>" for n in self.evidence_notes)
            return render.HTML(
                render.html_table(
                    self.timeline.with_columns(pl.col("timestamp").dt.strftime(WHEN)), max_rows=200
                )
                + (f'<ul class="wb-note">{notes}</ul>' if notes else "")
            )
        raise ValueError(f"section: expected one of {', '.join(SECTIONS)}, got {name!r}")

    def alerts_text(self) -> str:
        """The burn-rate alerts in words, as the SLO file defines them."""
        if self.slo is None:
            return "No SLO file: no burn-rate alerts to evaluate."
        origin = {
            "openslo": "the OpenSLO file's alert conditions",
            "sloth": f"Sloth's multiwindow alerts for a {self.slo.window_days}-day period",
            "workbench": "the SLO file's multiwindow alerts",
        }.get(self.slo.source, "the SLO file's alerts")
        parts = []
        for a in self.slo.alerts:
            w = f"{a.long_window} and {a.short_window}" if a.short_window else a.long_window
            held = f", held for {a.alert_after}" if a.alert_after else ""
            parts.append(f"{a.severity} at {a.burn_rate:g}x over {w}{held}")
        return f"Burn-rate alerts from {origin}: {'; '.join(parts)}."

    def intro(self, name: str) -> str:
        """The text introducing a section, worded for the incident's kind (ML model or service)."""
        ml = self.record.incident_kind == "ml"
        if name == "postmortem":
            return (
                "The postmortem of one incident in the structure of the Google SRE postmortem "
                "template, assembled from the incident record, its event log, the SLIs and the "
                "SLOs"
                + (", plus the drift and contract findings of this review pack" if ml else "")
                + ". Times to detect and resolve, the error budget burned and when a burn-rate "
                "alert would have fired are computed, not typed in."
            )
        if name == "impact":
            return (
                "Failed requests and minutes out of SLO from the start to the mitigation, and how "
                "much of the SLO window's error budget the incident burned (stated only when the "
                "SLIs cover the window)."
            )
        if name == "detection":
            return "How the incident was detected, and when burn-rate alerts would have fired. " + (
                self.alerts_text()
            )
        if name == "timeline":
            return "Milestones from the record and the event log" + (
                ", and the drift onsets and contract failures this pack found near the incident."
                if ml
                else "."
            )
        if name == "portfolio":
            return (
                "The incident records given: time to detect and resolve by month, counts by "
                "category and severity, and action items overdue as of the date above."
            )
        raise ValueError(f"intro: unknown section {name!r}")

    def _repr_html_(self) -> str:
        return (
            render.callout(self.headline.split(";")[0], self.headline, self.status).markup
            + self.duration_table().markup
            + self.section("impact").markup
        )

    def timeline_chart(self) -> Any:
        from workbench.incidents._charts import timeline_chart

        return timeline_chart(self)

    def burn_rate_chart(self, sli: str = "availability") -> Any:
        """Burn rate per alert window for ``availability`` or ``latency``."""
        from workbench.incidents._charts import burn_rate_chart

        return burn_rate_chart(self, "latency" if sli == "latency" else "avail")


def analyze(
    record: IncidentRecord,
    *,
    as_of: datetime,
    events: pl.DataFrame | None = None,
    slis: pl.DataFrame | None = None,
    slo: _slo.SLOSpec | None = None,
    results_dir: str | os.PathLike[str] | None = None,
    evidence_lookback: timedelta = timedelta(days=3),
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
    lo = start - evidence_lookback
    if events is not None:
        for ev in events.filter(
            (pl.col("timestamp") >= lo) & (pl.col("timestamp") <= end)
        ).to_dicts():
            rows.append({**ev, "origin": "event log"})
    found, found_notes = pack_evidence(results_dir, start, end, evidence_lookback)
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
    schema = {
        "timestamp": pl.Datetime("us", "UTC"),
        "source": pl.String,
        "kind": pl.String,
        "message": pl.String,
        "origin": pl.String,
    }
    timeline = pl.DataFrame(rows, schema=schema).sort("timestamp", maintain_order=True)
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
    known = allowed is not None
    return {
        "objective": objective,
        "window": window,
        "coverage": coverage,
        "basis": basis,
        "budget": allowed,
        "unit": unit,
        "consumed_by_incident": spent_inc,
        "consumed_by_incident_pct": _slo.budget_pct(spent_inc, allowed) if known else None,
        "spent_in_window": spent_all,
        "remaining_pct": (
            None
            if not known or spent_all is None or allowed <= 0  # type: ignore[operator]
            else 100.0 - _slo.budget_pct(spent_all, allowed)  # type: ignore[operator,arg-type]
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
    window_end = frame["timestamp"].max() + _slo.MINUTE
    window_start = window_end - timedelta(days=slo.window_days)
    window = frame.filter(pl.col("timestamp") >= window_start)
    inc = frame.filter((pl.col("timestamp") >= start) & (pl.col("timestamp") < end))
    inc_in_window = inc.filter(pl.col("timestamp") >= window_start)
    impact: dict[str, Any] = {
        "requests_during_incident": int(inc["requests"].sum()),
        "failed_requests": int(inc["errors"].sum()),
        "error_ratio_during_incident": (
            float(inc["errors"].sum() / inc["requests"].sum()) if inc["requests"].sum() else None
        ),
        "minutes_out_of_slo": int(inc["out_of_slo"].sum()),
    }
    mode = _slo.latency_mode(frame, slo)
    if mode == "minutes":
        impact["minutes_over_latency_threshold"] = int(inc["lat_bad"].sum())
    elif mode == "requests":
        impact["slow_requests"] = int(inc["lat_bad"].sum())
    coverage = _coverage(frame["timestamp"].min(), window_start, window_end)
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
    window_totals: dict[str, float] | None = None,
    slo_period_days: int | None = None,
) -> IncidentResult:
    """Read a record and its signals (paths default to the record's ``signals``) and analyze.

    SLIs come from a per-minute table (``slis_path``) or from Prometheus ``query_range`` JSON
    (``prometheus``: kind -> files, see :mod:`workbench.incidents._prometheus`), not both.
    """
    from workbench.errors import input_error
    from workbench.incidents._prometheus import load_prometheus

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
    slo = _slo.load_slos(so, period_days=slo_period_days) if so else None
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
        window_totals=window_totals,
        notes=notes,
    )

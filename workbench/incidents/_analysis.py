"""Incident record + events + SLIs + SLOs -> :class:`IncidentResult` (the postmortem numbers)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from workbench import render
from workbench.incidents import _slo
from workbench.incidents._evidence import pack_evidence
from workbench.incidents._record import (
    IncidentRecord,
    load_events,
    load_record,
    load_slis,
    resolve_signal,
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
        if m["overdue_action_items"] or not self.record.closed:
            return "warn"
        return "ok"

    @property
    def headline(self) -> str:
        r, m = self.record, self.metrics
        parts = [f"{r.id} ({r.severity}, {r.status})"]
        if m["failed_requests"] is not None:
            parts.append(f"{m['failed_requests']:,} failed requests")
        if m["error_budget_consumed_pct"] is not None:
            parts.append(
                f"{m['error_budget_consumed_pct']:.0f}% of the "
                f"{self.slo.window_days if self.slo else ''}-day error budget"
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
                f"a {best.sli} burn-rate page ({best.burn_rate:g}x) would have "
                f"fired {lead:.0f} min earlier"
            )
        if m["overdue_action_items"]:
            parts.append(f"{m['overdue_action_items']} action item(s) overdue")
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
            affected = ", ".join(r.affected_models + r.affected_services)
            return render.HTML(
                f"<p><b>{e(r.id)}: {e(r.title)}</b> {render.badge('info', r.severity)} "
                f"{render.badge('ok' if r.closed else 'warn', r.status)}</p><p>{e(r.summary)}</p>"
                f"<p>Affected: {e(affected)}. Contributing categories: "
                f"{e(', '.join(r.categories))}.</p>" + self.duration_table().markup
            )
        if name == "impact":
            rows = [
                {"measure": k.replace("_", " "), "value": v}
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
                    "would first fire at": _when(a.first_fired_at),
                    "vs detection (min)": a.minutes_vs_detection,
                    "minutes firing": a.firing_minutes,
                }
                for a in self.alerts
            ]
            return render.HTML(
                f"<p>Detected by {e(r.detection.method)} at {e(r.detected_at.isoformat())}: "
                f"{e(r.detection.description)}.{alert}</p>"
                "<p>Multiwindow burn-rate alerts (SRE workbook) over the recorded SLIs, first "
                "firing between the start and the resolution of the incident "
                "(negative: before detection):</p>" + render.html_table(rows)
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
) -> IncidentResult:
    """The postmortem from typed inputs; ``as_of`` decides which action items are overdue."""
    start = record.started_at
    end = record.resolved_at or record.mitigated_at or as_of
    impact: dict[str, Any] = {}
    budget: dict[str, Any] = {}
    alerts: list[_slo.AlertFiring] = []
    rates = pl.DataFrame()
    if slis is not None and slo is not None and slis.height:
        impact, budget = _impact_and_budget(slis, slo, start, end)
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
    found, notes = pack_evidence(results_dir, start, end, evidence_lookback)
    rows += [{**ev, "origin": "pack evidence"} for ev in found]
    if events is not None:
        outside = events.height - sum(1 for r in rows if r["origin"] == "event log")
        if outside:
            notes = [
                *notes,
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
        evidence_notes=notes,
        slo=slo,
    )


def _impact_and_budget(
    slis: pl.DataFrame, slo: _slo.SLOSpec, start: datetime, end: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    frame = _slo.with_bad_minutes(slis, slo)
    window_end = frame["timestamp"].max() + _slo.MINUTE
    window_start = window_end - timedelta(days=slo.window_days)
    window = frame.filter(pl.col("timestamp") >= window_start)
    inc = frame.filter((pl.col("timestamp") >= start) & (pl.col("timestamp") < end))
    inc_in_window = inc.filter(pl.col("timestamp") >= window_start)
    impact = {
        "requests_during_incident": int(inc["requests"].sum()),
        "failed_requests": int(inc["errors"].sum()),
        "error_ratio_during_incident": (
            float(inc["errors"].sum() / inc["requests"].sum()) if inc["requests"].sum() else None
        ),
        "minutes_out_of_slo": int(inc["out_of_slo"].sum()),
    }
    if "lat_bad" in frame.columns:
        impact["minutes_over_latency_threshold"] = int(inc["lat_bad"].sum())
    wtext = f"{slo.window_days} days to {window_end.isoformat()}"
    coverage = window.height / (slo.window_days * 1440)
    target = slo.availability.target
    allowed = _slo.error_budget(float(window["requests"].sum()), target)
    spent_inc, spent_all = int(inc_in_window["errors"].sum()), int(window["errors"].sum())
    budget: dict[str, Any] = {
        "availability": {
            "objective": f"{target * 100:g}% of requests succeed",
            "window": wtext,
            "coverage": coverage,
            "budget": allowed,
            "unit": "requests",
            "consumed_by_incident": spent_inc,
            "consumed_by_incident_pct": _slo.budget_pct(spent_inc, allowed),
            "spent_in_window": spent_all,
            "remaining_pct": None if allowed <= 0 else 100.0 - _slo.budget_pct(spent_all, allowed),
        }
    }
    if slo.latency is not None and "lat_bad" in frame.columns:
        lat = slo.latency
        allowed_min = _slo.error_budget(float(window.height), lat.target)
        bad_inc, bad_all = int(inc_in_window["lat_bad"].sum()), int(window["lat_bad"].sum())
        budget["latency"] = {
            "objective": f"{lat.percentile} ≤ {lat.threshold_ms:g} ms "
            f"in {lat.target * 100:g}% of minutes",
            "window": wtext,
            "coverage": coverage,
            "budget": allowed_min,
            "unit": "minutes",
            "consumed_by_incident": bad_inc,
            "consumed_by_incident_pct": _slo.budget_pct(bad_inc, allowed_min),
            "spent_in_window": bad_all,
            "remaining_pct": None
            if allowed_min <= 0
            else 100.0 - _slo.budget_pct(bad_all, allowed_min),
        }
    return impact, budget


def load(
    record_path: str | os.PathLike[str],
    *,
    as_of: datetime,
    events_path: str | os.PathLike[str] | None = None,
    slis_path: str | os.PathLike[str] | None = None,
    slos_path: str | os.PathLike[str] | None = None,
    results_dir: str | os.PathLike[str] | None = None,
    evidence_lookback: timedelta = timedelta(days=3),
) -> IncidentResult:
    """Read a record and its signals (paths default to the record's ``signals``) and analyze."""
    record = load_record(record_path)
    ev = resolve_signal(record_path, record, "events", events_path)
    sl = resolve_signal(record_path, record, "slis", slis_path)
    so = resolve_signal(record_path, record, "slos", slos_path)
    return analyze(
        record,
        as_of=as_of,
        events=load_events(ev) if ev else None,
        slis=load_slis(sl) if sl else None,
        slo=_slo.load_slos(so) if so else None,
        results_dir=results_dir,
        evidence_lookback=evidence_lookback,
    )

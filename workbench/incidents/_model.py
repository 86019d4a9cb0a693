"""The data of a postmortem: :class:`IncidentResult` (one incident: its numbers, JSON form and
findings) and :class:`PortfolioResult` (many incidents). Their HTML and charts are drawn by
:mod:`workbench.incidents._render`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from workbench import render
from workbench.findings import Findings
from workbench.incidents import _render
from workbench.incidents._record import DEFINITIONS, IncidentRecord
from workbench.incidents._slo import AlertFiring, SLOSpec

NOTEBOOK = "incident_postmortem"
# the findings vocabulary's word for "all clear" (the result says "ok")
FINDINGS_STATUS = {"ok": "pass"}
@dataclass(frozen=True)
class IncidentResult:
    """The computed postmortem. ``to_dict()`` is the JSON form; sections render escaped HTML."""

    record: IncidentRecord
    as_of: datetime
    durations: dict[str, float | None]
    impact: dict[str, Any]
    budget: dict[str, Any]
    alerts: list[AlertFiring]
    timeline: pl.DataFrame  # timestamp, source, kind, message, origin
    rates: pl.DataFrame  # burn rates around the incident, per minute
    action_items: pl.DataFrame
    evidence_notes: list[str] = field(default_factory=list)
    slo: SLOSpec | None = None
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
                key=lambda a: -(a.minutes_vs_detection or 0),
            )
            parts.append(
                f"{_render.article(best.sli)} {best.sli} burn-rate {_render.best_severity(best)} "
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

    def frame(self) -> pl.DataFrame:
        """The timeline: milestones, logged events and pack evidence, by time."""
        return self.timeline

    def findings(self, name: str | None = None, *, portfolio: PortfolioResult | None = None,
                 **context: Any) -> Findings:
        """The findings written under ``name`` (default ``incident_postmortem``): ``to_dict()``
        with flat metrics; with a ``portfolio``, its metrics and tables too (and overdue action
        items across the portfolio turn an all-clear into a warning)."""
        details = self.to_dict()
        metrics = dict(details.pop("metrics"))
        status = details.pop("status")
        headline = details.pop("headline")
        if portfolio is not None:
            metrics.update(portfolio.metrics)
            details["portfolio"] = portfolio.to_dict()
            if portfolio.metrics["portfolio_overdue_action_items"] and status == "ok":
                status = "warn"
        else:
            metrics["portfolio_incidents"] = 0
        return Findings(name or NOTEBOOK, FINDINGS_STATUS.get(status, status), headline, metrics,
                        details, notebook=NOTEBOOK)

    # --- rendering (workbench.incidents._render) ---------------------------------------
    def duration_table(self) -> render.HTML:
        return _render.duration_table(self)

    def section(self, name: str) -> render.HTML:
        """One section of the SRE postmortem template as escaped HTML."""
        return _render.section(self, name)

    def alerts_text(self) -> str:
        """The burn-rate alerts in words, as the SLO file defines them."""
        return _render.alerts_text(self)

    def intro(self, name: str) -> str:
        """The text introducing a section, worded for the incident's kind (ML model or service)."""
        return _render.intro(self, name)

    def _repr_html_(self) -> str:
        return _render.result_html(self)

    def timeline_chart(self) -> Any:
        return _render.timeline_chart(self)

    def burn_rate_chart(self, sli: str = "availability") -> Any:
        """Burn rate per alert window for ``availability`` or ``latency``."""
        return _render.burn_rate_chart(self, "latency" if sli == "latency" else "avail")


@dataclass(frozen=True)
class PortfolioResult:
    as_of: datetime
    incidents: pl.DataFrame  # one row per incident
    by_month: pl.DataFrame  # month, incidents, median/mean TTD and TTR
    by_category: pl.DataFrame  # category, incidents (an incident counts once per category)
    by_severity: pl.DataFrame
    overdue: pl.DataFrame  # overdue action items, most overdue first

    @property
    def metrics(self) -> dict[str, Any]:
        return {
            "portfolio_incidents": self.incidents.height,
            "portfolio_overdue_action_items": self.overdue.height,
            "portfolio_median_ttd_minutes": self.incidents["ttd_minutes"].median(),
            "portfolio_median_ttr_minutes": self.incidents["ttr_minutes"].median(),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of,
            "incidents": self.incidents.to_dicts(),
            "by_month": self.by_month.to_dicts(),
            "by_category": self.by_category.to_dicts(),
            "by_severity": self.by_severity.to_dicts(),
            "overdue_action_items": self.overdue.to_dicts(),
            "metrics": self.metrics,
        }

    def frame(self) -> pl.DataFrame:
        """One row per incident."""
        return self.incidents

    def _repr_html_(self) -> str:
        return _render.portfolio_html(self)

    def chart(self) -> Any:
        return _render.portfolio_chart(self)

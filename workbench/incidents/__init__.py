"""Incident postmortems: record + events + SLIs + SLOs -> timeline, impact, error-budget burn.

Entry points::

    from workbench import incidents
    result = incidents.load("data/sample/incidents/INC-2026-1019.yaml", as_of=..., results_dir=".")
    result.section("summary"); result.timeline_chart(); result.burn_rate_chart()
    folio = incidents.portfolio("data/sample/incidents", as_of=...)

Inputs: the record YAML (validated by :func:`validate_record`, every problem by field path,
e.g. ``action_items[2].due``), an event log (CSV/JSONL: timestamp, source, kind, message),
per-minute SLIs (timestamp, requests, errors, and ``latency_good``/``latency_total`` or
``latency_pNN_ms``) or Prometheus ``query_range`` JSON (:mod:`._prometheus`), and SLOs in
workbench's YAML, OpenSLO v1 or Sloth (:mod:`._openslo`). PagerDuty and Opsgenie exports become
a record skeleton and event log with :func:`write_import` (:mod:`._import`).
Arithmetic and its conventions: :mod:`workbench.incidents._slo`.

Results JSON metrics (flat, ``incident_postmortem.results.json``):

``ttd_minutes`` started→detected, ``tta_minutes`` detected→acknowledged, ``ttm_minutes``
started→mitigated, ``ttr_minutes`` started→resolved (None when not recorded);
``failed_requests`` errors in the impact window [started, mitigated) (to resolution or
``as_of`` when not mitigated); ``minutes_out_of_slo`` minutes in that span whose error ratio
exceeded 1 - target or whose latency SLI was out of its objective;
``error_budget_consumed_pct`` incident errors / availability budget of the SLO window
(window = the ``window_days`` ending with the last SLI minute), None (unknown) unless the
SLIs span the window or its totals are given; ``error_budget_remaining_pct`` 100 - all errors
in the window / budget (negative: SLO missed); ``latency_budget_consumed_pct``,
``latency_budget_remaining_pct`` the same for slow requests (or bad minutes);
``open_action_items``, ``overdue_action_items`` (not done/wontfix and due before ``as_of``);
``burn_rate_alert_minutes_before_detection`` the largest lead of a burn-rate alert over the
actual detection (negative: it would have fired later); ``portfolio_incidents``,
``portfolio_overdue_action_items``, ``portfolio_median_ttd_minutes``,
``portfolio_median_ttr_minutes``.
"""

from workbench.errors import RecordError
from workbench.incidents._compute import analyze, durations, load
from workbench.incidents._evidence import pack_evidence
from workbench.incidents._import import jira_action_items, write_import
from workbench.incidents._model import IncidentResult, PortfolioResult
from workbench.incidents._openslo import load_slos
from workbench.incidents._portfolio import load_records, portfolio
from workbench.incidents._prometheus import load_prometheus
from workbench.incidents._record import (
    CATEGORIES,
    DEFINITIONS,
    IncidentRecord,
    load_events,
    load_record,
    load_slis,
    read_slis,
    validate_record,
)
from workbench.incidents._render import SECTIONS
from workbench.incidents._slo import (
    DEFAULT_ALERTS,
    SLOSpec,
    alert_firings,
    budget_pct,
    burn_factor,
    burn_rate,
    burn_rates,
    error_budget,
)

__all__ = [
    "CATEGORIES",
    "DEFAULT_ALERTS",
    "DEFINITIONS",
    "SECTIONS",
    "IncidentRecord",
    "IncidentResult",
    "PortfolioResult",
    "RecordError",
    "SLOSpec",
    "alert_firings",
    "analyze",
    "budget_pct",
    "burn_factor",
    "burn_rate",
    "burn_rates",
    "durations",
    "error_budget",
    "load",
    "load_events",
    "load_record",
    "load_records",
    "load_prometheus",
    "load_slis",
    "jira_action_items",
    "read_slis",
    "write_import",
    "load_slos",
    "pack_evidence",
    "portfolio",
    "validate_record",
]

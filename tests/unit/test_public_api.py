"""The public API of ``workbench`` and of each area package, pinned.

A name added to or removed from an ``__all__`` fails here until the recorded set below is
updated in the same change, so the surface a notebook or another tool relies on never
moves by accident. Every area of the registry (``workbench.areas.AREAS``) must be pinned.
"""

from __future__ import annotations

import importlib

import pytest

from workbench.areas import AREAS

PUBLIC_API: dict[str, set[str]] = {
    "workbench": {
        "CheckFailed", "ContractError", "EnvironmentFailure", "Findings", "InputError",
        "NotebookFailed", "RecordError", "SpecError", "WorkbenchError", "__version__",
        "read_findings",
    },
    "workbench.packs": {
        "BuildResult", "PackSpec", "ReviewSummary", "build", "evaluate_gates", "list_packs",
        "load_spec", "prune", "summarize", "verify",
    },
    "workbench.contracts": {
        "DEFAULT_SENSITIVE", "CheckResult", "ColumnSpec", "Contract", "ContractResult",
        "changes", "dimension_chart", "failures_chart", "previous_checks", "timeline_chart",
        "check", "load_contract", "sensitive_columns",
    },
    "workbench.drift": {
        "METHODS", "MODES", "THRESHOLDS", "ColumnDrift", "DriftResult", "WindowDrift",
        "compute", "evidently_report",
    },
    "workbench.costs": {
        "FOCUS_COLUMNS", "STAGES", "AllocationRules", "CostResult", "Methods",
        "anomaly_scores", "anomaly_timeline", "budget_burndown", "compute", "cost_by_stage",
        "cost_vs_value", "unit_economics_by_week",
    },
    "workbench.incidents": {
        "CATEGORIES", "DEFAULT_ALERTS", "DEFINITIONS", "SECTIONS", "IncidentRecord",
        "IncidentResult", "PortfolioResult", "RecordError", "SLOSpec", "alert_firings",
        "analyze", "budget_pct", "burn_factor", "burn_rate", "burn_rates", "durations",
        "error_budget", "load", "load_events", "load_record", "load_records",
        "load_prometheus", "load_slis", "jira_action_items", "read_slis", "write_import",
        "load_slos", "pack_evidence", "portfolio", "validate_record",
    },
    "workbench.sample": {"generate", "scenario"},
}


@pytest.mark.parametrize("module", sorted(PUBLIC_API))
def test_all_is_the_recorded_api(module):
    mod = importlib.import_module(module)
    exported = getattr(mod, "__all__", None)
    assert exported is not None, f"{module} has no __all__"
    assert len(exported) == len(set(exported)), f"{module}.__all__ repeats a name"
    added, removed = set(exported) - PUBLIC_API[module], PUBLIC_API[module] - set(exported)
    assert not added and not removed, (
        f"{module}: added {sorted(added)}, removed {sorted(removed)}; update PUBLIC_API if "
        "the change to the public API is meant")


@pytest.mark.parametrize("module", sorted(PUBLIC_API))
def test_every_exported_name_exists(module):
    mod = importlib.import_module(module)
    missing = [n for n in mod.__all__ if not hasattr(mod, n)]
    assert not missing, f"{module}.__all__ names what it does not define: {missing}"


def test_every_area_of_the_registry_is_pinned_with_its_entry_verb():
    for area in AREAS.values():
        module = f"workbench.{area.name}"
        assert module in PUBLIC_API, f"{module} is an area without a recorded public API"
        assert area.verb in PUBLIC_API[module], f"{module}: entry verb {area.verb} not public"

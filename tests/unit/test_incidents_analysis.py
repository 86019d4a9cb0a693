"""Postmortem analysis, pack evidence, portfolio, CLI and the demo incident data."""

import json
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from click.testing import CliRunner
from test_incidents_record import VALID

from workbench import incidents
from workbench.cli import cli
from workbench.sample import incidents as sample_incidents
from workbench.sample import scenario

T0 = datetime(2026, 1, 1, tzinfo=UTC)
AS_OF = datetime(2026, 1, 15, tzinfo=UTC)


def _slis() -> pl.DataFrame:
    # 120 minutes x 100 requests. Rows 60..89 (01:00-01:29) fail 2 of 100; p95 is 900 ms in
    # rows 70..79, 100 ms elsewhere.
    n = 120
    return pl.DataFrame({
        "timestamp": [T0 + timedelta(minutes=i) for i in range(n)],
        "requests": [100] * n,
        "errors": [2 if 60 <= i < 90 else 0 for i in range(n)],
        "latency_p95_ms": [900 if 70 <= i < 80 else 100 for i in range(n)],
    }).with_columns(pl.col("timestamp").dt.cast_time_unit("us"))


SLO = incidents.SLOSpec.model_validate({
    "window_days": 1, "availability": {"target": 0.99},
    "latency": {"percentile": "p95", "threshold_ms": 500, "target": 0.9}})


# The 120 SLI minutes cover 1/12 of the 1-day SLO window: the window's totals are given (all
# traffic of the day was in those two hours), else the budget is unknown.
TOTALS = {"requests": 12_000, "errors": 60}


def _result(**kw) -> incidents.IncidentResult:
    rec = incidents.validate_record(VALID)
    kw.setdefault("window_totals", TOTALS)
    return incidents.analyze(rec, as_of=AS_OF, slis=_slis(), slo=SLO, **kw)


def test_budget_unknown_when_the_slis_do_not_cover_the_window():
    res = _result(window_totals=None)
    for sli in ("availability", "latency"):
        b = res.budget[sli]
        assert b["consumed_by_incident_pct"] is None and b["remaining_pct"] is None
        assert b["coverage"] == pytest.approx(120 / 1440)
    assert "unknown" in res.headline and res.status == "warn"


def test_durations_impact_and_budget_hand_computed():
    m = _result().metrics
    # started 01:00, detected 01:20, acknowledged 01:25, mitigated 01:30, resolved 01:45.
    durations = (m["ttd_minutes"], m["tta_minutes"], m["ttm_minutes"], m["ttr_minutes"])
    assert durations == (20, 5, 30, 45)
    # Failures in [01:00, 01:45): rows 60..89 x 2 = 60.
    assert m["failed_requests"] == 60
    # Out of SLO: error ratio 2 % > 1 % in rows 60..89 (latency-bad rows 70..79 inside them).
    assert m["minutes_out_of_slo"] == 30
    # Availability budget of the window (all 120 minutes): 1 % x 12,000 = 120 failures.
    assert m["error_budget_consumed_pct"] == pytest.approx(50.0)
    assert m["error_budget_remaining_pct"] == pytest.approx(50.0)
    # Latency: window totals cover availability only; the latency budget stays unknown.
    assert m["latency_budget_consumed_pct"] is None
    assert _result(window_totals=None).metrics["latency_budget_consumed_pct"] is None
    # A1 (due 2026-01-10, open) is overdue on 2026-01-15; A2 is done.
    assert (m["open_action_items"], m["overdue_action_items"]) == (1, 1)


def test_burn_rate_alerts_compared_with_detection():
    res = _result()
    by_name = {(a.sli, a.burn_rate): a for a in res.alerts}
    # A 2x burn never reaches 14.4x or 6x on availability.
    assert by_name[("availability", 14.4)].first_fired_at is None
    # Latency (budget 10 % of minutes): the 5m window is at most 5 of 5 bad = 10x < 14.4, so
    # the fast page never fires; the 30m window is at most 10 of 30 bad = 3.3x < 6: no slow page.
    assert by_name[("latency", 14.4)].first_fired_at is None
    assert by_name[("latency", 6.0)].first_fired_at is None
    assert res.metrics["burn_rate_alert_minutes_before_detection"] is None


def test_results_json_is_flat_and_deterministic():
    res = _result()
    out = res.findings().to_dict()
    assert out["notebook"] == "incident_postmortem" and out["status"] == "warn"  # one overdue
    assert all(isinstance(v, int | float | bool) or v is None for v in out["metrics"].values())
    assert out["metrics"]["portfolio_incidents"] == 0
    from workbench.io import dumps_json

    assert dumps_json(out) == dumps_json(_result().findings().to_dict())


def test_html_escapes_record_text():
    data = {**VALID, "title": "<script>alert(1)</script>", "summary": "a & b <b>"}
    rec = incidents.validate_record(data)
    res = incidents.analyze(rec, as_of=AS_OF, slis=_slis(), slo=SLO)
    html = "".join(res.section(s).markup for s in incidents.SECTIONS) + res._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html and "a &amp; b &lt;b&gt;" in html


def _findings(path, notebook: str, **details) -> None:
    """Findings as the drift and contract notebooks write them (only the fields read here)."""
    path.write_text(json.dumps({"notebook": notebook, "status": "fail", "headline": "h",
                                "metrics": {}, **details}))


def test_pack_evidence_on_timeline(tmp_path):
    _findings(tmp_path / "drift.results.json", "drift", windows=[
        {"start": "2025-12-31T00:00:00+00:00", "end": "2026-01-01T00:00:00+00:00",
         "column": "debt_to_income", "statistic": 0.4, "drifted": True},
        {"start": "2026-01-01T00:00:00+00:00", "end": "2026-01-02T00:00:00+00:00",
         "column": "debt_to_income", "statistic": 0.5, "drifted": True},
        {"start": "2025-11-01T00:00:00+00:00", "end": "2025-11-02T00:00:00+00:00",
         "column": "score", "statistic": 0.3, "drifted": True},     # onset far before: left out
        {"start": "2026-01-01T00:00:00+00:00", "end": "2026-01-02T00:00:00+00:00",
         "column": "region", "statistic": 0.01, "drifted": False},
    ])
    _findings(tmp_path / "contract_checks.results.json", "contract_checks", checks=[
        {"id": "debt_to_income_maximum", "rule": "maximum", "column": "debt_to_income",
         "passed": False, "failed_rows": 1234, "first_failed_at": "2025-12-31T08:00:00Z",
         "last_failed_at": "2026-01-01T02:00:00Z"},
        {"id": "credit_score_required", "passed": False, "first_failed_at": None},
        {"id": "chronic_duplicates", "passed": False, "first_failed_at": "2025-10-01T00:00:00Z",
         "last_failed_at": "2026-01-01T03:00:00Z"},
        {"id": "ok", "passed": True, "first_failed_at": "2025-12-31T08:00:00Z"},
    ])
    res = _result(results_dir=tmp_path)
    ev = res.timeline.filter(pl.col("origin") == "pack evidence")
    assert ev["kind"].to_list() == ["drift", "contract"]
    assert ev["timestamp"][0] == datetime(2025, 12, 31, tzinfo=UTC)
    assert "debt_to_income" in ev["message"][0]
    assert "debt_to_income_maximum" in ev["message"][1] and "1,234 rows" in ev["message"][1]
    note = next(n for n in res.evidence_notes if n.startswith("contract_checks"))
    assert "1 failing since before it" in note and "1 without failure times" in note


def test_pack_evidence_is_found_by_the_notebook_that_wrote_it(tmp_path):
    window = {"start": "2025-12-31T00:00:00+00:00", "end": "2026-01-01T00:00:00+00:00",
              "statistic": 0.4, "drifted": True}
    # drift run for two models under the names a pack spec gave them; no drift.results.json
    _findings(tmp_path / "drift_fraud.results.json", "drift",
              windows=[{**window, "column": "amount"}])
    _findings(tmp_path / "drift_credit.results.json", "drift",
              windows=[{**window, "column": "debt_to_income"}])
    # a file named like drift's findings but written by another notebook is not drift evidence
    _findings(tmp_path / "drift.results.json", "other", windows=[{**window, "column": "x"}])
    res = _result(results_dir=tmp_path,
                  evidence_findings=["drift_fraud", "drift_credit", "drift", "contract_checks"])
    ev = res.timeline.filter(pl.col("origin") == "pack evidence")
    assert sorted(ev["message"].to_list()) == ["drift onset in amount, statistic 0.4",
                                               "drift onset in debt_to_income, statistic 0.4"]
    assert [n.split(":")[0] for n in res.evidence_notes if "drifted" in n] == [
        "drift_credit.results.json", "drift_fraud.results.json"]


def test_pack_evidence_reads_only_the_named_findings(tmp_path):
    """Findings present but not named are never read: in a pack they may or may not exist yet
    when the postmortem runs (they are not among its needs)."""
    window = {"start": "2025-12-31T00:00:00+00:00", "end": "2026-01-01T00:00:00+00:00",
              "statistic": 0.4, "drifted": True}
    _findings(tmp_path / "drift.results.json", "drift",
              windows=[{**window, "column": "debt_to_income"}])
    _findings(tmp_path / "drift_fraud.results.json", "drift",
              windows=[{**window, "column": "amount"}])
    (tmp_path / "cost_to_value.results.json").write_text("{not json")
    default = _result(results_dir=tmp_path)
    ev = default.timeline.filter(pl.col("origin") == "pack evidence")
    assert ev["message"].to_list() == ["drift onset in debt_to_income, statistic 0.4"]
    assert not any("drift_fraud" in n or "cost" in n for n in default.evidence_notes)
    only_fraud = _result(results_dir=tmp_path, evidence_findings=["drift_fraud"])
    ev = only_fraud.timeline.filter(pl.col("origin") == "pack evidence")
    assert ev["message"].to_list() == ["drift onset in amount, statistic 0.4"]
    assert any("contract_checks.results.json not found" in n for n in only_fraud.evidence_notes)


def test_missing_or_broken_pack_evidence_is_not_fatal(tmp_path):
    (tmp_path / "drift.results.json").write_text("{not json")
    res = _result(results_dir=tmp_path)
    assert res.timeline.filter(pl.col("origin") == "pack evidence").height == 0
    assert any("contract_checks.results.json not found" in n for n in res.evidence_notes)


def test_portfolio_counts_and_overdue():
    recs = [
        incidents.validate_record(VALID),
        incidents.validate_record({**VALID, "id": "INC-2", "severity": "SEV1",
                                   "started_at": "2026-02-03T00:00:00Z",
                                   "detected_at": "2026-02-03T00:10:00Z",
                                   "acknowledged_at": "2026-02-03T00:12:00Z",
                                   "mitigated_at": "2026-02-03T01:00:00Z",
                                   "resolved_at": "2026-02-03T02:00:00Z",
                                   "contributing_factors": [
                                       {"category": "bad deploy", "description": "x"},
                                       {"category": "data drift", "description": "y"}],
                                   "action_items": []}),
    ]
    p = incidents.portfolio(recs, as_of=datetime(2026, 3, 1, tzinfo=UTC))
    assert p.by_month.select("month", "incidents", "median_ttd_minutes",
                             "median_ttr_minutes").rows() == [("2026-01", 1, 20.0, 45.0),
                                                               ("2026-02", 1, 10.0, 120.0)]
    assert dict(p.by_category.rows()) == {"data drift": 2, "bad deploy": 1}
    # Only the severities in use (a P1-P5 team would otherwise see four empty SEV rows).
    assert dict(p.by_severity.rows()) == {"SEV1": 1, "SEV2": 1}
    assert p.overdue.select("incident", "id", "days_overdue").rows() == [("INC-1", "A1", 50)]
    assert p.metrics["portfolio_incidents"] == 2


# --- demo data and CLI -------------------------------------------------------------------

@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    sample_incidents.generate(out)
    return out / "incidents"


def test_sample_is_deterministic_and_tells_the_scenario(sample_dir, tmp_path):
    again = sample_incidents.generate(tmp_path)
    for p in again:
        rel = p.relative_to(tmp_path / "incidents")
        assert p.read_bytes() == (sample_dir / rel).read_bytes(), rel
    as_of = scenario.CURRENT_END
    res = incidents.load(sample_dir / f"{scenario.INCIDENT_ID}.yaml", as_of=as_of)
    assert res.record.started_at == scenario.INCIDENT_START
    assert {"data contract breach", "data drift"} <= set(res.record.categories)
    assert res.metrics["failed_requests"] > 1000
    assert 0 < res.metrics["error_budget_consumed_pct"] < 100
    # The fast burn-rate page would have fired before the static alert that detected it.
    fast = next(a for a in res.alerts if a.sli == "availability" and a.burn_rate == 14.4)
    assert fast.first_fired_at < scenario.INCIDENT_DETECTED
    folio = incidents.portfolio(sample_dir, as_of=as_of)
    assert folio.incidents.height >= 13
    assert folio.by_category.height >= 8 and folio.by_month.height >= 10
    assert folio.overdue.height > 0


def test_cli_json(sample_dir):
    rec = sample_dir / f"{scenario.INCIDENT_ID}.yaml"
    r = CliRunner().invoke(cli, ["incident", str(rec), "--format", "json", "--as-of", "2026-11-02"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["incident"]["id"] == scenario.INCIDENT_ID
    assert doc["metrics"]["ttd_minutes"] == 51
    assert {d["key"] for d in doc["durations"]} == {"ttd", "tta", "ttm", "ttr"}
    r = CliRunner().invoke(cli, ["incident", "portfolio", str(sample_dir / "INC-2026-*.yaml"),
                                 "--as-of", "2026-11-02"])
    assert r.exit_code == 0, r.output
    assert "incidents" in r.output.splitlines()[0] and "overdue" in r.output


def test_cli_invalid_record_exits_2_with_one_line_per_problem(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: X\nseverity: SEV9\naction_items:\n  - {id: A, due: soon}\n")
    r = CliRunner().invoke(cli, ["incident", str(bad), "--as-of", "2026-11-02"])
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) > 5 and all(line.startswith(f"workbench: error: {bad}: ") for line in lines)
    assert any("action_items[0].due: expected an ISO 8601 date" in line for line in lines)
    assert any("action_items[0].owner: expected a value" in line for line in lines)
    r = CliRunner().invoke(cli, ["incident", "portfolio", str(tmp_path), "--as-of", "2026-11-02"])
    assert r.exit_code == 2 and "severity" in r.stderr
    r = CliRunner().invoke(cli, ["incident", str(tmp_path / "missing.yaml")])
    assert r.exit_code == 2 and "expected an existing YAML file" in r.stderr

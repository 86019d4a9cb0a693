"""workbench.release and `workbench release`: decisions, shadow comparisons, the JSON shape,
findings, and one line with exit 2 on each kind of bad input."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner
from sklearn.metrics import roc_auc_score

from workbench import release
from workbench.cli import cli
from workbench.errors import InputError
from workbench.findings import AreaResult, Findings, read_findings
from workbench.release import _stats

START = date(2026, 9, 1)


def canary(n: int = 6_000, *, challenger_noise: float = 1.0, share: float = 0.5,
           seed: int = 1, days: int = 14) -> pl.DataFrame:
    """Canary logs: risk drives the label; each version scores risk plus its own noise."""
    rng = np.random.default_rng(seed)
    risk = rng.normal(-1, 1.2, n)
    label = (rng.random(n) < 1 / (1 + np.exp(-risk))).astype(np.int64)
    chal = rng.random(n) < share
    noise = np.where(chal, challenger_noise, 1.0)
    score = 1 / (1 + np.exp(-(risk + rng.normal(0, 1, n) * noise)))
    return pl.DataFrame({
        "version": np.where(chal, "new", "old"),
        "label": label,
        "score": score,
        "decision": np.where(score < 0.3, "approve", "decline"),
        "channel": np.asarray(["web", "branch", "<b>mobile</b>"])[rng.integers(0, 3, n)],
        "day": [START + timedelta(days=int(d)) for d in np.sort(rng.integers(0, days, n))],
    })


def decide(frame: pl.DataFrame, **kw):
    args = dict(version_column="version", champion="old", challenger="new", target="label",
                score="score", prediction="decision", positive="approve", timestamp="day")
    return release.decide(frame, **{**args, **kw})


# --- statistics -------------------------------------------------------------------------------


def test_auc_and_its_paired_difference_match_scikit_learn():
    rng = np.random.default_rng(3)
    y = rng.random(3_000) < 0.3
    a = np.round(rng.normal(size=3_000) + y, 1)  # rounded: ties count half, as sklearn's
    b = a + rng.normal(0, 0.5, 3_000)
    auc, var = _stats.auc_with_variance(a, y)
    assert auc == pytest.approx(roc_auc_score(y, a), abs=1e-12) and 0 < var < 1e-3
    a1, a2, delta, dvar = _stats.paired_auc_difference(a, b, y)
    assert delta == pytest.approx(roc_auc_score(y, b) - roc_auc_score(y, a), abs=1e-12)
    # the same rows scored twice: the paired variance is well below the independent one
    assert dvar < _stats.auc_with_variance(b, y)[1] + var


def test_always_valid_bounds_are_wider_than_a_fixed_interval_and_shrink_with_data():
    rho = _stats.mixture_rho(0.05, _stats.design_information(0.01, 0.05))
    r1, r2 = _stats.cs_radius(0.01, 0.05, rho), _stats.cs_radius(0.005, 0.05, rho)
    assert r1 > 1.96 * 0.01 and r2 < r1
    assert _stats.cs_radius(0.0, 0.05, rho) == 0.0  # a ledger figure has no sampling error


# --- decisions --------------------------------------------------------------------------------


def test_a_challenger_that_ranks_much_worse_is_rolled_back_and_the_reason_says_why():
    result = decide(canary(n=20_000, challenger_noise=4.0))
    auc = next(k for k in result.kpis if k.name == "auc")
    assert auc.state == "fail" and auc.passed is False and auc.upper < -0.005
    assert result.decision == "rollback" and result.status == "fail"
    assert "AUC" in result.reason and "Roll back to old" in result.reason
    assert result.metrics["rollback"] is True and result.metrics["go_ahead"] is False


def test_a_guardrail_that_cannot_be_evaluated_holds_and_never_lets_the_rollout_go_on():
    frame = canary().with_columns(
        pl.when(pl.col("version") == "new").then(None).otherwise(pl.col("label")).alias("label"))
    result = decide(frame)
    auc = next(k for k in result.kpis if k.name == "auc")
    assert auc.state == "unknown" and auc.passed is None and "labelled" in auc.note
    assert result.decision == "hold" and result.status == "unknown"
    assert result.metrics["guardrails_unknown"] == 1
    # every daily look held too: no day says continue while AUC could not be read
    assert set(result.timeline["decision"]) == {"hold"}


def test_a_kpi_needing_findings_that_are_absent_holds(tmp_path):
    plan = release.make_plan(kpis=[{"name": "cost_per_1k_predictions", "margin": 10}])
    result = decide(canary(), plan=plan, findings_dir=tmp_path)
    assert result.decision == "hold" and "cost_to_value" in result.reason


def test_cost_per_1k_predictions_comes_from_the_cost_findings(tmp_path):
    Findings("cost_to_value", "pass", "ok", {}, {"versions": [
        {"model": "m", "version": "old", "cost_per_1k_predictions": 100.0},
        {"model": "m", "version": "new", "cost_per_1k_predictions": 125.0}]}).write(tmp_path)
    kpi = [{"name": "cost_per_1k_predictions", "margin": 20}]
    over = decide(canary(), plan=release.make_plan(kpis=kpi, model="m"), findings_dir=tmp_path)
    (cost,) = over.kpis
    assert (cost.champion, cost.challenger, cost.delta) == (100.0, 125.0, 25.0)
    assert cost.state == "fail" and over.decision == "rollback"
    kpi[0]["margin"] = 30
    ok = decide(canary(), plan=release.make_plan(kpis=kpi, model="m"), findings_dir=tmp_path)
    assert ok.kpis[0].state == "pass"


def test_a_figure_per_version_from_other_findings_such_as_an_estimated_auc(tmp_path):
    # how the performance notebook's AUC estimated without labels enters a release review
    Findings("model_performance", "pass", "ok",
             {"estimated_roc_auc": {"old": 0.80, "new": 0.78}}).write(tmp_path)
    kpi = {"name": "estimated_auc", "findings": "model_performance",
           "metric": "estimated_roc_auc.{version}", "margin": 0.005}
    result = decide(canary(), plan=release.make_plan(kpis=[kpi]), findings_dir=tmp_path)
    (est,) = result.kpis
    assert (est.champion, est.challenger, est.direction) == (0.80, 0.78, "higher")
    assert est.state == "fail" and result.decision == "rollback"
    kpi["metric"] = "estimated_roc_auc"
    with pytest.raises(InputError, match=r"kpis\[0\].metric: expected a metric name with"):
        release.make_plan(kpis=[kpi])


def test_guardrails_that_hold_move_to_the_next_stage_or_promote_at_the_last():
    frame = canary(n=20_000, share=0.25)
    kpis = [{"name": "positive_rate", "margin": 0.08}]
    go_on = decide(frame, plan=release.make_plan(stages=[10, 25, 50, 100], kpis=kpis))
    assert go_on.stage == 25 and go_on.next_stage == 50
    assert go_on.decision == "continue" and "from 25% to 50%" in go_on.reason
    last = decide(frame, plan=release.make_plan(stages=[5, 25, 100], kpis=kpis))
    assert last.decision == "promote" and last.status == "pass"
    # a success metric that has not improved yet keeps it at the last stage before 100%
    success = kpis + [{"name": "auc", "kind": "success"}]
    wait = decide(frame, plan=release.make_plan(stages=[5, 25, 100], kpis=success))
    assert wait.decision == "continue" and "stay at 25%" in wait.reason


def test_inconclusive_evidence_continues_at_the_current_stage_with_the_sample_still_needed():
    result = decide(canary(n=1_500))
    assert result.decision == "continue" and "stay at" in result.reason
    assert result.sample_needed and result.sample_needed > 0
    assert any(k.rows_for_mde for k in result.kpis)


def test_the_worst_segment_is_found_under_benjamini_hochberg_control():
    frame = canary(n=30_000, seed=5)
    # the challenger is blind on branch traffic only
    rng = np.random.default_rng(9)
    blind = (pl.col("version") == "new") & (pl.col("channel") == "branch")
    frame = frame.with_columns(pl.when(blind).then(pl.lit(rng.random(frame.height)))
                               .otherwise(pl.col("score")).alias("score"))
    result = decide(frame, segments=["channel"])
    worst = result.segments.row(0, named=True)
    assert (worst["segment"], worst["value"], worst["worse"]) == ("channel", "branch", True)
    assert worst["p_adjusted"] >= worst["p_value"]
    assert "Benjamini-Hochberg" in result.segment_method
    assert result.segments.filter(pl.col("value") == "web")["worse"].to_list() == [False]


def test_shadow_rollout_pairs_requests_and_reports_flips_by_segment():
    frame = canary(n=4_000, share=0.0).with_columns(pl.int_range(pl.len()).alias("rid"))
    challenger = frame.with_columns(
        pl.lit("new").alias("version"),
        pl.when(pl.col("channel") == "web").then(pl.col("score") * 1.6)
        .otherwise(pl.col("score")).alias("score"))
    challenger = challenger.with_columns(
        pl.when(pl.col("score") < 0.3).then(pl.lit("approve")).otherwise(pl.lit("decline"))
        .alias("decision"))
    both = pl.concat([frame, challenger])
    result = decide(both, request_id="rid", segments=["channel"])
    assert result.mode == "shadow" and result.stage is None
    assert result.shadow["requests_joined"] == 4_000
    assert 0.5 < result.shadow["agreement_rate"] < 1
    flips = result.flips
    assert flips.row(0, named=True)["value"] == "all"
    assert flips.row(1, named=True)["value"] == "web"  # the only segment whose scores moved
    assert flips.filter(pl.col("value") == "branch")["flip_rate"].item() == 0
    y = frame["label"].to_numpy() == 1
    auc = next(k for k in result.kpis if k.name == "auc")
    assert auc.delta == pytest.approx(roc_auc_score(y, challenger["score"])
                                      - roc_auc_score(y, frame["score"]), abs=1e-12)


# --- the protocol, findings, compare, HTML ------------------------------------------------------


def test_result_follows_the_area_protocol_and_findings_round_trip(tmp_path):
    result = decide(canary(), segments=["channel"])
    assert isinstance(result, AreaResult)
    assert result.frame().height == len(result.kpis)
    path = result.findings("rr").write(tmp_path)
    back = read_findings(path)
    assert back.name == "rr" and back.notebook == "release_readiness"
    assert back["decision"] == result.decision and back.metric("go_ahead") is (
        result.decision in ("promote", "continue"))
    assert all(isinstance(v, int | float | bool) or v is None for v in back.metrics.values())
    assert back["kpis"][0]["name"] == "auc"


def test_compare_names_the_decision_and_kpis_that_moved():
    good = decide(canary(n=1_500))
    bad = decide(canary(n=20_000, challenger_noise=4.0))
    changes = release.compare(good.findings(), bad.findings())
    decision = next(c for c in changes if c.kind == "decision")
    assert (decision.before, decision.after, decision.direction) == (
        "continue", "rollback", "worse")
    assert any(c.kind == "kpi" and c.item == "auc" and c.direction == "worse" for c in changes)
    assert release.compare(bad.findings(), bad.findings()) == []


def test_html_escapes_segment_values_from_the_data():
    result = decide(canary(n=8_000), segments=["channel"])
    page = result._repr_html_() + release.segments_table(result).markup
    assert "<b>mobile</b>" not in page and "&lt;b&gt;mobile&lt;/b&gt;" in page
    assert "<script" not in page


# --- the command ------------------------------------------------------------------------------


def _cli(path: Path, *extra: str):
    return CliRunner().invoke(cli, ["release", str(path), "--version-column", "version",
                                    *extra])


def _one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.stderr
    return lines[0]


@pytest.fixture
def logs(tmp_path) -> Path:
    path = tmp_path / "logs.parquet"
    canary(n=3_000).write_parquet(path)
    return path


def test_json_has_the_fields_other_tools_read(logs):
    out = _cli(logs, "--champion", "old", "--challenger", "new", "--target", "label",
               "--score", "score", "--prediction", "decision", "--positive", "approve",
               "--timestamp", "day", "--segment", "channel", "--format", "json")
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["decision"] in ("promote", "continue", "hold", "rollback")
    assert isinstance(doc["reason"], str) and doc["reason"]
    assert [k["name"] for k in doc["kpis"]] == ["auc", "positive_rate"]
    for k in doc["kpis"]:
        assert k["kind"] in ("guardrail", "success") and k["passed"] in (True, False, None)
        for field in ("champion", "challenger", "delta", "lower", "upper"):
            assert isinstance(k[field], float), field
    assert isinstance(doc["segments"], list) and doc["segments"][0]["segment"] == "channel"


def test_fail_on_rollback_exits_1(tmp_path):
    path = tmp_path / "bad.parquet"
    canary(n=20_000, challenger_noise=4.0).write_parquet(path)
    args = ("--champion", "old", "--challenger", "new", "--target", "label", "--score", "score")
    assert _cli(path, *args).exit_code == 0
    out = _cli(path, *args, "--fail-on-rollback")
    assert out.exit_code == 1 and out.stdout.startswith("ROLLBACK: ")


def test_an_unknown_version_is_one_line(logs):
    line = _one_error_line(_cli(logs, "--champion", "old", "--challenger", "v9",
                                "--score", "score"))
    assert "logs.parquet: version: expected the challenger version 'v9'" in line
    assert "(new, old)" in line


def test_a_version_with_no_rows_is_one_line(tmp_path):
    frame = canary(n=500).with_columns(
        pl.col("version").cast(pl.Enum(["old", "new", "retired"])))
    path = tmp_path / "logs.parquet"
    frame.write_parquet(path)
    line = _one_error_line(_cli(path, "--champion", "retired", "--challenger", "new",
                                "--score", "score"))
    assert "version: expected rows for the champion version 'retired', got 'no rows'" in line


def test_a_missing_column_is_one_line(logs):
    line = _one_error_line(_cli(logs, "--champion", "old", "--challenger", "new",
                                "--target", "defaulted", "--score", "score"))
    assert "logs.parquet: target: expected columns of this data, got 'defaulted'" in line


def test_a_shadow_log_whose_request_ids_do_not_join_is_one_line(tmp_path):
    frame = canary(n=400).with_columns(pl.int_range(pl.len()).alias("rid"))
    path = tmp_path / "shadow.parquet"
    frame.write_parquet(path)  # each request was scored by one version only
    line = _one_error_line(_cli(path, "--champion", "old", "--challenger", "new",
                                "--score", "score", "--request-id", "rid"))
    assert "rid: expected request ids scored by both old and new" in line
    assert "requests join" in line


def test_a_shadow_log_with_a_request_twice_is_one_line(tmp_path):
    frame = canary(n=400).with_columns(pl.lit(7).alias("rid"))
    path = tmp_path / "shadow.parquet"
    frame.write_parquet(path)
    line = _one_error_line(_cli(path, "--champion", "old", "--challenger", "new",
                                "--score", "score", "--request-id", "rid"))
    assert "rid: expected one row per request and version" in line


def test_labels_that_are_not_binary_are_one_line(tmp_path):
    path = tmp_path / "logs.parquet"
    canary(n=300).with_columns(pl.col("label") * 3).write_parquet(path)
    line = _one_error_line(_cli(path, "--champion", "old", "--challenger", "new",
                                "--target", "label", "--score", "score"))
    assert "label: expected binary labels 0 or 1" in line


def test_a_plan_with_a_bad_field_names_the_file_and_field(tmp_path):
    plan = tmp_path / "plan.yml"
    plan.write_text("stages: [10, 50]\nkpis:\n  - {name: auc, margin: -1}\n")
    with pytest.raises(InputError, match=r"plan.yml: kpis\[0\].margin: expected"):
        release.load_plan(plan)
    plan.write_text("stages: [50, 10]\n")
    with pytest.raises(InputError, match="plan.yml: stages: expected ascending"):
        release.load_plan(plan)
    plan.write_text("kpis:\n  - {name: accuracy}\n")
    with pytest.raises(InputError, match=r"kpis\[0\].name: expected one of auc"):
        release.load_plan(plan)

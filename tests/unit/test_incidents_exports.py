"""A non-ML incident from PagerDuty/Opsgenie/Jira, Prometheus, OpenSLO and Sloth exports.

Every figure is checked against a value computed here with numpy from the scenario's
per-minute ground truth (``incident_exports.truth()``), not through workbench.
"""

import json
from datetime import UTC, datetime, timedelta

import incident_exports as X
import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from workbench import incidents
from workbench.cli import cli
from workbench.errors import InputError
from workbench.incidents._openslo import from_openslo, from_sloth, read_yaml_documents
from workbench.incidents._prometheus import load_prometheus

AS_OF = datetime(2026, 7, 1, tzinfo=UTC)
MIN = timedelta(minutes=1)


# --- independent arithmetic --------------------------------------------------------------


def _minutes(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 60


def _burn(bad, total, k, w, first_row, budget):
    """Burn rate over the w minutes ending with row k (None when the SLIs do not reach back)."""
    if k - w + 1 < first_row:
        return None
    b, t = bad[k - w + 1 : k + 1].sum(), total[k - w + 1 : k + 1].sum()
    return 0.0 if t == 0 else b / t / budget


def _first_firing(bad, total, budget, factor, long_m, short_m=None, after_m=0, first_row=0):
    """First evaluation time (row end) in (started, resolved] at which the alert fires."""

    def cond(k):
        lw = _burn(bad, total, k, long_m, first_row, budget)
        sw = _burn(bad, total, k, short_m or long_m, first_row, budget)
        return lw is not None and sw is not None and lw >= factor and sw >= factor

    for k in range(X.minute(X.STARTED), X.minute(X.RESOLVED) + 1):
        at = X.T0 + (k + 1) * MIN
        if not (X.STARTED < at <= X.RESOLVED):
            continue
        if all(cond(j) for j in range(k - after_m, k + 1)):
            return at
    return None


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    base = tmp_path_factory.mktemp("exports")
    prom = X.write_prometheus(base / "prometheus")
    (base / "openslo.yaml").write_text(X.OPENSLO, encoding="utf-8")
    (base / "sloth.yaml").write_text(X.SLOTH, encoding="utf-8")
    X.write_pagerduty(base / "pd")
    X.write_opsgenie(base / "og")
    X.write_jira(base / "jira.json")
    args = ["incident", "import", "pagerduty", str(base / "pd"), "--out", str(base / "records"),
            "--started", X.STARTED.isoformat(), "--mitigated", X.MITIGATED.isoformat(),
            "--jira", str(base / "jira.json"), "--slos", str(base / "openslo.yaml")]
    for kind, files in prom.items():
        args += [a for f in files for a in ("--prometheus", f"{kind}={f}")]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    return base, prom


@pytest.fixture(scope="module")
def result(world):
    """The imported record analysed with its Prometheus SLIs and OpenSLO file (28 days)."""
    base, _ = world
    return incidents.load(base / "records" / "PD-4821.yaml", as_of=AS_OF)


def test_pagerduty_import_gives_durations_and_timeline(world, result):
    base, _ = world
    path = base / "records" / "PD-4821.yaml"
    rec = incidents.load_record(path)
    assert (rec.severity, rec.status, rec.kind, rec.affected_models) == ("P1", "resolved",
                                                                         "service", [])
    assert rec.detected_at == X.CREATED and rec.acknowledged_at == X.ACKED  # first ack only
    assert rec.resolved_at == X.RESOLVED and rec.mitigated_at == X.MITIGATED
    res = result
    d = res.durations
    assert d["ttd"] == pytest.approx(_minutes(X.STARTED, X.CREATED))  # 14.53
    assert d["tta"] == pytest.approx(_minutes(X.CREATED, X.ACKED))  # 12.52
    assert d["ttm"] == pytest.approx(_minutes(X.STARTED, X.MITIGATED))  # 58.00
    assert d["ttr"] == pytest.approx(_minutes(X.STARTED, X.RESOLVED))  # 106.08
    kinds = res.timeline.filter(res.timeline["origin"] == "event log")["kind"].to_list()
    assert kinds == ["change", "trigger", "notify", "acknowledge", "acknowledge", "note",
                     "resolve"]
    # The '#' in the change event's text survives (the importer's YAML/CSV quote it).
    assert any("PR #4812" in m for m in res.timeline["message"].to_list())
    items = {a.id: a for a in rec.action_items}
    assert items["PAY-101"].status == "in_progress" and items["PAY-101"].priority == "P1"
    assert items["PAY-102"].status == "done" and items["PAY-102"].due is None
    assert items["PAY-102"].owner.startswith("TODO")
    assert any("still marked TODO" in n for n in res.notes)
    # The narrative is TODO: the page says so; wording is for a service, not a model.
    assert "drift" not in res.intro("postmortem") and "drift" not in res.intro("timeline")


def test_budgets_and_error_ratio_from_prometheus_and_openslo(result):
    t = X.truth()
    res = result
    m = res.metrics
    s, e = X.minute(X.STARTED), X.minute(X.MITIGATED)
    failed = int(t["errors"][s:e].sum())
    assert m["failed_requests"] == failed
    # The error ratio over the impact window (start to mitigation), not to resolution.
    assert res.impact["error_ratio_during_incident"] == pytest.approx(
        failed / t["requests"][s:e].sum())
    to_resolution = t["errors"][s : X.minute(X.RESOLVED)].sum() / t["requests"][
        s : X.minute(X.RESOLVED)].sum()
    assert res.impact["error_ratio_during_incident"] > to_resolution * 1.3
    allowed = (1 - X.AVAIL_TARGET) * t["requests"].sum()
    assert m["error_budget_consumed_pct"] == pytest.approx(100 * failed / allowed)
    assert m["error_budget_remaining_pct"] == pytest.approx(100 - 100 * t["errors"].sum() / allowed)
    assert res.budget["availability"]["coverage"] == 1.0
    # Latency per request (OpenSLO ratio over the le="0.3" bucket), not per minute.
    slow = t["requests"] - t["good"]
    lat_allowed = (1 - X.LAT_TARGET) * t["requests"].sum()
    assert m["latency_budget_consumed_pct"] == pytest.approx(100 * slow[s:e].sum() / lat_allowed)
    minutes_bad = (slow[s:e] > 0.01 * t["requests"][s:e]).sum()
    per_minute_pct = 100 * minutes_bad / ((1 - X.LAT_TARGET) * X.MINUTES)
    assert m["latency_budget_consumed_pct"] < per_minute_pct / 2


def test_openslo_alert_after_and_latency_alerts(result):
    t = X.truth()
    res = result
    got = {(a.sli, a.burn_rate): a for a in res.alerts}
    slow = t["requests"] - t["good"]
    cases = {
        ("availability", 14.4): (t["errors"], 1 - X.AVAIL_TARGET, 60, 5),
        ("availability", 6.0): (t["errors"], 1 - X.AVAIL_TARGET, 360, 30),
        ("latency", 14.4): (slow, 1 - X.LAT_TARGET, 60, 5),
        ("latency", 6.0): (slow, 1 - X.LAT_TARGET, 360, 30),
    }
    fired = 0
    for key, (bad, budget, long_m, after) in cases.items():
        want = _first_firing(bad, t["requests"], budget, key[1], long_m, after_m=after)
        assert got[key].first_fired_at == want, key
        assert got[key].alert_after == f"{after}m"
        fired += want is not None
    assert fired >= 2  # the scenario does page; the checks above are not all "never"
    assert "14.4x over 1h, held for 5m" in res.alerts_text()


def test_sloth_burn_factors_follow_the_period(world):
    base, prom = world
    spec = incidents.load_slos(base / "sloth.yaml", period_days=28)
    rates = sorted(a.burn_rate for a in spec.alerts)
    # 5 % of a 28-day budget in 6 h, 2 % in 1 h: 5.6x and 13.44x.
    assert rates == pytest.approx([0.05 * 28 * 24 / 6, 0.02 * 28 * 24])
    assert spec.latency is not None and spec.latency.threshold_ms == pytest.approx(300)
    default = incidents.load_slos(base / "sloth.yaml")
    assert sorted(a.burn_rate for a in default.alerts) == pytest.approx([6.0, 14.4])
    t = X.truth()
    res = incidents.load(base / "records" / "PD-4821.yaml", as_of=AS_OF,
                         slos_path=base / "sloth.yaml", slo_period_days=28)
    got = {(a.sli, a.long_window): a for a in res.alerts}
    for long_m, short_m, factor, name in ((60, 5, 13.44, "1h"), (360, 30, 5.6, "6h")):
        want = _first_firing(t["errors"], t["requests"], 1 - X.AVAIL_TARGET, factor, long_m,
                             short_m)
        assert got[("availability", name)].first_fired_at == want
    assert "13.44x" in res.alerts_text() and "14.4x" not in res.alerts_text()
    assert "13.44x" in res.section("detection").markup


def test_partial_slis_give_unknown_budget_and_unknown_long_window(world, tmp_path):
    base, _ = world
    # SLIs from 12:00 on the incident day only: 1/28 of the window, and 100 min before start.
    first = X.minute(datetime(2026, 6, 28, 12, 0, tzinfo=UTC))
    prom = X.write_prometheus(tmp_path / "day", first=first, chunked=False)
    res = incidents.load(base / "records" / "PD-4821.yaml", as_of=AS_OF,
                         prometheus={k: list(v) for k, v in prom.items()})
    b = res.budget["availability"]
    assert b["consumed_by_incident_pct"] is None and b["remaining_pct"] is None
    assert b["coverage"] == pytest.approx((X.MINUTES - first) / X.MINUTES)
    assert res.metrics["error_budget_consumed_pct"] is None and res.status == "warn"
    page = res.section("impact").markup
    assert "unknown" in page and f"{b['coverage']:.1%}" in page
    assert "error budget unknown" in res.headline
    six = {(a.sli, a.burn_rate): a for a in res.alerts}[("availability", 6.0)]
    # The 6h window reaches before 12:00 until 18:00: never evaluated in the incident.
    assert six.first_fired_at is None and six.outcome == "unknown"
    # With the window's totals given, the budget is stated again.
    t = X.truth()
    res2 = incidents.load(base / "records" / "PD-4821.yaml", as_of=AS_OF,
                          prometheus={k: list(v) for k, v in prom.items()},
                          window_totals={"requests": float(t["requests"].sum()),
                                         "errors": float(t["errors"].sum())})
    s, e = X.minute(X.STARTED), X.minute(X.MITIGATED)
    allowed = (1 - X.AVAIL_TARGET) * t["requests"].sum()
    assert res2.metrics["error_budget_consumed_pct"] == pytest.approx(
        100 * t["errors"][s:e].sum() / allowed)


def test_prometheus_reader_joins_chunks_sums_series_and_shifts_a_step(world):
    _, prom = world
    assert len(prom["requests"]) == 4  # 40,320 points in chunks of 11,000
    slis, notes = load_prometheus(prom, latency_threshold_ms=300)
    t = X.truth()
    assert slis.height == X.MINUTES
    assert slis["timestamp"][0] == X.T0  # the point at T0 + 1 min covers [T0, T0 + 1 min)
    assert np.array_equal(slis["requests"].to_numpy(), t["requests"])
    assert np.array_equal(slis["errors"].to_numpy(), t["errors"])  # absent points are zero
    assert np.array_equal(slis["latency_good"].to_numpy(), t["good"])
    assert any("4 query_range chunks joined" in n for n in notes)


def test_fifteen_second_points_are_summed_into_minutes(tmp_path):
    first = X.minute(datetime(2026, 6, 28, 13, 0, tzinfo=UTC))
    fine = X.write_prometheus_15s(tmp_path / "fine", first)
    slis, notes = load_prometheus(fine)
    t = X.truth()
    assert slis.height == X.MINUTES - first
    assert np.array_equal(slis["errors"].to_numpy(), t["errors"][first:])
    assert any("every 15 s were summed into minutes" in n for n in notes)
    # The same rows as a CSV at 15 s: summed, and minutes out of SLO count minutes.
    csv = tmp_path / "slis15.csv"
    rows = ["timestamp,requests,errors"]
    for k in range(first, X.MINUTES):
        for q in range(4):
            ts = X.T0 + k * MIN + timedelta(seconds=15 * q)
            r, e = t["requests"][k], t["errors"][k]
            rows.append(f"{ts:%Y-%m-%dT%H:%M:%SZ},{r // 4 if q < 3 else r - 3 * (r // 4)},"
                        f"{e // 4 if q < 3 else e - 3 * (e // 4)}")
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    frame, notes = incidents.read_slis(csv)
    assert frame.height == X.MINUTES - first and any("15 s" in n for n in notes)
    rec = incidents.validate_record(_service_record())
    spec = incidents.SLOSpec.model_validate({"window_days": 28, "availability": {"target": 0.995}})
    res = incidents.analyze(rec, as_of=AS_OF, slis=frame, slo=spec)
    s, e = X.minute(X.STARTED), X.minute(X.MITIGATED)
    ratio = t["errors"][s:e] / t["requests"][s:e]
    assert res.metrics["minutes_out_of_slo"] == int((ratio > 0.005).sum()) == e - s


def test_coarser_or_irregular_steps_are_refused(tmp_path):
    csv = tmp_path / "five.csv"
    csv.write_text("timestamp,requests,errors\n2026-06-28T13:00:00Z,10,0\n"
                   "2026-06-28T13:05:00Z,10,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="one row per minute"):
        incidents.read_slis(csv)
    doc = {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {}, "values": [[0, "1"], [300, "1"], [600, "2"]]}]}}
    f = tmp_path / "r.json"
    f.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(InputError, match="step=60s"):
        load_prometheus({"requests": [f]})
    r = CliRunner().invoke(cli, ["incident", str(tmp_path / "x.yaml"), "--prometheus",
                                 "latency=foo.json"])
    assert r.exit_code == 2 and "KIND=FILE" in r.output


def test_opsgenie_import(world, tmp_path):
    base, _ = world
    r = CliRunner().invoke(cli, ["incident", "import", "opsgenie", str(base / "og"), "--out",
                                 str(tmp_path), "--started", X.STARTED.isoformat()])
    assert r.exit_code == 0, r.output
    rec = incidents.load_record(tmp_path / "OG-1791.yaml")
    assert (rec.severity, rec.detected_at, rec.acknowledged_at, rec.resolved_at) == (
        "P2", X.CREATED, X.ACKED, X.RESOLVED)
    # No --mitigated: the resolution stands in, and the record says so.
    assert rec.mitigated_at == X.RESOLVED and "mitigated_at was set" in rec.resolution
    again = CliRunner().invoke(cli, ["incident", "import", "opsgenie", str(base / "og"),
                                     "--out", str(tmp_path)])
    assert again.exit_code == 2 and "already exists" in again.output


def _service_record(**over):
    rec = {
        "id": "INC-7", "title": "payments-api 503s", "severity": "P1", "status": "resolved",
        "started_at": X.STARTED, "detected_at": X.CREATED, "acknowledged_at": X.ACKED,
        "mitigated_at": X.MITIGATED, "resolved_at": X.RESOLVED,
        "affected_services": ["payments-api"], "summary": "A config push.",
        "impact": {"description": "Card authorisations failed.", "revenue_at_risk": 212_345.5},
        "trigger": "payments-config PR 4812", "root_causes": ["Retry budget set to 0."],
        "contributing_factors": [
            {"category": "config change", "description": "unreviewed"},
            {"category": "alerting gap", "description": "static threshold"}],
        "detection": {"method": "alert", "description": "5xx page"},
    }
    rec.update(over)
    return rec


def test_record_of_any_kind_and_yaml_comment_cut(tmp_path):
    data = _service_record()
    text = yaml.safe_dump({k: (v.isoformat() if isinstance(v, datetime) else v)
                           for k, v in data.items()}, sort_keys=False)
    text = text.replace("trigger: payments-config PR 4812", "trigger: payments-config PR #4812")
    path = tmp_path / "INC-7.yaml"
    path.write_text(text, encoding="utf-8")
    rec = incidents.load_record(path)
    assert rec.trigger == "payments-config PR"  # YAML's comment rule
    res = incidents.load(path, as_of=AS_OF)
    assert any("trigger" in n and "#4812" in n for n in res.notes)
    assert rec.incident_kind == "service" and rec.categories == ["alerting gap", "config change"]
    # Money as grouped digits, not 2.12e+05; an availability page, not "a availability".
    assert "212,345.50" in res.section("impact").markup
    r = CliRunner().invoke(cli, ["incident", str(path), "--as-of", "2026-07-01"])
    assert r.exit_code == 0 and "212,345.50" in r.output and "e+05" not in r.output
    assert "#4812" in r.output  # the warning, on stderr
    from workbench.incidents._render import article

    assert (article("availability"), article("latency")) == ("an", "a")


def test_extensible_categories_and_severities(monkeypatch):
    bad = _service_record(severity="S1", contributing_factors=[
        {"category": "vendor change", "description": "x"}])
    with pytest.raises(InputError) as exc:
        incidents.validate_record(bad)
    assert "severity" in str(exc.value) and "contributing_factors[0].category" in str(exc.value)
    monkeypatch.setenv("WORKBENCH_INCIDENT_SEVERITIES", "S1,S2")
    monkeypatch.setenv("WORKBENCH_INCIDENT_CATEGORIES", "vendor change")
    rec = incidents.validate_record(bad)
    assert rec.severity == "S1" and rec.categories == ["vendor change"]


def test_portfolio_folder_with_slo_files_and_p_severities(tmp_path):
    for i, sev in enumerate(("P1", "P3")):
        data = _service_record(id=f"INC-{i}", severity=sev)
        (tmp_path / f"INC-{i}.yaml").write_text(yaml.safe_dump(
            {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in data.items()}),
            encoding="utf-8")
    (tmp_path / "openslo.yaml").write_text(X.OPENSLO, encoding="utf-8")
    (tmp_path / "sloth.yaml").write_text(X.SLOTH, encoding="utf-8")
    folio = incidents.portfolio(tmp_path, as_of=AS_OF)
    assert folio.metrics["portfolio_incidents"] == 2
    assert folio.by_severity.to_dicts() == [{"severity": "P1", "incidents": 1},
                                            {"severity": "P3", "incidents": 1}]


def test_slo_readers_refuse_unusable_files_by_name(tmp_path):
    docs = read_yaml_documents_from(tmp_path, X.OPENSLO.replace("duration: 28d", "duration: 7d"))
    with pytest.raises(InputError, match="one window length"):
        from_openslo(docs, "o.yaml")
    with pytest.raises(InputError, match=r"slos\[0\]\.objective"):
        from_sloth({"version": "prometheus/v1", "slos": [{"name": "x"}]}, "s.yaml")


def read_yaml_documents_from(tmp_path, text):
    p = tmp_path / "o.yaml"
    p.write_text(text, encoding="utf-8")
    return read_yaml_documents(p)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("no_incident", "incident.json: expected an existing JSON export file"),
        ("bad_json", "log_entries.json: expected JSON as the API returns it"),
        ("bad_time", "incident.created_at: expected an ISO 8601 timestamp"),
        ("not_matrix", "data.resultType: expected 'matrix'"),
        ("no_bucket", "le: expected a bucket at the SLO threshold (300 ms) and +Inf"),
    ],
)
def test_unusable_exports_exit_2_with_one_line(tmp_path, case, expected):
    pd = X.write_pagerduty(tmp_path / "pd")
    args = ["incident", "import", "pagerduty", str(pd), "--out", str(tmp_path / "out")]
    if case == "no_incident":
        (pd / "incident.json").unlink()
    elif case == "bad_json":
        (pd / "log_entries.json").write_text("{not json", encoding="utf-8")
    elif case == "bad_time":
        doc = json.loads((pd / "incident.json").read_text())
        doc["incident"]["created_at"] = "yesterday"
        (pd / "incident.json").write_text(json.dumps(doc), encoding="utf-8")
    else:
        (tmp_path / "slo.yaml").write_text(X.OPENSLO, encoding="utf-8")
        req = tmp_path / "req.json"
        req.write_text(json.dumps({"status": "success", "data": {
            "resultType": "vector" if case == "not_matrix" else "matrix",
            "result": [{"metric": {}, "values": [[60, "5"], [120, "5"]]}]}}), encoding="utf-8")
        buckets = tmp_path / "b.json"
        buckets.write_text(json.dumps({"status": "success", "data": {"resultType": "matrix",
            "result": [{"metric": {"le": le}, "values": [[60, "5"], [120, "5"]]}
                       for le in ("0.25", "+Inf")]}}), encoding="utf-8")  # fmt: skip
        rec = tmp_path / "rec.yaml"
        data = _service_record()
        rec.write_text(yaml.safe_dump({k: (v.isoformat() if isinstance(v, datetime) else v)
                                       for k, v in data.items()}), encoding="utf-8")
        args = ["incident", str(rec), "--slos", str(tmp_path / "slo.yaml"), "--prometheus",
                f"requests={req}", "--prometheus", f"latency_buckets={buckets}"]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 2, r.output
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert len(lines) == 1 and expected in lines[0] and "Traceback" not in r.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_comment_cut_warning_spares_comments_written_on_purpose(tmp_path):
    from workbench.incidents._record import comment_cuts

    p = tmp_path / "r.yaml"
    p.write_text("severity: SEV2  # was SEV3\ntrigger: deploy #4812\nroot_causes:\n"
                 "- retry budget 0 #config\n- 'quoted #kept'\n", encoding="utf-8")
    found = comment_cuts(p)
    assert len(found) == 2
    assert "line 2: trigger" in found[0] and "line 4: list item" in found[1]

"""Change summary, history and gate explanations on tiny hand-written results."""

from __future__ import annotations

import json
from types import SimpleNamespace as G

import pytest

from workbench.findings import Findings
from workbench.packs.gates import evaluate_gates, verdict, verdict_reason
from workbench.packs.index import front_page
from workbench.packs.summary import (
    changes,
    changes_since,
    history,
    history_long,
    history_row,
)


def F(doc, name=None):  # noqa: N802
    """Findings from a partial document (status and headline filled in)."""
    return Findings.from_dict({"status": "info", "headline": "", "metrics": {}, **doc},
                              name=name or doc.get("notebook") or "nb")


def gate(metric, op, value, severity="no-go", notebook="nb", title=None):
    return G(
        id=metric,
        title=title or metric,
        notebook=notebook,
        metric=metric,
        op=op,
        value=value,
        severity=severity,
        reason="why",
    )


# --- gates: every outcome is explained; missing never passes ----------------------------


def test_explanations_say_observed_and_required():
    passed, failed = evaluate_gates(
        [gate("share", "<=", 0.25), gate("rows", ">=", 10, "hold")],
        {"nb": F({"metrics": {"share": 0.2, "rows": 7}})},
    )
    assert passed.explanation == "share is 0.2 (required: at most 0.25)."
    assert failed.explanation == "rows is 7; the gate requires at least 10."
    assert failed.outcome == "hold"


def test_missing_notebook_metric_or_value_is_explained_and_holds():
    gates = [
        gate("x", "<", 1, notebook="gone"),
        gate("absent", "<", 1),
        gate("empty", "<", 1),
        gate("text", "<", 1),
    ]
    results = {"gone": None, "nb": F({"metrics": {"empty": None, "text": "high"}})}
    out = evaluate_gates(gates, results)
    assert [g.status for g in out] == ["unknown"] * 4
    assert [g.outcome for g in out] == ["hold"] * 4
    assert out[0].explanation == "Not evaluated: gone wrote no results (it failed or did not run)."
    assert out[1].explanation == "Not evaluated: nb results have no metric 'absent'."
    assert out[2].explanation == "Not evaluated: empty is empty in nb results."
    assert out[3].explanation == "Not evaluated: text is high, which cannot be compared with 1."
    assert verdict(out) == "hold"


def test_verdict_reason_names_the_deciding_gates():
    res = {"nb": F({"metrics": {"a": 5, "b": 5}})}
    out = evaluate_gates(
        [gate("a", "<", 1, "no-go", title="A"), gate("b", "<", 1, "hold", title="B"),
         gate("c", "<", 1, "hold", title="C")],
        res,
    )  # fmt: skip
    assert verdict_reason(out) == (
        "No-go gates failed: A. Hold gates failed: B. Not evaluated (holds): C."
    )
    assert verdict_reason(out[1:2], ["drift"]) == ("Hold gates failed: B. No results from: drift.")
    assert verdict_reason(out, ["drift"], brief=True) == (
        "1 no-go gate failed, 1 hold gate failed, 1 not evaluated (holds); "
        "no results from drift; see the gates below."
    )
    ok = evaluate_gates([gate("a", ">", 1)], res)
    assert verdict_reason(ok) == verdict_reason(ok, brief=True) == "All 1 gates passed."


# --- changes ---------------------------------------------------------------------------


def contract(*failing, error_rows=5):
    checks = [
        {"id": cid, "severity": "error", "passed": cid not in failing, "failed_rows": error_rows}
        for cid in ("c.a", "c.b", "c.c")
    ]
    return F({"notebook": "contract_checks", "checks": checks, "metrics": {"pass_rate": 0.5}})


def drift(*drifted):
    cols = [
        {"column": c, "drifted": c in drifted, "method": "psi", "statistic": 0.3, "threshold": 0.1}
        for c in dict.fromkeys(("x", "y", "z", *drifted))
    ]
    return F({"notebook": "drift", "columns": cols, "metrics": {"drifted_share": len(drifted) / 3}})


def cost(cost_1k, ratio, month="2026-10"):
    return F({
        "notebook": "cost_to_value",
        "month": month,
        "metrics": {
            "cost_per_1k_predictions.m1": cost_1k,
            "value_cost_ratio.m1": ratio,
            "cost_per_1k_predictions.m2": 10.0,
        },
    })


def incidents(ids, overdue):
    return F({
        "notebook": "incident_postmortem",
        "incident": {"id": ids[0], "title": "first"},
        "portfolio": {
            "incidents": [{"id": i, "title": f"t {i}", "severity": "SEV3"} for i in ids],
            "overdue_action_items": [
                {"incident": inc, "id": ai, "overdue": True, "due": "2026-10-01"}
                for inc, ai in overdue
            ],
        },
    })


def test_first_version_has_nothing_to_compare():
    s = changes({"contract_checks": contract("c.a")}, None)
    assert s.previous is None and s.changes == ()
    assert s.headline() == "First version of this pack: nothing to compare with."


def test_contract_failures_new_and_resolved():
    s = changes({"c": contract("c.b", "c.c")}, {"c": contract("c.a", "c.b")}, previous_name="v1")
    got = [(c.kind, c.item, c.direction) for c in s.changes]
    assert got == [("new failure", "c.c", "worse"), ("resolved failure", "c.a", "better")]
    assert s.changes[0].text == "error-level check c.c now fails (5 rows)."
    assert s.headline() == "Since v1: 1 change(s) for the worse, 1 for the better, 2 in all."


def test_columns_that_start_and_stop_drifting():
    s = changes({"d": drift("y", "z")}, {"d": drift("x", "y")})
    got = [(c.kind, c.item) for c in s.changes]
    assert got == [("started drifting", "z"), ("stopped drifting", "x")]
    assert s.changes[0].text == "z started drifting (psi 0.3 against threshold 0.1)."


def test_unit_cost_and_value_changes_with_percentages():
    s = changes({"k": cost(120.0, 2.0, "2026-11")}, {"k": cost(100.0, 2.5)})
    texts = [c.text for c in s.changes]
    assert texts == [
        "m1: cost per 1k predictions rose from 100 to 120 (+20%) (2026-10 → 2026-11).",
        "m1: value/cost fell from 2.5 to 2 (-20%) (2026-10 → 2026-11).",
    ]  # m2 unchanged: not news
    assert [c.direction for c in s.changes] == ["worse", "worse"]
    cheaper = changes({"k": cost(90.0, 2.5)}, {"k": cost(100.0, 2.5)})
    assert [c.direction for c in cheaper.changes] == ["better"]


def test_tiny_cost_moves_are_not_news():
    s = changes({"k": cost(100.2, 2.5)}, {"k": cost(100.0, 2.5)})
    assert s.changes == ()


def test_new_incidents_and_overdue_action_items():
    now = incidents(["I1", "I2"], [("I1", "AI-1"), ("I1", "AI-2")])
    before = incidents(["I1"], [("I1", "AI-1"), ("I0", "AI-9")])
    s = changes({"i": now}, {"i": before})
    got = [(c.kind, c.item, c.direction) for c in s.changes]
    assert got == [
        ("new incident", "I2", "worse"),
        ("newly overdue action item", "I1/AI-2", "worse"),
        ("no longer overdue", "I0/AI-9", "better"),
    ]
    assert s.changes[0].text == "New SEV3 incident I2: t I2."


def test_gate_and_verdict_moves():
    before = [{"id": "g", "title": "G", "outcome": "go"}]
    now = [{"id": "g", "title": "G", "outcome": "hold", "explanation": "x is 3."}]
    s = changes({}, {}, gates=now, previous_gates=before, verdict="hold", previous_verdict="go")
    assert [c.text for c in s.changes] == [
        "The verdict moved from go to hold.",
        "Gate 'G' moved from go to hold: x is 3.",
    ]


def test_an_area_missing_on_one_side_is_noted_not_compared():
    s = changes({"d": drift("x")}, {"c": contract()})
    assert s.changes == ()
    assert s.notes == (
        "contract: not compared, this version has no contract_checks results.",
        "drift: not compared, the previous version has no drift results.",
    )


# --- directories: changes_since and history --------------------------------------------


def _version(pack_dir, name, results, verdict="hold", status="ok"):
    d = pack_dir / name
    d.mkdir(parents=True)
    for res in results:
        res.write(d)
    (d / "manifest.json").write_text(
        json.dumps({"verdict": verdict, "status": status, "gates": []})
    )
    return d


def test_history_reads_every_version_oldest_first(tmp_path):
    v1 = _version(tmp_path, "20261101T090000Z-aaaaaaaa", [contract("c.a"), cost(100.0, 2.0)])
    _version(tmp_path, "20261108T090000Z-bbbbbbbb", [drift("x"), cost(110.0, 2.0)], "no-go")
    (tmp_path / ".staging-x").mkdir()  # a build in progress is not history
    current = history_row("20261115T090000Z-cccccccc", {"d": drift()}, status="this build")
    rows = history(tmp_path, current)
    assert [r["version"][:8] for r in rows] == ["20261101", "20261108", "20261115"]
    assert [r["contract_pass_rate"] for r in rows] == [0.5, None, None]
    assert [r["drifted_share"] for r in rows] == [None, 1 / 3, 0.0]
    assert [r.get("cost_per_1k.m1") for r in rows] == [100.0, 110.0, None]
    assert [r.get("verdict") for r in rows] == ["hold", "no-go", None]
    long = history_long(rows)
    assert {d["build"] for d in long} == {"11-01 09:00", "11-08 09:00", "11-15 09:00"}
    s = changes_since(tmp_path / "20261108T090000Z-bbbbbbbb", v1)
    assert s.previous == v1.name
    assert [c.kind for c in s.changes] == ["cost per 1k predictions"]


def test_history_reads_the_newest_versions_only(tmp_path):
    """A pack rebuilt on every change keeps its front page's cost bounded: the newest
    ``limit`` versions with evidence of their own (restated ones skipped, the version
    being built counted), oldest first; the page and table say they are the newest."""
    from workbench.packs.summary import history_table

    for day in range(1, 8):
        _version(tmp_path, f"202611{day:02d}T090000Z-aaaaaaaa", [cost(100.0 + day, 2.0)])
    restated = tmp_path / "20261106T090000Z-aaaaaaaa" / "manifest.json"
    restated.write_text(json.dumps({"verdict": "hold", "status": "ok", "gates": [],
                                    "cache": {"nothing_changed": True}}))
    current = history_row("20261108T090000Z-cccccccc", {"c": cost(200.0, 2.0)})
    rows = history(tmp_path, current, limit=4)
    assert [r["version"][6:8] for r in rows] == ["04", "05", "07", "08"]
    assert [r["version"][6:8] for r in history(tmp_path, limit=3)] == ["04", "05", "07"]
    assert len(history(tmp_path)) == 6  # under the default limit: every version
    assert "Every version" in history_table(rows)
    many = [history_row(f"202611{d:02d}T090000Z-x", {}) for d in range(1, 30)] * 2
    assert "The newest 58 versions" in history_table(many)


def test_the_front_page_says_its_trends_are_the_newest_versions(tmp_path, monkeypatch):
    from workbench.packs import index, summary

    monkeypatch.setattr(summary, "HISTORY_LIMIT", 2)
    monkeypatch.setattr(index, "HISTORY_LIMIT", 2)
    for day in (1, 2, 3):
        _version(tmp_path, f"202611{day:02d}T090000Z-aaaaaaaa", [cost(100.0 + day, 2.0)])
    manifest = {
        "pack": "p", "title": "P", "version": "20261104T090000Z-bbbbbbbb", "status": "ok",
        "verdict": "go", "started_at": "s", "finished_at": "f", "duration_s": 1.0,
        "spec": {"path": "x.yml", "sha256": "0" * 64}, "inputs": [], "git": {"commit": None},
        "environment": {"python": "3.11", "packages": {}}, "notebooks": [], "gates": [],
        "previous_version": "20261103T090000Z-aaaaaaaa"}
    page = front_page(manifest, {"c": cost(104.0, 2.0)}, pack_dir=tmp_path)
    assert "The newest 2 versions with evidence of their own" in page
    assert "20261103T090000Z" in page and "20261102T090000Z" not in page


def test_front_page_with_previous_version_shows_changes_and_trend_escaped(tmp_path):
    evil = "<script>alert(1)</script>"
    prev = _version(tmp_path, "20261101T090000Z-aaaaaaaa", [incidents(["I1"], [])])
    now = incidents(["I1", evil], [])
    manifest = {
        "pack": "p", "title": "P", "version": "20261108T090000Z-bbbbbbbb", "status": "ok",
        "verdict": "go", "started_at": "s", "finished_at": "f", "duration_s": 1.0,
        "spec": {"path": "x.yml", "sha256": "0" * 64}, "inputs": [], "git": {"commit": None},
        "environment": {"python": "3.11"}, "gates": [], "previous_version": prev.name,
        "notebooks": [{"name": "incident_postmortem", "status": "ok", "duration_s": 1.0,
                       "results": True, "error": None}],
    }  # fmt: skip
    html = front_page(manifest, {"incident_postmortem": now}, pack_dir=tmp_path)
    assert "<script" not in html
    assert "New SEV3 incident &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert f"What changed since {prev.name}" in html
    assert f'href="../{prev.name}/index.html"' in html
    assert "All 0 gates passed." not in html and "No gates are defined." in html


def test_a_pruned_previous_version_is_said_not_compared(tmp_path):
    gone = tmp_path / "20261101T090000Z-aaaaaaaa"
    s = changes_since(tmp_path, gone)
    assert s.previous == gone.name and s.changes == ()
    assert s.headline() == f"Not compared: the previous version {gone.name} is no longer on disk."


def test_the_summary_fragments_escape_what_came_from_findings():
    from workbench.packs.gates import ReviewSummary
    from workbench.packs.summary import ChangeSummary

    evil = "<script>alert(1)</script>"
    quiet = ChangeSummary("v1", (), (f"drift: not compared, {evil}",))
    html = quiet._repr_html_()
    assert "<script" not in html and "&lt;script&gt;" in html and "Nothing changed" in html
    moved = changes({"d": drift(evil)}, {"d": drift()}, previous_name="v1")
    assert "<script" not in moved._repr_html_() and "started drifting" in moved._repr_html_()
    summary = ReviewSummary("T", "hold", (), ({"name": evil, "status": "warn", "headline": evil},))
    page = summary._repr_html_()
    assert "<script" not in page and "No gates defined." in page


def test_identical_findings_are_not_compared_and_their_area_is_not_imported(monkeypatch):
    from workbench.packs import summary as summary_module

    def no_import(name):
        raise AssertionError(f"imported {name}")

    monkeypatch.setattr(summary_module.importlib, "import_module", no_import)
    now = {"drift": Findings("drift", "warn", "h", {"drifted_share": 0.3},
                             {"columns": [{"column": "a", "drifted": True}]})}
    same = {"drift": Findings.from_dict(now["drift"].to_dict())}
    result = summary_module.changes(now, same, previous_name="v1")
    assert result.changes == () and result.headline() == "Nothing changed since v1."
    moved = {"drift": Findings("drift", "warn", "h", {"drifted_share": 0.4})}
    with pytest.raises(AssertionError, match="imported workbench.drift._compare"):
        summary_module.changes(moved, same, previous_name="v1")

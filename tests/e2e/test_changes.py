"""Two consecutive builds of one pack with changed inputs: the change summary, history and gates.

The area notebooks are stood in for by ``tests/fixtures/summary/replay.ipynb``, which
publishes a results JSON it is given, so each build differs in exactly the findings
written below (the real area notebooks take about a minute per build on this machine).
The review_summary notebook and the builder are the real ones.

Between the builds: contract check ``dti.maximum`` starts failing and the warning
``income.required`` is fixed; ``debt_to_income`` starts drifting and ``annual_income``
stops; credit_risk's cost per 1k predictions goes 150 -> 195 and value/cost 3.0 -> 2.0;
incident INC-2 appears and INC-1's action item AI-1 becomes overdue. Hand-computed:
the verdict moves hold -> no-go (the contract gate fails; the unit-cost and
action-item gates fail; the ``label_drift`` gate names a metric the drift results lack,
so it is "unknown" in both builds and holds).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from markupsafe import escape

from workbench.cli import cli
from workbench.packs.summary import history_long

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
REPLAY = ROOT / "tests" / "fixtures" / "summary" / "replay.ipynb"
SUMMARY = ROOT / "notebooks" / "review_summary.ipynb"
AREAS = ("contract_checks", "drift", "cost_to_value", "incident_postmortem")


def _check(cid: str, severity: str, passed: bool, rows: int | None) -> dict:
    return {"id": cid, "severity": severity, "passed": passed, "failed_rows": rows}


def _column(name: str, drifted: bool, statistic: float) -> dict:
    return {
        "column": name,
        "drifted": drifted,
        "method": "psi",
        "statistic": statistic,
        "threshold": 0.1,
    }


FIRST = {
    "contract_checks": {
        "notebook": "contract_checks",
        "status": "warn",
        "headline": "1 warning-level check failed.",
        "metrics": {"error_checks_failed": 0, "pass_rate": 2 / 3},
        "checks": [
            _check("loan.dti.maximum", "error", True, 0),
            _check("loan.id.unique", "error", True, 0),
            _check("loan.income.required", "warning", False, 3),
        ],
    },
    "drift": {
        "notebook": "drift",
        "status": "warn",
        "headline": "1 of 3 columns drifted.",
        "metrics": {"drifted_share": 1 / 3, "prediction_drift": False},
        "columns": [
            _column("annual_income", True, 0.3),
            _column("debt_to_income", False, 0.01),
            _column("score", False, 0.02),
        ],
    },
    "cost_to_value": {
        "notebook": "cost_to_value",
        "status": "ok",
        "headline": "credit_risk earns 3.0 times its cost.",
        "month": "2026-10",
        "metrics": {
            "cost_per_1k_predictions.credit_risk": 150.0,
            "value_per_1k_predictions.credit_risk": 450.0,
            "value_cost_ratio.credit_risk": 3.0,
        },
    },
    "incident_postmortem": {
        "notebook": "incident_postmortem",
        "status": "ok",
        "headline": "INC-1 resolved.",
        "metrics": {"error_budget_remaining_pct": 60.0, "overdue_action_items": 0},
        "incident": {"id": "INC-1", "title": "Feed outage", "severity": "SEV3"},
        "action_items": [
            {"id": "AI-1", "incident": "INC-1", "due": "2026-11-10", "overdue": False}
        ],
        "portfolio": {
            "incidents": [{"id": "INC-1", "title": "Feed outage", "severity": "SEV3"}],
            "overdue_action_items": [],
        },
    },
}


def _second() -> dict:
    s = copy.deepcopy(FIRST)
    c = s["contract_checks"]
    c["checks"][0].update(passed=False, failed_rows=120)
    c["checks"][2].update(passed=True, failed_rows=0)
    c["metrics"] = {"error_checks_failed": 1, "pass_rate": 2 / 3}
    d = s["drift"]
    d["columns"][0].update(drifted=False, statistic=0.02)
    d["columns"][1].update(drifted=True, statistic=0.4)
    m = s["cost_to_value"]["metrics"]
    m.update({"cost_per_1k_predictions.credit_risk": 195.0, "value_cost_ratio.credit_risk": 2.0})
    m["value_per_1k_predictions.credit_risk"] = 390.0
    i = s["incident_postmortem"]
    i["metrics"]["overdue_action_items"] = 1
    i["action_items"][0].update(overdue=True, owner="sre", description="Page on <b>drift</b>")
    i["portfolio"]["incidents"].append(
        {"id": "INC-2", "title": "Scores <b>stale</b>", "severity": "SEV2"}
    )
    return s


GATES = [
    {"id": "contract", "title": "No error-level contract check fails",
     "notebook": "contract_checks", "metric": "error_checks_failed", "op": "==", "value": 0,
     "severity": "no-go", "reason": "Scores on broken data cannot be trusted."},
    {"id": "unit-cost", "title": "Cost per 1k at most 180", "notebook": "cost_to_value",
     "metric": "cost_per_1k_predictions.credit_risk", "op": "<=", "value": 180,
     "severity": "hold", "reason": "Over the business case."},
    {"id": "action-items", "title": "No overdue action items",
     "notebook": "incident_postmortem", "metric": "overdue_action_items", "op": "==",
     "value": 0, "severity": "hold", "reason": "Promised fixes are late."},
    {"id": "labels", "title": "Labels have not drifted", "notebook": "drift",
     "metric": "label_drift", "op": "==", "value": False, "severity": "hold",
     "reason": "Outcomes changed."},
]  # fmt: skip


def _build(tmp: Path, results: dict, out: Path):
    for name, doc in results.items():
        (tmp / f"{name}.json").write_text(json.dumps(doc))
    spec = {
        "name": "chg",
        "title": "Change <summary> pack",
        "inputs": ["*.json"],
        "notebooks": [
            *(
                {"name": n, "path": str(REPLAY), "parameters": {"source": {"path": f"{n}.json"}}}
                for n in AREAS
            ),
            {"name": "review_summary", "path": str(SUMMARY), "needs": list(AREAS)},
        ],
        "gates": GATES,
    }
    path = tmp / "spec.yml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    result = CliRunner().invoke(
        cli, ["pack", "build", str(path), "--out", str(out), "--jobs", "2", "--fail-on-gate"]
    )
    index = Path(result.stdout.strip().splitlines()[-1]) if result.stdout.strip() else None
    return result, index


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("changes")
    out = tmp / "reports"
    first, first_index = _build(tmp, FIRST, out)
    second, second_index = _build(tmp, _second(), out)
    return {"first": (first, first_index), "second": (second, second_index), "out": out}


EXPECTED = {
    ("gates", "verdict", "verdict", "worse"),
    ("gates", "gate outcome", "contract", "worse"),
    ("gates", "gate outcome", "unit-cost", "worse"),
    ("gates", "gate outcome", "action-items", "worse"),
    ("contract", "new failure", "loan.dti.maximum", "worse"),
    ("contract", "resolved failure", "loan.income.required", "better"),
    ("drift", "started drifting", "debt_to_income", "worse"),
    ("drift", "stopped drifting", "annual_income", "better"),
    ("cost", "cost per 1k predictions", "credit_risk", "worse"),
    ("cost", "value per 1k predictions", "credit_risk", "worse"),
    ("cost", "value/cost", "credit_risk", "worse"),
    ("incidents", "new incident", "INC-2", "worse"),
    ("incidents", "newly overdue action item", "INC-1/AI-1", "worse"),
}


def test_gates_decide_exit_codes_and_are_recorded(two_builds):
    first, first_index = two_builds["first"]
    second, second_index = two_builds["second"]
    assert first.exit_code == 0, first.output  # hold is not no-go
    assert second.exit_code == 1, second.output  # --fail-on-gate on no-go
    assert "verdict no-go" in second.stderr
    m1 = json.loads((first_index.parent / "manifest.json").read_text())
    m2 = json.loads((second_index.parent / "manifest.json").read_text())
    assert (m1["verdict"], m2["verdict"]) == ("hold", "no-go")
    assert m2["previous_version"] == first_index.parent.name
    labels = {g["id"]: g for g in m2["gates"]}
    assert labels["labels"]["status"] == "unknown" and labels["labels"]["outcome"] == "hold"
    assert "no metric 'label_drift'" in labels["labels"]["explanation"]
    assert labels["unit-cost"]["explanation"] == (
        "cost_per_1k_predictions.credit_risk is 195; the gate requires at most 180."
    )
    assert m2["verdict_reason"] == (
        "No-go gates failed: No error-level contract check fails. "
        "Hold gates failed: Cost per 1k at most 180, No overdue action items. "
        "Not evaluated (holds): Labels have not drifted."
    )


def test_change_summary_lists_exactly_what_changed(two_builds):
    first_index = two_builds["first"][1]
    second_index = two_builds["second"][1]
    s1 = json.loads((first_index.parent / "review_summary.results.json").read_text())
    assert s1["changes"] == {
        "previous": None,
        "compared": True,
        "headline": "First version of this pack: nothing to compare with.",
        "changes": [],
        "notes": [],
    }
    s2 = json.loads((second_index.parent / "review_summary.results.json").read_text())
    got = {(c["area"], c["kind"], c["item"], c["direction"]) for c in s2["changes"]["changes"]}
    assert got == EXPECTED
    assert s2["changes"]["previous"] == first_index.parent.name
    assert s2["metrics"]["changes_worse"] == 11 and s2["metrics"]["changes_better"] == 2
    texts = [c["text"] for c in s2["changes"]["changes"]]
    assert "credit_risk: value/cost fell from 3 to 2 (-33%)." in texts


def test_front_page_shows_the_same_changes_escaped(two_builds):
    second_index = two_builds["second"][1]
    html = second_index.read_text()
    s2 = json.loads((second_index.parent / "review_summary.results.json").read_text())
    assert "First version" in two_builds["first"][1].read_text()
    assert f"What changed since {two_builds['first'][1].parent.name}" in html
    assert "credit_risk: cost per 1k predictions rose from 150 to 195 (+30%)." in html
    assert "The verdict moved from hold to no-go." in html
    assert "New SEV2 incident INC-2: Scores &lt;b&gt;stale&lt;/b&gt;." in html
    assert "<b>stale</b>" not in html and "<b>drift</b>" not in html and "<script" not in html
    # every change the notebook recorded is on the front page too
    for c in s2["changes"]["changes"]:
        assert str(escape(c["text"])) in html, c["text"]


def test_history_covers_both_versions(two_builds):
    first_index, second_index = two_builds["first"][1], two_builds["second"][1]
    s2 = json.loads((second_index.parent / "review_summary.results.json").read_text())
    rows = s2["history"]
    # this build's own row has no version name (it holds the build time; results stay
    # byte-identical for the same inputs)
    assert [r.get("version") for r in rows] == [first_index.parent.name, None]
    assert rows[-1]["status"] == "this build"
    assert [r["cost_per_1k.credit_risk"] for r in rows] == [150.0, 195.0]
    assert [r["verdict"] for r in rows] == ["hold", "no-go"]
    html = second_index.read_text()
    assert 'src="data:image/svg+xml;base64,' in html  # the trend chart, as an image
    builds = {d["build"] for d in history_long(rows)}
    assert len(builds) == 2  # two points on the x axis even when built within one minute
    assert f'href="../{first_index.parent.name}/index.html"' in html
    site = (two_builds["out"] / "index.html").read_text()
    assert "Change &lt;summary&gt; pack" in site
    for index, verdict in ((first_index, "HOLD"), (second_index, "NO-GO")):
        row = site[site.index(f"{index.parent.name}/index.html") :].split("</tr>")[0]
        assert verdict in row

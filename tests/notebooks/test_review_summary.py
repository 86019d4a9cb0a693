"""notebooks/review_summary.ipynb reads other notebooks' results and decides the verdict.

Runs with non-default parameters: a results_dir of hand-written findings and a spec of
its own (so the test does not depend on the demo's gate thresholds).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "review_summary.ipynb"
FIXTURE = ROOT / "tests" / "fixtures" / "packs" / "ok.ipynb"


def _results(tmp: Path, name: str, metrics: dict) -> None:
    doc = {"notebook": name, "status": "ok", "headline": f"{name} <headline>", "metrics": metrics}
    (tmp / f"{name}.results.json").write_text(json.dumps(doc))


def _gate(gid, notebook, metric, op, value, severity):
    return {
        "id": gid,
        "title": gid,
        "notebook": notebook,
        "metric": metric,
        "op": op,
        "value": value,
        "severity": severity,
        "reason": "r",
    }


@pytest.mark.slow
def test_summary_turns_a_failed_hold_gate_and_a_missing_notebook_into_hold(tmp_path):
    import papermill as pm

    spec = tmp_path / "spec.yml"
    spec.write_text(
        yaml.safe_dump(
            {
                "name": "t",
                "title": "T",
                "notebooks": [
                    {"name": n, "path": str(FIXTURE)} for n in ("contracts", "drift", "incident")
                ]
                + [{"name": "review_summary", "path": str(NOTEBOOK)}],
                "gates": [
                    _gate("contract", "contracts", "error_checks_failed", "==", 0, "no-go"),
                    _gate("drift", "drift", "drifted_share", "<=", 0.25, "hold"),
                    _gate("budget", "incident", "error_budget_remaining_pct", ">=", 25, "no-go"),
                ],
            }
        )
    )
    results = tmp_path / "results"
    results.mkdir()
    _results(results, "contracts", {"error_checks_failed": 0})
    _results(results, "drift", {"drifted_share": 0.4})  # fails a hold gate
    # incident wrote nothing: its no-go gate cannot be evaluated, which holds, never passes
    out = tmp_path / "out.ipynb"
    pm.execute_notebook(
        str(NOTEBOOK),
        str(out),
        kernel_name="python3",
        progress_bar=False,
        cwd=str(NOTEBOOK.parent),
        parameters={"results_dir": str(results), "pack_spec": str(spec)},
    )
    found = json.loads((results / "review_summary.results.json").read_text())
    assert found["notebook"] == "review_summary"
    assert found["verdict"] == "hold" and found["status"] == "warn"
    by_id = {g["id"]: g for g in found["gates"]}
    assert (by_id["contract"]["status"], by_id["contract"]["outcome"]) == ("passed", "go")
    assert (by_id["drift"]["status"], by_id["drift"]["outcome"]) == ("failed", "hold")
    assert by_id["budget"]["status"] == "unknown"
    assert found["metrics"]["gates_failed"] == 1 and found["metrics"]["gates_unknown"] == 1
    html = "".join(
        "".join(o.get("data", {}).get("text/html", ""))
        for c in json.loads(out.read_text())["cells"]
        for o in c.get("outputs", [])
    )
    assert "drift &lt;headline&gt;" in html and "<headline>" not in html

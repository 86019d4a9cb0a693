"""notebooks/review_summary.ipynb reads other notebooks' results and decides the verdict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "review_summary.ipynb"
SPEC = ROOT / "notebooks" / "packs" / "demo.yml"


def _results(tmp: Path, name: str, metrics: dict) -> None:
    doc = {"notebook": name, "status": "ok", "headline": f"{name} <headline>", "metrics": metrics}
    (tmp / f"{name}.results.json").write_text(json.dumps(doc))


@pytest.mark.slow
def test_summary_turns_a_failed_hold_gate_and_a_missing_notebook_into_hold(tmp_path):
    import papermill as pm

    _results(tmp_path, "contract_checks", {"gate_passed": True})
    _results(tmp_path, "drift", {"prediction_drift": False, "dataset_drift": True})  # hold gate
    _results(tmp_path, "cost_to_value", {"models_not_worth_cost": 0, "models_over_budget": 0})
    # incident_postmortem wrote nothing: its two gates cannot be evaluated
    out = tmp_path / "out.ipynb"
    pm.execute_notebook(
        str(NOTEBOOK),
        str(out),
        kernel_name="python3",
        progress_bar=False,
        cwd=str(NOTEBOOK.parent),
        parameters={"results_dir": str(tmp_path), "pack_spec": str(SPEC)},
    )
    found = json.loads((tmp_path / "review_summary.results.json").read_text())
    assert found["notebook"] == "review_summary"
    assert found["verdict"] == "hold" and found["status"] == "warn"
    by_id = {g["id"]: g for g in found["gates"]}
    assert (
        by_id["dataset-drift"]["status"] == "failed" and by_id["dataset-drift"]["outcome"] == "hold"
    )
    assert by_id["contract"]["status"] == "passed"
    assert by_id["error-budget"]["status"] == "unknown"
    assert found["metrics"] == {
        "verdict_go": False,
        "verdict_no_go": False,
        "gates_total": 7,
        "gates_failed": 1,
        "gates_unknown": 2,
        "notebooks_missing": 1,
    }
    html = "".join(
        "".join(o.get("data", {}).get("text/html", ""))
        for c in json.loads(out.read_text())["cells"]
        for o in c.get("outputs", [])
    )
    assert "drift &lt;headline&gt;" in html and "<headline>" not in html

"""notebooks/drift.ipynb runs with non-default parameters and writes its findings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "drift.ipynb"
DATA = ROOT / "data" / "sample"


@pytest.mark.slow
def test_drift_notebook_weekly_evidently_methods_with_deep_dive(tmp_path):
    import papermill as pm

    from workbench.drift._evidently import remote_refs

    out = tmp_path / "out.ipynb"
    pm.execute_notebook(
        str(NOTEBOOK),
        str(out),
        kernel_name="python3",
        progress_bar=False,
        cwd=str(NOTEBOOK.parent),
        parameters={
            "reference_path": str(DATA / "scoring" / "reference.parquet"),
            "current_path": str(DATA / "scoring" / "current.parquet"),
            "contract_path": str(DATA / "contracts" / "loan_scoring.odcs.yaml"),
            "timestamp": "scored_at",
            "window": "week",
            "prediction_columns": ["score", "decision"],
            "label_columns": ["label_default"],
            "exclude_columns": ["model_version"],
            "methods": "evidently",
            "top_charts": 2,
            "evidently_sample_rows": 400,
            "results_dir": str(tmp_path),
        },
    )
    found = json.loads((tmp_path / "drift.results.json").read_text())
    assert found["notebook"] == "drift" and found["methods"] == "evidently"
    m = found["metrics"]
    assert all(not isinstance(v, dict | list) for v in m.values())
    assert m["columns_total"] == len(found["columns"]) >= 25
    assert m["drifted_columns"] == sum(c["drifted"] for c in found["columns"])
    assert m["prediction_drift"] is True and m["contract_breaches"] > 0
    assert found["headline"].startswith(
        f"{m['drifted_columns']} of {m['columns_total']} columns drifted"
    )
    # four weekly windows (Mondays); the broker feed's percent values start in the third week
    assert m["windows_total"] == 4
    assert found["first_drift_window"]["debt_to_income"] == "2026-10-19T00:00:00+00:00"
    assert found["first_drift_window"]["region"] is None
    assert {w["start"][:10] for w in found["windows"]} == {
        "2026-10-05",
        "2026-10-12",
        "2026-10-19",
        "2026-10-26",
    }
    # the sensitive column is never compared nor shown; values outside the contract are listed
    text = out.read_text()
    assert "@example" not in text and "applicant_email" not in {
        c["column"] for c in found["columns"]
    }
    assert any(b["column"] == "home_ownership" for b in found["contract_breaches"])
    assert "image/svg+xml" in text
    # evidently's own page, next to the results, loads nothing from the network
    page = tmp_path / found["evidently_report"]
    assert page.name == "drift.evidently.html" and page.stat().st_size > 100_000
    assert remote_refs(page) == 0

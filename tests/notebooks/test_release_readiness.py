"""notebooks/release_readiness.ipynb runs with non-default parameters and writes its findings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "release_readiness.ipynb"
DATA = ROOT / "data" / "sample" / "release"


@pytest.mark.slow
def test_release_notebook_on_the_shadow_log_with_default_kpis(tmp_path):
    import papermill as pm

    pm.execute_notebook(
        str(NOTEBOOK), str(tmp_path / "out.ipynb"), kernel_name="python3", progress_bar=False,
        cwd=str(NOTEBOOK.parent),
        parameters={"logs_path": str(DATA / "shadow.parquet"), "request_id": "request_id",
                    "segments": ["channel"], "slis_path": "", "plan_path": "",
                    "stages": [5, 50, 100], "results_dir": str(tmp_path),
                    "findings_name": "release_shadow"})
    found = json.loads((tmp_path / "release_shadow.results.json").read_text())
    assert found["notebook"] == "release_readiness" and found["mode"] == "shadow"
    assert [k["name"] for k in found["kpis"]] == ["auc", "positive_rate"]  # the defaults
    assert found["decision"] in ("promote", "continue", "hold", "rollback")
    assert found["headline"].startswith(found["decision"].upper())
    assert found["next_stage_pct"] == 5  # from shadow to the plan's first stage
    assert 0 < found["metrics"]["agreement_rate"] < 1
    assert found["flips"][0]["value"] == "all"
    page = (tmp_path / "out.ipynb").read_text()
    assert "Release decision" in page and "image/svg+xml" in page
    assert "Decision flips on the same requests" in page

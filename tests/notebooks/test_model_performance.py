"""notebooks/model_performance.ipynb runs with non-default parameters and writes its findings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "model_performance.ipynb"
DATA = ROOT / "data" / "sample" / "scoring"


@pytest.mark.slow
def test_model_performance_notebook_without_late_labels_in_row_chunks(tmp_path):
    import papermill as pm

    pm.execute_notebook(
        str(NOTEBOOK), str(tmp_path / "out.ipynb"), kernel_name="python3", progress_bar=False,
        cwd=str(NOTEBOOK.parent),
        parameters={"labels_path": "", "timestamp": "", "chunk_size": 8000, "segment": "region",
                    "targets": {"f1": 0.5}, "values": {}, "findings_name": "perf_rows",
                    "results_dir": str(tmp_path)})
    found = json.loads((tmp_path / "perf_rows.results.json").read_text())
    assert found["notebook"] == "model_performance"
    m = found["metrics"]
    assert all(not isinstance(v, dict | list) for v in m.values())
    # the last two chunks of rows have no labels: f1 is estimated there, and misses 0.5
    assert m["latest_realized.f1"] is None and m["latest_estimated.f1"] < 0.5
    assert found["status"] == "fail" and "F1" in found["headline"]
    assert m["target"] == 0.5 and m["target_met"] is False
    # chunks 0 and 1 are labeled, chunk 2 partly: three estimates checked against labels
    assert m["chunks_analysis"] == 5 and m["estimate_checked_chunks"] == 3
    assert [c["key"] for c in found["performance"]["chunks"]
            if c["period"] == "analysis"][0] == "[0:7999]"
    assert "latest_estimated_value" not in m
    out = (tmp_path / "out.ipynb").read_text()
    assert "image/svg+xml" in out or "application/vnd.vegalite" in out

"""Data the builder cannot open itself: the notebook's compute refuses the absent column,
the notebook fails, and its gate is unknown (hold), never a pass."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import yaml
from click.testing import CliRunner

from workbench.cli import cli

DRIFT = Path(__file__).resolve().parents[2] / "notebooks" / "drift.ipynb"


@pytest.mark.slow
def test_absent_prediction_column_in_data_read_by_url_fails_the_notebook(tmp_path):
    frame = pl.DataFrame({"age": [20.0, 30, 40] * 50, "y_proba": [0.1, 0.5, 0.9] * 50})
    frame.write_parquet(tmp_path / "ref.parquet")
    frame.write_parquet(tmp_path / "cur.parquet")
    spec = {
        "name": "url", "title": "Data behind a URL",
        "notebooks": [{"name": "drift", "path": str(DRIFT), "parameters": {
            # a URL: the builder's pre-flight does not fetch it, the kernel does
            "current_path": (tmp_path / "cur.parquet").as_uri(),
            "reference_path": (tmp_path / "ref.parquet").as_uri(),
            "contract_path": "", "timestamp": "", "prediction_columns": ["y_prob"]}}],
        "gates": [{"id": "pred", "title": "Predictions have not drifted", "notebook": "drift",
                   "metric": "prediction_drift", "op": "==", "value": False}],
    }
    path = tmp_path / "url.yml"
    path.write_text(yaml.safe_dump(spec))
    res = CliRunner().invoke(cli, ["pack", "build", str(path), "--out", str(tmp_path / "r")])
    assert res.exit_code == 3, res.output
    version = Path(res.stdout.strip()).parent
    manifest = json.loads((version / "manifest.json").read_text())
    (nb,) = manifest["notebooks"]
    assert nb["status"] == "failed" and "prediction: expected columns of this data" in (
        nb["error"]["evalue"]
    )
    (gate,) = manifest["gates"]
    assert gate["status"] == "unknown" and manifest["verdict"] == "hold"

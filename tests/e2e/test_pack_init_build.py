"""`workbench pack init` on a public dataset the demo never saw, then `pack build` as written.

scikit-learn's bundled breast-cancer data (569 tumours, 30 measurements, no timestamp, no
costs): a logistic score stands in for the model's output, the first 300 rows are the
reference and the rest the current data.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from workbench.cli import cli


def _breast_cancer(tmp_path: Path) -> tuple[Path, Path]:
    from sklearn.datasets import load_breast_cancer

    df = pl.from_pandas(load_breast_cancer(as_frame=True).frame)
    df = df.rename({c: c.replace(" ", "_") for c in df.columns})
    score = 1 / (1 + np.exp(df["mean_radius"].to_numpy() - 14.0))
    df = df.with_columns(pl.Series("benign_proba", score))
    data = tmp_path / "data"
    data.mkdir()
    df[:300].write_parquet(data / "reference.parquet")
    df[300:].write_parquet(data / "current.parquet")
    return data / "reference.parquet", data / "current.parquet"


@pytest.mark.slow
def test_pack_init_on_breast_cancer_builds_as_written(tmp_path):
    ref, cur = _breast_cancer(tmp_path)
    spec = tmp_path / "packs" / "tumours.yml"
    spec.parent.mkdir()
    runner = CliRunner()
    res = runner.invoke(cli, [
        "pack", "init", "--reference", str(ref), "--current", str(cur),
        "--prediction", "benign_proba", "--label", "target",
        "--key-features", "mean_radius,worst_area", "--out", str(spec),
    ])
    assert res.exit_code == 0, res.output
    text = spec.read_text()
    assert '{path: "../data/current.parquet"}' in text and "scored_at" not in text

    out = tmp_path / "reports"
    res = runner.invoke(cli, ["pack", "build", str(spec), "--out", str(out), "--jobs", "2"])
    assert res.exit_code == 0, res.output
    version = Path(res.stdout.strip()).parent
    manifest = json.loads((version / "manifest.json").read_text())
    assert manifest["status"] == "ok"
    assert [n["name"] for n in manifest["notebooks"]] == ["drift", "review_summary"]
    gates = {g["id"]: g for g in manifest["gates"]}
    assert set(gates) == {"prediction-drift", "label-drift", "key-features", "dataset-drift"}
    # every gate was evaluated on this data: nothing unknown, nothing taken from the demo
    assert all(g["status"] in {"passed", "failed"} for g in gates.values()), gates
    results = json.loads((version / "drift.results.json").read_text())
    assert results["roles"] == {"benign_proba": "prediction", "target": "label"}
    assert results["metrics"]["columns_total"] == 32
    assert manifest["verdict"] in {"go", "hold", "no-go"}

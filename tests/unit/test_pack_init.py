"""`workbench pack init` refuses what would not build, before writing anything."""

from __future__ import annotations

import polars as pl
import yaml
from click.testing import CliRunner

from workbench.cli import cli
from workbench.packs.preflight import preflight
from workbench.packs.spec import load_spec


def _files(tmp_path):
    df = pl.DataFrame({"x": [1.0, 2.0, 3.0], "p": [0.1, 0.2, 0.3], "y": [0, 1, 0]})
    df.write_csv(tmp_path / "ref.csv")
    df.write_csv(tmp_path / "cur.csv")
    return ["--reference", str(tmp_path / "ref.csv"), "--current", str(tmp_path / "cur.csv")]


def test_init_writes_a_spec_that_loads_and_passes_preflight(tmp_path):
    spec = tmp_path / "sub" / "mine.yml"
    spec.parent.mkdir()
    res = CliRunner().invoke(cli, ["pack", "init", *_files(tmp_path), "--prediction", "p",
                                   "--label", "y", "--out", str(spec)])
    assert res.exit_code == 0, res.output
    raw = yaml.safe_load(spec.read_text())
    drift = raw["notebooks"][0]["parameters"]
    assert drift["current_path"] == {"path": "../cur.csv"}
    assert drift["prediction_columns"] == ["p"] and drift["label_columns"] == ["y"]
    assert raw["notebooks"][-1] == {"name": "review_summary", "path": raw["notebooks"][-1]["path"],
                                    "needs": ["drift"]}
    assert [g["metric"] for g in raw["gates"]] == ["prediction_drift", "label_drift",
                                                   "dataset_drift"]
    preflight(load_spec(spec))


def test_init_without_predictions_has_no_prediction_gate(tmp_path):
    spec = tmp_path / "mine.yml"
    res = CliRunner().invoke(cli, ["pack", "init", *_files(tmp_path), "--out", str(spec)])
    assert res.exit_code == 0, res.output
    assert [g["id"] for g in yaml.safe_load(spec.read_text())["gates"]] == ["dataset-drift"]


def test_init_refuses_an_absent_column_with_one_line(tmp_path):
    spec = tmp_path / "mine.yml"
    res = CliRunner().invoke(cli, ["pack", "init", *_files(tmp_path), "--prediction", "proba",
                                   "--out", str(spec)])
    assert res.exit_code == 2
    assert res.stderr.count("\n") == 1 and "--prediction" in res.stderr and "'proba'" in res.stderr
    assert not spec.exists()


def test_init_refuses_partial_cost_inputs_and_an_existing_spec(tmp_path):
    spec = tmp_path / "mine.yml"
    res = CliRunner().invoke(cli, ["pack", "init", *_files(tmp_path), "--costs",
                                   str(tmp_path / "ref.csv"), "--out", str(spec)])
    assert res.exit_code == 2 and "--usage" in res.stderr
    spec.write_text("kept: true\n")
    res = CliRunner().invoke(cli, ["pack", "init", *_files(tmp_path), "--out", str(spec)])
    assert res.exit_code == 2 and spec.read_text() == "kept: true\n"

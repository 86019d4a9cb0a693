"""Pack pre-flight: parameter types and named columns are refused before any kernel starts."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import yaml
from click.testing import CliRunner

from workbench.cli import cli
from workbench.errors import SpecError
from workbench.packs.params import parse_parameters
from workbench.packs.preflight import preflight
from workbench.packs.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
DRIFT = ROOT / "notebooks" / "drift.ipynb"


def _data(tmp_path: Path) -> None:
    frame = pl.DataFrame({"age": [20.0, 30, 40] * 50, "y_pred_proba": [0.1, 0.5, 0.9] * 50,
                          "target": [0, 1, 0] * 50})
    frame.write_parquet(tmp_path / "reference.parquet")
    frame.write_parquet(tmp_path / "current.parquet")


def _spec(tmp_path: Path, parameters: dict, gates: list | None = None) -> Path:
    _data(tmp_path)
    spec = {
        "name": "own",
        "title": "Own model",
        "notebooks": [{
            "name": "drift",
            "path": str(DRIFT),
            "parameters": {
                "reference_path": {"path": "reference.parquet"},
                "current_path": {"path": "current.parquet"},
                "contract_path": "",
                **parameters,
            },
        }],
        "gates": gates or [],
    }
    path = tmp_path / "own.yml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _refused(tmp_path: Path, parameters: dict, gates: list | None = None) -> str:
    with pytest.raises(SpecError) as err:
        preflight(load_spec(_spec(tmp_path, parameters, gates)))
    return str(err.value)


def test_missing_prediction_column_is_refused_naming_field_column_and_columns(tmp_path):
    msg = _refused(tmp_path, {"prediction_columns": ["y_prob"]})
    assert "notebooks[0].parameters.prediction_columns: expected columns of current_path" in msg
    assert "got 'y_prob'" in msg and "did you mean 'y_pred_proba'" in msg
    assert "columns: age, y_pred_proba, target" in msg


def test_a_string_for_a_list_is_refused(tmp_path):
    msg = _refused(tmp_path, {"prediction_columns": "y_pred_proba"})
    assert "notebooks[0].parameters.prediction_columns: expected a list" in msg
    assert "got the string 'y_pred_proba'" in msg and "[y_pred_proba]" in msg


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("timestamp", ["scored_at"], "expected a string"),
        ("drift_share", "0.5", "expected a number"),
        ("top_charts", True, "expected an integer"),
        ("top_charts", 2.5, "expected an integer"),
        ("methods", None, "expected a string"),
    ],
)
def test_other_wrong_types_are_refused(tmp_path, key, value, expected):
    assert f"parameters.{key}: {expected}" in _refused(tmp_path, {key: value})


def test_timestamp_label_exclude_and_key_features_are_checked(tmp_path):
    for key, value in [("timestamp", "scored_at"), ("label_columns", ["label_default"]),
                       ("exclude_columns", ["model_version"]), ("key_features", ["agee"])]:
        assert f"parameters.{key}: expected columns of" in _refused(tmp_path, {key: value})


def test_right_columns_and_types_pass(tmp_path):
    preflight(load_spec(_spec(tmp_path, {
        "prediction_columns": ["y_pred_proba"], "label_columns": ["target"],
        "drift_share": 1, "key_features": ["age"], "exclude_columns": [],
    })))


def test_a_misspelt_gate_metric_is_refused_with_a_did_you_mean(tmp_path):
    gate = {"id": "p", "title": "P", "notebook": "drift", "metric": "predicton_drift",
            "op": "==", "value": False}
    msg = _refused(tmp_path, {"prediction_columns": ["y_pred_proba"]}, [gate])
    assert "gates[0].metric" in msg and "did you mean 'prediction_drift'" in msg


@pytest.mark.parametrize("value", [["y_prob"], "y_pred_proba"], ids=["absent", "string"])
def test_pack_build_exits_2_with_one_line_before_any_kernel(tmp_path, value):
    spec = _spec(tmp_path, {"prediction_columns": value})
    res = CliRunner().invoke(cli, ["pack", "build", str(spec), "--out", str(tmp_path / "r")])
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "notebooks[0].parameters.prediction_columns" in lines[0]
    assert "'y_prob'" in lines[0] or "the string 'y_pred_proba'" in lines[0]
    assert not (tmp_path / "r" / "own").exists()  # nothing ran, nothing was staged


def test_unreadable_data_is_left_to_the_notebook(tmp_path):
    # a URL cannot be read here: the kernel's compute checks the columns instead
    path = _spec(tmp_path, {"prediction_columns": ["y_prob"]})
    spec = yaml.safe_load(path.read_text())
    spec["notebooks"][0]["parameters"]["current_path"] = "https://example.invalid/c.parquet"
    path.write_text(yaml.safe_dump(spec))
    preflight(load_spec(path))


def test_parameter_comments_are_read_inline_or_above():
    params = {p.name: p for p in parse_parameters(
        '# the contract ("" for none)\ncontract_path: str = "a.yaml"\n'
        'window: str = "day"  # day, week\nx = [1, 2]\n'
    )}
    assert params["contract_path"].help == 'the contract ("" for none)'
    assert params["window"].help == "day, week"
    assert params["x"].type == "" and params["x"].allowed() == ((list,), False)
    assert json.loads(json.dumps(params["window"].value)) == "day"


def test_replacing_some_demo_files_but_not_all_is_refused(tmp_path):
    path = _spec(tmp_path, {})
    spec = yaml.safe_load(path.read_text())
    del spec["notebooks"][0]["parameters"]["contract_path"]  # would check against the demo's
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(SpecError) as err:
        preflight(load_spec(path))
    msg = str(err.value)
    assert "notebooks[0].parameters.contract_path: expected a value" in msg
    assert "reference_path, current_path replaced the demo's files" in msg
    assert "loan_scoring.odcs.yaml" in msg


def test_the_demo_spec_passes_preflight():
    preflight(load_spec(ROOT / "notebooks" / "packs" / "demo.yml"))

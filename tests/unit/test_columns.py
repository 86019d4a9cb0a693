"""Columns named in parameters are checked against the data before any work (no false GO)."""

from __future__ import annotations

import polars as pl
import pytest
from click.testing import CliRunner

from workbench.cli import cli
from workbench.columns import check_named_columns
from workbench.drift import compute
from workbench.errors import InputError


def _frames(tmp_path):
    ref = pl.DataFrame({"age": [20.0, 30, 40] * 100, "y_proba": [0.1, 0.2, 0.3] * 100,
                        "target": [0, 1, 0] * 100})
    cur = pl.DataFrame({"age": [20.0, 30, 40] * 100, "y_proba": [0.7, 0.8, 0.9] * 100,
                        "target": [0, 1, 1] * 100})
    ref.write_csv(tmp_path / "ref.csv")
    cur.write_csv(tmp_path / "cur.csv")
    return tmp_path / "ref.csv", tmp_path / "cur.csv"


def test_missing_prediction_column_is_an_error_not_a_go(tmp_path) -> None:
    ref, cur = _frames(tmp_path)
    with pytest.raises(InputError) as err:
        compute(current=str(cur), reference=str(ref), prediction=["y_prob"])
    msg = str(err.value)
    assert "prediction" in msg and "'y_prob'" in msg and "did you mean 'y_proba'" in msg
    assert "age, y_proba, target" in msg and "\n" not in msg


@pytest.mark.parametrize(
    ("kw", "param"),
    [
        ({"label": ["targt"]}, "label"),
        ({"key_features": ["agee"]}, "key_features"),
        ({"timestamp": "scored_at", "window": "day"}, "timestamp"),
        ({"exclude": ["model_version"]}, "exclude"),
    ],
)
def test_every_named_column_is_checked(tmp_path, kw, param) -> None:
    ref, cur = _frames(tmp_path)
    with pytest.raises(InputError, match=rf": {param}: expected columns of this data"):
        compute(current=str(cur), reference=str(ref), **kw)


def test_prediction_only_in_current_is_named_with_the_reference_file(tmp_path) -> None:
    ref, cur = _frames(tmp_path)
    pl.read_csv(ref).drop("y_proba").write_csv(ref)
    with pytest.raises(InputError, match=r"ref\.csv: prediction: .*'y_proba'"):
        compute(current=str(cur), reference=str(ref), prediction=["y_proba"])


def test_a_string_for_a_list_of_columns_is_refused(tmp_path) -> None:
    ref, cur = _frames(tmp_path)
    with pytest.raises(InputError, match="prediction: expected a list of column names"):
        compute(current=str(cur), reference=str(ref), prediction="y_proba")


def test_no_prediction_columns_gives_a_null_metric_so_the_gate_is_unknown(tmp_path) -> None:
    ref, cur = _frames(tmp_path)
    metrics = compute(current=str(cur), reference=str(ref)).metrics
    assert metrics["prediction_drift"] is None and metrics["label_drift"] is None
    named = compute(current=str(cur), reference=str(ref), prediction=["y_proba"], label=["target"])
    assert named.metrics["prediction_drift"] is True


@pytest.mark.parametrize(
    ("option", "value"), [("--prediction", "y_prob"), ("--label", "label_default")]
)
def test_cli_prediction_and_label_naming_absent_columns_exit_2_one_line(
    tmp_path, option, value
) -> None:
    ref, cur = _frames(tmp_path)
    res = CliRunner().invoke(cli, ["drift", str(ref), str(cur), option, value])
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr
    assert f"cur.csv: {option}: expected columns of this data, got '{value}'" in lines[0]
    assert "columns: age, y_proba, target" in lines[0]


def test_cli_with_present_columns_still_runs(tmp_path) -> None:
    ref, cur = _frames(tmp_path)
    res = CliRunner().invoke(cli, ["drift", str(ref), str(cur), "--prediction", "y_proba",
                                   "--label", "target"])
    assert res.exit_code == 0, res.output


def test_long_column_lists_are_bounded() -> None:
    cols = [f"feature_{i}" for i in range(500)]
    with pytest.raises(InputError) as err:
        check_named_columns(cols, {"key_features": ["x"]}, "big.parquet")
    assert "(500 in all)" in str(err.value) and len(str(err.value)) < 600


def test_drift_api_takes_current_and_reference_by_keyword_only(tmp_path) -> None:
    # the CLI takes REFERENCE CURRENT; a positional call could silently swap the two
    ref, cur = _frames(tmp_path)
    with pytest.raises(TypeError):
        compute(str(cur), str(ref))  # type: ignore[misc]
    assert compute(current=str(cur), reference=str(ref)).columns

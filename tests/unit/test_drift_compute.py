"""workbench.drift on tiny inline frames, with hand-computed expectations, and its CLI."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from workbench.cli import cli
from workbench.contracts import ColumnSpec
from workbench.drift import compute
from workbench.drift._stats import Summary, sturges_edges
from workbench.errors import InputError


def test_wasserstein_is_normed_by_reference_std() -> None:
    # reference 0/1 half-half (std 0.5); current shifted by 0.5: W = 0.5, normed 1.0
    ref = pl.DataFrame({"x": [0.0, 1.0] * 600})
    cur = pl.DataFrame({"x": [0.5, 1.5] * 600})
    col = compute(current=cur, reference=ref, method={"x": "wasserstein"}).columns[0]
    assert col.method == "wasserstein"
    assert col.statistic == pytest.approx(1.0)
    assert col.drifted


def test_default_methods_follow_reference_size_and_distinct_values() -> None:
    rng = np.random.default_rng(0)
    small = pl.DataFrame(
        {
            "num": rng.normal(size=500),
            "few": rng.choice([1.0, 2.0, 3.0], 500),
            "two": rng.choice([0.0, 1.0], 500),
            "cat": rng.choice(["a", "b", "c"], 500),
        }
    )
    got = {c.column: c.method
           for c in compute(current=small, reference=small, methods="evidently").columns}
    assert got == {"num": "ks", "few": "chisquare", "two": "z", "cat": "chisquare"}
    big = pl.DataFrame(
        {
            "num": rng.normal(size=1001),
            "few": rng.choice([1.0, 2.0, 3.0], 1001),
            "cat": rng.choice(["a", "b", "c"], 1001),
        }
    )
    got = {c.column: c.method
           for c in compute(current=big, reference=big, methods="evidently").columns}
    assert got == {"num": "wasserstein", "few": "jensenshannon", "cat": "jensenshannon"}


def test_type_inference_matches_evidently_rules() -> None:
    n = 100
    frame = pl.DataFrame(
        {
            "small_int": [i % 4 for i in range(n)],  # <= 10 distinct ints: categorical
            "big_int": list(range(n)),  # > 10 distinct ints: numerical
            "int_with_null": [None] + [i % 4 for i in range(n - 1)],  # float in pandas: numerical
            "flag": [i % 2 == 0 for i in range(n)],  # bool: categorical
            "ident": [f"id{i}" for i in range(n)],  # mostly distinct strings: text, skipped
            "when": [datetime(2026, 1, 1)] * n,  # dates are not compared
        }
    )
    result = compute(current=frame, reference=frame)
    types = {c.column: c.type for c in result.columns}
    assert types == {
        "small_int": "categorical",
        "big_int": "numerical",
        "int_with_null": "numerical",
        "flag": "categorical",
    }
    assert {s["column"] for s in result.skipped} == {"ident", "when"}


def test_missing_and_infinite_values_are_dropped_like_evidently() -> None:
    rng = np.random.default_rng(1)
    ref = rng.normal(size=300)
    cur = rng.normal(0.3, 1, size=300)
    clean = compute(current=pl.DataFrame({"x": cur}), reference=pl.DataFrame({"x": ref})).columns[0]
    dirty_cur = np.concatenate([cur, [np.nan, np.inf, -np.inf]])
    dirty = compute(
        current=pl.DataFrame({"x": dirty_cur}),
        reference=pl.DataFrame({"x": pl.Series(list(ref) + [None], dtype=pl.Float64)}),
    ).columns[0]
    assert dirty.statistic == clean.statistic and dirty.rows_current == 300


def test_ks_matches_scipy_on_ties() -> None:
    from scipy.stats import ks_2samp

    ref = [1.0, 2.0, 2.0, 3.0, 5.0] * 20
    cur = [2.0, 2.0, 3.0, 4.0, 6.0, 6.0] * 15
    col = compute(current=pl.DataFrame({"x": cur}), reference=pl.DataFrame({"x": ref})).columns[0]
    assert col.method == "ks"
    assert col.statistic == pytest.approx(ks_2samp(ref, cur).pvalue, rel=1e-12)


@pytest.mark.parametrize("integer", [True, False])
def test_sturges_edges_equal_numpy(integer: bool) -> None:
    rng = np.random.default_rng(2)
    for size in (7, 50, 1234):
        a = rng.integers(-3, 40, size) if integer else rng.normal(size=size) * 10
        want = np.histogram_bin_edges(a, bins="sturges")
        s = Summary.from_sorted(np.sort(a).astype(float), integer)
        got = sturges_edges(s.values[0], s.values[-1], size, integer)
        np.testing.assert_array_equal(got, want)


def test_dataset_drift_at_exactly_the_share() -> None:
    ref = pl.DataFrame({"a": ["x", "y"] * 600, "b": ["x", "y"] * 600})
    cur = pl.DataFrame({"a": ["x"] * 1200, "b": ["x", "y"] * 600})  # one of two drifted
    result = compute(current=cur, reference=ref, drift_share=0.5)
    assert result.drifted_columns == 1 and result.dataset_drift  # 0.5 >= 0.5
    assert not compute(current=cur, reference=ref, drift_share=0.6).dataset_drift


def test_to_dict_has_exactly_the_design_keys() -> None:
    ref = pl.DataFrame({"a": ["x", "y"] * 600})
    d = compute(current=ref, reference=ref).to_dict()
    assert set(d) == {"dataset_drift", "drift_share", "drifted_columns", "columns"}
    assert set(d["columns"][0]) == {"column", "type", "method", "statistic", "threshold", "drifted"}


def test_per_column_overrides_and_bad_overrides() -> None:
    ref = pl.DataFrame({"x": [0.0, 1.0] * 600, "c": ["a", "b"] * 600})
    r = compute(current=ref, reference=ref, method={"c": "psi"}, threshold={"x": 0.5})
    got = {c.column: (c.method, c.threshold) for c in r.columns}
    assert got == {"x": ("jensenshannon", 0.5), "c": ("psi", 0.1)}
    with pytest.raises(InputError, match="needs a numerical column"):
        compute(current=ref, reference=ref, method={"c": "ks"})
    with pytest.raises(InputError, match="expected a drift method"):
        compute(current=ref, reference=ref, method={"x": "bogus"})


def _specs() -> list[ColumnSpec]:
    def spec(name, logical, valid=None, sensitive=False, unique=False):
        return ColumnSpec(
            name=name,
            logical_type=logical,
            physical_type=None,
            required=False,
            unique=unique,
            valid_values=valid,
            minimum=None,
            maximum=None,
            sensitive=sensitive,
        )

    return [
        spec("id", "string", unique=True),
        spec("code", "integer", valid=(1, 2, 3)),
        spec("channel", "string", valid=("web", "broker")),
        spec("email", "string", sensitive=True),
        spec("amount", "number"),
    ]


class _Contract:
    id = "urn:test"

    def columns(self, schema=None):
        return _specs()


def test_contract_types_breaches_and_sensitive_columns() -> None:
    n = 1200
    ref = pl.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "code": [1, 2, 3] * 400,
            "channel": ["web", "broker"] * 600,
            "email": ["a@x.org"] * n,
            "amount": [float(i % 50) for i in range(n)],
        }
    )
    cur = ref.with_columns(
        pl.Series("channel", ["web", "<b>partner</b>"] * 600),
        pl.Series("email", ["secret@x.org"] * n),
    )
    result = compute(current=cur, reference=ref, contract=_Contract())
    types = {c.column: c.type for c in result.columns}
    assert types == {"code": "categorical", "channel": "categorical", "amount": "numerical"}
    assert [(b.column, b.value, b.rows) for b in result.breaches if b.side == "current"] == [
        ("channel", "<b>partner</b>", 600)
    ]
    text = json.dumps(result.findings().to_dict()) + result._repr_html_()
    assert "secret@x.org" not in text and "a@x.org" not in text
    assert "&lt;b&gt;partner" in result._repr_html_() and "<b>partner" not in result._repr_html_()


def test_daily_windows_find_the_first_drifted_day() -> None:
    start = datetime(2026, 10, 5, tzinfo=UTC)
    rng = np.random.default_rng(4)
    ref = pl.DataFrame({"x": rng.normal(size=2000)})
    times = [start + timedelta(hours=i * 24 / 500) for i in range(2500)]  # 5 days
    x = rng.normal(size=2500)
    x[1500:] += 2.0  # from day 4 on
    cur = pl.DataFrame({"ts": times, "x": x})
    result = compute(current=cur, reference=ref, timestamp="ts", window="day")
    days = sorted({w.start for w in result.windows})
    assert len(days) == 5 and days[0] == start
    assert [w.drifted for w in sorted(result.windows, key=lambda w: w.start)] == [False] * 3 + [
        True
    ] * 2
    assert result.first_drift_window() == {"x": "2026-10-08T00:00:00+00:00"}
    assert result.metrics["windows_total"] == 5
    r3 = compute(current=cur, reference=ref, timestamp="ts", window="3d")
    assert len({w.start for w in r3.windows}) == 2


def test_prediction_drift_flag_and_ranking() -> None:
    ref = pl.DataFrame({"score": [0.1, 0.2] * 600, "f": ["a", "b"] * 600})
    cur = pl.DataFrame({"score": [0.8, 0.9] * 600, "f": ["a"] * 1200})
    result = compute(current=cur, reference=ref, prediction=["score"])
    assert result.prediction_drift and result.status == "fail"
    assert [c.column for c in result.ranked()] == ["score", "f"]
    assert result.metrics["prediction_drift"] is True


def test_infinite_statistic_is_json_null() -> None:
    # a category only in current: evidently's chi-square p is 0, psi is finite; both serialise
    ref = pl.DataFrame({"c": ["a", "b", "c"] * 100})
    cur = pl.DataFrame({"c": ["a", "b", "d"] * 100})
    col = compute(current=cur, reference=ref, methods="evidently").columns[0]
    assert col.method == "chisquare" and col.statistic == 0.0 and col.drifted
    assert not math.isnan(col.statistic)


# --- CLI --------------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path):
    ref = pl.DataFrame({"a": ["x", "y"] * 600, "b": [float(i % 7) for i in range(1200)]})
    cur = pl.DataFrame({"a": ["x"] * 1200, "b": [float(i % 7) + 3 for i in range(1200)]})
    ref.write_parquet(tmp_path / "ref.parquet")
    cur.write_csv(tmp_path / "cur.csv")
    return tmp_path / "ref.parquet", tmp_path / "cur.csv"


def test_cli_json_and_fail_on_drift(files) -> None:
    ref, cur = files
    res = CliRunner().invoke(cli, ["drift", str(ref), str(cur), "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["dataset_drift"] is True and out["drifted_columns"] == 2
    assert [c["column"] for c in out["columns"]] == ["a", "b"]
    res = CliRunner().invoke(cli, ["drift", str(ref), str(cur), "--fail-on-drift"])
    assert res.exit_code == 1 and "2 of 2 columns drifted" in res.output
    res = CliRunner().invoke(
        cli,
        ["drift", str(ref), str(cur), "--columns", "b", "--drift-share", "0.9", "--fail-on-drift"],
    )
    assert res.exit_code == 1
    res = CliRunner().invoke(cli, ["drift", str(ref), str(ref), "--fail-on-drift"])
    assert res.exit_code == 0


def test_cli_bad_input_is_one_line_exit_2(files) -> None:
    ref, cur = files
    res = CliRunner().invoke(cli, ["drift", str(ref), str(cur), "--columns", "nope"])
    assert res.exit_code == 2 and "nope" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(cli, ["drift", str(ref), str(ref.parent / "missing.csv")])
    assert res.exit_code == 2 and "missing.csv" in res.output
    res = CliRunner().invoke(cli, ["drift", str(ref), str(cur), "--method", "a=ks"])
    assert res.exit_code == 2 and "needs a numerical column" in res.output
    res = CliRunner().invoke(cli, ["drift", str(ref), str(cur), "--window", "day"])
    assert res.exit_code == 2 and "timestamp" in res.output


def test_cli_windows_and_prediction_in_json(tmp_path) -> None:
    start = datetime(2026, 10, 5, tzinfo=UTC)
    ref = pl.DataFrame({"score": [0.1, 0.2, 0.3] * 400})
    cur = pl.DataFrame(
        {"ts": [start + timedelta(hours=i) for i in range(48)] * 25, "score": [0.1, 0.2, 0.3] * 400}
    )
    cur = cur.with_columns(
        pl.when(pl.col("ts") >= start + timedelta(days=1))
        .then(pl.col("score") + 0.5)
        .otherwise(pl.col("score"))
        .alias("score")
    )
    ref.write_parquet(tmp_path / "ref.parquet")
    cur.write_parquet(tmp_path / "cur.parquet")
    res = CliRunner().invoke(
        cli,
        [
            "drift",
            str(tmp_path / "ref.parquet"),
            str(tmp_path / "cur.parquet"),
            "--timestamp",
            "ts",
            "--window",
            "1d",
            "--prediction",
            "score",
            "--format",
            "json",
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert [(w["start"][:10], w["drifted"]) for w in out["windows"]] == [
        ("2026-10-05", False),
        ("2026-10-06", True),
    ]
    assert out["first_drift_window"] == {"score": "2026-10-06T00:00:00+00:00"}
    res = CliRunner().invoke(
        cli,
        [
            "drift",
            str(tmp_path / "ref.parquet"),
            str(tmp_path / "cur.parquet"),
            "--timestamp",
            "ts",
            "--window",
            "fortnight",
        ],
    )
    assert res.exit_code == 2 and "window" in res.output


def test_excluded_columns_are_skipped_with_their_reason():
    import polars as pl

    from workbench.drift import compute

    frame = pl.DataFrame({"x": [1.0, 2.0, 3.0] * 400, "model_version": ["v3"] * 1200})
    moved = frame.with_columns(pl.lit("v4").alias("model_version"))
    result = compute(current=moved, reference=frame, exclude=["model_version"])
    assert [c["column"] for c in result.to_dict()["columns"]] == ["x"]
    skipped = result.findings().to_dict()["skipped"]
    assert {"column": "model_version", "reason": "excluded by the caller"} in skipped


def test_strings_handed_to_evidently_cannot_open_markup():
    import polars as pl

    from workbench.drift._evidently import _defang

    payload = '</script><img src=x onerror="alert(1)">\u2028'
    out = _defang(pl.DataFrame({payload: [payload, "ok"], "n": [1, 2]}))
    text = " ".join([*out.columns, *out[out.columns[0]].to_list()])
    assert not any(ch in text for ch in "<>&\"'\u2028")
    assert out.columns[1] == "n" and out[out.columns[0]][1] == "ok"


def test_named_column_with_no_values_is_one_line_exit_2(tmp_path):
    from click.testing import CliRunner

    from workbench.cli import cli

    ref, cur = tmp_path / "ref.csv", tmp_path / "cur.csv"
    ref.write_text("x,y\n,1\n,2\n,3\n")
    cur.write_text("x,y\n,1\n,5\n,3\n")
    result = CliRunner().invoke(cli, ["drift", str(ref), str(cur), "--columns", "x"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cur.csv: x: expected a column with values" in lines[0]
    # with another comparable column named too, x is skipped and y is compared
    args = ["drift", str(ref), str(cur), "--columns", "x,y", "--format", "json"]
    ok = CliRunner().invoke(cli, args)
    assert ok.exit_code == 0 and '"column": "y"' in ok.stdout


def test_key_features_share_and_their_gate_metric(files) -> None:
    ref = pl.DataFrame({"a": ["x", "y"] * 600, "b": ["x", "y"] * 600, "c": ["x", "y"] * 600,
                        "email": ["p@q.io"] * 1200})
    cur = pl.DataFrame({"a": ["x"] * 1200, "b": ["x", "y"] * 600, "c": ["x", "y"] * 600,
                        "email": ["p@q.io"] * 1200})
    result = compute(current=cur, reference=ref, key_features=["a", "b"], exclude=["email"])
    assert result.drifted_share == pytest.approx(1 / 3)    # a of a, b, c
    assert result.key_drifted_share == 0.5                 # a of the key features a, b
    m = result.metrics
    assert (m["key_features_total"], m["key_drifted_columns"], m["key_drifted_share"]) == (
        2, 1, 0.5)
    assert result.frame()["key feature"].to_list() == [True, True, False]  # a drifted first
    assert "key_drifted_share" not in compute(current=cur, reference=ref).metrics
    # a key feature that is not compared is an input error naming it and why
    with pytest.raises(InputError, match=r"key_features: .*'email' \(excluded by the caller\)"):
        compute(current=cur, reference=ref, key_features=["a", "email"], exclude=["email"])
    with pytest.raises(InputError, match=r"key_features: expected columns of this data, got 'zzz'"):
        compute(current=cur, reference=ref, key_features=["zzz"])

    refp, curp = files
    res = CliRunner().invoke(cli, ["drift", str(refp), str(curp), "--format", "json",
                                   "--key-features", "b"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["key_drifted_share"] == 1.0
    res = CliRunner().invoke(cli, ["drift", str(refp), str(curp), "--key-features", "b,a"])
    assert "key features: 2 of 2 drifted (100%)" in res.output

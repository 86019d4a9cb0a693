"""Drift on continuous data stays in native code, windows reuse the whole-period work, and
the CLI never turns an empty or uncomparable input into a "no drift" verdict."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from workbench.cli import cli
from workbench.drift import compute
from workbench.drift._stats import Summary, evaluate, ks, wasserstein


class _NoPython(np.ndarray):
    """An array that refuses to be walked value by value in Python."""

    def __iter__(self):
        raise AssertionError("iterated over values in Python")

    def tolist(self):
        raise AssertionError("converted values to a Python list")


def _summary(values: np.ndarray) -> Summary:
    s = Summary.from_sorted(np.sort(values))
    return Summary(s.values.view(_NoPython), s.counts.view(_NoPython), s.integer)


@pytest.mark.parametrize("method", [None, "ks", "wasserstein", "psi", "kl_div",
                                    "jensenshannon", "hellinger"])
def test_numerical_statistics_never_walk_values_in_python(method: str | None) -> None:
    rng = np.random.default_rng(1)
    cur, ref = _summary(rng.normal(0.1, 1, 5000)), _summary(rng.normal(0, 1, 4000))
    out = evaluate(cur, ref, "numerical", method)
    assert out.method == (method or "wasserstein")
    plain = evaluate(Summary(np.asarray(cur.values), np.asarray(cur.counts)),
                     Summary(np.asarray(ref.values), np.asarray(ref.counts)), "numerical", method)
    assert out.statistic == plain.statistic


def test_method_choice_on_continuous_columns_does_not_build_the_union() -> None:
    rng = np.random.default_rng(2)
    cur, ref = _summary(rng.normal(size=3000)), _summary(rng.normal(size=800))
    assert evaluate(cur, ref, "numerical").method == "ks"  # small reference, many values


@pytest.mark.parametrize("seed", range(40))
def test_window_forms_equal_the_union_forms(seed: int) -> None:
    # the window path steps over the window's values only; K-S must agree exactly and
    # Wasserstein to rounding, on ties, disjoint ranges and single values alike
    rng = np.random.default_rng(seed)
    kind = seed % 4
    n_ref, n_cur = int(rng.integers(1, 2000)), int(rng.integers(1, 300))
    if kind == 0:
        r, c = rng.normal(size=n_ref), rng.normal(rng.normal(), 1, n_cur)
    elif kind == 1:
        r, c = rng.integers(0, 9, n_ref) * 1.0, rng.integers(-3, 12, n_cur) * 1.0
    elif kind == 2:
        r, c = rng.lognormal(3, 2, n_ref), rng.lognormal(3, 2, n_cur) + 1e4
    else:
        r, c = rng.uniform(-1, 1, n_ref), np.full(n_cur, rng.uniform(-2, 2))
    cs, rs = Summary.from_sorted(np.sort(c)), Summary.from_sorted(np.sort(r))
    assert ks(cs, rs, windowed=True) == ks(cs, rs)
    assert wasserstein(cs, rs, windowed=True) == pytest.approx(
        wasserstein(cs, rs), rel=1e-11, abs=1e-12
    )


def _logs(rows: int, seed: int, shift: float) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    start = datetime(2026, 3, 1)
    return pl.DataFrame(
        {
            "ts": [start + timedelta(minutes=int(m)) for m in rng.integers(0, 7 * 1440, rows)],
            "score": rng.normal(shift, 1, rows),
            "amount": rng.lognormal(3, 1 + shift, rows),
            "tier": rng.choice(["a", "b", "c"], rows, p=[0.5 - shift / 3, 0.3, 0.2 + shift / 3]),
        }
    )


@pytest.mark.parametrize("mode", ["evidently", "calibrated"])
def test_each_window_equals_a_comparison_of_that_window_alone(mode: str) -> None:
    cur, ref = _logs(6000, 1, 0.3), _logs(3000, 2, 0.0)
    res = compute(current=cur, reference=ref, timestamp="ts", window="day", methods=mode)
    methods = {c.column: c.method for c in res.columns}
    assert len(res.windows) == 7 * 3
    for w in res.windows:
        part = cur.filter((pl.col("ts") >= w.start) & (pl.col("ts") < w.end))
        alone = compute(current=part.drop("ts"), reference=ref.drop("ts"), methods=mode,
                        columns=[w.column], method={w.column: methods[w.column]}).columns[0]
        assert w.rows == alone.rows_current
        assert w.statistic == pytest.approx(alone.statistic, rel=1e-9, abs=1e-12), w
        assert w.drifted == alone.drifted


@pytest.mark.parametrize("name", ["n", "count", "len", "values", "v", "counts"])
def test_a_column_named_like_polars_internals_is_compared(name: str, tmp_path) -> None:
    rng = np.random.default_rng(3)
    ref = pl.DataFrame({name: rng.choice(["x", "y", "z"], 2000), "k": rng.integers(0, 4, 2000)})
    cur = pl.DataFrame({name: rng.choice(["x", "y"], 2000), "k": rng.integers(0, 4, 2000)})
    res = compute(current=cur.rename({"k": "n" if name != "n" else "count"}),
                  reference=ref.rename({"k": "n" if name != "n" else "count"}))
    assert {c.column for c in res.columns} == {name, "n" if name != "n" else "count"}
    assert next(c for c in res.columns if c.column == name).drifted
    ref.write_csv(tmp_path / "ref.csv")
    cur.write_csv(tmp_path / "cur.csv")
    out = CliRunner().invoke(cli, ["drift", str(tmp_path / "ref.csv"), str(tmp_path / "cur.csv"),
                                   "--format", "json"])
    assert out.exit_code == 0, out.output
    assert {c["column"] for c in json.loads(out.output)["columns"]} == {name, "k"}


def test_empty_current_is_one_line_exit_2_even_with_fail_on_drift(tmp_path) -> None:
    ref = pl.DataFrame({"a": np.arange(50.0), "b": ["x", "y"] * 25})
    ref.write_csv(tmp_path / "ref.csv")
    ref.head(0).write_csv(tmp_path / "cur.csv")
    for extra in ([], ["--fail-on-drift"], ["--format", "json", "--fail-on-drift"]):
        out = CliRunner().invoke(
            cli, ["drift", str(tmp_path / "ref.csv"), str(tmp_path / "cur.csv"), *extra]
        )
        assert out.exit_code == 2, out.output
        lines = out.output.strip().splitlines()
        assert len(lines) == 1 and "cur.csv" in lines[0] and "row" in lines[0], lines


def test_empty_reference_is_refused_too() -> None:
    ref = pl.DataFrame({"a": [1.0]}).head(0)
    with pytest.raises(Exception, match="reference: rows: expected at least one row"):
        compute(current=pl.DataFrame({"a": [1.0, 2.0]}), reference=ref)


def test_all_null_columns_are_listed_as_not_compared(tmp_path) -> None:
    rng = np.random.default_rng(4)
    ref = pl.DataFrame({"a": rng.normal(size=300), "gone": [None] * 300,
                        "txt": ["p", "q", "r"] * 100})
    cur = pl.DataFrame({"a": rng.normal(size=300), "gone": [None] * 300,
                        "txt": pl.Series([None] * 300, dtype=pl.String)})
    ref.write_parquet(tmp_path / "ref.parquet")
    cur.write_parquet(tmp_path / "cur.parquet")
    args = ["drift", str(tmp_path / "ref.parquet"), str(tmp_path / "cur.parquet")]
    out = CliRunner().invoke(cli, [*args, "--format", "json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert [c["column"] for c in doc["columns"]] == ["a"]
    reasons = {s["column"]: s["reason"] for s in doc["not_compared"]}
    assert set(reasons) == {"gone", "txt"}
    assert all("all null" in r for r in reasons.values()), reasons
    table = CliRunner().invoke(cli, args)
    assert "not compared: gone (no values in the current data (all null))" in table.output
    assert "not compared: txt" in table.output


def test_nothing_comparable_is_exit_2_not_a_pass(tmp_path) -> None:
    pl.DataFrame({"gone": [None, None, None]}, schema={"gone": pl.Float64}).write_parquet(
        tmp_path / "cur.parquet"
    )
    pl.DataFrame({"gone": [1.0, 2.0, 3.0]}).write_parquet(tmp_path / "ref.parquet")
    out = CliRunner().invoke(cli, ["drift", str(tmp_path / "ref.parquet"),
                                   str(tmp_path / "cur.parquet"), "--fail-on-drift"])
    assert out.exit_code == 2, out.output
    assert len(out.output.strip().splitlines()) == 1
    assert "gone: no values in the current data (all null)" in out.output



@pytest.mark.parametrize("seed", range(12))
def test_window_positions_without_a_search_equal_the_search(seed: int) -> None:
    # K-S's "left" positions from the "right" ones, and Wasserstein's CDF crossings from
    # integers, must be the very elements np.searchsorted finds (ties, and reference sizes
    # that are multiples of the window's, where j n / m lands on whole numbers)
    from workbench.drift._stats import _first_reaching, _left_of

    rng = np.random.default_rng(seed)
    n_cur = int(rng.integers(2, 3000))
    n_ref = n_cur * int(rng.integers(1, 6)) if seed % 2 else int(rng.integers(1, 20000))
    r = rng.normal(size=n_ref) if seed % 3 else rng.integers(0, 40, n_ref) * 1.0
    c = rng.normal(size=n_cur) if seed % 4 else np.concatenate((r[: n_cur // 2], r[:3]))
    rs, cs = Summary.from_sorted(np.sort(r)), Summary.from_sorted(np.sort(c))
    right = np.searchsorted(rs.values, cs.values, side="right")
    assert np.array_equal(_left_of(rs.values, cs.values, right),
                          np.searchsorted(rs.values, cs.values, side="left"))
    j = cs.cum[1:-1]
    q = j / cs.n
    assert np.array_equal(_first_reaching(rs, j, cs.n, q),
                          np.searchsorted(rs.cdf, q, side="left"))


@pytest.mark.parametrize("gaps", [False, True])
def test_whole_period_results_are_the_same_with_windows(gaps: bool) -> None:
    # with windows the whole-period current summaries are merged from the windows' sorted
    # runs (or, when some rows have no time, sorted as without windows): same bits either way
    rng = np.random.default_rng(7)
    cur, ref = _logs(5000, 3, 0.2), _logs(2500, 4, 0.0)
    rows = cur.height
    extra = {
        "count": np.where(rng.random(rows) < 0.05, None, rng.integers(0, 40, rows)).tolist(),
        "few": rng.integers(0, 4, rows).tolist(),
        "units": rng.integers(0, 40, rows).tolist(),  # integers, no nulls: integer edges
        "level": np.where(rng.random(rows) < 0.02, np.inf, rng.normal(size=rows)).tolist(),
    }
    cur = cur.with_columns(pl.Series(k, v) for k, v in extra.items())
    ref = ref.with_columns(
        pl.Series("count", rng.integers(0, 40, ref.height)),
        pl.Series("few", rng.integers(0, 4, ref.height)),
        pl.Series("units", rng.integers(0, 40, ref.height)),
        pl.Series("level", rng.normal(size=ref.height)),
    )
    if gaps:  # rows without a time are in the whole period, in no window
        cur = cur.with_columns(pl.when(pl.int_range(pl.len()) % 13 == 0).then(None)
                               .otherwise(pl.col("ts")).alias("ts"))
    for mode in ("evidently", "calibrated"):
        plain = compute(current=cur, reference=ref, methods=mode, exclude=["ts"])
        windowed = compute(current=cur, reference=ref, methods=mode, timestamp="ts",
                           window="day")
        assert windowed.columns == plain.columns
        assert len(windowed.windows) == 7 * len(plain.columns)
        for c in plain.columns:
            a, b = plain.summaries.current[c.column], windowed.summaries.current[c.column]
            assert np.array_equal(a.values, b.values) and np.array_equal(a.counts, b.counts)
            assert a.integer == b.integer
        assert plain.summaries.current["units"].integer

"""Parity with evidently 0.7 on continuous columns: 100k distinct values on each side.

The parity sets in test_drift_parity.py are real datasets of a few thousand rows; here every
value is distinct, the case where the statistics must work on sorted arrays rather than on
sets of values. One evidently report serves the whole module (importing evidently alone
takes about 5 s): each column carries a different method through ``per_column_method``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import polars as pl
import pytest

from workbench.drift import compute

ROWS = 100_000
DISPLAY = {
    "K-S p_value": "ks",
    "Wasserstein distance (normed)": "wasserstein",
    "Jensen-Shannon distance": "jensenshannon",
    "PSI": "psi",
    "Kullback-Leibler divergence": "kl_div",
    "Hellinger distance": "hellinger",
}
METHODS = {
    "shifted": None,  # evidently's default: wasserstein (reference over 1000 rows)
    "same": None,
    "amount": "ks",
    "scaled": "psi",
    "tail": "kl_div",
    "holes": "hellinger",
    "score": "jensenshannon",
    "gauge": "wasserstein",
}


def _frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(14)

    def side(n: int, drift: float) -> pd.DataFrame:
        holes = rng.normal(0, 1, n)
        holes[rng.choice(n, n // 20, replace=False)] = np.nan
        holes[rng.choice(n, n // 100, replace=False)] = np.inf
        holes[rng.choice(n, n // 100, replace=False)] = -np.inf
        return pd.DataFrame(
            {
                "shifted": rng.normal(drift, 1, n),
                "same": rng.normal(0, 1, n),
                "amount": rng.lognormal(3 + drift / 10, 2, n),
                "scaled": rng.normal(0, 1 + drift, n),
                "tail": rng.pareto(2 + drift, n),
                "holes": holes + drift / 5,
                "score": rng.beta(2, 5 + drift, n),
                "gauge": rng.uniform(-1, 1 + drift / 50, n) * 1e6,
            }
        )

    return side(ROWS, 0.3), side(ROWS, 0.0)


@pytest.fixture(scope="module")
def runs() -> tuple[dict, pl.DataFrame, pl.DataFrame]:
    cur, ref = _frames()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from evidently import Report
        from evidently.presets import DataDriftPreset

        per_column = {c: m for c, m in METHODS.items() if m}
        snap = Report([DataDriftPreset(per_column_method=per_column)], include_tests=True)
        d = snap.run(cur, ref).dict()
    expected: dict[str, list] = {}
    for m in d["metrics"]:
        cfg = m["config"]
        if cfg["type"].endswith("ValueDrift"):
            expected[cfg["column"]] = [DISPLAY.get(cfg["method"], cfg["method"]),
                                       float(m["value"]), cfg["threshold"], None]
    for t in d["tests"]:
        if t["name"].startswith("Value Drift for column "):
            expected[t["name"].removeprefix("Value Drift for column ")][3] = t["status"] == "FAIL"
    return expected, pl.from_pandas(cur), pl.from_pandas(ref)


def test_every_value_distinct_on_each_side(runs) -> None:
    _, cur, ref = runs
    for frame in (cur, ref):
        finite = frame.select(pl.all().filter(pl.all().is_finite()).n_unique())
        assert min(finite.row(0)) > 0.9 * ROWS


@pytest.mark.parametrize("mode", ["evidently", "calibrated"])
def test_statistics_equal_evidently_on_continuous_columns(runs, mode: str) -> None:
    expected, cur, ref = runs
    ours = compute(current=cur, reference=ref, methods=mode,
                   method={c: m for c, m in METHODS.items() if m})
    got = {c.column: c for c in ours.columns}
    assert set(got) == set(METHODS) == set(expected)
    for col, (meth, value, threshold, drifted) in expected.items():
        mine = got[col]
        assert mine.method == (METHODS[col] or "wasserstein") == meth, col
        assert mine.threshold == threshold, col
        assert math.isfinite(value) and mine.statistic == pytest.approx(
            value, rel=1e-6, abs=1e-12
        ), (col, meth, mine.statistic, value)
        assert mine.drifted == drifted, (col, meth)
    # the data are built so that both verdicts occur
    assert {True, False} == {c.drifted for c in ours.columns}

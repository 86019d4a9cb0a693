"""The fast paths of workbench.performance give the numbers of the plain ones: the sort by
uint64 keys, the ECE bins of sorted scores, the ranking metrics from the positives alone,
the estimated ROC AUC in blocks, and a whole evaluation on untied scores (the fast ranking
path) against scikit-learn per chunk and per segment."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from sklearn import metrics as skm

from workbench import performance
from workbench.performance import _metrics, _sort


def _scores(kind: str, rng: np.random.Generator, n: int) -> np.ndarray:
    if kind == "uniform":
        return rng.random(n)
    if kind == "rounded":
        return np.round(rng.random(n), 3)
    if kind == "signed":
        x = np.where(rng.random(n) < 0.1, -0.0, rng.normal(0, 5, n))
        x[::7] = 0.0
        return x
    if kind == "near_equal":
        return 0.5 + rng.integers(0, 50, n) * 1e-16
    if kind == "tied_and_near":  # exact ties beside scores the key's shift cannot tell apart
        x = np.round(rng.random(n), 2)
        x[::3] += rng.integers(0, 5, x[::3].size) * 1e-15
        return x
    return rng.random(n) * 1e-300


@pytest.mark.parametrize("kind", ["uniform", "rounded", "signed", "near_equal", "tied_and_near",
                                  "tiny"])
def test_descending_order_is_a_stable_argsort(kind):
    rng = np.random.default_rng(len(kind))
    for n in (10, 70_000, 250_000):
        x = _scores(kind, rng, n)
        order, values = _sort.descending(x)
        assert np.array_equal(order, np.argsort(-x, kind="stable")), n
        assert np.array_equal(values, x[order])


def test_ece_bins_of_sorted_scores_equal_searchsorted_on_the_edges():
    edges = np.linspace(0, 1, 11)
    rng = np.random.default_rng(0)
    for n in (0, 1, 10_000):
        s = np.r_[rng.random(n), edges, np.nextafter(edges, 2),
                  np.nextafter(edges, -1).clip(0, 1), np.arange(0, 1.0001, 0.001)]
        s = np.sort(s)[::-1].copy()
        assert np.array_equal(_metrics.ece_bin_descending(s), _metrics.ece_bin(s))
    assert _metrics.ece_bin_descending(np.array([])).size == 0


def test_ranking_from_the_positives_equals_the_walk_over_the_points():
    rng = np.random.default_rng(3)
    for _ in range(200):
        n = int(rng.integers(1, 400))
        s = np.sort(rng.random(n))[::-1]  # distinct, descending
        y = (rng.random(n) < rng.uniform(0, 1)).astype(np.float64)
        lab = rng.random(n) < rng.uniform(0.3, 1)
        d = (rng.random(n) < 0.5).astype(np.float64)
        target = np.where(lab, y, np.nan)
        state = _metrics.state_of(target, d)
        auc, ap = _metrics.ranking_distinct(state)
        ys = y[lab]
        pos = np.array([ys.sum()])
        ref_auc, ref_ap = _metrics._ranking(np.zeros(ys.size, np.intp), 1, s[lab], ys, pos,
                                            ys.size - pos)
        if pos[0] and ys.size - pos[0]:
            assert auc == ref_auc[0]  # bit for bit
        if pos[0]:
            assert ap == ref_ap[0]
        else:
            assert np.isnan(ap)


def test_ranking_over_runs_of_tied_scores_equals_the_walk_over_the_points():
    rng = np.random.default_rng(8)
    for i in range(300):
        n = int(rng.integers(1, 500))
        s = np.sort(np.round(rng.random(n), int(rng.integers(1, 3))))[::-1]
        y = (rng.random(n) < rng.uniform(0, 1)).astype(np.float64)
        lab = rng.random(n) < (1.0 if i % 4 == 0 else rng.uniform(0, 1))
        target = np.where(lab, y, np.nan)
        state = _metrics.state_of(target, np.zeros(n))
        block = np.r_[0, np.cumsum(s[1:] != s[:-1])]
        auc, ap = _metrics.ranking_tied(state, block)
        ys = y[lab]
        pos = np.array([ys.sum()])
        ref_auc, ref_ap = _metrics._ranking(np.zeros(ys.size, np.intp), 1, s[lab], ys, pos,
                                            ys.size - pos)
        if pos[0] and ys.size - pos[0]:
            assert auc == ref_auc[0]  # bit for bit
        if pos[0]:
            assert ap == ref_ap[0]
        else:
            assert np.isnan(ap)


def test_estimated_auc_in_blocks_equals_the_one_pass_bit_for_bit():
    rng = np.random.default_rng(5)
    for n in (1, 2, 17, _metrics.ESTIMATE_BLOCK - 1, _metrics.ESTIMATE_BLOCK + 1, 100_003):
        c = rng.random(n) ** rng.uniform(0.5, 4)
        decision = rng.random(n) < 0.4
        ours, sum_c, sum_cd = _metrics.estimated_sorted(c, decision)
        theirs = _metrics._estimated_auc(np.zeros(n, np.intp), 1, c)[0]
        assert ours == theirs or (np.isnan(ours) and np.isnan(theirs)), n
        one = np.zeros(n, np.intp)  # the sums as np.bincount adds them, bit for bit
        assert sum_c == np.bincount(one, weights=c)[0]
        assert sum_cd == np.bincount(one, weights=c * decision)[0]
        assert _metrics.estimated_auc_sorted(c) == ours or np.isnan(ours)
    assert np.isnan(_metrics.estimated_auc_sorted(np.zeros(10)))


def test_untied_scores_equal_sklearn_per_chunk_and_segment():
    """Distinct scores take the positives-only ranking path: realized metrics per chunk
    and per segment agree with scikit-learn, unlabeled chunks say so."""
    rng = np.random.default_rng(11)
    n = 120_000
    latent = rng.normal(-1.5, 1.2, n)
    p = 1 / (1 + np.exp(-latent))
    y = (rng.random(n) < 1 / (1 + np.exp(-1.2 * latent))).astype(float)
    y[n - 20_000:] = np.nan  # the last chunks have no labels yet
    frame = pl.DataFrame({"p": p, "y": pl.Series(y).fill_nan(None),
                          "d": (p >= 0.3).astype(int),
                          "seg": rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1])})
    assert frame["p"].n_unique() == n
    result = performance.evaluate(analysis=frame, reference=frame[:40_000], target="y",
                                  score="p", prediction="d", chunk_size=10_000, segment="seg")
    checks = {"roc_auc": skm.roc_auc_score, "average_precision": skm.average_precision_score,
              "brier": skm.brier_score_loss,
              "log_loss": lambda t, q: skm.log_loss(t, q, labels=[0, 1])}
    for i, chunk in enumerate(result.analysis):
        part = frame[i * 10_000:(i + 1) * 10_000].drop_nulls("y")
        if part.is_empty():
            assert chunk.metrics["roc_auc"].note == "no labels yet"
            assert chunk.metrics["roc_auc"].estimated is not None
            continue
        for name, fn in checks.items():
            assert chunk.metrics[name].realized == pytest.approx(
                fn(part["y"], part["p"]), abs=1e-9), (chunk.key, name)
    for seg in result.evaluation.segments:
        part = frame.filter(pl.col("seg") == seg.value).drop_nulls("y")
        assert seg.labeled_rows == part.height
        for name, fn in checks.items():
            assert seg.metrics[name].realized == pytest.approx(
                fn(part["y"], part["p"]), abs=1e-9), (seg.value, name)


def _segments_plainly(col: pl.Series) -> tuple[list[str], np.ndarray]:
    seg = col.cast(pl.String).fill_null("(null)")
    names = sorted(set(seg.unique().to_list()))
    return names, seg.replace_strict(names, list(range(len(names))),
                                     return_dtype=pl.Int32).to_numpy()


@pytest.mark.parametrize("case", ["spread", "sorted", "rare", "nulls", "numbers"])
def test_segment_codes_equal_the_plain_lookup(case):
    """Names guessed from a sample, every row cast to an Enum of them; a name the sample
    missed (sorted data, a rare segment) falls back to every row's value."""
    from workbench.performance._inputs import _segment_codes

    rng = np.random.default_rng(2)
    n = 300_000
    values = rng.choice(["web", "mobile", "branch"], n)
    if case == "sorted":
        values = np.sort(values)
    col = pl.Series("s", values)
    if case == "rare":
        col = col.scatter([12_345], "partner")
    elif case == "nulls":
        col = col.scatter([0, 7, 99_999], None).scatter([5], "(null)")
    elif case == "numbers":
        col = pl.Series("s", rng.integers(0, 12, n))
    names, codes = _segment_codes(col)
    plain_names, plain_codes = _segments_plainly(col)
    assert names == plain_names
    assert np.array_equal(codes, plain_codes)


@pytest.mark.parametrize("every, zone", [("1d", "UTC"), ("1w", None), ("1d", "Europe/Paris"),
                                          ("2d", None)])
def test_window_codes_equal_the_binary_search(every, zone):
    """Evenly spaced window starts take the arithmetic path, uneven ones (an empty day, a
    daylight-saving change) the search: both give each row its start's index."""
    from workbench.performance._inputs import _window_codes

    rng = np.random.default_rng(4)
    base = pl.datetime_range(pl.datetime(2026, 3, 1), pl.datetime(2026, 4, 30), "1h",
                             eager=True, time_zone=zone)
    ts = base.gather(rng.integers(0, base.len(), 50_000))
    for series in (ts, ts.filter(ts.dt.day() != 17), ts.cast(pl.Datetime("ns", zone))):
        starts = series.dt.truncate(every)
        uniq = starts.unique().sort()
        expected = uniq.search_sorted(starts, side="left").to_numpy()
        assert np.array_equal(_window_codes(starts, uniq), expected)

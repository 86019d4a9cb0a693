"""Confidence-based performance estimation (CBPE) as nannyml 0.13 does it, fitted on the
reference, and the standard errors behind every band.

* Calibration: isotonic regression of the label on the score over the reference, kept only
  when it lowers the expected calibration error on the held-out rows of 10 stratified 90/10
  splits (nannyml's ``needs_calibration``: same splits, same ECE with 10 equal-count bins).
  A reference of more than ``DECISION_ROWS`` rows takes that decision on a seeded sample of
  that many rows (nannyml uses every row: 11 isotonic fits and 10 splits of a 1M-row
  reference cost more CPU than every chunk of a 10M-row analysis, benchmarks/performance.py);
  the calibration itself is always fitted on the whole reference.
* Standard errors of the six estimated metrics: nannyml's closed forms, from the reference
  (a per-row standard deviation and the share of relevant rows), divided by the square root
  of the chunk's rows; the band is ±3 of them, clipped to [0, 1].
* Standard errors of the other metrics (average precision, log loss, Brier, ECE and the
  regression metrics): the standard deviation over 50 seeded bootstrap samples of the
  reference (each of min(n/2, 20,000) rows), scaled by the square root of the sample size
  over the chunk's labeled rows (nannyml's method for average precision, with a fixed seed
  and 20,000 rows where nannyml takes 50,000).
* Alert range: mean ± 3 standard deviations of the metric over the reference chunks,
  clipped to the metric's limits (nannyml's ``StandardDeviationThreshold``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from math import ceil

import numpy as np
from sklearn.isotonic import IsotonicRegression, isotonic_regression

from workbench.performance import _metrics, _sort

BAND = 3.0  # standard errors either side (nannyml's SAMPLING_ERROR_RANGE)
RANGE = 3.0  # reference standard deviations either side of the alert range
BOOTSTRAPS = 50
BOOTSTRAP_ROWS = 20_000
DECISION_ROWS = 200_000
SEED = 42


@dataclass(frozen=True)
class Isotonic:
    """A fitted isotonic regression, as scikit-learn's ``IsotonicRegression(
    out_of_bounds="clip", increasing=True)`` keeps it: its thresholds and fitted range."""

    x: np.ndarray  # X_thresholds_
    y: np.ndarray  # y_thresholds_
    x_min: float
    x_max: float

    def __call__(self, score: np.ndarray) -> np.ndarray:
        """``predict``: clip to the fitted range, then linear interpolation (scipy's
        ``interp1d``, which hands float64 data to ``np.interp``), or the one value."""
        if self.y.size == 1:
            return np.full(score.shape, self.y[0])
        return np.interp(np.clip(score, self.x_min, self.x_max), self.x, self.y)


def fit_isotonic(p: np.ndarray, y: np.ndarray) -> Isotonic:
    """``IsotonicRegression(out_of_bounds="clip", increasing=True).fit(p, y)`` for 0/1
    labels ``y``, on ``p`` sorted ascending (``y`` following): scikit-learn sorts (a
    ``lexsort``), merges equal scores into their mean label weighted by their count
    (``_make_unique``), solves the isotonic regression on those means
    (``isotonic_regression``, called here too) and drops the inner points of flat runs.
    The means are counts of positives over counts of rows (exact), so the same
    thresholds come out, bit for bit, without the sort (tests/unit/test_performance.py
    checks them against scikit-learn's on ties and near-equal scores). scikit-learn also
    merges scores closer than 1e-15; such data goes to scikit-learn itself.

    Measured on the 1M-row reference of benchmarks/performance.py (2026-12-02): the fit
    0.05 s against 0.15 s, and the calibration's decision (10 fits of 180k rows on one
    sorted sample) 0.3 s against 0.9 s."""
    step = np.diff(p)
    if np.any((step > 0) & (step < np.finfo(np.float64).resolution)):
        reg = IsotonicRegression(out_of_bounds="clip", increasing=True).fit(p, y)
        return Isotonic(reg.X_thresholds_, reg.y_thresholds_, float(reg.X_min_),
                        float(reg.X_max_))
    first = np.flatnonzero(np.r_[True, step != 0])
    weight = np.diff(np.r_[first, p.size]).astype(np.float64)
    mean = np.add.reduceat(y.astype(np.float64), first) / weight
    x = p[first]
    fitted = isotonic_regression(mean, sample_weight=weight, increasing=True)
    keep = np.ones(fitted.size, bool)
    keep[1:-1] = (fitted[1:-1] != fitted[:-2]) | (fitted[1:-1] != fitted[2:])
    return Isotonic(x[keep], fitted[keep], float(x[0]), float(x[-1]))


@dataclass
class Calibration:
    applied: bool
    reason: str
    regressor: IsotonicRegression | Isotonic | None = None

    def __call__(self, score: np.ndarray) -> np.ndarray:
        """The fitted regressor's ``predict`` (clip to the fitted range, then scipy's
        linear ``interp1d``, which hands float64 data to ``np.interp``), the same
        operations without scikit-learn's input validation and copies: the same numbers
        at an eighth of the CPU on 10M rows (measured 2026-12-02 on the 10M scores of
        benchmarks/performance.py: ``predict`` 0.8 s of CPU, this 0.1 s; bit-identical,
        tests/unit/test_performance.py checks ties, thresholds and out-of-range scores)."""
        reg = self.regressor
        if reg is None:
            return score
        if isinstance(reg, Isotonic):
            return reg(score)
        x, y = reg.X_thresholds_, reg.y_thresholds_
        if y.size == 1 or x.dtype != np.float64 or y.dtype != np.float64:
            return reg.predict(score)
        return np.interp(np.clip(score, reg.X_min_, reg.X_max_), x, y)


def _ece_equal_count(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """nannyml's ECE for the calibration decision (equal-count bins of sorted scores)."""
    n = len(p)
    if n <= 2 * bins:
        bins = n // 2
    width = n // bins
    edges = np.asarray(range(0, n + 1, width))
    edges[-1] = n
    order = p.argsort()
    p, y = p[order], y[order]
    terms = [((b - a) / n) * abs(np.mean(p[a:b]) - np.mean(y[a:b]))
             for a, b in zip(edges[:-1], edges[1:], strict=True)]
    return float(np.sum(terms))


def stratified_splits(y: np.ndarray, *, n_splits: int, test_size: float, seed: int
                      ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``StratifiedShuffleSplit(n_splits, test_size=test_size, random_state=seed).split``
    on labels ``y`` (nannyml's splits): the same draws from the same ``RandomState`` in the
    same order, so the same indices, with each class's rows joined by ``np.concatenate``
    where scikit-learn extends Python lists element by element (0.35 s of the 0.46 s it
    takes on a 200k-row sample; tests/unit/test_performance.py compares the two)."""
    n = y.size
    n_test = ceil(test_size * n)
    n_train = n - n_test
    classes, codes, counts = np.unique(y, return_inverse=True, return_counts=True)
    if counts.min() < 2 or n_train < classes.size or n_test < classes.size:
        raise ValueError("too few rows of a class to stratify")  # as scikit-learn refuses
    members = np.split(np.argsort(codes, kind="stable"), np.cumsum(counts)[:-1])
    rng = np.random.RandomState(seed)
    for _ in range(n_splits):
        n_i = _approximate_mode(counts, n_train, rng)
        t_i = _approximate_mode(counts - n_i, n_test, rng)
        train, test = [], []
        for i in range(classes.size):
            shuffled = members[i].take(rng.permutation(counts[i]), mode="clip")
            train.append(shuffled[:n_i[i]])
            test.append(shuffled[n_i[i]:n_i[i] + t_i[i]])
        yield rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def _approximate_mode(class_counts: np.ndarray, n_draws: int,
                      rng: np.random.RandomState) -> np.ndarray:
    """scikit-learn's ``utils.extmath._approximate_mode``: rows per class in a draw."""
    continuous = class_counts / class_counts.sum() * n_draws
    floored = np.floor(continuous)
    need_to_add = int(n_draws - floored.sum())
    if need_to_add > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (inds,) = np.where(remainder == value)
            add_now = min(len(inds), need_to_add)
            inds = rng.choice(inds, size=add_now, replace=False)
            floored[inds] += 1
            need_to_add -= add_now
            if need_to_add == 0:
                break
    return floored.astype(int)


def fit_calibration(y: np.ndarray, p: np.ndarray) -> Calibration:
    """Isotonic calibration of the reference scores, kept only when it improves calibration.

    Every isotonic fit is :func:`fit_isotonic` on scores sorted once: the whole reference
    sorted by :func:`_sort.descending` (read backwards), each split's training rows picked
    out of the decision sample sorted once. The perfect-separation check takes the exact
    ROC AUC of that same order (``_metrics._ranking``: the area in integers) where
    scikit-learn's ``roc_auc_score`` sums normalized rates; the two differ by about 1e-16,
    which changes the decision only for an AUC that close to 0.999."""
    if np.unique(y).size == 1:
        return Calibration(False, "the reference labels have one class only")
    order, p_desc = _sort.descending(p)
    yd = y[order].astype(np.float64)
    pos = np.array([yd.sum()])
    auc, _ = _metrics._ranking(np.zeros(y.size, np.intp), 1, p_desc, yd, pos, y.size - pos)
    if auc[0] > 0.999:
        return Calibration(False, "the scores separate the reference perfectly (AUC > 0.999)")
    full_p, full_y = p_desc[::-1], yd[::-1]
    if y.size > DECISION_ROWS:
        keep = np.sort(np.random.default_rng(SEED).choice(y.size, DECISION_ROWS, replace=False))
        y, p = y[keep], p[keep]
    by_score = np.argsort(p, kind="stable")
    p_sorted, y_sorted = p[by_score], y[by_score]
    ys, ps, cs = [], [], []
    for train, test in stratified_splits(y, n_splits=10, test_size=0.1, seed=42):
        member = np.zeros(p.size, bool)
        member[train] = True
        pick = member[by_score]
        iso = fit_isotonic(p_sorted[pick], y_sorted[pick])
        ys.append(y[test])
        ps.append(p[test])
        cs.append(iso(p[test]))
    yt, pt, ct = np.concatenate(ys), np.concatenate(ps), np.concatenate(cs)
    before, after = _ece_equal_count(yt, pt), _ece_equal_count(yt, ct)
    if not before > after:
        return Calibration(False, f"isotonic calibration did not lower the ECE on held-out "
                                  f"reference rows ({before:.4f} -> {after:.4f})")
    return Calibration(True, f"isotonic calibration lowered the ECE on held-out reference "
                             f"rows ({before:.4f} -> {after:.4f})", fit_isotonic(full_p, full_y))


@dataclass(frozen=True)
class StandardErrors:
    """Per metric: (reference std, share of relevant rows): SE = std / sqrt(n * share)."""

    closed: dict[str, tuple[float, float]]
    boot: dict[str, tuple[float, int]]

    def se(self, metric: str, rows: float, labeled: float) -> float | None:
        if metric in self.closed:
            std, share = self.closed[metric]
            n = rows * share
        elif metric in self.boot:
            std, size = self.boot[metric]
            n = labeled / size if labeled else 0.0
            return float(std / np.sqrt(n)) if n > 0 and np.isfinite(std) else None
        else:
            return None
        return float(std / np.sqrt(n)) if n > 0 and np.isfinite(std) else None


def closed_form_components(y: np.ndarray, p: np.ndarray, pred: np.ndarray
                           ) -> dict[str, tuple[float, float]]:
    """nannyml 0.13's sampling-error components of the six CBPE metrics (reference rows)."""
    out: dict[str, tuple[float, float]] = {}
    yy, pp = y.astype(float), p.astype(float)
    if np.mean(yy) > 0.5:
        yy, pp = np.abs(yy - 1), 1 - pp
    order = np.argsort(pp)
    ys = yy[order]
    ranks = ys * np.arange(len(ys))
    idx = np.unique(ranks)[1:]
    ser = idx - np.arange(len(idx))
    n_pos = ys.sum()
    n_neg = len(ys) - n_pos
    out["roc_auc"] = (float(np.std(np.true_divide(ser, n_neg))), float(n_pos / len(ys)))
    tp = int(((y == 1) & (pred == 1)).sum())
    fp = int(((y == 0) & (pred == 1)).sum())
    fn = int(((y == 1) & (pred == 0)).sum())
    tn = int(((y == 0) & (pred == 0)).sum())
    n = len(y)

    def std_of(ones: int, zeros: int, factor: float = 1.0) -> float:
        total = ones + zeros
        if total == 0:
            return float("nan")
        return float(np.std(np.r_[np.ones(ones) * factor, np.zeros(zeros)]))

    relevant = tp + fn + fp
    factor = relevant / ((fn + fp) * 0.5 + tp) if relevant else float("nan")
    out["f1"] = (std_of(tp, fn + fp, factor), relevant / n)
    out["precision"] = (std_of(tp, fp), float(pred.sum() / n))
    out["recall"] = (std_of(tp, fn), float(y.sum() / n))
    out["specificity"] = (std_of(tn, fp), (tn + fp) / n)
    out["accuracy"] = (float(np.std((y == pred).astype(int))), 1.0)
    return out


def bootstrap_components(compute, n_rows: int, names: tuple[str, ...]
                         ) -> dict[str, tuple[float, int]]:
    """Std of each metric over seeded bootstrap samples; ``compute(index, groups, k)``
    returns the metrics of ``k`` samples at once."""
    size = int(min(n_rows // 2, BOOTSTRAP_ROWS))
    if size < 2:
        return {}
    rng = np.random.default_rng(SEED)
    index = rng.integers(0, n_rows, size=(BOOTSTRAPS, size)).ravel()
    groups = np.repeat(np.arange(BOOTSTRAPS), size)
    values = compute(index, groups, BOOTSTRAPS)
    return {k: (float(np.nanstd(values[k])), size) for k in names if k in values}


def alert_range(values: np.ndarray, lower_limit: float | None, upper_limit: float | None
                ) -> tuple[float | None, float | None]:
    """Mean ± 3 std of a metric over the reference chunks, clipped to its limits."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None, None
    mean, std = float(np.mean(finite)), float(np.std(finite))
    lo, hi = mean - RANGE * std, mean + RANGE * std
    if lower_limit is not None and lo <= lower_limit:
        lo = lower_limit
    if upper_limit is not None and hi >= upper_limit:
        hi = upper_limit
    return lo, hi


def limits(metric: str) -> tuple[float | None, float | None]:
    if metric in {"roc_auc", "average_precision", "accuracy", "precision", "recall",
                  "specificity", "f1", "ece", "brier"}:
        return 0.0, 1.0
    if metric == "r2":
        return None, 1.0
    return 0.0, None


__all__ = ["Calibration", "Isotonic", "StandardErrors", "alert_range", "bootstrap_components",
           "closed_form_components", "fit_calibration", "fit_isotonic", "limits",
           "stratified_splits"]

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

from dataclasses import dataclass

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedShuffleSplit

BAND = 3.0  # standard errors either side (nannyml's SAMPLING_ERROR_RANGE)
RANGE = 3.0  # reference standard deviations either side of the alert range
BOOTSTRAPS = 50
BOOTSTRAP_ROWS = 20_000
DECISION_ROWS = 200_000
SEED = 42


@dataclass
class Calibration:
    applied: bool
    reason: str
    regressor: IsotonicRegression | None = None

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


def fit_calibration(y: np.ndarray, p: np.ndarray) -> Calibration:
    """Isotonic calibration of the reference scores, kept only when it improves calibration."""
    if np.unique(y).size == 1:
        return Calibration(False, "the reference labels have one class only")
    if roc_auc_score(y, p) > 0.999:
        return Calibration(False, "the scores separate the reference perfectly (AUC > 0.999)")
    full_y, full_p = y, p
    if y.size > DECISION_ROWS:
        keep = np.sort(np.random.default_rng(SEED).choice(y.size, DECISION_ROWS, replace=False))
        y, p = y[keep], p[keep]
    sss = StratifiedShuffleSplit(n_splits=10, test_size=0.1, random_state=42)
    ys, ps, cs = [], [], []
    for train, test in sss.split(p, y):
        iso = IsotonicRegression(out_of_bounds="clip", increasing=True).fit(p[train], y[train])
        ys.append(y[test])
        ps.append(p[test])
        cs.append(iso.predict(p[test]))
    yt, pt, ct = np.concatenate(ys), np.concatenate(ps), np.concatenate(cs)
    before, after = _ece_equal_count(yt, pt), _ece_equal_count(yt, ct)
    if not before > after:
        return Calibration(False, f"isotonic calibration did not lower the ECE on held-out "
                                  f"reference rows ({before:.4f} -> {after:.4f})")
    iso = IsotonicRegression(out_of_bounds="clip", increasing=True).fit(full_p, full_y)
    return Calibration(True, f"isotonic calibration lowered the ECE on held-out reference "
                             f"rows ({before:.4f} -> {after:.4f})", iso)


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


__all__ = ["Calibration", "StandardErrors", "alert_range", "bootstrap_components",
           "closed_form_components", "fit_calibration", "limits"]

"""Metrics per group (chunk, segment, the whole reference) in one vectorized pass each.

Every function takes rows already ordered by group and, within a group, by score
descending, with ``g`` the group of each row (0..n-1, non-decreasing). Sums per group are
``np.bincount`` with weights; ranking metrics walk the distinct scores of each group once.
A value that a group cannot have (one class only, no positive prediction, no labels) is
NaN here and becomes null with a note in the result.

Why not scikit-learn per chunk: a loop of ``sklearn.metrics`` calls over the chunks sorts
every chunk again for each ranking metric and validates its input each time; the parity
tests compare with it to 1e-9 and ``benchmarks/performance.py`` prints both speeds.
"""

from __future__ import annotations

import numpy as np

EPS = np.finfo(np.float64).eps  # scikit-learn's log_loss clips probabilities to [eps, 1-eps]
ECE_BINS = 10  # equal-width bins over [0, 1], as sklearn.calibration.calibration_curve


def group_order(score: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Indices ordering rows by group, then score descending (ties in data order)."""
    by_score = np.argsort(-score, kind="stable")
    return by_score[np.argsort(g[by_score], kind="stable")]


def _single(g: np.ndarray) -> bool:
    """Whether the rows are one group (``g`` is non-decreasing): the helpers below then
    skip their per-group bookkeeping and give the same numbers."""
    return bool(g.size and g[0] == g[-1])


def _starts(g: np.ndarray) -> np.ndarray:
    if _single(g):
        first = np.zeros(g.size, bool)
        first[0] = True
        return first
    first = np.ones(g.size, bool)
    first[1:] = g[1:] != g[:-1]
    return first


def _previous(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The value before each one in its group, 0 for a group's first (the previous point of
    a curve drawn per group, for the trapezoid rule)."""
    prev = np.r_[0.0, x[:-1]]
    if not _single(g):
        prev[_starts(g)] = 0.0
    return prev


def _local_cumsum(x: np.ndarray, g: np.ndarray, n: int) -> np.ndarray:
    """Cumulative sum restarting at each group."""
    c = np.cumsum(x, dtype=np.float64)
    if _single(g):  # the offset would be c[0] - x[0] == 0.0
        return c
    first = _starts(g)
    offset = np.zeros(n)
    offset[g[first]] = c[first] - x[first]
    return c - offset[g]


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)


def counts(g: np.ndarray, n: int, weights: np.ndarray | None = None) -> np.ndarray:
    return np.bincount(g, weights=weights, minlength=n).astype(np.float64)


def binary_realized(g: np.ndarray, n: int, score: np.ndarray, y: np.ndarray,
                    pred: np.ndarray) -> dict[str, np.ndarray]:
    """Realized binary metrics per group over labeled rows (y in {0, 1})."""
    rows = counts(g, n)
    pos = counts(g, n, y)
    neg = rows - pos
    tp = counts(g, n, y * pred)
    fp = counts(g, n, (1 - y) * pred)
    fn = pos - tp
    tn = neg - fp
    out = {"rows": rows, "positives": pos, "tp": tp, "fp": fp, "tn": tn, "fn": fn}
    out["accuracy"] = _safe_div(tp + tn, rows)
    out["precision"] = _safe_div(tp, tp + fp)
    out["recall"] = _safe_div(tp, pos)
    out["specificity"] = _safe_div(tn, neg)
    out["f1"] = _safe_div(2 * tp, 2 * tp + fp + fn)
    out["positive_rate"] = _safe_div(pos, rows)
    out["predicted_positive_rate"] = _safe_div(tp + fp, rows)
    p = np.clip(score, EPS, 1 - EPS)
    out["log_loss"] = _safe_div(counts(g, n, -(y * np.log(p) + (1 - y) * np.log1p(-p))), rows)
    out["brier"] = _safe_div(counts(g, n, (score - y) ** 2), rows)
    out["ece"] = _ece(g, n, score, y, rows)
    auc, ap = _ranking(g, n, score, y, pos, neg)
    both = (pos > 0) & (neg > 0)
    out["roc_auc"] = np.where(both, auc, np.nan)
    out["average_precision"] = np.where(pos > 0, ap, np.nan)
    return out


def _ranking(g: np.ndarray, n: int, score: np.ndarray, y: np.ndarray, pos: np.ndarray,
             neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ROC AUC (trapezoid over the distinct-score ROC points, as sklearn) and average
    precision (sum of recall steps times precision at each distinct score, as sklearn)."""
    if g.size == 0:
        return np.full(n, np.nan), np.full(n, np.nan)
    end = np.ones(g.size, bool)
    end[:-1] = (g[1:] != g[:-1]) | (score[1:] != score[:-1])
    ctp = _local_cumsum(y, g, n)
    idx = np.flatnonzero(end)
    bg, btp = g[idx], ctp[idx]
    bfp = (idx + 1 - (0 if _single(g) else _group_first_index(g, n)[bg])) - btp
    ptp, pfp = _previous(bg, btp), _previous(bg, bfp)
    area = counts(bg, n, (bfp - pfp) * (btp + ptp) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = area / (pos * neg)
        ap = counts(bg, n, (btp - ptp) * (btp / (btp + bfp))) / pos
    return auc, ap


def _group_first_index(g: np.ndarray, n: int) -> np.ndarray:
    first = np.zeros(n, np.int64)
    if _single(g):
        return first
    starts = np.flatnonzero(_starts(g))
    first[g[starts]] = starts
    return first


def ece_bin(score: np.ndarray) -> np.ndarray:
    """The bin of each score: [0, 0.1], (0.1, 0.2], ..., (0.9, 1.0] (as scikit-learn's
    ``calibration_curve(strategy="uniform")`` bins them)."""
    edges = np.linspace(0.0, 1.0, ECE_BINS + 1)
    return np.searchsorted(edges[1:-1], score, side="left")


def _ece(g: np.ndarray, n: int, score: np.ndarray, y: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Expected calibration error: sum over the 10 equal-width bins of the bin's share of
    rows times |mean score - observed positive rate| (empty bins count nothing)."""
    key = g * ECE_BINS + ece_bin(score)
    m = n * ECE_BINS
    k = np.bincount(key, minlength=m).astype(np.float64)
    s = np.bincount(key, weights=score, minlength=m)
    t = np.bincount(key, weights=y, minlength=m)
    gap = np.abs(_safe_div(s, k) - _safe_div(t, k))
    gap = np.where(k > 0, gap * k, 0.0).reshape(n, ECE_BINS).sum(axis=1)
    return _safe_div(gap, rows)


def estimated(g: np.ndarray, n: int, calibrated: np.ndarray,
              pred: np.ndarray) -> dict[str, np.ndarray]:
    """CBPE per group (rows ordered by group, then uncalibrated score descending): the
    expected confusion matrix from the calibrated probabilities, the metrics from it, and
    ROC AUC from the expected ROC curve (nannyml's ``estimate_roc_auc``: cumulative sums
    rounded to 5 decimals, one point per row, trapezoid)."""
    rows = counts(g, n)
    tp = counts(g, n, calibrated * pred)
    fp = counts(g, n, pred) - tp
    fn = counts(g, n, calibrated) - tp
    tn = rows - tp - fp - fn
    out = {"rows": rows, "tp": tp, "fp": fp, "tn": tn, "fn": fn}
    out["accuracy"] = _safe_div(tp + tn, rows)
    out["precision"] = _safe_div(tp, tp + fp)
    out["recall"] = _safe_div(tp, tp + fn)
    out["specificity"] = _safe_div(tn, tn + fp)
    out["f1"] = _safe_div(tp, tp + 0.5 * (fp + fn))
    out["roc_auc"] = _estimated_auc(g, n, calibrated)
    return out


def _estimated_auc(g: np.ndarray, n: int, c: np.ndarray) -> np.ndarray:
    if g.size == 0:
        return np.full(n, np.nan)
    single = _single(g)
    position = np.arange(1, g.size + 1)
    if not single:
        position = position - _group_first_index(g, n)[g]
    tps = _local_cumsum(c, g, n)
    fps = np.round(position - tps, 5)
    tps = np.round(tps, 5)
    tot_tp = np.zeros(n)
    tot_fp = np.zeros(n)
    if single:
        tot_tp[g[0]], tot_fp[g[0]] = tps[-1], fps[-1]
    else:
        last = np.ones(g.size, bool)
        last[:-1] = g[1:] != g[:-1]
        tot_tp[g[last]] = tps[last]
        tot_fp[g[last]] = fps[last]
    at = g[0] if single else g  # one group: divide by its total, no gather
    with np.errstate(divide="ignore", invalid="ignore"):
        tpr = tps / tot_tp[at]
        fpr = fps / tot_fp[at]
    ptpr, pfpr = _previous(g, tpr), _previous(g, fpr)
    area = counts(g, n, (fpr - pfpr) * (tpr + ptpr) / 2)
    ok = (tot_tp > 0) & (tot_fp > 0)
    return np.where(ok, area, np.nan)


def regression_realized(g: np.ndarray, n: int, pred: np.ndarray,
                        y: np.ndarray) -> dict[str, np.ndarray]:
    """MAE, RMSE, MAPE (|e| / max(|y|, eps), as sklearn), R², median absolute error."""
    rows = counts(g, n)
    err = y - pred
    ae = np.abs(err)
    out = {"rows": rows}
    out["mae"] = _safe_div(counts(g, n, ae), rows)
    out["rmse"] = np.sqrt(_safe_div(counts(g, n, err * err), rows))
    out["mape"] = _safe_div(counts(g, n, ae / np.maximum(np.abs(y), EPS)), rows)
    mean_y = _safe_div(counts(g, n, y), rows)
    ss_tot = counts(g, n, (y - mean_y[g]) ** 2) if g.size else np.zeros(n)
    ss_res = counts(g, n, err * err)
    out["r2"] = np.where(ss_tot > 0, 1 - _safe_div(ss_res, ss_tot), np.nan)
    med = np.full(n, np.nan)
    if g.size:
        order = np.argsort(g, kind="stable")
        bounds = np.searchsorted(g[order], np.arange(n + 1))
        sorted_ae = ae[order]
        for i in range(n):
            a, b = bounds[i], bounds[i + 1]
            if b > a:
                med[i] = float(np.median(sorted_ae[a:b]))
    out["median_ae"] = med
    return out

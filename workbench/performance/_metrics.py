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


def _confusion_rates(rows: np.ndarray, pos: np.ndarray, neg: np.ndarray, tp: np.ndarray,
                     fp: np.ndarray) -> dict[str, np.ndarray]:
    """The confusion counts per group and the rates made of them (the threshold metrics)."""
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
    return out


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
    out = _confusion_rates(rows, pos, neg, tp, fp)
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


def _estimated_auc(g: np.ndarray, n: int, c: np.ndarray) -> np.ndarray:
    """nannyml's ``estimate_roc_auc`` per group (rows ordered by group, then score
    descending): cumulative sums of the calibrated probabilities rounded to 5 decimals, one
    point per row, trapezoid. :func:`estimated_sorted` computes the same, bit for bit, one
    group at a time in cache-sized blocks."""
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


# --- Every group of one grouping at once, from rows in score-descending order ------------
#
# The functions below take one data set's rows in score-descending order (the one sort,
# ``_sort.descending``) and a grouping's code of each row, in that order. A sum per group
# is one ``np.bincount`` over the rows in that order, so it adds each group's values in
# score order, as the per-group functions above do: the same floating-point sums, bit for
# bit. The ranking metrics and the estimated ROC AUC walk each group's rows (in score
# order) on their own. The figures before and after, on the 10M-row data: the docstring of
# benchmarks/performance.py.

STATE_LABELED, STATE_POSITIVE, STATE_DECISION = 4, 2, 1  # bits of a row's state


def state_of(target: np.ndarray, prediction: np.ndarray) -> np.ndarray:
    """Each row's labeled / positive / predicted-positive bits in one int8 (one gather
    after the sort instead of three)."""
    lab = np.isfinite(target)
    out = lab.astype(np.int8) * np.int8(STATE_LABELED)
    out += (target == 1).astype(np.int8) * np.int8(STATE_POSITIVE)
    out += (prediction == 1).astype(np.int8)
    return out


def ece_bin_descending(score: np.ndarray) -> np.ndarray:
    """:func:`ece_bin` of scores sorted descending: the rows above each inner edge are a
    prefix, found by one binary search per edge, so the bins are runs (``np.repeat``):
    the same comparisons (``score > edge``) for 0.02 s where nine passes over 10M scores
    take 0.17 s and ``searchsorted`` of every score 0.29 s."""
    inner = np.linspace(0.0, 1.0, ECE_BINS + 1)[1:-1]
    ascending = score[::-1]
    above = score.size - np.searchsorted(ascending, inner, side="right")  # rows > edge
    lengths = -np.diff(np.r_[score.size, above, 0])[::-1]  # rows of bins 9, 8, ..., 0
    return np.repeat(np.arange(ECE_BINS - 1, -1, -1, dtype=np.int8), lengths)


def grouped_sums(g: np.ndarray, n: int, state: np.ndarray, ece: np.ndarray,
                 floats: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray,
                                                        dict[str, np.ndarray]]:
    """Per group: the count of rows of each (ECE bin, state) in one integer ``bincount``,
    shape (n, ECE_BINS, 8), and each float column's sum per group (``"ece_score"``: per
    group and ECE bin, shape (n, ECE_BINS))."""
    key = g * ECE_BINS
    key += ece
    cell = key * 8
    cell += state
    cells = np.bincount(cell, minlength=n * ECE_BINS * 8).astype(np.float64)
    del cell
    sums = {k: (np.bincount(key, weights=v, minlength=n * ECE_BINS).reshape(n, ECE_BINS)
                if k == "ece_score" else np.bincount(g, weights=v, minlength=n))
            for k, v in floats.items()}
    return cells.reshape(n, ECE_BINS, 8), key, sums


def binary_from_sums(cells: np.ndarray, sums: dict[str, np.ndarray], auc: np.ndarray,
                     ap: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`binary_realized`'s metrics from the per-group counts and sums (labeled rows)."""
    labeled = cells[:, :, 4:]  # states with the labeled bit
    by_state = labeled.sum(axis=1)  # (n, 4): neg/no, neg/yes, pos/no, pos/yes
    rows = by_state.sum(axis=1)
    pos = by_state[:, 2] + by_state[:, 3]
    neg = rows - pos
    tp = by_state[:, 3]
    fp = by_state[:, 1]
    out = _confusion_rates(rows, pos, neg, tp, fp)
    out["log_loss"] = _safe_div(sums["log_loss"], rows)
    out["brier"] = _safe_div(sums["brier"], rows)
    k = labeled.sum(axis=2)
    t = labeled[:, :, 2:].sum(axis=2)
    gap = np.abs(_safe_div(sums["ece_score"], k) - _safe_div(t, k))
    out["ece"] = _safe_div(np.where(k > 0, gap * k, 0.0).sum(axis=1), rows)
    both = (pos > 0) & (neg > 0)
    out["roc_auc"] = np.where(both, auc, np.nan)
    out["average_precision"] = np.where(pos > 0, ap, np.nan)
    return out


def estimated_from_sums(cells: np.ndarray, sums: dict[str, np.ndarray],
                        auc: np.ndarray) -> dict[str, np.ndarray]:
    """CBPE per group from the per-group sums over every row: the expected confusion
    matrix from the calibrated probabilities (``tp``: their sum where the decision is
    positive), the metrics from it, and the ROC AUC of the expected ROC curve
    (:func:`estimated_sorted`)."""
    rows = cells.sum(axis=(1, 2))
    tp = sums["calibrated_decision"]
    fp = cells[:, :, 1::2].sum(axis=(1, 2)) - tp
    fn = sums["calibrated"] - tp
    tn = rows - tp - fp - fn
    out = {"rows": rows, "tp": tp, "fp": fp, "tn": tn, "fn": fn}
    out["accuracy"] = _safe_div(tp + tn, rows)
    out["precision"] = _safe_div(tp, tp + fp)
    out["recall"] = _safe_div(tp, tp + fn)
    out["specificity"] = _safe_div(tn, tn + fp)
    out["f1"] = _safe_div(tp, tp + 0.5 * (fp + fn))
    out["roc_auc"] = auc
    return out


def ranking_distinct(state: np.ndarray) -> tuple[float, float]:
    """ROC AUC and average precision of one group whose labeled scores are all distinct,
    from its rows' states in score-descending order: with no ties every labeled row is a
    point of the curves, so the area is the count of (positive, negative) pairs in order,
    ``sum over positives k of (negatives - i_k + k - 1)`` (``i_k``: the k-th positive's
    place among the labeled rows; integers, exact), and average precision is
    ``sum of k / (i_k + 1)`` over the positives, summed in order as :func:`_ranking`
    sums its points (its other points add 0): the same numbers, bit for bit, from the
    positives alone."""
    labeled = state >= STATE_LABELED
    lab = state if labeled.all() else state[labeled]
    where = np.flatnonzero(lab & STATE_POSITIVE)
    n_pos, n_neg = where.size, lab.size - where.size
    if n_pos == 0 or n_neg == 0:
        return float("nan"), _ap(where)
    k = np.arange(1, n_pos + 1)
    area = int(n_pos * n_neg - (where - (k - 1)).sum())
    return area / (float(n_pos) * float(n_neg)), _ap(where)


def ranking_tied(state: np.ndarray, block: np.ndarray) -> tuple[float, float]:
    """ROC AUC and average precision of one group whose scores may tie, from its rows'
    states in score-descending order and ``block``, the same id for rows of equal score
    (non-decreasing). :func:`_ranking`'s points are the blocks that hold a labeled row, with
    the labeled rows and positives up to each block's end: counted here by cumulative sums
    over the rows (unlabeled rows included, which add nothing), so the labeled scores need
    no gathering; the same terms summed in the same order, bit for bit."""
    labeled = state >= STATE_LABELED
    if not labeled.any():
        return float("nan"), float("nan")
    ends = np.flatnonzero(np.r_[block[1:] != block[:-1], True])
    count = np.int32 if state.size < 2**31 else np.int64
    upto = np.cumsum(labeled, dtype=count)[ends]
    keep = np.diff(upto, prepend=0) > 0
    btp = np.cumsum((state & STATE_POSITIVE) > 0, dtype=count)[ends][keep].astype(np.float64)
    bfp = upto[keep].astype(np.float64) - btp
    ptp, pfp = np.r_[0.0, btp[:-1]], np.r_[0.0, bfp[:-1]]
    one = np.zeros(btp.size, np.intp)
    pos, neg = btp[-1], bfp[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        area = np.bincount(one, (bfp - pfp) * (btp + ptp) / 2)[0]
        auc = area / (pos * neg)
        ap = np.bincount(one, (btp - ptp) * (btp / (btp + bfp)))[0] / pos
    return float(auc), float(ap)


def _ap(where: np.ndarray) -> float:
    k = np.arange(1, where.size + 1, dtype=np.float64)
    terms = k / (where + 1.0)
    return float(np.cumsum(terms)[-1] / where.size) if where.size else float("nan")


ESTIMATE_BLOCK = 1 << 15  # rows per block of the estimated ROC AUC (stays in L2 cache)


def estimated_auc_sorted(c: np.ndarray) -> float:
    """:func:`_estimated_auc` of one group: see :func:`estimated_sorted`."""
    return estimated_sorted(c, np.zeros(c.size, bool))[0]


def estimated_sorted(c: np.ndarray, decision: np.ndarray) -> tuple[float, float, float]:
    """:func:`_estimated_auc` of one group (calibrated probabilities in score-descending
    order) in blocks of rows that stay in cache, each carrying the running sums of the one
    before: the same operations on the same numbers in the same order, bit for bit (the
    cumulative sums are started from the previous block's last value, not added to it).
    The ten passes over a 4.5M-row group take 0.21 s instead of 0.48 s. The first walk,
    for the totals, also gives the sums of the calibrated probabilities and of those the
    decision calls positive, added in the order ``np.bincount`` adds them (from 0.0, row
    after row): the estimated confusion matrix without two more passes."""
    m = c.size
    if m == 0:
        return float("nan"), 0.0, 0.0
    carry = carry_d = 0.0
    for a in range(0, m, ESTIMATE_BLOCK):  # the totals: the last cumulative sums
        blk = c[a:a + ESTIMATE_BLOCK].copy()
        blk[0] += carry
        carry = float(np.cumsum(blk)[-1])
        picked = np.where(decision[a:a + ESTIMATE_BLOCK], c[a:a + ESTIMATE_BLOCK], 0.0)
        picked[0] += carry_d
        carry_d = float(np.cumsum(picked)[-1])
    sum_c, sum_cd = carry, carry_d
    tot_tp = round_5(carry)
    tot_fp = round_5(float(m) - carry)
    if not (tot_tp > 0 and tot_fp > 0):
        return float("nan"), sum_c, sum_cd
    position = np.arange(1, min(m, ESTIMATE_BLOCK) + 1, dtype=np.float64)
    carry, ptpr, pfpr, area = 0.0, 0.0, 0.0, 0.0
    for a in range(0, m, ESTIMATE_BLOCK):
        tps = c[a:a + ESTIMATE_BLOCK].copy()
        tps[0] += carry
        np.cumsum(tps, out=tps)
        carry = float(tps[-1])
        k = tps.size
        fps = position[:k] + float(a)
        fps -= tps
        np.round(fps, 5, out=fps)
        np.round(tps, 5, out=tps)
        tps /= tot_tp
        fps /= tot_fp
        d = np.empty(k)
        d[0] = fps[0] - pfpr
        np.subtract(fps[1:], fps[:-1], out=d[1:])
        s = np.empty(k)
        s[0] = tps[0] + ptpr
        np.add(tps[1:], tps[:-1], out=s[1:])
        ptpr, pfpr = float(tps[-1]), float(fps[-1])
        d *= s
        d /= 2
        d[0] += area
        area = float(np.cumsum(d)[-1])
    return area, sum_c, sum_cd


def round_5(x: float) -> float:
    return float(np.round(np.float64(x), 5))

"""Drift statistics over aggregated columns, equal to evidently 0.7's stattests.

Each column side is first reduced (by polars) to a :class:`Summary`: its distinct values,
sorted, and how often each occurs, after dropping nulls, NaN and +/-inf as evidently's
``get_one_column_drift`` does. Every statistic evidently computes (K-S, Wasserstein,
histograms on Sturges edges, value counts) is a function of those counts, so the
statistics here equal evidently's (source: ``evidently/legacy/calculations/stattests``)
without a per-row pandas round trip. Where evidently calls scipy on the final numbers
(``chisquare``, ``jensenshannon``, ``entropy``, the K-S p-value) the same scipy function is
called here on the same numbers.

Functions take the current side first, then the reference side (workbench's argument
order); evidently's own order (reference first) is kept inside the formulas.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.spatial import distance

NUMERICAL = "numerical"
CATEGORICAL = "categorical"

# name -> (default threshold, drifted when the statistic is "below"/"at or below"/"at or above")
THRESHOLDS: dict[str, float] = {
    "ks": 0.05,
    "chisquare": 0.05,
    "z": 0.05,
    "wasserstein": 0.1,
    "jensenshannon": 0.1,
    "psi": 0.1,
    "kl_div": 0.1,
    "hellinger": 0.1,
}
P_VALUE_METHODS = frozenset({"ks", "chisquare", "z"})
NUMERICAL_ONLY = frozenset({"ks", "wasserstein"})
CATEGORICAL_ONLY = frozenset({"chisquare", "z"})  # evidently registers these for categorical only
METHODS = tuple(THRESHOLDS)
MODES = ("evidently", "calibrated")


@dataclass(frozen=True)
class Summary:
    """One column on one side: sorted distinct values, their counts, and the row count.

    ``integer`` records whether pandas would hold the column as an integer dtype (an
    integer column with no missing values): numpy's histogram edges depend on it.
    """

    values: np.ndarray
    counts: np.ndarray
    integer: bool = False

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    @property
    def nunique(self) -> int:
        return int(self.values.shape[0])

    @staticmethod
    def from_sorted(sorted_values: np.ndarray, integer: bool = False) -> Summary:
        """Distinct values and counts of an already sorted numeric array (O(n))."""
        x = np.asarray(sorted_values)
        if x.size == 0:
            return Summary(x.astype(np.float64), np.zeros(0, np.int64), integer)
        starts = np.concatenate(([0], np.flatnonzero(x[1:] != x[:-1]) + 1))
        counts = np.diff(np.concatenate((starts, [x.size])))
        return Summary(x[starts], counts.astype(np.int64), integer)

    @staticmethod
    def from_counts(values: list, counts: list) -> Summary:
        """Categories and counts (any order); sorted by value where values are comparable."""
        try:
            order = sorted(range(len(values)), key=lambda i: values[i])
        except TypeError:
            order = sorted(range(len(values)), key=lambda i: str(values[i]))
        vals = np.empty(len(values), dtype=object)
        vals[:] = [values[i] for i in order]
        return Summary(vals, np.asarray([counts[i] for i in order], dtype=np.int64))


@dataclass(frozen=True)
class Outcome:
    method: str
    statistic: float
    threshold: float
    drifted: bool


# --- method selection (evidently.legacy.calculations.stattests.registry._get_default_stattest)


def default_method(cur: Summary, ref: Summary, kind: str) -> str:
    """evidently's default test for a column: by reference size, distinct values, type."""
    n_values = len(_union_keys(cur, ref))
    if ref.n <= 1000:
        if kind == NUMERICAL and n_values > 5:
            return "ks"
        return "chisquare" if n_values > 2 else "z"
    if kind == NUMERICAL and n_values > 5:
        return "wasserstein"
    return "jensenshannon"


def check_method(method: str, kind: str, column: str) -> None:
    if method not in THRESHOLDS:
        raise ValueError(
            f"{column}: expected a drift method among {', '.join(METHODS)}, got {method!r}"
        )
    if kind == CATEGORICAL and method in NUMERICAL_ONLY:
        raise ValueError(
            f"{column}: method {method} needs a numerical column, got a categorical one"
        )
    if kind == NUMERICAL and method in CATEGORICAL_ONLY:
        raise ValueError(
            f"{column}: method {method} needs a categorical column, got a numerical one"
        )


def evaluate(
    cur: Summary,
    ref: Summary,
    kind: str,
    method: str | None = None,
    threshold: float | None = None,
    mode: str = "evidently",
) -> Outcome:
    """Drift of one column: evidently's default method unless ``method`` is given."""
    auto = method is None
    name = default_method(cur, ref, kind) if auto else method
    thr = THRESHOLDS[name] if threshold is None else float(threshold)
    if name == "chisquare" and mode == "calibrated":
        stat = chisquare_contingency(cur, ref)
    else:
        stat = float(_FUNCS[name](cur, ref, kind))
    if name == "ks":
        drifted = stat <= thr
    elif name in P_VALUE_METHODS:
        drifted = stat < thr
    else:
        drifted = stat >= thr
    return Outcome(name, stat, thr, bool(drifted))


def severity(method: str, statistic: float, threshold: float) -> float:
    """How far past its threshold a column is, comparable across methods (1 = at threshold)."""
    if statistic is None or not math.isfinite(statistic):
        return 0.0
    if method in P_VALUE_METHODS:
        p = max(statistic, 1e-300)
        return math.log(p) / math.log(threshold) if threshold < 1 else 0.0
    return statistic / threshold if threshold > 0 else 0.0


# --- helpers ------------------------------------------------------------------------------


def _union_keys(cur: Summary, ref: Summary) -> list:
    keys = set(ref.values.tolist()) | set(cur.values.tolist())
    try:
        return sorted(keys)
    except TypeError:
        return sorted(keys, key=str)


def _aligned(cur: Summary, ref: Summary) -> tuple[list, np.ndarray, np.ndarray]:
    keys = _union_keys(cur, ref)
    index = {k: i for i, k in enumerate(keys)}
    r = np.zeros(len(keys), np.int64)
    c = np.zeros(len(keys), np.int64)
    for v, n in zip(ref.values.tolist(), ref.counts.tolist(), strict=True):
        r[index[v]] += n
    for v, n in zip(cur.values.tolist(), cur.counts.tolist(), strict=True):
        c[index[v]] += n
    return keys, c, r


def _cdf_at(s: Summary, x: np.ndarray, side: str = "right") -> np.ndarray:
    """Number of observations <= x (side right) or < x (side left)."""
    cum = np.concatenate(([0], np.cumsum(s.counts)))
    return cum[np.searchsorted(s.values, x, side=side)]


def sturges_edges(vmin: float, vmax: float, size: int, integer: bool) -> np.ndarray:
    """``np.histogram_bin_edges(a, "sturges")`` from a's min, max, size and dtype only."""
    first, last = vmin, vmax
    if first == last:
        first, last = first - 0.5, last + 0.5
    width = (vmax - vmin) / (np.log2(size) + 1.0)
    if width:
        if integer and width < 1:
            width = 1
        n_bins = int(np.ceil((last - first) / width))
    else:
        n_bins = 1
    return np.linspace(first, last, n_bins + 1, endpoint=True, dtype=np.float64)


def histogram(s: Summary, edges: np.ndarray) -> np.ndarray:
    """``np.histogram(data, edges)[0]``: bins closed on the left, the last one on both sides."""
    left = _cdf_at(s, edges[:-1], side="left")
    last = _cdf_at(s, edges[-1:], side="right")
    return np.diff(np.concatenate((left, last)))


def binned(
    cur: Summary, ref: Summary, kind: str, fill_zeroes: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """evidently's ``get_binned_data``: (reference, current) shares per bin or category."""
    if kind == NUMERICAL and ref.nunique > 20:
        vmin = min(ref.values[0], cur.values[0])
        vmax = max(ref.values[-1], cur.values[-1])
        edges = sturges_edges(vmin, vmax, ref.n + cur.n, ref.integer and cur.integer)
        rp = histogram(ref, edges) / ref.n
        cp = histogram(cur, edges) / cur.n
    else:
        _, c, r = _aligned(cur, ref)
        rp = r / ref.n
        cp = c / cur.n
    if fill_zeroes:
        for arr in (rp, cp):
            nonzero = arr[arr != 0].min()
            np.place(arr, arr == 0, nonzero / 10**6 if nonzero <= 0.0001 else 0.0001)
    return rp, cp


# --- the methods (evidently's formulas; reference first inside) -----------------------------


def ks(cur: Summary, ref: Summary, kind: str = NUMERICAL) -> float:
    """Two-sample K-S p-value, as ``scipy.stats.ks_2samp(reference, current)``."""
    from scipy.stats import _stats_py

    x = np.union1d(ref.values, cur.values)
    n1, n2 = ref.n, cur.n
    diffs = _cdf_at(ref, x) / n1 - _cdf_at(cur, x) / n2
    min_s = float(np.clip(-diffs.min(), 0, 1))
    max_s = float(diffs.max())
    d = min_s if min_s > max_s else max_s
    g = math.gcd(n1, n2)
    prob = None
    if max(n1, n2) <= 10000:
        success, d, prob = _stats_py._attempt_exact_2kssamp(n1, n2, g, d, "two-sided")
        if not success:
            prob = None
    if prob is None:
        m, n = sorted([float(n1), float(n2)], reverse=True)
        prob = stats.distributions.kstwo.sf(d, np.round(m * n / (m + n)))
    return float(np.clip(prob, 0, 1))


def wasserstein(cur: Summary, ref: Summary, kind: str = NUMERICAL) -> float:
    """First Wasserstein distance divided by max(std(reference), 0.001)."""
    mean = float(np.dot(ref.values, ref.counts)) / ref.n
    std = math.sqrt(float(np.dot((ref.values - mean) ** 2, ref.counts)) / ref.n)
    x = np.union1d(ref.values, cur.values)
    if x.size < 2:
        return 0.0
    deltas = np.diff(x)
    u = _cdf_at(ref, x[:-1]) / ref.n
    v = _cdf_at(cur, x[:-1]) / cur.n
    return float(np.sum(np.abs(u - v) * deltas)) / max(std, 0.001)


def jensenshannon(cur: Summary, ref: Summary, kind: str) -> float:
    rp, cp = binned(cur, ref, kind, fill_zeroes=False)
    return float(distance.jensenshannon(rp, cp))


def psi(cur: Summary, ref: Summary, kind: str) -> float:
    rp, cp = binned(cur, ref, kind)
    return float(np.sum((rp - cp) * np.log(rp / cp)))


def kl_div(cur: Summary, ref: Summary, kind: str) -> float:
    rp, cp = binned(cur, ref, kind)
    return float(stats.entropy(rp, cp))


def hellinger(cur: Summary, ref: Summary, kind: str) -> float:
    if kind == CATEGORICAL:
        _, c, r = _aligned(cur, ref)
        total = float(np.sum(np.sqrt((r / ref.n) * (c / cur.n))))
    else:
        keys = np.union1d(ref.values, cur.values)
        bins = sturges_edges(keys[0], keys[-1], keys.size, ref.integer and cur.integer)
        width = np.diff(bins)
        h1 = histogram(ref, bins) / width / ref.n
        h2 = histogram(cur, bins) / width / cur.n
        bin_width = (bins.max() - bins.min()) / (len(bins) - 1)
        total = float(np.sum(np.sqrt(h1 * h2) * bin_width))
    return math.sqrt(1 - float(np.clip(total, 0, 1)))


def chisquare(cur: Summary, ref: Summary, kind: str = CATEGORICAL) -> float:
    """evidently's chi-square: current counts against reference shares taken as exact."""
    _, c, r = _aligned(cur, ref)
    f_exp = r * (cur.n / ref.n)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(stats.chisquare(c, f_exp)[1])


def chisquare_contingency(cur: Summary, ref: Summary) -> float:
    """Calibrated chi-square: a 2 x k contingency test, both samples random.

    evidently's version treats the reference shares as the truth, which understates the
    variance by a factor of about 1 + n_current / n_reference and alarms far above 5%.
    """
    _, c, r = _aligned(cur, ref)
    if len(c) < 2:
        return 1.0
    return float(stats.chi2_contingency(np.vstack([r, c]))[1])


def z(cur: Summary, ref: Summary, kind: str = CATEGORICAL) -> float:
    """Two-proportion z-test on "first category (sorted) or not"."""
    if ref.nunique == 1 and cur.nunique == 1 and ref.values[0] == cur.values[0]:
        return 1.0
    keys, c, r = _aligned(cur, ref)
    n1, n2 = ref.n, cur.n
    p1 = float(n1 - r[0]) / n1
    p2 = float(n2 - c[0]) / n2
    pooled = float(p1 * n1 + p2 * n2) / (n1 + n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z_stat = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
    return float(2 * (1 - stats.norm.cdf(np.abs(z_stat))))


_FUNCS: dict[str, Callable[[Summary, Summary, str], float]] = {
    "ks": ks,
    "chisquare": chisquare,
    "z": z,
    "wasserstein": wasserstein,
    "jensenshannon": jensenshannon,
    "psi": psi,
    "kl_div": kl_div,
    "hellinger": hellinger,
}

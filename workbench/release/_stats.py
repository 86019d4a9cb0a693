"""The statistics of a release comparison: always-valid bounds, AUC variances, sample sizes.

Sequential method: the two-sided **normal-mixture confidence sequence** of Howard, Ramdas,
McAuliffe and Sekhon (2021), "Time-uniform, nonparametric, nonasymptotic confidence
sequences", Annals of Statistics 49(2), eq. (14); the same boundary as the mixture SPRT of
Johari, Pekelis and Walsh (2017, "Always valid inference") with a normal mixing
distribution. An estimate ``d`` with standard error ``se`` carries information
``I = 1 / se**2``; ``S = (d - delta) * I`` behaves as a Brownian motion in ``I`` (asymptotically,
for every estimator used here: differences of means, proportions and AUCs; Waudby-Smith et
al. 2024, "Time-uniform central limit theory and asymptotic confidence sequences"), and

    |S| < sqrt((I + rho) * log((I + rho) / (rho * alpha**2)))

holds at every look at once with probability at least ``1 - alpha``. So the review may be
read every day, and stopped at any day, without inflating false alarms.
``rho`` sets where the bound is tightest; it is fixed in advance from the KPI's minimum
detectable effect (:func:`mixture_rho`), never from the data.

Why hand-written: the one maintained implementation, ``confseq`` (0.0.11, 2023), ships only
as C++ source and does not build here (``pip wheel confseq`` stops at "Could NOT find Boost");
the boundary itself is one line. Intervals at a fixed horizon and multiple-testing control
come from statsmodels and scipy. The AUC variance is DeLong's (DeLong, DeLong and
Clarke-Pearson 1988) in the fast form of Sun and Xu (2014): no maintained Python library
gives it (scikit-learn's ``roc_auc_score`` returns the point estimate only; the test
checks the point against it).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import stats


@lru_cache(maxsize=64)
def z(p: float) -> float:
    """The standard normal quantile (cached: the daily looks ask for the same few)."""
    return float(stats.norm.ppf(p))


def mixture_rho(alpha: float, information: float) -> float:
    """The mixture precision that makes the boundary tightest near ``information``
    (Howard et al. 2021, Proposition 3 / the choice in Waudby-Smith et al.)."""
    c = -2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)
    return max(information, 1e-12) / c


def cs_radius(se: float, alpha: float, rho: float) -> float:
    """Half-width of the always-valid interval for an estimate with standard error ``se``."""
    if se == 0:
        return 0.0  # a figure without sampling error (a ledger total)
    if not (se > 0 and math.isfinite(se)):
        return math.inf
    info = 1.0 / se**2
    v = info + rho
    return math.sqrt(v * math.log(v / (rho * alpha**2))) / info


def design_information(mde: float, alpha: float, power: float = 0.8) -> float:
    """The information a fixed-horizon test would need for ``mde`` (used to place ``rho``)."""
    return float(((z(1 - alpha / 2) + z(power)) / mde) ** 2)


def information_needed(effect: float, alpha: float, rho: float, power: float = 0.8) -> float:
    """The smallest information at which the always-valid bound excludes zero (or the margin)
    for a true difference of ``effect`` with probability ``power`` at that look:
    ``radius(I) + z_power / sqrt(I) <= effect``. Looks before it only add to the chance."""
    zp = z(power)

    def short(info: float) -> bool:
        return cs_radius(1 / math.sqrt(info), alpha, rho) + zp / math.sqrt(info) <= effect

    lo, hi = 1e-6, 1.0
    while not short(hi):
        hi *= 2
        if hi > 1e18:
            return math.inf
    for _ in range(80):
        mid = math.sqrt(lo * hi)
        lo, hi = (lo, mid) if short(mid) else (mid, hi)
    return hi


# --- AUC ------------------------------------------------------------------------------------


def auc_components(scores: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """AUC and DeLong's structural components ``(auc, v10 per positive, v01 per negative)``,
    in the rows' order.

    The AUC is the probability that a positive scores above a negative (ties count half);
    higher scores mean "more positive". Each component counts the other class below (or
    above) it by binary search in that class's sorted scores: no ranking of the whole
    sample, so a daily look over data already sorted by score costs one linear pass.
    """
    pos = scores[labels]
    neg = scores[~labels]
    m, n = pos.size, neg.size
    if m == 0 or n == 0:
        return math.nan, np.empty(0), np.empty(0)
    pos_sorted = np.sort(pos, kind="stable")
    neg_sorted = np.sort(neg, kind="stable")
    v10 = (np.searchsorted(neg_sorted, pos, "left")
           + np.searchsorted(neg_sorted, pos, "right")) / (2.0 * n)
    v01 = 1.0 - (np.searchsorted(pos_sorted, neg, "left")
                 + np.searchsorted(pos_sorted, neg, "right")) / (2.0 * m)
    return float(v10.mean()), v10, v01


def auc_with_variance(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """AUC and its DeLong variance (nan, nan when a class has fewer than two rows)."""
    auc, v10, v01 = auc_components(scores, labels)
    if v10.size < 2 or v01.size < 2:
        return math.nan, math.nan
    return auc, float(v10.var(ddof=1) / v10.size + v01.var(ddof=1) / v01.size)


def paired_auc_difference(first: np.ndarray, second: np.ndarray,
                          labels: np.ndarray) -> tuple[float, float, float, float]:
    """``(auc_first, auc_second, auc_second - auc_first, variance of the difference)`` for two
    scores of the same rows (DeLong's covariance for correlated ROC curves)."""
    a1, p1, n1 = auc_components(first, labels)
    a2, p2, n2 = auc_components(second, labels)
    if p1.size < 2 or n1.size < 2:
        return a1, a2, math.nan, math.nan
    var = (np.var(p2 - p1, ddof=1) / p1.size + np.var(n2 - n1, ddof=1) / n1.size)
    return a1, a2, a2 - a1, float(var)

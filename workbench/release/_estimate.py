"""Challenger minus champion for one KPI on the rows of one look: the estimate, its standard
error (what the always-valid bounds are built on) and a fixed-horizon interval from scipy or
statsmodels; figures per version read from other notebooks' findings."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep

from workbench.findings import Findings, read_findings
from workbench.release import _stats
from workbench.release._model import (
    Kpi,
    Plan,
)
from workbench.release._read import _Data, _Slis

SLI_MEASURES = frozenset({"error_rate", "p95_latency_ms"})


# --- estimates --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Est:
    champion: float
    challenger: float
    delta: float
    se: float
    n1: int
    n2: int
    method: str
    ci: tuple[float, float] | None = None  # fixed-horizon, from scipy/statsmodels
    unit: str = "rows"  # what n1 and n2 count


def _finite(*arrays: np.ndarray) -> np.ndarray:
    m = np.ones(arrays[0].shape[0], bool) if arrays else np.array([])
    for a in arrays:
        m &= np.isfinite(a)
    return m


def _se_prop(x: float, n: int) -> float:
    p = (x + 0.5) / (n + 1.0)  # keeps the standard error off zero at 0% or 100%
    return p * (1 - p) / n


def _two_props(x1: float, n1: int, x2: float, n2: int, alpha: float, method: str,
               want_ci: bool, unit: str = "rows") -> _Est | str:
    if n1 < 2 or n2 < 2:
        return f"fewer than 2 rows for {'the champion' if n1 < 2 else 'the challenger'}"
    p1, p2 = x1 / n1, x2 / n2
    se = math.sqrt(_se_prop(x1, n1) + _se_prop(x2, n2))
    ci = None
    if want_ci:
        lo, hi = confint_proportions_2indep(x2, n2, x1, n1, method="newcomb", compare="diff",
                                            alpha=alpha)
        ci = (float(lo), float(hi))
    return _Est(p1, p2, p2 - p1, se, n1, n2, method, ci, unit)


def _two_means(a: np.ndarray, b: np.ndarray, alpha: float, method: str,
               want_ci: bool, unit: str = "rows") -> _Est | str:
    if a.size < 2 or b.size < 2:
        return f"fewer than 2 values for {'the champion' if a.size < 2 else 'the challenger'}"
    se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    ci = None
    if want_ci and se > 0:
        res = stats.ttest_ind(b, a, equal_var=False)
        lo, hi = res.confidence_interval(1 - alpha)
        ci = (float(lo), float(hi))
    return _Est(float(a.mean()), float(b.mean()), float(b.mean() - a.mean()), se, a.size,
                b.size, method, ci, unit)


def _paired_mean(a: np.ndarray, b: np.ndarray, alpha: float, method: str,
                 want_ci: bool) -> _Est | str:
    if a.size < 2:
        return "fewer than 2 requests scored by both"
    d = b - a
    se = float(d.std(ddof=1) / math.sqrt(d.size))
    ci = None
    if want_ci and se > 0:
        lo, hi = stats.ttest_rel(b, a).confidence_interval(1 - alpha)
        ci = (float(lo), float(hi))
    return _Est(float(a.mean()), float(b.mean()), float(d.mean()), se, a.size, a.size,
                method, ci, "requests scored by both")


def _shadow_paired(a: np.ndarray | None, b: np.ndarray | None, m: np.ndarray, alpha: float,
                   want_ci: bool, column: str) -> _Est | str:
    """A shadow-mode mean: both models' values on the same requests (``m`` and both finite),
    as a paired difference; ``column`` names what is missing when either side is."""
    if a is None or b is None:
        return f"needs the {column} column"
    sel = m & _finite(a, b)
    return _paired_mean(a[sel], b[sel], alpha, "paired difference", want_ci)


def _normal_ci(delta: float, se: float, alpha: float) -> tuple[float, float]:
    z = _stats.z(1 - alpha / 2)
    return delta - z * se, delta + z * se


def _auc_canary(d: _Data, m: np.ndarray, alpha: float, want_ci: bool) -> _Est | str:
    if d.label is None or d.score is None:
        return "needs the target and score columns"
    assert d.chal is not None  # canary data marks the challenger's rows
    sel = m & _finite(d.label, d.score)
    parts = []
    for arm, who in ((~d.chal, "the champion"), (d.chal, "the challenger")):
        s = sel & arm
        y = d.label[s] == 1
        if y.sum() < 2 or (~y).sum() < 2:
            return f"fewer than 2 labelled positives and negatives for {who} yet"
        parts.append((*_stats.auc_with_variance(d.score[s], y), int(s.sum())))
    (a1, v1, n1), (a2, v2, n2) = parts
    se = math.sqrt(v1 + v2)
    return _Est(a1, a2, a2 - a1, se, n1, n2, "DeLong, independent samples",
                _normal_ci(a2 - a1, se, alpha) if want_ci else None, "labelled rows")


def _auc_shadow(d: _Data, m: np.ndarray, alpha: float, want_ci: bool) -> _Est | str:
    if d.label is None or d.a_score is None or d.b_score is None:
        return "needs the target and score columns"
    sel = m & _finite(d.label, d.a_score, d.b_score)
    y = d.label[sel] == 1
    if y.sum() < 2 or (~y).sum() < 2:
        return "fewer than 2 labelled positives and negatives scored by both yet"
    a1, a2, delta, var = _stats.paired_auc_difference(d.a_score[sel], d.b_score[sel], y)
    se = math.sqrt(max(var, 0.0))
    n = int(sel.sum())
    return _Est(a1, a2, delta, se, n, n, "DeLong, paired (same requests)",
                _normal_ci(delta, se, alpha) if want_ci else None, "labelled requests")


def _estimate(kpi: Kpi, d: _Data, m: np.ndarray, slis: _Slis | None, day: int | None,
              alpha: float, want_ci: bool) -> _Est | str:
    """One KPI on the rows selected by ``m`` (``day``: SLIs up to that day)."""
    name = kpi.name
    shadow = d.mode == "shadow"
    if name == "auc":
        return (_auc_shadow if shadow else _auc_canary)(d, m, alpha, want_ci)
    if name == "positive_rate":
        if shadow:
            return _shadow_paired(d.a_pos, d.b_pos, m, alpha, want_ci, "prediction")
        if d.pos is None:
            return "needs the prediction column"
        assert d.chal is not None
        sel = m & _finite(d.pos)
        a, b = d.pos[sel & ~d.chal], d.pos[sel & d.chal]
        return _two_props(a.sum(), a.size, b.sum(), b.size, alpha,
                          "difference of proportions", want_ci)
    if name == "target_rate_among_positive":
        if d.label is None:
            return "needs the target column"
        if shadow:
            if d.a_pos is None or d.b_pos is None:
                return "needs the prediction column"
            a = d.label[m & _finite(d.label) & (d.a_pos == 1)]
            b = d.label[m & _finite(d.label) & (d.b_pos == 1)]
            method = "difference of proportions (overlapping rows counted as independent)"
        else:
            if d.pos is None:
                return "needs the prediction column"
            assert d.chal is not None
            sel = m & _finite(d.label) & (d.pos == 1)
            a, b = d.label[sel & ~d.chal], d.label[sel & d.chal]
            method = "difference of proportions"
        return _two_props(a.sum(), a.size, b.sum(), b.size, alpha, method, want_ci,
                          "labelled positive predictions")
    if name == "mean_score":
        if shadow:
            return _shadow_paired(d.a_score, d.b_score, m, alpha, want_ci, "score")
        if d.score is None:
            return "needs the score column"
        assert d.chal is not None
        sel = m & _finite(d.score)
        return _two_means(d.score[sel & ~d.chal], d.score[sel & d.chal], alpha,
                          "Welch difference of means", want_ci)
    if name in SLI_MEASURES:
        if slis is None:
            return "needs the latency and error SLIs (slis)"
        sm = np.ones(slis.day.size, bool) if day is None else slis.day <= day
        if name == "error_rate":
            r1, r2 = slis.requests[sm & ~slis.chal].sum(), slis.requests[sm & slis.chal].sum()
            e1, e2 = slis.errors[sm & ~slis.chal].sum(), slis.errors[sm & slis.chal].sum()
            return _two_props(e1, int(r1), e2, int(r2), alpha, "difference of proportions",
                              want_ci, "requests")
        p = slis.p95
        return _two_means(p[sm & ~slis.chal & np.isfinite(p)], p[sm & slis.chal & np.isfinite(p)],
                          alpha, "Welch difference of the intervals' p95", want_ci,
                          "SLI intervals")
    raise AssertionError(name)


def _figure(kpi: Kpi, champion: str, challenger: str, plan: Plan,
            findings_dir: str | os.PathLike[str] | None) -> _Est | str:
    """A per-version figure from another notebook's findings (no sampling error)."""
    source = kpi.findings or "cost_to_value"
    if findings_dir is None:
        return f"needs the {source} findings (no results folder given)"
    path = Path(findings_dir) / f"{source}.results.json"
    if not path.exists():
        return f"needs the {source} findings ({path.name} not found)"
    found = read_findings(path)
    values = []
    for version in (champion, challenger):
        value = (_cost_figure(found, plan.model, version) if not kpi.findings
                 else _metric_figure(found, kpi.metric.replace("{version}", version)))
        if isinstance(value, str):
            return value
        values.append(value)
    a, b = values
    return _Est(a, b, b - a, 0.0, 0, 0, f"figures from {source} (no sampling error)")


def _cost_figure(found: Findings, model: str, version: str) -> float | str:
    rows = found.get("versions") or []
    hits = [r for r in rows if isinstance(r, Mapping) and r.get("version") == version
            and (not model or r.get("model") == model)]
    if not model and len({r.get("model") for r in hits}) > 1:
        return "needs the model's name (several models have this version in the cost findings)"
    value = hits[0].get("cost_per_1k_predictions") if hits else None
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return f"no cost per 1k predictions for {model or 'the model'} {version} in the findings"
    return float(value)


def _metric_figure(found: Findings, metric: str) -> float | str:
    try:
        value = found.metric(metric)
    except KeyError:
        return f"no metric {metric} in the {found.name} findings"
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return f"metric {metric} is not a number ({value!r})"
    return float(value)

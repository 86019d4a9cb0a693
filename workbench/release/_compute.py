"""Champion against challenger: read the logs, estimate every KPI at every daily look with
its always-valid bounds, find the segments where the challenger does worst, decide.

The phases, each a function named for what it produces, are called from :func:`decide`:
``_read`` (logs and SLIs into numpy columns) -> ``_estimate`` per KPI and look ->
``_kpi_result`` (state against the margin) -> ``_segments`` / ``_flips`` -> ``_decision``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from datetime import timedelta
from functools import partial
from typing import Any

import numpy as np
import polars as pl
from scipy import stats
from statsmodels.stats.multitest import multipletests

from workbench.errors import input_error
from workbench.release import _stats
from workbench.release._estimate import _Est, _estimate, _figure, _finite, _normal_ci
from workbench.release._model import (
    Kpi,
    KpiResult,
    Plan,
    ReleaseResult,
)
from workbench.release._plan import load_plan
from workbench.release._read import (
    EPOCH,
    Source,
    _canary,
    _Columns,
    _Data,
    _read_logs,
    _read_slis,
    _shadow,
    _Slis,
)

MIN_SEGMENT_ROWS = 30  # per version; smaller segments are listed as not tested


# --- states and the decision ------------------------------------------------------------------


def _state(kpi: Kpi, lower: float, upper: float) -> str:
    """pass | fail (beyond the margin) | worse (worse, maybe beyond it) | inconclusive."""
    m = kpi.allowed
    if kpi.better == "either":
        if lower > m or upper < -m:
            return "fail"
        if -m < lower and upper < m:
            return "pass"
        return "worse" if lower > 0 or upper < 0 else "inconclusive"
    g_lo, g_hi = (lower, upper) if kpi.better == "higher" else (-upper, -lower)
    if kpi.kind == "success":
        if g_lo > m:
            return "pass"
        return "worse" if g_hi < 0 else "inconclusive"
    if g_hi < -m:
        return "fail"
    if g_lo > -m:
        return "pass"
    return "worse" if g_hi < 0 else "inconclusive"


PASSED = {"pass": True, "fail": False, "worse": False, "inconclusive": None, "unknown": None}


def _fmt(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:+.4g}"


def _bounds(k: KpiResult) -> str:
    return (f"{k.label} {_fmt(k.delta)} (always-valid bounds {_fmt(k.lower)} to "
            f"{_fmt(k.upper)}, margin {k.margin:g})")


def _stage_word(share: float | None) -> str:
    return "the shadow stage" if share is None else f"{share:g}%"


def _decision(kpis: Sequence[KpiResult], champion: str, challenger: str, stage: float | None,
              next_stage: float | None, worse_segments: int) -> tuple[str, str, float | None]:
    """(decision, reason in plain words, the stage to go to)."""
    guard = [k for k in kpis if k.kind == "guardrail"]
    success = [k for k in kpis if k.kind == "success"]
    at = _stage_word(stage)
    if failed := [k for k in guard if k.state == "fail"]:
        return ("rollback", f"{challenger} is worse than {champion} beyond the agreed margin on "
                + "; ".join(_bounds(k) for k in failed) + f". Roll back to {champion}.", 0.0)
    if unknown := [k for k in kpis if k.state == "unknown" and k.kind == "guardrail"]:
        return ("hold", "a decision needs every guardrail, and "
                + "; ".join(f"{k.label} could not be evaluated ({k.note})" for k in unknown)
                + f". Hold at {at}.", stage)
    if worse := [k for k in guard + success if k.state == "worse"]:
        return ("hold", f"{challenger} is measurably worse than {champion} on "
                + "; ".join(_bounds(k) for k in worse)
                + f", possibly beyond the margin. Hold at {at} and review.", stage)
    seg = (f" {worse_segments} segment(s) do measurably worse (see the segments)."
           if worse_segments else "")
    if all(k.state == "pass" for k in guard):
        names = ", ".join(k.label for k in guard) or "no guardrail set"
        pending = [k for k in success if k.state != "pass"]
        last = next_stage is None or next_stage >= 100
        if not pending and last:
            return ("promote", f"every guardrail holds ({names})"
                    + (" and every success metric improved" if success else "")
                    + f": promote {challenger} to all traffic.{seg}", 100.0)
        if not last:
            return ("continue", f"every guardrail holds ({names}): go from {at} to "
                    f"{_stage_word(next_stage)} of traffic.{seg}", next_stage)
        return ("continue", f"every guardrail holds ({names}) but "
                + ", ".join(k.label for k in pending) + f" has not shown an improvement yet: stay"
                f" at {at}.{seg}", stage)
    open_ = [k for k in kpis if k.state == "inconclusive"]
    return ("continue", "not enough evidence yet on "
            + "; ".join(_bounds(k) + (f", about {k.rows_needed:,} more {k.unit} if the "
                                      "difference holds" if k.rows_needed else "")
                        for k in open_) + f": stay at {at}.{seg}", stage)


# --- the whole comparison ---------------------------------------------------------------------


def default_kpis(cols: _Columns) -> tuple[Kpi, ...]:
    """A binary model's defaults: non-inferiority on AUC (margin 0.005) and on the positive
    rate (no change beyond 2 points either way)."""
    out = []
    if cols.target and cols.score:
        out.append(Kpi("auc"))
    if cols.prediction:
        out.append(Kpi("positive_rate"))
    if not out and cols.score:
        out.append(Kpi("mean_score"))
    return tuple(out)


def _looks(d: _Data, slis: _Slis | None) -> list[int]:
    days = set(np.unique(d.day).tolist())
    if slis is not None:
        days |= set(np.unique(slis.day).tolist())
    return sorted(days)


def _distance(kpi: Kpi, delta: float) -> float:
    """How far the estimate lies from the boundary it is heading for (the margin, or zero):
    the bounds settle once they are narrower than this, if the estimate holds."""
    m = kpi.allowed
    if kpi.better == "either":
        return abs(m - abs(delta))
    g = delta if kpi.better == "higher" else -delta
    if kpi.kind == "success":
        return g - m if g > m else abs(g) if g < 0 else kpi.effect
    return abs(g + m)


def _kpi_result(kpi: Kpi, est: _Est | str, alpha: float, power: float, rho: float,
                n_used: int, final: bool = True) -> KpiResult:
    base = partial(KpiResult, name=kpi.name, label=kpi.title, kind=kpi.kind,
                   direction=kpi.better, margin=kpi.allowed, alpha=alpha, mde=kpi.effect)
    if isinstance(est, str):
        return base(champion=None, challenger=None, delta=None, lower=None, upper=None,
                    ci_lower=None, ci_upper=None, passed=None, state="unknown", n_champion=0,
                    n_challenger=0, method="", note=est)
    r = _stats.cs_radius(est.se, alpha, rho)
    lower, upper = est.delta - r, est.delta + r
    state = _state(kpi, lower, upper)
    ci = est.ci or (_normal_ci(est.delta, est.se, alpha) if est.se > 0 else (est.delta,) * 2)
    needed = for_mde = None
    if final and est.se > 0 and n_used > 0:  # sample sizes: for the last look only
        info_now = 1 / est.se**2
        if kpi.effect > 0:
            target = _stats.information_needed(kpi.effect, alpha, rho, power)
            for_mde = math.ceil(target / info_now * n_used)
        distance = _distance(kpi, est.delta)
        if state == "inconclusive" and distance > 0:
            target = _stats.information_needed(distance, alpha, rho, power)
            needed = max(0, math.ceil(target / info_now * n_used) - n_used)
    return base(champion=est.champion, challenger=est.challenger, delta=est.delta,
                lower=lower, upper=upper, ci_lower=ci[0], ci_upper=ci[1],
                passed=PASSED[state], state=state, n_champion=est.n1, n_challenger=est.n2,
                method=est.method, rows_needed=needed, rows_for_mde=for_mde, unit=est.unit)


def decide(logs: Source, *, version_column: str, champion: str, challenger: str,
           target: str | None = None, score: str | None = None,
           prediction: str | None = None, positive: str = "1", timestamp: str | None = None,
           request_id: str | None = None, segments: Sequence[str] = (),
           slis: Source | None = None, plan: Plan | str | os.PathLike[str] | None = None,
           findings_dir: str | os.PathLike[str] | None = None) -> ReleaseResult:
    """Compare ``challenger`` with ``champion`` on live traffic and decide the next step."""
    cols = _Columns(version_column, target or None, score or None, prediction or None,
                    timestamp or None, request_id or None, tuple(segments))
    if plan is None:
        plan = Plan()
    elif not isinstance(plan, Plan):
        plan = load_plan(plan)
    frame, where = _read_logs(logs, cols, champion, challenger)
    rows = {v: int((frame[version_column] == v).sum()) for v in (champion, challenger)}
    if cols.request_id:
        data, shadow = _shadow(frame, cols, champion, challenger, positive, where)
    else:
        data, shadow = _canary(frame, cols, challenger, positive), None
    sli = _read_slis(slis, champion, challenger) if slis is not None else None
    kpis = plan.kpis or default_kpis(cols)
    if not kpis:
        raise input_error(where, None, "columns for at least one KPI: target and score, "
                          "prediction, or score")
    sampled = [k for k in kpis if k.measure != "findings" and k.name != "cost_per_1k_predictions"]
    alpha_k = plan.alpha / max(1, len(sampled))
    rhos = {k.name: _stats.mixture_rho(alpha_k, _stats.design_information(
        k.effect, alpha_k, plan.power)) if k.effect > 0 else 1.0 for k in sampled}
    figures = {k.name: _figure(k, champion, challenger, plan, findings_dir)
               for k in kpis if k not in sampled}

    def result_at(kpi: Kpi, m: np.ndarray, day: int | None, want_ci: bool) -> KpiResult:
        if kpi in sampled:
            est = _estimate(kpi, data, m, sli, day, alpha_k, want_ci)
            n_used = 0 if isinstance(est, str) else est.n1 + est.n2
            return _kpi_result(kpi, est, alpha_k, plan.power, rhos[kpi.name], n_used, want_ci)
        return _kpi_result(kpi, figures[kpi.name], plan.alpha, plan.power, 1.0, 0, want_ci)

    everything = np.ones(data.day.size, bool)
    final = tuple(result_at(k, everything, None, True) for k in kpis)
    share = _challenger_share(data)
    stage, next_stage = _stages(plan.stages, share)
    seg_frame, seg_method = _segments(data, cols, kpis, plan.alpha)
    needed = [k.rows_needed for k in final if k.state == "inconclusive" and k.rows_needed]
    sample_needed = max(needed) if needed else None  # in the rows of the KPI that needs most
    worse_segments = int(seg_frame["worse"].sum()) if seg_frame.height else 0
    decision, reason, _ = _decision(final, champion, challenger, stage, next_stage,
                                    worse_segments)
    timeline = _timeline(kpis, data, sli, result_at, champion, challenger, plan)
    notes = []
    if shadow:
        notes.append(f"{shadow['requests_joined']:,} requests scored by both versions; "
                     f"{shadow['champion_unmatched']:,} {champion} and "
                     f"{shadow['challenger_unmatched']:,} {challenger} requests did not join.")
    flips = _flips(data, cols) if data.mode == "shadow" else None
    if shadow is not None:
        shadow = {**shadow, **_agreement(data)}
    unknown = tuple(k.name for k in final if k.state == "unknown" and k.kind == "guardrail")
    return ReleaseResult(
        decision=decision, reason=reason[0].upper() + reason[1:], mode=data.mode,
        champion=champion, challenger=challenger, kpis=final, segments=seg_frame,
        timeline=timeline, rows=rows, challenger_share=share, stage=stage,
        next_stage=next_stage, plan=plan, sample_needed=sample_needed,
        segment_method=seg_method, shadow=shadow, flips=flips, notes=tuple(notes),
        source=where, unknown=unknown)


def _challenger_share(d: _Data) -> float | None:
    """The challenger's share of traffic on the last day, in percent (None in shadow mode)."""
    if d.mode == "shadow" or d.chal is None or d.day.size == 0:
        return None
    last = d.day == d.day.max()
    return float(100 * d.chal[last].mean())


def _stages(stages: Sequence[float], share: float | None) -> tuple[float | None, float | None]:
    """(the planned stage nearest the observed share, the stage after it)."""
    if share is None:
        return None, (stages[0] if stages else None)
    stage = min(stages, key=lambda s: abs(s - share)) if stages else share
    later = [s for s in stages if s > stage]
    return stage, (later[0] if later else None)


def _timeline(kpis: Sequence[Kpi], d: _Data, sli: _Slis | None,
              result_at: Callable[[Kpi, np.ndarray, int | None, bool], KpiResult],
              champion: str, challenger: str, plan: Plan) -> pl.DataFrame:
    """Every KPI at every daily look (cumulative data to the end of the day), and the
    decision the review would have given that day."""
    rows: list[dict[str, Any]] = []
    for day in _looks(d, sli):
        m = d.day <= day
        results = [result_at(k, m, day, False) for k in kpis]
        share = None
        if d.mode == "canary" and d.chal is not None and (d.day == day).any():
            share = float(100 * d.chal[d.day == day].mean())
        stage, next_stage = _stages(plan.stages, share) if d.mode == "canary" else (
            _stages(plan.stages, None))
        if d.mode == "canary" and share is None:
            stage = next_stage = None
        decision, _, _ = _decision(results, champion, challenger, stage, next_stage, 0)
        when = EPOCH + timedelta(days=int(day))
        for k in results:
            rows.append({"date": when, "kpi": k.name, "label": k.label, "delta": k.delta,
                         "lower": k.lower, "upper": k.upper, "state": k.state,
                         "decision": decision})
    schema = {"date": pl.Date, "kpi": pl.String, "label": pl.String, "delta": pl.Float64,
              "lower": pl.Float64, "upper": pl.Float64, "state": pl.String,
              "decision": pl.String}
    return pl.DataFrame(rows, schema=schema)


# --- segments ---------------------------------------------------------------------------------


def _segment_measure(d: _Data, kpis: Sequence[Kpi]) -> Kpi | None:
    """AUC where labels exist, else the positive rate, else the mean score."""
    has_label = d.label is not None and bool(np.isfinite(d.label).any())
    has_score = d.score is not None or d.a_score is not None
    has_pos = d.pos is not None or d.a_pos is not None
    for name, ok in (("auc", has_label and has_score), ("positive_rate", has_pos),
                     ("mean_score", has_score)):
        if ok:
            return next((k for k in kpis if k.name == name), Kpi(name))
    return None


def _segments(d: _Data, cols: _Columns, kpis: Sequence[Kpi],
              alpha: float) -> tuple[pl.DataFrame, str]:
    """Challenger minus champion per segment value, worst first, with Benjamini-Hochberg
    adjusted p-values across every segment tested."""
    schema = {"segment": pl.String, "value": pl.String, "kpi": pl.String,
              "n_champion": pl.Int64, "n_challenger": pl.Int64, "champion": pl.Float64,
              "challenger": pl.Float64, "delta": pl.Float64, "lower": pl.Float64,
              "upper": pl.Float64, "p_value": pl.Float64, "p_adjusted": pl.Float64,
              "worse": pl.Boolean}
    kpi = _segment_measure(d, kpis)
    if not cols.segments or kpi is None:
        return pl.DataFrame(schema=schema), "no segment columns given"
    rows, harm = [], []
    for column, values in d.seg.items():
        for value in sorted(set(values.tolist())):
            est = _estimate(kpi, d, values == value, None, None, alpha, True)
            if isinstance(est, str) or min(est.n1, est.n2) < MIN_SEGMENT_ROWS or est.se <= 0:
                continue
            gain = est.delta if kpi.better != "lower" else -est.delta
            z = gain / est.se
            p = float(2 * stats.norm.sf(abs(z)))
            lo, hi = est.ci or _normal_ci(est.delta, est.se, alpha)
            rows.append({"segment": column, "value": value, "kpi": kpi.name,
                         "n_champion": est.n1, "n_challenger": est.n2,
                         "champion": est.champion, "challenger": est.challenger,
                         "delta": est.delta, "lower": lo, "upper": hi, "p_value": p,
                         "p_adjusted": None, "worse": False})
            harm.append(z if kpi.better != "either" else -abs(z))
    if not rows:
        return pl.DataFrame(schema=schema), "no segment had enough rows of both versions"
    reject, adjusted, _, _ = multipletests([r["p_value"] for r in rows], alpha=alpha,
                                           method="fdr_bh")
    for r, rej, adj, z in zip(rows, reject, adjusted, harm, strict=True):
        r["p_adjusted"] = float(adj)
        r["worse"] = bool(rej and z < 0)
        r["_z"] = z
    rows.sort(key=lambda r: (r["_z"], r["segment"], r["value"]))
    for r in rows:
        del r["_z"]
    method = (f"{kpi.title} per segment value ({len(rows)} tested, at least "
              f"{MIN_SEGMENT_ROWS} rows of each version); two-sided z-tests, Benjamini-Hochberg "
              f"false discovery rate {alpha:g} across all of them")
    return pl.DataFrame(rows, schema=schema), method


def _agreement(d: _Data) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if d.a_pos is not None and d.b_pos is not None:
        sel = _finite(d.a_pos, d.b_pos)
        out["agreement_rate"] = float((d.a_pos[sel] == d.b_pos[sel]).mean()) if sel.any() else None
        out["flips_to_positive"] = int(((d.a_pos == 0) & (d.b_pos == 1)).sum())
        out["flips_to_negative"] = int(((d.a_pos == 1) & (d.b_pos == 0)).sum())
    if d.a_score is not None and d.b_score is not None:
        sel = _finite(d.a_score, d.b_score)
        diff = d.b_score[sel] - d.a_score[sel]
        out["mean_score_shift"] = float(diff.mean()) if diff.size else None
        out["mean_abs_score_shift"] = float(np.abs(diff).mean()) if diff.size else None
    return out


def _flips(d: _Data, cols: _Columns) -> pl.DataFrame:
    """Decision flips and score shift on the same requests, overall and per segment value."""
    groups: list[tuple[str, str, np.ndarray]] = [("all", "all", np.ones(d.day.size, bool))]
    for column, values in d.seg.items():
        groups += [(column, v, values == v) for v in sorted(set(values.tolist()))]
    rows = []
    for column, value, m in groups:
        row: dict[str, Any] = {"segment": column, "value": value, "requests": int(m.sum())}
        if d.a_pos is not None and d.b_pos is not None:
            a, b = d.a_pos[m], d.b_pos[m]
            row["flips_to_positive"] = int(((a == 0) & (b == 1)).sum())
            row["flips_to_negative"] = int(((a == 1) & (b == 0)).sum())
            row["flip_rate"] = float((a != b).mean()) if m.any() else None
        if d.a_score is not None and d.b_score is not None:
            diff = d.b_score[m] - d.a_score[m]
            diff = diff[np.isfinite(diff)]
            row["mean_score_shift"] = float(diff.mean()) if diff.size else None
        rows.append(row)
    frame = pl.DataFrame(rows)
    if "flip_rate" in frame.columns:
        head, rest = frame.head(1), frame.slice(1).sort("flip_rate", descending=True)
        frame = pl.concat([head, rest])
    return frame

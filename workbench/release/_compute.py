"""Champion against challenger: read the logs, estimate every KPI at every daily look with
its always-valid bounds, find the segments where the challenger does worst, decide.

The phases, each a function named for what it produces, are called from :func:`decide`:
``_read_logs`` -> ``_arrays`` (numpy per column) -> ``_estimate`` per KPI and look ->
``_kpi_result`` (state against the margin) -> ``_segments`` / ``_flips`` -> ``_decision``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep

from workbench import io
from workbench.columns import check_named_columns
from workbench.errors import InputError, input_error
from workbench.findings import Findings, read_findings
from workbench.release import _stats
from workbench.release._model import (
    DIRECTIONS,
    KINDS,
    MEASURES,
    Kpi,
    KpiResult,
    Plan,
    ReleaseResult,
)

SLI_COLUMNS = {"timestamp": "the start of the interval (a date-time)",
               "version": "the model version", "requests": "requests served",
               "errors": "requests that failed", "latency_p95_ms": "p95 latency in ms"}
LABEL_MEASURES = frozenset({"auc", "target_rate_among_positive"})
SLI_MEASURES = frozenset({"error_rate", "p95_latency_ms"})
MIN_SEGMENT_ROWS = 30  # per version; smaller segments are listed as not tested
EPOCH = date(1970, 1, 1)

Source = str | os.PathLike[str] | pl.DataFrame | pl.LazyFrame


# --- the plan ---------------------------------------------------------------------------------


def _number(where: str, field: str, value: Any, *, low: float | None = None,
             high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise input_error(where, field, "a finite number", value)
    if (low is not None and value <= low) or (high is not None and value >= high):
        raise input_error(where, field, f"a number between {low} and {high} (exclusive)", value)
    return float(value)


def kpi_from(spec: Mapping[str, Any] | Kpi, where: str, field: str) -> Kpi:
    """A :class:`Kpi` from a mapping of the plan or the notebook parameters (validated)."""
    if isinstance(spec, Kpi):
        return spec
    if not isinstance(spec, Mapping):
        raise input_error(where, field, "a mapping with at least a name", type(spec).__name__)
    known = {"name", "kind", "direction", "margin", "mde", "label", "findings", "metric"}
    extra = sorted(set(spec) - known)
    if extra:
        raise input_error(where, f"{field}.{extra[0]}", f"one of {', '.join(sorted(known))}",
                          extra[0])
    name = spec.get("name")
    if not isinstance(name, str) or not name:
        raise input_error(where, f"{field}.name", "a KPI name", name)
    findings = str(spec.get("findings") or "")
    metric = str(spec.get("metric") or "")
    if not findings and name not in MEASURES:
        raise input_error(where, f"{field}.name", f"one of {', '.join(MEASURES)} (or findings "
                          "and metric naming a figure per version)", name)
    if findings and "{version}" not in metric:
        raise input_error(where, f"{field}.metric", "a metric name with {version} in it", metric)
    kind = spec.get("kind", "guardrail")
    if kind not in KINDS:
        raise input_error(where, f"{field}.kind", "guardrail or success", kind)
    direction = spec.get("direction", "")
    if direction and direction not in DIRECTIONS:
        raise input_error(where, f"{field}.direction", "higher, lower or either", direction)
    margin = spec.get("margin")
    mde = spec.get("mde")
    kpi = Kpi(name=name, kind=kind, direction=direction or "",
              margin=None if margin is None else _number(where, f"{field}.margin", margin,
                                                         low=-1e-300),
              mde=None if mde is None else _number(where, f"{field}.mde", mde, low=0),
              label=str(spec.get("label") or ""), findings=findings, metric=metric)
    if kpi.kind == "success" and kpi.better == "either":
        raise input_error(where, f"{field}.direction", "higher or lower for a success metric",
                          "either")
    if kpi.margin is not None and kpi.margin < 0:
        raise input_error(where, f"{field}.margin", "a margin of 0 or more", kpi.margin)
    return kpi


def make_plan(*, stages: Sequence[float] | None = None,
              kpis: Sequence[Mapping[str, Any] | Kpi] | None = None,
              alpha: float = 0.05, power: float = 0.9, model: str = "",
              where: str = "parameters", base: Plan | None = None) -> Plan:
    """A plan from parameters; anything given replaces the same part of ``base``."""
    base = base or Plan()
    if stages is not None:
        if not isinstance(stages, Sequence) or isinstance(stages, str) or not stages:
            raise input_error(where, "stages", "a list of traffic shares in percent", stages)
        shares = tuple(_number(where, f"stages[{i}]", s, low=0, high=100.000001)
                       for i, s in enumerate(stages))
        if list(shares) != sorted(set(shares)):
            raise input_error(where, "stages", "ascending traffic shares, each once", list(shares))
    else:
        shares = base.stages
    names: list[Kpi] = list(base.kpis)
    if kpis is not None:
        if isinstance(kpis, str | Mapping) or not isinstance(kpis, Sequence):
            raise input_error(where, "kpis", "a list of KPIs", type(kpis).__name__)
        names = [kpi_from(k, where, f"kpis[{i}]") for i, k in enumerate(kpis)]
        seen = [k.name for k in names]
        dup = next((n for n in seen if seen.count(n) > 1), None)
        if dup:
            raise input_error(where, "kpis", "each KPI name once", dup)
    return Plan(stages=shares, kpis=tuple(names),
                alpha=_number(where, "alpha", alpha, low=0, high=0.5),
                power=_number(where, "power", power, low=0, high=1),
                model=model or base.model, source=base.source or where)


def load_plan(path: str | os.PathLike[str]) -> Plan:
    """Read a rollout plan (YAML): ``stages`` (percent), ``kpis``, ``alpha``, ``power``,
    ``model`` (the model's name in the cost findings)."""
    where = str(path)
    doc = io.read_yaml(path)
    if not isinstance(doc, Mapping):
        raise input_error(where, None, "a mapping (stages, kpis, ...)", type(doc).__name__)
    known = {"stages", "kpis", "alpha", "power", "model", "champion", "challenger",
             "description"}
    extra = sorted(set(doc) - known)
    if extra:
        raise input_error(where, extra[0], f"one of {', '.join(sorted(known))}", extra[0])
    plan = make_plan(stages=doc.get("stages"), kpis=doc.get("kpis"),
                     alpha=doc.get("alpha", 0.05), power=doc.get("power", 0.9),
                     model=str(doc.get("model") or ""), where=where)
    return Plan(plan.stages, plan.kpis, plan.alpha, plan.power, plan.model, where)


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Columns:
    version: str
    target: str | None
    score: str | None
    prediction: str | None
    timestamp: str | None
    request_id: str | None
    segments: tuple[str, ...]


def _lazy(source: Source) -> tuple[pl.LazyFrame, str]:
    if isinstance(source, pl.DataFrame):
        return source.lazy(), "logs"
    if isinstance(source, pl.LazyFrame):
        return source, "logs"
    return io.scan(source), str(source)


def _read_logs(source: Source, cols: _Columns, champion: str,
               challenger: str) -> tuple[pl.DataFrame, str]:
    lf, where = _lazy(source)
    schema = lf.collect_schema()
    named = {"version_column": cols.version, "target": cols.target, "score": cols.score,
             "prediction": cols.prediction, "timestamp": cols.timestamp,
             "request_id": cols.request_id, "segments": list(cols.segments)}
    check_named_columns(schema.names(), {k: v for k, v in named.items() if v}, where)
    if champion == challenger:
        raise input_error(where, cols.version, "two different versions for champion and "
                          "challenger", champion)
    wanted = list(dict.fromkeys(c for c in (cols.version, cols.target, cols.score,
                                            cols.prediction, cols.timestamp, cols.request_id,
                                            *cols.segments) if c))
    declared: set[str] = set()
    dtype = schema[cols.version]
    if isinstance(dtype, pl.Enum):
        declared = set(dtype.categories.to_list())
    try:
        frame = (lf.select(wanted)
                 .with_columns(pl.col(cols.version).cast(pl.String))
                 .filter(pl.col(cols.version).is_in([champion, challenger])).collect())
        found = (lf.select(pl.col(cols.version).cast(pl.String).unique().sort())
                 .collect().to_series().drop_nulls().to_list())
    except InputError:
        raise
    except Exception as exc:  # a file that scans but cannot be read (polars raises many kinds)
        raise InputError(f"{where}: expected a readable table: {type(exc).__name__}: "
                         f"{str(exc).splitlines()[0][:200]}", file=where) from exc
    counts = dict(zip(*np.unique(frame[cols.version].to_numpy(), return_counts=True),
                      strict=True)) if frame.height else {}
    for role, version in (("champion", champion), ("challenger", challenger)):
        if version not in found and version not in declared:
            raise input_error(where, cols.version, f"the {role} version {version!r} among the "
                              f"versions in the logs ({', '.join(map(str, found[:12])) or 'none'})")
        if not counts.get(version):
            raise input_error(where, cols.version, f"rows for the {role} version {version!r}",
                              "no rows")
    _check_types(frame, cols, where)
    return frame, where


def _check_types(frame: pl.DataFrame, cols: _Columns, where: str) -> None:
    if cols.score and not frame.schema[cols.score].is_numeric():
        raise input_error(where, cols.score, "a numeric score column",
                          str(frame.schema[cols.score]))
    if cols.target:
        t = frame[cols.target]
        if t.dtype == pl.Boolean:
            return
        if not t.dtype.is_numeric():
            raise input_error(where, cols.target, "a binary label column (0/1 or true/false)",
                              str(t.dtype))
        bad = t.drop_nulls().filter(~t.drop_nulls().is_in([0, 1]))
        if bad.len():
            raise input_error(where, cols.target, "binary labels 0 or 1 (null while unknown)",
                              bad[0])
    if cols.timestamp and not frame.schema[cols.timestamp].is_temporal():
        raise input_error(where, cols.timestamp, "a date or date-time column",
                          str(frame.schema[cols.timestamp]))


def _positive_expr(frame: pl.DataFrame, column: str, positive: str) -> pl.Expr:
    dtype = frame.schema[column]
    col = pl.col(column)
    if dtype == pl.Boolean:
        hit = col == (positive.strip().lower() in ("1", "true", "yes"))
    elif dtype.is_numeric():
        try:
            hit = col == float(positive)
        except ValueError as exc:
            raise input_error("positive", None, f"a number, as {column} is numeric",
                              positive) from exc
    else:
        hit = col.cast(pl.String) == positive
    return pl.when(col.is_null()).then(None).otherwise(hit.cast(pl.Float64))


def _day_expr(column: str) -> pl.Expr:
    return (pl.col(column).cast(pl.Date) - pl.lit(EPOCH)).dt.total_days().cast(pl.Int64)


def _float(frame: pl.DataFrame, column: str | None) -> np.ndarray | None:
    if not column:
        return None
    return frame[column].cast(pl.Float64).fill_null(float("nan")).to_numpy()


@dataclass(frozen=True)
class _Data:
    """Numpy columns. Canary: one row per logged request, ``chal`` marks the challenger's.
    Shadow: one row per request scored by both, ``a_*`` the champion, ``b_*`` the challenger."""

    mode: str
    day: np.ndarray
    seg: Mapping[str, np.ndarray]
    label: np.ndarray | None
    chal: np.ndarray | None = None
    score: np.ndarray | None = None
    pos: np.ndarray | None = None
    a_score: np.ndarray | None = None
    b_score: np.ndarray | None = None
    a_pos: np.ndarray | None = None
    b_pos: np.ndarray | None = None


def _canary(frame: pl.DataFrame, cols: _Columns, challenger: str, positive: str) -> _Data:
    if cols.score:  # every later selection stays sorted: each look's AUC sorts in linear time
        frame = frame.sort(cols.score, nulls_last=True, maintain_order=True)
    out = frame.with_columns(
        (pl.col(cols.version) == challenger).alias("__chal"),
        (_day_expr(cols.timestamp) if cols.timestamp else pl.lit(0, pl.Int64)).alias("__day"),
        *([_positive_expr(frame, cols.prediction, positive).alias("__pos")]
          if cols.prediction else []))
    if cols.timestamp:
        out = out.filter(pl.col("__day").is_not_null())
    return _Data("canary", out["__day"].to_numpy(), _segment_arrays(out, cols.segments),
                 _float(out, cols.target), chal=out["__chal"].to_numpy(),
                 score=_float(out, cols.score),
                 pos=out["__pos"].to_numpy() if cols.prediction else None)


def _shadow(frame: pl.DataFrame, cols: _Columns, champion: str, challenger: str,
            positive: str, where: str) -> tuple[_Data, dict[str, Any]]:
    rid = cols.request_id
    assert rid is not None
    dup = frame.group_by(rid, cols.version).len().filter(pl.col("len") > 1)
    if dup.height:
        raise input_error(where, rid, f"one row per request and version (request "
                          f"{dup[rid][0]!r} has {dup['len'][0]} rows for {dup[cols.version][0]})")
    extra = [_positive_expr(frame, cols.prediction, positive).alias("__pos")] \
        if cols.prediction else []
    base = frame.with_columns(*extra)
    keep = [c for c in (cols.score, "__pos" if cols.prediction else None) if c]
    a = base.filter(pl.col(cols.version) == champion)
    b = base.filter(pl.col(cols.version) == challenger).select(
        rid, *[pl.col(c).alias(f"{c}__b") for c in keep])
    joined = a.join(b, on=rid, how="inner")
    if joined.height == 0:
        raise input_error(where, rid, f"request ids scored by both {champion} and {challenger} "
                          "(a shadow log joins the two on the request id)",
                          f"none of {a.height:,} {champion} and {b.height:,} {challenger} "
                          "requests join")
    info = {"requests_joined": joined.height,
            "champion_unmatched": a.height - joined.height,
            "challenger_unmatched": b.height - joined.height}
    joined = joined.with_columns(
        (_day_expr(cols.timestamp) if cols.timestamp else pl.lit(0, pl.Int64)).alias("__day"))
    if cols.timestamp:
        joined = joined.filter(pl.col("__day").is_not_null())
    data = _Data("shadow", joined["__day"].to_numpy(), _segment_arrays(joined, cols.segments),
                 _float(joined, cols.target),
                 a_score=_float(joined, cols.score),
                 b_score=_float(joined, f"{cols.score}__b" if cols.score else None),
                 a_pos=_float(joined, "__pos" if cols.prediction else None),
                 b_pos=_float(joined, "__pos__b" if cols.prediction else None))
    return data, info


def _segment_arrays(frame: pl.DataFrame, segments: Sequence[str]) -> dict[str, np.ndarray]:
    return {s: frame[s].cast(pl.String).fill_null("(missing)").to_numpy() for s in segments}


@dataclass(frozen=True)
class _Slis:
    chal: np.ndarray
    day: np.ndarray
    requests: np.ndarray
    errors: np.ndarray
    p95: np.ndarray


def _read_slis(source: Source, champion: str, challenger: str) -> _Slis:
    lf, where = _lazy(source)
    if where == "logs":
        where = "slis"
    io.require_columns(lf, SLI_COLUMNS, where)
    frame = (lf.select(list(SLI_COLUMNS)).with_columns(pl.col("version").cast(pl.String))
             .filter(pl.col("version").is_in([champion, challenger])).collect())
    for version in (champion, challenger):
        if not (frame["version"] == version).any():
            raise input_error(where, "version", f"SLI rows for version {version!r}", "none")
    if not frame.schema["timestamp"].is_temporal():
        raise input_error(where, "timestamp", "a date-time column", str(frame.schema["timestamp"]))
    for c in ("requests", "errors", "latency_p95_ms"):
        if not frame.schema[c].is_numeric():
            raise input_error(where, c, "a numeric column", str(frame.schema[c]))
    if (frame["errors"] > frame["requests"]).any():
        raise input_error(where, "errors", "at most the requests of the same row",
                          "more errors than requests")
    frame = frame.with_columns(_day_expr("timestamp").alias("__day")).drop_nulls(
        ["__day", "requests", "errors"])
    return _Slis((frame["version"] == challenger).to_numpy(), frame["__day"].to_numpy(),
                 frame["requests"].cast(pl.Float64).to_numpy(),
                 frame["errors"].cast(pl.Float64).to_numpy(),
                 frame["latency_p95_ms"].cast(pl.Float64).fill_null(float("nan")).to_numpy())


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


def _finite(*arrays: np.ndarray | None) -> np.ndarray:
    m = np.ones(arrays[0].shape[0], bool) if arrays and arrays[0] is not None else np.array([])
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


def _normal_ci(delta: float, se: float, alpha: float) -> tuple[float, float]:
    z = _stats.z(1 - alpha / 2)
    return delta - z * se, delta + z * se


def _auc_canary(d: _Data, m: np.ndarray, alpha: float, want_ci: bool) -> _Est | str:
    if d.label is None or d.score is None:
        return "needs the target and score columns"
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
            if d.a_pos is None or d.b_pos is None:
                return "needs the prediction column"
            sel = m & _finite(d.a_pos, d.b_pos)
            return _paired_mean(d.a_pos[sel], d.b_pos[sel], alpha, "paired difference",
                                want_ci)
        if d.pos is None:
            return "needs the prediction column"
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
            sel = m & _finite(d.label) & (d.pos == 1)
            a, b = d.label[sel & ~d.chal], d.label[sel & d.chal]
            method = "difference of proportions"
        return _two_props(a.sum(), a.size, b.sum(), b.size, alpha, method, want_ci,
                          "labelled positive predictions")
    if name == "mean_score":
        if shadow:
            if d.a_score is None or d.b_score is None:
                return "needs the score column"
            sel = m & _finite(d.a_score, d.b_score)
            return _paired_mean(d.a_score[sel], d.b_score[sel], alpha, "paired difference",
                                want_ci)
        if d.score is None:
            return "needs the score column"
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
    base = {"name": kpi.name, "label": kpi.title, "kind": kpi.kind, "direction": kpi.better,
            "margin": kpi.allowed, "alpha": alpha, "mde": kpi.effect}
    if isinstance(est, str):
        return KpiResult(**base, champion=None, challenger=None, delta=None, lower=None,
                         upper=None, ci_lower=None, ci_upper=None, passed=None,
                         state="unknown", n_champion=0, n_challenger=0, method="", note=est)
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
    return KpiResult(**base, champion=est.champion, challenger=est.challenger, delta=est.delta,
                     lower=lower, upper=upper, ci_lower=ci[0], ci_upper=ci[1],
                     passed=PASSED[state], state=state, n_champion=est.n1, n_challenger=est.n2,
                     method=est.method, rows_needed=needed, rows_for_mde=for_mde,
                     unit=est.unit)


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

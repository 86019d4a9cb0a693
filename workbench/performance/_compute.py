"""The evaluation: realized metrics per chunk and segment, CBPE estimates, bands, alerts."""

from __future__ import annotations

import math
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np
import polars as pl

from workbench.errors import InputError
from workbench.performance import _cbpe, _metrics
from workbench.performance._inputs import Side, Source, check_columns, lazy, read_labels, read_side
from workbench.performance._model import (
    BINARY_METRICS,
    ESTIMATED_METRICS,
    LOWER_IS_BETTER,
    OUTCOMES,
    REGRESSION_METRICS,
    CalibrationBin,
    Chunk,
    MetricValue,
    Segment,
    Setup,
)

UNDEFINED = {
    "roc_auc": "undefined: the labels have one class only",
    "average_precision": "undefined: no positive labels",
    "precision": "undefined: nothing predicted positive",
    "recall": "undefined: no positive labels",
    "specificity": "undefined: no negative labels",
    "f1": "undefined: no positive labels or predictions",
    "r2": "undefined: the target is constant",
}


@dataclass
class Evaluation:
    """What :func:`run` returns to the result object."""

    setup: Setup
    metrics: tuple[str, ...]
    reference: Chunk
    chunks: list[Chunk]
    segments: list[Segment]
    calibration: str
    calibration_applied: bool
    calibration_bins: list[CalibrationBin]
    alert_ranges: dict[str, tuple[float | None, float | None]]
    confusion: dict[str, dict[str, float | None]]


@dataclass
class _Ordered:
    """One side's rows in score-descending order: the one sort of the scores shared by
    every grouping (chunks, segments, the whole); polars gathers the columns in parallel."""

    score: np.ndarray
    target: np.ndarray
    prediction: np.ndarray | None
    calibrated: np.ndarray | None  # the calibration applied to the sorted scores
    codes: dict[str, np.ndarray]  # each grouping's code of each row


def _ordered(side: Side, cal: _cbpe.Calibration | None,
             groupings: Mapping[str, tuple[np.ndarray | None, int]]) -> _Ordered:
    cols: dict[str, np.ndarray] = {"__s": side.score, "__y": side.target}
    if side.prediction is not None:
        cols["__d"] = side.prediction
    for name, (g, n) in groupings.items():
        if g is not None and n > 1:
            cols[name] = g.astype(np.int16 if n < 2**15 else np.int32)
    df = pl.DataFrame(cols).sort("__s", descending=True)
    s = df["__s"].to_numpy()
    return _Ordered(s, df["__y"].to_numpy(),
                    df["__d"].to_numpy() if side.prediction is not None else None,
                    cal(s) if cal is not None else None,
                    {k: df[k].to_numpy() for k in groupings if k in df.columns})


def _groups(od: _Ordered, name: str, n: int) -> list[np.ndarray | slice]:
    """The positions (in score order) of each group's rows, each still in score order.

    A stable sort of the group codes of the score order (small integer codes: numpy's
    radix sort, linear in the rows): a stable partition of a sorted sequence stays sorted,
    so no group is sorted again."""
    codes = od.codes.get(name)
    if codes is None or n == 1:
        return [slice(None)]
    perm = np.argsort(codes, kind="stable")
    bounds = np.r_[0, np.cumsum(np.bincount(codes, minlength=n))]
    return [perm[bounds[i]:bounds[i + 1]] for i in range(n)]


def _group_metrics(problem: str, od: _Ordered, rows: np.ndarray | slice
                   ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None]:
    """Realized (labeled rows) and estimated (all rows) metrics of one group, its rows
    in score-descending order: each group on its own keeps the arrays small (in cache)
    and lets the groups run on both cores."""
    s, y = od.score[rows], od.target[rows]
    lab = np.isfinite(y)
    g = np.zeros(s.size, np.intp)
    if problem == "regression":
        return _metrics.regression_realized(g[lab], 1, s[lab], y[lab]), None
    assert od.prediction is not None and od.calibrated is not None
    pred = od.prediction[rows]
    est = _metrics.estimated(g, 1, od.calibrated[rows], pred)
    if lab.all():
        return _metrics.binary_realized(g, 1, s, y, pred), est
    return _metrics.binary_realized(g[lab], 1, s[lab], y[lab], pred[lab]), est


def _stack(parts: list[tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None]]
           ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None]:
    """Per-group results (arrays of one value) into arrays over the groups."""
    real = {k: np.concatenate([p[0][k] for p in parts]) for k in parts[0][0]}
    if parts[0][1] is None:
        return real, None
    return real, {k: np.concatenate([p[1][k] for p in parts]) for k in parts[0][1]}  # type: ignore[index]


def _num(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(float(x)) else None


def run(*, analysis: Source, reference: Source, target: str, score: str,
        prediction: str | None = None, threshold: float = 0.5, timestamp: str | None = None,
        window: str | None = None, chunk_size: int | None = None, segment: str | None = None,
        problem: str = "binary", labels: Source | None = None, id_column: str | None = None,
        targets: Mapping[str, float] | None = None, values: Mapping[str, float] | None = None,
        currency: str = "USD", names: Mapping[str, str] | None = None) -> Evaluation:
    names = dict(names or {})
    if problem not in {"binary", "regression"}:
        raise InputError(f"{names.get('problem', 'problem')}: expected binary or regression, "
                         f"got {problem!r}", field="problem")
    if window and chunk_size:
        raise InputError(f"{names.get('window', 'window')}: expected a time window or a chunk "
                         f"size, not both", field="window")
    if chunk_size is not None and chunk_size < 1:
        raise InputError(f"{names.get('chunk_size', 'chunk_size')}: expected a positive number "
                         f"of rows, got {chunk_size}", field="chunk_size")
    if not 0 <= threshold <= 1 and problem == "binary":
        raise InputError(f"{names.get('threshold', 'threshold')}: expected a number in [0, 1], "
                         f"got {threshold}", field="threshold")
    metric_names = BINARY_METRICS if problem == "binary" else REGRESSION_METRICS
    targets = dict(targets or {})
    for k in targets:
        if k not in metric_names:
            raise InputError(f"{names.get('targets', 'targets')}: expected metrics of a "
                             f"{problem} problem ({', '.join(metric_names)}), got {k!r}",
                             field="targets")
    values = dict(values or {})
    for k in values:
        if k not in OUTCOMES:
            raise InputError(f"{names.get('values', 'values')}: expected outcomes tp, fp, tn, "
                             f"fn, got {k!r}", field="values")
    if values and problem != "binary":
        raise InputError(f"{names.get('values', 'values')}: expected no decision values for a "
                         f"regression problem", field="values")
    ref_lf, ref_src = lazy(reference, "reference")
    ana_lf, ana_src = lazy(analysis, "analysis")
    check_columns(ref_lf, ref_src, {"target": target, "score": score, "prediction": prediction,
                                    "timestamp": timestamp if window else None}, names)
    check_columns(ana_lf, ana_src, {"score": score, "prediction": prediction,
                                    "timestamp": timestamp, "segment": segment,
                                    "id_column": id_column if labels is not None else None},
                  names)
    label_frame, label_src = None, None
    if labels is not None:
        if not id_column:
            raise InputError(f"{names.get('id_column', 'id_column')}: expected the id column "
                             f"that joins the label file, got none", field="id_column")
        label_frame = read_labels(labels, id_column=id_column, target=target, problem=problem,
                                  names=names)
        label_src = lazy(labels, "labels")[1] if not isinstance(labels, str) else labels
    read = partial(read_side, problem=problem, target=target, score=score,
                   prediction=prediction, threshold=threshold, window=window,
                   chunk_size=chunk_size, names=names)
    ref = read(ref_lf, ref_src, timestamp=timestamp if window else None, segment=None,
               require_labels=True)
    setup_of = partial(Setup, problem, target, score, prediction, threshold, timestamp, window,
                       chunk_size, segment, targets, values, currency, ref_src)
    if problem != "binary":
        ana = read(ana_lf, ana_src, timestamp=timestamp, segment=segment, labels=label_frame,
                   id_column=id_column)
        return _evaluate(setup_of(ana_src, label_src, id_column), metric_names, ref, ana)
    # the reference's calibration is fitted on a second thread while the analysis is read
    with ThreadPoolExecutor(max_workers=1) as pool:
        lab = np.isfinite(ref.target)
        calibration = pool.submit(_cbpe.fit_calibration, ref.target[lab].astype(int),
                                  ref.score[lab])
        ana = read(ana_lf, ana_src, timestamp=timestamp, segment=segment, labels=label_frame,
                   id_column=id_column)
        return _evaluate(setup_of(ana_src, label_src, id_column), metric_names, ref, ana,
                         calibration)


def _evaluate(setup: Setup, metric_names: tuple[str, ...], ref: Side, ana: Side,
              calibration: Future[_cbpe.Calibration] | None = None) -> Evaluation:
    """Every chunk, segment and the whole reference; the independent pieces (the
    groupings, the bootstrap) run on two threads (numpy releases the GIL in its loops)."""
    binary = setup.problem == "binary"
    lab = np.isfinite(ref.target)
    with ThreadPoolExecutor(max_workers=2) as pool:
        boot_f = pool.submit(_bootstrap, setup.problem, ref, lab)
        cal = None
        if binary:
            assert ref.prediction is not None
            cal = (calibration.result() if calibration is not None else
                   _cbpe.fit_calibration(ref.target[lab].astype(int), ref.score[lab]))
            closed = _cbpe.closed_form_components(ref.target[lab].astype(int),
                                                  ref.score[lab], ref.prediction[lab])
        else:
            closed = {}
        n_seg = len(ana.segments) if ana.segments is not None else 0
        ana_od = _ordered(ana, cal, {"chunk": (ana.chunk, len(ana.chunks)),
                                     "segment": (ana.segment, n_seg)})
        ref_od = _ordered(ref, cal, {"chunk": (ref.chunk, len(ref.chunks))})
        one = partial(_group_metrics, setup.problem)

        def grouped(od: _Ordered, name: str, n: int) -> list[Future]:
            return [pool.submit(one, od, rows) for rows in _groups(od, name, n)]

        ana_f = grouped(ana_od, "chunk", len(ana.chunks))
        seg_f = grouped(ana_od, "segment", n_seg) if ana.segment is not None else None
        ref_f = grouped(ref_od, "chunk", len(ref.chunks))
        all_f = grouped(ref_od, "whole", 1)

        def stack(futures: list[Future]) -> tuple[dict[str, np.ndarray],
                                                   dict[str, np.ndarray] | None]:
            return _stack([f.result() for f in futures])

        r_ana, e_ana = stack(ana_f)
        r_ref, e_ref = stack(ref_f)
        r_all, e_all = stack(all_f)
        r_seg, e_seg = stack(seg_f) if seg_f is not None else ({}, None)
        errors = _cbpe.StandardErrors(closed, boot_f.result())
    n_rc, n_ac = len(ref.chunks), len(ana.chunks)
    ranges = {k: _cbpe.alert_range(r_ref[k], *_cbpe.limits(k)) for k in metric_names}

    def build(real, est, i, rows, labeled) -> dict[str, MetricValue]:
        return {k: _value(k, real, est, i, rows, labeled, errors, ranges) for k in metric_names}

    def labeled_counts(side: Side, g: np.ndarray, n: int) -> np.ndarray:
        return np.bincount(g[np.isfinite(side.target)], minlength=n)

    ref_rows = np.bincount(ref.chunk, minlength=n_rc)
    ref_lab = labeled_counts(ref, ref.chunk, n_rc)
    ana_rows = np.bincount(ana.chunk, minlength=n_ac)
    ana_lab = labeled_counts(ana, ana.chunk, n_ac)
    chunks: list[Chunk] = []
    for period, side, real, est, rows, labeled in (
            ("reference", ref, r_ref, e_ref, ref_rows, ref_lab),
            ("analysis", ana, r_ana, e_ana, ana_rows, ana_lab)):
        for i, (key, start, end) in enumerate(side.chunks):
            chunks.append(Chunk(key, period, start, end, int(rows[i]), int(labeled[i]),
                                build(real, est, i, rows[i], labeled[i]),
                                _confusion(real, est, i, labeled[i]) if binary else {},
                                _value_of(setup, real, est, i, rows[i], labeled[i])))
    whole = Chunk("reference", "reference", None, None, int(ref.score.size), int(lab.sum()),
                  build(r_all, e_all, 0, ref.score.size, lab.sum()),
                  _confusion(r_all, e_all, 0, lab.sum()) if binary else {},
                  _value_of(setup, r_all, e_all, 0, ref.score.size, lab.sum()))
    segments: list[Segment] = []
    confusion: dict[str, dict[str, float | None]] = {}
    if binary:  # the whole analysis: the sums of its chunks' counts
        assert e_ana is not None
        tot_r = {k: np.array([r_ana[k].sum()]) for k in OUTCOMES}
        tot_e = {k: np.array([e_ana[k].sum()]) for k in OUTCOMES}
        confusion = _confusion(tot_r, tot_e, 0, int(ana_lab.sum()))
    if seg_f is not None and ana.segment is not None and ana.segments is not None:
        n_s = len(ana.segments)
        rows_s = np.bincount(ana.segment, minlength=n_s)
        lab_s = labeled_counts(ana, ana.segment, n_s)
        for i, name in enumerate(ana.segments):
            segments.append(Segment(setup.segment or "", name, int(rows_s[i]), int(lab_s[i]),
                                    build(r_seg, e_seg, i, rows_s[i], lab_s[i])))
        primary = next(iter(setup.targets), metric_names[0])
        segments.sort(key=lambda s: _worst_key(primary, s.metrics[primary].judged))
    bins = _calibration_bins(ref, ana) if binary else []
    return Evaluation(setup, metric_names, whole, chunks, segments,
                      cal.reason if cal else "not applicable (regression)",
                      bool(cal and cal.applied), bins, ranges, confusion)


def _worst_key(metric: str, value: float | None) -> tuple[int, float]:
    if value is None:
        return (1, 0.0)
    return (0, -value if metric in LOWER_IS_BETTER else value)


def _bootstrap(problem: str, ref: Side, lab: np.ndarray) -> dict[str, tuple[float, int]]:
    idx_lab = np.flatnonzero(lab)
    score, y = ref.score[idx_lab], ref.target[idx_lab]
    pred = ref.prediction[idx_lab] if ref.prediction is not None else None

    by_score = np.argsort(-score, kind="stable")
    rank = np.empty(score.size, np.int64)
    rank[by_score] = np.arange(score.size)

    def compute(index: np.ndarray, groups: np.ndarray, k: int) -> dict[str, np.ndarray]:
        # one integer sort of (sample, rank of the score) orders every sample at once
        key = np.sort(groups.astype(np.int64) * score.size + rank[index])
        gg, ii = key // score.size, by_score[key % score.size]
        if problem == "regression":
            return _metrics.regression_realized(gg, k, score[ii], y[ii])
        assert pred is not None
        return _metrics.binary_realized(gg, k, score[ii], y[ii], pred[ii])

    names = (("average_precision", "log_loss", "brier", "ece") if problem == "binary"
             else REGRESSION_METRICS)
    return _cbpe.bootstrap_components(compute, idx_lab.size, names)


def _value(metric: str, real: Mapping[str, np.ndarray], est: Mapping[str, np.ndarray] | None,
           i: int, rows: float, labeled: float, errors: _cbpe.StandardErrors,
           ranges: Mapping[str, tuple[float | None, float | None]]) -> MetricValue:
    realized = _num(real[metric][i]) if labeled else None
    note = None
    if not labeled:
        note = "no labels yet"
    elif realized is None:
        note = UNDEFINED.get(metric, "undefined for these rows")
    estimated = None
    if est is not None and metric in ESTIMATED_METRICS:
        estimated = _num(est[metric][i])
        if estimated is None and note is None:
            note = "estimate undefined for these rows"
    center = estimated if estimated is not None else realized
    lower = upper = None
    se = errors.se(metric, float(rows), float(labeled))
    if center is not None and se is not None:
        lo_lim, hi_lim = _cbpe.limits(metric)
        lower, upper = center - _cbpe.BAND * se, center + _cbpe.BAND * se
        lower = max(lower, lo_lim) if lo_lim is not None else lower
        upper = min(upper, hi_lim) if hi_lim is not None else upper
    judged = realized if realized is not None else estimated
    lo_t, hi_t = ranges.get(metric, (None, None))
    alert = judged is not None and ((lo_t is not None and judged < lo_t)
                                    or (hi_t is not None and judged > hi_t))
    return MetricValue(realized, estimated, lower, upper, bool(alert), note)


def _confusion(real: Mapping[str, np.ndarray], est: Mapping[str, np.ndarray] | None, i: int,
               labeled: float) -> dict[str, dict[str, float | None]]:
    """The four counts, the positive rate and the predicted positive rate."""
    def rates(counts: dict[str, float | None]) -> dict[str, float | None]:
        rows = sum(float(counts[k] or 0.0) for k in OUTCOMES)
        tp, fp, fn = (float(counts[k] or 0.0) for k in ("tp", "fp", "fn"))
        counts["positive_rate"] = (tp + fn) / rows if rows else None
        counts["predicted_positive_rate"] = (tp + fp) / rows if rows else None
        return counts

    out: dict[str, dict[str, float | None]] = {}
    if labeled:
        out["realized"] = rates({k: float(real[k][i]) for k in OUTCOMES})
    if est is not None:
        out["estimated"] = rates({k: float(est[k][i]) for k in OUTCOMES})
    return out


def _value_of(setup: Setup, real: Mapping[str, np.ndarray], est: Mapping[str, np.ndarray] | None,
              i: int, rows: float, labeled: float) -> dict[str, float | None]:
    """Business value of the decisions: the count of each outcome times its value."""
    if not setup.values:
        return {}
    v = setup.values

    def total(src: Mapping[str, np.ndarray]) -> float:
        return float(sum(src[k][i] * v.get(k, 0.0) for k in OUTCOMES))

    out: dict[str, float | None] = {"realized": None, "realized_per_1k": None,
                                    "estimated": None, "estimated_per_1k": None}
    if labeled:
        realized = total(real)
        out["realized"], out["realized_per_1k"] = realized, realized / labeled * 1000
    if est is not None and rows:
        estimated = total(est)
        out["estimated"], out["estimated_per_1k"] = estimated, estimated / rows * 1000
    return out


def _calibration_bins(ref: Side, ana: Side) -> list[CalibrationBin]:
    out = []
    for name, side in (("reference", ref), ("analysis", ana)):
        lab = np.isfinite(side.target)
        s, y = side.score[lab], side.target[lab]
        b = _metrics.ece_bin(s)
        k = np.bincount(b, minlength=_metrics.ECE_BINS)
        ms = np.bincount(b, weights=s, minlength=_metrics.ECE_BINS)
        my = np.bincount(b, weights=y, minlength=_metrics.ECE_BINS)
        for j in range(_metrics.ECE_BINS):
            if k[j]:
                out.append(CalibrationBin(name, j / _metrics.ECE_BINS,
                                          (j + 1) / _metrics.ECE_BINS, int(k[j]),
                                          float(ms[j] / k[j]), float(my[j] / k[j])))
    return out

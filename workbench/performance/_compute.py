"""The evaluation: realized metrics per chunk and segment, CBPE estimates, bands, alerts."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial

import numpy as np

from workbench.errors import InputError
from workbench.performance import _cbpe, _metrics, _sort
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
    """One side's rows in score-descending order (regression): one sort of the scores
    shared by every grouping (chunks, segments, the whole)."""

    score: np.ndarray
    target: np.ndarray
    codes: dict[str, np.ndarray]  # each grouping's code of each row


def _ordered(side: Side, groupings: Mapping[str, tuple[np.ndarray | None, int]]) -> _Ordered:
    order, score = _sort.descending(side.score)
    return _Ordered(score, side.target[order],
                    {k: g[order] for k, (g, n) in groupings.items() if g is not None and n > 1})


def _groups(codes: np.ndarray | None, n: int) -> list[np.ndarray | slice]:
    """The positions (in score order) of each group's rows, each still in score order.

    A stable sort of the group codes of the score order (small integer codes: numpy's
    radix sort, linear in the rows): a stable partition of a sorted sequence stays sorted,
    so no group is sorted again."""
    if codes is None or n == 1:
        return [slice(None)]
    perm = np.argsort(codes.astype(np.int16 if n < 2**15 else np.int32), kind="stable")
    bounds = np.r_[0, np.cumsum(np.bincount(codes, minlength=n))]
    return [perm[bounds[i]:bounds[i + 1]] for i in range(n)]


def _regression_metrics(od: _Ordered, rows: np.ndarray | slice
                        ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None]:
    """Realized metrics of one group (its labeled rows)."""
    s, y = od.score[rows], od.target[rows]
    lab = np.isfinite(y)
    g = np.zeros(int(lab.sum()), np.intp)
    return _metrics.regression_realized(g, 1, s[lab], y[lab]), None


@dataclass
class _Scored:
    """One side's rows in score-descending order (binary): the one sort of the scores
    shared by every grouping (chunks, segments, the whole); each row's labeled, positive
    and decision bits in one int8; after :func:`_calibrate`, the per-row columns that
    every grouping sums."""

    score: np.ndarray
    state: np.ndarray
    codes: dict[str, tuple[np.ndarray, int]]  # each grouping's small code per row, groups
    block: np.ndarray | None  # where scores tie: the id of each row's run of equal scores
    ece: np.ndarray | None = None
    calibrated: np.ndarray | None = None
    floats: dict[str, np.ndarray] | None = None


def _scored(side: Side, groupings: Mapping[str, tuple[np.ndarray | None, int]]) -> _Scored:
    """The sort, and the columns that follow the score gathered in that order: each row's
    state and group codes packed into one integer first, so one random gather serves them
    all (0.15 s of CPU on 10M rows where three gathers took 0.4 s)."""
    assert side.prediction is not None
    order, score = _sort.descending(side.score)
    fields: list[tuple[str, int, int]] = []  # name, shift, groups
    shift = 3
    for name, (g, n) in groupings.items():
        if g is not None and n > 1:
            fields.append((name, shift, n))
            shift += (n - 1).bit_length()
    word = np.uint32 if shift <= 32 else np.uint64
    packed = _metrics.state_of(side.target, side.prediction).astype(word)
    for name, at, _ in fields:
        code = groupings[name][0]
        assert code is not None
        part = code.astype(word)
        np.left_shift(part, word(at), out=part)
        np.bitwise_or(packed, part, out=packed)
    packed = packed[order]
    state = (packed & word(7)).astype(np.int8)
    codes: dict[str, tuple[np.ndarray, int]] = {}
    for name, (g, n) in groupings.items():
        if g is not None and n == 1:
            codes[name] = (np.zeros(score.size, np.int16), 1)
    for name, at, n in fields:
        small = np.int16 if n < 2**15 else np.int32
        codes[name] = (((packed >> word(at)) & word((1 << (n - 1).bit_length()) - 1))
                       .astype(small), n)
    change = score[1:] != score[:-1]
    block = None
    if not change.all():  # ties: runs of equal scores, for the ranking metrics' points
        block = np.empty(score.size, np.int32 if score.size < 2**31 else np.int64)
        block[0] = 0
        np.cumsum(change, out=block[1:])
    return _Scored(score, state, codes, block)


def _released(side: Side) -> Side:
    """``side`` without its row columns (its chunks and segment names kept)."""
    none = np.empty(0)
    return replace(side, score=none, target=none, prediction=None, chunk=none.astype(np.intp),
                   segment=None if side.segment is None else none.astype(np.int32))


def _calibrate(sc: _Scored, cal: _cbpe.Calibration, pool: ThreadPoolExecutor) -> None:
    """The per-row columns the groupings sum, in score order: log loss and Brier terms of
    the labeled rows (0 elsewhere: adding 0.0 leaves a sum as it was), the score of the
    labeled rows per ECE bin, the calibrated probability and its product with the
    decision. The log loss term is ``-log(p)`` or ``-log1p(-p)`` as the label says, which
    is what ``-(y log p + (1 - y) log1p(-p))`` evaluates to, bit for bit."""
    s, state = sc.score, sc.state
    calibrated_f = pool.submit(cal, s)  # on the other core
    labeled = state >= _metrics.STATE_LABELED
    positive = (state & _metrics.STATE_POSITIVE) > 0
    p = np.clip(s, _metrics.EPS, 1 - _metrics.EPS)
    log_loss = np.log1p(np.negative(p, out=p), out=p)
    log_loss[positive] = np.log(np.clip(s[positive], _metrics.EPS, 1 - _metrics.EPS))
    np.negative(log_loss, out=log_loss)
    unlabeled = ~labeled
    log_loss[unlabeled] = 0.0
    brier = s - positive
    brier *= brier
    brier[unlabeled] = 0.0
    ece_score = np.where(labeled, s, 0.0)
    sc.calibrated = calibrated_f.result()
    sc.ece = _metrics.ece_bin_descending(s)
    sc.floats = {"log_loss": log_loss, "brier": brier, "ece_score": ece_score}


def _ranks(state: np.ndarray, calibrated: np.ndarray, block: np.ndarray | None
           ) -> tuple[float, float, float, float, float]:
    """Realized ROC AUC and average precision, estimated ROC AUC and the sums of the
    calibrated probabilities (all, and where the decision is positive) of one group."""
    auc, ap = (_metrics.ranking_distinct(state) if block is None
               else _metrics.ranking_tied(state, block))
    decision = (state & _metrics.STATE_DECISION) > 0
    return auc, ap, *_metrics.estimated_sorted(calibrated, decision)


def _grouping(pool: ThreadPoolExecutor, sc: _Scored, name: str
              ) -> Callable[[], tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None]]:
    """Every group of one grouping: the sums per group on one thread, each group's ranking
    metrics and estimated ROC AUC on its own (over the rows of that group alone, in cache)
    on the pool; returns what gathers them into the realized and estimated arrays."""
    assert sc.ece is not None and sc.floats is not None and sc.calibrated is not None
    small, n = sc.codes[name]
    g = small.astype(np.intp)
    sums_f = pool.submit(_metrics.grouped_sums, g, n, sc.state, sc.ece, sc.floats)
    block = sc.block
    if n == 1:
        state, calibrated = sc.state, sc.calibrated
        bounds = np.array([0, sc.score.size])
    else:
        perm = np.argsort(small, kind="stable")  # radix: a stable partition keeps order
        bounds = np.r_[0, np.cumsum(np.bincount(g, minlength=n))]
        state, calibrated = sc.state[perm], sc.calibrated[perm]
        block = block[perm] if block is not None else None
    parts = [pool.submit(_ranks, state[a:b], calibrated[a:b],
                         block[a:b] if block is not None else None)
             for a, b in zip(bounds[:-1], bounds[1:], strict=True)]

    def collect() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None]:
        cells, _, sums = sums_f.result()
        ranks = np.array([f.result() for f in parts]).reshape(n, 5)
        sums.update(calibrated=ranks[:, 3], calibrated_decision=ranks[:, 4])
        return (_metrics.binary_from_sums(cells, sums, ranks[:, 0], ranks[:, 1]),
                _metrics.estimated_from_sums(cells, sums, ranks[:, 2]))

    return collect


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
        # no name holds the analysis here: _evaluate lets its columns go once sorted
        return _evaluate(setup_of(ana_src, label_src, id_column), metric_names, ref,
                         read(ana_lf, ana_src, timestamp=timestamp, segment=segment,
                              labels=label_frame, id_column=id_column), calibration)


def _evaluate(setup: Setup, metric_names: tuple[str, ...], ref: Side, ana: Side,
              calibration: Future[_cbpe.Calibration] | None = None) -> Evaluation:
    """Every chunk, segment and the whole reference; the independent pieces (the sort
    beside the bootstrap, each grouping's sums beside its groups' walks) run on two
    threads (numpy releases the GIL in its loops)."""
    binary = setup.problem == "binary"
    lab = np.isfinite(ref.target)
    n_seg = len(ana.segments) if ana.segments is not None else 0
    ana_groupings = {"chunk": (ana.chunk, len(ana.chunks)), "segment": (ana.segment, n_seg)}
    ref_groupings = {"chunk": (ref.chunk, len(ref.chunks)), "whole": (ref.chunk, 1)}
    with ThreadPoolExecutor(max_workers=2) as pool:
        boot_f = pool.submit(_bootstrap, setup.problem, ref, lab)
        cal = None
        if binary:
            assert ref.prediction is not None
            closed_f = pool.submit(_cbpe.closed_form_components, ref.target[lab].astype(int),
                                   ref.score[lab], ref.prediction[lab])
            ana_sc = _scored(ana, ana_groupings)  # while the calibration is fitted
            # the sorted copies replace the analysis columns: letting them go keeps the
            # peak under 2 GB at 10M rows (1.98 GB with them, tied scores)
            ana = _released(ana)
            del ana_groupings
            ref_sc = _scored(ref, ref_groupings)
            cal = (calibration.result() if calibration is not None else
                   _cbpe.fit_calibration(ref.target[lab].astype(int), ref.score[lab]))
            _calibrate(ana_sc, cal, pool)
            _calibrate(ref_sc, cal, pool)
            # the segments' partition on the pool while this thread partitions the chunks
            seg_g = (pool.submit(_grouping, pool, ana_sc, "segment")
                     if ana.segment is not None else None)
            ana_c = _grouping(pool, ana_sc, "chunk")
            ref_c = _grouping(pool, ref_sc, "chunk")
            all_c = _grouping(pool, ref_sc, "whole")
            (r_ana, e_ana), (r_ref, e_ref), (r_all, e_all) = ana_c(), ref_c(), all_c()
            r_seg, e_seg = seg_g.result()() if seg_g is not None else ({}, None)
            closed = closed_f.result()
        else:
            closed = {}
            (r_ana, e_ana), (r_seg, e_seg), (r_ref, e_ref), (r_all, e_all) = (
                _regression_groupings(pool, ana, ref, ana_groupings, ref_groupings, n_seg))
        errors = _cbpe.StandardErrors(closed, boot_f.result())
    n_rc, n_ac = len(ref.chunks), len(ana.chunks)
    ranges = {k: _cbpe.alert_range(r_ref[k], *_cbpe.limits(k)) for k in metric_names}

    def build(real, est, i, rows, labeled) -> dict[str, MetricValue]:
        return {k: _value(k, real, est, i, rows, labeled, errors, ranges) for k in metric_names}

    def row_counts(side: Side, g: np.ndarray, n: int, real: Mapping[str, np.ndarray],
                   est: Mapping[str, np.ndarray] | None) -> tuple[np.ndarray, np.ndarray]:
        """Rows and labeled rows per group (binary: the counts the sums already hold)."""
        if est is not None:
            return est["rows"].astype(np.int64), real["rows"].astype(np.int64)
        return (np.bincount(g, minlength=n),
                np.bincount(g[np.isfinite(side.target)], minlength=n))

    ref_rows, ref_lab = row_counts(ref, ref.chunk, n_rc, r_ref, e_ref)
    ana_rows, ana_lab = row_counts(ana, ana.chunk, n_ac, r_ana, e_ana)
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
    if ana.segment is not None and ana.segments is not None:
        n_s = len(ana.segments)
        rows_s, lab_s = row_counts(ana, ana.segment, n_s, r_seg, e_seg)
        for i, name in enumerate(ana.segments):
            segments.append(Segment(setup.segment or "", name, int(rows_s[i]), int(lab_s[i]),
                                    build(r_seg, e_seg, i, rows_s[i], lab_s[i])))
        primary = next(iter(setup.targets), metric_names[0])
        segments.sort(key=lambda s: _worst_key(primary, s.metrics[primary].judged))
    bins = (_calibration_bins([("reference", ref_sc), ("analysis", ana_sc)]) if binary
            else [])
    return Evaluation(setup, metric_names, whole, chunks, segments,
                      cal.reason if cal else "not applicable (regression)",
                      bool(cal and cal.applied), bins, ranges, confusion)


_Sums = tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None]


def _regression_groupings(pool: ThreadPoolExecutor, ana: Side, ref: Side,
                          ana_groupings: Mapping[str, tuple[np.ndarray | None, int]],
                          ref_groupings: Mapping[str, tuple[np.ndarray | None, int]],
                          n_seg: int) -> tuple[_Sums, _Sums, _Sums, _Sums]:
    """Regression: the metrics of the analysis chunks, its segments, the reference chunks
    and the whole reference, each group's on the pool."""
    ana_od = _ordered(ana, ana_groupings)
    ref_od = _ordered(ref, ref_groupings)

    def grouped(od: _Ordered, name: str, n: int) -> list[Future]:
        return [pool.submit(_regression_metrics, od, rows)
                for rows in _groups(od.codes.get(name), n)]

    ana_f = grouped(ana_od, "chunk", len(ana.chunks))
    seg_f = grouped(ana_od, "segment", n_seg) if ana.segment is not None else None
    ref_f = grouped(ref_od, "chunk", len(ref.chunks))
    all_f = grouped(ref_od, "whole", 1)

    def stack(futures: list[Future]) -> _Sums:
        return _stack([f.result() for f in futures])

    return (stack(ana_f), stack(seg_f) if seg_f is not None else ({}, None), stack(ref_f),
            stack(all_f))


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


def _calibration_bins(sides: list[tuple[str, _Scored]]) -> list[CalibrationBin]:
    """Labeled rows, mean score and observed positive rate per equal-width score bin."""
    out = []
    for name, sc in sides:
        assert sc.ece is not None and sc.floats is not None
        cells = np.bincount(sc.ece.astype(np.intp) * 8 + sc.state,
                            minlength=_metrics.ECE_BINS * 8)
        labeled = cells.reshape(_metrics.ECE_BINS, 8)[:, _metrics.STATE_LABELED:]
        k = labeled.sum(axis=1)
        my = labeled[:, _metrics.STATE_POSITIVE:].sum(axis=1)
        ms = np.bincount(sc.ece, weights=sc.floats["ece_score"], minlength=_metrics.ECE_BINS)
        for j in range(_metrics.ECE_BINS):
            if k[j]:
                out.append(CalibrationBin(name, j / _metrics.ECE_BINS,
                                          (j + 1) / _metrics.ECE_BINS, int(k[j]),
                                          float(ms[j] / k[j]), float(my[j] / k[j])))
    return out

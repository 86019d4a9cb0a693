"""Model performance: realized when labels arrive, estimated (CBPE) before they do, and the
estimate checked once they arrive.

>>> from workbench import performance
>>> result = performance.evaluate(analysis="current.parquet", reference="reference.parquet",
...     target="label_default", score="score", timestamp="scored_at", window="week",
...     targets={"roc_auc": 0.75})                               # doctest: +SKIP
>>> result.status, result.headline, result.metrics["latest_estimated_roc_auc"]  # doctest: +SKIP

``analysis`` and ``reference`` are keyword-only (the CLI takes REFERENCE ANALYSIS).

Findings metrics (``model_performance.results.json``), for gates. Per metric NAME
(``roc_auc``, ``f1``, ... for binary problems; ``mae``, ``rmse``, ... for regression), as
flat dotted keys: ``latest.NAME`` (the latest analysis chunk: realized where labeled, else
estimated), ``latest_estimated.NAME``, ``latest_realized.NAME``, ``worst_realized.NAME``,
``worst_estimated.NAME``, ``reference.NAME``. Flat: ``latest_estimated_roc_auc`` and
``lowest_realized_roc_auc`` (binary) or ``highest_realized_mae`` (regression),
``estimate_coverage`` (share of chunks with labels since arrived whose realized value fell
inside the estimate's band), ``estimate_checked_chunks``, ``estimate_mean_abs_error``,
``alerts``, ``chunks_analysis``, ``chunks_unlabeled``, ``labeled_share``, ``target``
(of the headline metric: the first agreed target), ``target_met``; with decision values
also ``latest_estimated_value`` and ``latest_estimated_value_per_1k``.

Speed (``benchmarks/performance.py``): one sort of the scores per data set (numpy's SIMD
sort of uint64 keys) serves every grouping (chunks, segments, the whole reference): a stable
partition of the sorted rows by group code keeps each group sorted. Every sum per group is
one ``np.bincount`` over the rows in score order (the order a group's own pass would add
them in: the same numbers, bit for bit); the ranking metrics come from each group's
positives when no two scores tie, and the estimated ROC AUC walks each group in cache-sized
blocks, the groups spread over two threads. The reference's calibration (isotonic fits on
scores sorted once) is fitted while the analysis is read and sorted. No scikit-learn call
per chunk.
"""

from __future__ import annotations

from collections.abc import Mapping

from workbench.performance._compare import Change, compare
from workbench.performance._compute import run
from workbench.performance._inputs import Source
from workbench.performance._model import (
    BINARY_METRICS,
    ESTIMATED_METRICS,
    REGRESSION_METRICS,
    Chunk,
    MetricValue,
    Segment,
)
from workbench.performance._result import PerformanceResult


def evaluate(*, analysis: Source, reference: Source, target: str, score: str,
             prediction: str | None = None, threshold: float = 0.5,
             timestamp: str | None = None, window: str | None = None,
             chunk_size: int | None = None, segment: str | None = None,
             problem: str = "binary", labels: Source | None = None,
             id_column: str | None = None, targets: Mapping[str, float] | None = None,
             values: Mapping[str, float] | None = None, currency: str = "USD",
             names: Mapping[str, str] | None = None) -> PerformanceResult:
    """Evaluate a model on ``analysis`` against ``reference`` (paths or polars frames).

    ``score``: the probability of the positive class (binary) or the predicted value
    (regression). ``prediction``: 0/1 decisions (else ``score >= threshold``). Chunks: a
    time ``window`` (``day``, ``week``, ``Nd``) over ``timestamp``, or ``chunk_size`` rows
    (default: 10 equal chunks). ``labels``: a file of later labels joined on ``id_column``.
    ``targets``: agreed minimum (or, for losses and errors, maximum) per metric.
    ``values``: value of each decision outcome (``tp``, ``fp``, ``tn``, ``fn``) in
    ``currency``. ``names``: how the caller spells each parameter, for error lines.
    """
    return PerformanceResult(run(
        analysis=analysis, reference=reference, target=target, score=score,
        prediction=prediction, threshold=threshold, timestamp=timestamp, window=window,
        chunk_size=chunk_size, segment=segment, problem=problem, labels=labels,
        id_column=id_column, targets=targets, values=values, currency=currency, names=names))


__all__ = [
    "BINARY_METRICS",
    "ESTIMATED_METRICS",
    "Change",
    "REGRESSION_METRICS",
    "Chunk",
    "MetricValue",
    "PerformanceResult",
    "Segment",
    "compare",
    "evaluate",
]

"""Per-column drift, evidently-compatible, on polars; time windows; contract-aware.

>>> from workbench.drift import compute
>>> result = compute(current="current.parquet", reference="reference.parquet")  # doctest: +SKIP
>>> result.to_dict()["dataset_drift"], result.frame.head(3)        # doctest: +SKIP

``current`` and ``reference`` are keyword-only (the CLI takes REFERENCE CURRENT).
``methods="evidently"`` reproduces evidently 0.7's DataDriftPreset defaults (type
inference, method choice, thresholds, the dataset rule "share of drifted columns >=
drift_share"); ``methods="calibrated"`` (the default) differs only where evidently runs
its chi-square (references of at most 1000 rows), which treats the reference shares as
exact: there a 2 x k contingency test is used instead
(see ``tests/unit/test_drift_calibration.py`` for the false-positive rates of both).

Results JSON metrics (``drift.results.json``, flat, used by pack gates):
``columns_total`` (compared columns), ``drifted_columns``, ``drifted_share``,
``dataset_drift`` (bool), ``prediction_drift`` (bool: a prediction column drifted; null
when no prediction column was named), ``label_drift`` (bool; null without label
columns), ``contract_breaches`` (current rows with a category outside the contract's
valid values), ``windows_total``, ``windows_with_dataset_drift``; with
``key_features`` also ``key_features_total``, ``key_drifted_columns`` and
``key_drifted_share`` (the share of those features that drifted).
Details beside them: ``columns`` (the design's per-column list), ``windows`` (list of
{start, end, column, statistic, drifted, rows}), ``first_drift_window`` (column -> start
or null), ``contract_breaches``, ``skipped``, ``evidently_report`` (path or null).

Speed (benchmarks/drift.py): the data is reduced by polars to sorted values or value
counts per column, then every statistic is computed from those counts; evidently's
per-column pandas path took 116 s on 1M x 25 here.
"""

from workbench.drift._compute import ColumnDrift, WindowDrift, compute
from workbench.drift._evidently import evidently_report
from workbench.drift._result import DriftResult
from workbench.drift._stats import METHODS, MODES, THRESHOLDS
from workbench.drift._table import table_input

__all__ = [
    "METHODS",
    "MODES",
    "THRESHOLDS",
    "ColumnDrift",
    "DriftResult",
    "WindowDrift",
    "compute",
    "evidently_report",
    "table_input",
]

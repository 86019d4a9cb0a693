"""Per-column drift, evidently-compatible, on polars; time windows; contract-aware.

>>> from workbench.drift import compute
>>> result = compute(current="current.parquet", reference="reference.parquet")  # doctest: +SKIP
>>> result.to_dict()["dataset_drift"], result.frame().head(3)      # doctest: +SKIP
>>> result.findings("drift").write("results")                       # doctest: +SKIP

``current`` and ``reference`` are keyword-only (the CLI takes REFERENCE CURRENT).
``methods="evidently"`` reproduces evidently 0.7's DataDriftPreset defaults (type
inference, method choice, thresholds, the dataset rule "share of drifted columns >=
drift_share"); ``methods="calibrated"`` (the default) differs only where evidently runs
its chi-square (references of at most 1000 rows), which treats the reference shares as
exact: there a 2 x k contingency test is used instead
(see ``tests/unit/test_drift_calibration.py`` for the false-positive rates of both).

The result is a :class:`DriftResult` (``status``, ``headline``, ``metrics``, ``frame()``,
``to_dict()``, ``findings(name, evidently_report=...)``, ``_repr_html_()``); the notebook's
sections and charts are functions of it (``heatmap(result)``, ``distribution_charts(result,
4)``, ...). A contract is passed loaded (``workbench.contracts.load_contract(path)``):
areas do not import each other.

Findings metrics (``<name>.results.json``, flat, used by pack gates):
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

from workbench.drift._compute import compute
from workbench.drift._evidently import evidently_report
from workbench.drift._model import Breach, ColumnDrift, DriftResult, WindowDrift
from workbench.drift._render import (
    breach_section,
    breach_table,
    callout,
    distribution_chart,
    distribution_charts,
    distribution_data,
    first_window_table,
    heatmap,
    table,
    when_section,
)
from workbench.drift._stats import METHODS, MODES, THRESHOLDS
from workbench.drift._table import table_input

__all__ = [
    "METHODS",
    "MODES",
    "THRESHOLDS",
    "Breach",
    "ColumnDrift",
    "DriftResult",
    "WindowDrift",
    "breach_section",
    "breach_table",
    "callout",
    "compute",
    "distribution_chart",
    "distribution_charts",
    "distribution_data",
    "evidently_report",
    "first_window_table",
    "heatmap",
    "table",
    "when_section",
    "table_input",
]

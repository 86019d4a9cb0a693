"""ODCS v3 data contracts: load, check a dataset in one fused polars pass, report.

>>> from workbench.contracts import check, load_contract
>>> result = check("data/sample/contracts/loan_scoring.odcs.yaml")  # doctest: +SKIP
>>> result.passed, result.metrics()["checks_failed"]  # doctest: +SKIP

Results JSON metrics (``contract_checks.results.json``, flat, used by pack gates):
``rows``, ``checks_total``, ``checks_passed``, ``checks_failed``, ``error_checks_failed``,
``warning_checks_failed``, ``info_checks_failed``, ``failed_rows_max``, ``pass_rate``
(0..1, share of checks passed), ``gate_passed`` (no error-severity check failed).
"""

from workbench.contracts._charts import dimension_chart, failures_chart, timeline_chart
from workbench.contracts._engine import check
from workbench.contracts._model import (
    DEFAULT_SENSITIVE,
    ColumnSpec,
    Contract,
    load_contract,
    sensitive_columns,
)
from workbench.contracts._result import CheckResult, ContractResult, changes, previous_checks

__all__ = ["DEFAULT_SENSITIVE", "CheckResult", "ColumnSpec", "Contract", "ContractResult",
           "changes", "dimension_chart", "failures_chart", "previous_checks", "timeline_chart",
           "check", "load_contract", "sensitive_columns"]

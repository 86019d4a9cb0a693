"""ODCS v3 data contracts: load, check a dataset in one fused polars pass, report.

>>> from workbench.contracts import check, load_contract
>>> result = check("data/sample/contracts/loan_scoring.odcs.yaml")  # doctest: +SKIP
>>> result.passed, result.metrics["checks_failed"]  # doctest: +SKIP

Checks and ids: ``<schema>.<property>.<rule>`` (``<schema>.<rule>`` on the schema object;
a rule's own ``id`` replaces the rule name; repeats get ``_2``, ``_3``). Rules: ``present``,
``undeclared`` (opt-in), ``logicalType``, ``physicalType``, ``required``, ``unique``,
``primaryKey``, ``pattern``, ``format``, ``minimum``, ``maximum``, ``exclusiveMinimum``,
``exclusiveMaximum``, ``minLength``, ``maxLength``, ``multipleOf``, ``minItems``,
``maxItems``, ``uniqueItems``, ``validValues`` (ODCS 3.2 ``enum``), ``nullValues``,
``missingValues``, ``invalidValues``, ``duplicateValues``, ``rowCount``, ``sql``,
``freshness``, ``foreignKey`` (ODCS relationships between schema objects). Schema rules
are errors; quality rules take their ``severity`` (free text: warning/warn and info are
non-blocking, anything else is an error). ``failed_rows`` counts
the rows that break the rule (for duplicates: the rows of duplicated keys; ``observed``
is then the number of duplicated keys, as in datacontract-cli).

A contract with several schema objects is checked in one run (``check(contract)``), each
object against its own data: a server path named after it or holding ``{model}``, or a
``{schema name: data}`` mapping. Foreign keys read the referenced object's data the same way.

Agreement with datacontract-cli 1.2.8 (``tests/unit/test_contracts_parity.py``: 134 checks
on five statsmodels datasets, CSV and Parquet, one contract with two schema objects): same
verdicts and failing-row counts for every check it evaluates. Where the two differ, on purpose:

* types in files: datacontract-cli casts CSV/Parquet into the contract's types and skips
  every type check ("not supported"); workbench checks logicalType and physicalType
  against the Parquet schema (CSV: inferred types, text columns kept as text, and
  physicalType compared by family since CSV stores no widths);
* exclusiveMinimum/Maximum: one check here, two there (minimum + not-equal; counts add up);
* duplicateValues with ``unit: percent``: the share of rows that repeat a key here;
  datacontract-cli ignores the unit for duplicates and compares the duplicated key count;
* relative server paths: resolved against the contract file here, the working directory
  there;
* freshness: measured from ``as_of`` (reproducible packs) rather than the wall clock.

A contract's life around the checks: :func:`init` (a starter contract from data,
``_infer``), :func:`lint` (``_lint``), :func:`diff` and :func:`since_last_pack` (two
versions, breaking or not, ``_diff``) and :func:`service_levels` (``slaProperties``
measured on the data and a delivery log, ``_sla``; ``check`` reports them as
``<schema>.sla.<property>`` checks, freshness keeping its own check).

Results JSON metrics (``contract_checks.results.json``, flat, used by pack gates):
``rows``, ``checks_total``, ``checks_passed``, ``checks_failed``, ``error_checks_failed``,
``warning_checks_failed``, ``info_checks_failed``, ``failed_rows_max``, ``pass_rate``
(0..1, share of checks passed), ``gate_passed`` (no error-severity check failed),
``new_failures`` and ``resolved_failures`` (against the previous pack; 0 without one).
"""

from workbench.contracts._diff import ContractChange, ContractDiff, diff, since_last_pack
from workbench.contracts._engine import check
from workbench.contracts._history import changes, previous_checks
from workbench.contracts._infer import init
from workbench.contracts._lint import LintResult, Problem, lint
from workbench.contracts._model import (
    DEFAULT_SENSITIVE,
    CheckResult,
    ColumnSpec,
    Contract,
    ContractResult,
    load_contract,
    sensitive_columns,
)
from workbench.contracts._pushdown import check_server
from workbench.contracts._render import dimension_chart, failures_chart, timeline_chart
from workbench.contracts._sla import SlaLevel, SlaResult, service_levels

__all__ = ["DEFAULT_SENSITIVE", "ContractChange", "CheckResult", "ColumnSpec", "Contract",
           "ContractDiff", "ContractResult", "LintResult", "Problem", "SlaLevel", "SlaResult",
           "changes", "check", "check_server", "diff", "dimension_chart", "failures_chart",
           "init", "lint",
           "load_contract", "previous_checks", "sensitive_columns", "service_levels",
           "since_last_pack",
           "timeline_chart"]

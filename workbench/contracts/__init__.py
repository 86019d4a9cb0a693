"""ODCS v3 data contracts: load, check a dataset in one fused polars pass, report.

>>> from workbench.contracts import load_contract, sensitive_columns
>>> contract = load_contract("data/sample/contracts/loan_scoring.odcs.yaml")  # doctest: +SKIP
>>> sensitive_columns(contract)  # doctest: +SKIP
{'applicant_email'}
"""

from workbench.contracts._model import (
    DEFAULT_SENSITIVE,
    ColumnSpec,
    Contract,
    load_contract,
    sensitive_columns,
)

__all__ = ["DEFAULT_SENSITIVE", "ColumnSpec", "Contract", "load_contract", "sensitive_columns"]

"""What changed since the previous pack: new, resolved and still-failing checks, matched by
id against the previous version's findings of the same name."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import polars as pl

from workbench.errors import InputError
from workbench.findings import findings_path, read_findings

if TYPE_CHECKING:
    from workbench.contracts._model import ContractResult

NOTEBOOK = "contract_checks"
CHANGE_ORDER = {"new failure": 0, "still failing": 1, "resolved": 2,
                "resolved (check removed)": 3}
CHANGES_SCHEMA = {"id": pl.String, "change": pl.String, "severity": pl.String,
                  "failed_rows_before": pl.Int64, "failed_rows_now": pl.Int64}


def previous_checks(previous_dir: str | os.PathLike[str] | None,
                    name: str = NOTEBOOK) -> dict[str, dict[str, Any]] | None:
    """Checks by id from ``<previous_dir>/<name>.results.json``, or None (no such findings,
    or unreadable ones)."""
    if not previous_dir:
        return None
    path = findings_path(previous_dir, name)
    if not path.is_file():
        return None
    try:
        checks = read_findings(path).details.get("checks", [])
    except InputError:
        return None
    if not isinstance(checks, list):
        return None
    return {c["id"]: c for c in checks if isinstance(c, dict) and "id" in c}


def changes(result: ContractResult, previous_dir: str | os.PathLike[str] | None,
            name: str = NOTEBOOK) -> pl.DataFrame:
    """New, resolved and still-failing checks against a previous pack's findings ``name``.

    Empty (with the same columns) when there is no previous pack or it has no contract
    results; checks are matched by id.
    """
    before = previous_checks(previous_dir, name)
    if before is None:
        return pl.DataFrame(schema=CHANGES_SCHEMA)
    now = {c.id: c for c in result.checks}
    rows = []
    for cid, c in now.items():
        old = before.get(cid)
        if not c.passed and (old is None or old.get("passed", True)):
            change = "new failure"
        elif not c.passed:
            change = "still failing"
        elif old is not None and not old.get("passed", True):
            change = "resolved"
        else:
            continue
        rows.append({"id": cid, "change": change, "severity": c.severity,
                     "failed_rows_before": None if old is None else old.get("failed_rows"),
                     "failed_rows_now": c.failed_rows})
    for cid, old in before.items():
        if cid not in now and not old.get("passed", True):
            rows.append({"id": cid, "change": "resolved (check removed)",
                         "severity": old.get("severity"),
                         "failed_rows_before": old.get("failed_rows"), "failed_rows_now": None})
    return pl.DataFrame(rows, schema=CHANGES_SCHEMA).sort(
        pl.col("change").replace_strict(CHANGE_ORDER, default=9), "id")

"""Check results: a polars frame, pass rates by dimension, the gate, HTML and JSON."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from workbench import render

DESIGN_KEYS = ("id", "schema", "column", "rule", "severity", "passed", "failed_rows",
               "observed", "expected")


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check. ``samples`` are failing rows with sensitive columns masked."""

    id: str
    schema: str
    column: str | None
    rule: str
    severity: str
    dimension: str
    passed: bool
    failed_rows: int | None
    observed: Any
    expected: Any
    description: str | None = None
    first_failed_at: str | None = None
    last_failed_at: str | None = None
    samples: tuple[dict[str, Any], ...] = ()
    # range checks (minimum, maximum, exclusive*): the failing value furthest past the limit
    worst: Any = None

    def to_dict(self) -> dict[str, Any]:
        """The check in the JSON shape of ``workbench contract check --format json``."""
        return {k: getattr(self, k) for k in DESIGN_KEYS}


@dataclass(frozen=True)
class ContractResult:
    """All checks of one dataset against one schema object of a contract, or (``parts``) of
    several schema objects, each against its own dataset."""

    contract: str
    dataset: str
    schema: str
    rows: int
    checks: tuple[CheckResult, ...]
    as_of: datetime | None = None
    sensitive: frozenset[str] = field(default_factory=frozenset)
    parts: tuple[ContractResult, ...] = ()

    @classmethod
    def combine(cls, parts: list[ContractResult]) -> ContractResult:
        """One result for several schema objects: all their checks, ``rows`` summed,
        ``schema`` and ``dataset`` listed (``parts`` keeps each one's own result)."""
        return cls(contract=parts[0].contract,
                   dataset=", ".join(p.dataset for p in parts),
                   schema=", ".join(p.schema for p in parts),
                   rows=sum(p.rows for p in parts),
                   checks=tuple(c for p in parts for c in p.checks), as_of=parts[0].as_of,
                   sensitive=frozenset().union(*(p.sensitive for p in parts)),
                   parts=tuple(parts))

    def tables(self) -> list[dict[str, Any]]:
        """Per schema object: its dataset, rows, checks and whether it passed."""
        return [{"schema": p.schema, "dataset": p.dataset, "rows": p.rows,
                 "checks": len(p.checks), "failed": len(p.failed), "passed": p.passed}
                for p in (self.parts or (self,))]

    # --- the gate ---------------------------------------------------------------------
    @property
    def passed(self) -> bool:
        """The gate: no check of severity error failed (warnings and info never fail it)."""
        return not any(not c.passed and c.severity == "error" for c in self.checks)

    @property
    def failed(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.passed]

    @property
    def status(self) -> str:
        """ok (all passed), warn (only warning/info checks failed) or fail (gate failed)."""
        if not self.passed:
            return "fail"
        return "warn" if self.failed else "ok"

    def check(self, check_id: str) -> CheckResult:
        for c in self.checks:
            if c.id == check_id:
                return c
        raise KeyError(check_id)

    # --- frames -----------------------------------------------------------------------
    @property
    def frame(self) -> pl.DataFrame:
        """One row per check; ``observed``/``expected`` as compact text."""
        return pl.DataFrame(
            [{"id": c.id, "schema": c.schema, "column": c.column, "rule": c.rule,
              "severity": c.severity, "dimension": c.dimension, "passed": c.passed,
              "failed_rows": c.failed_rows, "observed": _text(c.observed),
              "expected": _text(c.expected), "first_failed_at": c.first_failed_at,
              "last_failed_at": c.last_failed_at} for c in self.checks],
            schema={"id": pl.String, "schema": pl.String, "column": pl.String,
                    "rule": pl.String, "severity": pl.String, "dimension": pl.String,
                    "passed": pl.Boolean, "failed_rows": pl.Int64, "observed": pl.String,
                    "expected": pl.String, "first_failed_at": pl.String,
                    "last_failed_at": pl.String})

    def by_dimension(self) -> pl.DataFrame:
        """Checks, passed checks and pass rate per ODCS data quality dimension."""
        return (self.frame.group_by("dimension")
                .agg(checks=pl.len(), passed=pl.col("passed").sum(),
                     failed_errors=(~pl.col("passed") & (pl.col("severity") == "error")).sum())
                .with_columns(pass_rate=pl.col("passed") / pl.col("checks"))
                .sort("dimension"))

    @property
    def pass_rate(self) -> float:
        return sum(c.passed for c in self.checks) / len(self.checks) if self.checks else 1.0

    # --- text and JSON ----------------------------------------------------------------
    @property
    def headline(self) -> str:
        errors = [c for c in self.failed if c.severity == "error"]
        warnings = [c for c in self.failed if c.severity != "error"]
        if errors:
            cols = sorted({c.column for c in errors if c.column})
            where = f" ({', '.join(cols[:4])}{', …' if len(cols) > 4 else ''})" if cols else ""
            return (f"Do not trust this data yet: {len(errors)} of {len(self.checks)} contract "
                    f"checks that must pass failed{where}.")
        if warnings:
            return (f"The data meets its contract; {len(warnings)} warning check"
                    f"{'s' if len(warnings) != 1 else ''} need a look.")
        return f"The data meets its contract: all {len(self.checks)} checks passed."

    def metrics(self) -> dict[str, int | float | bool]:
        """Flat metrics for pack gates (names documented in :mod:`workbench.contracts`)."""
        failed = self.failed
        return {
            "rows": self.rows,
            "checks_total": len(self.checks),
            "checks_passed": len(self.checks) - len(failed),
            "checks_failed": len(failed),
            "error_checks_failed": sum(c.severity == "error" for c in failed),
            "warning_checks_failed": sum(c.severity == "warning" for c in failed),
            "info_checks_failed": sum(c.severity == "info" for c in failed),
            "failed_rows_max": max((c.failed_rows or 0 for c in failed), default=0),
            "pass_rate": round(self.pass_rate, 6),
            "gate_passed": self.passed,
        }

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``workbench contract check --format json`` (shared design); a run over
        several schema objects adds ``schemas`` (each one's dataset, rows and verdict)."""
        out = {"contract": self.contract, "dataset": self.dataset, "rows": self.rows,
               "passed": self.passed, "checks": [c.to_dict() for c in self.checks]}
        if self.parts:
            out["schemas"] = [{k: t[k] for k in ("schema", "dataset", "rows", "passed")}
                              for t in self.tables()]
        return out

    def results(self, notebook: str = "contract_checks",
                previous_dir: str | os.PathLike[str] | None = None) -> dict[str, Any]:
        """The notebook's results JSON: status, headline, metrics, checks (+ failure times).

        With ``previous_dir`` (the previous pack's directory), ``changes`` lists new and
        resolved failures and the metrics gain ``new_failures`` and ``resolved_failures``.
        """
        checks = []
        for c in self.checks:
            item = c.to_dict()
            item["dimension"] = c.dimension
            if c.first_failed_at is not None:
                item["first_failed_at"] = c.first_failed_at
                item["last_failed_at"] = c.last_failed_at
            if c.samples:
                item["samples"] = list(c.samples)
            if c.worst is not None:
                item["worst_failing_value"] = c.worst
            checks.append(item)
        diff = changes(self, previous_dir)
        metrics = self.metrics()
        metrics["new_failures"] = diff.filter(pl.col("change") == "new failure").height
        resolved = diff.filter(pl.col("change").str.starts_with("resolved"))
        metrics["resolved_failures"] = resolved.height
        return {
            "notebook": notebook, "status": self.status, "headline": self.headline,
            "metrics": metrics, "changes": diff.to_dicts(),
            "previous": bool(previous_checks(previous_dir)) if previous_dir else False,
            "contract": self.contract, "schema": self.schema,
            "dataset": self.dataset, "schemas": self.tables(),
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "dimensions": self.by_dimension().to_dicts(), "checks": checks,
        }

    # --- HTML -------------------------------------------------------------------------
    def failed_frame(self) -> pl.DataFrame:
        """Failed checks. A row check's ``observed`` that only repeats ``failed_rows`` is
        left blank (beside a limit it reads as a value); range checks show their ``worst
        value``, the failing value furthest past the limit, at full precision."""
        cols = ["id", "severity", "dimension", "failed_rows", "observed", "expected",
                "worst value", "first_failed_at", "last_failed_at"]
        worst = {c.id: render.fmt_exact(c.worst) for c in self.checks if c.worst is not None}
        return (self.frame.filter(~pl.col("passed"))
                .with_columns(
                    observed=pl.when(pl.col("observed") == pl.col("failed_rows").cast(pl.String)
                                     ).then(None).otherwise(pl.col("observed")),
                    **{"worst value": pl.col("id").replace_strict(
                        worst, default=None, return_dtype=pl.String)})
                .sort(pl.col("severity").replace_strict({"error": 0, "warning": 1, "info": 2},
                                                       default=3), "id")
                .select(cols)
                # columns with nothing to say (no timestamps, no range checks) are left out
                .pipe(lambda f: f.select(c for c in f.columns if c in cols[:4]
                                         or f[c].null_count() < f.height)))

    def all_checks_frame(self) -> pl.DataFrame:
        """Every check for the page: without the schema column when there is one schema,
        and without the columns no check filled (failure times when nothing is dated)."""
        every = self.frame if self.parts else self.frame.drop("schema")
        keep = ("id", "rule", "passed")
        return every.select(c for c in every.columns
                            if c in keep or every[c].null_count() < every.height)

    def samples_html(self, max_checks: int = 20) -> str:
        parts = []
        for c in [c for c in self.failed if c.samples][:max_checks]:
            parts.append(render.html_table(list(c.samples), mask=self.sensitive, exact=True,
                                           caption=f"{c.id}: failing rows (sample)"))
        if not parts:  # one sentence rather than a heading over nothing
            return ('<p class="wb-note">No failing rows to show'
                    + (": every check passed.</p>" if not self.failed else
                       " (the failed checks are about the table or its schema, not rows).</p>"))
        return "".join(parts)

    def _repr_html_(self) -> str:
        status = {"ok": "ok", "warn": "warn", "fail": "fail"}[self.status]
        title = {"ok": "Contract met", "warn": "Contract met, with warnings",
                 "fail": "Contract broken"}[status]
        head = render.callout(title, self.headline, status).markup
        meta = render.html_table([{"contract": self.contract, **{
            k: t[k] for k in ("schema", "dataset", "rows", "checks", "failed")}}
            for t in self.tables()])
        failed = (render.html_table(self.failed_frame(), caption="Failed checks")
                  if self.failed else "")
        return head + meta + failed + self.samples_html()


def changes(result: ContractResult, previous_dir: str | os.PathLike[str] | None) -> pl.DataFrame:
    """New, resolved and still-failing checks against a previous pack's results JSON.

    Empty (with the same columns) when there is no previous pack or it has no contract
    results; checks are matched by id.
    """
    schema = {"id": pl.String, "change": pl.String, "severity": pl.String,
              "failed_rows_before": pl.Int64, "failed_rows_now": pl.Int64}
    before = previous_checks(previous_dir)
    if before is None:
        return pl.DataFrame(schema=schema)
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
    order = {"new failure": 0, "still failing": 1, "resolved": 2, "resolved (check removed)": 3}
    return pl.DataFrame(rows, schema=schema).sort(
        pl.col("change").replace_strict(order, default=9), "id")


def previous_checks(previous_dir: str | os.PathLike[str] | None) -> dict[str, dict] | None:
    """Checks by id from ``<previous_dir>/contract_checks.results.json``, or None."""
    if not previous_dir:
        return None
    path = Path(previous_dir) / "contract_checks.results.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return {c["id"]: c for c in data.get("checks", []) if isinstance(c, dict) and "id" in c}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, float):  # a limit or a value a check failed on: never rounded
        return render.fmt_exact(value)
    return str(value)

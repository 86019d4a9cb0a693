"""The drift area's data classes: per-column and per-window rows, and the result.

No computation and no charts here: :mod:`workbench.drift._compute` builds a
:class:`DriftResult`, :mod:`workbench.drift._render` draws it. The result follows
:class:`workbench.findings.AreaResult`: ``status``, ``headline`` and ``metrics``
properties, ``frame()``, ``to_dict()`` (the ``workbench drift --format json`` object),
``findings(name, evidently_report=...)`` and ``_repr_html_()``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from workbench import render
from workbench.drift._stats import Summary
from workbench.findings import Findings

NOTEBOOK = "drift"
_ROLE_ORDER = {"prediction": 0, "label": 1, "feature": 2}


@dataclass(frozen=True)
class ColumnDrift:
    column: str
    type: str
    method: str
    statistic: float
    threshold: float
    drifted: bool
    role: str = "feature"  # feature | prediction | label
    severity: float = 0.0  # 1.0 = at the threshold, comparable across methods
    rows_current: int = 0
    rows_reference: int = 0


@dataclass(frozen=True)
class WindowDrift:
    start: datetime
    end: datetime
    column: str
    statistic: float | None
    drifted: bool
    rows: int
    severity: float = 0.0


@dataclass(frozen=True)
class Breach:
    column: str
    value: Any
    rows: int
    side: str  # current | reference


@dataclass
class Summaries:
    """Each compared column reduced to a :class:`Summary` per side (kept for the charts)."""

    current: dict[str, Summary] = field(default_factory=dict)
    reference: dict[str, Summary] = field(default_factory=dict)


@dataclass
class DriftResult:
    columns: list[ColumnDrift]
    skipped: list[dict[str, str]]
    drift_share: float
    methods: str
    windows: list[WindowDrift] = field(default_factory=list)
    breaches: list[Breach] = field(default_factory=list)
    contract: str | None = None
    summaries: Summaries = field(default_factory=Summaries, repr=False)
    window: str | None = None
    key_features: tuple[str, ...] = ()

    # --- numbers ------------------------------------------------------------------------
    @property
    def drifted_columns(self) -> int:
        return sum(c.drifted for c in self.columns)

    @property
    def drifted_share(self) -> float:
        return self.drifted_columns / len(self.columns) if self.columns else 0.0

    @property
    def key_drifted_columns(self) -> int:
        return sum(c.drifted for c in self.columns if c.column in set(self.key_features))

    @property
    def key_drifted_share(self) -> float | None:
        """Share of the key features (as named by the caller) that drifted; None if none."""
        n = len(self.key_features)
        return self.key_drifted_columns / n if n else None

    @property
    def dataset_drift(self) -> bool:
        """evidently's rule: share of drifted columns at least drift_share."""
        return bool(self.columns) and self.drifted_share >= self.drift_share

    def _role_drift(self, role: str) -> bool | None:
        cols = [c for c in self.columns if c.role == role]
        return any(c.drifted for c in cols) if cols else None

    @property
    def prediction_drift(self) -> bool:
        return bool(self._role_drift("prediction"))

    @property
    def label_drift(self) -> bool:
        return bool(self._role_drift("label"))

    def ranked(self) -> list[ColumnDrift]:
        """Drifted columns first; among them predictions, labels, then by severity."""
        return sorted(
            self.columns, key=lambda c: (not c.drifted, _ROLE_ORDER[c.role], -c.severity, c.column)
        )

    def first_drift_window(self) -> dict[str, str | None]:
        first: dict[str, str | None] = {c.column: None for c in self.columns}
        for w in sorted(self.windows, key=lambda w: w.start):
            if w.drifted and first.get(w.column) is None:
                first[w.column] = w.start.isoformat()
        return first

    def _window_share(self, start: datetime) -> float:
        ws = [w for w in self.windows if w.start == start and w.rows > 0]
        return sum(w.drifted for w in ws) / len(ws) if ws else 0.0

    # --- the AreaResult protocol ----------------------------------------------------------
    @property
    def status(self) -> str:
        """fail: dataset or prediction drift; warn: a column drifted or a contract breach."""
        if self.dataset_drift or self.prediction_drift:
            return "fail"
        if self.drifted_columns or any(b.side == "current" for b in self.breaches):
            return "warn"
        return "pass"

    @property
    def headline(self) -> str:
        n, k = len(self.columns), self.drifted_columns
        if not n:
            return "No columns could be compared for drift."
        # the share in the format every page uses, never rounded onto the line
        line = render.fmt_metric("drift_share", self.drift_share)
        share = render.fmt_apart(self.drifted_share, self.drift_share, metric="drifted_share")
        verdict = "dataset drift" if self.dataset_drift else f"below the {line} dataset-drift line"
        text = f"{k} of {n} columns drifted ({share}, {verdict})"
        top = [c for c in self.ranked() if c.drifted][:4]
        if top:
            names = ", ".join(
                c.column + (f" ({c.role})" if c.role != "feature" else "") for c in top
            )
            text += f"; most important: {names}"
        if self.breaches:
            cols = sorted({b.column for b in self.breaches if b.side == "current"})
            if cols:
                text += f"; values outside the contract in {', '.join(cols)}"
        return text + "."

    @property
    def metrics(self) -> dict[str, Any]:
        """The figures gates read (names documented in :mod:`workbench.drift`)."""
        starts = sorted({w.start for w in self.windows})
        out: dict[str, Any] = {
            "columns_total": len(self.columns),
            "drifted_columns": self.drifted_columns,
            "drifted_share": round(self.drifted_share, 6),
            "dataset_drift": self.dataset_drift,
            # null, not false, when no column has the role: a gate on it is then unknown
            # instead of "predictions have not drifted" about no predictions at all
            "prediction_drift": self._role_drift("prediction"),
            "label_drift": self._role_drift("label"),
            "contract_breaches": sum(b.rows for b in self.breaches if b.side == "current"),
            "windows_total": len(starts),
            "windows_with_dataset_drift": sum(
                1 for s in starts if self._window_share(s) >= self.drift_share
            ),
        }
        if self.key_features:
            out["key_features_total"] = len(self.key_features)
            out["key_drifted_columns"] = self.key_drifted_columns
            out["key_drifted_share"] = round(self.key_drifted_share or 0.0, 6)
        return out

    def frame(self) -> pl.DataFrame:
        """One row per compared column, most important drift first."""
        rows = [
            {
                "column": c.column,
                "type": c.type,
                "role": c.role,
                "method": c.method,
                "statistic": c.statistic,
                "threshold": c.threshold,
                "drifted": c.drifted,
                "severity": round(c.severity, 4),
            }
            for c in self.ranked()
        ]
        schema = {
            "column": pl.String,
            "type": pl.String,
            "role": pl.String,
            "method": pl.String,
            "statistic": pl.Float64,
            "threshold": pl.Float64,
            "drifted": pl.Boolean,
            "severity": pl.Float64,
        }
        frame = pl.DataFrame(rows, schema=schema)
        if self.key_features:  # which columns the key-feature gate watches
            frame = frame.insert_column(
                1, frame["column"].is_in(list(self.key_features)).alias("key feature"))
        return frame

    def window_frame(self) -> pl.DataFrame:
        """One row per column and window (empty without windows)."""
        schema = {
            "start": pl.String,
            "end": pl.String,
            "column": pl.String,
            "statistic": pl.Float64,
            "drifted": pl.Boolean,
            "rows": pl.Int64,
            "severity": pl.Float64,
        }
        rows = [
            {
                "start": w.start.isoformat(),
                "end": w.end.isoformat(),
                "column": w.column,
                "statistic": w.statistic,
                "drifted": w.drifted,
                "rows": w.rows,
                "severity": w.severity,
            }
            for w in self.windows
        ]
        return pl.DataFrame(rows, schema=schema)

    def to_dict(self) -> dict[str, Any]:
        """The ``workbench drift --format json`` object of the shared design."""
        return {
            "dataset_drift": self.dataset_drift,
            "drift_share": self.drift_share,
            "drifted_columns": self.drifted_columns,
            "columns": [
                {
                    "column": c.column,
                    "type": c.type,
                    "method": c.method,
                    "statistic": _num(c.statistic),
                    "threshold": c.threshold,
                    "drifted": c.drifted,
                }
                for c in self.columns
            ],
        }

    def window_rows(self) -> list[dict[str, Any]]:
        """The windows as JSON rows ({start, end, column, statistic, drifted, rows})."""
        return [
            {
                "start": w.start.isoformat(),
                "end": w.end.isoformat(),
                "column": w.column,
                "statistic": _num(w.statistic),
                "drifted": w.drifted,
                "rows": w.rows,
            }
            for w in self.windows
        ]

    def breach_rows(self) -> list[dict[str, Any]]:
        return [
            {"column": b.column, "value": b.value, "rows": b.rows, "side": b.side}
            for b in self.breaches
        ]

    def findings(self, name: str | None = None, evidently_report: str | None = None) -> Findings:
        """What the drift notebook writes under ``name`` (``drift`` when None).

        ``evidently_report``: the file name of evidently's own page, saved beside the
        findings, linked from the pack's front page.
        """
        document = self.to_dict()
        details = {
            "methods": self.methods,
            "contract": self.contract,
            "drift": document,
            "columns": document["columns"],
            "roles": {c.column: c.role for c in self.columns if c.role != "feature"},
            "skipped": self.skipped,
            "windows": self.window_rows(),
            "window": self.window,
            "first_drift_window": self.first_drift_window() if self.windows else {},
            "contract_breaches": self.breach_rows(),
            "evidently_report": evidently_report,
            # extra pages of this notebook, linked from the pack's front page
            "pages": (
                [{"file": evidently_report, "title": "evidently report (sample)"}]
                if evidently_report else []
            ),
        }
        return Findings(name or NOTEBOOK, self.status, self.headline, self.metrics, details,
                        notebook=NOTEBOOK)

    def _repr_html_(self) -> str:
        """The headline, the per-column table, breaches and the columns not compared
        (the shared, escaping primitives of :mod:`workbench.render`; the notebook's
        charts and sections are in :mod:`workbench.drift._render`)."""
        colour = "ok" if self.status == "pass" else self.status
        parts = [
            render.callout(f"{self.drifted_columns} of {len(self.columns)} columns drifted",
                           self.headline, colour).markup,
            render.html_table(self.frame(), max_rows=200, caption=(
                f"Per-column drift ({self.methods} methods); drifted columns first")),
        ]
        if self.breaches:
            parts.append(render.html_table(
                [{"column": b.column, "value outside the contract": b.value, "rows": b.rows,
                  "side": b.side} for b in self.breaches],
                caption="Contract breaches (values not in validValues)"))
        if self.skipped:
            parts.append(render.html_table(self.skipped, caption="Columns not compared"))
        return "".join(parts)


def _num(x: float | None) -> float | None:
    """A statistic for JSON: NaN becomes null, infinities stay (as the JSON writer says)."""
    if x is None or not math.isfinite(x):
        return None if x is None or math.isnan(x) else x
    return x

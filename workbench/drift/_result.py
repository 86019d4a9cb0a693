"""DriftResult: the small object compute() returns, its JSON, HTML and charts."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from workbench import render
from workbench.drift._compute import Breach, ColumnDrift, Inputs, WindowDrift
from workbench.drift._stats import NUMERICAL, P_VALUE_METHODS, Summary

_ROLE_ORDER = {"prediction": 0, "label": 1, "feature": 2}


@dataclass
class DriftResult:
    columns: list[ColumnDrift]
    skipped: list[dict[str, str]]
    drift_share: float
    methods: str
    windows: list[WindowDrift] = field(default_factory=list)
    breaches: list[Breach] = field(default_factory=list)
    contract: str | None = None
    summaries: Inputs = field(default_factory=Inputs, repr=False)
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

    @property
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

    @property
    def window_frame(self) -> pl.DataFrame:
        schema = {
            "start": pl.String,
            "end": pl.String,
            "column": pl.String,
            "statistic": pl.Float64,
            "drifted": pl.Boolean,
            "rows": pl.Int64,
            "severity": pl.Float64,
        }
        return pl.DataFrame(
            [
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
            ],
            schema=schema,
        )

    # --- JSON ---------------------------------------------------------------------------
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
    def status(self) -> str:
        if self.dataset_drift or self.prediction_drift:
            return "fail"
        if self.drifted_columns or any(b.side == "current" for b in self.breaches):
            return "warn"
        return "ok"

    def results(self, evidently_report: str | None = None) -> dict[str, Any]:
        """The notebook's results JSON (see the metric names in :mod:`workbench.drift`)."""
        first = self.first_drift_window()
        starts = sorted({w.start for w in self.windows})
        metrics = {
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
            metrics["key_features_total"] = len(self.key_features)
            metrics["key_drifted_columns"] = self.key_drifted_columns
            metrics["key_drifted_share"] = round(self.key_drifted_share or 0.0, 6)
        out = {
            "notebook": "drift",
            "status": self.status,
            "headline": self.headline(),
            "metrics": metrics,
            "methods": self.methods,
            "contract": self.contract,
            "drift": self.to_dict(),
            "columns": self.to_dict()["columns"],
            "roles": {c.column: c.role for c in self.columns if c.role != "feature"},
            "skipped": self.skipped,
            "windows": [
                {
                    "start": w.start.isoformat(),
                    "end": w.end.isoformat(),
                    "column": w.column,
                    "statistic": _num(w.statistic),
                    "drifted": w.drifted,
                    "rows": w.rows,
                }
                for w in self.windows
            ],
            "window": self.window,
            "first_drift_window": first if self.windows else {},
            "contract_breaches": [
                {"column": b.column, "value": b.value, "rows": b.rows, "side": b.side}
                for b in self.breaches
            ],
            "evidently_report": evidently_report,
            # extra pages of this notebook, linked from the pack's front page
            "pages": (
                [{"file": evidently_report, "title": "evidently report (sample)"}]
                if evidently_report else []
            ),
        }
        return out

    def _window_share(self, start: Any) -> float:
        ws = [w for w in self.windows if w.start == start and w.rows > 0]
        return sum(w.drifted for w in ws) / len(ws) if ws else 0.0

    # --- HTML ---------------------------------------------------------------------------
    def callout(self) -> render.HTML:
        return render.callout(
            f"{self.drifted_columns} of {len(self.columns)} columns drifted",
            self.headline(),
            self.status,
        )

    def table(self) -> render.HTML:
        return render.HTML(
            render.html_table(
                self.frame,
                max_rows=200,
                caption=f"Per-column drift ({self.methods} methods); drifted columns first",
            )
        )

    def breach_section(self) -> render.HTML:
        """The "Values outside the contract" section, or one sentence saying why it is left out."""
        if not self.contract:
            return render.HTML(render.skipped_section(
                "Values outside the contract",
                "no data contract was given (parameter contract_path), so no category can be "
                "checked against its valid values."))
        return render.HTML(
            "<h2>Values outside the contract</h2><p>A category the contract does not allow is "
            "a contract breach, reported here beside the drift result.</p>"
            + self.breach_table().markup
        )

    def when_section(self) -> render.HTML:
        """The "When did it start?" heading and its reading guide, or one sentence saying why
        the section is left out (no timestamp column: nothing to split into windows)."""
        if not self.windows:
            return render.HTML(render.skipped_section(
                "When did it start?",
                "no timestamp column was given (parameter timestamp), so the current data "
                "cannot be split into time windows."))
        return render.HTML(
            "<h2>When did it start? Drift per column and window</h2><p>Each window of the "
            "current data is compared with the whole reference, with the column's method and "
            "threshold. A dot marks a drifted window.</p>"
        )

    def first_window_table(self) -> render.HTML | None:
        """First drifted window per column (None without windows, so a cell shows nothing)."""
        if not self.windows:
            return None
        rows = [{"column": c, "first drifted window": w}
                for c, w in self.first_drift_window().items() if w]
        if not rows:
            return render.HTML('<p class="wb-note">No column drifted in any window.</p>')
        return render.HTML(
            render.html_table(rows, caption="First window in which each column drifted")
        )

    def breach_table(self) -> render.HTML:
        if not self.breaches:
            return render.HTML(
                '<p class="wb-note">No category outside the contract\'s valid values.</p>'
            )
        rows = [
            {
                "column": b.column,
                "value outside the contract": b.value,
                "rows": b.rows,
                "side": b.side,
            }
            for b in self.breaches
        ]
        return render.HTML(
            render.html_table(rows, caption="Contract breaches (values not in validValues)")
        )

    def _repr_html_(self) -> str:
        parts = [self.callout().markup, self.table().markup]
        if self.breaches:
            parts.append(self.breach_table().markup)
        if self.skipped:
            parts.append(render.html_table(self.skipped, caption="Columns not compared"))
        return "".join(parts)

    # --- charts -------------------------------------------------------------------------
    def distribution_data(self, column: str, bins: int = 20, top: int = 12) -> pl.DataFrame:
        """Shares per bin (numerical, equal-width over both sides) or category, per side."""
        cur: Summary = self.summaries.current[column]
        ref: Summary = self.summaries.reference[column]
        kind = next(c.type for c in self.columns if c.column == column)
        rows = []
        if kind == NUMERICAL:
            # equal-width bins over the reference's range, plus one bin each side for current
            # values outside it (a unit change such as ratio -> percent shows as one tall bar)
            from workbench.drift._stats import histogram

            lo, hi = float(ref.values[0]), float(ref.values[-1])
            if hi == lo:
                hi = lo + 1.0
            edges = np.linspace(lo, hi, bins + 1)
            for side, s in (("reference", ref), ("current", cur)):
                counts = histogram(s, edges).tolist()
                below = int(s.counts[s.values < lo].sum())
                above = int(s.counts[s.values > hi].sum())
                cells = [(f"< {_short(lo)}", below)] if below or cur.values[0] < lo else []
                cells += [(_short(edges[i]), n) for i, n in enumerate(counts)]
                if above or cur.values[-1] > hi:
                    cells.append((f"> {_short(hi)}", above))
                for i, (label, n) in enumerate(cells):
                    rows.append(
                        {"side": side, "bin": label, "order": i, "share": n / s.n, "lo": float(i)}
                    )
        else:
            totals: dict[str, float] = {}
            shares: dict[tuple[str, str], float] = {}
            for side, s in (("reference", ref), ("current", cur)):
                for v, n in zip(s.values.tolist(), s.counts.tolist(), strict=True):
                    shares[(side, str(v))] = n / s.n
                    totals[str(v)] = totals.get(str(v), 0.0) + n / s.n
            cats = sorted(totals, key=lambda k: (-totals[k], k))[:top]
            for side in ("reference", "current"):
                for i, k in enumerate(cats):
                    rows.append(
                        {
                            "side": side,
                            "bin": k,
                            "order": i,
                            "share": shares.get((side, k), 0.0),
                            "lo": float(i),
                        }
                    )
        return pl.DataFrame(rows)

    def distribution_chart(self, column: str) -> Any:
        import altair as alt

        data = self.distribution_data(column).to_dicts()
        order = [r["bin"] for r in data if r["side"] == "reference"]
        return (
            alt.Chart(alt.Data(values=data))
            .mark_bar()
            .encode(
                x=alt.X("bin:N", sort=order, title=column, scale=alt.Scale(paddingInner=0.15)),
                xOffset=alt.XOffset("side:N", sort=["reference", "current"]),
                y=alt.Y("share:Q", axis=alt.Axis(format="%"), title="share of rows"),
                color=alt.Color(
                    "side:N",
                    sort=["reference", "current"],
                    scale=alt.Scale(range=[render.PALETTE["ref"], render.PALETTE["cur"]]),
                ),
                tooltip=["side:N", "bin:N", alt.Tooltip("share:Q", format=".1%")],
            )
            .properties(title=f"{column}: reference vs current", width=420, height=180)
        )

    def distribution_charts(self, top: int = 4) -> Any:
        import altair as alt

        cols = [c.column for c in self.ranked() if c.drifted][:top]
        if not cols:
            return render.HTML('<p class="wb-note">No column drifted.</p>')
        return alt.vconcat(*[self.distribution_chart(c) for c in cols]).resolve_scale(
            x="independent", xOffset="independent", y="independent"
        )

    def heatmap(self) -> Any:
        """Column x window: colour = how far past its threshold, a dot where it drifted.

        None without windows: :meth:`when_section` already says why, once.
        """
        import altair as alt

        if not self.windows:
            return None
        order = [c.column for c in self.ranked()]
        data = [
            {
                "window": w.start.strftime("%Y-%m-%d %H:%M")
                if w.start.hour
                else w.start.strftime("%Y-%m-%d"),
                "column": w.column,
                "severity": round(min(w.severity, 5.0), 3),
                "drifted": "drifted" if w.drifted else "no drift",
                "rows": w.rows,
            }
            for w in self.windows
            if w.rows > 0  # no rows for this column in the window: left blank
        ]
        base = alt.Chart(alt.Data(values=data)).encode(
            x=alt.X("window:O", title="window start"), y=alt.Y("column:N", sort=order, title=None)
        )
        rect = base.mark_rect().encode(
            color=alt.Color(
                "severity:Q",
                title="drift / threshold",
                scale=alt.Scale(
                    domain=[0, 1, 5], range=["#f6f8fa", "#f2cc60", "#cf222e"], interpolate="rgb"
                ),
            ),
            tooltip=["column:N", "window:O", "severity:Q", "drifted:N", "rows:Q"],
        )
        dots = base.transform_filter(alt.datum.drifted == "drifted").mark_point(
            shape="circle", size=14, filled=True, color="#24292f"
        )
        return (rect + dots).properties(
            title="Drift per column and window (dot = drifted, blank = no values)",
            width=max(300, 22 * len({d["window"] for d in data})),
            height=max(200, 14 * len(order)),
        )


def _num(x: float | None) -> float | None:
    if x is None or not math.isfinite(x):
        return None if x is None or math.isnan(x) else x
    return x


def _short(x: float) -> str:
    return render.fmt(float(x), 3)


__all__ = ["DriftResult", "P_VALUE_METHODS"]

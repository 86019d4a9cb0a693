"""Everything the drift area draws: the notebook's sections and its Altair charts.

Functions of a :class:`~workbench.drift.DriftResult`; HTML comes from the Jinja templates
under ``workbench/templates/drift/`` (autoescape on, undefined names an error), tables
through :func:`workbench.render.html_table`, which escapes every cell. A chart is an
Altair object: the notebook shows it through :func:`workbench.render.setup`'s offline
renderer.

Altair is imported inside the chart functions only: its import takes about 2 s here
(measured, 2 cores), which ``workbench drift`` on the command line and every other caller
of the area that draws no chart should not pay.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import numpy as np
import polars as pl
from markupsafe import Markup

from workbench import render
from workbench.drift._model import DriftResult
from workbench.drift._stats import NUMERICAL, Summary, histogram

if TYPE_CHECKING:
    import altair as alt

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.globals["skipped"] = lambda title, why: Markup(render.skipped_section(title, why))
    return env


_ENV = _env()


def _page(template: str, **context: Any) -> render.HTML:
    return render.HTML(_ENV.get_template(f"drift/{template}.html.j2").render(**context))


def _note(text: str) -> render.HTML:
    return _page("note", text=text)


# --- sections -----------------------------------------------------------------------------


def callout(result: DriftResult) -> render.HTML:
    """The headline box: how many columns drifted, and the headline sentence."""
    return render.callout(
        f"{result.drifted_columns} of {len(result.columns)} columns drifted",
        result.headline,
        "ok" if result.status == "pass" else result.status,
    )


def table(result: DriftResult) -> render.HTML:
    """Every compared column, drifted first (see :meth:`DriftResult.frame`)."""
    return render.HTML(
        render.html_table(
            result.frame(),
            max_rows=200,
            caption=f"Per-column drift ({result.methods} methods); drifted columns first",
        )
    )


def breach_table(result: DriftResult) -> render.HTML:
    if not result.breaches:
        return _note("No category outside the contract's valid values.")
    rows = [
        {"column": b.column, "value outside the contract": b.value, "rows": b.rows,
         "side": b.side}
        for b in result.breaches
    ]
    return render.HTML(
        render.html_table(rows, caption="Contract breaches (values not in validValues)")
    )


def breach_section(result: DriftResult) -> render.HTML:
    """The "Values outside the contract" section, or one sentence saying why it is left out."""
    return _page("breaches", contract=result.contract,
                 table=Markup(breach_table(result).markup) if result.contract else "")


def when_section(result: DriftResult) -> render.HTML:
    """The "When did it start?" heading and its reading guide, or one sentence saying why
    the section is left out (no timestamp column: nothing to split into windows)."""
    return _page("when", windows=bool(result.windows))


def first_window_table(result: DriftResult) -> render.HTML | None:
    """First drifted window per column (None without windows, so a cell shows nothing)."""
    if not result.windows:
        return None
    rows = [{"column": c, "first drifted window": w}
            for c, w in result.first_drift_window().items() if w]
    if not rows:
        return _note("No column drifted in any window.")
    return render.HTML(
        render.html_table(rows, caption="First window in which each column drifted")
    )


# --- charts -------------------------------------------------------------------------------


def distribution_data(
    result: DriftResult, column: str, bins: int = 20, top: int = 12
) -> pl.DataFrame:
    """Shares per bin (numerical, equal-width over both sides) or category, per side."""
    cur = result.summaries.current[column]
    ref = result.summaries.reference[column]
    kind = next(c.type for c in result.columns if c.column == column)
    if kind == NUMERICAL:
        return pl.DataFrame(_numeric_bins(cur, ref, bins))
    return pl.DataFrame(_category_shares(cur, ref, top))


def _numeric_bins(cur: Summary, ref: Summary, bins: int) -> list[dict[str, Any]]:
    # equal-width bins over the reference's range, plus one bin each side for current
    # values outside it (a unit change such as ratio -> percent shows as one tall bar)
    lo, hi = float(ref.values[0]), float(ref.values[-1])
    if hi == lo:
        hi = lo + 1.0
    edges = np.linspace(lo, hi, bins + 1)
    rows = []
    for side, s in (("reference", ref), ("current", cur)):
        counts = histogram(s, edges).tolist()
        below = int(s.counts[s.values < lo].sum())
        above = int(s.counts[s.values > hi].sum())
        cells = [(f"< {_short(lo)}", below)] if below or cur.values[0] < lo else []
        cells += [(_short(edges[i]), n) for i, n in enumerate(counts)]
        if above or cur.values[-1] > hi:
            cells.append((f"> {_short(hi)}", above))
        for i, (label, n) in enumerate(cells):
            rows.append({"side": side, "bin": label, "order": i, "share": n / s.n, "lo": float(i)})
    return rows


def _category_shares(cur: Summary, ref: Summary, top: int) -> list[dict[str, Any]]:
    totals: dict[str, float] = {}
    shares: dict[tuple[str, str], float] = {}
    for side, s in (("reference", ref), ("current", cur)):
        for v, n in zip(s.values.tolist(), s.counts.tolist(), strict=True):
            shares[(side, str(v))] = n / s.n
            totals[str(v)] = totals.get(str(v), 0.0) + n / s.n
    cats = sorted(totals, key=lambda k: (-totals[k], k))[:top]
    return [
        {"side": side, "bin": k, "order": i, "share": shares.get((side, k), 0.0), "lo": float(i)}
        for side in ("reference", "current")
        for i, k in enumerate(cats)
    ]


def distribution_chart(result: DriftResult, column: str) -> alt.Chart:
    """Reference and current shares side by side, per bin or category of one column."""
    import altair as alt  # heavy: see the module docstring

    data = distribution_data(result, column).to_dicts()
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


def distribution_charts(result: DriftResult, top: int = 4) -> alt.VConcatChart | render.HTML:
    """The distribution charts of the ``top`` most important drifted columns."""
    import altair as alt  # heavy: see the module docstring

    cols = [c.column for c in result.ranked() if c.drifted][:top]
    if not cols:
        return _note("No column drifted.")
    return alt.vconcat(*[distribution_chart(result, c) for c in cols]).resolve_scale(
        x="independent", xOffset="independent", y="independent"
    )


def heatmap(result: DriftResult) -> alt.LayerChart | None:
    """Column x window: colour = how far past its threshold, a dot where it drifted.

    None without windows: :func:`when_section` already says why, once.
    """
    import altair as alt  # heavy: see the module docstring

    if not result.windows:
        return None
    order = [c.column for c in result.ranked()]
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
        for w in result.windows
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


def _short(x: float) -> str:
    return render.fmt(float(x), 3)

"""Everything a cost-to-value result shows: its tables and HTML (Jinja, autoescaped:
``areas/costs.html.j2``) and its Altair charts (aggregated: small SVGs).

Altair is imported inside the chart functions: 2.3 s of CPU to import (measured beside
polars), which that computing never needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import jinja2
import polars as pl
from markupsafe import Markup

from workbench import render

if TYPE_CHECKING:
    from workbench.costs._model import CostResult

_JINJA = jinja2.Environment(loader=jinja2.PackageLoader("workbench", "templates"),
                            autoescape=True, undefined=jinja2.StrictUndefined,
                            # escaped as render.escape does (U+2028/2029 too)
                            finalize=lambda v: v if isinstance(v, Markup) else Markup(
                                render.escape(v)))


def _macros() -> Any:
    return _JINJA.get_template("areas/costs.html.j2").module

# display names of the per-model columns
_SHORT = {"model": "model", "cost": "cost", "value": "value", "predictions": "predictions",
          "cost_per_1k_predictions": "cost / 1k", "value_per_1k_predictions": "value / 1k",
          "value_cost_ratio": "value / cost", "net_value": "net value", "budget": "budget",
          "budget_burn_pct": "burn %", "forecast_cost": "forecast",
          "forecast_vs_budget_pct": "forecast % of budget", "on_budget": "on budget"}


def model_callouts(result: CostResult) -> list[tuple[str, str, str]]:
    """(title, body, status) per model, for ``render.callout``."""
    out = []
    cur = result.currency
    for r in result.models.iter_rows(named=True):
        ratio = r["value_cost_ratio"]
        worth = "worth it" if r["worth_it"] else "not worth its cost"
        budget = ("no budget" if r["budget"] is None else
                  f"forecast {r['forecast_vs_budget_pct']:.0f}% of budget "
                  f"({r['forecast_cost']:,.0f} of {r['budget']:,.0f} {cur})")
        title = f"{r['model']}: {worth}, " + (
            "on budget" if r["on_budget"] else "over budget" if r["on_budget"] is False
            else "no budget")
        body = (f"cost {r['cost']:,.0f} {cur}, value {r['value']:,.0f} {cur}"
                + (f", value/cost {ratio:.2f}" if ratio is not None else "")
                + f"; {budget}.")
        status = "fail" if not r["worth_it"] else "warn" if r["on_budget"] is False else "ok"
        out.append((title, body, status))
    return out


def models_table(result: CostResult) -> render.HTML:
    return render.HTML(render.html_table(
        result.models.select(list(_SHORT)).rename(_SHORT),
        caption=f"{result.month} per model ({result.currency})"))


def versions_table(result: CostResult) -> render.HTML:
    cols = [c for c in _SHORT if c in result.versions.columns]
    return render.HTML(render.html_table(
        result.versions.select("model", "version", *cols[1:]).rename(
            {c: _SHORT[c] for c in cols}),
        caption=f"{result.month} per model and version ({result.currency})"))


def budget_table(result: CostResult) -> render.HTML:
    names = {"model": "model", "budget": "budget", "month_to_date_cost": "month to date",
             "budget_burn_pct": "burn %", "run_rate_per_day": "run rate / day",
             "days_left": "days left", "forecast_cost": "forecast",
             "forecast_vs_budget_pct": "forecast % of budget", "on_budget": "on budget"}
    return render.HTML(render.html_table(
        result.budget.select(list(names)).rename(names),
        caption=f"Budget, {result.month} to {result.as_of.isoformat()} ({result.currency})"))


def anomalies_table(result: CostResult) -> render.HTML:
    if result.anomalies.height == 0:
        return render.HTML("<p>No cost anomalies.</p>")
    return render.HTML(render.html_table(
        result.anomalies.select("date", "service", "cost", "median", "score"),
        caption=f"Cost anomalies (score > {result.methods.anomaly_threshold:g})"))


def allocation_table(result: CostResult) -> render.HTML:
    rows = [{"measure": k, "value": v} for k, v in result.allocation.items()]
    return render.HTML(render.html_table(rows, caption=f"Allocation, {result.month}"))


def warnings_html(result: CostResult) -> render.HTML:
    """The warnings, one line each (escaped), or a line saying there are none."""
    return render.HTML(str(_macros().warnings(list(result.warnings))))


def source_html(result: CostResult) -> render.HTML:
    """What was read, and the two choices that shape the series, in words."""
    methods = result.methods.describe()
    return render.HTML(str(_macros().source(
        source=result.source, line_items=f"{result.line_items:,}",
        focus_version=result.focus_version, cost_column=result.rules.cost_column,
        proration=methods["proration"], anomalies=methods["anomalies"])))


def categories_table(result: CostResult) -> render.HTML:
    return render.HTML(render.html_table(
        result.charge_categories.rename({"charge_category": "charge category"}),
        caption=f"{result.month} by FOCUS charge category ({result.currency})"))


def stages_table(result: CostResult) -> render.HTML:
    return render.HTML(render.html_table(
        result.stage_totals, caption=f"{result.month} by lifecycle stage ({result.currency})"))


def result_html(result: CostResult) -> str:
    """The result as a notebook shows it: the headline, warnings and the month's tables."""
    parts = [render.callout(f"Cost to value, {result.month}", result.headline, result.status),
             warnings_html(result), models_table(result), allocation_table(result),
             categories_table(result), anomalies_table(result)]
    return "".join(p.markup for p in parts)


# --- charts -------------------------------------------------------------------------------


def cost_by_stage(result: CostResult, every: str = "1w") -> Any:
    """Stacked bars: cost per week (or ``every``) and lifecycle stage, unallocated included."""
    import altair as alt

    data = (result.stages.with_columns(pl.col("date").dt.truncate(every).alias("period"))
            .group_by("period", "stage").agg(pl.col("cost").sum()).sort("period", "stage")
            .with_columns(pl.col("period").dt.strftime("%Y-%m-%d")))
    return alt.Chart(data.to_pandas()).mark_bar().encode(
        x=alt.X("period:O", title="week starting" if every == "1w" else "period starting"),
        y=alt.Y("cost:Q", title=f"cost ({result.currency})", stack=True),
        color=alt.Color("stage:N", title="stage"),
        tooltip=["period:O", "stage:N", alt.Tooltip("cost:Q", format=",.0f")],
    ).properties(title="Cost by lifecycle stage", width=560)


def cost_vs_value(result: CostResult) -> Any:
    """Cost and value per model and month, side by side."""
    import altair as alt

    data = (result.monthly.group_by("period_start", "model")
            .agg(pl.col("cost").sum(), pl.col("value").sum())
            .unpivot(index=["period_start", "model"], on=["cost", "value"], variable_name="measure",
                     value_name="amount")
            .with_columns(pl.col("period_start").dt.strftime("%Y-%m").alias("month"))
            .sort("model", "month", "measure"))
    return alt.Chart(data.to_pandas()).mark_bar().encode(
        x=alt.X("month:N", title=None),
        xOffset="measure:N",
        y=alt.Y("amount:Q", title=result.currency),
        color=alt.Color("measure:N", scale=alt.Scale(domain=["cost", "value"],
                                                       range=["#cf222e", "#1a7f37"])),
        column=alt.Column("model:N", title=None),
    ).properties(width=170, height=220, title="Cost against value per model and month")


def budget_burndown(result: CostResult) -> Any:
    """Remaining budget per model through the month: actual, then the run-rate forecast."""
    import altair as alt

    data = result.burndown.filter(pl.col("remaining_budget").is_not_null())
    # the forecast line starts from the last actual point so the two segments join
    last_actual = data.filter(pl.col("kind") == "actual").group_by("model").agg(
        pl.all().sort_by("date").last()).with_columns(pl.lit("forecast").alias("kind"))
    data = pl.concat([data, last_actual.select(data.columns)]).sort("model", "kind", "date")
    base = alt.Chart(data.to_pandas())
    lines = base.mark_line().encode(
        x=alt.X("date:T", title=None),
        y=alt.Y("remaining_budget:Q", title=f"remaining budget ({result.currency})"),
        color=alt.Color("model:N"),
        strokeDash=alt.StrokeDash("kind:N", title=None, scale=alt.Scale(
            domain=["actual", "forecast"], range=[[1, 0], [5, 4]])),
    )
    zero = alt.Chart(pl.DataFrame({"y": [0.0]}).to_pandas()).mark_rule(
        color="#6e7781").encode(y="y:Q")
    return (lines + zero).properties(title=f"Budget burn-down, {result.month}")


def anomaly_timeline(result: CostResult) -> Any:
    """Daily cost per service with flagged days marked."""
    import altair as alt

    data = result.anomaly_scores
    base = alt.Chart(data.to_pandas())
    line = base.mark_line(strokeWidth=1).encode(
        x=alt.X("date:T", title=None), y=alt.Y("cost:Q", title=f"daily cost ({result.currency})"),
        color=alt.Color("service:N"))
    points = alt.Chart(result.anomalies.to_pandas()).mark_point(
        size=80, filled=True, color="#cf222e").encode(x="date:T", y="cost:Q",
                                                      tooltip=["service:N", "date:T", "score:Q"])
    return (line + points).properties(title="Daily cost per service; anomalies marked")


def unit_economics_by_week(result: CostResult) -> Any:
    """Cost and value per 1,000 predictions per model and week (all versions)."""
    import altair as alt

    weekly = (result.weekly.group_by("period_start", "model")
              .agg(pl.col("cost").sum(), pl.col("value").sum(), pl.col("predictions").sum())
              .filter(pl.col("predictions") > 0)
              .with_columns((pl.col("cost") / pl.col("predictions") * 1000).alias("cost"),
                            (pl.col("value") / pl.col("predictions") * 1000).alias("value"))
              .unpivot(index=["period_start", "model"], on=["cost", "value"],
                       variable_name="per 1k predictions", value_name="amount")
              .sort("model", "per 1k predictions", "period_start"))
    return alt.Chart(weekly.to_pandas()).mark_line().encode(
        x=alt.X("period_start:T", title="week starting"),
        y=alt.Y("amount:Q", title=f"{result.currency} per 1,000 predictions"),
        color=alt.Color("model:N"),
        strokeDash=alt.StrokeDash("per 1k predictions:N"),
    ).properties(title="Cost and value per 1,000 predictions, by week")

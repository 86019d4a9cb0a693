"""Charts of a :class:`~workbench.costs.CostResult` (Altair, aggregated: small SVGs)."""

from __future__ import annotations

from typing import Any

import polars as pl

from workbench.costs._result import CostResult


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

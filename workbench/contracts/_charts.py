"""Altair charts of a contract check (aggregated: one mark per dimension or check)."""

from __future__ import annotations

from typing import Any

import polars as pl

from workbench.contracts._result import ContractResult
from workbench.render import HTML, PALETTE, skipped_section


def dimension_chart(result: ContractResult) -> Any:
    """Pass rate by ODCS data quality dimension (bars), coloured by whether an error failed."""
    import altair as alt

    data = result.by_dimension().with_columns(
        state=pl.when(pl.col("failed_errors") > 0).then(pl.lit("error check failed"))
        .when(pl.col("pass_rate") < 1).then(pl.lit("warning only")).otherwise(pl.lit("all passed")))
    return alt.Chart(alt.Data(values=data.to_dicts())).mark_bar().encode(
        x=alt.X("pass_rate:Q", title="checks passed", axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("dimension:N", title=None, sort="ascending"),
        color=alt.Color("state:N", title=None, scale=alt.Scale(
            domain=["all passed", "warning only", "error check failed"],
            range=[PALETTE["ok"], PALETTE["warn"], PALETTE["fail"]])),
        tooltip=["dimension:N", "checks:Q", "passed:Q"],
    ).properties(title="Pass rate by data quality dimension", height=24 * max(1, data.height))


def failures_chart(result: ContractResult) -> Any:
    """Failing rows per failed check, as a share of all rows (log-free, capped at 100%)."""
    import altair as alt

    rows = max(result.rows, 1)
    data = [{"check": c.id.split(".", 1)[-1], "severity": c.severity,
             "share": (c.failed_rows or 0) / rows, "failed_rows": c.failed_rows or 0}
            for c in result.failed if c.failed_rows]
    if not data:  # one sentence instead of an empty chart
        return HTML('<p class="wb-note">No check failed on any row.</p>')
    return alt.Chart(alt.Data(values=data)).mark_bar().encode(
        x=alt.X("share:Q", title="share of rows failing", axis=alt.Axis(format="%")),
        y=alt.Y("check:N", title=None, sort="-x"),
        color=alt.Color("severity:N", scale=alt.Scale(
            domain=["error", "warning", "info"],
            range=[PALETTE["fail"], PALETTE["warn"], PALETTE["info"]])),
        tooltip=["check:N", "failed_rows:Q", "severity:N"],
    ).properties(title="Rows breaking each failed check", height=22 * len(data))


def timeline_chart(result: ContractResult) -> Any:
    """When each failed check first and last failed (for the incident timeline)."""
    import altair as alt

    data = [{"check": c.id.split(".", 1)[-1], "severity": c.severity,
             "first": c.first_failed_at, "last": c.last_failed_at}
            for c in result.failed if c.first_failed_at]
    if not data:  # leave the chart out, saying why (nothing failed, or nothing is dated)
        if not result.failed:
            return None
        return HTML(skipped_section(
            "When failed checks failed",
            "the failing rows carry no timestamp (the data has no timestamp column the "
            "contract names)."))
    base = alt.Chart(alt.Data(values=data)).encode(
        y=alt.Y("check:N", title=None, sort=alt.EncodingSortField("first", order="ascending")),
        color=alt.Color("severity:N", scale=alt.Scale(
            domain=["error", "warning", "info"],
            range=[PALETTE["fail"], PALETTE["warn"], PALETTE["info"]])))
    bars = base.mark_rule(strokeWidth=6).encode(
        x=alt.X("first:T", title="first to last failing row"), x2="last:T")
    dots = base.mark_point(filled=True, size=60).encode(x="first:T")
    return (bars + dots).properties(title="When failed checks failed", height=22 * len(data))

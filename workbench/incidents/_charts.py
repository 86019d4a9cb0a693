"""Altair charts for the postmortem (rendered to static SVG by ``render.setup()``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from workbench.incidents._analysis import IncidentResult
    from workbench.incidents._portfolio import PortfolioResult


def _iso(frame: pl.DataFrame, *cols: str) -> pl.DataFrame:
    # Vega-Lite parses ISO strings with an explicit offset in UTC mode below.
    return frame.with_columns(pl.col(c).dt.strftime("%Y-%m-%dT%H:%M:%SZ") for c in cols)


def timeline_chart(result: IncidentResult) -> Any:
    """Events by kind over time, with the impact (start→mitigation) and recovery spans shaded."""
    import altair as alt

    r = result.record
    spans = [
        {
            "phase": "impact (start → mitigated)",
            "start": r.started_at,
            "end": r.mitigated_at or result.as_of,
        }
    ]
    if r.mitigated_at is not None:
        spans.append(
            {
                "phase": "recovery (mitigated → resolved)",
                "start": r.mitigated_at,
                "end": r.resolved_at or result.as_of,
            }
        )
    span_df = _iso(
        pl.DataFrame(
            spans,
            schema={
                "phase": pl.String,
                "start": pl.Datetime("us", "UTC"),
                "end": pl.Datetime("us", "UTC"),
            },
        ),
        "start",
        "end",
    )
    ev = _iso(result.timeline, "timestamp").with_columns(
        pl.col("message").str.slice(0, 90).alias("label")
    )
    x = alt.X(
        "timestamp:T",
        title="time (UTC)",
        scale=alt.Scale(type="utc"),
        axis=alt.Axis(format="%b %d %H:%M"),
    )
    band = (
        alt.Chart(alt.Data(values=span_df.to_dicts()))
        .mark_rect(opacity=0.15)
        .encode(
            x=alt.X("start:T", scale=alt.Scale(type="utc")),
            x2="end:T",
            color=alt.Color(
                "phase:N", scale=alt.Scale(range=["#cf222e", "#9a6700"]), title="phase"
            ),
        )
    )
    pts = (
        alt.Chart(alt.Data(values=ev.to_dicts()))
        .mark_point(filled=True, size=90)
        .encode(
            x=x,
            y=alt.Y("kind:N", title=None, sort=None),
            color=alt.Color(
                "origin:N", title="from", scale=alt.Scale(range=["#0969da", "#1f2328", "#8250df"])
            ),
            tooltip=["timestamp:T", "source:N", "label:N"],
        )
    )
    return (
        (band + pts)
        .properties(width=640, height=220, title=f"Timeline of {r.id}")
        .resolve_scale(color="independent")
    )


def burn_rate_chart(result: IncidentResult, sli: str = "avail") -> Any:
    """Burn rate per alert window around the incident, with thresholds and detection."""
    import altair as alt

    if result.rates.is_empty():
        return (
            alt.Chart(alt.Data(values=[{"note": "no SLIs recorded"}]))
            .mark_text()
            .encode(text="note:N")
        )
    cols = [c for c in result.rates.columns if c.startswith(f"{sli}_")]
    long = (
        result.rates.select("at", *cols)
        .unpivot(index="at", variable_name="window", value_name="burn_rate")
        .with_columns(pl.col("window").str.replace(f"{sli}_", "", literal=True))
    )
    long = _iso(long, "at")
    thresholds = [
        {
            "burn_rate": a.burn_rate,
            "label": f"{a.burn_rate:g}x ({a.long_window} & {a.short_window})"
            if a.short_window
            else f"{a.burn_rate:g}x ({a.long_window}, held {a.alert_after or '0m'})",
        }
        for a in (result.slo.alerts if result.slo else [])
    ]
    marks = [
        {"at": result.record.detected_at, "label": "detected"},
        {"at": result.record.started_at, "label": "started"},
    ]
    if result.record.mitigated_at:
        marks.append({"at": result.record.mitigated_at, "label": "mitigated"})
    fired = [
        {"at": a.first_fired_at, "label": f"would fire: {a.burn_rate:g}x"}
        for a in result.alerts
        if a.first_fired_at is not None and a.sli.startswith(sli[:5])
    ]
    mark_df = _iso(
        pl.DataFrame(marks + fired, schema={"at": pl.Datetime("us", "UTC"), "label": pl.String}),
        "at",
    )
    x = alt.X(
        "at:T",
        title="time (UTC), evaluated at the end of each minute",
        scale=alt.Scale(type="utc"),
        axis=alt.Axis(format="%b %d %H:%M"),
    )
    lines = (
        alt.Chart(alt.Data(values=long.to_dicts()))
        .mark_line(strokeWidth=1.5)
        .encode(
            x=x,
            y=alt.Y("burn_rate:Q", title="burn rate (x budget)"),
            color=alt.Color(
                "window:N", sort=["5m", "30m", "1h", "2h", "6h", "1d", "3d"], title="window"
            ),
        )
    )
    rules = (
        alt.Chart(alt.Data(values=thresholds))
        .mark_rule(strokeDash=[6, 3], color="#6e7781")
        .encode(y="burn_rate:Q")
    )
    rule_text = (
        alt.Chart(alt.Data(values=thresholds))
        .mark_text(align="left", dx=4, dy=-6, color="#6e7781")
        .encode(y="burn_rate:Q", x=alt.value(0), text="label:N")
    )
    vlines = (
        alt.Chart(alt.Data(values=mark_df.to_dicts()))
        .mark_rule(color="#1f2328")
        .encode(
            x=alt.X("at:T", scale=alt.Scale(type="utc")),
            strokeDash=alt.StrokeDash("label:N", title="marker"),
        )
    )
    title = "Availability burn rate" if sli == "avail" else "Latency burn rate"
    return (lines + rules + rule_text + vlines).properties(width=640, height=260, title=title)


def portfolio_chart(p: PortfolioResult) -> Any:
    """Median TTD and TTR by month, and incident counts by category and severity."""
    import altair as alt

    months = (
        p.by_month.select("month", "median_ttd_minutes", "median_ttr_minutes")
        .unpivot(index="month", variable_name="measure", value_name="minutes")
        .with_columns(
            pl.col("measure").replace(
                {"median_ttd_minutes": "time to detect", "median_ttr_minutes": "time to resolve"}
            )
        )
    )
    trend = (
        alt.Chart(alt.Data(values=months.to_dicts()))
        .mark_line(point=alt.OverlayMarkDef(size=60))
        .encode(
            x=alt.X("month:O", title="month started"),
            y=alt.Y("minutes:Q", title="median minutes (log scale)", scale=alt.Scale(type="log")),
            color=alt.Color("measure:N", title=None),
            tooltip=["month:O", "measure:N", "minutes:Q"],
        )
        .properties(width=560, height=200, title="Time to detect and resolve by month")
    )
    cat = (
        alt.Chart(alt.Data(values=p.by_category.to_dicts()))
        .mark_bar(color="#0969da")
        .encode(
            y=alt.Y("category:N", sort="-x", title=None),
            x=alt.X("incidents:Q", title="incidents"),
        )
        .properties(width=260, height=200, title="By category")
    )
    sev = (
        alt.Chart(alt.Data(values=p.by_severity.to_dicts()))
        .mark_bar(color="#cf222e")
        .encode(
            y=alt.Y("severity:N", sort=None, title=None),
            x=alt.X("incidents:Q", title="incidents"),
        )
        .properties(width=200, height=200, title="By severity")
    )
    return alt.vconcat(trend, alt.hconcat(cat, sev))

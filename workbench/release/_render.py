"""Every chart and HTML fragment of a release comparison (Altair; Jinja with autoescape)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import polars as pl
from markupsafe import Markup

from workbench import render

if TYPE_CHECKING:
    from workbench.release._model import ReleaseResult

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATE_STATUS = {"pass": "ok", "fail": "fail", "worse": "warn", "inconclusive": "info",
                "unknown": "muted"}
DECISION_STATUS = {"promote": "ok", "continue": "ok", "hold": "warn", "rollback": "fail"}


def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    env.globals.update(fmt=render.fmt, badge=lambda s, t=None: Markup(render.badge(s, t)))
    return env


def decision_callout(result: ReleaseResult) -> render.HTML:
    """The decision first: what to do, and why in plain words."""
    return render.callout(f"Release decision: {result.decision.upper()}", result.reason,
                          DECISION_STATUS[result.decision])


def _mode_text(result: ReleaseResult) -> str:
    rows = ", ".join(f"{v}: {n:,} rows" for v, n in result.rows.items())
    if result.mode == "shadow":
        return (f"Shadow rollout: {result.challenger} scored the same requests as "
                f"{result.champion} without serving them ({rows}).")
    share = "" if result.challenger_share is None else (
        f" {result.challenger} served {result.challenger_share:.1f}% of traffic on the last "
        f"day (planned stage {result.stage:g}%).")
    return f"Canary rollout ({rows}).{share}"


def page(result: ReleaseResult, with_decision: bool = True) -> str:
    """The decision, the KPI table and the sample still needed (the result's HTML view)."""
    return _env().get_template("release.html.j2").render(
        callout=Markup(decision_callout(result).markup) if with_decision else "",
        mode_text=_mode_text(result),
        notes=list(result.notes), kpis=list(result.kpis), champion=result.champion,
        challenger=result.challenger, alpha=render.fmt(result.kpis[0].alpha if result.kpis
                                                      else result.plan.alpha),
        state_status=STATE_STATUS, sample_needed=result.sample_needed,
        power_pct=f"{result.plan.power:.0%}")


def kpi_table(result: ReleaseResult) -> render.HTML:
    """The KPI table with the rollout's traffic and the planned and missing samples."""
    return render.HTML(page(result, with_decision=False))


def segments_table(result: ReleaseResult, top: int = 10) -> render.HTML:
    """The segments where the challenger does worst, with the multiple-testing control."""
    if result.segments.height == 0:
        return render.HTML(render.skipped_section("segments", result.segment_method + "."))
    shown = result.segments.head(top)
    return render.HTML(
        render.html_table(shown, caption=f"Worst {shown.height} of {result.segments.height} "
                          "segments (challenger minus champion)")
        + f'<p class="wb-note">{render.escape(result.segment_method)}.</p>')


def flips_table(result: ReleaseResult, top: int = 12) -> render.HTML:
    if result.flips is None:
        return render.HTML(render.skipped_section(
            "decision flips", "a canary serves each request with one version only."))
    return render.HTML(render.html_table(result.flips.head(top),
                                         caption="Decision flips on the same requests"))


def plan_table(result: ReleaseResult) -> render.HTML:
    """The rollout plan, with the current stage and the next one marked."""
    rows = []
    for share in result.plan.stages:
        mark = ("current" if share == result.stage else
                "next" if share == result.next_stage and result.decision == "continue"
                and result.next_stage != result.stage else "")
        rows.append({"stage": f"{share:g}% of traffic", "status": mark})
    if result.mode == "shadow":
        rows.insert(0, {"stage": "shadow (0% served)", "status": "current"})
    return render.HTML(render.html_table(rows, caption="Rollout plan"))


def kpi_timeline(result: ReleaseResult) -> Any:
    """Each KPI's difference by day with its always-valid bounds (a band), and zero."""
    import altair as alt

    data = result.timeline.filter(pl.col("delta").is_not_null() & pl.col("lower").is_finite()
                                  & pl.col("upper").is_finite())
    if data.height == 0:
        return render.HTML(render.skipped_section("KPI differences over time",
                                                  "no KPI could be estimated by day."))
    pdf = data.with_columns(pl.col("date").cast(pl.String)).to_pandas()
    base = alt.Chart(pdf)
    band = base.mark_area(opacity=0.25).encode(
        x=alt.X("date:T", title=None), y=alt.Y("lower:Q", title="challenger minus champion"),
        y2="upper:Q")
    line = base.mark_line(point=True).encode(
        x="date:T", y="delta:Q",
        tooltip=["date:T", "label:N", alt.Tooltip("delta:Q", format="+.4f"),
                 alt.Tooltip("lower:Q", format="+.4f"), alt.Tooltip("upper:Q", format="+.4f"),
                 "state:N", "decision:N"])
    zero = base.mark_rule(color=render.PALETTE["muted"]).encode(y=alt.datum(0))
    return alt.layer(band, line, zero).properties(width=260, height=150).facet(
        facet=alt.Facet("label:N", title=None), columns=2).resolve_scale(y="independent"
                                                                       ).properties(
        title="KPI differences by day, with always-valid bounds")


def segments_chart(result: ReleaseResult, top: int = 12) -> Any:
    """The worst segments' differences with their intervals (red: worse after BH control)."""
    import altair as alt

    if result.segments.height == 0:
        return render.HTML(render.skipped_section("segments chart", result.segment_method + "."))
    data = result.segments.head(top).with_columns(
        pl.concat_str(pl.col("segment"), pl.lit(" = "), pl.col("value")).alias("group"))
    pdf = data.to_pandas()
    base = alt.Chart(pdf).encode(y=alt.Y("group:N", sort=None, title=None))
    rule = base.mark_rule().encode(x=alt.X("lower:Q", title="challenger minus champion"),
                                   x2="upper:Q")
    point = base.mark_point(filled=True, size=60).encode(
        x="delta:Q",
        color=alt.Color("worse:N", scale=alt.Scale(domain=[True, False],
                                                   range=[render.PALETTE["fail"],
                                                          render.PALETTE["muted"]])),
        tooltip=["group:N", "n_champion:Q", "n_challenger:Q",
                 alt.Tooltip("delta:Q", format="+.4f"), alt.Tooltip("p_adjusted:Q", format=".3g")])
    zero = alt.Chart(pdf).mark_rule(color=render.PALETTE["muted"]).encode(x=alt.datum(0))
    return alt.layer(rule, point, zero).properties(
        width=420, title=f"Worst segments ({data['kpi'][0]})")

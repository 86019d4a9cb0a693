"""Everything a postmortem shows: the sections of the SRE postmortem template (Jinja,
autoescaped: ``areas/incidents.html.j2``), their tables and texts, the portfolio view, and the
Altair charts (rendered to static SVG in a pack by ``render.setup()``).

Altair is imported inside the chart functions: 2.3 s of CPU to import (measured beside
polars), which that computing never needs.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import jinja2
import polars as pl
from markupsafe import Markup

from workbench import render
from workbench.incidents._record import DEFINITIONS
from workbench.incidents._slo import AlertFiring

if TYPE_CHECKING:
    from workbench.incidents._model import IncidentResult, PortfolioResult

WHEN = "%Y-%m-%d %H:%M UTC"
SECTIONS = (
    "summary",
    "impact",
    "root_causes",
    "trigger",
    "resolution",
    "detection",
    "action_items",
    "lessons_learned",
    "timeline",
)
ACTION_ITEM_COLUMNS = ["id", "priority", "kind", "description", "owner", "due", "status",
                       "overdue", "days_overdue"]

_JINJA = jinja2.Environment(
    loader=jinja2.PackageLoader("workbench", "templates"), autoescape=True,
    undefined=jinja2.StrictUndefined,
    # escaped as render.escape does (U+2028/2029 too), so pages read the same as before
    finalize=lambda v: v if isinstance(v, Markup) else Markup(render.escape(v)))


def _macros() -> Any:
    return _JINJA.get_template("areas/incidents.html.j2").module


def _html(markup: str) -> Markup:
    return Markup(markup)


def article(word: str) -> str:
    """'a' or 'an' before ``word`` (by its first letter; enough for our own labels)."""
    return "an" if word[:1].lower() in "aeiou" else "a"


def best_severity(alert: AlertFiring) -> str:
    name = alert.alert.split(":")[0].strip()
    return name if name in ("page", "ticket") else "alert"


def _number(key: str, value: Any) -> Any:
    """Money and counts as grouped digits (never ``2.12e+05``), ratios as they are."""
    if isinstance(value, float) and ("revenue" in key or abs(value) >= 1000):
        return f"{value:,.2f}" if "revenue" in key else f"{value:,.0f}"
    return value


def _when(t: datetime | None) -> str | None:
    return None if t is None else t.strftime(WHEN)


def duration_table(result: IncidentResult) -> render.HTML:
    rows = [
        {
            "measure": f"{DEFINITIONS[k][0]} ({k.upper()})",
            "minutes": None if v is None else round(v, 1),
            "definition": DEFINITIONS[k][1],
        }
        for k, v in result.durations.items()
    ]
    return render.HTML(render.html_table(rows))


def _budget_rows(result: IncidentResult) -> list[dict[str, Any]]:
    return [
        {
            "SLO": sli,
            "objective": b["objective"],
            "window": b["window"],
            "SLIs cover": f"{b['coverage']:.1%}",
            "basis": b["basis"],
            "budget": b["budget"],
            "spent by incident": b["consumed_by_incident"],
            "consumed by incident %": b["consumed_by_incident_pct"],
            "spent in window": b["spent_in_window"],
            "remaining %": b["remaining_pct"],
        }
        for sli, b in result.budget.items()
    ]


def _alert_rows(result: IncidentResult) -> list[dict[str, Any]]:
    return [
        {
            "alert": a.alert,
            "SLI": a.sli,
            "outcome": {"fires": "fires", "never": "never fires"}.get(
                a.outcome, f"unknown for {a.unknown_minutes} min (window not covered)"
            ),
            "would first fire at": _when(a.first_fired_at),
            "vs detection (min)": a.minutes_vs_detection,
            "minutes firing": a.firing_minutes,
        }
        for a in result.alerts
    ]


def section(result: IncidentResult, name: str) -> render.HTML:
    """One section of the SRE postmortem template as escaped HTML."""
    r, m = result.record, _macros()
    if name == "summary":
        affected = ", ".join(r.affected_models + r.affected_services) or "(not recorded)"
        out = m.summary(
            r, affected, ", ".join(r.categories), _html(render.badge("info", r.severity)),
            _html(render.badge("ok" if r.closed else "warn", r.status)), result.notes,
            _html(duration_table(result).markup))
    elif name == "impact":
        rows = [{"measure": k.replace("_", " "), "value": _number(k, v)}
                for k, v in result.impact.items() if not isinstance(v, dict | list)]
        out = m.impact(r.impact.description, _html(render.html_table(rows)),
                       _html(render.html_table(_budget_rows(result))))
    elif name == "root_causes":
        factors = [{"category": f.category, "contributing factor": f.description}
                   for f in r.contributing_factors]
        out = m.root_causes(r.root_causes, _html(render.html_table(factors)))
    elif name == "trigger":
        out = m.paragraph(r.trigger)
    elif name == "resolution":
        out = m.paragraph(r.resolution or "(not recorded)")
    elif name == "detection":
        out = m.detection(r, r.detected_at.isoformat(), alerts_text(result),
                          _html(render.html_table(_alert_rows(result))))
    elif name == "action_items":
        out = render.html_table(result.action_items, columns=ACTION_ITEM_COLUMNS,
                                caption=f"Overdue as of {result.as_of.date().isoformat()}")
    elif name == "lessons_learned":
        ll = r.lessons_learned
        out = m.lessons([("What went well", ll.went_well), ("What went wrong", ll.went_wrong),
                         ("Where we got lucky", ll.got_lucky)])
    elif name == "timeline":
        events = render.html_table(
            result.timeline.with_columns(pl.col("timestamp").dt.strftime(WHEN)), max_rows=200)
        out = m.timeline(_html(events), result.evidence_notes)
    else:
        raise ValueError(f"section: expected one of {', '.join(SECTIONS)}, got {name!r}")
    return render.HTML(str(out))


def alerts_text(result: IncidentResult) -> str:
    """The burn-rate alerts in words, as the SLO file defines them."""
    slo = result.slo
    if slo is None:
        return "No SLO file: no burn-rate alerts to evaluate."
    origin = {
        "openslo": "the OpenSLO file's alert conditions",
        "sloth": f"Sloth's multiwindow alerts for a {slo.window_days}-day period",
        "workbench": "the SLO file's multiwindow alerts",
    }.get(slo.source, "the SLO file's alerts")
    parts = []
    for a in slo.alerts:
        w = f"{a.long_window} and {a.short_window}" if a.short_window else a.long_window
        held = f", held for {a.alert_after}" if a.alert_after else ""
        parts.append(f"{a.severity} at {a.burn_rate:g}x over {w}{held}")
    return f"Burn-rate alerts from {origin}: {'; '.join(parts)}."


INTROS = {
    "impact": (
        "Failed requests and minutes out of SLO from the start to the mitigation, and how "
        "much of the SLO window's error budget the incident burned (stated only when the "
        "SLIs cover the window)."
    ),
    "portfolio": (
        "The incident records given: time to detect and resolve by month, counts by "
        "category and severity, and action items overdue as of the date above."
    ),
}


def intro(result: IncidentResult, name: str) -> str:
    """The text introducing a section, worded for the incident's kind (ML model or service)."""
    ml = result.record.incident_kind == "ml"
    if name == "postmortem":
        return (
            "The postmortem of one incident in the structure of the Google SRE postmortem "
            "template, assembled from the incident record, its event log, the SLIs and the "
            "SLOs"
            + (", plus the drift and contract findings of this review pack" if ml else "")
            + ". Times to detect and resolve, the error budget burned and when a burn-rate "
            "alert would have fired are computed, not typed in."
        )
    if name == "detection":
        return "How the incident was detected, and when burn-rate alerts would have fired. " + (
            alerts_text(result)
        )
    if name == "timeline":
        return "Milestones from the record and the event log" + (
            ", and the drift onsets and contract failures this pack found near the incident."
            if ml
            else "."
        )
    if name in INTROS:
        return INTROS[name]
    raise ValueError(f"intro: unknown section {name!r}")


def result_html(result: IncidentResult) -> str:
    """The result as a notebook shows it: the headline, the durations and the impact."""
    return (
        render.callout(result.headline.split(";")[0], result.headline, result.status).markup
        + duration_table(result).markup
        + section(result, "impact").markup
    )


PORTFOLIO_COLUMNS = ["id", "month", "severity", "status", "title", "categories", "ttd_minutes",
                     "ttr_minutes", "open_action_items", "overdue_action_items"]
OVERDUE_COLUMNS = ["incident", "id", "priority", "description", "owner", "due", "status",
                   "days_overdue"]


def portfolio_html(p: PortfolioResult) -> str:
    """Many incidents: the headline figures, one row per incident, overdue action items."""
    m = p.metrics
    head = render.callout(
        f"{m['portfolio_incidents']} incidents, "
        f"{m['portfolio_overdue_action_items']} overdue action items",
        f"Median time to detect {render.fmt(m['portfolio_median_ttd_minutes'])} min, "
        "to resolve "
        f"{render.fmt(m['portfolio_median_ttr_minutes'])} min; overdue as of "
        f"{p.as_of.date().isoformat()}.",
        "warn" if m["portfolio_overdue_action_items"] else "ok",
    )
    return (
        head.markup
        + render.html_table(p.incidents, columns=PORTFOLIO_COLUMNS, caption="Incidents")
        + render.html_table(p.overdue, caption="Overdue action items", columns=OVERDUE_COLUMNS)
    )


# --- charts -------------------------------------------------------------------------------


def _iso(frame: pl.DataFrame, *cols: str) -> pl.DataFrame:
    # Vega-Lite parses ISO strings with an explicit offset in UTC mode below.
    return frame.with_columns(pl.col(c).dt.strftime("%Y-%m-%dT%H:%M:%SZ") for c in cols)


def _utc_time(field: str, title: str) -> Any:
    """The time axis of the incident charts: ``field`` as UTC date-times, minute labels."""
    import altair as alt

    return alt.X(f"{field}:T", title=title, scale=alt.Scale(type="utc"),
                 axis=alt.Axis(format="%b %d %H:%M"))


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
    x = _utc_time("timestamp", "time (UTC)")
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
    x = _utc_time("at", "time (UTC), evaluated at the end of each minute")
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

"""Every chart and HTML fragment of the performance area (Altair; Jinja with autoescape)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import polars as pl
from markupsafe import Markup

from workbench import render
from workbench.performance._model import LABELS, LOWER_IS_BETTER

if TYPE_CHECKING:
    from workbench.performance._result import PerformanceResult

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "performance"
STATUS_COLOR = {"pass": "ok", "fail": "fail", "warn": "warn", "unknown": "warn",
                "error": "fail", "info": "info"}


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                              undefined=jinja2.StrictUndefined)


def _f(value: Any, digits: int = 4) -> str:
    return render.fmt(value, digits)


def summary_html(result: PerformanceResult) -> str:
    """The headline box and the figures a PM reads first."""
    m = result.primary
    metrics = result.metrics
    facts = [
        (f"latest chunk ({result.latest.key})", _f(metrics[f"latest.{m}"])),
        ("  of which estimated (no labels yet)" if result.latest.metrics[m].realized is None
         else "  realized", _f(result.latest.metrics[m].judged)),
        ("agreed target", "—" if metrics["target"] is None else
         f"{'≤' if m in LOWER_IS_BETTER else '≥'} {metrics['target']:g}"),
        ("reference (training-time sample)", _f(metrics[f"reference.{m}"])),
        ("worst realized chunk", _f(metrics[f"worst_realized.{m}"])),
        ("estimate checked later: inside its band", "—" if metrics["estimate_coverage"] is None
         else f"{metrics['estimate_coverage']:.0%} of {metrics['estimate_checked_chunks']} chunks"),
        ("alerts (chunk × metric outside the reference range)", str(metrics["alerts"])),
        ("labeled share of the analysis rows", render.pct(metrics["labeled_share"])),
    ]
    callout = render.callout(f"Model performance: {result.status}", result.headline,
                             STATUS_COLOR.get(result.status, "info"))
    return _env().get_template("summary.html.j2").render(
        callout=Markup(str(callout)), facts=facts, primary_label=LABELS[m],
        calibration=f"Calibration for the estimates: {result.evaluation.calibration}.")


def chunk_table(result: PerformanceResult, metrics: list[str] | None = None,
                period: str = "analysis") -> render.HTML:
    """Per chunk: realized, estimated and band of each metric (alerts marked)."""
    metrics = metrics or [result.primary]
    rows = []
    for c in result.evaluation.chunks:
        if c.period != period:
            continue
        cells = []
        for k in metrics:
            v = c.metrics[k]
            band = f"{_f(v.lower, 3)} – {_f(v.upper, 3)}" if v.lower is not None else "—"
            cells.append({"realized": _f(v.realized), "estimated": _f(v.estimated),
                          "band": band, "alert": v.alert, "note": v.note or ""})
        rows.append({"key": c.key, "rows": f"{c.rows:,}", "labeled": f"{c.labeled_rows:,}",
                     "cells": cells})
    html = _env().get_template("chunks.html.j2").render(
        caption=f"{period.capitalize()} chunks", metrics=[LABELS[k] for k in metrics], rows=rows)
    return render.HTML(html)


def over_time_chart(result: PerformanceResult, metric: str | None = None) -> Any:
    """The metric per analysis chunk: realized (solid), estimated (dashed) with its band,
    the reference range (grey rules) and the agreed target (red rule)."""
    import altair as alt

    m = metric or result.primary
    rows = []
    for c in result.analysis:
        v = c.metrics[m]
        rows.append({"chunk": c.key, "realized": v.realized, "estimated": v.estimated,
                     "lower": v.lower, "upper": v.upper})
    data = pl.DataFrame(rows, schema={"chunk": pl.String, "realized": pl.Float64,
                                      "estimated": pl.Float64, "lower": pl.Float64,
                                      "upper": pl.Float64}).to_pandas()
    order = [c.key for c in result.analysis]
    x = alt.X("chunk:N", sort=order, title="chunk")
    base = alt.Chart(data)
    band = base.mark_area(opacity=0.18, color=render.PALETTE["cur"]).encode(
        x=x, y=alt.Y("lower:Q", title=LABELS[m], scale=alt.Scale(zero=False)), y2="upper:Q")
    est = base.mark_line(point=True, strokeDash=[5, 3], color=render.PALETTE["cur"]).encode(
        x=x, y="estimated:Q", tooltip=["chunk:N", alt.Tooltip("estimated:Q", format=".4f")])
    real = base.mark_line(point=True, color="#24292f").encode(
        x=x, y="realized:Q", tooltip=["chunk:N", alt.Tooltip("realized:Q", format=".4f")])
    layers = [band, est, real]
    lo, hi = result.evaluation.alert_ranges.get(m, (None, None))
    rules = [{"y": y, "what": "reference range"} for y in (lo, hi) if y is not None]
    target = result.evaluation.setup.targets.get(m)
    if target is not None:
        rules.append({"y": target, "what": "agreed target"})
    if rules:
        layers.append(alt.Chart(pl.DataFrame(rules).to_pandas()).mark_rule(strokeDash=[2, 2])
                      .encode(y="y:Q", color=alt.Color("what:N", scale=alt.Scale(
                          domain=["reference range", "agreed target"],
                          range=[render.PALETTE["ref"], render.PALETTE["fail"]]), title=None)))
    return alt.layer(*layers).properties(
        width=560, height=240,
        title=f"{LABELS[m]} per chunk: realized (solid), estimated (dashed, band ±3 SE)")


def estimate_vs_realized(result: PerformanceResult, metric: str | None = None) -> render.HTML:
    """Chunks whose labels have since arrived: the estimate beside the realized value."""
    m = metric or result.primary
    rows = [{"chunk": c.key, "labeled rows": c.labeled_rows, "estimated": v.estimated,
             "realized": v.realized, "error": (v.estimated or 0) - (v.realized or 0),
             "band": f"{_f(v.lower, 3)} – {_f(v.upper, 3)}",
             "inside band": "yes" if v.inside else "no"}
            for c, v in result.checked(m)]
    if not rows:
        return render.HTML(render.skipped_section(
            "estimate against realized", "no chunk has both an estimate and labels yet"))
    cov = result.coverage(m)
    note = (f'<p class="wb-note">{render.escape(f"{cov:.0%}")} of {len(rows)} chunk(s): the '
            f"realized value fell inside the estimate's band.</p>")
    return render.HTML(render.html_table(rows, caption=f"{LABELS[m]}: estimate checked later")
                       + note)


def calibration_chart(result: PerformanceResult) -> Any:
    """Observed positive rate against mean score per score bin (10 equal-width bins)."""
    import altair as alt

    bins = result.evaluation.calibration_bins
    if not bins:
        return render.HTML(render.skipped_section("calibration curve",
                                                  "the problem is not a binary classification"))
    data = pl.DataFrame([{"set": b.set, "mean score": b.mean_score,
                          "observed rate": b.observed_rate, "rows": b.rows} for b in bins])
    diag = alt.Chart(pl.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0]}).to_pandas()).mark_line(
        color=render.PALETTE["muted"], strokeDash=[3, 3]).encode(x="x:Q", y="y:Q")
    pts = alt.Chart(data.to_pandas()).mark_line(point=True).encode(
        x=alt.X("mean score:Q", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("observed rate:Q", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("set:N", scale=alt.Scale(domain=["reference", "analysis"],
                                                 range=[render.PALETTE["ref"],
                                                        render.PALETTE["cur"]])),
        tooltip=["set:N", "rows:Q", alt.Tooltip("mean score:Q", format=".3f"),
                 alt.Tooltip("observed rate:Q", format=".3f")])
    return alt.layer(diag, pts).properties(
        width=320, height=320, title="Calibration (labeled rows; 10 equal-width score bins)")


def confusion_html(result: PerformanceResult) -> render.HTML:
    """Realized (labeled analysis rows) and estimated (all analysis rows) confusion matrices."""
    conf = result.evaluation.confusion
    matrices = []
    for kind, title in (("realized", "Realized (labeled analysis rows)"),
                        ("estimated", "Estimated (CBPE, all analysis rows)")):
        if kind in conf:
            matrices.append({"title": title,
                             **{k: f"{conf[kind][k]:,.0f}" for k in ("tp", "fp", "tn", "fn")}})
    why = "the problem is not a binary classification" if result.problem != "binary" else ""
    return render.HTML(_env().get_template("confusion.html.j2").render(matrices=matrices,
                                                                       why=why))


def segments_html(result: PerformanceResult) -> render.HTML:
    """Segments worst first (by the headline metric, realized where known)."""
    if not result.evaluation.segments:
        return render.HTML(render.skipped_section("segments", "no segment column was named"))
    m = result.primary
    rows = [{"segment": s.value, "rows": s.rows, "labeled rows": s.labeled_rows,
             "realized": s.metrics[m].realized, "estimated": s.metrics[m].estimated,
             "note": s.metrics[m].note or ""} for s in result.evaluation.segments]
    return render.HTML(render.html_table(
        rows, caption=f"{LABELS[m]} per {result.evaluation.setup.segment}, worst first"))


def value_html(result: PerformanceResult) -> render.HTML:
    """Business value of the decisions per chunk, realized and estimated."""
    setup = result.evaluation.setup
    if not setup.values:
        return render.HTML(render.skipped_section(
            "business value", "no value per decision outcome was given"))
    rows = [{"chunk": c.key, f"realized ({setup.currency})": c.value.get("realized"),
             f"realized per 1k ({setup.currency})": c.value.get("realized_per_1k"),
             f"estimated ({setup.currency})": c.value.get("estimated"),
             f"estimated per 1k ({setup.currency})": c.value.get("estimated_per_1k")}
            for c in result.analysis]
    spec = ", ".join(f"{k} {v:,g}" for k, v in setup.values.items())
    return render.HTML(render.html_table(
        rows, caption=f"Value of the decisions per chunk (per outcome: {spec})"))


def all_metrics_table(result: PerformanceResult, period: str = "analysis") -> render.HTML:
    """Every metric per chunk: realized where labeled, else the estimate (marked "est."),
    else why there is no value."""
    rows = []
    for c in result.evaluation.chunks:
        if c.period != period:
            continue
        row: dict[str, Any] = {"chunk": c.key, "labeled": f"{c.labeled_rows:,} of {c.rows:,}"}
        for k, v in c.metrics.items():
            if v.realized is not None:
                text = _f(v.realized)
            elif v.estimated is not None:
                text = f"{_f(v.estimated)} est."
            else:
                text = f"— ({v.note})" if v.note else "—"
            row[LABELS[k]] = text + (" ALERT" if v.alert else "")
        rows.append(row)
    return render.HTML(render.html_table(rows, caption=f"Every metric, {period} chunks "
                                         "(est. = estimated, no labels yet)", max_rows=500))

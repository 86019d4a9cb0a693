"""Shared rendering: escaped HTML, the chart theme and offline chart output.

Rules every notebook and result object follows (see shared design):

* Every string that came from data or a spec goes through :func:`escape` (or
  :func:`html_table`), never into raw HTML, Markdown or pandas ``Styler``.
* Charts are Altair charts shown with :func:`show_chart` (or simply left as a cell's value
  once :func:`setup` has run). In a pack build they are rendered to static SVG by
  vl-convert (in the builder, from the spec the kernel sends: :data:`SPEC_MIME`), so
  pages draw them with no network and no script; run by a person in
  JupyterLab they are interactive (Lab's own offline Vega-Lite renderer), with the SVG
  beside them as the fallback.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import polars as pl

MASK = "••••"

PALETTE = {
    "ok": "#1a7f37",
    "warn": "#9a6700",
    "fail": "#cf222e",
    "info": "#0969da",
    "muted": "#6e7781",
    "ref": "#8c959f",
    "cur": "#0969da",
}


def escape(value: Any) -> str:
    """HTML-escape any value as text (quotes too; U+2028/2029 made visible-safe)."""
    text = "" if value is None else str(value)
    text = html.escape(text, quote=True)
    return text.replace("\u2028", "&#8232;").replace("\u2029", "&#8233;")


def fmt(value: Any, digits: int = 4) -> str:
    """A compact, stable text form for a number or anything else."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value != 0 and (abs(value) < 10**-digits or abs(value) >= 1e9):
            return f"{value:.{digits - 1}e}"
        return f"{value:,.{digits}g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return str(value)


# Metrics (and table columns) whose value is a share of a whole (0..1): shown as
# percentages on every page (front page, summary, area pages); ``*_pct`` metrics already
# are percentages. A fixed list, not a suffix rule: a data column named ``burn_rate``
# (14.4x) or a user's ``conversion_rate`` in percent must not be multiplied by 100.
SHARE_METRICS = frozenset({
    "pass_rate", "contract_pass_rate", "drift_share", "drifted_share", "key_drifted_share",
    "unallocated_share",
})


def pct(value: Any, digits: int = 1) -> str:
    """A share (0..1) as a percentage; never rounded onto 0% or 100% when it is not one.

    >>> pct(0.978), pct(0.99996), pct(1.0), pct(None)
    ('97.8%', '99.996%', '100.0%', '—')
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return fmt(value)
    if not math.isfinite(value):
        return str(value)
    text = f"{value:.{digits}%}"
    # 0.99996 must not read as 100.0%, nor 0.00004 as 0.0%: add digits until it cannot
    while digits < 12 and value not in (0, 1) and float(text[:-1]) / 100 in (0.0, 1.0):
        digits += 1
        text = f"{value:.{digits}%}"
    return text


def is_share(metric: str) -> bool:
    """Whether ``metric`` (a results metric name, maybe ``name.model``) is a 0..1 share."""
    return metric.split(".", 1)[0] in SHARE_METRICS


def fmt_metric(metric: str, value: Any, digits: int = 4) -> str:
    """One number format per metric across every page: shares as %, ``*_pct`` with a %."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return fmt(value, digits)
    if is_share(metric):
        return pct(value)
    if metric.split(".", 1)[0].endswith("_pct"):
        return fmt(value, digits) + "%"
    return fmt(value, digits)


def fmt_apart(value: Any, other: Any, digits: int = 4, metric: str = "") -> str:
    """``value`` formatted with enough digits that it does not read as ``other``.

    A failing value must never be rounded into a passing one: 15.0001 against a maximum
    of 15 is shown as ``15.0001``, not ``15``.

    >>> fmt_apart(15.0001, 15), fmt_apart(0.50004, 0.5, metric="drifted_share")
    ('15.0001', '50.004%')
    """
    def one(v: Any, d: int) -> str:
        if metric and is_share(metric) and isinstance(v, float | int) and not isinstance(v, bool):
            return pct(v, max(1, d - 3))
        return fmt_metric(metric, v, d) if metric else fmt(v, d)

    text = one(value, digits)
    num = isinstance(value, int | float) and not isinstance(value, bool)
    if not num or not isinstance(other, int | float) or value == other:
        return text
    d = digits
    while d < 17 and text == one(other, d):
        d += 1
        text = one(value, d)
    return text if text != one(other, d) else repr(value)


_LONG_TOKEN = re.compile(r"[^\s<>]{12,}")
_HEADER_TOKEN = re.compile(r"[^\s<>]{8,}")
_ENTITY = re.compile(r"(&#?[A-Za-z0-9]+;)")
# after . _ / \ : , - and between a lower-case letter and an upper-case one (logicalType)
_JOINT = re.compile(r"(?<=[._/\\:,-])(?=[^\s])|(?<=[a-z])(?=[A-Z])")


def soft_breaks(text: str, header: bool = False) -> str:
    """Escaped text with ``<wbr>`` after the dots, underscores and slashes of long tokens.

    Check ids, metric names and paths (``cells.mean_fractal_dimension.physicalType``) are
    single words: without a break opportunity a table column is as wide as the longest one,
    and a table of them runs off a printed page. Breaking anywhere instead splits short
    words and headers ("Observ|ed"). ``text`` must already be escaped.

    >>> soft_breaks("a.b and cost_per_1k_predictions.credit_risk")
    'a.b and cost_<wbr>per_<wbr>1k_<wbr>predictions.<wbr>credit_<wbr>risk'
    """
    # headers (failed_rows, first_failed_at) break sooner: their column is often narrow
    # numbers; entities (&amp; &rArr;) are never split
    token = _HEADER_TOKEN if header else _LONG_TOKEN

    def joints(m: re.Match[str]) -> str:
        return "".join(p if _ENTITY.fullmatch(p) else _JOINT.sub("<wbr>", p)
                       for p in _ENTITY.split(m.group(0)))

    return token.sub(joints, text)


_TAG = re.compile(r"(<[^>]*>)")
_SKIP_OPEN = re.compile(r"<(svg|style|script|textarea)\b", re.IGNORECASE)
_SKIP_CLOSE = re.compile(r"</(svg|style|script|textarea)\s*>", re.IGNORECASE)


def soft_break_markup(markup: str) -> str:
    """:func:`soft_breaks` on every text node of trusted markup (table headers sooner).

    Applied when a page is written (the pack's nbconvert template), never to notebook
    outputs: the secret scrubber looks for a value's exact text in the executed notebook,
    and a ``<wbr>`` inside it would hide it. Text inside svg, style and script is left alone.
    """
    out, skip, header = [], 0, False
    for part in _TAG.split(markup):
        if part.startswith("<"):
            if _SKIP_OPEN.match(part) and not part.endswith("/>"):
                skip += 1
            elif _SKIP_CLOSE.match(part):
                skip = max(0, skip - 1)
            elif part[:3].lower() in ("<th",) and part[3:4] in (">", " "):
                header = True
            elif part.lower().startswith("</th"):
                header = False
            out.append(part)
        else:
            out.append(part if skip or not part else soft_breaks(part, header=header))
    return "".join(out)


def fmt_exact(value: Any) -> str:
    """A number at full precision (the shortest text that reads back as the same float).

    For values a check failed on: ``15.0001`` stays ``15.0001`` where :func:`fmt` gives ``15``.

    >>> fmt_exact(15.0001), fmt_exact(1234567.5), fmt_exact(3)
    ('15.0001', '1,234,567.5', '3')
    """
    if isinstance(value, float) and math.isfinite(value):
        return format(value, ",")
    return fmt(value)


def html_table(
    rows: pl.DataFrame | Sequence[Mapping[str, Any]],
    *,
    columns: Sequence[str] | None = None,
    max_rows: int = 50,
    caption: str | None = None,
    classes: str = "wb-table",
    mask: Iterable[str] = (),
    exact: bool = False,
) -> str:
    """An HTML table with every header and cell escaped; ``mask`` columns shown as MASK.

    ``exact``: numbers at full precision (:func:`fmt_exact`), for rows shown because a value
    failed a check: a compact form could round the failing value onto the limit.
    """
    show = fmt_exact if exact else fmt
    records: Sequence[Mapping[str, Any]]
    if isinstance(rows, pl.DataFrame):
        cols = list(columns or rows.columns)
        records = rows.head(max_rows).select(cols).to_dicts()
        total = rows.height
    else:
        records = list(rows)
        cols = list(columns or (records[0].keys() if records else []))
        total = len(records)
        records = records[:max_rows]
    masked = set(mask)
    if not records:  # an empty table squeezes its headers to one word per line: say it
        return f'<p class="wb-note wb-empty">{escape(caption or "Table")}: none.</p>'
    # many columns: smaller type on paper (workbench.css), so every column still fits
    wide = " wb-wide" if len(cols) > 8 else ""
    out = [f'<table class="{escape(classes)}{wide}">']
    if caption:
        out.append(f"<caption>{escape(caption)}</caption>")
    out.append(
        "<thead><tr>" + "".join(f"<th>{escape(c)}</th>" for c in cols) + "</tr></thead><tbody>"
    )
    for rec in records:
        cells = []
        for c in cols:
            v = rec.get(c)
            if c in masked and v is not None:
                text = MASK
            elif is_share(str(c)) and not exact:  # pass_rate, drifted_share: % everywhere
                text = fmt_metric(str(c), v)
            else:
                text = show(v)
            num = isinstance(v, int | float) and not isinstance(v, bool) and c not in masked
            cells.append(
                f'<td class="num">{escape(text)}</td>' if num else f"<td>{escape(text)}</td>"
            )
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    if total > len(records):
        out.append(f'<p class="wb-note">Showing {len(records):,} of {total:,} rows.</p>')
    return "".join(out)


def badge(status: str, text: str | None = None) -> str:
    """A coloured status pill: ok, warn, fail, info (or go/hold/no-go)."""
    key = {"go": "ok", "hold": "warn", "no-go": "fail", "passed": "ok", "failed": "fail",
           "pass": "ok"}.get(
        status, status
    )
    color = PALETTE.get(key, PALETTE["muted"])
    return (
        f'<span class="wb-badge wb-{escape(key)}" style="background:{color};color:#fff;'
        f'padding:2px 8px;border-radius:10px;font-weight:600">{escape(text or status)}</span>'
    )


def callout(title: str, body: str = "", status: str = "info") -> HTML:
    """A headline box. ``title`` and ``body`` are plain text and get escaped."""
    color = PALETTE.get(
        {"go": "ok", "hold": "warn", "no-go": "fail", "pass": "ok"}.get(status, status),
        PALETTE["info"],
    )
    return HTML(
        f'<div class="wb-callout" style="border-left:6px solid {color};padding:8px 14px;'
        f'margin:8px 0;background:#f6f8fa"><div style="font-size:1.25em;font-weight:600">'
        f"{escape(title)}</div><div>{escape(body)}</div></div>"
    )


def skipped_section(title: str, why: str) -> str:
    """One sentence in place of a page section that does not apply to this data."""
    return (f'<p class="wb-note wb-skipped">Not shown: <em>{escape(title)}</em>, because '
            f"{escape(why)}</p>")


def metrics_table(metrics: Mapping[str, Any], caption: str = "Figures gates can read") -> HTML:
    """A results file's ``metrics`` as a readable two-column table, one format per metric.

    Replaces the raw dictionary a notebook's last cell used to print.
    """
    rows = [{"metric": k, "value": fmt_metric(str(k), v)} for k, v in metrics.items()
            if not isinstance(v, Mapping | list)]
    if not rows:
        return HTML("")
    return HTML(
        html_table(rows, caption=caption, max_rows=len(rows), classes="wb-table wb-metrics")
    )


class HTML:
    """Trusted HTML built by this package (all data inside already escaped)."""

    def __init__(self, markup: str) -> None:
        self.markup = markup

    def _repr_html_(self) -> str:
        return self.markup

    def __str__(self) -> str:
        return self.markup


# --- charts ---------------------------------------------------------------------------


def _theme() -> dict[str, Any]:
    return {
        "config": {
            "view": {"stroke": None, "continuousWidth": 560, "continuousHeight": 260},
            "font": "DejaVu Sans, Helvetica, Arial, sans-serif",
            "axis": {"labelFontSize": 11, "titleFontSize": 12, "gridColor": "#eaeef2"},
            "legend": {"labelFontSize": 11, "titleFontSize": 12},
            "title": {"fontSize": 14, "anchor": "start"},
            "range": {
                "category": [
                    "#0969da",
                    "#cf222e",
                    "#1a7f37",
                    "#9a6700",
                    "#8250df",
                    "#6e7781",
                    "#bc4c00",
                    "#1b7c83",
                ]
            },
        }
    }


_SEPARATORS = str.maketrans({"\u2028": " ", "\u2029": " "})


def _vega_safe(obj: Any) -> Any:
    """U+2028/U+2029 in any string of a spec (data, fields, titles) become spaces.

    Vega-Lite copies titles and field names into Vega expressions, whose parser rejects
    these two characters ("Unexpected token ILLEGAL"), so one such character in a data
    value or column name would otherwise fail the whole chart (and its notebook).
    """
    if isinstance(obj, str):
        return obj.translate(_SEPARATORS)
    if isinstance(obj, dict):
        return {_vega_safe(k): _vega_safe(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_vega_safe(v) for v in obj]
    return obj


# One conversion at a time in a process. vl-convert-python 1.9 keeps one converter per
# process behind a mutex and releases the GIL while it converts: two threads calling it at
# once were measured safe (4 threads x 100 charts, every SVG identical, no hang), but the
# builder draws from several threads (notebooks finishing together, the front page, the
# warm-up), and this lock keeps that safe whatever a later vl-convert does with the GIL.
# It costs nothing: the converter runs one chart at a time anyway.
_VL_LOCK = threading.Lock()


def _to_svg(safe: dict[str, Any]) -> str:
    import vl_convert as vlc

    with _VL_LOCK:
        return vlc.vegalite_to_svg(safe)


def chart_svg(chart: Any) -> str:
    """Static SVG for an Altair chart, rendered offline by vl-convert."""
    spec = chart.to_dict() if hasattr(chart, "to_dict") else chart
    return _to_svg(_vega_safe(spec))


def _svg_renderer(spec: dict, **_: Any) -> dict[str, str]:
    return svg_bundle(_vega_safe(spec))


def svg_bundle(safe: dict[str, Any]) -> dict[str, str]:
    """The output of a chart on a pack page: ``safe`` (a spec :func:`_vega_safe` cleaned)
    as static SVG. Drawn in the kernel, or by the builder from a deferred chart's spec."""
    return {"image/svg+xml": _to_svg(safe), "text/plain": "<chart>"}


# --- charts drawn by the builder ---------------------------------------------------------
#
# Starting vl-convert's JavaScript runtime costs about 0.6 s of CPU the first time in a
# process (then 0.03 to 0.06 s a chart), and every pack kernel paid it. A pack build's
# kernel sends the chart's spec instead, under a MIME type of its own, and the builder draws
# every such output with its one runtime before the notebook is saved or exported
# (:mod:`workbench.packs.charts`), through :func:`svg_bundle` as the kernel would have: the
# page is the same. Only when the builder asks for it (DEFER_CHARTS_ENV, set beside
# PACK_BUILD_ENV for every kernel it starts): a kernel started by anything else never sends
# a spec that nobody draws.

DEFER_CHARTS_ENV = "WORKBENCH_DEFER_CHARTS"
# A chart's spec (_vega_safe'd) as JSON text. Not a "+json" type on purpose: papermill
# saves the notebook after every cell, and a spec kept as nested JSON (every inline data
# row an object) made each save 30 times slower than one string (measured on the demo
# pack's 19 charts, 630 kB of specs: 0.155 s vs 0.005 s per nbformat.writes).
SPEC_MIME = "application/vnd.workbench.chart-spec"


def _spec_renderer(spec: dict, **_: Any) -> dict[str, Any]:
    return {SPEC_MIME: json.dumps(_vega_safe(spec)), "text/plain": "<chart>"}


def charts_deferred() -> bool:
    """Whether this kernel leaves its charts to the builder (see :data:`SPEC_MIME`)."""
    return in_pack_build() and os.environ.get(DEFER_CHARTS_ENV, "") not in ("", "0")


# --- interactive charts in JupyterLab --------------------------------------------------
#
# JupyterLab ships a renderer for Vega-Lite 5 (@jupyterlab/vega5-extension, with its own
# copy of vega: no network). Altair 6's "mimetype" renderer emits Vega-Lite 6 under a MIME
# type that extension does not claim, so a data scientist got the static SVG. The Lab
# renderer below sends the same spec as Vega-Lite 5 (tooltips as written, plus a zoom and
# pan interval bound to the scales of every continuous view), with the static SVG beside
# it for every front end that cannot draw it. Pack pages never get it: the builder sets
# WORKBENCH_PACK_BUILD for its kernels, and pages keep static SVG and no script.

PACK_BUILD_ENV = "WORKBENCH_PACK_BUILD"
LAB_MIME = "application/vnd.vegalite.v5+json"
_VL5_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
_CONTINUOUS = {"quantitative", "temporal"}


def _zoom(unit: dict[str, Any], name: str) -> dict[str, Any]:
    """A unit view with a scale-bound interval (drag to pan, wheel to zoom) on its
    continuous axes; unchanged unless x is continuous (a time axis, a value axis)."""
    enc = unit.get("encoding") or {}
    axes = [c for c in ("x", "y") if isinstance(enc.get(c), dict)
            and enc[c].get("type") in _CONTINUOUS and "bin" not in enc[c]]
    if "x" not in axes or unit.get("params"):  # bars over categories: nothing to zoom
        return unit
    param = {"name": name, "select": {"type": "interval", "encodings": axes}, "bind": "scales"}
    return {**unit, "params": [param]}


def lab_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` (Altair's Vega-Lite 6 dict) as the Vega-Lite 5 JupyterLab draws, zoomable."""
    return _zoomable(_vega_safe(spec))


def _zoomable(safe: dict[str, Any]) -> dict[str, Any]:
    """:func:`lab_spec` of a spec :func:`_vega_safe` already cleaned."""
    counter = iter(range(1_000_000))

    def walk(node: Any, in_layer: bool = False) -> Any:
        if not isinstance(node, dict):
            return node
        if "layer" in node:  # one zoom per layered view: on its first unit
            layers = list(node["layer"])
            if layers:
                layers[0] = walk(layers[0], in_layer=True)
            return {**node, "layer": layers}
        for key in ("hconcat", "vconcat", "concat"):
            if key in node:
                return {**node, key: [walk(n) for n in node[key]]}
        if "spec" in node:  # facet / repeat
            return {**node, "spec": walk(node["spec"])}
        if "mark" in node:
            return _zoom(node, f"wb_zoom_{next(counter)}")
        return node

    return {**walk(safe), "$schema": _VL5_SCHEMA}


def _lab_renderer(spec: dict, **_: Any) -> dict[str, Any]:
    safe = _vega_safe(spec)  # once: it walks every inline data row
    return {LAB_MIME: _zoomable(safe), **svg_bundle(safe)}


def in_pack_build() -> bool:
    """Whether this kernel runs for ``workbench pack build`` (static pages, no script)."""
    return os.environ.get(PACK_BUILD_ENV, "") not in ("", "0")


_SET_UP = False


def setup(interactive: bool | None = None) -> None:
    """Register the chart theme and the chart renderer; idempotent. Call once per notebook.

    Charts are interactive Vega-Lite (with an SVG fallback) when a person runs the
    notebook, and static SVG only in a pack build (drawn by the builder when it asks:
    :func:`charts_deferred`); ``interactive`` overrides the choice.
    """
    global _SET_UP
    if _SET_UP:
        return
    import altair as alt

    if interactive is None:
        interactive = not in_pack_build()
    alt.theme.register("workbench", enable=True)(_theme)  # type: ignore[arg-type]
    alt.renderers.register("workbench-svg", _svg_renderer)
    alt.renderers.register("workbench-lab", _lab_renderer)
    alt.renderers.register("workbench-spec", _spec_renderer)
    static = "workbench-spec" if charts_deferred() else "workbench-svg"
    alt.renderers.enable("workbench-lab" if interactive else static)
    alt.data_transformers.disable_max_rows()
    _SET_UP = True


def show_chart(chart: Any) -> None:
    """Display a chart as SVG (works without :func:`setup`)."""
    from IPython.display import SVG, display

    display(SVG(chart_svg(chart)))

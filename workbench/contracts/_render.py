"""Everything a contract check shows: Altair charts (aggregated: one mark per dimension or
check), the page's tables and the result's HTML (Jinja, autoescaped: ``areas/contracts.html.j2``).

Altair is imported inside the chart functions: 2.3 s of CPU to import (measured beside
polars), which the command line (``workbench contract check``) never needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import jinja2
import polars as pl
from markupsafe import Markup

from workbench import render
from workbench.render import HTML, PALETTE, skipped_section

if TYPE_CHECKING:
    from workbench.contracts._model import ContractResult

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
TITLES = {"ok": "Contract met", "warn": "Contract met, with warnings", "fail": "Contract broken"}

_JINJA = jinja2.Environment(loader=jinja2.PackageLoader("workbench", "templates"),
                            autoescape=True, undefined=jinja2.StrictUndefined,
                            # escaped as render.escape does (U+2028/2029 too)
                            finalize=lambda v: v if isinstance(v, Markup) else Markup(
                                render.escape(v)))
_JINJA.globals["callout"] = lambda title, body, status: Markup(
    render.callout(title, body, status).markup)


def _macros() -> Any:
    return _JINJA.get_template("areas/contracts.html.j2").module


# --- tables -------------------------------------------------------------------------------

def failed_frame(result: ContractResult) -> pl.DataFrame:
    """Failed checks. A row check's ``observed`` that only repeats ``failed_rows`` is
    left blank (beside a limit it reads as a value); range checks show their ``worst
    value``, the failing value furthest past the limit, at full precision."""
    cols = ["id", "severity", "dimension", "failed_rows", "observed", "expected",
            "worst value", "first_failed_at", "last_failed_at"]
    worst = {c.id: render.fmt_exact(c.worst) for c in result.checks if c.worst is not None}
    return (result.frame().filter(~pl.col("passed"))
            .with_columns(
                observed=pl.when(pl.col("observed") == pl.col("failed_rows").cast(pl.String)
                                 ).then(None).otherwise(pl.col("observed")),
                **{"worst value": pl.col("id").replace_strict(
                    worst, default=None, return_dtype=pl.String)})
            .sort(pl.col("severity").replace_strict(SEVERITY_ORDER, default=3), "id")
            .select(cols)
            # columns with nothing to say (no timestamps, no range checks) are left out
            .pipe(lambda f: f.select(c for c in f.columns if c in cols[:4]
                                     or f[c].null_count() < f.height)))


def all_checks_frame(result: ContractResult) -> pl.DataFrame:
    """Every check for the page: without the schema column when there is one schema,
    and without the columns no check filled (failure times when nothing is dated)."""
    every = result.frame() if result.parts else result.frame().drop("schema")
    keep = ("id", "rule", "passed")
    return every.select(c for c in every.columns
                        if c in keep or every[c].null_count() < every.height)


def samples_html(result: ContractResult, max_checks: int = 20) -> str:
    """Failing rows (sensitive columns masked) of up to ``max_checks`` failed checks."""
    tables = [render.html_table(list(c.samples), mask=result.sensitive, exact=True,
                                caption=f"{c.id}: failing rows (sample)")
              for c in [c for c in result.failed if c.samples][:max_checks]]
    return _macros().samples(tables=[Markup(t) for t in tables], failed=bool(result.failed))


def result_html(result: ContractResult) -> str:
    """The result as a notebook shows it: callout, the tables checked, failed checks, samples."""
    meta = render.html_table([{"contract": result.contract, **{
        k: t[k] for k in ("schema", "dataset", "rows", "checks", "failed")}}
        for t in result.tables()])
    failed = (render.html_table(failed_frame(result), caption="Failed checks")
              if result.failed else "")
    return str(_macros().result(
        title=TITLES[result.status], status=result.status, headline=result.headline,
        meta=Markup(meta), failed=Markup(failed),
        samples=Markup(samples_html(result))))


# --- charts -------------------------------------------------------------------------------

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

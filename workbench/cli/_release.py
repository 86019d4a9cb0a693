"""`workbench release`: a challenger against the champion on canary or shadow traffic."""

from __future__ import annotations

from pathlib import Path

import click

from workbench.cli import names


def _table(result) -> str:
    from workbench import render

    heads = ("KPI", "kind", result.champion, result.challenger, "difference", "lower", "upper",
             "state")
    rows = [[k.label, k.kind, render.fmt(k.champion), render.fmt(k.challenger),
             render.fmt(k.delta), render.fmt(k.lower), render.fmt(k.upper),
             k.state + (f" ({k.note})" if k.note else "")] for k in result.kpis]
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(heads)]
    line = "  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True))
    out = [f"{result.decision.upper()}: {result.reason}", "", line, "-" * len(line)]
    out += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    worst = result.segments.filter(result.segments["worse"]) if result.segments.height else None
    if worst is not None and worst.height:
        out += ["", f"segments doing worse ({result.segment_method}):"]
        out += [f"  {r['segment']}={r['value']}: {r['kpi']} {r['delta']:+.4g} "
                f"(adjusted p {r['p_adjusted']:.3g})" for r in worst.iter_rows(named=True)]
    if result.shadow:
        s = result.shadow
        if s.get("agreement_rate") is not None:
            out += ["", f"shadow: {s['requests_joined']:,} requests scored by both; decisions "
                        f"agree on {s['agreement_rate']:.1%}"]
    out += [f"note: {n}" for n in result.notes]
    return "\n".join(out) + "\n"


@click.command("release")
@click.argument("logs", type=click.Path(path_type=Path))
@click.option("--version-column", required=True, help="Column naming the model version.")
@click.option("--champion", required=True, help="The version in production.")
@click.option("--challenger", required=True, help="The version being rolled out.")
@click.option("--target", default=None, help="Label column (0/1; null until it arrives).")
@click.option("--score", default=None, help="Score column (higher: more likely positive).")
@click.option("--prediction", default=None, help="Predicted class or decision column.")
@click.option("--positive", default="1", show_default=True,
              help="The prediction value counted as positive (e.g. approve).")
@click.option("--timestamp", default=None, help="Timestamp column: one look per day.")
@click.option("--request-id", default=None,
              help="Request id column: a shadow log, both versions scored each request.")
@click.option("--segment", "segments", multiple=True,
              help="Segment column (repeat, or comma-separated).")
@click.option("--slis", type=click.Path(path_type=Path), default=None,
              help="Latency and error SLIs per version: timestamp, version, requests, errors, "
                   "latency_p95_ms.")
@click.option("--plan", type=click.Path(path_type=Path), default=None,
              help="Rollout plan (YAML): stages, KPIs, alpha, power.")
@click.option("--findings-dir", type=click.Path(path_type=Path), default=None,
              help="Folder of other notebooks' findings (cost_to_value, model_performance).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.option("--fail-on-rollback", is_flag=True, help="Exit 1 when the decision is rollback.")
def command(logs: Path, version_column: str, champion: str, challenger: str,
            target: str | None, score: str | None, prediction: str | None, positive: str,
            timestamp: str | None, request_id: str | None, segments: tuple[str, ...],
            slis: Path | None, plan: Path | None, findings_dir: Path | None, fmt: str,
            fail_on_rollback: bool) -> int:
    """Compare the CHALLENGER with the CHAMPION in scoring LOGS and decide: promote, continue,
    hold or rollback.

    LOGS: CSV or Parquet scoring logs with a version column. Without --request-id they are a
    canary (traffic split between the versions); with it, a shadow log (both versions scored
    the same requests, one row per request and version).
    """
    from workbench import release
    from workbench.io import dumps_json

    result = release.decide(
        logs, version_column=version_column, champion=champion, challenger=challenger,
        target=target, score=score, prediction=prediction, positive=positive,
        timestamp=timestamp, request_id=request_id,
        segments=[c for s in segments for c in names(s)], slis=slis, plan=plan,
        findings_dir=findings_dir)
    click.echo(dumps_json(result.to_dict()) if fmt == "json" else _table(result), nl=False)
    return 1 if fail_on_rollback and result.decision == "rollback" else 0

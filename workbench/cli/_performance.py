"""`workbench performance REFERENCE ANALYSIS`: realized and estimated model performance.

The CLI keeps the design's REFERENCE ANALYSIS order; the Python API takes analysis first.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from workbench.errors import InputError

if TYPE_CHECKING:
    from workbench.performance import PerformanceResult

NAMES = {"target": "--target", "score": "--score", "prediction": "--prediction",
         "timestamp": "--timestamp", "window": "--window", "chunk_size": "--chunk-size",
         "segment": "--segment", "id_column": "--id", "threshold": "--threshold",
         "targets": "--target-value", "values": "--value", "problem": "--problem"}


def _pairs(items: tuple[str, ...], option: str) -> dict[str, float]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError(item)
            out[name.strip()] = float(value)
        except ValueError:
            raise InputError(f"{option}: expected NAME=NUMBER, got {item!r}",
                             field=option) from None
    return out


@click.command("performance")
@click.argument("reference", type=click.Path(dir_okay=True))
@click.argument("analysis", type=click.Path(dir_okay=True))
@click.option("--target", required=True, help="Label column (known in the reference).")
@click.option("--score", required=True,
              help="Probability of the positive class (binary) or the predicted value.")
@click.option("--prediction", default=None,
              help="0/1 decision column (default: score >= threshold).")
@click.option("--threshold", type=float, default=0.5, show_default=True,
              help="Decision threshold on the score when there is no --prediction.")
@click.option("--timestamp", default=None, help="Time column (for --window).")
@click.option("--window", default=None, help="Chunks by time: day, week, or Nd (e.g. 3d).")
@click.option("--chunk-size", type=int, default=None, help="Chunks of N rows (in data order).")
@click.option("--segment", default=None, help="Categorical column: metrics per value.")
@click.option("--problem", type=click.Choice(["binary", "regression"]), default="binary",
              show_default=True)
@click.option("--labels", default=None, help="A file of later labels, joined on --id.")
@click.option("--id", "id_column", default=None, help="Id column joining --labels.")
@click.option("--target-value", "targets", multiple=True, metavar="METRIC=VALUE",
              help="Agreed target, e.g. roc_auc=0.75 (a maximum for losses and errors).")
@click.option("--value", "values", multiple=True, metavar="OUTCOME=VALUE",
              help="Value of a decision outcome (tp, fp, tn, fn), e.g. fn=-4000.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.option("--fail-on-alert", is_flag=True,
              help="Exit 1 when a chunk's value left the reference range.")
def command(reference: str, analysis: str, target: str, score: str, prediction: str | None,
            threshold: float, timestamp: str | None, window: str | None,
            chunk_size: int | None, segment: str | None, problem: str, labels: str | None,
            id_column: str | None, targets: tuple[str, ...], values: tuple[str, ...],
            fmt: str, fail_on_alert: bool) -> None:
    """Model performance on ANALYSIS against REFERENCE: realized where labels are known,
    estimated (CBPE) where they are not, per chunk and segment."""
    from workbench.io import dumps_json
    from workbench.performance import evaluate

    if window and not timestamp:
        raise InputError("--window: expected --timestamp naming the time column",
                         field="--window")
    result = evaluate(
        analysis=analysis, reference=reference, target=target, score=score,
        prediction=prediction, threshold=threshold, timestamp=timestamp, window=window,
        chunk_size=chunk_size, segment=segment, problem=problem, labels=labels,
        id_column=id_column, targets=_pairs(targets, "--target-value"),
        values=_pairs(values, "--value"), names=NAMES)
    if fmt == "json":
        click.echo(dumps_json(result.to_dict()), nl=False)
    else:
        click.echo(_table(result))
    if fail_on_alert and result.alerts():
        sys.exit(1)


def _table(result: PerformanceResult) -> str:
    from workbench.render import fmt

    m = result.primary
    rows = [("chunk", "period", "rows", "labeled", f"{m} realized", "estimated", "band",
             "alert")]
    for c in result.evaluation.chunks:
        if c.period != "analysis":
            continue
        v = c.metrics[m]
        band = f"{fmt(v.lower, 3)}-{fmt(v.upper, 3)}" if v.lower is not None else "—"
        rows.append((c.key, c.period, f"{c.rows:,}", f"{c.labeled_rows:,}", fmt(v.realized, 4),
                     fmt(v.estimated, 4), band, "ALERT" if v.alert else "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
             for r in rows]
    lines += ["", f"reference {m}: {fmt(result.evaluation.reference.metrics[m].realized, 4)}"
              f" ({result.evaluation.reference.labeled_rows:,} labeled rows)"]
    for s in result.evaluation.segments[:5]:
        v = s.metrics[m]
        lines.append(f"segment {s.column}={s.value}: realized {fmt(v.realized, 4)}, "
                     f"estimated {fmt(v.estimated, 4)}")
    lines += ["", f"{result.status.upper()}: {result.headline}"]
    return "\n".join(lines)

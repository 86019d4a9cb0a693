"""Per-minute SLIs read directly from Prometheus ``query_range`` JSON (matrix results).

Each file holds one ``/api/v1/query_range`` response (or a JSON list of them: the chunks of a
long range, since Prometheus answers at most 11,000 points per series). Files are given by kind:

* ``requests``: requests per step, e.g. ``sum(increase(http_requests_total[1m]))``;
* ``errors``: failed requests per step, e.g. ``...{code=~"5.."}``;
* ``latency_buckets``: histogram buckets per step, by ``le``, e.g.
  ``sum by (le) (increase(http_request_duration_seconds_bucket[1m]))``.

Conventions:

* chunks are joined and a point repeated at a chunk boundary is counted once; the series of a
  kind are summed; a point missing from a series counts as zero (Prometheus leaves out points
  of a series with no samples, e.g. no 5xx in that minute) over the whole queried range;
* a point at ``t`` covers the step *before* ``t`` (``increase(x[1m])`` evaluated at 14:01 counts
  14:00-14:01), so it becomes the SLI row stamped ``t - step``, whose minute is ``[t - step, t)``;
* the step is read from the timestamps and must be the same in every file; finer steps that
  divide a minute (15 s, 30 s) are summed into minutes (said in a note), coarser ones are refused
  (an alert evaluated every 5 minutes would be compared with minute-level detection);
* latency: the bucket whose ``le`` equals the SLO threshold gives the good requests and the
  ``+Inf`` bucket the total (``le`` in seconds, or in the threshold's milliseconds).

Why not prometheus-api-client: its ``MetricRangeDataFrame`` only turns results into a pandas
frame; joining chunks, summing series, the bucket and the step shift are still ours, and on a
28-day export (5.8 MB, 40,320 minutes x 8 series, 4 chunks each) that route took 4.59 s
against 1.70 s here, same SLIs (``benchmarks/incidents.py``, load average 12.8 on 2 cores).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from workbench.errors import input_error

KINDS = ("requests", "errors", "latency_buckets")
MINUTE_S = 60


def _responses(path: Path) -> list[Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise input_error(path, None, "an existing Prometheus query_range JSON file") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise input_error(path, None, "JSON (a Prometheus query_range response)") from exc
    return doc if isinstance(doc, list) else [doc]


def _points(path: Path) -> pl.DataFrame:
    """Every point of a file's responses: ``series`` (its labels), ``le``, ``t``, ``v``."""
    frames = []
    for i, doc in enumerate(_responses(path)):
        where = f"[{i}]" if i else ""
        if not isinstance(doc, dict) or doc.get("status") != "success":
            raise input_error(
                path,
                f"{where}status",
                "'success'",
                doc.get("status") if isinstance(doc, dict) else type(doc).__name__,
            )
        data = doc.get("data") or {}
        if data.get("resultType") != "matrix":
            raise input_error(
                path,
                f"{where}data.resultType",
                "'matrix' (a query_range answer)",
                data.get("resultType"),
            )
        for j, series in enumerate(data.get("result") or []):
            labels = series.get("metric") or {}
            values = series.get("values") or []
            if not values:
                continue
            try:
                # Prometheus sends [unix_seconds, "value"]; polars parses the strings at once.
                frame = pl.DataFrame(
                    values, schema={"t": pl.Float64, "v": pl.String}, orient="row"
                ).with_columns(pl.col("v").cast(pl.Float64))
            except (TypeError, ValueError, pl.exceptions.PolarsError) as exc:
                raise input_error(
                    path, f"{where}data.result[{j}].values", '[[unix_seconds, "number"], ...]'
                ) from exc
            key = json.dumps(sorted(labels.items()))
            frames.append(
                frame.with_columns(
                    pl.lit(key).alias("series"),
                    pl.lit(str(labels.get("le", ""))).alias("le"),
                    # NaN from a division over an empty range: nothing counted.
                    pl.when(pl.col("v").is_nan()).then(0.0).otherwise(pl.col("v")).alias("v"),
                )
            )
    if not frames:
        raise input_error(path, "data.result", "at least one series with values")
    return pl.concat(frames, how="vertical")


def _step(times: pl.Series, file: object) -> int:
    ts = times.unique().sort()
    diffs = ts.diff().drop_nulls().round(3).unique()
    if diffs.len() == 0:
        raise input_error(file, "values", "at least two points (the step is read from them)")
    step = float(diffs.min())  # type: ignore[arg-type]
    if step <= 0 or step != int(step) or bool(((diffs % step) != 0).any()):
        raise input_error(file, "values", "points at one regular step", diffs.head(5).to_list())
    return int(step)


def _per_time(points: pl.DataFrame, by_le: bool = False) -> pl.DataFrame:
    """Sum the series per time (and ``le``), each point once."""
    # A point repeated at a chunk boundary counts once.
    once = points.unique(subset=["series", "t"], keep="first", maintain_order=True)
    return once.group_by(["le", "t"] if by_le else ["t"]).agg(pl.col("v").sum())


def _bucket_bound(le: str) -> float:
    return math.inf if le in ("+Inf", "Inf", "inf") else float(le)


def load_prometheus(
    files: Mapping[str, Sequence[str | os.PathLike[str]]],
    *,
    latency_threshold_ms: float | None = None,
) -> tuple[pl.DataFrame, list[str]]:
    """Per-minute SLIs (``timestamp``, ``requests``, ``errors``, and with latency buckets
    ``latency_good``, ``latency_total``) and notes saying what was joined or resampled."""
    unknown = sorted(set(files) - set(KINDS))
    if unknown:
        raise input_error("--prometheus", unknown[0], f"one of {', '.join(KINDS)}")
    if "requests" not in files:
        raise input_error("--prometheus", "requests", "a requests=FILE query_range export")
    notes: list[str] = []
    points = {k: pl.concat([_points(Path(f)) for f in fs]) for k, fs in files.items()}
    steps = {k: _step(pts["t"], ", ".join(map(str, files[k]))) for k, pts in points.items()}
    if len(set(steps.values())) > 1:
        raise input_error(
            "--prometheus",
            "step",
            "the same step in every file",
            ", ".join(f"{k} {s} s" for k, s in steps.items()),
        )
    step = next(iter(steps.values()))
    if step > MINUTE_S or MINUTE_S % step:
        raise input_error(
            ", ".join(map(str, files["requests"])),
            "step",
            "one point per minute (query with step=60s) or a step that divides a minute",
            f"{step} s",
        )
    if step < MINUTE_S:
        notes.append(
            f"Prometheus points every {step} s were summed into minutes "
            f"({MINUTE_S // step} points per minute)"
        )
    for k, fs in files.items():
        if len(fs) > 1:
            notes.append(f"{k}: {len(fs)} query_range chunks joined")
    cols: dict[str, pl.DataFrame] = {"requests": _per_time(points["requests"])}
    if "errors" in points:
        cols["errors"] = _per_time(points["errors"])
    if "latency_buckets" in files:
        if latency_threshold_ms is None:
            raise input_error(
                "--prometheus", "latency_buckets", "a latency SLO (its threshold picks the bucket)"
            )
        by_le = _per_time(points["latency_buckets"], by_le=True)
        bounds = sorted(by_le["le"].unique().to_list(), key=_bucket_bound)
        good_le = next(
            (
                le
                for le in bounds
                if _bucket_bound(le) != math.inf
                and (
                    math.isclose(_bucket_bound(le) * 1000, latency_threshold_ms)
                    or math.isclose(_bucket_bound(le), latency_threshold_ms)
                )
            ),
            None,
        )
        inf_le = next((le for le in bounds if _bucket_bound(le) == math.inf), None)
        if good_le is None or inf_le is None:
            raise input_error(
                ", ".join(map(str, files["latency_buckets"])),
                "le",
                f"a bucket at the SLO threshold ({latency_threshold_ms:g} ms) and +Inf",
                ", ".join(bounds) or "no le label",
            )
        cols["latency_good"] = by_le.filter(pl.col("le") == good_le).drop("le")
        cols["latency_total"] = by_le.filter(pl.col("le") == inf_le).drop("le")
    first = min(float(c["t"].min()) for c in cols.values())  # type: ignore[arg-type]
    last = max(float(c["t"].max()) for c in cols.values())  # type: ignore[arg-type]
    n = int(round((last - first) / step)) + 1
    grid = pl.DataFrame({"t": [first + i * step for i in range(n)]})
    for k, c in cols.items():  # a point missing from every series counts as zero
        grid = grid.join(c.rename({"v": k}), on="t", how="left").with_columns(
            pl.col(k).fill_null(0.0)
        )
    if "errors" not in cols:
        grid = grid.with_columns(pl.lit(0.0).alias("errors"))
    names = [
        k for k in ("requests", "errors", "latency_good", "latency_total") if k in grid.columns
    ]
    # A point at t covers (t - step, t]: its row starts at t - step, then minutes are summed.
    start = ((pl.col("t") - step) * 1_000_000).cast(pl.Int64).cast(pl.Datetime("us", "UTC"))
    out = (
        grid.with_columns(start.dt.truncate("1m").alias("timestamp"))
        .group_by("timestamp")
        .agg(pl.col(k).sum() for k in names)
        .sort("timestamp")
    )
    if step < MINUTE_S and (first - step) % MINUTE_S:
        notes.append("the first minute is partial (the range does not start on a minute)")
    return out, notes

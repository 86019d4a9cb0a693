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
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
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


def _points(path: Path) -> list[tuple[tuple[tuple[str, str], ...], float, float]]:
    """(labels, t, value) of every point in a file's responses."""
    out = []
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
            labels = tuple(sorted((series.get("metric") or {}).items()))
            for k, pair in enumerate(series.get("values") or []):
                try:
                    t, v = float(pair[0]), float(pair[1])
                except (TypeError, ValueError, IndexError) as exc:
                    raise input_error(
                        path,
                        f"{where}data.result[{j}].values[{k}]",
                        '[unix_seconds, "number"]',
                        pair,
                    ) from exc
                if not math.isfinite(v):
                    v = 0.0  # NaN from a division over an empty range: nothing counted
                out.append((labels, t, v))
    if not out:
        raise input_error(path, "data.result", "at least one series with values")
    return out


def _step(times: Sequence[float], file: object) -> int:
    ts = sorted(set(times))
    diffs = {round(b - a, 3) for a, b in zip(ts, ts[1:], strict=False)}
    if not diffs:
        raise input_error(file, "values", "at least two points (the step is read from them)")
    step = min(diffs)
    if step <= 0 or step != int(step) or any(d % step for d in diffs):
        raise input_error(file, "values", "points at one regular step", sorted(diffs)[:5])
    return int(step)


def _per_time(
    points: list[tuple[tuple[tuple[str, str], ...], float, float]], drop: str | None = None
) -> dict[Any, float]:
    """Sum the series (optionally keeping ``drop`` as a key), each point once."""
    seen: dict[tuple[Any, float], float] = {}
    for labels, t, v in points:
        seen.setdefault((labels, t), v)  # a point repeated at a chunk boundary counts once
    out: dict[Any, float] = {}
    for (labels, t), v in seen.items():
        key = (dict(labels).get(drop, ""), t) if drop else t
        out[key] = out.get(key, 0.0) + v
    return out


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
    points = {k: [p for f in fs for p in _points(Path(f))] for k, fs in files.items()}
    steps = {
        k: _step([t for _, t, _ in pts], ", ".join(map(str, files[k]))) for k, pts in points.items()
    }
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
    cols: dict[str, dict[float, float]] = {
        "requests": _per_time(points["requests"]),
        "errors": _per_time(points.get("errors", [])),
    }
    if "latency_buckets" in files:
        if latency_threshold_ms is None:
            raise input_error(
                "--prometheus", "latency_buckets", "a latency SLO (its threshold picks the bucket)"
            )
        by_le = _per_time(points["latency_buckets"], drop="le")
        bounds = sorted({le for le, _ in by_le}, key=_bucket_bound)
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
        cols["latency_good"] = {t: v for (le, t), v in by_le.items() if le == good_le}
        cols["latency_total"] = {t: v for (le, t), v in by_le.items() if le == inf_le}
    all_t = [t for c in cols.values() for t in c]
    first, last = min(all_t), max(all_t)
    n = int(round((last - first) / step)) + 1
    grid = [first + i * step for i in range(n)]
    # A point at t covers (t - step, t]: its row starts at t - step, then minutes are summed.
    frame = pl.DataFrame(
        {
            "start": [datetime.fromtimestamp(t - step, UTC) for t in grid],
            **{k: [c.get(t, 0.0) for t in grid] for k, c in cols.items()},
        }
    ).with_columns(pl.col("start").dt.cast_time_unit("us"))
    out = (
        frame.group_by(pl.col("start").dt.truncate("1m").alias("timestamp"))
        .agg(pl.col(k).sum() for k in cols)
        .sort("timestamp")
    )
    if step < MINUTE_S and (grid[0] - step) % MINUTE_S:
        notes.append("the first minute is partial (the range does not start on a minute)")
    return out, notes

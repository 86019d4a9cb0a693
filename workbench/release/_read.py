"""Reading a release comparison's inputs: scoring logs (canary or shadow, checked for the
versions, columns and request ids) and SLIs per version, into numpy columns."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import polars as pl

from workbench import io
from workbench.columns import check_named_columns
from workbench.errors import InputError, input_error

SLI_COLUMNS = {"timestamp": "the start of the interval (a date-time)",
               "version": "the model version", "requests": "requests served",
               "errors": "requests that failed", "latency_p95_ms": "p95 latency in ms"}
EPOCH = date(1970, 1, 1)

Source = str | os.PathLike[str] | pl.DataFrame | pl.LazyFrame


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Columns:
    version: str
    target: str | None
    score: str | None
    prediction: str | None
    timestamp: str | None
    request_id: str | None
    segments: tuple[str, ...]


def _lazy(source: Source) -> tuple[pl.LazyFrame, str]:
    if isinstance(source, pl.DataFrame):
        return source.lazy(), "logs"
    if isinstance(source, pl.LazyFrame):
        return source, "logs"
    return io.scan(source), str(source)


def _read_logs(source: Source, cols: _Columns, champion: str,
               challenger: str) -> tuple[pl.DataFrame, str]:
    lf, where = _lazy(source)
    schema = lf.collect_schema()
    named = {"version_column": cols.version, "target": cols.target, "score": cols.score,
             "prediction": cols.prediction, "timestamp": cols.timestamp,
             "request_id": cols.request_id, "segments": list(cols.segments)}
    check_named_columns(schema.names(), {k: v for k, v in named.items() if v}, where)
    if champion == challenger:
        raise input_error(where, cols.version, "two different versions for champion and "
                          "challenger", champion)
    wanted = list(dict.fromkeys(c for c in (cols.version, cols.target, cols.score,
                                            cols.prediction, cols.timestamp, cols.request_id,
                                            *cols.segments) if c))
    declared: set[str] = set()
    dtype = schema[cols.version]
    if isinstance(dtype, pl.Enum):
        declared = set(dtype.categories.to_list())
    try:
        frame = (lf.select(wanted)
                 .with_columns(pl.col(cols.version).cast(pl.String))
                 .filter(pl.col(cols.version).is_in([champion, challenger])).collect())
        found = (lf.select(pl.col(cols.version).cast(pl.String).unique().sort())
                 .collect().to_series().drop_nulls().to_list())
    except InputError:
        raise
    except Exception as exc:  # a file that scans but cannot be read (polars raises many kinds)
        raise InputError(f"{where}: expected a readable table: {type(exc).__name__}: "
                         f"{str(exc).splitlines()[0][:200]}", file=where) from exc
    counts = dict(zip(*np.unique(frame[cols.version].to_numpy(), return_counts=True),
                      strict=True)) if frame.height else {}
    for role, version in (("champion", champion), ("challenger", challenger)):
        if version not in found and version not in declared:
            raise input_error(where, cols.version, f"the {role} version {version!r} among the "
                              f"versions in the logs ({', '.join(map(str, found[:12])) or 'none'})")
        if not counts.get(version):
            raise input_error(where, cols.version, f"rows for the {role} version {version!r}",
                              "no rows")
    _check_types(frame, cols, where)
    return frame, where


def _check_types(frame: pl.DataFrame, cols: _Columns, where: str) -> None:
    if cols.score and not frame.schema[cols.score].is_numeric():
        raise input_error(where, cols.score, "a numeric score column",
                          str(frame.schema[cols.score]))
    if cols.target:
        t = frame[cols.target]
        if t.dtype == pl.Boolean:
            return
        if not t.dtype.is_numeric():
            raise input_error(where, cols.target, "a binary label column (0/1 or true/false)",
                              str(t.dtype))
        bad = t.drop_nulls().filter(~t.drop_nulls().is_in([0, 1]))
        if bad.len():
            raise input_error(where, cols.target, "binary labels 0 or 1 (null while unknown)",
                              bad[0])
    if cols.timestamp and not frame.schema[cols.timestamp].is_temporal():
        raise input_error(where, cols.timestamp, "a date or date-time column",
                          str(frame.schema[cols.timestamp]))


def _positive_expr(frame: pl.DataFrame, column: str, positive: str) -> pl.Expr:
    dtype = frame.schema[column]
    col = pl.col(column)
    if dtype == pl.Boolean:
        hit = col == (positive.strip().lower() in ("1", "true", "yes"))
    elif dtype.is_numeric():
        try:
            hit = col == float(positive)
        except ValueError as exc:
            raise input_error("positive", None, f"a number, as {column} is numeric",
                              positive) from exc
    else:
        hit = col.cast(pl.String) == positive
    return pl.when(col.is_null()).then(None).otherwise(hit.cast(pl.Float64))


def _day_expr(column: str) -> pl.Expr:
    return (pl.col(column).cast(pl.Date) - pl.lit(EPOCH)).dt.total_days().cast(pl.Int64)


def _float(frame: pl.DataFrame, column: str | None) -> np.ndarray | None:
    if not column:
        return None
    return frame[column].cast(pl.Float64).fill_null(float("nan")).to_numpy()


@dataclass(frozen=True)
class _Data:
    """Numpy columns. Canary: one row per logged request, ``chal`` marks the challenger's.
    Shadow: one row per request scored by both, ``a_*`` the champion, ``b_*`` the challenger."""

    mode: str
    day: np.ndarray
    seg: Mapping[str, np.ndarray]
    label: np.ndarray | None
    chal: np.ndarray | None = None
    score: np.ndarray | None = None
    pos: np.ndarray | None = None
    a_score: np.ndarray | None = None
    b_score: np.ndarray | None = None
    a_pos: np.ndarray | None = None
    b_pos: np.ndarray | None = None


def _canary(frame: pl.DataFrame, cols: _Columns, challenger: str, positive: str) -> _Data:
    if cols.score:  # every later selection stays sorted: each look's AUC sorts in linear time
        frame = frame.sort(cols.score, nulls_last=True, maintain_order=True)
    out = frame.with_columns(
        (pl.col(cols.version) == challenger).alias("__chal"),
        (_day_expr(cols.timestamp) if cols.timestamp else pl.lit(0, pl.Int64)).alias("__day"),
        *([_positive_expr(frame, cols.prediction, positive).alias("__pos")]
          if cols.prediction else []))
    if cols.timestamp:
        out = out.filter(pl.col("__day").is_not_null())
    return _Data("canary", out["__day"].to_numpy(), _segment_arrays(out, cols.segments),
                 _float(out, cols.target), chal=out["__chal"].to_numpy(),
                 score=_float(out, cols.score),
                 pos=out["__pos"].to_numpy() if cols.prediction else None)


def _shadow(frame: pl.DataFrame, cols: _Columns, champion: str, challenger: str,
            positive: str, where: str) -> tuple[_Data, dict[str, Any]]:
    rid = cols.request_id
    assert rid is not None
    dup = frame.group_by(rid, cols.version).len().filter(pl.col("len") > 1)
    if dup.height:
        raise input_error(where, rid, f"one row per request and version (request "
                          f"{dup[rid][0]!r} has {dup['len'][0]} rows for {dup[cols.version][0]})")
    extra = [_positive_expr(frame, cols.prediction, positive).alias("__pos")] \
        if cols.prediction else []
    base = frame.with_columns(*extra)
    keep = [c for c in (cols.score, "__pos" if cols.prediction else None) if c]
    a = base.filter(pl.col(cols.version) == champion)
    b = base.filter(pl.col(cols.version) == challenger).select(
        rid, *[pl.col(c).alias(f"{c}__b") for c in keep])
    joined = a.join(b, on=rid, how="inner")
    if joined.height == 0:
        raise input_error(where, rid, f"request ids scored by both {champion} and {challenger} "
                          "(a shadow log joins the two on the request id)",
                          f"none of {a.height:,} {champion} and {b.height:,} {challenger} "
                          "requests join")
    info = {"requests_joined": joined.height,
            "champion_unmatched": a.height - joined.height,
            "challenger_unmatched": b.height - joined.height}
    joined = joined.with_columns(
        (_day_expr(cols.timestamp) if cols.timestamp else pl.lit(0, pl.Int64)).alias("__day"))
    if cols.timestamp:
        joined = joined.filter(pl.col("__day").is_not_null())
    data = _Data("shadow", joined["__day"].to_numpy(), _segment_arrays(joined, cols.segments),
                 _float(joined, cols.target),
                 a_score=_float(joined, cols.score),
                 b_score=_float(joined, f"{cols.score}__b" if cols.score else None),
                 a_pos=_float(joined, "__pos" if cols.prediction else None),
                 b_pos=_float(joined, "__pos__b" if cols.prediction else None))
    return data, info


def _segment_arrays(frame: pl.DataFrame, segments: Sequence[str]) -> dict[str, np.ndarray]:
    return {s: frame[s].cast(pl.String).fill_null("(missing)").to_numpy() for s in segments}


@dataclass(frozen=True)
class _Slis:
    chal: np.ndarray
    day: np.ndarray
    requests: np.ndarray
    errors: np.ndarray
    p95: np.ndarray


def _read_slis(source: Source, champion: str, challenger: str) -> _Slis:
    lf, where = _lazy(source)
    if where == "logs":
        where = "slis"
    io.require_columns(lf, SLI_COLUMNS, where)
    frame = (lf.select(list(SLI_COLUMNS)).with_columns(pl.col("version").cast(pl.String))
             .filter(pl.col("version").is_in([champion, challenger])).collect())
    for version in (champion, challenger):
        if not (frame["version"] == version).any():
            raise input_error(where, "version", f"SLI rows for version {version!r}", "none")
    if not frame.schema["timestamp"].is_temporal():
        raise input_error(where, "timestamp", "a date-time column", str(frame.schema["timestamp"]))
    for c in ("requests", "errors", "latency_p95_ms"):
        if not frame.schema[c].is_numeric():
            raise input_error(where, c, "a numeric column", str(frame.schema[c]))
    if (frame["errors"] > frame["requests"]).any():
        raise input_error(where, "errors", "at most the requests of the same row",
                          "more errors than requests")
    frame = frame.with_columns(_day_expr("timestamp").alias("__day")).drop_nulls(
        ["__day", "requests", "errors"])
    return _Slis((frame["version"] == challenger).to_numpy(), frame["__day"].to_numpy(),
                 frame["requests"].cast(pl.Float64).to_numpy(),
                 frame["errors"].cast(pl.Float64).to_numpy(),
                 frame["latency_p95_ms"].cast(pl.Float64).fill_null(float("nan")).to_numpy())

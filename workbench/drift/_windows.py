"""Drift per time window of the current data, against the whole reference.

The windows are read in the same pass as the whole-period current summaries: while a
batch of current columns is in memory, one grouped polars pass sorts each window's values
(or counts its categories); when every row falls in a window, the whole-period sorted
values of a numerical column are the merge of its windows' sorted runs (a stable numpy
sort of the concatenated runs, which merges them) instead of a second sort. Each window is
then tested against the reference summary already built, stepping over the window's own
values only (see ``_stats._wasserstein_against``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import numpy as np
import polars as pl

from workbench.drift import _stats
from workbench.drift._model import ColumnDrift, WindowDrift
from workbench.drift._stats import NUMERICAL, Summary
from workbench.drift._summary import counted, finite, map_columns
from workbench.errors import InputError, input_error

TimeUnit = Literal["ns", "us", "ms"]

_WINDOW = re.compile(r"^\s*(\d+)\s*(h|d|w)\s*$")


def parse_window(window: str) -> tuple[timedelta, str]:
    """'day', 'week', or N h/d/w -> (length, unit the first window is aligned to)."""
    text = window.strip().lower()
    text = {"day": "1d", "daily": "1d", "week": "1w", "weekly": "1w", "hour": "1h"}.get(text, text)
    m = _WINDOW.match(text)
    if not m or int(m.group(1)) == 0:
        raise ValueError(f"expected a window like day, week, 3d, 12h or 2w, got {window!r}")
    n, unit = int(m.group(1)), m.group(2)
    length = {"h": timedelta(hours=n), "d": timedelta(days=n), "w": timedelta(weeks=n)}[unit]
    return length, unit


def window_bounds(lf: pl.LazyFrame, timestamp: str, window: str) -> list[tuple[datetime, datetime]]:
    """Consecutive [start, end) windows covering the current data's timestamps."""
    length, unit = parse_window(window)
    col = pl.col(timestamp)
    lo, hi = lf.select(col.min().alias("lo"), col.max().alias("hi")).collect().row(0)
    if lo is None:
        return []
    if not isinstance(lo, datetime):  # a Date column
        lo = datetime(lo.year, lo.month, lo.day)
        hi = datetime(hi.year, hi.month, hi.day)
    start = lo.replace(minute=0, second=0, microsecond=0)
    if unit in ("d", "w"):
        start = start.replace(hour=0)
    if unit == "w":
        start -= timedelta(days=start.weekday())
    bounds = []
    while start <= hi:
        bounds.append((start, start + length))
        start += length
    return bounds



@dataclass(frozen=True)
class WindowPlan:
    """The windows of the current data and the window of each current row."""

    bounds: list[tuple[datetime, datetime]]
    index: pl.Series  # Int32, null for a row outside every window (or without a time)

    @property
    def complete(self) -> bool:
        """Every current row is in a window: the windows together are the whole period."""
        return self.index.null_count() == 0


def plan_windows(lf: pl.LazyFrame, name: str, timestamp: str, window: str) -> WindowPlan | None:
    """The windows of ``lf`` by ``timestamp`` (None when it has no time at all)."""
    schema = lf.collect_schema()
    if timestamp not in schema.names():
        raise input_error(name, timestamp, "a timestamp column")
    dtype = schema[timestamp]
    if not (dtype.is_temporal() and dtype != pl.Time):
        raise input_error(name, timestamp, "a date or datetime column", str(dtype))
    try:
        bounds = window_bounds(lf, timestamp, window)
    except ValueError as exc:
        raise InputError(f"window: {exc}", field="window") from exc
    if not bounds:
        return None
    return WindowPlan(bounds, _window_index(lf, timestamp, dtype, bounds))


def _window_index(
    lf: pl.LazyFrame,
    timestamp: str,
    dtype: pl.DataType,
    bounds: Sequence[tuple[datetime, datetime]],
) -> pl.Series:
    """The window of each current row (null outside every window), by one sorted search.

    Window starts are wall-clock times in the column's time zone, so a day is 23 or 25
    hours across a daylight-saving change, as the bounds say.
    """
    ts = pl.col(timestamp)
    tz = getattr(dtype, "time_zone", None)
    unit: TimeUnit = getattr(dtype, "time_unit", None) or "us"
    if dtype == pl.Date:
        ts = ts.cast(pl.Datetime("us"))
    starts = pl.Series("s", [b[0].replace(tzinfo=None) for b in bounds], pl.Datetime(unit))
    last = pl.Series("e", [bounds[-1][1].replace(tzinfo=None)], pl.Datetime(unit))
    if tz:
        starts = starts.dt.replace_time_zone(tz)
        last = last.dt.replace_time_zone(tz)
    stamps = lf.select(ts.alias("t")).collect()["t"]
    idx = starts.search_sorted(stamps.fill_null(starts[0]), side="right").cast(pl.Int32) - 1
    outside = stamps.is_null() | (stamps >= last[0]) | (idx < 0)
    return pl.select(pl.when(outside).then(None).otherwise(idx)).to_series().alias("\0window")


def window_summaries(
    df: pl.DataFrame, plan: WindowPlan, types: Mapping[str, str]
) -> tuple[dict[str, list[Summary | None]], dict[str, Summary]]:
    """(each column's Summary in each window, whole-period Summaries merged from them).

    ``df`` holds current columns (all rows, in order); one grouped polars pass sorts or
    counts each column per window. The whole-period Summary of a numerical column is
    returned only when the windows cover every row; it equals :func:`summarize`'s.
    """
    key = plan.index.name
    exprs: list[pl.Expr] = []
    for c, t in types.items():
        if t == NUMERICAL:
            exprs.append(finite(c).sort().alias(c))
            exprs.append(pl.col(c).null_count().alias(f"{c}\0nulls"))
        else:
            exprs.append(counted(c, df.schema[c]).alias(c))
    frame = df.select(list(types)).with_columns(plan.index)
    if not plan.complete:  # rows outside every window (or without a time): left out
        frame = frame.filter(pl.col(key).is_not_null())
    got = frame.group_by(key).agg(exprs)
    del frame
    n = len(plan.bounds)
    out: dict[str, list[Summary | None]] = {c: [None] * n for c in types}
    whole: dict[str, Summary] = {}
    positions = got[key].to_list()  # one entry per window, not per value
    for c, t in types.items():
        if t == NUMERICAL:
            integer = df.schema[c].is_integer()
            nulls = got[f"{c}\0nulls"].to_list()
            runs = got[c].explode().to_numpy()  # the windows' sorted runs, one after another
            ends = np.cumsum(got[c].list.len().to_numpy())
            for row, w in enumerate(positions):
                start = int(ends[row - 1]) if row else 0
                out[c][w] = Summary.from_sorted(runs[start : int(ends[row])],
                                                integer and not nulls[row])
            if plan.complete:
                whole[c] = Summary.from_sorted(np.sort(runs, kind="stable"),
                                               integer and not sum(nulls))
        else:
            for row, w in enumerate(positions):
                out[c][w] = Summary.from_value_counts(got[c][row].struct.unnest())
    return out, whole


def test_windows(
    plan: WindowPlan,
    found: Mapping[str, list[Summary | None]],
    ref_sum: Mapping[str, Summary],
    types: Mapping[str, str],
    results: Sequence[ColumnDrift],
    mode: str,
) -> list[WindowDrift]:
    """Each compared column in each window, with the column's method and threshold."""
    by_col = {r.column: r for r in results}

    def one(c: str) -> list[_stats.Outcome | None]:
        r = by_col[c]
        out = [
            None
            if s is None or s.n == 0
            else _stats.evaluate(s, ref_sum[c], types[c], r.method, r.threshold, mode, True)
            for s in found[c]
        ]
        ref_sum[c].drop_rows()  # 32 bytes per reference value, not kept for every column
        return out

    rows = int(plan.index.len() - plan.index.null_count())
    size = sum(ref_sum[c].nunique for c in by_col) + rows * len(by_col)
    tested = dict(zip(by_col, map_columns(one, list(by_col), size), strict=True))
    out: list[WindowDrift] = []
    for i, (start, end) in enumerate(plan.bounds):
        for c in by_col:
            o, s = tested[c][i], found[c][i]
            if o is None or s is None:
                out.append(WindowDrift(start, end, c, None, False, 0))
                continue
            out.append(WindowDrift(start, end, c, o.statistic, o.drifted, s.n,
                                   _stats.severity(o.method, o.statistic, o.threshold)))
    return out

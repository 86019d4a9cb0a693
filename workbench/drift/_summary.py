"""The summary step: each column of one side reduced to a :class:`Summary` by polars.

This is the seam between reading data and testing it: :func:`summarize` takes a
LazyFrame and the columns' types and returns one Summary per column (sorted distinct
values and their counts for a numerical column, value counts for a categorical one), after
dropping nulls, NaN and +/-inf as evidently does. Everything after it works on summaries
only, so a summary computed elsewhere (by a database engine) can be put in its place.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import polars as pl

from workbench.drift._stats import CATEGORICAL, NUMERICAL, Summary
from workbench.errors import input_error

CELLS_PER_BATCH = 10_000_000  # numeric values sorted per polars query (bounds memory: 10M x 20
# continuous columns peaked at 3.1 GB with 25M, as the sorted columns already kept add up)
# below this many distinct values in all, threads cost more than they save
PARALLEL_VALUES = 200_000


def summarize(
    lf: pl.LazyFrame, types: Mapping[str, str], rows: int | None = None
) -> dict[str, Summary]:
    """One Summary per column: polars drops null/NaN/inf and sorts or counts, numpy groups."""
    schema = lf.collect_schema()
    out: dict[str, Summary] = {}
    numeric = [c for c, t in types.items() if t == NUMERICAL]
    categorical = [c for c, t in types.items() if t == CATEGORICAL]
    if rows is None:
        rows = lf.select(pl.len()).collect().item() if numeric else 0
    for batch in batches(numeric, rows or 0):
        exprs = []
        for c in batch:
            exprs.append(finite(c).sort().implode().alias(c))
            exprs.append(pl.col(c).null_count().alias(f"{c}\0nulls"))
        got = lf.select(exprs).collect()
        for c in batch:
            values = got[c][0].to_numpy()
            integer = schema[c].is_integer() and got[f"{c}\0nulls"][0] == 0
            out[c] = Summary.from_sorted(values, integer)
        del got
    if categorical:
        got = lf.select([counted(c, schema[c]).implode().alias(c) for c in categorical]).collect()
        for c in categorical:
            out[c] = Summary.from_value_counts(got[c][0].struct.unnest())
    return out


def finite(column: str) -> pl.Expr:
    """A numerical column as Float64 without nulls, NaN and +/-inf (what is compared)."""
    x = pl.col(column).cast(pl.Float64)
    return x.filter(x.is_finite())


def counted(column: str, dtype: pl.DataType) -> pl.Expr:
    """Value counts of a categorical column as a struct {v, n}, missing values dropped.

    The column is renamed before counting: ``value_counts`` names its struct fields after
    the column and the count, so a data column called ``n`` (or ``count``) would clash.
    """
    x = pl.col(column)
    if dtype.is_float():
        x = x.filter(x.is_finite())
    if isinstance(dtype, pl.Categorical | pl.Enum):
        x = x.cast(pl.String)  # sorted by text, as the categories' names compare
    return x.drop_nulls().alias("v").value_counts(name="n")


def batches(columns: Sequence[str], rows: int) -> Iterator[list[str]]:
    """``columns`` a few at a time, so that a batch holds about CELLS_PER_BATCH cells."""
    per_batch = max(1, CELLS_PER_BATCH // max(rows, 1))
    for i in range(0, len(columns), per_batch):
        yield list(columns[i : i + per_batch])


def column_batches(
    lf: pl.LazyFrame, columns: Sequence[str], name: str
) -> Iterator[pl.DataFrame]:
    """The columns in memory a few at a time: one read of the file per batch, bounded size.

    A side with no rows is refused: there is nothing to compare, and an empty current set
    must not read as "no drift".
    """
    if not columns:
        return
    rows = lf.select(pl.len()).collect().item()
    if rows == 0:
        raise input_error(name, "rows", "at least one row to compare", 0)
    for batch in batches(columns, rows):
        yield lf.select(batch).collect()


def map_columns(fn: Callable[[str], Any], columns: Sequence[str], size: int) -> list[Any]:
    """``[fn(c) for c in columns]``, on a thread per core when ``size`` values are at stake.

    numpy releases the GIL in the sorts, running sums and gathers the statistics are made
    of, so columns run side by side (benchmarks/drift.py).
    """
    workers = min(len(columns), os.cpu_count() or 1)
    if size < PARALLEL_VALUES or workers < 2:
        return [fn(c) for c in columns]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, columns))

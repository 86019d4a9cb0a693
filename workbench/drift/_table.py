"""Drift on a database table: per-column summaries computed in the engine, only they come back.

:func:`table_frame` asks the engine, per column, for what drift needs and rebuilds from it a
polars frame with the same values per column, which :func:`workbench.drift.compute` then
reads as it reads a file (the hook: nothing else in the drift code knows about databases):

* one query for the row count and each column's distinct count;
* categorical columns (text, booleans) and numerical columns with at most ``exact_limit``
  distinct values: ``GROUP BY`` value counts (nulls counted as a group). The rebuilt column
  holds exactly the table's values: every statistic equals the file path's (the sort that
  drift does first makes the order of rows irrelevant); ``tests/unit/test_drift_table.py``
  checks this to 1e-9 against Parquet on PostgreSQL and DuckDB;
* numerical columns with more distinct values: a bounded quantile summary, ``quantiles``
  (default 10,000) values of the finite ones, the middle value of each of ``quantiles``
  equal rank buckets, each standing for its bucket's rows, plus the counts of nulls and of
  non-finite values. Its measured effect on each statistic (1M and 10M rows a side) is in
  ``benchmarks/drift_table.py`` and in the README.

Columns are rebuilt independently, so rows are not kept together: per-window drift (which
needs each row's timestamp) is refused for a table, as is anything that reads rows. The
frame is held in memory on this side (one value per table row and compared column), like
the columns drift reads from a file; what crosses the network is the summaries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
import sqlglot
from sqlglot import exp

from workbench.errors import InputError
from workbench.sources import Connection, Source, connect, from_url, is_url, server_source
from workbench.sources._types import polars_dtype

EXACT_LIMIT = 100_000
QUANTILES = 10_000


def resolve(text: str, contract: Any = None, schema: str | None = None) -> Source | None:
    """A table named on the command line, or None for a file:
    ``postgresql://host:port/db#[schema.]table``, ``duckdb:///file.duckdb#table``, or
    ``server:NAME[#table]`` for a server of ``contract``, a contract loaded by
    ``workbench.contracts.load_contract`` (the table defaults to the schema object's
    ``physicalName``, else its name). The area reads no contract file itself: areas do not
    import each other."""
    text = str(text)
    if text.startswith("server:"):
        if contract is None:
            raise InputError(f"{text}: expected --contract CONTRACT to look the server up in",
                             field="--contract")
        if not hasattr(contract, "odcs"):
            raise InputError(f"{text}: expected a loaded contract to look the server up in "
                             f"(workbench.contracts.load_contract), got {type(contract).__name__}",
                             field="contract")
        c = contract
        name, _, table = text.removeprefix("server:").partition("#")
        server = next((s for s in c.odcs.servers or [] if name in {s.server, s.id}), None)
        if server is None:
            raise InputError(f"{c.path}: servers: expected a server named {name!r}",
                             file=c.path, field="servers")
        obj = c.schema(schema)
        source = server_source(server, c.path)
        return source.with_table(table or obj.physicalName or obj.name)
    if is_url(text):
        url, _, table = text.partition("#")
        if not table:
            raise InputError(f"{url.split('@')[-1]}: expected the table after '#' "
                             "(URL#schema.table)", field="table")
        return from_url(url, table)
    return None


def table_input(data: Any, contract: Any = None, schema: str | None = None,
                columns: Sequence[str] | None = None, require: Sequence[str] = ()) -> Any:
    """``data`` unchanged when it is a file or frame; a database table named as
    :func:`resolve` reads it, rebuilt from engine-side summaries (:func:`table_frame`)."""
    if not isinstance(data, str):
        return data
    source = resolve(data, contract, schema)
    return data if source is None else table_frame(source, columns, require=require)


def table_frame(source: Source, columns: Sequence[str] | None = None, *,
                require: Sequence[str] = (), exact_limit: int = EXACT_LIMIT,
                quantiles: int = QUANTILES, stats: dict[str, Any] | None = None
                ) -> pl.DataFrame:
    """The table's columns rebuilt from engine-side summaries (see the module).

    ``columns`` (default: every one) and ``require`` (columns named elsewhere: predictions,
    labels, key features) must be in the table: otherwise an InputError names the server,
    the table and every missing column before anything is summarised (exit 2; a file
    instead lists a column missing on one side as not compared). ``stats`` (optional dict)
    receives ``bytes_returned``, ``queries`` and ``summarised`` (the columns given as a
    quantile summary rather than exactly)."""
    if not source.table:
        raise InputError(f"{source.label}: expected a table", field="table")
    with connect(source) as con:
        types = con.require_columns(source.table, source.schema,
                                    [*(columns or ()), *require], "named for drift")
        wanted = list(dict.fromkeys([*columns, *require])) if columns else list(types)
        dtypes = {c: polars_dtype(types[c], con.dialect) for c in wanted}
        comparable = [c for c in wanted if _kind(dtypes[c]) is not None]
        table = exp.table_(source.table, db=source.schema, quoted=True)
        n_rows, distinct = _distinct(con, table, comparable)
        out: dict[str, pl.Series] = {}
        summarised = []
        for c in comparable:
            if _kind(dtypes[c]) == "numerical" and distinct[c] > exact_limit:
                out[c] = _quantile_column(con, table, c, dtypes[c], n_rows, quantiles)
                summarised.append(c)
            else:
                out[c] = _exact_column(con, table, c, dtypes[c])
        if stats is not None:
            stats.update(bytes_returned=con.bytes_returned, queries=con.queries,
                         summarised=summarised)
    if not out:
        return pl.DataFrame()
    return pl.DataFrame(out)


def _kind(dtype: pl.DataType) -> str | None:
    if dtype.is_numeric():
        return "numerical"
    if dtype in (pl.String, pl.Boolean):
        return "categorical"
    return None  # dates, binary, ... are not compared by drift


def _distinct(con: Connection, table: exp.Table, columns: list[str]
              ) -> tuple[int, dict[str, int]]:
    aggs = [exp.alias_(exp.Count(this=exp.Star()), "n")]
    aggs += [exp.alias_(exp.Count(this=exp.Distinct(expressions=[
        exp.column(c, quoted=True)])), f"d{i}") for i, c in enumerate(columns)]
    _, rows = con.fetch(exp.select(*aggs).from_(table).sql(con.dialect))
    row = rows[0]
    return int(row[0]), {c: int(row[i + 1]) for i, c in enumerate(columns)}


def _exact_column(con: Connection, table: exp.Table, column: str,
                  dtype: pl.DataType) -> pl.Series:
    c = exp.column(column, quoted=True)
    query = (exp.select(exp.alias_(c, "v"), exp.alias_(exp.Count(this=exp.Star()), "k"))
             .from_(table).group_by(c))
    _, rows = con.fetch(query.sql(con.dialect))
    values = [_plain(r[0]) for r in rows]
    counts = [int(r[1]) for r in rows]
    return _repeat(column, values, counts, dtype)


def _quantile_column(con: Connection, table: exp.Table, column: str, dtype: pl.DataType,
                     n_rows: int, quantiles: int) -> pl.Series:
    """``quantiles`` discrete quantiles of the finite values, each for its share of rows,
    plus the nulls and non-finite values as they are (counted).

    One sort in the engine: the finite values are ranked (``ROW_NUMBER``), rank ``r`` of
    ``m`` falls in bucket ``floor(r * K / m)``, and the row at the middle of each bucket
    comes back (DuckDB's list ``QUANTILE_DISC`` was measured at 202 s for 10,000 quantiles of
    300k rows, against one sort here)."""
    k = int(quantiles)
    finite = (f'"{column}" IS NOT NULL AND CAST("{column}" AS DOUBLE) NOT IN '
              "('NaN'::DOUBLE, 'Infinity'::DOUBLE, '-Infinity'::DOUBLE)")
    bucket = f"FLOOR(CAST(r AS DOUBLE) * {k} / CAST(m AS DOUBLE))"
    # written once in DuckDB's dialect; sqlglot writes it for the engine
    query = (f'SELECT v, r, m FROM (SELECT CAST("{column}" AS DOUBLE) AS v, '
             f'ROW_NUMBER() OVER (ORDER BY "{column}") - 1 AS r, COUNT(*) OVER () AS m '
             f"FROM {table.sql('duckdb')} WHERE {finite}) AS s "
             f"WHERE r = CAST(FLOOR(({bucket} + 0.5) * CAST(m AS DOUBLE) / {k}) AS BIGINT) "
             "ORDER BY r")
    sql = sqlglot.transpile(query, read="duckdb", write=con.dialect)[0]
    _, rows = con.fetch(sql)
    rest = (exp.select(exp.alias_(exp.column(column, quoted=True), "v"),
                       exp.alias_(exp.Count(this=exp.Star()), "k")).from_(table)
            .where(sqlglot.parse_one(f"NOT ({finite})", read="duckdb"))
            .group_by(exp.column(column, quoted=True)))
    _, others = con.fetch(rest.sql(con.dialect))
    values: list[Any] = []
    counts: list[int] = []
    if rows:
        m = int(rows[0][2])
        b = np.array([int(r) * k // m for _, r, _ in rows], dtype=np.int64)
        # bucket b holds the ranks r with b <= r * K / m < b + 1
        counts += (-(-(b + 1) * m // k) - -(-b * m // k)).tolist()
        values += [float(v) for v, _, _ in rows]
    for v, n in others:
        values.append(None if v is None else float(v))
        counts.append(int(n))
    series = _repeat(column, values, counts, pl.Float64())
    if dtype.is_integer():
        return series.round(0).cast(dtype, strict=False)
    return series


def _repeat(name: str, values: list[Any], counts: list[int], dtype: pl.DataType) -> pl.Series:
    base = pl.Series(name, values, dtype=dtype if not isinstance(dtype, pl.Decimal)
                     else pl.Float64, strict=False)
    if not len(base):
        return base
    return base.gather(np.repeat(np.arange(len(base)), counts))


def _plain(value: Any) -> Any:
    if hasattr(value, "as_integer_ratio") and not isinstance(value, int | float):
        return float(value)  # Decimal
    return value


__all__ = ["EXACT_LIMIT", "QUANTILES", "resolve", "table_frame", "table_input"]

"""Which library writes the push-down SQL: sqlglot (chosen) or ibis, measured.

    .venv/bin/python benchmarks/pushdown_library.py              # 1M rows
    .venv/bin/python benchmarks/pushdown_library.py --rows 200000

The 18 checks of ``benchmarks/contracts.py``'s contract as one aggregate query, written
(1) by workbench's push-down compiler (sqlglot expressions, ``workbench.contracts._pushdown``)
and (2) as the same counts in ibis (an unbound ``ibis.table``, ``ibis.to_sql``), for
PostgreSQL and DuckDB. Printed: import time of each library (fresh process), time to build
and compile the query (mean of 50), and the query's time on a 1M-row table in DuckDB
(in-process) and in a throwaway PostgreSQL server (best of 3). Both must return the same
counts; the query time is the engine's, so it only shows that neither writes slower SQL.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))


def import_seconds(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 check=True).stdout) for _ in range(3)]
    return min(runs)


def sqlglot_compiler(contract_path: Path):
    """The contract loaded and its checks compiled once (as for ibis, where the expression
    below is written by hand): what is timed is building the SQL expressions and writing
    them in the dialect."""
    import polars as pl
    from sqlglot import exp

    from workbench.contracts import load_contract
    from workbench.contracts._compile import compile_schema
    from workbench.contracts._pushdown import _count_if, _Rules

    c = load_contract(contract_path)
    obj = c.schema()
    schema = pl.Schema({"id": pl.String, "ts": pl.Datetime("us", "UTC"), "amount": pl.Float64,
                        "category": pl.String, "score": pl.Float64, "count": pl.Int64})
    defs = compile_schema(c, obj, schema)

    def query(dialect: str) -> str:
        rules = _Rules(obj, schema, dialect)
        aggs = [exp.alias_(exp.Count(this=exp.Star()), "n")]
        for i, d in enumerate(defs):
            if d.kind == "row":
                aggs.append(exp.alias_(_count_if(rules.predicate(d)), f"c{i}"))
        return exp.select(*aggs).from_(exp.table_("events", quoted=True)).sql(dialect)

    return query


def ibis_query(dialect: str) -> str:
    import ibis

    t = ibis.table({"id": "string", "ts": "timestamp('UTC')", "amount": "float64",
                    "category": "string", "score": "float64", "count": "int64"}, name="events")

    def n(cond):
        return cond.ifelse(1, 0).sum()

    expr = t.aggregate(
        n=t.count(), id_null=n(t.id.isnull()),
        id_pat=n(t.id.notnull() & ~t.id.re_search("^A[0-9]{9}$")),
        ts_null=n(t.ts.isnull()), amount_null=n(t.amount.isnull()),
        amount_min=n((t.amount < 0).fill_null(False)),
        amount_max=n((t.amount > 5000).fill_null(False)),
        cat_null=n(t.category.isnull()),
        cat_bad=n(t.category.notnull() & ~t.category.isin(["web", "mobile", "branch",
                                                           "broker"]).fill_null(False)),
        score_min=n((t.score < 0).fill_null(False)), score_max=n((t.score > 1).fill_null(False)),
        score_null=n(t.score.isnull()), count_null=n(t["count"].isnull()),
        count_min=n((t["count"] < 0).fill_null(False)),
        count_max=n((t["count"] > 100).fill_null(False)),
        count_missing=n(t["count"].isnull() | t["count"].isin([-1]).fill_null(False)),
    )
    return ibis.to_sql(expr, dialect=dialect)


def mean_seconds(fn, runs: int = 50) -> float:
    fn()  # warm
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.mean(times)


def best_of(fn, runs: int = 3) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()

    import _postgres
    import duckdb
    import psycopg
    from contracts import write_contract
    from pushdown import load_postgres

    print(f"import: sqlglot {import_seconds('sqlglot'):.2f} s, ibis "
          f"{import_seconds('ibis'):.2f} s (fresh process, best of 3)")
    server = _postgres.start()
    try:
        with tempfile.TemporaryDirectory(prefix="wb-bench-lib-") as tmp:
            data, contract = Path(tmp) / "events.parquet", Path(tmp) / "c.yaml"
            subprocess.run([sys.executable, str(HERE / "contracts.py"), "--write",
                            str(args.rows), str(data)], check=True)
            write_contract(contract, data)
            with server.connect() as con:
                load_postgres(con, data)
            dcon = duckdb.connect()
            dcon.execute(f"CREATE TABLE events AS SELECT * FROM read_parquet('{data}')")
            print(f"{args.rows:,} rows; compile = build the expression and write the SQL "
                  "(mean of 50); query = best of 3")
            print(f"{'library':<9}{'engine':<10}{'compile ms':>11}{'query s':>9}")
            ours = sqlglot_compiler(contract)
            for dialect in ("duckdb", "postgres"):
                for lib, make in (("sqlglot", lambda d=dialect: ours(d)),
                                  ("ibis", lambda d=dialect: ibis_query(d))):
                    compile_s = mean_seconds(make)
                    sql = make()
                    if dialect == "duckdb":
                        secs, rows = best_of(lambda s=sql: dcon.execute(s).fetchall())
                    else:
                        with psycopg.connect(host=server.host, port=server.port,
                                             user=server.user, password=server.password,
                                             dbname=server.database) as pcon:
                            secs, rows = best_of(lambda s=sql, c=pcon: c.execute(s).fetchall())
                    print(f"{lib:<9}{dialect:<10}{compile_s * 1000:>11.2f}{secs:>9.3f}"
                          f"   counts {sorted(int(v or 0) for v in rows[0])[-3:]}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()

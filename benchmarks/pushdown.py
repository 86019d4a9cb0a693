"""Contract checks pushed down to PostgreSQL (and DuckDB), beside datacontract-cli on the same
server and beside reading the table into polars and checking it there.

    .venv/bin/python benchmarks/pushdown.py                  # 10M rows x 6 columns
    .venv/bin/python benchmarks/pushdown.py --rows 1000000   # smaller
    .venv/bin/python benchmarks/pushdown.py --defects        # data that breaks some checks
    .venv/bin/python benchmarks/pushdown.py --one-run        # each tool once, bytes counted
                                                             # in that same run

The data and contract are ``benchmarks/contracts.py``'s (6 columns: a high-cardinality text
key, timestamps, a skewed continuous amount, a category, a continuous score with nulls, a
small integer; 18 data checks). A throwaway PostgreSQL server of Debian's packages is started
as the tests start theirs (``tests/_postgres.py``), or ``--url postgresql://...`` names one;
the table is loaded with COPY and analysed; a DuckDB database file holds the same table.

Each tool runs in its own process (peak RSS from ``os.wait4``; CPU is the process's user +
system time, the server's own CPU is not in it). "bytes back" is every byte the server sent
the tool (protocol included), counted by a small TCP relay between the tool and the server in
one more run of each PostgreSQL tool (times come from the runs without the relay); "payload"
is what workbench counted itself (the values of every row returned) or the CSV that COPY sent.

``--one-run`` runs each tool once, the PostgreSQL ones through the relay, so times, peak
memory and bytes back come from one invocation (the relay is a local TCP hop in this
process; its CPU is not in the tools' figures).

Measured 2026-12-02 16:23-16:31 UTC, ``--rows 10000000 --one-run``, a passing run, load
average 7-8 (README section "Checks where the data lives"):

    tool                                  wall s  CPU s  peak MB  bytes back     queries
    workbench push-down (postgres)         75.95   0.19    414          1,436       3
    workbench push-down (duckdb)           22.36   6.39    870    (in process)      3
    datacontract-cli --server (postgres)  113.09   1.98    414          2,671
    COPY to polars + workbench             70.87  24.08   1684    732,879,741       1

The same command before a key containing a duplicate-free key stopped being queried again
(load average 9-12): push-down 131.47 s (4 queries), DuckDB 42.31 s, datacontract-cli
105.10 s, COPY to polars 90.86 s.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _child  # benchmarks/_child.py: this script's folder is on sys.path
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")
# a statement may run 15 minutes here (default 60 s): 10M rows on a loaded 2-core machine
os.environ.setdefault("WORKBENCH_SQL_SECONDS", "900")


class Relay:
    """A TCP relay to ``(host, port)`` on a free local port, counting the bytes the server
    sends back (``received``)."""

    def __init__(self, host: str, port: int) -> None:
        import socket
        import threading

        self.target, self.received = (host, port), 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        import socket
        import threading

        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            threading.Thread(target=self._pipe, args=(client, upstream, False),
                             daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, True),
                             daemon=True).start()

    def _pipe(self, src, dst, count: bool) -> None:
        try:
            while data := src.recv(1 << 20):
                if count:
                    with self._lock:
                        self.received += len(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(2)
                except OSError:
                    pass

    def close(self) -> None:
        self._listener.close()


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _timed(fn):
    cpu, t = _cpu(), time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t, _cpu() - cpu, None


# --- what each subprocess runs -------------------------------------------------------------

def run_pushdown(contract: str, server: str) -> dict:
    from workbench.contracts import check_server, load_contract

    c = load_contract(contract)
    stats: dict = {}
    r, wall, cpu, read = _timed(lambda: check_server(c, server, stats=stats))
    return {"seconds": wall, "cpu": cpu, "read": read, "payload": stats["bytes_returned"],
            "queries": stats["queries"], "failed": sorted(x.id for x in r.failed),
            "checks": len(r.checks)}


def run_datacontract(contract: str, server: str) -> dict:
    from datacontract.data_contract import DataContract

    dc = DataContract(data_contract_file=contract, server=server)
    run, wall, cpu, read = _timed(dc.test)
    failed = sorted(c.key for c in run.checks if c.result.value in {"failed", "error"})
    return {"seconds": wall, "cpu": cpu, "read": read, "payload": None, "queries": None,
            "failed": failed, "checks": len(run.checks), "result": str(run.result)}


def run_polars(contract: str, server: str) -> dict:
    """COPY the whole table out as CSV, read it with polars, check it with workbench."""
    import polars as pl
    import psycopg

    from workbench.contracts import check, load_contract

    doc = yaml.safe_load(Path(contract).read_text())
    srv = next(s for s in doc["servers"] if s["server"] == server)
    c = load_contract(contract)

    def go():
        buf = io.BytesIO()
        with psycopg.connect(host=srv["host"], port=srv["port"], dbname=srv["database"],
                             user=os.environ["DATACONTRACT_POSTGRES_USERNAME"],
                             password=os.environ["DATACONTRACT_POSTGRES_PASSWORD"]) as con:
            with con.cursor().copy("COPY events TO STDOUT WITH (FORMAT csv, HEADER)") as cp:
                for chunk in cp:
                    buf.write(chunk)
        size = buf.tell()
        buf.seek(0)
        frame = pl.read_csv(buf, schema_overrides={"ts": pl.Datetime("us", "UTC")})
        return check(c, frame, schema="events"), size

    (r, size), wall, cpu, read = _timed(go)
    return {"seconds": wall, "cpu": cpu, "read": read, "payload": size, "queries": 1,
            "failed": sorted(x.id for x in r.failed), "checks": len(r.checks)}


RUNNERS = {"workbench push-down (postgres)": (run_pushdown, "pg"),
           "workbench push-down (duckdb)": (run_pushdown, "duck"),
           "datacontract-cli --server (postgres)": (run_datacontract, "pg"),
           "COPY to polars + workbench": (run_polars, "pg")}


def measure(tool: str, contract: Path, env: dict) -> dict:
    return _child.measure(__file__, tool, str(contract), env=env)


# --- loading ----------------------------------------------------------------------------------

def load_postgres(con, parquet: Path, chunk: int = 1_000_000) -> None:
    import polars as pl

    con.execute("DROP TABLE IF EXISTS events")
    con.execute('CREATE TABLE events (id text, ts timestamptz, amount double precision, '
                'category text, score double precision, "count" bigint)')
    lf = pl.scan_parquet(parquet)
    rows = lf.select(pl.len()).collect().item()
    for start in range(0, rows, chunk):
        part = lf.slice(start, chunk).collect()
        data = part.write_csv(include_header=False, datetime_format="%Y-%m-%d %H:%M:%S%.f%z")
        with con.cursor().copy("COPY events FROM STDIN WITH (FORMAT csv)") as cp:
            cp.write(data.encode())
    con.execute("ANALYZE events")


def load_postgres_frame(con, table: str, frame, chunk: int = 1_000_000) -> None:
    """A polars frame as a new table (types from the frame), loaded with COPY ... CSV."""
    sys.path.insert(0, str(HERE.parent / "tests"))
    from _postgres import pg_type

    cols = ", ".join(f'"{n}" {pg_type(t)}' for n, t in frame.schema.items())
    con.execute(f'DROP TABLE IF EXISTS "{table}"')
    con.execute(f'CREATE TABLE "{table}" ({cols})')
    for start in range(0, frame.height, chunk):
        data = frame.slice(start, chunk).write_csv(include_header=False)
        with con.cursor().copy(f'COPY "{table}" FROM STDIN WITH (FORMAT csv)') as cp:
            cp.write(data.encode())
    con.execute(f'ANALYZE "{table}"')


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--defects", action="store_true", help="data that breaks some checks")
    ap.add_argument("--url", help="an existing PostgreSQL server (postgresql://user:pw@host:"
                                  "port/db); default: start a throwaway one")
    ap.add_argument("--tools", default=",".join(RUNNERS))
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--one-run", action="store_true",
                    help="each tool once, PostgreSQL tools through the byte-counting relay: "
                         "time, memory and bytes back from the same run of each tool")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        tool, contract = args.child
        fn, server = RUNNERS[tool]
        print(json.dumps(fn(contract, server)))
        return

    import _postgres
    import duckdb
    import psycopg
    from contracts import write_contract

    server = None
    if args.url:
        from urllib.parse import urlsplit
        u = urlsplit(args.url)
        pg = {"host": u.hostname, "port": u.port or 5432, "database": u.path.lstrip("/")}
        env = {"DATACONTRACT_POSTGRES_USERNAME": u.username or "",
               "DATACONTRACT_POSTGRES_PASSWORD": u.password or ""}
    else:
        server = _postgres.start()
        pg = {"host": server.host, "port": server.port, "database": server.database}
        env = {"DATACONTRACT_POSTGRES_USERNAME": server.user,
               "DATACONTRACT_POSTGRES_PASSWORD": server.password}
    try:
        with tempfile.TemporaryDirectory(prefix="wb-bench-pushdown-") as tmp:
            data, contract = Path(tmp) / "events.parquet", Path(tmp) / "c.yaml"
            t = time.perf_counter()
            subprocess.run([sys.executable, str(HERE / "contracts.py"), "--write",
                            str(args.rows), str(data)]
                           + ([] if args.defects else ["--clean"]), check=True)
            with psycopg.connect(host=pg["host"], port=pg["port"], dbname=pg["database"],
                                 user=env["DATACONTRACT_POSTGRES_USERNAME"],
                                 password=env["DATACONTRACT_POSTGRES_PASSWORD"],
                                 autocommit=True) as con:
                load_postgres(con, data)
            duck = Path(tmp) / "events.duckdb"
            with duckdb.connect(str(duck)) as dcon:
                dcon.execute(f"CREATE TABLE events AS SELECT * FROM read_parquet('{data}')")
            write_contract(contract, data)
            doc = yaml.safe_load(contract.read_text())
            doc["servers"] += [{"server": "pg", "type": "postgres", **pg, "schema": "public"},
                               {"server": "duck", "type": "duckdb", "database": str(duck)}]
            contract.write_text(yaml.safe_dump(doc, sort_keys=False))
            print(f"{args.rows:,} rows loaded into PostgreSQL and DuckDB in "
                  f"{time.perf_counter() - t:.0f} s; load average {os.getloadavg()[0]:.1f}")
            relay = Relay(pg["host"], pg["port"])
            relayed = contract.with_name("relayed.yaml")
            doc["servers"][-2].update(host="127.0.0.1", port=relay.port)
            relayed.write_text(yaml.safe_dump(doc, sort_keys=False))
            results = []
            for tool in args.tools.split(","):
                if args.one_run:
                    through = relayed if RUNNERS[tool][1] == "pg" else contract
                    before = relay.received
                    run = measure(tool, through, env)
                    if RUNNERS[tool][1] == "pg" and "error" not in run:
                        run["read"] = relay.received - before
                    results.append(run)
                    print(f"  {tool}: {run.get('seconds', 0):.1f} s", flush=True)
                    continue
                runs = [measure(tool, contract, env) for _ in range(args.repeat)]
                ok = [r for r in runs if "error" not in r] or runs
                best = min(ok, key=lambda r: r.get("seconds", 0))
                best["peak_rss_mb"] = max(r.get("peak_rss_mb", 0) for r in ok)
                best["read"] = None
                if RUNNERS[tool][1] == "pg" and "error" not in best:
                    before = relay.received
                    measure(tool, relayed, env)
                    best["read"] = relay.received - before
                results.append(best)
            relay.close()
            report(args.rows, results, args.defects, args.one_run)
    finally:
        if server is not None:
            server.stop()


def report(rows: int, results: list[dict], defects: bool, one_run: bool = False) -> None:
    how = ("one run of each tool (PostgreSQL tools through the relay)" if one_run
           else "fastest of the runs, largest peak RSS")
    print(f"\n{rows:,} rows x 6 columns, 18 data checks, "
          f"{'data with defects' if defects else 'a passing run'}; {how}; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'tool':<38}{'wall s':>8}{'CPU s':>8}{'peak MB':>9}{'payload B':>13}"
          f"{'bytes back':>14}{'queries':>8}{'failed':>7}")
    for r in results:
        if "error" in r:
            print(f"{r['tool']:<38}  error: {r['error'][:100]}")
            continue
        payload = "" if r["payload"] is None else f"{r['payload']:,}"
        queries = "" if r["queries"] is None else str(r["queries"])
        back = "" if r["read"] is None else f"{r['read']:,}"
        print(f"{r['tool']:<38}{r['seconds']:>8.2f}{r['cpu']:>8.2f}{r['peak_rss_mb']:>9.0f}"
              f"{payload:>13}{back:>14}{queries:>8}{len(r['failed']):>7}")


if __name__ == "__main__":
    main()

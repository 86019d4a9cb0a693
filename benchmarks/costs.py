"""Cost-to-value at scale: 10M FOCUS line items summarised, workbench against DuckDB.

Target (issue 5): 10M line items summarised in <= 3 s with <= 2 GB peak memory.

    .venv/bin/python benchmarks/costs.py [--rows 10000000] [--repeat 3] [--data DIR]

The ledger is written by the demo generator (``workbench.sample.costs.generate(out, rows)``:
hourly items over the 90-day scenario, one Parquet file) into a temporary directory unless
``--data`` names one that already holds it. Each measured run is a fresh subprocess, so its
peak RSS (``VmHWM``, imports included) is its own; wall time (and process CPU time) covers
reading the Parquet
file and the whole analysis (``costs.compute`` + ``metrics``), not the imports.

The peer is DuckDB running the same first pass in SQL (group the line items by day, service,
currency, category and tags, then pull model and stage out of the JSON tags and sum per day,
model and stage): it covers less than workbench does (no split by usage, no budgets, no
anomalies), so it is a lower bound for a SQL approach. Timings on a shared 2-core machine are
noisy: the script prints every run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS, TARGET_MB = 3.0, 2048

_DUCKDB_SQL = """
WITH g AS (
  SELECT CAST(ChargePeriodStart AS DATE) AS day, ServiceName, BillingCurrency, ChargeCategory,
         Tags, SUM(EffectiveCost) AS cost, COUNT(*) AS items
  FROM read_parquet('{path}') GROUP BY ALL)
SELECT day, json_extract_string(Tags, '$.model') AS model,
       json_extract_string(Tags, '$.stage') AS stage, SUM(cost) AS cost, SUM(items) AS items
FROM g GROUP BY ALL
"""


def _peak_mb(resource) -> float:
    """Peak RSS of this process: VmHWM (reset by exec, unlike ru_maxrss, which keeps the
    parent's high-water mark across fork + exec), else ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu(resource) -> float:
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def _child(tool: str, folder: Path) -> None:
    import resource

    ledger = folder / "focus_costs.parquet"
    cpu0 = _cpu(resource)
    if tool == "workbench":
        from workbench import costs

        start = time.perf_counter()
        result = costs.compute(ledger, folder / "usage.csv", folder / "value.csv",
                               folder / "budgets.csv")
        metrics = result.metrics
        seconds = time.perf_counter() - start
        items, total = result.line_items, metrics["total_cost"]
    else:
        import duckdb

        start = time.perf_counter()
        con = duckdb.connect()
        out = con.execute(_DUCKDB_SQL.format(path=str(ledger).replace("'", "''"))).fetchall()
        seconds = time.perf_counter() - start
        items, total = sum(r[4] for r in out), None
    peak_mb = _peak_mb(resource)
    print(json.dumps({"tool": tool, "seconds": seconds, "cpu_seconds": _cpu(resource) - cpu0,
                      "peak_mb": peak_mb, "items": items,
                      "month_total_cost": total}))


def _run(tool: str, folder: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", tool, "--data", str(folder)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--data", type=Path, default=None, help="folder holding focus_costs.parquet")
    ap.add_argument("--child", choices=["workbench", "duckdb"], default=None)
    args = ap.parse_args()
    if args.child:
        _child(args.child, args.data)
        return

    with tempfile.TemporaryDirectory(prefix="wb-costs-bench-") as tmp:
        folder = args.data
        if folder is None or not (folder / "focus_costs.parquet").exists():
            from workbench.sample import costs as sample_costs

            out = Path(tmp) if folder is None else folder.parent
            start = time.perf_counter()
            sample_costs.generate(out, rows=args.rows)
            folder = out / "costs"
            size = (folder / "focus_costs.parquet").stat().st_size / 1e6
            print(f"generated {args.rows:,} line items ({size:.0f} MB Parquet) in "
                  f"{time.perf_counter() - start:.1f} s")
        rows = {tool: [_run(tool, folder) for _ in range(args.repeat)]
                for tool in ("workbench", "duckdb")}

    load = os.getloadavg()[0]
    print(f"\n{'tool':<10} {'line items':>12} {'wall s per run':<24} {'median s':>9} "
          f"{'cpu s':>6} {'peak MB':>8}")
    for tool, runs in rows.items():
        secs = [r["seconds"] for r in runs]
        print(f"{tool:<10} {runs[0]['items']:>12,} {', '.join(f'{s:.2f}' for s in secs):<24} "
              f"{statistics.median(secs):>9.2f} "
              f"{statistics.median(r['cpu_seconds'] for r in runs):>6.2f} "
              f"{max(r['peak_mb'] for r in runs):>8.0f}")
    wb = rows["workbench"]
    med, peak = statistics.median(r["seconds"] for r in wb), max(r["peak_mb"] for r in wb)
    verdict = "meets" if med <= TARGET_SECONDS and peak <= TARGET_MB else "MISSES"
    print(f"\nworkbench {verdict} the target ({TARGET_SECONDS:.0f} s, {TARGET_MB} MB): "
          f"median {med:.2f} s, peak {peak:.0f} MB (shared {os.cpu_count()}-core machine, "
          f"load average {load:.1f}: wall time is noisy, cpu s is the steadier figure)")


if __name__ == "__main__":
    main()

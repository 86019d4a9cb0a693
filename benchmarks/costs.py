"""Cost-to-value on FOCUS exports, CSV and Parquet, 50k to 10M line items, beside DuckDB.

Targets (issue 16): 50k rows of CSV in <= 1 s; 10M rows of CSV within 1.5x of DuckDB's time
to group the same file; Parquet as before (about 1.75 s for 10M demo line items, issue 5's
target 3 s and 2 GB).

    .venv/bin/python benchmarks/costs.py --rows 50000 --formats parquet --repeat 5 \
        --baseline /tmp/wb-old      # git archive e98f422 workbench | tar -x -C /tmp/wb-old

times an earlier version's package on the demo ledger too, interleaved with this one, and
prints the CPU ratio. Measured that way (the code before the FOCUS work as baseline, demo
10M Parquet, 5 runs each, load 5.7): before this round's changes 1.58 s of CPU against the
baseline's 1.39 s (1.13x, at load 4.8; 1.4-1.5 s against 1.0-1.4 s in earlier runs); after
them 1.65 s against 1.62 s (1.02x, load 5.7; DuckDB 5.31 s wall) and 1.83 s against 1.65 s
(1.11x, load 4.9) in a second run. The residue is reading ChargeCategory and
ChargePeriodEnd, which the baseline never read (see workbench/costs/_compute.py).

    .venv/bin/python benchmarks/costs.py [--rows 50000,1000000,10000000] [--repeat 3]
        [--formats csv,parquet] [--data DIR] [--demo-rows 10000000]

Ledgers: ``focus-data-toolkit`` (a dev dependency) writes a provider-realistic FOCUS 1.3 AWS
Cost and Usage file (65 columns) of up to 50,000 rows; larger sizes repeat those rows (the
columns, types and value shapes are the generator's; only the row count grows). Each size
is written as CSV and as Parquet. The demo generator's ledger (``workbench.sample.costs``,
14 columns, one Parquet file) is measured too, as before. Files are kept in ``--data`` (a
temporary folder by default) so a second run skips generation.

Each measured run is a fresh subprocess, so its peak RSS (``VmHWM``, imports included) is its
own; wall time covers reading the file and the whole analysis (``costs.compute`` +
``metrics``), not the imports. The peer is DuckDB reading the same file and grouping it
by day, service, category, currency and tags (AllocatedTags where set), the first pass of
the analysis and a lower bound for a SQL approach (no proration, allocation, budgets or
anomalies). The shared 2-core machine is noisy: the script prints every run, the load
average, and the ratio of the medians measured in the same run.
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

BASE_ROWS = 50_000
_DUCKDB_SQL = """
SELECT CAST(ChargePeriodStart AS DATE) AS day, ServiceName, ChargeCategory, BillingCurrency,
       {tags} AS tags, SUM(EffectiveCost) AS cost, COUNT(*) AS items
FROM {reader}('{path}') GROUP BY ALL
"""


def _peak_mb(resource) -> float:
    """Peak RSS of this process: VmHWM (reset by exec, unlike ru_maxrss), else ru_maxrss."""
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


def _side_files(folder: Path) -> Path:
    """Usage, value and budgets for the toolkit ledgers (May 2026); tiny, so not timed apart."""
    paths = {k: folder / f"{k}.csv" for k in ("usage", "value", "budgets")}
    if not paths["usage"].exists():
        days = [f"2026-05-{d:02d}" for d in range(1, 32)]
        paths["usage"].write_text("date,model,version,predictions\n" + "".join(
            f"{d},m,v1,1000\n" for d in days))
        paths["value"].write_text("date,model,value\n" + "".join(f"{d},m,10\n" for d in days))
        paths["budgets"].write_text("model,month,budget\nm,2026-05,1000\n")
    return folder


def _child(tool: str, ledger: Path, side: Path) -> None:
    import resource

    cpu0 = _cpu(resource)
    if tool == "workbench":
        from workbench import costs

        start = time.perf_counter()
        result = costs.compute(ledger, side / "usage.csv", side / "value.csv",
                               side / "budgets.csv")
        total = result.metrics["total_cost"]
        seconds = time.perf_counter() - start
        items = result.line_items
    else:
        import duckdb

        start = time.perf_counter()
        con = duckdb.connect()
        reader = "read_parquet" if ledger.suffix == ".parquet" else "read_csv"
        cols = {r[0] for r in con.execute(
            f"DESCRIBE SELECT * FROM {reader}('{ledger}')").fetchall()}
        tags = "COALESCE(AllocatedTags, Tags)" if "AllocatedTags" in cols else "Tags"
        out = con.execute(_DUCKDB_SQL.format(reader=reader, path=str(ledger).replace("'", "''"),
                                             tags=tags)).fetchall()
        seconds = time.perf_counter() - start
        items, total = sum(r[6] for r in out), None
    print(json.dumps({"tool": tool, "seconds": seconds, "cpu_seconds": _cpu(resource) - cpu0,
                      "peak_mb": _peak_mb(resource), "items": items,
                      "month_total_cost": total}))


def _run(tool: str, ledger: Path, side: Path, baseline: Path | None = None) -> dict:
    # the baseline is the same workbench code path from an earlier checkout's package
    env = {**os.environ, "PYTHONPATH": str(baseline)} if tool == "baseline" else None
    out = subprocess.run([sys.executable, __file__, "--child",
                          "workbench" if tool == "baseline" else tool, "--ledger", str(ledger),
                          "--side", str(side)], check=True, capture_output=True, text=True,
                         env=env, cwd=baseline if tool == "baseline" else None)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _toolkit_base(folder: Path) -> Path:
    base = folder / "toolkit" / "focus_1_3_cost_and_usage_aws.csv"
    if not base.exists():
        start = time.perf_counter()
        subprocess.run([str(Path(sys.executable).with_name("focus-toolkit")), "generate",
                        "--provider", "aws", "--focus-version", "1.3", "--rows",
                        str(BASE_ROWS), "--seed", "16", "--out", str(base.parent)],
                       check=True, capture_output=True)
        print(f"focus-data-toolkit wrote {BASE_ROWS:,} rows in "
              f"{time.perf_counter() - start:.1f} s")
    return base


def _ledger(folder: Path, rows: int, fmt: str) -> Path:
    """The toolkit's rows repeated up to ``rows``, as CSV or Parquet (types from the spec)."""
    import polars as pl

    path = folder / f"focus_{rows}.{fmt}"
    if path.exists():
        return path
    base = _toolkit_base(folder)
    decimals = {"BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ListUnitPrice",
                "ContractedUnitPrice", "PricingQuantity", "ConsumedQuantity",
                "CommitmentDiscountQuantity", "PricingCurrencyContractedUnitPrice",
                "PricingCurrencyEffectiveCost", "PricingCurrencyListUnitPrice"}
    frame = pl.read_csv(base, infer_schema=False)
    frame = frame.with_columns(pl.col(c).cast(pl.Float64) for c in decimals if c in frame.columns)
    reps = -(-rows // frame.height)
    lf = pl.concat([frame.lazy()] * reps).head(rows)
    start = time.perf_counter()
    tmp = path.with_suffix(".tmp")
    if fmt == "csv":
        lf.sink_csv(tmp)
    else:
        lf.sink_parquet(tmp)
    tmp.rename(path)
    print(f"wrote {rows:,} rows as {fmt} ({path.stat().st_size / 1e6:,.0f} MB) in "
          f"{time.perf_counter() - start:.1f} s")
    return path


def _demo(folder: Path, rows: int) -> Path:
    out = folder / f"demo_{rows}"
    ledger = out / "costs" / "focus_costs.parquet"
    if not ledger.exists():
        from workbench.sample import costs as sample_costs

        start = time.perf_counter()
        sample_costs.generate(out, rows=rows)
        print(f"demo generator wrote {rows:,} line items in {time.perf_counter() - start:.1f} s")
    return ledger


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="50000,1000000,10000000")
    ap.add_argument("--formats", default="csv,parquet")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--demo-rows", type=int, default=10_000_000,
                    help="rows of the demo generator's Parquet ledger (0: skip)")
    ap.add_argument("--data", type=Path, default=None, help="folder to keep generated files in")
    ap.add_argument("--baseline", type=Path, default=None,
                    help="a folder holding an earlier version's workbench package (e.g. from "
                         "git archive): timed on the demo ledger beside this one, same run")
    ap.add_argument("--child", choices=["workbench", "duckdb"], default=None)
    ap.add_argument("--ledger", type=Path)
    ap.add_argument("--side", type=Path)
    args = ap.parse_args()
    if args.child:
        _child(args.child, args.ledger, args.side)
        return

    with tempfile.TemporaryDirectory(prefix="wb-costs-bench-") as tmp:
        folder = args.data or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        cases = [(f"toolkit {fmt}", int(n), _ledger(folder, int(n), fmt), _side_files(folder))
                 for n in args.rows.split(",") for fmt in args.formats.split(",")]
        if args.demo_rows:
            demo = _demo(folder, args.demo_rows)
            cases.append(("demo parquet", args.demo_rows, demo, demo.parent))
        results = []
        for label, n, ledger, side in cases:
            tools = ["workbench", "duckdb"]
            if args.baseline and label == "demo parquet":
                tools.insert(1, "baseline")
            runs: dict[str, list[dict]] = {t: [] for t in tools}
            for _ in range(args.repeat):    # interleaved, so load changes hit each alike
                for tool in tools:
                    runs[tool].append(_run(tool, ledger, side, args.baseline))
            results.append((label, n, runs, os.getloadavg()[0]))
            _report([results[-1]])
    print("\nsummary")
    _report(results)


def _report(results: list) -> None:
    print(f"{'ledger':<16} {'rows':>11} {'tool':<10} {'wall s per run':<24} {'median':>7} "
          f"{'cpu s':>6} {'peak MB':>8} {'wb/duckdb':>9} {'load':>5}")
    for label, n, runs, load in results:
        med = {t: statistics.median(r["seconds"] for r in rs) for t, rs in runs.items()}
        for tool, rs in runs.items():
            secs = [r["seconds"] for r in rs]
            ratio = f"{med[tool] / med['duckdb']:.2f}" if tool != "duckdb" else ""
            print(f"{label:<16} {n:>11,} {tool:<10} {', '.join(f'{s:.2f}' for s in secs):<24} "
                  f"{med[tool]:>7.2f} {statistics.median(r['cpu_seconds'] for r in rs):>6.2f} "
                  f"{max(r['peak_mb'] for r in rs):>8.0f} {ratio:>9} {load:>5.1f}")
        if "baseline" in runs:
            cpu = {t: statistics.median(r["cpu_seconds"] for r in runs[t])
                   for t in ("workbench", "baseline")}
            print(f"{label}: CPU {cpu['workbench']:.2f} s against the baseline's "
                  f"{cpu['baseline']:.2f} s ({cpu['workbench'] / cpu['baseline']:.2f}x), "
                  f"same run")
    print(f"(shared {os.cpu_count()}-core machine; load = 1-minute load average after the case)")


if __name__ == "__main__":
    main()

"""Contract checks: workbench vs datacontract-cli (and a hand-written fused polars select).

    .venv/bin/python benchmarks/contracts.py                 # 10M rows x 6 columns
    .venv/bin/python benchmarks/contracts.py --rows 1000000  # smaller
    .venv/bin/python benchmarks/contracts.py --big           # also 100M rows, streamed

Synthetic Parquet data (seeded, with a few injected defects) is written to a temporary
directory by a separate process; the contract has 18 data checks over 6 columns (plus
workbench's presence and type checks, which read only the Parquet schema). Each tool runs
in its own subprocess; peak RSS comes from ``os.wait4`` on that process, and "check" time
is the check call alone (imports excluded), "process" time the whole subprocess. The data
is written by yet another process because Linux keeps a process's peak RSS across
``exec``: children of the process that generated 10M rows reported its 1.4 GB as their
own floor, which inflated every figure measured before 2026-11-28. pandera is not
installed in this environment, so it is not measured (the issue quotes 7.5 s / 1.76 GB
for its polars backend). Figures are noisy: compare the ratios of one run.

"polars select" is the hand-written fused select the issue's baseline describes, counting
distinct keys with ``n_unique`` (which on this data, with a string key, takes 5 s and
2 GB); "polars select (hashed)" counts distinct 64-bit hashes instead (faster, not exact).

Measured 2026-11-28, idle machine (load average below 1), fastest of 3 runs, largest peak:

    10M rows, with defects     check s  peak RSS
    workbench                    1.50     612 MB   (targets: 1.6 s, 1 GB)
    datacontract-cli 1.2.8       9.33    1781 MB   (6.2x the time, 2.9x the memory)
    polars select                5.27    1973 MB
    polars select (hashed)       2.77    1180 MB
    100M rows, workbench        14.46    2633 MB   (one bit per row and check, one 8-byte
                                                    key hash and timestamp per row)

Before the single-pass engine (2026-11-27, same data, idle): workbench 2.81 s, 1402 MB
(the peak partly inherited, see above); 100M rows 111 s and 7.1 GB under load.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _child  # benchmarks/_child.py: this script's folder is on sys.path
import yaml

CHECKS = 18


def write_data(path: Path, rows: int, seed: int = 7, chunk: int = 10_000_000,
               defects: bool = True) -> None:
    """``rows`` rows in row groups of at most ``chunk`` (bounded memory for 100M)."""
    import numpy as np
    import polars as pl
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    writer = None
    start = 0
    while start < rows:
        n = min(chunk, rows - start)
        ids = np.arange(start, start + n)
        frame = pl.DataFrame({
            "id": ids,
            "ts": np.datetime64("2026-01-01T00:00:00", "us") + (ids * 3_000_000).astype("m8[us]"),
            "amount": rng.gamma(2.0, 50.0, n).round(2),
            "category": rng.choice(np.array(["web", "mobile", "branch", "broker"]), n),
            "score": rng.random(n),
            "count": rng.integers(0, 20, n),
        }).with_columns(
            id=pl.format("A{}", pl.col("id").cast(pl.String).str.zfill(9)),
            ts=pl.col("ts").dt.replace_time_zone("UTC"),
            # defects: a few negative amounts, unknown categories, null scores, duplicates
            amount=pl.when(pl.col("count") == 19).then(-pl.col("amount")).otherwise("amount")
            .head(n),
        )
        bad = rng.random(n) if defects else np.full(n, 0.5)
        if not defects:
            frame = frame.with_columns(amount=pl.col("amount").abs())
        frame = frame.with_columns(
            category=pl.when(pl.Series(bad < 0.001)).then(pl.lit("BROKER"))
            .otherwise("category"),
            score=pl.when(pl.Series(bad > 0.999)).then(None).otherwise("score"),
        )
        if start == 0 and defects:
            frame = frame.with_columns(id=pl.when(pl.int_range(n) == 1).then(pl.lit("A000000000"))
                                       .otherwise("id"))
        table = frame.to_arrow()
        if writer is None:
            writer = pq.ParquetWriter(str(path), table.schema, compression="zstd")
        writer.write_table(table, row_group_size=1_000_000)
        start += n
        if rows > chunk:
            print(f"  generated {start:,} rows", flush=True)
    writer.close()


def write_contract(path: Path, data: Path) -> None:
    doc = {
        "apiVersion": "v3.1.0", "kind": "DataContract", "id": "urn:bench:events",
        "version": "1.0.0", "status": "active",
        "servers": [{"server": "local", "type": "local", "format": "parquet",
                     "path": str(data)}],
        "schema": [{"name": "events", "properties": [
            {"name": "id", "logicalType": "string", "required": True, "unique": True,
             "logicalTypeOptions": {"pattern": "^A[0-9]{9}$"}},                        # 3
            {"name": "ts", "logicalType": "timestamp", "required": True},             # 1
            {"name": "amount", "logicalType": "number", "required": True,
             "logicalTypeOptions": {"minimum": 0, "maximum": 5000}},                  # 3
            {"name": "category", "logicalType": "string", "required": True,
             "quality": [{"metric": "invalidValues", "mustBe": 0, "arguments": {
                 "validValues": ["web", "mobile", "branch", "broker"]}}]},            # 2
            {"name": "score", "logicalType": "number",
             "logicalTypeOptions": {"minimum": 0, "maximum": 1},
             "quality": [{"metric": "nullValues", "mustBeLessThan": 1, "unit": "percent"}]},  # 3
            {"name": "count", "logicalType": "integer", "required": True,
             "logicalTypeOptions": {"minimum": 0, "maximum": 100},
             "quality": [{"metric": "missingValues", "mustBe": 0,
                          "arguments": {"missingValues": [-1]}}]},                     # 4
        ], "quality": [
            {"metric": "rowCount", "mustBeGreaterThan": 0},                             # 1
            {"metric": "duplicateValues", "arguments": {"properties": ["id", "ts"]},
             "mustBe": 0, "severity": "warning"},                                       # 1
        ]}],
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


# --- what each subprocess runs -------------------------------------------------------

def run_workbench(contract: str) -> dict:
    from workbench.contracts import check, load_contract

    c = load_contract(contract)
    t = time.perf_counter()
    r = check(c)
    elapsed = time.perf_counter() - t
    data_checks = [x for x in r.checks if x.rule not in {"present", "logicalType"}]
    return {"seconds": elapsed, "checks": len(data_checks),
            "failed": sorted(x.id for x in r.failed)}


def run_datacontract(contract: str) -> dict:
    from datacontract.data_contract import DataContract

    dc = DataContract(data_contract_file=contract, server="local")
    t = time.perf_counter()
    run = dc.test()
    elapsed = time.perf_counter() - t
    evaluated = [c for c in run.checks if not (c.result.value == "warning"
                                               and "not supported" in str(c.reason))
                 and c.type != "field_is_present"]
    return {"seconds": elapsed, "checks": len(evaluated),
            "failed": sorted(c.key for c in run.checks if c.result.value in {"failed", "warning"}
                             and "not supported" not in str(c.reason))}


def _polars_select(contract: str, unique) -> dict:
    """The same counts as one hand-written select (the lower bound the issue quotes);
    ``unique(expr)`` counts the distinct keys."""
    import polars as pl

    data = yaml.safe_load(Path(contract).read_text())["servers"][0]["path"]
    t = time.perf_counter()
    c = pl.col
    out = pl.scan_parquet(data).select(
        rows=pl.len(), id_null=c("id").null_count(),
        id_dup=c("id").count() - unique(c("id")),
        id_pat=(~c("id").str.contains("^A[0-9]{9}$")).sum(), ts_null=c("ts").null_count(),
        amount_null=c("amount").null_count(), amount_min=(c("amount") < 0).sum(),
        amount_max=(c("amount") > 5000).sum(), cat_null=c("category").null_count(),
        cat_bad=(~c("category").is_in(["web", "mobile", "branch", "broker"])).sum(),
        score_min=(c("score") < 0).sum(), score_max=(c("score") > 1).sum(),
        score_null=c("score").null_count(), count_null=c("count").null_count(),
        count_min=(c("count") < 0).sum(), count_max=(c("count") > 100).sum(),
        count_missing=(c("count") == -1).sum(),
        pair_dup=pl.len() - unique(pl.struct("id", "ts")),
    ).collect(engine="streaming")
    return {"seconds": time.perf_counter() - t, "checks": out.width - 1, "failed": []}


def run_polars(contract: str) -> dict:
    return _polars_select(contract, lambda e: e.n_unique())


def run_polars_hashed(contract: str) -> dict:
    """Distinct 64-bit hashes instead of distinct values (not exact: collisions)."""
    return _polars_select(contract, lambda e: e.hash().n_unique())


RUNNERS = {"workbench": run_workbench, "datacontract-cli": run_datacontract,
           "polars select": run_polars, "polars select (hashed)": run_polars_hashed}


def measure(tool: str, contract: Path) -> dict:
    return _child.measure(__file__, tool, str(contract))


def report(rows: int, results: list[dict]) -> None:
    print(f"\n{rows:,} rows x 6 columns, {CHECKS} data checks, Parquet (zstd); "
          f"fastest of the runs, largest peak RSS")
    print(f"{'tool':<24}{'check s':>9}{'process s':>11}{'peak RSS MB':>13}{'checks':>8}")
    for r in results:
        if "error" in r:
            print(f"{r['tool']:<24}  error: {r['error'][:80]}")
            continue
        print(f"{r['tool']:<24}{r['seconds']:>9.2f}{r['process_seconds']:>11.2f}"
              f"{r['peak_rss_mb']:>13.0f}{r['checks']:>8}")
    ours = next((r for r in results if r["tool"] == "workbench" and "error" not in r), None)
    for r in results:
        if ours and r is not ours and "error" not in r:
            print(f"{r['tool']} / workbench: {r['seconds'] / ours['seconds']:.1f}x time, "
                  f"{r['peak_rss_mb'] / ours['peak_rss_mb']:.1f}x peak memory")
    if ours and rows == 10_000_000:
        print(f"targets at 10M rows: 1.6 s and 1 GB; workbench {ours['seconds']:.2f} s and "
              f"{ours['peak_rss_mb'] / 1024:.2f} GB")
    print("pandera: not installed in this environment (not measured)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--big", action="store_true", help="also run 100M rows (workbench only)")
    ap.add_argument("--big-rows", type=int, default=100_000_000)
    ap.add_argument("--tools", default=",".join(RUNNERS))
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs per tool; the fastest is reported (peak RSS: the largest)")
    ap.add_argument("--clean", action="store_true",
                    help="data without defects (every check passes: no samples to collect)")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--write", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.write:
        write_data(Path(args.write[1]), int(args.write[0]), defects=not args.clean)
        return
    if args.child:
        tool, contract = args.child
        print(json.dumps(RUNNERS[tool](contract)))
        return
    with tempfile.TemporaryDirectory(prefix="wb-bench-contracts-") as tmp:
        sizes = [args.rows] + ([args.big_rows] if args.big else [])
        for rows in sizes:
            data, contract = Path(tmp) / f"events_{rows}.parquet", Path(tmp) / f"c_{rows}.yaml"
            t = time.perf_counter()
            # in its own process: a child started by this one would otherwise inherit this
            # process's peak RSS as its own (Linux keeps the high-water mark across exec)
            subprocess.run([sys.executable, __file__, "--write", str(rows), str(data)]
                           + (["--clean"] if args.clean else []), check=True)
            write_contract(contract, data)
            print(f"wrote {rows:,} rows ({data.stat().st_size / 1e6:.0f} MB) in "
                  f"{time.perf_counter() - t:.0f} s")
            tools = args.tools.split(",") if rows == args.rows else ["workbench"]
            results = []
            for tool in tools:
                runs = [measure(tool, contract) for _ in range(args.repeat)]
                ok = [r for r in runs if "error" not in r] or runs
                best = min(ok, key=lambda r: r.get("seconds", 0))
                best["peak_rss_mb"] = max(r.get("peak_rss_mb", 0) for r in ok)
                results.append(best)
            report(rows, results)
            data.unlink()


if __name__ == "__main__":
    main()

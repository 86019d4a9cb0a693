"""Drift speed and memory on the kinds of data users have, beside the floor and evidently.

    .venv/bin/python benchmarks/drift.py                 # full run (about 10 min on 2 idle cores)
    .venv/bin/python benchmarks/drift.py --rows 200000 --big-rows 0 --evidently-rows 20000

Data (generated here with numpy, seeded; current N rows, reference N/2; 25 columns):

- ``continuous``: 20 real-valued columns where every value is distinct (normal, some
  shifted) + 5 string categories. The issue's target case.
- ``mixed``: integers with few values (0-6: categorical; 0-39: numerical with ties),
  long-tailed amounts (lognormal) with nulls, NaN and +/-inf, high-cardinality strings
  (N/20 distinct ids: categorical), ids with every value distinct (free text: skipped),
  and 12 continuous columns.
- ``windows``: ``continuous`` with a timestamp over 28 days, ``--window day``.
- ``big``: ``continuous`` at 10M rows, written to Parquet in 1M-row chunks (all values still
  distinct), read lazily.

The floor is polars alone reading the same files and sorting the same numerical columns
(what any exact K-S or Wasserstein needs); it runs in its own process just before ours, and
the ratio ours/floor is the figure to compare across machines. Each measurement runs in a
fresh subprocess so peak memory (VmHWM) is its own. The machine may be shared: the load
average is printed with each figure, and CPU seconds (all threads) beside wall time.

Figures measured while writing this (2 cores shared with other jobs; see the commit log for
the load averages) are in the README's drift section. On the idle machine (2026-12-02 15:34
UTC, load 0.9 to 2.6), wall / CPU: 1M continuous floor 1.37 / 2.24 s, ours 2.46 / 4.00 s
(evidently methods, 1.8x floor) and 2.36 / 3.73 s (calibrated); 28 daily windows 5.16 /
8.56 s; 1M mixed floor 1.15 s, ours 2.28 s (2.0x); 10M continuous from Parquet 29.88 / 41.1 s,
3,006 MB peak (floor 51.6 s, 2,411 MB); evidently at 100k 26x (continuous) and 38x (mixed)
ours, largest relative difference of a statistic 3.3e-12.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _child  # benchmarks/_child.py: this script's folder is on sys.path

_CHILD = _child.PREAMBLE + r"""
kind, cur, ref, mode, window = sys.argv[1:6]
import polars as pl
t0 = time.perf_counter()
out = {}
if kind == "workbench":
    from workbench.drift import compute
    t_import = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), cpu()
    kw = {"timestamp": "ts", "window": window} if window != "-" else {}
    r = compute(current=pl.scan_parquet(cur), reference=pl.scan_parquet(ref), methods=mode,
                exclude=[] if kw else ["ts"], **kw)
    out = {"drifted": r.drifted_columns, "columns": len(r.columns), "windows": len(r.windows),
           "stats": {c.column: c.statistic for c in r.columns}}
elif kind == "floor":
    t_import = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), cpu()
    n = 0
    for path in (cur, ref):
        lf = pl.scan_parquet(path)
        schema = lf.collect_schema()
        num = [c for c, t in schema.items() if t.is_numeric()]
        got = lf.select(pl.col(c).sort() for c in num).collect()
        n += got.height
        del got
    out = {"drifted": 0, "columns": len(num)}
else:
    from evidently import Report
    from evidently.presets import DataDriftPreset
    t_import = time.perf_counter() - t0
    # the timestamp and the free-text ids are not compared by workbench (evidently would
    # run its text-classifier drift on the ids): both sides compare the same columns
    c = pl.read_parquet(cur).drop("ts", "order_id", strict=False).to_pandas()
    f = pl.read_parquet(ref).drop("ts", "order_id", strict=False).to_pandas()
    t0, c0 = time.perf_counter(), cpu()
    snap = Report([DataDriftPreset()]).run(c, f)
    d = snap.dict()
    vals = {m["config"]["column"]: m["value"] for m in d["metrics"]
            if m["config"]["type"].endswith("ValueDrift")}
    cnt = [m["value"]["count"] for m in d["metrics"]
           if m["config"]["type"].endswith("DriftedColumnsCount")]
    out = {"drifted": int(cnt[0]), "columns": len(vals), "stats": vals}
""" + _child.POSTAMBLE


def run(kind: str, cur: Path, ref: Path, mode: str = "evidently", window: str = "-") -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, kind, str(cur), str(ref), mode, window],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode:
        raise SystemExit(f"{kind} run failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def frame(kind: str, rows: int, seed: int, drift: float, offset: int = 0):  # noqa: ANN201
    """One side of a scenario as a polars DataFrame (numpy-generated, seeded)."""
    from datetime import datetime, timedelta

    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    cols: dict[str, object] = {}
    n_cont = 20 if kind == "continuous" else 12
    for i in range(n_cont):
        cols[f"x{i:02d}"] = rng.normal(drift * (i % 4 == 0), 1.0 + i / 100, rows)
    if kind == "mixed":
        amount = rng.lognormal(3 + drift, 2, rows)
        amount[rng.random(rows) < 0.02] = np.inf
        amount[rng.random(rows) < 0.01] = -np.inf
        amount[rng.random(rows) < 0.03] = np.nan
        cols["amount"] = amount
        cols["fee"] = rng.pareto(1.5 + drift, rows)
        cols["small_int"] = rng.integers(0, 7, rows)  # categorical (<= 10 values)
        cols["int_40"] = rng.integers(0, 40, rows)  # numerical with ties
        cols["items"] = rng.poisson(3 + drift, rows)
        cols["customer"] = np.char.add("c", rng.integers(0, max(rows // 20, 1), rows).astype(str))
        cols["order_id"] = np.char.add("o", (np.arange(rows) + offset).astype(str))  # free text
        for j in range(6):
            cols[f"cat{j}"] = rng.choice(["a", "b", "c", "d", "e"], rows)
    else:
        for j in range(5):
            cols[f"cat{j}"] = rng.choice(["a", "b", "c", "d", "e"], rows)
    df = pl.DataFrame(cols)
    if kind == "mixed":
        df = df.with_columns(
            pl.when(pl.int_range(pl.len()) % 11 == 0).then(None).otherwise(pl.col("fee"))
            .alias("fee")
        )
    start = datetime(2026, 1, 1)
    step = timedelta(days=28) / rows
    ts = pl.datetime_range(start, start + step * (rows - 1), step, eager=True)
    return df.with_columns(ts=ts)


def make(root: Path, kind: str, rows: int, chunk: int = 1_000_000) -> tuple[Path, Path]:
    """Current (rows) and reference (rows/2) Parquet files, written in chunks."""
    import polars as pl

    out = root / f"{kind}-{rows}"
    cur, ref = out / "current.parquet", out / "reference.parquet"
    if cur.exists() and ref.exists():
        return cur, ref
    out.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    for path, n, seed, drift in ((cur, rows, 1, 0.05), (ref, rows // 2, 2, 0.0)):
        if n <= chunk:
            frame(kind, n, seed, drift).write_parquet(path)
            continue
        parts = out / f"{path.stem}-parts"
        parts.mkdir(exist_ok=True)
        for i in range(0, n, chunk):
            frame(kind, min(chunk, n - i), seed * 1000 + i // chunk, drift, i).write_parquet(
                parts / f"{i // chunk:04d}.parquet"
            )
        pl.scan_parquet(parts / "*.parquet").sink_parquet(path)
    print(f"  generated {kind}: {rows:,} + {rows // 2:,} rows in {time.perf_counter() - t:.0f} s")
    return cur, ref


def line(label: str, r: dict, floor: dict | None = None) -> str:
    ratio = f"  {r['seconds'] / floor['seconds']:4.1f}x floor" if floor else ""
    return (
        f"  {label:<44} {r['seconds']:7.2f} s wall {r['cpu_seconds']:7.2f} s cpu "
        f"peak {r['peak_mb']:6.0f} MB  load {r['load']:4.1f}  "
        f"drifted {r['drifted']}/{r['columns']}{ratio}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--evidently-rows", type=int, default=100_000)
    ap.add_argument("--big-rows", type=int, default=10_000_000, help="0 to skip")
    ap.add_argument("--data-dir", default=None, help="reuse generated data here")
    args = ap.parse_args()
    root = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="wb-drift-"))
    print(f"drift benchmark (data under {root}); load average {os.getloadavg()}")

    for kind in ("continuous", "mixed"):
        cur, ref = make(root, kind, args.rows)
        floor = run("floor", cur, ref)
        print(line(f"floor {kind} {args.rows:,} (read + sort numericals)", floor))
        for mode in ("evidently", "calibrated"):
            ours = run("workbench", cur, ref, mode)
            target = "   target: <= 3 s, <= 2x floor" if kind == "continuous" else ""
            print(line(f"workbench {kind} {args.rows:,} --methods {mode}", ours, floor) + target)
        if kind == "continuous":
            ours = run("workbench", cur, ref, "evidently", "day")
            print(line(f"workbench {kind} {args.rows:,} 28 daily windows", ours, floor)
                  + f"  ({ours['windows']} window cells)   target: <= 6 s")

    for kind in ("continuous", "mixed"):
        small = make(root, kind, args.evidently_rows)
        floor = run("floor", *small)
        ours = run("workbench", *small)
        ev = run("evidently", *small)
        print(line(f"floor {kind} {args.evidently_rows:,}", floor))
        print(line(f"workbench {kind} {args.evidently_rows:,}", ours, floor))
        print(line(f"evidently {kind} {args.evidently_rows:,}", ev, floor))
        worst = max(
            abs(ours["stats"][c] - ev["stats"][c]) / max(abs(ev["stats"][c]), 1e-300)
            for c in ours["stats"]
        )
        print(
            f"  evidently / workbench at {args.evidently_rows:,}: "
            f"{ev['seconds'] / ours['seconds']:.0f}x wall; largest relative difference of a "
            f"statistic {worst:.1e}; columns {ours['columns']} vs {ev['columns']}"
        )

    if args.big_rows:
        cur, ref = make(root, "continuous", args.big_rows)
        floor = run("floor", cur, ref)
        print(line(f"floor continuous {args.big_rows:,} (Parquet)", floor))
        big = run("workbench", cur, ref)
        print(line(f"workbench continuous {args.big_rows:,} (Parquet)", big, floor)
              + "   targets: <= 30 s, <= 3072 MB")


if __name__ == "__main__":
    main()

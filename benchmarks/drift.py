"""Drift speed and memory, side by side with evidently, in one run.

    .venv/bin/python benchmarks/drift.py                # 1M x 25, evidently at 100k, 10M ours
    .venv/bin/python benchmarks/drift.py --evidently-1m # also evidently at 1M (about 2 min)
    .venv/bin/python benchmarks/drift.py --rows 200000 --big-rows 0   # quick look

Data: the demo scenario's scoring logs at scale (``workbench.sample.scoring``: current N
rows, reference N/2), restricted to its 25 features (20 numerical, 5 categorical). The
10M-row files are the 1M-row files repeated (streamed with polars), to keep the run short.
Each measurement runs in a fresh subprocess, so peak memory (ru_maxrss) is that run's own;
the figure includes the Python interpreter and imports. Timings on a shared 2-core machine
are noisy: CPU seconds (user + system, all threads) are printed beside wall time because
they barely move with the machine's load. workbench reads Parquet lazily; evidently
needs pandas frames, so its time includes only the report, not reading the files.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from workbench.sample.scoring import CATEGORICAL_FEATURES as FEATURES_CAT
from workbench.sample.scoring import NUMERICAL_FEATURES as FEATURES_NUM

COLUMNS = [*FEATURES_NUM, *FEATURES_CAT]

_CHILD = r"""
import json, resource, sys, time, warnings
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
warnings.simplefilter("ignore")
kind, cur, ref, cols = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(",")
t0 = time.perf_counter()
if kind == "workbench":
    import polars as pl
    from workbench.drift import compute
    t_import = time.perf_counter() - t0
    times, cpus = [], []
    for _ in range(int(sys.argv[5])):           # best of N: the machine is shared and noisy
        t0, c0 = time.perf_counter(), cpu()
        r = compute(current=pl.scan_parquet(cur).select(cols),
                    reference=pl.scan_parquet(ref).select(cols),
                    methods="evidently")
        times.append(time.perf_counter() - t0)
        cpus.append(cpu() - c0)
    out = {"drifted": r.drifted_columns, "columns": len(r.columns),
           "stats": {c.column: c.statistic for c in r.columns}, "seconds": min(times),
           "first_seconds": times[0], "cpu_seconds": min(cpus)}
else:
    import polars as pl
    from evidently import Report
    from evidently.presets import DataDriftPreset
    t_import = time.perf_counter() - t0
    c = pl.scan_parquet(cur).select(cols).collect().to_pandas()
    f = pl.scan_parquet(ref).select(cols).collect().to_pandas()
    t0, c0 = time.perf_counter(), cpu()
    snap = Report([DataDriftPreset()]).run(c, f)
    d = snap.dict()
    vals = {m["config"]["column"]: m["value"] for m in d["metrics"]
            if m["config"]["type"].endswith("ValueDrift")}
    cnt = [m["value"]["count"] for m in d["metrics"]
           if m["config"]["type"].endswith("DriftedColumnsCount")]
    out = {"drifted": int(cnt[0]), "columns": len(vals), "stats": vals,
           "seconds": time.perf_counter() - t0, "cpu_seconds": cpu() - c0}
out["import_seconds"] = t_import
# VmHWM: this process's own peak RSS (ru_maxrss would carry the parent's peak across exec)
hwm = [x for x in open("/proc/self/status") if x.startswith("VmHWM")][0]
out["peak_mb"] = int(hwm.split()[1]) / 1024
print(json.dumps(out))
"""


def run(kind: str, cur: Path, ref: Path, repeat: int = 1) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, kind, str(cur), str(ref), ",".join(COLUMNS), str(repeat)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode:
        raise SystemExit(f"{kind} run failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def make_data(root: Path, rows: int, base: int | None = None) -> tuple[Path, Path]:
    """The scenario's scoring logs at ``rows``; above ``base`` rows, ``base``-row files repeated."""
    from workbench.sample import scoring

    out = root / f"rows{rows}"
    if base and rows > base and not (out / "scoring" / "current.parquet").exists():
        import polars as pl

        (out / "scoring").mkdir(parents=True, exist_ok=True)
        src_cur, src_ref = make_data(root, base)
        t = time.perf_counter()
        times = rows // base
        pl.concat([pl.scan_parquet(src_cur).select(COLUMNS)] * times).sink_parquet(
            out / "scoring" / "current.parquet"
        )
        pl.concat([pl.scan_parquet(src_ref).select(COLUMNS)] * times).sink_parquet(
            out / "scoring" / "reference.parquet"
        )
        print(
            f"  wrote {rows:,} + {rows // 2:,} rows ({times} copies of the {base:,}-row files) in "
            f"{time.perf_counter() - t:.1f} s"
        )
    if not (out / "scoring" / "current.parquet").exists():
        t = time.perf_counter()
        scoring.generate(out, rows=rows)
        print(
            f"  generated {rows:,} current + {rows // 2:,} reference rows in "
            f"{time.perf_counter() - t:.1f} s"
        )
    return out / "scoring" / "current.parquet", out / "scoring" / "reference.parquet"


def line(label: str, r: dict) -> str:
    first = f" (first {r['first_seconds']:.2f} s)" if r.get("first_seconds") else ""
    return (
        f"  {label:<34} {r['seconds']:8.2f} s wall {r['cpu_seconds']:7.2f} s cpu  "
        f"(+{r['import_seconds']:.1f} s import)  "
        f"peak {r['peak_mb']:7.0f} MB   drifted {r['drifted']}/{r['columns']}{first}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--evidently-rows", type=int, default=100_000)
    ap.add_argument("--evidently-1m", action="store_true", help="also run evidently at --rows")
    ap.add_argument("--big-rows", type=int, default=10_000_000, help="0 to skip the memory run")
    ap.add_argument("--repeat", type=int, default=3, help="workbench runs per size (best shown)")
    ap.add_argument("--data-dir", default=None, help="reuse generated data here")
    args = ap.parse_args()
    root = (
        Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="wb-drift-bench-"))
    )
    print(
        f"drift benchmark, {len(FEATURES_NUM)} numerical + {len(FEATURES_CAT)} categorical columns "
        f"(data under {root})"
    )

    cur, ref = make_data(root, args.rows)
    ours = run("workbench", cur, ref, args.repeat)
    print(line(f"workbench {args.rows:,} rows", ours))
    small = make_data(root, args.evidently_rows)
    ev_small = run("evidently", *small)
    print(line(f"evidently {args.evidently_rows:,} rows", ev_small))
    ours_small = run("workbench", *small, args.repeat)
    print(line(f"workbench {args.evidently_rows:,} rows", ours_small))
    print(
        f"  ratio at {args.evidently_rows:,} rows: evidently / workbench = "
        f"{ev_small['seconds'] / ours_small['seconds']:.0f}x"
    )
    print(
        f"  cpu ratio at {args.evidently_rows:,} rows: "
        f"{ev_small['cpu_seconds'] / ours_small['cpu_seconds']:.0f}x"
    )
    print(
        f"  evidently at {args.evidently_rows:,} rows vs workbench at {args.rows:,} rows: "
        f"{ev_small['seconds'] / ours['seconds']:.1f}x"
    )
    if args.evidently_1m:
        ev = run("evidently", cur, ref)
        print(line(f"evidently {args.rows:,} rows", ev))
        print(
            f"  ratio at {args.rows:,} rows: evidently / workbench = "
            f"{ev['seconds'] / ours['seconds']:.0f}x"
        )
        print(f"  cpu ratio at {args.rows:,} rows: {ev['cpu_seconds'] / ours['cpu_seconds']:.0f}x")
        worst = max(
            abs(ours["stats"][c] - ev["stats"][c]) / max(abs(ev["stats"][c]), 1e-300)
            for c in ev["stats"]
        )
        print(f"  largest relative difference of a statistic: {worst:.1e}")
    if args.big_rows:
        big_cur, big_ref = make_data(root, args.big_rows, base=args.rows)
        big = run("workbench", big_cur, big_ref)
        print(line(f"workbench {args.big_rows:,} rows (Parquet)", big) + "   target: <= 3072 MB")


if __name__ == "__main__":
    main()

"""Model performance speed and memory: workbench beside nannyml CBPE, a scikit-learn loop
and the floor, on the same files.

    nice .venv/bin/python benchmarks/performance.py                  # 10M ours; 1M all four
    nice .venv/bin/python benchmarks/performance.py --big-rows 0 --rows 200000

Data (numpy, seeded; written to Parquet in a temporary folder): N scored rows over 28 days
(``ts``), every score distinct (a logistic of a continuous latent, miscalibrated so that
isotonic calibration is kept), about 9% positives, labels missing for the last 10 days
(null: they arrive later), 5 segments of unequal size (``segment``), a 0/1 decision at 0.3;
the reference is N/10 rows of the 28 days before, fully labeled.

Measured, each in a fresh subprocess (peak memory = its own VmHWM):

- ``workbench``: ``performance.evaluate`` with ``window="day"`` and ``segment``: the 10
  realized metrics and the 6 CBPE estimates per daily chunk, per segment and per reference
  chunk, bands and alert ranges included (reading the files included).
- ``nannyml``: nannyml 0.13 ``CBPE`` (roc_auc, f1, precision, recall, specificity,
  accuracy), ``chunk_period="D"``, fit on the reference and estimate on the analysis (pandas
  read included; segments not included: nannyml has no per-segment estimate).
- ``sklearn``: a loop of scikit-learn metric calls (roc_auc, average_precision, log_loss,
  brier, accuracy, precision, recall, f1, specificity) over the same daily chunks and
  segments of the labeled rows: realized metrics only, no estimate.
- ``floor``: polars reading the columns an evaluation needs (analysis and reference) and
  one sort of each by score, the labels, decisions, days and segments following their
  scores: what any exact ROC AUC needs. One sort serves every grouping, since a stable
  partition of score-sorted rows by group keeps each group sorted.
- ``two-sort``: the floor as first stated: polars sorting the analysis by (day, score) and
  by (segment, score), two multi-key sorts (kept for comparison with earlier figures).

The machine may be shared: the load average is printed beside each figure, CPU seconds (all
threads) beside wall time.

Idle machine (2026-12-02 17:44 UTC, load 1.3 to 1.5): 10M rows: floor 1.82 s wall / 3.25 s
CPU, two-sort 7.20 s / 13.93 s, workbench 8.38 s / 14.14 s / 1,614 MB (target 5 s: not met;
2 GB: met). 1M rows: workbench 1.28 s / 2.00 s, scikit-learn loop 1.84 s / 1.85 s, nannyml
CBPE 5.06 s / 5.06 s; estimated ROC AUC vs nannyml max |diff| 4.55e-15.

Measured while writing this (2 cores shared, load average 6 to 7: wall times are 3 to 6
times an idle machine's and CPU seconds are inflated too; compare ratios within one run):

    10M rows (reference 1M)  floor 3.35 s CPU 1,135 MB   two-sort 15.4 s CPU 1,041 MB
                             workbench 13.4 s CPU 1,902 MB (4.0x the floor's CPU,
                             0.87x the two-sort's)
    1M rows (reference 100k) floor 0.26 s CPU   two-sort 1.04 s CPU
                             workbench 1.63 s CPU 449 MB
                             sklearn loop 1.83 s CPU (realized only, 1.1x ours)
                             nannyml CBPE 5.15 s CPU (estimates only, 3.2x ours), 560 MB
                             estimated ROC AUC per chunk vs nannyml: max |diff| 4.6e-15

Before and after the one-sort rewrite, ``performance.evaluate`` alone on the 10M-row
data, back to back at load 4.5: 19.1 s wall / 18.3 s CPU / 1,949 MB before, 10.2 s wall /
13.9 s CPU / 1,915 MB after (one sort per data set shared by every grouping, each group's
metrics on its own over two threads, the calibration fitted while the analysis is read and
applied with ``np.interp``).

The 5 s target for 10M rows is not met on this machine (2 GB is, narrowly). Where the
remaining time goes (CPU seconds, one thread at a time, load about 7): reading and checking
the analysis 1.9; the isotonic calibration's decision and fit on the 1M-row reference 2.3
(on a second thread while the analysis is read); the sort by score with its parallel
gathers 2.4 (the floor); each group's rows gathered out of score order 0.8; the metrics of
the 28 daily chunks 1.7 and of the 5 segments 2.9 (large groups fall out of cache); the
bootstrap of the reference 0.6.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import _child  # benchmarks/_child.py: this script's folder is on sys.path
import numpy as np

_CHILD = _child.PREAMBLE + r"""
kind, ana, ref = sys.argv[1:4]
import numpy as np
import polars as pl
t0 = time.perf_counter()
out = {}
if kind == "workbench":
    from workbench import performance
    t_import = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), cpu()
    r = performance.evaluate(analysis=ana, reference=ref, target="y", score="p",
                             prediction="d", timestamp="ts", window="day", segment="segment")
    out = {"chunks": len(r.analysis), "segments": len(r.evaluation.segments),
           "auc": [c.metrics["roc_auc"].estimated for c in r.analysis]}
elif kind == "nannyml":
    import nannyml as nml
    t_import = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), cpu()
    cols = ["ts", "p", "d", "y"]
    a = pl.read_parquet(ana, columns=cols).to_pandas()
    f = pl.read_parquet(ref, columns=cols).to_pandas()
    est = nml.CBPE(y_pred_proba="p", y_pred="d", y_true="y", timestamp_column_name="ts",
                   metrics=["roc_auc", "f1", "precision", "recall", "specificity", "accuracy"],
                   problem_type="classification_binary", chunk_period="D")
    est.fit(f)
    res = est.estimate(a).filter(period="analysis").to_df()
    out = {"chunks": len(res), "auc": [float(x) for x in res[("roc_auc", "value")]]}
elif kind == "sklearn":
    from sklearn import metrics as m
    t_import = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), cpu()
    df = pl.read_parquet(ana, columns=["ts", "p", "d", "y", "segment"]).drop_nulls("y")
    df = df.with_columns(pl.col("ts").dt.truncate("1d").alias("chunk"))
    n = 0
    for key in ("chunk", "segment"):
        for _, part in df.group_by(key, maintain_order=True):
            y, p, d = part["y"].to_numpy(), part["p"].to_numpy(), part["d"].to_numpy()
            if len(np.unique(y)) < 2:
                continue
            m.roc_auc_score(y, p); m.average_precision_score(y, p)
            m.log_loss(y, p, labels=[0, 1]); m.brier_score_loss(y, p)
            m.accuracy_score(y, d); m.precision_score(y, d); m.recall_score(y, d)
            m.f1_score(y, d); m.recall_score(y, d, pos_label=0)
            n += 1
    out = {"chunks": n}
elif kind == "floor":
    t_import = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), cpu()
    cols = ["ts", "p", "d", "y", "segment"]
    a = pl.read_parquet(ana, columns=cols).sort("p", descending=True)
    f = pl.read_parquet(ref, columns=["ts", "p", "d", "y"]).sort("p", descending=True)
    out = {"rows": a.height + f.height}
else:
    t_import = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), cpu()
    lf = pl.scan_parquet(ana).select("ts", "p", "segment")
    a = lf.with_columns(pl.col("ts").dt.truncate("1d").alias("chunk")).sort("chunk", "p").collect()
    b = lf.select("segment", "p").sort("segment", "p").collect()
    out = {"chunks": a["chunk"].n_unique(), "rows": a.height + b.height}
""" + _child.POSTAMBLE

SEGMENTS = np.array(["web", "mobile", "branch", "broker", "partner"])


def run(kind: str, ana: Path, ref: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", _CHILD, kind, str(ana), str(ref)],
                          capture_output=True, text=True, check=False)
    if proc.returncode:
        raise SystemExit(f"{kind} run failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def make(root: Path, rows: int) -> tuple[Path, Path]:
    import polars as pl

    def side(n: int, seed: int, start_day: int, unlabeled_days: int):
        rng = np.random.default_rng(seed)
        latent = rng.normal(-2.6, 1.3, n)
        p = 1 / (1 + np.exp(-(0.8 * latent - 0.4)))  # miscalibrated: calibration is kept
        y = (rng.random(n) < 1 / (1 + np.exp(-latent))).astype(np.float64)
        ts = np.sort(rng.integers(0, 28 * 86_400_000_000, n)) + (
            1_790_000_000_000_000 + start_day * 86_400_000_000)
        day = (ts - ts.min()) // 86_400_000_000
        y[day >= 28 - unlabeled_days] = np.nan
        seg = SEGMENTS[rng.choice(5, n, p=[0.45, 0.3, 0.12, 0.08, 0.05])]
        return pl.DataFrame({
            "ts": pl.Series(ts).cast(pl.Datetime("us", "UTC")), "p": p,
            "d": (p >= 0.3).astype(np.int8), "y": pl.Series(y).fill_nan(None).cast(pl.Int8),
            "segment": seg})

    ana, ref = root / f"analysis_{rows}.parquet", root / f"reference_{rows}.parquet"
    side(rows, 1, 0, 10).write_parquet(ana, row_group_size=1_000_000)
    side(max(rows // 10, 1000), 2, -28, 0).write_parquet(ref)
    return ana, ref


def line(label: str, r: dict, base: dict | None = None) -> str:
    ratio = (f"  {r['seconds'] / base['seconds']:4.1f}x ours wall, "
             f"{r['cpu_seconds'] / base['cpu_seconds']:4.1f}x CPU" if base else "")
    return (f"  {label:<10} {r['seconds']:7.2f} s wall {r['cpu_seconds']:7.2f} s CPU "
            f"{r['peak_mb']:7.0f} MB peak  (import {r['import_seconds']:.1f} s, load "
            f"{r['load']:.1f}){ratio}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows for the four-way run")
    ap.add_argument("--big-rows", type=int, default=10_000_000,
                    help="rows for ours alone (0: skip)")
    args = ap.parse_args()
    os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")
    with tempfile.TemporaryDirectory(prefix="wb-perf-bench-") as tmp:
        root = Path(tmp)
        if args.big_rows:
            ana, ref = make(root, args.big_rows)
            print(f"{args.big_rows:,} scored rows, 28 daily chunks, 5 segments "
                  f"(reference {args.big_rows // 10:,}): target 5 s, 2 GB")
            floor = run("floor", ana, ref)
            two = run("two-sort", ana, ref)
            ours = run("workbench", ana, ref)
            print(line("floor", floor, ours))
            print(line("two-sort", two, ours))
            print(line("workbench", ours))
            met = ours["seconds"] <= 5 and ours["peak_mb"] <= 2048
            print(f"  target 5 s and 2 GB: {'met' if met else 'not met'} "
                  f"({ours['seconds']:.2f} s wall, {ours['peak_mb']:.0f} MB; load "
                  f"{ours['load']:.1f})")
            ana.unlink()
        ana, ref = make(root, args.rows)
        print(f"{args.rows:,} scored rows, 28 daily chunks, 5 segments "
              f"(reference {args.rows // 10:,})")
        results = {k: run(k, ana, ref)
                   for k in ("floor", "two-sort", "workbench", "sklearn", "nannyml")}
        for k, r in results.items():
            print(line(k, r, None if k == "workbench" else results["workbench"]))
        ours, theirs = results["workbench"]["auc"], results["nannyml"]["auc"]
        diff = max(abs(a - b) for a, b in zip(ours, theirs, strict=True))
        print(f"  estimated ROC AUC per chunk, workbench vs nannyml: max |diff| {diff:.2e} "
              f"over {len(ours)} chunks")


if __name__ == "__main__":
    main()

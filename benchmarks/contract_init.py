"""`contract init` (a starter contract from data) vs datacontract-cli's `import csv`.

    nice .venv/bin/python benchmarks/contract_init.py                  # 1M rows
    nice .venv/bin/python benchmarks/contract_init.py --rows 5000000

Realistic data, written by a separate process into a temporary folder as CSV: a unique
text id (high cardinality), a timestamp, skewed amounts (gamma), a continuous score with
10% nulls, a heavy-tailed integer count, a 6-value category and a 50,000-value text code.
Each tool runs in its own subprocess (whole process: imports included); wall and CPU time
(user + system) and peak RSS come from ``os.wait4``. "floor" is one polars scan computing
the same per-column figures (nulls, distinct, min, max) and nothing else.

What each produces differs: datacontract-cli 1.2.8 writes types, ``required`` and the bare
observed min/max (no margin) with five example values per column; it gives no valid
values, no ``unique``, no row-count band, and its contract fails ``datacontract test`` on
any later data with one value beyond the observed range. Both contracts are then checked
against the data they came from by workbench (passed: yes/no).

Measured 2026-12-02 on the 2-core development machine under heavy load from other jobs
(load average 20: wall times are meaningless, CPU times are the figures to compare), 1M rows
(76 MB of CSV), one run:

    tool                      wall s   CPU s   peak RSS   contract passes on its data
    workbench init             35.4     3.9     236 MB    yes
    datacontract import csv   107.8    16.5     335 MB    no (workbench's check: ts physicalType)
    floor (one polars scan)    23.2     3.0     220 MB

workbench's CPU time is 1.3x the floor (the floor has no category read, no YAML, and no
import of the contracts package) and a quarter of datacontract-cli's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GENERATE = """
import sys, numpy as np, polars as pl
rows, out = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(11)
ids = np.arange(rows)
score = rng.random(rows)
frame = pl.DataFrame({
    "id": ids, "ts": np.datetime64("2026-01-01T00:00:00", "us") + (ids * 2_000_000).astype(
        "m8[us]"),
    "amount": rng.gamma(1.5, 80.0, rows).round(2),
    "score": score, "count": rng.zipf(2.0, rows).clip(0, 10**6),
    "category": rng.choice(np.array(["web", "mobile", "branch", "broker", "api", "partner"]),
                           rows, p=[0.5, 0.25, 0.1, 0.1, 0.04, 0.01]),
    "code": rng.integers(0, 50_000, rows),
}).with_columns(
    id=pl.format("A{}", pl.col("id").cast(pl.String).str.zfill(9)),
    score=pl.when(pl.Series(rng.random(rows) < 0.1)).then(None).otherwise("score"),
    code=pl.format("C{}", pl.col("code")),
)
frame.write_csv(out)
"""

WORKBENCH = """
import sys
from workbench.contracts import init
text = init(sys.argv[1], out=sys.argv[2])
open(sys.argv[2], "w").write(text)
"""

FLOOR = """
import sys, polars as pl
lf = pl.scan_csv(sys.argv[1], try_parse_dates=True, infer_schema_length=10_000)
aggs = [pl.len()]
for c, t in lf.collect_schema().items():
    aggs += [pl.col(c).null_count().alias(c + "_n"), pl.col(c).n_unique().alias(c + "_u"),
             pl.col(c).min().alias(c + "_lo"), pl.col(c).max().alias(c + "_hi")]
lf.select(aggs).collect(engine="streaming")
"""


def measure(argv: list[str], cwd: Path) -> tuple[float, float, int, int]:
    """(wall s, CPU s, peak RSS bytes, exit code) of one subprocess."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, \
        os.waitstatus_to_exitcode(status)


def passes(contract: Path, data: Path) -> str:
    from workbench.contracts import check

    try:
        result = check(contract, data)
    except Exception as exc:  # noqa: BLE001 - a contract that does not even load
        return f"no ({type(exc).__name__}: {str(exc)[:80]})"
    failed = [c.id for c in result.checks if not c.passed]
    return "yes" if not failed else f"no ({len(failed)} checks fail: {', '.join(failed[:3])})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    py = sys.executable
    dcc = str(Path(py).parent / "datacontract")
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        data = tmpdir / "events.csv"
        subprocess.run([py, "-c", GENERATE, str(args.rows), str(data)], check=True)
        print(f"{args.rows:,} rows, {data.stat().st_size / 1e6:.0f} MB of CSV")
        runs = {
            "workbench init": ([py, "-c", WORKBENCH, str(data), str(tmpdir / "wb.yaml")],
                               tmpdir / "wb.yaml"),
            "datacontract import csv": ([dcc, "import", "csv", "--source", str(data),
                                         "--output", str(tmpdir / "dcc.yaml")],
                                        tmpdir / "dcc.yaml"),
            "floor (one polars scan)": ([py, "-c", FLOOR, str(data)], None),
        }
        print(f"{'tool':26}{'wall s':>8}{'CPU s':>8}{'peak RSS':>11}   contract passes on its data")
        for name, (argv, contract) in runs.items():
            if name.startswith("datacontract") and not Path(dcc).exists():
                print(f"{name:26}  not installed")
                continue
            wall, cpu, rss, code = measure(argv, tmpdir)
            verdict = "" if contract is None else (
                passes(contract, data) if code == 0 else f"exit {code}")
            print(f"{name:26}{wall:8.1f}{cpu:8.1f}{rss / 1e6:8.0f} MB   {verdict}")


if __name__ == "__main__":
    main()

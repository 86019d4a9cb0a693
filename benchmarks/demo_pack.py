"""`make demo`-equivalent wall time, with per-notebook execution and export times.

    .venv/bin/python benchmarks/demo_pack.py [--jobs N] [--repeat R] [--spec SPEC]

Runs `workbench pack build SPEC --out <tmp>` as a subprocess (so interpreter start-up and
imports count, as in `make demo` with the venv present), then reads the manifest.
Prints figures, asserts nothing. Timings on a shared machine are noisy: the load average
is printed beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKBENCH = Path(sys.executable).with_name("workbench")


def run_once(spec: Path, jobs: int | None) -> dict:
    with tempfile.TemporaryDirectory(prefix="wb-bench-") as tmp:
        cmd = [str(WORKBENCH), "pack", "build", str(spec), "--out", tmp]
        if jobs:
            cmd += ["--jobs", str(jobs)]
        load = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        # builder + kernels (reaped descendants count): less noisy than wall time on a busy box
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if done.returncode not in (0, 1, 3):
            sys.exit(f"build failed ({done.returncode}):\n{done.stderr}")
        version = Path(done.stdout.strip().splitlines()[-1]).parent
        manifest = json.loads((version / "manifest.json").read_text())
        pages = {p.name: p.stat().st_size for p in sorted(version.glob("*.html"))}
        return {"wall": wall, "cpu": cpu, "load": load, "rc": done.returncode, "manifest": manifest,
                "pages": pages}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", type=Path, default=ROOT / "notebooks" / "packs" / "demo.yml")
    ap.add_argument("--jobs", type=int, default=None, help="default: the builder's (CPU cores)")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    print(f"spec {args.spec.relative_to(ROOT) if args.spec.is_relative_to(ROOT) else args.spec}, "
          f"jobs {args.jobs or os.cpu_count()}, {os.cpu_count()} cores")
    for i in range(args.repeat):
        r = run_once(args.spec, args.jobs)
        m = r["manifest"]
        print(f"\nrun {i + 1}: wall {r['wall']:.1f} s (builder {m['duration_s']:.1f} s, "
              f"exit {r['rc']}, status {m['status']}, verdict {m['verdict']}, "
              f"load avg at start {r['load']:.1f})")
        print(f"  CPU {r['cpu']:.1f} s in builder + kernels; on 2 idle cores at least "
              f"{r['cpu'] / 2:.1f} s wall")
        print(f"  {'notebook':<22}{'status':<8}{'exec s':>8}{'export s':>10}{'page KB':>10}")
        for nb in m["notebooks"]:
            size = r["pages"].get(f"{nb['name']}.html", 0) / 1000
            print(f"  {nb['name']:<22}{nb['status']:<8}{nb['execution_s']:>8.1f}"
                  f"{nb['export_s']:>10.2f}{size:>10.0f}")
        print(f"  {'index.html':<22}{'':<8}{'':>8}{'':>10}{r['pages']['index.html'] / 1000:>10.0f}")


if __name__ == "__main__":
    main()

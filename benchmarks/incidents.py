"""Prometheus query_range JSON -> per-minute SLIs: workbench's reader vs prometheus-api-client.

The export is the one in ``tests/unit/incident_exports.py``: 28 days at one minute (40,320
points per series), requests in 2 series, errors in 2 sparse series, 4 histogram buckets, each
query in 4 chunks of at most 11,000 points. Both sides read the same files and must give the
same per-minute requests, errors and good requests (checked before timing is printed).

prometheus-api-client's ``MetricRangeDataFrame`` turns each result into a pandas frame; joining
chunks (a boundary point counted once), summing series, picking the threshold bucket and
shifting a step are then done in pandas. Run: ``.venv/bin/python benchmarks/incidents.py``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "unit"))

import incident_exports as X  # noqa: E402
import numpy as np  # noqa: E402

from workbench.incidents import load_prometheus  # noqa: E402


def peer(files: dict[str, list[Path]]) -> dict[str, np.ndarray]:
    import pandas as pd
    from prometheus_api_client import MetricRangeDataFrame

    out = {}
    for kind, paths in files.items():
        results = [r for p in paths for r in json.loads(p.read_text())["data"]["result"]]
        df = MetricRangeDataFrame(results, ts_as_datetime=False).reset_index()
        labels = [c for c in df.columns if c not in ("timestamp", "value")]
        df = df.drop_duplicates([*labels, "timestamp"])
        df["value"] = df["value"].astype(float)
        if kind == "latency_buckets":
            for le, name in (("0.3", "good"), ("+Inf", "total")):
                s = df[df["le"] == le].groupby("timestamp")["value"].sum()
                out[name] = s
        else:
            out[kind] = df.groupby("timestamp")["value"].sum()
    grid = out["requests"].index
    frame = pd.DataFrame({k: v.reindex(grid, fill_value=0.0) for k, v in out.items()})
    # A point covers the minute before it.
    frame.index = pd.to_datetime(frame.index - 60, unit="s", utc=True)
    return {k: frame[k].to_numpy() for k in frame.columns}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        files = X.write_prometheus(Path(tmp))
        size = sum(p.stat().st_size for fs in files.values() for p in fs)
        t0 = time.perf_counter()
        ours, _ = load_prometheus(files, latency_threshold_ms=300)
        t_ours = time.perf_counter() - t0
        t0 = time.perf_counter()
        theirs = peer(files)
        t_peer = time.perf_counter() - t0
    assert np.array_equal(ours["requests"].to_numpy(), theirs["requests"])
    assert np.array_equal(ours["errors"].to_numpy(), theirs["errors"])
    assert np.array_equal(ours["latency_good"].to_numpy(), theirs["good"])
    print(f"load average: {os.getloadavg()[0]:.2f}")
    print(f"export: {size / 1e6:.1f} MB, 12 files, {X.MINUTES:,} minutes x 8 series")
    print(f"workbench load_prometheus:                 {t_ours:6.2f} s")
    print(f"prometheus-api-client + pandas (same SLIs): {t_peer:6.2f} s  ({t_peer / t_ours:.1f}x)")


if __name__ == "__main__":
    main()

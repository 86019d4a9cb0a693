"""Release readiness: why the bounds are always-valid, what the stated sample buys, and what a
decision costs.

1. Peeking. Identical versions (A/A), the review read daily for 28 days (8,000 rows, binormal
   scores with AUC 0.85, half positives, defaults: AUC and positive-rate guardrails). A run
   alarms when any day's bounds say the challenger is worse. Printed: the share of runs that
   alarm with workbench's always-valid bounds, and with fixed-horizon intervals at the same
   alpha read the same way (each KPI at alpha / 2, as workbench splits it): the inflation the
   sequential method exists to prevent.
2. Power. A challenger one AUC point worse (0.90 -> 0.89) at the labelled rows the review states
   for the minimum detectable effect (0.01, 90% power): share caught (hold or rollback) on
   any day, and at the last day.
3. Cost. CPU and wall time of one ``release.decide`` on the demo canary (126,000 rows, six KPIs,
   28 daily looks, two segment columns).

Run: ``nice .venv/bin/python benchmarks/release.py [RUNS]`` (default 200 A/A, 100 power runs).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "unit"))

import numpy as np  # noqa: E402
import test_release_simulation as sim  # noqa: E402

from workbench import release  # noqa: E402
from workbench.release import _stats  # noqa: E402


def fixed_interval_alarm(logs, alpha: float) -> bool:
    """Would fixed-horizon 1 - alpha intervals, read daily, ever call b worse than a?"""
    z = _stats.z(1 - alpha / 2)
    day = logs["at"].to_physical().to_numpy()
    chal = logs["version"].to_numpy() == "b"
    y = logs["label"].to_numpy() == 1
    s = logs["score"].to_numpy()
    p = logs["pred"].to_numpy().astype(float)
    for d in np.unique(day):
        m = day <= d
        a1, v1 = _stats.auc_with_variance(s[m & ~chal], y[m & ~chal])
        a2, v2 = _stats.auc_with_variance(s[m & chal], y[m & chal])
        if np.isfinite(v1 + v2) and (a2 - a1) + z * np.sqrt(v1 + v2) < 0:
            return True
        p1, p2 = p[m & ~chal], p[m & chal]
        se = np.sqrt(p1.var() / max(p1.size, 1) + p2.var() / max(p2.size, 1))
        if se > 0 and abs(p2.mean() - p1.mean()) - z * se > 0:
            return True
    return False


def main(runs: int = 200) -> None:
    rng = np.random.default_rng(20261202)
    ours = fixed = 0
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(runs):
        logs = sim._logs(rng, 8_000, 0.85, 0.85)
        result = release.decide(logs, version_column="version", champion="a", challenger="b",
                                target="label", score="score", prediction="pred",
                                timestamp="at")
        ours += sim._alarmed(result)
        fixed += fixed_interval_alarm(logs, 0.05 / 2)
    print(f"A/A, 28 daily looks, {runs} runs: always-valid bounds alarm in {ours / runs:.1%}; "
          f"fixed intervals at the same alpha in {fixed / runs:.1%} "
          f"(cpu {time.process_time() - cpu:.1f} s, wall {time.perf_counter() - wall:.1f} s)")

    rng = np.random.default_rng(19)
    n = sim.stated_sample(rng)
    power_runs = max(runs // 2, 1)
    caught = last = 0
    for _ in range(power_runs):
        logs = sim._logs(rng, n, 0.90, 0.89)
        result = release.decide(logs, version_column="version", champion="a", challenger="b",
                                target="label", score="score", timestamp="at",
                                plan=sim.AUC_ONLY)
        caught += sim._alarmed(result)
        last += result.decision in ("hold", "rollback")
    print(f"one AUC point worse at the stated {n:,} labelled rows, {power_runs} runs: caught "
          f"on some day in {caught / power_runs:.0%}, on the last day in {last / power_runs:.0%}")

    data = ROOT / "data" / "sample"
    best = (float("inf"), float("inf"))
    for _ in range(3):
        cpu, wall = time.process_time(), time.perf_counter()
        release.decide(data / "release" / "canary.parquet", version_column="model_version",
                       champion="v3", challenger="v4", target="label_default", score="score",
                       prediction="decision", positive="approve", timestamp="scored_at",
                       segments=["channel", "region"], slis=data / "release" / "slis.csv",
                       plan=data / "release" / "rollout.yml")
        best = min(best, (time.process_time() - cpu, time.perf_counter() - wall))
    print(f"demo canary decide (126,000 rows, 6 KPIs, 28 looks): cpu {best[0]:.2f} s, "
          f"wall {best[1]:.2f} s (best of 3)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)

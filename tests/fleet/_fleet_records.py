"""Synthetic fleet records (what a fleet build writes per model), for index tests and the
benchmark: a seeded mix of verdicts, failing gates, changes and refusals."""

from __future__ import annotations

import random
from typing import Any

GATES = (("contract", "no-go"), ("prediction-drift", "no-go"), ("key-features", "hold"),
         ("error-budget", "no-go"), ("unit-cost", "hold"), ("value-cost", "no-go"),
         ("on-budget", "hold"), ("action-items", "hold"))


def synthetic_records(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        failed = [{"id": g, "title": f"Gate {g}", "severity": sev,
                   "status": rng.choice(("failed", "failed", "unknown"))}
                  for g, sev in GATES if rng.random() < 0.15]
        status = "error" if rng.random() < 0.01 else ("failed" if rng.random() < 0.03 else "ok")
        if status == "error":
            out.append({"model": f"model_{i:05d}", "owner": f"team-{i % 40}",
                        "status": "error", "verdict": None, "version": None,
                        "failed_gates": [], "changes": [],
                        "problems": [f"data/model_{i:05d}/current.parquet: score: expected "
                                     "a column of the data"]})
            continue
        verdict = ("no-go" if any(g["severity"] == "no-go" for g in failed) else
                   "hold" if failed else "go")
        out.append({"model": f"model_{i:05d}", "owner": f"team-{i % 40}", "status": status,
                    "verdict": verdict, "version": f"20261130T0{i % 10}0000Z-{i:08x}",
                    "failed_gates": failed,
                    "changes": rng.choice((["no change"], [f"verdict go → {verdict}"],
                                           ["first version"])),
                    "problems": ["drift: ValueError: boom"] if status == "failed" else []})
    return out

"""Release inputs of the demo scenario, under ``release/``: the v3 -> v4 promotion of
``credit_risk`` as a shadow week and a four-week canary before ``V4_PROMOTED``.

* ``shadow.parquet``: SHADOW_START to CANARY_START; v4 scores every request v3 serves,
  without serving it: two rows per ``request_id`` (one per ``model_version``).
* ``canary.parquet``: CANARY_START to ``V4_PROMOTED``; v4 serves 10% of requests for two
  weeks, then 25%; labels (``label_default``) have arrived for applications scored before
  LABELS_UNTIL.
* ``slis.csv``: per hour and version during the canary: requests, errors, p95 latency (v4 is
  a larger model: about 12 ms slower, with the same error rate).
* ``rollout.yml``: the plan agreed before the rollout: stages and KPIs.

v4 ranks risk better than v3 (less noise around the same true risk), except for branch
applications, where it lacks a feature v3 had (more noise there). Everything comes from one
seeded generator in a fixed order, so files are byte-identical on every run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

from workbench.sample import scenario as sc

SHADOW_START = datetime(2026, 9, 7, tzinfo=UTC)
CANARY_START = datetime(2026, 9, 14, tzinfo=UTC)
CANARY_END = sc.V4_PROMOTED                      # exclusive
SECOND_STAGE = datetime(2026, 9, 28, tzinfo=UTC)  # 10% -> 25%
LABELS_UNTIL = datetime(2026, 10, 5, tzinfo=UTC)
CANARY_PER_DAY = 4_500
SHADOW_PER_DAY = 1_500
APPROVE_BELOW = 0.18
CHANNELS = ("web", "mobile", "branch", "broker")
REGIONS = ("NE", "SE", "MW", "SW", "W")

PLAN = """\
# The v3 -> v4 rollout plan of credit_risk, agreed by PM and MLOps before the canary.
# stages: the challenger's share of traffic, percent; kpis: guardrails (must not get worse
# by more than the margin) and success metrics (should improve).
model: credit_risk
champion: v3
challenger: v4
stages: [10, 25, 100]
alpha: 0.05
power: 0.9
kpis:
  - {name: auc, kind: guardrail, margin: 0.005, mde: 0.01}
  - {name: positive_rate, label: approval rate, kind: guardrail, direction: either, margin: 0.03}
  - {name: target_rate_among_positive, label: default rate among approved, kind: success}
  - {name: p95_latency_ms, kind: guardrail, margin: 25}
  - {name: error_rate, kind: guardrail, margin: 0.002}
  - {name: cost_per_1k_predictions, kind: guardrail, margin: 40}
"""


def generate(out: Path) -> list[Path]:
    """Write ``release/{shadow.parquet, canary.parquet, slis.csv, rollout.yml}`` under ``out``."""
    rng = np.random.default_rng(sc.SEED + 19)
    folder = out / "release"
    folder.mkdir(parents=True, exist_ok=True)
    shadow = shadow_frame(rng)
    canary = canary_frame(rng)
    slis = sli_frame(rng, canary)
    paths = [folder / "shadow.parquet", folder / "canary.parquet", folder / "slis.csv",
             folder / "rollout.yml"]
    for frame, path in zip((shadow, canary), paths, strict=False):
        frame.write_parquet(path, compression="zstd", compression_level=9, statistics=True)
    slis.write_csv(paths[2])
    paths[3].write_text(PLAN, encoding="utf-8")
    return paths


def _requests(rng: np.random.Generator, start: datetime, days: int, per_day: int,
              first_id: int) -> pl.DataFrame:
    n = days * per_day
    day = rng.integers(0, days, n)
    hour = np.where(rng.random(n) < 0.85, rng.uniform(8, 22, n), rng.uniform(0, 24, n))
    seconds = np.sort(np.floor(day * 86_400 + hour * 3600).astype(np.int64))
    channel = np.asarray(CHANNELS)[rng.choice(4, n, p=[0.46, 0.30, 0.17, 0.07])]
    region = np.asarray(REGIONS)[rng.choice(5, n, p=[0.20, 0.24, 0.19, 0.15, 0.22])]
    risk = rng.normal(-2.3, 1.1, n) + np.where(channel == "broker", 0.4, 0.0)
    label = (rng.random(n) < 1 / (1 + np.exp(-risk))).astype(np.int64)
    return pl.DataFrame({
        "request_id": np.arange(first_id, first_id + n, dtype=np.int64),
        "scored_at": pl.Series(int(start.timestamp() * 1e6) + seconds * 1_000_000).cast(
            pl.Datetime("us", "UTC")),
        "channel": channel, "region": region, "risk": risk, "label_default": label,
    })


def _score(rng: np.random.Generator, frame: pl.DataFrame, version: str) -> np.ndarray:
    risk = frame["risk"].to_numpy()
    branch = frame["channel"].to_numpy() == "branch"
    noise = 0.95 if version == "v3" else np.where(branch, 1.3, 0.7)
    return np.round(1 / (1 + np.exp(-(risk + rng.normal(0, 1, risk.size) * noise))), 4)


def _finish(frame: pl.DataFrame, version: np.ndarray | str, score: np.ndarray,
            labels_until: datetime) -> pl.DataFrame:
    out = frame.with_columns(
        pl.Series("model_version", np.broadcast_to(np.asarray(version), score.shape)),
        pl.Series("score", score),
        pl.when(pl.Series(score) < APPROVE_BELOW).then(pl.lit("approve"))
        .otherwise(pl.lit("decline")).alias("decision"),
        pl.when(pl.col("scored_at") < labels_until).then(pl.col("label_default"))
        .otherwise(None).alias("label_default"))
    return out.select("request_id", "scored_at", "model_version", "channel", "region",
                      "score", "decision", "label_default")


def shadow_frame(rng: np.random.Generator) -> pl.DataFrame:
    days = (CANARY_START - SHADOW_START).days
    base = _requests(rng, SHADOW_START, days, SHADOW_PER_DAY, 20_000_001)
    both = [_finish(base, v, _score(rng, base, v), LABELS_UNTIL) for v in ("v3", "v4")]
    return pl.concat(both).sort("scored_at", "request_id", "model_version")


def canary_frame(rng: np.random.Generator) -> pl.DataFrame:
    days = (CANARY_END - CANARY_START).days
    base = _requests(rng, CANARY_START, days, CANARY_PER_DAY, 21_000_001)
    second = (base["scored_at"] >= SECOND_STAGE).to_numpy()
    v4 = rng.random(base.height) < np.where(second, 0.25, 0.10)
    score = np.where(v4, _score(rng, base, "v4"), _score(rng, base, "v3"))
    return _finish(base, np.where(v4, "v4", "v3"), score, LABELS_UNTIL)


def sli_frame(rng: np.random.Generator, canary: pl.DataFrame) -> pl.DataFrame:
    hourly = (canary.group_by(pl.col("scored_at").dt.truncate("1h").alias("timestamp"),
                              pl.col("model_version").alias("version"))
              .agg(pl.len().alias("requests")).sort("timestamp", "version"))
    n = hourly.height
    v4 = (hourly["version"] == "v4").to_numpy()
    requests = hourly["requests"].to_numpy()
    errors = rng.binomial(requests, 0.002)
    p95 = np.round(np.where(v4, 131.0, 119.0) + rng.gamma(2.0, 4.0, n), 1)
    return hourly.with_columns(pl.Series("errors", errors.astype(np.int64)),
                               pl.Series("latency_p95_ms", p95),
                               pl.col("timestamp").dt.strftime("%Y-%m-%dT%H:%M:%SZ"))

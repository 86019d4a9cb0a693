"""Late labels of the demo scoring logs: ``performance/labels.parquet``.

A loan's default is known weeks after the application is scored. The scoring logs
(``scoring/current.parquet``) carry the labels known when they were exported (applications
before ``scenario.LABELS_UNTIL``); this file is a later delivery: the defaults reported by
``LABELS_ARRIVED_BY`` for applications scored from ``LABELS_UNTIL`` on, each known
``LABEL_DELAY_DAYS`` (30) to 36 days after scoring, so part of the third week is labeled and
the fourth is not. Columns: ``application_id``, ``label_default``, ``labeled_at``.

The labels are the very outcomes the scoring generator drew (the same seeded draws, with
nothing nulled), so the partner change of 2026-10-19 shows in the realized performance
once they arrive. One label per application id (the first row of a repeated id).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

from workbench.sample import scenario as sc
from workbench.sample import scoring

LABELS_ARRIVED_BY = datetime(2026, 11, 25, tzinfo=UTC)  # exclusive
LABEL_DELAY_DAYS = 30
LABEL_DELAY_SPREAD = 7  # extra whole days: 0..6
SEED_OFFSET = 18


def labels_frame(rows: int | None = None) -> pl.DataFrame:
    n_cur = rows or sc.CURRENT_ROWS
    n_ref = rows // 2 if rows else sc.REFERENCE_ROWS
    rng = np.random.default_rng(sc.SEED)  # the scoring generator's draws, in its order
    scoring.reference_frame(rng, n_ref)
    current = scoring.current_frame(rng, n_cur, first_id=10_000_000 + 1, labels_until=None)
    late = current.filter(pl.col(scoring.TIMESTAMP) >= sc.LABELS_UNTIL)
    delay = np.random.default_rng(sc.SEED + SEED_OFFSET).integers(0, LABEL_DELAY_SPREAD,
                                                                    late.height)
    late = late.with_columns(
        (pl.col(scoring.TIMESTAMP) + pl.duration(days=pl.lit(pl.Series(delay + LABEL_DELAY_DAYS))))
        .alias("labeled_at"))
    return (late.filter(pl.col("labeled_at") < LABELS_ARRIVED_BY)
            .unique(scoring.ID, keep="first", maintain_order=True)
            .select(scoring.ID, scoring.LABEL, "labeled_at"))


def generate(out: Path, rows: int | None = None) -> list[Path]:
    folder = out / "performance"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "labels.parquet"
    labels_frame(rows).write_parquet(path, compression="zstd", compression_level=9,
                                     statistics=True)
    return [path]

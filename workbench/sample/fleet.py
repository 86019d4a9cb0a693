"""``workbench sample --models N``: the inputs of a fleet of N models, byte-reproducible.

Every model is a variant of the demo credit-risk scenario (:func:`workbench.sample.generate`
at a small size, written once into ``_base`` and copied), so each model's pack runs the
same notebooks on data of the same shape. What varies, drawn from a generator seeded by
the model's index (so model 7 is the same whatever N is):

- drift: ``drift_shift`` standard deviations added to a few key features of the current
  scoring window (0 for about a third of the models);
- contract breaks: the demo's scoring log breaks its contract (the broker feed sends
  ``debt_to_income`` in percent; duplicate ids, unknown categories, out-of-range ages and
  scores, missing incomes); about half of the models keep those breaks, the others get
  the rows repaired;
- costs: the cost ledger's costs scaled by ``cost_factor`` (0.6 to 1.8), which moves the
  unit-cost, value/cost and budget gates.

Written: ``<out>/models.csv`` (model, owner, data_dir, drift_shift, contract_break,
cost_factor) and ``<out>/<model>/...`` in the demo's layout. Cost data still name the
scored model ``credit_risk`` (the demo's tag), so a fleet's gates read the same metrics.
"""

from __future__ import annotations

import csv
import io
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from workbench.sample import generate
from workbench.sample.scenario import SEED

ROWS = 1500  # current scoring window per model (the contract wants more than 1,000 rows)
OWNERS = ("risk-ml", "fraud-ml", "growth-ds", "collections-ml", "pricing-ds")
DRIFT_FEATURES = ("credit_score", "debt_to_income", "loan_to_income", "inquiries_last_6m")


def model_id(i: int) -> str:
    return f"model_{i:03d}" if i < 1000 else f"model_{i}"


def variant(i: int) -> dict[str, object]:
    """Model ``i``'s variant: owner, drift shift, contract break, cost factor."""
    rng = np.random.default_rng([SEED, i])
    drift = 0.0 if rng.random() < 0.35 else round(float(rng.uniform(0.1, 1.2)), 2)
    return {
        "model": model_id(i),
        "owner": OWNERS[i % len(OWNERS)],
        "drift_shift": drift,
        "contract_break": bool(rng.random() < 0.5),
        "cost_factor": round(float(rng.uniform(0.6, 1.8)), 2),
    }


def generate_fleet(out_dir: str | Path, models: int, rows: int = ROWS) -> list[Path]:
    """Write ``models`` models' inputs and the models table under ``out_dir``; the files
    written (sorted). Same arguments, same bytes."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    base = out / "_base"
    if base.exists():
        shutil.rmtree(base)
    base_files = generate(base, rows=rows)
    current = pl.read_parquet(base / "scoring" / "current.parquet")
    ledger = pl.read_parquet(base / "costs" / "focus_costs.parquet")
    written: list[Path] = []
    rows_out = []
    for i in range(models):
        v = variant(i)
        mdir = out / str(v["model"])
        if mdir.exists():
            shutil.rmtree(mdir)
        for f in base_files:
            dest = mdir / f.relative_to(base)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, dest)
            written.append(dest)
        _scoring(current, v, i).write_parquet(mdir / "scoring" / "current.parquet",
                                              statistics=False)
        factor = float(v["cost_factor"])  # type: ignore[arg-type]
        ledger.with_columns(
            (pl.col("BilledCost") * factor).round(4),
            (pl.col("EffectiveCost") * factor).round(4),
        ).write_parquet(mdir / "costs" / "focus_costs.parquet", statistics=False)
        rows_out.append({**v, "data_dir": v["model"]})
    shutil.rmtree(base)
    table = out / "models.csv"
    buf = io.StringIO()
    fields = ["model", "owner", "data_dir", "drift_shift", "contract_break", "cost_factor"]
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    for r in rows_out:
        w.writerow({k: str(r[k]).lower() if isinstance(r[k], bool) else r[k] for k in fields})
    table.write_text(buf.getvalue(), encoding="utf-8")
    written.append(table)
    return sorted(written)


HOME_OWNERSHIP = ("RENT", "OWN", "MORTGAGE", "OTHER")


def _repaired(df: pl.DataFrame, i: int) -> pl.DataFrame:
    """The scoring log with the demo's contract breaks repaired."""
    return df.with_columns(
        pl.when(pl.col("debt_to_income") > 1.5)
        .then(pl.col("debt_to_income") / 100)
        .otherwise(pl.col("debt_to_income"))
        .alias("debt_to_income"),
        pl.format("A{}", (pl.int_range(pl.len()) + 10_000_000).cast(pl.String))
        .alias("application_id"),
        pl.when(pl.col("home_ownership").is_in(HOME_OWNERSHIP))
        .then(pl.col("home_ownership")).otherwise(pl.lit("OTHER")).alias("home_ownership"),
        pl.col("applicant_age").clip(18, 100),
        pl.col("annual_income").fill_null(pl.col("annual_income").median()).clip(0, None),
        pl.col("credit_score").clip(300, 850),
    )


def _scoring(current: pl.DataFrame, v: dict[str, object], i: int) -> pl.DataFrame:
    rng = np.random.default_rng([SEED, i, 1])
    df = current
    if not v["contract_break"]:
        df = _repaired(df, i)
    shift = float(v["drift_shift"])  # type: ignore[arg-type]
    if shift:
        late = pl.col("scored_at") >= pl.col("scored_at").quantile(0.5)
        for col in DRIFT_FEATURES:
            sd = df[col].std()
            std = float(sd) if isinstance(sd, int | float) else 0.0
            delta = shift * std * float(rng.uniform(0.5, 1.5))
            shifted = pl.col(col) + delta
            if df.schema[col].is_integer():
                shifted = shifted.round(0).cast(df.schema[col])
            df = df.with_columns(pl.when(late).then(shifted).otherwise(pl.col(col)).alias(col))
    return df


# -- fleet records without building: the index at any scale -----------------------------

RECORD_GATES = (("contract", "no-go"), ("prediction-drift", "no-go"), ("key-features", "hold"),
         ("error-budget", "no-go"), ("unit-cost", "hold"), ("value-cost", "no-go"),
         ("on-budget", "hold"), ("action-items", "hold"))


def synthetic_records(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` records as a fleet build writes them per model (a seeded mix of verdicts,
    failing gates, changes and refusals): for the fleet index's tests and benchmark."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for i in range(n):
        failed = [{"id": g, "title": f"Gate {g}", "severity": sev,
                   "status": rng.choice(("failed", "failed", "unknown"))}
                  for g, sev in RECORD_GATES if rng.random() < 0.15]
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

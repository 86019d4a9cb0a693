"""Cost-to-value inputs of the demo scenario, under ``costs/``.

* ``focus_costs.csv``: a FinOps FOCUS cost ledger for 90 days (``scenario.COST_START`` to
  ``COST_END``): one line item per resource and day for the three models and five lifecycle
  stages, tagged with JSON ``Tags`` (``model``, ``stage``, ``version``); shared platform cost
  (``"model": "shared"``), untagged items, two credits (negative cost, one a refund for the
  failed training run) and cost spikes: a fraud_screen backfill on 2026-09-15, the credit_risk
  training re-run on 2026-10-20/21 after the rollback, and the log surge during the incident.
  The SageMaker endpoints are covered by a savings plan: ``EffectiveCost`` < ``BilledCost``.
* ``usage.csv``: predictions served per model, version and day.
* ``value.csv``: business value per model and day (definitions in ``VALUE_DEFINITIONS``
  and in the folder's README).
* ``budgets.csv``: budget per model and month (USD).

``rows`` scales the ledger to that many line items (hourly items spread over the same daily
cost, so totals barely move) and writes it as ``focus_costs.parquet`` instead; usage, value
and budgets keep their demo size. Everything comes from one seeded generator in a fixed order.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from workbench.sample import scenario as sc

VALUE_DEFINITIONS = {
    "credit_risk": "margin on approved loans minus expected losses (PD x LGD x exposure) "
                   "of the loans approved that day",
    "fraud_screen": "fraud losses avoided by blocked transactions minus the cost of "
                    "manual reviews the model triggered",
    "collections_priority": "extra recoveries from prioritised accounts over the "
                            "unprioritised baseline, minus agent time",
}

# (model, stage, ServiceName, ServiceCategory, resource kind, USD per day, version tagged?)
_MODEL_ITEMS = (
    ("data_processing", "Amazon EMR", "Analytics", "emr-cluster", True, False),
    ("feature_storage", "Amazon DynamoDB", "Databases", "feature-table", False, False),
    ("feature_storage", "Amazon S3", "Storage", "feature-bucket", False, False),
    ("training", "Amazon SageMaker", "AI and Machine Learning", "training-job", True, True),
    ("inference", "Amazon SageMaker", "AI and Machine Learning", "endpoint", True, True),
    ("monitoring", "Amazon CloudWatch", "Management and Governance", "model-monitor", False, False),
)
# USD per day per model, in the order of _MODEL_ITEMS.
_DAILY = {
    "credit_risk": (260.0, 150.0, 40.0, 380.0, 900.0, 70.0),
    "fraud_screen": (400.0, 300.0, 60.0, 500.0, 1400.0, 90.0),
    "collections_priority": (120.0, 50.0, 12.0, 150.0, 180.0, 30.0),
}
_VERSIONS = {"fraud_screen": "v7", "collections_priority": "v2"}
_PREDICTIONS = {"credit_risk": 12_000, "fraud_screen": 60_000, "collections_priority": 3_000}
_VALUE_PER_PREDICTION = {"credit_risk": 0.62, "fraud_screen": 0.19, "collections_priority": 0.145}
_BUDGETS = {"credit_risk": 58_000.0, "fraud_screen": 104_000.0, "collections_priority": 17_500.0}
SAVINGS_PLAN_DISCOUNT = 0.22   # on SageMaker endpoints: EffectiveCost = 0.78 x BilledCost

CREDIT_DAYS = {date(2026, 9, 30): "credit", date(2026, 10, 23): "refund"}
BACKFILL_DAY = date(2026, 9, 15)        # fraud_screen EMR backfill: x5 that day
RERUN_DAYS = (date(2026, 10, 20), date(2026, 10, 21))   # credit_risk retraining after rollback


def _days() -> list[date]:
    start = sc.COST_START.date()
    return [start + timedelta(days=i) for i in range((sc.COST_END - sc.COST_START).days)]


def _tags(**kv: str) -> str:
    return json.dumps(kv, separators=(",", ":")) if kv else "{}"


def _templates() -> list[dict]:
    """Every kind of line item, in a fixed order."""
    out = []
    for model in sc.ALL_MODELS:
        for i, (stage, service, category, kind, on_demand, _) in enumerate(_MODEL_ITEMS):
            out.append({"model": model, "stage": stage, "service": service, "category": category,
                        "kind": kind, "daily": _DAILY[model][i], "on_demand": on_demand,
                        "versioned": _MODEL_ITEMS[i][5], "charge": "Usage"})
    shared = [("inference", "Amazon EKS", "Compute", "ml-platform-cluster", 600.0),
              ("data_processing", "Amazon S3", "Storage", "data-lake", 200.0)]
    for stage, service, category, kind, daily in shared:
        out.append({"model": "shared", "stage": stage, "service": service, "category": category,
                    "kind": kind, "daily": daily, "on_demand": False, "versioned": False,
                    "charge": "Usage"})
    untagged = [("AWS Data Transfer", "Networking", "nat-gateway", 150.0),
                ("Amazon CloudWatch", "Management and Governance", "log-group", 60.0)]
    for service, category, kind, daily in untagged:
        out.append({"model": None, "stage": None, "service": service, "category": category,
                    "kind": kind, "daily": daily, "on_demand": False, "versioned": False,
                    "charge": "Usage"})
    out.append({"model": None, "stage": None, "service": "Amazon SageMaker",
                "category": "AI and Machine Learning", "kind": "savings-credit", "daily": 0.0,
                "on_demand": False, "versioned": False, "charge": "Credit"})
    out.append({"model": "credit_risk", "stage": "training", "service": "Amazon SageMaker",
                "category": "AI and Machine Learning", "kind": "training-refund", "daily": 0.0,
                "on_demand": False, "versioned": True, "charge": "Credit"})
    return out


def _usage(days: list[date], rng: np.random.Generator) -> pl.DataFrame:
    recs = []
    for d in days:
        weekend = 0.85 if d.weekday() >= 5 else 1.0
        for model in sc.ALL_MODELS:
            n = _PREDICTIONS[model] * weekend * rng.lognormal(0.0, 0.05)
            if model == sc.MODEL:
                if d >= sc.DRIFT_START.date():
                    n *= 1.12                      # broker traffic
                if d == sc.INCIDENT_START.date():
                    n *= 0.9                       # broker requests failed for ~2.5 hours
                v4_share = (0.0 if d < sc.V4_PROMOTED.date()
                            else 0.5 if d < sc.V4_PROMOTED.date() + timedelta(days=3) else 1.0)
                split = {"v3": 1.0 - v4_share, "v4": v4_share}
            else:
                split = {_VERSIONS[model]: 1.0}
            for version, share in split.items():
                if share > 0:
                    recs.append({"date": d, "model": model, "version": version,
                                 "predictions": int(round(n * share))})
    return pl.DataFrame(recs, schema={"date": pl.Date, "model": pl.String, "version": pl.String,
                                      "predictions": pl.Int64})


def _value(usage: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    daily = usage.group_by("date", "model", maintain_order=True).agg(pl.col("predictions").sum())
    recs = []
    for d, model, n in daily.iter_rows():
        per = _VALUE_PER_PREDICTION[model]
        if model == sc.MODEL:
            approved = n * 0.46 * rng.lognormal(0.0, 0.03)
            margin = approved * 4.10
            loss_rate = 2.75 if d < sc.DRIFT_START.date() else 3.35   # drifted broker approvals
            expected_loss = approved * loss_rate * rng.lognormal(0.0, 0.04)
            value = margin - expected_loss
        else:
            value = n * per * rng.lognormal(0.0, 0.06)
        recs.append({"date": d, "model": model, "value": round(value, 2)})
    return pl.DataFrame(recs, schema={"date": pl.Date, "model": pl.String, "value": pl.Float64})


def _cells(days: list[date], usage: pl.DataFrame, rng: np.random.Generator) -> list[dict]:
    """One dict per (day, template) with a non-zero cost, day-major, template order."""
    per_day = {(d, m): n for d, m, n in usage.group_by("date", "model").agg(
        pl.col("predictions").sum()).iter_rows()}
    templates = _templates()
    cells = []
    for d in days:
        weekend = d.weekday() >= 5
        for t in templates:
            model, stage = t["model"], t["stage"]
            cost = t["daily"] * rng.lognormal(0.0, 0.05)
            if t["charge"] == "Credit":
                kind = CREDIT_DAYS.get(d)
                if kind == "credit" and t["kind"] == "savings-credit":
                    cost = -1200.0
                elif kind == "refund" and t["kind"] == "training-refund":
                    cost = -1500.0
                else:
                    continue
            elif stage == "inference" and model in _PREDICTIONS:
                cost *= per_day[(d, model)] / _PREDICTIONS[model]   # endpoints scale with traffic
            elif weekend and stage == "data_processing":
                cost *= 0.8
            if model == "fraud_screen" and stage == "data_processing" and d == BACKFILL_DAY:
                cost *= 5.0
            if model == sc.MODEL and stage == "training" and d in RERUN_DAYS:
                cost += 3000.0 if d == RERUN_DAYS[0] else 2200.0
            if t["kind"] == "log-group" and d == sc.INCIDENT_START.date():
                cost += 420.0                     # debug logging during the incident
            version = None
            if t["versioned"] and model == sc.MODEL:
                version = "v3" if d < sc.V4_PROMOTED.date() else "v4"
            elif t["versioned"] and model in _VERSIONS:
                version = _VERSIONS[model]
            cells.append({"day": d, "t": t, "cost": round(cost, 4), "version": version})
    return cells


def _ledger(cells: list[dict], rows: int | None, rng: np.random.Generator) -> pl.DataFrame:
    n_cells = len(cells)
    total = n_cells if rows is None else max(int(rows), n_cells)
    i = np.arange(total, dtype=np.int64)
    cell = i % n_cells
    replica = i // n_cells
    per_cell = np.bincount(cell, minlength=n_cells)

    cost = np.array([c["cost"] for c in cells])[cell] / per_cell[cell]
    if rows is not None:   # hourly items vary around the day's mean
        cost = cost * rng.uniform(0.8, 1.2, total)
    t_of = [c["t"] for c in cells]
    discount = np.array([1.0 - SAVINGS_PLAN_DISCOUNT if t["stage"] == "inference"
                         and t["service"] == "Amazon SageMaker" else 1.0 for t in t_of])[cell]
    day0 = np.array([(c["day"] - sc.COST_START.date()).days for c in cells])[cell]
    start = (np.datetime64(sc.COST_START.date().isoformat(), "us")
             + day0.astype("timedelta64[D]").astype("timedelta64[us]"))
    if rows is None:
        end = start + np.timedelta64(1, "D").astype("timedelta64[us]")
    else:
        start = start + (replica % 24).astype("timedelta64[h]").astype("timedelta64[us]")
        end = start + np.timedelta64(1, "h").astype("timedelta64[us]")

    def per_cell_str(values: list[str | None]) -> pl.Series:
        return pl.Series(values, dtype=pl.String).gather(pl.Series(cell))

    tags, rid, rname, desc = [], [], [], []
    for c in cells:
        t = c["t"]
        kv = {}
        if t["model"]:
            kv["model"] = t["model"]
        if t["stage"]:
            kv["stage"] = t["stage"]
        if c["version"]:
            kv["version"] = c["version"]
        tags.append(_tags(**kv))
        owner = t["model"] or "account"
        name = f"{owner}-{t['kind']}".replace("_", "-")
        rid.append(f"arn:aws:{t['service'].split()[-1].lower()}:us-east-1:123456789012:{name}")
        rname.append(name)
        desc.append({"Credit": "Refund: failed training run (INC-2026-1019)"
                     if t["kind"] == "training-refund" else "Savings plan credit"}.get(
                         t["charge"], f"{t['service']} {t['kind']} usage"))
    resource_id = per_cell_str(rid)
    if rows is not None:   # many resources of each kind at scale
        instance = pl.Series((replica // 24).astype(np.int64)).cast(pl.String)
        resource_id = resource_id + "/" + instance
    billed = np.round(cost / discount, 6) if rows is None else cost / discount
    effective = np.round(cost, 6) if rows is None else cost
    return pl.DataFrame({
        "ChargePeriodStart": pl.Series(start).dt.replace_time_zone("UTC"),
        "ChargePeriodEnd": pl.Series(end).dt.replace_time_zone("UTC"),
        "BilledCost": billed,
        "EffectiveCost": effective,
        "BillingCurrency": pl.Series([sc.CURRENCY]).gather(pl.Series(np.zeros(total, np.int64))),
        "ChargeCategory": per_cell_str([t["charge"] for t in t_of]),
        "ChargeDescription": per_cell_str(desc),
        "ServiceName": per_cell_str([t["service"] for t in t_of]),
        "ServiceCategory": per_cell_str([t["category"] for t in t_of]),
        "ResourceId": resource_id,
        "ResourceName": per_cell_str(rname),
        "Tags": per_cell_str(tags),
        "x_Environment": per_cell_str(["prod"] * n_cells),
        "x_CostCenter": per_cell_str(["ml-platform" if (t["model"] in (None, "shared"))
                                      else f"cc-{t['model']}" for t in t_of]),
    })


def _budgets() -> pl.DataFrame:
    months = sorted({d.strftime("%Y-%m") for d in _days()})
    recs = [{"model": m, "month": mo, "budget": _BUDGETS[m]}
            for mo in months for m in sc.ALL_MODELS]
    return pl.DataFrame(recs)


README = """# Cost-to-value demo inputs

Written by `workbench.sample.costs`; do not edit by hand.

* `focus_costs.csv`: FinOps FOCUS cost ledger, one line item per resource and day (USD).
  `Tags` is a JSON object with `model`, `stage` and (training, inference) `version`;
  `"model": "shared"` marks shared platform cost; `{{}}` marks untagged cost.
* `usage.csv`: predictions served per model, version and day.
* `value.csv`: business value per model and day (USD). Definitions:
{defs}
* `budgets.csv`: budget per model and month (USD).
"""


def generate(out: str | Path, rows: int | None = None) -> list[Path]:
    """Write ``costs/`` under ``out``; ``rows`` = ledger line items (Parquet) or None (demo CSV)."""
    folder = Path(out) / "costs"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(sc.SEED + 5)
    days = _days()
    usage = _usage(days, rng)
    value = _value(usage, rng)
    ledger = _ledger(_cells(days, usage, rng), rows, rng)

    written = []
    if rows is None:
        path = folder / "focus_costs.csv"
        ledger.write_csv(path, datetime_format="%Y-%m-%dT%H:%M:%SZ")
    else:
        path = folder / "focus_costs.parquet"
        ledger.write_parquet(path, statistics=False)
    written.append(path)
    for name, frame in (("usage", usage), ("value", value), ("budgets", _budgets())):
        p = folder / f"{name}.csv"
        frame.write_csv(p)
        written.append(p)
    defs = "\n".join(f"  * `{m}`: {d}." for m, d in VALUE_DEFINITIONS.items())
    p = folder / "README.md"
    p.write_text(README.format(defs=defs), encoding="utf-8")
    written.append(p)
    return written

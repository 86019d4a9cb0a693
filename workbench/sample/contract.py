"""The ODCS v3 contract of the demo scoring table (``contracts/loan_scoring.odcs.yaml``).

The contract is what the scoring service's owners promised before the broker partner was
onboarded; the current window breaks it on purpose (see :mod:`workbench.sample.scenario`):
duplicated application ids, ``home_ownership`` codes outside the list, ``credit_score``
nulls and out-of-range values, and ``debt_to_income`` sent in percent by the broker feed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from workbench.io import write_text_atomic
from workbench.sample import scenario

CONTRACT_PATH = Path("contracts") / "loan_scoring.odcs.yaml"

CATEGORIES = {
    "model_version": list(scenario.MODEL_VERSIONS),
    "channel": ["web", "mobile", "branch", "broker"],
    "home_ownership": ["RENT", "OWN", "MORTGAGE", "OTHER"],
    "loan_purpose": ["debt_consolidation", "credit_card", "home_improvement", "major_purchase",
                     "car", "medical", "small_business", "other"],
    "employment_type": ["salaried", "self_employed", "contractor", "retired", "unemployed"],
    "region": ["NE", "SE", "MW", "SW", "W"],
    "decision": ["approve", "decline"],
}


def _valid(values: list[Any], severity: str = "error") -> dict[str, Any]:
    return {"metric": "invalidValues", "arguments": {"validValues": values}, "mustBe": 0,
            "unit": "rows", "dimension": "conformity", "severity": severity}


def _cat(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "logicalType": "string", "physicalType": "string", "required": True,
            "description": description, "quality": [_valid(CATEGORIES[name])]}


def _num(name: str, description: str, logical: str = "number", **options: Any) -> dict[str, Any]:
    prop: dict[str, Any] = {"name": name, "logicalType": logical,
                            "physicalType": "int64" if logical == "integer" else "double",
                            "required": True, "description": description}
    if options:
        prop["logicalTypeOptions"] = options
    return prop


def contract_document() -> dict[str, Any]:
    """The contract as a plain dict (the YAML file is this, dumped in order)."""
    table = scenario.SCORING_TABLE
    properties: list[dict[str, Any]] = [
        {"name": "application_id", "logicalType": "string", "physicalType": "string",
         "required": True, "unique": True, "primaryKey": True, "primaryKeyPosition": 1,
         "description": "Loan application identifier, one scoring per application.",
         "logicalTypeOptions": {"pattern": r"^A[0-9]{8}$", "minLength": 9, "maxLength": 9}},
        {"name": "scored_at", "logicalType": "timestamp", "physicalType": "timestamp",
         "required": True, "description": "When the model scored the application (UTC)."},
        _cat("model_version", "Model version that produced the score."),
        _cat("channel", "Acquisition channel of the application."),
        _cat("home_ownership", "Applicant's home ownership status."),
        _cat("loan_purpose", "Declared purpose of the loan."),
        _cat("employment_type", "Applicant's employment type."),
        _cat("region", "Sales region."),
        _num("applicant_age", "Age of the applicant in years.", "integer", minimum=18, maximum=100),
        _num("annual_income", "Declared annual income (USD).", minimum=0),
        _num("loan_amount", "Requested loan amount (USD).", exclusiveMinimum=0),
        {**_num("loan_term_months", "Loan term in months.", "integer"),
         "quality": [_valid([12, 24, 36, 48, 60, 72])]},
        _num("interest_rate", "Offered interest rate.", minimum=0),
        _num("debt_to_income", "Monthly debt over monthly income, a ratio in 0..1.",
             minimum=0, maximum=1),
        {**_num("credit_score", "Bureau credit score.", "integer", minimum=300, maximum=850),
         "required": False,
         "quality": [{"metric": "nullValues", "mustBeLessOrEqualTo": 0.5, "unit": "percent",
                      "dimension": "completeness", "severity": "warning",
                      "description": "At most 0.5% of applications lack a bureau score."}]},
        _num("employment_length_years", "Years with the current employer.", "integer",
             minimum=0),
        _num("num_open_accounts", "Open credit accounts.", "integer", minimum=0),
        _num("num_delinquencies_2y", "Delinquencies in the last two years.", "integer", minimum=0),
        _num("revolving_utilization", "Revolving credit utilisation.", minimum=0),
        _num("total_credit_lines", "Credit lines ever opened.", "integer", minimum=0),
        _num("inquiries_last_6m", "Credit inquiries in the last six months.", "integer", minimum=0),
        {**_num("months_since_last_delinquency", "Months since the last delinquency "
                "(empty when there was none).", "integer", minimum=0), "required": False},
        _num("mortgage_accounts", "Mortgage accounts.", "integer", minimum=0),
        _num("dependents", "Number of dependents.", "integer", minimum=0),
        _num("monthly_debt_payments", "Monthly debt payments (USD).", minimum=0),
        _num("savings_balance", "Savings balance (USD).", minimum=0),
        _num("loan_to_income", "Loan amount over annual income.", minimum=0),
        _num("payment_to_income", "Monthly payment over monthly income.", minimum=0),
        {"name": "applicant_email", "logicalType": "string", "physicalType": "string",
         "required": True, "classification": "restricted", "tags": ["pii"],
         "description": "Applicant's e-mail address (personal data: always masked).",
         "logicalTypeOptions": {"format": "email"},
         "quality": [{"metric": "missingValues", "arguments": {"missingValues": ["", "n/a"]},
                      "mustBe": 0, "unit": "rows", "dimension": "completeness",
                      "severity": "warning"},
                     {"metric": "duplicateValues", "mustBeLessThan": 500, "unit": "rows",
                      "dimension": "uniqueness", "severity": "warning",
                      "description": "Repeat applicants (same e-mail) stay rare; many repeats "
                                     "point at a feed re-sending applications."}]},
        _num("score", "Predicted probability of default.", minimum=0, maximum=1),
        _cat("decision", "Decision taken from the score."),
        {"name": "label_default", "logicalType": "integer", "physicalType": "int64",
         "required": False, "description": "1 when the loan defaulted; empty until known.",
         "quality": [_valid([0, 1]),
                     {"metric": "nullValues", "mustBeLessThan": 25, "unit": "percent",
                      "dimension": "completeness", "severity": "warning",
                      "description": "Labels arrive late; more than a quarter missing "
                                     "delays performance monitoring."}]},
    ]
    quality = [
        {"metric": "rowCount", "mustBeGreaterThan": 1000, "dimension": "completeness",
         "severity": "error", "description": "A scoring window holds more than 1,000 rows."},
        {"metric": "duplicateValues", "arguments": {"properties": ["application_id", "scored_at"]},
         "mustBe": 0, "unit": "rows", "dimension": "uniqueness", "severity": "warning",
         "description": "The same application is not logged twice at the same instant."},
        {"type": "sql", "dimension": "consistency", "severity": "error",
         "description": "Declined applications never carry a lower score than the approval "
                        "cut-off of any approved one in the same model version.",
         "query": (f"SELECT COUNT(*) FROM {table} a WHERE decision = 'approve' AND score > "
                   f"(SELECT MAX(score) FROM {table} d WHERE d.decision = 'decline' "
                   f"AND d.model_version = a.model_version)"),
         "mustBe": 0},
        {"type": "sql", "dimension": "accuracy", "severity": "warning",
         "description": "The approval rate stays within the band the business planned for.",
         "query": f"SELECT AVG(CASE WHEN decision = 'approve' THEN 1.0 ELSE 0.0 END) FROM {table}",
         "mustBeBetween": [0.3, 0.9]},
    ]
    return {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": scenario.CONTRACT_ID,
        "name": "Loan application scoring log",
        "version": "2.0.0",
        "status": "active",
        "domain": "lending",
        "dataProduct": "credit_risk_scoring",
        "description": {
            "purpose": f"Every application scored by the {scenario.MODEL} model, with its "
                       "features, score and decision, for monitoring and audits.",
            "usage": "Read by model monitoring (drift, performance) and the review pack.",
            "limitations": "label_default is known only about four weeks after scoring.",
        },
        "servers": [{"server": "current", "type": "local", "format": "parquet",
                     "path": "../scoring/current.parquet",
                     "description": "The current four-week scoring window."}],
        "schema": [{
            "name": table, "physicalName": table, "logicalType": "object",
            "physicalType": "table",
            "description": "One row per scored loan application.",
            "properties": properties,
            "quality": quality,
        }],
        "slaProperties": [
            {"property": "freshness", "value": 2, "unit": "d", "element": f"{table}.scored_at",
             "description": "The newest scoring is at most two days old."},
            {"property": "latency", "value": 8, "unit": "h", "element": f"{table}.scored_at",
             "description": "A scoring reaches the table within eight hours (measured with "
                            "the delivery log)."},
            {"property": "frequency", "value": 1, "unit": "d",
             "description": "New scorings are delivered at least once a day."},
            {"property": "timeOfAvailability", "value": "06:00",
             "description": "Each day's first delivery lands by 06:00 UTC."},
            {"property": "availability", "value": 98.5, "unit": "%",
             "description": "At least 98.5% of deliveries succeed."},
            {"property": "errorRate", "value": 3, "unit": "%",
             "description": "At most 3% of delivered rows come in failed deliveries."},
            {"property": "retention", "value": 1, "unit": "y", "element": f"{table}.scored_at",
             "description": "Scorings are kept at most a year."},
        ],
    }


PREVIOUS_PATH = Path("contracts") / "loan_scoring.v1.0.0.odcs.yaml"
DELIVERIES_PATH = Path("contracts") / "loan_scoring.deliveries.csv"
DELIVERY_EVERY = timedelta(hours=4)
FAILED_DELIVERIES = (datetime(2026, 10, 20, 12, 30, tzinfo=UTC),   # the broker outage
                     datetime(2026, 10, 20, 16, 30, tzinfo=UTC))


def previous_document() -> dict[str, Any]:
    """Version 1.0.0, before the broker partner: 72-month loans were not offered, and the
    only service level was freshness (the partner's feed came with delivery levels)."""
    doc = contract_document()
    doc["version"] = "1.0.0"
    for prop in doc["schema"][0]["properties"]:
        if prop["name"] == "loan_term_months":
            prop["quality"] = [_valid([12, 24, 36, 48, 60])]
    doc["slaProperties"] = doc["slaProperties"][:1]
    return doc


def deliveries(current: pl.DataFrame) -> pl.DataFrame:
    """The delivery log of the current window: a delivery every four hours (at 00:30, 04:30,
    ...) carrying the scorings since the last successful one; two fail during the outage."""
    start = scenario.CURRENT_START + timedelta(minutes=30)
    times = pl.datetime_range(start, scenario.CURRENT_END, DELIVERY_EVERY, eager=True,
                              time_zone="UTC")
    ok = ~times.is_in(pl.Series(FAILED_DELIVERIES).dt.cast_time_unit("us").implode())
    delivered = times.filter(ok)
    # each scoring goes with the first successful delivery at or after it
    landed = current.select(pl.col("scored_at").dt.cast_time_unit("us")).sort("scored_at") \
        .join_asof(pl.DataFrame({"at": delivered}), left_on="scored_at", right_on="at",
                   strategy="forward")
    counts = dict(landed.group_by("at").len().iter_rows())
    pending = {t: 0 for t in times.to_list()}
    previous = None
    for t, good in zip(times.to_list(), ok.to_list(), strict=True):
        if good:
            pending[t] = counts.get(t, 0)
            previous = t
        else:  # a failed delivery carried what the next good one delivered late
            since = previous or scenario.CURRENT_START
            pending[t] = current.filter((pl.col("scored_at") > since)
                                        & (pl.col("scored_at") <= t)).height
    return pl.DataFrame({"delivered_at": [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in times],
                         "rows": [pending[t] for t in times.to_list()],
                         "success": ok.to_list()})


def generate_lifecycle(out: str | Path) -> list[Path]:
    """Write the previous contract version and the delivery log (after the scoring data)."""
    prev = Path(out) / PREVIOUS_PATH
    write_text_atomic(prev, yaml.safe_dump(previous_document(), sort_keys=False,
                                           allow_unicode=True, width=100))
    log = Path(out) / DELIVERIES_PATH
    current = pl.read_parquet(Path(out) / "scoring" / "current.parquet", columns=["scored_at"])
    write_text_atomic(log, deliveries(current).write_csv())
    return [prev, log]


def generate(out: str | Path) -> list[Path]:
    """Write ``contracts/loan_scoring.odcs.yaml`` under ``out``; return the path written."""
    path = Path(out) / CONTRACT_PATH
    text = yaml.safe_dump(contract_document(), sort_keys=False, allow_unicode=True, width=100)
    write_text_atomic(path, text)
    return [path]

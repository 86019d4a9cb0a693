"""Scoring logs of the demo credit-risk model: a reference window and a current window.

Reference: a training-time sample (``scenario.REFERENCE_ROWS`` applications, June to August).
Current: four weeks of production scoring logs. What happens in them (see ``scenario``):

* from ``DRIFT_START`` a broker partner sends a growing share of traffic: lower incomes,
  more debt consolidation and small-business loans, weaker credit scores;
* the broker feed sends ``debt_to_income`` in percent (0-100) instead of a ratio, until the
  fix at ``INCIDENT_RESOLVED``; the model sees 35.0 instead of 0.35, scores saturate and
  broker applicants are declined;
* broker requests that errored during the incident (``INCIDENT_START`` to
  ``INCIDENT_MITIGATED``) were never logged;
* contract violations: null and sentinel (999) credit scores, null incomes, invalid
  ``home_ownership`` codes, under-age applicants, duplicate application ids;
* labels (``label_default``) are known only for applications before ``LABELS_UNTIL``.

Everything is drawn from one seeded ``numpy.random.Generator`` in a fixed order, so the
same ``rows`` gives byte-identical Parquet files.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

from workbench.sample import scenario as sc

CHANNELS = ("web", "mobile", "branch", "broker")
HOME_OWNERSHIP = ("RENT", "OWN", "MORTGAGE", "OTHER")
LOAN_PURPOSES = (
    "debt_consolidation",
    "credit_card",
    "home_improvement",
    "major_purchase",
    "car",
    "medical",
    "small_business",
    "other",
)
EMPLOYMENT_TYPES = ("salaried", "self_employed", "contractor", "retired", "unemployed")
REGIONS = ("NE", "SE", "MW", "SW", "W")
LOAN_TERMS = (12, 24, 36, 48, 60)

NUMERICAL_FEATURES = (
    "applicant_age",
    "annual_income",
    "loan_amount",
    "loan_term_months",
    "interest_rate",
    "debt_to_income",
    "credit_score",
    "employment_length_years",
    "num_open_accounts",
    "num_delinquencies_2y",
    "revolving_utilization",
    "total_credit_lines",
    "inquiries_last_6m",
    "months_since_last_delinquency",
    "mortgage_accounts",
    "dependents",
    "monthly_debt_payments",
    "savings_balance",
    "loan_to_income",
    "payment_to_income",
)
CATEGORICAL_FEATURES = ("channel", "home_ownership", "loan_purpose", "employment_type", "region")
PREDICTION, DECISION, LABEL, TIMESTAMP, ID = (
    "score",
    "decision",
    "label_default",
    "scored_at",
    "application_id",
)
APPROVE_BELOW = 0.18

_FIRST = (
    "alex",
    "sam",
    "maria",
    "li",
    "noah",
    "ava",
    "omar",
    "zoe",
    "ivan",
    "mia",
    "raj",
    "emma",
    "lucas",
    "nina",
    "kofi",
    "sara",
)
_LAST = (
    "smith",
    "garcia",
    "chen",
    "okafor",
    "novak",
    "khan",
    "muller",
    "rossi",
    "silva",
    "kim",
    "haddad",
    "jensen",
)
_DOMAINS = ("example.com", "mail.example.org", "inbox.example.net")


def generate(out: Path, rows: int | None = None) -> list[Path]:
    """Write ``scoring/reference.parquet`` and ``scoring/current.parquet`` under ``out``."""
    n_cur = rows or sc.CURRENT_ROWS
    n_ref = rows // 2 if rows else sc.REFERENCE_ROWS
    rng = np.random.default_rng(sc.SEED)
    reference = reference_frame(rng, n_ref)
    current = current_frame(rng, n_cur, first_id=10_000_000 + 1)
    folder = out / "scoring"
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "reference.parquet", folder / "current.parquet"]
    for frame, path in zip((reference, current), paths, strict=True):
        frame.write_parquet(
            path, compression="zstd", compression_level=9, statistics=True, row_group_size=500_000
        )
    return paths


def reference_frame(rng: np.random.Generator, n: int) -> pl.DataFrame:
    ts = _timestamps(rng, n, sc.REFERENCE_START, sc.REFERENCE_END)
    frame = _applications(
        rng,
        n,
        ts,
        shifted=np.zeros(n, bool),
        percent_dti=np.zeros(n, bool),
        first_id=1,
        version=np.full(n, "v3"),
    )
    return frame


def current_frame(rng: np.random.Generator, n: int, first_id: int,
                  labels_until: datetime | None = sc.LABELS_UNTIL) -> pl.DataFrame:
    """The current window; labels of rows scored from ``labels_until`` on are null (None:
    every label kept, for the later label deliveries of :mod:`workbench.sample.performance`)."""
    # Draw extra rows so that after dropping the requests lost in the incident we keep n.
    extra = int(n * 0.02) + 10
    ts = _timestamps(rng, n + extra, sc.CURRENT_START, sc.CURRENT_END)
    after = ts >= _us(sc.DRIFT_START)
    # The broker partner ramps up over the first days after onboarding.
    ramp = np.clip((ts - _us(sc.DRIFT_START)) / (3 * 86_400e6), 0, 1)
    shifted = after & (rng.random(n + extra) < ramp)
    version = np.where(ts >= _us(sc.V4_PROMOTED), "v4", "v3")
    frame = _applications(
        rng,
        n + extra,
        ts,
        shifted=shifted,
        percent_dti=np.zeros(n + extra, bool),
        first_id=first_id,
        version=version,
    )
    broker = frame["channel"].to_numpy() == "broker"
    in_feed_break = (ts >= _us(sc.DRIFT_START)) & (ts < _us(sc.INCIDENT_RESOLVED))
    lost = broker & (ts >= _us(sc.INCIDENT_START)) & (ts < _us(sc.INCIDENT_MITIGATED))
    percent = broker & in_feed_break
    frame = frame.with_columns(
        pl.when(pl.Series(percent))
        .then((pl.col("debt_to_income") * 100).round(1))
        .otherwise(pl.col("debt_to_income"))
        .alias("debt_to_income")
    )
    frame = _rescore(frame, percent)
    keep = ~lost
    surplus = int(keep.sum()) - n
    if surplus > 0:  # drop the surplus evenly over the window, not from its end
        keep[rng.choice(np.flatnonzero(keep), size=surplus, replace=False)] = False
    frame = frame.filter(pl.Series(keep))
    frame = _inject_violations(rng, frame)
    if labels_until is None:
        return frame
    labelled = frame[TIMESTAMP] < labels_until
    frame = frame.with_columns(pl.when(labelled).then(pl.col(LABEL)).otherwise(None).alias(LABEL))
    return frame


# --- building blocks ---------------------------------------------------------------------


def _us(dt: datetime) -> int:
    return int(dt.timestamp() * 1_000_000)


def _timestamps(rng: np.random.Generator, n: int, start: datetime, end: datetime) -> np.ndarray:
    """Sorted microsecond timestamps with a daytime peak (more applications 8:00-22:00)."""
    days = (end - start).days
    day = rng.integers(0, days, n)
    hour = np.where(rng.random(n) < 0.85, rng.uniform(8, 22, n), rng.uniform(0, 24, n))
    seconds = np.floor(day * 86_400 + hour * 3600).astype(np.int64)
    return np.sort(_us(start) + seconds * 1_000_000)


def _choice(rng: np.random.Generator, values: tuple, p: list[float], n: int) -> np.ndarray:
    return np.asarray(values, dtype=object)[rng.choice(len(values), size=n, p=p)]


def _applications(
    rng: np.random.Generator,
    n: int,
    ts: np.ndarray,
    *,
    shifted: np.ndarray,
    percent_dti: np.ndarray,
    first_id: int,
    version: np.ndarray,
) -> pl.DataFrame:
    channel = np.where(
        shifted,
        _choice(rng, CHANNELS, [0.28, 0.22, 0.10, 0.40], n),
        _choice(rng, CHANNELS, [0.46, 0.30, 0.17, 0.07], n),
    )
    broker = channel == "broker"
    home = _choice(rng, HOME_OWNERSHIP, [0.38, 0.17, 0.42, 0.03], n)
    purpose = np.where(
        shifted & broker,
        _choice(rng, LOAN_PURPOSES, [0.50, 0.12, 0.06, 0.04, 0.05, 0.04, 0.15, 0.04], n),
        _choice(rng, LOAN_PURPOSES, [0.34, 0.20, 0.12, 0.08, 0.09, 0.05, 0.05, 0.07], n),
    )
    employment = _choice(rng, EMPLOYMENT_TYPES, [0.68, 0.14, 0.09, 0.06, 0.03], n)
    region = _choice(rng, REGIONS, [0.20, 0.24, 0.19, 0.15, 0.22], n)

    age = np.clip(rng.normal(41, 12, n), 18, 85).astype(np.int64)
    emp_len = np.clip(rng.poisson(np.maximum(age - 22, 1) / 3.2), 0, 45).astype(np.int64)
    income_mu = np.where(shifted & broker, np.log(50_000), np.log(68_000))
    income = np.round(np.exp(rng.normal(income_mu, 0.45)) / 500) * 500
    income = np.maximum(income, 12_000.0)
    loan = np.clip(np.round(np.exp(rng.normal(np.log(15_000), 0.6, n)) / 250) * 250, 1_000, 100_000)
    term = np.asarray(LOAN_TERMS)[rng.choice(5, size=n, p=[0.08, 0.17, 0.40, 0.15, 0.20])]
    credit_mu = np.where(shifted & broker, 662.0, 695.0)
    credit = np.clip(rng.normal(credit_mu, 55), 300, 850).astype(np.int64)
    rate = np.round(4.0 + (850 - credit) / 550 * 18 + rng.normal(0, 1.2, n), 2).clip(3.0, 35.99)
    dti = np.round(rng.beta(2.2, 6.0, n), 3)
    open_acc = rng.poisson(8, n).astype(np.int64)
    lines = open_acc + rng.poisson(6, n)
    delinq = rng.poisson(np.clip(0.25 + (700 - credit) / 400, 0.02, 3)).astype(np.int64)
    since_delinq = np.where(delinq > 0, rng.integers(1, 72, n), -1)
    inquiries = rng.poisson(1.1, n).astype(np.int64)
    mortgages = (home == "MORTGAGE").astype(np.int64) + rng.poisson(0.15, n)
    dependents = np.clip(rng.poisson(1.0, n), 0, 6).astype(np.int64)
    util = np.round(rng.beta(2.0, 3.0, n), 3)
    savings = np.round(np.exp(rng.normal(np.log(8_000), 1.1, n)) / 10) * 10
    monthly_income = income / 12
    debt_payments = np.round(monthly_income * dti, 2)
    r = rate / 1200
    payment = loan * r / (1 - (1 + r) ** (-term))
    loan_to_income = np.round(loan / income, 4)
    pay_to_income = np.round(payment / monthly_income, 4)

    true_logit = (
        -2.35
        + 0.011 * (690 - credit)
        + 2.8 * (dti - 0.27)
        + 0.35 * delinq
        + 0.9 * (loan_to_income - 0.25)
        + 0.25 * (inquiries - 1.1)
        - 0.02 * np.minimum(emp_len, 15)
        + 0.3 * (employment == "unemployed")
    )
    label = (rng.random(n) < 1 / (1 + np.exp(-true_logit))).astype(np.int64)
    score = np.round(1 / (1 + np.exp(-(true_logit + rng.normal(0, 0.25, n)))), 4)

    ids = np.char.add("A", np.char.zfill((first_id + np.arange(n)).astype(str), 8))
    email_idx = rng.integers(0, 1 << 30, n)
    emails = pl.select(
        pl.concat_str(
            [
                pl.Series(np.asarray(_FIRST)[email_idx % len(_FIRST)]),
                pl.lit("."),
                pl.Series(np.asarray(_LAST)[(email_idx // 16) % len(_LAST)]),
                pl.Series((email_idx // 192) % 1000).cast(pl.String),
                pl.lit("@"),
                pl.Series(np.asarray(_DOMAINS)[(email_idx // 192_000) % len(_DOMAINS)]),
            ]
        ).alias("e")
    )["e"]

    frame = pl.DataFrame(
        {
            ID: ids,
            TIMESTAMP: pl.Series(ts).cast(pl.Datetime("us", "UTC")),
            "model_version": version.astype(str),
            "channel": channel.astype(str),
            "home_ownership": home.astype(str),
            "loan_purpose": purpose.astype(str),
            "employment_type": employment.astype(str),
            "region": region.astype(str),
            "applicant_age": age,
            "annual_income": income,
            "loan_amount": loan.astype(float),
            "loan_term_months": term.astype(np.int64),
            "interest_rate": rate,
            "debt_to_income": dti,
            "credit_score": credit,
            "employment_length_years": emp_len,
            "num_open_accounts": open_acc,
            "num_delinquencies_2y": delinq,
            "revolving_utilization": util,
            "total_credit_lines": lines.astype(np.int64),
            "inquiries_last_6m": inquiries,
            "months_since_last_delinquency": since_delinq.astype(np.int64),
            "mortgage_accounts": mortgages.astype(np.int64),
            "dependents": dependents,
            "monthly_debt_payments": debt_payments,
            "savings_balance": savings,
            "loan_to_income": loan_to_income,
            "payment_to_income": pay_to_income,
            "applicant_email": emails,
            PREDICTION: score,
            LABEL: label,
        }
    )
    frame = frame.with_columns(
        pl.when(pl.col("months_since_last_delinquency") < 0)
        .then(None)
        .otherwise(pl.col("months_since_last_delinquency"))
        .alias("months_since_last_delinquency"),
        pl.when(pl.col(PREDICTION) < APPROVE_BELOW)
        .then(pl.lit("approve"))
        .otherwise(pl.lit("decline"))
        .alias(DECISION),
    )
    return _order(frame)


def _order(frame: pl.DataFrame) -> pl.DataFrame:
    lead = [
        ID,
        TIMESTAMP,
        "model_version",
        *CATEGORICAL_FEATURES,
        *NUMERICAL_FEATURES,
        "applicant_email",
        PREDICTION,
        DECISION,
        LABEL,
    ]
    return frame.select(lead)


def _rescore(frame: pl.DataFrame, percent: np.ndarray) -> pl.DataFrame:
    """The model reads percent DTI as a ratio: its score saturates for those rows."""
    bump = pl.Series(percent)
    logit = (pl.col(PREDICTION) / (1 - pl.col(PREDICTION))).log()
    new_score = 1 / (
        1 + (-(logit + 2.8 * (pl.col("debt_to_income") - pl.col("debt_to_income") / 100))).exp()
    )
    return frame.with_columns(
        pl.when(bump).then(new_score.round(4)).otherwise(pl.col(PREDICTION)).alias(PREDICTION),
    ).with_columns(
        pl.when(pl.col(PREDICTION) < APPROVE_BELOW)
        .then(pl.lit("approve"))
        .otherwise(pl.lit("decline"))
        .alias(DECISION)
    )


def _inject_violations(rng: np.random.Generator, frame: pl.DataFrame) -> pl.DataFrame:
    """Data-quality defects a contract should catch, at rates that scale with the data."""
    n = frame.height

    def pick(rate: float, minimum: int) -> np.ndarray:
        k = max(minimum, int(n * rate))
        mask = np.zeros(n, bool)
        mask[rng.choice(n, size=min(k, n), replace=False)] = True
        return mask

    null_credit, sentinel_credit = pick(0.004, 4), pick(0.0006, 2)
    null_income, under_age = pick(0.003, 3), pick(0.00025, 1)
    unknown_home, lower_home = pick(0.0015, 2), pick(0.0004, 1)
    dup = pick(0.001, 2)
    dup[0] = False  # a duplicate copies the id of the row before it
    ids = frame[ID].to_numpy().copy()
    dup_idx = np.flatnonzero(dup)
    ids[dup_idx] = ids[dup_idx - 1]
    home = frame["home_ownership"].to_numpy().astype(object)
    home[unknown_home] = "UNKNOWN"
    home[lower_home] = np.char.lower(home[lower_home].astype(str))
    return frame.with_columns(
        pl.Series(ID, ids.astype(str)),
        pl.Series("home_ownership", home.astype(str)),
        pl.when(pl.Series(null_credit))
        .then(None)
        .when(pl.Series(sentinel_credit))
        .then(999)
        .otherwise(pl.col("credit_score"))
        .alias("credit_score"),
        pl.when(pl.Series(null_income))
        .then(None)
        .otherwise(pl.col("annual_income"))
        .alias("annual_income"),
        pl.when(pl.Series(under_age))
        .then(17)
        .otherwise(pl.col("applicant_age"))
        .alias("applicant_age"),
    )

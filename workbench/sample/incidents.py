"""Demo incidents: INC-2026-1019 with its signals, and a portfolio of past incidents.

Writes under ``<out>/incidents/``::

    INC-2026-1019.yaml                 the main incident record (signals: paths below)
    INC-2026-1019/events.csv           event log: alerts, deploys, rollback, drift, contract
    INC-2026-1019/slis.csv             per-minute SLIs over the 28-day SLO window
    INC-2026-1019/slos.yaml            availability 99.5 %, p95 latency 500 ms in 99 % of minutes
    INC-2025-1104.yaml ... (14 more)   past incidents of the three models, for the portfolio

The main incident follows the scenario: the broker feed sends ``debt_to_income`` in percent
from DRIFT_START; on INCIDENT_START the scoring service's feature validation rejects broker
requests (5xx, slow retries); a static 5xx alert detects it; rolling back the feature
pipeline mitigates it. Deterministic: seeded generator, fixed order, no wall-clock time.
"""

from __future__ import annotations

import csv
import io as _io
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import yaml

from workbench.sample import scenario as sc

UTC = sc.CURRENT_START.tzinfo
MAIN = sc.INCIDENT_ID
SLO_WINDOW_DAYS = 28
SERVICE = "credit-risk-scoring-api"


def generate(out: str | Path) -> list[Path]:
    """Write the incident inputs under ``out/incidents``; return the paths written."""
    base = Path(out) / "incidents"
    sig = base / MAIN
    sig.mkdir(parents=True, exist_ok=True)
    written = [
        _write(base / f"{MAIN}.yaml", _dump(_main_record())),
        _write(sig / "events.csv", _events_csv()),
        _write(sig / "slis.csv", _slis_csv()),
        _write(sig / "slos.yaml", _dump(_slos())),
    ]
    for rec in _past_records():
        written.append(_write(base / f"{rec['id']}.yaml", _dump(rec)))
    return written


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="\n")
    return path


def _dump(obj: Any) -> str:
    return yaml.safe_dump(obj, sort_keys=False, allow_unicode=True, width=100)


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the main incident ----------------------------------------------------------------

def _at(hh: int, mm: int, day: int = 20) -> datetime:
    return datetime(2026, 10, day, hh, mm, tzinfo=UTC)


ROLLBACK_START = _at(11, 20)


def _main_record() -> dict[str, Any]:
    return {
        "id": MAIN,
        "title": "Broker applications rejected: debt_to_income sent in percent",
        "severity": "SEV2",
        "status": "resolved",
        "started_at": sc.INCIDENT_START,
        "detected_at": sc.INCIDENT_DETECTED,
        "acknowledged_at": sc.INCIDENT_ACKNOWLEDGED,
        "mitigated_at": sc.INCIDENT_MITIGATED,
        "resolved_at": sc.INCIDENT_RESOLVED,
        "affected_models": [sc.MODEL],
        "affected_services": [SERVICE, "broker-gateway", "feature-pipeline"],
        "summary": (
            "For 2 h 25 min the credit-risk scoring API rejected most loan applications from the "
            "new broker partner with HTTP 500: the partner's feed sends debt_to_income in percent "
            "(0-100) instead of a ratio (0-1), and the feature pipeline's validation, tightened in "
            "the morning's release, failed the whole request instead of the one feature. Rolling "
            "back the feature pipeline restored service; the feed was fixed the next day."),
        "impact": {
            "description": (
                "Broker applications (about 30 % of traffic that morning) got errors or slow "
                "retries; applicants saw 'try again later' and brokers re-submitted. No wrong "
                "decisions were issued, but decisions were delayed until the backfill."),
            "users_affected": 2870,
            "decisions_affected": 3410,
        },
        "trigger": (
            "Feature pipeline release fp-2026.10.20 at 09:05 turned debt_to_income range "
            "validation from a warning into a hard failure while broker traffic ramped up."),
        "root_causes": [
            "The broker partner's feed sends debt_to_income in percent (0-100) since onboarding "
            "on 2026-10-19; the data contract (ratio 0-1) was not enforced at ingestion.",
            "Feature validation failed the whole scoring request on one out-of-range feature, "
            "turning a data-quality problem into an availability outage.",
        ],
        "contributing_factors": [
            {"category": "data contract breach",
             "description": "debt_to_income above the contract maximum of 1.0 from the broker "
                            "feed"},
            {"category": "data drift",
             "description": "broker share, income and loan-purpose mix shifted from 2026-10-19; "
                            "drift was reported but not paged"},
            {"category": "bad deploy",
             "description": "fp-2026.10.20 made range validation fatal without a canary on "
                            "broker traffic"},
        ],
        "resolution": (
            "Rolled the feature pipeline back to fp-2026.10.13 (11:20-11:37), which clamps and "
            "flags out-of-range values. The broker gateway now divides debt_to_income by 100 for "
            "this partner (deployed 2026-10-21 14:00); rejected applications were re-scored."),
        "detection": {
            "method": "alert",
            "description": "static alert 'scoring 5xx ratio above 20 % for 15 minutes' paged "
                           "the ML platform on-call",
            "alert": "ScoringApi5xxHigh",
        },
        "lessons_learned": {
            "went_well": [
                "The rollback was a single, rehearsed command and took 17 minutes.",
                "The contract check had already flagged debt_to_income, so the cause was found "
                "in 40 minutes.",
            ],
            "went_wrong": [
                "The drift and contract findings of 2026-10-19 went to a dashboard nobody watched.",
                "The static 5xx alert needed 15 minutes above 20 %: it paged 51 minutes after "
                "the start.",
                "The release made validation fatal on the day a new partner went live.",
            ],
            "got_lucky": [
                "Broker traffic was still ramping up; at full volume twice as many applicants "
                "would have been affected.",
                "Values in percent were rejected rather than scored: a silent unit error would "
                "have approved risky loans.",
            ],
        },
        "action_items": [
            {"id": "AI-1", "description": "Enforce the loan_scoring contract (debt_to_income "
             "0-1) at the broker gateway; quarantine violating records",
             "owner": "data-platform", "due": date(2026, 10, 27), "status": "done",
             "priority": "P0", "kind": "prevent"},
            {"id": "AI-2", "description": "Replace the static 5xx alert with multiwindow burn-rate "
             "alerts (14.4x over 1h & 5m, 6x over 6h & 30m)", "owner": "sre",
             "due": date(2026, 10, 30), "status": "in_progress", "priority": "P1",
             "kind": "detect"},
            {"id": "AI-3", "description": "Page on drift onset of contract-critical features for "
             "new partner feeds", "owner": "ml-platform", "due": date(2026, 11, 6),
             "status": "open", "priority": "P1", "kind": "detect"},
            {"id": "AI-4", "description": "Partner onboarding checklist: units and ranges of every "
             "numeric field signed off", "owner": "partnerships", "due": date(2026, 10, 31),
             "status": "open", "priority": "P2", "kind": "prevent"},
            {"id": "AI-5", "description": "Re-score broker applications rejected during the "
             "incident", "owner": "credit-ops", "due": date(2026, 10, 23), "status": "done",
             "priority": "P1", "kind": "mitigate"},
            {"id": "AI-6", "description": "Canary feature-pipeline releases per channel",
             "owner": "ml-platform", "due": date(2026, 11, 20), "status": "open",
             "priority": "P2", "kind": "prevent"},
        ],
        "signals": {"events": f"{MAIN}/events.csv", "slis": f"{MAIN}/slis.csv",
                    "slos": f"{MAIN}/slos.yaml"},
    }


def _slos() -> dict[str, Any]:
    return {
        "service": SERVICE,
        "window_days": SLO_WINDOW_DAYS,
        "availability": {"target": 0.995},
        "latency": {"percentile": "p95", "threshold_ms": 500, "target": 0.99},
        "alerts": [
            {"name": "page: 14.4x over 1h and 5m", "severity": "page", "burn_rate": 14.4,
             "long_window": "1h", "short_window": "5m"},
            {"name": "page: 6x over 6h and 30m", "severity": "page", "burn_rate": 6.0,
             "long_window": "6h", "short_window": "30m"},
        ],
    }


def _events() -> list[tuple[datetime, str, str, str]]:
    d = sc.DRIFT_START
    return [
        (sc.V4_PROMOTED + timedelta(hours=14), "deploy-bot", "deploy",
         "credit_risk v4 promoted to 100 % of traffic"),
        (sc.V4_PROMOTED + timedelta(hours=14, minutes=22), "deploy-bot", "note",
         "v4 warm-up latency back to normal"),
        (d + timedelta(hours=8), "partnerships", "deploy", "broker partner feed enabled"),
        (d + timedelta(hours=12), "contract-monitor", "contract",
         "loan_scoring: debt_to_income maximum (1.0) violated by broker rows"),
        (d + timedelta(hours=13), "drift-monitor", "drift",
         "daily drift report: debt_to_income, annual_income, loan_purpose drifted (broker)"),
        (_at(9, 5), "deploy-bot", "deploy",
         "feature-pipeline fp-2026.10.20 released (fatal range validation)"),
        (_at(9, 12), "scoring-api", "log", "first FeatureValidationError on a broker request"),
        (_at(9, 41), "monitoring", "alert", "ScoringLatencyP95High (ticket, not paging)"),
        (_at(10, 3), "monitoring", "alert", "ScoringApi5xxHigh paged ml-platform on-call"),
        (_at(10, 11), "pagerduty", "ack", "on-call acknowledged"),
        (_at(10, 24), "incident-bot", "note", "SEV2 declared, incident channel opened"),
        (_at(10, 51), "ml-platform", "note",
         "cause identified: debt_to_income in percent from broker feed"),
        (ROLLBACK_START, "deploy-bot", "rollback",
         "feature-pipeline rollback to fp-2026.10.13 started"),
        (_at(11, 37), "deploy-bot", "rollback", "rollback complete, 5xx back to baseline"),
        (_at(14, 0, 21), "deploy-bot", "deploy",
         "broker-gateway: debt_to_income converted to ratio for the partner"),
        (_at(16, 0, 21), "incident-bot", "note", "incident resolved, backfill verified"),
        (datetime(2026, 10, 27, 15, 2, tzinfo=UTC), "monitoring", "alert",
         "ScoringApi5xxHigh flapped (bureau API timeouts, 6 min)"),
    ]


def _events_csv() -> str:
    buf = _io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["timestamp", "source", "kind", "message"])
    for t, source, kind, message in sorted(_events(), key=lambda e: e[0]):
        w.writerow([_iso(t), source, kind, message])
    return buf.getvalue()


def _slis_csv() -> str:
    """Per-minute requests, errors, p50/p95 latency over the 28-day window, seeded."""
    rng = np.random.default_rng(sc.SEED + 6)
    start = sc.CURRENT_END - timedelta(days=SLO_WINDOW_DAYS)
    n = SLO_WINDOW_DAYS * 1440
    minute = np.arange(n)
    hour = (minute % 1440) / 60.0
    # Daily traffic: quiet at night, peak in the afternoon (UTC).
    rate = 300 + 130 * np.sin((hour - 8.0) / 24.0 * 2 * np.pi)
    requests = rng.poisson(rate)
    err_ratio = np.full(n, 0.0004)
    p95 = rng.normal(235, 25, n)

    def span(t0: datetime, t1: datetime) -> slice:
        return slice(int((t0 - start).total_seconds() // 60),
                     int((t1 - start).total_seconds() // 60))

    # v4 promotion warm-up: slow for 20 minutes, a few errors.
    s = span(sc.V4_PROMOTED + timedelta(hours=14), sc.V4_PROMOTED + timedelta(hours=14, minutes=20))
    p95[s] += 420
    err_ratio[s] = 0.01
    # The incident: broker rejections ramp up with broker traffic, plateau, then the rollback.
    s = span(sc.INCIDENT_START, ROLLBACK_START)
    k = np.arange(s.stop - s.start)
    err_ratio[s] = 0.02 + 0.26 * np.minimum(1.0, k / 50.0)
    p95[s] += 300 + 700 * np.minimum(1.0, k / 30.0)
    s = span(ROLLBACK_START, sc.INCIDENT_MITIGATED)
    k = np.arange(s.stop - s.start)
    err_ratio[s] = 0.28 * (1 - k / len(k)) + 0.002
    p95[s] += 900 * (1 - k / len(k))
    s = span(sc.INCIDENT_MITIGATED, sc.INCIDENT_MITIGATED + timedelta(minutes=50))
    err_ratio[s] = 0.002   # retries draining
    # A short bureau-timeout blip a week later (too short for the slow page).
    s = span(datetime(2026, 10, 27, 14, 56, tzinfo=UTC), datetime(2026, 10, 27, 15, 2, tzinfo=UTC))
    err_ratio[s] = 0.06
    p95[s] += 500
    errors = rng.binomial(requests, err_ratio)
    p50 = np.maximum(20, p95 * 0.38 + rng.normal(0, 6, n))
    stamps = [_iso(start + timedelta(minutes=int(i))) for i in minute]
    frame = pl.DataFrame({"timestamp": stamps, "requests": requests.astype(np.int64),
                          "errors": errors.astype(np.int64),
                          "latency_p50_ms": np.round(p50).astype(np.int64),
                          "latency_p95_ms": np.round(np.maximum(p95, p50 + 5)).astype(np.int64)})
    return frame.write_csv(line_terminator="\n")


# --- the portfolio --------------------------------------------------------------------

# id, model, severity, status, start, minutes to (detect, ack, mitigate, resolve), categories,
# title, trigger, root cause, action items: (description, owner, due offset days, status, priority)
_PAST: list[tuple[Any, ...]] = [
    ("INC-2025-1104", "fraud_screen", "SEV3", "closed", datetime(2025, 11, 4, 2, 10),
     (95, 12, 180, 410), ["pipeline outage"], "Stale device features after nightly job failure",
     "Nightly feature backfill failed on a full disk.",
     "The feature job had no freshness check; the model scored 6-hour-old features.",
     [("Freshness check on device features", "ml-platform", 14, "done", "P1"),
      ("Disk usage alert on the feature cluster", "infra", 7, "done", "P2")]),
    ("INC-2025-1212", "credit_risk", "SEV2", "closed", datetime(2025, 12, 12, 15, 30),
     (240, 9, 290, 1500), ["bad deploy"], "Decline rate doubled after threshold config change",
     "Release 2.9 shipped the staging decision threshold to production.",
     "Decision thresholds lived in an unversioned config file outside the model registry.",
     [("Version decision thresholds with the model", "ml-platform", 30, "done", "P1"),
      ("Alert on decline-rate shift by channel", "credit-ops", 21, "done", "P2")]),
    ("INC-2026-0115", "collections_priority", "SEV3", "closed", datetime(2026, 1, 15, 9, 0),
     (4320, 60, 5760, 14400), ["label noise"], "Vendor outcome labels mislabeled paid accounts",
     "The collections vendor changed the outcome code for 'paid in full'.",
     "Training labels were joined on vendor codes without a mapping contract.",
     [("Contract for vendor outcome codes", "data-platform", 30, "done", "P2"),
      ("Label audit sample each retrain", "data-science", 45, "open", "P3")]),
    ("INC-2026-0203", "fraud_screen", "SEV1", "closed", datetime(2026, 2, 3, 18, 45),
     (6, 3, 48, 190), ["dependency failure"], "Device-fingerprint API outage timed out scoring",
     "The device-fingerprint vendor's API went down during peak hours.",
     "Scoring waited on the vendor with a 10 s timeout and no fallback score.",
     [("Fallback score without device features", "ml-platform", 14, "done", "P0"),
      ("Timeout budget 300 ms on vendor calls", "ml-platform", 7, "done", "P0"),
      ("Vendor SLA review", "procurement", 60, "done", "P3")]),
    ("INC-2026-0227", "credit_risk", "SEV3", "closed", datetime(2026, 2, 27, 11, 20),
     (8640, 120, 10080, 20160), ["training-serving skew"],
     "Monthly income served where the model was trained on annual income",
     "A refactor of the application service changed the income field's unit.",
     "Online and offline feature code were separate implementations.",
     [("Shared feature definitions for training and serving", "ml-platform", 60, "in_progress",
       "P1"),
      ("Skew monitor on top-10 features", "data-science", 30, "done", "P2")]),
    ("INC-2026-0318", "collections_priority", "SEV4", "closed", datetime(2026, 3, 18, 4, 0),
     (30, 20, 95, 300), ["resource exhaustion"], "Batch scoring ran out of memory",
     "Quarter-end account volume exceeded the batch worker's memory.",
     "The batch job loaded all accounts at once.",
     [("Stream batch scoring in chunks", "ml-platform", 30, "done", "P2")]),
    ("INC-2026-0409", "credit_risk", "SEV2", "closed", datetime(2026, 4, 9, 13, 5),
     (75, 10, 150, 2880), ["data contract breach", "dependency failure"],
     "Credit bureau coded missing scores as 0",
     "The bureau changed its null coding for thin-file applicants without notice.",
     "credit_score range (300-850) was documented but not checked at ingestion.",
     [("Range checks on bureau fields at ingestion", "data-platform", 14, "done", "P0"),
      ("Change-notice clause in the bureau contract", "procurement", 90, "open", "P3")]),
    ("INC-2026-0505", "fraud_screen", "SEV3", "closed", datetime(2026, 5, 5, 10, 0),
     (1440, 45, 2160, 7200), ["data drift"], "Promotion traffic raised false-positive fraud flags",
     "A marketing promotion brought many first-time customers.",
     "Customer-tenure distribution shifted; thresholds were tuned on regular traffic.",
     [("Marketing calendar feed into drift monitoring", "marketing-ops", 30, "open", "P2"),
      ("Segment thresholds for first-time customers", "data-science", 45, "done", "P2")]),
    ("INC-2026-0602", "credit_risk", "SEV3", "closed", datetime(2026, 6, 2, 8, 30),
     (2880, 30, 2900, 4320), ["feature leakage"], "Retrained model leaked post-decision feature",
     "Retraining added a feature populated only after a loan was funded.",
     "No point-in-time check of feature availability in the training pipeline.",
     [("Point-in-time correctness test in training", "data-science", 30, "done", "P1"),
      ("Shadow evaluation gate before promotion", "ml-platform", 45, "in_progress", "P1")]),
    ("INC-2026-0714", "collections_priority", "SEV2", "closed", datetime(2026, 7, 14, 1, 15),
     (180, 25, 420, 960), ["pipeline outage", "resource exhaustion"],
     "Priority scores missing for the morning call list",
     "The upstream accounts extract stalled on a lock and the retry storm filled the queue.",
     "Retries had no backoff and the extract had no deadline.",
     [("Exponential backoff on extract retries", "data-platform", 14, "done", "P1"),
      ("Deadline alert on the accounts extract", "data-platform", 21, "open", "P2")]),
    ("INC-2026-0806", "fraud_screen", "SEV2", "closed", datetime(2026, 8, 6, 16, 40),
     (12, 4, 38, 240), ["bad deploy"], "Fraud model v7 container crashed on start",
     "v7 image was built without the tokenizer dependency.",
     "No smoke test of the serving image before traffic shift.",
     [("Smoke test serving images in CI", "ml-platform", 14, "done", "P1")]),
    ("INC-2026-0902", "credit_risk", "SEV4", "closed", datetime(2026, 9, 2, 9, 0),
     (600, 60, 720, 1440), ["other"], "Monitoring dashboards showed local time as UTC",
     "A dashboard library upgrade changed its default time zone.",
     "Dashboards did not pin the time zone.",
     [("Pin UTC in dashboard configs", "sre", 14, "done", "P3")]),
    ("INC-2026-0923", "collections_priority", "SEV3", "resolved", datetime(2026, 9, 23, 14, 0),
     (2880, 90, 4320, 10080), ["data drift", "label noise"],
     "Hardship-program accounts drifted the payment features",
     "A hardship program changed payment behaviour of 8 % of accounts.",
     "Program flags were not features, and program outcomes were labelled as defaults.",
     [("Add hardship flag as a feature", "data-science", 21, "in_progress", "P1"),
      ("Relabel hardship outcomes", "data-science", 14, "open", "P2"),
      ("Drift alert on payment features", "ml-platform", 30, "done", "P2")]),
    ("INC-2026-1008", "fraud_screen", "SEV3", "mitigated", datetime(2026, 10, 8, 20, 10),
     (25, 6, 70, None), ["dependency failure"], "Geo-IP lookups failed for mobile traffic",
     "The geo-IP provider rotated certificates; the mobile gateway pinned the old one.",
     "Certificate pinning without rotation monitoring.",
     [("Monitor certificate expiry of vendors", "sre", 10, "open", "P1"),
      ("Remove certificate pinning on vendor calls", "mobile-platform", 40, "open", "P2")]),
]


def _past_records() -> list[dict[str, Any]]:
    out = []
    for (iid, model, sev, status, start, mins, cats, title, trigger, cause, items) in _PAST:
        t0 = start.replace(tzinfo=UTC)
        ttd, tta, ttm, ttr = mins
        rec: dict[str, Any] = {
            "id": iid, "title": title, "severity": sev, "status": status,
            "started_at": t0, "detected_at": t0 + timedelta(minutes=ttd),
            "acknowledged_at": t0 + timedelta(minutes=ttd + tta),
            "mitigated_at": t0 + timedelta(minutes=ttm),
        }
        if ttr is not None:
            rec["resolved_at"] = t0 + timedelta(minutes=ttr)
        rec.update({
            "affected_models": [model], "affected_services": [f"{model.replace('_', '-')}-api"],
            "summary": f"{title}. {cause}", "impact": {"description": f"Degraded {model} output."},
            "trigger": trigger, "root_causes": [cause],
            "contributing_factors": [{"category": c, "description": f"{c}: see root cause"}
                                     for c in cats],
            "resolution": "Mitigated and fixed; see action items.",
            "detection": {"method": "alert" if ttd <= 240 else "user report",
                          "description": "monitoring alert" if ttd <= 240
                          else "reported by a team"},
            "lessons_learned": {"went_well": [], "went_wrong": [cause], "got_lucky": []},
            "action_items": [
                {"id": f"AI-{i + 1}", "description": d, "owner": o,
                 "due": (t0 + timedelta(days=due)).date(), "status": st, "priority": pr,
                 "kind": "prevent"}
                for i, (d, o, due, st, pr) in enumerate(items)],
        })
        out.append(rec)
    return out

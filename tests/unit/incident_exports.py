"""A non-ML incident exported the way SRE teams have it, written as the tools' own JSON/YAML.

payments-api returns 503 on a quarter of card authorisations after a config push. Everything
is per minute over a 28-day window ending 2026-06-29 00:00 UTC (40,320 minutes); the arrays
below are the ground truth the tests compute their expected figures from, with numpy, never
through workbench.

* PagerDuty REST v2: incident, log entries, notes, change events; Opsgenie: alert, logs, notes;
  Jira: a search result with the action items.
* Prometheus ``query_range`` JSON (matrix): requests in two series (two instances), errors in
  two series present only in minutes with errors (as Prometheus leaves out empty points),
  histogram buckets by ``le``; each query split into four chunks of at most 11,000 points
  whose boundaries repeat a point, as a client paging a 28-day range gets them. A point at t
  covers the minute before t.
* OpenSLO v1 (SLOs, an SLI by reference, an alert policy with alertAfter) and Sloth.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

T0 = datetime(2026, 6, 1, tzinfo=UTC)
MINUTES = 28 * 1440
STARTED = datetime(2026, 6, 28, 13, 40, tzinfo=UTC)
CREATED = datetime(2026, 6, 28, 13, 54, 32, tzinfo=UTC)  # PagerDuty incident created
ACKED = datetime(2026, 6, 28, 14, 7, 3, tzinfo=UTC)
MITIGATED = datetime(2026, 6, 28, 14, 38, tzinfo=UTC)
RESOLVED = datetime(2026, 6, 28, 15, 26, 5, tzinfo=UTC)
PUSH = datetime(2026, 6, 28, 13, 39, 40, tzinfo=UTC)
AVAIL_TARGET = 0.995
LAT_TARGET = 0.99
LAT_THRESHOLD_S = 0.3


def minute(t: datetime) -> int:
    return int((t - T0).total_seconds() // 60)


def truth() -> dict[str, np.ndarray]:
    """Per-minute requests, errors, requests within 300 ms (row i = minute [T0+i, T0+i+1))."""
    i = np.arange(MINUTES)
    requests = 900 + (i % 60) * 5 + (i // 1440 % 7) * 20
    errors = np.where(i % 9 == 0, 1, 0) + np.where(i % 97 == 0, 3, 0)
    slow = requests // 400  # baseline: ~0.3 % slower than 300 ms
    s, m = minute(STARTED), minute(MITIGATED)
    errors[s:m] = requests[s:m] // 4  # a quarter of authorisations fail
    # Latency degrades in the second half of the incident only (retries pile up).
    slow[s + 25 : m] = requests[s + 25 : m] // 8
    return {"requests": requests, "errors": errors, "good": requests - slow}


def _chunks(points: list[list], size: int = 11_000) -> list[list[list]]:
    """Consecutive chunks of at most ``size`` points; each repeats the previous one's last."""
    out, start = [], 0
    while start < len(points):
        out.append(points[start : start + size])
        start += size - 1
    return out


def _matrix(series: list[tuple[dict, list[list]]]) -> dict:
    return {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [{"metric": m, "values": v} for m, v in series],
        },
    }


def _points(values: np.ndarray, first: int = 0, drop_zero: bool = False) -> list[list]:
    # A point at t covers the minute before t: minute i is exported at T0 + (i + 1) min.
    base = T0.timestamp() + 60
    return [
        [base + 60 * (first + k), str(int(v))]
        for k, v in enumerate(values)
        if not (drop_zero and v == 0)
    ]


def write_prometheus(folder: Path, first: int = 0, chunked: bool = True) -> dict[str, list[Path]]:
    """query_range exports of minutes ``first`` .. end, as kind -> chunk files."""
    t = truth()
    req, err, good = (t[k][first:] for k in ("requests", "errors", "good"))
    series = {
        "requests": [
            ({"job": "payments-api", "instance": "a"}, req * 3 // 5),
            ({"job": "payments-api", "instance": "b"}, req - req * 3 // 5),
        ],
        "errors": [
            ({"code": "503"}, err - err // 10),
            ({"code": "500"}, err // 10),
        ],
        "latency_buckets": [
            ({"le": "0.1"}, good // 2),
            ({"le": "0.3"}, good),
            ({"le": "1"}, good + (req - good) // 2),
            ({"le": "+Inf"}, req),
        ],
    }
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, list[Path]] = {}
    for kind, ss in series.items():
        pts = [(m, _points(v, first, drop_zero=kind == "errors")) for m, v in ss]
        # Chunk by time: the same time ranges for every series of the query.
        n = len(req)
        bounds = _chunks(list(range(n))) if chunked else [list(range(n))]
        files = []
        for c, idx in enumerate(bounds):
            lo = T0.timestamp() + 60 * (first + idx[0] + 1)
            hi = T0.timestamp() + 60 * (first + idx[-1] + 1)
            part = [(m, [p for p in v if lo <= p[0] <= hi]) for m, v in pts]
            f = folder / f"{kind}-{c + 1}.json"
            f.write_text(json.dumps(_matrix(part)), encoding="utf-8")
            files.append(f)
        out[kind] = files
    return out


def write_prometheus_15s(folder: Path, first: int) -> dict[str, list[Path]]:
    """The same counts at a 15-second step (each minute split in four equal-ish parts)."""
    t = truth()
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for kind, values in (("requests", t["requests"]), ("errors", t["errors"])):
        pts = []
        for k, v in enumerate(values[first:]):
            quarters = [v // 4] * 3 + [v - 3 * (v // 4)]
            for q, part in enumerate(quarters):
                ts = T0.timestamp() + 60 * (first + k) + 15 * (q + 1)
                pts.append([ts, str(int(part))])
        f = folder / f"{kind}-15s.json"
        f.write_text(json.dumps(_matrix([({}, pts)])), encoding="utf-8")
        out[kind] = [f]
    return out


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_pagerduty(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    svc = {"id": "PSVC1", "type": "service_reference", "summary": "payments-api"}
    (folder / "incident.json").write_text(json.dumps({"incident": {
        "id": "Q2LZ6UX3KXMO1B", "type": "incident", "incident_number": 4821,
        "title": "payments-api: 5xx ratio above 5%", "status": "resolved",
        "urgency": "high", "created_at": _iso(CREATED), "resolved_at": _iso(RESOLVED),
        "service": svc, "priority": {"id": "P1ID", "type": "priority", "summary": "P1"},
        "html_url": "https://example.pagerduty.com/incidents/Q2LZ6UX3KXMO1B",
    }}), encoding="utf-8")
    entries = [
        ("trigger_log_entry", CREATED, "Triggered through the API",
         {"type": "generic_events_api_inbound_integration_reference", "summary": "Prometheus"}),
        ("notify_log_entry", CREATED + timedelta(seconds=5), "Notified Ana Ruiz by phone",
         {"type": "user_reference", "summary": "Ana Ruiz"}),
        ("acknowledge_log_entry", ACKED, "Acknowledged by Ana Ruiz",
         {"type": "user_reference", "summary": "Ana Ruiz"}),
        ("acknowledge_log_entry", ACKED + timedelta(minutes=9), "Acknowledged by Bo Chen",
         {"type": "user_reference", "summary": "Bo Chen"}),
        ("resolve_log_entry", RESOLVED, "Resolved by Ana Ruiz",
         {"type": "user_reference", "summary": "Ana Ruiz"}),
    ]
    (folder / "log_entries.json").write_text(json.dumps({"log_entries": [
        {"id": f"R{k}", "type": typ, "summary": text, "created_at": _iso(t), "agent": agent,
         "channel": {"type": "api" if typ.startswith("trigger") else "web_ui",
                     "summary": "Prometheus Alertmanager" if typ.startswith("trigger") else ""}}
        for k, (typ, t, text, agent) in enumerate(entries)
    ], "limit": 100, "offset": 0, "more": False}), encoding="utf-8")
    (folder / "notes.json").write_text(json.dumps({"notes": [
        {"id": "N1", "user": {"summary": "Bo Chen"}, "channel": {"summary": "web"},
         "content": "Rolled back payments-config to r4811 <b>at 14:35</b>",
         "created_at": _iso(datetime(2026, 6, 28, 14, 36, tzinfo=UTC))},
    ]}), encoding="utf-8")
    (folder / "change_events.json").write_text(json.dumps({"change_events": [
        {"id": "C1", "summary": "payments-config PR #4812 merged: retry budget 0",
         "timestamp": _iso(PUSH), "source": "github", "integration": {"summary": "GitHub"},
         "services": [svc]},
    ]}), encoding="utf-8")
    return folder


def write_opsgenie(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    ms = lambda t: int((t - CREATED).total_seconds() * 1000)  # noqa: E731
    (folder / "alert.json").write_text(json.dumps({"data": {
        "id": "70413a06-38d6-4c85-92b8-5ebc900d42e2", "tinyId": "1791", "alias": "payments-5xx",
        "message": "payments-api: 5xx ratio above 5%", "status": "closed", "acknowledged": True,
        "createdAt": CREATED.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "priority": "P2",
        "source": "Prometheus", "owner": "ana@example.com",
        "report": {"ackTime": ms(ACKED), "closeTime": ms(RESOLVED),
                   "acknowledgedBy": "ana@example.com", "closedBy": "ana@example.com"},
    }, "took": 0.003, "requestId": "x"}), encoding="utf-8")
    (folder / "logs.json").write_text(json.dumps({"data": [
        {"log": "Alert created via Prometheus", "type": "system", "owner": "",
         "createdAt": _iso(CREATED), "offset": "1"},
        {"log": "Alert acknowledged via web", "type": "alertAck", "owner": "ana@example.com",
         "createdAt": _iso(ACKED), "offset": "2"},
    ]}), encoding="utf-8")
    (folder / "notes.json").write_text(json.dumps({"data": [
        {"note": "rollback started", "owner": "bo@example.com",
         "createdAt": _iso(datetime(2026, 6, 28, 14, 30, tzinfo=UTC)), "offset": "1"},
    ]}), encoding="utf-8")
    return folder


def write_jira(path: Path) -> Path:
    path.write_text(json.dumps({"startAt": 0, "maxResults": 50, "total": 2, "issues": [
        {"key": "PAY-101", "fields": {
            "summary": "Validate payments-config retry budget in CI",
            "assignee": {"displayName": "Bo Chen"}, "duedate": "2026-07-03",
            "status": {"name": "In Progress", "statusCategory": {"key": "indeterminate"}},
            "priority": {"name": "High"}, "labels": ["postmortem", "prevent"]}},
        {"key": "PAY-102", "fields": {
            "summary": "Burn-rate alert on card authorisations",
            "assignee": None, "duedate": None,
            "status": {"name": "Done", "statusCategory": {"key": "done"}},
            "resolution": {"name": "Done"},
            "priority": {"name": "Medium"}, "labels": ["detect"]}},
    ]}), encoding="utf-8")
    return path


OPENSLO = """\
apiVersion: openslo/v1
kind: SLI
metadata:
  name: authorisations-ok
spec:
  ratioMetric:
    counter: true
    bad:
      metricSource:
        type: Prometheus
        spec:
          query: sum(rate(http_requests_total{job="payments-api",code=~"5.."}[1m]))
    total:
      metricSource:
        type: Prometheus
        spec:
          query: sum(rate(http_requests_total{job="payments-api"}[1m]))
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: payments-availability
spec:
  service: payments-api
  indicatorRef: authorisations-ok
  timeWindow:
    - duration: 4w
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - displayName: 99.5% of authorisations succeed
      target: 0.995
  alertPolicies:
    - kind: AlertPolicy
      metadata:
        name: fast-burn
      spec:
        conditions:
          - kind: AlertCondition
            metadata:
              name: fast-burn-1h
            spec:
              severity: page
              condition:
                kind: burnrate
                op: gte
                threshold: 14.4
                lookbackWindow: 1h
                alertAfter: 5m
    - alertPolicyRef: slow-burn
---
apiVersion: openslo/v1
kind: AlertPolicy
metadata:
  name: slow-burn
spec:
  conditions:
    - conditionRef: slow-burn-6h
---
apiVersion: openslo/v1
kind: AlertCondition
metadata:
  name: slow-burn-6h
spec:
  severity: ticket
  condition:
    kind: burnrate
    op: gte
    threshold: 6
    lookbackWindow: 6h
    alertAfter: 30m
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: payments-latency
spec:
  service: payments-api
  indicator:
    metadata:
      name: fast-authorisations
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: Prometheus
            spec:
              query: >-
                sum(rate(http_request_duration_seconds_bucket{job="payments-api",le="0.3"}[1m]))
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(http_request_duration_seconds_count{job="payments-api"}[1m]))
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.99
"""

SLOTH = """\
version: "prometheus/v1"
service: "payments-api"
labels:
  team: payments
slos:
  - name: "authorisations-availability"
    objective: 99.5
    description: "Card authorisations that do not fail with 5xx."
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="payments-api",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="payments-api"}[{{.window}}]))
    alerting:
      name: PaymentsAvailability
      page_alert:
        labels:
          severity: page
      ticket_alert:
        disable: true
  - name: "authorisations-latency"
    objective: 99
    sli:
      events:
        error_query: |
          (
            sum(rate(http_request_duration_seconds_count{job="payments-api"}[{{.window}}]))
            -
            sum(rate(http_request_duration_seconds_bucket{job="payments-api",le="0.3"}[{{.window}}]))
          )
        total_query: sum(rate(http_request_duration_seconds_count{job="payments-api"}[{{.window}}]))
    alerting:
      name: PaymentsLatency
      page_alert:
        labels:
          severity: page
      ticket_alert:
        disable: true
"""

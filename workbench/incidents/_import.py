"""Incident record skeletons and event logs from PagerDuty and Opsgenie API exports.

``EXPORT_DIR`` holds the API's JSON as returned (files missing are skipped, except the incident):

* PagerDuty REST v2: ``incident.json`` (``GET /incidents/{id}``: ``{"incident": {...}}``),
  ``log_entries.json`` (``{"log_entries": [...]}``), ``notes.json`` (``{"notes": [...]}``),
  ``change_events.json`` (``{"change_events": [...]}``); each may also be a list of pages.
* Opsgenie: ``alert.json`` or ``incident.json`` (``{"data": {...}}``), ``logs.json`` and
  ``notes.json`` (``{"data": [...]}``).
* Jira (``--jira FILE``): a search result ``{"issues": [...]}`` becomes the action items.

What is taken from where: detection = the incident's creation; acknowledgement = the first
acknowledge log entry (Opsgenie: ``report.ackTime``); resolution = the first resolve entry
(Opsgenie: ``report.closeTime``); the start is ``--started`` (default: the creation, i.e. a TTD
of 0, marked TODO) and the mitigation ``--mitigated`` (default: the resolution, marked TODO);
priority P1-P5 is the severity (without a priority: PagerDuty urgency high = P2, low = P4, marked
TODO). Log entries, notes and change events go on the timeline (``events.csv``). The narrative
(summary, impact, trigger, root causes, contributing factors, lessons) is left as ``TODO:``
markers, which the postmortem page counts until they are written.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from workbench.errors import input_error
from workbench.incidents._record import todo_fields, validate_record

TODO = "TODO:"


@dataclass(frozen=True)
class Imported:
    """What an import wrote: the record file, the event log and how many events of each kind."""

    record_path: Path
    events_path: Path
    events: int
    action_items: int
    todo: tuple[str, ...]


def _json(path: Path, required: bool = False) -> Any:
    if not path.exists():
        if required:
            raise input_error(path, None, "an existing JSON export file")
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise input_error(path, None, "JSON as the API returns it") from exc


def _object(path: Path, key: str, shape: str, required: tuple[str, ...]) -> dict[str, Any]:
    """The object ``doc[key]`` of a required export file, with a value for each ``required``."""
    doc = _json(path, required=True)
    obj = doc.get(key) if isinstance(doc, dict) else None
    if not isinstance(obj, dict):
        raise input_error(path, key, shape)
    for k in required:
        if not obj.get(k):
            raise input_error(path, f"{key}.{k}", "a value")
    return obj


def _items(doc: Any, key: str, path: Path) -> list[dict[str, Any]]:
    """``doc[key]`` of one response or of a list of pages."""
    if doc is None:
        return []
    pages = doc if isinstance(doc, list) else [doc]
    out: list[dict[str, Any]] = []
    for i, page in enumerate(pages):
        items = page.get(key) if isinstance(page, dict) else None
        if not isinstance(items, list):
            raise input_error(path, f"[{i}].{key}" if len(pages) > 1 else key, "a list")
        out += [x for x in items if isinstance(x, dict)]
    return out


def _ts(value: Any, path: object, field: str) -> datetime:
    try:
        t = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise input_error(path, field, "an ISO 8601 timestamp", value) from exc
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def parse_when(text: str | None, option: str) -> datetime | None:
    return None if not text else _ts(text, option, "value")


def _summary(obj: Any) -> str:
    return str(obj.get("summary") or obj.get("name") or "") if isinstance(obj, dict) else ""


def _skeleton(
    *,
    rid: str,
    title: str,
    severity: str,
    created: datetime,
    acked: datetime | None,
    resolved: datetime | None,
    started: datetime | None,
    mitigated: datetime | None,
    services: list[str],
    detection: str,
    alert: str,
    todo_notes: list[str],
) -> dict[str, Any]:
    status = "resolved" if resolved else ("mitigated" if mitigated else "investigating")
    resolution = f"{TODO} how the impact was stopped and the cause fixed"
    if mitigated is None and resolved is not None:
        mitigated = resolved
        resolution += (
            " (mitigated_at was set to the resolution time: correct it or use --mitigated)"
        )
    start_note = "" if started else " (started_at was set to the detection time: TTD reads 0)"
    rec: dict[str, Any] = {
        "id": rid,
        "title": title,
        "severity": severity,
        "kind": "service",
        "status": status,
        "started_at": (started or created).isoformat(),
        "detected_at": created.isoformat(),
        "acknowledged_at": acked.isoformat() if acked else None,
        "mitigated_at": mitigated.isoformat() if mitigated else None,
        "resolved_at": resolved.isoformat() if resolved else None,
        "affected_services": services,
        "summary": f"{TODO} what happened, in two or three sentences{start_note}",
        "impact": {"description": f"{TODO} who was affected and how"},
        "trigger": f"{TODO} the change or event that set it off",
        "root_causes": [f"{TODO} why it could happen"],
        "contributing_factors": [
            {"category": "other", "description": f"{TODO} what made it worse"}
        ],
        "resolution": resolution,
        "detection": {"method": "alert", "description": detection, "alert": alert or None},
        "lessons_learned": {
            "went_well": [f"{TODO} what went well"],
            "went_wrong": [f"{TODO} what went wrong"],
            "got_lucky": [],
        },
    }
    if todo_notes:
        rec["summary"] += " [" + "; ".join(todo_notes) + "]"
    return {k: v for k, v in rec.items() if v is not None}


_JIRA_PRIORITY = {
    "highest": "P0",
    "blocker": "P0",
    "high": "P1",
    "critical": "P1",
    "medium": "P2",
    "major": "P2",
}


def jira_action_items(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Action items from a Jira search result (``{"issues": [...]}``, REST v2 or v3)."""
    p = Path(path)
    issues = _items(_json(p, required=True), "issues", p)
    out = []
    for i, issue in enumerate(issues):
        f = issue.get("fields") or {}
        if not issue.get("key") or not f.get("summary"):
            raise input_error(p, f"issues[{i}]", "key and fields.summary")
        cat = str(((f.get("status") or {}).get("statusCategory") or {}).get("key", "new"))
        res = str((f.get("resolution") or {}).get("name", "")).lower()
        status = {"done": "done", "indeterminate": "in_progress"}.get(cat, "open")
        if status == "done" and ("won" in res or "not do" in res or "duplicate" in res):
            status = "wontfix"
        prio = str((f.get("priority") or {}).get("name", "")).lower()
        labels = [str(x).lower() for x in f.get("labels") or []]
        kind = next((k for k in ("prevent", "detect", "mitigate") if k in labels), "prevent")
        item: dict[str, Any] = {
            "id": str(issue["key"]),
            "description": str(f["summary"]),
            "owner": _summary(f.get("assignee"))
            or str((f.get("assignee") or {}).get("displayName", ""))
            or f"{TODO} owner",
            "status": status,
            "priority": _JIRA_PRIORITY.get(prio, "P3"),
            "kind": kind,
        }
        if f.get("duedate"):
            item["due"] = str(f["duedate"])
        out.append(item)
    return out


def _pd_kind(entry_type: str) -> str:
    return entry_type.removesuffix("_log_entry").removesuffix("_reference") or "log"


def from_pagerduty(
    export_dir: Path, started: datetime | None, mitigated: datetime | None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Record skeleton and events from a PagerDuty REST v2 export directory."""
    ipath = export_dir / "incident.json"
    inc = _object(ipath, "incident", "an object (GET /incidents/{id})", ("created_at", "title"))
    created = _ts(inc["created_at"], ipath, "incident.created_at")
    lpath = export_dir / "log_entries.json"
    logs = sorted(
        _items(_json(lpath), "log_entries", lpath),
        key=lambda e: _ts(e.get("created_at"), lpath, "created_at"),
    )
    events: list[dict[str, Any]] = []
    acked = resolved = None
    first_trigger = ""
    for e in logs:
        t = _ts(e.get("created_at"), lpath, "log_entries[].created_at")
        kind = _pd_kind(str(e.get("type", "")))
        if kind == "acknowledge" and acked is None:
            acked = t
        if kind == "resolve" and resolved is None:
            resolved = t
        if kind == "trigger" and not first_trigger:
            first_trigger = _summary(e.get("channel")) or _summary(e.get("agent"))
        events.append(
            {
                "timestamp": t,
                "source": _summary(e.get("agent")) or "pagerduty",
                "kind": kind,
                "message": str(e.get("summary") or kind),
            }
        )
    if resolved is None and inc.get("status") == "resolved" and inc.get("resolved_at"):
        resolved = _ts(inc["resolved_at"], ipath, "incident.resolved_at")
    npath = export_dir / "notes.json"
    for n in _items(_json(npath), "notes", npath):
        events.append(
            {
                "timestamp": _ts(n.get("created_at"), npath, "notes[].created_at"),
                "source": _summary(n.get("user")) or "pagerduty",
                "kind": "note",
                "message": str(n.get("content", "")),
            }
        )
    cpath = export_dir / "change_events.json"
    for c in _items(_json(cpath), "change_events", cpath):
        events.append(
            {
                "timestamp": _ts(c.get("timestamp"), cpath, "change_events[].timestamp"),
                "source": str(c.get("source") or _summary(c.get("integration")) or "change"),
                "kind": "change",
                "message": str(c.get("summary", "")),
            }
        )
    prio = _summary(inc.get("priority"))
    notes = []
    if re.fullmatch(r"P[1-5]", prio):
        severity = prio
    else:
        severity = "P2" if inc.get("urgency") == "high" else "P4"
        notes.append(f"severity from urgency {inc.get('urgency')!r} (no priority set): check it")
    number = inc.get("incident_number") or inc.get("id")
    service = _summary(inc.get("service"))
    rec = _skeleton(
        rid=f"PD-{number}",
        title=str(inc["title"]),
        severity=severity,
        created=created,
        acked=acked,
        resolved=resolved,
        started=started,
        mitigated=mitigated,
        services=[service] if service else [],
        detection=f"PagerDuty incident created{' via ' + first_trigger if first_trigger else ''}",
        alert=str(inc["title"]),
        todo_notes=notes,
    )
    return rec, events


def _ms_after(t: datetime, ms: Any) -> datetime | None:
    return None if not isinstance(ms, int | float) else t + timedelta(milliseconds=float(ms))


def from_opsgenie(
    export_dir: Path, started: datetime | None, mitigated: datetime | None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Record skeleton and events from an Opsgenie alert (or incident) export directory."""
    ipath = export_dir / "alert.json"
    if not ipath.exists():
        ipath = export_dir / "incident.json"
    data = _object(
        ipath,
        "data",
        "an object (GET /v2/alerts/{id} or /v1/incidents/{id})",
        ("createdAt", "message"),
    )
    created = _ts(data["createdAt"], ipath, "data.createdAt")
    report = data.get("report") or {}
    acked = _ms_after(created, report.get("ackTime"))
    resolved = (
        _ms_after(created, report.get("closeTime"))
        if data.get("status") in ("closed", "resolved")
        else None
    )
    events: list[dict[str, Any]] = []
    lpath = export_dir / "logs.json"
    for e in _items(_json(lpath), "data", lpath):
        t = _ts(e.get("createdAt"), lpath, "data[].createdAt")
        text = str(e.get("log", ""))
        if acked is None and "acknowledged" in text.lower():
            acked = t
        events.append(
            {
                "timestamp": t,
                "source": str(e.get("owner") or "opsgenie"),
                "kind": str(e.get("type") or "log"),
                "message": text,
            }
        )
    npath = export_dir / "notes.json"
    for n in _items(_json(npath), "data", npath):
        events.append(
            {
                "timestamp": _ts(n.get("createdAt"), npath, "data[].createdAt"),
                "source": str(n.get("owner") or "opsgenie"),
                "kind": "note",
                "message": str(n.get("note", "")),
            }
        )
    prio = str(data.get("priority", ""))
    notes = [] if re.fullmatch(r"P[1-5]", prio) else [f"priority {prio!r} is not P1-P5: check it"]
    services = [str(s) for s in data.get("impactedServices") or []]
    rec = _skeleton(
        rid=f"OG-{data.get('tinyId') or data.get('id')}",
        title=str(data["message"]),
        severity=prio if not notes else "P3",
        created=created,
        acked=acked,
        resolved=resolved,
        started=started,
        mitigated=mitigated,
        services=services,
        detection=f"Opsgenie alert created by {data.get('source') or 'an integration'}",
        alert=str(data.get("alias") or data["message"]),
        todo_notes=notes,
    )
    return rec, events


def write_import(
    source: str,
    export_dir: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    started: datetime | None = None,
    mitigated: datetime | None = None,
    jira: str | os.PathLike[str] | None = None,
    prometheus: Mapping[str, Sequence[str | os.PathLike[str]]] | None = None,
    slos: str | os.PathLike[str] | None = None,
) -> Imported:
    """Write ``OUT/<id>.yaml`` and ``OUT/<id>/events.csv`` (plus copies of the SLI and SLO
    files given); an existing record of the same id is never overwritten."""
    src = Path(export_dir)
    if not src.is_dir():
        raise input_error(src, None, "a directory holding the API's JSON export")
    reader = {"pagerduty": from_pagerduty, "opsgenie": from_opsgenie}[source]
    rec, events = reader(src, started, mitigated)
    if jira:
        rec["action_items"] = jira_action_items(jira)
    rid = rec["id"]
    out_dir = Path(out)
    record_path, signal_dir = out_dir / f"{rid}.yaml", out_dir / rid
    if record_path.exists() or signal_dir.exists():
        raise input_error(
            record_path,
            None,
            "a new incident (a record of this id already exists; nothing was written)",
        )
    signals: dict[str, Any] = {"events": f"{rid}/events.csv"}
    copies: list[tuple[Path, str]] = []
    if slos:
        copies.append((Path(slos), f"{rid}/{Path(slos).name}"))
        signals["slos"] = f"{rid}/{Path(slos).name}"
    if prometheus:
        signals["prometheus"] = {}
        for kind, files in prometheus.items():
            rels = []
            for i, f in enumerate(files):
                rel = f"{rid}/prometheus/{kind}-{i + 1}.json"
                copies.append((Path(f), rel))
                rels.append(rel)
            signals["prometheus"][kind] = rels
    rec["signals"] = signals
    validate_record(rec, file=record_path)  # a skeleton that would not load is a bug here
    frame = pl.DataFrame(
        events,
        schema={
            "timestamp": pl.Datetime("us", "UTC"),
            "source": pl.String,
            "kind": pl.String,
            "message": pl.String,
        },
    ).sort("timestamp", maintain_order=True)
    header = (
        f"# Incident record imported from {source} ({src}).\n"
        "# Fields starting with TODO are for the postmortem's authors; the page counts them.\n"
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    # Built in a staging folder beside the target and renamed into place.
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".import-") as tmp:
        stage = Path(tmp)
        (stage / rid).mkdir()
        frame.with_columns(pl.col("timestamp").dt.strftime("%Y-%m-%dT%H:%M:%SZ")).write_csv(
            stage / rid / "events.csv"
        )
        for file, rel in copies:
            if not file.is_file():
                raise input_error(file, None, "an existing file")
            (stage / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, stage / rel)
        (stage / f"{rid}.yaml").write_text(
            header + yaml.safe_dump(rec, sort_keys=False, allow_unicode=True, width=100),
            encoding="utf-8",
        )
        (stage / rid).rename(signal_dir)
        (stage / f"{rid}.yaml").rename(record_path)
    return Imported(
        record_path,
        signal_dir / "events.csv",
        frame.height,
        len(rec.get("action_items", [])),
        tuple(todo_fields(rec)),
    )

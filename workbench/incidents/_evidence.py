"""Findings from the same review pack (drift and contract results) as timeline events.

The pack runs ``contract_checks`` and ``drift`` before ``incident_postmortem``; their
findings land in the same ``results_dir``. Only the findings named in ``names`` (default
:data:`EVIDENCE`, the notebook's ``evidence_findings`` parameter) are read, never every file
in the folder: in a pack the other notebooks finish in any order, so reading whatever happens
to be there would make the page (and its cache key) depend on timing. A pack spec lists the
same notebooks in the postmortem's ``needs``. Each named file is then classified by the
notebook that wrote it (its ``notebook`` field), so drift run under another name
(``drift_fraud``), or for two models, is found too when named. Both are optional: a
standalone run simply has no pack evidence. Only the fields below are read, and unknown
shapes are skipped rather than trusted:

* drift findings: ``windows`` = [{start, end, column, statistic, drifted}] (top
  level or under ``details``); the first drifted window per column is its onset
  (``first_drift_window``, column -> start, is used when ``windows`` is absent).
* contract findings: ``checks`` = [{id, column, rule, passed, failed_rows,
  first_failed_at, last_failed_at}] (top level or under ``details``/``results``); a failed
  check is placed at ``first_failed_at`` when that lies in the window; checks failing since
  before the window are chronic, counted in the notes but kept off the timeline.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from workbench.findings import SUFFIX, Findings, read_findings_dir

DRIFT = "drift"  # the notebooks whose findings are evidence
CONTRACT = "contract_checks"
EVIDENCE: tuple[str, ...] = (DRIFT, CONTRACT)  # the findings names read by default
DRIFT_FILE = f"{DRIFT}{SUFFIX}"
CONTRACT_FILE = f"{CONTRACT}{SUFFIX}"


def _ts(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        t = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _find(doc: Any, key: str) -> list[Any]:
    if not isinstance(doc, dict):
        return []
    for holder in (doc, doc.get("details"), doc.get("results")):
        if isinstance(holder, dict) and isinstance(holder.get(key), list):
            return holder[key]
    return []


def _written_by(found: dict[str, Findings | None], notebook: str) -> list[tuple[str, Any]]:
    """(file name, flat document) of every findings written by ``notebook``, by name."""
    return [(f"{name}{SUFFIX}", f.to_dict()) for name, f in sorted(found.items())
            if f is not None and f.notebook == notebook]


def pack_evidence(
    results_dir: str | os.PathLike[str] | None, start: datetime, end: datetime,
    lookback: timedelta, names: Sequence[str] = EVIDENCE,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Timeline events from drift onsets and contract failures in ``[start - lookback, end]``,
    read from the findings ``names`` in ``results_dir`` (nothing else there is read).

    Returns ``(events, notes)``; notes say which files were found and what was skipped.
    """
    if not results_dir:
        return [], ["no results directory given: no pack evidence"]
    lo = start - lookback
    found = read_findings_dir(results_dir, list(dict.fromkeys(names)))
    events: list[dict[str, Any]] = []
    notes: list[str] = []
    drifts = _written_by(found, DRIFT)
    if not drifts:
        notes.append(f"{DRIFT_FILE} not found: no drift evidence")
    for file, drift in drifts:
        notes.append(_drift_onsets(file, drift, lo, end, events))
    contracts = _written_by(found, CONTRACT)
    if not contracts:
        notes.append(f"{CONTRACT_FILE} not found: no contract evidence")
    for file, contract in contracts:
        notes.append(_contract_failures(file, contract, lo, end, events))
    events.sort(key=lambda e: (e["timestamp"], e["kind"], e["message"]))
    return events, notes


def _drift_onsets(file: str, drift: dict[str, Any], lo: datetime, end: datetime,
                  events: list[dict[str, Any]]) -> str:
    """Append the first drifted window of each column in ``[lo, end]``; the note on them."""
    onsets: dict[str, dict[str, Any]] = {}
    for w in _find(drift, "windows"):
        if not isinstance(w, dict) or not w.get("drifted") or not w.get("column"):
            continue
        t0 = _ts(w.get("start"))
        if t0 is None:
            continue
        col = str(w["column"])
        if col not in onsets or t0 < onsets[col]["t0"]:
            onsets[col] = {"t0": t0, "end": _ts(w.get("end")), "statistic": w.get("statistic")}
    first = drift.get("first_drift_window")
    if not onsets and isinstance(first, dict):  # summary only: column -> onset start
        for col, start_text in first.items():
            t0 = _ts(start_text)
            if t0 is not None:
                onsets[str(col)] = {"t0": t0, "end": None, "statistic": None}
    kept = 0
    for col, o in sorted(onsets.items(), key=lambda kv: (kv[1]["t0"], kv[0])):
        if not (lo <= o["t0"] <= end):
            continue
        kept += 1
        stat = o["statistic"]
        stat_text = f", statistic {stat:.3g}" if isinstance(stat, int | float) else ""
        events.append(
            {
                "timestamp": o["t0"],
                "source": "drift (this pack)",
                "kind": "drift",
                "message": f"drift onset in {col}{stat_text}",
            }
        )
    return f"{file}: {len(onsets)} column(s) drifted, {kept} onset(s) near the incident"


def _contract_failures(file: str, contract: dict[str, Any], lo: datetime, end: datetime,
                       events: list[dict[str, Any]]) -> str:
    """Append the checks first failing in ``[lo, end]``; the note on all failed checks."""
    failed = [
        c for c in _find(contract, "checks") if isinstance(c, dict) and c.get("passed") is False
    ]
    kept = untimed = chronic = 0
    for c in failed:
        first, last = _ts(c.get("first_failed_at")), _ts(c.get("last_failed_at"))
        if first is None:
            untimed += 1
            continue
        if first < lo and (last or first) >= lo:
            chronic += 1  # failing since well before the incident: not its onset
            continue
        if first > end or first < lo:
            continue
        kept += 1
        what = c.get("id") or f"{c.get('rule')} on {c.get('column')}"
        rows = c.get("failed_rows")
        rows_text = f", {rows:,} rows" if isinstance(rows, int) else ""
        until = f", until {last.isoformat()}" if last else ""
        events.append(
            {
                "timestamp": first,
                "source": "contract (this pack)",
                "kind": "contract",
                "message": f"contract check failed: {what}{rows_text}{until}",
            }
        )
    return (
        f"{file}: {len(failed)} failed check(s), {kept} first failing near the "
        f"incident, {chronic} failing since before it (not shown), {untimed} without "
        "failure times"
    )

"""Findings from the same review pack (drift and contract results) as timeline events.

The pack runs ``contract_checks`` and ``drift`` before ``incident_postmortem``; their
``*.results.json`` land in the same ``results_dir``. Both are optional: a standalone run
simply has no pack evidence. Only the fields below are read, and unknown shapes are
skipped rather than trusted:

* ``drift.results.json``: ``windows`` = [{start, end, column, statistic, drifted}] (top
  level or under ``details``); the first drifted window per column is its onset
  (``first_drift_window``, column -> start, is used when ``windows`` is absent).
* ``contract_checks.results.json``: ``checks`` = [{id, column, rule, passed, failed_rows,
  first_failed_at, last_failed_at}] (top level or under ``details``/``results``); a failed
  check is placed at ``first_failed_at`` when that lies in the window; checks failing since
  before the window are chronic, counted in the notes but kept off the timeline.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

DRIFT_FILE = "drift.results.json"
CONTRACT_FILE = "contract_checks.results.json"


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


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def pack_evidence(
    results_dir: str | os.PathLike[str] | None, start: datetime, end: datetime, lookback: timedelta
) -> tuple[list[dict[str, Any]], list[str]]:
    """Timeline events from drift onsets and contract failures in ``[start - lookback, end]``.

    Returns ``(events, notes)``; notes say which files were found and what was skipped.
    """
    events: list[dict[str, Any]] = []
    notes: list[str] = []
    if not results_dir:
        return events, ["no results directory given: no pack evidence"]
    lo = start - lookback
    base = Path(results_dir)

    drift = _read(base / DRIFT_FILE) if (base / DRIFT_FILE).exists() else None
    if drift is None:
        notes.append(f"{DRIFT_FILE} not found: no drift evidence")
    else:
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
        first = drift.get("first_drift_window") if isinstance(drift, dict) else None
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
        notes.append(
            f"{DRIFT_FILE}: {len(onsets)} column(s) drifted, {kept} onset(s) near the incident"
        )

    contract = _read(base / CONTRACT_FILE) if (base / CONTRACT_FILE).exists() else None
    if contract is None:
        notes.append(f"{CONTRACT_FILE} not found: no contract evidence")
    else:
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
        notes.append(
            f"{CONTRACT_FILE}: {len(failed)} failed check(s), {kept} first failing near the "
            f"incident, {chronic} failing since before it (not shown), {untimed} without "
            "failure times"
        )
    events.sort(key=lambda e: (e["timestamp"], e["kind"], e["message"]))
    return events, notes

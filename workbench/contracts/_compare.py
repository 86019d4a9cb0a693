"""What changed in the contract checks between two pack versions: failures matched by id.

:func:`failure_changes` is the one comparison of failing checks (the review summary's lines
come from :func:`compare`; a contract result can list the same changes from it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from workbench import render
from workbench.findings import Change, Findings

LABEL = "contract"


def failing(checks: Iterable[Any]) -> dict[str, Mapping[str, Any]]:
    """Failing checks by id (``passed`` is False) among check documents."""
    return {
        str(c.get("id")): c
        for c in checks or []
        if isinstance(c, Mapping) and c.get("passed") is False
    }


def failure_changes(
    before: Iterable[Any], now: Iterable[Any]
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """(checks failing now that did not fail before, checks that failed before and no longer
    fail, a removed check included), each sorted by id."""
    f_now, f_before = failing(now), failing(before)
    new = [f_now[cid] for cid in sorted(f_now.keys() - f_before.keys())]
    resolved = [f_before[cid] for cid in sorted(f_before.keys() - f_now.keys())]
    return new, resolved


def compare(before: Findings, now: Findings) -> list[Change]:
    new, resolved = failure_changes(before.get("checks") or [], now.get("checks") or [])
    out = []
    for c in new:
        cid, rows = str(c.get("id")), c.get("failed_rows")
        where = f" ({render.fmt(rows)} rows)" if isinstance(rows, int) else ""
        out.append(Change(LABEL, "new failure", cid,
                          f"{c.get('severity', 'error')}-level check {cid} now fails{where}.",
                          "worse", None, rows))
    for c in resolved:
        cid = str(c.get("id"))
        out.append(Change(LABEL, "resolved failure", cid,
                          f"{c.get('severity', 'error')}-level check {cid} passes again.",
                          "better", c.get("failed_rows"), 0))
    return out

"""What changed in incidents between two pack versions: new incidents, and action items
that became (or stopped being) overdue."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.findings import Change, Findings

LABEL = "incidents"


def _overdue(res: Findings) -> dict[str, Mapping[str, Any]]:
    items: list[Any] = [*(res.get("action_items") or [])]
    portfolio = res.get("portfolio")
    if isinstance(portfolio, Mapping):
        items += portfolio.get("overdue_action_items") or []
    incident = res.get("incident")
    own = incident.get("id") if isinstance(incident, Mapping) else None
    out: dict[str, Mapping[str, Any]] = {}
    for it in items:
        if isinstance(it, Mapping) and it.get("overdue") is True:
            out.setdefault(f"{it.get('incident') or own}/{it.get('id')}", it)
    return out


def _incident_ids(res: Findings) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    portfolio = res.get("portfolio")
    for inc in (portfolio.get("incidents") or []) if isinstance(portfolio, Mapping) else []:
        if isinstance(inc, Mapping) and inc.get("id"):
            found[str(inc["id"])] = inc
    incident = res.get("incident")
    if isinstance(incident, Mapping) and incident.get("id"):
        found.setdefault(str(incident["id"]), incident)
    return found


def compare(before: Findings, now: Findings) -> list[Change]:
    out = []
    i_now, i_before = _incident_ids(now), _incident_ids(before)
    for iid in sorted(i_now.keys() - i_before.keys()):
        inc = i_now[iid]
        sev = f"{inc.get('severity')} " if inc.get("severity") else ""
        out.append(Change(LABEL, "new incident", iid,
                          f"New {sev}incident {iid}: {inc.get('title', '')}".rstrip(": ") + ".",
                          "worse"))
    o_now, o_before = _overdue(now), _overdue(before)
    for key in sorted(o_now.keys() - o_before.keys()):
        it = o_now[key]
        owner = f", owner {it['owner']}" if it.get("owner") else ""
        out.append(Change(LABEL, "newly overdue action item", key,
                          f"Action item {key} is overdue (due {it.get('due')}{owner}): "
                          f"{it.get('description', '')}", "worse"))
    for key in sorted(o_before.keys() - o_now.keys()):
        out.append(Change(LABEL, "no longer overdue", key,
                          f"Action item {key} is no longer overdue.", "better"))
    return out

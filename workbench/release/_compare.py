"""What changed in the release decision between two pack versions."""

from __future__ import annotations

from workbench.findings import Change, Findings

AREA = "release"
_RANK = {"rollback": 0, "hold": 1, "continue": 2, "promote": 3}



def compare(before: Findings, now: Findings) -> list[Change]:
    """The decision, each KPI's verdict and the count of worse segments, where they moved."""
    out: list[Change] = []
    b, n = before.get("decision"), now.get("decision")
    if b != n:
        direction = ("better" if _RANK.get(n, -1) > _RANK.get(b, -1) else "worse"
                     if _RANK.get(n, -1) < _RANK.get(b, -1) else "info")
        out.append(Change(AREA, "decision", "decision", f"release decision {b} -> {n}",
                          direction, b, n))
    kb = {k.get("name"): k for k in before.get("kpis") or [] if isinstance(k, dict)}
    for k in now.get("kpis") or []:
        if not isinstance(k, dict):
            continue
        old = kb.get(k.get("name"))
        if old is None or old.get("state") == k.get("state"):
            continue
        was, is_ = old.get("passed"), k.get("passed")
        direction = ("better" if is_ is True or (was is False and is_ is None) else
                     "worse" if is_ is False or (was is True and is_ is None) else "info")
        out.append(Change(AREA, "kpi", str(k.get("name")),
                          f"{k.get('label') or k.get('name')}: {old.get('state')} -> "
                          f"{k.get('state')}", direction, old.get("state"), k.get("state")))
    sb, sn = before.metrics.get("segments_worse"), now.metrics.get("segments_worse")
    if isinstance(sb, int) and isinstance(sn, int) and sb != sn:
        out.append(Change(AREA, "segments", "segments_worse",
                          f"segments doing measurably worse: {sb} -> {sn}",
                          "worse" if sn > sb else "better", sb, sn))
    return out

"""What changed in drift between two pack versions: columns matched by name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench import render
from workbench.findings import Change, Findings

LABEL = "drift"


def _drifted(res: Findings) -> dict[str, Mapping[str, Any]]:
    return {
        str(c.get("column")): c
        for c in res.get("columns") or []
        if isinstance(c, Mapping) and c.get("drifted") is True
    }


def compare(before: Findings, now: Findings) -> list[Change]:
    d_now, d_before = _drifted(now), _drifted(before)
    out = []
    for col in sorted(d_now.keys() - d_before.keys()):
        c = d_now[col]
        out.append(Change(
            LABEL, "started drifting", col,
            f"{col} started drifting ({c.get('method', 'drift')} "
            f"{render.fmt(c.get('statistic'), 3)} against threshold "
            f"{render.fmt(c.get('threshold'), 3)}).",
            "worse", False, True))
    for col in sorted(d_before.keys() - d_now.keys()):
        out.append(Change(LABEL, "stopped drifting", col, f"{col} no longer drifts.", "better",
                          True, False))
    return out

"""The fleet index: one static page set over every model's latest build, and the fleet's
findings JSON.

``<fleet_dir>/index.html`` is the summary: counts by verdict, the gates that failed most,
and the worst ``SUMMARY_ROWS`` models of each group; ``<group>-<n>.html`` lists a group in
pages of ``PAGE_ROWS`` models (worst first: failed gates, then model id), so no page grows
with the fleet (500 rows are ~0.3 MB). Groups, worst first: ``error`` (refused before
running, no version), ``failed`` (a notebook failed; version published as failed), then the
verdicts ``no-go``, ``hold``, ``go``. Pages are offline (CSP, no script), rendered by Jinja
with autoescape: every model id, owner, gate title and error text is escaped.

``<fleet_dir>/fleet.results.json``: a :class:`~workbench.findings.Findings` with counts by
group and by failing gate as metrics and every model's record under ``models``.
"""

from __future__ import annotations

import collections
import os
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workbench.findings import Findings
from workbench.packs import pages
from workbench.packs.index import publish_text

GROUPS = (("error", "NOT RUN"), ("failed", "FAILED"), ("no-go", "NO-GO"), ("hold", "HOLD"),
          ("go", "GO"))
PAGE_ROWS = 500
SUMMARY_ROWS = 50
TEMPLATE = "fleet/index.html.j2"


def group_of(record: Mapping[str, Any]) -> str:
    if record.get("status") == "error":
        return "error"
    if record.get("status") == "failed":
        return "failed"
    return str(record.get("verdict") or "error")


def _row(r: Mapping[str, Any], group: str, label: str) -> dict[str, Any]:
    gates = [f"{g.get('title') or g.get('id')} ({g.get('id')}: {g.get('severity')} gate "
             f"{g.get('status')})"
             for g in r.get("failed_gates") or []]
    version = r.get("version")
    return {
        "model": r.get("model"),
        "owner": r.get("owner"),
        "group": group,
        "label": label,
        "gates": gates,
        "problems": list(r.get("problems") or [])[:3],
        "changes": "; ".join(r.get("changes") or []),
        "href": f"../{r.get('model')}/{version}/index.html" if version else None,
    }


def write_fleet_index(fleet: Any, fleet_dir: Path,
                      records: Iterable[Any]) -> Path:
    """Write the fleet's pages and findings into ``fleet_dir``; the summary page's path.

    ``fleet`` needs ``name``, ``title``, ``description``; ``records`` are ModelOutcomes or
    their dicts."""
    recs = [r.to_dict() if hasattr(r, "to_dict") else dict(r) for r in records]
    fleet_dir.mkdir(parents=True, exist_ok=True)
    labels = dict(GROUPS)
    grouped: dict[str, list[dict[str, Any]]] = {k: [] for k, _ in GROUPS}
    for r in recs:
        grouped.setdefault(group_of(r), []).append(r)
    gate_counts: collections.Counter[str] = collections.Counter()
    for r in recs:
        for g in r.get("failed_gates") or []:
            gate_counts[f"{g.get('id')} ({g.get('status')})"] += 1
    rows: dict[str, list[dict[str, Any]]] = {}
    for key, members in grouped.items():
        members.sort(key=lambda r: (-len(r.get("failed_gates") or []), str(r.get("model"))))
        label = labels.get(key, key.upper())
        rows[key] = [_row(r, key, label) for r in members]
    groups = [{"key": k, "label": labels.get(k, k.upper()), "count": len(rows[k]),
               "first_page": f"{k}-1.html"} for k in rows]
    common = {
        "title": fleet.title,
        "description": getattr(fleet, "description", ""),
        "total": len(recs),
        "built_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "groups": groups,
        "failing_gates": gate_counts.most_common(),
    }
    env = pages.environment().get_template(TEMPLATE)
    wanted: set[str] = set()
    for key, key_rows in rows.items():
        n_pages = max(1, -(-len(key_rows) // PAGE_ROWS))
        for n in range(1, n_pages + 1):
            chunk = key_rows[(n - 1) * PAGE_ROWS: n * PAGE_ROWS]
            name = f"{key}-{n}.html"
            wanted.add(name)
            html = env.render(page_label=f"{labels.get(key, key)} page {n}", sections=[{
                "key": key, "label": labels.get(key, key), "count": len(key_rows),
                "rows": chunk, "page": n, "pages": n_pages, "more": False}], **common)
            publish_text(fleet_dir / name, html)
    for old in fleet_dir.glob("*-*.html"):  # pages of a bigger fleet built before
        if old.name not in wanted and old.stem.rsplit("-", 1)[0] in labels:
            os.unlink(old)
    sections = [{"key": k, "label": labels.get(k, k), "count": len(v),
                 "rows": v[:SUMMARY_ROWS], "page": 1, "pages": 1,
                 "more": len(v) > SUMMARY_ROWS} for k, v in rows.items() if v]
    index = publish_text(fleet_dir / "index.html",
                         env.render(page_label="", sections=sections, **common))
    fleet_findings(fleet.name, recs, gate_counts).write(fleet_dir)
    return index


def fleet_findings(name: str, recs: list[dict[str, Any]],
                   gate_counts: Mapping[str, int]) -> Findings:
    by_group = {k: 0 for k, _ in GROUPS}
    for r in recs:
        by_group[group_of(r)] = by_group.get(group_of(r), 0) + 1
    if by_group["error"] or by_group["failed"] or by_group["no-go"]:
        status = "fail" if not by_group["error"] else "error"
    elif by_group["hold"]:
        status = "warn"
    else:
        status = "pass" if recs else "unknown"
    headline = (f"{len(recs)} models: " + ", ".join(
        f"{n} {k}" for k, n in by_group.items() if n)) if recs else "no models"
    return Findings(
        "fleet", status, headline,
        metrics={"models": len(recs), "by_verdict": by_group,
                 "by_failing_gate": dict(sorted(gate_counts.items()))},
        details={"fleet": name, "models": recs}, notebook="fleet",
    )

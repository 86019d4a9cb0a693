"""What changed since the previous version of a pack, and trends across all its versions.

Both read only the notebooks' findings (:mod:`workbench.findings`, never the inputs), so a
version can be compared with any earlier one as long as its findings files exist. An area is
found by the ``notebook`` field of its findings through :mod:`workbench.areas`, so a spec
may name its notebooks as it likes; one notebook run under several names is compared run
by run (paired by findings name).

:func:`changes` -> :class:`ChangeSummary`, one :class:`~workbench.findings.Change` per line
a PM reads; each area's lines come from its own ``workbench.<area>._compare.compare``:

* contract: new failures and resolved failures (checks matched by ``id``);
* drift: columns that started or stopped drifting (matched by ``column``);
* cost: change in cost and value per 1k predictions and value/cost, per model
  (metrics ``cost_per_1k_predictions.<model>`` etc.);
* incidents: incidents not in the previous portfolio; action items that became overdue,
  and overdue items that are no longer overdue;
* gates: every gate whose rule changed (metric, operator, threshold, severity; loosened or
  tightened) first, then every gate whose outcome changed, and the verdict; an outcome
  moved by a changed rule is "info", never "better" or "worse".

:func:`history` -> one row per version (oldest first) with ``contract_pass_rate``
(contract ``pass_rate``), ``drifted_share`` and ``cost_per_1k.<model>``;
:func:`history_chart` draws them. This module is imported inside notebooks: keep it free
of papermill/nbconvert imports.
"""

from __future__ import annotations

import base64
import importlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from workbench import render
from workbench.areas import AREAS, Area
from workbench.findings import Change, Findings, number, read_findings_dir
from workbench.packs import pages


@dataclass(frozen=True)
class ChangeSummary:
    previous: str | None  # previous version name (or directory), None for a first version
    changes: tuple[Change, ...] = ()
    notes: tuple[str, ...] = ()  # areas that could not be compared, and why
    compared: bool = True  # False: a previous version exists but its results are gone

    @property
    def worse(self) -> list[Change]:
        return [c for c in self.changes if c.direction == "worse"]

    @property
    def better(self) -> list[Change]:
        return [c for c in self.changes if c.direction == "better"]

    def headline(self) -> str:
        if self.previous is None:
            return "First version of this pack: nothing to compare with."
        if not self.compared:
            return f"Not compared: the previous version {self.previous} is no longer on disk."
        if not self.changes:
            return f"Nothing changed since {self.previous}."
        return (
            f"Since {self.previous}: {len(self.worse)} change(s) for the worse, "
            f"{len(self.better)} for the better, {len(self.changes)} in all."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "previous": self.previous,
            "compared": self.compared,
            "headline": self.headline(),
            "changes": [c.to_dict() for c in self.changes],
            "notes": list(self.notes),
        }

    def table(self) -> str:
        rows = [
            {"area": c.area, "change": c.kind, "what": c.text, "direction": c.direction}
            for c in self.changes
        ]
        table = render.html_table(rows, caption="What changed since the previous version")
        return pages.page("packs/changes_table.html.j2", headline=self.headline(),
                          notes=self.notes, table=pages.trusted(table) if rows else None)

    def _repr_html_(self) -> str:
        status = "warn" if self.worse else "ok" if self.previous else "info"
        box = render.callout("What changed", self.headline(), status)
        # without changes the box already says it: no second copy of the headline
        return pages.page("packs/changes.html.j2", box=pages.trusted(box),
                          changes=bool(self.changes), notes=self.notes,
                          table=pages.trusted(self.table()))


def by_area(results: Mapping[str, Findings | None]) -> dict[str, Findings]:
    """``{area notebook: findings}`` keyed by each findings' own ``notebook`` field (the
    first findings of an area when a pack runs its notebook twice)."""
    out: dict[str, Findings] = {}
    for res in results.values():
        if res is not None:
            out.setdefault(res.notebook, res)
    return out


def read_results_dir(directory: str | os.PathLike[str]) -> dict[str, Findings]:
    """Every usable ``*.results.json`` in ``directory`` as ``{findings name: Findings}``."""
    return {k: v for k, v in read_findings_dir(directory).items() if v is not None}


_num = number
_RANK = {"go": 0, "hold": 1, "no-go": 2}


def _gates(
    gates_now: Sequence[Mapping[str, Any]],
    gates_before: Sequence[Mapping[str, Any]],
    verdict_now: str | None,
    verdict_before: str | None,
) -> list[Change]:
    before = {g.get("id"): g for g in gates_before}
    # A gate whose rule changed comes first: an outcome it moved says nothing about the data.
    redefined = {
        str(g.get("id")): change
        for g in gates_now
        if (change := _gate_rule_change(before.get(g.get("id")), g)) is not None
    }
    out = list(redefined.values())
    moved = []
    for g in gates_now:
        old = before.get(g.get("id"))
        if old is None or old.get("outcome") == g.get("outcome"):
            continue
        a, b = old.get("outcome"), g.get("outcome")
        gid = str(g.get("id"))
        moved.append(gid)
        why = g.get("explanation", "")
        if gid in redefined:
            why = f"its rule changed ({redefined[gid].after}), not only the data. {why}"
        out.append(
            Change(
                "gates",
                "gate outcome",
                gid,
                f"Gate '{g.get('title')}' moved from {a} to {b}: {why}".rstrip(": "),
                "info" if gid in redefined
                else "worse" if _RANK.get(str(b), 1) > _RANK.get(str(a), 1) else "better",
                a,
                b,
            )
        )
    if verdict_now and verdict_before and verdict_now != verdict_before:
        by_rule = moved and all(gid in redefined for gid in moved)
        names = ", ".join(f"'{redefined[gid].item}'" for gid in moved if gid in redefined)
        out.insert(
            len(redefined),
            Change(
                "gates",
                "verdict",
                "verdict",
                f"The verdict moved from {verdict_before} to {verdict_now}"
                + (f" because gate {names} changed its rule." if by_rule else
                   f"; gate {names} changed its rule too." if names else "."),
                "info" if by_rule
                else "worse" if _RANK.get(verdict_now, 1) > _RANK.get(verdict_before, 1)
                else "better",
                verdict_before,
                verdict_now,
            ),
        )
    return out


_LOOSER = {"<": 1, "<=": 1, ">": -1, ">=": -1}
_SEVERITY_RANK = {"hold": 1, "no-go": 2}


def _gate_rule_change(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> Change | None:
    """How a gate's rule (metric, operator, threshold, severity) changed, if it did.

    ``after`` holds the rule change in words ("threshold 0.25 → 0.5, looser").
    """
    if old is None:
        return None
    keys = ("metric", "op", "value", "severity")
    if all(old.get(k) == new.get(k) for k in keys):
        return None
    metric = str(new.get("metric"))
    parts, looser, tighter = [], False, False
    if old.get("metric") != new.get("metric"):
        parts.append(f"metric {old.get('metric')} → {metric}")
    if old.get("op") != new.get("op"):
        parts.append(f"operator {old.get('op')} → {new.get('op')}")
    a, b = old.get("value"), new.get("value")
    if a != b:
        parts.append(
            f"threshold {render.fmt_metric(metric, a)} → {render.fmt_metric(metric, b)}"
        )
        sign = _LOOSER.get(str(new.get("op"))) if old.get("op") == new.get("op") else None
        na, nb = _num(a), _num(b)
        if sign and na is not None and nb is not None:
            looser, tighter = (nb - na) * sign > 0, (nb - na) * sign < 0
    sa, sb = old.get("severity"), new.get("severity")
    if sa != sb:
        parts.append(f"severity {sa} → {sb}")
        ra, rb = _SEVERITY_RANK.get(str(sa)), _SEVERITY_RANK.get(str(sb))
        if ra and rb:
            looser, tighter = looser or rb < ra, tighter or rb > ra
    kind = ("loosened" if looser and not tighter else
            "tightened" if tighter and not looser else "changed")
    rule = ", ".join(parts)
    return Change(
        "gates",
        f"gate {kind}",
        str(new.get("title") or new.get("id")),
        f"Gate '{new.get('title') or new.get('id')}' was {kind}: {rule}. Outcomes it "
        "moved reflect the new rule, not only the data.",
        "info",
        {k: old.get(k) for k in keys},
        rule,
    )


def changes(
    current: Mapping[str, Findings | None],
    previous: Mapping[str, Findings | None] | None,
    *,
    previous_name: str | None = None,
    gates: Sequence[Mapping[str, Any]] = (),
    previous_gates: Sequence[Mapping[str, Any]] = (),
    verdict: str | None = None,
    previous_verdict: str | None = None,
) -> ChangeSummary:
    """Compare this version's results with the previous version's (``None``: first version).

    ``current``/``previous`` map findings names to findings (None = no results).
    """
    if previous is None:
        return ChangeSummary(None)
    found: list[Change] = _gates(gates, previous_gates, verdict, previous_verdict)
    notes: list[str] = []
    for area in AREAS.values():
        compare = None
        for name, before, now in _pairs(area, current, previous):
            if before is None or now is None:
                which = "the previous version" if before is None else "this version"
                notes.append(f"{area.label}: not compared, {which} has no {name} results.")
                continue
            if before.to_dict() == now.to_dict():
                # identical findings: no change, and the area's code (scipy, sklearn,
                # statsmodels behind some) is not even imported
                continue
            if compare is None:
                compare = importlib.import_module(f"workbench.{area.name}._compare").compare
            lines = compare(before, now)
            if name != area.notebook:  # a notebook run under another name: say which run
                lines = [replace(c, area=f"{c.area} ({name})") for c in lines]
            found += lines
    return ChangeSummary(previous_name or "the previous version", tuple(found), tuple(notes))


def _pairs(
    area: Area,
    current: Mapping[str, Findings | None],
    previous: Mapping[str, Findings | None],
) -> list[tuple[str, Findings | None, Findings | None]]:
    """(name, before, now) for each run of the area's notebook. One run on each side is
    compared whatever the spec named it; several runs are paired by findings name."""
    now = {k: f for k, f in current.items() if f is not None and f.notebook == area.notebook}
    before = {k: f for k, f in previous.items() if f is not None and f.notebook == area.notebook}
    if len(now) <= 1 and len(before) <= 1:
        if not now and not before:
            return []
        return [(area.notebook, next(iter(before.values()), None), next(iter(now.values()), None))]
    names = list(now) + sorted(before.keys() - now.keys())
    return [(n, before.get(n), now.get(n)) for n in names]


def changes_since(
    current_dir: str | os.PathLike[str],
    previous_dir: str | os.PathLike[str] | None,
    gates: Sequence[Mapping[str, Any]] = (),
    verdict: str | None = None,
) -> ChangeSummary:
    """:func:`changes` between two results directories (``previous_dir`` "" or None: first)."""
    if not previous_dir:
        return ChangeSummary(None)
    if not Path(previous_dir).is_dir():
        return ChangeSummary(Path(previous_dir).name, compared=False)
    prev = Path(previous_dir)
    manifest = _manifest(prev)
    return changes(
        read_results_dir(current_dir),
        read_results_dir(prev),
        previous_name=prev.name,
        gates=gates,
        previous_gates=manifest.get("gates") or [],
        verdict=verdict,
        previous_verdict=manifest.get("verdict"),
    )


def _manifest(version_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((version_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


# --- history -------------------------------------------------------------------------


def history_row(
    version: str, results: Mapping[str, Findings | None], **extra: Any
) -> dict[str, Any]:
    """The trend figures of one version (None where a notebook had no results)."""
    areas = by_area(results)

    def metric(area: str, name: str) -> float | None:
        found = areas.get(area)
        return number(found.metrics.get(name)) if found is not None else None

    row: dict[str, Any] = {
        "version": version,
        **extra,
        "contract_pass_rate": metric("contract_checks", "pass_rate"),
        "drifted_share": metric("drift", "drifted_share"),
    }
    cost = areas.get("cost_to_value")
    costs = cost.metrics if cost is not None else {}
    for key in sorted(k for k in costs if str(k).startswith("cost_per_1k_predictions.")):
        row["cost_per_1k." + key.removeprefix("cost_per_1k_predictions.")] = number(costs[key])
    return row


# the trends show the newest versions with evidence of their own: half a year of weekly
# reviews. Each version costs the front page about 9 ms to read and 17 ms more of chart
# (measured on the 2-core machine: 8 versions 0.5 s, 31 versions 1.2 s), and the review
# summary as much again: a pack rebuilt on every change (pack watch, build --if-changed)
# would otherwise slow its own rebuilds down build after build. `workbench pack list`
# lists every version.
HISTORY_LIMIT = 26


def history(
    pack_dir: str | os.PathLike[str] | None,
    current: Mapping[str, Any] | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """One row per published version of the pack in ``pack_dir``, oldest first: the newest
    ``limit`` (default :data:`HISTORY_LIMIT`; ``current`` counted).

    ``current`` (a row from :func:`history_row`) is appended for a version being built
    that is not published yet. A version in which nothing changed (its manifest's
    ``cache.nothing_changed``: every output reused, see :mod:`workbench.packs.cache`)
    restates an earlier one and is left out: it would repeat that version's point.
    """
    rows: list[dict[str, Any]] = []
    room = (HISTORY_LIMIT if limit is None else limit) - (current is not None)
    d = Path(pack_dir) if pack_dir else None
    for v in sorted(d.iterdir(), reverse=True) if d and d.is_dir() else []:
        if len(rows) >= room:
            break
        if v.name.startswith(".") or not v.is_dir() or not (v / "manifest.json").is_file():
            continue
        if current is not None and v.name == current.get("version"):
            continue
        m = _manifest(v)
        if (m.get("cache") or {}).get("nothing_changed"):
            continue
        rows.append(
            history_row(
                v.name,
                read_results_dir(v),
                status=m.get("status"),
                verdict=m.get("verdict"),
            )
        )
    rows.reverse()
    if current is not None:
        rows.append(dict(current))
    return rows


TREND_LABELS = {
    "contract_pass_rate": "Contract checks passed (share)",
    "drifted_share": "Drifted share of columns",
    "cost_per_1k": "Cost per 1k predictions",
}


_VERSION_TIME = re.compile(r"^\d{4}(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z")


def _build_label(row: Mapping[str, Any], i: int, seconds: bool = False) -> str:
    """``11-27 22:08`` (or ``11-27 22:08:15``) from the version name, else the name."""
    version = str(row.get("version") or "")
    hit = _VERSION_TIME.match(version)
    if hit:
        return f"{hit[1]}-{hit[2]} {hit[3]}:{hit[4]}" + (f":{hit[5]}" if seconds else "")
    if not version and row.get("status") == "this build":
        return "this build"
    return version or f"#{i + 1}"


def history_long(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows as (build, order, panel, series, value) records for charting; None values dropped.

    ``build`` labels are unique: two builds within one minute get seconds, then a number.
    """
    labels = [_build_label(r, i) for i, r in enumerate(rows)]
    if len(set(labels)) < len(labels):
        labels = [_build_label(r, i, seconds=True) for i, r in enumerate(rows)]
    if len(set(labels)) < len(labels):
        labels = [f"{label} #{i + 1}" for i, label in enumerate(labels)]
    out = []
    for i, (r, label) in enumerate(zip(rows, labels, strict=True)):
        for key, value in r.items():
            if value is None:
                continue
            if key in ("contract_pass_rate", "drifted_share"):
                out.append(
                    {
                        "build": label,
                        "order": i,
                        "panel": TREND_LABELS[key],
                        "series": key,
                        "value": value,
                    }
                )
            elif key.startswith("cost_per_1k."):
                out.append(
                    {
                        "build": label,
                        "order": i,
                        "panel": TREND_LABELS["cost_per_1k"],
                        "series": key.removeprefix("cost_per_1k."),
                        "value": value,
                    }
                )
    return out


def _narrow(values: Sequence[float]) -> bool:
    return bool(values) and max(values) - min(values) < 0.05


def _share_scale(values: Sequence[float]) -> Any:
    """A y scale for shares: the data's range with a margin, within 0..1."""
    import altair as alt

    lo, hi = min(values), max(values)
    pad = max((hi - lo) * 0.15, 0.005)
    return alt.Scale(domain=[max(0.0, lo - pad), min(1.0, hi + pad)], nice=False, zero=False)


def history_chart(rows: Sequence[Mapping[str, Any]]) -> Any:
    """Three small line charts side by side: pass rate, drifted share, cost per 1k by model."""
    import altair as alt

    data = history_long(rows)
    order = [d["build"] for d in sorted(data, key=lambda d: d["order"])]
    order = list(dict.fromkeys(order))
    charts = []
    for key, panel in TREND_LABELS.items():
        part = [d for d in data if d["panel"] == panel]
        if not part:
            continue
        share = key != "cost_per_1k"
        # A share axis fitted to the data (clamped to 0..100%): on a fixed 0..1 axis 110 px
        # high, 97.8% against 100% is two pixels apart and reads as a flat line at 100%.
        y = (
            alt.Y("value:Q", title=None, scale=_share_scale([d["value"] for d in part]),
                  axis=alt.Axis(format=".1%" if _narrow([d["value"] for d in part]) else "%"))
            if share
            else alt.Y("value:Q", title=None, scale=alt.Scale(zero=False))
        )
        base = alt.Chart(alt.Data(values=part)).encode(
            x=alt.X("build:N", sort=order, title=None, axis=alt.Axis(labelAngle=-30)),
            y=y,
            color=alt.Color(
                "series:N",
                legend=None if share else alt.Legend(orient="right", title="model"),
            ),
            tooltip=["build:N", "series:N", "value:Q"],
        )
        charts.append(
            (base.mark_line() + base.mark_point(filled=True, size=40)).properties(
                title=panel, width=230, height=110
            )
        )
    if not charts:
        return None
    return alt.hconcat(*charts).resolve_scale(color="independent")


def history_svg_data_uri(rows: Sequence[Mapping[str, Any]]) -> str | None:
    """The history chart as a ``data:image/svg+xml`` URI for an ``<img>`` (no inline markup)."""
    chart = history_chart(rows)
    if chart is None:
        return None
    render.setup()
    svg = render.chart_svg(chart)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def history_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """The history as an escaped table (newest first)."""
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    wanted = [
        k
        for k in ("version", "status", "verdict", "contract_pass_rate", "drifted_share")
        if k in keys
    ] + [k for k in keys if k.startswith("cost_per_1k.")]
    # shares as percentages, as on the front page (one number format per metric)
    shown = [
        {k: render.pct(r.get(k)) if k in TREND_SHARES else r.get(k) for k in wanted}
        for r in reversed(rows)
    ]
    caption = ("Every version" if len(rows) < HISTORY_LIMIT else
               f"The newest {len(rows)} versions (`workbench pack list` lists every one)")
    return render.html_table(shown, caption=caption)


TREND_SHARES = ("contract_pass_rate", "drifted_share")


__all__ = [
    "Change",
    "ChangeSummary",
    "by_area",
    "changes",
    "changes_since",
    "history",
    "history_chart",
    "history_row",
    "history_svg_data_uri",
    "history_table",
    "read_results_dir",
]

"""Gates: a spec's thresholds over the notebooks' ``metrics``, and the pack's verdict.

A gate compares ``results[notebook]["metrics"][metric]`` with ``value`` using ``op``.

* passed -> ``go``; failed -> the gate's severity (``no-go`` or ``hold``);
* the metric cannot be read (notebook failed, results missing, metric absent, or a type
  that cannot be compared) -> ``unknown``, which counts as ``hold``: nobody should ship on
  a check that did not run.

The verdict is ``no-go`` if any no-go gate failed, else ``hold`` if any gate failed or is
unknown or any notebook has no results, else ``go``. The builder and the review_summary
notebook both call :func:`evaluate_gates`, so the front page and the notebook agree.
This module is imported inside notebooks: keep it free of papermill/nbconvert imports.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from workbench import render
from workbench.findings import Findings, read_findings_dir
from workbench.packs import pages
from workbench.packs.pages import VERDICT_TEXT
from workbench.packs.spec import load_spec
from workbench.packs.summary import (
    changes_since,
    history,
    history_chart,
    history_row,
    history_table,
)

_OPS = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass(frozen=True)
class GateResult:
    id: str
    title: str
    notebook: str
    metric: str
    op: str
    value: Any
    severity: str
    reason: str
    observed: Any
    status: str  # "passed" | "failed" | "unknown"
    outcome: str  # "go" | "hold" | "no-go"
    explanation: str = ""  # the outcome in one plain sentence (see :func:`explain`)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _compare(observed: Any, op: str, value: Any) -> bool | None:
    if observed is None or isinstance(observed, dict | list | str):
        return None
    if isinstance(value, bool) != isinstance(observed, bool):
        return None  # 1 == True would be a silent surprise; treat as not comparable
    if isinstance(value, bool) and op not in {"==", "!="}:
        return None
    try:
        return bool(_OPS[op](observed, value))
    except TypeError:
        return None


_OP_WORDS = {
    "<": "below",
    "<=": "at most",
    ">": "above",
    ">=": "at least",
    "==": "exactly",
    "!=": "anything but",
}


def explain(g: Any, res: Findings | None, observed: Any, status: str) -> str:
    """One plain sentence saying why a gate came out as it did.

    >>> explain(G(metric="drifted_share", op="<=", value=0.3, notebook="drift"),
    ...         {"metrics": {}}, 0.41, "failed")  # doctest: +SKIP
    'drifted_share is 0.41; the gate allows at most 0.3.'
    """
    want = f"{_OP_WORDS[g.op]} {render.fmt_metric(g.metric, g.value)}"
    seen = render.fmt_apart(observed, g.value, metric=g.metric)  # never rounded onto the limit
    if status == "passed":
        return f"{g.metric} is {seen} (required: {want})."
    if status == "failed":
        return f"{g.metric} is {seen}; the gate requires {want}."
    if res is None:
        return f"Not evaluated: {g.notebook} wrote no results (it failed or did not run)."
    if _observed(res, g.metric) is _ABSENT:
        return f"Not evaluated: {g.notebook} results have no metric {g.metric!r}."
    if observed is None:
        return f"Not evaluated: {g.metric} is empty in {g.notebook} results."
    return (
        f"Not evaluated: {g.metric} is {render.fmt(observed)}, "
        f"which cannot be compared with {render.fmt(g.value)}."
    )


_ABSENT = object()


def _observed(res: Findings | None, metric: str) -> Any:
    if res is None:
        return _ABSENT
    try:
        return res.metric(metric)
    except KeyError:
        return _ABSENT


def evaluate_gates(
    gates: Sequence[Any], results: Mapping[str, Findings | None]
) -> list[GateResult]:
    """Evaluate spec gates (id, title, notebook, metric, op, value, severity, reason) over
    the findings each gate's ``notebook`` (the spec's notebook name) wrote."""
    out = []
    for g in gates:
        res = results.get(g.notebook)
        found = _observed(res, g.metric)
        observed = None if found is _ABSENT else found
        ok = _compare(observed, g.op, g.value)
        status = "unknown" if ok is None else ("passed" if ok else "failed")
        outcome = "go" if ok else ("hold" if ok is None else g.severity)
        out.append(
            GateResult(
                g.id,
                g.title,
                g.notebook,
                g.metric,
                g.op,
                g.value,
                g.severity,
                g.reason,
                observed,
                status,
                outcome,
                explain(g, res, observed, status),
            )
        )
    return out


def verdict(gate_results: Sequence[GateResult], missing_notebooks: Sequence[str] = ()) -> str:
    """``no-go`` > ``hold`` > ``go`` (see module docstring).

    A pack without gates holds: "go" is only said when agreed gates passed.
    """
    outcomes = {g.outcome for g in gate_results}
    if "no-go" in outcomes:
        return "no-go"
    if "hold" in outcomes or missing_notebooks or not gate_results:
        return "hold"
    return "go"


def verdict_reason(
    gate_results: Sequence[GateResult],
    missing_notebooks: Sequence[str] = (),
    brief: bool = False,
) -> str:
    """The verdict in plain words: which gates decided it, and what could not run.

    ``brief`` counts the gates instead of naming them (for a banner above the gates table).
    """
    nogo = [g.title for g in gate_results if g.outcome == "no-go"]
    hold = [g.title for g in gate_results if g.status == "failed" and g.outcome == "hold"]
    unknown = [g.title for g in gate_results if g.status == "unknown"]
    if brief:
        counts = [
            f"{len(nogo)} no-go gate{'s' if len(nogo) != 1 else ''} failed" if nogo else "",
            f"{len(hold)} hold gate{'s' if len(hold) != 1 else ''} failed" if hold else "",
            f"{len(unknown)} not evaluated (holds)" if unknown else "",
        ]
        text = ", ".join(c for c in counts if c)
        if missing_notebooks:
            text += ("; " if text else "") + "no results from " + ", ".join(missing_notebooks)
        if text:
            return text[0].upper() + text[1:] + "; see the gates below."
    parts = []
    if nogo:
        parts.append("No-go gates failed: " + ", ".join(nogo) + ".")
    if hold:
        parts.append("Hold gates failed: " + ", ".join(hold) + ".")
    if unknown:
        parts.append("Not evaluated (holds): " + ", ".join(unknown) + ".")
    if missing_notebooks:
        parts.append("No results from: " + ", ".join(missing_notebooks) + ".")
    if not parts:
        n = len(gate_results)
        return (
            f"All {n} gates passed."
            if n
            else "No gates are defined. Nothing decides go: add gates to the pack spec."
        )
    return " ".join(parts)


def load_results(
    results_dir: str | os.PathLike[str], names: Sequence[str]
) -> dict[str, Findings | None]:
    """``{name: its findings or None}`` for each findings name (missing or unusable: None)."""
    return read_findings_dir(results_dir, list(names))


@dataclass(frozen=True)
class ReviewSummary:
    """What the review_summary notebook shows: verdict, gates, each notebook's headline."""

    title: str
    verdict: str
    gates: tuple[GateResult, ...]
    notebooks: tuple[dict[str, Any], ...]  # name, status, headline
    changes: Any = None  # workbench.packs.summary.ChangeSummary (None: not compared)
    history: tuple[dict[str, Any], ...] = ()  # summary.history rows, oldest first

    @property
    def reason(self) -> str:
        return verdict_reason(self.gates, self.missing)

    def history_chart(self) -> Any:
        """Trends across versions (an Altair chart), or a note when there is one version."""
        if len(self.history) < 2:
            # the figures themselves are in history_table(), shown right below
            return render.HTML(
                "<p>This is the first version of this pack; trends appear from the second "
                "build.</p>"
            )
        return history_chart(self.history)

    def history_table(self) -> render.HTML:
        return render.HTML(history_table(self.history))

    @property
    def missing(self) -> list[str]:
        return [n["name"] for n in self.notebooks if n["status"] == "missing"]

    def headline(self) -> str:
        failed = [g for g in self.gates if g.status == "failed"]
        unknown = [g for g in self.gates if g.status == "unknown"]
        parts = [f"Verdict {VERDICT_TEXT[self.verdict]}:"]
        if not self.gates:
            parts.append("no gates defined")
        else:
            parts.append(
                f"{len(self.gates) - len(failed) - len(unknown)} of {len(self.gates)} gates passed"
            )
        if failed:
            parts.append("; failed: " + ", ".join(g.title for g in failed))
        if unknown:
            parts.append("; not evaluated: " + ", ".join(g.title for g in unknown))
        if self.missing:
            parts.append("; no results from " + ", ".join(self.missing))
        return " ".join(parts).replace(" ;", ";") + "."

    def findings(self, name: str = "review_summary", **context: Any) -> Findings:
        """The summary's findings: the verdict as the status (go pass, hold warn, no-go fail)."""
        status = {"go": "pass", "hold": "warn", "no-go": "fail"}[self.verdict]
        metrics = {
            "verdict_go": self.verdict == "go",
            "verdict_no_go": self.verdict == "no-go",
            "gates_total": len(self.gates),
            "gates_failed": sum(g.status == "failed" for g in self.gates),
            "gates_unknown": sum(g.status == "unknown" for g in self.gates),
            "notebooks_missing": len(self.missing),
            "changes_worse": len(self.changes.worse) if self.changes else 0,
            "changes_better": len(self.changes.better) if self.changes else 0,
        }
        details = {
            "verdict": self.verdict,
            "verdict_reason": self.reason,
            "gates": [g.to_dict() for g in self.gates],
            "notebooks": list(self.notebooks),
            "changes": None if self.changes is None else self.changes.to_dict(),
            # the row of the build in progress has no version: its name holds the build
            # time, and the same inputs must give byte-identical results
            "history": [
                {k: v for k, v in row.items() if k != "version"}
                if row.get("status") == "this build"
                else dict(row)
                for row in self.history
            ],
            **context,
        }
        return Findings(name, status, self.headline(), metrics, details,
                        notebook="review_summary")

    def gates_table(self) -> str:
        rows = [
            {
                "outcome": VERDICT_TEXT.get(g.outcome, g.outcome),
                "gate": g.title,
                "rule": f"{g.notebook} · {g.metric} {g.op} {render.fmt_metric(g.metric, g.value)}",
                "observed": render.fmt_apart(g.observed, g.value, metric=g.metric),
                "what happened": g.explanation,
                "why it matters": g.reason if g.status != "passed" else "",
            }
            for g in self.gates
        ]
        return render.html_table(rows, caption="Gates") if rows else ""

    def notebooks_table(self) -> str:
        # the same words as the front page's Findings column (ran/failed is shown there)
        words = {"missing": "none (did not finish)"}
        rows = [
            {"notebook": n["name"], "findings": words.get(n["status"], n["status"]),
             "headline": n["headline"]}
            for n in self.notebooks
        ]
        return render.html_table(rows, caption="Findings by area")

    def _repr_html_(self) -> str:
        status = {"go": "ok", "hold": "warn", "no-go": "fail"}[self.verdict]
        box = render.callout(
            f"{self.title}: {VERDICT_TEXT[self.verdict]}",
            f"{self.reason} {sum(g.status == 'passed' for g in self.gates)} of "
            f"{len(self.gates)} gates passed.",
            status,
        )
        return pages.page("packs/review_summary.html.j2", box=pages.trusted(box),
                          gates=pages.trusted(self.gates_table()),
                          notebooks=pages.trusted(self.notebooks_table()))


def summarize(
    spec_path: str | os.PathLike[str],
    results_dir: str | os.PathLike[str] = ".",
    previous_dir: str | os.PathLike[str] = "",
    exclude: Sequence[str] = ("review_summary",),
) -> ReviewSummary:
    """Read the pack's results from ``results_dir``, evaluate the spec's gates, and compare
    with ``previous_dir`` (the previous published version; "" for none).

    The history covers every published version next to ``previous_dir`` plus this one.
    """
    spec = load_spec(spec_path)
    names = [nb.name for nb in spec.notebooks if nb.name not in exclude]
    results = load_results(results_dir, names)
    rows = []
    for name in names:
        res = results[name]
        if res is None:
            rows.append(
                {
                    "name": name,
                    "status": "missing",
                    "headline": "No results: the notebook did not finish.",
                }
            )
        else:
            rows.append({"name": name, "status": res.status, "headline": res.headline})
    gates = evaluate_gates(spec.gates, results)
    missing = [r["name"] for r in rows if r["status"] == "missing"]
    outcome = verdict(gates, missing)
    diff = changes_since(
        results_dir, previous_dir, gates=[g.to_dict() for g in gates], verdict=outcome
    )
    # The builder runs notebooks in reports/<pack>/.staging-<version>: that is this version.
    this = Path(results_dir).resolve().name.removeprefix(".staging-")
    trend = history(
        Path(previous_dir).parent if previous_dir else None,
        history_row(this, results, status="this build", verdict=outcome),
    )
    return ReviewSummary(spec.title, outcome, tuple(gates), tuple(rows), diff, tuple(trend))

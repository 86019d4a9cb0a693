"""``workbench pack init``: a starter pack spec for one's own model, which builds as written.

From the files a user has (reference and current data, optionally a contract, cost exports,
an incident record) it picks the notebooks that apply, sets every parameter that would
otherwise fall back to the demo's defaults, and proposes gates that only read metrics those
notebooks produce on this data (a prediction-drift gate only when predictions are named).
Every named column is checked against both data files first, as the builder's pre-flight
would, so a spec written by ``init`` never fails on a column it was given.

Values are written as JSON scalars and lists (valid YAML, quoted where needed), paths as
``{path: ...}`` relative to the spec, so the spec can move with its data.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from workbench.columns import check_named_columns
from workbench.errors import InputError, input_error
from workbench.io import scan, write_text_atomic

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"


@dataclass(frozen=True)
class StarterInputs:
    """What the user has; every path as given on the command line."""

    reference: str
    current: str
    out: str
    contract: str | None = None
    prediction: Sequence[str] = ()
    label: Sequence[str] = ()
    timestamp: str | None = None
    key_features: Sequence[str] = ()
    exclude: Sequence[str] = ()
    costs: str | None = None  # FOCUS cost export (with usage, value and budgets)
    usage: str | None = None
    value: str | None = None
    budgets: str | None = None
    incident: str | None = None  # incident record (YAML)
    name: str | None = None
    title: str | None = None
    extra_inputs: Sequence[str] = field(default_factory=tuple)


def _j(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _rel(path: str | os.PathLike[str], base: Path) -> str:
    p = Path(path).resolve()
    try:
        return os.path.relpath(p, base).replace(os.sep, "/")
    except ValueError:  # another drive on Windows
        return str(p)


def _pathp(path: str, base: Path) -> str:
    return "{path: " + _j(_rel(path, base)) + "}"


def _check_files(inp: StarterInputs) -> None:
    cur_cols = scan(inp.current).collect_schema()
    ref_cols = scan(inp.reference).collect_schema().names()
    both = {"--prediction": list(inp.prediction), "--label": list(inp.label),
            "--key-features": list(inp.key_features)}
    check_named_columns(cur_cols.names(), {**both, "--timestamp": inp.timestamp,
                                           "--exclude": list(inp.exclude)}, inp.current)
    check_named_columns(ref_cols, both, inp.reference)
    if inp.timestamp and not cur_cols[inp.timestamp].is_temporal():
        raise input_error(inp.current, inp.timestamp, "a date or datetime column (--timestamp)",
                          str(cur_cols[inp.timestamp]))
    for option, path in (("--contract", inp.contract), ("--incident", inp.incident)):
        if path and not Path(path).is_file():
            raise input_error(path, option, "an existing file")
    cost_files = {"--costs": inp.costs, "--usage": inp.usage, "--value": inp.value,
                  "--budgets": inp.budgets}
    given = [k for k, v in cost_files.items() if v]
    if given and len(given) < len(cost_files):
        lacking = ", ".join(k for k, v in cost_files.items() if not v)
        raise InputError(
            f"{given[0]}: expected the other cost inputs too (missing {lacking}): cost to "
            "value needs the cost export, usage, value and budgets",
            field=given[0],
        )
    for path in cost_files.values():
        if path:
            scan(path)  # exists, readable, a table


@dataclass
class _Draft:
    """The spec being written: notebook lines, gate lines and the notebooks so far."""

    base: Path
    lines: list[str] = field(default_factory=list)
    gates: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)

    def notebook(self, stem: str) -> str:
        return _j(_rel(NOTEBOOKS_DIR / f"{stem}.ipynb", self.base))

    def path(self, value: str) -> str:
        return _pathp(value, self.base)

    def gate(self, gid: str, title: str, notebook: str, metric: str, op: str, value: object,
             severity: str, reason: str) -> None:
        self.gates.extend([
            f"  - id: {gid}",
            f"    title: {_j(title)}",
            f"    notebook: {notebook}",
            f"    metric: {metric}",
            f"    op: {_j(op)}",
            f"    value: {_j(value)}",
            f"    severity: {severity}",
            f"    reason: {_j(reason)}",
        ])


def starter_spec(inp: StarterInputs) -> str:
    """The YAML text of a starter spec (to be written at ``inp.out``)."""
    _check_files(inp)
    out = Path(inp.out).resolve()
    if not NOTEBOOKS_DIR.is_dir():
        raise InputError(f"{NOTEBOOKS_DIR}: expected the workbench notebooks directory")
    name = inp.name or re.sub(r"[^A-Za-z0-9_-]+", "-", out.stem).strip("-_")[:64] or "pack"
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$", name):
        raise input_error("--name", None, "letters, digits, _ and - (starting with one of "
                          "the first two)", name)
    draft = _Draft(out.parent)
    _header(draft, inp, out, name)
    if inp.contract:
        _contract_section(draft, inp)
    _drift_section(draft, inp)
    if inp.costs:
        _cost_section(draft, inp)
    if inp.incident:
        _incident_section(draft, inp)
    draft.lines += [
        "  - name: review_summary  # the verdict: reads the others' results, so runs last",
        f"    path: {draft.notebook('review_summary')}",
        f"    needs: {_j(draft.needs)}",
        "# Gates read one metric of one notebook's results (`workbench pack metrics NOTEBOOK`",
        "# lists them). no-go blocks the release; hold asks the review to decide; a gate whose",
        "# notebook failed or whose metric is null (e.g. no prediction columns) holds.",
        "gates:",
        *draft.gates,
    ]
    return "\n".join(draft.lines) + "\n"


def _header(draft: _Draft, inp: StarterInputs, out: Path, name: str) -> None:
    title = inp.title or f"{name} — model review"
    inputs = [inp.reference, inp.current, inp.contract, inp.costs, inp.usage, inp.value,
              inp.budgets, inp.incident, *inp.extra_inputs]
    draft.lines += [
        "# Starter review pack written by `workbench pack init`; edit freely, then run",
        f"#   workbench pack build {_rel(out, Path.cwd())}",
        "# Paths are relative to this file. Every parameter a notebook declares can be set",
        "# under `parameters:` (see notebooks/REFERENCE.md or `workbench pack metrics`).",
        f"name: {_j(name)}  # folder under the reports directory",
        f"title: {_j(title)}",
        "inputs:  # hashed into the manifest: a changed file gives a new version",
        *[f"  - {_j(_rel(p, draft.base))}" for p in dict.fromkeys(p for p in inputs if p)],
        "notebooks:",
    ]


def _contract_section(draft: _Draft, inp: StarterInputs) -> None:
    draft.needs.append("contract_checks")
    draft.lines += [
        "  - name: contract_checks",
        f"    path: {draft.notebook('contract_checks')}",
        "    parameters:",
        f"      contract_path: {draft.path(inp.contract or '')}",
        f"      data_path: {draft.path(inp.current)}  # the data the model scores",
        '      as_of: ""  # freshness measured from now; an ISO time makes it reproducible',
    ]
    draft.gate("contract", "No error-level contract check fails", "contract_checks",
               "error_checks_failed", "==", 0, "no-go",
               "The model is scoring data that breaks its contract.")


def _drift_section(draft: _Draft, inp: StarterInputs) -> None:
    draft.needs.append("drift")
    draft.lines += [
        "  - name: drift",
        f"    path: {draft.notebook('drift')}",
        "    parameters:",
        f"      reference_path: {draft.path(inp.reference)}  # what the model was trained on",
        f"      current_path: {draft.path(inp.current)}  # what it scores now",
        "      contract_path: "
        + (draft.path(inp.contract or "") + "  # column types and valid values"
           if inp.contract else '""  # no contract: column types inferred from the data'),
        f"      timestamp: {_j(inp.timestamp or '')}"
        + ("  # drift per day of the current data" if inp.timestamp
           else "  # no timestamp: no time windows"),
        f"      prediction_columns: {_j(list(inp.prediction))}  # model outputs",
        f"      label_columns: {_j(list(inp.label))}  # ground truth, when it is known",
        f"      key_features: {_j(list(inp.key_features))}"
        "  # the features a gate watches (key_drifted_share)",
        f"      exclude_columns: {_j(list(inp.exclude))}"
        "  # never compared (ids, model version, ...)",
    ]
    if inp.prediction:
        draft.gate("prediction-drift", "Predictions have not drifted", "drift",
                   "prediction_drift", "==", False, "no-go",
                   "The model's outputs moved; check that its decisions still fit the "
                   "business case.")
    if inp.label:
        draft.gate("label-drift", "Labels have not drifted", "drift", "label_drift", "==",
                   False, "hold",
                   "What the model predicts has changed in the world; it may need retraining.")
    if inp.key_features:
        draft.gate("key-features", "At most a quarter of the key features drifted", "drift",
                   "key_drifted_share", "<=", 0.25, "hold",
                   "The features the model leans on most have shifted.")
    draft.gate("dataset-drift", "Less than half of the columns drifted", "drift",
               "dataset_drift", "==", False, "hold",
               "The data the model sees is unlike the data it learned from.")


def _cost_section(draft: _Draft, inp: StarterInputs) -> None:
    draft.needs.append("cost_to_value")
    draft.lines += [
        "  - name: cost_to_value",
        f"    path: {draft.notebook('cost_to_value')}",
        "    parameters:",
        f"      ledger_path: {draft.path(inp.costs or '')}  # FOCUS cost line items",
        f"      usage_path: {draft.path(inp.usage or '')}  # predictions per model and day",
        f"      value_path: {draft.path(inp.value or '')}  # business value per model, day",
        f"      budgets_path: {draft.path(inp.budgets or '')}  # budget per model, month",
    ]
    draft.gate("worth-cost", "Every model earns more than it costs", "cost_to_value",
               "models_not_worth_cost", "==", 0, "no-go",
               "A model costs more to run than the value it brings.")
    draft.gate("on-budget", "No model forecast over budget", "cost_to_value",
               "models_over_budget", "==", 0, "hold",
               "Spend is forecast to overrun a budget agreed with finance.")


def _incident_section(draft: _Draft, inp: StarterInputs) -> None:
    draft.lines += [
        "  - name: incident_postmortem",
        f"    path: {draft.notebook('incident_postmortem')}",
        "    parameters:",
        f"      record_path: {draft.path(inp.incident or '')}  # incident record (YAML)",
        '      portfolio_source: ""  # a directory or glob of records for the portfolio',
        '      as_of: ""  # action items due before now are overdue',
        f"    needs: {_j(list(draft.needs))}  # places their findings on the timeline",
    ]
    draft.needs.append("incident_postmortem")
    draft.gate("error-budget", "At least 25% of the error budget left", "incident_postmortem",
               "error_budget_remaining_pct", ">=", 25, "no-go",
               "Too little error budget is left; freeze risky changes until it recovers.")
    draft.gate("action-items", "No overdue postmortem action items", "incident_postmortem",
               "overdue_action_items", "==", 0, "hold",
               "Fixes promised after the incident are late.")


def write_starter(inp: StarterInputs, force: bool = False) -> Path:
    """Write the starter spec at ``inp.out``; an existing file is kept unless ``force``."""
    out = Path(inp.out)
    if out.exists() and not force:
        raise input_error(out, None, "a path that does not exist yet (or --force)")
    text = starter_spec(inp)
    write_text_atomic(out, text)
    return out

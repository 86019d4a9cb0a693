"""notebooks/REFERENCE.md is in step with the notebooks, and the metrics they declare are
the ones their areas produce (computed here on the demo data, without a kernel)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from workbench.cli import cli
from workbench.packs.params import notebook_parameters
from workbench.packs.reference import declared_metrics, notebooks, reference_markdown

ROOT = Path(__file__).resolve().parents[2]
NB = ROOT / "notebooks"
DATA = ROOT / "data" / "sample"
AS_OF = datetime.fromisoformat("2026-11-02T00:00:00+00:00")


def test_reference_file_is_up_to_date():
    committed = (NB / "REFERENCE.md").read_text(encoding="utf-8")
    assert committed == reference_markdown(), (
        "notebooks/REFERENCE.md is stale: run "
        ".venv/bin/python -m workbench.packs.reference > notebooks/REFERENCE.md"
    )


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.stem)
def test_every_parameter_has_a_type_and_a_meaning(path):
    for p in notebook_parameters(path).values():
        assert p.type and p.help, f"{path.name}: {p.name} needs an annotation and a comment"


def _produced() -> dict[str, set[str]]:
    from workbench import costs, incidents
    from workbench.contracts import check, load_contract
    from workbench.drift import compute
    from workbench.packs import summarize

    contract = check(load_contract(DATA / "contracts" / "loan_scoring.odcs.yaml"), None,
                     as_of=AS_OF)
    drift = compute(current=DATA / "scoring" / "current.parquet",
                    reference=DATA / "scoring" / "reference.parquet",
                    prediction=["score"], label=["label_default"], key_features=["credit_score"],
                    timestamp="scored_at", window="week")
    cost = costs.compute(*(DATA / "costs" / f for f in (
        "focus_costs.csv", "usage.csv", "value.csv", "budgets.csv")))
    incident = incidents.load(DATA / "incidents" / "INC-2026-1019.yaml", as_of=AS_OF,
                              evidence_lookback=timedelta(hours=72))
    folio = incidents.portfolio(DATA / "incidents", as_of=AS_OF)
    summary = summarize(NB / "packs" / "demo.yml", ROOT / "no-results-here", "")
    return {
        "contract_checks": set(contract.results("contract_checks")["metrics"]),
        "drift": set(drift.results()["metrics"]),
        "cost_to_value": set(cost.to_dict()["metrics"]),
        "incident_postmortem": set(incident.results(folio)["metrics"]),
        "review_summary": set(summary.findings().metrics),
    }


def test_declared_metrics_are_the_ones_produced():
    produced = _produced()
    for name, keys in produced.items():
        declared = declared_metrics(NB / f"{name}.ipynb")
        patterns = {d: re.compile("^" + re.escape(d).replace("<model>", "[^.]+") + "$")
                    for d in declared}
        undeclared = {k for k in keys if not any(p.match(k) for p in patterns.values())}
        never = {d for d, p in patterns.items() if not any(p.match(k) for k in keys)}
        assert not undeclared and not never, (name, undeclared, never)


def test_pack_metrics_prints_a_notebooks_metrics():
    res = CliRunner().invoke(cli, ["pack", "metrics", "drift"])
    assert res.exit_code == 0
    assert re.search(r"^  prediction_drift +true when a prediction column drifted", res.stdout,
                     re.MULTILINE)
    res = CliRunner().invoke(cli, ["pack", "metrics"])
    assert "cost_per_1k_predictions.<model>" in res.stdout and "verdict_go" in res.stdout
    res = CliRunner().invoke(cli, ["pack", "metrics", "drfit"])
    assert res.exit_code == 2 and "drift" in res.stderr

"""notebooks/incident_postmortem.ipynb runs with non-default parameters and writes its findings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "incident_postmortem.ipynb"
DATA = ROOT / "data" / "sample" / "incidents"


@pytest.mark.slow
def test_incident_postmortem_with_pack_evidence_and_a_portfolio_glob(tmp_path):
    import papermill as pm

    # Findings of the same pack, as the drift and contract notebooks write them; drift under
    # the name a spec gave it (named in evidence_findings, classified by the notebook that
    # wrote it).
    (tmp_path / "drift_credit.results.json").write_text(json.dumps({
        "notebook": "drift", "status": "warn", "headline": "h", "metrics": {},
        "windows": [{"start": "2026-10-19T00:00:00+00:00", "end": "2026-10-20T00:00:00+00:00",
                     "column": "debt_to_income", "statistic": 0.61, "drifted": True}]}))
    (tmp_path / "contract_checks.results.json").write_text(json.dumps({
        "notebook": "contract_checks", "status": "fail", "headline": "h", "metrics": {},
        "checks": [{"id": "debt_to_income_maximum", "rule": "maximum", "column": "debt_to_income",
                    "passed": False, "failed_rows": 2210,
                    "first_failed_at": "2026-10-19T08:03:00Z",
                    "last_failed_at": "2026-11-01T23:50:00Z"}]}))
    pm.execute_notebook(
        str(NOTEBOOK), str(tmp_path / "out.ipynb"), kernel_name="python3", progress_bar=False,
        cwd=str(NOTEBOOK.parent),
        parameters={"record_path": str(DATA / "INC-2026-1019.yaml"),
                    "slos_path": str(DATA / "INC-2026-1019" / "slos.yaml"),
                    "portfolio_source": str(DATA / "INC-2026-0*.yaml"),
                    "as_of": "2026-10-29T00:00:00+00:00", "evidence_lookback_hours": 36,
                    "results_dir": str(tmp_path), "findings_name": "postmortem_b",
                    "evidence_findings": ["drift_credit", "contract_checks"]})
    assert not (tmp_path / "incident_postmortem.results.json").exists()
    found = json.loads((tmp_path / "postmortem_b.results.json").read_text())
    assert found["notebook"] == "incident_postmortem"
    assert found["headline"].startswith("INC-2026-1019 (SEV2, resolved)")
    m = found["metrics"]
    assert all(not isinstance(v, dict | list) for v in m.values())
    assert (m["ttd_minutes"], m["tta_minutes"], m["ttm_minutes"], m["ttr_minutes"]) == \
        (51, 8, 145, 1848)
    assert m["failed_requests"] > 1000 and m["minutes_out_of_slo"] >= 140
    assert 0 < m["error_budget_consumed_pct"] < 100 - m["error_budget_remaining_pct"] + 1e-9
    # As of 2026-10-29 only AI-1 (done) and AI-5 (done) are past due: nothing overdue yet.
    assert (m["open_action_items"], m["overdue_action_items"]) == (4, 0)
    # The glob picks the 2026 incidents whose ids start with INC-2026-0: 11 records.
    assert m["portfolio_incidents"] == 11
    kinds = {(e["origin"], e["kind"]) for e in found["timeline"]}
    assert ("pack evidence", "drift") in kinds and ("pack evidence", "contract") in kinds
    # Every SRE template section and both incident charts are in the executed notebook.
    nb = json.loads((tmp_path / "out.ipynb").read_text())
    text = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    for section in ("Summary", "Impact", "Root causes", "Trigger", "Resolution", "Detection",
                    "Action items", "Lessons learned", "Timeline", "Portfolio"):
        assert f"## {section}" in text
    svgs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])
            if "image/svg+xml" in o.get("data", {})]
    assert len(svgs) == 4
    assert not any(o.get("output_type") == "error" for c in nb["cells"] if c["cell_type"] == "code"
                   for o in c.get("outputs", []))


@pytest.mark.slow
def test_a_service_incident_from_pagerduty_prometheus_and_sloth(tmp_path):
    """A non-ML incident imported from exports: the page has no ML wording, the budget over SLIs
    of one afternoon is unknown with its coverage, and the alerts are Sloth's for 28 days."""
    import sys

    import papermill as pm
    from click.testing import CliRunner

    from workbench.cli import cli

    sys.path.insert(0, str(ROOT / "tests" / "unit"))
    import incident_exports as X

    first = X.minute(X.STARTED) - 120
    prom = X.write_prometheus(tmp_path / "prom", first=first, chunked=False)
    (tmp_path / "sloth.yaml").write_text(X.SLOTH, encoding="utf-8")
    records = tmp_path / "records"
    args = ["incident", "import", "pagerduty", str(X.write_pagerduty(tmp_path / "pd")), "--out",
            str(records), "--started", X.STARTED.isoformat(), "--mitigated",
            X.MITIGATED.isoformat(), "--slos", str(tmp_path / "sloth.yaml")]
    args += [a for k, fs in prom.items() for f in fs for a in ("--prometheus", f"{k}={f}")]
    assert CliRunner().invoke(cli, args).exit_code == 0
    (records / "sloth.yaml").write_text(X.SLOTH, encoding="utf-8")  # beside the records
    pm.execute_notebook(
        str(NOTEBOOK), str(tmp_path / "out.ipynb"), kernel_name="python3", progress_bar=False,
        cwd=str(NOTEBOOK.parent),
        parameters={"record_path": str(records / "PD-4821.yaml"), "slo_period": "28d",
                    "portfolio_source": str(records), "as_of": "2026-07-01T00:00:00+00:00",
                    "results_dir": str(tmp_path)})
    found = json.loads((tmp_path / "incident_postmortem.results.json").read_text())
    m = found["metrics"]
    assert m["error_budget_consumed_pct"] is None and m["portfolio_incidents"] == 1
    assert found["error_budget"]["availability"]["coverage"] == pytest.approx(
        (X.MINUTES - first) / X.MINUTES)
    nb = json.loads((tmp_path / "out.ipynb").read_text())
    outputs = " ".join(
        "".join(o.get("data", {}).get("text/html", ""))
        for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", []))
    assert "unknown" in outputs and "13.44x" in outputs and "14.4x" not in outputs
    prose = outputs.split("<svg")[0].lower()
    assert "drift" not in prose and " model" not in prose and "credit" not in prose
    assert not any(o.get("output_type") == "error" for c in nb["cells"] if c["cell_type"] == "code"
                   for o in c.get("outputs", []))

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

    # Findings of the same pack, as the drift and contract notebooks write them.
    (tmp_path / "drift.results.json").write_text(json.dumps({
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
                    "results_dir": str(tmp_path)})
    found = json.loads((tmp_path / "incident_postmortem.results.json").read_text())
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

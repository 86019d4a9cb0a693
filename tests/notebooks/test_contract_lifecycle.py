"""notebooks/contract_checks.ipynb with the demo's parameters: the page shows the contract's changes
since the previous version (v1.0.0 -> v2.0.0 in the demo) and the service-level table, and
keeps a copy of the contract for the next pack, which then finds no change."""

from __future__ import annotations

import json
from pathlib import Path

import papermill as pm
import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "contract_checks.ipynb"


def run(tmp_path: Path, name: str, **params) -> tuple[str, Path]:
    out = tmp_path / name
    executed = tmp_path / f"{name}.ipynb"
    pm.execute_notebook(str(NOTEBOOK), str(executed), cwd=str(NOTEBOOK.parent),
                        kernel_name="python3", progress_bar=False,
                        parameters={"results_dir": str(out), **params})
    nb = json.loads(executed.read_text(encoding="utf-8"))
    html = "".join("".join(o.get("data", {}).get("text/html", []))
                   for c in nb["cells"] for o in c.get("outputs", []))
    return html, out


@pytest.mark.slow
def test_demo_page_shows_the_diff_and_the_service_levels(tmp_path):
    data = REPO / "data" / "sample" / "contracts"
    demo = {"deliveries": str(data / "loan_scoring.deliveries.csv"),
            "previous_contract": str(data / "loan_scoring.v1.0.0.odcs.yaml")}
    html, out = run(tmp_path, "first", **demo)
    assert "The contract changed since the last pack (1.0.0 -&gt; 2.0.0)" in html
    assert "valid_value_added" in html and "sla_added" in html
    assert "suggested version 2.0.0" in html
    assert "Service levels" in html and "timeOfAvailability" in html
    assert "error budget left" in html and "20.6%" in html   # availability: 1.19% of 1.5%
    results = json.loads((out / "contract_checks.results.json").read_text(encoding="utf-8"))
    rules = {c["id"]: c for c in results["checks"]}
    latency = rules["loan_scoring.sla.latency"]
    assert latency["passed"] is False and latency["severity"] == "error"  # the outage
    assert rules["loan_scoring.sla.availability"]["passed"] is True
    assert (out / "contract_checks.contract.yaml").is_file()
    html, _ = run(tmp_path, "second", previous_dir=str(out), **demo)
    assert "The contract did not change since the last pack" in html

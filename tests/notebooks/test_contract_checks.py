"""notebooks/contract_checks.ipynb with non-default parameters: results JSON, changes, masking."""

from __future__ import annotations

import json
from pathlib import Path

import papermill as pm
import polars as pl
import pytest

from workbench.contracts import check

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "contract_checks.ipynb"
CONTRACT = REPO / "data" / "sample" / "contracts" / "loan_scoring.odcs.yaml"
CURRENT = REPO / "data" / "sample" / "scoring" / "current.parquet"


@pytest.mark.slow
def test_notebook_checks_a_window_and_compares_with_the_previous_pack(tmp_path):
    # previous pack: the full current window (broker feed break included)
    previous = tmp_path / "previous"
    before = check(CONTRACT, CURRENT, as_of="2026-11-02T00:00:00Z")
    before.findings().write(previous)
    # this run: only the two weeks before the break, checked two weeks later
    data = tmp_path / "before_break.parquet"
    pl.scan_parquet(CURRENT).filter(pl.col("scored_at") < pl.datetime(2026, 10, 19,
                                                                       time_zone="UTC")
                                    ).sink_parquet(data)
    out = tmp_path / "out"
    executed = tmp_path / "executed.ipynb"
    pm.execute_notebook(str(NOTEBOOK), str(executed), cwd=str(NOTEBOOK.parent),
                        kernel_name="python3", progress_bar=False, parameters={
                            "contract_path": str(CONTRACT), "data_path": str(data),
                            "as_of": "2026-11-01T00:00:00Z", "previous_dir": str(previous),
                            "results_dir": str(out)})

    results = json.loads((out / "contract_checks.results.json").read_text(encoding="utf-8"))
    assert results["notebook"] == "contract_checks"
    assert results["status"] == "fail" and results["headline"]
    m = results["metrics"]
    assert m["rows"] == pl.scan_parquet(data).select(pl.len()).collect().item()
    assert m["checks_failed"] == m["error_checks_failed"] + m["warning_checks_failed"] \
        + m["info_checks_failed"]
    assert m["gate_passed"] is False and 0 < m["pass_rate"] < 1
    changes = {c["id"]: c["change"] for c in results["changes"]}
    assert changes["loan_scoring.scored_at.freshness"] == "new failure"    # 13 days old
    assert changes["loan_scoring.debt_to_income.maximum"] == "resolved"    # no broker percent
    assert changes["loan_scoring.label_default.nullValues"] == "resolved"  # labels known
    assert m["new_failures"] >= 1 and m["resolved_failures"] >= 2
    checks = {c["id"]: c for c in results["checks"]}
    dup = checks["loan_scoring.application_id.unique"]
    assert dup["first_failed_at"] < "2026-10-19" and dup["samples"]

    # the sensitive column never appears unmasked: not in the notebook, not in the JSON
    emails = set(pl.read_parquet(data, columns=["applicant_email"])["applicant_email"])
    text = executed.read_text(encoding="utf-8") + json.dumps(results)
    assert "••••" in text
    assert not any(e in text for e in list(emails)[:2000])
    assert text.count("image/svg+xml") >= 3   # the charts rendered offline


@pytest.mark.slow
def test_notebook_checks_every_schema_object_of_a_contract(tmp_path):
    """A contract with two schema objects and relationships (the parity set's ``states``)."""
    import yaml

    parity = REPO / "tests" / "parity"
    doc = yaml.safe_load((parity / "contracts" / "states.odcs.yaml").read_text(encoding="utf-8"))
    doc["servers"][0]["path"] = str(parity / "data" / "{model}.csv")
    contract = tmp_path / "states.odcs.yaml"
    contract.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    out = tmp_path / "out"
    executed = tmp_path / "executed.ipynb"
    pm.execute_notebook(str(NOTEBOOK), str(executed), cwd=str(NOTEBOOK.parent),
                        kernel_name="python3", progress_bar=False, parameters={
                            "contract_path": str(contract), "results_dir": str(out)})
    results = json.loads((out / "contract_checks.results.json").read_text(encoding="utf-8"))
    assert [(s["schema"], s["rows"]) for s in results["schemas"]] == [
        ("cpunish", 17), ("statecrime", 51)]
    fk = next(c for c in results["checks"] if c["id"] == "cpunish.STATE.foreignKey")
    assert fk["failed_rows"] == 2
    assert sorted(s["STATE"] for s in fk["samples"]) == ["Kentucky", "South_Carolina"]
    assert results["metrics"]["rows"] == 68

"""The demo contract: deterministic, valid, and it catches the scenario's injected defects."""

from __future__ import annotations

from pathlib import Path

from workbench.contracts import check, load_contract, sensitive_columns
from workbench.sample import contract, scenario

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "data" / "sample" / "contracts" / "loan_scoring.odcs.yaml"


def test_generate_is_byte_identical_to_the_committed_contract(tmp_path):
    (path,) = contract.generate(tmp_path)
    assert path == tmp_path / "contracts" / "loan_scoring.odcs.yaml"
    assert path.read_bytes() == COMMITTED.read_bytes()


def test_demo_contract_declares_what_the_pack_relies_on():
    c = load_contract(COMMITTED)
    assert c.id == scenario.CONTRACT_ID and c.schema_names == [scenario.SCORING_TABLE]
    assert sensitive_columns(c) == set(scenario.SENSITIVE_COLUMNS)
    cols = {col.name: col for col in c.columns()}
    assert cols["application_id"].primary_key and cols["application_id"].unique
    assert cols["debt_to_income"].maximum == 1
    assert cols["home_ownership"].valid_values == ("RENT", "OWN", "MORTGAGE", "OTHER")
    assert c.data_path() == str(REPO / "data" / "sample" / "scoring" / "current.parquet") or \
        c.data_path().endswith("data/sample/scoring/current.parquet")


def test_demo_data_breaks_the_contract_where_the_story_says():
    result = check(COMMITTED, as_of="2026-11-02T00:00:00Z")
    failed = {c.id for c in result.failed}
    assert {"loan_scoring.debt_to_income.maximum", "loan_scoring.application_id.unique",
            "loan_scoring.home_ownership.invalidValues", "loan_scoring.credit_score.maximum",
            "loan_scoring.label_default.nullValues"} <= failed
    assert not result.passed
    dti = result.check("loan_scoring.debt_to_income.maximum")
    assert dti.first_failed_at >= scenario.DRIFT_START.isoformat()  # the broker feed break
    # the e-mail column appears in samples, masked
    emails = result.check("loan_scoring.applicant_email.duplicateValues").samples
    assert emails and all(s["applicant_email"] == "••••" for s in emails)

"""The demo pack's contract page shows the contract's changes and the service-level table."""

from __future__ import annotations

import html as htmllib
import json
import re

import pytest

pytestmark = pytest.mark.slow


def test_contract_page_has_the_diff_and_the_sla_table(demo_pack):
    raw = (demo_pack.version_dir / "contract_checks.html").read_text(encoding="utf-8")
    page = re.sub(r"<wbr\s*/?>", "", raw)  # the page's soft line breaks in long words
    text = htmllib.unescape(page)
    assert "The contract changed since the last pack (1.0.0 -> 2.0.0)" in text
    assert "valid values 72 added on loan_scoring.loan_term_months" in text
    assert "service level availability added" in text
    for level in ("latency", "frequency", "timeOfAvailability", "availability", "errorRate",
                  "retention", "freshness"):
        assert f"<td>{level}</td>" in page
    assert "error budget left" in text
    results = json.loads((demo_pack.version_dir / "contract_checks.results.json").read_text())
    sla = [c for c in results["checks"] if ".sla." in c["id"]]
    assert {c["rule"] for c in sla} == {"latency", "frequency", "timeOfAvailability",
                                        "availability", "errorRate", "retention"}
    assert all(c["severity"] == "error" for c in sla)  # every level ran on the demo's data

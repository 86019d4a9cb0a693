"""The fleet index: worst first and grouped by verdict, every string escaped, split into
pages that stay small however large the fleet; the fleet findings count by verdict and
failing gate."""

from __future__ import annotations

import json
from types import SimpleNamespace

from workbench.findings import read_findings
from workbench.fleet.index import PAGE_ROWS, write_fleet_index
from workbench.sample.fleet import synthetic_records

FLEET = SimpleNamespace(name="f", title="Fleet <review>", description="")


def test_ten_thousand_records_split_into_pages_under_2_mb(tmp_path):
    recs = synthetic_records(10_000)
    index = write_fleet_index(FLEET, tmp_path, recs)
    pages = sorted(tmp_path.glob("*.html"))
    assert index in pages
    assert max(p.stat().st_size for p in pages) < 2_000_000
    listed = 0
    for group in ("error", "failed", "no-go", "hold", "go"):
        members = [p for p in pages if p.name.startswith(f"{group}-")]
        count = sum(1 for r in recs if _group(r) == group)
        assert len(members) == max(1, -(-count // PAGE_ROWS)), group
        listed += sum(p.read_text().count('<tr><td class="model">') for p in members)
    assert listed == 10_000  # every model on exactly one group page
    findings = read_findings(tmp_path / "fleet.results.json")
    assert findings.metric("models") == 10_000
    assert sum(findings.metric("by_verdict").values()) == 10_000
    fails = sum(1 for r in recs for g in r["failed_gates"] if g["id"] == "contract"
                and g["status"] == "failed")
    assert findings.metric("by_failing_gate")["contract (failed)"] == fails


def _group(r):
    return r["status"] if r["status"] in ("error", "failed") else r["verdict"]


def test_worst_first_and_escaped(tmp_path):
    recs = [
        {"model": "good", "owner": "<b>o</b>", "status": "ok", "verdict": "go",
         "version": "v1", "failed_gates": [], "changes": ["no change"], "problems": []},
        {"model": "bad", "owner": "x", "status": "ok", "verdict": "no-go", "version": "v2",
         "failed_gates": [{"id": "g<1>", "title": "t", "severity": "no-go",
                           "status": "failed"}], "changes": ["verdict go → no-go"],
         "problems": []},
        {"model": "refused", "owner": "x", "status": "error", "verdict": None,
         "version": None, "failed_gates": [], "changes": [],
         "problems": ["a.csv: col: expected <script>alert(1)</script>"]},
        {"model": "meh", "owner": "x", "status": "ok", "verdict": "hold", "version": "v3",
         "failed_gates": [], "changes": [], "problems": []},
    ]
    html = write_fleet_index(FLEET, tmp_path, recs).read_text()
    order = [html.index(f">{m}<") for m in ("refused", "bad", "meh", "good")]
    assert order == sorted(order)
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "&lt;b&gt;o&lt;/b&gt;" in html and "g&lt;1&gt;" in html
    assert "Fleet &lt;review&gt;" in html
    assert 'href="../bad/v2/index.html"' in html
    assert "Content-Security-Policy" in html
    doc = json.loads((tmp_path / "fleet.results.json").read_text())
    assert doc["status"] == "error"  # a model was refused: the fleet is no pass
    assert doc["metrics"]["by_verdict"] == {"error": 1, "failed": 0, "no-go": 1, "hold": 1,
                                            "go": 1}


def test_a_smaller_fleet_removes_the_pages_it_no_longer_has(tmp_path):
    write_fleet_index(FLEET, tmp_path, synthetic_records(3000))
    assert (tmp_path / "go-2.html").exists()
    write_fleet_index(FLEET, tmp_path, synthetic_records(50))
    assert not (tmp_path / "go-2.html").exists() and (tmp_path / "go-1.html").exists()


def test_all_go_is_a_pass_and_no_models_is_unknown(tmp_path):
    rec = {"model": "a", "owner": "o", "status": "ok", "verdict": "go", "version": "v",
           "failed_gates": [], "changes": [], "problems": []}
    write_fleet_index(FLEET, tmp_path, [rec])
    assert read_findings(tmp_path / "fleet.results.json").status == "pass"
    write_fleet_index(FLEET, tmp_path / "empty", [])
    assert read_findings(tmp_path / "empty" / "fleet.results.json").status == "unknown"

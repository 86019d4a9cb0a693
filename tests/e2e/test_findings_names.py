"""One notebook run twice in one pack under two names, each with its own gate.

The builder passes each run its spec name as ``findings_name``, so ``drift_a`` and
``drift_b`` write their own findings, and each gate reads the run it names.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from workbench.cli import cli
from workbench.findings import read_findings

SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "packs" / "drift_twice.yml"


@pytest.fixture(scope="module")
def version(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("twice") / "reports"
    r = CliRunner().invoke(cli, ["pack", "build", str(SPEC), "--out", str(out)])
    assert r.exit_code == 0, r.output
    return Path(r.stdout.strip().splitlines()[-1]).parent


@pytest.mark.slow
def test_both_runs_write_their_own_findings(version):
    a = read_findings(version / "drift_a.results.json")
    b = read_findings(version / "drift_b.results.json")
    assert (a.name, a.notebook) == ("drift_a", "drift")
    assert (b.name, b.notebook) == ("drift_b", "drift")
    assert not (version / "drift.results.json").exists()
    # the runs had their own parameters
    assert a.metric("key_drifted_share") == 1.0 and a.metric("key_features_total") == 2
    assert b.metric("key_drifted_share") == 0.0 and b.metric("key_features_total") == 2
    assert "score" not in {c["column"] for c in b.get("columns")}


@pytest.mark.slow
def test_each_gate_reads_the_run_it_names(version):
    manifest = json.loads((version / "manifest.json").read_text())
    gates = {g["id"]: g for g in manifest["gates"]}
    assert (gates["a-key-features"]["observed"], gates["a-key-features"]["status"]) == (
        1.0, "failed")
    assert (gates["b-key-features"]["observed"], gates["b-key-features"]["status"]) == (
        0.0, "passed")
    assert manifest["verdict"] == "hold"
    assert {n["name"]: n["parameters"]["findings_name"] for n in manifest["notebooks"]} == {
        "drift_a": "drift_a", "drift_b": "drift_b", "review_summary": "review_summary"}


@pytest.mark.slow
def test_the_review_summary_lists_both_runs(version):
    summary = read_findings(version / "review_summary.results.json")
    assert [n["name"] for n in summary.get("notebooks")] == ["drift_a", "drift_b"]
    assert summary.metric("gates_failed") == 1 and summary.get("verdict") == "hold"

"""Incremental builds with real kernels: the kernel records what a notebook reads, an
unchanged notebook's outputs are reused byte for byte and the new version verifies, one
changed input re-runs only its reader, and ``pack verify --inputs`` names what changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from _notebooks import write_notebook
from click.testing import CliRunner

from workbench.cli import cli
from workbench.packs.build import build
from workbench.packs.verify import verify

pytestmark = pytest.mark.slow

A = """
from workbench import io
frame = io.read_table(data_path)
total = int(frame["v"].sum())
io.write_results("a", {"notebook": "a", "status": "ok", "headline": f"total {total}",
                       "metrics": {"total": total}}, results_dir)
print(total)
"""
B = """
import json, os
from workbench import io
total = json.load(open(os.path.join(results_dir, "a.results.json")))["metrics"]["total"]
factor = io.read_yaml(config_path)["factor"]
io.write_results("b", {"notebook": "b", "status": "ok", "headline": "b",
                       "metrics": {"scaled": total * factor}}, results_dir)
print(total * factor)
"""




@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    root = tmp_path_factory.mktemp("incremental")
    (root / "data").mkdir()
    (root / "data" / "a.csv").write_text("k,v\n1,10\n2,20\n", encoding="utf-8")
    (root / "data" / "b.yaml").write_text("factor: 3\n", encoding="utf-8")
    write_notebook(root / "a.ipynb", 'results_dir: str = "."\ndata_path: str = ""', A)
    write_notebook(root / "b.ipynb", 'results_dir: str = "."\nconfig_path: str = ""', B)
    spec = root / "pack.yml"
    spec.write_text(yaml.safe_dump({
        "name": "inc", "title": "Incremental", "inputs": ["data/*"],
        "notebooks": [
            {"name": "a", "path": "a.ipynb", "parameters": {"data_path": {"path": "data/a.csv"}}},
            {"name": "b", "path": "b.ipynb", "needs": ["a"],
             "parameters": {"config_path": {"path": "data/b.yaml"}}},
        ]}), encoding="utf-8")
    out = root / "reports"
    cold = build(spec, out)
    warm = build(spec, out)
    (root / "data" / "b.yaml").write_text("factor: 4\n", encoding="utf-8")
    changed = build(spec, out)
    return {"root": root, "out": out, "cold": cold, "warm": warm, "changed": changed}


def _manifest(version_dir: Path) -> dict:
    return json.loads((version_dir / "manifest.json").read_text(encoding="utf-8"))


def test_the_kernel_records_what_each_notebook_read(builds):
    runs = {nb["name"]: nb for nb in _manifest(builds["cold"].version_dir)["notebooks"]}
    reads_a = {r["path"] for r in runs["a"]["cache"]["reads"]}
    reads_b = {r["path"] for r in runs["b"]["cache"]["reads"]}
    assert "$spec_dir/data/a.csv" in reads_a  # read by polars, told through io.note_read
    assert "$spec_dir/data/b.yaml" not in reads_a
    assert {"$spec_dir/data/b.yaml", "$results_dir/a.results.json"} <= reads_b
    for nb in runs.values():
        assert len(nb["cache"]["key"]) == 64
        assert nb["cache"]["executed_in"] == builds["cold"].version
        assert nb["cache"]["parts"]["environment"]["packages"]["polars"]


def test_a_reused_output_is_byte_identical_and_the_version_verifies(builds):
    cold, warm = builds["cold"].version_dir, builds["warm"].version_dir
    runs = {nb["name"]: nb for nb in _manifest(warm)["notebooks"]}
    for name in ("a", "b"):
        assert runs[name]["cache"]["reused_from"] == cold.name
        for file in (f"{name}.html", f"{name}.ipynb", f"{name}.results.json"):
            assert (warm / file).read_bytes() == (cold / file).read_bytes()
    assert verify(warm)["version"] == warm.name
    m = _manifest(warm)
    assert m["cache"]["nothing_changed"] is True and m["cache"]["same_as"] == cold.name
    assert m["cache"]["reused"] == ["a", "b"] and m["cache"]["executed"] == []
    page = (warm / "index.html").read_text(encoding="utf-8")
    assert f"Nothing changed since {cold.name}:</strong>" in page
    assert "reused from" in page


def test_one_changed_input_reruns_only_its_reader(builds):
    changed = builds["changed"]
    runs = {nb["name"]: nb for nb in _manifest(changed.version_dir)["notebooks"]}
    assert runs["a"]["cache"]["reused_from"] == builds["warm"].version
    assert runs["b"]["cache"]["reused_from"] is None
    assert runs["b"]["cache"]["ran_because"] == "changed: $spec_dir/data/b.yaml"
    findings = json.loads((changed.version_dir / "b.results.json").read_text())
    assert findings["metrics"]["scaled"] == 30 * 4  # not the stale 30 * 3
    assert _manifest(changed.version_dir)["cache"]["nothing_changed"] is False
    verify(changed.version_dir)


def test_verify_inputs_lists_what_changed_since_the_build(builds):
    runner = CliRunner()
    old = runner.invoke(cli, ["pack", "verify", str(builds["cold"].version_dir), "--inputs"])
    assert old.exit_code == 1, old.output
    assert "changed: $spec_dir/data/b.yaml (read by (spec inputs), b)" in old.output
    assert "a.csv" not in old.output
    new = runner.invoke(cli, ["pack", "verify", str(builds["changed"].version_dir), "--inputs"])
    assert new.exit_code == 0, new.output
    assert "recorded inputs still on disk are unchanged" in new.output


def test_a_notebook_measured_from_now_runs_again_every_build(tmp_path):
    """Contract freshness with an empty ``as_of`` is measured from the current time: the
    same data gives another answer tomorrow (stale data is exactly what stops changing),
    so such a run is never reused. (Overdue action items go through the same
    ``workbench.io.now``: tests/unit/test_packs_cache.py.)"""
    from _notebooks import demo_subset

    spec = demo_subset(tmp_path, {"contract_checks"})
    doc = yaml.safe_load(spec.read_text())
    doc["notebooks"][0]["parameters"]["as_of"] = ""
    spec.write_text(yaml.safe_dump(doc, sort_keys=False))
    out = tmp_path / "out"
    first = build(spec, out, jobs=2)
    second = build(spec, out, jobs=2)
    assert first.status == second.status == "ok"
    manifest = json.loads((second.version_dir / "manifest.json").read_text())
    entry = manifest["notebooks"][0]["cache"]
    assert manifest["cache"]["executed"] == ["contract_checks"]
    assert "current time (as_of: freshness" in entry["not_reusable"]
    assert not manifest["cache"].get("nothing_changed")

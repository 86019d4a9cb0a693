"""The build plan: a spec resolved once, before any kernel starts (no kernels here)."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pytest

from workbench.packs.plan import check, resolve
from workbench.packs.spec import load_spec

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "packs"
SECRET = "wb-plan-secret-0042"


@pytest.fixture()
def spec(tmp_path, monkeypatch):
    monkeypatch.setenv("WB_TEST_TOKEN", SECRET)
    shutil.copy(FIXTURES / "ok.ipynb", tmp_path / "ok.ipynb")
    text = (FIXTURES / "mini.yml").read_text().replace(
        "../../../notebooks/review_summary.ipynb",
        str(Path(__file__).resolve().parents[2] / "notebooks" / "review_summary.ipynb"))
    (tmp_path / "mini.yml").write_text(text)
    return load_spec(tmp_path / "mini.yml")


def _plan(spec, out):
    return resolve(spec, check(spec), out, spec_path="mini.yml", jobs=2)


def test_each_entry_has_its_resolved_parameters(spec, tmp_path):
    plan = _plan(spec, tmp_path / "reports")
    assert [e.name for e in plan.notebooks] == ["alpha", "beta", "review_summary"]
    alpha, beta, summary = plan.notebooks
    assert alpha.inject == {"results_dir": str(plan.staging.resolve()), "name": "alpha",
                            "rows": 4}
    # the builder's parameters go only to notebooks that declare them
    assert summary.inject["findings_name"] == "review_summary"
    assert summary.inject["pack_spec"] == str(spec.path)
    assert "findings_name" not in alpha.inject
    assert beta.record["token"] == "<redacted>" and SECRET not in repr(plan)
    assert beta.secrets[0].env == "WB_TEST_TOKEN" and plan.secret_values == (SECRET,)
    assert summary.needs == ("alpha", "beta")
    assert plan.staging == tmp_path / "reports" / "mini" / f".staging-{plan.version}"
    assert [i["path"] for i in plan.inputs] == ["ok.ipynb"]


def test_an_entry_is_plain_data_a_scheduler_can_ship(spec, tmp_path):
    entry = _plan(spec, tmp_path / "reports").entry("beta")
    copy = pickle.loads(pickle.dumps(entry))
    assert copy == entry and copy.secret_values == (SECRET,)


def test_a_whole_plan_ships_too_cache_context_included(spec, tmp_path):
    plan = _plan(spec, tmp_path / "reports")  # a fleet sends plans to Dask workers
    assert plan.cache is not None
    copy = pickle.loads(pickle.dumps(plan))
    assert copy.version == plan.version and copy.notebooks == plan.notebooks
    assert copy.cache is not None and copy.cache.roots() == plan.cache.roots()


def test_the_notebook_part_of_a_cache_key_follows_its_parameters(spec, tmp_path):
    # what a run read (files, other notebooks' findings) joins the key after it ran
    # (packs.cache, tests/unit/test_cache_randomized.py); the plan holds the notebook's part
    first = {e.name: e.cache_part for e in _plan(spec, tmp_path / "r1").notebooks}
    again = {e.name: e.cache_part for e in _plan(spec, tmp_path / "r2").notebooks}
    assert first == again  # another version, another folder: the same work
    text = spec.path.read_text().replace("rows: 4", "rows: 5")
    spec.path.write_text(text)
    changed = {e.name: e.cache_part
               for e in _plan(load_spec(spec.path), tmp_path / "r3").notebooks}
    assert changed["alpha"] != first["alpha"]
    assert changed["beta"] == first["beta"]

"""``workbench sample --models N``: byte-reproducible, each model the same whatever N is,
and the models differ (drift, contract breaks, costs)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
from click.testing import CliRunner

from workbench.cli import cli
from workbench.sample.fleet import variant


def _digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_models_are_byte_reproducible_and_independent_of_n(tmp_path):
    runner = CliRunner()
    for name, n in (("a", 2), ("b", 2), ("c", 3)):
        result = runner.invoke(cli, ["sample", "--models", str(n), "--out",
                                     str(tmp_path / name)])
        assert result.exit_code == 0, result.output
    a, b, c = (_digests(tmp_path / x) for x in "abc")
    assert a == b
    assert {k: v for k, v in c.items() if k.startswith(("model_000/", "model_001/"))} == {
        k: v for k, v in a.items() if k != "models.csv"}
    assert (tmp_path / "c" / "models.csv").read_text().splitlines()[:3] == (
        tmp_path / "a" / "models.csv").read_text().splitlines()
    assert not (tmp_path / "a" / "_base").exists()


def test_models_vary_in_drift_breaks_and_cost(tmp_path):
    variants = [variant(i) for i in range(20)]
    assert len({v["drift_shift"] for v in variants}) > 5
    assert {v["contract_break"] for v in variants} == {True, False}
    assert len({v["cost_factor"] for v in variants}) > 5
    assert len({v["owner"] for v in variants}) > 1
    runner = CliRunner()
    assert runner.invoke(cli, ["sample", "--models", "2", "--out", str(tmp_path)]).exit_code == 0
    for i in range(2):
        cur = pl.read_parquet(tmp_path / f"model_{i:03d}" / "scoring" / "current.parquet")
        broken = (cur["debt_to_income"] > 1.5).any() or cur["application_id"].is_duplicated().any()
        assert broken == variants[i]["contract_break"], i
        assert cur.height > 1000  # the contract's rowCount rule

"""The demo cost inputs: deterministic, FOCUS-shaped, small, and telling the scenario's story."""

from __future__ import annotations

import json

import polars as pl

from workbench import costs
from workbench.sample import costs as sample_costs
from workbench.sample import scenario as sc


def test_demo_costs_are_byte_identical_on_rerun_and_small(tmp_path):
    first = sample_costs.generate(tmp_path / "a")
    second = sample_costs.generate(tmp_path / "b")
    assert [p.name for p in first] == [p.name for p in second]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert sum(p.stat().st_size for p in first) < 2_000_000


def test_demo_ledger_shape_and_story(tmp_path):
    paths = {p.name: p for p in sample_costs.generate(tmp_path)}
    ledger = pl.read_csv(paths["focus_costs.csv"], try_parse_dates=True)
    assert set(costs.FOCUS_COLUMNS) <= set(ledger.columns)
    assert any(c.startswith("x_") for c in ledger.columns)
    days = ledger["ChargePeriodStart"].dt.date()
    assert days.min() == sc.COST_START.date() and days.n_unique() == 90
    tags = [json.loads(t) for t in ledger["Tags"]]
    assert {t.get("model") for t in tags} == {*sc.ALL_MODELS, "shared", None}
    assert {t.get("stage") for t in tags} >= set(costs.STAGES)
    assert (ledger["EffectiveCost"] < 0).sum() == 2            # a credit and a refund
    budgets = pl.read_csv(paths["budgets.csv"])
    assert set(budgets["model"]) == set(sc.ALL_MODELS)


def test_scaled_ledger_has_the_requested_line_items_and_the_same_totals(tmp_path):
    demo = {p.name: p for p in sample_costs.generate(tmp_path / "demo")}
    big = {p.name: p for p in sample_costs.generate(tmp_path / "big", rows=20_000)}
    ledger = pl.read_parquet(big["focus_costs.parquet"])
    assert ledger.height == 20_000
    demo_total = pl.read_csv(demo["focus_costs.csv"])["EffectiveCost"].sum()
    assert abs(ledger["EffectiveCost"].sum() / demo_total - 1) < 0.01

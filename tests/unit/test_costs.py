"""Cost-to-value on tiny ledgers whose answers are computed by hand in the comments."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import polars as pl
import pytest

from workbench import costs
from workbench.errors import InputError

D1 = date(2026, 9, 1)


def _item(day: date, cost: float, tags: dict | None, *, service: str = "Amazon SageMaker",
          currency: str = "USD", category: str = "Usage") -> dict:
    start = datetime(day.year, day.month, day.day)
    return {"ChargePeriodStart": start, "ChargePeriodEnd": start + timedelta(days=1),
            "BilledCost": cost, "EffectiveCost": cost, "BillingCurrency": currency,
            "ChargeCategory": category, "ServiceName": service, "ServiceCategory": "Compute",
            "ResourceId": "r-1", "ResourceName": "r", "Tags": json.dumps(tags) if tags else "{}",
            "x_Team": "ml"}


def _ledger(items: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(items)


# One day. Usage: A v1 300, B v1 60, B v2 40 (400 in all) -> day shares A/v1 .75, B/v1 .15,
# B/v2 .10; within B: v1 .6, v2 .4.
ONE_DAY = [
    _item(D1, 100.0, {"model": "A", "stage": "inference", "version": "v1"}),
    _item(D1, 50.0, {"model": "B", "stage": "training"}),          # no version: 30 v1, 20 v2
    _item(D1, 30.0, {"model": "shared", "stage": "inference"}),   # 22.5 A, 4.5 B/v1, 3 B/v2
    _item(D1, 20.0, None, service="AWS Data Transfer"),           # untagged
    _item(D1, -10.0, {"model": "A", "stage": "training", "version": "v1"}, category="Credit"),
]
USAGE = pl.DataFrame({"date": [D1] * 3, "model": ["A", "B", "B"], "version": ["v1", "v1", "v2"],
                      "predictions": [300, 60, 40]})
VALUE = pl.DataFrame({"date": [D1, D1], "model": ["A", "B"], "value": [450.0, 23.0]})
BUDGETS = pl.DataFrame({"model": ["A", "B"], "month": ["2026-09", "2026-09"],
                        "budget": [3000.0, 1000.0]})


def _one_day(**kw) -> costs.CostResult:
    return costs.compute(_ledger(ONE_DAY), USAGE, VALUE, BUDGETS, **kw)


def test_allocation_splits_shared_cost_by_predictions_and_nets_credits():
    r = _one_day()
    by = {(m, v): c for m, v, c in r.versions.select("model", "version", "cost").iter_rows()}
    assert by[("A", "v1")] == pytest.approx(100 - 10 + 22.5)
    assert by[("B", "v1")] == pytest.approx(30 + 4.5)
    assert by[("B", "v2")] == pytest.approx(20 + 3.0)
    a = r.allocation
    assert a["total_cost"] == pytest.approx(190.0)
    assert a["unallocated_cost"] == pytest.approx(20.0)
    assert a["unallocated_share"] == pytest.approx(20 / 190)
    assert a["tag_coverage"] == pytest.approx(170 / 190)   # everything but the untagged 20
    assert a["credits"] == pytest.approx(-10.0)


def test_allocation_keeps_shared_cost_unallocated_when_asked():
    r = _one_day(rules=costs.AllocationRules(split_shared=False))
    cost = dict(r.models.select("model", "cost").iter_rows())
    assert cost == pytest.approx({"A": 90.0, "B": 50.0})
    assert r.allocation["unallocated_share"] == pytest.approx(50 / 190)


def test_untagged_cost_can_be_split_too():
    r = _one_day(rules=costs.AllocationRules(split_untagged=True))
    cost = dict(r.models.select("model", "cost").iter_rows())
    # 20 untagged: 15 to A, 5 to B
    assert cost == pytest.approx({"A": 127.5, "B": 62.5})
    assert r.allocation["unallocated_share"] == pytest.approx(0.0)


def test_stage_comes_from_tags():
    r = _one_day(rules=costs.AllocationRules(split_shared=False))
    stages = dict(r.allocated.group_by("stage").agg(pl.col("cost").sum()).iter_rows())
    assert stages == pytest.approx({"inference": 100.0, "training": 40.0})


def test_unit_economics_per_thousand_predictions():
    r = _one_day()
    a = r.models.filter(pl.col("model") == "A").row(0, named=True)
    # cost 112.5 for 300 predictions, value 450
    assert a["cost_per_1k_predictions"] == pytest.approx(375.0)
    assert a["value_per_1k_predictions"] == pytest.approx(1500.0)
    assert a["value_cost_ratio"] == pytest.approx(4.0)
    assert a["net_value"] == pytest.approx(337.5)
    b = r.models.filter(pl.col("model") == "B").row(0, named=True)
    # cost 57.5 for 100 predictions, value 23 -> not worth it
    assert b["cost_per_1k_predictions"] == pytest.approx(575.0)
    assert b["value_cost_ratio"] == pytest.approx(0.4)
    assert b["worth_it"] is False
    assert r.status == "fail"
    assert r.metrics["value_cost_ratio.B"] == pytest.approx(0.4)
    # value per version follows the version's share of predictions: B v2 gets 40% of 23
    v = r.versions.filter((pl.col("model") == "B") & (pl.col("version") == "v2")).row(0, named=True)
    assert v["value"] == pytest.approx(9.2)


def _month_ledger() -> tuple[pl.DataFrame, pl.DataFrame]:
    # September 2026 (30 days), data to the 10th: 10 a day on days 1-3, 20 a day on days 4-10.
    items = [_item(date(2026, 9, d), 10.0 if d <= 3 else 20.0, {"model": "A", "stage": "inference"})
             for d in range(1, 11)]
    usage = pl.DataFrame({"date": [date(2026, 9, d) for d in range(1, 11)], "model": ["A"] * 10,
                          "version": ["v1"] * 10, "predictions": [1000] * 10})
    return _ledger(items), usage


def test_forecast_is_month_to_date_plus_seven_day_run_rate():
    ledger, usage = _month_ledger()
    budgets = pl.DataFrame({"model": ["A"], "month": ["2026-09"], "budget": [600.0]})
    value = pl.DataFrame({"date": [D1], "model": ["A"], "value": [1.0]})
    r = costs.compute(ledger, usage, value, budgets, month="2026-09")
    b = r.budget.row(0, named=True)
    # month to date 3x10 + 7x20 = 170; run rate (days 4-10) 20/day; 20 days left -> 570
    assert b["month_to_date_cost"] == pytest.approx(170.0)
    assert b["run_rate_per_day"] == pytest.approx(20.0)
    assert b["days_left"] == 20
    assert b["forecast_cost"] == pytest.approx(570.0)
    assert b["budget_burn_pct"] == pytest.approx(170 / 6)
    assert b["forecast_vs_budget_pct"] == pytest.approx(95.0)
    assert b["on_budget"] is True
    burn = r.burndown.filter(pl.col("date") == date(2026, 9, 30)).row(0, named=True)
    assert burn["kind"] == "forecast" and burn["remaining_budget"] == pytest.approx(30.0)
    assert "run-rate" in r.to_dict()["methods"]["forecast"]


def test_as_of_cuts_the_month_and_the_forecast():
    ledger, usage = _month_ledger()
    budgets = pl.DataFrame({"model": ["A"], "month": ["2026-09"], "budget": [300.0]})
    value = pl.DataFrame({"date": [D1], "model": ["A"], "value": [1.0]})
    r = costs.compute(ledger, usage, value, budgets, as_of=date(2026, 9, 5))
    b = r.budget.row(0, named=True)
    # to the 5th: 10+10+10+20+20 = 70; last 7 days (Aug 30 - Sep 5, no data before Sep 1) = 70/7
    assert b["month_to_date_cost"] == pytest.approx(70.0)
    assert b["forecast_cost"] == pytest.approx(70.0 + 10.0 * 25)
    assert b["on_budget"] is False and r.metrics["models_over_budget"] == 1
    assert r.metrics["models_over_budget_to_date"] == 0   # 70 of 300 spent so far


def test_default_month_is_the_latest_with_a_week_of_data():
    items = [_item(date(2026, 9, 25) + timedelta(days=i), 1.0, {"model": "A", "stage": "training"})
             for i in range(8)]   # Sep 25 .. Oct 2: only two days of October
    r = costs.compute(_ledger(items), USAGE, VALUE, BUDGETS)
    assert (r.month, r.as_of) == ("2026-09", date(2026, 9, 30))


def test_anomaly_scores_modified_z():
    days = [date(2026, 9, 1) + timedelta(days=i) for i in range(14)]
    values = [10, 11, 9, 10, 12, 8, 10, 11, 9, 10, 13, 7, 10, 30]
    daily = pl.DataFrame({"service": ["S"] * 14, "date": days, "cost": [float(v) for v in values]})
    s = costs.anomaly_scores(daily)
    # median 10; absolute deviations' median (MAD) 1 -> score = 0.6745 x (x - 10)
    assert s["median"][0] == 10 and s["mad"][0] == 1
    assert s["score"].to_list()[-1] == pytest.approx(0.6745 * 20)
    assert s["score"].to_list()[10] == pytest.approx(0.6745 * 3)    # 13: 2.02, not flagged
    assert s.filter(pl.col("flagged"))["date"].to_list() == [days[-1]]


def test_anomaly_scores_fall_back_to_mean_deviation_when_mad_is_zero():
    days = [date(2026, 9, 1) + timedelta(days=i) for i in range(14)]
    values = [10, 10, 10, 10, 10, 12, 8, 12, 8, 10, 10, 10, 10, 40]
    s = costs.anomaly_scores(pl.DataFrame({"service": ["S"] * 14, "date": days,
                                           "cost": [float(v) for v in values]}))
    # MAD 0; mean absolute deviation 38/14 -> scale 38/14 x 1.253314
    assert s["score"].to_list()[-1] == pytest.approx(30 / (38 / 14 * 1.253314))
    assert s.filter(pl.col("flagged"))["date"].to_list() == [days[-1]]


def test_ledger_spike_is_flagged_with_its_date_and_credits_do_not_count():
    base = [_item(date(2026, 9, 1) + timedelta(days=i), 100.0 + (i % 3),
                  {"model": "A", "stage": "training"}) for i in range(20)]
    base.append(_item(date(2026, 9, 12), 400.0, {"model": "A", "stage": "training"}))
    base.append(_item(date(2026, 9, 15), -300.0, None, category="Credit"))
    usage = pl.DataFrame({"date": [date(2026, 9, 1)], "model": ["A"], "version": ["v1"],
                          "predictions": [10]})
    r = costs.compute(_ledger(base), usage, VALUE, BUDGETS)
    assert r.anomalies.select("service", "date").rows() == [("Amazon SageMaker", date(2026, 9, 12))]
    assert r.metrics["anomalies_count"] == 1


def test_mixed_currencies_need_rates_and_are_converted_with_them():
    items = [_item(D1, 100.0, {"model": "A", "stage": "training"}, currency="EUR"),
             _item(D1, 50.0, {"model": "A", "stage": "training"})]
    with pytest.raises(InputError, match="BillingCurrency.*EUR, USD"):
        costs.compute(_ledger(items), USAGE, VALUE, BUDGETS)
    rates = pl.DataFrame({"currency": ["EUR"], "rate": [1.1]})
    r = costs.compute(_ledger(items), USAGE, VALUE, BUDGETS, rates=rates, currency="USD")
    assert r.allocation["total_cost"] == pytest.approx(160.0)
    with pytest.raises(InputError, match="rates: rate: .*from USD to GBP"):
        costs.compute(_ledger(items), USAGE, VALUE, BUDGETS, rates=rates, currency="GBP")


def test_result_renders_escaped_html_and_serialises():
    items = [_item(D1, 5.0, {"model": "<b>x</b>", "stage": "training"})]
    usage = pl.DataFrame({"date": [D1], "model": ["<b>x</b>"], "version": ["v1"],
                          "predictions": [10]})
    r = costs.compute(_ledger(items), usage, VALUE, BUDGETS)
    html = r._repr_html_()
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html
    d = r.to_dict()
    assert d["month"] == "2026-09" and d["metrics"]["total_cost"] == 5.0
    assert all(not isinstance(v, dict | list) for v in d["metrics"].values())


def test_tables_render_for_models_and_versions():
    r = _one_day()
    assert "value / cost" in r.models_table().markup
    assert "<td>v2</td>" in r.versions_table().markup
    assert "forecast % of budget" in r.budget_table().markup


def test_same_inputs_give_the_same_findings_bytes():
    # parallel float sums used to differ in the last digit from run to run
    from pathlib import Path

    from workbench.io import dumps_json

    d = Path(__file__).resolve().parents[2] / "data" / "sample" / "costs"
    texts = {dumps_json(costs.compute(d / "focus_costs.csv", d / "usage.csv", d / "value.csv",
                                      d / "budgets.csv").to_dict()) for _ in range(4)}
    assert len(texts) == 1


def test_parquet_and_csv_ledgers_give_the_same_answer(tmp_path):
    ledger = _ledger(ONE_DAY)
    ledger.write_parquet(tmp_path / "ledger.parquet")
    ledger.write_csv(tmp_path / "ledger.csv")
    a = costs.compute(tmp_path / "ledger.parquet", USAGE, VALUE, BUDGETS).to_dict()
    b = costs.compute(tmp_path / "ledger.csv", USAGE, VALUE, BUDGETS).to_dict()
    assert a["metrics"] == b["metrics"]
    assert a["metrics"]["total_cost"] == pytest.approx(190.0)


def test_tags_stored_as_a_struct_are_read_too():
    ledger = _ledger(ONE_DAY).with_columns(
        pl.col("Tags").str.json_decode(pl.Struct({"model": pl.String, "stage": pl.String,
                                                  "version": pl.String})))
    r = costs.compute(ledger, USAGE, VALUE, BUDGETS)
    assert r.allocation["unallocated_share"] == pytest.approx(20 / 190)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), None])
def test_nan_infinite_or_empty_cost_is_refused(bad):
    items = [dict(ONE_DAY[0]), dict(ONE_DAY[1], EffectiveCost=bad)]
    with pytest.raises(InputError, match="EffectiveCost: expected a finite number.*1 empty"):
        costs.compute(_ledger(items), USAGE, VALUE, BUDGETS)


def test_text_date_times_with_offsets_count_on_their_utc_day():
    """FOCUS writes UTC (...Z). Text written with another offset is converted: 22:00 at
    -05:00 on Sep 1 is 03:00 UTC on Sep 2, so A's 100 moves to Sep 2; B's 50 at 23:30Z
    stays on Sep 1. (Text that polars reads as date-times is converted when read; these
    stay text, as in a file whose column mixes formats.)"""
    items = [_item(D1, 100.0, {"model": "A", "stage": "inference", "version": "v1"}),
             _item(D1, 50.0, {"model": "B", "stage": "inference", "version": "v1"})]
    ledger = pl.DataFrame(items).with_columns(
        ChargePeriodStart=pl.Series(["2026-09-01T22:00:00-05:00", "2026-09-01T23:30:00Z"]))
    usage = pl.DataFrame({"date": [D1, D1 + timedelta(days=1)] * 2,
                          "model": ["A", "A", "B", "B"], "version": ["v1"] * 4,
                          "predictions": [10, 10, 10, 10]})
    r = costs.compute(ledger, usage, VALUE, BUDGETS)
    daily = {(d, m): c for d, m, c in r.daily.select("date", "model", "cost").iter_rows()
             if c}
    assert daily == pytest.approx({(D1 + timedelta(days=1), "A"): 100.0, (D1, "B"): 50.0})
    # the same instants written in UTC: the first ten characters are the date (fast path)
    utc = ledger.with_columns(
        ChargePeriodStart=pl.Series(["2026-09-02T03:00:00Z", "2026-09-01T23:30:00+00:00"]))
    assert costs.compute(utc, usage, VALUE, BUDGETS).daily.equals(r.daily)

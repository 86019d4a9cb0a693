"""Error-budget and burn-rate arithmetic against hand-computed values."""

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from workbench import incidents
from workbench.incidents import _slo

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _slis(errors: list[int], requests: int = 100, p95: list[int] | None = None) -> pl.DataFrame:
    n = len(errors)
    data = {"timestamp": [T0 + timedelta(minutes=i) for i in range(n)],
            "requests": [requests] * n, "errors": errors}
    if p95 is not None:
        data["latency_p95_ms"] = p95
    return pl.DataFrame(data).with_columns(pl.col("timestamp").dt.cast_time_unit("us"))


def _slo_spec(target: float = 0.99, latency: dict | None = None,
              days: int = 1) -> incidents.SLOSpec:
    spec = {"window_days": days, "availability": {"target": target}}
    if latency:
        spec["latency"] = latency
    return incidents.SLOSpec.model_validate(spec)


def test_budget_and_burn_rate_scalars():
    # 1,000,000 requests at 99.5 %: 0.5 % may fail = 5,000 requests.
    assert incidents.error_budget(1_000_000, 0.995) == pytest.approx(5000)
    assert incidents.budget_pct(1250, 5000) == pytest.approx(25.0)
    assert incidents.budget_pct(1, 0) is None
    # 50 failures in 1,000 = 5 %; the budget rate is 0.5 %: burning 10x.
    assert incidents.burn_rate(50, 1000, 0.995) == pytest.approx(10.0)
    assert incidents.burn_rate(0, 0, 0.995) == 0.0


def test_rolling_burn_rates_by_window():
    # 60 clean minutes, then 60 minutes at 50 % errors; target 99 % -> budget rate 1 %.
    frame = _slis([0] * 60 + [50] * 60)
    rates = incidents.burn_rates(frame, _slo_spec(), windows=["5m", "1h"])
    row = rates.filter(pl.col("at") == T0 + timedelta(minutes=78)).row(0, named=True)  # row 77
    # 1h window (rows 18..77): 18 bad minutes x 50 errors / 6,000 requests / 1 % = 15.
    assert row["avail_1h"] == pytest.approx(15.0)
    # 5m window: all bad: 0.5 / 0.01 = 50.
    assert row["avail_5m"] == pytest.approx(50.0)
    # The row stamped 00:00 is evaluated at the end of its minute.
    assert rates["at"][0] == T0 + timedelta(minutes=1)


def test_multiwindow_alerts_first_firing_hand_computed():
    frame = _slis([0] * 60 + [50] * 60)
    slo = _slo_spec()
    rates = incidents.burn_rates(frame, slo)
    detected = T0 + timedelta(minutes=90)
    fast, slow = incidents.alert_firings(rates, slo, T0, T0 + timedelta(hours=2), detected)
    # Fast page: 1h burn = 50 * (i - 59) / 6000 / 0.01 >= 14.4 first at row i = 77 (15.0;
    # row 76 gives 14.17); the 5m burn is 50 there. Evaluated at the end of row 77: 01:18.
    assert fast.first_fired_at == T0 + timedelta(minutes=78)
    assert fast.minutes_vs_detection == pytest.approx(-12.0)
    assert fast.firing_minutes == 120 - 77
    # Slow page: only 2 h of data, so the 6h window is never covered: unknown, not a burn
    # rate over the 2 h there are (which would fire at row 68, 01:09, too early).
    assert slow.first_fired_at is None and slow.outcome == "unknown"
    assert slow.unknown_minutes == 120


def test_alert_does_not_fire_when_short_window_has_recovered():
    # An hour clean, 40 bad minutes, 20 clean ones: the 1h burn stays high but the 5m burn
    # drops to 0, so the fast page stops firing after the recovery (the point of the short
    # window).
    frame = _slis([0] * 60 + [50] * 40 + [0] * 20)
    slo = _slo_spec()
    rates = incidents.burn_rates(frame, slo)
    (fast, _slow) = incidents.alert_firings(rates, slo, T0, T0 + timedelta(hours=2), None)
    late = rates.filter(pl.col("at") == T0 + timedelta(minutes=120)).row(0, named=True)
    assert late["avail_1h"] == pytest.approx(2000 / 6000 / 0.01)
    assert late["avail_5m"] == 0.0
    # 1h burn = bad minutes x 50 / 6,000 / 1 %: >= 14.4 from 18 bad minutes (row 77); the 5m
    # window still holds enough bad minutes at row 102 (2 of 5, 20x), not at row 103 (10x).
    assert fast.first_fired_at == T0 + timedelta(minutes=78)
    assert fast.firing_minutes == 102 - 77 + 1


def test_latency_burn_rate_counts_bad_minutes():
    # 10 minutes, 3 of them over the 500 ms threshold; target 90 % of minutes -> budget 10 %.
    frame = _slis([0] * 10, p95=[100] * 7 + [900] * 3)
    slo = _slo_spec(latency={"percentile": "p95", "threshold_ms": 500, "target": 0.9})
    rates = incidents.burn_rates(frame, slo, windows=["5m"])
    # Last 5 minutes: 3 bad of 5 = 60 % / 10 % = 6x.
    assert rates["latency_5m"][-1] == pytest.approx(6.0)


def test_parse_minutes_and_bad_alert_window():
    assert _slo.parse_minutes("5m") == 5 and _slo.parse_minutes("6h") == 360
    with pytest.raises(ValueError):
        _slo.parse_minutes("fortnight")
    with pytest.raises(ValueError):
        incidents.SLOSpec.model_validate({"availability": {"target": 0.99}, "alerts": [
            {"name": "x", "burn_rate": 2, "long_window": "1x", "short_window": "5m"}]})

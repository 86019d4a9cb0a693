"""Executed service levels (`contracts._sla`): each measured, or "not run" with the reason.

Freshness and retention verdicts are compared with datacontract-cli 1.2.8's on the same
CSV (it measures from the wall clock, so the data is written relative to now).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
import yaml
from click.testing import CliRunner

from workbench.cli import cli
from workbench.contracts import check, load_contract, service_levels

AS_OF = datetime(2026, 11, 2, tzinfo=UTC)


def contract_doc(slas: list[dict], path: str = "events.csv") -> dict:
    return {
        "apiVersion": "v3.1.0", "kind": "DataContract", "id": "urn:test:events",
        "version": "1.0.0", "status": "active",
        "servers": [{"server": "local", "type": "local", "format": "csv", "path": path}],
        "schema": [{"name": "events", "properties": [
            {"name": "id", "logicalType": "integer", "required": True},
            {"name": "happened_at", "logicalType": "timestamp"},
            {"name": "loaded_at", "logicalType": "timestamp"},
        ]}],
        "slaProperties": slas,
    }


def write(tmp: Path, slas: list[dict], frame: pl.DataFrame, name: str = "c.yaml") -> Path:
    data = tmp / "events.csv"
    frame.write_csv(data)
    path = tmp / name
    path.write_text(yaml.safe_dump(contract_doc(slas), sort_keys=False), encoding="utf-8")
    return path


def hourly(end: datetime, hours: int, lag_minutes: int = 10) -> pl.DataFrame:
    """One event an hour for ``hours`` hours up to ``end``, each loaded after a lag."""
    times = [end - timedelta(hours=h) for h in range(hours)][::-1]
    return pl.DataFrame({
        "id": list(range(len(times))),
        "happened_at": [t.replace(tzinfo=None) for t in times],
        "loaded_at": [(t + timedelta(minutes=lag_minutes)).replace(tzinfo=None) for t in times],
    })


def level(result, name: str):
    return next(lv for lv in result.levels if lv.property.lower() == name.lower())


# --- data-timestamp levels --------------------------------------------------------------------

def test_freshness_attainment_over_the_window(tmp_path):
    # data for 28 days, but nothing in the last 3 days: 2 d freshness broken for the last day
    frame = hourly(AS_OF - timedelta(days=3), 25 * 24)
    c = write(tmp_path, [{"property": "Freshness", "value": 2, "unit": "d",
                          "element": "events.happened_at"}], frame)
    lv = level(service_levels(c, as_of=AS_OF, window="28d"), "freshness")
    assert lv.status == "fail"
    assert lv.observed["age_seconds"] == 3 * 86400
    # covered: the window starts 28 d back; data until day 25 back + 2 d grace: 1 d stale...
    # first value at 28 d - 1 h + ... : stale before the first value (1 h) and the last day
    assert lv.attainment == pytest.approx(1 - (86400 + 3600 * 0) / (28 * 86400), abs=2e-3)


def test_retention_fails_an_old_record_where_it_used_to_be_dropped(tmp_path):
    frame = hourly(AS_OF, 48).vstack(pl.DataFrame({
        "id": [999], "happened_at": [datetime(2020, 3, 1)], "loaded_at": [datetime(2020, 3, 1)]}))
    c = write(tmp_path, [{"property": "retention", "value": 30, "unit": "d",
                          "element": "events.happened_at"}], frame)
    lv = level(service_levels(c, as_of=AS_OF), "retention")
    assert lv.status == "fail" and lv.observed["rows_beyond"] == 1
    result = check(c, as_of=AS_OF)  # the check reports it too, as an error
    (row,) = [r for r in result.checks if r.rule == "retention"]
    assert row.severity == "error" and not row.passed and not result.passed


def test_latency_from_two_columns_is_not_freshness(tmp_path):
    frame = hourly(AS_OF - timedelta(days=30), 24 * 3, lag_minutes=10)  # stale but quick
    c = write(tmp_path, [{"property": "latency", "value": 15, "unit": "min",
                          "element": "events.happened_at,events.loaded_at"}], frame)
    lv = level(service_levels(c, as_of=AS_OF - timedelta(days=29)), "latency")
    assert lv.status == "pass" and lv.attainment == 1.0
    assert lv.observed["max_seconds"] == 600
    c2 = write(tmp_path, [{"property": "latency", "value": 300000, "unit": "ms",
                           "element": "events.happened_at,events.loaded_at"}], frame, "ms.yaml")
    load_contract(c2)  # a unit of ms no longer refuses the contract
    lv = level(service_levels(c2, as_of=AS_OF - timedelta(days=29)), "latency")
    assert lv.status == "fail" and lv.attainment == 0.0  # 10 min > 300 s on every row


def test_latency_without_arrival_times_is_not_run_never_a_pass(tmp_path):
    c = write(tmp_path, [{"property": "LATENCY", "value": 1, "unit": "h",
                          "element": "events.happened_at"}], hourly(AS_OF, 5))
    lv = level(service_levels(c, as_of=AS_OF), "latency")
    assert lv.status == "not run" and "delivery log" in lv.reason
    (row,) = [r for r in check(c, as_of=AS_OF).checks if r.rule == "latency"]
    assert row.passed is False and row.severity == "info"


def test_frequency_and_time_of_availability_from_timestamps(tmp_path):
    # loaded daily at 05:00 UTC, except 2026-10-30 (missing) and 2026-10-31 (at 11:00)
    days = [AS_OF - timedelta(days=d) for d in range(1, 8)]
    loads = [d.replace(hour=11 if d.day == 31 else 5) for d in days if d.day != 30]
    frame = pl.DataFrame({"id": list(range(len(loads))),
                          "happened_at": [t.replace(tzinfo=None) for t in loads],
                          "loaded_at": [t.replace(tzinfo=None) for t in loads]})
    c = write(tmp_path, [
        {"property": "frequency", "value": 1, "unit": "d", "element": "events.loaded_at"},
        {"property": "timeOfAvailability", "value": "06:00", "element": "events.loaded_at"},
    ], frame)
    res = service_levels(c, as_of=AS_OF, window="7d")
    freq, toa = level(res, "frequency"), level(res, "timeOfAvailability")
    assert freq.status == "fail" and freq.observed == {"periods": 7, "periods_missed": 1}
    assert freq.attainment == pytest.approx(6 / 7)
    # the 7 days 10-26 .. 11-01 began in the window and their 06:00 has passed: 2 late
    assert toa.status == "fail" and toa.observed == {"days": 7, "days_late": 2}
    assert toa.attainment == pytest.approx(5 / 7)


# --- delivery-log levels -------------------------------------------------------------------------

def deliveries(tmp: Path, failed: set[int], n: int = 100, rows: int = 1000) -> Path:
    log = tmp / "deliveries.csv"
    pl.DataFrame({
        "delivered_at": [(AS_OF - timedelta(hours=6 * (n - i))).isoformat() for i in range(n)],
        "rows": [rows] * n,
        "success": [i not in failed for i in range(n)],
    }).write_csv(log)
    return log


def test_availability_and_error_rate_with_error_budget(tmp_path):
    c = write(tmp_path, [{"property": "availability", "value": 98, "unit": "%"},
                         {"property": "errorRate", "value": "5%"}], hourly(AS_OF, 5))
    log = deliveries(tmp_path, failed={3})
    res = service_levels(c, deliveries=log, as_of=AS_OF, window="28d")
    av, er = level(res, "availability"), level(res, "errorRate")
    # 28 days of 6-hourly deliveries: 100 deliveries span 25 days, all in the window
    assert av.status == "pass" and av.attainment == pytest.approx(0.99)
    assert av.budget_left == pytest.approx(0.5)  # 1% used of a 2% budget
    assert er.status == "pass" and er.observed == {"rows": 100000, "failed_rows": 1000}
    assert er.budget_left == pytest.approx(0.8)  # 1% of a 5% budget
    res = service_levels(c, deliveries=deliveries(tmp_path, failed={1, 2, 3}), as_of=AS_OF)
    av = level(res, "availability")
    assert av.status == "fail" and av.budget_left == pytest.approx(-0.5)


def test_log_levels_without_a_log_are_not_run(tmp_path):
    c = write(tmp_path, [{"property": "availability", "value": 99.9},
                         {"property": "timeToDetect", "value": 1, "unit": "h"},
                         {"property": "throughput", "value": 100}], hourly(AS_OF, 5))
    res = service_levels(c, as_of=AS_OF)
    assert [lv.status for lv in res.levels] == ["not run"] * 3
    assert res.status == "unknown" and all(lv.reason.startswith("not run: ")
                                           for lv in res.levels)


def test_latency_from_the_delivery_log(tmp_path):
    c = write(tmp_path, [{"property": "latency", "value": 7, "unit": "h",
                          "element": "events.happened_at"}], hourly(AS_OF - timedelta(hours=7),
                                                                    24 * 10))
    log = deliveries(tmp_path, failed=set())
    lv = level(service_levels(c, deliveries=log, as_of=AS_OF), "latency")
    # events hourly, deliveries every 6 h: a row waits at most 5 h for the next delivery
    assert lv.status == "pass" and lv.observed["max_seconds"] <= 5 * 3600


def test_cli_sla_and_bad_log(tmp_path):
    c = write(tmp_path, [{"property": "availability", "value": 99, "unit": "%"}],
              hourly(AS_OF, 5))
    runner = CliRunner()
    log = deliveries(tmp_path, failed={1, 2})
    res = runner.invoke(cli, ["contract", "sla", str(c), "--deliveries", str(log), "--as-of",
                              AS_OF.isoformat(), "--format", "json"])
    assert res.exit_code == 1, res.output  # 98% < 99%
    data = json.loads(res.output)
    assert data["levels"][0]["status"] == "fail" and data["levels"][0]["budget_left"] < 0
    bad = tmp_path / "bad.csv"
    bad.write_text("when,rows,ok\n2026-01-01,1,true\n", encoding="utf-8")
    res = runner.invoke(cli, ["contract", "sla", str(c), "--deliveries", str(bad)])
    assert res.exit_code == 2 and len(res.stderr.strip().splitlines()) == 1
    assert "bad.csv" in res.stderr and "delivered_at" in res.stderr


# --- parity with datacontract-cli ----------------------------------------------------------------

PARITY_CASES = [  # (property, value, unit, newest age, oldest age)
    ("freshness", 2, "h", timedelta(hours=1), timedelta(days=3)),
    ("freshness", 30, "m", timedelta(hours=1), timedelta(days=3)),
    ("freshness", 1, "d", timedelta(days=2), timedelta(days=3)),
    ("retention", 30, "d", timedelta(hours=1), timedelta(days=6 * 365)),  # a 2020 record
    ("retention", 1, "y", timedelta(hours=1), timedelta(days=200)),
    ("retention", 3, "m", timedelta(hours=1), timedelta(days=200)),        # months there
]


@pytest.mark.parametrize("case", PARITY_CASES, ids=lambda c: f"{c[0]}-{c[1]}{c[2]}")
def test_freshness_and_retention_agree_with_datacontract_cli(tmp_path, case):
    pytest.importorskip("datacontract")
    from datacontract.data_contract import DataContract

    prop, value, unit, newest, oldest = case
    now = datetime.now(UTC).replace(microsecond=0)
    frame = pl.DataFrame({"id": [1, 2, 3], "happened_at": [
        (now - oldest).replace(tzinfo=None), (now - (oldest + newest) / 2).replace(tzinfo=None),
        (now - newest).replace(tzinfo=None)], "loaded_at": [None, None, None]},
        schema_overrides={"loaded_at": pl.Datetime("us")})
    data = tmp_path / "events.csv"
    frame.write_csv(data)
    doc = contract_doc([{"property": prop, "value": value, "unit": unit,
                         "element": "events.happened_at"}], path=str(data))
    c = tmp_path / "c.yaml"
    c.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    run = DataContract(data_contract_file=str(c), server="local").test()
    (theirs,) = [x for x in run.checks if x.type == f"servicelevel_{prop}"]
    lv = level(service_levels(c, as_of=now), prop)
    assert lv.status == {"passed": "pass", "failed": "fail"}[theirs.result.value]


def test_two_levels_of_one_kind_get_their_own_check_ids(tmp_path):
    c = write(tmp_path, [{"property": "latency", "value": 1, "unit": "h",
                          "element": "events.happened_at,events.loaded_at"},
                         {"property": "Latency", "value": 5, "unit": "min",
                          "element": "events.happened_at,events.loaded_at"}], hourly(AS_OF, 24))
    rows = [r for r in check(c, as_of=AS_OF).checks if r.rule == "latency"]
    assert [r.id for r in rows] == ["events.sla.latency", "events.sla.latency_2"]
    assert [r.passed for r in rows] == [True, False]  # 10 minutes: within 1 h, not 5 min

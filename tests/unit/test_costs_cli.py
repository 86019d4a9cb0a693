"""`workbench cost`: JSON on good inputs; one line and exit 2 on each kind of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from workbench.cli import cli

HEADER = ("ChargePeriodStart,ChargePeriodEnd,BilledCost,EffectiveCost,BillingCurrency,"
          "ChargeCategory,ServiceName,ServiceCategory,ResourceId,ResourceName,Tags")
TAGS = '"{""model"":""A"",""stage"":""training""}"'


def _row(day: int, cost: str = "10.0", currency: str = "USD") -> str:
    return (f"2026-09-{day:02d}T00:00:00Z,2026-09-{day + 1:02d}T00:00:00Z,{cost},{cost},{currency},"
            f"Usage,Amazon SageMaker,AI and Machine Learning,r-1,r,{TAGS}")


@pytest.fixture
def side_files(tmp_path: Path) -> list[str]:
    (tmp_path / "usage.csv").write_text("date,model,version,predictions\n2026-09-01,A,v1,1000\n")
    (tmp_path / "value.csv").write_text("date,model,value\n2026-09-01,A,50.0\n")
    (tmp_path / "budgets.csv").write_text("model,month,budget\nA,2026-09,100\n")
    return ["--usage", str(tmp_path / "usage.csv"), "--value", str(tmp_path / "value.csv"),
            "--budgets", str(tmp_path / "budgets.csv")]


def _run(ledger: Path, side: list[str], *extra: str):
    return CliRunner().invoke(cli, ["cost", str(ledger), *side, *extra])


def _one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def test_json_output(tmp_path, side_files):
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("\n".join([HEADER, _row(1), _row(2, "30.0")]) + "\n")
    result = _run(ledger, side_files, "--format", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["month"] == "2026-09"
    assert out["metrics"]["total_cost"] == 40.0
    assert out["metrics"]["cost_per_1k_predictions.A"] == 40.0
    assert out["metrics"]["budget_burn_pct.A"] == 40.0
    assert "run-rate" in out["methods"]["forecast"]


def test_table_output_on_the_demo_data():
    d = Path(__file__).resolve().parents[2] / "data" / "sample" / "costs"
    side = ["--usage", str(d / "usage.csv"), "--value", str(d / "value.csv"),
            "--budgets", str(d / "budgets.csv")]
    result = _run(d / "focus_costs.csv", side)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("October 2026:")
    assert "anomaly: 2026-10-20 Amazon SageMaker" in result.stdout


def test_missing_column(tmp_path, side_files):
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(HEADER.replace(",Tags", "") + "\n" + _row(1).rsplit(",", 2)[0] + "\n")
    line = _one_error_line(_run(ledger, side_files))
    assert str(ledger) in line and "Tags" in line and "missing" in line


def test_non_numeric_cost(tmp_path, side_files):
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("\n".join([HEADER, _row(1), _row(2, "n/a")]) + "\n")
    line = _one_error_line(_run(ledger, side_files))
    # EffectiveCost is the column summed; BilledCost is not read unless --cost-column says
    assert str(ledger) in line and "EffectiveCost" in line and "number" in line


def test_mixed_currencies_without_rates(tmp_path, side_files):
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("\n".join([HEADER, _row(1), _row(2, currency="EUR")]) + "\n")
    line = _one_error_line(_run(ledger, side_files))
    assert str(ledger) in line and "BillingCurrency" in line and "EUR, USD" in line
    rates = tmp_path / "rates.csv"
    rates.write_text("currency,rate\nEUR,2.0\n")
    ok = _run(ledger, side_files, "--rates", str(rates), "--format", "json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["metrics"]["total_cost"] == 30.0


def test_empty_ledger(tmp_path, side_files):
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(HEADER + "\n")
    line = _one_error_line(_run(ledger, side_files))
    assert str(ledger) in line and "line items" in line


def test_bad_usage_file_names_it(tmp_path, side_files):
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("\n".join([HEADER, _row(1)]) + "\n")
    (tmp_path / "usage.csv").write_text("date,model,version,predictions\n2026-09-01,A,v1,lots\n")
    line = _one_error_line(_run(ledger, side_files))
    assert "usage.csv" in line and "predictions" in line


def test_month_outside_the_data(tmp_path, side_files):
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("\n".join([HEADER, _row(1)]) + "\n")
    line = _one_error_line(_run(ledger, side_files, "--month", "2027-01"))
    assert "month" in line and "2027-01" in line


def test_non_numeric_cost_deep_in_a_large_file(tmp_path, side_files):
    # past the rows polars reads to infer types, so the failure comes from the scan itself
    ledger = tmp_path / "ledger.csv"
    rows = [_row(1 + i % 20) for i in range(12_000)] + [_row(3, "n/a")]
    ledger.write_text("\n".join([HEADER, *rows]) + "\n")
    line = _one_error_line(_run(ledger, side_files))
    assert str(ledger) in line and "EffectiveCost" in line and "'n/a'" in line


def test_unparseable_usage_date(tmp_path, side_files):
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("\n".join([HEADER, _row(1)]) + "\n")
    (tmp_path / "usage.csv").write_text("date,model,version,predictions\nsoon,A,v1,10\n")
    line = _one_error_line(_run(ledger, side_files))
    assert "usage.csv: date: expected a YYYY-MM-DD date" in line

"""`workbench contract init`: a starter contract from data; the round trip on public data.

For each dataset (statsmodels datasets copied in tests/parity/data, one read straight from
the installed statsmodels package, the shapes set's CSV with times and JSON lines, and the
demo's Parquet scoring log): init, then the contract validates against the ODCS schema
(workbench's loader and datacontract-cli's lint) and ``contract check`` passes every check
on the data it came from; and it is not vacuous: it fails on data that breaks its rules.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import polars as pl
import pytest
import yaml
from click.testing import CliRunner

from workbench.cli import cli
from workbench.contracts import check, init, load_contract

ROOT = Path(__file__).resolve().parents[2]
PARITY = ROOT / "tests" / "parity"
DATASETS = {
    "grunfeld": PARITY / "data" / "grunfeld.csv",
    "statecrime": PARITY / "data" / "statecrime.csv",
    "co2": PARITY / "data" / "co2.csv",            # nulls
    "macrodata": PARITY / "data" / "macrodata.csv",
    "fair": Path(str(files("statsmodels.datasets.fair").joinpath("fair.csv"))),
    "readings": PARITY / "shapes" / "data" / "readings.csv",   # times, empty notes
    "orders": PARITY / "shapes" / "data" / "orders.jsonl",     # nested JSON lines
    "scoring": ROOT / "data" / "sample" / "scoring" / "reference.parquet",
}


def make(tmp_path: Path, data: Path, name: str | None = None) -> Path:
    out = tmp_path / f"{data.stem}.odcs.yaml"
    out.write_text(init(data, out=out, name=name), encoding="utf-8")
    return out


@pytest.mark.parametrize("name", list(DATASETS))
def test_round_trip_passes_on_its_own_data(tmp_path, name):
    contract = make(tmp_path, DATASETS[name])
    loaded = load_contract(contract)  # the ODCS JSON Schema and workbench's own rules
    assert loaded.odcs.apiVersion == "v3.1.0"
    result = check(loaded, as_of="2026-11-02T00:00:00Z")
    failed = [c.id for c in result.checks if not c.passed]
    assert result.passed and not failed, failed
    assert result.rows == pl.scan_csv(DATASETS[name]).select(pl.len()).collect().item() \
        if DATASETS[name].suffix == ".csv" else result.rows > 0


@pytest.mark.parametrize("name", ["grunfeld", "co2", "scoring"])
def test_datacontract_cli_lint_accepts_it(tmp_path, name):
    pytest.importorskip("datacontract")
    from datacontract.data_contract import DataContract

    run = DataContract(data_contract_file=str(make(tmp_path, DATASETS[name]))).lint()
    assert run.result.value == "passed", [(c.name, c.reason) for c in run.checks]


def test_rules_read_from_the_data(tmp_path):
    doc = yaml.safe_load(make(tmp_path, DATASETS["grunfeld"]).read_text(encoding="utf-8"))
    props = {p["name"]: p for p in doc["schema"][0]["properties"]}
    assert props["invest"]["logicalType"] == "number" and props["invest"]["required"] is True
    assert props["year"]["logicalType"] == "integer"
    # 1935..1954 widened by 10% of the 19-year span (1.9, step 1): 1933..1956
    assert props["year"]["logicalTypeOptions"] == {"minimum": 1933, "maximum": 1956}
    firms = props["firm"]["quality"][0]
    assert firms["metric"] == "invalidValues" and len(firms["arguments"]["validValues"]) == 11
    assert "unique" not in props["firm"]
    (rows,) = doc["schema"][0]["quality"]
    assert rows["mustBeBetween"] == [110, 330]  # 220 rows +-50%
    co2 = {p["name"]: p for p in yaml.safe_load(make(tmp_path, DATASETS["co2"]).read_text(
        encoding="utf-8"))["schema"][0]["properties"]}
    assert co2["co2"]["required"] is False and co2["date"]["unique"] is True


def test_it_catches_data_that_breaks_it(tmp_path):
    contract = make(tmp_path, DATASETS["grunfeld"])
    frame = pl.read_csv(DATASETS["grunfeld"])
    bad = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(pl.lit(None)).otherwise(pl.col("invest"))
        .alias("invest"),
        pl.when(pl.int_range(pl.len()) == 1).then(pl.lit("Acme")).otherwise(pl.col("firm"))
        .alias("firm"),
        pl.when(pl.int_range(pl.len()) == 2).then(pl.lit(2100)).otherwise(pl.col("year"))
        .alias("year"))
    result = check(contract, bad)
    failed = {c.id for c in result.checks if not c.passed}
    assert {"grunfeld.invest.required", "grunfeld.firm.invalidValues",
            "grunfeld.year.maximum"} <= failed


def test_cli_writes_and_never_overwrites(tmp_path):
    out = tmp_path / "c.yaml"
    runner = CliRunner()
    res = runner.invoke(cli, ["contract", "init", str(DATASETS["statecrime"]), "--out", str(out),
                              "--name", "state crime"])
    assert res.exit_code == 0, res.output
    doc = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert doc["name"] == "state crime" and doc["schema"][0]["name"] == "state_crime"
    res = runner.invoke(cli, ["contract", "init", str(DATASETS["statecrime"]), "--out", str(out)])
    assert res.exit_code == 2 and "c.yaml" in res.stderr


@pytest.mark.parametrize("content,suffix", [(b"", ".csv"), (b"\xff\xfe\x00a\x00", ".csv"),
                                            (b"PAR1garbage", ".parquet"), (None, ".csv"),
                                            (b"a,b\n1,2\n", ".xlsx")])
def test_unreadable_data_is_one_line_and_exit_2(tmp_path, content, suffix):
    data = tmp_path / f"data{suffix}"
    if content is not None:
        data.write_bytes(content)
    res = CliRunner().invoke(cli, ["contract", "init", str(data)])
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("workbench: error: ")
    assert "data" in lines[0] and "Traceback" not in res.output

"""Parity with datacontract-cli on the shapes others write (tests/parity/shapes/README.md).

The contracts and data in ``tests/parity/shapes`` were written for this test to cover what
the ODCS standard's ``docs/examples`` and datacontract-cli's test fixtures exercise: nested
objects and arrays of objects, four levels of nesting, properties without logicalType, a
time column with bounds, a custom-engine rule, and every local file format both tools read
(CSV, JSON document, JSON lines, Parquet, Parquet parts through a glob). Each contract is
checked by both tools on the same file; every check datacontract-cli runs must have a
workbench check with the same path (``lines[].qty``), the same verdict and the same
failing-row count. datacontract-cli is imported once, in this process.

Where the two differ, and why:

* Records of JSON files: datacontract-cli also validates every record against a JSON
  schema built from the contract (check type ``schema``, one per message, first violation
  of each record). These restate field rules; the test requires workbench's check on that
  field to fail too.
* Custom-engine rules: datacontract-cli 1.2.8 reports SodaCL rules as a warning ("no longer
  supported"); workbench as an ``info`` check that did not run. Neither runs them.
* ``logicalTypeOptions`` on a property without logicalType: datacontract-cli refuses the
  contract, because in the ODCS schema every per-type ``if`` branch matches a property
  without logicalType and their ``additionalProperties: false`` contradict each other (the
  schema bug workbench works around, see ``_model.patch_schema``). workbench checks them.
* Types: datacontract-cli does not check column types in Parquet, JSON or CSV files (it
  casts, or reports "not supported"); workbench checks them in the file's own types, with
  widths only where the format has them (Parquet).
* Where datacontract-cli 1.2.8 cannot run, the test says why and checks that workbench
  finds what both tools find in the CSV copy of the same rows: time bounds in JSON files
  (written into its JSON schema as numbers: "minimum must be a number"), and Parquet with
  a property without logicalType (declared as column type ``None``: a DuckDB syntax error).
* Formats datacontract-cli reads and workbench does not (delta, xml, xlsx) are refused with
  one line naming the format.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from test_contracts_parity import DC_RULES, our_check_for

from workbench.contracts import check, load_contract
from workbench.errors import InputError

SHAPES = Path(__file__).resolve().parents[1] / "parity" / "shapes"
DATA = SHAPES / "data"

# case -> (contract, data file or glob under the case's directory, server format)
CASES = {
    "orders.json": ("orders", "orders.json", "json"),
    "orders.jsonl": ("orders", "orders.jsonl", "json"),
    "orders.parquet": ("orders", "orders.parquet", "parquet"),
    "inventory.json": ("inventory", "inventory.json", "json"),
    "readings.csv": ("readings", "readings.csv", "csv"),
    "orders.parquet-glob": ("orders", "parts/orders-*.parquet", "parquet"),
}
RULES = {**DC_RULES, "field_min_items": "minItems", "field_max_items": "maxItems"}


def prepare(tmp: Path) -> None:
    """Data files derived from the committed ones (binary formats are not committed)."""
    for name in ("orders.json", "orders.jsonl", "inventory.json", "readings.csv"):
        shutil.copy(DATA / name, tmp / name)
    pl.read_json(DATA / "orders.json").write_parquet(tmp / "orders.parquet")
    # Parquet keeps widths: reading_id is written as the contract's physicalType integer
    readings = pl.read_csv(DATA / "readings.csv", schema_overrides={
        "taken_at": pl.Time, "reading_id": pl.Int32})
    (tmp / "readings.json").write_text(
        readings.with_columns(pl.col("taken_at").cast(pl.String)).write_json(),
        encoding="utf-8")
    (tmp / "parts").mkdir()
    for i, part in enumerate(readings.iter_slices(2)):  # three files of two rows
        part.write_parquet(tmp / "parts" / f"readings-{i}.parquet")
    for i, part in enumerate(pl.read_json(DATA / "orders.json").iter_slices(2)):
        part.write_parquet(tmp / "parts" / f"orders-{i}.parquet")


def materialise(tmp: Path, case: str) -> Path:
    contract, data, fmt = CASES[case]
    doc = yaml.safe_load((SHAPES / "contracts" / f"{contract}.odcs.yaml").read_text("utf-8"))
    doc["servers"][0].update(path=str(tmp / data), format=fmt)
    out = tmp / f"{case}.odcs.yaml"
    out.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple[Any, Any]]:
    from datacontract.data_contract import DataContract

    tmp = tmp_path_factory.mktemp("shapes")
    prepare(tmp)
    out = {}
    for case in CASES:
        path = materialise(tmp, case)
        out[case] = (DataContract(data_contract_file=str(path), server="local").test(),
                     check(path))
    return out


def record_path(reason: str) -> str:
    """'data.lines[1].qty must be ...' -> 'lines[].qty'."""
    where = str(reason).split(" ", 1)[0].removeprefix("data.")
    return re.sub(r"\[\d+\]", "[]", where)


def compare(case: str, dc_run: Any, result: Any) -> tuple[list[str], int]:
    ours = {c.id: c for c in result.checks}
    by_column: dict[str, list[Any]] = {}
    for c in result.checks:
        by_column.setdefault(c.column or "", []).append(c)
    problems: list[str] = []
    exclusive: dict[str, int] = {}
    compared = 0
    for c in dc_run.checks:
        status, reason = c.result.value, str(c.reason or "")
        if c.type == "schema":  # a record's JSON-schema violation: our field check fails too
            path = record_path(reason)
            compared += 1
            if not any(not mine.passed for mine in by_column.get(path, [])):
                problems.append(f"{case}: {path}: datacontract-cli {reason!r}, workbench passed")
            continue
        if c.type.startswith("quality_custom"):
            mine = ours.get(f"{c.model}.{c.field}.custom")
            compared += 1
            if status != "warning" or mine is None or mine.severity != "info" or mine.passed:
                problems.append(f"{case}: custom rule on {c.field}: {status} vs {mine}")
            continue
        if status == "warning" and "not supported" in reason:
            continue  # types in files: not evaluated by datacontract-cli
        if c.type in RULES and RULES[c.type] in {"minItems", "maxItems"}:
            our_id, how = f"{c.model}.{c.field}.{RULES[c.type]}", "rows"
        else:
            our_id, how = our_check_for(c, ours, {})
        mine = ours.get(our_id)
        if mine is None:
            problems.append(f"{case}: no workbench check {our_id} for {c.type} {c.field}")
            continue
        value = (c.diagnostics or {}).get("value")
        if how == "exclusive":
            exclusive[our_id] = exclusive.get(our_id, 0) + int(value)
            continue
        compared += 1
        if (status == "passed") != mine.passed:
            problems.append(f"{case}: {our_id}: datacontract-cli {status}, workbench "
                            f"{'passed' if mine.passed else 'failed'}")
        if how == "rows" and value != mine.failed_rows:
            problems.append(f"{case}: {our_id}: failing rows {value} vs {mine.failed_rows}")
        if how == "dup" and value != mine.observed:
            problems.append(f"{case}: {our_id}: duplicates {value} vs {mine.observed}")
        if how == "value" and float(value) != pytest.approx(float(mine.observed)):
            problems.append(f"{case}: {our_id}: value {value} vs {mine.observed}")
    for our_id, total in exclusive.items():
        compared += 1
        if total != ours[our_id].failed_rows or (total == 0) != ours[our_id].passed:
            problems.append(f"{case}: {our_id}: {total} vs {ours[our_id].failed_rows}")
    return problems, compared


@pytest.mark.parametrize("case", list(CASES))
def test_same_verdicts_and_failing_rows_as_datacontract_cli(runs, case):
    dc_run, result = runs[case]
    assert dc_run.result.value != "error", [str(c.reason) for c in dc_run.checks]
    problems, compared = compare(case, dc_run, result)
    assert problems == []
    assert compared >= 5, f"{case}: only {compared} checks compared"
    assert (dc_run.result.value != "failed") == result.passed


def test_nested_rules_are_checked_at_every_depth(runs):
    _, result = runs["inventory.json"]
    deepest = result.check("inventory.stores[].shelves[].bins[].items[].sku.required")
    assert (deepest.passed, deepest.failed_rows) == (False, 1)
    for case in ("orders.json", "orders.jsonl", "orders.parquet"):
        failed = {c.id for c in runs[case][1].checks if not c.passed}
        assert {"orders.customer.email.required", "orders.lines[].qty.maximum",
                "orders.tags[].pattern"} <= failed, case


def test_every_parity_shape_is_covered(runs):
    rules = {c.rule for _, result in runs.values() for c in result.checks}
    assert {"required", "unique", "pattern", "minimum", "maximum", "exclusiveMinimum",
            "minLength", "maxLength", "minItems", "maxItems", "invalidValues", "rowCount",
            "custom"} <= rules
    assert runs["orders.parquet-glob"][1].rows == 5  # three files
    assert runs["readings.csv"][1].check("readings.taken_at.maximum").failed_rows == 1


@pytest.mark.parametrize(("data", "fmt", "dc_failure"), [
    # datacontract-cli puts the time bounds into the JSON schema it builds for JSON files
    # as ``minimum: "06:00:00"``; fastjsonschema refuses that ("minimum must be a number")
    ("readings.json", "json", "error"),
    # datacontract-cli declares a property without logicalType as a column of type None
    # when it reads Parquet (``CREATE TABLE ... "station" None``: a DuckDB syntax error)
    ("parts/readings-*.parquet", "parquet", "syntax error at or near \"None\""),
])
def test_where_datacontract_cli_cannot_run_workbench_finds_what_csv_shows(
        tmp_path, data, fmt, dc_failure):
    """The readings, as JSON and as Parquet parts: datacontract-cli's run ends in error;
    workbench finds exactly the failures both tools find in the CSV copy."""
    from datacontract.data_contract import DataContract

    prepare(tmp_path)
    doc = yaml.safe_load((SHAPES / "contracts" / "readings.odcs.yaml").read_text("utf-8"))
    doc["servers"][0].update(path=str(tmp_path / data), format=fmt)
    path = tmp_path / "c.odcs.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    dc_run = DataContract(data_contract_file=str(path), server="local").test()
    reasons = " ".join(str(c.reason) for c in dc_run.checks)
    assert dc_run.result.value == "error" or dc_failure in reasons
    result = check(path)
    failed = {c.id: c.failed_rows for c in result.checks if not c.passed}
    assert failed == {"readings.station.invalidValues": 1, "readings.taken_at.minimum": 1,
                      "readings.taken_at.maximum": 1, "readings.value.required": 1,
                      "readings.value.minimum": 1, "readings.station.custom": None}
    assert result.rows == 6


def test_options_without_logical_type_datacontract_cli_refuses(tmp_path):
    """The ODCS schema bug in datacontract-cli: every per-type branch applies."""
    from datacontract.data_contract import DataContract

    doc = yaml.safe_load((SHAPES / "contracts" / "readings.odcs.yaml").read_text("utf-8"))
    doc["schema"][0]["properties"][1]["logicalTypeOptions"] = {"pattern": "^ST-[0-9]{2}$"}
    shutil.copy(DATA / "readings.csv", tmp_path / "readings.csv")
    doc["servers"][0]["path"] = str(tmp_path / "readings.csv")
    path = tmp_path / "c.odcs.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    dc_run = DataContract(data_contract_file=str(path), server="local").test()
    assert dc_run.checks[0].type == "lint" and "pattern" in str(dc_run.checks[0].reason)
    station = check(load_contract(path)).check("readings.station.pattern")
    assert (station.passed, station.failed_rows) == (False, 1)  # st-3


@pytest.mark.parametrize("fmt", ["delta", "xml", "xlsx"])
def test_formats_only_datacontract_cli_reads_are_refused_in_one_line(tmp_path, fmt):
    doc = yaml.safe_load((SHAPES / "contracts" / "readings.odcs.yaml").read_text("utf-8"))
    doc["servers"][0].update(format=fmt, path=str(tmp_path / f"readings.{fmt}"))
    path = tmp_path / "c.odcs.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    with pytest.raises(InputError) as info:
        check(path)
    message = str(info.value)
    assert f"format: expected one of csv, parquet, json, jsonl, got {fmt!r}" in message
    assert "\n" not in message

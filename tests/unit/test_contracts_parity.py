"""Parity with datacontract-cli 1.2.8 on real public datasets (see tests/parity/README.md).

For every check ``datacontract test`` evaluates, workbench must reach the same verdict and
count the same failing rows (for duplicates: the same duplicated keys and rows).

Where the two differ on purpose:

* Column types in files: datacontract-cli casts CSV/Parquet into the contract's types and
  reports every type check as "not supported" (warning, not run). workbench reads the
  file's own types (Parquet schema; CSV as inferred, text columns kept as text) and checks
  logicalType and physicalType. The Parquet case below has a mis-typed column that only
  workbench catches.
* ``exclusiveMinimum``/``exclusiveMaximum``: datacontract-cli emits two checks
  (``field_minimum`` + ``field_not_equal``); workbench one, whose count is their sum.
* ``duplicateValues`` with ``unit: percent``: workbench compares the share of rows that
  repeat a key; datacontract-cli ignores the unit for duplicates and compares the key count
  (``test_duplicate_values_in_percent_compare_the_share_of_rows``).
* Relative server paths: datacontract-cli resolves them against the working directory,
  workbench against the contract file; the test writes absolute paths so both read the
  same file.
* Several schema objects: both read one file per object through ``{model}`` in the server
  path, and check relationships (foreign keys) the same way (``states``: cpunish and
  statecrime). datacontract-cli cannot check a relationship when run on one schema object
  (``--schema-name``); workbench still reads the referenced object's file.
* Freshness is measured against the wall clock by datacontract-cli; workbench takes
  ``as_of`` (default now), so it is not part of the parity set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from workbench.contracts import check

PARITY = Path(__file__).resolve().parents[1] / "parity"
CONTRACTS = sorted((PARITY / "contracts").glob("*.odcs.yaml"))

COMPARED: dict[str, int] = {}  # checks compared per case (printed with -s)

DC_RULES = {
    "field_is_present": "present", "field_required": "required",
    "field_primary_key_required": "required", "field_unique": "unique",
    "field_primary_key_unique": "primaryKey", "primary_key_unique": "primaryKey",
    "field_regex": "pattern", "field_min_length": "minLength", "field_max_length": "maxLength",
    "field_enum": "validValues", "field_invalid_values": "invalidValues",
    "field_missing_values": "missingValues", "field_null_values": "nullValues",
    "field_duplicate_values": "duplicateValues", "model_duplicate_values": "duplicateValues",
    "row_count": "rowCount", "field_relationships": "foreignKey",
}


def materialise(contract: Path, out_dir: Path, data: Path, fmt: str) -> Path:
    doc = yaml.safe_load(contract.read_text(encoding="utf-8"))
    doc["servers"][0].update(path=str(data), format=fmt)
    out = out_dir / contract.name
    out.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def cases(tmp_path_factory) -> list[tuple[str, Path]]:
    tmp = tmp_path_factory.mktemp("parity")
    found = []
    for contract in CONTRACTS:
        name = contract.name.split(".")[0]
        # several schema objects: one file each, named after it ({model} in the server path)
        data = "{model}" if "{model}" in contract.read_text(encoding="utf-8") else name
        found.append((name, materialise(contract, tmp, PARITY / "data" / f"{data}.csv", "csv")))
    # Parquet: quarter stored as float although the contract says integer
    pq_dir = tmp / "pq"
    pq_dir.mkdir()
    data = pq_dir / "macrodata.parquet"
    pl.read_csv(PARITY / "data" / "macrodata.csv").with_columns(
        pl.col("quarter").cast(pl.Float64)).write_parquet(data)
    contract = PARITY / "contracts" / "macrodata.odcs.yaml"
    found.append(("macrodata.parquet", materialise(contract, pq_dir, data, "parquet")))
    return found


@pytest.fixture(scope="module")
def runs(cases) -> dict[str, tuple[Any, Any]]:
    from datacontract.data_contract import DataContract

    out = {}
    for name, path in cases:
        dc = DataContract(data_contract_file=str(path), server="local").test()
        out[name] = (dc, check(path))
    return out


def our_check_for(dc_check: Any, ours: dict[str, Any],
                  sql_order: dict[str, int]) -> tuple[str, str]:
    """(our check id, how to compare) for one datacontract-cli check."""
    key, kind = dc_check.key, dc_check.type
    schema, field = dc_check.model, dc_check.field
    base = f"{schema}.{field}" if field else schema
    if kind in DC_RULES:
        rule = DC_RULES[kind]
        if rule == "primaryKey" and f"{base}.primaryKey" not in ours:
            return f"{schema}.primaryKey", "dup"
        if rule in {"unique", "primaryKey", "duplicateValues"}:
            return f"{base}.{rule}", "dup"
        how = {"present": "verdict", "rowCount": "value"}.get(rule, "rows")
        return f"{base}.{rule}", how
    if kind in {"field_minimum", "field_maximum", "field_not_equal"}:
        for rule in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if f"{base}.{rule}" in ours and (kind != "field_not_equal" or rule.startswith("excl")):
                if (kind == "field_minimum") == ("inimum" in rule) or kind == "field_not_equal":
                    return f"{base}.{rule}", "exclusive" if rule.startswith("excl") else "rows"
    if kind in {"model_quality_sql", "field_quality_sql"}:
        k = sql_order[key]
        return f"{base}.sql" + (f"_{k + 1}" if k else ""), "value"
    raise AssertionError(f"no workbench check for datacontract-cli check {key} ({kind})")


def compare(name: str, dc_run: Any, result: Any) -> list[str]:
    ours = {c.id: c for c in result.checks}
    sql_keys = [c.key for c in dc_run.checks if c.type.endswith("quality_sql")]
    sql_order = {k: i for i, k in enumerate(sql_keys)}
    exclusive: dict[str, int] = {}
    problems, compared = [], 0
    for c in dc_run.checks:
        status = c.result.value
        reason = c.reason or ""
        if status == "warning" and "not supported" in str(reason):
            continue  # not evaluated by datacontract-cli (types in files)
        our_id, how = our_check_for(c, ours, sql_order)
        mine = ours[our_id]
        diag = c.diagnostics or {}
        if how == "exclusive":
            exclusive[our_id] = exclusive.get(our_id, 0) + int(diag["value"])
            continue
        compared += 1
        if (status == "passed") != mine.passed:
            problems.append(f"{name}: {our_id}: datacontract {status}, workbench {mine.passed}")
        if how == "rows" and diag.get("value") != mine.failed_rows:
            problems.append(f"{name}: {our_id}: rows {diag.get('value')} vs {mine.failed_rows}")
        if how == "dup" and (diag.get("value"), diag.get("failed_rows")) != (
                mine.observed, mine.failed_rows):
            problems.append(f"{name}: {our_id}: dup {diag.get('value')}/{diag.get('failed_rows')}"
                            f" vs {mine.observed}/{mine.failed_rows}")
        if how == "value" and float(diag.get("value")) != pytest.approx(float(mine.observed)):
            problems.append(f"{name}: {our_id}: value {diag.get('value')} vs {mine.observed}")
    for our_id, total in exclusive.items():
        compared += 1
        if total != ours[our_id].failed_rows:
            problems.append(f"{name}: {our_id}: rows {total} vs {ours[our_id].failed_rows}")
        if (total == 0) != ours[our_id].passed:
            problems.append(f"{name}: {our_id}: verdict differs")
    assert compared >= 10, f"{name}: only {compared} checks compared"
    COMPARED[name] = compared
    return problems


@pytest.mark.parametrize("name", ["co2", "grunfeld", "macrodata", "statecrime", "states",
                                  "macrodata.parquet"])
def test_same_verdicts_and_failing_rows_as_datacontract_cli(runs, name):
    dc_run, result = runs[name]
    assert compare(name, dc_run, result) == []
    # the overall verdicts agree too (datacontract: failed when an error check failed)
    assert (dc_run.result.value != "failed") == result.passed
    print(f"{name}: {COMPARED[name]} checks agree with datacontract-cli")


def test_every_rule_kind_is_in_the_parity_set(runs):
    rules = {c.rule for _, result in runs.values() for c in result.checks}
    assert {"required", "unique", "primaryKey", "pattern", "minimum", "maximum",
            "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "validValues",
            "nullValues", "missingValues", "invalidValues", "duplicateValues", "rowCount",
            "sql", "foreignKey"} <= rules
    ops = set()
    for contract in CONTRACTS:
        text = contract.read_text(encoding="utf-8")
        ops |= {op for op in ("mustBe:", "mustNotBe:", "mustBeGreaterThan:",
                              "mustBeGreaterOrEqualTo:", "mustBeLessThan:",
                              "mustBeLessOrEqualTo:", "mustBeBetween:", "mustNotBeBetween:")
                if op in text}
    assert len(ops) == 8


def test_types_in_parquet_only_workbench_checks(runs):
    dc_run, result = runs["macrodata.parquet"]
    dc_types = [c for c in dc_run.checks if c.type == "field_type"]
    assert dc_types and all(c.result.value == "warning" and "not supported" in str(c.reason)
                            for c in dc_types)
    quarter = result.check("macrodata.quarter.logicalType")
    assert not quarter.passed and quarter.observed == "Float64"

"""Contracts as others write them (ODCS examples, datacontract-cli's fixtures): shapes that
used to be refused, crash or pass in silence. Each test failed on the code before it."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import polars as pl
import pytest

from workbench.contracts import check, load_contract
from workbench.errors import ContractError


def write(tmp_path: Path, text: str, name: str = "c.odcs.yaml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


HEAD = """\
    apiVersion: v3.1.0
    kind: DataContract
    id: shapes
    version: 1.0.0
    status: active
"""


def test_property_without_logical_type_loads(tmp_path):
    """The packaged schema's if-branches matched a property with no logicalType: refused
    with 'expected required field map' (and contradictory logicalTypeOptions)."""
    contract = load_contract(write(tmp_path, HEAD + """\
    schema:
      - name: t
        properties:
          - name: free_text
          - name: code
            physicalType: varchar
            required: true
    """))
    assert [c.name for c in contract.columns()] == ["free_text", "code"]


def test_unknown_fields_are_still_refused(tmp_path):
    with pytest.raises(ContractError) as info:
        load_contract(write(tmp_path, HEAD + """\
    schema:
      - name: t
        properties:
          - name: a
            logicalType: string
            colour: blue
    """))
    assert "schema[0].properties[0]: expected only ODCS fields here, got unexpected colour" \
        in str(info.value)


def deep_contract(levels: int) -> str:
    """Arrays of objects nested ``levels`` deep (the shape that took 78 s at four levels)."""
    text, indent = "", "      "
    for level in range(levels):
        text += textwrap.indent(textwrap.dedent(f"""\
            - name: level{level}
              logicalType: array
              items:
                logicalType: object
                properties:
            """), indent)
        indent += " " * 8
    text += textwrap.indent("- name: leaf\n  logicalType: string\n  required: true\n", indent)
    return textwrap.dedent(HEAD) + "schema:\n  - name: t\n    properties:\n" + text


def test_deep_nesting_loads_fast(tmp_path):
    p = tmp_path / "deep.odcs.yaml"
    p.write_text(deep_contract(3), encoding="utf-8")
    load_contract(p)  # the validator is built once per process
    start = time.perf_counter()
    load_contract(p)
    # 3 levels took 4 s of CPU before (4 levels 44 s); now a few milliseconds: 1 s is
    # generous on a loaded machine, and deeper levels are in benchmarks/contract_load.py
    assert time.perf_counter() - start < 1.0


def test_custom_engine_rule_loads_and_is_reported_as_not_run(tmp_path):
    """The standard's quality/column-custom example: refused before."""
    (tmp_path / "t.csv").write_text("UniqueID\n100001\n100002\n", encoding="utf-8")
    path = write(tmp_path, HEAD + """\
    servers:
      - server: local
        type: local
        format: csv
        path: t.csv
    schema:
      - name: Air_Quality
        properties:
          - name: UniqueID
            logicalType: number
            quality:
              - type: custom
                engine: soda
                dimension: uniqueness
                implementation:
                  type: duplicate_percent
                  columns: [UniqueID]
                  must_be_less_than: 1.0
    """)
    result = check(path)
    custom = result.check("Air_Quality.UniqueID.custom")
    assert custom.severity == "info" and not custom.passed
    assert "not run" in str(custom.observed) and "soda" in str(custom.observed)
    assert result.passed  # an info check never fails the gate


def test_json_lines_integers_match_physical_type_integer(tmp_path):
    """JSON has no integer widths: polars reads Int64, the contract says integer (Int32)."""
    (tmp_path / "t.jsonl").write_text('{"n": 1}\n{"n": 2}\n', encoding="utf-8")
    (tmp_path / "t.parquet").parent.mkdir(exist_ok=True)
    pl.DataFrame({"n": [1, 2]}, schema={"n": pl.Int64}).write_parquet(tmp_path / "t.parquet")
    path = write(tmp_path, HEAD + """\
    schema:
      - name: t
        properties:
          - name: n
            logicalType: integer
            physicalType: integer
    """)
    assert check(path, tmp_path / "t.jsonl").check("t.n.physicalType").passed
    # Parquet stores widths: Int64 is not integer (32 bits) there
    assert not check(path, tmp_path / "t.parquet").check("t.n.physicalType").passed


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_time_bounds_compare_as_times(tmp_path, fmt):
    times = ["08:00:00", "12:30:00", "23:15:00"]
    if fmt == "csv":
        (tmp_path / "t.csv").write_text("at\n" + "\n".join(times) + "\n", encoding="utf-8")
    else:
        pl.DataFrame({"at": times}).with_columns(pl.col("at").str.to_time()).write_parquet(
            tmp_path / "t.parquet")
    path = write(tmp_path, HEAD + """\
    schema:
      - name: t
        properties:
          - name: at
            logicalType: time
            logicalTypeOptions:
              minimum: "07:00:00"
              maximum: "23:00:00"
    """)
    result = check(path, tmp_path / f"t.{fmt}")
    assert result.check("t.at.minimum").passed
    late = result.check("t.at.maximum")
    assert not late.passed and late.failed_rows == 1


NESTED = """\
    schema:
      - name: orders
        properties:
          - name: id
            logicalType: integer
          - name: customer
            logicalType: object
            properties:
              - name: email
                logicalType: string
                required: true
                logicalTypeOptions:
                  pattern: "^[^@]+@[^@]+$"
              - name: address
                logicalType: object
                properties:
                  - name: postal_code
                    logicalType: string
                    classification: restricted
                    logicalTypeOptions: {maxLength: 5}
          - name: lines
            logicalType: array
            logicalTypeOptions: {minItems: 1}
            items:
              logicalType: object
              properties:
                - name: sku
                  logicalType: string
                  required: true
                - name: qty
                  logicalType: integer
                  logicalTypeOptions: {minimum: 1}
                  quality:
                    - metric: invalidValues
                      arguments: {validValues: [1, 2, 3, 5]}
                      mustBe: 0
          - name: tags
            logicalType: array
            items:
              logicalType: string
              logicalTypeOptions: {pattern: "^[a-z]+$"}
"""

NESTED_ROWS = [
    {"id": 1, "customer": {"email": "a@x.io", "address": {"postal_code": "12345"}},
     "lines": [{"sku": "A", "qty": 1}], "tags": ["new"]},
    {"id": 2, "customer": {"email": None, "address": {"postal_code": "123456"}},   # null email
     "lines": [{"sku": "B", "qty": 0}, {"sku": None, "qty": 2}], "tags": ["ok", "Bad"]},
    {"id": 3, "customer": {"email": "no-at-sign", "address": None},              # bad email
     "lines": [], "tags": []},
    {"id": 4, "customer": None, "lines": [{"sku": "C", "qty": 4}], "tags": None},
]


@pytest.mark.parametrize("fmt", ["parquet", "jsonl", "json"])
def test_nested_fields_are_checked_with_their_path(tmp_path, fmt):
    """Before: only the top-level columns became checks ('0 of 6 checks failed')."""
    frame = pl.DataFrame(NESTED_ROWS)
    data = tmp_path / f"orders.{fmt}"
    if fmt == "parquet":
        frame.write_parquet(data)
    elif fmt == "jsonl":
        frame.write_ndjson(data)
    else:
        data.write_text(json.dumps(NESTED_ROWS), encoding="utf-8")
    result = check(write(tmp_path, HEAD + NESTED), data)
    failed = {c.id: c.failed_rows for c in result.checks if not c.passed}
    assert failed == {
        "orders.customer.email.required": 1,          # row 2 (row 4 has no customer at all)
        "orders.customer.email.pattern": 1,           # row 3
        "orders.customer.address.postal_code.maxLength": 1,
        "orders.lines.minItems": 1,                   # row 3
        "orders.lines[].sku.required": 1,             # row 2
        "orders.lines[].qty.minimum": 1,              # row 2
        "orders.lines[].qty.invalidValues": 2,        # rows 2 (0) and 4 (4)
        "orders.tags[].pattern": 1,                   # row 2
    }
    email = result.check("orders.customer.email.pattern")
    assert email.column == "customer.email"
    assert result.check("orders.customer.address.postal_code.present").passed
    # a sensitive nested field masks the column it lives in, in every sample
    samples = result.check("orders.customer.address.postal_code.maxLength").samples
    assert samples and all("123456" not in json.dumps(s) for s in samples)


def test_nested_fields_in_csv_are_reported_not_checked(tmp_path):
    (tmp_path / "orders.csv").write_text("id,customer,lines,tags\n1,x,y,z\n", encoding="utf-8")
    result = check(write(tmp_path, HEAD + NESTED), tmp_path / "orders.csv")
    email = result.check("orders.customer.email.present")
    assert email.severity == "info" and not email.passed
    assert "not a struct" in str(email.observed)
    assert result.check("orders.customer.logicalType").passed is False  # String, not object


def test_missing_nested_field_fails_its_presence_check(tmp_path):
    rows = [{"id": 1, "customer": {"mail": "a@x.io"}, "lines": [], "tags": []}]
    pl.DataFrame(rows).write_parquet(tmp_path / "o.parquet")
    result = check(write(tmp_path, HEAD + NESTED), tmp_path / "o.parquet")
    present = result.check("orders.customer.email.present")
    assert not present.passed and present.severity == "error"


@pytest.mark.parametrize("pattern,fmt", [("data/*.parquet", "parquet"), ("data/*.json", "json"),
                                         ("data/part-*.csv", "csv")])
def test_glob_paths_in_a_server_read_every_match(tmp_path, pattern, fmt):
    """Before: 'expected an existing file'. Three files, one bad row in the second."""
    (tmp_path / "data").mkdir()
    parts = [[{"n": 1}, {"n": 2}], [{"n": -3}], [{"n": 4}]]
    for i, rows in enumerate(parts):
        frame = pl.DataFrame(rows)
        target = tmp_path / "data" / f"part-{i}.{fmt}"
        if fmt == "parquet":
            frame.write_parquet(target)
        elif fmt == "csv":
            frame.write_csv(target)
        else:
            target.write_text(json.dumps(rows), encoding="utf-8")
    result = check(write(tmp_path, HEAD + f"""\
    servers:
      - server: files
        type: local
        format: {fmt}
        path: {pattern}
    schema:
      - name: t
        properties:
          - name: n
            logicalType: integer
            logicalTypeOptions: {{minimum: 0}}
            quality:
              - metric: rowCount
                mustBe: 4
    """))
    assert result.rows == 4
    assert result.check("t.n.minimum").failed_rows == 1
    assert result.check("t.n.rowCount").passed


def test_glob_matching_nothing_is_one_clear_error(tmp_path):
    from workbench.errors import InputError

    with pytest.raises(InputError, match="expected a pattern matching at least one file"):
        check(write(tmp_path, HEAD + """\
    servers:
      - server: files
        type: local
        format: parquet
        path: nowhere/*.parquet
    schema:
      - name: t
        properties:
          - name: n
    """))


def test_single_json_record_over_several_lines(tmp_path):
    (tmp_path / "t.json").write_text('{\n  "n": 5\n}\n', encoding="utf-8")
    result = check(write(tmp_path, HEAD + """\
    schema:
      - name: t
        properties:
          - name: n
            logicalType: integer
            required: true
    """), tmp_path / "t.json")
    assert result.rows == 1 and result.passed


RELATED = """\
    schema:
      - name: accounts
        id: accounts_tbl
        properties:
          - name: id
            id: acc_id
            logicalType: integer
          - name: address
            id: acc_address
            logicalType: object
            properties:
              - name: postal_code
                id: acc_zip
                logicalType: string
      - name: shipments
        properties:
          - name: account_id
            logicalType: integer
            relationships:
              - to: accounts.id
          - name: zip
            logicalType: string
            relationships:
              - to: {to}
          - name: parcel
            logicalType: object
            properties:
              - name: sender_zip
                logicalType: string
                relationships:
                  - to: accounts.address.postal_code
"""


@pytest.mark.parametrize("to", ["accounts.address.postal_code",
                                "schema/accounts_tbl/properties/acc_address/properties/acc_zip"])
def test_nested_relationship_references_are_resolved_and_reported(tmp_path, to):
    """Before: 'expected <schema>.<property> of a schema object in this contract'."""
    pl.DataFrame({"id": [1, 2], "address": [{"postal_code": "1"}, {"postal_code": "2"}]}
                 ).write_parquet(tmp_path / "accounts.parquet")
    pl.DataFrame({"account_id": [1, 3], "zip": ["1", "9"],
                  "parcel": [{"sender_zip": "1"}, {"sender_zip": "2"}]}
                 ).write_parquet(tmp_path / "shipments.parquet")
    path = write(tmp_path, HEAD + RELATED.replace("{to}", to))
    result = check(path, {"accounts": tmp_path / "accounts.parquet",
                          "shipments": tmp_path / "shipments.parquet"})
    top = result.check("shipments.account_id.foreignKey")
    assert (top.severity, top.failed_rows) == ("error", 1)  # a top-level key is still checked
    nested = result.check("shipments.zip.foreignKey")
    assert nested.severity == "info" and not nested.passed
    assert "nested field" in str(nested.observed)
    inner = result.check("shipments.parcel.sender_zip.foreignKey")
    assert inner.severity == "info" and "nested field" in str(inner.observed)


def test_a_nested_reference_to_an_unknown_field_is_still_refused(tmp_path):
    with pytest.raises(ContractError, match="got 'accounts.address.nope'"):
        load_contract(write(tmp_path, HEAD + RELATED.replace("{to}", "accounts.address.nope")))


V30_EXTRAS = """\
    team:
      - username: ceastwood
        role: Data Scientist
        comment: on leave until March
    servers:
      - server: events
        type: kafka
        host: broker:9092
        topic: orders
    schema:
      - name: t
        properties:
          - name: a
            logicalType: string
"""


def test_v30_contracts_keep_the_extra_fields_v30_allowed(tmp_path):
    """ODCS v3.0.x let unknown fields be outside schema objects and properties (datacontract-
    cli's odcs_v3/full-example has team members with ``comment``): refused before."""
    v30 = HEAD.replace("v3.1.0", "v3.0.2")
    contract = load_contract(write(tmp_path, v30 + V30_EXTRAS))
    assert contract.odcs.apiVersion == "v3.0.2"
    # ... but not in properties, where v3.0.x refused them too
    with pytest.raises(ContractError, match="got unexpected colour"):
        load_contract(write(tmp_path, v30 + V30_EXTRAS + "            colour: blue\n"))
    # and v3.1 closed those objects
    with pytest.raises(ContractError, match="unexpected"):
        load_contract(write(tmp_path, HEAD + V30_EXTRAS))


def test_dates_and_times_as_json_text_conform_when_they_read_as_such(tmp_path):
    """JSON has no date/time types: before, every such column failed logicalType."""
    rows = [{"day": "2026-01-02", "at": "08:00:00"}, {"day": "someday", "at": "25:99"},
            {"day": None, "at": "09:30:00"}]
    (tmp_path / "t.json").write_text(json.dumps(rows), encoding="utf-8")
    result = check(write(tmp_path, HEAD + """\
    schema:
      - name: t
        properties:
          - name: day
            logicalType: date
          - name: at
            logicalType: time
    """), tmp_path / "t.json")
    assert result.check("t.day.logicalType").failed_rows == 1   # "someday"
    assert result.check("t.at.logicalType").failed_rows == 1    # "25:99"


def test_map_keys_and_values_are_reported_not_checked(tmp_path):
    pl.DataFrame({"attrs": [[{"key": "a", "value": 1}]]}).write_parquet(tmp_path / "t.parquet")
    result = check(write(tmp_path, HEAD.replace("v3.1.0", "v3.2.0") + """\
    schema:
      - name: t
        properties:
          - name: attrs
            logicalType: map
            map:
              key: {logicalType: string, logicalTypeOptions: {pattern: "^[a-z]+$"}}
              value: {logicalType: integer, logicalTypeOptions: {minimum: 0}}
    """), tmp_path / "t.parquet")
    for part in ("key", "value"):
        shown = result.check(f"t.attrs{{{part}}}.present")
        assert shown.severity == "info" and "map" in str(shown.observed)

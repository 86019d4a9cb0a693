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
    p.write_text(deep_contract(6), encoding="utf-8")
    load_contract(p)  # the validator is built once per process
    start = time.perf_counter()
    load_contract(p)
    # 4 levels took 78 s before; 6 levels would take hours. Generous for a loaded machine.
    assert time.perf_counter() - start < 2.0


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

"""`workbench contract lint`: schema errors and what a person would miss, with YAML paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from workbench.cli import cli
from workbench.contracts import init, lint

ROOT = Path(__file__).resolve().parents[2]
DCC_TEMPLATE = "datacontract/schemas/odcs-3.2.0.init.yaml"

CLEAN = [ROOT / "data" / "sample" / "contracts" / "loan_scoring.odcs.yaml",
         *sorted((ROOT / "tests" / "parity" / "shapes" / "contracts").glob("*.odcs.yaml"))]


@pytest.mark.parametrize("path", CLEAN, ids=lambda p: p.name)
def test_contracts_others_wrote_are_clean(path):
    result = lint(path)
    assert result.clean, result.lines()


def test_datacontract_cli_template_is_clean():
    pytest.importorskip("datacontract")
    import datacontract

    template = Path(datacontract.__file__).parent.parent / DCC_TEMPLATE
    assert lint(template).clean


def test_an_inferred_contract_is_clean(tmp_path):
    out = tmp_path / "grunfeld.odcs.yaml"
    out.write_text(init(ROOT / "tests" / "parity" / "data" / "grunfeld.csv", out=out))
    assert lint(out).clean, lint(out).lines()


def doc() -> dict:
    return {
        "apiVersion": "v3.1.0", "kind": "DataContract", "id": "t", "version": "1.0.0",
        "status": "active",
        "servers": [{"server": "s", "type": "local", "format": "csv", "path": "missing.csv"}],
        "schema": [{"name": "orders", "properties": [
            {"name": "id", "logicalType": "integer", "primaryKey": True, "required": False},
            {"name": "amount", "logicalType": "number",
             "logicalTypeOptions": {"minimum": 10, "maximum": 5}},
            {"name": "code", "logicalType": "string",
             "logicalTypeOptions": {"minLength": 4, "maxLength": 2, "pattern": "^[A-Z]+$"},
             "quality": [{"metric": "invalidValues",
                          "arguments": {"validValues": ["AB", "cd", 3]}, "mustBe": 0}]},
            {"name": "qty", "logicalType": "integer",
             "quality": [{"metric": "nullValues", "mustBeBetween": [5, 1]},
                         {"metric": "invalidValues", "arguments": {"validValues": ["one"]},
                          "mustBe": 0}]},
        ], "quality": [
            {"metric": "duplicateValues", "arguments": {"properties": ["id", "ghost"]},
             "mustBe": 0},
            {"type": "sql", "query": "SELECT COUNT(*) FROM order_lines", "mustBe": 0},
            {"type": "sql", "mustBe": 0, "query": "SELECT COUNT(*) FROM ${table} o WHERE "
             "EXTRACT(YEAR FROM o.ts) < 2000 AND id NOT IN (SELECT id FROM orders)"},
        ]}],
        "slaProperties": [{"property": "freshness", "value": 1, "unit": "d",
                           "element": "orders.updated_at"},
                          {"property": "latency", "value": 2, "unit": "parsecs",
                           "element": "order.id"}],
    }


def write(tmp_path: Path, content: dict) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    return path


def test_every_kind_of_problem_has_its_path_and_rule(tmp_path):
    result = lint(write(tmp_path, doc()))
    found = {(p.path, p.rule) for p in result.problems if not p.note}
    expected = {
        ("schema[0].properties[0].required", "contradiction"),              # pk not required
        ("schema[0].properties[1].logicalTypeOptions.minimum", "contradiction"),  # 10 > 5
        ("schema[0].properties[2].logicalTypeOptions.minLength", "contradiction"),  # 4 > 2
        ("schema[0].properties[2]", "type"),                                 # 3 on a string
        ("schema[0].properties[2].logicalTypeOptions.pattern", "contradiction"),  # 'cd'
        ("schema[0].properties[3].quality[0].mustBeBetween", "contradiction"),
        ("schema[0].properties[3]", "type"),                                 # 'one' on integer
        ("schema[0].quality[0].arguments.properties", "unknown-column"),     # ghost
        ("schema[0].quality[1].query", "unknown-column"),                    # order_lines
        ("slaProperties[0].element", "unknown-column"),                      # updated_at
        ("slaProperties[1].unit", "sla"),                                    # parsecs
        ("slaProperties[1].element", "unknown-column"),                      # order
        ("servers[0].path", "server"),                                       # missing.csv
    }
    assert expected <= found, sorted(found)
    assert not any(p.path.startswith("schema[0].quality[2]") for p in result.problems)
    assert not result.clean


def test_schema_errors_are_problems_with_paths(tmp_path):
    content = doc()
    content["schema"][0]["properties"][1]["logicalType"] = "float"
    content["schema"][0]["quality"][0]["metric"] = "averageValue"
    result = lint(write(tmp_path, content))
    found = {(p.path, p.rule) for p in result.problems}
    assert ("schema[0].properties[1].logicalType", "schema") in found
    assert any(p.path.startswith("schema[0].quality[0]") and p.rule == "schema"
               for p in result.problems)


def test_cli_exit_codes(tmp_path):
    runner = CliRunner()
    res = runner.invoke(cli, ["contract", "lint", str(CLEAN[0])])
    assert res.exit_code == 0 and "clean" in res.output
    bad = write(tmp_path, doc())
    res = runner.invoke(cli, ["contract", "lint", str(bad), "--format", "json"])
    assert res.exit_code == 1
    data = json.loads(res.output)
    assert data["clean"] is False and all({"path", "rule", "message"} <= set(p)
                                          for p in data["problems"])
    notyaml = tmp_path / "n.yaml"
    notyaml.write_text("a: [1,\n", encoding="utf-8")
    res = runner.invoke(cli, ["contract", "lint", str(notyaml)])
    assert res.exit_code == 2
    assert len(res.stderr.strip().splitlines()) == 1 and "n.yaml" in res.stderr


def test_servers_without_what_their_type_needs(tmp_path):
    content = doc()
    content["servers"] = [{"server": "db", "type": "postgres", "database": "x"},
                          {"server": "lake", "type": "s3"},
                          {"server": "files", "type": "local", "path": "data.xlsx"}]  # no format
    found = {(p.path, p.rule) for p in lint(write(tmp_path, content)).problems}
    assert {("servers[0]", "schema"), ("servers[1]", "schema")} <= found
    assert ("servers[2]", "schema") in found
    found = {(p.path, p.rule) for p in lint(write(tmp_path, {**content, "servers": [
        {"server": "files", "type": "local", "format": "excel", "path": "data.xlsx"}]})).problems}
    assert ("servers[0].format", "server") in found and ("servers[0].path", "server") in found

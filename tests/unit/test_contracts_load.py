"""Loading ODCS contracts: the public API other areas use, and one line per problem."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from workbench.contracts import ColumnSpec, load_contract, sensitive_columns
from workbench.errors import ContractError


def write(tmp_path: Path, text: str, name: str = "c.odcs.yaml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


GOOD = """\
    apiVersion: v3.1.0
    kind: DataContract
    id: urn:test:orders
    version: 1.0.0
    status: active
    servers:
      - server: local
        type: local
        format: csv
        path: data/orders.csv
    schema:
      - name: orders
        properties:
          - name: order_id
            physicalName: ORDER_ID
            logicalType: string
            required: true
            unique: true
          - name: status
            logicalType: string
            quality:
              - metric: invalidValues
                arguments: {validValues: [open, closed]}
                mustBe: 0
          - name: amount
            logicalType: number
            logicalTypeOptions: {minimum: 0, maximum: 1000}
          - name: email
            logicalType: string
            classification: Restricted
          - name: phone
            logicalType: string
            tags: [PII]
          - name: note
            logicalType: string
            customProperties: [{property: pii, value: true}]
    """


def test_columns_expose_what_other_areas_read(tmp_path):
    contract = load_contract(write(tmp_path, GOOD))
    assert contract.id == "urn:test:orders"
    assert contract.schema_names == ["orders"]
    cols = {c.name: c for c in contract.columns()}
    assert list(cols) == ["ORDER_ID", "status", "amount", "email", "phone", "note"]
    assert cols["ORDER_ID"] == ColumnSpec(
        name="ORDER_ID", logical_type="string", physical_type=None, required=True, unique=True,
        valid_values=None, minimum=None, maximum=None, sensitive=False, property_name="order_id")
    assert cols["status"].valid_values == ("open", "closed")
    assert (cols["amount"].minimum, cols["amount"].maximum) == (0, 1000)
    assert sensitive_columns(contract) == {"email", "phone", "note"}
    assert sensitive_columns(contract, classifications={"secret"}) == {"phone", "note"}
    assert contract.data_path() == str(tmp_path / "data" / "orders.csv")


def test_v30_rule_keyword_is_read_as_metric(tmp_path):
    text = GOOD.replace("- metric: invalidValues", "- rule: invalidValues")
    contract = load_contract(write(tmp_path, text))
    assert contract.columns()[1].valid_values == ("open", "closed")


def test_every_problem_is_one_line_with_yaml_path(tmp_path):
    text = (GOOD.replace("{minimum: 0, maximum: 1000}", "{minimum: zero}")
                .replace("- metric: invalidValues", "- metric: fancyCheck")
                .replace("status: active", "status: active\n    colour: blue"))
    with pytest.raises(ContractError) as info:
        load_contract(write(tmp_path, text))
    problems = info.value.problems
    src = str(tmp_path / "c.odcs.yaml")
    assert all(p.startswith(src + ": ") and "\n" not in p for p in problems)
    assert any("schema[0].properties[2].logicalTypeOptions.minimum: expected a number" in p
               for p in problems)
    assert any("schema[0].properties[1].quality[0].metric: expected one of nullValues" in p
               for p in problems)
    assert any("(document): expected only ODCS fields here, got unexpected colour" in p
               for p in problems)
    assert len(problems) == 3


def test_missing_operator_is_reported_and_custom_engine_accepted(tmp_path):
    text = GOOD.replace("                mustBe: 0\n", "").replace(
        "          - name: amount\n",
        "          - name: amount\n            quality:\n              - type: custom\n"
        "                engine: soda\n                implementation: 'x > 0'\n")
    with pytest.raises(ContractError) as info:
        load_contract(write(tmp_path, text))
    problems = info.value.problems
    assert any("properties[1].quality[0]: expected exactly one of mustBe" in p for p in problems)
    # a custom rule (another engine's) loads; the check reports it as not run
    assert not any("properties[2]" in p for p in problems)


def test_sensitive_classifications_are_configurable(tmp_path, monkeypatch):
    path = write(tmp_path, GOOD)
    cols = lambda c: {s.name for s in c.columns() if s.sensitive}  # noqa: E731
    assert cols(load_contract(path)) == {"email", "phone", "note"}
    # the environment reaches every notebook of a pack; pii tags and properties always count
    monkeypatch.setenv("WORKBENCH_SENSITIVE_CLASSIFICATIONS", "Secret, internal")
    assert cols(load_contract(path)) == {"phone", "note"}
    assert cols(load_contract(path, classifications=["RESTRICTED"])) == {
        "email", "phone", "note"}
    monkeypatch.setenv("WORKBENCH_SENSITIVE_CLASSIFICATIONS", " , ")
    assert cols(load_contract(path)) == {"email", "phone", "note"}   # blank: the default

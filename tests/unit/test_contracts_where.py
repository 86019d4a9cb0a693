"""Contract problems name the schema object and column, and a misspelt key's ODCS spelling."""

from __future__ import annotations

import pytest

from workbench.contracts import load_contract
from workbench.errors import ContractError

HEAD = "apiVersion: v3.0.2\nkind: DataContract\nid: x\nversion: 1.0.0\nstatus: active\n"


def _problems(tmp_path, body: str) -> list[str]:
    path = tmp_path / "c.yaml"
    path.write_text(HEAD + body, encoding="utf-8")
    with pytest.raises(ContractError) as err:
        load_contract(path)
    return err.value.problems


def test_a_misspelt_property_key_is_named_with_its_odcs_spelling_and_column(tmp_path):
    problems = _problems(tmp_path, "schema:\n  - name: orders\n    properties:\n"
                         "      - {name: id, logicalType: integer}\n"
                         "      - {name: email, logicalType: string, mustbe: 3}\n")
    (p,) = [p for p in problems if "expected only ODCS fields here" in p]
    assert "schema[0].properties[1]: expected only ODCS fields here" in p
    assert "did you mean 'mustbe' -> 'mustBe'?" in p and p.endswith("(column orders.email)")


def test_a_misspelt_quality_operator_is_named(tmp_path):
    problems = _problems(tmp_path, "schema:\n  - name: orders\n    properties:\n"
                         "      - name: email\n        quality:\n"
                         "          - {metric: nullValues, mustbe: 0}\n")
    assert any("'mustbe' -> 'mustBe'" in p and "(column orders.email)" in p for p in problems)


def test_a_bad_value_points_at_the_column_name(tmp_path):
    problems = _problems(tmp_path, "schema:\n  - name: t\n    properties:\n"
                         "      - {name: a, logicalType: string}\n"
                         "      - name: amount\n        logicalType: number\n"
                         "        logicalTypeOptions: {minimum: low}\n")
    (p,) = [p for p in problems if "minimum" in p]
    assert "schema[0].properties[1].logicalTypeOptions.minimum: expected a number" in p
    assert p.endswith("(column t.amount)")

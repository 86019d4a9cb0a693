"""`workbench contract diff`: every change between two contract versions, breaking or not.

Pairs of contracts are made from the parity contracts (tests/parity/contracts, written on
statsmodels datasets) by one edit each. For every pair, the direction of each change must
agree with datacontract-cli 1.2.8's ``breaking`` rules (its changelog path is our ``key``):
every change it grades (tightens, loosens, both, undetermined) is one of ours with the same
direction, and every change we grade is one of its.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from workbench.cli import cli
from workbench.contracts import diff

PARITY = Path(__file__).resolve().parents[1] / "parity" / "contracts"
FRESHNESS = {"property": "freshness", "value": 2, "unit": "d", "element": "macrodata.year"}


def base() -> dict[str, Any]:
    doc = yaml.safe_load((PARITY / "macrodata.odcs.yaml").read_text(encoding="utf-8"))
    doc["slaProperties"] = [dict(FRESHNESS)]
    doc["schema"][0]["properties"].append(
        {"name": "source", "logicalType": "string", "logicalTypeOptions": {"pattern": "^[a-z]+$"}})
    return doc


def prop(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in doc["schema"][0]["properties"] if p["name"] == name)


def edit(fn: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def apply(doc: dict[str, Any]) -> dict[str, Any]:
        doc = copy.deepcopy(doc)
        fn(doc)
        return doc
    return apply


# name -> (edit, expected {kind: breaking} of the changes it makes)
EDITS: dict[str, tuple[Callable, dict[str, bool]]] = {
    "remove column": (edit(lambda d: d["schema"][0]["properties"].remove(prop(d, "infl"))),
                      {"column_removed": True}),
    "add required column": (edit(lambda d: d["schema"][0]["properties"].append(
        {"name": "realcons", "logicalType": "number", "required": True})),
        {"column_added": True}),
    "add optional column": (edit(lambda d: d["schema"][0]["properties"].append(
        {"name": "realcons", "logicalType": "number"})), {"column_added": False}),
    "new required": (edit(lambda d: prop(d, "cpi").update(required=True)),
                     {"required_changed": True}),
    "drop required": (edit(lambda d: prop(d, "realgdp").update(required=False)),
                      {"required_changed": False}),
    "narrow range": (edit(lambda d: prop(d, "infl")["logicalTypeOptions"].update(maximum=8)),
                     {"range_narrowed": True}),
    "widen range": (edit(lambda d: prop(d, "infl")["logicalTypeOptions"].update(minimum=-10)),
                    {"range_widened": False}),
    "add minimum": (edit(lambda d: prop(d, "cpi")["logicalTypeOptions"].update(minimum=0)),
                    {"range_narrowed": True}),
    "drop maximum": (edit(lambda d: prop(d, "tbilrate")["logicalTypeOptions"].pop("maximum")),
                     {"range_widened": False}),
    "inclusive to exclusive": (edit(lambda d: prop(d, "cpi").update(
        logicalTypeOptions={"maximum": 200})), {"range_widened": False, "range_changed": False}),
    "type narrowed": (edit(lambda d: prop(d, "realgdp").update(logicalType="integer")),
                      {"type_changed": True}),
    "enum value removed": (edit(lambda d: prop(d, "quarter")["enum"].pop()),
                           {"valid_value_removed": True}),
    "enum value added": (edit(lambda d: prop(d, "quarter")["enum"].append({"value": 4})),
                         {"valid_value_added": False}),
    "valid values removed": (edit(lambda d: prop(d, "tbilrate")["quality"][0]["arguments"]
                                  .update(validValues=[0.0, 0.12])),
                             {"valid_value_removed": True}),
    "stricter threshold": (edit(lambda d: prop(d, "unemp")["quality"][0].update(
        mustBeLessThan=0.5)), {"quality_threshold_changed": True}),
    "laxer threshold": (edit(lambda d: prop(d, "unemp")["quality"][0].update(mustBeLessThan=5)),
                        {"quality_threshold_changed": False}),
    "error rule added": (edit(lambda d: prop(d, "cpi").update(quality=[
        {"metric": "nullValues", "mustBe": 0}])), {"quality_added": True}),
    "rule removed": (edit(lambda d: prop(d, "unemp").pop("quality")),
                     {"quality_removed": False}),
    "unique added": (edit(lambda d: prop(d, "realgdp").update(unique=True)),
                     {"unique_changed": True}),
    "pattern changed": (edit(lambda d: prop(d, "source")["logicalTypeOptions"].update(
        pattern="^[a-z_]+$")), {"pattern_changed": True}),
    "freshness stricter": (edit(lambda d: d["slaProperties"][0].update(value=1)),
                           {"sla_changed": True}),
    "freshness laxer": (edit(lambda d: d["slaProperties"][0].update(value=3)),
                        {"sla_changed": False}),
    "description only": (edit(lambda d: prop(d, "cpi").update(description="Consumer prices")),
                         {"metadata": False}),
    "column renamed": (edit(lambda d: prop(d, "cpi").update(name="consumer_prices",
                                                           physicalName="cpi")),
                       {"column_renamed": True}),
}


def write(tmp: Path, name: str, doc: dict[str, Any]) -> Path:
    path = tmp / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def pairs(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    tmp = tmp_path_factory.mktemp("diff")
    old = write(tmp, "old.yaml", base())
    return {name: (old, write(tmp, f"{i}.yaml", fn(base())))
            for i, (name, (fn, _)) in enumerate(EDITS.items())}


@pytest.mark.parametrize("name", list(EDITS))
def test_each_edit_is_classified(pairs, name):
    old, new = pairs[name]
    result = diff(old, new)
    got = {c.kind: c.breaking for c in result.changes}
    assert got == EDITS[name][1], [c.to_dict() for c in result.changes]
    assert all(c.path.startswith("schema[0]") or c.path.startswith("slaProperties[0]")
               for c in result.changes)
    assert result.breaking == any(EDITS[name][1].values())
    expected = ("2.0.0" if result.breaking else "1.0.1" if name == "description only"
                else "1.1.0")
    assert result.suggested_version == expected


def test_paths_point_into_the_yaml(pairs):
    old, new = pairs["narrow range"]
    (change,) = diff(old, new).changes
    doc = yaml.safe_load(new.read_text(encoding="utf-8"))
    # schema[0].properties[6].logicalTypeOptions.maximum
    assert change.path == "schema[0].properties[6].logicalTypeOptions.maximum"
    assert doc["schema"][0]["properties"][6]["logicalTypeOptions"]["maximum"] == 8
    removed = diff(*pairs["remove column"]).changes[0]
    assert removed.path == "schema[0].properties[6]"  # where it was in the old version


def test_no_change_keeps_the_version(pairs):
    old, _ = pairs["narrow range"]
    result = diff(old, old)
    assert result.changes == () and not result.breaking
    assert result.suggested_version == "1.0.0"


def test_renamed_schema_object(tmp_path):
    old = write(tmp_path, "old.yaml", base())
    doc = base()
    doc["schema"][0]["name"] = "macro"
    doc["schema"][0]["physicalName"] = "macrodata"
    doc["slaProperties"][0]["element"] = "macro.year"
    new = write(tmp_path, "new.yaml", doc)
    kinds = {c.kind: c.breaking for c in diff(old, new).changes}
    assert kinds["schema_renamed"] is True


# --- the command -------------------------------------------------------------------------------

def test_cli_json_shape_and_exit_codes(pairs):
    runner = CliRunner()
    old, new = pairs["remove column"]
    out = runner.invoke(cli, ["contract", "diff", str(old), str(new), "--format", "json"])
    assert out.exit_code == 1, out.output
    data = json.loads(out.output)
    assert data["breaking"] is True and data["suggested_version"] == "2.0.0"
    (change,) = data["changes"]
    assert {"path", "kind", "breaking", "reason"} <= set(change)
    assert change["path"] == "schema[0].properties[6]" and change["breaking"] is True
    old, new = pairs["widen range"]
    out = runner.invoke(cli, ["contract", "diff", str(old), str(new)])
    assert out.exit_code == 0, out.output
    assert "range_widened" in out.output and "1.1.0" in out.output


def test_cli_invalid_contract_is_one_line_and_exit_2(pairs, tmp_path):
    old, _ = pairs["remove column"]
    bad = tmp_path / "bad.yaml"
    doc = base()
    doc["schema"][0]["properties"][0]["logicalType"] = "int"
    bad.write_text(yaml.safe_dump(doc), encoding="utf-8")
    out = CliRunner().invoke(cli, ["contract", "diff", str(old), str(bad)])
    assert out.exit_code == 2
    assert "Traceback" not in out.output
    lines = [ln for ln in out.stderr.splitlines() if ln]
    assert lines and all(ln.startswith("workbench: error: ") for ln in lines)
    assert "bad.yaml" in lines[0] and "logicalType" in lines[0]


# --- agreement with datacontract-cli --------------------------------------------------------------

def _theirs(old: Path, new: Path) -> dict[str, str]:
    from datacontract.data_contract import DataContract
    from datacontract.model.breaking import Perspective

    result = DataContract(data_contract_file=str(old)).breaking(
        DataContract(data_contract_file=str(new)), perspective=Perspective.CONSUMER)
    return {e.path: e.direction.value for e in result.entries
            if e.direction is not None and e.direction.value != "untested"}


@pytest.mark.parametrize("name", [n for n in EDITS if n != "column renamed"])
def test_directions_agree_with_datacontract_cli(pairs, name):
    pytest.importorskip("datacontract")
    old, new = pairs[name]
    theirs = _theirs(old, new)
    ours = {c.key: c.direction for c in diff(old, new).changes if c.direction != "untested"}
    assert ours == theirs


def test_rename_is_a_removal_and_an_addition_there(pairs):
    """datacontract-cli sees a renamed column as one removed and one added (loosens and
    tightens); workbench names it a rename, breaking both ways."""
    pytest.importorskip("datacontract")
    old, new = pairs["column renamed"]
    theirs = _theirs(old, new)
    assert theirs["schema.macrodata.properties.cpi"] == "loosens"
    assert theirs["schema.macrodata.properties.consumer_prices"] == "tightens"
    (change,) = diff(old, new).changes
    assert change.kind == "column_renamed" and change.direction == "both"


# --- since the last pack -------------------------------------------------------------------------

def test_since_last_pack_prefers_the_previous_packs_copy(tmp_path, pairs):
    from workbench.contracts import load_contract, since_last_pack

    old, new = pairs["narrow range"]
    first, second = tmp_path / "v1", tmp_path / "v2"
    # no previous pack: the stated previous version is the baseline; a copy is kept
    result = since_last_pack(load_contract(new), None, old, first)
    assert result is not None and result.breaking
    assert (first / "contract_checks.contract.yaml").read_text() == new.read_text()
    # the next pack compares with that copy, whatever the fallback says
    result = since_last_pack(load_contract(new), first, old, second)
    assert result is not None and result.changes == ()
    assert "did not change" in result._repr_html_()
    assert since_last_pack(load_contract(new), None, None, None) is None


def test_diff_html_escapes_what_came_from_the_contract(tmp_path):
    old = write(tmp_path, "old.yaml", base())
    doc = base()
    doc["schema"][0]["properties"].append({"name": "<script>x</script>", "logicalType": "string",
                                           "required": True})
    html = diff(old, write(tmp_path, "new.yaml", doc))._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html

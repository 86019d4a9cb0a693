"""Pack spec validation: every error names the spec file and the field path."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from workbench.cli import cli
from workbench.errors import SpecError
from workbench.packs.spec import EnvParam, PathParam, check_declared_parameters, load_spec

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "packs"


def _spec(tmp_path: Path, **overrides) -> Path:
    """A valid spec next to copies of the fixture notebooks, with top-level overrides."""
    for name in ("ok.ipynb", "boom.ipynb"):
        (tmp_path / name).write_bytes((FIXTURES / name).read_bytes())
    doc = {
        "name": "t",
        "title": "T",
        "notebooks": [
            {"name": "a", "path": "ok.ipynb"},
            {"name": "b", "path": "boom.ipynb", "needs": ["a"]},
        ],
        "gates": [
            {"id": "g", "title": "G", "notebook": "a", "metric": "rows", "op": ">=", "value": 3}
        ],
    }
    doc.update(overrides)
    path = tmp_path / "pack.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _error(path: Path) -> str:
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert str(path) in str(info.value)
    return str(info.value)


def test_valid_spec_resolves_paths_relative_to_the_spec(tmp_path):
    spec = load_spec(_spec(tmp_path))
    assert spec.name == "t"
    assert spec.notebook_path(spec.notebooks[0]) == (tmp_path / "ok.ipynb").resolve()
    assert spec.notebooks[1].needs == ["a"]
    assert spec.notebooks[0].timeout == 600


def test_missing_required_field_is_named(tmp_path):
    path = _spec(tmp_path)
    doc = yaml.safe_load(path.read_text())
    del doc["title"]
    path.write_text(yaml.safe_dump(doc))
    assert ": title: expected a value" in _error(path)


def test_bad_gate_operator_names_the_gate(tmp_path):
    path = _spec(
        tmp_path,
        gates=[{"id": "g", "title": "G", "notebook": "a", "metric": "m", "op": "=>", "value": 1}],
    )
    assert "gates[0].op: expected" in _error(path)


def test_misspelt_notebook_field_is_named(tmp_path):
    path = _spec(tmp_path, notebooks=[{"name": "a", "path": "ok.ipynb", "timout": 5}])
    assert "notebooks[0].timout: expected no such field" in _error(path)


def test_unknown_need_lists_the_choices(tmp_path):
    path = _spec(
        tmp_path,
        notebooks=[
            {"name": "a", "path": "ok.ipynb"},
            {"name": "b", "path": "boom.ipynb", "needs": ["z"]},
        ],
    )
    msg = _error(path)
    assert "notebooks[1].needs[0]: expected the name of another notebook (one of a)" in msg
    assert "'z'" in msg


def test_cycle_is_reported(tmp_path):
    path = _spec(
        tmp_path,
        notebooks=[
            {"name": "a", "path": "ok.ipynb", "needs": ["b"]},
            {"name": "b", "path": "boom.ipynb", "needs": ["a"]},
        ],
    )
    assert "expected no cycle between notebooks" in _error(path)


def test_missing_notebook_file(tmp_path):
    path = _spec(tmp_path, notebooks=[{"name": "a", "path": "nope.ipynb"}], gates=[])
    assert "notebooks[0].path: expected an existing .ipynb file" in _error(path)


def test_gate_on_unknown_notebook(tmp_path):
    path = _spec(
        tmp_path,
        gates=[{"id": "g", "title": "G", "notebook": "zz", "metric": "m", "op": "<", "value": 1}],
    )
    assert "gates[0].notebook: expected one of the pack's notebooks (a, b)" in _error(path)


def test_bad_secret_parameter_field_path(tmp_path):
    path = _spec(
        tmp_path,
        notebooks=[
            {
                "name": "a",
                "path": "ok.ipynb",
                "parameters": {"token": {"env": "X", "secret": "maybe"}},
            }
        ],
        gates=[],
    )
    assert "notebooks[0].parameters.token.secret: expected" in _error(path)


def test_parameter_kinds(tmp_path):
    (tmp_path / "data.csv").write_text("a\n1\n")
    path = _spec(
        tmp_path,
        notebooks=[
            {
                "name": "a",
                "path": "ok.ipynb",
                "parameters": {
                    "token": {"env": "WB_SECRET", "secret": True},
                    "data": {"path": "data.csv"},
                    "rows": 7,
                },
            }
        ],
        gates=[],
    )
    spec = load_spec(path)
    params = spec.notebooks[0].parameters
    assert isinstance(params["token"], EnvParam) and params["token"].secret
    assert isinstance(params["data"], PathParam)
    assert params["rows"] == 7
    assert spec.redacted_parameters(spec.notebooks[0])["token"]["value"] == "<redacted>"


def test_inputs_glob_matching_nothing(tmp_path):
    path = _spec(tmp_path, inputs=["data/*.parquet"])
    assert "inputs[0]: expected a file or glob matching at least one file" in _error(path)


def test_undeclared_parameter_names_the_notebook_parameters(tmp_path):
    path = _spec(
        tmp_path, notebooks=[{"name": "a", "path": "ok.ipynb", "parameters": {"rowz": 2}}], gates=[]
    )
    spec = load_spec(path)
    with pytest.raises(
        SpecError,
        match=r"notebooks\[0\]\.parameters\.rowz: expected a parameter "
        r"ok\.ipynb declares \(one of name, results_dir",
    ):
        check_declared_parameters(spec, {"a": {"results_dir", "name", "rows", "token"}})


def test_builder_parameters_cannot_be_set_in_the_spec(tmp_path):
    path = _spec(
        tmp_path,
        notebooks=[{"name": "a", "path": "ok.ipynb", "parameters": {"results_dir": "/tmp/x"}}],
        gates=[],
    )
    with pytest.raises(
        SpecError, match=r"notebooks\[0\]\.parameters\.results_dir: expected no value"
    ):
        check_declared_parameters(load_spec(path), {"a": {"results_dir"}})


def test_cli_bad_spec_exits_2_with_one_line(tmp_path):
    path = _spec(
        tmp_path,
        gates=[{"id": "g", "title": "G", "notebook": "a", "metric": "m", "op": "=>", "value": 1}],
    )
    result = CliRunner().invoke(cli, ["pack", "build", str(path), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "gates[0].op" in lines[0] and str(path) in lines[0]
    assert not (tmp_path / "r" / "t").exists() or not any((tmp_path / "r" / "t").iterdir())


def test_invalid_yaml_names_line(tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text("name: x\ntitle: [unclosed\n")
    msg = _error(path)
    assert "line" in msg


def test_every_problem_of_a_spec_is_listed_and_printed(tmp_path):
    path = _spec(
        tmp_path,
        colour="blue",  # unknown field (pydantic)
        title="",  # too short (pydantic)
        notebooks=[
            {"name": "a", "path": "ok.ipynb", "needs": ["nope"]},
            {"name": "a", "path": "missing.ipynb"},
        ],
        gates=[{"id": "g", "title": "G", "notebook": "zz", "metric": "rows", "op": ">=",
                "value": 3}],
    )
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert info.value.problems == [
        f"{path}: title: expected non-empty text, got ''",
        f"{path}: colour: expected no such field (unknown field), got 'blue'",
    ]
    # once the model validates, every problem of its references is listed
    doc = yaml.safe_load(path.read_text())
    del doc["colour"]
    doc["title"] = "T"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    with pytest.raises(SpecError) as info:
        load_spec(path)
    fields = [line.split(": ")[1] for line in info.value.problems]
    assert fields == ["notebooks[0].needs[0]", "notebooks[1].name", "notebooks[1].path",
                      "gates[0].notebook"]
    assert str(info.value).startswith(f"{path}: 4 problems in pack spec: notebooks[0].needs[0]")
    result = CliRunner().invoke(cli, ["pack", "build", str(path), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [f"workbench: error: {p}" for p in info.value.problems]


def test_every_undeclared_parameter_is_listed(tmp_path):
    path = _spec(tmp_path, notebooks=[
        {"name": "a", "path": "ok.ipynb", "parameters": {"colour": 1, "results_dir": "x"}}])
    with pytest.raises(SpecError) as info:
        check_declared_parameters(load_spec(path), {"a": {"results_dir", "rows"}})
    assert [p.split(": ")[1] for p in info.value.problems] == [
        "notebooks[0].parameters.colour", "notebooks[0].parameters.results_dir"]

"""Fleet files and models tables: a bad one is one line per problem naming the file and
the field, exit 2, before anything runs; a good one gives each model an ordinary pack
spec."""

from __future__ import annotations

from pathlib import Path

import pytest
from _fleet_support import make_fleet
from click.testing import CliRunner

from workbench.cli import cli
from workbench.errors import InputError
from workbench.fleet.spec import load_fleet, model_spec
from workbench.packs.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]


def _build(fleet: Path, out: Path):
    return CliRunner().invoke(cli, ["fleet", "build", str(fleet), "--out", str(out)])


def test_a_good_fleet_gives_each_model_an_ordinary_pack_spec(tmp_path):
    fleet = load_fleet(make_fleet(tmp_path, 3))
    assert [m.model for m in fleet.models] == ["m00", "m01", "m02"]
    assert fleet.models[1].gates == {"low-mean": 12}
    path = model_spec(fleet, fleet.models[1], tmp_path / "out" / "specs")
    spec = load_spec(path)  # an ordinary pack spec, paths relative to where it was written
    assert spec.name == "m01"
    data = spec.notebooks[0].parameters["data_path"]
    assert (spec.base_dir / data.path).resolve() == (tmp_path / "data/m01/values.csv")
    assert [f.abspath for f in spec.input_files()] == [tmp_path / "data/m01/values.csv"]
    assert next(g for g in spec.gates if g.id == "low-mean").value == 12


def test_the_example_fleet_file_loads(tmp_path):
    fleet = load_fleet(ROOT / "notebooks" / "packs" / "fleet.yml") if (
        ROOT / "data" / "fleet" / "models.csv").exists() else None
    if fleet is None:  # the table is generated, not committed: point at a generated one
        from workbench.sample.fleet import generate_fleet

        generate_fleet(tmp_path / "data" / "fleet", 2)
        text = (ROOT / "notebooks" / "packs" / "fleet.yml").read_text()
        d = tmp_path / "notebooks" / "packs"
        d.mkdir(parents=True)
        for nb in (ROOT / "notebooks").glob("*.ipynb"):
            (tmp_path / "notebooks" / nb.name).symlink_to(nb)
        (d / "fleet.yml").write_text(text)
        fleet = load_fleet(d / "fleet.yml")
    spec = load_spec(model_spec(fleet, fleet.models[0], tmp_path / "specs"))
    assert [nb.name for nb in spec.notebooks] == [
        "contract_checks", "drift", "cost_to_value", "incident_postmortem", "review_summary"]
    assert all(f.abspath.is_file() for f in spec.input_files())


@pytest.mark.parametrize(("edit", "field", "expected"), [
    (lambda t: t.replace("name: tinyfleet", "name: 'bad name'"), "name",
     "a name matching"),
    (lambda t: t.replace("data/models.csv", "data/nope.csv"), "models.path",
     "a CSV or YAML file"),
    (lambda t: t.replace("title: Tiny fleet\n", ""), "title", "a non-empty string"),
    (lambda t: t.replace("data/{data_dir}/values", "data/{dir}/values"), "template",
     "placeholders the models table defines"),
    (lambda t: t + "extra: 1\n", "extra", "one of"),
])
def test_a_bad_fleet_file_is_one_line_and_exit_2(tmp_path, edit, field, expected):
    fleet = make_fleet(tmp_path, 2)
    fleet.write_text(edit(fleet.read_text()))
    result = _build(fleet, tmp_path / "out")
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("workbench: error:")]
    assert len(lines) == 1, result.stderr
    assert f"{fleet}: {field}: expected {expected}" in lines[0]
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()  # nothing ran


@pytest.mark.parametrize(("row", "field", "expected"), [
    ("m00,team,m01,10", "models[1].model", "a unique model id"),
    ("m 1,team,m01,10", "models[1].model", "an id matching"),
    ("m09,,m01,10", "models[1].owner", "a non-empty owner"),
    ("m09,team,m01,high", "models[1].gates.low-mean", "a number or bool"),
])
def test_a_bad_models_table_names_the_row_and_column(tmp_path, row, field, expected):
    fleet = make_fleet(tmp_path, 2)
    table = tmp_path / "data" / "models.csv"
    lines = table.read_text().splitlines()
    lines[2] = row
    table.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as err:
        load_fleet(fleet)
    assert err.value.exit_code == 2
    assert any(p.startswith(f"{table}: {field}: expected {expected}")
               for p in err.value.problems), err.value.problems


def test_an_unknown_override_column_is_refused(tmp_path):
    fleet = make_fleet(tmp_path, 2)
    table = tmp_path / "data" / "models.csv"
    text = table.read_text().splitlines()
    text[0] += ",nosuch.param"
    text[1:] = [r + ",1" for r in text[1:]]
    table.write_text("\n".join(text) + "\n")
    with pytest.raises(InputError) as err:
        load_fleet(fleet)
    assert f"{table}: models[0].nosuch.param: expected <notebook>.<parameter>" in (
        err.value.problems[0])


def test_a_missing_fleet_file_is_exit_2(tmp_path):
    result = _build(tmp_path / "nope.yml", tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"workbench: error: {tmp_path / 'nope.yml'}: expected "
                                     "an existing YAML file")


def test_an_unreachable_scheduler_is_exit_4_and_leaves_nothing(tmp_path, monkeypatch):
    import workbench.fleet.build as fleet_build

    monkeypatch.setattr(fleet_build, "CONNECT_TIMEOUT", "2s")
    fleet = make_fleet(tmp_path, 1)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["fleet", "build", str(fleet), "--out", str(out),
                                      "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 4, result.output
    assert result.stderr.startswith("workbench: error: --scheduler tcp://127.0.0.1:9: "
                                    "expected a running Dask scheduler")
    assert not (out / "m00").exists()

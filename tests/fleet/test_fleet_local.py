"""``workbench fleet build`` with no address: a LocalCluster on this machine. A model whose
input is refused before running gets no version and exit 2; the other models still run;
a rebuild records what changed since each model's previous version."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _fleet_support import make_fleet
from click.testing import CliRunner

from workbench.cli import cli

pytestmark = pytest.mark.slow


def test_refused_model_is_not_run_and_the_others_publish(tmp_path):
    fleet = make_fleet(tmp_path / "f", 2)
    table = tmp_path / "f" / "data" / "models.csv"
    table.write_text(table.read_text() + "gone,team-x,nowhere,10\n")  # its inputs match nothing
    out = tmp_path / "reports"
    runner = CliRunner()
    first = runner.invoke(cli, ["fleet", "build", str(fleet), "--out", str(out),
                                "--workers", "1"])
    assert first.exit_code == 2, first.output
    assert first.stdout.strip().splitlines()[-1] == str(out / "tinyfleet" / "index.html")
    assert "workbench: error: gone: " in first.stderr
    assert not (out / "gone").exists()
    assert (out / "m00" / "latest").is_file() and (out / "m01" / "latest").is_file()
    doc = json.loads((out / "tinyfleet" / "fleet.results.json").read_text())
    gone = next(m for m in doc["models"] if m["model"] == "gone")
    assert gone["status"] == "error" and gone["version"] is None
    assert "data_path" in gone["problems"][0]  # the refusal names the field
    # a rebuild with a lower threshold for m01: its verdict changes, and the index says so
    table.write_text(table.read_text().replace("m01,team-1,m01,12", "m01,team-1,m01,1"))
    again = runner.invoke(cli, ["fleet", "build", str(fleet), "--out", str(out),
                                "--workers", "1"])
    assert again.exit_code == 2, again.output
    doc = json.loads((out / "tinyfleet" / "fleet.results.json").read_text())
    m01 = next(m for m in doc["models"] if m["model"] == "m01")
    assert m01["previous_verdict"] == "go" and m01["verdict"] == "no-go"
    assert "verdict go → no-go" in m01["changes"]
    assert len([d for d in (out / "m01").iterdir() if d.name[:1].isdigit()]) == 2
    page = Path(again.stdout.strip().splitlines()[-1]).read_text()
    assert "verdict go → no-go" in page

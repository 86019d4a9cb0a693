"""`workbench contract check`: JSON shape, exit codes 0/1/2, one line per problem."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import yaml
from click.testing import CliRunner

from workbench.cli import cli


def write_contract(tmp_path: Path, severity: str = "error") -> Path:
    pl.DataFrame({"id": ["a", "b", "b"], "v": [1, 2, 30]}).write_parquet(tmp_path / "d.parquet")
    doc = {"apiVersion": "v3.1.0", "kind": "DataContract", "id": "urn:t", "version": "1",
           "status": "active",
           "servers": [{"server": "s", "type": "local", "format": "parquet", "path": "d.parquet"}],
           "schema": [{"name": "t", "properties": [
               {"name": "id", "logicalType": "string", "required": True},
               {"name": "v", "logicalType": "integer", "quality": [
                   {"metric": "invalidValues", "arguments": {"validValues": [1, 2]},
                    "mustBe": 0, "severity": severity}]}]}]}
    path = tmp_path / "c.odcs.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def test_json_output_and_exit_1_on_error_failure(tmp_path):
    out = CliRunner().invoke(cli, ["contract", "check", str(write_contract(tmp_path)),
                                   "--format", "json"])
    assert out.exit_code == 1, out.output
    doc = json.loads(out.stdout)
    assert set(doc) == {"contract", "dataset", "rows", "passed", "checks"}
    assert (doc["contract"], doc["rows"], doc["passed"]) == ("urn:t", 3, False)
    failed = [c for c in doc["checks"] if not c["passed"]]
    assert failed == [{"id": "t.v.invalidValues", "schema": "t", "column": "v",
                       "rule": "invalidValues", "severity": "error", "passed": False,
                       "failed_rows": 1, "observed": 1,
                       "expected": {"mustBe": 0, "validValues": [1, 2]}}]


def test_warning_failures_exit_0_and_table_names_them(tmp_path):
    out = CliRunner().invoke(cli, ["contract", "check", str(write_contract(tmp_path, "warning"))])
    assert out.exit_code == 0, out.output
    assert "t.v.invalidValues" in out.stdout and "FAIL" in out.stdout
    assert "PASSED" in out.stdout.splitlines()[-1]


def test_data_argument_overrides_the_server(tmp_path):
    path = write_contract(tmp_path)
    pl.DataFrame({"id": ["a"], "v": [1]}).write_csv(tmp_path / "ok.csv")
    out = CliRunner().invoke(cli, ["contract", "check", str(path), str(tmp_path / "ok.csv"),
                                   "--format", "json", "--schema", "t"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["dataset"].endswith("ok.csv")


def test_invalid_contract_exits_2_with_one_line_per_problem(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("apiVersion: v3.1.0\nkind: DataContract\nid: x\nversion: '1'\nstatus: active\n"
                    "schema:\n  - name: t\n    properties:\n      - name: a\n"
                    "        logicalType: number\n        logicalTypeOptions: {minimum: low}\n"
                    "        quality:\n          - metric: sometimes\n            mustBe: 0\n",
                    encoding="utf-8")
    out = CliRunner().invoke(cli, ["contract", "check", str(path)])
    assert out.exit_code == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 2
    where = "schema[0].properties[0].logicalTypeOptions.minimum"
    assert f"{path}: {where}: expected a number" in lines[0]
    assert "schema[0].properties[0].quality[0].metric: expected one of" in lines[1]
    assert "Traceback" not in out.output


def test_unreadable_data_exits_2_with_one_line(tmp_path):
    path = write_contract(tmp_path)
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    out = CliRunner().invoke(cli, ["contract", "check", str(path),
                                   str(tmp_path / "broken.parquet")])
    assert out.exit_code == 2
    assert len(out.stderr.strip().splitlines()) == 1
    assert "broken.parquet" in out.stderr


def test_console_script_exit_code(tmp_path):
    path = write_contract(tmp_path)
    exe = Path(sys.executable).parent / "workbench"
    proc = subprocess.run([str(exe), "contract", "check", str(path),
                           "--format", "json"], capture_output=True, text=True, check=False)
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["passed"] is False


def test_sensitive_classifications_option_masks_values_in_the_table(tmp_path):
    from datetime import UTC, datetime

    pl.DataFrame({"seen": [datetime(2026, 3, 1, 12, tzinfo=UTC)]}).write_parquet(
        tmp_path / "s.parquet")
    doc = {"apiVersion": "v3.1.0", "kind": "DataContract", "id": "urn:s", "version": "1",
           "status": "active",
           "servers": [{"server": "s", "type": "local", "format": "parquet", "path": "s.parquet"}],
           "slaProperties": [{"property": "freshness", "value": 1, "unit": "d",
                              "element": "t.seen"}],
           "schema": [{"name": "t", "properties": [
               {"name": "seen", "logicalType": "timestamp", "classification": "internal"}]}]}
    path = tmp_path / "s.odcs.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    args = ["contract", "check", str(path), "--as-of", "2026-03-01T13:00:00Z"]
    plain = CliRunner().invoke(cli, args)
    masked = CliRunner().invoke(cli, [*args, "--sensitive", "internal,secret"])
    assert plain.exit_code == masked.exit_code == 0, plain.output + masked.output
    assert "2026-03-01T12:00:00" in plain.stdout and "••••" not in plain.stdout
    assert "2026-03-01T12:00:00" not in masked.stdout and "••••" in masked.stdout

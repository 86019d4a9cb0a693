"""The demo's scoring log in a live PostgreSQL server and a DuckDB file: `contract check
--server` and the contract notebook's `server` parameter give the file path's verdicts."""

from __future__ import annotations

import json
from pathlib import Path

import _postgres
import duckdb
import papermill as pm
import polars as pl
import pytest
import yaml
from click.testing import CliRunner

from workbench.cli import cli
from workbench.contracts import check, check_server

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "contract_checks.ipynb"
CONTRACT = REPO / "data" / "sample" / "contracts" / "loan_scoring.odcs.yaml"
CURRENT = REPO / "data" / "sample" / "scoring" / "current.parquet"
AS_OF = "2026-11-02T00:00:00Z"


@pytest.fixture(scope="module")
def contract(tmp_path_factory, postgres) -> Path:
    tmp = tmp_path_factory.mktemp("demo_pg")
    frame = pl.read_parquet(CURRENT)
    with postgres.connect() as con:
        _postgres.load(con, "loan_scoring", frame)
        # the contract's SQL rule looks up each row's model version (a correlated subquery):
        # PostgreSQL needs the index a warehouse table would have, or it scans 40k x 40k
        con.execute("CREATE INDEX ON loan_scoring (model_version, decision, score)")
        con.execute("ANALYZE loan_scoring")
    duck = tmp / "scoring.duckdb"
    with duckdb.connect(str(duck)) as dcon:
        dcon.execute("CREATE TABLE loan_scoring AS SELECT * FROM frame")
    doc = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))
    doc["servers"] = [
        {"server": "current", "type": "local", "format": "parquet", "path": str(CURRENT)},
        {"server": "warehouse", "type": "postgres", "host": postgres.host,
         "port": postgres.port, "database": postgres.database, "schema": "public"},
        {"server": "lake", "type": "duckdb", "database": str(duck)},
    ]
    path = tmp / "loan_scoring.odcs.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def credentials(monkeypatch, postgres):
    monkeypatch.setenv("DATACONTRACT_POSTGRES_USERNAME", postgres.user)
    monkeypatch.setenv("DATACONTRACT_POSTGRES_PASSWORD", postgres.password)


@pytest.mark.parametrize("server", ["warehouse", "lake"])
def test_demo_checks_on_the_server_match_the_parquet_file(contract, credentials, server):
    want = {c.id: c for c in check(contract, CURRENT, as_of=AS_OF).checks}
    stats: dict = {}
    got = {c.id: c for c in check_server(contract, server, as_of=AS_OF, stats=stats).checks}
    assert set(got) == set(want)
    for cid, w in want.items():
        g = got[cid]
        if ".sla." in cid:  # service levels: measured on files, not run on a server (yet)
            assert (g.passed, g.severity) == (False, "info"), cid
            assert "not yet computed on a database server" in str(g.observed), cid
            continue
        assert (g.passed, g.failed_rows, g.severity) == (w.passed, w.failed_rows, w.severity), cid
        if w.rule not in {"logicalType", "physicalType"}:
            assert g.observed == w.observed, cid
        if not w.passed and w.first_failed_at:
            assert (g.first_failed_at, g.last_failed_at) == (w.first_failed_at,
                                                             w.last_failed_at), cid
    assert sum(not c.passed for c in want.values()) >= 3
    # counts and a few sample rows came back, not the 40,000 rows
    assert stats["bytes_returned"] < 50_000


def test_cli_server_option_json(contract, credentials):
    result = CliRunner().invoke(cli, ["contract", "check", str(contract), "--server",
                                      "warehouse", "--format", "json", "--as-of", AS_OF])
    assert result.exit_code == 1, result.output  # the demo's window breaks the contract
    out = json.loads(result.stdout)
    assert out["rows"] == 40_000 and out["dataset"].startswith("postgres at 127.0.0.1:")
    assert not out["passed"] and len(out["checks"]) > 50


@pytest.mark.slow
def test_notebook_runs_against_the_postgres_server(contract, credentials, postgres, tmp_path):
    out = tmp_path / "out"
    executed = tmp_path / "executed.ipynb"
    pm.execute_notebook(str(NOTEBOOK), str(executed), cwd=str(NOTEBOOK.parent),
                        kernel_name="python3", progress_bar=False, parameters={
                            "contract_path": str(contract), "server": "warehouse",
                            "as_of": AS_OF, "results_dir": str(out)})
    results = json.loads((out / "contract_checks.results.json").read_text(encoding="utf-8"))
    on_file = check(contract, CURRENT, as_of=AS_OF)
    files = on_file.findings("contract_checks").to_dict()
    # service levels run on the file and are listed as not run on the server; every other
    # figure is the same
    sla = [c for c in on_file.checks if ".sla." in c.id]
    assert sla and results["metrics"]["checks_total"] == files["metrics"]["checks_total"]
    assert results["metrics"]["rows"] == files["metrics"]["rows"]
    assert results["metrics"]["error_checks_failed"] == files["metrics"][
        "error_checks_failed"] - sum(c.severity == "error" and not c.passed for c in sla)
    assert results["status"] == "fail"
    text = executed.read_text(encoding="utf-8") + json.dumps(results)
    assert postgres.password not in text
    emails = set(pl.read_parquet(CURRENT, columns=["applicant_email"])["applicant_email"])
    assert not any(e in text for e in emails if e)


@pytest.mark.slow
def test_notebook_stops_on_a_table_without_declared_columns(contract, credentials, postgres,
                                                           tmp_path):
    # the contract points at a table lacking two declared columns: the notebook stops with
    # an InputError naming the server, the table and both columns (the pack build reports
    # it), rather than a page of failed presence checks
    doc = yaml.safe_load(contract.read_text(encoding="utf-8"))
    doc["schema"][0]["properties"] += [{"name": "branch_code", "logicalType": "string"},
                                       {"name": "officer_id", "logicalType": "integer"}]
    broken = tmp_path / "broken.odcs.yaml"
    broken.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    with pytest.raises(pm.PapermillExecutionError) as info:
        pm.execute_notebook(str(NOTEBOOK), str(tmp_path / "executed.ipynb"),
                            cwd=str(NOTEBOOK.parent), kernel_name="python3",
                            progress_bar=False, parameters={
                                "contract_path": str(broken), "server": "warehouse",
                                "as_of": AS_OF, "results_dir": str(tmp_path / "out")})
    err = info.value
    assert err.ename == "InputError", (err.ename, err.evalue)
    assert "server warehouse (postgres at" in err.evalue
    assert "table public.loan_scoring" in err.evalue
    assert "branch_code, officer_id" in err.evalue and postgres.password not in err.evalue
    assert not (tmp_path / "out" / "contract_checks.results.json").exists()

"""`contract check --server` when the server cannot be used: one line naming the server,
exit 2 for the input's fault (password, table, a declared column the table lacks, server
type), exit 4 for a server that does not answer; the password never printed."""

from __future__ import annotations

import json
import socket
import threading

import _postgres
import duckdb
import polars as pl
import pytest
import yaml
from click.testing import CliRunner

from workbench.cli import cli

WRONG = "not-the-password-4711"


def _contract(tmp_path, server: dict, table: str = "accounts", column: str = "id"):
    doc = {"apiVersion": "v3.1.0", "kind": "DataContract", "id": "urn:test:accounts",
           "version": "1.0.0", "status": "active",
           "servers": [{"server": "db", **server}],
           "schema": [{"name": "accounts", "physicalName": table, "properties": [
               {"name": column, "logicalType": "integer", "required": True},
               {"name": "email", "logicalType": "string", "classification": "pii",
                "logicalTypeOptions": {"format": "email"}}]}]}
    path = tmp_path / "c.odcs.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def pg_server(postgres):
    with postgres.connect() as con:
        _postgres.load(con, "accounts", pl.DataFrame({"id": [1, 2, None],
                                                      "email": ["a@x.org", "bad", None]}))
    return {"type": "postgres", "host": postgres.host, "port": postgres.port,
            "database": postgres.database, "schema": "public"}


def _run(path, env):
    result = CliRunner().invoke(cli, ["contract", "check", str(path), "--server", "db"], env=env)
    return result.exit_code, result.stderr.strip()


def test_wrong_password_is_one_line_exit_2_without_the_password(tmp_path, pg_server, postgres):
    code, err = _run(_contract(tmp_path, pg_server), {
        "DATACONTRACT_POSTGRES_USERNAME": postgres.user,
        "DATACONTRACT_POSTGRES_PASSWORD": WRONG})
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "server db (postgres at 127.0.0.1" in err and "password authentication" in err
    assert WRONG not in err and postgres.password not in err


def test_missing_table_is_exit_2(tmp_path, pg_server, postgres):
    code, err = _run(_contract(tmp_path, pg_server, table="no_such_table"), {
        "DATACONTRACT_POSTGRES_USERNAME": postgres.user,
        "DATACONTRACT_POSTGRES_PASSWORD": postgres.password})
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "server db" in err and "no_such_table" in err and postgres.password not in err


def _missing_columns_contract(tmp_path, server: dict):
    """``accounts`` declares two columns the table lacks (account_no, opened_at)."""
    path = _contract(tmp_path, server, column="account_no")
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["schema"][0]["properties"].append({"name": "opened_at", "logicalType": "date"})
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def _duckdb_server(tmp_path) -> dict:
    db = tmp_path / "accounts.duckdb"
    frame = pl.DataFrame({"id": [1, 2, None], "email": ["a@x.org", "bad", None]})
    with duckdb.connect(str(db)) as con:
        con.register("src", frame)
        con.execute("CREATE TABLE accounts AS SELECT * FROM src")
    return {"type": "duckdb", "database": str(db)}


def test_missing_columns_on_postgres_are_one_line_exit_2(tmp_path, pg_server, postgres):
    code, err = _run(_missing_columns_contract(tmp_path, pg_server), {
        "DATACONTRACT_POSTGRES_USERNAME": postgres.user,
        "DATACONTRACT_POSTGRES_PASSWORD": postgres.password})
    assert code == 2 and len(err.splitlines()) == 1, err
    # the server, the table and every missing column, never the password
    assert "server db (postgres at 127.0.0.1" in err and "table public.accounts" in err
    assert "account_no, opened_at" in err and postgres.password not in err
    assert "Traceback" not in err


def test_missing_columns_on_duckdb_are_one_line_exit_2(tmp_path):
    code, err = _run(_missing_columns_contract(tmp_path, _duckdb_server(tmp_path)), {})
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "server db (duckdb at" in err and "table accounts" in err
    assert "account_no, opened_at" in err


def test_missing_columns_in_a_file_still_fail_their_presence_checks(tmp_path):
    # a file is the data breaking its contract: a failed check (exit 1), not an input error
    data = tmp_path / "accounts.parquet"
    pl.DataFrame({"id": [1, 2, None], "email": ["a@x.org", "bad", None]}).write_parquet(data)
    path = _missing_columns_contract(tmp_path, {"type": "local", "format": "parquet",
                                                "path": str(data)})
    result = CliRunner().invoke(cli, ["contract", "check", str(path), "--server", "db",
                                      "--format", "json"])
    assert result.exit_code == 1, result.output
    checks = {c["id"]: c for c in json.loads(result.stdout)["checks"]}
    for column in ("account_no", "opened_at"):
        assert checks[f"accounts.{column}.present"]["passed"] is False
    # the rows of the failing email check are masked (pii)
    assert "bad" not in result.stdout


def test_foreign_key_to_a_table_without_the_column_is_exit_2(tmp_path):
    server = _duckdb_server(tmp_path)
    with duckdb.connect(server["database"]) as con:
        con.execute("CREATE TABLE payments AS SELECT 1 AS account, 10.0 AS amount")
    path = _contract(tmp_path, server)
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["schema"][0]["properties"].append({"name": "ref", "logicalType": "integer"})
    doc["schema"].append({"name": "payments", "properties": [
        {"name": "account", "logicalType": "integer",
         "relationships": [{"type": "foreignKey", "to": "accounts.ref"}]},
        {"name": "amount", "logicalType": "number"}]})
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    result = CliRunner().invoke(cli, ["contract", "check", str(path), "--server", "db",
                                      "--schema", "payments"])
    err = result.stderr.strip()
    assert result.exit_code == 2 and len(err.splitlines()) == 1, result.output
    assert "server db" in err and "table accounts" in err and "ref" in err


def test_unsupported_server_type_is_exit_2(tmp_path):
    code, err = _run(_contract(tmp_path, {"type": "snowflake", "account": "x",
                                          "database": "d", "schema": "s",
                                          "warehouse": "w"}), {})
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "server db" in err and "snowflake" in err


def test_server_that_does_not_answer_is_exit_4_after_the_timeout(tmp_path):
    # a port that accepts connections and never speaks: connect_timeout ends the wait
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        code, err = _run(_contract(tmp_path, {
            "type": "postgres", "host": "127.0.0.1", "port": listener.getsockname()[1],
            "database": "d", "schema": "public"}), {
            "DATACONTRACT_POSTGRES_USERNAME": "u", "DATACONTRACT_POSTGRES_PASSWORD": WRONG,
            "WORKBENCH_SERVER_TIMEOUT": "2"})
    finally:
        stop.set()
        thread.join()
        for s in held:
            s.close()
        listener.close()
    assert code == 4 and len(err.splitlines()) == 1, err
    assert "server db" in err and "did not answer" in err and WRONG not in err


def test_unknown_server_name_is_exit_2(tmp_path, pg_server):
    path = _contract(tmp_path, pg_server)
    result = CliRunner().invoke(cli, ["contract", "check", str(path), "--server", "prod"])
    assert result.exit_code == 2 and "'prod'" in result.stderr and "db" in result.stderr

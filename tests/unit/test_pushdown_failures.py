"""`contract check --server` when the server cannot be used: one line naming the server,
exit 2 for the input's fault (password, table, server type), exit 4 for a server that does
not answer; the password never printed."""

from __future__ import annotations

import socket
import threading

import _postgres
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


def test_missing_column_fails_its_presence_check_as_on_files(tmp_path, pg_server, postgres):
    result = CliRunner().invoke(cli, ["contract", "check", str(_contract(
        tmp_path, pg_server, column="account_no")), "--server", "db", "--format", "json"],
        env={"DATACONTRACT_POSTGRES_USERNAME": postgres.user,
             "DATACONTRACT_POSTGRES_PASSWORD": postgres.password})
    assert result.exit_code == 1
    assert '"accounts.account_no.present"' in result.stdout and "missing" in result.stdout
    # the rows that came back for the failing email check are masked (pii)
    assert "bad" not in result.stdout


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

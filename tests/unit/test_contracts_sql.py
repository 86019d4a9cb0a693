"""SQL rules in the sandbox: a hostile contract reads, writes, attaches, loads and changes nothing.

Each hostile rule must come back as a failed check (severity error, whatever it declared) whose
observed value is one line saying why, with nothing created on disk and nothing of the file it
reached for in the result.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
import yaml
from click.testing import CliRunner

from workbench.cli import cli
from workbench.contracts import check
from workbench.contracts._sql import SqlLimits, refusal, sandbox, scalar
from workbench.errors import InputError

SECRET = "s3cr3t-marker-line"


def write_contract(tmp_path: Path, queries: list[str], severity: str = "warning",
                   bound: dict[str, Any] | None = None) -> Path:
    pl.DataFrame({"id": ["a", "b", "c"], "v": [1, 2, 3],
                  "email": ["x@y.io", "bad", "z@w.org"]}).write_parquet(tmp_path / "d.parquet")
    doc = {"apiVersion": "v3.1.0", "kind": "DataContract", "id": "urn:t", "version": "1",
           "status": "active",
           "servers": [{"server": "s", "type": "local", "format": "parquet", "path": "d.parquet"}],
           "schema": [{"name": "t", "properties": [
               {"name": "id", "logicalType": "string"},
               {"name": "v", "logicalType": "integer"},
               {"name": "email", "logicalType": "string", "classification": "restricted"}],
               "quality": [{"type": "sql", "query": q, **(bound or {"mustBeGreaterThan": 0}),
                            "severity": severity} for q in queries]}]}
    path = tmp_path / "c.odcs.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def errors_of(result) -> dict[str, Any]:
    return {c.id: c for c in result.checks if c.rule == "sql"}


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory beside the data, holding files the contract has no business with."""
    d = tmp_path / "outside"
    d.mkdir()
    (d / "secret.csv").write_text(f"k\n{SECRET}\n", encoding="utf-8")
    pl.DataFrame({"k": [SECRET]}).write_parquet(d / "secret.parquet")
    return d


def hostile(outside: Path) -> dict[str, str]:
    o = str(outside)
    return {
        "read a system file": "SELECT COUNT(*) FROM read_csv_auto('/etc/passwd', header=false, "
                              "sep=':')",
        "read a csv": f"SELECT MAX(k) FROM read_csv_auto('{o}/secret.csv')",
        "read a parquet": f"SELECT COUNT(*) FROM read_parquet('{o}/secret.parquet')",
        "glob": f"SELECT COUNT(*) FROM glob('{o}/*')",
        "a path as a table": f"FROM '{o}/secret.csv'",
        "a URL": "SELECT COUNT(*) FROM read_parquet('https://example.com/x.parquet')",
        "list extensions": "SELECT COUNT(*) FROM duckdb_extensions()",
        "read text": f"SELECT content FROM read_text('{o}/secret.csv')",
        "query() around a COPY": f"SELECT * FROM query('COPY (SELECT 1) TO ''{o}/q.csv''')",
        "write a file": f"COPY (SELECT 42 AS pwned) TO '{o}/pwned.csv'",
        "attach": f"ATTACH '{o}/x.duckdb' AS x",
        "install": "INSTALL httpfs",
        "load": "LOAD json",
        "set": "SET threads = 64",
        "pragma": "PRAGMA memory_limit = '100GB'",
        "reset": "RESET lock_configuration",
        "create": "CREATE TABLE z AS SELECT * FROM t",
        "two statements": f"SELECT 1; COPY (SELECT 1) TO '{o}/two.csv'",
        "empty": "-- nothing",
        "does not parse": "SELEC 1",
    }


def test_every_hostile_rule_is_a_failed_error_check_and_touches_nothing(tmp_path, outside):
    cases = hostile(outside)
    before = sorted(p.name for p in outside.iterdir())
    res = check(write_contract(tmp_path, list(cases.values())))
    sql = list(errors_of(res).values())
    assert len(sql) == len(cases)
    for name, c in zip(cases, sql, strict=True):
        assert not c.passed, name
        assert c.severity == "error", name      # declared "warning": a rule that cannot run fails
        why = c.observed["error"]
        assert "\n" not in why and why.startswith("refused:"), (name, why)
    assert not res.passed
    assert sorted(p.name for p in outside.iterdir()) == before      # nothing written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.odcs.yaml", "d.parquet", "outside"]
    text = json.dumps(res.to_dict() if hasattr(res, "to_dict") else
                      [c.observed for c in res.checks], default=str)
    assert SECRET not in text and "root:" not in text                  # nothing read


def test_parser_refusals_name_what_was_refused():
    assert refusal("SELECT 1; SELECT 2") == (
        "refused: expected a single read-only SELECT, got 2 statements (SELECT, SELECT)")
    assert refusal("ATTACH 'x.db'") == "refused: expected a single read-only SELECT, got ATTACH"
    assert refusal("PRAGMA threads=1") == "refused: expected a single read-only SELECT, got SET"
    assert refusal("INSTALL httpfs") == "refused: expected a single read-only SELECT, got LOAD"
    for ok in ("SELECT COUNT(*) FROM t", "WITH a AS (SELECT v FROM t) SELECT MAX(v) FROM a",
               "FROM t SELECT COUNT(*)", "select 1 /* ; COPY */;"):
        assert refusal(ok) is None, ok


def test_the_connection_itself_refuses_what_the_parser_would(tmp_path, outside):
    """Defence in depth: even a statement that skipped the parser check cannot get out."""
    con = sandbox({"t": pl.DataFrame({"v": [1, 2]}).to_arrow()}, SqlLimits())
    try:
        for q in (f"SELECT * FROM read_csv_auto('{outside}/secret.csv')",
                  f"COPY (SELECT 1) TO '{tmp_path}/direct.csv'",
                  f"ATTACH '{tmp_path}/direct.duckdb'", "INSTALL httpfs"):
            with pytest.raises(duckdb.PermissionException):
                con.execute(q)
        for q in ("SET threads = 64", "SET enable_external_access = true",
                  "SET lock_configuration = false", "PRAGMA memory_limit = '100GB'"):
            with pytest.raises(duckdb.InvalidInputException, match="locked"):
                con.execute(q)
        settings = dict(con.execute(
            "SELECT name, value FROM duckdb_settings() WHERE name IN ('threads', "
            "'enable_external_access', 'temp_directory', 'lock_configuration')").fetchall())
        assert settings == {"threads": "2", "enable_external_access": "false",
                            "temp_directory": "", "lock_configuration": "true"}
        assert con.execute("SELECT SUM(v) FROM t").fetchone() == (3,)
    finally:
        con.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outside"]


@pytest.mark.parametrize("query", [
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT COUNT(*) FROM r",
    "SELECT COUNT(*) FROM range(1000000000) a, range(1000000000) b",
])
def test_a_query_that_never_ends_is_stopped(query):
    con = sandbox({"t": pl.DataFrame({"v": [1]}).to_arrow()}, SqlLimits())
    try:
        start = time.perf_counter()
        value, why = scalar(con, query, SqlLimits(seconds=0.5, memory="1GB"))
        took = time.perf_counter() - start
        assert value is None
        assert why == ("stopped: the query ran past the 0.5 s limit for a SQL rule "
                       "(WORKBENCH_SQL_SECONDS)")
        assert took < 10
        assert scalar(con, "SELECT SUM(v) FROM t", SqlLimits())[0] == 1   # still usable
    finally:
        con.close()


def test_a_query_past_the_memory_limit_is_stopped():
    limits = SqlLimits(seconds=30, memory="64MB")
    con = sandbox({"t": pl.DataFrame({"v": [1]}).to_arrow()}, limits)
    try:
        value, why = scalar(con, "SELECT COUNT(DISTINCT range::VARCHAR || 'x') "
                                 "FROM range(20000000)", limits)
        assert value is None and why is not None
        assert why.startswith("stopped: the query needed more than the 64MB memory limit")
    finally:
        con.close()


def test_the_time_limit_comes_from_the_environment_in_a_real_check(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_SQL_SECONDS", "0.3")
    loop = ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
            "SELECT COUNT(*) FROM r")
    res = check(write_contract(tmp_path, [loop, "SELECT COUNT(*) FROM t WHERE v > 1"]))
    loop_check, fine = errors_of(res).values()
    assert loop_check.observed == {"error": "stopped: the query ran past the 0.3 s limit for a "
                                            "SQL rule (WORKBENCH_SQL_SECONDS)"}
    assert (fine.observed, fine.passed, fine.severity) == (2, True, "warning")


@pytest.mark.parametrize(("env", "field"), [
    ({"WORKBENCH_SQL_SECONDS": "soon"}, "WORKBENCH_SQL_SECONDS"),
    ({"WORKBENCH_SQL_SECONDS": "-1"}, "WORKBENCH_SQL_SECONDS"),
    ({"WORKBENCH_SQL_MEMORY": "lots"}, "WORKBENCH_SQL_MEMORY"),
])
def test_bad_limits_in_the_environment_are_input_errors(env, field):
    with pytest.raises(InputError, match=f"environment: {field}: expected"):
        SqlLimits.from_env(env)


def test_an_error_on_a_sensitive_column_does_not_quote_its_values(tmp_path):
    res = check(write_contract(tmp_path, ["SELECT MAX(CAST(email AS INTEGER)) FROM t",
                                          "SELECT MAX(CAST(id AS INTEGER)) FROM t"]))
    sensitive, plain = errors_of(res).values()
    assert "x@y.io" not in sensitive.observed["error"]
    assert "withheld" in sensitive.observed["error"]
    assert "Conversion Error" in plain.observed["error"] and "'a'" in plain.observed["error"]


def test_every_kind_of_data_is_registered_without_duckdb_opening_a_file(tmp_path):
    pl.DataFrame({"v": [1, 2, 3]}).write_csv(tmp_path / "d.csv")
    path = write_contract(tmp_path, ["SELECT SUM(v) FROM t"])
    for data in (tmp_path / "d.csv", pl.scan_csv(tmp_path / "d.csv"),
                 pl.read_csv(tmp_path / "d.csv"), pl.read_csv(tmp_path / "d.csv").lazy()):
        (c,) = errors_of(check(path, data)).values()
        assert (c.observed, c.passed) == (6, True), data


def test_cli_hostile_contract_exits_1_with_one_line_per_refused_rule(tmp_path, outside):
    path = write_contract(tmp_path, [
        f"COPY (SELECT 42 AS pwned) TO '{outside}/pwned.csv'",
        f"SELECT COUNT(*) FROM read_csv_auto('{outside}/secret.csv')"])
    out = CliRunner().invoke(cli, ["contract", "check", str(path), "--format", "json"])
    assert out.exit_code == 1, out.output
    doc = json.loads(out.stdout)
    sql = [c for c in doc["checks"] if c["rule"] == "sql"]
    assert [c["observed"]["error"].split(":")[0] for c in sql] == ["refused", "refused"]
    assert all(c["severity"] == "error" and not c["passed"] for c in sql)
    assert SECRET not in out.output
    assert not (outside / "pwned.csv").exists()
    table = CliRunner().invoke(cli, ["contract", "check", str(path)])
    assert table.exit_code == 1 and "Traceback" not in table.output


def test_a_text_value_against_a_numeric_bound_is_a_failed_check_not_a_traceback(tmp_path):
    (c,) = errors_of(check(write_contract(tmp_path, ["SELECT MAX(id) FROM t"]))).values()
    assert c.observed == {"error": "expected a value comparable with "
                                   "{'mustBeGreaterThan': 0}, got str"}
    assert (c.passed, c.severity) == (False, "error")


def test_cli_bad_limit_in_the_environment_is_one_line_exit_2(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_SQL_MEMORY", "lots")
    out = CliRunner().invoke(cli, ["contract", "check",
                                   str(write_contract(tmp_path, ["SELECT 1"]))])
    assert out.exit_code == 2, out.output
    assert out.stderr.strip() == ("workbench: error: environment: WORKBENCH_SQL_MEMORY: "
                                  "expected a size such as 512MB or 2GB, got 'lots'")


def test_a_long_text_value_is_cut_before_it_reaches_the_result(tmp_path):
    path = write_contract(tmp_path, ["SELECT string_agg(id || repeat('-', 300), ',') FROM t"],
                          bound={"mustNotBe": ""})
    (c,) = errors_of(check(path)).values()
    assert c.observed.startswith("a---") and c.observed.endswith("…")
    assert len(c.observed) == 200

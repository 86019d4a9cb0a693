"""Every kind of rule pushed down (beyond the statsmodels parity set): formats, multipleOf,
date and timestamp bounds, numbers kept as text, freshness, physical types, duplicates over
two columns, a foreign key, a refused SQL rule. PostgreSQL and DuckDB against the same data
in Parquet: the same verdict, failing-row count and observed value for every check."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import _postgres
import duckdb
import numpy as np
import polars as pl
import pytest
import yaml

from workbench.contracts import check_server

AS_OF = "2026-11-02T00:00:00Z"
N = 3000


def _frames() -> dict[str, pl.DataFrame]:
    rng = np.random.default_rng(7)
    ids = np.arange(N)
    ids[::97] = ids[1::97][: len(ids[::97])]  # some repeated ids
    emails = np.where(rng.random(N) < 0.03, "not-an-email",
                      np.char.add(np.char.add("u", ids.astype(str)), "@example.org"))
    uuid = np.where(rng.random(N) < 0.02, "1234", "123e4567-e89b-12d3-a456-426614174000")
    start = datetime(2026, 10, 1, tzinfo=UTC)
    ts = [start + timedelta(minutes=int(m)) for m in rng.integers(0, 45_000, N)]
    days = [date(2026, 9, 1) + timedelta(days=int(d)) for d in rng.integers(0, 90, N)]
    amount = np.round(rng.lognormal(3, 1.2, N), 2)
    amount[rng.random(N) < 0.05] = np.nan
    qty = rng.integers(-3, 60, N) * 5
    qty[rng.random(N) < 0.02] += 1  # not a multiple of 5
    code = np.where(rng.random(N) < 0.05, "x12", rng.integers(0, 900, N).astype(str))
    text_day = np.where(rng.random(N) < 0.03, "2026-13-45", "2026-10-05")
    accounts = pl.DataFrame({
        "id": ids, "email": emails, "ref": uuid, "site": np.where(
            rng.random(N) < 0.04, "no uri", "https://example.org/a"),
        "event_at": pl.Series(ts, dtype=pl.Datetime("us", "UTC")),
        "day": days, "amount": amount, "qty": qty, "code": code, "text_day": text_day,
        "tier": rng.choice(["gold", "silver", "bronze", "tin", None], N),
        "country": rng.choice(["DE", "FR", "XX", None], N),
    }).with_columns(pl.col("amount").fill_nan(None))
    countries = pl.DataFrame({"country": ["DE", "FR", "IT"]})
    return {"accounts": accounts, "countries": countries}


CONTRACT = {
    "apiVersion": "v3.1.0", "kind": "DataContract", "id": "urn:test:rules", "version": "1.0.0",
    "status": "active",
    "slaProperties": [{"property": "freshness", "value": 6, "unit": "h",
                       "element": "accounts.event_at"}],
    "schema": [
        {"name": "accounts", "properties": [
            {"name": "id", "logicalType": "integer", "physicalType": "bigint",
             "primaryKey": True},
            {"name": "email", "logicalType": "string", "physicalType": "varchar",
             "logicalTypeOptions": {"format": "email", "maxLength": 16}},
            {"name": "ref", "logicalType": "string", "logicalTypeOptions": {"format": "uuid"}},
            {"name": "site", "logicalType": "string", "logicalTypeOptions": {"format": "uri"}},
            {"name": "event_at", "logicalType": "timestamp", "physicalType": "timestamp",
             "logicalTypeOptions": {"minimum": "2026-10-03T00:00:00Z",
                                    "exclusiveMaximum": "2026-11-01T00:00:00Z"}},
            {"name": "day", "logicalType": "date", "physicalType": "date",
             "logicalTypeOptions": {"minimum": "2026-09-15", "maximum": "2026-11-15"}},
            {"name": "amount", "logicalType": "number", "physicalType": "double",
             "logicalTypeOptions": {"exclusiveMinimum": 1.5, "maximum": 400},
             "quality": [{"metric": "nullValues", "mustBeLessThan": 3, "unit": "percent"}]},
            {"name": "qty", "logicalType": "integer", "physicalType": "int",
             "logicalTypeOptions": {"multipleOf": 5, "minimum": 0}},
            {"name": "code", "logicalType": "string",
             "logicalTypeOptions": {"pattern": "^[0-9]+$", "minLength": 2},
             "quality": [{"metric": "invalidValues", "arguments": {
                 "pattern": "^[0-9]{3}$", "missingValues": ["x12"]}, "mustBe": 0}]},
            {"name": "text_day", "logicalType": "string",
             "logicalTypeOptions": {"format": "date"}},
            {"name": "tier", "logicalType": "string",
             "enum": [{"value": "gold"}, {"value": "silver"}, {"value": "bronze"}],
             "quality": [{"metric": "missingValues", "arguments": {"missingValues": ["tin"]},
                          "mustBeLessThan": 10, "unit": "percent"}]},
            {"name": "country", "logicalType": "string",
             "relationships": [{"to": "countries.country"}]},
        ], "quality": [
            {"metric": "duplicateValues", "arguments": {"properties": ["id", "day"]},
             "mustBe": 0},
            {"metric": "rowCount", "mustBeGreaterThan": 100},
            {"type": "sql", "query": "SELECT COUNT(*) FROM accounts WHERE qty > 250",
             "mustBeLessThan": 100},
            {"type": "sql", "query": "SELECT COUNT(*) FROM read_csv('/etc/passwd')",
             "mustBe": 0, "severity": "warning"},
            {"type": "sql", "query": "DELETE FROM accounts", "mustBe": 0},
        ]},
        {"name": "countries", "properties": [
            {"name": "country", "logicalType": "string", "primaryKey": True}]},
    ],
}


@pytest.fixture(scope="module")
def contract(tmp_path_factory, postgres):
    tmp = tmp_path_factory.mktemp("rules")
    duck = tmp / "rules.duckdb"
    with postgres.connect() as pcon, duckdb.connect(str(duck)) as dcon:
        for name, frame in _frames().items():
            frame.write_parquet(tmp / f"{name}.parquet")
            _postgres.load(pcon, name, frame)
            dcon.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
    doc = {**CONTRACT, "servers": [
        {"server": "files", "type": "local", "format": "parquet",
         "path": str(tmp / "{model}.parquet")},
        {"server": "pg", "type": "postgres", "host": postgres.host, "port": postgres.port,
         "database": postgres.database, "schema": "public"},
        {"server": "duck", "type": "duckdb", "database": str(duck)}]}
    path = tmp / "rules.odcs.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def credentials(monkeypatch, postgres):
    monkeypatch.setenv("DATACONTRACT_POSTGRES_USERNAME", postgres.user)
    monkeypatch.setenv("DATACONTRACT_POSTGRES_PASSWORD", postgres.password)


@pytest.mark.parametrize("server", ["pg", "duck"])
def test_every_rule_kind_agrees_with_parquet(contract, server):
    files = {c.id: c for c in check_server(contract, "files", as_of=AS_OF).checks}
    pushed = {c.id: c for c in check_server(contract, server, as_of=AS_OF).checks}
    assert set(pushed) == set(files)
    not_pushed = {cid for cid, c in pushed.items() if c.severity == "info"
                  and isinstance(c.observed, str) and c.observed.startswith("not pushed")}
    # PostgreSQL has no non-raising date parse: the text date format is reported, not run
    assert not_pushed == ({"accounts.text_day.format"} if server == "pg" else set())
    for cid, want in files.items():
        if cid in not_pushed:
            continue
        got = pushed[cid]
        assert (got.passed, got.failed_rows, got.severity) == (
            want.passed, want.failed_rows, want.severity), (cid, got.observed, want.observed)
        if want.rule not in {"logicalType", "physicalType", "sql"}:
            assert got.observed == want.observed, cid
        if want.rule == "sql" and want.passed:
            assert got.observed == want.observed, cid
        if want.worst is not None:
            assert got.worst == want.worst, cid
    failed = {cid for cid, c in files.items() if not c.passed}
    for rule in ("format", "multipleOf", "minimum", "exclusiveMaximum", "invalidValues",
                 "validValues", "foreignKey", "freshness", "primaryKey", "duplicateValues",
                 "pattern", "maxLength"):
        assert any(files[c].rule == rule for c in failed), rule
    # a rule reaching outside the table fails (whatever severity it declares), as on files
    outside = pushed["accounts.sql_2"]
    assert not outside.passed and outside.severity == "error" and outside.observed["error"]
    refused = pushed["accounts.sql_3"]
    assert not refused.passed and str(refused.observed["error"]).startswith("refused")
    assert pushed["accounts.rowCount"].observed == N  # nothing was deleted


def test_physical_types_are_the_database_types(contract):
    pushed = {c.id: c for c in check_server(contract, "pg", as_of=AS_OF).checks}
    assert pushed["accounts.id.physicalType"].observed == "bigint"
    assert pushed["accounts.id.physicalType"].passed
    # the Parquet qty is a 64-bit integer: "int" (32-bit) fails on every engine
    assert not pushed["accounts.qty.physicalType"].passed
    assert pushed["accounts.event_at.physicalType"].observed == "timestamp with time zone"


@pytest.mark.parametrize("server", ["pg", "duck"])
@pytest.mark.parametrize("repeated", [False, True])
def test_a_key_containing_a_unique_key_needs_no_query(tmp_path, postgres, server, repeated):
    # unique(id), then duplicateValues over (id, day): when id has no duplicates the pair
    # cannot have any and is not queried; when it has, the pair is counted in the engine.
    # Either way the verdicts and counts are the Parquet path's.
    n = 500
    ids = np.arange(n)
    if repeated:
        ids[::50] = ids[1::50]  # repeated ids, on different days: the pairs stay distinct
    frame = pl.DataFrame({"id": ids, "day": [date(2026, 10, 1) + timedelta(days=i % 7)
                                             for i in range(n)]})
    if repeated:
        frame = frame.with_columns(day=pl.when(pl.int_range(n) % 50 == 0)
                                   .then(pl.lit(date(2026, 9, 1))).otherwise(pl.col("day")))
    frame.write_parquet(tmp_path / "keys.parquet")
    table = f"keys_{int(repeated)}"
    with postgres.connect() as con:
        _postgres.load(con, table, frame)
    with duckdb.connect(str(tmp_path / "k.duckdb")) as dcon:
        dcon.execute(f"CREATE TABLE {table} AS SELECT * FROM frame")
    doc = {"apiVersion": "v3.1.0", "kind": "DataContract", "id": "urn:test:keys",
           "version": "1.0.0", "status": "active", "servers": [
               {"server": "files", "type": "local", "format": "parquet",
                "path": str(tmp_path / "keys.parquet")},
               {"server": "pg", "type": "postgres", "host": postgres.host,
                "port": postgres.port, "database": postgres.database, "schema": "public"},
               {"server": "duck", "type": "duckdb", "database": str(tmp_path / "k.duckdb")}],
           "schema": [{"name": "keys", "physicalName": table, "properties": [
               {"name": "id", "logicalType": "integer", "unique": True},
               {"name": "day", "logicalType": "date"}],
               "quality": [{"metric": "duplicateValues",
                            "arguments": {"properties": ["id", "day"]}, "mustBe": 0}]}]}
    path = tmp_path / "keys.odcs.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    files = {c.id: c for c in check_server(path, "files").checks}
    stats: dict = {}
    pushed = {c.id: c for c in check_server(path, server, stats=stats).checks}
    for cid in ("keys.id.unique", "keys.duplicateValues"):
        assert (pushed[cid].passed, pushed[cid].failed_rows, pushed[cid].observed) == (
            files[cid].passed, files[cid].failed_rows, files[cid].observed), cid
    assert pushed["keys.id.unique"].passed is (not repeated)
    assert pushed["keys.duplicateValues"].passed
    # the column types, the aggregate, unique(id); the pair only when id had duplicates
    # (and then the first/last day and the samples of the failing unique(id) too)
    assert stats["queries"] == (3 if not repeated else 3 + 2 + 1)

"""Contract checks pushed down to PostgreSQL and DuckDB agree with the file path.

The parity set (tests/parity: five statsmodels datasets, five contracts, one with two schema
objects and relationships between them) is written to Parquet, loaded into a live PostgreSQL
server (tests/_postgres.py) and into a DuckDB database file, and checked three ways through
``contract check --server``: every check gets the same verdict, failed-row count and observed
figure on each engine as on the Parquet file. The type checks are compared too: the tables'
types are the Parquet file's (bigint, double precision, text).
"""

from __future__ import annotations

import os
from pathlib import Path

import _postgres
import duckdb
import polars as pl
import pytest
import yaml

from workbench.contracts._pushdown import check_server
from workbench.render import MASK

PARITY = Path(__file__).resolve().parents[1] / "parity"
CONTRACTS = sorted((PARITY / "contracts").glob("*.odcs.yaml"))


def _frames(doc: dict) -> dict[str, pl.DataFrame]:
    """Each schema object's data as the file path reads the CSV (text columns kept text)."""
    out = {}
    templated = "{model}" in doc["servers"][0]["path"]
    stem = doc["id"].rsplit(":", 1)[-1]
    for obj in doc["schema"]:
        csv = PARITY / "data" / f"{obj['name'] if templated else stem}.csv"
        text = {p["name"]: pl.String for p in obj.get("properties", [])
                if p.get("logicalType") == "string"}
        out[obj.get("physicalName") or obj["name"]] = pl.read_csv(csv, schema_overrides=text)
    return out


@pytest.fixture(scope="module")
def cases(tmp_path_factory, postgres) -> list[tuple[str, Path]]:
    tmp = tmp_path_factory.mktemp("pushdown")
    duck = tmp / "parity.duckdb"
    dcon = duckdb.connect(str(duck))
    out = []
    with postgres.connect() as pcon:
        for contract in CONTRACTS:
            doc = yaml.safe_load(contract.read_text(encoding="utf-8"))
            name = contract.name.split(".")[0]
            pq = tmp / name
            pq.mkdir()
            for table, frame in _frames(doc).items():
                frame.write_parquet(pq / f"{table}.parquet")
                _postgres.load(pcon, table, frame)
                dcon.execute(f'CREATE OR REPLACE TABLE "{table}" AS SELECT * FROM frame')
            doc["servers"] = [
                {"server": "files", "type": "local", "format": "parquet",
                 "path": str(pq / "{model}.parquet")},
                {"server": "pg", "type": "postgres", "host": postgres.host,
                 "port": postgres.port, "database": postgres.database, "schema": "public"},
                {"server": "duck", "type": "duckdb", "database": str(duck)},
            ]
            path = tmp / contract.name
            path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
            out.append((name, path))
    dcon.close()
    return out


@pytest.fixture
def credentials(monkeypatch, postgres):
    monkeypatch.setenv("DATACONTRACT_POSTGRES_USERNAME", postgres.user)
    monkeypatch.setenv("DATACONTRACT_POSTGRES_PASSWORD", postgres.password)


def _by_id(result) -> dict[str, dict]:
    return {c["id"]: c for c in result.to_dict()["checks"]}


AS_OF = "2026-11-02T00:00:00Z"


@pytest.mark.parametrize("server", ["pg", "duck"])
def test_every_check_agrees_with_the_parquet_file(cases, credentials, server):
    compared = failed = 0
    for name, path in cases:
        files = _by_id(check_server(path, "files", as_of=AS_OF))
        pushed = _by_id(check_server(path, server, as_of=AS_OF))
        assert set(pushed) == set(files), name
        for cid, want in files.items():
            got = pushed[cid]
            for key in ("passed", "failed_rows", "severity", "rule"):
                assert got[key] == want[key], f"{name} {cid} {key}: {got[key]} != {want[key]}"
            if want["rule"] not in {"logicalType", "physicalType"}:
                assert got["observed"] == want["observed"], f"{name} {cid}"
            compared += 1
            failed += not want["passed"]
    # the set exercises both outcomes, on enough checks to mean something
    assert compared >= 90 and failed >= 15, (compared, failed)


def test_failing_samples_come_back_bounded_and_masked(cases, credentials, tmp_path):
    name, path = next((n, p) for n, p in cases if n == "states")
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["schema"][0]["properties"][0]["classification"] = "restricted"  # STATE is sensitive
    masked = tmp_path / "masked.odcs.yaml"
    masked.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    stats: dict = {}
    result = check_server(masked, "pg", as_of=AS_OF, sample_rows=2, stats=stats)
    text = str(result.to_dict())
    assert "South_Carolina" not in text and "Kentucky" not in text
    failed = [c for c in result.checks if not c.passed and c.failed_rows]
    assert failed and all(0 < len(c.samples) <= 2 for c in failed)
    assert all(s["STATE"] == MASK for c in failed if c.schema == "cpunish"
               for s in c.samples if "STATE" in s)
    assert 0 < stats["bytes_returned"] < 20_000


def test_password_never_reaches_the_result(cases, credentials, postgres):
    name, path = cases[0]
    result = check_server(path, "pg", as_of=AS_OF)
    assert postgres.password not in str(result.to_dict())
    assert os.environ["DATACONTRACT_POSTGRES_PASSWORD"] == postgres.password

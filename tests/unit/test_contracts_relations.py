"""Contracts with several schema objects: one run checks each against its own data, and
ODCS relationships (foreign keys) between them; orphan counts worked out by hand."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from click.testing import CliRunner

from workbench.cli import cli
from workbench.contracts import check, load_contract
from workbench.errors import ContractError, InputError
from workbench.render import MASK

CUSTOMERS = pl.DataFrame({"customer_id": [1, 2, 3], "region": ["eu", "us", "eu"],
                          "email": ["a@x.io", "b@x.io", "c@x.io"]})
ORDERS = pl.DataFrame({
    "order_id": ["o1", "o2", "o3", "o4", "o5", "o6"],
    "customer_id": [1, 2, 4, None, 4, 5],                  # 4, 4, 5 have no customer
    "region": ["eu", "us", "us", "eu", None, "eu"],
    "ordered_at": [datetime(2026, 5, d, tzinfo=UTC) for d in (1, 2, 3, 4, 5, 6)],
})


def write(tmp_path: Path, orders_rel: list[dict] | None = None,
          schema_rel: list[dict] | None = None, server: bool = True) -> Path:
    orders_props: list[dict[str, Any]] = [
        {"name": "order_id", "logicalType": "string", "primaryKey": True},
        {"name": "customer_id", "logicalType": "integer",
         "relationships": orders_rel if orders_rel is not None
         else [{"to": "customers.customer_id"}]},
        {"name": "region", "logicalType": "string"},
        {"name": "ordered_at", "logicalType": "timestamp"},
    ]
    doc = {
        "apiVersion": "v3.1.0", "kind": "DataContract", "id": "urn:test:shop",
        "version": "1.0.0", "status": "active",
        "schema": [
            {"name": "orders", "id": "orders_tbl", "properties": orders_props,
             **({"relationships": schema_rel} if schema_rel else {})},
            {"name": "customers", "id": "customers_tbl", "properties": [
                {"name": "customer_id", "id": "cust_pk", "logicalType": "integer",
                 "primaryKey": True},
                {"name": "region", "logicalType": "string"},
                {"name": "email", "logicalType": "string", "classification": "pii"}]},
        ],
    }
    if server:
        doc["servers"] = [{"server": "local", "type": "local", "format": "parquet",
                           "path": "data/{model}.parquet"}]
    (tmp_path / "data").mkdir(exist_ok=True)
    ORDERS.write_parquet(tmp_path / "data" / "orders.parquet")
    CUSTOMERS.write_parquet(tmp_path / "data" / "customers.parquet")
    path = tmp_path / "shop.odcs.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def test_every_schema_object_against_its_own_file(tmp_path):
    r = check(write(tmp_path))
    assert [t["schema"] for t in r.tables()] == ["orders", "customers"]
    assert [t["rows"] for t in r.tables()] == [6, 3]
    assert r.rows == 9
    assert {c.schema for c in r.checks} == {"orders", "customers"}
    assert r.check("customers.customer_id.primaryKey").passed
    assert r.to_dict()["schemas"][1] == {
        "schema": "customers", "dataset": str(tmp_path / "data" / "customers.parquet"),
        "rows": 3, "passed": True}


def test_foreign_key_counts_rows_without_a_referenced_key(tmp_path):
    r = check(write(tmp_path))
    fk = r.check("orders.customer_id.foreignKey")
    assert (fk.rule, fk.severity, fk.dimension) == ("foreignKey", "error", "consistency")
    assert (fk.failed_rows, fk.passed) == (3, False)       # 4, 4, 5; the null is not counted
    assert [s["customer_id"] for s in fk.samples] == [4, 4, 5]   # file order
    assert [s["order_id"] for s in fk.samples] == ["o3", "o5", "o6"]
    assert fk.first_failed_at == "2026-05-03T00:00:00+00:00"
    assert fk.last_failed_at == "2026-05-06T00:00:00+00:00"
    assert not r.passed


def test_composite_key_and_fully_qualified_references(tmp_path):
    rel = [{"id": "customer_region", "type": "foreignKey",
            "from": ["orders.customer_id", "orders.region"],
            "to": ["customers.customer_id", "customers.region"]}]
    by_id = [{"to": "schema/customers_tbl/properties/cust_pk"}]
    r = check(write(tmp_path, orders_rel=by_id, schema_rel=rel))
    # (1, eu) and (2, us) exist; (4, us), (5, eu) do not; rows with a null part are skipped
    assert r.check("orders.customer_region").failed_rows == 2
    assert r.check("orders.customer_id.foreignKey").failed_rows == 3


def test_keys_of_different_types_are_compared_by_value(tmp_path):
    path = write(tmp_path)
    CUSTOMERS.with_columns(pl.col("customer_id").cast(pl.String)).write_csv(
        tmp_path / "customers.csv")
    r = check(path, {"orders": tmp_path / "data" / "orders.parquet",
                     "customers": tmp_path / "customers.csv"})
    assert r.check("orders.customer_id.foreignKey").failed_rows == 3


def test_one_schema_still_reads_the_referenced_data_from_the_contract(tmp_path):
    path = write(tmp_path)
    r = check(path, ORDERS, schema="orders")
    assert r.tables() == [{"schema": "orders", "dataset": "<DataFrame>", "rows": 6,
                           "checks": len(r.checks), "failed": len(r.failed),
                           "passed": False}]
    assert r.check("orders.customer_id.foreignKey").failed_rows == 3


def test_frames_in_memory_for_every_schema_object(tmp_path):
    path = write(tmp_path, server=False)
    r = check(path, {"orders": ORDERS, "customers": CUSTOMERS.filter(pl.col("customer_id") < 3)})
    assert r.check("orders.customer_id.foreignKey").failed_rows == 3
    assert "email" in r.sensitive
    # only the orders frame: the customers data is nowhere, so the key is not checked
    r = check(path, ORDERS, schema="orders")
    fk = r.check("orders.customer_id.foreignKey")
    assert (fk.severity, fk.passed) == ("info", False)
    assert "no data for customers" in fk.observed


def test_what_cannot_be_checked_is_reported_as_info(tmp_path):
    rels = [{"to": "https://example.com/crm.odcs.yaml#schema/accounts/properties/id"}]
    r = check(write(tmp_path, orders_rel=rels))
    fk = r.check("orders.customer_id.foreignKey")
    assert (fk.severity, fk.passed) == ("info", False)
    assert "another contract" in fk.observed


@pytest.mark.parametrize(("rel", "schema_rel", "where", "expected"), [
    ([{"to": "clients.customer_id"}], None,
     "schema[0].properties[1].relationships[0].to", "got 'clients.customer_id'"),
    ([{"to": "customers.nope"}], None,
     "schema[0].properties[1].relationships[0].to", "got 'customers.nope'"),
    ([], [{"from": ["orders.customer_id", "orders.region"], "to": ["customers.customer_id"]}],
     "schema[0].relationships[0].to", "expected 2 referenced properties"),
    ([], [{"from": "orders.shipping_id", "to": "customers.customer_id"}],
     "schema[0].relationships[0].from", "got 'orders.shipping_id'"),
])
def test_a_wrong_reference_is_a_contract_problem(tmp_path, rel, schema_rel, where, expected):
    path = write(tmp_path, orders_rel=rel, schema_rel=schema_rel)
    with pytest.raises(ContractError) as err:
        load_contract(path)
    line = next(p for p in err.value.problems if where in p)
    assert line.startswith(f"{path}: {where}: expected") and expected in line


def test_cli_checks_every_schema_object_and_refuses_ambiguous_data(tmp_path):
    path = write(tmp_path)
    out = CliRunner().invoke(cli, ["contract", "check", str(path), "--format", "json",
                                    "--as-of", "2026-06-01T00:00:00Z"])
    assert out.exit_code == 1, out.output
    doc = json.loads(out.stdout)
    assert [s["schema"] for s in doc["schemas"]] == ["orders", "customers"]
    fk = next(c for c in doc["checks"] if c["id"] == "orders.customer_id.foreignKey")
    assert fk["failed_rows"] == 3

    out = CliRunner().invoke(cli, ["contract", "check", str(path),
                                    str(tmp_path / "data" / "orders.parquet")])
    assert out.exit_code == 2
    assert out.stderr.strip().splitlines() == [
        f"workbench: error: {path}: schema: expected --schema NAME to say which schema object "
        "DATA holds (one of orders, customers)"]


def test_no_server_for_a_schema_object_is_named_in_one_line(tmp_path):
    path = write(tmp_path, server=False)
    with pytest.raises(InputError, match=r"servers: expected a server with a path for schema "
                                         r"'orders'"):
        check(path)


def test_a_column_sensitive_in_one_schema_object_is_masked_in_all(tmp_path):
    path = write(tmp_path, server=False)
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    # orders.email is not classified, customers.email is pii: orders' samples mask it too
    doc["schema"][0]["properties"].append(
        {"name": "email", "logicalType": "string", "logicalTypeOptions": {"pattern": "^x"}})
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    orders = ORDERS.with_columns(email=pl.lit("leak@example.com"))
    r = check(path, {"orders": orders, "customers": CUSTOMERS})
    samples = r.check("orders.email.pattern").samples
    assert len(samples) == 5 and all(s["email"] == MASK for s in samples)

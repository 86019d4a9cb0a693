"""Contract checks on tiny inline frames, with failing-row counts worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from workbench.contracts import check, load_contract
from workbench.contracts._compile import Threshold
from workbench.render import MASK


def contract_file(tmp_path: Path, properties: list[dict[str, Any]], quality: list | None = None,
                  **top: Any) -> Path:
    doc = {"apiVersion": "v3.1.0", "kind": "DataContract", "id": "urn:test:t", "version": "1.0.0",
           "status": "active",
           "schema": [{"name": "t", "properties": properties,
                       **({"quality": quality} if quality else {})}],
           **top}
    path = tmp_path / "t.odcs.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


FRAME = pl.DataFrame({
    "id": ["a1", "a2", "a2", "b4", None, "a6"],
    "ts": [datetime(2026, 1, d, tzinfo=UTC) for d in (1, 2, 3, 4, 5, 6)],
    "amount": [5.0, -1.0, 0.0, 10.0, 100.5, None],
    "code": ["x", "y", "z", "x", "", "n/a"],
    "email": ["a@b.io", "bad", "c@d.org", None, "e@f.com", "nope@"],
    "n": [1, 2, 3, 4, 5, 6],
})


def by_id(result) -> dict[str, Any]:
    return {c.id: c for c in result.checks}


def test_schema_rules_count_failing_rows(tmp_path):
    props = [
        {"name": "id", "logicalType": "string", "required": True, "unique": True,
         "logicalTypeOptions": {"pattern": "^a[0-9]$", "minLength": 2, "maxLength": 2}},
        {"name": "ts", "logicalType": "timestamp"},
        {"name": "amount", "logicalType": "number",
         "logicalTypeOptions": {"minimum": 0, "maximum": 100}},
        {"name": "code", "logicalType": "string", "enum": [{"value": "x"}, {"value": "y"}]},
        {"name": "email", "logicalType": "string", "logicalTypeOptions": {"format": "email"}},
        {"name": "n", "logicalType": "integer",
         "logicalTypeOptions": {"exclusiveMinimum": 1, "exclusiveMaximum": 6}},
    ]
    r = by_id(check(contract_file(tmp_path, props), FRAME))
    assert r["t.id.required"].failed_rows == 1
    assert (r["t.id.unique"].observed, r["t.id.unique"].failed_rows) == (1, 2)  # one key, two rows
    assert r["t.id.pattern"].failed_rows == 1          # b4 (null is not a pattern failure)
    assert r["t.id.minLength"].passed and r["t.id.maxLength"].passed
    assert r["t.amount.minimum"].failed_rows == 1      # -1.0
    assert r["t.amount.maximum"].failed_rows == 1      # 100.5
    assert r["t.code.validValues"].failed_rows == 3    # z, "", n/a
    assert r["t.email.format"].failed_rows == 2        # bad, nope@
    assert r["t.n.exclusiveMinimum"].failed_rows == 1  # 1
    assert r["t.n.exclusiveMaximum"].failed_rows == 1  # 6
    assert all(c.severity == "error" for c in r.values())


def test_valid_values_count(tmp_path):
    props = [{"name": "code", "logicalType": "string", "enum": [{"value": "x"}, {"value": "y"}]}]
    r = by_id(check(contract_file(tmp_path, props), FRAME))
    assert r["t.code.validValues"].failed_rows == 3    # z, "", n/a


@pytest.mark.parametrize(("fmt", "values", "bad"), [
    ("uuid", ["123e4567-e89b-12d3-a456-426614174000", "123e4567e89b", None], 1),
    ("uri", ["https://x.org/a?b=1", "mailto:a@b.c", "not a uri"], 1),
    ("date", ["2026-02-28", "2026-02-30", "28/02/2026"], 2),
    ("date-time", ["2026-02-28T10:00:00Z", "2026-02-28 10:00", "2026-13-01T00:00:00"], 1),
])
def test_string_formats(tmp_path, fmt, values, bad):
    props = [{"name": "v", "logicalType": "string", "logicalTypeOptions": {"format": fmt}}]
    r = check(contract_file(tmp_path, props), pl.DataFrame({"v": values}, schema={"v": pl.String}))
    assert r.check("t.v.format").failed_rows == bad


def test_quality_metrics_units_and_severity(tmp_path):
    props = [
        {"name": "id", "logicalType": "string", "quality": [
            {"metric": "nullValues", "mustBeLessOrEqualTo": 10, "unit": "percent",
             "severity": "warning"},
            {"metric": "duplicateValues", "mustBe": 0, "severity": "error"}]},
        {"name": "code", "logicalType": "string", "quality": [
            {"metric": "missingValues", "arguments": {"missingValues": ["", "n/a"]},
             "mustBeLessThan": 3},
            {"metric": "invalidValues", "arguments": {"validValues": ["x", "y"],
                                                      "missingValues": ["", "n/a"]},
             "mustBe": 0, "severity": "info"}]},
        {"name": "email", "logicalType": "string", "quality": [
            {"metric": "invalidValues", "arguments": {"pattern": "@"}, "mustBeBetween": [0, 1]}]},
    ]
    quality = [{"metric": "rowCount", "mustBeGreaterThan": 5},
               {"metric": "duplicateValues", "arguments": {"properties": ["id", "code"]},
                "mustBe": 0, "severity": "warning"}]
    res = check(contract_file(tmp_path, props, quality), FRAME)
    r = by_id(res)
    nulls = r["t.id.nullValues"]
    assert (nulls.failed_rows, nulls.observed, nulls.passed) == (1, pytest.approx(16.666667), False)
    assert nulls.severity == "warning"
    assert r["t.id.duplicateValues"].observed == 1 and not r["t.id.duplicateValues"].passed
    assert (r["t.code.missingValues"].failed_rows, r["t.code.missingValues"].passed) == (2, True)
    assert r["t.code.invalidValues"].failed_rows == 1    # z: "" and n/a are missing, not invalid
    assert r["t.email.invalidValues"].failed_rows == 1   # "bad" (null is missing)
    assert r["t.email.invalidValues"].passed              # 1 is between 0 and 1
    assert r["t.rowCount"].observed == 6 and r["t.rowCount"].passed
    assert r["t.duplicateValues"].passed                  # (a2, y) and (a2, z) differ
    # gate: only the error-severity duplicate check and info/warning ones failed
    assert not res.passed
    assert res.metrics["warning_checks_failed"] == 1
    assert res.metrics["info_checks_failed"] == 1


@pytest.mark.parametrize(("op", "value", "actual", "ok"), [
    ("mustBe", 3, 3, True), ("mustBe", 3, 4, False), ("mustNotBe", 3, 4, True),
    ("mustNotBe", 3, 3, False), ("mustBeGreaterThan", 3, 3, False),
    ("mustBeGreaterThan", 3, 4, True), ("mustBeGreaterOrEqualTo", 3, 3, True),
    ("mustBeGreaterOrEqualTo", 3, 2, False), ("mustBeLessThan", 3, 3, False),
    ("mustBeLessThan", 3, 2, True), ("mustBeLessOrEqualTo", 3, 3, True),
    ("mustBeLessOrEqualTo", 3, 4, False), ("mustBeBetween", (1, 3), 3, True),
    ("mustBeBetween", (1, 3), 4, False), ("mustNotBeBetween", (1, 3), 1, False),
    ("mustNotBeBetween", (1, 3), 0, True),
])
def test_every_operator(op, value, actual, ok):
    assert Threshold(op, value).passes(actual) is ok


def test_operators_from_contract_on_row_count(tmp_path):
    quality = [{"metric": "rowCount", "mustNotBeBetween": [1, 5]},
               {"metric": "rowCount", "mustBeLessThan": 6, "severity": "warning"}]
    res = check(contract_file(tmp_path, [{"name": "n", "logicalType": "integer"}], quality), FRAME)
    assert [(c.id, c.passed) for c in res.checks if c.rule == "rowCount"] == [
        ("t.rowCount", True), ("t.rowCount_2", False)]
    assert res.passed and res.status == "warn"  # only a warning failed


def test_composite_primary_key_and_types_and_presence(tmp_path):
    props = [
        {"name": "id", "logicalType": "string", "primaryKey": True, "primaryKeyPosition": 1},
        {"name": "code", "logicalType": "string", "primaryKey": True, "primaryKeyPosition": 2},
        {"name": "n", "logicalType": "string", "physicalType": "int32"},
        {"name": "amount", "logicalType": "number", "physicalType": "DOUBLE"},
        {"name": "gone", "logicalType": "string"},
    ]
    res = check(contract_file(tmp_path, props), FRAME, allow_undeclared=False)
    r = by_id(res)
    assert r["t.primaryKey"].passed and r["t.primaryKey"].expected == ["id", "code"]
    assert r["t.id.required"].failed_rows == 1       # a primary key is never null
    assert not r["t.n.logicalType"].passed and r["t.n.logicalType"].observed == "Int64"
    assert not r["t.n.physicalType"].passed          # int32 declared, int64 stored
    assert r["t.amount.physicalType"].passed
    assert not r["t.gone.present"].passed
    assert "t.gone.logicalType" not in r             # a missing column has only its presence check
    assert r["t.undeclared"].observed == ["ts", "email"]


def test_sql_rule_runs_in_duckdb_over_the_file(tmp_path):
    data = tmp_path / "t.parquet"
    FRAME.write_parquet(data)
    quality = [{"type": "sql", "query": "SELECT COUNT(*) FROM ${table} WHERE amount < 0",
                "mustBe": 0},
               {"type": "sql", "query": "SELECT AVG(n) FROM t", "mustBeBetween": [3, 4],
                "severity": "warning"},
               {"type": "sql", "query": "SELECT nope FROM t", "mustBe": 0}]
    res = check(contract_file(tmp_path, [{"name": "n", "logicalType": "integer"}], quality), data)
    r = by_id(res)
    assert (r["t.sql"].observed, r["t.sql"].passed) == (1, False)
    assert (r["t.sql_2"].observed, r["t.sql_2"].passed) == (3.5, True)
    assert not r["t.sql_3"].passed and "error" in r["t.sql_3"].observed


def test_freshness_from_sla_properties(tmp_path):
    props = [{"name": "ts", "logicalType": "timestamp"}]
    path = contract_file(tmp_path, props, slaProperties=[
        {"property": "freshness", "value": 2, "unit": "d", "element": "t.ts"}])
    fresh = check(path, FRAME, as_of="2026-01-07T00:00:00Z").check("t.ts.freshness")
    stale = check(path, FRAME, as_of="2026-01-08T00:00:01Z").check("t.ts.freshness")
    assert fresh.passed and fresh.observed["age_seconds"] == 86400
    assert not stale.passed


@pytest.mark.parametrize("element, props, why", [
    ("t.measured_at", [{"name": "ts", "logicalType": "timestamp"}], "names no declared column"),
    ("other.ts", [{"name": "ts", "logicalType": "timestamp"}], "names no declared column"),
    (None, [{"name": "ts", "logicalType": "string"}], "no timestamp or date column"),
])
def test_a_freshness_level_that_cannot_be_measured_fails_never_vanishes(
        tmp_path, element, props, why):
    """A misspelled element, an object the contract does not have, no timestamp column:
    the contract used to pass with the level left out."""
    sla = {"property": "freshness", "value": 2, "unit": "d"}
    if element:
        sla["element"] = element
    res = check(contract_file(tmp_path, props, slaProperties=[sla]), FRAME,
                as_of="2026-01-07T00:00:00Z")
    level = res.check("t.freshness")
    assert (level.passed, level.severity) == (False, "error")
    assert why in level.observed
    assert not res.passed


def test_failures_are_dated_sampled_and_masked(tmp_path):
    props = [{"name": "ts", "logicalType": "timestamp"},
             {"name": "email", "logicalType": "string", "classification": "restricted",
              "logicalTypeOptions": {"format": "email"}},
             {"name": "amount", "logicalType": "number", "logicalTypeOptions": {"minimum": 0}}]
    res = check(contract_file(tmp_path, props), FRAME, sample_rows=1)
    fmt = res.check("t.email.format")
    assert (fmt.first_failed_at, fmt.last_failed_at) == ("2026-01-02T00:00:00+00:00",
                                                          "2026-01-06T00:00:00+00:00")
    assert fmt.samples == ({"ts": "2026-01-02T00:00:00+00:00", "email": MASK},)
    html = res._repr_html_()
    assert MASK in html and "nope@" not in html and "bad</td>" not in html
    assert res.check("t.amount.minimum").samples[0]["amount"] == -1.0
    assert res.check("t.ts.present").samples == ()   # passed checks carry no samples


def test_html_escapes_values_from_data(tmp_path):
    frame = pl.DataFrame({"v": ["<script>alert(1)</script>"]})
    props = [{"name": "v", "logicalType": "string", "logicalTypeOptions": {"maxLength": 3}}]
    html = check(contract_file(tmp_path, props), frame)._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_csv_keeps_text_columns_as_text(tmp_path):
    data = tmp_path / "zips.csv"
    data.write_text("zip,n\n01234,1\n98765,2\n", encoding="utf-8")
    props = [{"name": "zip", "logicalType": "string",
              "logicalTypeOptions": {"pattern": "^[0-9]{5}$"}},
             {"name": "n", "logicalType": "integer", "physicalType": "int32"}]
    res = check(contract_file(tmp_path, props), data)
    assert res.check("t.zip.pattern").passed          # leading zero kept
    assert res.check("t.n.physicalType").passed       # CSV: the integer family is enough


def test_to_dict_matches_the_design_json(tmp_path):
    props = [{"name": "n", "logicalType": "integer", "required": True}]
    res = check(contract_file(tmp_path, props), FRAME)
    d = res.to_dict()
    assert list(d) == ["contract", "dataset", "rows", "passed", "checks"]
    assert d["contract"] == "urn:test:t" and d["rows"] == 6 and d["passed"] is True
    assert list(d["checks"][0]) == ["id", "schema", "column", "rule", "severity", "passed",
                                    "failed_rows", "observed", "expected"]


def test_server_path_is_resolved_against_the_contract(tmp_path):
    (tmp_path / "d").mkdir()
    FRAME.write_parquet(tmp_path / "d" / "t.parquet")
    path = contract_file(tmp_path, [{"name": "n", "logicalType": "integer"}],
                         servers=[{"server": "s", "type": "local", "format": "parquet",
                                   "path": "d/t.parquet"}])
    assert check(load_contract(path)).rows == 6


def test_free_text_severities_and_unknown_physical_types(tmp_path):
    props = [{"name": "n", "logicalType": "integer", "physicalType": "VARIANT", "quality": [
        {"metric": "invalidValues", "arguments": {"validValues": [1]}, "mustBe": 0,
         "severity": "Critical"},
        {"metric": "nullValues", "mustBe": 1, "severity": "warn"}]}]
    res = check(contract_file(tmp_path, props), FRAME)
    r = by_id(res)
    assert r["t.n.invalidValues"].severity == "error"
    assert r["t.n.nullValues"].severity == "warning"
    unknown = r["t.n.physicalType"]
    assert (unknown.severity, unknown.passed) == ("info", False)
    assert "unknown physical type" in unknown.observed


def test_sql_results_from_sensitive_columns_are_masked(tmp_path):
    props = [{"name": "email", "logicalType": "string", "tags": ["pii"]}]
    quality = [{"type": "sql", "query": "SELECT MAX(email) FROM t", "mustNotBe": ""}]
    res = check(contract_file(tmp_path, props, quality), FRAME)
    assert res.check("t.sql").observed == MASK and res.check("t.sql").passed
    assert "nope@" not in str(res.to_dict())


def test_duplicate_values_in_percent_compare_the_share_of_rows(tmp_path):
    """unit: percent on duplicateValues is the share of rows repeating a key (3 of 10 here);
    datacontract-cli 1.2.8 ignores the unit and would compare the key count (1)."""
    props = [{"name": "id", "logicalType": "integer", "quality": [
        {"metric": "duplicateValues", "mustBeLessThan": 25, "unit": "percent"},
        {"id": "few", "metric": "duplicateValues", "mustBeLessThan": 2}]}]
    r = check(contract_file(tmp_path, props), pl.DataFrame({"id": [1, 1, 1, 2, 3, 4, 5, 6, 7, 8]}))
    pct = r.check("t.id.duplicateValues")
    assert (pct.observed, pct.failed_rows, pct.passed) == (30.0, 3, False)
    assert (r.check("t.id.few").observed, r.check("t.id.few").passed) == (1, True)
    clean = check(contract_file(tmp_path, props), pl.DataFrame({"id": [1, 2, 3]}))
    assert clean.check("t.id.duplicateValues").observed == 0.0


def test_findings_say_pass_when_every_check_passed(tmp_path):
    props = [{"name": "n", "logicalType": "integer", "required": True}]
    res = check(contract_file(tmp_path, props), FRAME.select("n"))
    assert res.passed and res.status == "ok"  # the page's word (green callout)
    found = res.findings("checks_b")
    assert found.status == "pass" and found.name == "checks_b"  # the findings' word
    assert found.notebook == "contract_checks" and found.metrics["gate_passed"] is True


def test_changes_are_read_from_the_previous_findings_of_the_same_name(tmp_path):
    props = [{"name": "n", "logicalType": "integer",
              "logicalTypeOptions": {"maximum": 4}}]
    previous = tmp_path / "previous"
    before = check(contract_file(tmp_path, props), FRAME.select("n"))
    before.findings("checks_b").write(previous)  # failing: n = 5, 6
    now = check(contract_file(tmp_path, props), FRAME.select("n").head(4))
    assert now.findings("checks_b", previous_dir=previous).metrics["resolved_failures"] == 1
    # under another name there is nothing to compare with
    other = now.findings("checks_a", previous_dir=previous)
    assert other.metrics["resolved_failures"] == 0 and other["previous"] is False

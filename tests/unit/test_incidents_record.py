"""Incident record validation: every problem reported, each with its field path."""

import copy
from datetime import UTC, date, datetime

import pytest

from workbench import incidents
from workbench.errors import InputError

VALID = {
    "id": "INC-1", "title": "Scores missing", "severity": "SEV2", "status": "resolved",
    "started_at": "2026-01-01T01:00:00Z", "detected_at": "2026-01-01T01:20:00Z",
    "acknowledged_at": "2026-01-01T01:25:00Z", "mitigated_at": "2026-01-01T01:30:00Z",
    "resolved_at": "2026-01-01T01:45:00Z",
    "affected_models": ["credit_risk"], "summary": "s", "impact": {"description": "d"},
    "trigger": "t", "root_causes": ["r"],
    "contributing_factors": [{"category": "Data_Drift", "description": "shift"}],
    "detection": {"method": "alert", "description": "page"},
    "action_items": [
        {"id": "A1", "description": "d", "owner": "o", "due": "2026-01-10", "status": "open",
         "priority": "P1"},
        {"id": "A2", "description": "d", "owner": "o", "due": "2026-01-20", "status": "done",
         "priority": "P2"},
    ],
}


def _problems(data: dict) -> list[str]:
    with pytest.raises(incidents.RecordError) as info:
        incidents.validate_record(data, file="inc.yaml")
    assert isinstance(info.value, InputError) and info.value.exit_code == 2
    return info.value.problems


def test_valid_record_parses_and_normalises():
    rec = incidents.validate_record(VALID, file="inc.yaml")
    assert rec.categories == ["data drift"]
    assert rec.started_at == datetime(2026, 1, 1, 1, 0, tzinfo=UTC)
    assert rec.action_items[0].due == date(2026, 1, 10)
    assert rec.action_items[0].overdue(datetime(2026, 1, 11, tzinfo=UTC))
    assert not rec.action_items[0].overdue(datetime(2026, 1, 10, tzinfo=UTC))  # due that day
    assert not rec.action_items[1].overdue(datetime(2026, 3, 1, tzinfo=UTC))  # done


def test_naive_timestamps_are_read_as_utc():
    data = {**VALID, "started_at": datetime(2026, 1, 1, 1, 0)}
    assert incidents.validate_record(data).started_at.tzinfo is not None


def test_every_problem_is_reported_with_its_field_path():
    data = copy.deepcopy(VALID)
    data["severity"] = "SEV9"
    data["detected_at"] = "2026-01-01T00:50:00Z"          # before started_at
    data["contributing_factors"][0]["category"] = "cosmic rays"
    data["action_items"].append({"id": "A1", "description": "d", "owner": "", "due": "soon",
                                 "status": "open"})
    problems = _problems(data)
    text = "\n".join(problems)
    assert all(p.startswith("inc.yaml: ") for p in problems)
    assert "severity: expected one of SEV1, SEV2, SEV3, SEV4, P1, P2, P3, P4, P5" in text
    assert "detected_at: expected at or after started_at" in text
    assert "contributing_factors[0].category: expected one of data drift" in text
    assert "action_items[2].due: expected an ISO 8601 date, got 'soon'" in text
    assert "action_items[2].priority: expected a value (field missing)" in text
    assert "action_items[2].owner: expected non-empty text" in text
    assert "action_items[2].id: expected a unique id" in text
    assert len(problems) == 7
    # One line per problem.
    assert all("\n" not in p for p in problems)


def test_lifecycle_order_and_status_consistency():
    data = {**VALID, "resolved_at": "2026-01-01T01:29:00Z"}
    assert _problems(data) == ["inc.yaml: resolved_at: expected at or after mitigated_at "
                               "(2026-01-01T01:30:00+00:00), got 2026-01-01T01:29:00+00:00"]
    data = {k: v for k, v in VALID.items() if k != "resolved_at"}
    assert _problems(data) == [
        "inc.yaml: resolved_at: expected a timestamp when status is resolved"]
    data["status"] = "mitigated"
    assert incidents.validate_record(data).resolved_at is None


def test_unknown_and_missing_fields_are_named():
    data = {k: v for k, v in VALID.items() if k != "trigger"}
    data["severty"] = "SEV1"
    problems = _problems(data)
    assert "inc.yaml: trigger: expected a value (field missing)" in problems
    assert any(p.startswith("inc.yaml: severty: expected no such field") for p in problems)


def test_not_a_mapping():
    with pytest.raises(InputError, match="expected a YAML mapping"):
        incidents.validate_record(["a"], file="x.yaml")


def test_event_log_jsonl_and_bad_timestamps(tmp_path):
    good = tmp_path / "events.jsonl"
    good.write_text('{"timestamp": "2026-01-01T01:05:00Z", "source": "ci", "kind": "deploy", '
                    '"message": "v2"}\n{"timestamp": "2026-01-01T01:00:00+01:00", "source": "mon", '
                    '"kind": "alert", "message": "<b>x</b>"}\n')
    ev = incidents.load_events(good)
    # Sorted by UTC time: 01:00+01:00 is 00:00 UTC.
    assert ev["kind"].to_list() == ["alert", "deploy"]
    assert ev["timestamp"][0] == datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    bad = tmp_path / "events.csv"
    bad.write_text("timestamp,source,kind,message\nyesterday,a,b,c\n")
    with pytest.raises(InputError, match=r"events.csv: timestamp: expected ISO 8601 timestamps"):
        incidents.load_events(bad)
    missing = tmp_path / "slis.csv"
    missing.write_text("timestamp,requests\n2026-01-01T00:00:00Z,5\n")
    with pytest.raises(InputError, match=r"slis.csv: errors: expected failed"):
        incidents.load_slis(missing)


def test_slo_definitions_problems_by_field_path(tmp_path):
    path = tmp_path / "slos.yaml"
    path.write_text("availability: {target: 99.5}\nlatency: {threshold_ms: -1, target: 0.99}\n")
    with pytest.raises(incidents.RecordError) as info:
        incidents.load_slos(path)
    text = "\n".join(info.value.problems)
    assert "availability.target: expected" in text and "latency.threshold_ms: expected" in text

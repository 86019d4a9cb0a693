"""The incident record (YAML), its event log, SLI series and SLO definitions.

Validation collects every problem before raising, each as ``file: field.path: expected X,
got Y`` (e.g. ``action_items[2].due``), in the spirit of pandera's ``lazy=True``.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from workbench import io
from workbench.errors import InputError, input_error

CATEGORIES = (
    "data drift",
    "label noise",
    "feature leakage",
    "training-serving skew",
    "pipeline outage",
    "resource exhaustion",
    "bad deploy",
    "dependency failure",
    "data contract breach",
    "other",
)
SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
STATUSES = ("open", "investigating", "mitigated", "resolved", "closed")
ITEM_STATUSES = ("open", "in_progress", "done", "wontfix")
ITEM_CLOSED = ("done", "wontfix")
PRIORITIES = ("P0", "P1", "P2", "P3")
# Lifecycle order: each pair (earlier, later) must hold when both are present.
TIME_ORDER = (
    ("started_at", "detected_at"),
    ("detected_at", "acknowledged_at"),
    ("detected_at", "mitigated_at"),
    ("mitigated_at", "resolved_at"),
    ("acknowledged_at", "resolved_at"),
)
EVENT_COLUMNS = {
    "timestamp": "event time (ISO 8601, UTC)",
    "source": "who or what emitted it",
    "kind": "alert, deploy, rollback, drift, contract, ...",
    "message": "text",
}
SLI_COLUMNS = {
    "timestamp": "minute start (ISO 8601, UTC)",
    "requests": "request count",
    "errors": "failed (5xx) request count",
}


def _canon_category(value: str) -> str:
    return " ".join(str(value).strip().lower().replace("_", " ").split()).replace(
        "training serving", "training-serving"
    )


def _utc(value: datetime) -> datetime:
    # Naive timestamps are read as UTC: records are written by people, and UTC is the convention.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ContributingFactor(_Strict):
    category: str
    description: str = Field(min_length=1)

    @field_validator("category")
    @classmethod
    def _known(cls, v: str) -> str:
        c = _canon_category(v)
        if c not in CATEGORIES:
            raise ValueError(f"one of {', '.join(CATEGORIES)}")
        return c


class ActionItem(_Strict):
    id: str = Field(min_length=1)
    description: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    due: date
    status: Literal[ITEM_STATUSES]  # type: ignore[valid-type]
    priority: Literal[PRIORITIES]  # type: ignore[valid-type]
    kind: str = "prevent"

    def overdue(self, as_of: datetime) -> bool:
        return self.status not in ITEM_CLOSED and self.due < as_of.date()


class Lessons(_Strict):
    went_well: list[str] = []
    went_wrong: list[str] = []
    got_lucky: list[str] = []


class Impact(_Strict):
    description: str = Field(min_length=1)
    users_affected: int | None = Field(default=None, ge=0)
    decisions_affected: int | None = Field(default=None, ge=0)
    revenue_at_risk: float | None = Field(default=None, ge=0)


class Detection(_Strict):
    method: Literal["alert", "user report", "manual check", "monitor", "other"]
    description: str = Field(min_length=1)
    alert: str | None = None


class Signals(_Strict):
    """Paths (relative to the record file) of the incident's event log, SLIs and SLOs."""

    events: str | None = None
    slis: str | None = None
    slos: str | None = None


class IncidentRecord(_Strict):
    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    severity: Literal[SEVERITIES]  # type: ignore[valid-type]
    status: Literal[STATUSES]  # type: ignore[valid-type]
    started_at: datetime
    detected_at: datetime
    acknowledged_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    affected_models: list[str] = Field(min_length=1)
    affected_services: list[str] = []
    summary: str = Field(min_length=1)
    impact: Impact
    trigger: str = Field(min_length=1)
    root_causes: list[str] = Field(min_length=1)
    contributing_factors: list[ContributingFactor] = Field(min_length=1)
    resolution: str = ""
    detection: Detection
    lessons_learned: Lessons = Lessons()
    action_items: list[ActionItem] = []
    signals: Signals = Signals()

    @field_validator("started_at", "detected_at", "acknowledged_at", "mitigated_at", "resolved_at")
    @classmethod
    def _as_utc(cls, v: datetime | None) -> datetime | None:
        return None if v is None else _utc(v)

    @property
    def categories(self) -> list[str]:
        return sorted({f.category for f in self.contributing_factors})

    @property
    def closed(self) -> bool:
        return self.status in ("resolved", "closed")


_DT = TypeAdapter(datetime)


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(record)"


def _expected(err: dict[str, Any]) -> str:
    kind, msg, ctx = err["type"], err["msg"], err.get("ctx") or {}
    if kind == "missing":
        return "a value (field missing)"
    if kind == "extra_forbidden":
        return "no such field (unknown field)"
    if kind == "literal_error":
        return f"one of {ctx.get('expected', '')}".replace("'", "")
    if kind == "value_error":
        return str(ctx.get("error", msg))
    if kind.startswith("datetime") or kind.startswith("date"):
        return "an ISO 8601 date" + ("time" if kind.startswith("datetime") else "")
    if kind == "too_short":
        return "at least one entry" if ctx.get("min_length") == 1 else msg.lower()
    if kind == "string_too_short":
        return "non-empty text"
    return msg[0].lower() + msg[1:] if msg else kind


def validate_record(data: Any, file: object = "<record>") -> IncidentRecord:
    """An :class:`IncidentRecord` from parsed YAML, or one InputError listing every problem."""
    if not isinstance(data, dict):
        raise input_error(file, None, "a YAML mapping (an incident record)", type(data).__name__)
    problems: list[str] = []
    record: IncidentRecord | None = None
    try:
        record = IncidentRecord.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            got = err.get("input") if err["type"] not in ("missing",) else None
            got_text = (
                "" if got is None or isinstance(got, dict | list) else f", got {str(got)[:80]!r}"
            )
            problems.append(f"{_path(err['loc'])}: expected {_expected(err)}{got_text}")
    # Cross-field checks run on whatever parsed, so they are reported alongside field errors.
    times: dict[str, datetime] = {}
    for name in ("started_at", "detected_at", "acknowledged_at", "mitigated_at", "resolved_at"):
        if data.get(name) is not None:
            try:
                times[name] = _utc(_DT.validate_python(data[name]))
            except ValidationError:
                pass
    for early, late in TIME_ORDER:
        if early in times and late in times and times[late] < times[early]:
            problems.append(
                f"{late}: expected at or after {early} ({times[early].isoformat()}), "
                f"got {times[late].isoformat()}"
            )
    status = data.get("status")
    if status in ("resolved", "closed") and data.get("resolved_at") is None:
        problems.append(f"resolved_at: expected a timestamp when status is {status}")
    if status in ("mitigated", "resolved", "closed") and data.get("mitigated_at") is None:
        problems.append(f"mitigated_at: expected a timestamp when status is {status}")
    items = data.get("action_items")
    if isinstance(items, list):
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            if isinstance(item, dict) and item.get("id") is not None:
                key = str(item["id"])
                if key in seen:
                    problems.append(
                        f"action_items[{i}].id: expected a unique id, got {key!r} "
                        f"(also action_items[{seen[key]}])"
                    )
                seen.setdefault(key, i)
    if problems:
        head = (
            f"{file}: {len(problems)} problem{'s' if len(problems) > 1 else ''} in incident record"
        )
        raise RecordError(head, problems=[f"{file}: {p}" for p in problems], file=str(file))
    assert record is not None
    return record


class RecordError(InputError):
    """An incident record that does not validate; ``problems`` holds one line per problem."""

    def __init__(self, message: str, *, problems: list[str], **kw: Any) -> None:
        self.problems = problems
        super().__init__(message + ": " + "; ".join(p.split(": ", 1)[1] for p in problems), **kw)


def load_record(path: str | os.PathLike[str]) -> IncidentRecord:
    """Read and validate an incident record YAML file."""
    return validate_record(io.read_yaml(path), file=path)


def resolve_signal(
    record_path: str | os.PathLike[str],
    record: IncidentRecord,
    name: str,
    given: str | os.PathLike[str] | None,
) -> Path | None:
    """An explicit path wins; otherwise the record's ``signals.<name>`` relative to the record."""
    if given:
        return Path(given)
    rel = getattr(record.signals, name)
    return (Path(record_path).parent / rel) if rel else None


def _to_utc_column(frame: pl.DataFrame, name: str, file: object) -> pl.DataFrame:
    dtype = frame.schema[name]
    col = pl.col(name)
    if dtype == pl.String:
        col = col.str.to_datetime(time_zone="UTC", strict=False)
    elif isinstance(dtype, pl.Datetime):
        col = (
            col.dt.replace_time_zone("UTC")
            if dtype.time_zone is None
            else col.dt.convert_time_zone("UTC")
        )
    else:
        raise input_error(file, name, "ISO 8601 timestamps", str(dtype))
    out = frame.with_columns(col.dt.cast_time_unit("us"))
    bad = out[name].null_count() - frame[name].null_count()
    if bad or out[name].null_count():
        raise input_error(
            file,
            name,
            "ISO 8601 timestamps in every row",
            f"{out[name].null_count()} empty or unparseable",
        )
    return out


def load_events(path: str | os.PathLike[str]) -> pl.DataFrame:
    """The event log (CSV or JSONL: timestamp, source, kind, message), sorted by time."""
    frame = (
        io.read_table(path, try_parse_dates=False)
        if str(path).endswith(".csv")
        else io.read_table(path)
    )
    io.require_columns(frame, EVENT_COLUMNS, path)
    frame = _to_utc_column(frame.select(list(EVENT_COLUMNS)), "timestamp", path)
    return frame.with_columns(pl.col("source", "kind", "message").cast(pl.String)).sort(
        "timestamp", maintain_order=True
    )


def load_slis(path: str | os.PathLike[str]) -> pl.DataFrame:
    """Per-minute SLIs: timestamp, requests, errors and optional ``latency_p*_ms`` columns."""
    frame = (
        io.read_table(path, try_parse_dates=False)
        if str(path).endswith(".csv")
        else io.read_table(path)
    )
    io.require_columns(frame, SLI_COLUMNS, path)
    frame = _to_utc_column(frame, "timestamp", path)
    for name in ("requests", "errors"):
        if not frame.schema[name].is_numeric():
            raise input_error(path, name, "a numeric column", str(frame.schema[name]))
    if (frame["errors"] > frame["requests"]).any():
        raise input_error(path, "errors", "at most requests in every row")
    if (frame["requests"] < 0).any() or (frame["errors"] < 0).any():
        raise input_error(path, "requests", "non-negative counts")
    return frame.sort("timestamp")

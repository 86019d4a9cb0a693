"""The incident record (YAML), its event log, SLI series and SLO definitions.

Validation collects every problem before raising, each as ``file: field.path: expected X,
got Y`` (e.g. ``action_items[2].due``), in the spirit of pandera's ``lazy=True``.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from workbench import io
from workbench.errors import RecordError, input_error, pydantic_problems, summarize

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
    "config change",
    "alerting gap",
    "capacity",
    "third-party outage",
    "human error",
    "other",
)
# SEV1-4 (Google SRE) and P1-P5 (PagerDuty, Opsgenie) are both accepted as written.
SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4", "P1", "P2", "P3", "P4", "P5")
# More of either, comma-separated, for every command and notebook (e.g. a team's own taxonomy).
CATEGORIES_ENV = "WORKBENCH_INCIDENT_CATEGORIES"
SEVERITIES_ENV = "WORKBENCH_INCIDENT_SEVERITIES"
KINDS = ("ml", "service")
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
# the four durations of an incident: (name, definition)
DEFINITIONS = {
    "ttd": ("Time to detect", "started_at → detected_at: how long the impact went unnoticed"),
    "tta": (
        "Time to acknowledge",
        "detected_at → acknowledged_at: how long the page waited for a human",
    ),
    "ttm": ("Time to mitigate", "started_at → mitigated_at: how long users felt the impact"),
    "ttr": ("Time to resolve", "started_at → resolved_at: until the underlying cause was fixed"),
}

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


def _extra(env: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in os.environ.get(env, "").split(",") if x.strip())


def categories() -> tuple[str, ...]:
    """Contributing-factor categories: built-in plus ``$WORKBENCH_INCIDENT_CATEGORIES``."""
    extra = tuple(_canon_category(c) for c in _extra(CATEGORIES_ENV))
    return CATEGORIES + tuple(c for c in extra if c not in CATEGORIES)


def severities() -> tuple[str, ...]:
    """Accepted severities: SEV1-4, P1-P5 and ``$WORKBENCH_INCIDENT_SEVERITIES``."""
    return SEVERITIES + tuple(s for s in _extra(SEVERITIES_ENV) if s not in SEVERITIES)


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
        known = categories()
        if c not in known:
            raise ValueError(f"one of {', '.join(known)} (more: ${CATEGORIES_ENV})")
        return c


class ActionItem(_Strict):
    id: str = Field(min_length=1)
    description: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    due: date | None = None  # None: no due date agreed yet (never overdue, shown as such)
    status: Literal[ITEM_STATUSES]  # type: ignore[valid-type]
    priority: Literal[PRIORITIES]  # type: ignore[valid-type]
    kind: str = "prevent"

    def overdue(self, as_of: datetime) -> bool:
        return self.status not in ITEM_CLOSED and self.due is not None and self.due < as_of.date()


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
    # Prometheus query_range JSON files by kind (requests, errors, latency_buckets); each a
    # path or a list of paths (the chunks of one query).
    prometheus: dict[str, str | list[str]] | None = None


class IncidentRecord(_Strict):
    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    severity: str
    kind: Literal[KINDS] | None = None  # type: ignore[valid-type]  # None: ml when models given
    status: Literal[STATUSES]  # type: ignore[valid-type]
    started_at: datetime
    detected_at: datetime
    acknowledged_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    affected_models: list[str] = []
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

    @field_validator("severity")
    @classmethod
    def _severity(cls, v: str) -> str:
        known = severities()
        if v not in known:
            raise ValueError(f"one of {', '.join(known)} (more: ${SEVERITIES_ENV})")
        return v

    @property
    def incident_kind(self) -> str:
        """``ml`` (a model's incident) or ``service``: decides the pages' wording."""
        return self.kind or ("ml" if self.affected_models else "service")

    @property
    def categories(self) -> list[str]:
        return sorted({f.category for f in self.contributing_factors})

    @property
    def closed(self) -> bool:
        return self.status in ("resolved", "closed")


_DT = TypeAdapter(datetime)


def validate_record(data: Any, file: object = "<record>") -> IncidentRecord:
    """An :class:`IncidentRecord` from parsed YAML, or one InputError listing every problem."""
    if not isinstance(data, dict):
        raise input_error(file, None, "a YAML mapping (an incident record)", type(data).__name__)
    problems: list[str] = []
    record: IncidentRecord | None = None
    try:
        record = IncidentRecord.model_validate(data)
    except ValidationError as exc:
        problems = pydantic_problems(file, [dict(e) for e in exc.errors()], root="(record)")
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
                f"{file}: {late}: expected at or after {early} ({times[early].isoformat()}), "
                f"got {times[late].isoformat()}"
            )
    status = data.get("status")
    if status in ("resolved", "closed") and data.get("resolved_at") is None:
        problems.append(f"{file}: resolved_at: expected a timestamp when status is {status}")
    if status in ("mitigated", "resolved", "closed") and data.get("mitigated_at") is None:
        problems.append(f"{file}: mitigated_at: expected a timestamp when status is {status}")
    items = data.get("action_items")
    if isinstance(items, list):
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            if isinstance(item, dict) and item.get("id") is not None:
                key = str(item["id"])
                if key in seen:
                    problems.append(
                        f"{file}: action_items[{i}].id: expected a unique id, got {key!r} "
                        f"(also action_items[{seen[key]}])"
                    )
                seen.setdefault(key, i)
    if problems:
        raise RecordError(summarize(file, "incident record", problems), problems=problems,
                          file=str(file))
    assert record is not None
    return record


_CUT = re.compile(
    r"""^\s*(?:-\s+)?(?:(?P<key>[A-Za-z_][\w.-]*):[ \t]+)?"""
    r"""(?P<value>[^'"\s|>&*!\[{#-][^#\n]*?)[ \t]+#(?P<rest>\S[^\n]*)$"""
)


def comment_cuts(path: str | os.PathLike[str]) -> list[str]:
    """Warnings for plain YAML values cut short by a comment (``trigger: config PR #4812``).

    YAML reads `` #`` as the start of a comment, so the value silently loses its tail. A comment
    written on purpose has a space after ``#``; ``#4812`` or ``#ops`` almost never does.
    """
    out: list[str] = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return out
    for n, line in enumerate(lines, 1):
        m = _CUT.match(line)
        if m:
            key = m.group("key") or "list item"
            out.append(
                f"{path} line {n}: {key}: YAML read {m.group('value').strip()!r} and dropped "
                f"'#{m.group('rest')}' as a comment; quote the value to keep it"
            )
    return out


def todo_fields(data: Any, where: str = "") -> list[str]:
    """Paths of the text fields still starting with TODO (an imported skeleton's narrative)."""
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in todo_fields(v, f"{where}.{k}" if where else k)]
    if isinstance(data, list):
        return [p for i, v in enumerate(data) for p in todo_fields(v, f"{where}[{i}]")]
    return [where] if isinstance(data, str) and data.strip().upper().startswith("TODO") else []


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
    return read_slis(path)[0]


def read_slis(path: str | os.PathLike[str]) -> tuple[pl.DataFrame, list[str]]:
    """Per-minute SLIs and the notes on their step (one line when rows were resampled).

    Optional columns: ``latency_p*_ms`` (a percentile per minute) or ``latency_good`` and
    ``latency_total`` (requests within the latency threshold, and all requests it applies to).
    """
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
    return sli_minutes(frame.sort("timestamp"), path)


def sli_minutes(frame: pl.DataFrame, file: object) -> tuple[pl.DataFrame, list[str]]:
    """SLIs are one row per minute. Finer rows (15 s, 30 s) are summed into minutes when they
    only carry counts (said in a note); coarser rows, or finer rows with a percentile column
    (percentiles cannot be added up), are refused: counting them as minutes would be wrong."""
    if frame.height < 2:
        return frame, []
    diffs = frame["timestamp"].diff().drop_nulls().dt.total_seconds()
    diffs = diffs.filter(diffs > 0)
    if diffs.len() == 0:
        raise input_error(file, "timestamp", "one row per minute", "every row at the same time")
    step = int(diffs.min())  # type: ignore[arg-type]
    dup = frame["timestamp"].is_duplicated().any()
    if step == 60 and not dup and not (diffs % 60 != 0).any():
        return frame, []
    if step < 60 and 60 % step == 0:
        pct = [c for c in frame.columns if c.startswith("latency_p")]
        if pct:
            raise input_error(
                file,
                "timestamp",
                "one row per minute (rows every "
                f"{step} s cannot be resampled: {pct[0]} is a percentile)",
                f"{step} s",
            )
        counts = [c for c in frame.columns if c != "timestamp" and frame.schema[c].is_numeric()]
        out = (
            frame.group_by(pl.col("timestamp").dt.truncate("1m"))
            .agg(pl.col(c).sum() for c in counts)
            .sort("timestamp")
        )
        note = f"{file}: rows every {step} s were summed into minutes ({60 // step} per minute)"
        return out, [note]
    raise input_error(
        file,
        "timestamp",
        "one row per minute (timestamp = minute start)",
        f"rows {step} s apart" if not dup else "repeated timestamps",
    )

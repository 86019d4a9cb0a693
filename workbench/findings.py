"""Findings: what one notebook run concludes, in the one shape every reader accepts.

A notebook writes its findings once, as ``<results_dir>/<findings_name>.results.json``; the
pack builder passes ``findings_name`` (the spec's notebook name), so the same notebook can run
twice in one pack under two names. Gates, the review summary, the incident evidence, the pack
index and the fleet index read findings only through :func:`read_findings` /
:func:`read_findings_dir`.

On disk the document is flat, so the files of earlier packs stay readable::

    {"schema_version": 1, "notebook": NOTEBOOK, "status": ..., "headline": ...,
     "metrics": {...}, <details, one key each>}

The file name is the findings *name* (a spec's notebook name, e.g. ``drift_fraud``);
``notebook`` is the notebook that wrote them (``drift``), which names the area through
:mod:`workbench.areas`. In the demo pack the two are equal.

``metrics`` are flat figures that gates can read (numbers, booleans, strings, null; dotted
names such as ``cost_per_1k_predictions.credit_risk`` address nested mappings). ``details``
hold everything else an area wants a later reader to see; they are area-specific.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from workbench.atomic import write_json
from workbench.errors import InputError

if TYPE_CHECKING:
    import polars as pl

SCHEMA_VERSION = 1
SUFFIX = ".results.json"
PARTIAL_SUFFIX = ".results.partial.json"

Status = Literal["pass", "warn", "fail", "error", "unknown", "info"]
STATUSES: tuple[str, ...] = ("pass", "warn", "fail", "error", "unknown", "info")
_CORE = ("schema_version", "notebook", "status", "headline", "metrics")
LEGACY_PASS = "ok"  # the passing status of results files written before schema_version 1


@dataclass(frozen=True)
class Findings:
    """What a notebook concluded. ``name`` is the name the findings are written under;
    ``notebook`` the notebook that wrote them (the area's notebook, ``name`` when empty)."""

    name: str
    status: str
    headline: str
    metrics: Mapping[str, Any] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION
    notebook: str = ""

    def __post_init__(self) -> None:
        if not self.notebook:
            object.__setattr__(self, "notebook", self.name)
        if self.status not in STATUSES:
            raise ValueError(
                f"findings {self.name!r}: status {self.status!r} not one of {STATUSES}")
        clash = sorted(set(self.details) & set(_CORE))
        if clash:
            raise ValueError(f"findings {self.name!r}: details may not use the keys {clash}")

    # -- one way to write -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The flat document written to disk (core keys first, then details in order)."""
        return {
            "schema_version": self.schema_version,
            "notebook": self.notebook,
            "status": self.status,
            "headline": self.headline,
            "metrics": dict(self.metrics),
            **dict(self.details),
        }

    def write(self, results_dir: str | os.PathLike[str] = ".") -> Path:
        """Write ``<results_dir>/<name>.results.json`` (atomic, deterministic bytes)."""
        return write_json(Path(results_dir) / f"{self.name}{SUFFIX}", self.to_dict())

    def renamed(self, name: str) -> Findings:
        return Findings(name, self.status, self.headline, self.metrics, self.details,
                        self.schema_version, self.notebook)

    # -- one way to read --------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, name: str | None = None,
                  source: str = "findings") -> Findings:
        """Parse a findings document; ``InputError`` naming ``source`` and the field if unusable."""
        if not isinstance(data, Mapping):
            raise InputError(f"{source}: expected a JSON object of findings, got "
                             f"{type(data).__name__}", file=source)
        for key, kind in (("status", str), ("headline", str), ("metrics", Mapping)):
            if not isinstance(data.get(key), kind):
                raise InputError(
                    f"{source}: {key}: expected {'a mapping' if kind is Mapping else 'a string'}, "
                    f"got {type(data.get(key)).__name__}", file=source, field=key)
        if data["status"] == LEGACY_PASS and "schema_version" not in data:
            data = {**data, "status": "pass"}  # written before findings had a schema
        if data["status"] not in STATUSES:
            raise InputError(f"{source}: status: expected one of {', '.join(STATUSES)}, got "
                             f"{data['status']!r}", file=source, field="status")
        version = data.get("schema_version", SCHEMA_VERSION)
        if not isinstance(version, int) or version > SCHEMA_VERSION:
            raise InputError(f"{source}: schema_version: expected at most {SCHEMA_VERSION}, got "
                             f"{version!r} (written by a newer workbench)", file=source,
                             field="schema_version")
        details = {k: v for k, v in data.items() if k not in _CORE}
        notebook = str(data.get("notebook") or "")
        return cls(name or notebook or Path(source).name.removesuffix(SUFFIX),
                   data["status"], data["headline"], dict(data["metrics"]), details, version,
                   notebook)

    # -- helpers for readers ----------------------------------------------------------------
    def metric(self, dotted: str) -> Any:
        """A metric by name; a dotted name walks nested mappings. ``KeyError`` if absent."""
        if dotted in self.metrics:
            return self.metrics[dotted]
        node: Any = self.metrics
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise KeyError(dotted)
            node = node[part]
        return node

    def get(self, key: str, default: Any = None) -> Any:
        """A core field or a detail by key (as the flat document has it)."""
        return self.to_dict().get(key, default)

    def __getitem__(self, key: str) -> Any:
        doc = self.to_dict()
        return doc[key]


def number(value: Any) -> float | None:
    """A metric or detail as a finite number, else None (bools are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def findings_path(results_dir: str | os.PathLike[str], name: str) -> Path:
    return Path(results_dir) / f"{name}{SUFFIX}"


def read_findings(path: str | os.PathLike[str]) -> Findings:
    """Read one findings file. ``InputError`` (exit 2) naming the file when it is unusable."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{p}: no such findings file", file=str(p)) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{p}: expected findings JSON, got unreadable text ({exc})",
                         file=str(p)) from None
    return Findings.from_dict(data, name=p.name.removesuffix(SUFFIX), source=str(p))


def read_findings_dir(directory: str | os.PathLike[str],
                      names: list[str] | None = None) -> dict[str, Findings | None]:
    """``{name: Findings or None}``: the named findings (None where missing or unusable), or
    every ``*.results.json`` in ``directory`` when ``names`` is None (unusable ones skipped)."""
    d = Path(directory)
    if names is None:
        names = sorted(p.name.removesuffix(SUFFIX) for p in _files(d))
    out: dict[str, Findings | None] = {}
    for name in names:
        try:
            out[name] = read_findings(findings_path(d, name))
        except InputError:
            out[name] = None
    return out


def _files(d: Path) -> Iterator[Path]:
    if d.is_dir():
        yield from (p for p in d.glob(f"*{SUFFIX}") if p.is_file())


@dataclass(frozen=True)
class Change:
    """One line of "what changed since the previous version", as the review summary shows
    it; each area's ``_compare.compare(before, now)`` returns a list of them."""

    area: str  # the area's label (contract | drift | cost | incidents) or gates
    kind: str  # e.g. "new failure", "started drifting", "value/cost", "new incident"
    item: str  # check id, column, model, incident id, gate id
    text: str  # one plain sentence
    direction: str  # "worse" | "better" | "info"
    before: Any = None
    after: Any = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@runtime_checkable
class AreaResult(Protocol):
    """What the entry verb of every area returns (checked for every area by one test)."""

    @property
    def status(self) -> str: ...

    @property
    def headline(self) -> str: ...

    @property
    def metrics(self) -> Mapping[str, Any]: ...

    def frame(self) -> pl.DataFrame:
        """The result's main table (one row per check, column, model, ...)."""
        ...

    def to_dict(self) -> dict[str, Any]: ...

    def findings(self, name: str | None = None, **context: Any) -> Findings:
        """The findings to write under ``name`` (the area's notebook name when None)."""
        ...

    def _repr_html_(self) -> str: ...

"""Lint an ODCS contract: schema errors and the problems a person would miss, with YAML paths.

Every problem has the YAML path of what is wrong and a rule:

* ``schema``: what the ODCS JSON Schema, its pydantic model or workbench's loader refuse
  (wrong types, unknown fields, metrics, operators and units workbench cannot run, servers
  missing what their type needs, relationships to unknown columns);
* ``contradiction``: rules no data can satisfy together (``minimum`` above ``maximum``,
  ``minLength`` above ``maxLength``, ``mustBeBetween`` with its ends swapped, a primary key
  that is not required, valid values the column's own range, length or pattern refuse);
* ``type``: rules that cannot apply to the column's type (valid values of another type, a
  range on text through a quality rule's arguments);
* ``unknown-column``: rules naming columns or schema objects the contract does not declare
  (``duplicateValues`` properties, SLA ``element``, SQL ``FROM`` tables);
* ``server``: a local server whose file does not exist or whose format cannot be told;
* ``sla``: service levels that cannot be evaluated (no value, a unit that is not a time).

``custom`` quality rules (another engine's) and SLA properties workbench does not execute
are *notes*: shown, not problems. The contract is clean when there is no problem.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from open_data_contract_standard.model import DataQuality, SchemaProperty

from workbench import io
from workbench.contracts._model import (
    Contract,
    column_name,
    contract_from_dict,
    walk_properties,
)
from workbench.errors import ContractError

EXECUTED_SLAS = {"freshness", "latency", "retention", "frequency", "timeofavailability",
                 "availability", "errorrate"}
_TIME_UNITS = {"ms", "s", "sec", "second", "seconds", "m", "min", "minute", "minutes", "h",
               "hr", "hour", "hours", "d", "day", "days", "w", "week", "weeks", "mo", "month",
               "months", "y", "yr", "year", "years"}


@dataclass(frozen=True)
class Problem:
    path: str
    rule: str
    message: str
    note: bool = False  # shown, but does not make the contract unclean

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "rule": self.rule, "message": self.message,
                "severity": "note" if self.note else "error"}


@dataclass(frozen=True)
class LintResult:
    contract: str
    problems: tuple[Problem, ...] = field(default_factory=tuple)

    @property
    def clean(self) -> bool:
        return not any(not p.note for p in self.problems)

    def to_dict(self) -> dict[str, Any]:
        return {"contract": self.contract, "clean": self.clean,
                "problems": [p.to_dict() for p in self.problems]}

    def lines(self) -> list[str]:
        return [f"{self.contract}: {p.path}: {'note: ' if p.note else ''}{p.message} "
                f"[{p.rule}]" for p in self.problems]


def lint(path: str | os.PathLike[str]) -> LintResult:
    """Lint the contract at ``path``. A file that is not readable YAML is unusable input
    (:class:`~workbench.errors.InputError`); everything else is a problem in the result."""
    src = str(path)
    doc = io.read_yaml(src)
    try:
        contract = contract_from_dict(doc, src)
    except ContractError as exc:
        problems = [_schema_problem(line, src) for line in exc.problems]
        return LintResult(contract=src, problems=tuple(problems))
    return LintResult(contract=src, problems=tuple(lint_contract(contract)))


def _schema_problem(line: str, src: str) -> Problem:
    text = line[len(src) + 2:] if line.startswith(f"{src}: ") else line
    where, _, message = text.partition(": ")
    return Problem(path=where, rule="schema", message=message or text)


def lint_contract(contract: Contract) -> list[Problem]:
    """The problems of a contract that loads (the schema already passed)."""
    odcs = contract.odcs
    out: list[Problem] = []
    objects = odcs.schema_ or []
    names = {n for o in objects for n in (o.name, o.physicalName) if n}
    for i, obj in enumerate(objects):
        base = f"schema[{i}]"
        columns = {n for p in obj.properties or [] for n in (p.name, p.physicalName) if n}
        for prop, where in walk_properties(obj.properties or []):
            out += _property_problems(prop, f"{base}.{where}")
            for k, q in enumerate(prop.quality or []):
                out += _quality_problems(q, f"{base}.{where}.quality[{k}]", prop, columns, names)
        for k, q in enumerate(obj.quality or []):
            out += _quality_problems(q, f"{base}.quality[{k}]", None, columns, names)
    out += _sla_problems(contract)
    out += _server_problems(contract)
    return out


# --- properties ---

def _property_problems(prop: SchemaProperty, where: str) -> list[Problem]:
    out: list[Problem] = []
    opts = dict(prop.logicalTypeOptions or {})
    for lo, hi in (("minimum", "maximum"), ("exclusiveMinimum", "exclusiveMaximum"),
                   ("minimum", "exclusiveMaximum"), ("exclusiveMinimum", "maximum"),
                   ("minLength", "maxLength"), ("minItems", "maxItems"),
                   ("minProperties", "maxProperties")):
        a, b = _comparable(opts.get(lo)), _comparable(opts.get(hi))
        if a is None or b is None:
            continue
        strict = lo.startswith("exclusive") or hi.startswith("exclusive")
        if a > b or (strict and a >= b):
            out.append(Problem(f"{where}.logicalTypeOptions.{lo}", "contradiction",
                               f"{lo} {opts[lo]!r} is not below {hi} {opts[hi]!r}: no value "
                               "can pass both"))
    if prop.primaryKey and prop.required is False:
        out.append(Problem(f"{where}.required", "contradiction",
                           "a primary key column cannot be null, but required is false"))
    values = [e.value for e in prop.enum or []] if getattr(prop, "enum", None) else None
    if values is None:
        for q in prop.quality or []:
            valid = (q.arguments or {}).get("validValues")
            if q.metric == "invalidValues" and isinstance(valid, list):
                values = valid
                break
    if values:
        out += _valid_value_problems(prop, values, opts, where)
    return out


def _valid_value_problems(prop: SchemaProperty, values: list[Any], opts: dict[str, Any],
                          where: str) -> list[Problem]:
    out: list[Problem] = []
    ltype = prop.logicalType
    wrong = [v for v in values if v is not None and not _fits(v, ltype)]
    if wrong:
        out.append(Problem(f"{where}", "type", f"valid values {_list(wrong)} are not "
                           f"{ltype} values, so they can never match the column"))
    checks = {"minimum": lambda v, b: v < b, "maximum": lambda v, b: v > b,
              "exclusiveMinimum": lambda v, b: v <= b, "exclusiveMaximum": lambda v, b: v >= b}
    for key, refused in checks.items():
        bound = _comparable(opts.get(key))
        if bound is None:
            continue
        bad = [v for v in values if isinstance(_comparable(v), float) and refused(
            _comparable(v), bound)]
        if bad:
            out.append(Problem(f"{where}.logicalTypeOptions.{key}", "contradiction",
                               f"valid values {_list(bad)} are outside {key} {opts[key]!r}: "
                               "the column's own range refuses them"))
    pattern = opts.get("pattern")
    if isinstance(pattern, str):
        try:
            rx = re.compile(pattern)
        except re.error:
            rx = None
        bad = [v for v in values if isinstance(v, str) and rx is not None and not rx.search(v)]
        if bad:
            out.append(Problem(f"{where}.logicalTypeOptions.pattern", "contradiction",
                               f"valid values {_list(bad)} do not match pattern {pattern!r}"))
    for key, refused in (("maxLength", lambda n, b: n > b), ("minLength", lambda n, b: n < b)):
        bound = opts.get(key)
        if isinstance(bound, int):
            bad = [v for v in values if isinstance(v, str) and refused(len(v), bound)]
            if bad:
                out.append(Problem(f"{where}.logicalTypeOptions.{key}", "contradiction",
                                   f"valid values {_list(bad)} break {key} {bound}"))
    return out


def _fits(value: Any, ltype: str | None) -> bool:
    if ltype is None or ltype in {"object", "array"}:
        return True
    if ltype == "integer":
        return isinstance(value, int) and not isinstance(value, bool) or (
            isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value) is not None)
    if ltype == "number":
        return isinstance(value, int | float) and not isinstance(value, bool) or (
            isinstance(value, str) and _comparable(value) is not None)
    if ltype == "boolean":
        return isinstance(value, bool) or str(value).lower() in {"true", "false"}
    if ltype == "string":
        return isinstance(value, str)
    return True  # dates and times: any text may be one


# --- quality rules ---

_PLACEHOLDER = re.compile(r"\$?\{(model|table|object|schema|column|property|field)\}")


def _tables(query: str) -> set[str]:
    """The tables a SQL rule reads, as DuckDB's parser finds them (placeholders such as
    ``${table}`` stand for the schema object itself); none when it does not parse (the
    check reports that when it runs)."""
    import duckdb

    try:
        return set(duckdb.get_table_names(_PLACEHOLDER.sub("_placeholder_", query)))
    except duckdb.Error:
        return set()


def _quality_problems(q: DataQuality, where: str, prop: SchemaProperty | None,
                      columns: set[str], tables: set[str]) -> list[Problem]:
    out: list[Problem] = []
    kind = q.type or "library"
    if kind == "custom":
        return [Problem(where, "not-run", f"custom rule for engine {q.engine or 'unnamed'!r}: "
                        "workbench reports it as not run", note=True)]
    for op in ("mustBeBetween", "mustNotBeBetween"):
        pair = getattr(q, op)
        if isinstance(pair, list) and len(pair) == 2:
            a, b = _comparable(pair[0]), _comparable(pair[1])
            if a is not None and b is not None and a > b:
                out.append(Problem(f"{where}.{op}", "contradiction",
                                   f"{op} {pair!r} has its low end above its high end"))
    if q.unit == "percent":
        for op in ("mustBeGreaterThan", "mustBeGreaterOrEqualTo"):
            v = _comparable(getattr(q, op))
            if v is not None and v >= 100 and q.metric in {"nullValues", "missingValues",
                                                            "invalidValues",
                                                            "duplicateValues"}:
                out.append(Problem(f"{where}.{op}", "contradiction",
                                   f"{op} {v:g} percent: no share of rows can reach it"))
    if kind == "sql" and q.query:
        for name in sorted(_tables(q.query)):
            table = name.split(".")[-1]
            if table not in tables and table != "_placeholder_":
                out.append(Problem(f"{where}.query", "unknown-column",
                                   f"the query reads table {name!r}, which is not a schema "
                                   f"object of this contract ({_list(sorted(tables))})"))
    args = q.arguments or {}
    if q.metric == "duplicateValues" and isinstance(args.get("properties"), list):
        unknown = [c for c in args["properties"] if c not in columns]
        if unknown:
            out.append(Problem(f"{where}.arguments.properties", "unknown-column",
                               f"columns {_list(unknown)} are not declared in this schema "
                               "object"))
    if prop is not None and q.metric == "invalidValues" and "pattern" in args and (
            prop.logicalType in {"object", "array"}):
        out.append(Problem(f"{where}.arguments.pattern", "type",
                           f"a pattern cannot apply to an {prop.logicalType} column"))
    if q.metric == "rowCount" and prop is not None:
        out.append(Problem(f"{where}.metric", "type",
                           "rowCount counts a schema object's rows; put it on the object"))
    return out


# --- service levels ---

def _sla_problems(contract: Contract) -> list[Problem]:
    out: list[Problem] = []
    odcs = contract.odcs
    objects = {o.name or o.physicalName: o for o in odcs.schema_ or []}
    for k, sla in enumerate(odcs.slaProperties or []):
        where = f"slaProperties[{k}]"
        name = (sla.property or "").strip()
        if name.lower() not in EXECUTED_SLAS:
            out.append(Problem(where, "not-run", f"service level {name!r} is not executed by "
                               "workbench (reported as not run)", note=True))
            continue
        unit = (sla.unit or "").strip().lower()
        if name.lower() in {"freshness", "latency", "retention", "frequency"}:
            if sla.unit is not None and unit not in _TIME_UNITS:
                out.append(Problem(f"{where}.unit", "sla", f"{name}: {sla.unit!r} is not a time "
                                   "unit (ms, s, min, h, d, w, mo, y)"))
        for part in [p.strip() for p in str(sla.element or "").split(",") if p.strip()]:
            table, _, column = part.rpartition(".")
            obj = objects.get(table) if table else None
            if table and obj is None and not any(
                    o.physicalName == table for o in objects.values()):
                out.append(Problem(f"{where}.element", "unknown-column",
                                   f"{part!r} names schema object {table!r}, which the "
                                   "contract does not declare"))
                continue
            candidates = [obj] if obj is not None else list(objects.values())
            if not any(column in {p.name, p.physicalName, column_name(p)}
                       for o in candidates for p in o.properties or []):
                out.append(Problem(f"{where}.element", "unknown-column",
                                   f"{part!r}: no column {column!r} is declared"))
    return out


# --- servers ---

def _server_problems(contract: Contract) -> list[Problem]:
    out: list[Problem] = []
    for k, server in enumerate(contract.odcs.servers or []):
        where = f"servers[{k}]"
        if server.type != "local":
            continue
        raw = str(server.path or server.location or "")
        if not raw:
            out.append(Problem(f"{where}.path", "server", "a local server needs a path"))
            continue
        try:
            io.table_format(raw.replace("{model}", "x"), server.format)
        except Exception:  # noqa: BLE001 - any refusal means the same to the reader
            out.append(Problem(f"{where}.format", "server", f"format {server.format!r} and path "
                               f"{raw!r} do not say whether it is csv, parquet or json"))
        for path in _expand(contract, raw):
            if "://" in path or any(ch in path for ch in "*?["):
                continue
            if not Path(path).exists():
                out.append(Problem(f"{where}.path", "server",
                                   f"{path} does not exist (relative paths are read from the "
                                   "contract's folder)"))
    return out


def _expand(contract: Contract, raw: str) -> Iterable[str]:
    names = contract.schema_names if ("{model}" in raw or "{schema}" in raw) else [None]
    base = Path(contract.path).parent
    for name in names:
        path = raw if name is None else raw.replace("{model}", name).replace("{schema}", name)
        yield path if "://" in path or os.path.isabs(path) else os.path.normpath(base / path)


# --- helpers ---

def _comparable(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if hasattr(value, "isoformat"):
        value = value.isoformat()
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    from datetime import UTC, datetime, time

    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    except ValueError:
        pass
    try:
        t = time.fromisoformat(text)
        return t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6
    except ValueError:
        return None


def _list(values: Iterable[Any], limit: int = 5) -> str:
    items = [repr(v) for v in values]
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")

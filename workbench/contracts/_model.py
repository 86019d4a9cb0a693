"""Loading ODCS v3 contracts: YAML -> validated :class:`Contract`.

Validation happens in three layers, and every problem found becomes one line of the
:class:`~workbench.errors.ContractError` (``file: yaml.path: expected ...``):

1. the ODCS JSON Schema shipped with ``open-data-contract-standard`` (structure, types,
   enums, per-logicalType ``logicalTypeOptions``);
2. the package's pydantic model :class:`OpenDataContractStandard` (what the rest of the
   code reads);
3. workbench's own rules: library metrics, operators, units and SQL rules it can run.
   A library or SQL rule workbench cannot evaluate is an error, never silently skipped; a
   ``custom`` rule (another engine's: soda, great expectations, ...) loads and is reported
   as an ``info`` check that did not run.

ODCS v3.0.x contracts that name a library rule with ``rule:`` instead of ``metric:`` are
accepted: ``rule`` is read as ``metric`` before validation.
"""

from __future__ import annotations

import copy
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import polars as pl
import pydantic
from open_data_contract_standard.model import (
    DataQuality,
    OpenDataContractStandard,
    SchemaObject,
    SchemaProperty,
    Server,
)

from workbench.contracts import _render
from workbench.contracts._history import NOTEBOOK, changes, previous_checks
from workbench.contracts._names import column_name, schema_name, walk_properties
from workbench.contracts._relations import relationship_problems
from workbench.contracts._where import locate
from workbench.errors import ContractError, field_path
from workbench.findings import Findings
from workbench.io import read_yaml
from workbench.render import fmt_exact

DEFAULT_SENSITIVE: frozenset[str] = frozenset({"confidential", "restricted", "sensitive", "pii"})

LIBRARY_METRICS = ("nullValues", "missingValues", "invalidValues", "duplicateValues", "rowCount")
OPERATORS = ("mustBe", "mustNotBe", "mustBeGreaterThan", "mustBeGreaterOrEqualTo",
             "mustBeLessThan", "mustBeLessOrEqualTo", "mustBeBetween", "mustNotBeBetween")
UNITS = ("rows", "percent")
SEVERITIES = ("error", "warning", "info")


def severity_of(text: str | None) -> str:
    """ODCS severity is free text: warning/warn and info are non-blocking, the rest errors."""
    value = (text or "error").strip().lower()
    if value in {"warning", "warn"}:
        return "warning"
    if value in {"info", "information", "informational"}:
        return "info"
    return "error"
STRING_FORMATS = ("email", "uuid", "uri", "date", "date-time")
MAX_PROBLEMS = 50


@dataclass(frozen=True)
class ColumnSpec:
    """One declared column of a schema object, as the checks and other areas need it."""

    name: str                      # physicalName when present, else name: the data column
    logical_type: str | None
    physical_type: str | None
    required: bool
    unique: bool
    valid_values: tuple | None     # ODCS 3.2 enum, or a quality invalidValues' validValues
    minimum: Any
    maximum: Any
    sensitive: bool
    property_name: str = ""        # the ODCS ``name`` (used in check ids)
    primary_key: bool = False
    primary_key_position: int | None = None
    classification: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)   # logicalTypeOptions


@dataclass(frozen=True)
class Contract:
    """A validated ODCS contract. ``odcs`` is the pydantic model, ``path`` its file."""

    odcs: OpenDataContractStandard
    path: str
    classifications: frozenset[str] = DEFAULT_SENSITIVE

    @property
    def id(self) -> str:
        return self.odcs.id or self.odcs.name or Path(self.path).stem

    @property
    def schema_names(self) -> list[str]:
        return [schema_name(s, i) for i, s in enumerate(self.odcs.schema_ or [])]

    def schema(self, name: str | None = None) -> SchemaObject:
        """The schema object called ``name`` (the only one when ``name`` is None)."""
        objects = self.odcs.schema_ or []
        if not objects:
            raise ContractError(f"{self.path}: schema: expected at least one schema object",
                                file=self.path, field="schema")
        if name is None:
            if len(objects) > 1:
                raise ContractError(
                    f"{self.path}: schema: expected --schema NAME to choose one of "
                    f"{', '.join(self.schema_names)}", file=self.path, field="schema")
            return objects[0]
        for i, obj in enumerate(objects):
            if name in {schema_name(obj, i), obj.physicalName, obj.name}:
                return obj
        raise ContractError(f"{self.path}: schema: expected one of {', '.join(self.schema_names)}, "
                            f"got {name!r}", file=self.path, field="schema")

    def columns(self, schema: str | None = None) -> list[ColumnSpec]:
        """The declared columns of one schema object (the only one when ``schema`` is None)."""
        obj = self.schema(schema)
        return [column_spec(p, self.classifications) for p in (obj.properties or [])]

    def server(self, schema: str | None = None) -> Server | None:
        """The server a schema object is read from: one whose path is named after it, else one
        whose path has a ``{model}`` (or ``{schema}``) placeholder, else (for a contract with
        one schema object) the first."""
        servers = [s for s in (self.odcs.servers or []) if s.path or s.location]
        if not servers:
            return None
        if schema is not None:
            stems = [(s, Path(str(s.path or s.location)).stem) for s in servers]
            for match in (lambda stem: stem == schema,
                          lambda stem: stem.split(".")[0] == schema,
                          lambda stem: schema in stem):
                for s, stem in stems:
                    if match(stem) and not _placeholder(s):
                        return s
            for s in servers:
                if _placeholder(s):
                    return s
            if len(self.odcs.schema_ or []) > 1:
                return None
        return servers[0]

    def data_path(self, schema: str | None = None) -> str | None:
        """The server's path (placeholder filled in) resolved against the contract's
        directory (URLs untouched)."""
        server = self.server(schema)
        if server is None:
            return None
        raw = str(server.path or server.location)
        if schema is not None:
            raw = raw.replace("{model}", schema).replace("{schema}", schema)
        if "://" in raw or os.path.isabs(raw):
            return raw
        return os.path.normpath(Path(self.path).parent / raw)


def _placeholder(server: Server) -> bool:
    raw = str(server.path or server.location)
    return "{model}" in raw or "{schema}" in raw


def is_sensitive(prop: SchemaProperty, classifications: Iterable[str] = DEFAULT_SENSITIVE) -> bool:
    """Classification in ``classifications``, or a ``pii`` tag or truthy custom property."""
    wanted = {c.lower() for c in classifications}
    if prop.classification and prop.classification.strip().lower() in wanted:
        return True
    if any(str(t).strip().lower() == "pii" for t in (prop.tags or [])):
        return True
    for cp in prop.customProperties or []:
        if (cp.property or "").strip().lower() == "pii":
            value = cp.value
            if value is True or str(value).strip().lower() in {"true", "yes", "1"}:
                return True
    return False


def column_spec(prop: SchemaProperty,
                classifications: Iterable[str] = DEFAULT_SENSITIVE) -> ColumnSpec:
    opts = dict(prop.logicalTypeOptions or {})
    return ColumnSpec(
        name=column_name(prop),
        logical_type=prop.logicalType,
        physical_type=prop.physicalType,
        required=bool(prop.required),
        unique=bool(prop.unique),
        valid_values=valid_values(prop),
        minimum=opts.get("minimum"),
        maximum=opts.get("maximum"),
        sensitive=is_sensitive(prop, classifications),
        property_name=prop.name or column_name(prop),
        primary_key=bool(prop.primaryKey),
        primary_key_position=prop.primaryKeyPosition,
        classification=prop.classification,
        options=opts,
    )


def valid_values(prop: SchemaProperty) -> tuple | None:
    """ODCS 3.2 ``enum`` values, else the first invalidValues rule's ``validValues``."""
    if prop.enum:
        return tuple(e.value for e in prop.enum)
    for q in prop.quality or []:
        if (q.metric or q.rule) == "invalidValues" and q.arguments and "validValues" in q.arguments:
            return tuple(q.arguments["validValues"])
    return None


def sensitive_columns(contract: Contract,
                      classifications: Iterable[str] = DEFAULT_SENSITIVE) -> set[str]:
    """Data column names (every schema object) that must be masked wherever shown."""
    wanted = frozenset(classifications)
    # a sensitive nested field masks the whole column it lives in
    return {column_name(p) for obj in (contract.odcs.schema_ or []) for p in (obj.properties or [])
            if any(is_sensitive(q, wanted) for q, _ in walk_properties([p]))}


# --- loading and validation -------------------------------------------------------------

SENSITIVE_ENV = "WORKBENCH_SENSITIVE_CLASSIFICATIONS"


def default_classifications() -> frozenset[str]:
    """The classifications that make a column sensitive: ``$WORKBENCH_SENSITIVE_CLASSIFICATIONS``
    (comma-separated; it reaches pack kernels too) or :data:`DEFAULT_SENSITIVE`."""
    raw = os.environ.get(SENSITIVE_ENV, "")
    chosen = frozenset(c.strip().lower() for c in raw.split(",") if c.strip())
    return chosen or DEFAULT_SENSITIVE


def load_contract(path: str | os.PathLike[str], *,
                  classifications: Iterable[str] | None = None) -> Contract:
    """Read and validate an ODCS v3 YAML contract; raise ContractError listing every problem.

    ``classifications`` (default :func:`default_classifications`) are the ODCS
    classification values that make a column sensitive (masked everywhere)."""
    src = str(path)
    doc = read_yaml(src)
    return contract_from_dict(doc, src, classifications=classifications)


def contract_from_dict(doc: Any, src: str = "<contract>", *,
                       classifications: Iterable[str] | None = None) -> Contract:
    if not isinstance(doc, Mapping):
        raise _error(src, [f"{src}: (document): expected a mapping of ODCS fields, "
                           f"got {type(doc).__name__}"])
    doc = _normalise(doc)
    problems = _schema_problems(doc)
    try:
        odcs = OpenDataContractStandard(**doc)
    except pydantic.ValidationError as exc:
        if not problems:
            problems = [f"{yaml_path(e['loc'])}: expected {e['msg']}" for e in exc.errors()]
        raise _error(src, locate([f"{src}: {p}" for p in problems], doc, src)) from exc
    except TypeError as exc:  # e.g. a non-string key
        raise _error(src, [f"{src}: (document): expected ODCS fields, got {exc}"]) from exc
    reported = {p.split(": ", 1)[0] for p in problems}
    problems += [p for p in _semantic_problems(odcs) if p.split(": ", 1)[0] not in reported]
    if problems:
        raise _error(src, locate([f"{src}: {p}" for p in problems], doc, src))
    chosen = default_classifications() if classifications is None else classifications
    return Contract(odcs=odcs, path=src, classifications=frozenset(c.lower() for c in chosen))


def _error(src: str, problems: list[str]) -> ContractError:
    shown = problems[:MAX_PROBLEMS]
    if len(problems) > MAX_PROBLEMS:
        shown.append(f"{src}: ... and {len(problems) - MAX_PROBLEMS} more problems")
    first = shown[0] if len(shown) == 1 else f"{shown[0]} (and {len(problems) - 1} more)"
    return ContractError(first, problems=shown, file=src)


def _normalise(doc: Mapping[str, Any]) -> dict[str, Any]:
    """v3.0.x ``rule:`` becomes ``metric:`` in every quality entry."""
    out: dict[str, Any] = copy.deepcopy(dict(doc))

    def listed(node: Any, key: str) -> list:
        # a non-list here (quality: true) is reported by validation; never iterate it
        value = node.get(key) if isinstance(node, Mapping) else None
        return value if isinstance(value, list) else []

    def fix_quality(node: Any) -> None:
        for q in listed(node, "quality"):
            if isinstance(q, dict) and "rule" in q and "metric" not in q:
                q["metric"] = q.pop("rule")
        for child in listed(node, "properties"):
            fix_quality(child)
        if isinstance(node, Mapping) and isinstance(node.get("items"), Mapping):
            fix_quality(node["items"])

    for obj in out.get("schema") or [] if isinstance(out.get("schema"), list) else []:
        fix_quality(obj)
    return out


def yaml_path(loc: Iterable[Any]) -> str:
    """('schema', 0, 'properties', 3, 'x') -> 'schema[0].properties[3].x'."""
    return field_path(loc) or "(document)"


@cache
def _validator(v30: bool = False) -> Any:
    """The packaged ODCS JSON Schema with its known problems worked around (see
    :func:`patch_schema`), checked by a validator whose ``unevaluatedProperties`` is static
    (see :func:`_static_unevaluated`). ``v30``: as lenient with unknown fields as ODCS
    v3.0.x was (:func:`v30_schema`)."""
    jsonschema = _import_jsonschema()
    text = files("open_data_contract_standard").joinpath("schema.json").read_text("utf-8")
    schema = patch_schema(json.loads(text))
    if v30:
        schema = v30_schema(schema)
    base = jsonschema.validators.validator_for(schema)
    cls = jsonschema.validators.extend(base, {"unevaluatedProperties": _static_unevaluated(schema),
                                              "if": _fast_if})
    return cls(schema)


def _const_tests(cond: Any) -> list[tuple[str, Any]] | None:
    """``[(field, value), ...]`` when ``cond`` only asks whether a field equals a constant
    (one test, or an ``anyOf`` of them, each with ``required``), else None."""
    tests = cond.get("anyOf") if isinstance(cond, Mapping) and set(cond) == {"anyOf"} else [cond]
    out = []
    for test in tests or ():
        if not (isinstance(test, Mapping) and set(test) == {"properties", "required"}
                and len(test["properties"]) == 1 and list(test["required"]) == list(
                    test["properties"])):
            return None
        (name, rule), = test["properties"].items()
        if not (isinstance(rule, Mapping) and set(rule) == {"const"}):
            return None
        out.append((name, rule["const"]))
    return out


_CONST_TESTS: dict[int, tuple[Any, list[tuple[str, Any]] | None]] = {}


def _fast_if(validator: Any, cond: Any, instance: Any, schema: Mapping[str, Any]) -> Any:
    """jsonschema's ``if`` keyword, deciding the ODCS schema's ``if: logicalType is X``
    tests in Python (about 40% of the validation time of a 545-property contract went to
    evaluating them as subschemas); any other ``if`` is evaluated as jsonschema does."""
    cached = _CONST_TESTS.get(id(cond))
    if cached is None or cached[0] is not cond:  # keeps ``cond`` alive: its id stays its own
        cached = _CONST_TESTS[id(cond)] = (cond, _const_tests(cond))
    tests = cached[1]
    if tests is None:
        holds = validator.evolve(schema=cond).is_valid(instance)
    else:
        holds = isinstance(instance, Mapping) and any(
            name in instance and instance[name] == value
            and type(instance[name]) is type(value) for name, value in tests)
    if holds and "then" in schema:
        yield from validator.descend(instance, schema["then"], schema_path="then")
    elif not holds and "else" in schema:
        yield from validator.descend(instance, schema["else"], schema_path="else")


# Known problems of the packaged ODCS 3.2.0 JSON Schema, worked around at load:
#
# 1. ``SchemaBaseProperty``'s per-type branches read ``if: {properties: {logicalType:
#    {const: map}}}`` (or an ``anyOf`` of such tests) without ``required: [logicalType]``.
#    A property without logicalType (optional in ODCS) satisfies every such ``if``, so every
#    ``then`` applies to it: the map branch's ``required: [map]`` refuses the contract
#    ("expected required field map"), and the per-type ``logicalTypeOptions`` branches
#    contradict each other. Fix: each ``if`` test on one property's value also requires it.
# 2. ``unevaluatedProperties: false`` (SchemaObject, SchemaBaseProperty, SchemaProperty,
#    SchemaItemProperty, ...) makes jsonschema re-validate every subschema to learn which
#    fields were evaluated, at every level of nesting: loading time multiplies with each
#    level of ``properties``/``items``. Measured on the development machine (2 cores), with
#    jsonschema 4.26: a 39-line contract with four levels of arrays of objects 78 s,
#    datacontract-cli's 545-property ``product_detail`` fixture 195 s. datacontract-cli drops
#    the keyword (and warns about unknown fields from its pydantic model); workbench keeps
#    refusing unknown fields, but decides what was evaluated from the schema's text: the
#    names declared by the subschema's ``properties`` and by every subschema it applies
#    (``$ref``, ``allOf``, ``anyOf``, ``oneOf``, ``then``, ``else``, ``dependentSchemas``),
#    without validating anything. That set contains every name the exact rule accepts, so
#    every contract the standard accepts loads; a field belonging to another logicalType's
#    branch (``items`` on a string) is let through. After: both contracts above load in
#    well under a second (benchmarks/contract_load.py).

def patch_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The ODCS JSON Schema with problem 1 above fixed (a copy; ``schema`` is untouched)."""
    schema = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            cond = node.get("if")
            tests = [cond] if isinstance(cond, dict) else []
            if isinstance(cond, dict) and set(cond) == {"anyOf"}:
                tests = list(cond["anyOf"])
            for test in tests:
                if (isinstance(test, dict) and set(test) == {"properties"}
                        and len(test["properties"]) == 1):
                    test["required"] = list(test["properties"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


# ODCS v3.0.x (odcs-json-schema-v3.0.2.json) refused unknown fields only at the top level,
# in schema objects, their properties and items, and in logicalTypeOptions; elsewhere
# (servers, team members, support channels, roles, SLAs, quality rules, ...) it let them
# be, and later versions closed those objects. A v3.0.x contract is held to v3.0.x's rule.
_V30_STRICT = ("SchemaObject", "SchemaBaseProperty", "SchemaProperty", "SchemaItemProperty")


def v30_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` without the closed objects ODCS v3.0.x did not have (a copy)."""
    schema = copy.deepcopy(schema)

    def open_up(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("additionalProperties", "unevaluatedProperties"):
                if node.get(key) is False:
                    del node[key]
            for value in node.values():
                open_up(value)
        elif isinstance(node, list):
            for value in node:
                open_up(value)

    for name, definition in (schema.get("$defs") or {}).items():
        if name not in _V30_STRICT:
            open_up(definition)
    for sub in (schema.get("properties") or {}).values():
        open_up(sub)
    return schema


def _static_unevaluated(root: Mapping[str, Any]) -> Any:
    """An ``unevaluatedProperties`` keyword that reads the evaluated names from the schema's
    text (problem 2 above); ``false`` is the only value the ODCS schemas use."""
    jsonschema = _import_jsonschema()

    declared: dict[int, frozenset[str]] = {}

    def resolve(ref: str) -> Any:
        node: Any = root
        for part in ref.lstrip("#").strip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")] if part else node
        return node

    def names(node: Any, seen: frozenset[int] = frozenset()) -> frozenset[str]:
        if not isinstance(node, Mapping) or id(node) in seen:
            return frozenset()
        if id(node) in declared:
            return declared[id(node)]
        seen = seen | {id(node)}
        out = set(node.get("properties") or ())
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#"):
            out |= names(resolve(ref), seen)
        for key in ("allOf", "anyOf", "oneOf"):
            for sub in node.get(key) or ():
                out |= names(sub, seen)
        for key in ("then", "else"):
            out |= names(node.get(key), seen)
        for sub in (node.get("dependentSchemas") or {}).values():
            out |= names(sub, seen)
        declared[id(node)] = frozenset(out)
        return declared[id(node)]

    def keyword(validator: Any, value: Any, instance: Any, schema: Mapping[str, Any]) -> Any:
        if value is not False or not validator.is_type(instance, "object"):
            return
        extra = sorted(k for k in instance if k not in names(schema))
        if extra:
            listed = ", ".join(repr(k) for k in extra)
            verb = "was" if len(extra) == 1 else "were"
            yield jsonschema.ValidationError(
                f"Unevaluated properties are not allowed ({listed} {verb} unexpected)")

    return keyword


def _import_jsonschema() -> Any:
    """``import jsonschema`` without its optional IRI format checker.

    With ``rfc3987-syntax`` installed (jupyter-events pulls it in), importing jsonschema
    compiles a Lark grammar: 3.9 s of a 4.4 s import on the development machine, for a
    format workbench never checks. Block that optional import while jsonschema loads, and
    only if jsonschema is not loaded yet; later imports of rfc3987_syntax work as usual.
    """
    if "jsonschema" in sys.modules:
        return sys.modules["jsonschema"]
    blocked = "rfc3987_syntax" not in sys.modules
    if blocked:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]
    try:
        import jsonschema
    finally:
        if blocked:
            del sys.modules["rfc3987_syntax"]
    return jsonschema


def _schema_problems(doc: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    v30 = str(doc.get("apiVersion") or "").startswith("v3.0")
    errors = sorted(_validator(v30).iter_errors(_jsonable(doc)),
                    key=lambda e: list(map(str, e.absolute_path)))
    leaves = [leaf for err in errors for leaf in _leaves(err)]
    # A field that failed its own sub-schema is also "unevaluated" by the parent: report it once.
    failed = {tuple(leaf.absolute_path) for leaf in leaves
              if leaf.validator not in {"additionalProperties", "unevaluatedProperties"}}
    # a missing required field leaves the object's other fields evaluated
    failed_here = {tuple(leaf.absolute_path) for leaf in leaves if leaf.validator not in
                   {"additionalProperties", "unevaluatedProperties", "required"}}
    for leaf in leaves:
        text = _describe(leaf)
        if leaf.validator in {"additionalProperties", "unevaluatedProperties"}:
            here = tuple(leaf.absolute_path)
            # an object whose own fields failed makes its other fields "unevaluated" too
            if here in failed_here or any(f[:len(here)] == here and len(f) == len(here) + 1
                                          for f in failed):
                continue
            extra = _unexpected(leaf)
            text = f"expected only ODCS fields here, got unexpected {', '.join(extra)}"
        if True:
            line = f"{yaml_path(leaf.absolute_path)}: {text}"
            if line not in seen:
                seen.add(line)
                out.append(line)
    return out


def _jsonable(value: Any) -> Any:
    """YAML dates/times become strings, as the JSON Schema expects."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _unexpected(err: Any) -> list[str]:
    """Names of the unexpected fields of an additional/unevaluatedProperties error."""
    inst = err.instance if isinstance(err.instance, Mapping) else {}
    quoted = re.findall(r"'([^']*)'", err.message.split("(")[-1])
    return [k for k in quoted if k in inst] or [str(k) for k in inst][:1]


def _leaves(err: Any) -> list[Any]:
    """For anyOf/oneOf errors, the most relevant sub-error (deepest path); else the error."""
    if (err.validator in {"anyOf", "oneOf"} and err.context
            and not all(c.validator == "required" for c in err.context)):
        best = _import_jsonschema().exceptions.best_match(err.context)
        return _leaves(best) if best is not None else [err]
    return [err]


def _describe(err: Any) -> str:
    v, val, inst = err.validator, err.validator_value, err.instance
    got = _short(inst)
    if v == "type":
        want = " or ".join(val) if isinstance(val, list) else val
        return f"expected {_article(want)}, got {got}"
    if v == "enum":
        return f"expected one of {', '.join(map(str, val))}, got {got}"
    if v == "const":
        return f"expected {val!r}, got {got}"
    if v == "required":
        missing = [k for k in val if isinstance(inst, Mapping) and k not in inst]
        return f"expected required field {', '.join(missing) or val}"
    if v in {"additionalProperties", "unevaluatedProperties"}:
        extra = err.message.split("(")[-1].rstrip(")") if "(" in err.message else err.message
        return f"expected only ODCS fields here ({extra})"
    if v == "oneOf" and err.context and all(c.validator == "required" for c in err.context):
        names = [n for c in err.context for n in c.validator_value]
        return f"expected exactly one of {', '.join(names)}"
    if v == "oneOf":
        return f"expected exactly one matching form, got {got}"
    if v in {"minItems", "maxItems"}:
        n = len(inst) if isinstance(inst, list) else got
        return f"expected {v.replace('Items', '')} {val} items, got {n}"
    if v in {"minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"}:
        return f"expected a value with {v} {val}, got {got}"
    if v == "uniqueItems":
        return "expected unique items"
    if v == "pattern":
        return f"expected text matching {val}, got {got}"
    return f"expected {err.message}"


def _article(word: str) -> str:
    names = {"object": "a mapping", "array": "a list", "string": "a string", "number": "a number",
             "integer": "an integer", "boolean": "true or false", "null": "null"}
    return names.get(word, word)


def _short(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _semantic_problems(odcs: OpenDataContractStandard) -> list[str]:
    out: list[str] = []
    for i, obj in enumerate(odcs.schema_ or []):
        base = f"schema[{i}]"
        for k, q in enumerate(obj.quality or []):
            out += _quality_problems(q, f"{base}.quality[{k}]", column=None)
        for prop, where in walk_properties(obj.properties or []):
            pbase = f"{base}.{where}"
            if not (prop.name or prop.physicalName) and not where.endswith(".items"):
                out.append(f"{pbase}.name: expected a column name")
            fmt = (prop.logicalTypeOptions or {}).get("format")
            if prop.logicalType == "string" and fmt is not None and fmt not in STRING_FORMATS:
                out.append(f"{pbase}.logicalTypeOptions.format: expected one of "
                           f"{', '.join(STRING_FORMATS)} (formats workbench checks), got {fmt!r}")
            out += _time_bound_problems(prop, pbase)
            pattern = (prop.logicalTypeOptions or {}).get("pattern")
            if isinstance(pattern, str):
                err = _regex_error(pattern)
                if err:
                    out.append(f"{pbase}.logicalTypeOptions.pattern: expected a valid regular "
                               f"expression, got {pattern!r} ({err})")
            for k, q in enumerate(prop.quality or []):
                out += _quality_problems(q, f"{pbase}.quality[{k}]", column=column_name(prop))
    out += relationship_problems(odcs)
    for k, sla in enumerate(odcs.slaProperties or []):
        if (sla.property or "").lower() == "freshness":  # the other levels: contracts._sla
            if not isinstance(sla.value, int | float) or isinstance(sla.value, bool):
                out.append(f"slaProperties[{k}].value: expected a number, got {_short(sla.value)}")
            if unit_seconds(sla.unit) is None:
                out.append(f"slaProperties[{k}].unit: expected a time unit (s, m, h, d, y), "
                           f"got {_short(sla.unit)}")
    return out


def _time_bound_problems(prop: SchemaProperty, where: str) -> list[str]:
    """Bounds of a ``time`` property must read as times (``"08:30:00"``)."""
    out = []
    for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        value = (prop.logicalTypeOptions or {}).get(key) if prop.logicalType == "time" else None
        if isinstance(value, str):
            try:
                time.fromisoformat(value)
            except ValueError:
                out.append(f"{where}.logicalTypeOptions.{key}: expected a time such as "
                           f"\"08:30:00\", got {_short(value)}")
    return out


def _quality_problems(q: DataQuality, where: str, column: str | None) -> list[str]:
    out: list[str] = []
    kind = q.type or "library"
    if kind == "text":
        return out
    if kind == "custom":
        return out  # another engine's rule: reported as not run (an info check), never refused
    ops = [op for op in OPERATORS if getattr(q, op) is not None]
    if len(ops) != 1:
        out.append(f"{where}: expected exactly one operator of {', '.join(OPERATORS)}, "
                   f"got {', '.join(ops) or 'none'}")
    if q.unit is not None and q.unit not in UNITS:
        out.append(f"{where}.unit: expected rows or percent, got {q.unit!r}")
    if kind == "sql":
        if not q.query:
            out.append(f"{where}.query: expected a SQL query")
        return out
    metric = q.metric
    if metric not in LIBRARY_METRICS:
        out.append(f"{where}.metric: expected one of {', '.join(LIBRARY_METRICS)}, got {metric!r}")
        return out
    args = q.arguments or {}
    if metric in {"nullValues", "missingValues", "invalidValues"} and column is None:
        out.append(f"{where}.metric: expected {metric} on a property, not on a schema object")
    if (metric == "missingValues" and "missingValues" in args
            and not isinstance(args["missingValues"], list)):
        out.append(f"{where}.arguments.missingValues: expected a list")
    if metric == "invalidValues":
        if "validValues" not in args and "pattern" not in args:
            out.append(f"{where}.arguments: expected validValues or pattern")
        if "validValues" in args and not isinstance(args["validValues"], list):
            out.append(f"{where}.arguments.validValues: expected a list")
        if isinstance(args.get("pattern"), str) and _regex_error(args["pattern"]):
            out.append(f"{where}.arguments.pattern: expected a valid regular expression")
    if metric == "duplicateValues" and column is None:
        props = args.get("properties")
        if not (isinstance(props, list) and props):
            out.append(f"{where}.arguments.properties: expected a list of column names")
    if metric == "rowCount" and q.unit == "percent":
        out.append(f"{where}.unit: expected rows for rowCount")
    return out


def _regex_error(pattern: str) -> str | None:
    try:
        re.compile(pattern)
    except re.error as exc:
        return str(exc)
    return None


_UNIT_SECONDS = {"ms": 0.001, "s": 1, "sec": 1, "second": 1, "seconds": 1, "m": 60, "min": 60,
                 "minute": 60,
                 "minutes": 60, "h": 3600, "hr": 3600, "hour": 3600, "hours": 3600,
                 "d": 86400, "day": 86400, "days": 86400, "w": 604800, "week": 604800,
                 "weeks": 604800, "y": 31536000, "yr": 31536000, "year": 31536000,
                 "years": 31536000}


def unit_seconds(unit: Any) -> float | None:
    return _UNIT_SECONDS.get(str(unit).strip().lower()) if unit is not None else None


# --- check results -----------------------------------------------------------------------

DESIGN_KEYS = ("id", "schema", "column", "rule", "severity", "passed", "failed_rows",
               "observed", "expected")
# the findings vocabulary's word for "every check passed" (the result says "ok")
FINDINGS_STATUS = {"ok": "pass"}


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check. ``samples`` are failing rows with sensitive columns masked."""

    id: str
    schema: str
    column: str | None
    rule: str
    severity: str
    dimension: str
    passed: bool
    failed_rows: int | None
    observed: Any
    expected: Any
    description: str | None = None
    first_failed_at: str | None = None
    last_failed_at: str | None = None
    samples: tuple[dict[str, Any], ...] = ()
    # range checks (minimum, maximum, exclusive*): the failing value furthest past the limit
    worst: Any = None

    def to_dict(self) -> dict[str, Any]:
        """The check in the JSON shape of ``workbench contract check --format json``."""
        return {k: getattr(self, k) for k in DESIGN_KEYS}


@dataclass(frozen=True)
class ContractResult:
    """All checks of one dataset against one schema object of a contract, or (``parts``) of
    several schema objects, each against its own dataset."""

    contract: str
    dataset: str
    schema: str
    rows: int
    checks: tuple[CheckResult, ...]
    as_of: datetime | None = None
    sensitive: frozenset[str] = field(default_factory=frozenset)
    parts: tuple[ContractResult, ...] = ()

    @classmethod
    def combine(cls, parts: list[ContractResult]) -> ContractResult:
        """One result for several schema objects: all their checks, ``rows`` summed,
        ``schema`` and ``dataset`` listed (``parts`` keeps each one's own result)."""
        return cls(contract=parts[0].contract,
                   dataset=", ".join(p.dataset for p in parts),
                   schema=", ".join(p.schema for p in parts),
                   rows=sum(p.rows for p in parts),
                   checks=tuple(c for p in parts for c in p.checks), as_of=parts[0].as_of,
                   sensitive=frozenset().union(*(p.sensitive for p in parts)),
                   parts=tuple(parts))

    def tables(self) -> list[dict[str, Any]]:
        """Per schema object: its dataset, rows, checks and whether it passed."""
        return [{"schema": p.schema, "dataset": p.dataset, "rows": p.rows,
                 "checks": len(p.checks), "failed": len(p.failed), "passed": p.passed}
                for p in (self.parts or (self,))]

    # --- the gate ---------------------------------------------------------------------
    @property
    def passed(self) -> bool:
        """The gate: no check of severity error failed (warnings and info never fail it)."""
        return not any(not c.passed and c.severity == "error" for c in self.checks)

    @property
    def failed(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.passed]

    @property
    def status(self) -> str:
        """ok (all passed), warn (only warning/info checks failed) or fail (gate failed)."""
        if not self.passed:
            return "fail"
        return "warn" if self.failed else "ok"

    def check(self, check_id: str) -> CheckResult:
        for c in self.checks:
            if c.id == check_id:
                return c
        raise KeyError(check_id)

    # --- frames -----------------------------------------------------------------------
    def frame(self) -> pl.DataFrame:
        """One row per check; ``observed``/``expected`` as compact text."""
        return pl.DataFrame(
            [{"id": c.id, "schema": c.schema, "column": c.column, "rule": c.rule,
              "severity": c.severity, "dimension": c.dimension, "passed": c.passed,
              "failed_rows": c.failed_rows, "observed": _text(c.observed),
              "expected": _text(c.expected), "first_failed_at": c.first_failed_at,
              "last_failed_at": c.last_failed_at} for c in self.checks],
            schema={"id": pl.String, "schema": pl.String, "column": pl.String,
                    "rule": pl.String, "severity": pl.String, "dimension": pl.String,
                    "passed": pl.Boolean, "failed_rows": pl.Int64, "observed": pl.String,
                    "expected": pl.String, "first_failed_at": pl.String,
                    "last_failed_at": pl.String})

    def by_dimension(self) -> pl.DataFrame:
        """Checks, passed checks and pass rate per ODCS data quality dimension."""
        return (self.frame().group_by("dimension")
                .agg(checks=pl.len(), passed=pl.col("passed").sum(),
                     failed_errors=(~pl.col("passed") & (pl.col("severity") == "error")).sum())
                .with_columns(pass_rate=pl.col("passed") / pl.col("checks"))
                .sort("dimension"))

    @property
    def pass_rate(self) -> float:
        return sum(c.passed for c in self.checks) / len(self.checks) if self.checks else 1.0

    # --- text and JSON ----------------------------------------------------------------
    @property
    def headline(self) -> str:
        errors = [c for c in self.failed if c.severity == "error"]
        warnings = [c for c in self.failed if c.severity != "error"]
        if errors:
            cols = sorted({c.column for c in errors if c.column})
            where = f" ({', '.join(cols[:4])}{', …' if len(cols) > 4 else ''})" if cols else ""
            return (f"Do not trust this data yet: {len(errors)} of {len(self.checks)} contract "
                    f"checks that must pass failed{where}.")
        if warnings:
            return (f"The data meets its contract; {len(warnings)} warning check"
                    f"{'s' if len(warnings) != 1 else ''} need a look.")
        return f"The data meets its contract: all {len(self.checks)} checks passed."

    @property
    def metrics(self) -> dict[str, int | float | bool]:
        """Flat metrics for pack gates (names documented in :mod:`workbench.contracts`)."""
        failed = self.failed
        return {
            "rows": self.rows,
            "checks_total": len(self.checks),
            "checks_passed": len(self.checks) - len(failed),
            "checks_failed": len(failed),
            "error_checks_failed": sum(c.severity == "error" for c in failed),
            "warning_checks_failed": sum(c.severity == "warning" for c in failed),
            "info_checks_failed": sum(c.severity == "info" for c in failed),
            "failed_rows_max": max((c.failed_rows or 0 for c in failed), default=0),
            "pass_rate": round(self.pass_rate, 6),
            "gate_passed": self.passed,
        }

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``workbench contract check --format json`` (shared design); a run over
        several schema objects adds ``schemas`` (each one's dataset, rows and verdict)."""
        out = {"contract": self.contract, "dataset": self.dataset, "rows": self.rows,
               "passed": self.passed, "checks": [c.to_dict() for c in self.checks]}
        if self.parts:
            out["schemas"] = [{k: t[k] for k in ("schema", "dataset", "rows", "passed")}
                              for t in self.tables()]
        return out

    def findings(self, name: str | None = None, *,
                 previous_dir: str | os.PathLike[str] | None = None, **context: Any) -> Findings:
        """The findings of the check, written under ``name`` (default ``contract_checks``):
        status, headline, metrics, checks (+ failure times, samples, worst values).

        With ``previous_dir`` (the previous pack's directory), ``changes`` lists new and
        resolved failures against its findings of the same name, and the metrics gain
        ``new_failures`` and ``resolved_failures``.
        """
        name = name or NOTEBOOK
        checks = []
        for c in self.checks:
            item = c.to_dict()
            item["dimension"] = c.dimension
            if c.first_failed_at is not None:
                item["first_failed_at"] = c.first_failed_at
                item["last_failed_at"] = c.last_failed_at
            if c.samples:
                item["samples"] = list(c.samples)
            if c.worst is not None:
                item["worst_failing_value"] = c.worst
            checks.append(item)
        diff = changes(self, previous_dir, name)
        metrics: dict[str, Any] = dict(self.metrics)
        metrics["new_failures"] = diff.filter(pl.col("change") == "new failure").height
        resolved = diff.filter(pl.col("change").str.starts_with("resolved"))
        metrics["resolved_failures"] = resolved.height
        details = {
            "changes": diff.to_dicts(),
            "previous": bool(previous_checks(previous_dir, name)) if previous_dir else False,
            "contract": self.contract, "schema": self.schema,
            "dataset": self.dataset, "schemas": self.tables(),
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "dimensions": self.by_dimension().to_dicts(), "checks": checks,
        }
        return Findings(name, FINDINGS_STATUS.get(self.status, self.status), self.headline,
                        metrics, details, notebook=NOTEBOOK)

    # --- HTML (workbench.contracts._render) ------------------------------------------
    def failed_frame(self) -> pl.DataFrame:
        return _render.failed_frame(self)

    def all_checks_frame(self) -> pl.DataFrame:
        return _render.all_checks_frame(self)

    def samples_html(self, max_checks: int = 20) -> str:
        return _render.samples_html(self, max_checks)

    def _repr_html_(self) -> str:
        return _render.result_html(self)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, float):  # a limit or a value a check failed on: never rounded
        return fmt_exact(value)
    return str(value)

"""An ODCS schema object -> a list of :class:`CheckDef`, each a polars expression or a query.

Every check has a stable id ``<schema>.<property>.<rule>`` (``<schema>.<rule>`` for rules on
the schema object), a rule name from ODCS, a severity and a data quality dimension.
Row-level checks carry ``bad``: a boolean expression that is true on a failing row (null
values never fail a value rule; ``required``/``nullValues`` are the rules about nulls).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

import polars as pl
from open_data_contract_standard.model import DataQuality, SchemaObject, SchemaProperty

from workbench.contracts._model import (
    OPERATORS,
    Contract,
    column_name,
    is_sensitive,
    schema_name,
    severity_of,
    unit_seconds,
)
from workbench.contracts._relations import foreign_keys

# The dimension a built-in (schema) check measures; a quality rule's own dimension wins.
DEFAULT_DIMENSIONS = {
    "present": "conformity", "undeclared": "conformity", "logicalType": "conformity",
    "physicalType": "conformity", "required": "completeness", "unique": "uniqueness",
    "primaryKey": "uniqueness", "pattern": "conformity", "format": "conformity",
    "minimum": "conformity", "maximum": "conformity", "exclusiveMinimum": "conformity",
    "exclusiveMaximum": "conformity", "minLength": "conformity", "maxLength": "conformity",
    "validValues": "conformity", "multipleOf": "conformity", "minItems": "conformity",
    "maxItems": "conformity", "uniqueItems": "uniqueness", "nullValues": "completeness",
    "missingValues": "completeness", "invalidValues": "conformity",
    "duplicateValues": "uniqueness", "rowCount": "completeness", "sql": "accuracy",
    "freshness": "timeliness", "foreignKey": "consistency",
}

FORMAT_PATTERNS = {
    "email": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
    "uuid": r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    "uri": r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+$",
    "date": r"^\d{4}-\d{2}-\d{2}$",
    "date-time": r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?$",
}


@dataclass(frozen=True)
class Threshold:
    """An ODCS operator and its operand(s), applied to a metric value."""

    op: str
    value: Any = 0

    def passes(self, actual: Any) -> bool:
        if actual is None:
            return False
        v = self.value
        return {
            "mustBe": lambda: actual == v,
            "mustNotBe": lambda: actual != v,
            "mustBeGreaterThan": lambda: actual > v,
            "mustBeGreaterOrEqualTo": lambda: actual >= v,
            "mustBeLessThan": lambda: actual < v,
            "mustBeLessOrEqualTo": lambda: actual <= v,
            "mustBeBetween": lambda: v[0] <= actual <= v[1],
            "mustNotBeBetween": lambda: not (v[0] <= actual <= v[1]),
        }[self.op]()

    def as_dict(self, unit: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {self.op: list(self.value) if isinstance(self.value, tuple | list)
                               else self.value}
        if unit:
            out["unit"] = unit
        return out


ZERO = Threshold("mustBe", 0)


@dataclass
class CheckDef:
    """One check before it runs. ``kind`` says how it is evaluated:

    ``meta`` from the data's schema; ``row`` counts rows where ``bad`` holds; ``dup`` counts
    duplicated keys over ``columns``; ``rows`` compares the row count; ``sql`` runs
    ``query`` in DuckDB; ``freshness`` compares the newest ``columns[0]`` with ``seconds``;
    ``fk`` counts rows whose ``columns`` have no match in another schema object's data;
    ``missing`` fails because ``extra["missing"]`` columns are absent; ``unsupported``
    fails (as info) with ``extra["reason"]``.
    """

    id: str
    schema: str
    column: str | None
    rule: str
    severity: str
    dimension: str
    kind: str
    expected: Any
    threshold: Threshold = ZERO
    percent: bool = False
    bad: pl.Expr | None = None
    columns: tuple[str, ...] = ()
    query: str | None = None
    seconds: float | None = None
    prop: SchemaProperty | None = None
    description: str | None = None
    sensitive: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def threshold_of(q: DataQuality) -> Threshold:
    for op in OPERATORS:
        value = getattr(q, op)
        if value is not None:
            return Threshold(op, tuple(value) if isinstance(value, list) else value)
    return ZERO


class _Checks(list[CheckDef]):
    """The checks of one schema object; a repeated id gets ``_2``, ``_3``, ..."""

    def add(self, check: CheckDef) -> None:
        base, n = check.id, 2
        while any(c.id == check.id for c in self):
            check.id = f"{base}_{n}"
            n += 1
        self.append(check)


def compile_schema(contract: Contract, obj: SchemaObject, data_schema: pl.Schema, *,
                   csv: bool = False, allow_undeclared: bool = True) -> list[CheckDef]:
    """The checks of one schema object against data with ``data_schema``. ``csv``: the
    data's format has no type widths (CSV, JSON; see :func:`physical_type_matches`).

    Phases, in the order the checks are listed: each property (presence, types, values, its
    quality rules), undeclared columns (opt-in), the primary key, foreign keys, the schema
    object's own quality rules."""
    index = (contract.odcs.schema_ or []).index(obj)
    name = schema_name(obj, index)
    props = obj.properties or []
    present = set(data_schema.names())
    checks = _Checks()
    for node in property_nodes(props, data_schema, contract.classifications):
        _property_checks(checks, node, name, csv)
    if not allow_undeclared:
        declared = {column_name(p) for p in props}
        extra = [n for n in data_schema.names() if n not in declared]
        checks.add(CheckDef(id=f"{name}.undeclared", schema=name, column=None, rule="undeclared",
                            severity="error", dimension="conformity", kind="meta",
                            expected="only declared columns", extra={"undeclared": extra}))
    _primary_key_check(checks, props, name, present)
    _foreign_key_checks(checks, contract, index, name, present)
    for k, q in enumerate(obj.quality or []):
        check = _quality_check(q, k, name, None, None, None, False)
        if check is not None:
            if check.kind == "dup" and any(cn not in present for cn in check.columns):
                check.kind, check.extra["missing"] = "missing", [
                    cn for cn in check.columns if cn not in present]
            checks.add(check)
    return list(checks)


def _maker(name: str, node: PropertyNode) -> Callable[..., CheckDef]:
    """``mk(rule, kind, expected, ...)``: a check on this property (nested ones lifted to
    their row; the result's column is the nested path)."""
    shown = node.path if node.nested else node.column

    def mk(rule: str, kind: str, expected: Any, *, severity: str = "error",
           dimension: str | None = None, **kw: Any) -> CheckDef:
        if kw.get("bad") is not None:
            kw["bad"] = node.wrap(kw["bad"])  # a nested value's rule, as a rule on its row
        return CheckDef(id=f"{name}.{node.path}.{rule}", schema=name, column=shown, rule=rule,
                        severity=severity, dimension=dimension or DEFAULT_DIMENSIONS[rule],
                        kind=kind, expected=expected, sensitive=node.sensitive, **kw)

    return mk


def _property_checks(checks: _Checks, node: PropertyNode, name: str, csv: bool) -> None:
    """Presence, then (when the data has the column) types, values and quality rules."""
    mk, col, prop = _maker(name, node), node.column, node.prop
    if node.unsupported:
        checks.add(mk("present", "unsupported", "field present", severity="info",
                      columns=(col,), extra={"reason": node.unsupported}))
        return
    checks.add(mk("present", "meta", "field present" if node.nested else "column present",
                  columns=(col,), prop=prop,
                  extra={"present": node.dtype is not None} if node.nested else {}))
    if node.dtype is None:
        return  # the other checks of a missing column cannot run; its presence check fails
    for check in (*_type_checks(mk, node, csv), *_value_checks(mk, node),
                  *_range_checks(mk, node)):
        checks.add(check)
    for k, q in enumerate(prop.quality or []):
        quality = _quality_check(q, k, name, node.path, node.path if node.nested else col,
                                 node.dtype, node.sensitive, node=node if node.nested else None)
        if quality is not None:
            checks.add(quality)


def _type_checks(mk: Callable[..., CheckDef], node: PropertyNode, csv: bool) -> list[CheckDef]:
    prop, col, dtype = node.prop, node.column, node.dtype
    assert dtype is not None
    out = []
    if prop.logicalType in TEXT_TEMPORAL and csv and dtype == pl.String:
        # JSON has no date/time types: text that reads as one conforms (row by row)
        out.append(mk("logicalType", "row", prop.logicalType, columns=(col,),
                      bad=node.expr.is_not_null() & TEXT_TEMPORAL[prop.logicalType](
                          node.expr).is_null()))
    elif prop.logicalType:
        out.append(mk("logicalType", "meta", prop.logicalType, columns=(col,), prop=prop,
                      extra={"dtype": dtype}))
    if prop.physicalType:
        # a type name workbench does not know is reported (info), never silently skipped
        known = physical_type_matches(prop.physicalType, dtype) is not None
        out.append(mk("physicalType", "meta", prop.physicalType, columns=(col,), prop=prop,
                      extra={"csv": csv, "dtype": dtype},
                      severity="error" if known else "info"))
    return out


def _value_checks(mk: Callable[..., CheckDef], node: PropertyNode) -> list[CheckDef]:
    """required, unique, pattern and format (range, length, list and enum rules follow)."""
    prop, col, dtype, c = node.prop, node.column, node.dtype, node.expr
    assert dtype is not None
    out = []
    if prop.required or prop.primaryKey:
        out.append(mk("required", "row", "no null values", bad=c.is_null(), columns=(col,)))
    if prop.unique and not node.nested:
        out.append(mk("unique", "dup", "unique values", columns=(col,)))
    elif prop.unique:
        out.append(mk("unique", "unsupported", "unique values", severity="info", columns=(col,),
                      extra={"reason": "not checked: unique on a nested field"}))
    opts = prop.logicalTypeOptions or {}
    text = _as_text(c, dtype)
    if "pattern" in opts:
        out.append(mk("pattern", "row", opts["pattern"],
                      bad=c.is_not_null() & ~text.str.contains(opts["pattern"]), columns=(col,)))
    if "format" in opts and prop.logicalType == "string":
        out.append(mk("format", "row", opts["format"],
                      bad=_format_bad(c, text, dtype, opts["format"]), columns=(col,)))
    return out


def _range_checks(mk: Callable[..., CheckDef], node: PropertyNode) -> list[CheckDef]:
    """Bounds, multipleOf, lengths, list items and enum values."""
    prop, col, dtype, c = node.prop, node.column, node.dtype, node.expr
    assert dtype is not None
    opts = prop.logicalTypeOptions or {}
    text = _as_text(c, dtype)
    num = _comparable(c, dtype, prop.logicalType)
    # the dtype the bounds are compared in (times kept as text are compared as times)
    bound_dtype: Any = pl.Time if prop.logicalType == "time" and dtype == pl.String else dtype
    out = []
    for rule, cmp in (("minimum", lambda x, v: x < v), ("maximum", lambda x, v: x > v),
                      ("exclusiveMinimum", lambda x, v: x <= v),
                      ("exclusiveMaximum", lambda x, v: x >= v)):
        if rule in opts and opts[rule] is not None and not isinstance(opts[rule], bool):
            bound = _literal(opts[rule], bound_dtype)
            out.append(mk(rule, "row", opts[rule], bad=(cmp(num, bound)).fill_null(False),
                          columns=(col,)))
    if opts.get("multipleOf"):
        m = opts["multipleOf"]
        out.append(mk("multipleOf", "row", m, columns=(col,),
                      bad=(((num / m).round(0) * m - num).abs()
                           > 1e-9 * (num.abs() + 1)).fill_null(False)))
    if "minLength" in opts:
        out.append(mk("minLength", "row", opts["minLength"], columns=(col,),
                      bad=(text.str.len_chars() < opts["minLength"]).fill_null(False)))
    if "maxLength" in opts:
        out.append(mk("maxLength", "row", opts["maxLength"], columns=(col,),
                      bad=(text.str.len_chars() > opts["maxLength"]).fill_null(False)))
    if isinstance(dtype, pl.List | pl.Array):
        lst = c if isinstance(dtype, pl.List) else c.arr.to_list()
        if "minItems" in opts:
            out.append(mk("minItems", "row", opts["minItems"], columns=(col,),
                          bad=(lst.list.len() < opts["minItems"]).fill_null(False)))
        if "maxItems" in opts:
            out.append(mk("maxItems", "row", opts["maxItems"], columns=(col,),
                          bad=(lst.list.len() > opts["maxItems"]).fill_null(False)))
        if opts.get("uniqueItems"):
            out.append(mk("uniqueItems", "row", True, columns=(col,),
                          bad=(lst.list.n_unique() < lst.list.len()).fill_null(False)))
    if prop.enum:
        values = [e.value for e in prop.enum if e.value is not None]
        out.append(mk("validValues", "row", values, columns=(col,),
                      bad=(c.is_not_null() & ~_is_in(c, dtype, values)).fill_null(False)))
    return out


def _primary_key_check(checks: _Checks, props: list[SchemaProperty], name: str,
                       present: set[str]) -> None:
    keys = sorted((p for p in props if p.primaryKey),
                  key=lambda p: p.primaryKeyPosition if p.primaryKeyPosition is not None else 0)
    key_cols = tuple(column_name(p) for p in keys)
    if keys and all(k in present for k in key_cols):
        single = len(keys) == 1
        checks.add(CheckDef(id=f"{name}.{keys[0].name or key_cols[0]}.primaryKey" if single
                            else f"{name}.primaryKey", schema=name,
                            column=key_cols[0] if single else None, rule="primaryKey",
                            severity="error", dimension="uniqueness", kind="dup",
                            expected=list(key_cols), columns=key_cols))


def _foreign_key_checks(checks: _Checks, contract: Contract, index: int, name: str,
                        present: set[str]) -> None:
    for fk in foreign_keys(contract.odcs, index)[0]:
        expected = f"every key present in {fk.label}"
        common: dict[str, Any] = dict(id=fk.id, schema=name, column=fk.column, rule="foreignKey",
                                      dimension="consistency", expected=expected,
                                      columns=fk.columns)
        if fk.unsupported:
            checks.add(CheckDef(kind="unsupported", severity="info",
                                extra={"reason": f"not checked: {fk.unsupported}"}, **common))
        elif any(cn not in present for cn in fk.columns):
            checks.add(CheckDef(kind="missing", severity="error",
                                extra={"missing": [cn for cn in fk.columns if cn not in present]},
                                **common))
        else:
            checks.add(CheckDef(kind="fk", severity="error",
                                extra={"target": fk.target, "target_columns": fk.target_columns},
                                **common))


def freshness_checks(contract: Contract, obj: SchemaObject,
                     data_schema: pl.Schema) -> list[CheckDef]:
    """slaProperties freshness on a ``<schema>.<property>`` element of this schema object."""
    name = schema_name(obj, (contract.odcs.schema_ or []).index(obj))
    out: list[CheckDef] = []
    for k, sla in enumerate(contract.odcs.slaProperties or []):
        if (sla.property or "").lower() != "freshness":  # latency is not freshness: _sla
            continue
        target = _sla_column(obj, name, sla.element)
        seconds = float(sla.value or 0) * (unit_seconds(sla.unit or "d") or 86400)
        if target is None:
            if _sla_names_object(contract, obj, name, sla.element):
                # a level this object must meet that cannot be measured: a failed error
                # check, never left out (the contract would otherwise pass without it)
                out.append(CheckDef(
                    id=f"{name}.freshness" + (f"_{k}" if k and out else ""), schema=name,
                    column=None, rule="freshness", severity="error", dimension="timeliness",
                    kind="unsupported", expected={"max_age_seconds": seconds,
                                                  "element": sla.element},
                    extra={"reason": "not measured: " + (
                        f"the element {sla.element!r} names no declared column"
                        if sla.element else "no timestamp or date column is declared")},
                    description=sla.description))
            continue
        pname, col = target
        out.append(CheckDef(
            id=f"{name}.{pname}.freshness" + (f"_{k}" if k and out else ""), schema=name,
            column=col, rule="freshness", severity="error", dimension="timeliness",
            kind="freshness", expected={"max_age_seconds": seconds, "value": sla.value,
                                        "unit": sla.unit or "d"},
            columns=(col,), seconds=seconds, description=sla.description))
    return out


def _sla_names_object(contract: Contract, obj: SchemaObject, name: str,
                      element: str | None) -> bool:
    """Whether a level's ``element`` is on this schema object (one naming no object, or
    only objects the contract does not have, goes with the first object)."""
    tables = {part.strip().rpartition(".")[0] for part in str(element or "").split(",")
              if part.strip()}
    if tables & {name, obj.physicalName}:
        return True
    objects = contract.odcs.schema_ or []
    known = {n for o in objects for n in (o.name, o.physicalName) if n}
    return bool(objects) and obj is objects[0] and not tables & known


def _sla_column(obj: SchemaObject, name: str, element: str | None) -> tuple[str, str] | None:
    props = obj.properties or []
    if element:
        for part in str(element).split(","):
            part = part.strip()
            table, _, prop = part.rpartition(".")
            if table and table not in {name, obj.physicalName}:
                continue
            for p in props:
                if prop in {p.name, p.physicalName}:
                    return p.name or column_name(p), column_name(p)
        return None
    for p in props:
        if p.logicalType in {"timestamp", "date"}:
            return p.name or column_name(p), column_name(p)
    return None


def _quality_check(q: DataQuality, k: int, schema: str, pname: str | None, col: str | None,
                   dtype: pl.DataType | None, sensitive: bool,
                   node: PropertyNode | None = None) -> CheckDef | None:
    """``node``: the nested field the rule is on (row metrics are lifted to its row)."""
    kind = q.type or "library"
    if kind == "text":
        return None
    severity = severity_of(q.severity)
    where = f"{schema}.{pname}" if pname else schema
    threshold = threshold_of(q)
    percent = (q.unit or "rows") == "percent"
    expected = threshold.as_dict(q.unit)
    common: dict[str, Any] = dict(schema=schema, column=col, severity=severity,
                                  threshold=threshold, percent=percent,
                                  description=q.description, sensitive=sensitive)
    if kind == "custom":  # another engine's rule: shown as not run, never skipped
        engine = q.engine or "unnamed"
        return CheckDef(id=f"{where}.{q.id or 'custom'}", rule="custom", dimension=q.dimension
                        or "accuracy", kind="unsupported", expected={"engine": engine},
                        extra={"reason": f"not run: a custom rule for engine {engine!r}; "
                                         "workbench runs library and sql rules"},
                        columns=(col,) if col else (),
                        **{**common, "severity": "info"})
    if kind == "sql" and node is None:
        return CheckDef(id=f"{where}.{q.id or 'sql'}", rule="sql",
                        dimension=q.dimension or "accuracy", kind="sql", expected=expected,
                        query=q.query, columns=(col,) if col else (), **common)
    metric = q.metric or ""
    dim = q.dimension or DEFAULT_DIMENSIONS.get(metric, "accuracy")
    cid = f"{where}.{q.id or metric}"
    args = q.arguments or {}
    if node is not None and (kind == "sql" or metric in {"rowCount", "duplicateValues"}):
        return CheckDef(id=f"{where}.{q.id or metric or kind}", rule=metric or kind,
                        dimension=dim, kind="unsupported", expected=expected,
                        columns=(node.column,), extra={"reason": f"not checked: "
                        f"{metric or kind} on a nested field"}, **{**common, "severity": "info"})
    if metric == "rowCount":
        return CheckDef(id=cid, rule=metric, dimension=dim, kind="rows", expected=expected,
                        **common)
    if metric == "duplicateValues":
        cols = (col,) if col else tuple(args.get("properties") or ())
        return CheckDef(id=cid, rule=metric, dimension=dim, kind="dup", expected=expected,
                        columns=cols, **common)
    assert col is not None and dtype is not None
    c = node.expr if node is not None else pl.col(col)
    if metric == "nullValues":
        bad = c.is_null()
    elif metric == "missingValues":
        missing = [v for v in args.get("missingValues") or [] if v is not None]
        bad = c.is_null() | (_is_in(c, dtype, missing) if missing else pl.lit(False))
        expected = {**expected, "missingValues": missing}
    else:  # invalidValues: values that are neither missing nor valid
        valid = pl.lit(True)
        if args.get("validValues") is not None:
            values = [v for v in args["validValues"] if v is not None]
            valid = valid & _is_in(c, dtype, values)
            expected = {**expected, "validValues": values}
        if args.get("pattern") is not None:
            valid = valid & _as_text(c, dtype).str.contains(args["pattern"])
            expected = {**expected, "pattern": args["pattern"]}
        missing = [v for v in args.get("missingValues") or [] if v is not None]
        not_missing = c.is_not_null() & (~_is_in(c, dtype, missing) if missing else pl.lit(True))
        bad = not_missing & ~valid.fill_null(False)
    bad = bad.fill_null(False)
    return CheckDef(id=cid, rule=metric, dimension=dim, kind="row", expected=expected,
                    bad=node.wrap(bad) if node is not None else bad,
                    columns=(node.column if node is not None else col,), **common)


# --- nested properties ---------------------------------------------------------------------

@dataclass(frozen=True)
class PropertyNode:
    """A property at any depth, and how its values are reached in the data.

    ``expr`` is the value (``pl.col("customer")``, ``….struct.field("email")``, or
    ``pl.element()`` for the items of a list); ``wrap`` turns a per-value "bad" expression
    into a per-row one: a row fails when its nested value fails (for list items: when any
    item fails); a missing parent object is not a failure of its fields.
    """

    prop: SchemaProperty
    path: str                       # customer.email, tags[], lines[].sku
    column: str                     # the top-level data column it lives in
    expr: pl.Expr
    dtype: Any                      # a polars data type; None: absent from the data
    wrap: Callable[[pl.Expr], pl.Expr]
    sensitive: bool = False
    nested: bool = False
    unsupported: str | None = None  # why it cannot be checked (an info check says so)


def property_nodes(props: list[SchemaProperty], data_schema: pl.Schema,
                   classifications: Iterable[str] = ()) -> Iterator[PropertyNode]:
    """Every property of a schema object, nested ones right after their parent."""
    wanted = frozenset(classifications)
    for prop in props:
        col = column_name(prop)
        node = PropertyNode(prop, prop.name or col, col, pl.col(col), data_schema.get(col),
                            _same, is_sensitive(prop, wanted))
        yield node
        yield from _children(node, wanted)


def _same(bad: pl.Expr) -> pl.Expr:
    return bad


def _children(node: PropertyNode, wanted: frozenset[str]) -> Iterator[PropertyNode]:
    prop, dtype = node.prop, node.dtype
    if dtype is None:
        return  # the parent's presence check fails; its fields cannot be looked for
    for child in prop.properties or []:
        name = column_name(child)
        path = f"{node.path}.{child.name or name}"
        sensitive = node.sensitive or is_sensitive(child, wanted)
        if not isinstance(dtype, pl.Struct):
            yield PropertyNode(child, path, node.column, node.expr, None, node.wrap, sensitive,
                               True, f"not checked: {node.path} is {dtype} in the data, not a "
                               "struct (nested fields are read from Parquet or JSON)")
            continue
        fields = {f.name: f.dtype for f in dtype.fields}

        def wrap(bad: pl.Expr, _parent: pl.Expr = node.expr,
                 _outer: Callable[[pl.Expr], pl.Expr] = node.wrap) -> pl.Expr:
            return _outer(_parent.is_not_null() & bad.fill_null(False))

        sub = PropertyNode(child, path, node.column, node.expr.struct.field(name),
                           fields.get(name), wrap, sensitive, True)
        yield sub
        yield from _children(sub, wanted)
    mapping = getattr(prop, "map", None)
    for part in ("key", "value"):
        element = getattr(mapping, part, None) if mapping is not None else None
        if element is not None:  # ODCS 3.2 maps: stored differently by every format
            yield PropertyNode(element, f"{node.path}{{{part}}}", node.column, node.expr, None,
                               node.wrap, node.sensitive or is_sensitive(element, wanted), True,
                               f"not checked: the rules of a map's {part}s")
    item = prop.items
    if item is not None:
        path = f"{node.path}[]"
        sensitive = node.sensitive or is_sensitive(item, wanted)
        if not isinstance(dtype, pl.List | pl.Array):
            yield PropertyNode(item, path, node.column, node.expr, None, node.wrap, sensitive,
                               True, f"not checked: {node.path} is {dtype} in the data, not a "
                               "list (arrays are read from Parquet or JSON)")
            return
        values = node.expr if isinstance(dtype, pl.List) else node.expr.arr.to_list()

        def wrap_items(bad: pl.Expr, _values: pl.Expr = values,
                       _outer: Callable[[pl.Expr], pl.Expr] = node.wrap) -> pl.Expr:
            return _outer(_values.list.eval(bad.fill_null(False)).list.any().fill_null(False))

        sub = PropertyNode(item, path, node.column, pl.element(), dtype.inner, wrap_items,
                           sensitive, True)
        yield sub
        yield from _children(sub, wanted)


# --- expression helpers ------------------------------------------------------------------

def _as_text(c: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    return c if dtype == pl.String else c.cast(pl.String, strict=False)


def _is_in(c: pl.Expr, dtype: pl.DataType, values: list[Any]) -> pl.Expr:
    """Membership that tolerates a column whose type differs from the listed values'."""
    if not values:
        return pl.lit(False)
    if dtype.is_numeric() and all(isinstance(v, int | float) and not isinstance(v, bool)
                                  for v in values):
        return c.cast(pl.Float64).is_in(pl.Series(values, dtype=pl.Float64).implode())
    if dtype == pl.Boolean and all(isinstance(v, bool) for v in values):
        return c.is_in(pl.Series(values, dtype=pl.Boolean).implode())
    texts = pl.Series([_text(v) for v in values], dtype=pl.String)
    return _as_text(c, dtype).is_in(texts.implode())


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _comparable(c: pl.Expr, dtype: pl.DataType, logical: str | None) -> pl.Expr:
    if dtype.is_numeric() or dtype.is_temporal():
        return c
    if logical == "time" and dtype == pl.String:  # times kept as text (CSV, JSON)
        return c.str.to_time(strict=False)
    if logical in {"number", "integer"} or dtype == pl.String:
        return c.cast(pl.Float64, strict=False)
    return c


def _literal(value: Any, dtype: pl.DataType) -> Any:
    """A bound in the column's terms: ISO text becomes a date/datetime for temporal columns."""
    if isinstance(dtype, pl.Datetime) and isinstance(value, str | date):
        ts = datetime.fromisoformat(str(value).replace("Z", "+00:00")) if isinstance(value, str) \
            else datetime(value.year, value.month, value.day)
        if dtype.time_zone and ts.tzinfo is None:
            ts = ts.replace(tzinfo=UTC)
        if not dtype.time_zone and ts.tzinfo is not None:
            ts = ts.replace(tzinfo=None)
        return pl.lit(ts).cast(dtype)
    if dtype == pl.Date and isinstance(value, str):
        return pl.lit(date.fromisoformat(value[:10]))
    if dtype == pl.Time:
        return pl.lit(_time_of(value), dtype=pl.Time)
    return value


def _time_of(value: Any) -> time:
    """A ``time`` bound: ISO text (``"08:30:00"``), a time, or a number of seconds since
    midnight (YAML 1.1 reads an unquoted ``08:30:00`` as the sexagesimal number 30600)."""
    if isinstance(value, time):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 86400:
        whole = int(value)
        return time(whole // 3600, whole // 60 % 60, whole % 60,
                    round((value - whole) * 1_000_000))
    return time.fromisoformat(str(value))


def _format_bad(c: pl.Expr, text: pl.Expr, dtype: pl.DataType, fmt: str) -> pl.Expr:
    if fmt in {"date", "date-time"} and dtype.is_temporal():
        return pl.lit(False)
    ok = text.str.contains(FORMAT_PATTERNS[fmt])
    if fmt == "date":
        ok = ok & text.str.to_date("%Y-%m-%d", strict=False).is_not_null()
    elif fmt == "date-time":
        ok = ok & text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False).is_not_null()
    return (c.is_not_null() & ~ok).fill_null(False)


# --- type conformance --------------------------------------------------------------------

# how text is read as a date, time or timestamp where the file format has no such types
TEXT_TEMPORAL: dict[str, Callable[[pl.Expr], pl.Expr]] = {
    "date": lambda c: c.str.to_date(strict=False),
    "time": lambda c: c.str.to_time(strict=False),
    "timestamp": lambda c: c.str.to_datetime(strict=False, time_zone="UTC"),
}

LOGICAL_TYPES = {
    "string": lambda d: d in (pl.String, pl.Categorical) or isinstance(d, pl.Enum | pl.Categorical),
    "integer": lambda d: d.is_integer(),
    "number": lambda d: d.is_numeric(),
    "boolean": lambda d: d == pl.Boolean,
    "date": lambda d: d == pl.Date,
    "timestamp": lambda d: isinstance(d, pl.Datetime),
    "time": lambda d: d == pl.Time,
    "array": lambda d: isinstance(d, pl.List | pl.Array),
    "object": lambda d: isinstance(d, pl.Struct),
    "map": lambda d: isinstance(d, pl.Struct | pl.List),
    "vector": lambda d: isinstance(d, pl.List | pl.Array),
}

_INTS = {"int8": pl.Int8, "tinyint": pl.Int8, "byte": pl.Int8, "int16": pl.Int16,
         "smallint": pl.Int16, "short": pl.Int16, "int32": pl.Int32, "int": pl.Int32,
         "integer": pl.Int32, "int64": pl.Int64, "bigint": pl.Int64, "long": pl.Int64,
         "uint8": pl.UInt8, "utinyint": pl.UInt8, "uint16": pl.UInt16, "usmallint": pl.UInt16,
         "uint32": pl.UInt32, "uinteger": pl.UInt32, "uint64": pl.UInt64, "ubigint": pl.UInt64,
         "hugeint": pl.Int128, "int128": pl.Int128}
_FLOATS = {"float": pl.Float32, "float32": pl.Float32, "real": pl.Float32, "float4": pl.Float32,
           "double": pl.Float64, "float64": pl.Float64, "float8": pl.Float64,
           "double precision": pl.Float64}
_STRINGS = {"string", "varchar", "text", "char", "nvarchar", "nchar", "utf8", "large_string",
            "str", "character varying", "character", "bpchar", "large_utf8"}


def physical_type_matches(expected: str, dtype: pl.DataType, *, csv: bool = False) -> bool | None:
    """Whether ``dtype`` is the declared physical type; None when the name is not known.

    ``csv``: the data comes from a format without type widths (CSV, JSON, JSON lines),
    so only the family (text, integer, number, ...) counts; Parquet and frames keep theirs.
    """
    raw = expected.strip().lower()
    base = re.sub(r"\s*\(.*\)\s*$", "", raw)
    if base in _STRINGS:
        return LOGICAL_TYPES["string"](dtype)
    if base in _INTS:
        return dtype.is_integer() if csv else dtype == _INTS[base]
    if base in _FLOATS:
        return dtype.is_numeric() if csv else dtype == _FLOATS[base]
    if base in {"decimal", "numeric", "number"}:
        if csv:
            return dtype.is_numeric()
        if not isinstance(dtype, pl.Decimal):
            return False
        m = re.match(r".*\(\s*(\d+)\s*(?:,\s*(\d+))?\s*\)", raw)
        if m:
            return dtype.precision == int(m.group(1)) and dtype.scale == int(m.group(2) or 0)
        return True
    if base in {"boolean", "bool"}:
        return dtype == pl.Boolean
    if base in {"date", "date32"}:
        return dtype == pl.Date
    if base in {"timestamp", "datetime", "timestamp_ns", "timestamp_ms", "timestamp_us",
                "timestamp_s", "datetime64"}:
        return isinstance(dtype, pl.Datetime)
    if base in {"timestamptz", "timestamp_tz", "timestamp with time zone", "timestamp_ltz"}:
        return isinstance(dtype, pl.Datetime) and dtype.time_zone is not None
    if base in {"timestamp_ntz", "timestamp without time zone"}:
        return isinstance(dtype, pl.Datetime) and dtype.time_zone is None
    if base in {"time", "time64"}:
        return dtype == pl.Time
    if base in {"binary", "bytes", "blob", "varbinary", "bytea", "large_binary"}:
        return dtype == pl.Binary
    if base.startswith(("array", "list")):
        return isinstance(dtype, pl.List | pl.Array)
    if base.startswith(("struct", "record", "object", "row")):
        return isinstance(dtype, pl.Struct)
    if base.startswith("map"):
        return isinstance(dtype, pl.List | pl.Struct)
    return None

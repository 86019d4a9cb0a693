"""Contract checks pushed down to the database that holds the data (PostgreSQL, DuckDB).

The checks are the file path's own (:func:`compile_schema` on the table's column types, read
from the database), so ids, rules, severities and thresholds are the same; each row rule is
then written once as a sqlglot expression and generated for the engine's dialect. What comes
back is counts, never rows:

1. one aggregate query per schema object: ``COUNT(*)``, one ``SUM(CASE WHEN <row fails> ...)``
   per row rule, ``MAX`` of each freshness column;
2. one ``GROUP BY ... HAVING COUNT(*) > 1`` query per uniqueness / primary key / duplicate
   rule (the number of duplicated keys and their rows; none for a key that contains a key
   already found free of duplicates, which has none either), one anti-join count per
   foreign key whose referenced table is on the same server;
3. the contract's SQL rules as written, each in a read-only transaction under the statement
   timeout (``workbench.sources``), refused first by the same parser rule as on files;
4. only for failed checks: at most ``sample_rows`` failing rows each (``LIMIT``; sensitive
   columns masked inside the query, so their values never leave the server), and the
   first/last failing time and most extreme failing value in one more aggregate.

Types: logicalType is checked on the database type mapped per engine to the type family the
file path uses; physicalType against the database's own type name, both sides parsed by
sqlglot in the engine's dialect (``varchar(20)`` is ``character varying(20)`` on PostgreSQL;
a declared type without a length or precision matches any).

Why sqlglot rather than ibis (``benchmarks/pushdown_library.py``; figures in the README):
the two write equivalent SQL for the 18-check query, so the query times are the engines' and
equal within noise, and both compile it in milliseconds. sqlglot is what ibis compiles
through, imports in less time, and is needed anyway for what ibis does not do here: parse the
database's type names (physicalType), rewrite the contract's own SQL onto the server's table,
and transpile the quantile query of ``workbench.drift._table``. The connection (read-only
transaction, timeouts, bytes counted) stays workbench's own (``workbench.sources``).

A column the schema object declares that the table lacks (or a foreign key's referenced
column) is an :class:`~workbench.errors.InputError` naming the server, the table and every
missing column (exit 2), where a file fails its ``present`` check: a query cannot run against
a table without the column, so it is the contract pointing at the wrong table, not a verdict
on the rows.

Not pushed down (each an ``info`` check saying so, never a pass): nested fields, array item
rules (minItems, maxItems, uniqueItems), and on PostgreSQL the ``date``/``date-time`` formats
of text columns (PostgreSQL has no non-raising date parse).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import sqlglot
from sqlglot import exp

from workbench.contracts import _sql
from workbench.contracts._compile import (
    FORMAT_PATTERNS,
    CheckDef,
    _time_of,
    compile_schema,
    freshness_checks,
    physical_type_matches,
)
from workbench.contracts._engine import (
    _PLACEHOLDER,
    _as_of,
    _evaluate,
    _iso,
    _sample_columns,
    _timestamp_column,
    check,
)
from workbench.contracts._model import (
    CheckResult,
    Contract,
    ContractResult,
    column_name,
    load_contract,
    sensitive_columns,
)
from workbench.contracts._sla import as_checks, service_levels
from workbench.errors import InputError
from workbench.render import MASK
from workbench.sources import Connection, Source, connect, server_kind, server_source
from workbench.sources._types import _SAME, _TEXT, T, datatype, polars_dtype

# Service levels (latency, frequency, availability, ...) read every timestamp of the data
# or a delivery log; on a server they are listed as not run (never a pass) until they are
# computed in the engine.
SLA_ON_SERVER = "measured on files and delivery logs; not yet computed on a database server"

# --- the server a contract names --------------------------------------------------------------


def find_server(contract: Contract, name: str) -> Any:
    servers = contract.odcs.servers or []
    for s in servers:
        if name in {s.server, s.id}:
            return s
    known = ", ".join(str(s.server or s.id) for s in servers) or "none declared"
    raise InputError(f"{contract.path}: servers: expected a server named {name!r} "
                     f"(the contract declares: {known})", file=contract.path, field="servers")


def check_server(contract: Contract | str | os.PathLike[str], server: str, *,
                 schema: str | None = None, as_of: datetime | str | None = None,
                 allow_undeclared: bool = True, sample_rows: int = 5,
                 stats: dict[str, Any] | None = None) -> ContractResult:
    """Check the contract against the data on its server ``server`` (any type it declares).

    File servers are read as :func:`workbench.contracts.check` reads them; PostgreSQL and
    DuckDB servers are checked where the data lives. ``stats`` (a dict, optional) receives
    ``bytes_returned`` and ``queries``.
    """
    if not isinstance(contract, Contract):
        contract = load_contract(contract)
    srv = find_server(contract, server)
    names = [schema] if schema is not None else contract.schema_names
    if schema is not None:
        contract.schema(schema)
    if server_kind(srv) == "file":
        data = {n: _file_path(contract, srv, n) for n in contract.schema_names}
        return check(contract, data, schema=schema, as_of=as_of,
                     allow_undeclared=allow_undeclared, sample_rows=sample_rows)
    source = server_source(srv, contract.path)
    as_of_dt = _as_of(as_of)
    with connect(source) as con:
        parts = [_check_table(con, contract, n, source, as_of_dt, allow_undeclared,
                              sample_rows) for n in names]
        if stats is not None:
            stats.update(bytes_returned=con.bytes_returned, queries=con.queries)
    return parts[0] if len(parts) == 1 else ContractResult.combine(parts)


def _file_path(contract: Contract, server: Any, sname: str) -> str:
    raw = str(server.path or server.location or "")
    if not raw:
        raise InputError(f"{contract.path}: servers: expected a path on server "
                         f"{server.server!r}", file=contract.path, field="servers.path")
    raw = raw.replace("{model}", sname).replace("{schema}", sname)
    if "://" in raw or os.path.isabs(raw):
        return raw
    return os.path.normpath(Path(contract.path).parent / raw)


# --- engine types -------------------------------------------------------------------------

def physical_matches(declared: str, actual: str, dialect: str, dtype: pl.DataType) -> bool | None:
    """``declared`` (the contract's physicalType) against the column's engine type name."""
    want, have = datatype(declared, dialect), datatype(actual, dialect)
    if want is None or have is None:
        return physical_type_matches(declared, dtype)
    w, h = _SAME.get(want.this, want.this), _SAME.get(have.this, have.this)
    if declared.strip().lower() in {"timestamp", "datetime"}:  # as on files: either kind
        return h in {T.TIMESTAMP, T.TIMESTAMPTZ, T.TIMESTAMPLTZ}
    if w in _TEXT and not want.expressions:
        return h in _TEXT
    if w != h:
        return False
    return not want.expressions or want.sql(dialect) == have.sql(dialect)


# --- rules as SQL ---------------------------------------------------------------------------

ROW_METRICS = {"nullValues", "missingValues", "invalidValues"}


class _Rules:
    """Each row rule of one schema object as a sqlglot predicate (true on a failing row)."""

    def __init__(self, obj: Any, data_schema: pl.Schema, dialect: str) -> None:
        self.schema, self.dialect = data_schema, dialect
        # the quality rules behind row checks, per (column, metric), in contract order
        self.quality: dict[tuple[str, str], list[Any]] = {}
        for p in obj.properties or []:
            for q in p.quality or []:
                if (q.type or "library") == "library" and q.metric not in {
                        "rowCount", "duplicateValues"}:
                    self.quality.setdefault((column_name(p), q.metric or ""), []).append(q)

    def predicate(self, d: CheckDef) -> exp.Expr | str:
        """The failing-row predicate, or the reason the rule is not pushed down."""
        col = d.column
        if col is None or col not in self.schema:
            return "not pushed down: a nested field"
        dtype = self.schema[col]
        c = exp.column(col, quoted=True)
        text = _as_text(c, dtype)
        rule, v = d.rule, d.expected
        if rule in {"required", "nullValues"}:
            return c.is_(exp.null())
        if rule == "pattern":
            return exp.and_(c.is_(exp.null()).not_(), self._regex(text, v).not_())
        if rule == "format":
            if v in {"date", "date-time"} and dtype.is_temporal():
                return exp.false()
            ok = self._regex(text, FORMAT_PATTERNS[v])
            if v in {"date", "date-time"}:
                if self.dialect != "duckdb":
                    return f"not pushed down: format {v} on {self.dialect} (no safe date parse)"
                day = exp.Substring(this=text, start=exp.Literal.number(1),
                                    length=exp.Literal.number(10))
                ok = exp.and_(ok, exp.func("TRY_STRPTIME", day, exp.Literal.string("%Y-%m-%d"))
                              .is_(exp.null()).not_())
            return exp.and_(c.is_(exp.null()).not_(), ok.not_())
        if rule in {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}:
            num = self._comparable(c, dtype, d.prop)
            bound = self._bound(v, dtype)
            if num is None or bound is None:
                return f"not pushed down: {rule} on a {dtype} column"
            op = {"minimum": exp.LT, "maximum": exp.GT, "exclusiveMinimum": exp.LTE,
                  "exclusiveMaximum": exp.GTE}[rule]
            return op(this=num, expression=bound)
        if rule == "multipleOf":
            num = self._comparable(c, dtype, d.prop)
            if num is None:
                return f"not pushed down: multipleOf on a {dtype} column"
            m = exp.Literal.number(v)
            num = exp.cast(num, "double")  # an integer column divides as integers otherwise
            diff = exp.Abs(this=exp.Sub(this=exp.Mul(this=exp.Round(
                this=exp.Div(this=num, expression=m)), expression=m), expression=num))
            scale = exp.paren(exp.Add(this=exp.Abs(this=num), expression=exp.Literal.number(1)))
            return exp.GT(this=diff, expression=exp.Mul(this=exp.Literal.number(1e-9),
                                                        expression=scale))
        if rule in {"minLength", "maxLength"}:
            op = exp.LT if rule == "minLength" else exp.GT
            return op(this=exp.Length(this=text), expression=exp.Literal.number(v))
        if rule == "validValues":
            return exp.and_(c.is_(exp.null()).not_(), self._is_in(c, dtype, list(v)).not_())
        if rule in ROW_METRICS:
            queue = self.quality.get((col, rule)) or []
            if not queue:
                return f"not pushed down: {rule} rule not found"
            args = queue.pop(0).arguments or {}
            missing = [x for x in args.get("missingValues") or [] if x is not None]
            if rule == "missingValues":
                return exp.or_(c.is_(exp.null()), self._is_in(c, dtype, missing))
            valid: exp.Expr = exp.true()
            if args.get("validValues") is not None:
                valid = exp.and_(valid, self._is_in(
                    c, dtype, [x for x in args["validValues"] if x is not None]))
            if args.get("pattern") is not None:
                valid = exp.and_(valid, self._regex(text, args["pattern"]))
            not_missing = exp.and_(c.is_(exp.null()).not_(),
                                   self._is_in(c, dtype, missing).not_())
            return exp.and_(not_missing, exp.func("COALESCE", exp.paren(valid), exp.false())
                            .not_())
        return f"not pushed down: {rule}"

    def _regex(self, text: exp.Expr, pattern: str) -> exp.Expr:
        return exp.RegexpLike(this=text, expression=exp.Literal.string(pattern))

    def _is_in(self, c: exp.Expr, dtype: pl.DataType, values: list[Any]) -> exp.Expr:
        if not values:
            return exp.false()
        if dtype.is_numeric() and all(isinstance(x, int | float) and not isinstance(x, bool)
                                      for x in values):
            return exp.cast(c, "double").isin(*[exp.Literal.number(float(x)) for x in values])
        if dtype == pl.Boolean and all(isinstance(x, bool) for x in values):
            return c.isin(*[exp.Boolean(this=x) for x in values])
        text = _as_text(c, dtype)
        return text.isin(*[exp.Literal.string(_text(x)) for x in values])

    def _comparable(self, c: exp.Expr, dtype: pl.DataType,
                    prop: Any) -> exp.Expr | None:
        if dtype.is_numeric() or dtype.is_temporal():
            return c
        if dtype == pl.String:  # numbers kept as text: read as a number, else null
            if self.dialect == "duckdb":
                return exp.TryCast(this=c, to=exp.DataType.build("double"))
            number = exp.Literal.string(_NUMBER)
            return exp.Case().when(exp.RegexpLike(this=c, expression=number),
                                   exp.cast(c, "double"))
        return None

    def _bound(self, value: Any, dtype: pl.DataType) -> exp.Expr | None:
        if isinstance(dtype, pl.Datetime) and isinstance(value, str | date):
            ts = value if isinstance(value, str) else value.isoformat()
            return exp.cast(exp.Literal.string(ts.replace("Z", "+00:00")),
                            "timestamptz" if dtype.time_zone else "timestamp")
        if dtype == pl.Date and isinstance(value, str | date):
            return exp.cast(exp.Literal.string(str(value)[:10]), "date")
        if dtype == pl.Time:
            return exp.cast(exp.Literal.string(_time_of(value).isoformat()), "time")
        if isinstance(value, int | float) and not isinstance(value, bool):
            return exp.Literal.number(value)
        return None


_NUMBER = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"


def _as_text(c: exp.Expr, dtype: pl.DataType) -> exp.Expr:
    """A value as polars writes it as text: whole floats keep their ``.0`` (PostgreSQL
    writes ``100`` for the double 100.0, polars and DuckDB ``100.0``)."""
    if dtype == pl.String:
        return c
    text = exp.cast(c, "text")
    if dtype.is_float():
        whole = exp.RegexpLike(this=text, expression=exp.Literal.string("^-?[0-9]+$"))
        return exp.Case().when(whole, exp.DPipe(this=text.copy(),
                                                expression=exp.Literal.string(".0"))
                               ).else_(text.copy())
    return text


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _count_if(pred: exp.Expr) -> exp.Expr:
    return exp.Sum(this=exp.Case().when(pred, exp.Literal.number(1))
                   .else_(exp.Literal.number(0)))


# --- one schema object --------------------------------------------------------------------

def _check_table(con: Connection, contract: Contract, sname: str, source: Source,
                 as_of: datetime, allow_undeclared: bool, sample_rows: int) -> ContractResult:
    obj = contract.schema(sname)
    table_name = obj.physicalName or sname
    # a declared column the table lacks stops the run (exit 2), unlike a file's failed
    # presence check: the queries cannot run against that table, the contract points at
    # the wrong one
    declared = [c for c in (column_name(p) for p in obj.properties or []) if c]
    types = con.require_columns(table_name, source.schema, declared,
                                f"the contract's schema object {sname} declares")
    dialect = con.dialect
    data_schema = pl.Schema({n: polars_dtype(t, dialect) for n, t in types.items()})
    defs = compile_schema(contract, obj, data_schema, csv=False,
                          allow_undeclared=allow_undeclared)
    defs += freshness_checks(contract, obj, data_schema)
    table = exp.table_(table_name, db=source.schema, quoted=True)
    rules = _Rules(obj, data_schema, dialect)
    sensitive = sensitive_columns(contract, contract.classifications)

    preds: dict[int, exp.Expr] = {}
    aggs: list[exp.Expr] = [exp.alias_(exp.Count(this=exp.Star()), "n")]
    for i, d in enumerate(defs):
        if d.kind == "row":
            pred = rules.predicate(d)
            if isinstance(pred, str):
                d.kind, d.severity, d.extra = "unsupported", "info", {**d.extra, "reason": pred}
                continue
            preds[i] = pred
            aggs.append(exp.alias_(_count_if(pred), f"c{i}"))
        elif d.kind == "freshness":
            aggs.append(exp.alias_(exp.Max(this=exp.column(d.columns[0], quoted=True)),
                                   f"c{i}"))
        elif d.kind in {"dup", "sql", "fk"} and d.column is not None \
                and d.column not in data_schema and d.kind != "sql":
            d.kind, d.severity = "unsupported", "info"
            d.extra = {**d.extra, "reason": "not pushed down: a nested field"}
    names, rows = con.fetch(exp.select(*aggs).from_(table).sql(dialect))
    first = dict(zip(names, rows[0], strict=True))
    n_rows = int(first["n"] or 0)
    first["__rows"] = n_rows
    results = [_evaluate(d, i, first, n_rows, data_schema, as_of, sensitive)
               for i, d in enumerate(defs)]
    for i, d in enumerate(defs):
        if d.kind == "meta" and d.rule in {"logicalType", "physicalType"}:
            actual = types[d.columns[0]]
            results[i]["observed"] = actual
            if d.rule == "physicalType":
                ok = physical_matches(str(d.expected), actual, dialect, data_schema[d.columns[0]])
                if ok is None:
                    results[i]["observed"] = (f"{actual}; cannot compare with unknown physical "
                                              f"type {d.expected!r}")
                results[i]["passed"] = bool(ok)
        results[i].update(first_failed_at=None, last_failed_at=None, samples=(),
                          worst=None)

    ts_col = _timestamp_column(obj, data_schema)
    ctx = _Ctx(con, table, dialect, obj, data_schema, ts_col, sensitive, sample_rows)
    unique: list[frozenset[str]] = []  # keys found free of duplicates so far
    for i, d in enumerate(defs):
        if d.kind == "dup":
            _duplicates(ctx, d, results[i], n_rows, unique)
        elif d.kind == "sql":
            _sql_rule(ctx, d, results[i], table_name, sname)
        elif d.kind == "fk":
            _foreign_key(ctx, contract, d, results[i], source)
    failed = [i for i in preds if not results[i]["passed"] and results[i]["failed_rows"]]
    if failed:
        _follow_up(ctx, defs, preds, failed, results)
    levels = service_levels(contract, None, as_of=as_of, schema=sname, skip=("freshness",),
                            unavailable=SLA_ON_SERVER)
    results += as_checks(levels)
    checks = tuple(CheckResult(**r) for r in results)
    return ContractResult(contract=contract.id, dataset=source.with_table(table_name).dataset,
                          schema=sname, rows=n_rows, checks=checks, as_of=as_of,
                          sensitive=frozenset(sensitive))


class _Ctx:
    def __init__(self, con: Connection, table: exp.Table, dialect: str, obj: Any,
                 data_schema: pl.Schema, ts_col: str | None, sensitive: set[str],
                 sample_rows: int) -> None:
        self.con, self.table, self.dialect, self.obj = con, table, dialect, obj
        self.data_schema, self.ts_col, self.sensitive = data_schema, ts_col, sensitive
        self.sample_rows = sample_rows

    def shown(self, d: CheckDef) -> list[exp.Expr]:
        """The sample's columns, sensitive ones masked inside the query."""
        out = []
        for name in _sample_columns(self.obj, self.data_schema, self.ts_col, d):
            c: exp.Expr = exp.column(name, quoted=True)
            if name in self.sensitive:
                c = exp.Case().when(c.is_(exp.null()).not_(), exp.Literal.string(MASK))
            out.append(exp.alias_(c, name, quoted=True))
        return out

    def samples(self, query: exp.Select) -> tuple[dict[str, Any], ...]:
        names, rows = self.con.fetch(query.sql(self.dialect))
        return tuple({k: _jsonable(v) for k, v in zip(names, r, strict=True)} for r in rows)


def _not_null(cols: list[str]) -> exp.Expr:
    return exp.and_(*[exp.column(c, quoted=True).is_(exp.null()).not_() for c in cols])


def _duplicates(ctx: _Ctx, d: CheckDef, out: dict[str, Any], n_rows: int,
                unique: list[frozenset[str]]) -> None:
    """Duplicated keys among the rows whose key columns are all set. A key that contains a
    key already found free of duplicates has none either (its rows are a subset of that
    key's, each still told apart by it): no query, so ``unique(id)`` then
    ``duplicateValues(id, ts)`` scan the table once, not twice."""
    cols = list(d.columns)
    keys = [exp.column(c, quoted=True) for c in cols]
    if any(u <= set(cols) for u in unique):
        dup_keys = dup_rows = 0
    else:
        groups = (exp.select(*keys, exp.alias_(exp.Count(this=exp.Star()), "k"))
                  .from_(ctx.table).where(_not_null(cols)).group_by(*keys)
                  .having(exp.GT(this=exp.Count(this=exp.Star()),
                                 expression=exp.Literal.number(1))))
        query = exp.select(exp.alias_(exp.Count(this=exp.Star()), "keys"),
                           exp.alias_(exp.func("COALESCE", exp.Sum(this=exp.column("k")),
                                               exp.Literal.number(0)), "rows")
                           ).from_(groups.subquery("g"))
        _, rows = ctx.con.fetch(query.sql(ctx.dialect))
        dup_keys, dup_rows = int(rows[0][0] or 0), int(rows[0][1] or 0)
        if dup_keys == 0:
            unique.append(frozenset(cols))
    metric = round(dup_rows / n_rows * 100, 6) if d.percent and n_rows else (
        0.0 if d.percent else dup_keys)
    out.update(observed=metric, failed_rows=dup_rows, passed=d.threshold.passes(metric))
    if dup_rows and not out["passed"]:
        dup_set = (exp.select(*keys).from_(ctx.table).where(_not_null(cols)).group_by(*keys)
                   .having(exp.GT(this=exp.Count(this=exp.Star()),
                                  expression=exp.Literal.number(1))))
        in_dups = (exp.Tuple(expressions=keys).isin(query=exp.Subquery(this=dup_set))
                   if len(keys) > 1 else keys[0].isin(query=dup_set))
        if ctx.ts_col:
            t = exp.column(ctx.ts_col, quoted=True)
            _, times = ctx.con.fetch(exp.select(exp.Min(this=t), exp.Max(this=t))
                                     .from_(ctx.table).where(in_dups).sql(ctx.dialect))
            out.update(first_failed_at=_iso(times[0][0]), last_failed_at=_iso(times[0][1]))
        query = (exp.select(*ctx.shown(d)).from_(ctx.table).where(in_dups)
                 .order_by(*keys).limit(ctx.sample_rows))
        out["samples"] = ctx.samples(query)


def _sql_rule(ctx: _Ctx, d: CheckDef, out: dict[str, Any], table_name: str,
              sname: str) -> None:
    qualified = exp.table_(table_name, db=ctx.table.db or None, quoted=True).sql(ctx.dialect)
    query = _PLACEHOLDER.sub(
        lambda m: qualified if m.group(1) in {"model", "table", "object", "schema"}
        else f'"{d.column}"', d.query or "")
    # the schema object's names, as on files, name the table on the server
    query = _replace_table(query, {sname, ctx.obj.name, table_name} - {None}, qualified,
                           ctx.dialect)
    refused = _sql.refusal(query)
    touches_sensitive = any(c in query for c in ctx.sensitive)
    if refused is not None:
        out.update(observed={"error": refused}, passed=False, severity="error")
        return
    value, error = ctx.con.run_guarded(query)
    if error is not None:
        shown = "withheld: the query names a sensitive column" if touches_sensitive else error
        out.update(observed={"error": shown}, passed=False, severity="error")
        return
    if isinstance(value, Decimal):
        value = float(value)
    try:
        passed = d.threshold.passes(value) if value is not None else False
    except TypeError:
        out.update(observed={"error": f"expected a value comparable with {d.expected}, got "
                             f"{type(value).__name__}"}, passed=False, severity="error")
        return
    if isinstance(value, str) and touches_sensitive:
        value = MASK
    out.update(observed=_sql.shown(value), passed=passed)


def _replace_table(query: str, names: set[str], qualified: str, dialect: str) -> str:
    """The query with each unqualified reference to one of ``names`` (the schema object's
    names) made the server's table; the query as written when it does not parse."""
    try:
        tree = sqlglot.parse_one(query, dialect=dialect)
    except Exception:
        return query
    changed = False
    for t in list(tree.find_all(exp.Table)):
        if t.name in names and not t.db:
            table = sqlglot.parse_one(qualified, into=exp.Table, dialect=dialect)
            if t.alias:
                table.set("alias", t.args["alias"])
            t.replace(table)
            changed = True
    return tree.sql(dialect) if changed else query


def _foreign_key(ctx: _Ctx, contract: Contract, d: CheckDef, out: dict[str, Any],
                 source: Source) -> None:
    target, target_cols = d.extra["target"], list(d.extra["target_columns"])
    ref_obj = contract.schema(target)
    ref_table = exp.table_(ref_obj.physicalName or target, db=source.schema, quoted=True)
    try:
        ref_types = ctx.con.column_types(ref_obj.physicalName or target, source.schema)
    except InputError:
        out.update(severity="info", observed=f"not checked: no table for {target} on "
                   f"{source.label}")
        return
    absent = [c for c in target_cols if c not in ref_types]
    if absent:  # as for the checked table: the contract points at the wrong table
        ctx.con.require_columns(ref_obj.physicalName or target, source.schema, target_cols,
                                f"the foreign key {d.id} references")
    cols = list(d.columns)
    match = exp.and_(*[exp.EQ(this=exp.column(c, table="t", quoted=True),
                              expression=exp.column(tc, table="r", quoted=True))
                       for c, tc in zip(cols, target_cols, strict=True)])
    exists = exp.Exists(this=exp.select(exp.Literal.number(1))
                        .from_(ref_table.copy().as_("r")).where(match))
    cond = exp.and_(*[exp.column(c, table="t", quoted=True).is_(exp.null()).not_()
                      for c in cols], exists.not_())
    base = ctx.table.copy().as_("t")
    _, rows = ctx.con.fetch(exp.select(exp.Count(this=exp.Star())).from_(base).where(cond)
                            .sql(ctx.dialect))
    n = int(rows[0][0] or 0)
    out.update(failed_rows=n, observed=n, passed=n == 0)
    if n:
        shown = [exp.alias_(e.this.transform(
            lambda node: exp.column(node.name, table="t", quoted=True)
            if isinstance(node, exp.Column) else node), e.alias, quoted=True)
            for e in ctx.shown(d)]
        out["samples"] = ctx.samples(exp.select(*shown).from_(base).where(cond)
                                     .limit(ctx.sample_rows))


def _follow_up(ctx: _Ctx, defs: list[CheckDef], preds: Mapping[int, exp.Expr],
               failed: list[int], results: list[dict[str, Any]]) -> None:
    """First/last failing time and the most extreme failing value (one aggregate), then at
    most ``sample_rows`` failing rows per failed check (``LIMIT``)."""
    aggs: list[exp.Expr] = []
    worst = {"minimum": exp.Min, "exclusiveMinimum": exp.Min, "maximum": exp.Max,
             "exclusiveMaximum": exp.Max}
    for i in failed:
        if ctx.ts_col:
            t = exp.Case().when(preds[i], exp.column(ctx.ts_col, quoted=True))
            aggs += [exp.alias_(exp.Min(this=t), f"f{i}"), exp.alias_(exp.Max(this=t.copy()),
                                                                       f"l{i}")]
        col = defs[i].column
        if defs[i].rule in worst and col is not None:  # bounds are column rules
            v = exp.Case().when(preds[i], exp.column(col, quoted=True))
            aggs.append(exp.alias_(worst[defs[i].rule](this=v), f"w{i}"))
    if aggs:
        names, rows = ctx.con.fetch(exp.select(*aggs).from_(ctx.table).sql(ctx.dialect))
        got = dict(zip(names, rows[0], strict=True))
        for i in failed:
            if ctx.ts_col:
                results[i].update(first_failed_at=_iso(got[f"f{i}"]),
                                  last_failed_at=_iso(got[f"l{i}"]))
            if f"w{i}" in got:
                results[i]["worst"] = (MASK if defs[i].column in ctx.sensitive
                                       else _jsonable(got[f"w{i}"]))
    for i in failed:
        query = exp.select(*ctx.shown(defs[i])).from_(ctx.table).where(preds[i]).limit(
            ctx.sample_rows)
        results[i]["samples"] = ctx.samples(query)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date | datetime):
        return _iso(value)
    return value


__all__ = ["check_server", "find_server", "physical_matches"]

"""Running compiled checks: one streaming polars pass over the data, then a small read of the
failing rows.

Pass 1 (one ``select``, streaming engine) keeps one bit a row per row-level check, the 64-bit
key hash of each duplicate check that needs one, and the timestamp and freshness columns
(``_Plan``). Every count, newest timestamp, first/last failing time and duplicate candidate
is computed from that in memory. Type and presence checks read only the schema.
Pass 2 (only when something failed) reads, by position, the first ``sample_rows`` failing
rows of each failed check and the rows whose key hash repeats, with only the columns shown
(sensitive ones masked); duplicates are grouped exactly on those rows.
SQL rules run in a locked DuckDB sandbox (``_sql``) over the same data, registered from Python.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any, cast

import polars as pl

from workbench import io
from workbench.contracts import _sql
from workbench.contracts._compile import (
    LOGICAL_TYPES,
    CheckDef,
    compile_schema,
    freshness_checks,
    physical_type_matches,
)
from workbench.contracts._model import (
    CheckResult,
    Contract,
    ContractResult,
    column_name,
    load_contract,
    sensitive_columns,
)
from workbench.contracts._sla import _instant as _as_of
from workbench.contracts._sla import _utc, as_checks, service_levels
from workbench.errors import InputError, input_error
from workbench.render import MASK

DataLike = str | os.PathLike[str] | pl.LazyFrame | pl.DataFrame


def check(contract: Contract | str | os.PathLike[str],
          data: DataLike | Mapping[str, DataLike] | None = None, *,
          schema: str | None = None, as_of: datetime | str | None = None,
          allow_undeclared: bool = True, sample_rows: int = 5,
          deliveries: Any = None) -> ContractResult:
    """Check data against a contract: one schema object, or every one of them.

    ``data`` is the dataset (default: the contract's server path for the schema object), or
    a mapping from schema name to dataset. With several schema objects and no ``schema``,
    each is checked against its own data and the results are combined; foreign keys read
    the referenced schema object's data the same way. ``as_of`` is the instant freshness is
    measured from (default: now, UTC); pass a fixed one for reproducible results.
    ``allow_undeclared=False`` adds a check that the data has no columns the contract does
    not declare. Service levels other than freshness (``contracts._sla``) are checks too,
    measured over 28 days to ``as_of``; ``deliveries`` is the delivery log some need.
    """
    if not isinstance(contract, Contract):
        contract = load_contract(contract)
    as_of_dt = _as_of(as_of)
    names = contract.schema_names
    if schema is None and len(names) > 1:
        if data is not None and not isinstance(data, Mapping):
            raise input_error(contract.path, "schema", "--schema NAME to say which schema object "
                              f"DATA holds (one of {', '.join(names)})")
        parts = [_check_one(contract, name, data, as_of_dt, allow_undeclared, sample_rows,
                            deliveries) for name in names]
        return ContractResult.combine(parts)
    name = names[(contract.odcs.schema_ or []).index(contract.schema(schema))]
    return _check_one(contract, name, data, as_of_dt, allow_undeclared, sample_rows,
                      deliveries)


# --- range checks: the most extreme failing value ---------------------------------------------

_RANGE_WORST = {"minimum": "min", "exclusiveMinimum": "min",
                "maximum": "max", "exclusiveMaximum": "max"}


def _extreme_failing_values(defs: list[CheckDef], results: list[dict[str, Any]],
                            lf: pl.LazyFrame, sensitive: set[str], names: set[str]) -> None:
    """``worst``: for each failed range check, the failing value furthest past its limit.

    "14 rows above 15" does not say why 15.0001 failed; the value itself, at full
    precision, does. Only failed range checks pay for it: one extra read of their columns.
    A sensitive column's value is masked. Nested fields (``lines[].qty``) are not
    top-level columns: their checks keep ``worst`` empty.
    """
    failed = [i for i, d in enumerate(defs) if d.rule in _RANGE_WORST and d.kind == "row"
              and d.bad is not None and d.column in names and not results[i]["passed"]
              and results[i]["failed_rows"]]
    for i in range(len(results)):
        results[i].setdefault("worst", None)
    if not failed:
        return
    aggs = [getattr(pl.col(str(defs[i].column)).filter(cast(pl.Expr, defs[i].bad).fill_null(False)),
                    _RANGE_WORST[defs[i].rule])().alias(f"w{i}") for i in failed]
    row = lf.select(aggs).collect(engine="streaming").row(0, named=True)
    for i in failed:
        value = row[f"w{i}"]
        results[i]["worst"] = MASK if defs[i].column in sensitive else _jsonable_row(
            {"v": value})["v"]


def _check_one(contract: Contract, sname: str, data: DataLike | Mapping[str, DataLike] | None,
               as_of_dt: datetime, allow_undeclared: bool, sample_rows: int,
               deliveries: Any = None) -> ContractResult:
    obj = contract.schema(sname)
    lf, dataset, source, csv = _open(contract, obj, sname, _data_for(data, sname))
    try:
        data_schema = lf.collect_schema()
    except Exception as exc:
        raise InputError(f"{dataset}: expected a readable table: {_line(exc)}",
                         file=dataset) from exc

    defs = compile_schema(contract, obj, data_schema, csv=csv, allow_undeclared=allow_undeclared)
    defs += freshness_checks(contract, obj, data_schema)

    ts_col = _timestamp_column(obj, data_schema)
    plan = _Plan(defs, ts_col)
    try:
        frame = plan.run(lf)
    except pl.exceptions.ComputeError as exc:
        if (problem := io.read_problem(dataset, exc)) is not None:
            raise problem from exc
        raise InputError(f"{dataset}: expected data the contract's rules can read: {_line(exc)}",
                         file=dataset) from exc
    except Exception as exc:
        raise InputError(f"{dataset}: expected a readable table: {_line(exc)}",
                         file=dataset) from exc
    first = plan.summarise(frame)
    frame = frame.drop([f"h{r}" for r in plan.roots])  # done with: free them for pass 2
    rows = int(first["__rows"])

    # a column the contract marks sensitive in any schema object is masked in all of them
    sensitive = sensitive_columns(contract, contract.classifications)
    results = [_evaluate(d, i, first, rows, data_schema, as_of_dt, sensitive)
               for i, d in enumerate(defs)]
    sql_defs = [(i, d) for i, d in enumerate(defs) if d.kind == "sql"]
    if sql_defs:
        _run_sql(sql_defs, results, source, lf, obj, sname, sensitive)
    _follow_up(plan, frame, results, lf, source, obj, data_schema, sensitive, sample_rows)
    _extreme_failing_values(defs, results, lf, sensitive, set(data_schema.names()))
    fk_defs = [(i, d) for i, d in enumerate(defs) if d.kind == "fk"]
    if fk_defs:
        _run_foreign_keys(fk_defs, results, contract, data, lf, obj, data_schema, ts_col,
                          sensitive, sample_rows)
    levels = service_levels(contract, {sname: lf}, deliveries=deliveries, as_of=as_of_dt,
                            schema=sname, skip=("freshness",))  # freshness: a check above
    results += as_checks(levels)
    checks = tuple(CheckResult(**r) for r in results)
    return ContractResult(contract=contract.id, dataset=dataset, schema=sname, rows=rows,
                          checks=checks, as_of=as_of_dt, sensitive=frozenset(sensitive))


def _data_for(data: DataLike | Mapping[str, DataLike] | None, sname: str) -> DataLike | None:
    if isinstance(data, Mapping):
        return data.get(sname)
    return data


# --- data ----------------------------------------------------------------------------------

def _open(contract: Contract, obj: Any, sname: str, data: DataLike | None
          ) -> tuple[pl.LazyFrame, str, Any, bool]:
    if isinstance(data, pl.DataFrame):
        return data.lazy(), "<DataFrame>", data, False
    if isinstance(data, pl.LazyFrame):
        return data, "<LazyFrame>", data, False
    fmt = None
    if data is None:
        path = contract.data_path(sname)
        if path is None:
            raise input_error(contract.path, "servers", "a server with a path for schema "
                              f"{sname!r}, or a DATA argument")
        server = contract.server(sname)
        fmt = server.format if server is not None else None
    else:
        path = str(data)
    kind = io.table_format(path, fmt)
    overrides: dict[str, Any] | None = None
    if kind == "csv":
        # text columns stay text (zip codes, ids with leading zeros), as the contract says
        overrides = {column_name(p): pl.String for p in obj.properties or []
                     if p.logicalType == "string"}
    lf = io.scan(path, kind, schema_overrides=overrides)
    # CSV and JSON store no type widths (an integer is an integer): only the family counts
    return lf, str(path), (kind, str(path)), kind in {"csv", "ndjson", "json"}


# --- evaluation ------------------------------------------------------------------------------

def _evaluate(d: CheckDef, i: int, first: dict[str, Any], rows: int, data_schema: pl.Schema,
              as_of: datetime, sensitive: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = dict(
        id=d.id, schema=d.schema, column=d.column, rule=d.rule, severity=d.severity,
        dimension=d.dimension, expected=d.expected, description=d.description,
        failed_rows=None, observed=None, passed=False)
    if d.kind == "meta":
        out.update(_meta(d, data_schema))
    elif d.kind == "row":
        count = int(first[f"c{i}"] or 0)
        metric = (round(count / rows * 100, 6) if rows else 0.0) if d.percent else count
        out.update(failed_rows=count, observed=metric, passed=d.threshold.passes(metric))
    elif d.kind == "dup":  # no repeated key hash: no duplicates (pass 2 counts the others)
        zero = 0.0 if d.percent else 0
        out.update(failed_rows=0, observed=zero, passed=d.threshold.passes(zero))
    elif d.kind == "unsupported":
        out.update(observed=d.extra["reason"])
    elif d.kind == "rows":
        out.update(observed=rows, passed=d.threshold.passes(rows))
    elif d.kind == "missing":
        out.update(observed=f"missing columns: {', '.join(d.extra['missing'])}")
    elif d.kind == "freshness":
        newest = _utc(first[f"c{i}"])
        if newest is None:
            out.update(observed=None)
        else:
            age = (as_of - newest).total_seconds()
            shown = MASK if d.column in sensitive else newest.isoformat()
            out.update(observed={"newest": shown, "age_seconds": round(age, 3)},
                       passed=age < (d.seconds or 0))
    return out


def _meta(d: CheckDef, data_schema: pl.Schema) -> dict[str, Any]:
    if d.rule == "present":
        ok = d.extra.get("present", d.columns[0] in data_schema)  # nested: found at compile
        return {"observed": "present" if ok else "missing", "passed": ok}
    if d.rule == "undeclared":
        extra = d.extra["undeclared"]
        return {"observed": extra, "passed": not extra, "failed_rows": None}
    dtype = d.extra["dtype"] if "dtype" in d.extra else data_schema[d.columns[0]]
    if d.rule == "logicalType":
        ok = LOGICAL_TYPES[d.expected](dtype)
        return {"observed": str(dtype), "passed": bool(ok)}
    ok = physical_type_matches(str(d.expected), dtype, csv=bool(d.extra.get("csv")))
    if ok is None:
        return {"observed": f"{dtype}; cannot compare with unknown physical type "
                            f"{d.expected!r}", "passed": False}
    return {"observed": str(dtype), "passed": ok}


# --- SQL ----------------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\$?\{(model|table|object|schema|column|property|field)\}")


def _placeholders(table: str, column: str | None) -> Callable[[re.Match[str]], str]:
    """``{model}``/``{table}``/... -> the quoted table, ``{column}``/... -> the quoted column."""
    def fill(m: re.Match[str]) -> str:
        return f'"{table}"' if m.group(1) in {"model", "table", "object", "schema"} \
            else f'"{column}"'
    return fill


def _run_sql(sql_defs: list[tuple[int, CheckDef]], results: list[dict[str, Any]], source: Any,
             lf: pl.LazyFrame, obj: Any, sname: str, sensitive: set[str]) -> None:
    # in a sandbox (contracts/_sql.py): the data registered from Python, nothing else reachable
    limits = _sql.SqlLimits.from_env()
    names = {n for n in (sname, obj.physicalName, obj.name) if n}
    table = obj.physicalName or sname
    con = _sql.sandbox(dict.fromkeys(names, _sql.table_for(source, lf)), limits)
    try:
        for i, d in sql_defs:
            query = _PLACEHOLDER.sub(_placeholders(table, d.column), d.query or "")
            value, error = _sql.scalar(con, query, limits, sensitive)
            if error is not None:
                # a rule that could not run is never a pass, whatever severity it declares
                # (a hostile rule marked "warning" must not leave the verdict green)
                results[i].update(observed={"error": error}, passed=False, severity="error")
                continue
            if hasattr(value, "item"):
                value = value.item()
            if hasattr(value, "__float__") and not isinstance(value, int | float | bool):
                value = float(value)  # Decimal
            try:
                passed = d.threshold.passes(value) if value is not None else False
            except TypeError:  # a text (or date) value against a numeric bound
                results[i].update(observed={"error": f"expected a value comparable with "
                                            f"{d.expected}, got {type(value).__name__}"},
                                  passed=False, severity="error")
                continue
            if isinstance(value, str) and any(c in query for c in sensitive):
                value = MASK  # a query may select a sensitive value; never show it
            results[i].update(observed=_sql.shown(value), passed=passed)
    finally:
        con.close()


# --- pass 1: one streaming select ------------------------------------------------------------

class _Plan:
    """What pass 1 keeps of every row, and the summary computed from it in memory.

    One streaming ``select`` materialises, per row: a boolean per row-level check (one bit a
    row: sums, failing positions and first/last failing times all come from these), the
    64-bit key hash of each duplicate check that needs one, the timestamp column and the
    columns freshness is measured on. Nothing is read twice to count.

    Duplicate checks: the key hashes are sorted and the hashes that repeat mark the candidate
    rows; pass 2 groups those rows exactly (a hash collision drops out there). A check whose
    key columns contain another duplicate check's columns needs no hash of its own: two rows
    with equal keys also agree on that subset, so all its duplicates are among the other
    check's candidates (``unique`` on ``id`` and ``duplicateValues`` on ``id, ts``: one sort).
    Measured on the 10M-row benchmark data (benchmarks/contracts.py), two key checks: polars'
    ``is_duplicated`` on the hashes took 3.1 s and raised the peak to 1.5 GB; sorting them and
    comparing neighbours 0.6 s (``n_unique`` is as fast but only counts, and the repeated
    hashes are needed to find the rows); ``n_unique`` on the string and struct keys
    themselves added 3.5 s and took the peak to 2 GB.
    """

    def __init__(self, defs: list[CheckDef], ts_col: str | None) -> None:
        self.defs, self.ts_col = defs, ts_col
        self.exprs: dict[str, pl.Expr] = {"n": pl.nth(0).is_null()}  # the row count
        self.root: dict[int, int] = {}  # dup check -> the check whose candidates it uses
        for i, d in enumerate(defs):
            if d.kind == "row" and d.bad is not None:
                self.exprs[f"b{i}"] = d.bad.fill_null(False)
            elif d.kind == "freshness":
                self.exprs[f"f{i}"] = pl.col(d.columns[0])
        dups = sorted((i for i, d in enumerate(defs) if d.kind == "dup"),
                      key=lambda i: len(set(defs[i].columns)))
        for i in dups:
            cols = set(defs[i].columns)
            parent = next((r for r in self.roots if set(defs[r].columns) <= cols), None)
            self.root[i] = i if parent is None else parent
            if parent is None:
                self.exprs[f"h{i}"] = _key_hash(defs[i].columns)
        if ts_col and any(d.kind in {"row", "dup"} for d in defs):
            self.exprs["t"] = pl.col(ts_col)
        self.candidates: dict[int, pl.Series] = {}

    @property
    def roots(self) -> list[int]:
        return [i for i, r in self.root.items() if i == r]

    def run(self, lf: pl.LazyFrame) -> pl.DataFrame:
        if not lf.collect_schema().names():
            return pl.DataFrame({"n": pl.Series([], dtype=pl.Boolean)})
        return lf.select(**self.exprs).collect(engine="streaming")

    def summarise(self, frame: pl.DataFrame) -> dict[str, Any]:
        """Pass-1 figures by check: ``c<i>`` is the failing-row count, the newest value (for
        freshness), or whether duplicate candidates exist."""
        sums = [pl.col(f"b{i}").sum().alias(f"c{i}") for i, d in enumerate(self.defs)
                if f"b{i}" in frame.columns]
        sums += [pl.col(f"f{i}").max().alias(f"c{i}") for i, d in enumerate(self.defs)
                 if f"f{i}" in frame.columns]
        first: dict[str, Any] = frame.select(sums).row(0, named=True) if sums else {}
        first["__rows"] = frame.height
        for r in self.roots:
            hashes = frame[f"h{r}"].drop_nulls().sort()
            repeated = hashes.filter(hashes == hashes.shift(1)).unique()
            if repeated.len():
                self.candidates[r] = frame[f"h{r}"].is_in(repeated.implode()).arg_true()
        for i, r in self.root.items():
            first[f"c{i}"] = r in self.candidates
        return first


def _key_hash(columns: Iterable[str]) -> pl.Expr:
    """Hashes of the keys; null where a key part is null (such rows are never duplicates)."""
    cols = list(columns)
    key = pl.col(cols[0]) if len(cols) == 1 else pl.struct(cols)
    return pl.when(pl.all_horizontal([pl.col(c).is_not_null() for c in cols])).then(
        key.hash(seed=0))


# --- pass 2: failing rows, fetched by position ------------------------------------------------

def _follow_up(plan: _Plan, frame: pl.DataFrame, results: list[dict[str, Any]],
               lf: pl.LazyFrame, source: Any, obj: Any, data_schema: pl.Schema,
               sensitive: set[str], sample_rows: int) -> None:
    """Samples, duplicate groups and first/last failing timestamps, only for failed checks.

    First/last failing times of row checks come from pass 1's bits and timestamps. The rows
    to show (the first ``sample_rows`` failing rows of each failed row check, and every
    duplicate candidate) are fetched by position in one read of just the columns shown
    (``_take``); duplicates are then grouped exactly on those rows.
    """
    defs, ts_col = plan.defs, plan.ts_col
    for r in results:
        r.update(first_failed_at=None, last_failed_at=None, samples=())

    def sample_cols(d: CheckDef) -> list[str]:
        return _sample_columns(obj, data_schema, ts_col, d)

    row_failed = [i for i, d in enumerate(defs) if d.kind == "row"
                  and not results[i]["passed"] and results[i]["failed_rows"]]
    dup_found = [i for i, r in plan.root.items() if r in plan.candidates]
    if not row_failed and not dup_found:
        return
    if ts_col and row_failed:
        t = pl.col("t")
        times = frame.select([e for i in row_failed for e in (
            t.filter(pl.col(f"b{i}")).min().alias(f"f{i}"),
            t.filter(pl.col(f"b{i}")).max().alias(f"l{i}"))]).row(0, named=True)
        for i in row_failed:
            results[i].update(first_failed_at=_iso(times[f"f{i}"]),
                              last_failed_at=_iso(times[f"l{i}"]))

    samples = {i: frame[f"b{i}"].arg_true().head(sample_rows) for i in row_failed}
    wanted = pl.concat([*samples.values(), *plan.candidates.values()]).unique().sort()
    columns = [c for i in row_failed for c in sample_cols(defs[i])]
    columns += [c for i in dup_found for c in (*defs[i].columns, *sample_cols(defs[i]))]
    fetched = _take(lf, source, wanted, list(dict.fromkeys(columns)))

    for i in row_failed:
        rows = fetched.filter(pl.col("__i").is_in(samples[i].implode())).select(
            sample_cols(defs[i]))
        rows = _mask(rows.lazy(), sensitive).collect()
        results[i]["samples"] = tuple(_jsonable_row(r) for r in rows.to_dicts())
    for i in dup_found:
        d = defs[i]
        cols = list(d.columns)
        candidates = fetched.filter(
            pl.col("__i").is_in(plan.candidates[plan.root[i]].implode()),
            pl.all_horizontal([pl.col(c).is_not_null() for c in cols]))
        dups = candidates.filter(pl.len().over(cols) > 1)  # exact: drops hash collisions
        dup_keys = dups.select(cols).n_unique() if dups.height else 0
        # unit rows: the number of duplicated keys (as datacontract-cli counts); unit
        # percent: the share of rows that repeat a key (datacontract-cli 1.2.8 ignores the
        # unit here and compares the key count)
        metric = (round(dups.height / frame.height * 100, 6) if d.percent else dup_keys)
        results[i].update(observed=metric, failed_rows=dups.height,
                          passed=d.threshold.passes(metric))
        if dups.height and not results[i]["passed"]:
            if ts_col:
                results[i].update(first_failed_at=_iso(dups[ts_col].min()),
                                  last_failed_at=_iso(dups[ts_col].max()))
            sample = dups.sort(cols, nulls_last=True, maintain_order=True).head(sample_rows)
            sample = _mask(sample.lazy(), sensitive).collect().select(sample_cols(d))
            results[i]["samples"] = tuple(_jsonable_row(r) for r in sample.to_dicts())


def _sample_columns(obj: Any, data_schema: pl.Schema, ts_col: str | None,
                    d: CheckDef) -> list[str]:
    """What a failing row shows: the primary key, the timestamp, the check's columns."""
    keys = [column_name(p) for p in sorted(
        (p for p in obj.properties or [] if p.primaryKey),
        key=lambda p: p.primaryKeyPosition if p.primaryKeyPosition is not None else 0)]
    cols = list(dict.fromkeys([*keys, *([ts_col] if ts_col else []), *d.columns]))
    return [c for c in cols if c in data_schema]


# --- foreign keys -------------------------------------------------------------------------------

def _run_foreign_keys(fk_defs: list[tuple[int, CheckDef]], results: list[dict[str, Any]],
                      contract: Contract, data: Any, lf: pl.LazyFrame, obj: Any,
                      data_schema: pl.Schema, ts_col: str | None, sensitive: set[str],
                      sample_rows: int) -> None:
    """Rows whose key is fully present and missing from the referenced schema object's data
    (an anti join, streaming; the referenced keys are read once per check)."""
    for i, d in fk_defs:
        target, target_cols = d.extra["target"], list(d.extra["target_columns"])
        ref_data = _data_for(data, target) if isinstance(data, Mapping) else None
        if ref_data is None and contract.data_path(target) is None:
            results[i].update(severity="info", observed=f"not checked: no data for {target} "
                              "(give it a server in the contract, or pass it)")
            continue
        ref, ref_name, _, _ = _open(contract, contract.schema(target), target, ref_data)
        try:
            ref_schema = ref.collect_schema()
        except Exception as exc:
            raise InputError(f"{ref_name}: expected a readable table: {_line(exc)}",
                             file=ref_name) from exc
        absent = [c for c in target_cols if c not in ref_schema]
        if absent:
            results[i].update(observed=f"{target} data has no column {', '.join(absent)}")
            continue
        cols = list(d.columns)
        keys = [f"__k{j}" for j in range(len(cols))]
        referenced = ref.select([
            (pl.col(tc) if ref_schema[tc] == data_schema[c]
             else pl.col(tc).cast(data_schema[c], strict=False)).alias(k)
            for c, tc, k in zip(cols, target_cols, keys, strict=True)]).unique()
        shown = list(dict.fromkeys([*_sample_columns(obj, data_schema, ts_col, d), *cols]))
        orphans = (lf.filter(pl.all_horizontal([pl.col(c).is_not_null() for c in cols]))
                   .select(shown).with_columns([pl.col(c).alias(k) for c, k in
                                                zip(cols, keys, strict=True)])
                   .join(referenced, on=keys, how="anti", nulls_equal=False,
                         maintain_order="left"))
        figures = [pl.len().alias("n")]
        if ts_col:
            figures += [pl.col(ts_col).min().alias("first"), pl.col(ts_col).max().alias("last")]
        try:
            counted, sample = pl.collect_all(
                [orphans.select(figures), _mask(orphans.select(shown).head(sample_rows),
                                                 sensitive)], engine="streaming")
        except Exception as exc:
            raise InputError(f"{ref_name}: expected keys comparable with {d.schema}'s "
                             f"{', '.join(cols)}: {_line(exc)}", file=ref_name) from exc
        n = int(counted["n"][0])
        results[i].update(failed_rows=n, observed=n, passed=n == 0)
        if n:
            if ts_col:
                results[i].update(first_failed_at=_iso(counted["first"][0]),
                                  last_failed_at=_iso(counted["last"][0]))
            results[i]["samples"] = tuple(_jsonable_row(r) for r in sample.to_dicts())


# a Parquet read of rows by position slices the file (only the row groups holding them are
# decoded) when the positions fall in a few clusters; otherwise one filtered read
_CLUSTER_GAP = 1 << 16
_MAX_SLICES = 16


def _take(lf: pl.LazyFrame, source: Any, positions: pl.Series,
          columns: list[str]) -> pl.DataFrame:
    """The rows at ``positions`` (sorted, unique), ``columns`` plus their position ``__i``."""
    cols = ["__i", *columns]
    pos = positions.cast(pl.UInt64)
    index = pl.col("__i").cast(pl.UInt64)
    if isinstance(source, tuple) and source[0] == "parquet" and pos.len():
        # a new cluster wherever the gap to the previous position is wide (vectorised: there
        # may be millions of duplicate candidates)
        cluster = (pos.diff().fill_null(0) > _CLUSTER_GAP).cum_sum()
        if int(cluster[-1]) < _MAX_SLICES:
            spans = (pl.DataFrame({"c": cluster, "p": pos}).group_by("c", maintain_order=True)
                     .agg(lo=pl.col("p").first(), hi=pl.col("p").last()))
            queries = [lf.slice(lo, hi - lo + 1).with_row_index("__i", offset=lo)
                       .filter(index.is_in(pos.filter((pos >= lo) & (pos <= hi)).implode()))
                       .select(cols) for lo, hi in spans.select("lo", "hi").iter_rows()]
            return pl.concat(pl.collect_all(queries, engine="streaming"))
    return (lf.with_row_index("__i").filter(index.is_in(pos.implode())).select(cols)
            .collect(engine="streaming"))


def _timestamp_column(obj: Any, data_schema: pl.Schema) -> str | None:
    for wanted in ("timestamp", "date"):
        for p in obj.properties or []:
            col = column_name(p)
            if p.logicalType == wanted and col in data_schema and data_schema[col].is_temporal():
                return col
    return None


def _mask(lf: pl.LazyFrame, sensitive: set[str]) -> pl.LazyFrame:
    names = [c for c in lf.collect_schema().names() if c in sensitive]
    if not names:
        return lf
    return lf.with_columns([pl.when(pl.col(c).is_not_null()).then(pl.lit(MASK))
                            .otherwise(pl.lit(None, dtype=pl.String)).alias(c) for c in names])


def _jsonable_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (_iso(v) if isinstance(v, date | datetime) else v) for k, v in row.items()}


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def _line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


__all__ = ["check"]

"""compute(): column types, one polars pass of aggregates per side, tests, windows, contract.

Column types follow evidently 0.7 (``evidently.core.datasets.infer_column_type``), applied
to the current data as pandas would hold it after ``to_pandas()`` (an integer column with
nulls becomes float): float -> numerical; integer -> categorical if at most 10 distinct
values, else numerical; string -> text if distinct values exceed half the non-null rows,
else categorical; boolean and polars Categorical/Enum -> categorical; dates -> not
compared. Text columns are skipped (evidently runs a text-classifier drift on them,
workbench does not). With an ODCS contract, declared types win: valid values or a string
or boolean type make a column categorical, number and integer numerical; unique or
primary-key columns and sensitive columns are skipped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from workbench.drift import _stats
from workbench.drift._columns import check_drift_columns
from workbench.drift._model import Breach, ColumnDrift, DriftResult, Summaries, WindowDrift
from workbench.drift._stats import CATEGORICAL, NUMERICAL, Summary
from workbench.errors import InputError, input_error
from workbench.io import scan

INTEGER_CARDINALITY_LIMIT = 10  # evidently.core.datasets.INTEGER_CARDINALITY_LIMIT
CELLS_PER_BATCH = 10_000_000  # numeric values sorted per polars query (bounds memory: 10M x 20
# continuous columns peaked at 3.1 GB with 25M, as the sorted columns already kept add up)

Frame = pl.LazyFrame | pl.DataFrame | str | os.PathLike

def as_lazy(frame: Frame, label: str) -> tuple[pl.LazyFrame, str]:
    """A LazyFrame and a name for messages, from a frame or a path."""
    if isinstance(frame, pl.LazyFrame):
        return frame, label
    if isinstance(frame, pl.DataFrame):
        return frame.lazy(), label
    return scan(frame), str(frame)


# --- column types -----------------------------------------------------------------------


def _is_int(dtype: pl.DataType) -> bool:
    return dtype.is_integer()


def infer_types(lf: pl.LazyFrame, columns: Sequence[str]) -> dict[str, str | None]:
    """evidently's type of each column on this data (None: not compared, "text": skipped)."""
    schema = lf.collect_schema()
    exprs: list[pl.Expr] = []
    for c in columns:
        dt = schema[c]
        if _is_int(dt):
            exprs += [
                pl.col(c).null_count().alias(f"{c}\0nulls"),
                pl.col(c).drop_nulls().n_unique().alias(f"{c}\0unique"),
            ]
        elif dt in (pl.String, pl.Utf8):
            exprs += [
                pl.col(c).count().alias(f"{c}\0count"),
                pl.col(c).drop_nulls().n_unique().alias(f"{c}\0unique"),
            ]
    stats = lf.select(exprs).collect().row(0, named=True) if exprs else {}
    out: dict[str, str | None] = {}
    for c in columns:
        dt = schema[c]
        if dt.is_float() or dt.is_decimal():
            out[c] = NUMERICAL
        elif _is_int(dt):
            if stats[f"{c}\0nulls"] > 0:
                out[c] = NUMERICAL  # pandas holds it as float64
            else:
                out[c] = (
                    CATEGORICAL if stats[f"{c}\0unique"] <= INTEGER_CARDINALITY_LIMIT else NUMERICAL
                )
        elif dt in (pl.String, pl.Utf8):
            count = stats[f"{c}\0count"]
            if count == 0:
                out[c] = None
            else:
                out[c] = "text" if stats[f"{c}\0unique"] > count * 0.5 else CATEGORICAL
        elif dt == pl.Boolean or isinstance(dt, pl.Categorical | pl.Enum):
            out[c] = CATEGORICAL
        else:
            out[c] = None
    return out


def contract_types(
    specs: Iterable[Any],
) -> tuple[dict[str, str | None], set[str], dict[str, tuple]]:
    """(types by column, sensitive columns, valid values by column) from contract ColumnSpecs.

    A type of None means "infer" (a free-text string); "skip" means never compared.
    """
    types: dict[str, str | None] = {}
    sensitive: set[str] = set()
    valid: dict[str, tuple] = {}
    for spec in specs:
        name = spec.name
        if spec.sensitive:
            sensitive.add(name)
            continue
        logical = (spec.logical_type or "").lower()
        if spec.valid_values:
            valid[name] = tuple(spec.valid_values)
        if spec.unique or spec.primary_key:
            types[name] = "skip"
        elif spec.valid_values or logical == "boolean":
            types[name] = CATEGORICAL
        elif logical in ("number", "integer"):
            types[name] = NUMERICAL
        elif logical == "string":
            types[name] = None
        else:
            types[name] = "skip"
    return types, sensitive, valid


# --- aggregation ------------------------------------------------------------------------


def summarize(
    lf: pl.LazyFrame, types: Mapping[str, str], rows: int | None = None
) -> dict[str, Summary]:
    """One Summary per column: polars drops null/NaN/inf and sorts or counts, numpy groups."""
    schema = lf.collect_schema()
    out: dict[str, Summary] = {}
    numeric = [c for c, t in types.items() if t == NUMERICAL]
    categorical = [c for c, t in types.items() if t == CATEGORICAL]
    if rows is None:
        rows = lf.select(pl.len()).collect().item() if numeric else 0
    per_batch = max(1, CELLS_PER_BATCH // max(rows, 1))
    for i in range(0, len(numeric), per_batch):
        batch = numeric[i : i + per_batch]
        exprs = []
        for c in batch:
            x = pl.col(c).cast(pl.Float64)
            exprs.append(x.filter(x.is_finite()).sort().implode().alias(c))
            exprs.append(pl.col(c).null_count().alias(f"{c}\0nulls"))
        got = lf.select(exprs).collect()
        for c in batch:
            values = got[c][0].to_numpy()
            integer = _is_int(schema[c]) and got[f"{c}\0nulls"][0] == 0
            out[c] = Summary.from_sorted(values, integer)
        del got
    if categorical:
        got = lf.select([_counted(c, schema[c]).implode().alias(c) for c in categorical]).collect()
        for c in categorical:
            out[c] = Summary.from_value_counts(got[c][0].struct.unnest())
    return out


def _counted(column: str, dtype: pl.DataType) -> pl.Expr:
    """Value counts of a categorical column as a struct {v, n}, missing values dropped.

    The column is renamed before counting: ``value_counts`` names its struct fields after
    the column and the count, so a data column called ``n`` (or ``count``) would clash.
    """
    x = pl.col(column)
    if dtype.is_float():
        x = x.filter(x.is_finite())
    if isinstance(dtype, pl.Categorical | pl.Enum):
        x = x.cast(pl.String)  # sorted by text, as the categories' names compare
    return x.drop_nulls().alias("v").value_counts(name="n")


def _column_batches(
    lf: pl.LazyFrame, columns: Sequence[str], name: str
) -> Iterator[pl.DataFrame]:
    """The columns in memory a few at a time: one read of the file per batch, bounded size.

    A side with no rows is refused: there is nothing to compare, and an empty current set
    must not read as "no drift".
    """
    if not columns:
        return
    rows = lf.select(pl.len()).collect().item()
    if rows == 0:
        raise input_error(name, "rows", "at least one row to compare", 0)
    for batch in _batches(columns, rows):
        yield lf.select(batch).collect()


# --- windows ----------------------------------------------------------------------------

_WINDOW = re.compile(r"^\s*(\d+)\s*(h|d|w)\s*$")


def parse_window(window: str) -> tuple[timedelta, str]:
    """'day', 'week', or N h/d/w -> (length, unit the first window is aligned to)."""
    text = window.strip().lower()
    text = {"day": "1d", "daily": "1d", "week": "1w", "weekly": "1w", "hour": "1h"}.get(text, text)
    m = _WINDOW.match(text)
    if not m or int(m.group(1)) == 0:
        raise ValueError(f"expected a window like day, week, 3d, 12h or 2w, got {window!r}")
    n, unit = int(m.group(1)), m.group(2)
    length = {"h": timedelta(hours=n), "d": timedelta(days=n), "w": timedelta(weeks=n)}[unit]
    return length, unit


def window_bounds(lf: pl.LazyFrame, timestamp: str, window: str) -> list[tuple[datetime, datetime]]:
    """Consecutive [start, end) windows covering the current data's timestamps."""
    length, unit = parse_window(window)
    col = pl.col(timestamp)
    lo, hi = lf.select(col.min().alias("lo"), col.max().alias("hi")).collect().row(0)
    if lo is None:
        return []
    if not isinstance(lo, datetime):  # a Date column
        lo = datetime(lo.year, lo.month, lo.day)
        hi = datetime(hi.year, hi.month, hi.day)
    start = lo.replace(minute=0, second=0, microsecond=0)
    if unit in ("d", "w"):
        start = start.replace(hour=0)
    if unit == "w":
        start -= timedelta(days=start.weekday())
    bounds = []
    while start <= hi:
        bounds.append((start, start + length))
        start += length
    return bounds


def resolve_columns(
    current: pl.LazyFrame,
    reference: pl.LazyFrame,
    cur_name: str,
    ref_name: str,
    columns: Sequence[str] | None,
) -> tuple[list[str], list[dict[str, str]]]:
    cur_cols = current.collect_schema().names()
    ref_cols = set(reference.collect_schema().names())
    skipped: list[dict[str, str]] = []
    if columns:
        for c in columns:
            if c not in cur_cols:
                raise input_error(
                    cur_name, c, f"a column of the current data (found {', '.join(cur_cols[:12])})"
                )
            if c not in ref_cols:
                raise input_error(
                    ref_name, c, "a column of the reference data (it is in the current data)"
                )
        return list(dict.fromkeys(columns)), skipped
    picked = []
    for c in cur_cols:
        if c in ref_cols:
            picked.append(c)
        else:
            skipped.append({"column": c, "reason": "not in the reference data"})
    return picked, skipped


def invalid_values(summary: Summary, allowed: tuple) -> list[tuple[Any, int]]:
    allowed_set = set(allowed)
    allowed_text = {str(v) for v in allowed}
    out = []
    for v, n in zip(summary.values.tolist(), summary.counts.tolist(), strict=True):
        if v in allowed_set or str(v) in allowed_text:
            continue
        out.append((v, int(n)))
    return out


# --- compute ----------------------------------------------------------------------------


@dataclass
class _Plan:
    """What compute() resolved from its arguments before reading any values."""

    cur_lf: pl.LazyFrame
    ref_lf: pl.LazyFrame
    cur_name: str
    ref_name: str
    picked: list[str]  # the columns asked for (or common to both), before any is skipped
    candidates: list[str]  # those not skipped by the caller or the contract
    skipped: list[dict[str, str]]
    declared: dict[str, str | None] = field(default_factory=dict)
    valid: dict[str, tuple] = field(default_factory=dict)
    contract_id: str | None = None


def compute(
    *,
    current: Frame,
    reference: Frame,
    columns: Sequence[str] | None = None,
    drift_share: float = 0.5,
    methods: str = "calibrated",
    method: Mapping[str, str] | None = None,
    threshold: Mapping[str, float] | None = None,
    contract: Any = None,
    schema: str | None = None,
    exclude: Iterable[str] = (),
    timestamp: str | None = None,
    window: str | None = None,
    prediction: Iterable[str] = (),
    label: Iterable[str] = (),
    key_features: Iterable[str] = (),
    column_names: Mapping[str, str] | None = None,
) -> DriftResult:
    """Per-column drift of ``current`` against ``reference`` (frames or file paths).

    ``methods="evidently"`` reproduces evidently 0.7's DataDriftPreset defaults exactly;
    ``"calibrated"`` (default) swaps its small-sample chi-square for a contingency test.
    ``method``/``threshold`` override per column; ``contract`` (a loaded contract, e.g.
    ``workbench.contracts.load_contract(path)``) supplies types, valid values and
    sensitive columns; ``timestamp`` + ``window`` ("day", "week", "3d") add per-window
    drift; ``prediction``/``label`` name model outputs and labels; ``key_features`` the
    features a gate watches (``key_drifted_share``), each of which must be compared.
    ``column_names`` renames those arguments in error messages (the CLI passes its
    options: ``{"prediction": "--prediction"}``).

    ``current`` and ``reference`` are keyword-only: the CLI takes REFERENCE CURRENT, so a
    positional call could silently swap them.

    >>> r = compute(current=pl.DataFrame({"x": [1.0, 2, 3] * 400}),
    ...             reference=pl.DataFrame({"x": [1.0, 2, 3] * 400}))
    >>> r.dataset_drift, r.columns[0].method
    (False, 'jensenshannon')
    """
    _check_arguments(methods, drift_share, window, timestamp)
    plan = _plan(current, reference, columns, contract, schema, exclude, timestamp,
                 check=dict(prediction=prediction, label=label, key_features=key_features,
                            names=column_names))
    prediction, label = list(prediction), list(label)
    method, threshold = dict(method or {}), dict(threshold or {})
    _check_overrides(plan, method, threshold)
    found, cur_sum, all_null = _summarize_current(plan)
    types = _compared_types(plan, found, all_null)
    _check_methods(plan.cur_name, types, method)
    ref_sum = _summarize_reference(plan, types)
    roles = {**{c: "label" for c in label}, **{c: "prediction" for c in prediction}}
    results = _column_results(plan, cur_sum, ref_sum, types, method, threshold, methods, roles)
    windows: list[WindowDrift] = []
    if window and timestamp:
        windows = _windows(plan.cur_lf, plan.cur_name, ref_sum, types, results, timestamp,
                           window, methods)
    _check_compared(plan, results, columns is not None)
    key = _key_features(plan, results, key_features)
    return DriftResult(
        columns=results,
        skipped=plan.skipped,
        drift_share=drift_share,
        key_features=key,
        methods=methods,
        windows=windows,
        breaches=_breaches(plan.valid, cur_sum, ref_sum, types),
        contract=plan.contract_id,
        summaries=Summaries(cur_sum, ref_sum),
        window=window,
    )


# --- the phases of compute(), in order ------------------------------------------------------


def _check_arguments(methods: str, drift_share: float, window: str | None,
                     timestamp: str | None) -> None:
    if methods not in _stats.MODES:
        raise InputError(
            f"methods: expected one of {', '.join(_stats.MODES)}, got {methods!r}", field="methods"
        )
    if not 0 < drift_share <= 1:
        raise InputError(
            f"drift_share: expected a share in (0, 1], got {drift_share}", field="drift_share"
        )
    if window and not timestamp:
        raise InputError(
            "window: expected a timestamp column too (--timestamp)", field="timestamp"
        )


def _plan(
    current: Frame,
    reference: Frame,
    columns: Sequence[str] | None,
    contract: Any,
    schema: str | None,
    exclude: Iterable[str],
    timestamp: str | None,
    check: Mapping[str, Any],
) -> _Plan:
    """The inputs as LazyFrames, the named columns checked, the candidate columns."""
    cur_lf, cur_name = as_lazy(current, "current")
    ref_lf, ref_name = as_lazy(reference, "reference")
    check_drift_columns(cur_lf, ref_lf, cur_name, ref_name, timestamp=timestamp,
                        exclude=exclude, **check)
    picked, skipped = resolve_columns(cur_lf, ref_lf, cur_name, ref_name, columns)
    plan = _Plan(cur_lf, ref_lf, cur_name, ref_name, picked, [], skipped)
    sensitive: set[str] = set()
    if contract is not None:
        if isinstance(contract, str | os.PathLike):
            raise InputError(
                f"contract: expected a loaded contract (workbench.contracts.load_contract), "
                f"got the path {str(contract)!r}", field="contract")
        plan.contract_id = contract.id
        plan.declared, sensitive, plan.valid = contract_types(contract.columns(schema))
    excluded = set(exclude)
    for c in picked:
        reason = (
            "sensitive (excluded)" if c in sensitive
            else "excluded by the caller" if c in excluded
            else "timestamp" if c == timestamp
            else "identifier or non-comparable type in the contract"
            if plan.declared.get(c) == "skip"
            else None
        )
        if reason:
            skipped.append({"column": c, "reason": reason})
        else:
            plan.candidates.append(c)
    return plan


def _check_overrides(plan: _Plan, method: Mapping[str, str],
                     threshold: Mapping[str, float]) -> None:
    for name in list(method) + list(threshold):
        if name not in plan.picked:
            raise InputError(
                f"{plan.cur_name}: {name}: expected a compared column for a method or "
                f"threshold override",
                file=plan.cur_name,
                field=name,
            )


def _summarize_current(
    plan: _Plan,
) -> tuple[dict[str, str | None], dict[str, Summary], set[str]]:
    """(type found per column, current summaries, all-null columns).

    Types are inferred on the current data (as evidently does) batch by batch while the
    batch is in memory; the reference is then summarised with those types.
    """
    found: dict[str, str | None] = {}
    cur_sum: dict[str, Summary] = {}
    all_null: set[str] = set()
    for df in _column_batches(plan.cur_lf, plan.candidates, plan.cur_name):
        all_null.update(_all_null(df))
        inferred = infer_types(df.lazy(), [c for c in df.columns if plan.declared.get(c) is None])
        batch = {c: plan.declared.get(c) or inferred.get(c) for c in df.columns}
        found.update(batch)
        usable = {c: t for c, t in batch.items() if t in (NUMERICAL, CATEGORICAL)}
        cur_sum.update(summarize(df.lazy(), usable, rows=df.height))
        del df
    return found, cur_sum, all_null


def _compared_types(plan: _Plan, found: Mapping[str, str | None],
                    all_null: set[str]) -> dict[str, str]:
    """The type of each column to compare; the others go to ``plan.skipped`` with why."""
    types: dict[str, str] = {}
    for c in plan.candidates:
        t = found.get(c)
        if c in all_null:
            plan.skipped.append(
                {"column": c, "reason": "no values in the current data (all null)"})
        elif t is None:
            plan.skipped.append(
                {"column": c, "reason": "type not compared (date, list or empty)"})
        elif t == "text":
            plan.skipped.append(
                {"column": c, "reason": "free text or identifier (too many distinct values)"}
            )
        else:
            types[c] = t
    return types


def _check_methods(cur_name: str, types: Mapping[str, str], method: Mapping[str, str]) -> None:
    for c, m in method.items():
        if c in types:
            try:
                _stats.check_method(m, types[c], c)
            except ValueError as exc:
                raise InputError(f"{cur_name}: {exc}", file=cur_name, field=c) from exc


def _summarize_reference(plan: _Plan, types: Mapping[str, str]) -> dict[str, Summary]:
    ref_sum: dict[str, Summary] = {}
    for df in _column_batches(plan.ref_lf, list(types), plan.ref_name):
        ref_sum.update(summarize(df.lazy(), {c: types[c] for c in df.columns}, rows=df.height))
        del df
    return ref_sum


def _column_results(
    plan: _Plan,
    cur_sum: Mapping[str, Summary],
    ref_sum: Mapping[str, Summary],
    types: Mapping[str, str],
    method: Mapping[str, str],
    threshold: Mapping[str, float],
    mode: str,
    roles: Mapping[str, str],
) -> list[ColumnDrift]:
    """Each column's test; a column with no values on one side is skipped, saying which."""
    results: list[ColumnDrift] = []
    outcomes = _test_columns(cur_sum, ref_sum, types, method, threshold, mode)
    for c, t in types.items():
        cs, rs = cur_sum[c], ref_sum[c]
        if cs.n == 0 or rs.n == 0:
            side = "reference" if rs.n == 0 else "current"
            plan.skipped.append({"column": c, "reason": f"no values in the {side} data"})
            continue
        out = outcomes[c]
        results.append(
            ColumnDrift(c, t, out.method, out.statistic, out.threshold, out.drifted,
                        roles.get(c, "feature"),
                        _stats.severity(out.method, out.statistic, out.threshold), cs.n, rs.n)
        )
    return results


def _breaches(
    valid: Mapping[str, tuple],
    cur_sum: Mapping[str, Summary],
    ref_sum: Mapping[str, Summary],
    types: Mapping[str, str],
) -> list[Breach]:
    """Categories outside the contract's valid values, on each side."""
    breaches: list[Breach] = []
    for c, allowed in valid.items():
        if c in cur_sum and types.get(c) == CATEGORICAL:
            for side, summ in (("current", cur_sum[c]), ("reference", ref_sum[c])):
                breaches += [Breach(c, v, n, side) for v, n in invalid_values(summ, allowed)]
    return breaches


def _check_compared(plan: _Plan, results: Sequence[ColumnDrift], named: bool) -> None:
    """The caller named the columns and none can be compared: say why rather than answer
    "no drift" about nothing."""
    if named and not results and plan.skipped:
        first = plan.skipped[0]
        raise InputError(
            f"{plan.cur_name}: {first['column']}: expected a column with values to compare, "
            f"got: {first['reason']}",
            file=plan.cur_name,
            field=first["column"],
        )


def _key_features(plan: _Plan, results: Sequence[ColumnDrift],
                  key_features: Iterable[str]) -> tuple[str, ...]:
    key = list(dict.fromkeys(key_features))
    compared = {r.column for r in results}
    for name in key:
        if name not in compared:
            why = next((s["reason"] for s in plan.skipped if s["column"] == name),
                       "not in both datasets")
            raise InputError(
                f"{plan.cur_name}: key_features: expected columns that are compared, got "
                f"{name!r} ({why})",
                file=plan.cur_name,
                field="key_features",
            )
    return tuple(key)


# below this many distinct values in all, threads cost more than they save
PARALLEL_VALUES = 200_000
# above this many distinct values in one column (both sides), one column at a time: two at
# once would hold two sets of temporaries (about 1 GB each at 15M values)
SERIAL_VALUES = 4_000_000


def _test_columns(
    cur_sum: Mapping[str, Summary],
    ref_sum: Mapping[str, Summary],
    types: Mapping[str, str],
    method: Mapping[str, str],
    threshold: Mapping[str, float],
    mode: str,
) -> dict[str, _stats.Outcome]:
    """Each column's test, on a thread per core when the columns are large.

    numpy releases the GIL in the sorts, running sums and gathers the statistics are made
    of, so columns run side by side: on 1M x 20 continuous columns the test phase takes
    about half as long on two cores (benchmarks/drift.py).
    """
    todo = [c for c in types if cur_sum[c].n and ref_sum[c].n]

    def one(c: str) -> _stats.Outcome:
        return _stats.evaluate(
            cur_sum[c], ref_sum[c], types[c], method.get(c), threshold.get(c), mode
        )

    size = sum(cur_sum[c].nunique + ref_sum[c].nunique for c in todo)
    largest = max((cur_sum[c].nunique + ref_sum[c].nunique for c in todo), default=0)
    if largest > SERIAL_VALUES:  # each test holds about 10 arrays of its union at once
        return {c: one(c) for c in todo}
    return dict(zip(todo, _map_columns(one, todo, size), strict=True))


def _map_columns(fn: Callable[[str], Any], columns: Sequence[str], size: int) -> list[Any]:
    """``[fn(c) for c in columns]``, on a thread per core when ``size`` values are at stake."""
    workers = min(len(columns), os.cpu_count() or 1)
    if size < PARALLEL_VALUES or workers < 2:
        return [fn(c) for c in columns]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, columns))


def _windows(
    cur_lf: pl.LazyFrame,
    cur_name: str,
    ref_sum: Mapping[str, Summary],
    types: Mapping[str, str],
    results: Sequence[ColumnDrift],
    timestamp: str,
    window: str,
    mode: str,
) -> list[WindowDrift]:
    schema = cur_lf.collect_schema()
    if timestamp not in schema.names():
        raise input_error(cur_name, timestamp, "a timestamp column")
    if not (schema[timestamp].is_temporal() and schema[timestamp] != pl.Time):
        raise input_error(cur_name, timestamp, "a date or datetime column", str(schema[timestamp]))
    try:
        bounds = window_bounds(cur_lf, timestamp, window)
    except ValueError as exc:
        raise InputError(f"window: {exc}", field="window") from exc
    if not bounds:
        return []
    by_col = {r.column: r for r in results}
    index = _window_index(cur_lf, timestamp, schema[timestamp], bounds)
    found: dict[str, list[Summary | None]] = {}
    for batch in _batches(list(by_col), index.len()):
        found.update(_window_summaries(cur_lf, index, {c: types[c] for c in batch}, len(bounds)))
    def one(c: str) -> list[_stats.Outcome | None]:
        r = by_col[c]
        out = [
            None
            if s is None or s.n == 0
            else _stats.evaluate(s, ref_sum[c], types[c], r.method, r.threshold, mode, True)
            for s in found[c]
        ]
        ref_sum[c].drop_rows()  # 32 bytes per reference value, not kept for every column
        return out

    size = sum(ref_sum[c].nunique for c in by_col) + index.len() * len(by_col)
    tested = dict(zip(by_col, _map_columns(one, list(by_col), size), strict=True))
    out: list[WindowDrift] = []
    for i, (start, end) in enumerate(bounds):
        for c in by_col:
            o = tested[c][i]
            if o is None:
                out.append(WindowDrift(start, end, c, None, False, 0))
                continue
            out.append(
                WindowDrift(
                    start,
                    end,
                    c,
                    o.statistic,
                    o.drifted,
                    found[c][i].n,
                    _stats.severity(o.method, o.statistic, o.threshold),
                )
            )
    return out


def _batches(columns: Sequence[str], rows: int) -> Iterator[list[str]]:
    """``columns`` a few at a time, so that a batch holds about CELLS_PER_BATCH cells."""
    per_batch = max(1, CELLS_PER_BATCH // max(rows, 1))
    for i in range(0, len(columns), per_batch):
        yield list(columns[i : i + per_batch])


def _window_index(
    lf: pl.LazyFrame,
    timestamp: str,
    dtype: pl.DataType,
    bounds: Sequence[tuple[datetime, datetime]],
) -> pl.Series:
    """The window of each current row (null outside every window), by one sorted search.

    Window starts are wall-clock times in the column's time zone, so a day is 23 or 25
    hours across a daylight-saving change, as the bounds say.
    """
    ts = pl.col(timestamp)
    tz = getattr(dtype, "time_zone", None)
    unit = getattr(dtype, "time_unit", None) or "us"
    if dtype == pl.Date:
        ts = ts.cast(pl.Datetime("us"))
    starts = pl.Series("s", [b[0].replace(tzinfo=None) for b in bounds], pl.Datetime(unit))
    last = pl.Series("e", [bounds[-1][1].replace(tzinfo=None)], pl.Datetime(unit))
    if tz:
        starts = starts.dt.replace_time_zone(tz)
        last = last.dt.replace_time_zone(tz)
    stamps = lf.select(ts.alias("t")).collect()["t"]
    idx = starts.search_sorted(stamps.fill_null(starts[0]), side="right").cast(pl.Int32) - 1
    outside = stamps.is_null() | (stamps >= last[0]) | (idx < 0)
    return pl.select(pl.when(outside).then(None).otherwise(idx)).to_series().alias("\0window")


def _all_null(df: pl.DataFrame) -> list[str]:
    """Columns of ``df`` with no value at all (said as such, never dropped silently)."""
    if not df.height:
        return []
    nulls = df.null_count().row(0, named=True)
    return [c for c, n in nulls.items() if n == df.height]


def _window_summaries(
    lf: pl.LazyFrame, index: pl.Series, types: Mapping[str, str], windows: int
) -> dict[str, list[Summary | None]]:
    """Each column's Summary in each window, from one grouped polars pass over the columns."""
    schema = lf.collect_schema()
    key = index.name
    exprs: list[pl.Expr] = []
    for c, t in types.items():
        if t == NUMERICAL:
            x = pl.col(c).cast(pl.Float64)
            exprs.append(x.filter(x.is_finite()).sort().alias(c))
            exprs.append(pl.col(c).null_count().alias(f"{c}\0nulls"))
        else:
            exprs.append(_counted(c, schema[c]).alias(c))
    df = lf.select(list(types)).collect().with_columns(index)
    if index.null_count():  # rows outside every window (or without a time): left out
        df = df.filter(pl.col(key).is_not_null())
    got = df.group_by(key).agg(exprs)
    del df
    out: dict[str, list[Summary | None]] = {c: [None] * windows for c in types}
    positions = got[key].to_list()  # one entry per window, not per value
    for c, t in types.items():
        values = got[c]
        if t == NUMERICAL:
            integer = _is_int(schema[c])
            nulls = got[f"{c}\0nulls"].to_list()
            for row, w in enumerate(positions):
                out[c][w] = Summary.from_sorted(values[row].to_numpy(), integer and not nulls[row])
        else:
            for row, w in enumerate(positions):
                out[c][w] = Summary.from_value_counts(values[row].struct.unnest())
    return out

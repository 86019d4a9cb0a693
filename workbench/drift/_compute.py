"""compute(): the drift of each column, as a short driver over its phases.

The phases, in order: check the arguments; resolve the columns (named or common, minus
the excluded, sensitive and contract-skipped ones); plan the time windows; summarise the
current data (types inferred, windows summarised from the same batches, ``_summary`` and
``_windows``); summarise the reference with those types; test each column (``_stats``);
test each window; list contract breaches; check that what was asked for was compared.

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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from workbench.drift import _stats
from workbench.drift._columns import check_drift_columns
from workbench.drift._model import Breach, ColumnDrift, DriftResult, Summaries, WindowDrift
from workbench.drift._stats import CATEGORICAL, NUMERICAL, Summary
from workbench.drift._summary import column_batches, map_columns, summarize
from workbench.drift._windows import WindowPlan, plan_windows, test_windows, window_summaries
from workbench.errors import InputError, input_error
from workbench.io import scan

INTEGER_CARDINALITY_LIMIT = 10  # evidently.core.datasets.INTEGER_CARDINALITY_LIMIT

Frame = pl.LazyFrame | pl.DataFrame | str | os.PathLike

def as_lazy(frame: Frame, label: str) -> tuple[pl.LazyFrame, str]:
    """A LazyFrame and a name for messages, from a frame or a path."""
    if isinstance(frame, pl.LazyFrame):
        return frame, label
    if isinstance(frame, pl.DataFrame):
        return frame.lazy(), label
    return scan(frame), str(frame)


# --- column types -----------------------------------------------------------------------


def infer_types(lf: pl.LazyFrame, columns: Sequence[str]) -> dict[str, str | None]:
    """evidently's type of each column on this data (None: not compared, "text": skipped)."""
    schema = lf.collect_schema()
    exprs: list[pl.Expr] = []
    for c in columns:
        dt = schema[c]
        if dt.is_integer():
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
        elif dt.is_integer():
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


# --- columns ----------------------------------------------------------------------------


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
    windowed = plan_windows(plan.cur_lf, plan.cur_name, timestamp, window) if (
        window and timestamp) else None
    found, cur_sum, all_null, in_windows = _summarize_current(plan, windowed)
    types = _compared_types(plan, found, all_null)
    _check_methods(plan.cur_name, types, method)
    ref_sum = _summarize_reference(plan, types)
    roles = {**{c: "label" for c in label}, **{c: "prediction" for c in prediction}}
    results = _column_results(plan, cur_sum, ref_sum, types, method, threshold, methods, roles)
    windows: list[WindowDrift] = []
    if windowed is not None:
        windows = test_windows(windowed, in_windows, ref_sum, types, results, methods)
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
    plan: _Plan, windowed: WindowPlan | None
) -> tuple[dict[str, str | None], dict[str, Summary], set[str], dict[str, list[Summary | None]]]:
    """(type found per column, current summaries, all-null columns, summaries per window).

    Types are inferred on the current data (as evidently does) batch by batch while the
    batch is in memory; the windows are summarised from the same batch (the current data
    is read once); the reference is then summarised with the types found here.
    """
    found: dict[str, str | None] = {}
    cur_sum: dict[str, Summary] = {}
    all_null: set[str] = set()
    in_windows: dict[str, list[Summary | None]] = {}
    for df in column_batches(plan.cur_lf, plan.candidates, plan.cur_name):
        all_null.update(_all_null(df))
        inferred = infer_types(df.lazy(), [c for c in df.columns if plan.declared.get(c) is None])
        batch = {c: plan.declared.get(c) or inferred.get(c) for c in df.columns}
        found.update(batch)
        usable = {c: t for c, t in batch.items() if t in (NUMERICAL, CATEGORICAL)}
        if windowed is not None and usable:
            per_window, whole = window_summaries(df, windowed, usable)
            in_windows.update(per_window)
            cur_sum.update(whole)
            usable = {c: t for c, t in usable.items() if c not in whole}
        cur_sum.update(summarize(df.lazy(), usable, rows=df.height))
        del df
    return found, cur_sum, all_null, in_windows


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
    for df in column_batches(plan.ref_lf, list(types), plan.ref_name):
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


def _all_null(df: pl.DataFrame) -> list[str]:
    """Columns of ``df`` with no value at all (said as such, never dropped silently)."""
    if not df.height:
        return []
    nulls = df.null_count().row(0, named=True)
    return [c for c, n in nulls.items() if n == df.height]


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
    return dict(zip(todo, map_columns(one, todo, size), strict=True))

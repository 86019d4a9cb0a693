"""A starter ODCS v3.1 contract inferred from a dataset, commented for a person to edit.

One streaming pass computes, per column: nulls, distinct values, minimum and maximum (and
the distinct values themselves for low-cardinality text). From these:

* ``logicalType`` and ``physicalType`` from the column's type (Parquet's own types; CSV
  and JSON as polars infers them, which is how ``contract check`` reads them too);
* ``required: true`` where the column has no nulls;
* ``minimum``/``maximum`` for numbers: the observed range widened by ``margin`` (10% of its
  span by default) on each side, rounded outward, and never below zero for a column that
  is never negative;
* valid values (an ``invalidValues`` rule) for text with at most ``max_categories``
  distinct values that repeat (distinct values at most half the rows);
* ``unique: true`` for key-like columns: integers or text, no nulls, every value distinct;
* a ``rowCount`` band: the observed count widened by ``row_margin`` (50%) each way.

The result validates against the ODCS schema and passes ``contract check`` on the data it
came from (``tests/unit/test_contracts_init.py`` checks both on public datasets). Nothing
here decides what the data *should* be: every rule says in a comment what it was read from.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from workbench import io
from workbench.errors import InputError

API_VERSION = "v3.1.0"
MARGIN = 0.10
ROW_MARGIN = 0.50
MAX_CATEGORIES = 20


@dataclass(frozen=True)
class ColumnProfile:
    """What one pass over the data saw in one column."""

    name: str
    dtype: pl.DataType
    rows: int
    nulls: int
    distinct: int
    minimum: Any
    maximum: Any
    non_finite: bool
    values: tuple[Any, ...] | None  # the distinct values, for low-cardinality text


def profile(lf: pl.LazyFrame, max_categories: int = MAX_CATEGORIES) -> list[ColumnProfile]:
    """Per-column figures from one streaming pass (a second, small one for categories)."""
    schema = lf.collect_schema()
    aggs: list[pl.Expr] = [pl.len().alias("__rows")]
    for i, (name, dtype) in enumerate(schema.items()):
        col = pl.col(name)
        aggs.append(col.null_count().alias(f"n{i}"))
        if _nested(dtype):
            continue
        aggs.append(col.n_unique().alias(f"u{i}"))
        if dtype.is_numeric() or dtype.is_temporal() or dtype == pl.String:
            aggs += [col.min().alias(f"lo{i}"), col.max().alias(f"hi{i}")]
        if dtype.is_float():
            aggs.append((~col.is_finite()).any().alias(f"nf{i}"))
    row = lf.select(aggs).collect(engine="streaming").row(0, named=True)
    rows = int(row["__rows"])
    text_small = [name for i, (name, dtype) in enumerate(schema.items())
                  if dtype == pl.String and 0 < (row.get(f"u{i}") or 0) - (row[f"n{i}"] > 0)
                  <= max_categories]
    values: dict[str, tuple[Any, ...]] = {}
    if text_small:
        got = lf.select([pl.col(c).drop_nulls().unique().sort().implode() for c in text_small]
                        ).collect(engine="streaming").row(0, named=True)
        values = {c: tuple(got[c]) for c in text_small}
    out = []
    for i, (name, dtype) in enumerate(schema.items()):
        nulls = int(row[f"n{i}"])
        # n_unique counts null as a value
        distinct = int(row.get(f"u{i}") or 0) - (1 if nulls else 0)
        out.append(ColumnProfile(
            name=name, dtype=dtype, rows=rows, nulls=nulls, distinct=max(distinct, 0),
            minimum=row.get(f"lo{i}"), maximum=row.get(f"hi{i}"),
            non_finite=bool(row.get(f"nf{i}")), values=values.get(name)))
    return out


def _nested(dtype: pl.DataType) -> bool:
    return isinstance(dtype, pl.List | pl.Array | pl.Struct | pl.Object)


# --- types ---

def logical_type(dtype: pl.DataType) -> str | None:
    if dtype.is_integer():
        return "integer"
    if dtype.is_float() or isinstance(dtype, pl.Decimal):
        return "number"
    if dtype == pl.Boolean:
        return "boolean"
    if dtype == pl.Date:
        return "date"
    if isinstance(dtype, pl.Datetime):
        return "timestamp"
    if dtype == pl.Time:
        return "time"
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        return "string"
    if isinstance(dtype, pl.List | pl.Array):
        return "array"
    if isinstance(dtype, pl.Struct):
        return "object"
    return None


def physical_type(dtype: pl.DataType) -> str | None:
    names = {pl.Int8: "int8", pl.Int16: "int16", pl.Int32: "int32", pl.Int64: "int64",
             pl.UInt8: "uint8", pl.UInt16: "uint16", pl.UInt32: "uint32", pl.UInt64: "uint64",
             pl.Float32: "float", pl.Float64: "double", pl.Boolean: "boolean",
             pl.String: "string", pl.Date: "date", pl.Time: "time", pl.Binary: "binary"}
    for k, v in names.items():
        if dtype == k:
            return v
    if isinstance(dtype, pl.Datetime):
        return "timestamptz" if dtype.time_zone else "timestamp"
    if isinstance(dtype, pl.Decimal):
        return f"decimal({dtype.precision},{dtype.scale})"
    return None


# --- the contract ---

def init(data: str | os.PathLike[str], *, name: str | None = None,
         out: str | os.PathLike[str] | None = None, fmt: str | None = None,
         margin: float = MARGIN, row_margin: float = ROW_MARGIN,
         max_categories: int = MAX_CATEGORIES) -> str:
    """The YAML text of a starter contract for ``data`` (its server path is written relative
    to ``out``'s folder, or to the working directory without one)."""
    path = str(data)
    kind = io.table_format(path, fmt)
    lf = io.scan(path, kind)
    try:
        profiles = profile(lf, max_categories)
    except InputError:
        raise
    except Exception as exc:  # polars raises many kinds; all mean "cannot read this"
        if (problem := io.read_problem(path, exc)) is not None:
            raise problem from exc
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise InputError(f"{path}: expected a readable {kind} file: {first}",
                         file=path) from exc
    if not profiles:
        raise InputError(f"{path}: expected a table with at least one column", file=path)
    stem = Path(path.split("?")[0]).name.split(".")[0]
    dataset = name or stem or "dataset"
    base = Path(out).resolve().parent if out is not None else Path.cwd()
    server_path = path if io.is_url(path) else os.path.relpath(Path(path).resolve(), base)
    return render(profiles, name=dataset, server_path=server_path, kind=kind, margin=margin,
                  row_margin=row_margin, source=stem)


def render(profiles: list[ColumnProfile], *, name: str, server_path: str, kind: str,
           margin: float = MARGIN, row_margin: float = ROW_MARGIN,
           source: str | None = None) -> str:
    """The commented YAML of the contract (JSON-quoted strings: valid YAML, always safe)."""
    rows = profiles[0].rows if profiles else 0
    obj = _identifier(name)
    lines = [
        f"# Starter data contract inferred by `workbench contract init` from {source or name}",
        f"# ({rows:,} rows, {len(profiles)} columns). Every rule below was read from that data:",
        f"# ranges are the observed ones widened by {margin:.0%} of their span on each side,",
        "# valid values are the values seen, `unique` marks columns whose values never repeat.",
        "# Edit it: keep what the data must always satisfy, loosen or drop what was chance,",
        "# fill in descriptions, owners and classifications (sensitive columns), then",
        "# `workbench contract lint` it and raise `version` when you publish.",
        f"apiVersion: {API_VERSION}",
        "kind: DataContract",
        f"id: {_q('urn:datacontract:' + obj)}",
        f"name: {_q(name)}",
        "version: 0.1.0",
        "status: draft",
        "description:",
        f"  purpose: {_q('TODO: what ' + name + ' holds and who reads it')}",
        "servers:",
        "- server: local",
        "  type: local",
        f"  format: {'json' if kind in {'json', 'ndjson'} else kind}",
        f"  path: {_q(server_path)}",
        "schema:",
        f"- name: {_q(obj)}",
        f"  physicalName: {_q(obj)}",
        "  logicalType: object",
        "  physicalType: table",
        "  properties:",
    ]
    for p in profiles:
        lines += _property(p, margin)
    lo = math.floor(rows * (1 - row_margin))
    hi = math.ceil(rows * (1 + row_margin))
    lines += [
        "  quality:",
        f"  # {rows:,} rows were seen; the band allows {row_margin:.0%} fewer or more",
        "  - metric: rowCount",
        f"    mustBeBetween: [{lo}, {hi}]",
        "    severity: error",
        "    dimension: completeness",
    ]
    return "\n".join(lines) + "\n"


def _property(p: ColumnProfile, margin: float) -> list[str]:
    ltype, ptype = logical_type(p.dtype), physical_type(p.dtype)
    seen = [f"{p.nulls:,} null" if p.nulls else "no nulls"]
    if not _nested(p.dtype):
        seen.append(f"{p.distinct:,} distinct")
    if p.minimum is not None and p.dtype != pl.String:
        seen.append(f"observed {_show(p.minimum)} .. {_show(p.maximum)}")
    out = [f"  # {p.name}: {', '.join(seen)}",
           f"  - name: {_q(p.name)}"]
    if ltype:
        out.append(f"    logicalType: {ltype}")
    if ptype:
        out.append(f"    physicalType: {_q(ptype)}")
    out.append(f"    required: {'true' if p.nulls == 0 and p.rows else 'false'}")
    key_like = (p.nulls == 0 and p.rows > 1 and p.distinct == p.rows
                and (p.dtype.is_integer() or p.dtype == pl.String))
    if key_like:
        out.append("    unique: true  # every value distinct: a key? drop this if not")
    opts = _range(p, margin)
    if opts:
        out.append(f"    logicalTypeOptions:  # observed range widened by {margin:.0%} of its span")
        out += [f"      {k}: {v}" for k, v in opts.items()]
    elif p.non_finite:
        out.append("    # no range: the column holds NaN or infinite values")
    if p.values is not None and not key_like and p.distinct * 2 <= p.rows:
        out += ["    quality:",
                f"    - metric: invalidValues  # the {len(p.values)} values seen",
                "      arguments:",
                "        validValues: [" + ", ".join(_q(v) for v in p.values) + "]",
                "      mustBe: 0",
                "      unit: rows",
                "      severity: error",
                "      dimension: conformity"]
    return out


def _range(p: ColumnProfile, margin: float) -> dict[str, str]:
    if not (p.dtype.is_numeric() and not isinstance(p.dtype, pl.Decimal)):
        return {}
    if p.minimum is None or p.maximum is None or p.non_finite:
        return {}
    lo, hi = float(p.minimum), float(p.maximum)
    span = hi - lo
    pad = span * margin if span > 0 else max(abs(lo) * margin, 1.0)
    step = 10.0 ** math.floor(math.log10(pad)) if pad > 0 else 1.0
    new_lo = math.floor((lo - pad) / step) * step
    new_hi = math.ceil((hi + pad) / step) * step
    if lo >= 0:
        new_lo = max(new_lo, 0.0)
    if p.dtype.is_integer():
        new_lo, new_hi = math.floor(new_lo), math.ceil(new_hi)
        return {"minimum": str(int(new_lo)), "maximum": str(int(new_hi))}
    digits = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    new_lo, new_hi = round(new_lo, digits), round(new_hi, digits)
    # float rounding must never cut into the observed range
    while new_lo > lo:
        new_lo -= step
    while new_hi < hi:
        new_hi += step
    return {"minimum": _num(new_lo, digits), "maximum": _num(new_hi, digits)}


def _num(x: float, digits: int) -> str:
    text = f"{x:.{digits}f}" if digits else str(int(round(x)))
    return text


def _identifier(name: str) -> str:
    text = re.sub(r"[^0-9A-Za-z_]+", "_", name).strip("_") or "dataset"
    return text if not text[0].isdigit() else f"t_{text}"


def _q(value: Any) -> str:
    """A YAML scalar: strings JSON-quoted (valid YAML, no surprises with ``no`` or ``1e3``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return json.dumps(value)
    return json.dumps(str(value), ensure_ascii=False)


def _show(value: Any) -> str:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)

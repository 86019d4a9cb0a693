"""Reading FOCUS cost exports as the clouds write them.

Types come from the FOCUS specification, not from a look at the first rows: the Decimal
columns (costs, prices, quantities) are read as floats, the four Date/Time columns are
parsed as UTC date-times and nothing else is parsed as a date; every other column stays
text. Only the columns the analysis reads are projected, so a bad value in a column the
analysis does not use (``BilledCost`` when ``EffectiveCost`` is summed) is never parsed.

Shapes: a ``.csv``, ``.csv.gz`` or ``.parquet`` file, a folder of part files (searched
recursively, as Hive-partitioned exports are written) or a glob. ``Tags`` may be JSON text,
a Parquet map (AWS Data Exports), a list of ``{key, value}`` structs (GCP labels) or a
struct; it is grouped on in its own type and parsed once per distinct value.

Measured (benchmarks/costs.py on focus-data-toolkit's 65-column FOCUS 1.3 AWS file, 2 cores
shared with other work, load average 9 to 12): polars' type guessing (``try_parse_dates``
over every text column, 10,000 rows of inference, repeated for each of 3 to 4 reads) took
11.3 s for 50k rows of CSV and 61 s for 10M. With the specification's types and one read:
50k rows 0.83 s wall (0.54 s CPU; DuckDB grouping the same file 4.47 s), 10M rows 70 s
(29.5 s CPU; DuckDB 83 s, 42 s CPU): 0.85x DuckDB's time, the target being 1.5x.
"""

from __future__ import annotations

import glob
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from workbench import io
from workbench.errors import InputError, input_error

# FOCUS 1.0-1.4 Cost and Usage columns whose data type is Decimal
DECIMAL_COLUMNS = frozenset({
    "BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ListUnitPrice",
    "ContractedUnitPrice", "PricingQuantity", "ConsumedQuantity", "CommitmentDiscountQuantity",
    "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice",
})
DATETIME_COLUMNS = frozenset({"BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart",
                              "ChargePeriodEnd"})

# The columns each FOCUS version introduced (newest first), from the specification's
# changelogs; a file "looks like" the newest version whose new columns it holds.
VERSION_MARKERS: tuple[tuple[str, frozenset[str]], ...] = (
    ("1.4", frozenset({"InvoiceDetailId", "CommitmentProgramEligibilityDetails"})),
    ("1.3", frozenset({"AllocatedMethodId", "AllocatedResourceId", "AllocatedTags",
                       "ContractApplied", "ServiceProviderName", "HostProviderName"})),
    ("1.2", frozenset({"BillingAccountType", "SubAccountType", "InvoiceId", "PricingCurrency",
                       "PricingCurrencyEffectiveCost"})),
    ("1.1", frozenset({"CapacityReservationId", "CommitmentDiscountQuantity", "SkuMeter",
                       "SkuPriceDetails", "ServiceSubcategory"})),
    ("1.0", frozenset({"BilledCost", "EffectiveCost", "ChargeCategory", "ChargePeriodStart"})),
)

_SUFFIXES = {".csv": "csv", ".csv.gz": "csv", ".tsv": "csv", ".parquet": "parquet",
             ".pq": "parquet"}
# date-time layouts tried on a file's first rows, in this order; the first that reads every
# sampled value is used for the whole column
_LAYOUTS = ("%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M%#z", "%Y-%m-%dT%H:%M", "%Y-%m-%d")


@dataclass(frozen=True)
class Ledger:
    """A FOCUS export opened lazily: its frame, the name errors give, its columns."""

    frame: pl.LazyFrame
    name: str
    kind: str                   # csv, parquet or frame
    files: tuple[str, ...]

    @property
    def columns(self) -> list[str]:
        return self.frame.collect_schema().names()

    @property
    def focus_version(self) -> str | None:
        return focus_version(self.columns)


def focus_version(columns: Iterable[str]) -> str | None:
    """The FOCUS version a set of columns looks like (``"1.3"``), or None for none."""
    have = set(columns)
    for version, markers in VERSION_MARKERS:
        if have & markers and (version != "1.0" or markers <= have):
            return version
    return None


def _kind(path: str) -> str | None:
    low = path.lower()
    for suffix, kind in _SUFFIXES.items():
        if low.endswith(suffix):
            return kind
    return None


def expand(path: str | os.PathLike[str]) -> tuple[str, tuple[str, ...]]:
    """(kind, files) for a file, a folder of part files or a glob."""
    src = str(path)
    if io.is_url(src):
        kind = _kind(src)
        if kind is None:
            raise input_error(src, None, "a .csv, .csv.gz or .parquet file")
        return kind, (src,)
    p = Path(src)
    if p.is_dir():
        files = sorted(str(f) for f in p.rglob("*") if f.is_file() and _kind(f.name)
                       and not f.name.startswith((".", "_")))
        what = "a folder holding .csv, .csv.gz or .parquet part files"
    elif glob.has_magic(src):
        files = sorted(f for f in glob.glob(src, recursive=True) if Path(f).is_file())
        what = "a pattern matching .csv, .csv.gz or .parquet files"
    else:
        if not p.exists():
            raise input_error(src, None, "an existing file")
        if _kind(src) is None:
            raise input_error(src, None, "a .csv, .csv.gz or .parquet file")
        if p.stat().st_size == 0:
            raise input_error(src, None, "a non-empty file")
        return _kind(src) or "csv", (src,)
    if not files:
        raise input_error(src, None, what, "none")
    kinds = {_kind(f) for f in files}
    if None in kinds or len(kinds) > 1:
        odd = sorted(Path(f).name for f in files if _kind(f) != _kind(files[0]))[:3]
        raise input_error(src, None, "part files of one format (all CSV or all Parquet)",
                          ", ".join(odd))
    return kinds.pop() or "csv", tuple(files)


def open_ledger(src: Any, what: str = "ledger") -> Ledger:
    """Open a FOCUS export (path, folder, glob or polars frame) with the specification's types."""
    if isinstance(src, pl.LazyFrame):
        return Ledger(src, what, "frame", ())
    if isinstance(src, pl.DataFrame):
        return Ledger(src.lazy(), what, "frame", ())
    name = str(src)
    kind, files = expand(src)
    for f in files:
        io.note_read(f)
    try:
        if kind == "csv":
            for f in files:
                if not io.is_url(f) and not f.lower().endswith(".gz"):
                    io._check_utf8(Path(f))
            sep = "\t" if files[0].lower().endswith(".tsv") else ","
            header = pl.scan_csv(list(files), infer_schema=False, separator=sep).collect_schema()
            lf = pl.scan_csv(list(files), infer_schema=False, separator=sep,
                             schema_overrides={c: pl.Float64 for c in header
                                               if c in DECIMAL_COLUMNS})
        else:
            lf = pl.scan_parquet(list(files))
        lf.collect_schema()
    except InputError:
        raise
    except Exception as exc:   # polars raises many kinds; all mean "cannot read this"
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise InputError(f"{name}: expected a readable {kind} FOCUS export: "
                         f"{type(exc).__name__}: {first}", file=name) from exc
    return Ledger(lf, name, kind, files)


def utc_micros(ledger: Ledger, dtypes: dict[str, pl.DataType]) -> dict[str, pl.Expr]:
    """Each column of ``dtypes`` as UTC microseconds since the epoch (Int64): whole-number
    arithmetic is the cheapest way to find a charge's days on 10M rows. Text is parsed with
    the first layout that reads the file's first rows (FOCUS writes ``2026-05-01T00:00:00Z``;
    one look at 1,000 rows for all the columns); a value written with another offset
    (``-05:00``) is converted to UTC, and one without an offset is taken as UTC. Values that
    do not parse become null, and the caller counts them."""
    out: dict[str, pl.Expr] = {}
    text_cols = [c for c, t in dtypes.items() if not t.is_temporal()]
    sample = (ledger.frame.select(pl.col(text_cols).cast(pl.String))
              .head(1000).collect() if text_cols else None)
    for col, dtype in dtypes.items():
        expr = pl.col(col)
        if isinstance(dtype, pl.Datetime):
            # the physical value of a zoned date-time is already UTC
            out[col] = expr.dt.cast_time_unit("us").cast(pl.Int64)
            continue
        if dtype == pl.Date:
            out[col] = expr.cast(pl.Datetime("us")).cast(pl.Int64)
            continue
        assert sample is not None
        values = sample[col].drop_nulls()
        layout, zoned = _LAYOUTS[0], True
        for candidate in _LAYOUTS:
            zoned = candidate.endswith("%#z")
            parsed = values.str.to_datetime(candidate, strict=False,
                                            time_zone="UTC" if zoned else None)
            if parsed.null_count() == 0:
                layout = candidate
                break
        else:
            zoned = True
        out[col] = expr.cast(pl.String).str.to_datetime(
            layout, time_unit="us", strict=False,
            time_zone="UTC" if zoned else None).cast(pl.Int64)
    return out


def tags_key(dtype: pl.DataType, col: str) -> pl.Expr:
    """Tags in a type polars can group on: JSON text as is, a struct as JSON text, a map or
    a key/value list as itself (parsed later, once per distinct value)."""
    if isinstance(dtype, pl.Struct):
        return pl.col(col).struct.json_encode()
    if dtype == pl.String or isinstance(dtype, pl.Map | pl.List | pl.Array):
        return pl.col(col)
    return pl.col(col).cast(pl.String)


class Unparsed(str):
    """Tags text that is not a JSON object of key-values (kept to quote it in the warning)."""


def parse_tags(value: Any) -> dict[str, str] | Unparsed:
    """One distinct Tags value -> a dict of text keys and values, or :class:`Unparsed`."""
    if value is None:
        return {}
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError:
            return Unparsed(text)
        if not isinstance(value, dict):
            return Unparsed(text)
    if isinstance(value, list | tuple):          # [{"key": k, "value": v}, ...]
        pairs = {}
        for entry in value:
            if not isinstance(entry, dict) or "key" not in entry:
                return Unparsed(json.dumps(value, default=str)[:80])
            pairs[entry["key"]] = entry.get("value")
        value = pairs
    if not isinstance(value, dict):
        return Unparsed(str(value)[:80])
    return {str(k): (v if isinstance(v, str) else json.dumps(v, default=str))
            for k, v in value.items() if v is not None}

"""Cost ledger + usage + value + budgets -> allocation, unit economics, budget burn, anomalies.

One lazy pass over the ledger groups line items by day, service, tags, charge category and
currency, keeping the exact start and end only of charges that run past their start day: a
few thousand groups even for 10M line items. Everything after that works on the small
aggregate: longer charges are spread over their days there, and tags are parsed once per
distinct value. Costs are summed as integer millionths, so the findings do not change in
the last digit from run to run with the order in which parallel threads add them.

Measured (benchmarks/costs.py --baseline, the demo's 10M line items from Parquet, 2 shared
cores): the pass first grew from 1.1-1.4 s of CPU to 1.6-1.8 s when charges were spread over
their periods and broken down by category (two more columns read, the start/end arithmetic,
two more keys). Profiling the pass by variants (polars' streaming engine has no per-node
profile) put ~0.25 s on the start/end arithmetic and key, ~0.2-0.3 s on ChargeCategory as a
text key, ~0.05 s on a fifth sum. Now a Parquet file is first asked, in the pass that finds
its currency, whether any charge runs past its start day; when none does (the demo) the
pass groups by day alone, the specification's five categories ride in the day key as a
number (other values fall back to their text in a second pass), and the non-zero and empty
counts are one sum. Median CPU of compute() over 8 interleaved runs each, load 3-3.5: 1.47 s,
against 1.87 s for the code before this change and 1.38 s for the code before the FOCUS
work (1.07x; two benchmark runs at load 5-6 gave 1.02x and 1.11x); wall about 2 s against
DuckDB's 4.6-5.3 s for grouping the same file; 0.26 GB peak RSS against 0.36-0.39 GB.
The figures are unchanged (the JSON of data/sample, as CSV and as Parquet, is identical).
"""

from __future__ import annotations

import calendar
import difflib
import json
import os
import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any, cast

import polars as pl

from workbench import io
from workbench.costs import _focus
from workbench.costs._model import AllocationRules, CostResult, Methods, unit_economics
from workbench.errors import InputError, input_error

FOCUS_COLUMNS = {
    "ChargePeriodStart": "the start of the charge period (datetime)",
    "ChargePeriodEnd": "the end of the charge period (datetime)",
    "BilledCost": "a numeric cost",
    "EffectiveCost": "a numeric cost",
    "BillingCurrency": "a currency code",
    "ChargeCategory": "a FOCUS charge category (Usage, Purchase, Credit, ...)",
    "ServiceName": "a service name",
    "ServiceCategory": "a service category",
    "ResourceId": "a resource id",
    "ResourceName": "a resource name",
    "Tags": "key-values (JSON text, a map or a key/value list)",
}
# the columns the analysis reads, besides the cost column it sums (AllocationRules)
REQUIRED_COLUMNS = ("ChargePeriodStart", "ChargePeriodEnd", "BillingCurrency", "ChargeCategory",
                    "ServiceName", "Tags")
# the values FOCUS 1.0-1.3 allow in ChargeCategory
CHARGE_CATEGORIES = ("Usage", "Credit", "Purchase", "Tax", "Adjustment")
STAGES = ("data_processing", "feature_storage", "training", "inference", "monitoring")
UNSPECIFIED = "unspecified"
UNVERSIONED = "unversioned"
MICRO = 1_000_000
DAY_US = 86_400_000_000  # microseconds in a day
DEFAULT_RULES = AllocationRules()
DEFAULT_METHODS = Methods()

Source = str | os.PathLike[str] | pl.LazyFrame | pl.DataFrame


def _lazy(src: Source, what: str) -> tuple[pl.LazyFrame, str]:
    if isinstance(src, pl.LazyFrame):
        return src, what
    if isinstance(src, pl.DataFrame):
        return src.lazy(), what
    return io.scan(src), str(src)


def _collect(lf: pl.LazyFrame, name: str) -> pl.DataFrame:
    try:
        return lf.collect()
    except InputError:
        raise
    except Exception as exc:   # a parse failure deep in a file: still one line naming it
        if (problem := io.read_problem(name, exc)) is not None:
            raise problem from exc
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        bad = re.search(r"could not parse `(.*?)` as dtype `(.*?)` at column '(.*?)'", first)
        if bad:
            want = ("a number (FOCUS Decimal) on every row" if bad.group(2) == "f64"
                    else f"{bad.group(2)} values on every row")
            raise input_error(name, bad.group(3), want, bad.group(1)) from exc
        raise InputError(f"{name}: expected readable values: {type(exc).__name__}: {first}",
                         file=name) from exc


def _require_numeric(schema: pl.Schema, col: str, name: str) -> None:
    dtype = schema[col]
    if not dtype.is_numeric():
        raise input_error(name, col, "a numeric column", str(dtype))


def _as_date(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone:
            expr = expr.dt.convert_time_zone("UTC")
        return expr.dt.date()
    if dtype == pl.Date:
        return expr
    return expr.cast(pl.String).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)


def _small(src: Source, what: str, columns: Mapping[str, str], numeric: tuple[str, ...]) -> tuple[
        pl.DataFrame, str]:
    lf, name = _lazy(src, what)
    io.require_columns(lf, columns, name)
    schema = lf.collect_schema()
    for col in numeric:
        _require_numeric(schema, col, name)
    exprs = []
    for col in columns:
        if col == "date":
            exprs.append(_as_date(pl.col("date"), schema["date"]).alias("date"))
        elif col in numeric:
            exprs.append(pl.col(col).cast(pl.Float64))
        else:
            exprs.append(pl.col(col).cast(pl.String))
    if "version" in schema.names() and "version" not in columns:
        exprs.append(pl.col("version").cast(pl.String))
    out = _collect(lf.select(exprs), name)
    if "date" in columns and out["date"].null_count():
        raise input_error(name, "date", "a YYYY-MM-DD date on every row",
                          f"{out['date'].null_count()} empty or unparseable")
    return out, name


def _micro(expr: pl.Expr) -> pl.Expr:
    """Cost in integer millionths: sums of integers do not depend on the order in which a
    parallel group-by adds them, so the same ledger gives the same bytes of findings."""
    # NaN and inf become null here and are reported with the empty values
    return (expr * MICRO).round().cast(pl.Int64, strict=False)


def _aggregate(ledger: _focus.Ledger, rules: AllocationRules) -> pl.DataFrame:
    """The one pass over the line items, then each charge spread over its period.

    Keys: the UTC day of ChargePeriodStart, the service, the tags (FOCUS 1.3 ``AllocatedTags``
    in place of ``Tags`` on split rows), the charge category and the currency. A charge that
    ends within its start day (or at the next midnight) keeps its day; a longer one also
    keeps its exact start and end in the key, so that it can be spread evenly over the days
    it covers afterwards, on the small aggregate.
    """
    lf, name = ledger.frame, ledger.name
    col = rules.cost_column
    io.require_columns(lf, {**{c: FOCUS_COLUMNS[c] for c in REQUIRED_COLUMNS},
                            col: "a numeric cost"}, name)
    schema = lf.collect_schema()
    raw = pl.col(col)
    if schema[col] == pl.String:    # text from a frame or a Parquet file: FOCUS says Decimal
        raw = raw.str.strip_chars()
    elif not (schema[col].is_numeric() or schema[col] == pl.Null):
        _require_numeric(schema, col, name)
    when = _focus.utc_micros(ledger, {c: schema[c] for c in
                                      ("ChargePeriodStart", "ChargePeriodEnd")})
    # parsed once into columns of their own (an expression used three times is parsed
    # thrice); days as whole numbers: 10M rows of date-time arithmetic cost ~0.3 s more
    start, end = pl.col("_start"), pl.col("_end")
    midnight = start // DAY_US * DAY_US
    # ends by the next midnight (an end at or before the start does too): one division
    single = end.is_null() | (end <= midnight + DAY_US)
    tags = _focus.tags_key(schema["Tags"], "Tags")
    split = "AllocatedTags" in schema and _same_tag_types(schema)
    if split:
        allocated = pl.col("AllocatedTags")
        has = allocated.is_not_null() & (
            (allocated.str.strip_chars() != "") if schema["AllocatedTags"] == pl.String
            else pl.lit(True))
        tags = pl.when(has).then(
            _focus.tags_key(schema["AllocatedTags"], "AllocatedTags")).otherwise(tags)
    # the start of the day for one-day charges, the exact start for longer ones (with their
    # end): one key fewer than (date, start, end), ~0.3 s of CPU on 10M rows
    keys = ["pstart", "pend", "ServiceName", "Tags", "ChargeCategory", "BillingCurrency"]
    dated = lf.with_columns(when["ChargePeriodStart"].alias("_start"),
                            when["ChargePeriodEnd"].alias("_end"))
    # Parquet reads a few columns on their own cheaply (a CSV would be read twice, so not
    # there): when the file holds one currency, that key is dropped (~0.15 s of CPU on 10M
    # rows), and when no charge runs past its start day (and every end is set), the pass
    # groups by day alone, without the start/end arithmetic (~0.25 s). Text date-times are
    # not parsed twice for it.
    only, one_day = (None, False) if ledger.kind == "csv" else _probe(dated, schema, name)
    if only:
        keys.remove("BillingCurrency")
    if one_day:
        keys.remove("pend")
    cost = _micro(raw.cast(pl.Float64, strict=False))

    def grouped(category: pl.Expr, packed: bool = False) -> pl.DataFrame:
        # packed: the category's number (below 8) added to the day's midnight, one key fewer
        periods = [(midnight + category.cast(pl.Int64) if packed else midnight)
                   .alias("pstart")] if one_day else [
            pl.when(pl.col("_single")).then(midnight).otherwise(start).alias("pstart"),
            # -1: no usable end (counted below); null: a one-day charge
            pl.when(end.is_null()).then(-1).when(pl.col("_single")).then(None)
            .otherwise(end).alias("pend")]
        return _collect(
            (dated if one_day else dated.with_columns(single.alias("_single")))
            .select(
                *periods,
                pl.col("ServiceName").cast(pl.String), tags.alias("Tags"),
                *([] if packed else [category.alias("ChargeCategory")]),
                *([] if only else [pl.col("BillingCurrency").cast(pl.String)]),
                cost.alias("cost"),
                *([has.alias("split")] if split else []))
            .group_by([k for k in keys if not (packed and k == "ChargeCategory")])
            .agg(pl.col("cost").sum(), pl.col("cost").clip(lower_bound=0).sum().alias("charged"),
                 # non-zero items + 2^32 x empty ones: one sum instead of two (~0.05 s)
                 (pl.col("cost") != 0).cast(pl.UInt64).fill_null(1 << 32).sum()
                 .alias("nonzero"),
                 *([pl.col("split").sum().alias("split_items")] if split else []),
                 pl.len().alias("items")), name)

    text = pl.col("ChargeCategory").cast(pl.String)
    if ledger.kind == "csv":
        out = grouped(text)
    else:
        # the specification's five categories as a small number: a text key costs ~0.1 s
        # more CPU on 10M rows (an Enum cast as much as text). Any other value (or none)
        # reads as 7 there, and then the exact text is grouped on in a second pass.
        code: Any = pl.when(text == CHARGE_CATEGORIES[0]).then(pl.lit(0, pl.UInt8))
        for i, cat in enumerate(CHARGE_CATEGORIES[1:], 1):
            code = code.when(text == cat).then(pl.lit(i, pl.UInt8))
        out = grouped(code.otherwise(pl.lit(7, pl.UInt8)), packed=one_day)
        if one_day:
            within = pl.col("pstart") - pl.col("pstart") // DAY_US * DAY_US
            out = out.with_columns(within.cast(pl.UInt8).alias("ChargeCategory"),
                                   pl.col("pstart") - within)
        if (out["ChargeCategory"] == 7).any():
            out = grouped(text)
        else:
            out = out.with_columns(pl.col("ChargeCategory").replace_strict(
                dict(enumerate(CHARGE_CATEGORIES)), return_dtype=pl.String))
    return _checked(out, name, col, one_day=one_day, split=split, only=only)


def _probe(dated: pl.LazyFrame, schema: pl.Schema, name: str) -> tuple[str | None, bool]:
    """(the one currency of a Parquet ledger or None, whether no charge runs past its start
    day and every end is set): one cheap pass over three columns."""
    start, end = pl.col("_start"), pl.col("_end")
    midnight = start // DAY_US * DAY_US
    cur = pl.col("BillingCurrency").cast(pl.String)
    temporal = all(schema[c].is_temporal() for c in ("ChargePeriodStart", "ChargePeriodEnd"))
    found = _collect(dated.select(
        cur.min().alias("lo"), cur.max().alias("hi"), cur.null_count().alias("nulls"),
        *([(end > midnight + DAY_US).any().alias("multi"),
           end.null_count().alias("no_end")] if temporal else [])), name).row(0, named=True)
    only = None
    if found["nulls"] == 0 and found["lo"] is not None and found["lo"] == found["hi"]:
        only = found["lo"]
    return only, bool(temporal and not found["multi"] and found["no_end"] == 0)


def _checked(out: pl.DataFrame, name: str, col: str, *, one_day: bool, split: bool,
             only: str | None) -> pl.DataFrame:
    """The grouped line items with every key refused that is empty or unreadable, dates and
    periods typed, each charge spread over its period, and amounts back in currency units."""
    out = out.with_columns((pl.col("nonzero") // (1 << 32)).alias("null_cost"),
                           (pl.col("nonzero") % (1 << 32)).cast(pl.UInt32))
    if one_day:
        out = out.with_columns(pl.lit(None, pl.Int64).alias("pend"))
    if (out["pend"] == -1).any():
        bad = out.filter(pl.col("pend") == -1)["items"].sum()
        raise input_error(name, "ChargePeriodEnd", "an ISO 8601 date-time on every line item",
                          f"{bad} empty or unparseable values")
    if not split:
        out = out.with_columns(pl.lit(0, pl.UInt32).alias("split_items"))
    if only:
        out = out.with_columns(pl.lit(only).alias("BillingCurrency"))
    out = out.with_columns((pl.col("pstart") // DAY_US).cast(pl.Int32).cast(pl.Date).alias("date"),
                           pl.when(pl.col("pend").is_not_null()).then(pl.col("pstart"))
                           .cast(pl.Datetime("us")),
                           pl.col("pend").cast(pl.Datetime("us")))
    if out.height == 0:
        raise input_error(name, "line items", "at least one cost line item", "none")
    if out["date"].null_count():
        bad = out.filter(pl.col("date").is_null())["items"].sum()
        raise input_error(name, "ChargePeriodStart", "an ISO 8601 date-time on every line item",
                          f"{bad} empty or unparseable values")
    if out["BillingCurrency"].null_count():
        raise input_error(name, "BillingCurrency", "a currency code on every line item", "null")
    if out["null_cost"].sum():
        raise input_error(name, col, "a finite number on every line item",
                          f"{out['null_cost'].sum()} empty, NaN, infinite or non-numeric values")
    out = _spread(out.drop("null_cost"))
    # each item is its positive part plus its negative part, so credits need no extra sum
    return out.with_columns(
        pl.col("cost", "charged") / MICRO,
        ((pl.col("cost") - pl.col("charged")) / MICRO).alias("credits"))


def _spread(out: pl.DataFrame) -> pl.DataFrame:
    """Groups of charges covering more than their start day, spread evenly (by time) over the
    UTC days from ChargePeriodStart to ChargePeriodEnd; line-item counts stay on the first day."""
    keys = ["date", "ServiceName", "Tags", "ChargeCategory", "BillingCurrency"]
    sums = ["cost", "charged", "nonzero", "split_items", "items"]
    one = out.filter(pl.col("pstart").is_null()).drop("pstart", "pend")
    many = out.filter(pl.col("pstart").is_not_null())
    if many.height:
        day = pl.col("day").cast(pl.Datetime("us"))
        overlap = (pl.min_horizontal(pl.col("pend"), day + pl.duration(days=1))
                   - pl.max_horizontal(pl.col("pstart"), day))
        weight = (overlap.dt.total_microseconds()
                  / (pl.col("pend") - pl.col("pstart")).dt.total_microseconds())
        first = pl.col("day") == pl.col("date")
        many = (many.with_columns(pl.date_ranges(
                    pl.col("pstart").dt.date(),
                    (pl.col("pend") - pl.duration(microseconds=1)).dt.date()).alias("day"))
                .explode("day")
                .with_columns((pl.col("cost", "charged") * weight),
                              *[pl.when(first).then(pl.col(c)).otherwise(0).alias(c)
                                for c in ("nonzero", "split_items", "items")])
                .with_columns(pl.col("day").alias("date")))
        one = pl.concat([one.with_columns(pl.col("cost", "charged").cast(pl.Float64)),
                         many.select(one.columns)], how="vertical_relaxed")
    return one.group_by(keys).agg(pl.col(sums).sum()).sort(keys)


def _convert(agg: pl.DataFrame, name: str, rates: pl.DataFrame | None, rates_name: str,
             currency: str | None) -> tuple[pl.DataFrame, str]:
    currencies = sorted(agg["BillingCurrency"].unique().to_list())
    if rates is None:
        if len(currencies) > 1:
            raise input_error(name, "BillingCurrency",
                              "a single currency, or exchange rates for each one",
                              ", ".join(currencies))
        if currency and currency != currencies[0]:
            raise input_error(name, "BillingCurrency",
                              f"{currency} (or exchange rates to convert to it)", currencies[0])
        return agg, currencies[0]
    target = currency or "USD"
    table = dict(zip(rates["currency"].to_list(), rates["rate"].to_list(), strict=True))
    table.setdefault(target, 1.0)
    for cur in currencies:
        if table.get(cur) is None:
            raise input_error(rates_name, "rate", f"an exchange rate from {cur} to {target}",
                              "no row")
    factor = pl.col("BillingCurrency").replace_strict(table, return_dtype=pl.Float64)
    return agg.with_columns(pl.col("cost", "charged", "credits") * factor), target


def _tag_table(agg: pl.DataFrame, rules: AllocationRules) -> pl.DataFrame:
    """One row per distinct Tags value (by hash): model, stage and version read from it,
    whether it parsed, and which key was read when it matched only ignoring case."""
    distinct = agg.select("tag_id", "Tags").unique("tag_id", keep="first")
    wanted = {"model": rules.model_tag, "stage": rules.stage_tag, "version": rules.version_tag}
    rows = []
    for tag_id, raw in distinct.iter_rows():
        tags = _focus.parse_tags(raw)
        row: dict[str, object] = {"tag_id": tag_id, "parsed": True, "unparsed_text": None,
                                  "case_keys": None}
        if isinstance(tags, _focus.Unparsed):
            row.update(parsed=False, unparsed_text=str(tags), Tags="{}")
            tags = {}
        else:
            row["Tags"] = json.dumps(tags, sort_keys=True)
        folded = {k.casefold(): k for k in sorted(tags)}
        odd = []
        for role, key in wanted.items():
            value = tags.get(key)
            if value is None and (near := folded.get(key.casefold())) is not None:
                value = tags[near]
                odd.append(f"{near}->{key}")
            row[f"tag_{role}"] = value if value != "" else None
        row["case_keys"] = ", ".join(odd) or None
        rows.append(row)
    schema = {"tag_id": pl.UInt64, "parsed": pl.Boolean, "unparsed_text": pl.String,
              "case_keys": pl.String, "Tags": pl.String, "tag_model": pl.String,
              "tag_stage": pl.String, "tag_version": pl.String}
    return pl.DataFrame(rows, schema=schema)


def _classify(agg: pl.DataFrame, rules: AllocationRules) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(items with tag_model, tag_stage, tag_version and kind; the distinct-tags table)."""
    agg = agg.with_columns(pl.col("Tags").hash().alias("tag_id"))
    table = _tag_table(agg, rules)
    items = agg.drop("Tags").join(table.select("tag_id", "Tags", "tag_model", "tag_stage",
                                               "tag_version"), on="tag_id", how="left")
    items = items.with_columns(
        pl.when(pl.col("tag_model").is_null())
        .then(pl.lit("untagged"))
        .when(pl.col("tag_model").is_in(list(rules.shared_values)))
        .then(pl.lit("shared")).otherwise(pl.lit("model")).alias("kind"))
    return items, table


def _shares(usage: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(date, model, version) share of all predictions that day; share within the model
    that day; and the whole-period share (fallback for days without usage)."""
    u = usage.group_by("date", "model", "version").agg(pl.col("predictions").sum())
    day_all = u.with_columns(
        (pl.col("predictions") / pl.col("predictions").sum().over("date")).alias("share"))
    within = u.with_columns(
        (pl.col("predictions") / pl.col("predictions").sum().over("date", "model")).alias("vshare"))
    period = u.group_by("model", "version").agg(pl.col("predictions").sum()).with_columns(
        (pl.col("predictions") / pl.col("predictions").sum()).alias("share"))
    return (day_all.filter(pl.col("share").is_finite()).drop("predictions"),
            within.filter(pl.col("vshare").is_finite()).drop("predictions"),
            period.filter(pl.col("share").is_finite()).drop("predictions"))


def _spread_versions(frame: pl.DataFrame, within: pl.DataFrame, amount: str) -> pl.DataFrame:
    """Rows with a null ``version`` spread over the model's versions by that day's usage."""
    known = frame.filter(pl.col("version").is_not_null())
    unknown = frame.filter(pl.col("version").is_null()).drop("version")
    joined = unknown.join(within, on=["date", "model"], how="left")
    joined = joined.with_columns(
        pl.col("version").fill_null(UNVERSIONED),
        (pl.col(amount) * pl.col("vshare").fill_null(1.0)).alias(amount)).drop("vshare")
    return pl.concat([known, joined.select(known.columns)])


def _allocate(items: pl.DataFrame, usage: pl.DataFrame, rules: AllocationRules
              ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(allocated: date, model, version, stage, source, cost;
    unallocated: date, kind, stage, cost)."""
    day_all, within, period = _shares(usage)
    base = items.group_by("date", "kind", "tag_model", "tag_stage", "tag_version").agg(
        pl.col("cost").sum()).with_columns(
        pl.col("tag_stage").fill_null(UNSPECIFIED).alias("stage"))
    direct = (base.filter(pl.col("kind") == "model")
              .select("date", pl.col("tag_model").alias("model"),
                      pl.col("tag_version").alias("version"), "stage", "cost",
                      pl.lit("tagged").alias("source")))
    direct = _spread_versions(direct, within, "cost")

    to_split = []
    if rules.split_shared:
        to_split.append("shared")
    if rules.split_untagged:
        to_split.append("untagged")
    pool = base.filter(pl.col("kind").is_in(to_split)).select("date", "kind", "stage", "cost")
    kept = base.filter(~pl.col("kind").is_in(["model", *to_split])).select(
        "date", "kind", "stage", "cost")

    parts = [direct.select("date", "model", "version", "stage", "source", "cost")]
    if pool.height and day_all.height:
        on_day = pool.join(day_all, on="date", how="inner")
        no_day = pool.join(day_all.select("date").unique(), on="date", how="anti")
        fallback = no_day.join(period, how="cross")
        split = pl.concat([on_day.select(fallback.columns), fallback])
        parts.append(split.select("date", "model", "version", "stage",
                                  pl.concat_str(pl.lit("split "), pl.col("kind")).alias("source"),
                                  (pl.col("cost") * pl.col("share")).alias("cost")))
    elif pool.height:
        kept = pl.concat([kept, pool])
    allocated = pl.concat(parts).group_by("date", "model", "version", "stage", "source").agg(
        pl.col("cost").sum()).sort("date", "model", "version", "stage", "source")
    unallocated = kept.group_by("date", "kind", "stage").agg(pl.col("cost").sum()).sort(
        "date", "kind", "stage")
    return allocated, unallocated


def _daily(allocated: pl.DataFrame, usage: pl.DataFrame, value: pl.DataFrame) -> pl.DataFrame:
    """(date, model, version): cost, predictions, value."""
    _, within, _ = _shares(usage)
    if "version" not in value.columns:
        value = value.with_columns(pl.lit(None, pl.String).alias("version"))
    value = value.group_by("date", "model", "version").agg(pl.col("value").sum())
    value = _spread_versions(value, within, "value").group_by("date", "model", "version").agg(
        pl.col("value").sum())
    cost = allocated.group_by("date", "model", "version").agg(pl.col("cost").sum())
    preds = usage.group_by("date", "model", "version").agg(pl.col("predictions").sum())
    keys = ["date", "model", "version"]
    out = cost.join(preds, on=keys, how="full", coalesce=True).join(
        value, on=keys, how="full", coalesce=True)
    return out.with_columns(pl.col("cost", "predictions", "value").fill_null(0.0)).sort(keys)


def _by_period(daily: pl.DataFrame, every: str, by_version: bool = True) -> pl.DataFrame:
    keys = ["model", "version"] if by_version else ["model"]
    out = (daily.with_columns(pl.col("date").dt.truncate(every).alias("period_start"))
           .group_by("period_start", *keys)
           .agg(pl.col("cost").sum(), pl.col("value").sum(),
                pl.col("predictions").sum().cast(pl.Int64), pl.col("date").n_unique().alias("days"))
           .sort("period_start", *keys))
    return unit_economics(out)


def _month_bounds(month: str) -> tuple[date, date]:
    year, mon = int(month[:4]), int(month[5:7])
    return date(year, mon, 1), date(year, mon, calendar.monthrange(year, mon)[1])


def _pick_month(first: date, last: date, month: str | None, as_of: date | None, name: str
                ) -> tuple[str, date]:
    """The month analysed and the as-of day. Default: the month of the last data day when
    it has at least 7 days of data (the current month), otherwise the month before it (the
    latest complete month)."""
    if month:
        try:
            start, end = _month_bounds(month)
        except (ValueError, IndexError) as exc:
            raise input_error("--month", "month", "YYYY-MM", month) from exc
        if end < first or start > last:
            raise input_error(name, "month",
                              f"a month with cost data ({first:%Y-%m} to {last:%Y-%m})", month)
    else:
        start = last.replace(day=1)
        if (last - start).days + 1 < 7 and start > first:
            start = (start - timedelta(days=1)).replace(day=1)
        month = f"{start:%Y-%m}"
        _, end = _month_bounds(month)
    day = as_of or min(last, end)
    if not start <= day <= end:
        raise input_error("--as-of", "as_of", f"a day within {month}", day.isoformat())
    return month, day


def _budget(daily: pl.DataFrame, budgets: pl.DataFrame, month: str, as_of: date, methods: Methods
            ) -> tuple[pl.DataFrame, pl.DataFrame]:
    start, end = _month_bounds(month)
    per_model = daily.group_by("date", "model").agg(pl.col("cost").sum()).sort("date", "model")
    models = sorted(set(per_model["model"].to_list()) | set(
        budgets.filter(pl.col("month") == month)["model"].to_list()))
    days_left = (end - as_of).days
    rr_from = as_of - timedelta(days=methods.run_rate_days - 1)
    b = budgets.filter(pl.col("month") == month).group_by("model").agg(pl.col("budget").sum())
    rows, burn = [], []
    for model in models:
        mine = per_model.filter(pl.col("model") == model)
        mtd = cast(float, mine.filter(pl.col("date").is_between(start, as_of))["cost"].sum())
        run_rate = cast(float, mine.filter(pl.col("date").is_between(rr_from, as_of))["cost"].sum()
                        ) / methods.run_rate_days
        forecast = mtd + run_rate * days_left
        budgets_of = b.filter(pl.col("model") == model)["budget"]
        budget = float(budgets_of[0]) if budgets_of.len() else None
        rows.append({
            "model": model, "budget": budget, "month_to_date_cost": mtd,
            "run_rate_per_day": run_rate, "days_left": days_left, "forecast_cost": forecast,
            "budget_burn_pct": mtd / budget * 100 if budget else None,
            "forecast_vs_budget_pct": forecast / budget * 100 if budget else None,
            "on_budget": (forecast <= budget) if budget else None,
        })
        cum = 0.0
        daily_cost = dict(zip(mine["date"].to_list(), mine["cost"].to_list(), strict=True))
        d = start
        while d <= end:
            kind = "actual" if d <= as_of else "forecast"
            cum += daily_cost.get(d, 0.0) if kind == "actual" else run_rate
            burn.append({"model": model, "date": d, "kind": kind, "cumulative_cost": cum,
                         "remaining_budget": (budget - cum) if budget is not None else None})
            d += timedelta(days=1)
    schema = {"model": pl.String, "budget": pl.Float64, "month_to_date_cost": pl.Float64,
              "run_rate_per_day": pl.Float64, "days_left": pl.Int64, "forecast_cost": pl.Float64,
              "budget_burn_pct": pl.Float64, "forecast_vs_budget_pct": pl.Float64,
              "on_budget": pl.Boolean}
    burn_schema = {"model": pl.String, "date": pl.Date, "kind": pl.String,
                   "cumulative_cost": pl.Float64, "remaining_budget": pl.Float64}
    return pl.DataFrame(rows, schema=schema), pl.DataFrame(burn, schema=burn_schema)


def anomaly_scores(daily: pl.DataFrame, methods: Methods = DEFAULT_METHODS) -> pl.DataFrame:
    """Score ``daily`` (service, date, cost) with the modified z-score per service.

    Only the days that hold data for a service are scored: a day missing from its series is
    not a zero-cost day (a late correction dated in an earlier month would otherwise make
    every quiet service's empty days look normal and its ordinary days look high).
    """
    if daily.height == 0:
        return daily.with_columns(
            [pl.lit(None, pl.Float64).alias(c) for c in ("median", "mad", "score")]
        ).with_columns(pl.lit(False).alias("flagged"))
    full = daily.select("service", "date", pl.col("cost").cast(pl.Float64))
    med = pl.col("cost").median().over("service")
    scored = full.with_columns(med.alias("median")).with_columns(
        (pl.col("cost") - pl.col("median")).abs().median().over("service").alias("mad"),
        (pl.col("cost") - pl.col("median")).abs().mean().over("service").alias("meanad"),
        pl.len().over("service").alias("n"))
    scale = (pl.when(pl.col("mad") > 0).then(pl.col("mad") / 0.6745)
             .otherwise(pl.col("meanad") * 1.253314))
    scored = scored.with_columns(
        pl.when((pl.col("n") >= methods.min_anomaly_days) & (scale > 0))
        .then((pl.col("cost") - pl.col("median")) / scale).otherwise(0.0).alias("score"))
    return (scored.with_columns((pl.col("score") > methods.anomaly_threshold).alias("flagged"))
            .select("service", "date", "cost", "median", "mad", "score", "flagged")
            .sort("service", "date"))


def compute(ledger: Source, usage: Source, value: Source, budgets: Source, *,
            rates: Source | None = None, month: str | None = None, as_of: date | None = None,
            currency: str | None = None, rules: AllocationRules = DEFAULT_RULES,
            methods: Methods = DEFAULT_METHODS) -> CostResult:
    """Allocate the ledger and weigh it against usage, value and budgets.

    Each input is a path (CSV/Parquet via :func:`workbench.io.scan`) or a polars frame.
    ``usage``: date, model, version, predictions. ``value``: date, model, value (optional
    version). ``budgets``: model, month (YYYY-MM), budget. ``rates``: currency, rate (units
    of ``currency`` -- default USD -- per unit of the billing currency). Costs, value and
    budgets are taken to be in the reporting currency once rates are applied to the ledger.
    """
    opened = _focus.open_ledger(ledger)
    name = opened.name
    usage_df, usage_name = _small(usage, "usage", {
        "date": "a date", "model": "a model name", "version": "a model version",
        "predictions": "predictions served"}, ("predictions",))
    value_df, value_name = _small(value, "value", {"date": "a date", "model": "a model name",
                                                   "value": "business value"}, ("value",))
    budgets_df, budgets_name = _small(budgets, "budgets", {
        "model": "a model name", "month": "YYYY-MM", "budget": "a budget amount"}, ("budget",))
    budgets_df, bad_months = _budget_months(budgets_df)
    rates_df, rates_name = (None, "rates")
    if rates is not None:
        rates_df, rates_name = _small(rates, "rates", {"currency": "a currency code",
                                                       "rate": "an exchange rate"}, ("rate",))

    agg = _aggregate(opened, rules)
    agg, report_currency = _convert(agg, name, rates_df, rates_name, currency)
    items, tag_table = _classify(agg, rules)
    # the export's last day is the last day a charge starts on (spread charges run past it)
    first: date = items["date"].min()  # type: ignore[assignment]  # a date column
    last: date = items.filter(pl.col("items") > 0)["date"].max()  # type: ignore[assignment]
    month, as_of = _pick_month(first, last, month, as_of, name)
    warnings = [
        *_tag_warnings(items, tag_table, name, rules, report_currency),
        *_split_warnings(opened),
        *_purchase_warnings(items, name, rules, report_currency),
        *_name_warnings(items, rules, {usage_name: usage_df, value_name: value_df,
                                       budgets_name: budgets_df}),
        *[f"{budgets_name}: month {m!r} on {n} row{'s' * (n > 1)} is not YYYY-MM; "
          f"{'those budgets are' if n > 1 else 'that budget is'} not used"
          for m, n in bad_months]]
    # the analysis as known on as_of
    items = items.filter(pl.col("date") <= as_of)
    usage_df = usage_df.filter(pl.col("date") <= as_of)
    value_df = value_df.filter(pl.col("date") <= as_of)
    allocated, unallocated = _allocate(items, usage_df, rules)
    daily = _daily(allocated, usage_df, value_df)
    budget, burndown = _budget(daily, budgets_df, month, as_of, methods)
    service_daily = (items.group_by("ServiceName", "date")
                     .agg(pl.col("charged").sum().alias("cost"))
                     .rename({"ServiceName": "service"}))
    scores = anomaly_scores(service_daily, methods)
    return CostResult(
        items=items.drop("Tags", "tag_id"), allocated=allocated, unallocated=unallocated,
        daily=daily, weekly=_by_period(daily, "1w"), monthly=_by_period(daily, "1mo"),
        budget=budget, burndown=burndown, anomaly_scores=scores,
        month=month, as_of=as_of, currency=report_currency, rules=rules, methods=methods,
        line_items=int(agg["items"].sum()), source=name,
        focus_version=opened.focus_version, warnings=tuple(warnings))


_MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


def _budget_months(budgets: pl.DataFrame) -> tuple[pl.DataFrame, list[tuple[str, int]]]:
    """Budgets whose month reads as YYYY-MM (a date's first 7 characters count); the others
    as (month text, rows), to be warned about rather than silently matching no month."""
    month = pl.col("month").str.strip_chars().str.slice(0, 7)
    ok = month.str.contains(_MONTH) & (
        (pl.col("month").str.strip_chars().str.len_chars() == 7)
        | pl.col("month").str.strip_chars().str.slice(7, 1).eq("-"))
    checked = budgets.with_columns(ok.fill_null(False).alias("ok"))
    bad = (checked.filter(~pl.col("ok")).group_by("month", maintain_order=True).len()
           .rows())
    return checked.filter(pl.col("ok")).with_columns(month).drop("ok"), [
        (str(m), int(n)) for m, n in bad]


def _tag_warnings(items: pl.DataFrame, table: pl.DataFrame, name: str,
                  rules: AllocationRules, cur: str) -> list[str]:
    out = []
    per_tag = items.group_by("tag_id").agg(pl.col("items").sum(), pl.col("cost").sum())
    joined = table.join(per_tag, on="tag_id", how="inner")
    bad = joined.filter(~pl.col("parsed"))
    if bad.height:
        example = bad.sort("items", descending=True)["unparsed_text"][0]
        out.append(f"{name}: Tags on {bad['items'].sum():,} line items "
                   f"({bad['cost'].sum():,.2f} {cur}) are not JSON key-values "
                   f"(e.g. {example[:60]!r}): their cost counts as untagged")
    odd = joined.filter(pl.col("case_keys").is_not_null())
    for keys, n in (odd.group_by("case_keys").agg(pl.col("items").sum()).sort("case_keys")
                    .rows()):
        for pair in keys.split(", "):
            got, want = pair.split("->")
            out.append(f"{name}: Tags key {got!r} differs from {want!r} only in case on {n:,} "
                       f"line items; read as {want!r}")
    return out


def _same_tag_types(schema: pl.Schema) -> bool:
    """AllocatedTags can stand in for Tags: the same type, or text and struct (both become
    JSON text in the tags key)."""
    return (schema["AllocatedTags"] == schema["Tags"]
            or {type(schema["AllocatedTags"]), type(schema["Tags"])} <= {pl.String, pl.Struct})


def _split_warnings(ledger: _focus.Ledger) -> list[str]:
    schema = ledger.frame.collect_schema()
    if "AllocatedTags" not in schema or _same_tag_types(schema):
        return []
    return [f"{ledger.name}: AllocatedTags is stored as {schema['AllocatedTags']} but Tags as "
            f"{schema['Tags']}: split cost allocation rows are charged to the host's Tags"]


def _purchase_warnings(items: pl.DataFrame, name: str, rules: AllocationRules,
                       cur: str) -> list[str]:
    if rules.cost_column != "EffectiveCost":
        return []
    p = items.filter(pl.col("ChargeCategory") == "Purchase")
    n = int(p["nonzero"].sum()) if p.height else 0
    if not n:
        return []
    return [f"{name}: {n:,} Purchase line items carry a non-zero EffectiveCost "
            f"({p['cost'].sum():,.2f} {cur}); FOCUS amortises commitments into the usage they "
            f"cover, so if these are commitment purchases they count twice"]


def _name_warnings(items: pl.DataFrame, rules: AllocationRules,
                   sides: dict[str, pl.DataFrame]) -> list[str]:
    """Model names in usage, value or budgets that no cost line item's tag names."""
    tagged = sorted(set(items.filter(pl.col("kind") == "model")["tag_model"].to_list()))
    folded = {t.casefold().replace(" ", "_").replace("-", "_"): t for t in tagged}
    out = []
    for file, frame in sides.items():
        for model in sorted(set(frame["model"].drop_nulls().to_list()) - set(tagged)):
            near = folded.get(model.casefold().replace(" ", "_").replace("-", "_")) or next(
                iter(difflib.get_close_matches(model, tagged, n=1, cutoff=0.6)), None)
            hint = f"closest: {near!r}" if near else (
                f"tagged models: {', '.join(tagged[:5])}" if tagged else "no model tags at all")
            out.append(f"{file}: model {model!r} matches no {rules.model_tag!r} tag in the "
                       f"ledger ({hint})")
    return out

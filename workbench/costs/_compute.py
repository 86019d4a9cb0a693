"""Cost ledger + usage + value + budgets -> allocation, unit economics, budget burn, anomalies.

One lazy pass over the ledger groups line items by day, service and ``Tags`` (and currency
when there are several): a few thousand groups even for 10M line items. Everything after
that works on the small aggregate, so tags are parsed once per distinct value. Costs are
summed as integer millionths, so the findings do not change in the last digit from run to
run with the order in which parallel threads add them.

Measured (benchmarks/costs.py, 10M line items, 2 shared cores): about 1.8-2.0 s of CPU and
0.3-0.5 GB peak RSS for the whole analysis; the 5-key first version took ~2.5 s of CPU.
"""

from __future__ import annotations

import calendar
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from workbench import io
from workbench.costs._result import CostResult
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
    "Tags": "JSON key-values",
}
STAGES = ("data_processing", "feature_storage", "training", "inference", "monitoring")
UNSPECIFIED = "unspecified"
UNVERSIONED = "unversioned"
MICRO = 1_000_000

Source = str | os.PathLike[str] | pl.LazyFrame | pl.DataFrame


@dataclass(frozen=True)
class AllocationRules:
    """How line items map to models and stages.

    ``split_shared``: cost whose model tag is one of ``shared_values`` is split across models
    (and their versions) in proportion to predictions served that day; otherwise it stays
    unallocated. ``split_untagged`` does the same for items without a model tag.
    Items tagged with a model but no version are spread over that model's versions by the
    same day's predictions.
    """

    model_tag: str = "model"
    stage_tag: str = "stage"
    version_tag: str = "version"
    shared_values: tuple[str, ...] = ("shared",)
    split_shared: bool = True
    split_untagged: bool = False
    cost_column: str = "EffectiveCost"


@dataclass(frozen=True)
class Methods:
    """Forecast and anomaly settings; ``describe()`` states them in words for the pack."""

    run_rate_days: int = 7
    anomaly_threshold: float = 3.5
    min_anomaly_days: int = 14

    def describe(self) -> dict[str, str]:
        return {
            "forecast": (f"linear run-rate: month-to-date cost + (mean daily cost of the last "
                         f"{self.run_rate_days} days up to as-of) x days left in the month"),
            "anomalies": (f"per service, daily cost of charges (credits excluded) scored with the "
                          f"modified z-score 0.6745 x (cost - median) / MAD over the ledger period "
                          f"(mean absolute deviation x 1.2533 when MAD is 0); flagged when score > "
                          f"{self.anomaly_threshold:g}; services with fewer than "
                          f"{self.min_anomaly_days} days are not scored"),
        }


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
            raise input_error(name, bad.group(3), f"{bad.group(2)} values on every row",
                              bad.group(1)) from exc
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


_OFFSET = re.compile(r"[+-](\d{2}):?(\d{2})$")


def _ledger_dates(ledger: pl.LazyFrame, name: str, col: str, dtype: pl.DataType) -> pl.Expr:
    """The UTC date of each line item. FOCUS date-times are UTC (``...Z``): then the date is
    the text's first ten characters. A ledger whose text carries another offset
    (``2026-10-01T22:00:00-05:00``) is parsed as date-times and converted to UTC, so an item
    is counted on the day it happened in UTC whatever offset it was written with; a cheap
    look at the distinct last six characters tells which case applies."""
    if dtype.is_temporal():
        return _as_date(pl.col(col), dtype)
    text = pl.col(col).cast(pl.String)
    tails = _collect(ledger.select(text.str.tail(6).unique()), name)[col].drop_nulls()
    offsets = {m.groups() for t in tails.to_list() if (m := _OFFSET.search(t))}
    if offsets <= {("00", "00")}:
        return _as_date(pl.col(col), dtype)
    stamp = text.str.replace(" ", "T", literal=True).str.to_datetime(
        "%Y-%m-%dT%H:%M:%S%.f%#z", time_zone="UTC", strict=False)
    return (pl.when(text.str.len_chars() <= 10)
            .then(text.str.to_date("%Y-%m-%d", strict=False))
            .otherwise(stamp.dt.date()))


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


def _aggregate(ledger: pl.LazyFrame, name: str, rules: AllocationRules) -> pl.DataFrame:
    """The one pass over the line items."""
    io.require_columns(ledger, FOCUS_COLUMNS, name)
    schema = ledger.collect_schema()
    for col in ("BilledCost", "EffectiveCost", rules.cost_column):
        if col not in schema:
            raise input_error(name, col, "a numeric cost (column missing)")
        if not schema[col].is_numeric() and _collect(ledger.head(1), name).height == 0:
            # a header-only CSV has only string columns: say "empty", not "non-numeric"
            raise input_error(name, "line items", "at least one cost line item", "none")
        _require_numeric(schema, col, name)
    tags = pl.col("Tags")
    if isinstance(schema["Tags"], pl.Struct):
        tags = tags.struct.json_encode()
    elif schema["Tags"] != pl.String:
        tags = tags.cast(pl.String)
    cost = pl.col(rules.cost_column).cast(pl.Float64)
    other = "BilledCost" if rules.cost_column != "BilledCost" else "EffectiveCost"
    # A text file can hold a bad number past the rows its types were inferred from: sum the
    # other cost column too so the scan reads (and checks) it. Parquet types are exact.
    checked = [] if name.lower().endswith((".parquet", ".pq")) else ["other_cost"]
    # Every string key costs time on 10M rows: the currency joins the keys only when the
    # ledger has more than one (a cheap pass over one column tells).
    currencies = _collect(ledger.select(pl.col("BillingCurrency").cast(pl.String).unique()),
                          name)["BillingCurrency"]
    if currencies.null_count():
        raise input_error(name, "BillingCurrency", "a currency code on every line item", "null")
    mixed = currencies.len() > 1
    keys = ["date", "ServiceName", "Tags", *(["BillingCurrency"] if mixed else [])]
    agg = (ledger
           .select(_ledger_dates(ledger, name, "ChargePeriodStart", schema["ChargePeriodStart"])
                   .alias("date"),
                   pl.col("ServiceName").cast(pl.String), tags.fill_null("{}").alias("Tags"),
                   *([pl.col("BillingCurrency").cast(pl.String)] if mixed else []),
                   _micro(cost).alias("cost"),
                   *[_micro(pl.col(other).cast(pl.Float64)).alias("other_cost")
                     for _ in checked])
           .group_by(keys)
           .agg(pl.col("cost").sum(), *[pl.col(c).sum() for c in checked],
                pl.col("cost").clip(lower_bound=0).sum().alias("charged"),
                pl.col("cost").null_count().alias("null_cost"),
                *[pl.col(c).null_count().alias("null_other") for c in checked],
                pl.len().alias("items")))
    out = _collect(agg, name)
    if not mixed and out.height:
        out = out.with_columns(pl.lit(currencies[0]).alias("BillingCurrency"))
    if out.height == 0:
        raise input_error(name, "line items", "at least one cost line item", "none")
    if out["date"].null_count():
        raise input_error(name, "ChargePeriodStart", "a date or datetime on every line item",
                          "empty or unparseable values")
    for col, nulls in ((rules.cost_column, "null_cost"), (other, "null_other")):
        if nulls in out.columns and out[nulls].sum():
            raise input_error(name, col, "a finite number on every line item",
                              f"{out[nulls].sum()} empty, NaN or infinite values")
    # each item is its positive part plus its negative part, so credits need no extra sum
    return out.drop("null_cost", "null_other", strict=False).with_columns(
        (pl.col("cost", "charged", *checked) / MICRO),
        ((pl.col("cost") - pl.col("charged")) / MICRO).alias("credits")).sort(keys)


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


def _json_path(key: str) -> str:
    return f"$.{key}" if key.replace("_", "").isalnum() else f"$['{key}']"


def _classify(agg: pl.DataFrame, rules: AllocationRules) -> pl.DataFrame:
    tags = agg.select("Tags").unique().sort("Tags")
    tags = tags.with_columns(
        pl.col("Tags").str.json_path_match(_json_path(rules.model_tag)).alias("tag_model"),
        pl.col("Tags").str.json_path_match(_json_path(rules.stage_tag)).alias("tag_stage"),
        pl.col("Tags").str.json_path_match(_json_path(rules.version_tag)).alias("tag_version"),
    ).with_columns(
        pl.when(pl.col("tag_model").is_null() | (pl.col("tag_model") == ""))
        .then(pl.lit("untagged"))
        .when(pl.col("tag_model").is_in(list(rules.shared_values)))
        .then(pl.lit("shared")).otherwise(pl.lit("model")).alias("kind"))
    return agg.join(tags, on="Tags", how="left")


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


def _economics(frame: pl.DataFrame) -> pl.DataFrame:
    per_k = pl.col("predictions") / 1000.0
    return frame.with_columns(
        pl.when(pl.col("predictions") > 0).then(pl.col("cost") / per_k)
        .alias("cost_per_1k_predictions"),
        pl.when(pl.col("predictions") > 0).then(pl.col("value") / per_k)
        .alias("value_per_1k_predictions"),
        pl.when(pl.col("cost") > 0).then(pl.col("value") / pl.col("cost"))
        .alias("value_cost_ratio"),
        (pl.col("value") - pl.col("cost")).alias("net_value"),
    )


def _by_period(daily: pl.DataFrame, every: str, by_version: bool = True) -> pl.DataFrame:
    keys = ["model", "version"] if by_version else ["model"]
    out = (daily.with_columns(pl.col("date").dt.truncate(every).alias("period_start"))
           .group_by("period_start", *keys)
           .agg(pl.col("cost").sum(), pl.col("value").sum(),
                pl.col("predictions").sum().cast(pl.Int64), pl.col("date").n_unique().alias("days"))
           .sort("period_start", *keys))
    return _economics(out)


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
        mtd = mine.filter(pl.col("date").is_between(start, as_of))["cost"].sum()
        run_rate = mine.filter(pl.col("date").is_between(rr_from, as_of))["cost"].sum() / \
            methods.run_rate_days
        forecast = mtd + run_rate * days_left
        budget = b.filter(pl.col("model") == model)["budget"]
        budget = float(budget[0]) if budget.len() else None
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


def anomaly_scores(daily: pl.DataFrame, methods: Methods = Methods()) -> pl.DataFrame:
    """Score ``daily`` (service, date, cost) with the modified z-score per service.

    Missing days inside the ledger's date range count as zero cost.
    """
    if daily.height == 0:
        return daily.with_columns(
            [pl.lit(None, pl.Float64).alias(c) for c in ("median", "mad", "score")]
        ).with_columns(pl.lit(False).alias("flagged"))
    days = pl.DataFrame({"date": pl.date_range(daily["date"].min(), daily["date"].max(), "1d",
                                               eager=True)})
    grid = daily.select("service").unique().join(days, how="cross")
    full = grid.join(daily, on=["service", "date"], how="left").with_columns(
        pl.col("cost").fill_null(0.0))
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
            currency: str | None = None, rules: AllocationRules = AllocationRules(),
            methods: Methods = Methods()) -> CostResult:
    """Allocate the ledger and weigh it against usage, value and budgets.

    Each input is a path (CSV/Parquet via :func:`workbench.io.scan`) or a polars frame.
    ``usage``: date, model, version, predictions. ``value``: date, model, value (optional
    version). ``budgets``: model, month (YYYY-MM), budget. ``rates``: currency, rate (units
    of ``currency`` -- default USD -- per unit of the billing currency). Costs, value and
    budgets are taken to be in the reporting currency once rates are applied to the ledger.
    """
    lf, name = _lazy(ledger, "ledger")
    usage_df, _ = _small(usage, "usage", {"date": "a date", "model": "a model name",
                                          "version": "a model version",
                                          "predictions": "predictions served"}, ("predictions",))
    value_df, _ = _small(value, "value", {"date": "a date", "model": "a model name",
                                          "value": "business value"}, ("value",))
    budgets_df, _ = _small(budgets, "budgets", {"model": "a model name", "month": "YYYY-MM",
                                                "budget": "a budget amount"}, ("budget",))
    budgets_df = budgets_df.with_columns(pl.col("month").str.slice(0, 7))
    rates_df, rates_name = (None, "rates")
    if rates is not None:
        rates_df, rates_name = _small(rates, "rates", {"currency": "a currency code",
                                                       "rate": "an exchange rate"}, ("rate",))

    agg = _aggregate(lf, name, rules)
    agg, report_currency = _convert(agg, name, rates_df, rates_name, currency)
    items = _classify(agg, rules)
    first, last = items["date"].min(), items["date"].max()
    month, as_of = _pick_month(first, last, month, as_of, name)
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
        items=items.drop("Tags"), allocated=allocated, unallocated=unallocated, daily=daily,
        weekly=_by_period(daily, "1w"), monthly=_by_period(daily, "1mo"),
        budget=budget, burndown=burndown, anomaly_scores=scores,
        month=month, as_of=as_of, currency=report_currency, rules=rules, methods=methods,
        line_items=int(agg["items"].sum()), source=name)


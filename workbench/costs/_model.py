"""The data of a cost-to-value analysis: the rules and methods it ran with, and the result
(small frames, the metrics, the JSON form and the findings; its HTML is drawn by
:mod:`workbench.costs._render`)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any, cast

import polars as pl

from workbench import render
from workbench.costs import _render
from workbench.findings import Findings

NOTEBOOK = "cost_to_value"
# the findings vocabulary's word for "all clear" (the result says "ok")
FINDINGS_STATUS = {"ok": "pass"}
MODEL_METRICS = ("cost_per_1k_predictions", "value_per_1k_predictions", "value_cost_ratio",
                 "net_value", "budget_burn_pct", "forecast_vs_budget_pct", "on_budget")


def _records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dicts()


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
                          f"modified z-score 0.6745 x (cost - median) / MAD over the days that "
                          f"hold cost data for that service (a day without data is not a "
                          f"zero-cost day; mean absolute deviation x 1.2533 when MAD is 0); "
                          f"flagged when score > {self.anomaly_threshold:g}; services with fewer "
                          f"than {self.min_anomaly_days} days are not scored"),
            "proration": ("each charge is spread evenly over its charge period, "
                          "ChargePeriodStart to ChargePeriodEnd (UTC), by the share of the "
                          "period each day covers: a month of storage counts 1/30 or 1/31 on "
                          "each day, for daily and weekly series, month-to-date cost, "
                          "forecasts and anomalies alike"),
    }


def _sum(series: pl.Series) -> float:
    """A float column's sum (polars types it as any scalar)."""
    return cast(float, series.sum())


def unit_economics(frame: pl.DataFrame) -> pl.DataFrame:
    """Cost and value per 1,000 predictions, value/cost ratio and net value, for rows of
    ``cost``, ``value`` and ``predictions``."""
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



@dataclass(frozen=True, eq=False)
class CostResult:
    """Allocation, unit economics, budget burn and anomalies.

    Frames: ``models`` (the month per model: the headline), ``versions`` (the month per model
    and version), ``weekly``/``monthly`` (per model and version), ``daily``, ``allocated``,
    ``unallocated``, ``budget``, ``burndown``, ``anomalies`` (flagged days), ``anomaly_scores``
    (every service-day), ``stages`` (cost per day and stage, unallocated included).
    The month runs from its first day to ``as_of`` (the last day with data, or as given).
    """

    items: pl.DataFrame            # line items summed per date, service, tags (and currency)
    allocated: pl.DataFrame        # date, model, version, stage, source, cost
    unallocated: pl.DataFrame      # date, kind, stage, cost
    daily: pl.DataFrame            # date, model, version, cost, predictions, value
    weekly: pl.DataFrame
    monthly: pl.DataFrame
    budget: pl.DataFrame
    burndown: pl.DataFrame
    anomaly_scores: pl.DataFrame
    month: str
    as_of: date
    currency: str
    rules: AllocationRules
    methods: Methods
    line_items: int
    source: str
    focus_version: str | None = None  # the FOCUS version the ledger's columns look like
    warnings: tuple[str, ...] = ()   # one line each: inputs that parse but look mistaken

    # --- frames -------------------------------------------------------------------------
    @property
    def month_start(self) -> date:
        return date(int(self.month[:4]), int(self.month[5:7]), 1)

    @property
    def month_end(self) -> date:
        y, m = int(self.month[:4]), int(self.month[5:7])
        return date(y, m, calendar.monthrange(y, m)[1])

    def _in_month(self, frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(pl.col("date").is_between(self.month_start, self.as_of))

    @cached_property
    def versions(self) -> pl.DataFrame:
        out = self._in_month(self.daily).group_by("model", "version").agg(
            pl.col("cost").sum(), pl.col("value").sum(), pl.col("predictions").sum().cast(pl.Int64))
        return unit_economics(out).sort("model", "version")

    @cached_property
    def models(self) -> pl.DataFrame:
        out = self._in_month(self.daily).group_by("model").agg(
            pl.col("cost").sum(), pl.col("value").sum(), pl.col("predictions").sum().cast(pl.Int64))
        out = unit_economics(out).join(
            self.budget.select("model", "budget", "forecast_cost", "budget_burn_pct",
                               "forecast_vs_budget_pct", "on_budget"), on="model", how="full",
            coalesce=True)
        return out.with_columns(pl.col("cost", "value").fill_null(0.0),
                                (pl.col("value_cost_ratio") >= 1).alias("worth_it")).sort("model")

    @cached_property
    def anomalies(self) -> pl.DataFrame:
        return self.anomaly_scores.filter(pl.col("flagged")).sort("date", "service")

    @cached_property
    def stages(self) -> pl.DataFrame:
        alloc = self.allocated.group_by("date", "stage").agg(pl.col("cost").sum())
        unalloc = self.unallocated.select("date", pl.concat_str(
            pl.col("stage"), pl.lit(" ("), pl.col("kind"), pl.lit(")")).alias("stage"), "cost")
        return pl.concat([alloc, unalloc]).group_by("date", "stage").agg(
            pl.col("cost").sum()).sort("date", "stage")

    @cached_property
    def allocation(self) -> dict[str, Any]:
        """The month's allocation summary (shares are fractions of the net total cost)."""
        items = self._in_month(self.items)
        total = _sum(items["cost"])
        tagged = _sum(items.filter(pl.col("tag_model").is_not_null() & (pl.col("tag_model") != "")
                                   & pl.col("tag_stage").is_not_null())["cost"])
        unalloc = _sum(self._in_month(self.unallocated)["cost"])
        by_kind = {k: _sum(items.filter(pl.col("kind") == k)["cost"])
                   for k in ("model", "shared", "untagged")}
        credits = _sum(items["credits"])
        return {
            "total_cost": total, "allocated_cost": total - unalloc, "unallocated_cost": unalloc,
            "unallocated_share": unalloc / total if total else None,
            "tag_coverage": tagged / total if total else None,
            "model_tagged_cost": by_kind["model"], "shared_cost": by_kind["shared"],
            "untagged_cost": by_kind["untagged"], "credits": credits,
        }

    @cached_property
    def charge_categories(self) -> pl.DataFrame:
        """The month's cost and line items per FOCUS ChargeCategory (Usage, Purchase, Tax,
        Credit, Adjustment)."""
        items = self._in_month(self.items)
        return (items.group_by("ChargeCategory").agg(
                    pl.col("cost").sum(), pl.col("items").sum().alias("line_items"))
                .rename({"ChargeCategory": "charge_category"}).sort("charge_category"))

    @cached_property
    def stage_totals(self) -> pl.DataFrame:
        """The month's cost per lifecycle stage, unallocated cost as its own rows."""
        return (self._in_month(self.stages).group_by("stage").agg(pl.col("cost").sum())
                .sort("stage"))

    @cached_property
    def split_allocation(self) -> dict[str, float | int]:
        """FOCUS 1.3 split cost allocation: line items whose AllocatedTags were used, in the
        month, and their cost."""
        items = self._in_month(self.items)
        split = items.filter(pl.col("split_items") > 0)
        return {"line_items": int(items["split_items"].sum()),
                "cost": float(split["cost"].sum()) if split.height else 0.0}

    def frames(self) -> dict[str, pl.DataFrame]:
        return {"models": self.models, "versions": self.versions, "weekly": self.weekly,
                "monthly": self.monthly, "daily": self.daily, "allocated": self.allocated,
                "unallocated": self.unallocated, "budget": self.budget, "burndown": self.burndown,
                "anomalies": self.anomalies, "anomaly_scores": self.anomaly_scores,
                "stages": self.stages, "charge_categories": self.charge_categories,
                "stage_totals": self.stage_totals}

    def frame(self) -> pl.DataFrame:
        """The headline frame: the month per model."""
        return self.models

    # --- findings -----------------------------------------------------------------------
    @cached_property
    def metrics(self) -> dict[str, float | int | bool | None]:
        alloc = self.allocation
        models = self.models
        out: dict[str, Any] = {
            "total_cost": alloc["total_cost"],
            "allocated_cost": alloc["allocated_cost"],
            "total_value": _sum(models["value"]),
            "net_value": _sum(models["value"]) - alloc["total_cost"],
            "unallocated_share": alloc["unallocated_share"],
            "tag_coverage": alloc["tag_coverage"],
            "credits": alloc["credits"],
            "anomalies_count": self.anomalies.height,
            "anomalies_in_month": self._in_month(self.anomalies).height,
            "models_not_worth_cost": models.filter(pl.col("worth_it").not_()).height,
            "models_over_budget": models.filter(pl.col("on_budget").not_()).height,
            "models_over_budget_to_date": models.filter(pl.col("budget_burn_pct") > 100).height,
            "line_items": self.line_items,
        }
        for row in models.iter_rows(named=True):
            for name in MODEL_METRICS:
                out[f"{name}.{row['model']}"] = row[name]
        return out

    @property
    def status(self) -> str:
        m = self.metrics
        if m["models_not_worth_cost"]:
            return "fail"
        if (m["models_over_budget"] or m["anomalies_in_month"]
                or (m["unallocated_share"] or 0) > 0.1):
            return "warn"
        return "ok"

    @property
    def headline(self) -> str:
        models = self.models
        label = f"{self.month_start:%B %Y}" + ("" if self.as_of == self.month_end
                                                else f" (to {self.as_of:%d %b})")
        losing = models.filter(pl.col("worth_it").not_())
        over = models.filter(pl.col("on_budget").not_())
        parts = []
        if losing.height:
            worst = ", ".join(f"{r['model']} (value/cost {r['value_cost_ratio']:.2f})"
                              if r["value_cost_ratio"] is not None else r["model"]
                              for r in losing.iter_rows(named=True))
            parts.append(f"value does not cover cost for {worst}")
        else:
            parts.append("every model earns more than it costs")
        if over.height:
            complete = self.as_of == self.month_end
            parts.append(("over budget: " if complete else "forecast over budget: ") + ", ".join(
                f"{r['model']} ({r['forecast_vs_budget_pct']:.0f}% of budget)"
                for r in over.iter_rows(named=True)))
        else:
            parts.append("every model is on budget")
        return f"{label}: " + "; ".join(parts) + "."

    def to_dict(self) -> dict[str, Any]:
        rules = self.rules
        return {
            "month": self.month, "as_of": self.as_of.isoformat(), "currency": self.currency,
            "source": self.source, "line_items": self.line_items,
            "status": self.status, "headline": self.headline, "metrics": self.metrics,
            "methods": self.methods.describe(),
            "rules": {"model_tag": rules.model_tag, "stage_tag": rules.stage_tag,
                      "version_tag": rules.version_tag, "shared_values": list(rules.shared_values),
                      "split_shared": rules.split_shared, "split_untagged": rules.split_untagged,
                      "cost_column": rules.cost_column},
            "allocation": self.allocation,
            "models": _records(self.models), "versions": _records(self.versions),
            "monthly": _records(self.monthly), "weekly": _records(self.weekly),
            "budget": _records(self.budget), "anomalies": _records(self.anomalies),
            "focus_version": self.focus_version, "warnings": list(self.warnings),
            "charge_categories": _records(self.charge_categories),
            "stages": _records(self.stage_totals), "split_allocation": self.split_allocation,
        }

    def findings(self, name: str | None = None, **context: Any) -> Findings:
        """The findings written under ``name`` (default ``cost_to_value``): ``to_dict()`` with
        its status, headline and metrics as the findings' own."""
        details = self.to_dict()
        status = details.pop("status")
        headline = details.pop("headline")
        metrics = details.pop("metrics")
        return Findings(name or NOTEBOOK, FINDINGS_STATUS.get(status, status), headline, metrics,
                        details, notebook=NOTEBOOK)

    # --- display (workbench.costs._render) ----------------------------------------------
    def model_callouts(self) -> list[tuple[str, str, str]]:
        """(title, body, status) per model, for ``render.callout``."""
        return _render.model_callouts(self)

    def models_table(self) -> render.HTML:
        return _render.models_table(self)

    def versions_table(self) -> render.HTML:
        return _render.versions_table(self)

    def budget_table(self) -> render.HTML:
        return _render.budget_table(self)

    def anomalies_table(self) -> render.HTML:
        return _render.anomalies_table(self)

    def allocation_table(self) -> render.HTML:
        return _render.allocation_table(self)

    def warnings_html(self) -> render.HTML:
        return _render.warnings_html(self)

    def source_html(self) -> render.HTML:
        return _render.source_html(self)

    def categories_table(self) -> render.HTML:
        return _render.categories_table(self)

    def stages_table(self) -> render.HTML:
        return _render.stages_table(self)

    def _repr_html_(self) -> str:
        return _render.result_html(self)

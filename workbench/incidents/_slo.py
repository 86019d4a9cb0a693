"""SLO definitions and the error-budget and burn-rate arithmetic over per-minute SLIs.

Conventions (stated once, used everywhere):

* An SLI row stamped ``t`` covers the minute ``[t, t + 1 min)``; alerts are evaluated at the
  end of each minute, so a window ending with row ``t`` is evaluated at ``t + 1 min``.
* Availability is request-based: error ratio = errors / requests; the error budget of a
  window is ``(1 - target) * requests in the window``.
* Latency is request-based when the SLIs count requests (``latency_total`` and
  ``latency_good``, the requests served within the threshold, e.g. from a Prometheus histogram
  bucket): the budget is ``(1 - target) * latency_total``, as OpenSLO and Sloth count it. Only
  SLIs that carry nothing but a percentile per minute (``latency_<percentile>_ms``) fall back
  to minutes: a minute is bad when that percentile exceeds the threshold.
* A burn-rate window is only evaluated when the SLIs cover all of it (a 6 h window over SLIs
  that start 2 h before is unknown, not a smaller burn); OpenSLO's ``alertAfter`` is the time
  the condition must hold before the alert fires.
* Burn rate over a window = (bad fraction in that window) / (1 - target): 1.0 spends the
  budget exactly over the SLO window. Multiwindow alerts (SRE workbook, ch. 5) fire when the
  burn rate over the long window AND over the short window are both at or above the
  threshold: 14.4 over 1 h and 5 min (2 % of a 30-day budget in an hour), 6 over 6 h and 30 min.
  Burn factors follow the SLO period: 2 % of a 28-day budget in an hour is 13.44x, 5 % in
  6 h is 5.6x (:func:`burn_factor`; Sloth's defaults).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator

MINUTE = timedelta(minutes=1)


def parse_minutes(text: str) -> int:
    """'5m' -> 5, '1h' -> 60, '2d' -> 2880."""
    units = {"m": 1, "h": 60, "d": 1440}
    t = str(text).strip().lower()
    if len(t) < 2 or t[-1] not in units or not t[:-1].isdigit() or int(t[:-1]) <= 0:
        raise ValueError("a duration like 5m, 1h or 6h")
    return int(t[:-1]) * units[t[-1]]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AvailabilitySLO(_Strict):
    target: float = Field(gt=0, lt=1)
    name: str = ""


class LatencySLO(_Strict):
    percentile: str = Field(default="p95", pattern=r"^p\d{1,2}(\.\d+)?$")
    threshold_ms: float = Field(gt=0)
    target: float = Field(gt=0, lt=1)
    name: str = ""

    @property
    def column(self) -> str:
        return f"latency_{self.percentile}_ms"


class BurnAlert(_Strict):
    name: str
    severity: str = "page"
    burn_rate: float = Field(gt=0)
    long_window: str
    short_window: str | None = None  # None: a single window (OpenSLO's lookbackWindow)
    alert_after: str | None = None  # OpenSLO: the condition must hold this long

    @field_validator("long_window", "short_window", "alert_after")
    @classmethod
    def _duration(cls, v: str | None) -> str | None:
        if v is not None:
            parse_minutes(v)
        return v


DEFAULT_ALERTS = (
    BurnAlert(
        name="page: 14.4x over 1h and 5m", burn_rate=14.4, long_window="1h", short_window="5m"
    ),
    BurnAlert(name="page: 6x over 6h and 30m", burn_rate=6.0, long_window="6h", short_window="30m"),
)


def burn_factor(budget_share: float, long_window: str, period_days: int) -> float:
    """The burn rate that spends ``budget_share`` of a ``period_days`` budget in ``long_window``.

    >>> round(burn_factor(0.02, "1h", 28), 2), round(burn_factor(0.05, "6h", 28), 2)
    (13.44, 5.6)
    """
    return budget_share * period_days * 1440 / parse_minutes(long_window)


class SLOSpec(_Strict):
    service: str = ""
    source: str = "workbench"  # the file's format: workbench, openslo or sloth
    window_days: int = Field(default=28, ge=1, le=366)
    availability: AvailabilitySLO
    latency: LatencySLO | None = None
    alerts: tuple[BurnAlert, ...] = DEFAULT_ALERTS


# --- arithmetic ------------------------------------------------------------------------


def error_budget(requests: float, target: float) -> float:
    """Allowed failures: ``(1 - target) * requests``. 1,000,000 requests at 99.5 % -> 5,000."""
    return (1.0 - target) * requests


def budget_pct(bad: float, budget: float) -> float | None:
    """``bad`` as a percentage of ``budget`` (None when there is no budget)."""
    return None if budget <= 0 else 100.0 * bad / budget


def burn_rate(bad: float, total: float, target: float) -> float:
    """(bad / total) / (1 - target); 0 when nothing was served."""
    return 0.0 if total <= 0 else (bad / total) / (1.0 - target)


def latency_mode(slis: pl.DataFrame, slo: SLOSpec) -> str | None:
    """``requests`` (SLIs count good and total requests), ``minutes`` (a percentile), None."""
    if slo.latency is None:
        return None
    if {"latency_good", "latency_total"} <= set(slis.columns):
        return "requests"
    return "minutes" if slo.latency.column in slis.columns else None


def with_bad_minutes(slis: pl.DataFrame, slo: SLOSpec) -> pl.DataFrame:
    """Add ``error_ratio``, ``lat_bad``/``lat_units`` (latency SLO) and ``out_of_slo``.

    ``lat_bad`` counts the latency SLO's bad units in the row and ``lat_units`` its units: slow
    and total requests when the SLIs count requests, else 0/1 and 1 (one minute).
    """
    out = slis.with_columns(
        pl.when(pl.col("requests") > 0)
        .then(pl.col("errors") / pl.col("requests"))
        .otherwise(0.0)
        .alias("error_ratio")
    )
    avail_bad = pl.col("error_ratio") > (1.0 - slo.availability.target)
    mode = latency_mode(out, slo)
    if mode is None:
        return out.with_columns(avail_bad.alias("out_of_slo"))
    lat = slo.latency
    assert lat is not None
    if mode == "requests":
        out = out.with_columns(
            (pl.col("latency_total") - pl.col("latency_good")).cast(pl.Float64).alias("lat_bad"),
            pl.col("latency_total").cast(pl.Float64).alias("lat_units"),
        )
    else:
        out = out.with_columns(
            (pl.col(lat.column) > lat.threshold_ms)
            .fill_null(False)
            .cast(pl.Float64)
            .alias("lat_bad"),
            pl.lit(1.0).alias("lat_units"),
        )
    lat_row_bad = pl.col("lat_bad") > (1.0 - lat.target) * pl.col("lat_units")
    return out.with_columns((avail_bad | lat_row_bad).alias("out_of_slo"))


def _windows(slo: SLOSpec) -> list[str]:
    names = {w for a in slo.alerts for w in (a.long_window, a.short_window) if w}
    return sorted(names, key=parse_minutes)


def burn_rates(slis: pl.DataFrame, slo: SLOSpec, windows: list[str] | None = None) -> pl.DataFrame:
    """Per-minute burn rates: columns ``at`` (evaluation time), ``avail_<w>`` and ``latency_<w>``.

    Windows are time-based (gaps in the series contribute nothing); a window that reaches
    before the first SLI row is not covered and its burn rate is null (unknown).
    """
    frame = with_bad_minutes(slis, slo)
    names = windows or _windows(slo)
    av = 1.0 - slo.availability.target
    first = frame["timestamp"].min()
    at = pl.col("timestamp") + MINUTE
    cols: list[pl.Expr] = [at.alias("at")]
    for w in names:
        size = f"{parse_minutes(w)}m"
        covered = (at - timedelta(minutes=parse_minutes(w))) >= pl.lit(first)
        req = pl.col("requests").cast(pl.Float64).rolling_sum_by("timestamp", size)
        err = pl.col("errors").cast(pl.Float64).rolling_sum_by("timestamp", size)
        rate = pl.when(req > 0).then(err / req / av).otherwise(0.0)
        cols.append(pl.when(covered).then(rate).otherwise(None).alias(f"avail_{w}"))
        if "lat_bad" in frame.columns:
            lat = 1.0 - slo.latency.target  # type: ignore[union-attr]
            units = pl.col("lat_units").rolling_sum_by("timestamp", size)
            bad = pl.col("lat_bad").rolling_sum_by("timestamp", size)
            lrate = pl.when(units > 0).then(bad / units / lat).otherwise(0.0)
            cols.append(pl.when(covered).then(lrate).otherwise(None).alias(f"latency_{w}"))
    return frame.select(cols)


@dataclass(frozen=True)
class AlertFiring:
    """When a multiwindow burn-rate alert would first have fired after ``since``."""

    alert: str
    sli: str
    burn_rate: float
    long_window: str
    short_window: str | None
    first_fired_at: datetime | None
    minutes_vs_detection: float | None  # negative: before the actual detection
    firing_minutes: int  # minutes firing in [since, until)
    alert_after: str | None = None
    unknown_minutes: int = 0  # minutes whose windows the SLIs did not cover

    @property
    def outcome(self) -> str:
        """``fires``, ``never`` (over a fully covered span) or ``unknown``."""
        if self.first_fired_at is not None:
            return "fires"
        return "unknown" if self.unknown_minutes else "never"

    def to_dict(self) -> dict[str, Any]:
        return {
            "alert": self.alert,
            "sli": self.sli,
            "burn_rate": self.burn_rate,
            "long_window": self.long_window,
            "short_window": self.short_window,
            "first_fired_at": self.first_fired_at,
            "minutes_vs_detection": self.minutes_vs_detection,
            "firing_minutes": self.firing_minutes,
            "alert_after": self.alert_after,
            "unknown_minutes": self.unknown_minutes,
            "outcome": self.outcome,
        }


def alert_firings(
    rates: pl.DataFrame,
    slo: SLOSpec,
    since: datetime,
    until: datetime,
    detected_at: datetime | None,
) -> list[AlertFiring]:
    """First firing of each alert (availability and, if defined, latency) in ``[since, until]``."""
    out = []
    in_span = (pl.col("at") > since) & (pl.col("at") <= until)
    span = rates.filter(in_span)
    for sli in ("avail", "latency"):
        for a in slo.alerts:
            lc = f"{sli}_{a.long_window}"
            sc = f"{sli}_{a.short_window}" if a.short_window else lc
            if lc not in rates.columns or sc not in rates.columns:
                continue
            cond = ((pl.col(lc) >= a.burn_rate) & (pl.col(sc) >= a.burn_rate)).fill_null(False)
            held = rates.with_columns(cond.cast(pl.Int8).alias("_c"))
            if a.alert_after:
                # Like Prometheus's ``for``: true at every evaluation from t - alert_after to t.
                size = f"{parse_minutes(a.alert_after) + 1}m"
                held = held.with_columns(pl.col("_c").rolling_min_by("at", size).alias("_c"))
            firing = held.filter(in_span & (pl.col("_c") == 1))
            unknown = span.filter(pl.col(lc).is_null() | pl.col(sc).is_null()).height
            first = firing["at"][0] if firing.height else None
            delta = None
            if first is not None and detected_at is not None:
                delta = (first - detected_at).total_seconds() / 60.0
            out.append(
                AlertFiring(
                    a.name,
                    "availability" if sli == "avail" else "latency",
                    a.burn_rate,
                    a.long_window,
                    a.short_window,
                    first,
                    delta,
                    firing.height,
                    a.alert_after,
                    unknown,
                )
            )
    return out

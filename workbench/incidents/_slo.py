"""SLO definitions and the error-budget and burn-rate arithmetic over per-minute SLIs.

Conventions (stated once, used everywhere):

* An SLI row stamped ``t`` covers the minute ``[t, t + 1 min)``; alerts are evaluated at the
  end of each minute, so a window ending with row ``t`` is evaluated at ``t + 1 min``.
* Availability is request-based: error ratio = errors / requests; the error budget of a
  window is ``(1 - target) * requests in the window``.
* Latency is minute-based: a minute is bad when its ``latency_<percentile>_ms`` exceeds the
  threshold; the budget is ``(1 - target) * minutes in the window``.
* Burn rate over a window = (bad fraction in that window) / (1 - target): 1.0 spends the
  budget exactly over the SLO window. Multiwindow alerts (SRE workbook, ch. 5) fire when the
  burn rate over the long window AND over the short window are both at or above the
  threshold: 14.4 over 1 h and 5 min (2 % of a 30-day budget in an hour), 6 over 6 h and 30 min.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from workbench import io
from workbench.errors import input_error

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


class LatencySLO(_Strict):
    percentile: str = Field(default="p95", pattern=r"^p\d{1,2}(\.\d+)?$")
    threshold_ms: float = Field(gt=0)
    target: float = Field(gt=0, lt=1)

    @property
    def column(self) -> str:
        return f"latency_{self.percentile}_ms"


class BurnAlert(_Strict):
    name: str
    severity: str = "page"
    burn_rate: float = Field(gt=0)
    long_window: str
    short_window: str

    @field_validator("long_window", "short_window")
    @classmethod
    def _duration(cls, v: str) -> str:
        parse_minutes(v)
        return v


DEFAULT_ALERTS = (
    BurnAlert(
        name="page: 14.4x over 1h and 5m", burn_rate=14.4, long_window="1h", short_window="5m"
    ),
    BurnAlert(name="page: 6x over 6h and 30m", burn_rate=6.0, long_window="6h", short_window="30m"),
)


class SLOSpec(_Strict):
    service: str = ""
    window_days: int = Field(default=28, ge=1, le=366)
    availability: AvailabilitySLO
    latency: LatencySLO | None = None
    alerts: tuple[BurnAlert, ...] = DEFAULT_ALERTS


def load_slos(path: str | os.PathLike[str]) -> SLOSpec:
    """Read SLO definitions; every problem named by field path in one InputError."""
    from workbench.incidents._record import RecordError, _expected, _path

    data = io.read_yaml(path)
    if not isinstance(data, dict):
        raise input_error(path, None, "a YAML mapping of SLO definitions", type(data).__name__)
    try:
        return SLOSpec.model_validate(data)
    except ValidationError as exc:
        problems = [f"{path}: {_path(e['loc'])}: expected {_expected(e)}" for e in exc.errors()]
        raise RecordError(
            f"{path}: {len(problems)} problem(s) in SLO definitions",
            problems=problems,
            file=str(path),
        ) from exc


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


def with_bad_minutes(slis: pl.DataFrame, slo: SLOSpec) -> pl.DataFrame:
    """Add ``error_ratio``, ``lat_bad`` (0/1, when a latency SLO is set) and ``out_of_slo``."""
    out = slis.with_columns(
        pl.when(pl.col("requests") > 0)
        .then(pl.col("errors") / pl.col("requests"))
        .otherwise(0.0)
        .alias("error_ratio")
    )
    avail_bad = pl.col("error_ratio") > (1.0 - slo.availability.target)
    if slo.latency is not None and slo.latency.column in out.columns:
        out = out.with_columns(
            (pl.col(slo.latency.column) > slo.latency.threshold_ms)
            .fill_null(False)
            .cast(pl.Int64)
            .alias("lat_bad")
        )
        return out.with_columns((avail_bad | (pl.col("lat_bad") == 1)).alias("out_of_slo"))
    return out.with_columns(avail_bad.alias("out_of_slo"))


def burn_rates(slis: pl.DataFrame, slo: SLOSpec, windows: list[str] | None = None) -> pl.DataFrame:
    """Per-minute burn rates: columns ``at`` (evaluation time), ``avail_<w>`` and ``latency_<w>``.

    Windows are time-based (gaps in the series simply contribute nothing).
    """
    frame = with_bad_minutes(slis, slo)
    names = windows or sorted(
        {w for a in slo.alerts for w in (a.long_window, a.short_window)}, key=parse_minutes
    )
    av = 1.0 - slo.availability.target
    cols: list[pl.Expr] = [(pl.col("timestamp") + MINUTE).alias("at")]
    for w in names:
        size = f"{parse_minutes(w)}m"
        req = pl.col("requests").cast(pl.Float64).rolling_sum_by("timestamp", size)
        err = pl.col("errors").cast(pl.Float64).rolling_sum_by("timestamp", size)
        cols.append(pl.when(req > 0).then(err / req / av).otherwise(0.0).alias(f"avail_{w}"))
        if "lat_bad" in frame.columns:
            lat = 1.0 - slo.latency.target  # type: ignore[union-attr]
            frac = pl.col("lat_bad").cast(pl.Float64).rolling_mean_by("timestamp", size)
            cols.append((frac / lat).alias(f"latency_{w}"))
    return frame.select(cols)


@dataclass(frozen=True)
class AlertFiring:
    """When a multiwindow burn-rate alert would first have fired after ``since``."""

    alert: str
    sli: str
    burn_rate: float
    long_window: str
    short_window: str
    first_fired_at: datetime | None
    minutes_vs_detection: float | None  # negative: before the actual detection
    firing_minutes: int  # minutes firing in [since, until)

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
    span = rates.filter((pl.col("at") > since) & (pl.col("at") <= until))
    for sli in ("avail", "latency"):
        for a in slo.alerts:
            lc, sc = f"{sli}_{a.long_window}", f"{sli}_{a.short_window}"
            if lc not in span.columns or sc not in span.columns:
                continue
            firing = span.filter((pl.col(lc) >= a.burn_rate) & (pl.col(sc) >= a.burn_rate))
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
                )
            )
    return out

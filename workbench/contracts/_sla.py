"""Executed service levels: a contract's ``slaProperties`` measured on the data and a
delivery log, each with its attainment over a window, or "not run" with the reason.

Property names are matched case-insensitively; values take ODCS units (``ms``, ``s``,
``min``/``m``, ``h``, ``d``, ``w``, ``mo``, ``y``; or an ISO-8601 duration such as ``P1D``;
or a value with its unit, ``1h``; percentages as ``99.9`` with unit ``%``/``percent`` or
``"99.9%"``). What each needs and measures, over the window ending at ``as_of``:

* ``freshness``: the newest value of ``element``; passes when its age is below the value,
  as datacontract-cli (attainment: the share of the window's time it held);
* ``retention``: the oldest value of ``element``; passes when its age is below the value,
  as datacontract-cli (``m`` is months here, as there) (attainment: rows within it);
* ``latency``: ``element: t.event,t.arrival``, or the event time and the delivery log (a
  row arrives with the first successful delivery at or after its event time); passes when
  every row of the window arrived within the value (attainment: the share that did);
* ``frequency``: the log's successful deliveries, else the element's timestamps; passes
  when every period of that length in the window had an update (share of periods);
* ``timeOfAvailability``: the same updates; passes when each day's data came by the time
  of day ``value`` (``09:00``, ``06:00+01:00``) (share of days on time);
* ``availability``: the log; successful deliveries over deliveries at least the value
  (``99.5`` with unit ``%``); the error budget left is reported;
* ``errorRate``: the log; rows of failed deliveries over rows delivered at most the value;
  the error budget left is reported.

Anything else (``throughput``, ``timeToDetect``, ``timeToNotify``, ``timeToRepair``,
``generalAvailability``, ``endOfSupport``, ``endOfLife``, custom ones), or a property
missing what it needs (no timestamp column, no delivery log, a unit that is not a time), is
reported as ``not run`` with the reason: never a pass.

A delivery log is a CSV or JSON-lines file with one row per delivery: ``delivered_at``
(a timestamp), ``rows`` (an integer) and ``success`` (true/false).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import polars as pl

from workbench import io, render
from workbench.contracts._model import Contract, column_name, load_contract, schema_name
from workbench.errors import InputError, input_error

WINDOW = "28d"
DELIVERY_COLUMNS = ("delivered_at", "rows", "success")

_UNITS = {"ms": 0.001, "s": 1, "sec": 1, "second": 1, "seconds": 1, "m": 60, "min": 60,
          "minute": 60, "minutes": 60, "h": 3600, "hr": 3600, "hour": 3600, "hours": 3600,
          "d": 86400, "day": 86400, "days": 86400, "w": 604800, "week": 604800,
          "weeks": 604800, "mo": 2592000, "month": 2592000, "months": 2592000,
          "y": 31536000, "yr": 31536000, "year": 31536000, "years": 31536000}
_ISO = re.compile(r"P(?=\d|T\d)(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?"
                  r"(?:(\d+(?:\.\d+)?)D)?(?:T(?=\d)(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?"
                  r"(?:(\d+(?:\.\d+)?)S)?)?")
_ISO_SECONDS = (31536000, 2592000, 604800, 86400, 3600, 60, 1)
_WITH_UNIT = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]+)\s*$")
NOT_EXECUTED = {
    "throughput": "throughput needs the volume a consumer can read per unit of time, which "
                  "neither the data nor a delivery log records",
    "timetodetect": "time to detect needs incident records (when a problem began and when it "
                    "was detected)",
    "timetonotify": "time to notify needs incident records (when consumers were told)",
    "timetorepair": "time to repair needs incident records (when a problem was fixed)",
    "generalavailability": "a date the product became available, not a level data can meet",
    "endofsupport": "a date support ends, not a level data can meet",
    "endoflife": "a date the product ends, not a level data can meet",
}


@dataclass(frozen=True)
class SlaLevel:
    """One service level and how the data met it. ``status``: pass, fail or not run."""

    property: str
    path: str
    schema: str | None
    element: str | None
    target: str
    status: str
    observed: Any
    attainment: float | None
    budget_left: float | None
    reason: str
    driver: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"property": self.property, "path": self.path, "schema": self.schema,
                "element": self.element, "target": self.target, "status": self.status,
                "observed": self.observed, "attainment": self.attainment,
                "budget_left": self.budget_left, "reason": self.reason}


@dataclass(frozen=True)
class SlaResult:
    """Every service level of a contract over ``window`` ending at ``as_of``."""

    contract: str
    as_of: datetime
    window_seconds: float
    levels: tuple[SlaLevel, ...] = field(default_factory=tuple)

    @property
    def status(self) -> str:
        """fail when a level failed; unknown when one could not run; pass when all passed;
        info when the contract declares none."""
        if not self.levels:
            return "info"
        if any(level.status == "fail" for level in self.levels):
            return "fail"
        if any(level.status == "not run" for level in self.levels):
            return "unknown"
        return "pass"

    @property
    def headline(self) -> str:
        if not self.levels:
            return "The contract declares no service levels."
        n = {s: sum(lv.status == s for lv in self.levels) for s in ("pass", "fail", "not run")}
        days = self.window_seconds / 86400
        return (f"{n['pass']} of {len(self.levels)} service levels met over {days:g} days, "
                f"{n['fail']} missed, {n['not run']} not run.")

    @property
    def metrics(self) -> dict[str, Any]:
        out: dict[str, Any] = {"sla_total": len(self.levels),
                               "sla_passed": sum(lv.status == "pass" for lv in self.levels),
                               "sla_failed": sum(lv.status == "fail" for lv in self.levels),
                               "sla_not_run": sum(lv.status == "not run" for lv in self.levels)}
        for lv in self.levels:
            key = lv.property.lower()
            if lv.attainment is not None and f"sla_attainment.{key}" not in out:
                out[f"sla_attainment.{key}"] = lv.attainment
            if lv.budget_left is not None and f"sla_budget_left.{key}" not in out:
                out[f"sla_budget_left.{key}"] = lv.budget_left
        return out

    def frame(self) -> pl.DataFrame:
        rows = [lv.to_dict() for lv in self.levels]
        schema = {"property": pl.String, "path": pl.String, "schema": pl.String,
                  "element": pl.String, "target": pl.String, "status": pl.String,
                  "observed": pl.String, "attainment": pl.Float64, "budget_left": pl.Float64,
                  "reason": pl.String}
        for r in rows:
            r["observed"] = None if r["observed"] is None else render.fmt(r["observed"])
        return pl.DataFrame(rows, schema=schema)

    def to_dict(self) -> dict[str, Any]:
        return {"contract": self.contract, "as_of": self.as_of.isoformat(),
                "window_days": self.window_seconds / 86400, "status": self.status,
                "levels": [lv.to_dict() for lv in self.levels]}

    def _repr_html_(self) -> str:
        rows = [{"service level": lv.property, "target": lv.target, "status": lv.status,
                 "attainment": None if lv.attainment is None else render.pct(lv.attainment),
                 "error budget left": None if lv.budget_left is None
                 else render.pct(lv.budget_left),
                 "why": lv.reason} for lv in self.levels]
        return (f"<p>{render.escape(self.headline)}</p>"
                + render.html_table(rows, caption="Service levels", max_rows=len(rows) or 1))


# --- entry point ---

DataLike = str | os.PathLike[str] | pl.LazyFrame | pl.DataFrame


def service_levels(contract: Contract | str | os.PathLike[str],
                   data: DataLike | Mapping[str, DataLike] | None = None, *,
                   deliveries: str | os.PathLike[str] | pl.DataFrame | None = None,
                   as_of: datetime | str | None = None, window: str | float = WINDOW,
                   schema: str | None = None, skip: tuple[str, ...] = (),
                   unavailable: str | None = None) -> SlaResult:
    """Measure every ``slaProperties`` entry (those that apply to ``schema`` when given;
    ``skip`` leaves out properties, lower-case, that the caller checks itself;
    ``unavailable``: why no level can be measured here, each then reported not run)."""
    if not isinstance(contract, Contract):
        contract = load_contract(contract)
    now = _instant(as_of)
    span = window if isinstance(window, int | float) else _duration(str(window), None, "window")
    if span is None or span <= 0:
        raise input_error("window", None, "a duration such as 28d", window)
    log = _deliveries(deliveries) if deliveries is not None else None
    frames: dict[str, pl.LazyFrame | None] = {}
    levels = []
    for k, sla in enumerate(contract.odcs.slaProperties or []):
        name = (sla.property or "").strip()
        if name.lower() in skip:
            continue
        target = _target_schema(contract, sla.element)
        if schema is not None and target != schema and (
                target is not None or schema != contract.schema_names[0]):
            continue  # another object's level (one naming none goes with the first object)
        sname = target or schema or next(iter(contract.schema_names), None)
        ctx = _Context(contract, sname, data, frames, log, now, float(span), unavailable)
        levels.append(_measure(ctx, sla, f"slaProperties[{k}]"))
    return SlaResult(contract=contract.id, as_of=now, window_seconds=float(span),
                     levels=tuple(levels))


@dataclass
class _Context:
    contract: Contract
    schema: str | None
    data: Any
    frames: dict[str, pl.LazyFrame | None]
    log: pl.DataFrame | None
    as_of: datetime
    window: float
    unavailable: str | None = None

    @property
    def start(self) -> datetime:
        return self.as_of - timedelta(seconds=self.window)

    def frame(self) -> pl.LazyFrame | None:
        if self.schema is None:
            return None
        if self.schema not in self.frames:
            self.frames[self.schema] = _open(self.contract, self.schema, self.data)
        return self.frames[self.schema]


def _measure(ctx: _Context, sla: Any, path: str) -> SlaLevel:
    name = (sla.property or "").strip()
    key = name.lower()
    target = _target_text(sla)
    common = dict(property=name, path=path, schema=ctx.schema, element=sla.element,
                  target=target, driver=sla.driver)

    def not_run(reason: str) -> SlaLevel:
        return SlaLevel(status="not run", observed=None, attainment=None, budget_left=None,
                        reason=f"not run: {reason}", **common)

    if key in NOT_EXECUTED:
        return not_run(NOT_EXECUTED[key])
    if ctx.unavailable:
        return not_run(ctx.unavailable)
    measure = _MEASURES.get(key)
    if measure is None:
        return not_run(f"{name!r} is not an ODCS service level workbench can execute")
    try:
        status, observed, attainment, budget, reason = measure(ctx, sla)
    except _NotRun as exc:
        return not_run(str(exc))
    return SlaLevel(status=status, observed=observed, attainment=attainment, budget_left=budget,
                    reason=reason, **common)


class _NotRun(Exception):
    """What a level needs and was not given."""


_RULES = {"freshness": "freshness", "retention": "retention", "latency": "latency",
          "frequency": "frequency", "timeofavailability": "timeOfAvailability",
          "availability": "availability", "errorrate": "errorRate"}


def as_checks(result: SlaResult) -> list[dict[str, Any]]:
    """The levels as ``contract check`` rows: an executed level is an error-severity check;
    one that could not run is an info check that did not pass (never a pass)."""
    out: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for lv in result.levels:
        rule = _RULES.get(lv.property.lower(), lv.property)
        base = f"{lv.schema}.sla.{rule}"
        seen[base] = seen.get(base, 0) + 1
        check_id = base if seen[base] == 1 else f"{base}_{seen[base]}"
        executed = lv.status != "not run"
        column = None
        if lv.element and "," not in lv.element:
            column = lv.element.rpartition(".")[2]
        out.append(dict(
            id=check_id, schema=lv.schema or "", column=column, rule=rule,
            severity="error" if executed else "info", dimension="timeliness",
            expected={"target": lv.target, "window_days": result.window_seconds / 86400},
            description=lv.reason, failed_rows=None,
            observed=lv.observed if executed else lv.reason, passed=lv.status == "pass",
            first_failed_at=None, last_failed_at=None, samples=(), worst=None))
    return out


# --- the measures ---

def _freshness(ctx: _Context, sla: Any) -> tuple:
    limit = _limit(sla, "freshness")
    ts = _timestamps(ctx, sla, "freshness")
    newest = _utc(ts.max())
    if newest is None:
        return "fail", None, 0.0, None, "no timestamp in the data"
    age = (ctx.as_of - newest).total_seconds()
    attainment = _fresh_share(ts, ctx, limit)
    ok = age < limit
    return ("pass" if ok else "fail", {"newest": newest.isoformat(), "age_seconds": age},
            attainment, None, f"newest value is {_human(age)} old (limit {_human(limit)})")


def _retention(ctx: _Context, sla: Any) -> tuple:
    limit = _limit(sla, "retention")
    ts = _timestamps(ctx, sla, "retention")
    oldest = _utc(ts.min())
    if oldest is None:
        return "fail", None, None, None, "no timestamp in the data"
    age = (ctx.as_of - oldest).total_seconds()
    cutoff = ctx.as_of - timedelta(seconds=limit)
    beyond = int((ts < cutoff).sum())
    share = 1 - beyond / ts.len() if ts.len() else None
    ok = age < limit
    text = (f"oldest value is {_human(age)} old (kept at most {_human(limit)}); "
            f"{beyond:,} rows are older than that")
    return ("pass" if ok else "fail", {"oldest": oldest.isoformat(), "age_seconds": age,
                                       "rows_beyond": beyond}, share, None, text)


def _latency(ctx: _Context, sla: Any) -> tuple:
    limit = _limit(sla, "latency")
    parts = [p.strip() for p in str(sla.element or "").split(",") if p.strip()]
    lf = ctx.frame()
    if lf is None:
        raise _NotRun("no data for the schema object")
    if len(parts) >= 2:
        event, arrival = (_column(ctx, p) for p in parts[:2])
        frame = lf.select(_as_time(event, lf).alias("e"), _as_time(arrival, lf).alias("a")
                          ).drop_nulls().collect()
        frame = frame.filter((pl.col("a") > ctx.start) & (pl.col("a") <= ctx.as_of))
        source = f"{parts[1]} - {parts[0]}"
    elif ctx.log is not None:
        event = _column(ctx, parts[0]) if parts else _default_time(ctx, "latency")
        ok_log = ctx.log.filter(pl.col("success")).select(pl.col("delivered_at").alias("a"))
        events = lf.select(_as_time(event, lf).alias("e")).drop_nulls().collect().sort("e")
        frame = events.join_asof(ok_log.sort("a"), left_on="e", right_on="a",
                                 strategy="forward")
        undelivered = frame["a"].null_count()
        frame = frame.drop_nulls().filter((pl.col("a") > ctx.start) & (pl.col("a") <= ctx.as_of))
        source = f"delivery time - {event}" + (
            f" ({undelivered:,} rows after the last delivery not counted)" if undelivered else "")
    else:
        raise _NotRun("latency needs when each row arrived: an element naming the event and "
                      "arrival columns (table.event,table.arrival) or a delivery log")
    if frame.height == 0:
        raise _NotRun(f"no row arrived in the window ({source})")
    lag = (frame["a"] - frame["e"]).dt.total_microseconds() / 1e6
    within = _number((lag <= limit).mean())
    worst = _number(lag.max())
    ok = worst <= limit
    return ("pass" if ok else "fail", {"max_seconds": worst, "p95_seconds": float(
        lag.quantile(0.95) or 0), "rows": frame.height}, within, None,
        f"slowest row took {_human(worst)} ({source}); limit {_human(limit)}")


def _frequency(ctx: _Context, sla: Any) -> tuple:
    period = _limit(sla, "frequency")
    times, source = _updates(ctx, sla, "frequency")
    n = max(1, math.floor(ctx.window / period))
    # period k holds the updates in (as_of - (k+1) period, as_of - k period]
    age = (pl.lit(ctx.as_of) - pl.col("t")).dt.total_microseconds() / 1e6
    hit = (pl.DataFrame({"t": times}).filter(pl.col("t") <= ctx.as_of)
           .select(((age - 1e-6) // period).cast(pl.Int64).alias("k"))
           .filter((pl.col("k") >= 0) & (pl.col("k") < n))["k"].n_unique())
    missed = n - hit
    return ("pass" if missed == 0 else "fail", {"periods": n, "periods_missed": missed},
            hit / n, None, f"{hit} of the last {n} periods of {_human(period)} had an "
                           f"update ({source})")


def _time_of_availability(ctx: _Context, sla: Any) -> tuple:
    deadline, tz = _time_of_day(sla.value)
    times, source = _updates(ctx, sla, "timeOfAvailability")
    first = ctx.start.astimezone(tz)  # days that begin inside the window
    day = first.date() + timedelta(days=0 if first.timetz().replace(tzinfo=None) == time(0)
                                   else 1)
    days = []
    while datetime.combine(day, deadline, tzinfo=tz) <= ctx.as_of:
        days.append(day)
        day += timedelta(days=1)
    if not days:
        raise _NotRun("the window holds no whole day")
    offset = tz.utcoffset(None) or timedelta(0)
    local = (pl.DataFrame({"t": times}).select(
        (pl.col("t").dt.replace_time_zone(None) + offset).alias("t")))
    on_time_days = set(local.filter(pl.col("t").dt.time() <= deadline)
                       .select(pl.col("t").dt.date().unique())["t"].to_list())
    on_time = sum(d in on_time_days for d in days)
    late = len(days) - on_time
    return ("pass" if late == 0 else "fail", {"days": len(days), "days_late": late},
            on_time / len(days), None,
            f"data was available by {sla.value} on {on_time} of {len(days)} days ({source})")


def _availability(ctx: _Context, sla: Any) -> tuple:
    target = _share(sla, "availability")
    log = _window_log(ctx, "availability")
    ok_share = _number(log["success"].mean())
    allowed = 1 - target
    used = 1 - ok_share
    budget = (1 - used / allowed) if allowed > 0 else (1.0 if used == 0 else -math.inf)
    failed = int((~log["success"]).sum())
    return ("pass" if ok_share >= target else "fail",
            {"deliveries": log.height, "failed": failed}, ok_share, _finite(budget),
            f"{log.height - failed:,} of {log.height:,} deliveries succeeded "
            f"(target {target:.3%})")


def _error_rate(ctx: _Context, sla: Any) -> tuple:
    target = _share(sla, "errorRate")
    log = _window_log(ctx, "errorRate")
    total = int(log["rows"].sum())
    if total == 0:
        raise _NotRun("the delivery log has no rows in the window")
    bad = int(log.filter(~pl.col("success"))["rows"].sum())
    rate = bad / total
    budget = (1 - rate / target) if target > 0 else (1.0 if rate == 0 else -math.inf)
    return ("pass" if rate <= target else "fail", {"rows": total, "failed_rows": bad},
            1 - rate, _finite(budget),
            f"{bad:,} of {total:,} delivered rows came in failed deliveries "
            f"({rate:.3%}; target at most {target:.3%})")


_MEASURES = {"freshness": _freshness, "retention": _retention, "latency": _latency,
             "frequency": _frequency, "timeofavailability": _time_of_availability,
             "availability": _availability, "errorrate": _error_rate}


# --- data ---

def _open(contract: Contract, sname: str, data: Any) -> pl.LazyFrame | None:
    if isinstance(data, Mapping):
        data = data.get(sname)
    if isinstance(data, pl.DataFrame):
        return data.lazy()
    if isinstance(data, pl.LazyFrame):
        return data
    if data is None:
        path = contract.data_path(sname)
        if path is None:
            return None
        server = contract.server(sname)
        return io.scan(path, io.table_format(path, server.format if server else None))
    return io.scan(str(data))


def _target_schema(contract: Contract, element: str | None) -> str | None:
    first = str(element or "").split(",")[0].strip()
    table = first.rpartition(".")[0]
    if not table:
        return None
    for i, obj in enumerate(contract.odcs.schema_ or []):
        if table in {obj.name, obj.physicalName}:
            return schema_name(obj, i)
    return None


def _column(ctx: _Context, element: str) -> str:
    name = element.rpartition(".")[2]
    obj = ctx.contract.schema(ctx.schema)
    for p in obj.properties or []:
        if name in {p.name, p.physicalName}:
            return column_name(p)
    raise _NotRun(f"element {element!r} names no declared column")


def _default_time(ctx: _Context, what: str) -> str:
    obj = ctx.contract.schema(ctx.schema)
    for wanted in ("timestamp", "date"):
        for p in obj.properties or []:
            if p.logicalType == wanted:
                return column_name(p)
    raise _NotRun(f"{what} needs a timestamp: give element: table.column, or declare a "
                  "timestamp column")


def _as_time(col: str, lf: pl.LazyFrame) -> pl.Expr:
    """``col`` as UTC timestamps (naive ones are read as UTC, as datacontract-cli does)."""
    dtype = lf.collect_schema().get(col)
    if dtype is None:
        raise _NotRun(f"the data has no column {col!r}")
    expr = pl.col(col)
    if dtype == pl.String:
        expr = expr.str.to_datetime(strict=False, time_zone="UTC")
    elif dtype == pl.Date:
        expr = expr.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    elif isinstance(dtype, pl.Datetime):
        expr = (expr.dt.convert_time_zone("UTC") if dtype.time_zone
                else expr.dt.replace_time_zone("UTC"))
    else:
        raise _NotRun(f"column {col!r} holds {dtype}, not timestamps")
    return expr.dt.cast_time_unit("us")


def _timestamps(ctx: _Context, sla: Any, what: str) -> pl.Series:
    lf = ctx.frame()
    if lf is None:
        raise _NotRun("no data for the schema object (no server path and no DATA)")
    parts = [p.strip() for p in str(sla.element or "").split(",") if p.strip()]
    col = _column(ctx, parts[0]) if parts else _default_time(ctx, what)
    try:
        return lf.select(_as_time(col, lf).alias("t")).collect(engine="streaming")[
            "t"].drop_nulls()
    except _NotRun:
        raise
    except Exception as exc:
        raise InputError(f"{col}: expected timestamps the service levels can read: "
                         f"{str(exc).splitlines()[0][:200]}") from exc


def _updates(ctx: _Context, sla: Any, what: str) -> tuple[pl.Series, str]:
    """When the data was updated (UTC, distinct, sorted): the log's successful deliveries,
    else the timestamps of the element."""
    if ctx.log is not None:
        times = ctx.log.filter(pl.col("success"))["delivered_at"]
        return times.unique().sort(), "delivery log"
    ts = _timestamps(ctx, sla, what).unique().sort()
    return ts, f"timestamps of {sla.element or 'the data'}"


def _deliveries(source: str | os.PathLike[str] | pl.DataFrame) -> pl.DataFrame:
    name = "<DataFrame>" if isinstance(source, pl.DataFrame) else str(source)
    frame = source if isinstance(source, pl.DataFrame) else io.read_table(str(source))
    missing = [c for c in DELIVERY_COLUMNS if c not in frame.columns]
    if missing:
        raise input_error(name, ", ".join(missing), "columns delivered_at (time), rows "
                          "(integer) and success (true/false)")
    try:
        at = frame["delivered_at"]
        if at.dtype == pl.String:
            at = at.str.to_datetime(strict=True, time_zone="UTC")
        elif isinstance(at.dtype, pl.Datetime):
            at = at if at.dtype.time_zone else at.dt.replace_time_zone("UTC")
        else:
            raise ValueError(f"got {at.dtype}")
        at = at.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    except Exception as exc:
        raise input_error(name, "delivered_at", "ISO timestamps", str(exc)[:80]) from exc
    ok = frame["success"]
    if ok.dtype != pl.Boolean:
        text = ok.cast(pl.String).str.to_lowercase().str.strip_chars()
        good = {"true", "1", "yes", "ok", "success", "succeeded"}
        bad = {"false", "0", "no", "failed", "failure", "error"}
        unknown = text.filter(~text.is_in(list(good | bad)) & text.is_not_null())
        if unknown.len():
            raise input_error(name, "success", "true or false", unknown[0])
        ok = text.is_in(list(good))
    rows = frame["rows"]
    if not rows.dtype.is_integer():
        raise input_error(name, "rows", "whole numbers of rows", str(rows.dtype))
    return pl.DataFrame({"delivered_at": at, "rows": rows, "success": ok}).drop_nulls(
        "delivered_at").sort("delivered_at")


def _window_log(ctx: _Context, what: str) -> pl.DataFrame:
    if ctx.log is None:
        raise _NotRun(f"{what} is measured on a delivery log (delivered_at, rows, success); "
                      "none was given")
    log = ctx.log.filter((pl.col("delivered_at") > ctx.start)
                         & (pl.col("delivered_at") <= ctx.as_of))
    if log.height == 0:
        raise _NotRun("the delivery log has no delivery in the window")
    return log


def _fresh_share(ts: pl.Series, ctx: _Context, limit: float) -> float:
    """Share of the window's time in which the newest value so far was younger than limit
    (stale stretches: from each value plus the limit to the next value)."""
    start, end = ctx.start, ctx.as_of
    pts = ts.filter(ts <= end).unique().sort()
    prior = pts.filter(pts <= start).tail(1)
    inside = pts.filter(pts > start)
    if prior.len() + inside.len() == 0:
        return 0.0
    stale = 0.0 if prior.len() else (inside[0] - start).total_seconds()
    seq = pl.concat([prior, inside])
    if not isinstance(seq.dtype, pl.Datetime):
        raise TypeError(f"expected timestamps, got {seq.dtype}")
    unit = seq.dtype.time_unit
    frame = pl.DataFrame({"a": seq}).with_columns(
        b=pl.col("a").shift(-1).fill_null(pl.lit(end).dt.cast_time_unit(unit)),
        lo=pl.max_horizontal(pl.col("a") + timedelta(seconds=limit),
                             pl.lit(start).dt.cast_time_unit(unit)))
    gaps = frame.select(((pl.col("b") - pl.col("lo")).dt.total_microseconds() / 1e6)
                        .clip(lower_bound=0).sum()).item()
    stale += float(gaps or 0)
    return max(0.0, 1 - stale / ctx.window)


# --- values and units ---

def _limit(sla: Any, what: str) -> float:
    value = sla.value
    seconds = _duration(value, sla.unit, what)
    if seconds is None:
        raise _NotRun(f"{value!r} {sla.unit or ''} is not a duration (a number with a time "
                      "unit: ms, s, min, h, d, w, mo, y; or ISO-8601 such as P1D)".replace(
                          "  ", " "))
    return seconds


def _duration(value: Any, unit: str | None, what: str) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        m = _ISO.fullmatch(text.upper())
        if m and text.upper().startswith("P"):
            return sum(float(a) * s for a, s in zip(m.groups(), _ISO_SECONDS, strict=True) if a)
        m = _WITH_UNIT.match(text)
        if m:
            value, unit = float(m.group(1)), m.group(2)
        else:
            try:
                value = float(text)
            except ValueError:
                return None
    u = (unit or "d").strip().lower()
    if what == "retention" and u == "m":  # months, as datacontract-cli reads it here
        u = "mo"
    factor = _UNITS.get(u)
    return None if factor is None else float(value) * factor


def _share(sla: Any, what: str) -> float:
    value, unit = sla.value, (sla.unit or "").strip().lower()
    if isinstance(value, str) and value.strip().endswith("%"):
        value, unit = value.strip()[:-1], "%"
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise _NotRun(f"{what} {sla.value!r} is not a number") from exc
    if unit in {"%", "percent", "pct"} or (not unit and number > 1):
        number /= 100
    if not 0 <= number <= 1:
        raise _NotRun(f"{what} {sla.value!r} is not a share between 0 and 100%")
    return number


def _time_of_day(value: Any) -> tuple[time, timezone]:
    text = str(value).strip()
    m = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(Z|[+-]\d{2}:?\d{2})?", text)
    if not m:
        raise _NotRun(f"timeOfAvailability {value!r} is not a time of day such as 09:00 or "
                      "06:00+01:00")
    tz = UTC
    if m.group(4) and m.group(4) != "Z":
        sign = 1 if m.group(4)[0] == "+" else -1
        hh, mm = int(m.group(4)[1:3]), int(m.group(4)[-2:])
        tz = timezone(sign * timedelta(hours=hh, minutes=mm))
    return time(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)), tz


def _target_text(sla: Any) -> str:
    return f"{sla.value}{' ' + sla.unit if sla.unit else ''}"


def _instant(value: datetime | str | None) -> datetime:
    if value is None:
        return io.now("as_of: freshness and service levels measured from now")
    parsed = _utc(value)
    if parsed is None:
        raise input_error("as_of", None, "an ISO date-time such as 2026-11-02T00:00:00Z", value)
    return parsed


def _utc(value: Any) -> datetime | None:
    """A date, date-time or ISO string as an aware UTC-or-offset date-time (naive ones are
    taken as UTC); None for anything else."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        try:
            return _utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _number(x: object) -> float:
    """``float()`` of a polars aggregate, which polars types as any value: a number, or the
    TypeError ``float()`` raises on anything else."""
    if not isinstance(x, int | float):
        raise TypeError(f"expected a number, got {x!r}")
    return float(x)


def _human(seconds: float) -> str:
    s = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if s >= size:
            return f"{seconds / size:,.1f} {unit}"
    return f"{seconds * 1000:,.0f} ms"

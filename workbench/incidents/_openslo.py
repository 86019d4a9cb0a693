"""SLOs read directly from OpenSLO v1 and Sloth (``prometheus/v1``) files into :class:`SLOSpec`.

What is read, and how it maps:

* **OpenSLO v1** (one file, one or more ``---`` documents): ``kind: SLO`` documents with a
  ``ratioMetric`` indicator (inline ``indicator`` or ``indicatorRef`` to a ``kind: SLI``
  document), ``timeWindow[0].duration`` (``28d``, ``4w``) as the window, ``objectives[0].target``
  as the target, and ``alertPolicies`` (inline, by name, or ``alertPolicyRef``) whose
  ``burnrate`` conditions (``threshold``, ``lookbackWindow``, ``alertAfter``) become alerts:
  the burn rate over ``lookbackWindow`` must stay at or above ``threshold`` for ``alertAfter``.
* **Sloth**: each of ``slos`` with ``objective`` in percent; its page and ticket alerts are
  Sloth's multiwindow defaults, whose burn factors follow the SLO period (Sloth's
  ``--default-slo-period``, 30 days unless given): 2 % of the budget over 1 h / 5 min, 5 % over
  6 h / 30 min (page), 10 % over 1 d / 2 h and 3 d / 6 h (ticket), i.e. 13.44x and 5.6x for
  28 days, 14.4x and 6x for 30.

An SLO is a latency SLO when its queries select a histogram bucket (``le="0.3"``): the threshold
is that bucket's bound (seconds, or milliseconds when the metric name says ``_ms``/
``_milliseconds``) and it is counted per request. Any other ratio SLO is an availability SLO.
One availability SLO is required; the first latency SLO is used when there are several. The
alerts are the availability SLO's (OpenSLO: its alert policies, else the first SLO's that has
any) and are evaluated on both SLIs.
"""

from __future__ import annotations

import os
import re
from typing import Any

from pydantic import ValidationError

from workbench.errors import RecordError, input_error, pydantic_problems, summarize
from workbench.incidents._slo import (
    AvailabilitySLO,
    BurnAlert,
    LatencySLO,
    SLOSpec,
    burn_factor,
    parse_minutes,
)
from workbench.io import read_yaml_documents

# Sloth's default alert windows: (name, severity, budget share, long window, short window).
SLOTH_WINDOWS = (
    ("page (quick)", "page", 0.02, "1h", "5m"),
    ("page (slow)", "page", 0.05, "6h", "30m"),
    ("ticket (quick)", "ticket", 0.10, "1d", "2h"),
    ("ticket (slow)", "ticket", 0.10, "3d", "6h"),
)
_LE = re.compile(r"""\ble\s*=~?\s*["']([0-9.eE+-]+)["']""")


def window_days(text: str, file: object, field: str) -> int:
    """``28d`` -> 28, ``4w`` -> 28; anything else is refused by name."""
    m = re.fullmatch(r"\s*(\d+)\s*([dw])\s*", str(text))
    if not m:
        raise input_error(file, field, "a whole number of days or weeks like 28d or 4w", text)
    return int(m.group(1)) * (7 if m.group(2) == "w" else 1)


def _queries(node: Any) -> list[str]:
    """Every ``query`` string (or query-like string) anywhere under ``node``."""
    if isinstance(node, dict):
        return [
            q
            for k, v in node.items()
            for q in ([v] if k.endswith("query") and isinstance(v, str) else _queries(v))
        ]
    if isinstance(node, list):
        return [q for v in node for q in _queries(v)]
    return []


def latency_threshold_ms(queries: list[str]) -> float | None:
    """The histogram bound a latency SLI selects, in milliseconds; None: not a latency SLI."""
    for q in queries:
        m = _LE.search(q)
        if m and m.group(1) not in ("+Inf", "Inf"):
            scale = 1.0 if re.search(r"_(ms|milliseconds)_", q) else 1000.0
            return float(m.group(1)) * scale
    return None


def _objective(
    target: float, name: str, queries: list[str], file: object, field: str
) -> AvailabilitySLO | LatencySLO:
    if not 0 < target < 1:
        raise input_error(file, field, "a target between 0 and 1 (exclusive)", target)
    threshold = latency_threshold_ms(queries)
    if threshold is None:
        return AvailabilitySLO(target=target, name=name)
    return LatencySLO(threshold_ms=threshold, target=target, name=name)


def _pick(
    objs: list[tuple[str, AvailabilitySLO | LatencySLO]], file: object
) -> tuple[AvailabilitySLO, LatencySLO | None]:
    avail = [o for _, o in objs if isinstance(o, AvailabilitySLO)]
    lat = [o for _, o in objs if isinstance(o, LatencySLO)]
    if not avail:
        raise input_error(
            file,
            "slos",
            "an availability SLO (a ratio of good or bad requests without a histogram bucket)",
            f"{len(lat)} latency SLO(s) only",
        )
    return avail[0], (lat[0] if lat else None)


def from_sloth(doc: dict[str, Any], file: object, period_days: int | None = None) -> SLOSpec:
    """A Sloth ``prometheus/v1`` spec; ``period_days`` is Sloth's SLO period (default 30)."""
    period = period_days or 30
    slos = doc.get("slos")
    if not isinstance(slos, list) or not slos:
        raise input_error(file, "slos", "a list of SLOs")
    objs: list[tuple[str, AvailabilitySLO | LatencySLO]] = []
    alerts: list[BurnAlert] = []
    for i, s in enumerate(slos):
        where = f"slos[{i}]"
        if not isinstance(s, dict) or "objective" not in s:
            raise input_error(file, f"{where}.objective", "an objective in percent, e.g. 99.5")
        try:
            pct = float(s["objective"])
        except (TypeError, ValueError) as exc:
            raise input_error(
                file, f"{where}.objective", "a number in percent", s["objective"]
            ) from exc
        name = str(s.get("name", where))
        obj = _objective(pct / 100.0, name, _queries(s.get("sli", {})), file, f"{where}.objective")
        objs.append((name, obj))
        if i == 0 or (isinstance(obj, AvailabilitySLO) and not alerts):
            alerting = s.get("alerting") or {}
            alerts = []
            for label, sev, share, long_w, short_w in SLOTH_WINDOWS:
                key = "page_alert" if sev == "page" else "ticket_alert"
                if ((alerting.get(key) or {}).get("disable")) is True:
                    continue
                rate = round(burn_factor(share, long_w, period), 6)
                alerts.append(
                    BurnAlert(
                        name=f"{sev}: {rate:g}x over {long_w} and {short_w} ({label})",
                        severity=sev,
                        burn_rate=rate,
                        long_window=long_w,
                        short_window=short_w,
                    )
                )
    avail, lat = _pick(objs, file)
    return SLOSpec(
        service=str(doc.get("service", "")),
        source="sloth",
        window_days=period,
        availability=avail,
        latency=lat,
        alerts=tuple(alerts),
    )


def _by_kind(docs: list[Any], kind: str) -> dict[str, dict[str, Any]]:
    out = {}
    for d in docs:
        if isinstance(d, dict) and d.get("kind") == kind:
            out[str((d.get("metadata") or {}).get("name", ""))] = d
    return out


def _ref(
    item: Any, kind: str, named: dict[str, dict[str, Any]], file: object, field: str
) -> dict[str, Any]:
    """An inline document, or the one a name / ``xxxRef`` points at."""
    if isinstance(item, str):
        name = item
    elif isinstance(item, dict) and item.get("kind") == kind:
        return item
    elif isinstance(item, dict) and len(item) == 1 and str(next(iter(item))).endswith("Ref"):
        name = str(next(iter(item.values())))
    else:
        raise input_error(file, field, f"an inline {kind} or a reference to one", item)
    if name not in named:
        raise input_error(
            file, field, f"a {kind} named in the file ({', '.join(named) or 'none'})", name
        )
    return named[name]


def from_openslo(docs: list[Any], file: object) -> SLOSpec:
    """OpenSLO v1 documents (SLO, SLI, AlertPolicy, AlertCondition) -> one :class:`SLOSpec`."""
    slis, policies = _by_kind(docs, "SLI"), _by_kind(docs, "AlertPolicy")
    conditions = _by_kind(docs, "AlertCondition")
    slo_docs = [d for d in docs if isinstance(d, dict) and d.get("kind") == "SLO"]
    if not slo_docs:
        raise input_error(file, "kind", "at least one OpenSLO document of kind SLO")
    objs: list[tuple[str, AvailabilitySLO | LatencySLO]] = []
    per_slo_alerts: dict[str, tuple[BurnAlert, ...]] = {}
    days: set[int] = set()
    service = ""
    for i, d in enumerate(slo_docs):
        spec = d.get("spec") or {}
        name = str((d.get("metadata") or {}).get("name", f"SLO {i}"))
        where = f"SLO {name}: spec"
        service = service or str(spec.get("service", ""))
        if "indicator" in spec:
            ind = spec["indicator"]
        elif "indicatorRef" in spec:
            ind = _ref(spec["indicatorRef"], "SLI", slis, file, f"{where}.indicatorRef")
        else:
            raise input_error(file, f"{where}.indicator", "an indicator or indicatorRef")
        ind_spec = (ind or {}).get("spec") or {}
        if "ratioMetric" not in ind_spec:
            raise input_error(
                file,
                f"{where}.indicator.spec",
                "a ratioMetric (good or bad over total requests)",
                ", ".join(ind_spec) or "nothing",
            )
        tw = spec.get("timeWindow")
        if not isinstance(tw, list) or not tw or "duration" not in (tw[0] or {}):
            raise input_error(file, f"{where}.timeWindow", "[{duration: 28d, isRolling: true}]")
        days.add(window_days(tw[0]["duration"], file, f"{where}.timeWindow[0].duration"))
        objectives = spec.get("objectives")
        if not isinstance(objectives, list) or not objectives or "target" not in objectives[0]:
            raise input_error(file, f"{where}.objectives", "[{target: 0.995}]")
        try:
            target = float(objectives[0]["target"])
        except (TypeError, ValueError) as exc:
            raise input_error(
                file, f"{where}.objectives[0].target", "a number", objectives[0]["target"]
            ) from exc
        objs.append(
            (
                name,
                _objective(
                    target,
                    name,
                    _queries(ind_spec["ratioMetric"]),
                    file,
                    f"{where}.objectives[0].target",
                ),
            )
        )
        per_slo_alerts[name] = _policy_alerts(spec, policies, conditions, file, where)
    if len(days) > 1:
        raise input_error(
            file,
            "timeWindow",
            "one window length for every SLO",
            ", ".join(f"{d}d" for d in sorted(days)),
        )
    avail, lat = _pick(objs, file)
    alerts_t = per_slo_alerts.get(avail.name) or next((a for a in per_slo_alerts.values() if a), ())
    kw: dict[str, Any] = {"alerts": alerts_t} if alerts_t else {}
    return SLOSpec(
        service=service,
        source="openslo",
        window_days=days.pop(),
        availability=avail,
        latency=lat,
        **kw,
    )


def _policy_alerts(spec: dict[str, Any], policies: dict[str, dict[str, Any]],
                   conditions: dict[str, dict[str, Any]], file: object,
                   where: str) -> tuple[BurnAlert, ...]:
    """The burn-rate alerts of one SLO's ``alertPolicies`` (inline, by name or by ref)."""
    alerts: list[BurnAlert] = []
    for j, pol in enumerate(spec.get("alertPolicies") or []):
        policy = _ref(pol, "AlertPolicy", policies, file, f"{where}.alertPolicies[{j}]")
        pname = str((policy.get("metadata") or {}).get("name", f"policy {j}"))
        for k, cond in enumerate((policy.get("spec") or {}).get("conditions") or []):
            c = _ref(
                cond,
                "AlertCondition",
                conditions,
                file,
                f"AlertPolicy {pname}: spec.conditions[{k}]",
            )
            cspec = c.get("spec") or {}
            rule = cspec.get("condition") or {}
            cwhere = f"AlertPolicy {pname}: condition {k}"
            if rule.get("kind") != "burnrate":
                raise input_error(file, f"{cwhere}.kind", "burnrate", rule.get("kind"))
            try:
                rate = float(rule["threshold"])
                lookback = str(rule["lookbackWindow"])
                parse_minutes(lookback)
                after = rule.get("alertAfter")
                if after is not None:
                    parse_minutes(str(after))
            except (KeyError, TypeError, ValueError) as exc:
                raise input_error(
                    file,
                    cwhere,
                    "threshold (a number), lookbackWindow and "
                    "alertAfter as durations like 5m or 1h",
                    rule,
                ) from exc
            sev = str(cspec.get("severity", "page"))
            cname = str((c.get("metadata") or {}).get("name", f"{pname} {k}"))
            held = f", held {after}" if after else ""
            alerts.append(
                BurnAlert(
                    name=f"{sev}: {rate:g}x over {lookback}{held} ({cname})",
                    severity=sev,
                    burn_rate=rate,
                    long_window=lookback,
                    alert_after=None if after is None else str(after),
                )
            )
    return tuple(alerts)


def load_slos(path: str | os.PathLike[str], *, period_days: int | None = None) -> SLOSpec:
    """Read SLO definitions (workbench's, OpenSLO v1 or Sloth); every problem by field path.

    ``period_days`` is Sloth's SLO period (its ``--default-slo-period``; 30 unless given).
    """
    docs = read_yaml_documents(path)
    if any(
        isinstance(d, dict) and str(d.get("apiVersion", "")).startswith("openslo/") for d in docs
    ):
        return from_openslo(docs, path)
    if len(docs) == 1 and isinstance(docs[0], dict) and "slos" in docs[0]:
        return from_sloth(docs[0], path, period_days)
    data = docs[0] if len(docs) == 1 else docs
    if not isinstance(data, dict):
        raise input_error(path, None, "a YAML mapping of SLO definitions", type(data).__name__)
    try:
        return SLOSpec.model_validate(data)
    except ValidationError as exc:
        problems = pydantic_problems(path, [dict(e) for e in exc.errors()])
        raise RecordError(
            summarize(path, "SLO definitions", problems), problems=problems, file=str(path)
        ) from exc

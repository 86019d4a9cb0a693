"""The rollout plan: traffic stages and KPIs, from YAML or parameters, validated at the edge
(one line naming the file and the field for anything unusable)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

from workbench import io
from workbench.errors import input_error
from workbench.release._model import (
    DIRECTIONS,
    KINDS,
    MEASURES,
    Kpi,
    Plan,
)

# --- the plan ---------------------------------------------------------------------------------


def _number(where: str, field: str, value: Any, *, low: float | None = None,
             high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise input_error(where, field, "a finite number", value)
    if (low is not None and value <= low) or (high is not None and value >= high):
        raise input_error(where, field, f"a number between {low} and {high} (exclusive)", value)
    return float(value)


def kpi_from(spec: Mapping[str, Any] | Kpi, where: str, field: str) -> Kpi:
    """A :class:`Kpi` from a mapping of the plan or the notebook parameters (validated)."""
    if isinstance(spec, Kpi):
        return spec
    if not isinstance(spec, Mapping):
        raise input_error(where, field, "a mapping with at least a name", type(spec).__name__)
    known = {"name", "kind", "direction", "margin", "mde", "label", "findings", "metric"}
    extra = sorted(set(spec) - known)
    if extra:
        raise input_error(where, f"{field}.{extra[0]}", f"one of {', '.join(sorted(known))}",
                          extra[0])
    name = spec.get("name")
    if not isinstance(name, str) or not name:
        raise input_error(where, f"{field}.name", "a KPI name", name)
    findings = str(spec.get("findings") or "")
    metric = str(spec.get("metric") or "")
    if not findings and name not in MEASURES:
        raise input_error(where, f"{field}.name", f"one of {', '.join(MEASURES)} (or findings "
                          "and metric naming a figure per version)", name)
    if findings and "{version}" not in metric:
        raise input_error(where, f"{field}.metric", "a metric name with {version} in it", metric)
    kind = spec.get("kind", "guardrail")
    if kind not in KINDS:
        raise input_error(where, f"{field}.kind", "guardrail or success", kind)
    direction = spec.get("direction", "")
    if direction and direction not in DIRECTIONS:
        raise input_error(where, f"{field}.direction", "higher, lower or either", direction)
    margin = spec.get("margin")
    mde = spec.get("mde")
    kpi = Kpi(name=name, kind=kind, direction=direction or "",
              margin=None if margin is None else _number(where, f"{field}.margin", margin,
                                                         low=-1e-300),
              mde=None if mde is None else _number(where, f"{field}.mde", mde, low=0),
              label=str(spec.get("label") or ""), findings=findings, metric=metric)
    if kpi.kind == "success" and kpi.better == "either":
        raise input_error(where, f"{field}.direction", "higher or lower for a success metric",
                          "either")
    if kpi.margin is not None and kpi.margin < 0:
        raise input_error(where, f"{field}.margin", "a margin of 0 or more", kpi.margin)
    return kpi


def make_plan(*, stages: Sequence[float] | None = None,
              kpis: Sequence[Mapping[str, Any] | Kpi] | None = None,
              alpha: float = 0.05, power: float = 0.9, model: str = "",
              where: str = "parameters", base: Plan | None = None) -> Plan:
    """A plan from parameters; anything given replaces the same part of ``base``."""
    base = base or Plan()
    if stages is not None:
        if not isinstance(stages, Sequence) or isinstance(stages, str) or not stages:
            raise input_error(where, "stages", "a list of traffic shares in percent", stages)
        shares = tuple(_number(where, f"stages[{i}]", s, low=0, high=100.000001)
                       for i, s in enumerate(stages))
        if list(shares) != sorted(set(shares)):
            raise input_error(where, "stages", "ascending traffic shares, each once", list(shares))
    else:
        shares = base.stages
    names: list[Kpi] = list(base.kpis)
    if kpis is not None:
        if isinstance(kpis, str | Mapping) or not isinstance(kpis, Sequence):
            raise input_error(where, "kpis", "a list of KPIs", type(kpis).__name__)
        names = [kpi_from(k, where, f"kpis[{i}]") for i, k in enumerate(kpis)]
        seen = [k.name for k in names]
        dup = next((n for n in seen if seen.count(n) > 1), None)
        if dup:
            raise input_error(where, "kpis", "each KPI name once", dup)
    return Plan(stages=shares, kpis=tuple(names),
                alpha=_number(where, "alpha", alpha, low=0, high=0.5),
                power=_number(where, "power", power, low=0, high=1),
                model=model or base.model, source=base.source or where)


def load_plan(path: str | os.PathLike[str]) -> Plan:
    """Read a rollout plan (YAML): ``stages`` (percent), ``kpis``, ``alpha``, ``power``,
    ``model`` (the model's name in the cost findings)."""
    where = str(path)
    doc = io.read_yaml(path)
    if not isinstance(doc, Mapping):
        raise input_error(where, None, "a mapping (stages, kpis, ...)", type(doc).__name__)
    known = {"stages", "kpis", "alpha", "power", "model", "champion", "challenger",
             "description"}
    extra = sorted(set(doc) - known)
    if extra:
        raise input_error(where, extra[0], f"one of {', '.join(sorted(known))}", extra[0])
    plan = make_plan(stages=doc.get("stages"), kpis=doc.get("kpis"),
                     alpha=doc.get("alpha", 0.05), power=doc.get("power", 0.9),
                     model=str(doc.get("model") or ""), where=where)
    return Plan(plan.stages, plan.kpis, plan.alpha, plan.power, plan.model, where)

"""What changed in cost-to-value between two pack versions: unit economics per model
(metrics ``cost_per_1k_predictions.<model>``, ``value_per_1k_predictions.<model>``,
``value_cost_ratio.<model>``)."""

from __future__ import annotations

from workbench import render
from workbench.findings import Change, Findings, number

LABEL = "cost"
COST_METRICS = (
    ("cost_per_1k_predictions", "cost per 1k predictions", "worse"),
    ("value_per_1k_predictions", "value per 1k predictions", "better"),
    ("value_cost_ratio", "value/cost", "better"),
)
# Relative changes smaller than this are rounding noise, not news.
COST_EPSILON = 0.005


def compare(before: Findings, now: Findings) -> list[Change]:
    month_now, month_before = now.get("month"), before.get("month")
    period = f" ({month_before} → {month_now})" if month_now and month_now != month_before else ""
    out = []
    for key, label, good in COST_METRICS:
        prefix = key + "."
        models = sorted(k.removeprefix(prefix) for k in now.metrics
                        if isinstance(k, str) and k.startswith(prefix))
        for model in models:
            change = _change(label, model, good, number(before.metrics.get(prefix + model)),
                             number(now.metrics.get(prefix + model)), period)
            if change is not None:
                out.append(change)
    return out


def _change(label: str, model: str, good: str, a: float | None, b: float | None,
            period: str) -> Change | None:
    if b is None:
        return None
    if a is None:
        return Change(LABEL, label, model,
                      f"{model}: {label} {render.fmt(b, 3)} (not measured before).", "info",
                      None, b)
    if abs(b - a) <= COST_EPSILON * max(abs(a), abs(b), 1e-12):
        return None
    up = b > a
    pct = f" ({(b - a) / abs(a):+.0%})" if a else ""
    worse = up if good == "worse" else not up
    return Change(LABEL, label, model,
                  f"{model}: {label} {'rose' if up else 'fell'} from {render.fmt(a, 3)} "
                  f"to {render.fmt(b, 3)}{pct}{period}.",
                  "worse" if worse else "better", a, b)

"""What changed in model performance between two pack versions, as the review summary shows it.

``compare(before, now)`` reads only the two findings.
"""

from __future__ import annotations

from workbench.findings import Change, Findings
from workbench.performance._model import LABELS, LOWER_IS_BETTER

AREA = "performance"
EPSILON = 0.005  # a move of a metric smaller than this is noise, not news



def _num(f: Findings, key: str) -> float | None:
    v = f.metrics.get(key)
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def compare(before: Findings, now: Findings) -> list[Change]:
    """The headline metric of the latest chunk, the worst realized chunk, the estimate's
    coverage, the number of alerts and whether the agreed target is met."""
    out: list[Change] = []
    metric = _primary(now) or _primary(before)
    if metric:
        label = LABELS.get(metric, metric)
        for key, what in ((f"latest.{metric}", f"{label} of the latest chunk"),
                          (f"worst_realized.{metric}", f"worst realized {label}")):
            a, b = _num(before, key), _num(now, key)
            if a is None or b is None or abs(b - a) < EPSILON:
                continue
            worse = (b > a) if metric in LOWER_IS_BETTER else (b < a)
            out.append(Change(AREA, what, metric, f"{what}: {a:.3f} -> {b:.3f}",
                              "worse" if worse else "better", a, b))
    a, b = before.metrics.get("target_met"), now.metrics.get("target_met")
    if isinstance(a, bool) and isinstance(b, bool) and a != b:
        out.append(Change(AREA, "target", metric or "", "the latest chunk now "
                          + ("meets" if b else "misses") + " the agreed target",
                          "better" if b else "worse", a, b))
    a, b = _num(before, "estimate_coverage"), _num(now, "estimate_coverage")
    if a is not None and b is not None and abs(b - a) >= EPSILON:
        out.append(Change(AREA, "estimate coverage", metric or "",
                          f"estimates inside their band once labels arrived: {a:.0%} -> {b:.0%}",
                          "better" if b > a else "worse", a, b))
    a, b = _num(before, "alerts"), _num(now, "alerts")
    if a is not None and b is not None and a != b:
        out.append(Change(AREA, "alerts", metric or "", f"alerts: {a:.0f} -> {b:.0f}",
                          "worse" if b > a else "better", a, b))
    return out


def _primary(f: Findings) -> str | None:
    setup = f.details.get("setup") or {}
    targets = setup.get("targets") or {}
    if targets:
        return str(next(iter(targets)))
    perf = f.details.get("performance") or {}
    return "roc_auc" if perf.get("problem", "binary") == "binary" else "mae"

"""The data classes of a release comparison: KPI specs, the rollout plan, KPI results and the
result of :func:`workbench.release.decide`. No computation here beyond reading fields."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import polars as pl

from workbench.findings import Findings
from workbench.release import _render

DECISIONS = ("promote", "continue", "hold", "rollback")
KINDS = ("guardrail", "success")
DIRECTIONS = ("higher", "lower", "either")

# measure -> (direction, default margin, default minimum detectable effect, label)
MEASURES: dict[str, tuple[str, float, float, str]] = {
    "auc": ("higher", 0.005, 0.01, "AUC"),
    "positive_rate": ("either", 0.02, 0.02, "positive rate"),
    "target_rate_among_positive": ("lower", 0.01, 0.01, "target rate among positive predictions"),
    "mean_score": ("either", 0.02, 0.02, "mean score"),
    "error_rate": ("lower", 0.002, 0.002, "error rate"),
    "p95_latency_ms": ("lower", 20.0, 20.0, "p95 latency (ms)"),
    "cost_per_1k_predictions": ("lower", 0.0, 0.0, "cost per 1k predictions"),
}


@dataclass(frozen=True)
class Kpi:
    """One KPI agreed before the rollout.

    ``name``: a built-in measure (:data:`MEASURES`) or, with ``findings`` and ``metric``, a
    figure per version read from another notebook's findings (``{version}`` in ``metric`` is
    replaced by each version). ``kind``: ``guardrail`` (must not get worse by more than
    ``margin``) or ``success`` (should improve by more than ``margin``, 0 by default).
    ``direction``: which way is better (``either``: a guardrail on any change).
    ``mde``: the minimum detectable effect the sample size is planned for.
    """

    name: str
    kind: str = "guardrail"
    direction: str = ""
    margin: float | None = None
    mde: float | None = None
    label: str = ""
    findings: str = ""
    metric: str = ""

    @property
    def measure(self) -> str:
        return "findings" if self.findings else self.name

    @property
    def better(self) -> str:
        return self.direction or MEASURES.get(self.name, ("higher",))[0]

    @property
    def allowed(self) -> float:
        if self.margin is not None:
            return float(self.margin)
        if self.kind == "success":
            return 0.0
        return MEASURES.get(self.name, ("", 0.0))[1]

    @property
    def effect(self) -> float:
        """The minimum detectable effect (the margin when none is given)."""
        if self.mde is not None:
            return float(self.mde)
        if self.allowed > 0:
            return self.allowed
        return MEASURES.get(self.name, ("", 0.0, 0.0))[2]

    @property
    def title(self) -> str:
        return self.label or MEASURES.get(self.name, ("", 0, 0, self.name))[3]


@dataclass(frozen=True)
class Plan:
    """The rollout plan: traffic shares of the stages (percent, ascending), the KPIs, the
    error rate ``alpha`` shared by every KPI (Bonferroni) and the power sample sizes aim at."""

    stages: tuple[float, ...] = (5.0, 25.0, 50.0, 100.0)
    kpis: tuple[Kpi, ...] = ()
    alpha: float = 0.05
    power: float = 0.9
    model: str = ""
    source: str = ""


@dataclass(frozen=True)
class KpiResult:
    """Challenger minus champion for one KPI at the last look.

    ``lower``/``upper``: the always-valid bounds the decision uses (valid however often the
    review was read); ``ci_lower``/``ci_upper``: the fixed-horizon 95%-style interval at the
    same alpha, for reference. ``state``: pass, fail (beyond the margin), worse (worse, may
    be beyond the margin), inconclusive, unknown (could not be evaluated: ``note`` says why).
    """

    name: str
    label: str
    kind: str
    direction: str
    margin: float
    champion: float | None
    challenger: float | None
    delta: float | None
    lower: float | None
    upper: float | None
    ci_lower: float | None
    ci_upper: float | None
    passed: bool | None
    state: str
    n_champion: int
    n_challenger: int
    alpha: float
    method: str
    note: str = ""
    rows_needed: int | None = None   # more rows (of the kind it counts) to settle it
    rows_for_mde: int | None = None  # total rows to detect a harm of ``mde`` with ``power``
    mde: float | None = None
    unit: str = "rows"  # what n_champion, n_challenger and the row counts count

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, eq=False)
class ReleaseResult:
    """Champion against challenger, and what to do next (see :func:`workbench.release.decide`)."""

    decision: str
    reason: str
    mode: str  # canary | shadow
    champion: str
    challenger: str
    kpis: tuple[KpiResult, ...]
    segments: pl.DataFrame
    timeline: pl.DataFrame
    rows: Mapping[str, int]
    challenger_share: float | None
    stage: float | None
    next_stage: float | None
    plan: Plan
    sample_needed: int | None
    segment_method: str
    shadow: Mapping[str, Any] | None = None
    flips: pl.DataFrame | None = None
    notes: tuple[str, ...] = ()
    source: str = ""
    unknown: tuple[str, ...] = field(default=())

    # -- the protocol --------------------------------------------------------------------
    @property
    def status(self) -> str:
        if self.decision == "rollback":
            return "fail"
        if self.decision == "hold":
            return "unknown" if self.unknown else "warn"
        return "pass"

    @property
    def headline(self) -> str:
        return f"{self.decision.upper()}: {self.reason}"

    @property
    def metrics(self) -> dict[str, Any]:
        out: dict[str, Any] = {  # the decision itself is text: a detail, not a metric
            "go_ahead": self.decision in ("promote", "continue"),
            "promote": self.decision == "promote",
            "hold": self.decision == "hold",
            "rollback": self.decision == "rollback",
            "guardrails_failed": sum(k.kind == "guardrail" and k.passed is False
                                     for k in self.kpis),
            "guardrails_unknown": sum(k.kind == "guardrail" and k.state == "unknown"
                                      for k in self.kpis),
            "challenger_share_pct": self.challenger_share,
            "next_stage_pct": self.next_stage,
            "sample_needed": self.sample_needed,
            "segments_worse": int(self.segments["worse"].sum()) if self.segments.height else 0,
        }
        for k in self.kpis:
            out[f"delta.{k.name}"] = None if k.delta is None else float(k.delta)
            out[f"passed.{k.name}"] = k.passed
        if self.shadow:
            out["agreement_rate"] = self.shadow.get("agreement_rate")
        return out

    def frame(self) -> pl.DataFrame:
        """One row per KPI."""
        return pl.DataFrame([k.to_dict() for k in self.kpis],
                            infer_schema_length=None) if self.kpis else pl.DataFrame()

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "reason": self.reason,
            "status": self.status,
            "headline": self.headline,
            "mode": self.mode,
            "champion": self.champion,
            "challenger": self.challenger,
            "rows": dict(self.rows),
            "challenger_share_pct": self.challenger_share,
            "stage_pct": self.stage,
            "next_stage_pct": self.next_stage,
            "stages_pct": list(self.plan.stages),
            "alpha": self.plan.alpha,
            "power": self.plan.power,
            "sample_needed": self.sample_needed,
            "kpis": [k.to_dict() for k in self.kpis],
            "segments": self.segments.to_dicts(),
            "segment_method": self.segment_method,
            "timeline": self.timeline.to_dicts(),
            "shadow": dict(self.shadow) if self.shadow else None,
            "flips": self.flips.to_dicts() if self.flips is not None else None,
            "notes": list(self.notes),
            "metrics": self.metrics,
            "methods": METHODS,
        }

    def findings(self, name: str | None = None, **context: Any) -> Findings:
        doc = self.to_dict()
        details = {k: v for k, v in doc.items() if k not in ("status", "headline", "metrics")}
        details.update(context)
        return Findings(name or "release_readiness", self.status, self.headline, self.metrics,
                        details, notebook="release_readiness")

    def _repr_html_(self) -> str:
        return _render.page(self)


METHODS = {
    "sequential": "always-valid confidence sequences: the two-sided normal-mixture boundary "
                  "(Howard, Ramdas, McAuliffe, Sekhon 2021, Ann. Statist. 49(2), eq. 14), "
                  "equivalent to the mixture SPRT (Johari, Pekelis, Walsh 2017); valid at "
                  "every daily look",
    "multiplicity": "alpha split evenly over the KPIs with sampling error (Bonferroni)",
    "auc": "DeLong variance (Sun and Xu 2014 fast form); paired covariance in shadow mode",
    "segments": "fixed-horizon two-sided z-tests per segment, Benjamini-Hochberg false "
                "discovery rate at alpha across every segment tested",
    "sample_size": "rows at which the always-valid bound excludes zero for a harm of the "
                   "minimum detectable effect with the stated power",
}

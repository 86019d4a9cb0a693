"""Release readiness: a challenger against the champion on live traffic, and what to do next.

>>> from workbench import release
>>> result = release.decide("canary.parquet", version_column="model_version",
...                         champion="v3", challenger="v4", target="label_default",
...                         score="score", prediction="decision", positive="approve",
...                         timestamp="scored_at", segments=["channel"],
...                         plan="rollout.yml")  # doctest: +SKIP
>>> result.decision, result.reason  # doctest: +SKIP

Two kinds of rollout:

* **canary** (no ``request_id``): traffic is split between the versions; each KPI is the
  challenger's figure minus the champion's on its own requests;
* **shadow** (``request_id`` names the column that joins the versions): both versions scored
  the same requests; differences are paired (DeLong's paired AUC, paired means), and the
  agreement rate, score shift and decision flips by segment are reported.

KPIs (:class:`Kpi`, from the plan or parameters): ``auc`` (realized, on rows whose label has
arrived), ``positive_rate`` (share of predictions equal to ``positive``),
``target_rate_among_positive`` (e.g. the default rate among approved loans), ``mean_score``,
``error_rate`` and ``p95_latency_ms`` (from SLIs per version), ``cost_per_1k_predictions``
(from the cost_to_value findings in ``findings_dir``), or any figure per version in another
notebook's findings (``findings`` + ``metric`` with ``{version}``, e.g. the performance area's
AUC estimated without labels). A guardrail must not get worse by more than its margin; a
success metric should improve. No KPIs given: non-inferiority on AUC (margin 0.005) and on
the positive rate (2 points either way).

Statistics (see ``_stats``): every difference has always-valid bounds (normal-mixture
confidence sequences, Howard et al. 2021) at ``alpha`` split over the KPIs (Bonferroni), so
the review can be read daily; segments are tested at a fixed horizon with the
Benjamini-Hochberg false discovery rate.

Decision: ``rollback`` when a guardrail is worse beyond its margin; ``hold`` when a guardrail
could not be evaluated, or a KPI is measurably worse (maybe beyond the margin); ``promote``
when every guardrail holds, every success metric improved and the next stage is full
traffic; ``continue`` otherwise: to the next stage of the plan when every guardrail holds,
else at the current stage until the evidence settles (``sample_needed`` says about how many
more rows).
"""

from workbench.release._compare import Change, compare
from workbench.release._compute import decide, default_kpis
from workbench.release._model import (
    DECISIONS,
    MEASURES,
    METHODS,
    Kpi,
    KpiResult,
    Plan,
    ReleaseResult,
)
from workbench.release._plan import load_plan, make_plan
from workbench.release._render import (
    decision_callout,
    flips_table,
    kpi_table,
    kpi_timeline,
    plan_table,
    segments_chart,
    segments_table,
)

__all__ = [
    "DECISIONS",
    "MEASURES",
    "METHODS",
    "Change",
    "Kpi",
    "KpiResult",
    "Plan",
    "ReleaseResult",
    "compare",
    "decide",
    "decision_callout",
    "default_kpis",
    "flips_table",
    "kpi_table",
    "kpi_timeline",
    "load_plan",
    "make_plan",
    "plan_table",
    "segments_chart",
    "segments_table",
]

"""Cost-to-value: a FOCUS cost ledger allocated to models and stages, against usage and value.

>>> from workbench import costs
>>> result = costs.compute("focus_costs.csv", "usage.csv", "value.csv",
...                        "budgets.csv")  # doctest: +SKIP
>>> result.models        # the month per model: cost, value, per-1k, ratio, budget, forecast

Inputs (CSV or Parquet paths, or polars frames):

* ledger: a FOCUS export (a ``.csv``, ``.csv.gz`` or ``.parquet`` file, a folder of part
  files or a glob; see ``workbench.costs._focus``). Read: ``ChargePeriodStart``,
  ``ChargePeriodEnd``, ``BillingCurrency``, ``ChargeCategory``, ``ServiceName``, ``Tags``
  (JSON text, a map or a key/value list; FOCUS 1.3 ``AllocatedTags`` on split rows) and the
  cost column, ``EffectiveCost`` unless ``AllocationRules.cost_column`` says; no other
  column is required or parsed. Each charge is spread evenly over its charge period by the
  share of the period each UTC day covers (date-times written with another offset, such as
  ``-05:00``, are converted to UTC).
* usage: ``date, model, version, predictions``; value: ``date, model, value`` (optional
  ``version``); budgets: ``model, month (YYYY-MM), budget``; rates (optional):
  ``currency, rate`` = units of the reporting currency per unit of ``currency``.

Rules (:class:`AllocationRules`): ``Tags.model`` and ``Tags.stage`` name the model and the
lifecycle stage; ``"model": "shared"`` is shared cost, split across models by predictions
served that day when ``split_shared`` (else unallocated); items with no model tag stay
unallocated unless ``split_untagged``. Credits and refunds are negative cost and net off
where they are tagged. Several currencies without ``rates`` are refused.

Methods (:class:`Methods`, stated in ``to_dict()["methods"]``): forecast to month end is a
linear run-rate (month-to-date + mean daily cost of the last 7 days x days left); anomalies are
days whose modified z-score (median/MAD) of a service's daily charged cost exceeds 3.5,
over the days that hold data for that service.

Warnings (``CostResult.warnings``, one line each, on the page and in ``to_dict()``): tags
that are not key-values, tag keys that differ only in case, model names in usage, value or
budgets that match no tag, budget months not ``YYYY-MM``, Purchase rows with a non-zero
``EffectiveCost``. ``to_dict()`` also gives ``focus_version``, ``charge_categories``,
``stages`` and ``split_allocation``.

Metrics (flat, in ``CostResult.metrics`` and the notebook's results JSON), for the month
from its first day to ``as_of``: ``total_cost``, ``allocated_cost``, ``total_value``,
``net_value`` (total value - total cost, unallocated cost included),
``unallocated_share`` and ``tag_coverage`` (fractions of net cost; coverage = cost whose tags
name both a model, or ``shared``, and a stage), ``credits`` (sum of negative line items),
``anomalies_count`` (whole ledger), ``anomalies_in_month``, ``models_not_worth_cost``,
``models_over_budget`` (forecast to month end above budget), ``models_over_budget_to_date``
(month-to-date cost above budget), ``line_items``; per model ``<name>.<model>`` for
``cost_per_1k_predictions``, ``value_per_1k_predictions``, ``value_cost_ratio``,
``net_value``, ``budget_burn_pct`` (month-to-date / budget x 100),
``forecast_vs_budget_pct`` and ``on_budget``.
"""

from workbench.costs._compute import FOCUS_COLUMNS, STAGES, anomaly_scores, compute
from workbench.costs._model import AllocationRules, CostResult, Methods
from workbench.costs._render import (
    anomaly_timeline,
    budget_burndown,
    cost_by_stage,
    cost_vs_value,
    unit_economics_by_week,
)

__all__ = [
    "FOCUS_COLUMNS",
    "STAGES",
    "AllocationRules",
    "CostResult",
    "Methods",
    "anomaly_scores",
    "anomaly_timeline",
    "budget_burndown",
    "compute",
    "cost_by_stage",
    "cost_vs_value",
    "unit_economics_by_week",
]

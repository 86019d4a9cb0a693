"""Data classes of the performance area: no computation, no rendering."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

BINARY_METRICS = (
    "roc_auc", "average_precision", "accuracy", "precision", "recall", "specificity", "f1",
    "log_loss", "brier", "ece",
)
REGRESSION_METRICS = ("mae", "rmse", "mape", "r2", "median_ae")
# the metrics CBPE estimates without labels (as nannyml 0.13 does)
ESTIMATED_METRICS = ("roc_auc", "f1", "precision", "recall", "specificity", "accuracy")
LOWER_IS_BETTER = frozenset({"log_loss", "brier", "ece", "mae", "rmse", "mape", "median_ae"})
OUTCOMES = ("tp", "fp", "tn", "fn")
LABELS = {
    "roc_auc": "ROC AUC", "average_precision": "average precision", "accuracy": "accuracy",
    "precision": "precision", "recall": "recall", "specificity": "specificity", "f1": "F1",
    "log_loss": "log loss", "brier": "Brier score", "ece": "ECE", "mae": "MAE", "rmse": "RMSE",
    "mape": "MAPE", "r2": "R²", "median_ae": "median absolute error",
}


@dataclass(frozen=True)
class MetricValue:
    """One metric of one chunk or segment.

    ``lower``/``upper``: the band, ±3 standard errors around the estimate where there is one
    (CBPE's sampling-error band), else around the realized value. ``alert``: the value the
    chunk is judged on (realized where labels are known, else estimated) is outside the
    reference's range (mean ± 3 std of the reference chunks). ``note`` says why a value is
    missing (one class only, no labels yet) instead of inventing a number.
    """

    realized: float | None = None
    estimated: float | None = None
    lower: float | None = None
    upper: float | None = None
    alert: bool = False
    note: str | None = None

    @property
    def judged(self) -> float | None:
        return self.realized if self.realized is not None else self.estimated

    @property
    def inside(self) -> bool | None:
        """Whether the realized value fell inside the estimate's band (None: not checkable)."""
        if self.realized is None or self.estimated is None or self.lower is None:
            return None
        return bool(self.lower <= self.realized <= (self.upper if self.upper is not None else 1))

    def to_dict(self) -> dict[str, Any]:
        return {"realized": self.realized, "estimated": self.estimated, "lower": self.lower,
                "upper": self.upper, "alert": self.alert, "note": self.note}


@dataclass(frozen=True)
class Chunk:
    key: str
    period: str  # "reference" | "analysis"
    start: str | None
    end: str | None
    rows: int
    labeled_rows: int
    metrics: dict[str, MetricValue]
    confusion: dict[str, dict[str, float | None]] = field(default_factory=dict)
    value: dict[str, float | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "key": self.key, "period": self.period, "start": self.start, "end": self.end,
            "rows": self.rows, "labeled_rows": self.labeled_rows,
            "metrics": {k: v.to_dict() for k, v in self.metrics.items()},
        }
        if self.confusion:
            out["confusion"] = self.confusion
        if self.value:
            out["value"] = self.value
        return out


@dataclass(frozen=True)
class Segment:
    column: str
    value: str
    rows: int
    labeled_rows: int
    metrics: dict[str, MetricValue]

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "value": self.value, "rows": self.rows,
                "labeled_rows": self.labeled_rows,
                "metrics": {k: v.to_dict() for k, v in self.metrics.items()}}


@dataclass(frozen=True)
class CalibrationBin:
    set: str  # "reference" | "analysis"
    lower: float
    upper: float
    rows: int
    mean_score: float
    observed_rate: float


@dataclass(frozen=True)
class Setup:
    """What the evaluation was asked to do, resolved once (column names, options)."""

    problem: str
    target: str
    score: str
    prediction: str | None
    threshold: float
    timestamp: str | None
    window: str | None
    chunk_size: int | None
    segment: str | None
    targets: dict[str, float]
    values: dict[str, float]
    currency: str
    reference_source: str
    analysis_source: str
    labels_source: str | None = None
    id_column: str | None = None

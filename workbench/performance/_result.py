"""PerformanceResult: what :func:`workbench.performance.evaluate` returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from workbench import render
from workbench.findings import Findings
from workbench.performance import _render
from workbench.performance._compute import Evaluation
from workbench.performance._model import LABELS, LOWER_IS_BETTER, Chunk, MetricValue

NOTEBOOK = "model_performance"


def _meets(metric: str, value: float | None, target: float) -> bool | None:
    if value is None:
        return None
    return value <= target if metric in LOWER_IS_BETTER else value >= target


@dataclass
class PerformanceResult:
    evaluation: Evaluation

    # --- the pieces -------------------------------------------------------------------
    @property
    def problem(self) -> str:
        return self.evaluation.setup.problem

    @property
    def primary(self) -> str:
        """The metric the headline speaks of: the first agreed target, else ROC AUC / MAE."""
        return next(iter(self.evaluation.setup.targets), self.evaluation.metrics[0])

    @property
    def analysis(self) -> list[Chunk]:
        return [c for c in self.evaluation.chunks if c.period == "analysis"]

    @property
    def reference_chunks(self) -> list[Chunk]:
        return [c for c in self.evaluation.chunks if c.period == "reference"]

    @property
    def latest(self) -> Chunk:
        return self.analysis[-1]

    def checked(self, metric: str | None = None) -> list[tuple[Chunk, MetricValue]]:
        """Analysis chunks with both an estimate and a realized value (the estimate checked)."""
        metric = metric or self.primary
        return [(c, c.metrics[metric]) for c in self.analysis
                if c.metrics[metric].inside is not None]

    def coverage(self, metric: str | None = None) -> float | None:
        """Share of checked chunks whose realized value fell inside the estimate's band."""
        rows = self.checked(metric)
        return sum(bool(v.inside) for _, v in rows) / len(rows) if rows else None

    def alerts(self) -> list[tuple[Chunk, str]]:
        return [(c, k) for c in self.analysis for k, v in c.metrics.items() if v.alert]

    # --- the verdict --------------------------------------------------------------------
    def _target_misses(self) -> list[Chunk]:
        out = []
        for metric, target in self.evaluation.setup.targets.items():
            out += [c for c in self.analysis
                    if _meets(metric, c.metrics[metric].judged, target) is False]
        return out

    @property
    def status(self) -> str:
        m = self.primary
        latest = self.latest.metrics[m]
        if latest.judged is None:
            return "unknown"
        targets = self.evaluation.setup.targets
        if targets:
            if any(_meets(k, self.latest.metrics[k].judged, t) is False
                   for k, t in targets.items()):
                return "fail"
            if any(self.latest.metrics[k].judged is None for k in targets):
                return "unknown"
        if self._target_misses() or self.alerts():
            return "warn"
        return "pass" if targets else "info"

    @property
    def headline(self) -> str:
        m, label = self.primary, LABELS[self.primary]
        latest = self.latest
        v = latest.metrics[m]
        target = self.evaluation.setup.targets.get(m)
        if v.judged is None:
            why = v.note or "no value"
            return (f"{label} of the latest chunk ({latest.key}) cannot be stated ({why}): "
                    f"the model's performance is unknown, not a pass.")
        how = "realized" if v.realized is not None else "estimated (no labels yet)"
        text = f"{label} of the latest chunk ({latest.key}): {v.judged:.3f}, {how}"
        if target is not None:
            ok = _meets(m, v.judged, target)
            text += (f"; {'meets' if ok else 'misses'} the agreed target "
                     f"{'at most' if m in LOWER_IS_BETTER else 'at least'} {target:g}")
        known = [r for c in self.analysis if (r := c.metrics[m].realized) is not None]
        if known:
            worst = max(known) if m in LOWER_IS_BETTER else min(known)
            text += f". Worst realized chunk: {worst:.3f}"
        cov = self.coverage()
        if cov is not None:
            text += (f". Estimates checked against labels that arrived later: "
                     f"{cov:.0%} inside their band")
        n_alerts = len(self.alerts())
        if n_alerts:
            text += f". {n_alerts} alert(s) outside the reference range"
        return text + "."

    @property
    def metrics(self) -> dict[str, Any]:
        """Flat figures for gates (see :mod:`workbench.performance`)."""
        m = self.primary
        out: dict[str, Any] = {}
        for k in self.evaluation.metrics:  # flat dotted names, as gates address them
            vals = [c.metrics[k] for c in self.analysis]
            realized = [v.realized for v in vals if v.realized is not None]
            estimated = [v.estimated for v in vals if v.estimated is not None]
            worst = max if k in LOWER_IS_BETTER else min
            out[f"latest.{k}"] = self.latest.metrics[k].judged
            out[f"latest_estimated.{k}"] = self.latest.metrics[k].estimated
            out[f"latest_realized.{k}"] = self.latest.metrics[k].realized
            out[f"worst_realized.{k}"] = worst(realized) if realized else None
            out[f"worst_estimated.{k}"] = worst(estimated) if estimated else None
            out[f"reference.{k}"] = self.evaluation.reference.metrics[k].realized
        if self.problem == "binary":
            out["lowest_realized_roc_auc"] = out["worst_realized.roc_auc"]
            out["latest_estimated_roc_auc"] = out["latest_estimated.roc_auc"]
        else:
            out["highest_realized_mae"] = out["worst_realized.mae"]
        out["estimate_coverage"] = self.coverage()
        out["estimate_checked_chunks"] = len(self.checked())
        errs = [abs(v.estimated - v.realized) for _, v in self.checked()]  # type: ignore[operator]
        out["estimate_mean_abs_error"] = sum(errs) / len(errs) if errs else None
        out["alerts"] = len(self.alerts())
        out["chunks_analysis"] = len(self.analysis)
        out["chunks_unlabeled"] = sum(1 for c in self.analysis if not c.labeled_rows)
        rows = sum(c.rows for c in self.analysis)
        out["labeled_share"] = sum(c.labeled_rows for c in self.analysis) / rows if rows else None
        target = self.evaluation.setup.targets.get(m)
        out["target"] = target
        out["target_met"] = (None if target is None
                             else _meets(m, self.latest.metrics[m].judged, target))
        if self.evaluation.setup.values:
            out["latest_estimated_value"] = self.latest.value.get("estimated")
            out["latest_estimated_value_per_1k"] = self.latest.value.get("estimated_per_1k")
        return out

    # --- tables and JSON ----------------------------------------------------------------
    def frame(self) -> pl.DataFrame:
        """One row per chunk and metric (reference chunks first, then analysis in order)."""
        rows = [{"key": c.key, "period": c.period, "start": c.start, "end": c.end,
                 "rows": c.rows, "labeled_rows": c.labeled_rows, "metric": k, **v.to_dict()}
                for c in self.evaluation.chunks for k, v in c.metrics.items()]
        schema = {"key": pl.String, "period": pl.String, "start": pl.String, "end": pl.String,
                  "rows": pl.Int64, "labeled_rows": pl.Int64, "metric": pl.String,
                  "realized": pl.Float64, "estimated": pl.Float64, "lower": pl.Float64,
                  "upper": pl.Float64, "alert": pl.Boolean, "note": pl.String}
        return pl.DataFrame(rows, schema=schema)

    def segment_frame(self) -> pl.DataFrame:
        m = self.primary
        rows = [{"segment": s.value, "rows": s.rows, "labeled_rows": s.labeled_rows,
                 f"{m} realized": s.metrics[m].realized, f"{m} estimated": s.metrics[m].estimated,
                 "alert": s.metrics[m].alert, "note": s.metrics[m].note}
                for s in self.evaluation.segments]
        return pl.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """The ``workbench performance --format json`` object."""
        e = self.evaluation
        return {
            "problem": e.setup.problem,
            "chunks": [c.to_dict() for c in e.chunks],
            "segments": [s.to_dict() for s in e.segments],
            "reference": e.reference.to_dict(),
            "calibration": {"applied": e.calibration_applied, "reason": e.calibration},
            "alert_ranges": {k: {"lower": lo, "upper": hi}
                             for k, (lo, hi) in e.alert_ranges.items()},
            "methods": METHODS,
        }

    def findings(self, name: str | None = None, **context: Any) -> Findings:
        e = self.evaluation
        details = {
            "performance": self.to_dict(),
            "setup": {"target": e.setup.target, "score": e.setup.score,
                      "prediction": e.setup.prediction, "threshold": e.setup.threshold,
                      "timestamp": e.setup.timestamp, "window": e.setup.window,
                      "chunk_size": e.setup.chunk_size, "segment": e.setup.segment,
                      "targets": e.setup.targets, "values": e.setup.values,
                      "currency": e.setup.currency},
            "checked": [{"key": c.key, "estimated": v.estimated, "realized": v.realized,
                         "lower": v.lower, "upper": v.upper, "inside": v.inside}
                        for c, v in self.checked()],
            **context,
        }
        return Findings(name or NOTEBOOK, self.status, self.headline, self.metrics, details,
                        notebook=NOTEBOOK)

    # --- what a notebook shows ---------------------------------------------------------
    def _repr_html_(self) -> str:
        return _render.summary_html(self)

    def table(self, metrics: list[str] | None = None, period: str = "analysis") -> render.HTML:
        return _render.chunk_table(self, metrics, period)

    def chart(self, metric: str | None = None) -> Any:
        return _render.over_time_chart(self, metric)

    def estimate_table(self, metric: str | None = None) -> render.HTML:
        return _render.estimate_vs_realized(self, metric)

    def calibration_chart(self) -> Any:
        return _render.calibration_chart(self)

    def confusion(self) -> render.HTML:
        return _render.confusion_html(self)

    def segments_table(self) -> render.HTML:
        return _render.segments_html(self)

    def value_table(self) -> render.HTML:
        return _render.value_html(self)

    def metrics_table(self, period: str = "analysis") -> render.HTML:
        return _render.all_metrics_table(self, period)


METHODS = {
    "realized": "scikit-learn's definitions on the labeled rows of each chunk (ROC AUC and "
                "average precision over distinct scores; log loss with probabilities clipped "
                "to [eps, 1-eps]); ECE over 10 equal-width score bins",
    "estimated": "CBPE as nannyml 0.13: isotonic calibration on the reference when it lowers "
                 "the ECE in 10 held-out splits; expected confusion matrix per chunk",
    "band": "±3 standard errors around the estimate (else the realized value): nannyml's "
            "closed-form standard errors from the reference for the six estimated metrics, "
            "a seeded bootstrap of the reference (50 samples of up to 20,000 rows) for the "
            "others",
    "alert": "the chunk's value (realized where labels are known, else estimated) outside "
             "mean ± 3 std of the reference chunks",
}

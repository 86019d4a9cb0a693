"""Release readiness on public data that ships in a PyPI package: scikit-learn's breast cancer
set (569 patients, Wisconsin diagnostic data), scored out of fold by a logistic regression.

The challenger is degraded on purpose: a feature pipeline that lost every size and shape
input (radius, perimeter, area, concavity, ...) leaves it texture, smoothness, symmetry and
fractal dimension only. The review must catch
it in a shadow rollout (both versions score every patient) and in a canary; an honest re-fit
of the same model must not be held.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from workbench import release

PLAN = release.make_plan(kpis=[{"name": "auc", "margin": 0.005, "mde": 0.05}],
                         stages=[10, 50, 100])


@pytest.fixture(scope="module")
def scored() -> pl.DataFrame:
    data = load_breast_cancer(as_frame=True)
    x, y = data.data, 1 - data.target.to_numpy()  # 1 = malignant, the positive class

    def oof(features, seed: int) -> np.ndarray:
        model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2_000))
        folds = StratifiedKFold(5, shuffle=True, random_state=seed)
        return cross_val_predict(model, features, y, cv=folds, method="predict_proba")[:, 1]

    broken = x[[c for c in x.columns if any(k in c for k in ("texture", "smoothness",
                                                             "symmetry", "fractal"))]]
    return pl.DataFrame({
        "patient": np.arange(len(y)), "label": y,
        "champion": oof(x, 1), "refit": oof(x, 2), "degraded": oof(broken, 1),
        "texture": np.where(x["mean texture"] > x["mean texture"].median(), "high", "low"),
    })


def shadow_log(scored: pl.DataFrame, challenger: str) -> pl.DataFrame:
    rows = [scored.select("patient", "label", "texture", pl.col(col).alias("score"),
                          pl.lit(name).alias("version"))
            for name, col in (("v1", "champion"), ("v2", challenger))]
    return pl.concat(rows)


def test_the_degraded_model_really_is_worse(scored):
    y = scored["label"].to_numpy()
    assert roc_auc_score(y, scored["champion"]) > 0.98
    assert roc_auc_score(y, scored["degraded"]) < roc_auc_score(y, scored["champion"]) - 0.05


@pytest.mark.parametrize("challenger, caught", [("degraded", True), ("refit", False)])
def test_shadow_rollout_catches_the_degraded_model_and_not_a_refit(scored, challenger, caught):
    result = release.decide(shadow_log(scored, challenger), version_column="version",
                            champion="v1", challenger="v2", target="label", score="score",
                            request_id="patient", segments=["texture"], plan=PLAN)
    (auc,) = result.kpis
    y = scored["label"].to_numpy()
    assert auc.delta == pytest.approx(roc_auc_score(y, scored[challenger])
                                      - roc_auc_score(y, scored["champion"]), abs=1e-12)
    assert (result.decision in ("hold", "rollback")) is caught, result.reason
    if caught:
        assert auc.upper < 0 and auc.passed is False


def test_canary_catches_the_degraded_model(scored):
    # every patient served once, by one version chosen at random
    rng = np.random.default_rng(4)
    pick = rng.random(scored.height) < 0.5
    logs = pl.DataFrame({
        "version": np.where(pick, "v2", "v1"), "label": scored["label"],
        "score": np.where(pick, scored["degraded"], scored["champion"])})
    result = release.decide(logs, version_column="version", champion="v1", challenger="v2",
                            target="label", score="score", plan=PLAN)
    assert result.decision in ("hold", "rollback"), result.reason

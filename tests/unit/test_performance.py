"""workbench.performance: realized metrics equal scikit-learn's to 1e-9, undefined metrics
say so, bad input is one line, the CLI's JSON keeps its shape."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.linear_model import LinearRegression, LogisticRegression

from workbench import performance
from workbench.cli import cli
from workbench.errors import InputError
from workbench.findings import AreaResult, Findings

os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")
ROOT = Path(__file__).resolve().parents[2]
SCORING = ROOT / "data/sample/scoring"
TOL = 1e-9


def _ece(y, p):
    """ECE from sklearn's calibration curve (10 uniform bins), weighted by bin rows."""
    true, pred = calibration_curve(y, p, n_bins=10, strategy="uniform")
    edges = np.linspace(0, 1, 11)
    counts = np.bincount(np.searchsorted(edges[1:-1], p, side="left"), minlength=10)
    counts = counts[counts > 0]
    return float(np.sum(counts / len(p) * np.abs(true - pred)))


SKLEARN_BINARY = {
    "roc_auc": lambda y, p, d: skm.roc_auc_score(y, p),
    "average_precision": lambda y, p, d: skm.average_precision_score(y, p),
    "accuracy": lambda y, p, d: skm.accuracy_score(y, d),
    "precision": lambda y, p, d: skm.precision_score(y, d),
    "recall": lambda y, p, d: skm.recall_score(y, d),
    "specificity": lambda y, p, d: skm.recall_score(y, d, pos_label=0),
    "f1": lambda y, p, d: skm.f1_score(y, d),
    "log_loss": lambda y, p, d: skm.log_loss(y, p, labels=[0, 1]),
    "brier": lambda y, p, d: skm.brier_score_loss(y, p),
    "ece": lambda y, p, d: _ece(y, p),
}


def _check_binary(result, frame: pl.DataFrame, chunk_of, score, target, decision):
    checked = 0
    for chunk in result.analysis:
        part = frame.filter(chunk_of(chunk)).drop_nulls(target)
        if part.is_empty():
            assert all(v.realized is None and v.note == "no labels yet"
                       for v in chunk.metrics.values())
            continue
        y, p, d = part[target].to_numpy(), part[score].to_numpy(), part[decision].to_numpy()
        assert chunk.labeled_rows == part.height
        for name, fn in SKLEARN_BINARY.items():
            assert chunk.metrics[name].realized == pytest.approx(fn(y, p, d), abs=TOL), name
            checked += 1
        conf = chunk.confusion["realized"]
        tn, fp, fn_, tp = skm.confusion_matrix(y, d, labels=[0, 1]).ravel()
        assert (conf["tn"], conf["fp"], conf["fn"], conf["tp"]) == (tn, fp, fn_, tp)
        assert conf["positive_rate"] == pytest.approx(y.mean(), abs=TOL)
        assert conf["predicted_positive_rate"] == pytest.approx(d.mean(), abs=TOL)
    return checked


def test_realized_binary_metrics_equal_sklearn_on_the_demo_weeks():
    cur = pl.read_parquet(SCORING / "current.parquet").with_columns(
        (pl.col("score") >= 0.18).cast(pl.Int64).alias("d"))
    result = performance.evaluate(analysis=cur, reference=SCORING / "reference.parquet",
                                  target="label_default", score="score", threshold=0.18,
                                  timestamp="scored_at", window="week")
    assert [c.key for c in result.analysis] == ["2026-10-05", "2026-10-12", "2026-10-19",
                                                "2026-10-26"]

    def of(chunk):
        return pl.col("scored_at").dt.truncate("1w").dt.date().cast(pl.String) == chunk.key

    assert _check_binary(result, cur, of, "score", "label_default", "d") == 20


def test_realized_binary_metrics_equal_sklearn_on_breast_cancer_chunks_and_segments():
    data = load_breast_cancer(as_frame=True)
    x, y = data.data.to_numpy(), data.target.to_numpy()
    model = LogisticRegression(max_iter=5000).fit(x[::2], y[::2])
    p = np.round(model.predict_proba(x)[:, 1], 3)  # rounded: ties in the scores
    frame = pl.DataFrame({"p": p, "y": y, "d": (p >= 0.5).astype(int),
                          "size": np.where(x[:, 0] > 14, "large", "small")})
    result = performance.evaluate(analysis=frame, reference=frame[::2], target="y", score="p",
                                  chunk_size=100, segment="size")
    idx = pl.int_range(pl.len())

    def of(chunk):
        a, b = (int(v) for v in chunk.key.strip("[]").split(":"))
        return (idx >= a) & (idx <= b)

    assert _check_binary(result, frame, of, "p", "y", "d") == 60
    for seg in result.evaluation.segments:
        part = frame.filter(pl.col("size") == seg.value)
        assert seg.metrics["roc_auc"].realized == pytest.approx(
            skm.roc_auc_score(part["y"], part["p"]), abs=TOL)


def test_realized_binary_metrics_equal_sklearn_on_nannyml_synthetic_data():
    import nannyml as nml

    ref, ana, tgt = nml.load_synthetic_binary_classification_dataset()
    frame = pl.from_pandas(ana.merge(tgt, on="id").drop(columns=["timestamp"]))
    result = performance.evaluate(analysis=frame, reference=pl.from_pandas(
        ref.drop(columns=["timestamp"])), target="work_home_actual", score="y_pred_proba",
        prediction="y_pred", chunk_size=10_000)
    idx = pl.int_range(pl.len())

    def of(chunk):
        a, b = (int(v) for v in chunk.key.strip("[]").split(":"))
        return (idx >= a) & (idx <= b)

    assert _check_binary(result, frame, of, "y_pred_proba", "work_home_actual", "y_pred") == 50


def test_regression_metrics_equal_sklearn_on_diabetes():
    data = load_diabetes(as_frame=True)
    x, y = data.data.to_numpy(), data.target.to_numpy()
    pred = LinearRegression().fit(x[::2], y[::2]).predict(x)
    frame = pl.DataFrame({"pred": pred, "y": y})
    result = performance.evaluate(analysis=frame, reference=frame[::2], target="y",
                                  score="pred", problem="regression", chunk_size=150)
    assert result.to_dict()["problem"] == "regression"
    for i, chunk in enumerate(result.analysis):
        yy, pp = y[i * 150:(i + 1) * 150], pred[i * 150:(i + 1) * 150]
        expect = {"mae": skm.mean_absolute_error(yy, pp),
                  "rmse": skm.root_mean_squared_error(yy, pp),
                  "mape": skm.mean_absolute_percentage_error(yy, pp),
                  "r2": skm.r2_score(yy, pp), "median_ae": skm.median_absolute_error(yy, pp)}
        for name, value in expect.items():
            v = chunk.metrics[name]
            assert v.realized == pytest.approx(value, abs=TOL), name
            assert v.estimated is None and v.lower < v.realized < v.upper


def test_applying_the_calibration_equals_isotonic_predict_exactly():
    """The calibration is applied without scikit-learn's predict (its validation costs
    more than the interpolation at 10M rows): the numbers must be the same, bit for bit,
    on scores with ties, scores on the fitted thresholds, and scores outside the range."""
    from sklearn.isotonic import IsotonicRegression

    from workbench.performance._cbpe import Calibration

    rng = np.random.default_rng(0)
    for _ in range(60):
        n = int(rng.integers(2, 3000))
        p = np.round(rng.random(n), int(rng.integers(1, 6))) * 0.8 + 0.1
        y = (rng.random(n) < p ** rng.uniform(0.3, 3)).astype(int)
        reg = IsotonicRegression(out_of_bounds="clip", increasing=True).fit(p, y)
        t = np.r_[p, rng.random(500), np.round(rng.random(500), 2), 0.0, 1.0]
        assert np.array_equal(Calibration(True, "", reg)(t), reg.predict(t))


def test_a_chunk_with_one_class_says_so_and_is_never_a_pass():
    ref = pl.DataFrame({"p": [0.1, 0.9, 0.2, 0.8, 0.3, 0.7] * 20, "y": [0, 1, 0, 1, 0, 1] * 20})
    ana = pl.DataFrame({"p": [0.1, 0.2, 0.3, 0.4], "y": [0, 0, 0, 0]})
    result = performance.evaluate(analysis=ana, reference=ref, target="y", score="p",
                                  chunk_size=4, targets={"roc_auc": 0.7})
    auc = result.latest.metrics["roc_auc"]
    assert auc.realized is None and auc.note == "undefined: the labels have one class only"
    assert result.latest.metrics["accuracy"].realized == 1.0
    # the estimate stands in for the realized value, as for an unlabeled chunk
    assert result.status in {"fail", "warn", "unknown", "pass"}
    unlabeled = pl.DataFrame({"p": [0.1, 0.2, 0.3, 0.4]})
    none = performance.evaluate(analysis=unlabeled, reference=ref, target="y", score="p",
                                chunk_size=4, targets={"average_precision": 0.5})
    assert none.latest.metrics["average_precision"].note == "no labels yet"
    assert none.status == "unknown"
    assert "cannot be stated" in none.headline


def test_result_is_an_area_result_with_findings(tmp_path):
    result = performance.evaluate(
        analysis=SCORING / "current.parquet", reference=SCORING / "reference.parquet",
        labels=ROOT / "data/sample/performance/labels.parquet", id_column="application_id",
        target="label_default", score="score", threshold=0.18, timestamp="scored_at",
        window="week", segment="channel", targets={"roc_auc": 0.7},
        values={"tp": 0, "fp": -300, "tn": 450, "fn": -4000})
    assert isinstance(result, AreaResult)
    f = result.findings("perf_x")
    path = f.write(tmp_path)
    back = Findings.from_dict(json.loads(path.read_text()), name="perf_x")
    assert back.notebook == "model_performance" and back.status == result.status
    m = back.metrics
    assert back.metric("latest_estimated.roc_auc") == pytest.approx(
        result.latest.metrics["roc_auc"].estimated)
    assert m["latest_estimated_roc_auc"] == back.metric("latest_estimated.roc_auc")
    assert back.metric("latest_realized.roc_auc") is None  # the last week has no labels yet
    # the week after the partner change: labels arrived later, AUC fell, the estimate missed
    week3 = result.analysis[2].metrics["roc_auc"]
    assert week3.realized < 0.70 < week3.estimated and week3.inside is False
    assert m["lowest_realized_roc_auc"] == pytest.approx(week3.realized)
    assert m["estimate_coverage"] == pytest.approx(2 / 3)
    assert result.evaluation.segments[0].value == "broker"  # worst first
    assert result.latest.value["estimated"] is not None and result.latest.value["realized"] is None
    assert result.frame().height == (len(result.evaluation.chunks) * 10)
    # flat figures only: what gates and the pack's readers accept
    assert all(isinstance(v, int | float | bool) or v is None for v in m.values())
    assert "<script" not in result._repr_html_()


@pytest.mark.parametrize("case, message", [
    ("score_out_of_range", "score: expected a probability in [0, 1] in 'p', got 1.5"),
    ("three_classes", "y: expected a binary target (0 and 1) in 'y', got 3 classes: 0, 1, 2"),
    ("missing_column", "target: expected columns of this data, got 'label'"),
    ("reference_without_labels", "target: expected labels in the reference, got none"),
    ("duplicate_label_ids", "id_column: expected one label per id"),
    ("bad_window", "window: expected day, week or a number of days such as 3d, got 'month'"),
])
def test_bad_input_is_one_line_naming_file_and_field(tmp_path, case, message):
    ref = pl.DataFrame({"id": range(6), "p": [0.1, 0.9, 0.2, 0.8, 0.3, 0.7],
                        "y": [0, 1, 0, 1, 0, 1],
                        "t": pl.datetime_range(pl.datetime(2026, 1, 1), pl.datetime(2026, 1, 6),
                                               "1d", eager=True)})
    ana = ref.clone()
    kw: dict = {"target": "y", "score": "p"}
    if case == "score_out_of_range":
        ana = ana.with_columns(pl.Series("p", [0.1, 1.5, 0.2, 0.8, 0.3, 0.7]))
    elif case == "three_classes":
        ref = ref.with_columns(pl.Series("y", [0, 1, 2, 1, 0, 1]))
        kw["target"] = "y"
        message = message.replace("y: expected", "target: expected")
    elif case == "missing_column":
        kw["target"] = "label"
    elif case == "reference_without_labels":
        ref = ref.with_columns(pl.lit(None, pl.Int64).alias("y"))
    elif case == "duplicate_label_ids":
        labels = tmp_path / "labels.csv"
        pl.DataFrame({"id": [1, 1], "y": [0, 1]}).write_csv(labels)
        kw.update(labels=labels, id_column="id")
    elif case == "bad_window":
        kw.update(timestamp="t", window="month")
    ref_path, ana_path = tmp_path / "ref.parquet", tmp_path / "ana.parquet"
    ref.write_parquet(ref_path)
    ana.write_parquet(ana_path)
    with pytest.raises(InputError) as err:
        performance.evaluate(analysis=ana_path, reference=ref_path, **kw)
    assert message in str(err.value)
    assert "\n" not in str(err.value)
    # the command: one line on stderr, exit 2, no traceback
    flags = {"target": "--target", "score": "--score", "labels": "--labels",
             "id_column": "--id", "timestamp": "--timestamp", "window": "--window"}
    argv = ["performance", str(ref_path), str(ana_path)]
    for key, value in kw.items():
        argv += [flags[key], str(value)]
    res = CliRunner().invoke(cli, argv)
    assert res.exit_code == 2, res.output
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert res.stderr.startswith("workbench: error: ")


def test_cli_json_shape_and_bad_input_exit_code(tmp_path):
    runner = CliRunner()
    args = ["performance", str(SCORING / "reference.parquet"), str(SCORING / "current.parquet"),
            "--target", "label_default", "--score", "score", "--threshold", "0.18",
            "--timestamp", "scored_at", "--window", "week", "--segment", "region"]
    out = runner.invoke(cli, [*args, "--format", "json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["problem"] == "binary"
    analysis = [c for c in doc["chunks"] if c["period"] == "analysis"]
    assert [c["key"] for c in analysis] == ["2026-10-05", "2026-10-12", "2026-10-19",
                                            "2026-10-26"]
    for c in doc["chunks"]:
        assert set(c) >= {"key", "period", "start", "end", "rows", "labeled_rows", "metrics"}
        assert set(c["metrics"]) == set(performance.BINARY_METRICS)
        for v in c["metrics"].values():
            assert set(v) >= {"realized", "estimated", "lower", "upper", "alert"}
    assert analysis[3]["metrics"]["roc_auc"]["realized"] is None
    assert analysis[3]["metrics"]["roc_auc"]["estimated"] is not None
    assert {s["value"] for s in doc["segments"]} == {"NE", "SE", "MW", "SW", "W"}
    bad = runner.invoke(cli, [*args[:3], "--target", "nope", "--score", "score"])
    assert bad.exit_code == 2
    assert bad.stderr.count("\n") == 1 and "--target: expected columns" in bad.stderr
    alert = runner.invoke(cli, [*args, "--fail-on-alert"])
    assert alert.exit_code == 1 and "ALERT" not in alert.stderr


def test_compare_names_what_moved_between_two_versions():
    common = dict(reference=SCORING / "reference.parquet", target="label_default",
                  score="score", threshold=0.18, timestamp="scored_at", window="week",
                  targets={"roc_auc": 0.7})
    before = performance.evaluate(analysis=SCORING / "current.parquet", **common).findings()
    now = performance.evaluate(
        analysis=SCORING / "current.parquet",
        labels=ROOT / "data/sample/performance/labels.parquet", id_column="application_id",
        **common).findings()
    changes = {c.kind: c for c in performance.compare(before, now)}
    # the late labels revealed a worse week than the two labeled ones before
    worst = changes["worst realized ROC AUC"]
    assert worst.direction == "worse" and worst.after < worst.before
    assert changes["estimate coverage"].direction == "worse"
    assert performance.compare(now, now) == []


def test_isotonic_fit_on_sorted_scores_equals_scikit_learn_exactly():
    """The calibration fits on scores sorted once (merging equal scores itself) instead of
    scikit-learn's sort per fit: the thresholds and fitted range must be the same, bit for
    bit, with ties, scores nearer than 1e-15 (handed to scikit-learn) and one class."""
    from sklearn.isotonic import IsotonicRegression

    from workbench.performance._cbpe import fit_isotonic

    rng = np.random.default_rng(7)
    for i in range(80):
        n = int(rng.integers(1, 4000))
        p = rng.random(n) if i % 3 else np.round(rng.random(n), int(rng.integers(1, 4)))
        if i % 10 == 5:
            p[: n // 2] = 0.5 + rng.integers(0, 3, n // 2) * 1e-16
        y = (rng.random(n) < (p ** rng.uniform(0.3, 3) if i % 17 else 0)).astype(int)
        reg = IsotonicRegression(out_of_bounds="clip", increasing=True).fit(p, y)
        order = np.argsort(p, kind="stable")
        ours = fit_isotonic(p[order], y[order])
        assert np.array_equal(ours.x, reg.X_thresholds_)
        assert np.array_equal(ours.y, reg.y_thresholds_)
        assert (ours.x_min, ours.x_max) == (reg.X_min_, reg.X_max_)
        t = np.r_[p, rng.random(200), -1.0, 2.0]
        assert np.array_equal(ours(t), reg.predict(t))


def test_stratified_splits_equal_scikit_learn():
    """The calibration decision's splits are nannyml's (scikit-learn's
    StratifiedShuffleSplit, seed 42), drawn without its element-by-element lists."""
    from sklearn.model_selection import StratifiedShuffleSplit

    from workbench.performance._cbpe import stratified_splits

    rng = np.random.default_rng(9)
    for n in (20, 21, 333, 1000, 5001, 20_000):
        for share in (0.02, 0.3, 0.5):
            y = (rng.random(n) < share).astype(int)
            if min(y.sum(), n - y.sum()) < 2:
                continue
            theirs = StratifiedShuffleSplit(n_splits=10, test_size=0.1, random_state=42)
            pairs = zip(stratified_splits(y, n_splits=10, test_size=0.1, seed=42),
                        theirs.split(np.zeros(n), y), strict=True)
            for (a, b), (c, d) in pairs:
                assert np.array_equal(a, c) and np.array_equal(b, d)

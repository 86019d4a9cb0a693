"""The demo scenario: deterministic, committed as generated, and telling its story."""

from pathlib import Path

import polars as pl
import pytest

from workbench.sample import generate, scenario, scoring

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    generate(out)
    return out


def test_committed_sample_is_byte_identical_to_generator(regenerated):
    made = sorted(p.relative_to(regenerated) for p in regenerated.rglob("*") if p.is_file())
    committed = sorted(
        p.relative_to(SAMPLE)
        for p in SAMPLE.rglob("*")
        if p.is_file() and p != SAMPLE / "README.md"
    )
    assert made == committed
    for rel in made:
        assert (regenerated / rel).read_bytes() == (SAMPLE / rel).read_bytes(), rel


def test_sample_fits_the_repository_budget():
    total = sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file())
    assert total <= 10 * 1024 * 1024


def test_current_window_tells_the_story():
    cur = pl.read_parquet(SAMPLE / "scoring" / "current.parquet")
    assert cur.height == scenario.CURRENT_ROWS
    assert cur["scored_at"].min() >= scenario.CURRENT_START
    before = cur.filter(pl.col("scored_at") < scenario.DRIFT_START)
    after = cur.filter(pl.col("scored_at") >= scenario.DRIFT_START)
    broker = pl.col("channel") == "broker"
    assert after.select(broker.mean()).item() > 3 * before.select(broker.mean()).item()
    # percent-encoded DTI only while the broker feed was broken
    bad = cur.filter(pl.col("debt_to_income") > 1)
    assert bad.height > 100
    assert bad["scored_at"].min() >= scenario.DRIFT_START
    assert bad["scored_at"].max() < scenario.INCIDENT_RESOLVED
    # broker requests that errored during the incident were never logged
    lost = cur.filter(
        broker
        & pl.col("scored_at").is_between(
            scenario.INCIDENT_START, scenario.INCIDENT_MITIGATED, closed="left"
        )
    )
    assert lost.height == 0
    # defects a contract must catch
    assert cur["application_id"].is_duplicated().any()
    assert cur["credit_score"].null_count() > 0 and (cur["credit_score"] > 850).any()
    assert not cur["home_ownership"].is_in(list(scoring.HOME_OWNERSHIP)).all()
    assert (
        cur.filter(pl.col("scored_at") >= scenario.LABELS_UNTIL)["label_default"].null_count() > 0
    )


def test_scaled_sample_has_the_same_columns(tmp_path):
    paths = scoring.generate(tmp_path, rows=5_000)
    ref, cur = (pl.read_parquet(p) for p in paths)
    assert (ref.height, cur.height) == (2_500, 5_000)
    committed = pl.read_parquet_schema(SAMPLE / "scoring" / "current.parquet")
    assert cur.schema == pl.Schema(committed)
    assert len(scoring.NUMERICAL_FEATURES) == 20 and len(scoring.CATEGORICAL_FEATURES) == 5

"""The contract engine's two passes: counts from one materialised pass, failing rows by position.

Each test compares against an answer computed independently with plain polars on the whole
frame, so the shortcuts (key hashes, derived duplicate checks, reads by position) must give
exactly what a direct computation gives.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from test_contracts_checks import contract_file

from workbench.contracts import _engine, check
from workbench.render import MASK

N = 30_000


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    rng = np.random.default_rng(11)
    base = datetime(2026, 3, 1, tzinfo=UTC)
    return pl.DataFrame({
        "id": rng.integers(0, N * 3, N),                        # many repeats
        "grp": pl.Series(rng.choice(["a", "b", "c", ""], N)).replace("", None),
        "ts": [base + timedelta(minutes=int(m)) for m in rng.integers(0, 10_000, N)],
        "x": rng.normal(0, 1, N),
        "email": pl.Series(rng.choice(["a@b.io", "bad", "", "c@d.org"], N)).replace("", None),
    })


PROPS = [
    {"name": "id", "logicalType": "integer", "unique": True, "classification": "restricted"},
    {"name": "grp", "logicalType": "string", "required": True},
    {"name": "ts", "logicalType": "timestamp"},
    {"name": "x", "logicalType": "number", "logicalTypeOptions": {"minimum": -1.5}},
    {"name": "email", "logicalType": "string", "logicalTypeOptions": {"format": "email"}},
]
QUALITY = [
    # contains id: found among the rows whose id repeats, with no hash of its own
    {"id": "id_grp", "metric": "duplicateValues", "arguments": {"properties": ["id", "grp"]},
     "mustBe": 0},
    # shares no column with a checked key: needs its own hash
    {"id": "grp_email", "metric": "duplicateValues",
     "arguments": {"properties": ["grp", "email"]}, "mustBe": 0},
]


def expected_duplicates(df: pl.DataFrame, cols: list[str]) -> tuple[int, int]:
    """(duplicated keys, rows in them) over rows whose key parts are all present."""
    keyed = df.drop_nulls(cols)
    dups = keyed.filter(pl.len().over(cols) > 1)
    return dups.select(cols).n_unique() if dups.height else 0, dups.height


def run(tmp_path: Path, df: pl.DataFrame, as_parquet: bool = True, **kw):
    path = contract_file(tmp_path, PROPS, QUALITY)
    if as_parquet:
        data = tmp_path / "t.parquet"
        df.write_parquet(data, row_group_size=1_000)
        return check(path, data, **kw)
    return check(path, df, **kw)


def test_duplicate_checks_match_a_direct_grouping(tmp_path, frame):
    r = run(tmp_path, frame)
    for cid, cols in [("t.id.unique", ["id"]), ("t.id_grp", ["id", "grp"]),
                      ("t.grp_email", ["grp", "email"])]:
        keys, rows = expected_duplicates(frame, cols)
        assert keys > 0, cid
        c = r.check(cid)
        assert (c.observed, c.failed_rows, c.passed) == (keys, rows, False), cid
        assert len(c.samples) == 5
        assert all(s.get("id", MASK) == MASK for s in c.samples)  # restricted: masked
        dup_ts = frame.drop_nulls(cols).filter(pl.len().over(cols) > 1)["ts"]
        assert c.first_failed_at == dup_ts.min().isoformat()
        assert c.last_failed_at == dup_ts.max().isoformat()


def test_hash_collisions_never_count_as_duplicates(tmp_path, frame, monkeypatch):
    honest = run(tmp_path, frame).to_dict()
    # every key gets the same "hash": all rows become candidates, only exact grouping is left
    monkeypatch.setattr(_engine, "_key_hash", lambda cols: pl.when(
        pl.all_horizontal([pl.col(c).is_not_null() for c in cols])).then(pl.lit(7, pl.UInt64)))
    colliding = run(tmp_path, frame).to_dict()
    assert colliding == honest


def test_samples_are_the_first_failing_rows_in_file_order(tmp_path, frame):
    r = run(tmp_path, frame)
    bad = frame.with_row_index("i").filter(pl.col("x") < -1.5)
    c = r.check("t.x.minimum")
    assert c.failed_rows == bad.height
    assert [s["x"] for s in c.samples] == bad["x"].head(5).to_list()
    assert c.first_failed_at == bad["ts"].min().isoformat()
    assert c.last_failed_at == bad["ts"].max().isoformat()


@pytest.mark.parametrize("max_slices", [0, 16])
def test_reads_by_position_agree_with_an_in_memory_frame(tmp_path, frame, monkeypatch,
                                                         max_slices):
    """Parquet rows fetched by slicing a few row groups or by one filtered read, and rows
    taken from a frame in memory, give the same result."""
    monkeypatch.setattr(_engine, "_MAX_SLICES", max_slices)
    from_file = run(tmp_path, frame).to_dict()
    in_memory = run(tmp_path, frame, as_parquet=False).to_dict()
    for d in (from_file, in_memory):
        d.pop("dataset")
    assert from_file == in_memory


def test_positions_in_far_apart_row_groups(tmp_path):
    """Failing rows at both ends of a file: two clusters, two slices, rows in order."""
    n = 200_000
    df = pl.DataFrame({"id": np.arange(n), "x": np.zeros(n)}).with_columns(
        x=pl.when(pl.col("id").is_in([3, 4, n - 2])).then(-pl.col("id")).otherwise("x"),
        id=pl.when(pl.col("id") == n - 1).then(3).otherwise("id"))
    props = [{"name": "id", "logicalType": "integer", "unique": True},
             {"name": "x", "logicalType": "number", "logicalTypeOptions": {"minimum": 0}}]
    data = tmp_path / "far.parquet"
    df.write_parquet(data, row_group_size=10_000)
    r = check(contract_file(tmp_path, props), data)
    assert [s["x"] for s in r.check("t.x.minimum").samples] == [-3, -4, -(n - 2)]
    dup = r.check("t.id.unique")
    assert (dup.observed, dup.failed_rows) == (1, 2)
    assert [s["id"] for s in dup.samples] == [3, 3]


def test_data_with_no_failures_reads_nothing_twice(tmp_path, monkeypatch):
    df = pl.DataFrame({"id": np.arange(1_000), "x": np.ones(1_000)})
    props = [{"name": "id", "logicalType": "integer", "unique": True},
             {"name": "x", "logicalType": "number", "logicalTypeOptions": {"minimum": 0}}]

    def no_second_read(*_a, **_k):
        raise AssertionError("pass 2 ran although every check passed")

    monkeypatch.setattr(_engine, "_take", no_second_read)
    r = check(contract_file(tmp_path, props), df)
    assert r.passed and r.rows == 1_000

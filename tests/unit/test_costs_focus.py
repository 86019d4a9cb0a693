"""Cost-to-value on FOCUS exports written by focus-data-toolkit (AWS, Azure, GCP; FOCUS 1.2
and 1.3), in the shapes exports come in, against figures computed with DuckDB from the same
files (tests/fixtures/focus/README.md)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from click.testing import CliRunner

from workbench import costs
from workbench.cli import cli
from workbench.errors import InputError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "focus"
PROVIDERS = ("aws", "azure", "gcp")
MAY_END = date(2026, 5, 31)
# resources tagged as a team would: (model, stage, version); None = left untagged
ROLES = [("fraud_screen", "inference", "v1"), ("fraud_screen", "training", "v2"),
         ("churn", "inference", "v1"), ("churn", "feature_storage", "v1"),
         ("shared", "inference", None), None]
WORKLOADS = {"ingestion": ("fraud_screen", "data_processing"),
             "checkout": ("fraud_screen", "inference"), "analytics": ("churn", "training"),
             "billing": ("churn", "inference"), "search": ("churn", "monitoring")}
DAYS = pl.date_range(date(2026, 5, 1), MAY_END, "1d", eager=True)
USAGE = pl.DataFrame({"date": [*DAYS, *DAYS, *DAYS],
                      "model": ["fraud_screen"] * 62 + ["churn"] * 31,
                      "version": ["v1"] * 31 + ["v2"] * 31 + ["v1"] * 31,
                      "predictions": [6000] * 31 + [4000] * 31 + [5000] * 31})
VALUE = pl.DataFrame({"date": [*DAYS, *DAYS], "model": ["fraud_screen"] * 31 + ["churn"] * 31,
                      "value": [900.0] * 31 + [40.0] * 31})
BUDGETS = pl.DataFrame({"model": ["fraud_screen", "churn"], "month": ["2026-05", "2026-05"],
                        "budget": [9000.0, 4000.0]})
KEEP = costs.AllocationRules(split_shared=False)
# line items are summed as integer millionths; a few hundred of them round to well under a cent
CENT = 0.005


def _raw(provider: str, version: str = "1.3") -> pl.DataFrame:
    return pl.read_csv(FIXTURES / f"focus_{version.replace('.', '_')}_{provider}.csv.gz",
                       infer_schema=False)


def _tagged(provider: str, *, model_key: str = "model") -> pl.DataFrame:
    """The generator's file with model/stage/version added to Tags per resource, and split
    rows' AllocatedTags naming the workload's model while the host is tagged shared."""
    df = _raw(provider)
    resources = sorted(df["ResourceId"].drop_nulls().unique().to_list())
    role = {r: ROLES[i % len(ROLES)] for i, r in enumerate(resources)}

    def tags(resource: str | None, text: str | None, split: bool) -> str:
        out = json.loads(text) if text else {}
        found = ("shared", "inference", None) if split else role.get(resource)
        if found:
            out.update({model_key: found[0], "stage": found[1]})
            if found[2]:
                out["version"] = found[2]
        return json.dumps(out)

    def allocated(text: str | None) -> str | None:
        if not text:
            return None
        out = json.loads(text)
        model, stage = WORKLOADS[out["workload"]]
        return json.dumps({**out, model_key: model, "stage": stage, "version": "v1"})

    split = df["AllocatedTags"].is_not_null().to_list()
    return df.with_columns(
        pl.Series("Tags", [tags(r, t, s) for r, t, s in zip(df["ResourceId"], df["Tags"], split,
                                                           strict=True)]),
        pl.Series("AllocatedTags", [allocated(t) for t in df["AllocatedTags"]], pl.String))


def _duck(sql: str, path: Path) -> list[tuple]:
    reader = "read_parquet" if path.suffix == ".parquet" else "read_csv_auto"
    return duckdb.connect().execute(sql.replace("LEDGER", f"{reader}('{path}')")).fetchall()


def _compute(ledger, **kw) -> costs.CostResult:
    kw.setdefault("as_of", MAY_END)
    return costs.compute(ledger, USAGE, VALUE, BUDGETS, **kw)


# --- 1. types from the specification, only the columns read ---------------------------------

def test_a_cost_that_looks_whole_for_ten_thousand_rows_is_still_a_decimal(tmp_path):
    head = _raw("aws").head(1)
    rows = pl.concat([head.with_columns(pl.lit("1").alias("EffectiveCost"))] * 10_050
                     + [head.with_columns(pl.lit("160.16373081000000").alias("EffectiveCost"))])
    # BilledCost holds text the analysis never reads: it must not be parsed, let alone refused
    rows = rows.with_columns(pl.lit("n/a").alias("BilledCost"))
    path = tmp_path / "whole.csv"
    rows.write_csv(path)
    result = _compute(path, as_of=None)
    expected = _duck("SELECT SUM(CAST(EffectiveCost AS DOUBLE)) FROM LEDGER", path)[0][0]
    assert result.line_items == 10_051
    assert result.items["cost"].sum() == pytest.approx(expected, abs=CENT)
    # asked for, BilledCost is read and its bad value named
    with pytest.raises(InputError, match=r"whole.csv: BilledCost: expected a number .*'n/a'"):
        _compute(path, rules=costs.AllocationRules(cost_column="BilledCost"))


def test_date_like_text_outside_the_date_columns_stays_text(tmp_path):
    df = _tagged("gcp").with_columns(pl.lit("2026-05-01").alias("ResourceName"),
                                     pl.lit("2026-05-02T00:00:00Z").alias("ServiceName"))
    path = tmp_path / "dates.csv"
    df.write_csv(path)
    from workbench.costs import _focus

    ledger = _focus.open_ledger(path)
    schema = ledger.frame.collect_schema()
    assert schema["ServiceName"] == pl.String and schema["ChargePeriodStart"] == pl.String
    assert schema["EffectiveCost"] == pl.Float64 and schema["PricingQuantity"] == pl.Float64
    assert _compute(path).anomaly_scores["service"].unique().to_list() == ["2026-05-02T00:00:00Z"]


def test_the_csv_is_read_without_guessing_types(tmp_path, monkeypatch):
    calls = []
    real = pl.scan_csv

    def spy(*args, **kw):
        calls.append(kw)
        return real(*args, **kw)

    monkeypatch.setattr(pl, "scan_csv", spy)
    _compute(FIXTURES / "focus_1_3_aws.csv.gz")
    assert calls and all(kw.get("infer_schema") is False for kw in calls)
    assert not any(kw.get("try_parse_dates") for kw in calls)


@pytest.mark.parametrize(("provider", "version"), [("aws", "1.3"), ("azure", "1.3"),
                                                   ("gcp", "1.3"), ("gcp", "1.2")])
def test_the_focus_version_a_file_looks_like(provider, version):
    from workbench.costs import _focus

    path = FIXTURES / f"focus_{version.replace('.', '_')}_{provider}.csv.gz"
    assert _focus.open_ledger(path).focus_version == version
    assert _compute(path).to_dict()["focus_version"] == version
    assert _focus.focus_version(["Foo", "Bar"]) is None


# --- 3. shapes ------------------------------------------------------------------------------

def _shapes(df: pl.DataFrame, tmp_path: Path) -> dict[str, Path | str]:
    plain = tmp_path / "plain.csv"
    df.write_csv(plain)
    gz = tmp_path / "export.csv.gz"
    import gzip
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    parts = tmp_path / "parts" / "billing_period=2026-05"
    parts.mkdir(parents=True)
    half = df.height // 2
    df.head(half).write_parquet(parts / "part-0.parquet")
    df.tail(df.height - half).write_parquet(parts / "part-1.parquet")
    csv_parts = tmp_path / "csvparts"
    csv_parts.mkdir()
    df.head(half).write_csv(csv_parts / "a.csv")
    df.tail(df.height - half).write_csv(csv_parts / "b.csv")
    return {"csv": plain, "csv.gz": gz, "parquet folder": tmp_path / "parts",
            "glob": str(csv_parts / "*.csv")}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_shape_gives_the_duckdb_totals(provider, tmp_path):
    df = _tagged(provider)
    plain = tmp_path / "expected.csv"
    df.write_csv(plain)
    total = _duck("SELECT SUM(CAST(EffectiveCost AS DOUBLE)) FROM LEDGER", plain)[0][0]
    per_model = dict(_duck("""
        SELECT json_extract_string(COALESCE(AllocatedTags, Tags), '$.model') AS m,
               SUM(CAST(EffectiveCost AS DOUBLE)) FROM LEDGER GROUP BY m""", plain))
    for shape, path in _shapes(df, tmp_path).items():
        result = _compute(path, rules=KEEP)
        alloc = result.allocation
        assert alloc["total_cost"] == pytest.approx(total, abs=CENT), shape
        assert alloc["shared_cost"] == pytest.approx(per_model["shared"], abs=CENT), shape
        assert alloc["untagged_cost"] == pytest.approx(per_model[None], abs=CENT), shape
        models = dict(result.models.select("model", "cost").rows())
        for model in ("fraud_screen", "churn"):
            assert models[model] == pytest.approx(per_model[model], abs=CENT), (shape, model)
        assert result.line_items == df.height, shape


def test_tags_as_a_parquet_map_and_as_a_key_value_list(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    df = _tagged("aws").drop("AllocatedTags")
    expected = _compute(df, rules=KEEP).models.select("model", "cost")
    pairs = [sorted(json.loads(t).items()) for t in df["Tags"]]
    pairs = [[(k, str(v)) for k, v in p] for p in pairs]
    base = df.drop("Tags").to_arrow()
    as_map = base.append_column("Tags", pa.array(pairs, pa.map_(pa.string(), pa.string())))
    pq.write_table(as_map, tmp_path / "aws_map.parquet")        # AWS Data Exports
    labels = [[{"key": k, "value": v} for k, v in p] for p in pairs]
    kv = pa.list_(pa.struct([("key", pa.string()), ("value", pa.string())]))
    pq.write_table(base.append_column("Tags", pa.array(labels, kv)), tmp_path / "gcp.parquet")
    for name in ("aws_map.parquet", "gcp.parquet"):
        result = _compute(tmp_path / name, rules=KEEP)
        assert result.models.select("model", "cost").equals(expected), name
        assert not [w for w in result.warnings if "Tags" in w]


def test_tags_that_are_not_key_values_are_named_in_a_warning():
    df = _tagged("azure").with_columns(pl.lit("model=fraud_screen;stage=training").alias("Tags"),
                                       pl.lit(None, pl.String).alias("AllocatedTags"))
    result = _compute(df)
    [line] = [w for w in result.warnings if "Tags" in w]
    assert f"Tags on {df.height:,} line items" in line and "'model=fraud_screen" in line
    assert "not JSON key-values" in line and "untagged" in line
    assert result.allocation["untagged_cost"] == pytest.approx(result.allocation["total_cost"])


def test_conditional_columns_never_read_are_not_required(tmp_path):
    df = _tagged("gcp").drop("ResourceName", "ResourceId", "ServiceCategory", "BilledCost")
    path = tmp_path / "lean.parquet"
    df.write_parquet(path)
    assert _compute(path).line_items == df.height
    df.drop("Tags").write_parquet(path)
    with pytest.raises(InputError, match="lean.parquet: Tags: .*column missing"):
        _compute(path)


# --- 4. charges spread over their period ----------------------------------------------------

_PRORATED = """
WITH items AS (
  SELECT ServiceName AS service, CAST(EffectiveCost AS DOUBLE) AS cost,
         CAST(ChargePeriodStart AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS s,
         CAST(ChargePeriodEnd AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS e FROM LEDGER),
days AS (
  SELECT service, cost, s, e, UNNEST(range(date_trunc('day', s), e, INTERVAL 1 DAY)) AS d
  FROM items)
SELECT service, CAST(d AS DATE) AS day,
       SUM(cost * epoch(LEAST(e, d + INTERVAL 1 DAY) - GREATEST(s, d)) / epoch(e - s))
FROM days GROUP BY ALL ORDER BY ALL
"""


@pytest.mark.parametrize("provider", PROVIDERS)
def test_charges_are_spread_evenly_over_their_period(provider, tmp_path):
    path = tmp_path / f"{provider}.csv"
    _tagged(provider).write_csv(path)
    expected = pl.DataFrame(_duck(_PRORATED, path), schema=["service", "date", "cost"],
                            orient="row")
    result = _compute(path)
    got = result.anomaly_scores.select("service", "date", "cost")
    joined = expected.join(got, on=["service", "date"], how="full", coalesce=True)
    assert joined["cost"].null_count() == 0 and joined["cost_right"].null_count() == 0
    assert (joined["cost"] - joined["cost_right"]).abs().max() < CENT
    # a month of storage is not a spike on the 1st: no service is flagged on 1 May for it
    monthly = _duck("""SELECT DISTINCT ServiceName FROM LEDGER WHERE
        CAST(ChargePeriodEnd AS TIMESTAMPTZ) - CAST(ChargePeriodStart AS TIMESTAMPTZ)
        > INTERVAL 27 DAY""", path)
    assert monthly
    flagged = result.anomalies.filter(pl.col("date") == date(2026, 5, 1))["service"].to_list()
    assert not set(flagged) & {m[0] for m in monthly}


def test_month_to_date_cost_counts_only_the_days_up_to_as_of(tmp_path):
    path = tmp_path / "aws.csv"
    _tagged("aws").write_csv(path)
    as_of = date(2026, 5, 15)
    mtd = dict(_duck(_PRORATED.replace("SELECT service, CAST(d AS DATE) AS day,", """
        SELECT json_extract_string(t, '$.model') AS m,""").replace(
        "AS e FROM LEDGER)", "AS e, COALESCE(AllocatedTags, Tags) AS t FROM LEDGER)").replace(
        "SELECT service, cost, s, e,", "SELECT t, cost, s, e,").replace(
        "FROM days GROUP BY ALL", "FROM days WHERE d < DATE '2026-05-16' GROUP BY ALL"), path))
    result = _compute(path, as_of=as_of, rules=KEEP)
    budget = dict(result.budget.select("model", "month_to_date_cost").rows())
    for model in ("fraud_screen", "churn"):
        assert budget[model] == pytest.approx(mtd[model], abs=CENT)


def test_anomalies_are_scored_only_over_days_with_data_for_the_service():
    # a quiet service billed on 5 of 30 days, and a late correction dated a month earlier:
    # its 25 empty days are not zero-cost days, so its ordinary days are not anomalies
    days = [date(2026, 5, d) for d in range(1, 31)]
    daily = pl.DataFrame({"service": ["busy"] * 30 + ["quiet"] * 5,
                          "date": days + days[::6],
                          "cost": [100.0 + (d % 3) for d in range(30)] + [40.0, 41, 39, 40, 42]})
    scores = costs.anomaly_scores(daily, costs.Methods(min_anomaly_days=5))
    assert scores.filter(pl.col("service") == "quiet").height == 5
    assert not scores["flagged"].any()
    assert "days that hold cost data" in costs.Methods().describe()["anomalies"]
    assert "ChargePeriodEnd" in costs.Methods().describe()["proration"]


# --- 5. FOCUS 1.3 split cost allocation -----------------------------------------------------

@pytest.mark.parametrize("provider", PROVIDERS)
def test_split_rows_are_charged_to_the_workloads_tags(provider):
    df = _tagged(provider)
    split = df.filter(pl.col("AllocatedTags").is_not_null())
    assert split.height
    result = _compute(df, rules=KEEP)
    by_workload = (split.with_columns(pl.col("AllocatedTags").str.json_path_match("$.model")
                                      .alias("m"), pl.col("EffectiveCost").cast(pl.Float64))
                   .group_by("m").agg(pl.col("EffectiveCost").sum()))
    host_tagged = _compute(df.with_columns(pl.lit(None, pl.String).alias("AllocatedTags")),
                           rules=KEEP)
    for model, cost in by_workload.rows():
        moved = (result.models.filter(pl.col("model") == model)["cost"][0]
                 - host_tagged.models.filter(pl.col("model") == model)["cost"][0])
        assert moved == pytest.approx(cost, abs=CENT)
    assert result.split_allocation["line_items"] == split.height
    assert result.to_dict()["split_allocation"]["cost"] == pytest.approx(
        split["EffectiveCost"].cast(pl.Float64).sum(), abs=CENT)


# --- 6. warnings, breakdowns, tag keys ------------------------------------------------------

def test_case_only_tag_keys_are_read_and_warned_about():
    result = _compute(_tagged("gcp", model_key="Model"), rules=KEEP)
    assert any("Tags key 'Model' differs from 'model' only in case" in w
               for w in result.warnings)
    assert set(result.models["model"]) >= {"fraud_screen", "churn"}


def test_model_names_that_match_no_tag_are_warned_with_the_closest():
    usage = USAGE.with_columns(pl.col("model").replace("fraud_screen", "Fraud Screen"))
    budgets = BUDGETS.with_columns(pl.Series("month", ["May 2026", "2026-05"]))
    result = costs.compute(_tagged("aws"), usage, VALUE, budgets, as_of=MAY_END)
    assert ("usage: model 'Fraud Screen' matches no 'model' tag in the ledger "
            "(closest: 'fraud_screen')") in result.warnings
    assert "budgets: month 'May 2026' on 1 row is not YYYY-MM; that budget is not used" \
        in result.warnings
    assert result.to_dict()["warnings"] == list(result.warnings)


def test_purchase_rows_with_effective_cost_are_flagged_and_categories_broken_down():
    df = _tagged("azure")
    result = _compute(df)
    purchases = df.filter((pl.col("ChargeCategory") == "Purchase")
                          & (pl.col("EffectiveCost").cast(pl.Float64) != 0))
    assert purchases.height
    assert any(f"{purchases.height:,} Purchase line items carry a non-zero EffectiveCost" in w
               for w in result.warnings)
    expected = (df.group_by("ChargeCategory").agg(pl.col("EffectiveCost").cast(pl.Float64).sum(),
                                                  pl.len()).sort("ChargeCategory"))
    got = result.to_dict()["charge_categories"]
    assert [g["charge_category"] for g in got] == expected["ChargeCategory"].to_list()
    for g, (_, cost, n) in zip(got, expected.rows(), strict=True):
        assert g["cost"] == pytest.approx(cost, abs=CENT) and g["line_items"] == n
    billed = _compute(df, rules=costs.AllocationRules(cost_column="BilledCost"))
    assert not any("Purchase" in w for w in billed.warnings)
    html = result._repr_html_()
    assert "Purchase line items" in html and "charge category" in html


def test_stage_breakdown_in_the_json_sums_to_the_total():
    result = _compute(_tagged("gcp"))
    stages = result.to_dict()["stages"]
    assert {"inference", "training", "data_processing"} <= {s["stage"] for s in stages}
    assert sum(s["cost"] for s in stages) == pytest.approx(result.allocation["total_cost"])


def test_cli_tag_keys_and_warnings(tmp_path):
    path = tmp_path / "ledger.parquet"
    _tagged("aws", model_key="ml-model").write_parquet(path)
    side = []
    for name, frame in (("usage", USAGE), ("value", VALUE), ("budgets", BUDGETS)):
        frame.write_csv(tmp_path / f"{name}.csv")
        side += [f"--{name}", str(tmp_path / f"{name}.csv")]
    run = CliRunner().invoke(cli, ["cost", str(path), *side, "--as-of", "2026-05-31",
                                   "--model-tag", "ml-model", "--format", "json"])
    assert run.exit_code == 0, run.output
    out = json.loads(run.stdout)
    assert out["rules"]["model_tag"] == "ml-model"
    assert {m["model"] for m in out["models"]} >= {"fraud_screen", "churn"}
    assert out["focus_version"] == "1.3" and "stages" in out and "charge_categories" in out
    table = CliRunner().invoke(cli, ["cost", str(path), *side, "--model-tag", "ml-model"])
    assert "warning: " in table.stdout and "Purchase line items" in table.stdout


def test_allocated_tags_in_another_shape_than_tags(tmp_path):
    df = _tagged("gcp")
    as_struct = df.with_columns(pl.col("AllocatedTags").str.json_decode(
        pl.Struct({"model": pl.String, "stage": pl.String, "version": pl.String})))
    expected = _compute(df, rules=KEEP).models.select("model", "cost")
    assert _compute(as_struct, rules=KEEP).models.select("model", "cost").equals(expected)
    as_list = df.with_columns(pl.col("AllocatedTags").map_elements(
        lambda t: [{"key": k, "value": v} for k, v in json.loads(t).items()],
        return_dtype=pl.List(pl.Struct({"key": pl.String, "value": pl.String}))))
    result = _compute(as_list, rules=KEEP)
    assert any("AllocatedTags is stored as" in w and "host's Tags" in w for w in result.warnings)


def test_an_unreadable_charge_period_end_is_named(tmp_path):
    df = _raw("aws")
    path = tmp_path / "bad_end.csv"
    df.with_columns(pl.when(pl.int_range(pl.len()) == 7).then(pl.lit("soon"))
                    .otherwise(pl.col("ChargePeriodEnd")).alias("ChargePeriodEnd")).write_csv(path)
    with pytest.raises(InputError, match=r"bad_end.csv: ChargePeriodEnd: expected an ISO 8601 "
                                         r"date-time on every line item, got '1 empty"):
        _compute(path)


def test_cli_table_on_a_glob_whose_ledger_names_no_model(tmp_path):
    for provider in ("aws", "azure"):
        (tmp_path / f"focus_{provider}.csv.gz").write_bytes(
            (FIXTURES / f"focus_1_3_{provider}.csv.gz").read_bytes())
    side = []
    for name, frame in (("usage", USAGE), ("value", VALUE), ("budgets", BUDGETS)):
        frame.write_csv(tmp_path / f"{name}.csv")
        side += [f"--{name}", str(tmp_path / f"{name}.csv")]
    run = CliRunner().invoke(cli, ["cost", str(tmp_path / "focus_*.csv.gz"), *side])
    assert run.exit_code == 0, run.output
    assert "matches no 'model' tag in the ledger (no model tags at all)" in run.stdout


def test_parquet_shortcuts_give_the_figures_of_the_text_path(tmp_path):
    """A Parquet ledger with typed date-times is grouped by day alone when no charge runs
    past its start day, and the specification's charge categories are grouped as numbers
    (any other value by its text): each shortcut gives the figures the CSV path gives."""
    df = _tagged("aws")
    when = pl.col("ChargePeriodStart", "ChargePeriodEnd").str.to_datetime(
        time_unit="us", time_zone="UTC")
    typed = df.with_columns(when)
    one_day = typed.filter(pl.col("ChargePeriodEnd") - pl.col("ChargePeriodStart")
                           <= pl.duration(days=1))
    assert 0 < one_day.height < typed.height
    odd = one_day.with_columns(pl.when(pl.int_range(pl.len()) % 7 == 0).then(pl.lit("usage"))
                               .otherwise(pl.col("ChargeCategory")).alias("ChargeCategory"))
    for label, frame in (("one_day", one_day), ("spread", typed), ("odd", odd)):
        pq_path, csv_path = tmp_path / f"{label}.parquet", tmp_path / f"{label}.csv"
        frame.write_parquet(pq_path)
        frame.with_columns(pl.col("ChargePeriodStart", "ChargePeriodEnd")
                           .dt.strftime("%Y-%m-%dT%H:%M:%SZ")).write_csv(csv_path)
        fast, text = _compute(pq_path), _compute(csv_path)
        assert fast.metrics == text.metrics, label
        assert fast.to_dict()["charge_categories"] == text.to_dict()["charge_categories"]
        assert fast.daily.equals(text.daily) and fast.anomaly_scores.equals(text.anomaly_scores)
    assert "usage" in [c["charge_category"] for c in fast.to_dict()["charge_categories"]]

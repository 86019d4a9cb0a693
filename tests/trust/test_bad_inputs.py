"""Part 5: malformed inputs across the four areas and pack specs, one table.

Each case writes one broken input next to good `workbench sample` data, runs the area's
CLI (or ``pack build``) in-process and expects: exit 2, exactly one stderr line naming
the file and the field, no traceback. Everything runs against a reports dir that already
holds a published pack, which must be byte-for-byte unchanged afterwards.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
import yaml
from click.testing import CliRunner

from workbench.cli import cli

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclass(frozen=True)
class Case:
    id: str
    make: Callable[[Path], list[str]]  # writes the bad input under the dir, returns CLI args
    file: str  # must appear in the message (file name)
    field: str  # must appear in the message (field, column or option)


# ---------------------------------------------------------------- helpers on good data


def _csv(d: Path) -> Path:
    """The sample's current scoring data as CSV (a few columns), the base for CSV cases."""
    out = d / "scores.csv"
    (
        pl.read_parquet(d / "data" / "scoring" / "current.parquet")
        .select("application_id", "scored_at", "channel", "credit_score", "score")
        .head(300)
        .write_csv(out)
    )
    return out


def _contract(d: Path) -> Path:
    return d / "data" / "contracts" / "loan_scoring.odcs.yaml"


def _edit_yaml(path: Path, edit: Callable[[dict], None], out: Path) -> Path:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(doc)
    out.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return out


def _prop(doc: dict, name: str) -> dict:
    return next(p for p in doc["schema"][0]["properties"] if p["name"] == name)


def _cost_args(d: Path, **override: Path) -> list[str]:
    c = d / "data" / "costs"
    files = {
        "ledger": c / "focus_costs.parquet",
        "usage": c / "usage.csv",
        "value": c / "value.csv",
        "budgets": c / "budgets.csv",
    }
    files.update(override)
    return [
        "cost", str(files["ledger"]), "--usage", str(files["usage"]), "--value",
        str(files["value"]), "--budgets", str(files["budgets"]),
    ]


def _ledger_csv(d: Path, edit: Callable[[pl.DataFrame], pl.DataFrame], name: str) -> Path:
    df = pl.read_parquet(d / "data" / "costs" / "focus_costs.parquet").head(400)
    out = d / name
    edit(df).write_csv(out)
    return out


def _record(d: Path) -> Path:
    return d / "data" / "incidents" / "INC-2026-1019.yaml"


def _spec(d: Path, edit: Callable[[dict], None] | None = None, text: str | None = None) -> Path:
    out = d / "bad.yml"
    if text is not None:
        out.write_text(text, encoding="utf-8")
        return out
    doc = {
        "name": "tiny",
        "title": "Tiny",
        "notebooks": [{"name": "a", "path": str(FIXTURES / "tiny.ipynb"), "parameters": {}}],
    }
    if edit:
        edit(doc)
    out.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return out


def _build(spec: Path) -> list[str]:
    return ["pack", "build", str(spec), "--out", str(spec.parent.parent.parent / "reports")]


# ------------------------------------------------------------------------------ cases


def _contract_ragged(d: Path) -> list[str]:
    p = _csv(d)
    lines = p.read_text().splitlines()
    lines[7] += ",surplus,fields"
    p.write_text("\n".join(lines) + "\n")
    return ["contract", "check", str(_contract(d)), str(p)]


def _cost_type_change(d: Path) -> list[str]:
    src = d / "data" / "costs" / "usage.csv"
    lines = src.read_text().splitlines()
    body = lines[1:] * 60  # far more rows than type inference reads
    body[-1] = body[-1].rsplit(",", 1)[0] + ",n/a"
    p = d / "usage_late.csv"
    p.write_text("\n".join([lines[0], *body]) + "\n")
    return _cost_args(d, usage=p)


def _latin1(d: Path) -> list[str]:
    p = _csv(d)
    p.write_bytes(p.read_text().replace("web", "wéb").encode("utf-16"))
    return ["contract", "check", str(_contract(d)), str(p)]


def _empty_data(d: Path) -> list[str]:
    p = d / "scores.csv"
    p.write_bytes(b"")
    return ["contract", "check", str(_contract(d)), str(p)]


def _contract_invalid_yaml(d: Path) -> list[str]:
    p = d / "broken.odcs.yaml"
    p.write_text("apiVersion: v3.1.0\nkind: DataContract\nschema: [\n  - name: x\n")
    return ["contract", "check", str(p), str(_csv(d))]


def _contract_unknown_rule(d: Path) -> list[str]:
    def edit(doc):
        _prop(doc, "credit_score").setdefault("quality", []).append(
            {"metric": "frobnicateValues", "mustBe": 0}
        )

    p = _edit_yaml(_contract(d), edit, d / "rule.odcs.yaml")
    return ["contract", "check", str(p), str(d / "data" / "scoring" / "current.parquet")]


def _contract_wrong_type(d: Path) -> list[str]:
    def edit(doc):
        _prop(doc, "credit_score")["logicalTypeOptions"] = {"minimum": "low"}

    p = _edit_yaml(_contract(d), edit, d / "type.odcs.yaml")
    return ["contract", "check", str(p), str(d / "data" / "scoring" / "current.parquet")]


def _drift_missing(d: Path) -> list[str]:
    return ["drift", str(d / "nowhere.parquet"), str(d / "data" / "scoring" / "current.parquet")]


def _drift_empty(d: Path) -> list[str]:
    p = d / "empty.csv"
    p.write_text("")
    return ["drift", str(d / "data" / "scoring" / "reference.parquet"), str(p)]


def _drift_missing_column(d: Path) -> list[str]:
    p = d / "current_no_score.parquet"
    pl.read_parquet(d / "data" / "scoring" / "current.parquet").drop("score").write_parquet(p)
    return ["drift", str(d / "data" / "scoring" / "reference.parquet"), str(p),
            "--columns", "score,channel"]


def _drift_unknown_method(d: Path) -> list[str]:
    s = d / "data" / "scoring"
    return ["drift", str(s / "reference.parquet"), str(s / "current.parquet"),
            "--method", "score=frobnicate"]


def _drift_threshold_type(d: Path) -> list[str]:
    s = d / "data" / "scoring"
    return ["drift", str(s / "reference.parquet"), str(s / "current.parquet"),
            "--threshold", "score=high"]


def _drift_unknown_column_param(d: Path) -> list[str]:
    s = d / "data" / "scoring"
    return ["drift", str(s / "reference.parquet"), str(s / "current.parquet"),
            "--method", "no_such_column=ks"]


def _cost_missing_column(d: Path) -> list[str]:
    p = _ledger_csv(d, lambda df: df.drop("EffectiveCost"), "ledger_nocol.csv")
    return _cost_args(d, ledger=p)


def _cost_nan_inf(d: Path) -> list[str]:
    def edit(df):
        vals = df["EffectiveCost"].to_list()
        vals[5] = float("inf")
        return df.with_columns(pl.Series("EffectiveCost", vals))

    return _cost_args(d, ledger=_ledger_csv(d, edit, "ledger_inf.csv"))


def _cost_budget_type(d: Path) -> list[str]:
    p = d / "budgets_bad.csv"
    text = (d / "data" / "costs" / "budgets.csv").read_text().splitlines()
    text[2] = text[2].rsplit(",", 1)[0] + ",lots"
    p.write_text("\n".join(text) + "\n")
    return _cost_args(d, budgets=p)


def _cost_usage_extra_columns_ragged(d: Path) -> list[str]:
    p = d / "usage_ragged.csv"
    lines = (d / "data" / "costs" / "usage.csv").read_text().splitlines()
    lines[4] = lines[4] + ",999,extra"
    p.write_text("\n".join(lines) + "\n")
    return _cost_args(d, usage=p)


def _cost_month(d: Path) -> list[str]:
    return [*_cost_args(d), "--month", "2026-13"]


def _incident_invalid_yaml(d: Path) -> list[str]:
    p = d / "INC-bad.yaml"
    p.write_text("id: INC-1\ntitle: [unclosed\nseverity: SEV2\n")
    return ["incident", "analyze", str(p)]


def _incident_missing_field(d: Path) -> list[str]:
    p = _edit_yaml(_record(d), lambda doc: doc.pop("started_at"), d / "INC-nostart.yaml")
    return ["incident", "analyze", str(p), "--as-of", "2026-11-02"]


def _incident_wrong_type(d: Path) -> list[str]:
    def edit(doc):
        doc["impact"]["users_affected"] = "lots of them"

    p = _edit_yaml(_record(d), edit, d / "INC-type.yaml")
    return ["incident", "analyze", str(p), "--as-of", "2026-11-02"]


def _incident_events_mixed_tz(d: Path) -> list[str]:
    src = d / "data" / "incidents" / "INC-2026-1019" / "events.csv"
    lines = src.read_text().splitlines()
    lines[2] = lines[2].replace("Z,", ",", 1)  # one naive timestamp among UTC ones
    p = d / "events_tz.csv"
    p.write_text("\n".join(lines) + "\n")
    return ["incident", "analyze", str(_record(d)), "--events", str(p), "--as-of", "2026-11-02"]


def _incident_slis_all_null(d: Path) -> list[str]:
    src = d / "data" / "incidents" / "INC-2026-1019" / "slis.csv"
    df = pl.read_csv(src).head(500)
    p = d / "slis_null.csv"
    df.with_columns(pl.lit(None, dtype=pl.Int64).alias("requests")).write_csv(p)
    return ["incident", "analyze", str(_record(d)), "--slis", str(p), "--as-of", "2026-11-02"]


def _incident_slo_unknown_field(d: Path) -> list[str]:
    src = d / "data" / "incidents" / "INC-2026-1019" / "slos.yaml"

    def edit(doc):
        doc["availability"]["target"] = 1.5

    p = _edit_yaml(src, edit, d / "slos_bad.yaml")
    return ["incident", "analyze", str(_record(d)), "--slos", str(p), "--as-of", "2026-11-02"]


def _spec_invalid_yaml(d: Path) -> list[str]:
    return _build(_spec(d, text="name: tiny\nnotebooks:\n  - name: a\n    path: [x\n"))


def _spec_unknown_parameter(d: Path) -> list[str]:
    return _build(_spec(d, lambda s: s["notebooks"][0]["parameters"].update(colour="red")))


def _spec_wrong_parameter_type(d: Path) -> list[str]:
    return _build(_spec(d, lambda s: s["notebooks"][0].update(timeout="ten minutes")))


def _spec_unknown_gate_op(d: Path) -> list[str]:
    gate = {"id": "g", "title": "G", "notebook": "a", "metric": "rows", "op": "~=", "value": 1}
    return _build(_spec(d, lambda s: s.update(gates=[gate])))


def _spec_missing_notebook(d: Path) -> list[str]:
    return _build(_spec(d, lambda s: s["notebooks"][0].update(path="missing.ipynb")))


def _spec_missing_file(d: Path) -> list[str]:
    return _build(d / "no-such-spec.yml")


CASES = [
    # contracts
    Case("contract-missing-data", lambda d: ["contract", "check", str(_contract(d)),
                                             str(d / "gone.csv")], "gone.csv", "gone.csv"),
    Case("contract-empty-data", _empty_data, "scores.csv", "scores.csv"),
    Case("contract-wrong-encoding", _latin1, "scores.csv", "encoding"),
    Case("contract-ragged-csv", _contract_ragged, "scores.csv", "line"),
    Case("contract-invalid-yaml", _contract_invalid_yaml, "broken.odcs.yaml", "line"),
    Case("contract-unknown-rule", _contract_unknown_rule, "rule.odcs.yaml", "metric"),
    Case("contract-wrong-type", _contract_wrong_type, "type.odcs.yaml", "minimum"),
    # drift
    Case("drift-missing-file", _drift_missing, "nowhere.parquet", "nowhere.parquet"),
    Case("drift-empty-file", _drift_empty, "empty.csv", "empty.csv"),
    Case("drift-missing-column", _drift_missing_column, "current_no_score.parquet", "score"),
    Case("drift-unknown-method", _drift_unknown_method, "current.parquet", "score"),
    Case("drift-threshold-type", _drift_threshold_type, "--threshold", "score"),
    Case("drift-unknown-column", _drift_unknown_column_param, "current.parquet",
         "no_such_column"),
    # costs
    Case("cost-missing-column", _cost_missing_column, "ledger_nocol.csv", "EffectiveCost"),
    Case("cost-nan-inf", _cost_nan_inf, "ledger_inf.csv", "EffectiveCost"),
    Case("cost-type-change-late", _cost_type_change, "usage_late.csv", "predictions"),
    Case("cost-budget-type", _cost_budget_type, "budgets_bad.csv", "budget"),
    Case("cost-ragged-extra-fields", _cost_usage_extra_columns_ragged, "usage_ragged.csv", "line"),
    Case("cost-bad-month", _cost_month, "--month", "2026-13"),
    # incidents
    Case("incident-invalid-yaml", _incident_invalid_yaml, "INC-bad.yaml", "line"),
    Case("incident-missing-field", _incident_missing_field, "INC-nostart.yaml", "started_at"),
    Case("incident-wrong-type", _incident_wrong_type, "INC-type.yaml", "users_affected"),
    Case("incident-mixed-time-zones", _incident_events_mixed_tz, "events_tz.csv", "timestamp"),
    Case("incident-all-null-slis", _incident_slis_all_null, "slis_null.csv", "requests"),
    Case("incident-slo-out-of-range", _incident_slo_unknown_field, "slos_bad.yaml", "target"),
    # pack specs
    Case("spec-missing-file", _spec_missing_file, "no-such-spec.yml", "no-such-spec.yml"),
    Case("spec-invalid-yaml", _spec_invalid_yaml, "bad.yml", "line"),
    Case("spec-unknown-parameter", _spec_unknown_parameter, "bad.yml", "parameters.colour"),
    Case("spec-wrong-parameter-type", _spec_wrong_parameter_type, "bad.yml", "timeout"),
    Case("spec-unknown-gate-op", _spec_unknown_gate_op, "bad.yml", "gates[0].op"),
    Case("spec-missing-notebook", _spec_missing_notebook, "bad.yml", "notebooks[0].path"),
]


def _snapshot(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """Good sample data plus a reports dir holding one published tiny pack."""
    from workbench.sample import generate

    root = tmp_path_factory.mktemp("bad-inputs")
    generate(root / "data", 300)
    spec = _spec(root)
    good = root / "tiny.yml"
    shutil.move(spec, good)
    result = CliRunner().invoke(cli, ["pack", "build", str(good), "--out", str(root / "reports")])
    assert result.exit_code == 0, result.output
    return root


def test_the_table_covers_at_least_25_inputs_in_every_area():
    areas = {c.id.split("-")[0] for c in CASES}
    assert len(CASES) >= 25 and areas == {"contract", "drift", "cost", "incident", "spec"}


@pytest.fixture(scope="module")
def outcomes(workspace):
    before = _snapshot(workspace / "reports")
    runner = CliRunner()
    got = {}
    for case in CASES:
        d = workspace / "cases" / case.id
        d.mkdir(parents=True)
        (d / "data").symlink_to(workspace / "data")
        args = case.make(d)
        r = runner.invoke(cli, args)
        got[case.id] = r
    return {"results": got, "before": before, "after": _snapshot(workspace / "reports")}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gets_one_line_naming_file_and_field(case, outcomes):
    r = outcomes["results"][case.id]
    lines = r.stderr.strip().splitlines()
    detail = f"exit {r.exit_code}, stderr: {r.stderr!r}, exception: {r.exception!r}"
    assert r.exit_code == 2, detail
    assert len(lines) == 1, detail
    assert "Traceback" not in r.output, detail
    assert case.file in lines[0], detail
    assert case.field.lower() in lines[0].lower(), detail


def test_nothing_published_changes(outcomes):
    assert outcomes["before"] and outcomes["after"] == outcomes["before"]

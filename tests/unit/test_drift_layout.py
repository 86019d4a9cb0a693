"""The drift area follows the one area layout: its result is an AreaResult that writes
findings under any name, its modules import each other without a cycle (function-local
imports included), it imports no other area, and its sections escape what came from data."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import polars as pl
import pytest

from workbench.drift import breach_section, compute, first_window_table, table, when_section
from workbench.errors import InputError
from workbench.findings import STATUSES, AreaResult, read_findings

DRIFT = Path(__file__).resolve().parents[2] / "workbench" / "drift"
AREAS = ("contracts", "costs", "incidents", "performance", "release", "sample")


def _imports(path: Path) -> set[str]:
    """Every workbench module ``path`` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m.startswith("workbench")}


def test_drift_modules_form_no_cycle_and_import_no_other_area() -> None:
    modules = {f"workbench.drift.{p.stem}": p for p in DRIFT.glob("_*.py")}
    graph = {m: {i for i in _imports(p) if i in modules} for m, p in modules.items()}
    for m, p in modules.items():
        other = [i for i in _imports(p) if i.split(".")[1:2] and i.split(".")[1] in AREAS]
        assert not other, f"{m} imports another area: {other}"
    state: dict[str, int] = {}

    def visit(m: str, trail: list[str]) -> None:
        state[m] = 1
        for n in graph[m]:
            assert state.get(n) != 1, f"import cycle: {' -> '.join([*trail, m, n])}"
            if n not in state:
                visit(n, [*trail, m])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [])
    assert "workbench.drift._render" not in graph["workbench.drift._model"]


def _pair() -> tuple[pl.DataFrame, pl.DataFrame]:
    ref = pl.DataFrame({"x": [1.0, 2, 3] * 400, "c": ["a", "b"] * 600})
    return ref, ref.with_columns(pl.col("x") * 1.001)


def test_result_follows_the_protocol_and_writes_findings_under_any_name(tmp_path) -> None:
    ref, cur = _pair()
    result = compute(current=cur, reference=ref)
    assert isinstance(result, AreaResult)
    assert result.status == "pass" and result.status in STATUSES
    assert result.headline.startswith("0 of 2 columns drifted")
    assert result.frame()["column"].to_list() == [c.column for c in result.ranked()]
    assert sorted(result.frame()["column"]) == ["c", "x"]
    path = result.findings("drift_model_b").write(tmp_path)
    assert path.name == "drift_model_b.results.json"
    found = read_findings(path)
    assert found.name == "drift_model_b" and found.notebook == "drift"
    assert found.metrics == result.metrics and found.metric("drifted_columns") == 0
    assert found.get("evidently_report") is None and found.get("pages") == []
    page = result.findings(evidently_report="drift.evidently.html").to_dict()
    assert page["pages"] == [{"file": "drift.evidently.html", "title": "evidently report (sample)"}]
    assert json.loads(json.dumps(page))["drift"] == result.to_dict()


def test_a_contract_is_passed_loaded_not_as_a_path() -> None:
    ref, cur = _pair()
    with pytest.raises(InputError, match="contract: expected a loaded contract"):
        compute(current=cur, reference=ref, contract="loan.odcs.yaml")


def test_sections_escape_what_came_from_data() -> None:
    class _Spec:
        def __init__(self, name, valid=None):
            self.name, self.valid_values, self.sensitive = name, valid, False
            self.logical_type, self.unique, self.primary_key = "string", False, False

    class _Contract:
        id = "<i>contract</i>"

        def columns(self, schema=None):
            return [_Spec("c", ["a", "b"])]

    ref = pl.DataFrame({"c": ["a", "b"] * 600})
    cur = pl.DataFrame({"c": ["a", "<script>x</script>"] * 600})
    result = compute(current=cur, reference=ref, contract=_Contract())
    html = breach_section(result).markup + table(result).markup
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "<h2>Values outside the contract</h2>" in html
    assert "no timestamp column" in when_section(result).markup
    assert first_window_table(result) is None


def test_the_cli_loads_the_contract_it_is_given(tmp_path) -> None:
    from click.testing import CliRunner

    from workbench.cli import cli

    root = Path(__file__).resolve().parents[2] / "data" / "sample"
    scoring, contract = root / "scoring", root / "contracts" / "loan_scoring.odcs.yaml"
    args = ["drift", str(scoring / "reference.parquet"), str(scoring / "current.parquet")]
    res = CliRunner().invoke(cli, [*args, "--contract", str(contract), "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert any(b["column"] == "home_ownership" for b in out["contract_breaches"])
    assert "applicant_email" not in {c["column"] for c in out["columns"]}  # sensitive
    res = CliRunner().invoke(cli, [*args, "--contract", str(tmp_path / "none.yaml")])
    assert res.exit_code == 2 and "none.yaml" in res.output and "Traceback" not in res.output

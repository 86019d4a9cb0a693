"""Every area's entry verb returns a result of one shape (workbench.findings.AreaResult).

Run over the registry (workbench.areas.AREAS) on the committed sample data, so an area added to
the registry without sample inputs here fails until it is given some.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from workbench import io
from workbench.areas import AREAS, Area
from workbench.findings import STATUSES, AreaResult, Findings, read_findings

DATA = Path(__file__).resolve().parents[2] / "data" / "sample"
AS_OF = "2026-11-02T00:00:00Z"
INCIDENT = DATA / "incidents" / "INC-2026-1019"


def _incident_inputs() -> dict[str, Any]:
    from workbench import incidents

    slis, _ = incidents.read_slis(INCIDENT / "slis.csv")
    return {"record": incidents.load_record(DATA / "incidents" / "INC-2026-1019.yaml"),
            "as_of": datetime.fromisoformat(AS_OF), "events": incidents.load_events(
                INCIDENT / "events.csv"), "slis": slis,
            "slo": incidents.load_slos(INCIDENT / "slos.yaml")}


# the entry verb's arguments on the sample data, per area
SAMPLE: dict[str, Any] = {
    "contracts": lambda: {"contract": DATA / "contracts" / "loan_scoring.odcs.yaml",
                          "as_of": AS_OF},
    "drift": lambda: {"current": DATA / "scoring" / "current.parquet",
                      "reference": DATA / "scoring" / "reference.parquet"},
    "costs": lambda: {k: DATA / "costs" / f for k, f in (
        ("ledger", "focus_costs.csv"), ("usage", "usage.csv"), ("value", "value.csv"),
        ("budgets", "budgets.csv"))},
    "incidents": _incident_inputs,
    "performance": lambda: {"analysis": DATA / "scoring" / "current.parquet",
                            "reference": DATA / "scoring" / "reference.parquet",
                            "target": "label_default", "score": "score", "threshold": 0.18,
                            "timestamp": "scored_at", "window": "week", "segment": "channel",
                            "labels": DATA / "performance" / "labels.parquet",
                            "id_column": "application_id", "targets": {"roc_auc": 0.70}},
    "release": lambda: {"logs": DATA / "release" / "canary.parquet",
                        "version_column": "model_version", "champion": "v3", "challenger": "v4",
                        "target": "label_default", "score": "score", "prediction": "decision",
                        "positive": "approve", "timestamp": "scored_at",
                        "segments": ["channel", "region"], "slis": DATA / "release" / "slis.csv",
                        "plan": DATA / "release" / "rollout.yml"},
}
RESHAPED_ELSEWHERE: dict[str, str] = {}


def _areas() -> list[Any]:
    return [pytest.param(a, id=a.name, marks=pytest.mark.xfail(reason=RESHAPED_ELSEWHERE[a.name]))
            if a.name in RESHAPED_ELSEWHERE else pytest.param(a, id=a.name)
            for a in AREAS.values()]


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    return {}


def _run(area: Area, cache: dict[str, Any]) -> Any:
    if area.name not in cache:
        assert area.name in SAMPLE, f"{area.name}: give its entry verb sample inputs in SAMPLE"
        verb = getattr(area.module, area.verb)
        cache[area.name] = verb(**SAMPLE[area.name]())
    return cache[area.name]


@pytest.mark.parametrize("area", _areas())
def test_the_entry_verb_returns_the_area_result_protocol(area, results):
    result = _run(area, results)
    assert isinstance(result, AreaResult)
    for name in ("status", "headline", "metrics"):  # the same kind in every area
        attr = inspect.getattr_static(type(result), name)
        assert isinstance(attr, property | cached_property), f"{area.name}.{name} not a property"
    for name in ("frame", "to_dict", "findings", "_repr_html_"):
        assert callable(inspect.getattr_static(type(result), name)), f"{area.name}.{name}"
    assert result.status in {"ok", "warn", "fail", "error", "unknown", "info"}
    assert isinstance(result.headline, str) and result.headline.strip()
    assert isinstance(result.metrics, Mapping) and result.metrics
    flat = (int, float, bool, str, type(None))
    assert all(isinstance(v, flat) for v in result.metrics.values()), area.name
    frame = result.frame()
    assert isinstance(frame, pl.DataFrame) and frame.height > 0
    json.loads(io.dumps_json(result.to_dict()))  # JSON as it is (no NaN, no objects)
    html = result._repr_html_()
    assert isinstance(html, str) and "<" in html and "<script" not in html.lower()


@pytest.mark.parametrize("area", _areas())
def test_findings_carry_the_result_under_any_name(area, results, tmp_path):
    result = _run(area, results)
    default = result.findings()
    assert isinstance(default, Findings)
    assert default.name == area.notebook and default.notebook == area.notebook
    assert default.status in STATUSES
    assert default.headline == result.headline
    assert set(result.metrics) <= set(default.metrics)
    for key, value in result.metrics.items():
        assert default.metrics[key] == value, (area.name, key)

    renamed = result.findings("second_run")  # the same notebook twice in one pack
    assert renamed.name == "second_run" and renamed.notebook == area.notebook
    path = renamed.write(tmp_path)
    assert path.name == "second_run.results.json"
    back = read_findings(path)
    assert back.notebook == area.notebook and back.status == default.status
    assert io.dumps_json(back.to_dict()) == io.dumps_json(renamed.to_dict())

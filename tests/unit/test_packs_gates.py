"""Gates and the verdict: hand-computed expectations on tiny results dicts."""

from __future__ import annotations

from types import SimpleNamespace as G

import pytest

from workbench.findings import Findings
from workbench.packs.gates import evaluate_gates, verdict


def gate(metric, op, value, severity="no-go", notebook="nb"):
    return G(
        id=metric,
        title=metric,
        notebook=notebook,
        metric=metric,
        op=op,
        value=value,
        severity=severity,
        reason="",
    )


RESULTS = {"nb": Findings("nb", "info", "", {"rows": 10, "share": 0.25, "drift": True})}


@pytest.mark.parametrize(
    ("op", "value", "status"),
    [
        ("<", 11, "passed"),
        ("<", 10, "failed"),
        ("<=", 10, "passed"),
        (">", 10, "failed"),
        (">=", 10, "passed"),
        ("==", 10, "passed"),
        ("!=", 10, "failed"),
    ],
)
def test_numeric_operators(op, value, status):
    (res,) = evaluate_gates([gate("rows", op, value)], RESULTS)
    assert res.status == status
    assert res.observed == 10


def test_failed_gate_takes_its_severity():
    hold, nogo = evaluate_gates(
        [gate("share", "<", 0.1, "hold"), gate("drift", "==", False)], RESULTS
    )
    assert (hold.outcome, nogo.outcome) == ("hold", "no-go")
    assert verdict([hold, nogo]) == "no-go"
    assert verdict([hold]) == "hold"


def test_missing_metric_or_notebook_is_unknown_and_holds():
    absent, no_results = evaluate_gates(
        [gate("nope", "<", 1), gate("rows", "<", 1, notebook="x")], {**RESULTS, "x": None}
    )
    assert absent.status == no_results.status == "unknown"
    assert verdict([absent]) == "hold"


def test_bool_against_number_is_not_comparable():
    (res,) = evaluate_gates([gate("drift", "==", 1)], RESULTS)
    assert res.status == "unknown"


def test_all_passing_is_go_unless_a_notebook_is_missing():
    ok = evaluate_gates([gate("rows", ">", 1)], RESULTS)
    assert verdict(ok) == "go"
    assert verdict(ok, missing_notebooks=["drift"]) == "hold"
    assert verdict([]) == "hold"  # no gates: nothing was agreed, so nothing says go

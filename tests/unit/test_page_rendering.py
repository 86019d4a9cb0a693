"""Pages that read well on any data: number formats, front page, summary, what changed."""

from __future__ import annotations

import re

from workbench import render
from workbench.findings import Findings
from workbench.packs.gates import ReviewSummary, evaluate_gates
from workbench.packs.index import front_page
from workbench.packs.summary import ChangeSummary, changes, history_chart, history_table

# --- numbers: never rounded into a passing value, one format per metric ----------------


def test_a_failing_value_is_never_rounded_onto_its_limit():
    assert render.fmt(15.0001) == "15"  # the compact form alone would hide the failure
    assert render.fmt_apart(15.0001, 15) == "15.0001"
    assert render.fmt_apart(14.99999999, 15) == "14.99999999"
    assert render.fmt_apart(15.0, 15) == "15"
    assert render.fmt_apart(0.50004, 0.5, metric="drifted_share") == "50.004%"
    assert render.pct(0.99996) == "99.996%" and render.pct(0.978) == "97.8%"


def test_shares_read_as_percentages_wherever_a_gate_shows_them():
    (g,) = evaluate_gates(
        [type("G", (), dict(id="d", title="Drift", notebook="drift", metric="drifted_share",
                            op="<=", value=0.5, severity="hold", reason="r"))()],
        {"drift": Findings("drift", "info", "", {"drifted_share": 0.50004})},
    )
    assert g.status == "failed"
    assert g.explanation == "drifted_share is 50.004%; the gate requires at most 50.0%."
    assert render.fmt_metric("error_budget_remaining_pct", 12.5) == "12.5%"
    assert render.fmt_metric("cost_per_1k_predictions.m", 12.5) == "12.5"


# --- front page: a notebook that ran is not shown as a crash -------------------------------


def _manifest(notebooks, gates=()):
    return {
        "pack": "p", "title": "T", "version": "v", "status": "ok", "verdict": "no-go",
        "started_at": "s", "finished_at": "f", "duration_s": 1.0,
        "spec": {"path": "x.yml", "sha256": "0" * 64}, "inputs": [], "git": {"commit": None},
        "environment": {"python": "3.11"}, "gates": list(gates), "notebooks": notebooks,
    }


def test_front_page_shows_run_status_apart_from_findings():
    nbs = [
        {"name": "checks", "status": "ok", "duration_s": 1.0, "results": True, "error": None},
        {"name": "boom", "status": "failed", "duration_s": 1.0, "results": False,
         "error": {"ename": "ValueError", "evalue": "x"}},
    ]
    html = front_page(_manifest(nbs), {"checks": Findings("checks", "fail", "h")})
    pages = re.search(r'<p class="wb-pages">(.*?)</p>', html, re.S)[1]
    # the notebook that ran says so, and its findings carry the fail pill
    assert re.search(r"checks</a> <span[^>]*>ran</span>, findings <span[^>]*>fail</span>",
                     pages)
    assert re.search(r"boom</a> <span[^>]*>failed</span>", pages)
    assert "<th>Run</th><th>Findings</th>" in html


# --- summary page: nothing shown twice ------------------------------------------------------


def test_summary_shows_the_first_version_note_and_history_once():
    rows = ({"version": "v1", "status": "this build", "verdict": "go",
             "contract_pass_rate": 0.978, "drifted_share": 0.1},)
    s = ReviewSummary("T", "go", (), (), ChangeSummary(None), rows)
    page = s.changes._repr_html_() + str(s.history_chart()._repr_html_()) + str(s.history_table())
    assert page.count("First version of this pack") == 1
    assert page.count("Every version") == 1
    assert "97.8%" in page and "0.978" not in page  # the front page's format


def test_trend_axis_is_fitted_so_97_8_percent_is_not_drawn_at_100():
    rows = [{"version": f"v{i}", "contract_pass_rate": v} for i, v in enumerate((1.0, 0.978))]
    spec = history_chart(rows).to_dict()
    (panel,) = spec["hconcat"]
    y = panel["layer"][0]["encoding"]["y"]
    lo, hi = y["scale"]["domain"]
    assert hi <= 1.0 and lo > 0.9  # 97.8% sits well below the top, not 2 px under it
    assert "97.8%" in history_table(rows)


# --- what changed: a loosened gate is named before the outcome it moved --------------------


def _gate(value, outcome, severity="hold"):
    return {"id": "k", "title": "Key features", "metric": "key_drifted_share", "op": "<=",
            "value": value, "severity": severity, "outcome": outcome,
            "explanation": "key_drifted_share is 40.0%."}


def test_a_loosened_gate_comes_first_and_its_moves_are_not_called_better():
    s = changes({}, {}, gates=[_gate(0.5, "go")], previous_gates=[_gate(0.25, "hold")],
                verdict="go", previous_verdict="hold")
    first, verdict, moved = s.changes
    assert first.kind == "gate loosened"
    assert "threshold 25.0% → 50.0%" in first.text
    assert "because gate 'Key features' changed its rule" in verdict.text
    assert "its rule changed" in moved.text
    assert [c.direction for c in s.changes] == ["info"] * 3
    assert s.better == []


def test_a_tightened_severity_is_named_and_data_moves_keep_their_direction():
    s = changes({}, {}, gates=[_gate(0.25, "no-go", "no-go"), {**_gate(0.1, "hold"), "id": "o",
                                                                 "title": "Other"}],
                previous_gates=[_gate(0.25, "hold"), {**_gate(0.1, "go"), "id": "o"}],
                verdict="no-go", previous_verdict="go")
    assert s.changes[0].kind == "gate tightened" and "severity hold → no-go" in s.changes[0].text
    other = next(c for c in s.changes if c.item == "o")
    assert other.direction == "worse"  # its rule did not change: the data moved it
    assert "changed its rule too" in s.changes[1].text


# --- range checks: the most extreme failing value, at full precision -------------------------


def test_a_failed_range_check_shows_its_most_extreme_value_unrounded(tmp_path):
    import polars as pl
    import yaml

    from workbench.contracts import check, load_contract

    pl.DataFrame({"x": [1.0, 15.0001, 15.00005, 3.0, -0.5]}).write_parquet(tmp_path / "a.parquet")
    contract = {
        "apiVersion": "v3.1.0", "kind": "DataContract", "id": "c", "name": "n", "version": "1",
        "status": "active",
        "schema": [{"name": "t", "properties": [
            {"name": "x", "logicalType": "number",
             "logicalTypeOptions": {"minimum": 0, "maximum": 15}}]}],
    }
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(contract))
    result = check(load_contract(tmp_path / "c.yaml"), tmp_path / "a.parquet")
    assert result.check("t.x.maximum").worst == 15.0001
    assert result.check("t.x.minimum").worst == -0.5
    failed = {r["id"]: r for r in result.failed_frame().to_dicts()}
    top = failed["t.x.maximum"]
    assert top["worst value"] == "15.0001" and top["expected"] == "15"
    assert top.get("observed") is None  # "observed 2" beside "expected 15" read as a value
    assert "first_failed_at" not in top  # no timestamps: no empty columns
    samples = result.samples_html()
    assert "15.0001" in samples and "15.00005" in samples and ">15<" not in samples
    results = result.findings().to_dict()
    (mx,) = [c for c in results["checks"] if c["id"] == "t.x.maximum"]
    assert mx["worst_failing_value"] == 15.0001


def test_metrics_table_replaces_the_raw_dictionary():
    html = render.metrics_table({"drifted_share": 0.666667, "dataset_drift": True, "rows": 1200})
    assert "66.7%" in html.markup and "{" not in html.markup and "1,200" in html.markup


# --- charts: interactive in JupyterLab, static SVG in a pack build ---------------------------


def _charts():
    import altair as alt

    from workbench.packs.summary import history_chart

    line = alt.Chart(alt.Data(values=[{"x": 1, "y": 2}, {"x": 2, "y": 3}])).encode(
        x="x:Q", y="y:Q", tooltip=["x:Q", "y:Q"])
    bars = alt.Chart(alt.Data(values=[{"k": "a", "v": 1}])).mark_bar().encode(x="k:N", y="v:Q")
    rows = [{"version": f"v{i}", "contract_pass_rate": v, "drifted_share": 0.1,
             "cost_per_1k.m": 3.0 + i} for i, v in enumerate((1.0, 0.978))]
    return [line.mark_line() + line.mark_point(), bars, history_chart(rows)]


def test_lab_charts_are_vega_lite_5_with_zoom_that_jupyterlab_can_compile():
    import vl_convert as vlc

    for chart in _charts():
        bundle = render._lab_renderer(chart.to_dict())
        spec = bundle[render.LAB_MIME]
        assert spec["$schema"].endswith("/v5.json")
        assert bundle["image/svg+xml"].lstrip().startswith("<svg")  # fallback for other UIs
        # JupyterLab 4 draws with Vega-Lite 5: the spec, zoom included, must compile there
        vega = vlc.vegalite_to_vega(spec, vl_version="5.20")
        assert vega["marks"]
    zoomable = render.lab_spec(_charts()[0].to_dict())
    assert zoomable["layer"][0]["params"][0]["bind"] == "scales"
    assert "params" not in zoomable["layer"][1]  # one zoom per view
    assert "params" not in render.lab_spec(_charts()[1].to_dict())  # nominal x: no zoom


def test_a_pack_build_kernel_gets_static_charts(monkeypatch):
    monkeypatch.delenv(render.PACK_BUILD_ENV, raising=False)
    assert not render.in_pack_build()
    monkeypatch.setenv(render.PACK_BUILD_ENV, "1")
    assert render.in_pack_build()
    # the builder sets it for every kernel it starts (warm or ordinary: one environment)
    from workbench.packs import kernels

    env = kernels.kernel_env({"PATH": "/usr/bin"})
    assert env[render.PACK_BUILD_ENV] == "1"
    assert env["PATH"] == "/usr/bin"


def test_front_page_names_a_loosened_gate_before_the_verdict_it_moved(tmp_path):
    import html as html_mod
    import json

    prev = tmp_path / "20261101T090000Z-aaaaaaaa"
    prev.mkdir()
    (prev / "manifest.json").write_text(json.dumps(
        {"verdict": "hold", "status": "ok", "gates": [_gate(0.25, "hold")]}))
    gate = {**_gate(0.5, "go"), "notebook": "drift", "observed": 0.4, "status": "passed",
            "reason": "r"}
    manifest = {**_manifest([]), "verdict": "go", "gates": [gate],
                "previous_version": prev.name, "version": "20261108T090000Z-bbbbbbbb"}
    html = front_page(manifest, {}, pack_dir=tmp_path)
    items = re.findall(r"<li>(.*?)</li>", html, re.S)
    text = [html_mod.unescape(re.sub(r"<[^>]+>", "", i)) for i in items]
    assert text[0].startswith("gate loosened gates: Gate 'Key features' was loosened: "
                              "threshold 25.0% → 50.0%")
    assert "because gate 'Key features' changed its rule" in text[1]
    assert not any(t.startswith("better") for t in text)


def test_only_known_shares_become_percentages():
    html = render.html_table([{"pass_rate": 0.5, "burn_rate": 14.4, "conversion_rate": 3.5}])
    assert "50.0%" in html and "14.4" in html and "1440" not in html and "350" not in html


def test_break_points_are_added_to_pages_never_to_notebook_outputs():
    # the secret scrubber searches executed notebooks for a value's exact text
    table = render.html_table([{"check_id": "tRuSt-S3CRET-0b7c1e.long_value"}])
    assert "<wbr>" not in table and "tRuSt-S3CRET-0b7c1e.long_value" in table
    page = render.soft_break_markup(table + "<svg><text>a_long_label_text</text></svg>")
    assert "<th>check_<wbr>id</th>" in page  # headers break sooner
    assert "0b7c1e.<wbr>long_<wbr>value" in page
    assert "<text>a_long_label_text</text>" in page  # chart text untouched
    assert render.soft_breaks("x_&rArr;_longer_text") == "x_&rArr;_<wbr>longer_<wbr>text"

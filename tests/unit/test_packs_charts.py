"""Charts drawn by the builder (workbench.packs.charts): a pack kernel sends specs, the
builder draws them before the notebook is saved, and the pack is what in-kernel drawing
made; a kernel outside a pack build draws its own, as before."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import pytest
import yaml
from _notebooks import demo_subset, executed_outputs

from workbench import render
from workbench.packs import charts, kernels
from workbench.packs.execute import run_plan
from workbench.packs.plan import check, resolve
from workbench.packs.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]


def _spec_of(chart) -> str:
    """What a deferring kernel sends for ``chart``: its spec as JSON text."""
    bundle = render._spec_renderer(chart.to_dict())
    assert set(bundle) == {render.SPEC_MIME, "text/plain"}
    return bundle[render.SPEC_MIME]


def _charts():
    import altair as alt
    import polars as pl

    render.setup(interactive=False)
    frame = pl.DataFrame({"week": ["2026-10-05", "2026-10-12", "2026-10-19"],
                          "share": [0.1, 0.25, 0.2],
                          # U+2028 in a value and a field name: _vega_safe's case
                          "line\u2028name": ["a\u2028b", "c", "d"]}).to_pandas()
    line = alt.Chart(frame).mark_line().encode(x="week:T", y="share:Q")
    bars = alt.Chart(frame).mark_bar().encode(x="line\u2028name:N", y="share:Q",
                                              tooltip=["line\u2028name:N"])
    return [line + line.mark_point(), bars, alt.hconcat(line, bars)]


def _notebook(outputs: list) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# t")] + [
        nbformat.v4.new_code_cell("chart", execution_count=i + 1, outputs=[o])
        for i, o in enumerate(outputs)]
    # as papermill saves it and the builder reads it back
    return nbformat.reads(nbformat.writes(nb), as_version=4)


def test_drawn_specs_equal_the_kernels_own_svg_outputs():
    made = _charts()
    in_kernel = _notebook([nbformat.v4.new_output("display_data",
                                                  data=render._svg_renderer(c.to_dict()))
                           for c in made])
    deferred = _notebook([nbformat.v4.new_output("display_data", data={
        render.SPEC_MIME: _spec_of(c), "text/plain": "<chart>"}) for c in made])
    assert render.SPEC_MIME in _saved_outputs(deferred)
    assert charts.draw(deferred) is None
    assert _saved_outputs(deferred) == _saved_outputs(in_kernel)
    assert render.SPEC_MIME not in _saved_outputs(deferred)
    assert charts.draw(deferred) is None  # nothing left to draw: unchanged
    assert _saved_outputs(deferred) == _saved_outputs(in_kernel)


def _saved_outputs(nb: nbformat.NotebookNode) -> str:
    """Every output as the notebook file holds it (cell ids are random per notebook)."""
    doc = json.loads(nbformat.writes(nb))
    return json.dumps([c.get("outputs") for c in doc["cells"]], sort_keys=True)


def test_gradient_and_clip_ids_are_numbered_as_in_a_fresh_kernel():
    """vega numbers them with counters global to the runtime: a notebook's SVGs must not
    depend on what the builder drew before (other notebooks, in any order)."""
    import altair as alt

    render.setup(interactive=False)
    d = alt.Data(values=[{"a": i, "b": ["clip1", "gradient_0", "x"][i % 3], "v": i * 1.5}
                         for i in range(6)])  # labels that look like ids stay as they are
    rect = alt.Chart(d).mark_rect().encode(x="a:O", y="b:N", color="v:Q")  # a gradient
    line = alt.Chart(d).mark_line(clip=True).encode(  # a clip path
        x=alt.X("a:Q", scale=alt.Scale(domain=[0, 3])), y="v:Q")
    specs = [_spec_of(c) for c in (rect, line, alt.hconcat(rect, line), rect)]
    script = ("import json, sys, vl_convert as vlc\n"
              "print(json.dumps([vlc.vegalite_to_svg(json.loads(s)) "
              "for s in json.load(sys.stdin)]))")
    fresh = json.loads(subprocess.run([sys.executable, "-c", script], input=json.dumps(specs),
                                      capture_output=True, text=True, check=True).stdout)
    assert 'id="gradient_2"' in fresh[3] and 'id="clip2"' in fresh[2]
    for s in specs[1:3]:  # the builder's runtime drew other charts first
        render.svg_bundle(json.loads(s))
    nb = _notebook([nbformat.v4.new_output("display_data", data={
        render.SPEC_MIME: s, "text/plain": "<chart>"}) for s in specs])
    assert charts.draw(nb) is None
    assert [c.outputs[0].data["image/svg+xml"] for c in nb.cells[1:]] == fresh


def test_charts_drawn_ahead_as_cells_complete_are_the_ones_drawn_after(monkeypatch):
    """The engine hands each completed cell's specs to predraw(); draw() takes them (ids
    numbered in the notebook's order, whatever order they were drawn in), draws inline
    what was not drawn ahead, and leaves nothing waiting."""
    specs = [_spec_of(c) for c in _charts()]

    def notebook():
        return _notebook([nbformat.v4.new_output("display_data", data={
            render.SPEC_MIME: s, "text/plain": "<chart>"}) for s in specs + specs[:1]])

    after = notebook()
    assert charts.draw(after) is None
    drawn = []
    monkeypatch.setattr(render, "svg_bundle",
                        lambda safe, inner=render.svg_bundle: drawn.append(1) or inner(safe))
    ahead = notebook()
    for cell in reversed(ahead.cells[2:]):  # all but the first chart, last cell first
        charts.predraw(cell.outputs)
    assert charts.draw(ahead) is None
    assert _saved_outputs(ahead) == _saved_outputs(after)
    assert len(drawn) == len(specs) + 1 and not charts._ahead
    bad = _notebook([nbformat.v4.new_output("display_data", data={
        render.SPEC_MIME: json.dumps({"mark": "point", "transform": [
            {"calculate": "datum.a +", "as": "b"}]}), "text/plain": "<chart>"})])
    charts.predraw(bad.cells[1].outputs)
    assert charts.draw(bad)["cell_index"] == 1 and not charts._ahead


def test_two_threads_drawing_at_once_get_what_one_thread_gets():
    specs = [_spec_of(c) for c in _charts()]
    alone = [render.svg_bundle(json.loads(s)) for s in specs]
    got: dict[int, list] = {}

    def draw_all(k: int) -> None:
        nbs = [_notebook([nbformat.v4.new_output("display_data", data={
            render.SPEC_MIME: s, "text/plain": "<chart>"})]) for s in specs * 5]
        for nb in nbs:
            assert charts.draw(nb) is None
        got[k] = [dict(nb.cells[1].outputs[0].data) for nb in nbs]

    threads = [threading.Thread(target=draw_all, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    assert all(got[k] == alone * 5 for k in range(3))


def test_a_chart_that_cannot_be_drawn_becomes_its_cells_error():
    bad = json.dumps({"data": {"values": [{"a": 1}]}, "mark": "point",
                      "transform": [{"calculate": "datum.a +", "as": "b"}],
                      "encoding": {"x": {"field": "b", "type": "quantitative"}}})
    good = _spec_of(_charts()[1])
    nb = _notebook([nbformat.v4.new_output("execute_result", execution_count=n, data={
        render.SPEC_MIME: s, "text/plain": "<chart>"}) for n, s in ((1, good), (2, bad))])
    error = charts.draw(nb)
    assert error is not None
    assert error["ename"] == "ValueError" and "Unexpected end of input" in error["evalue"]
    assert error["cell_index"] == 2 and error["execution_count"] == 2
    out = nb.cells[2].outputs[0]
    assert out.output_type == "error" and out.ename == "ValueError"
    assert "image/svg+xml" in nb.cells[1].outputs[0].data  # the others are drawn
    nbformat.validate(nb)


def test_only_a_pack_kernel_the_builder_asked_sends_specs(monkeypatch):
    import altair as alt

    def active(**env: str) -> str:
        for key in (render.PACK_BUILD_ENV, render.DEFER_CHARTS_ENV):
            monkeypatch.delenv(key, raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setattr(render, "_SET_UP", False)
        render.setup()
        return alt.renderers.active

    before = alt.renderers.active
    try:
        assert active() == "workbench-lab"  # JupyterLab, nbval
        assert active(**{render.DEFER_CHARTS_ENV: "1"}) == "workbench-lab"
        assert active(**{render.PACK_BUILD_ENV: "1"}) == "workbench-svg"  # another builder
        assert active(**{render.PACK_BUILD_ENV: "1", render.DEFER_CHARTS_ENV: "0"}) == (
            "workbench-svg")
        assert active(**{render.PACK_BUILD_ENV: "1", render.DEFER_CHARTS_ENV: "1"}) == (
            "workbench-spec")
    finally:
        alt.renderers.enable(before)
    # the builder asks every kernel it starts, warm or ordinary (one environment)
    env = kernels.kernel_env({"PATH": "/usr/bin"})
    assert env[render.PACK_BUILD_ENV] == env[render.DEFER_CHARTS_ENV] == "1"


# -- through the builder, with real kernels ----------------------------------------------


def _run(spec_path: Path, out: Path, monkeypatch) -> tuple:
    """The plan, its runs, and how many chart specs the builder drew per notebook."""
    drawn: dict[int, int] = {}
    draw = charts.draw

    def counting(nb):
        specs = sum(render.SPEC_MIME in (o.get("data") or {})
                    for c in nb.cells for o in c.get("outputs", []))
        drawn[id(nb)] = specs
        return draw(nb)

    monkeypatch.setattr(charts, "draw", counting)
    spec = load_spec(spec_path)
    plan = resolve(spec, check(spec), out, spec_path=str(spec_path), jobs=2,
                   use_cache=False)
    plan.staging.mkdir(mode=0o700, parents=True)
    runs = {r.name: r for r in run_plan(plan, lambda _line: None)}
    monkeypatch.setattr(charts, "draw", draw)
    return plan, runs, sum(drawn.values())


def _page(plan, name: str) -> str:
    """The page, its version's name (a build time) aside."""
    text = (plan.staging / f"{name}.html").read_text(encoding="utf-8")
    text = text.replace(str(plan.staging), "S").replace(plan.version, "VERSION")
    return re.sub(r" at 0x[0-9a-f]+&gt;", " at 0x...&gt;", text)


@pytest.mark.slow
def test_a_pack_drawn_by_the_builder_equals_one_drawn_in_its_kernels(tmp_path, monkeypatch):
    monkeypatch.setenv(kernels.ENV_SWITCH, "0")  # ordinary kernels both times
    spec = demo_subset(tmp_path, {"drift", "cost_to_value"})
    deferred_plan, deferred, drawn = _run(spec, tmp_path / "deferred", monkeypatch)
    assert drawn >= 4  # the kernels sent specs
    plain_env = kernels.kernel_env

    def in_kernel_env(base=None):
        env = plain_env(base)
        del env[render.DEFER_CHARTS_ENV]  # as a builder that draws nothing would start it
        return env

    monkeypatch.setattr(kernels, "kernel_env", in_kernel_env)
    plain_plan, plain, drawn = _run(spec, tmp_path / "plain", monkeypatch)
    assert drawn == 0  # the kernels drew their own
    for name in ("drift", "cost_to_value"):
        assert deferred[name].status == plain[name].status == "ok", (deferred[name].error,
                                                                     plain[name].error)
        a, b = deferred_plan.staging, plain_plan.staging
        nb = (a / f"{name}.ipynb").read_text()
        assert render.SPEC_MIME not in nb and nb.count('"image/svg+xml"') >= 2
        assert executed_outputs(a, name) == executed_outputs(b, name), name
        assert (a / f"{name}.results.json").read_bytes() == (
            b / f"{name}.results.json").read_bytes()
        assert _page(deferred_plan, name) == _page(plain_plan, name), name
        # the kernel read nothing new (nor less): the cache key is made of the same reads
        assert deferred[name].cache["reads"] == [
            {**r, "path": r["path"].replace(str(b), str(a))} for r in plain[name].cache["reads"]
        ]


@pytest.mark.slow
def test_charts_of_a_failed_or_stopped_notebook_are_drawn(tmp_path, monkeypatch):
    cells = ["import altair as alt\nfrom workbench import render\nrender.setup()",
             "alt.Chart(alt.Data(values=[{'a': 1}])).mark_point().encode(x='a:Q')"]
    bad = ("alt.Chart(alt.Data(values=[{'a': 1}])).mark_point()"
           ".transform_calculate(b='datum.a +').encode(x='b:Q')")
    books = {"died": cells + ["import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"],
             "raised": cells + ["raise RuntimeError('late')"],
             "bad_chart": cells + [bad, "print('after')"]}
    notebooks = []
    for name, sources in books.items():
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
        nbformat.write(nb, tmp_path / f"{name}.ipynb")
        notebooks.append({"name": name, "path": str(tmp_path / f"{name}.ipynb")})
    path = tmp_path / "p.yml"
    path.write_text(yaml.safe_dump({"name": "p", "title": "P", "notebooks": notebooks}))
    plan, runs, drawn = _run(path, tmp_path / "out", monkeypatch)
    assert drawn == 4  # one chart each, two in bad_chart
    for name in books:
        run = runs[name]
        assert run.status == "failed", name
        text = (plan.staging / f"{name}.ipynb").read_text()
        assert render.SPEC_MIME not in text, name
        assert text.count('"image/svg+xml"') == 1, name
        page = (plan.staging / f"{name}.html").read_text()
        assert "<svg" in page, name
    assert runs["died"].error["ename"] == "DeadKernelError"
    assert runs["raised"].error["ename"] == "RuntimeError"
    error = runs["bad_chart"].error
    assert error["ename"] == "ValueError" and error["cell_index"] == 2, error
    nb = nbformat.read(plan.staging / "bad_chart.ipynb", as_version=4)
    assert nb.cells[2].outputs[0].output_type == "error"
    assert nb.cells[3].outputs[0].text == "after\n"

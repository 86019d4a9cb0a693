"""The PM page template: no inputs, no script, sanitized markdown output, safe inline SVG."""

from __future__ import annotations

import threading

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from workbench.packs.export import clean_svg, export_html
from workbench.packs.lock import locked

SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script>'
    '<rect width="10" height="10"/><image href="https://example.com/x.png"/></svg>'
)


def _page(tmp_path, cells, error=None) -> str:
    nb = new_notebook(
        cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}}
    )
    out = tmp_path / "p.html"
    export_html(
        nb,
        out,
        {
            "name": "p",
            "title": "T <t>",
            "pack_title": "Pack",
            "version": "v",
            "source": "p.ipynb",
            "error": error,
        },
    )
    return out.read_text()


def test_inputs_hidden_outputs_shown_by_priority(tmp_path):
    cell = new_code_cell(
        "secret_code_here = 1",
        outputs=[
            new_output(
                "execute_result",
                data={"text/html": "<b>rich</b>", "text/plain": "plain-repr"},
                execution_count=1,
            )
        ],
    )
    html = _page(tmp_path, [new_markdown_cell("# Title"), cell])
    assert "secret_code_here" not in html
    assert "<b>rich</b>" in html and "plain-repr" not in html
    assert "T &lt;t&gt;" in html
    assert "<script" not in html and "Content-Security-Policy" in html
    assert "default-src 'none'" in html


def test_markdown_output_is_sanitized(tmp_path):
    cell = new_code_cell(
        "x",
        outputs=[
            new_output(
                "display_data",
                data={"text/markdown": "**bold** <script>alert(1)</script><img src=x onerror=y>"},
            )
        ],
    )
    html = _page(tmp_path, [cell])
    assert "<strong>bold</strong>" in html
    assert "<script" not in html and "<img" not in html
    assert "&lt;img src=x onerror=y&gt;" in html  # shown as text, not markup


def test_svg_outputs_are_inlined_without_script_or_remote_refs(tmp_path):
    cell = new_code_cell("x", outputs=[new_output("display_data", data={"image/svg+xml": SVG})])
    html = _page(tmp_path, [cell])
    assert "<rect" in html and "<svg" in html
    assert "alert" not in html and "onload" not in html and "example.com" not in html
    assert clean_svg('<?xml version="1.0"?>\n<svg/>') == "<svg/>"


def test_error_banner_and_stream_output(tmp_path):
    ok = new_code_cell("print", outputs=[new_output("stream", name="stdout", text="hello <world>")])
    err = new_code_cell(
        "raise",
        outputs=[
            new_output(
                "error",
                ename="ValueError",
                evalue="bad <x>",
                traceback=["\x1b[31mValueError\x1b[0m: bad"],
            )
        ],
    )
    html = _page(
        tmp_path,
        [ok, err],
        error={"ename": "ValueError", "evalue": "bad <x>", "anchor": "papermill-error-cell"},
    )
    assert (
        html.index('class="wb-banner"')
        < html.index("hello &lt;world&gt;")
        < html.index('class="wb-error"')
    )
    assert "ValueError: bad &lt;x&gt;" in html
    assert "\x1b" not in html


def test_lock_makes_a_second_holder_wait(tmp_path):
    lock = tmp_path / ".lock"
    waited, acquired, release = threading.Event(), threading.Event(), threading.Event()

    def second():
        with locked(lock, on_wait=waited.set):
            acquired.set()

    with locked(lock):
        t = threading.Thread(target=second)
        t.start()
        assert waited.wait(10)
        assert not acquired.is_set()
    t.join(10)
    assert acquired.is_set()
    del release


def test_notebook_node_round_trip_is_not_mutated(tmp_path):
    cell = new_code_cell("x", outputs=[new_output("display_data", data={"image/svg+xml": SVG})])
    nb = new_notebook(cells=[cell])
    before = nbformat.writes(nb)
    export_html(
        nb,
        tmp_path / "p.html",
        {
            "name": "p",
            "title": "t",
            "pack_title": "P",
            "version": "v",
            "source": "s",
            "error": None,
        },
    )
    assert nbformat.writes(nb) == before


def test_svg_ids_are_unique_per_chart(tmp_path):
    svg = (
        '<svg><defs><clipPath id="clip1"><rect/></clipPath></defs>'
        '<g clip-path="url(#clip1)"><path d="M0,0"/></g></svg>'
    )
    cells = [
        new_code_cell("x", outputs=[new_output("display_data", data={"image/svg+xml": svg})])
        for _ in range(2)
    ]
    html = _page(tmp_path, cells)
    assert 'id="wb1-clip1"' in html and "url(#wb1-clip1)" in html
    assert 'id="wb2-clip1"' in html and "url(#wb2-clip1)" in html
    assert 'id="clip1"' not in html


def test_javascript_outputs_are_not_rendered_their_text_fallback_is(tmp_path):
    from workbench.packs.export import make_exporter

    out = new_output("display_data", data={"application/javascript": "window.__pwned = 1",
                                           "text/plain": "plain fallback"})
    nb = new_notebook(cells=[new_code_cell("x", outputs=[out])])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    html, _ = make_exporter().from_notebook_node(nb)
    assert "__pwned" not in html
    assert "plain fallback" in html

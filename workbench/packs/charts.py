"""A pack build's charts, drawn once per builder process instead of once per kernel.

vl-convert starts a JavaScript runtime the first time a process draws a chart: 0.6 to 1 s
of CPU (then 0.03 to 0.3 s a chart), which every pack kernel paid. The builder now tells
its kernels (:data:`workbench.render.DEFER_CHARTS_ENV`, set with the pack-build flag in
:func:`workbench.packs.kernels.kernel_env`) to send each chart's spec, already cleaned by
``render._vega_safe``, as JSON text under :data:`workbench.render.SPEC_MIME`.
:func:`draw` replaces each such output with the one the kernel would have made
(:func:`workbench.render.svg_bundle` on the same spec), in
:func:`workbench.packs.execute.run_notebook` right after papermill returns and before the
notebook is scrubbed, written to staging and exported: the pack's ``.ipynb``, pages and
results are what drawing in the kernel made (``tests/unit/test_packs_charts.py``), and the
cache copies them as it did. A notebook that failed or was stopped is read back from
papermill's last save and drawn the same way. Fleet workers run the same ``run_entry``, so
they draw their notebooks' charts too, with one runtime per worker process.

The runtime starts in a background thread when the process's first notebook starts
(:func:`warm_up`), so the first page does not wait for it. Each chart is drawn as soon as
its cell completes (:func:`predraw`, called by the papermill engine of
:mod:`workbench.packs._papermill`), on one background thread, while the kernel runs the
cells after it: :func:`draw` then takes the drawn SVG (and numbers its ids, in the
notebook's order) instead of drawing it after the last cell, on the notebook's way to its
page and to the notebooks that read its findings.

Vega numbers the gradients and clip paths of its SVGs with counters global to the runtime
(``gradient_0``, ``clip1``, ...; vl-convert never resets them). In a kernel they counted
that notebook's charts only; in the builder they count every chart the process drew before,
in whatever order notebooks finished. :func:`draw` renumbers each notebook's ids as a fresh
runtime would have numbered them, so a page does not depend on the other notebooks of its
build (nor, in a fleet, on what the worker drew before).

A chart vl-convert cannot draw failed its cell in the kernel (the renderer raised, the
cell stopped the notebook). Drawn here, its output becomes that error and the run fails
with it (the cells after it have run, and their outputs stay on the page).

Measured with ``benchmarks/demo_pack.py --cold-only``: see its docstring.
"""

from __future__ import annotations

import json
import re
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import nbformat

from workbench import render

_SPEC = render.SPEC_MIME
_warm_lock = threading.Lock()
_warming: threading.Thread | None = None
# charts drawn ahead (predraw), by spec text: one future per request, taken by draw(); a
# notebook that never reaches draw() (its machinery failed) leaves its few, and past
# MAX_AHEAD waiting ones nothing more is drawn ahead (a fleet worker runs for long)
MAX_AHEAD = 256
_ahead_lock = threading.Lock()
_ahead: dict[str, list[Future[dict[str, str]]]] = {}
_drawer: ThreadPoolExecutor | None = None


def warm_up() -> None:
    """Start vl-convert's runtime in a background thread, once per process."""
    global _warming
    with _warm_lock:
        if _warming is not None:
            return
        _warming = threading.Thread(target=_draw_one, name="chart-runtime", daemon=True)
        _warming.start()


def _draw_one() -> None:
    try:
        render.chart_svg({"data": {"values": [{"x": 0}]}, "mark": "point",
                          "encoding": {"x": {"field": "x", "type": "quantitative"}}})
    except Exception:  # noqa: BLE001 - only a warm-up: draw() reports a real failure
        pass


# an id vega's SVG renderer numbers (gradient_N; p_gradient_N, the pattern of a radial
# one; clipN), where the markup defines or references it: attributes only, never text
_DEF_ID = re.compile(
    r'(?<=\s)(id="|(?:clip-path|fill|stroke)="url\(#)(p_)?(gradient_|clip)(\d+)(?=["\)])')
_FIRST = {"gradient_": 0, "clip": 1}  # a fresh runtime's first numbers


class _Numbering:
    """Each kind of id of one notebook's SVGs, numbered from a fresh runtime's start."""

    def __init__(self) -> None:
        self.next = dict(_FIRST)

    def apply(self, svg: str) -> str:
        found: dict[str, set[int]] = {}
        for m in _DEF_ID.finditer(svg):
            found.setdefault(m.group(3), set()).add(int(m.group(4)))
        if not found:
            return svg
        shift = {kind: self.next[kind] - min(ns) for kind, ns in found.items()}
        for kind, ns in found.items():
            self.next[kind] += max(ns) - min(ns) + 1
        return _DEF_ID.sub(lambda m: f"{m.group(1)}{m.group(2) or ''}{m.group(3)}"
                           f"{int(m.group(4)) + shift[m.group(3)]}", svg)


def predraw(outputs: list[Any]) -> None:
    """Start drawing every chart spec among ``outputs`` (a cell's, as it completes) on the
    background drawing thread; :func:`draw` takes the result."""
    global _drawer
    specs = [spec for out in outputs if (spec := (out.get("data") or {}).get(_SPEC))]
    if not specs:
        return
    with _ahead_lock:
        if _drawer is None:
            _drawer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chart-draw")
        for spec in specs:
            if sum(len(v) for v in _ahead.values()) >= MAX_AHEAD:
                return
            _ahead.setdefault(spec, []).append(_drawer.submit(_bundle, spec))


def _taken(spec: str) -> Future[dict[str, str]] | None:
    with _ahead_lock:
        waiting = _ahead.get(spec)
        if not waiting:
            return None
        fut = waiting.pop(0)
        if not waiting:
            del _ahead[spec]
        return fut


def _bundle(spec: str) -> dict[str, str]:
    return render.svg_bundle(json.loads(spec))


def draw(nb: nbformat.NotebookNode) -> dict[str, Any] | None:
    """Replace every chart spec output of ``nb`` with its SVG, in place.

    Returns the error of the first chart vl-convert could not draw (its output becomes an
    ``error`` output, as the kernel's would have), shaped as a run's ``error``; else None.
    """
    first: dict[str, Any] | None = None
    numbering = _Numbering()
    for index, cell in enumerate(nb.cells):
        outputs = cell.get("outputs", [])
        for i, out in enumerate(outputs):
            spec = (out.get("data") or {}).get(_SPEC)
            if spec is None:
                continue
            ahead = _taken(spec)
            try:
                bundle = ahead.result() if ahead is not None else _bundle(spec)
                bundle["image/svg+xml"] = numbering.apply(bundle["image/svg+xml"])
                out["data"] = nbformat.from_dict(bundle)
            except Exception as exc:  # noqa: BLE001 - the chart's failure, as in the kernel
                ename, evalue = type(exc).__name__, str(exc)
                outputs[i] = nbformat.v4.new_output(
                    "error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])
                if first is None:
                    first = {"ename": ename, "evalue": evalue[:500], "cell_index": index,
                             "execution_count": cell.get("execution_count"), "anchor": None}
    return first

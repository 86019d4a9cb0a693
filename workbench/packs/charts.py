"""A pack build's charts, drawn once per builder process instead of once per kernel.

vl-convert starts a JavaScript runtime the first time a process draws a chart: about 0.6 s
of CPU (then 0.03 to 0.06 s a chart), which every pack kernel paid. The builder now tells
its kernels (:data:`workbench.render.DEFER_CHARTS_ENV`, set with the pack-build flag in
:func:`workbench.packs.kernels.kernel_env`) to send each chart's spec, already cleaned by
``render._vega_safe``, as JSON text under :data:`workbench.render.SPEC_MIME`. :func:`draw` replaces
each such output with the one the kernel would have made (:func:`workbench.render.svg_bundle`
on the same spec), in :func:`workbench.packs.execute.run_notebook` right after papermill
returns and before the notebook is scrubbed, written to staging and exported: the pack's
``.ipynb``, page, results and cache entry are what they were. A notebook that failed or
was stopped is read back from papermill's last save and drawn the same way. Fleet workers
run the same ``run_entry``, so they draw their notebooks' charts too, with one runtime per
worker process.

The runtime starts in a background thread when the process's first notebook starts
(:func:`warm_up`), so the first page does not wait for it.

A chart vl-convert cannot draw failed its cell in the kernel (the renderer raised, the
cell stopped the notebook). Drawn here, its output becomes that error and the run fails
with it (the cells after it have run, and their outputs stay on the page).

Measured with ``benchmarks/demo_pack.py --cold-only``: see its docstring.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import nbformat

from workbench import render

_SPEC = render.SPEC_MIME
_warm_lock = threading.Lock()
_warming: threading.Thread | None = None


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


def draw(nb: nbformat.NotebookNode) -> dict[str, Any] | None:
    """Replace every chart spec output of ``nb`` with its SVG, in place.

    Returns the error of the first chart vl-convert could not draw (its output becomes an
    ``error`` output, as the kernel's would have), shaped as a run's ``error``; else None.
    """
    first: dict[str, Any] | None = None
    for index, cell in enumerate(nb.cells):
        outputs = cell.get("outputs", [])
        for i, out in enumerate(outputs):
            spec = (out.get("data") or {}).get(_SPEC)
            if spec is None:
                continue
            try:
                out["data"] = nbformat.from_dict(render.svg_bundle(json.loads(spec)))
            except Exception as exc:  # noqa: BLE001 - the chart's failure, as in the kernel
                ename, evalue = type(exc).__name__, str(exc)
                outputs[i] = nbformat.v4.new_output(
                    "error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])
                if first is None:
                    first = {"ename": ename, "evalue": evalue[:500], "cell_index": index,
                             "execution_count": cell.get("execution_count"), "anchor": None}
    return first

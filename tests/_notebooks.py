"""Notebooks and specs for the pack tests: small notebooks (a parameters cell and one code
cell), and a spec of some of the demo pack's notebooks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import yaml
from nbformat.v4 import new_code_cell, new_notebook


def write_notebook(path: Path, params: str, body: str) -> None:
    """``path`` as a Python 3 notebook: ``params`` in a cell tagged ``parameters`` (papermill
    injects after it), then ``body``."""
    p = new_code_cell(params)
    p.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[p, new_code_cell(body)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, path)


DEMO = Path(__file__).resolve().parents[1] / "notebooks" / "packs" / "demo.yml"


def demo_subset(tmp: Path, names: set[str]) -> Path:
    """A spec (written into ``tmp``) of the demo pack's entries ``names``, paths made
    absolute, without its gates; ``needs`` kept where the needed notebook is among them
    (release_readiness reads cost_to_value's findings)."""
    doc = yaml.safe_load(DEMO.read_text())
    base = DEMO.parent

    def absolute(value):
        if isinstance(value, dict) and set(value) == {"path"}:
            return {"path": str((base / value["path"]).resolve())}
        return value

    notebooks = []
    for nb in doc["notebooks"]:
        if nb["name"] in names:
            nb = {**nb, "path": str((base / nb["path"]).resolve())}
            needs = [n for n in nb.pop("needs", []) if n in names]
            if needs:
                nb["needs"] = needs
            nb["parameters"] = {k: absolute(v) for k, v in nb.get("parameters", {}).items()}
            notebooks.append(nb)
    spec = {"name": "sub", "title": "Subset",
            "inputs": [str((base / p).resolve()) for p in doc.get("inputs", [])],
            "notebooks": notebooks}
    path = tmp / "sub.yml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def executed_outputs(staging: Path, name: str) -> str:
    """Every code cell's source and outputs in ``staging/<name>.ipynb`` (not the timings
    papermill adds), the staging folder's name and object addresses (``<... at 0x7f...>``
    reprs) replaced: what two runs of one notebook must agree on."""
    nb = nbformat.read(staging / f"{name}.ipynb", as_version=4)
    cells = [(c.source, [{k: v for k, v in o.items() if k != "execution_count"}
                         for o in c.get("outputs", [])])
             for c in nb.cells if c.cell_type == "code"]
    text = json.dumps(cells, sort_keys=True).replace(str(staging), "STAGING")
    return re.sub(r" at 0x[0-9a-f]+>", " at 0x...>", text)

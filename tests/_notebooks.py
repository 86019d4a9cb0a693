"""Writing small notebooks for the pack tests: a parameters cell and one code cell."""

from __future__ import annotations

from pathlib import Path

import nbformat
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

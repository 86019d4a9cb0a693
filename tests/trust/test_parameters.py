"""Every parameter a notebook's ``parameters`` cell assigns can be set by a pack spec.

papermill silently skips a line it cannot parse (a quote inside the comment was enough),
and the builder then rejects that parameter in a spec as unknown.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from workbench.packs.params import declared_parameters

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
ASSIGNMENT = re.compile(r"^([A-Za-z_]\w*)\s*(?::[^=]+)?=", re.MULTILINE)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_assigned_parameter_is_declared(path):
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assigned = set(ASSIGNMENT.findall(cell.source))
    assert assigned and assigned <= declared_parameters(path)

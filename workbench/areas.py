"""The registry of analysis areas: adding an area means its own package, one line here and
one notebook.

Every area package ``workbench.<area>`` follows the same layout and protocol:

* ``__init__.py``   the public API (pinned by ``tests/unit/test_public_api.py``), with one
                    entry verb that returns the area's result;
* ``_model.py``     the data classes (results, rows), no computation, no rendering;
* ``_compute.py`` (and further private modules) the computation, pure functions over polars;
* ``_render.py``    every chart and HTML fragment of the area (Altair, Jinja with autoescape);
* ``_compare.py``   ``compare(before: Findings, now: Findings) -> list[Change]``: what changed
                    between two pack versions, as the review summary shows it.

The result of the entry verb satisfies :class:`workbench.findings.AreaResult`.
Areas never import each other; they read other areas' conclusions only as findings.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class Area:
    name: str  # the package under workbench/ and the area's label in change summaries
    notebook: str  # the notebook that writes this area's findings (its ``notebook`` field)
    verb: str  # the entry function of the package
    label: str  # how a change summary names the area

    @property
    def module(self) -> ModuleType:
        return importlib.import_module(f"workbench.{self.name}")


AREAS: dict[str, Area] = {
    a.name: a
    for a in (
        Area("contracts", "contract_checks", "check", "contract"),
        Area("drift", "drift", "compute", "drift"),
        Area("costs", "cost_to_value", "compute", "cost"),
        Area("incidents", "incident_postmortem", "analyze", "incidents"),
        Area("performance", "model_performance", "evaluate", "performance"),
        Area("release", "release_readiness", "decide", "release"),
    )
}


def area_of_notebook(notebook: str) -> Area | None:
    """The area whose notebook wrote findings with this ``notebook`` field (None if none)."""
    return next((a for a in AREAS.values() if a.notebook == notebook), None)

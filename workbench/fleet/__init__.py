"""Fleets: one pack spec as a template, a table of models, every notebook run of every
model a task on Dask distributed, and one fleet index over the results.

``build_fleet(FLEET, out_dir, scheduler=None, workers=None)`` (:mod:`.build`),
``load_fleet`` (:mod:`.spec`), ``write_fleet_index`` (:mod:`.index`).
"""

from __future__ import annotations

from workbench.fleet.build import FleetResult, ModelOutcome, build_fleet
from workbench.fleet.index import write_fleet_index
from workbench.fleet.spec import FleetSpec, load_fleet

__all__ = ["FleetResult", "FleetSpec", "ModelOutcome", "build_fleet", "load_fleet",
           "write_fleet_index"]

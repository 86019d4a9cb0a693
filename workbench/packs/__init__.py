"""Review packs: spec -> executed notebooks -> versioned offline HTML + manifest.

Public entry points (imported lazily, so a notebook importing :func:`summarize` does not
pay for papermill or nbconvert)::

    load_spec(path)              validate a pack spec (SpecError lists every problem)
    build(spec, out_dir, jobs)   execute and publish one version -> BuildResult
                                 (the pipeline: plan -> execute -> assemble -> publish)
    verify(version_dir)          recompute hashes; CheckFailed names the first bad file
    summarize(spec, results_dir) gates + verdict for the review_summary notebook
    list_packs(out_dir), prune(out_dir, keep)
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "load_spec": "workbench.packs.spec",
    "PackSpec": "workbench.packs.spec",
    "build": "workbench.packs.build",
    "BuildResult": "workbench.packs.publish",
    "verify": "workbench.packs.verify",
    "summarize": "workbench.packs.gates",
    "evaluate_gates": "workbench.packs.gates",
    "ReviewSummary": "workbench.packs.gates",
    "list_packs": "workbench.packs.prune",
    "prune": "workbench.packs.prune",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench.packs' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)

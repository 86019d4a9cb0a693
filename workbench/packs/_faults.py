"""Fault injection for the crash tests (issue 7): named kill points in the builder.

``WORKBENCH_KILL_AT=<point>`` makes the build process SIGKILL itself the first time it
reaches ``<point>``, exactly like an operator's ``kill -9`` or the OOM killer at that
moment. Points are listed in :data:`POINTS` (``{nb}`` is a notebook name). Without the
variable a kill point costs one dictionary look-up.
"""

from __future__ import annotations

import os
import signal

ENV = "WORKBENCH_KILL_AT"
POINTS = (
    "locked",  # the pack lock is held, nothing done yet
    "staging-cleaned",  # leftovers of killed builds removed
    "staging-created",  # the empty staging dir exists
    "notebook-start:{nb}",  # a worker is about to start the notebook's kernel
    "executed:{nb}",  # papermill finished, nothing scrubbed or exported yet
    "scrubbed:{nb}",  # the executed .ipynb is written, the HTML is not
    "exported:{nb}",  # the notebook's HTML is written
    "notebook-done:{nb}",  # the worker returned the notebook's run
    "gates",  # every notebook ran, gates evaluated
    "front-page",  # index.html written into staging
    "manifest",  # manifest.json written into staging
    "published",  # the staging dir was renamed into place, latest not yet moved
    "latest",  # latest moved, reports/index.html not yet regenerated
    "site-index",  # reports/index.html regenerated, lock about to be released
)


def kill_point(name: str) -> None:
    """SIGKILL this process if ``WORKBENCH_KILL_AT`` names ``name``."""
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)

"""What a Dask worker of a fleet keeps for its lifetime (a worker plugin; its own module so
that importing :mod:`workbench.fleet` does not import distributed)."""

from __future__ import annotations

import threading
from typing import Any

from distributed import WorkerPlugin


class FleetWorker(WorkerPlugin):
    """On joining the fleet, a worker imports what every task runs (papermill, nbconvert's
    exporter, the assembly) once for its lifetime, in the background while the client is
    still planning; a worker that joins later, or that its nanny restarted after a death,
    gets it too (Dask runs ``setup`` on every worker that registers)."""

    name = "workbench-fleet"
    idempotent = True

    def setup(self, worker: Any) -> None:
        # in a thread: registering the plugin must not hold up the client's planning (a
        # task that starts first simply waits on the same import locks)
        threading.Thread(target=_warm_imports, name="workbench-warm-imports",
                         daemon=True).start()


def _warm_imports() -> None:
    import papermill.engines  # noqa: F401
    import papermill.parameterize  # noqa: F401

    import workbench.packs.assemble  # noqa: F401
    import workbench.packs.export  # noqa: F401

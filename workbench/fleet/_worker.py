"""What a Dask worker of a fleet keeps for its lifetime (a worker plugin; its own module so
that importing :mod:`workbench.fleet` does not import distributed)."""

from __future__ import annotations

from typing import Any

from distributed import WorkerPlugin

from workbench.packs import kernels


class FleetWorker(WorkerPlugin):
    """A fleet worker's lifetime state, set up when the worker joins (Dask runs ``setup``
    on every worker, also one that joins later or that its nanny restarted after a death):

    - one warm-kernel server (:func:`workbench.packs.kernels.shared_server`): every
      notebook this worker runs forks its kernel from it, so ipykernel, numpy, scipy.stats
      and altair are imported once per worker, not once per notebook; stopped in
      ``teardown`` when the worker closes (and it exits by itself, killing its kernels,
      if the worker dies);
    - the task code (papermill, nbconvert's exporter, the assembly) imported once, before
      the worker's first task.
    """

    name = "workbench-fleet"
    idempotent = True

    def __init__(self) -> None:
        self.server: kernels.KernelServer | None = None

    def setup(self, worker: Any) -> None:
        self.server = kernels.shared_server()  # None when WORKBENCH_WARM_KERNELS=0
        # here, not in a background thread: papermill's modules import each other, and a
        # task importing them while another thread does saw a partially initialized module
        # (ImportError, measured); the server imports its own modules meanwhile
        _warm_imports()

    def teardown(self, worker: Any) -> None:
        if self.server is not None:
            self.server.close()  # its kernels are killed with it (none run by now)
            self.server = None


def _warm_imports() -> None:
    from workbench.packs import _papermill

    _papermill.load()

    import workbench.packs.assemble  # noqa: F401
    import workbench.packs.export  # noqa: F401

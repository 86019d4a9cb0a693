"""papermill, imported without the cloud storage clients it never uses here, and with an
engine that saves the executed notebook at its ends only.

``papermill.iorw`` tries to import a client for every remote scheme it supports (gcsfs,
boto3, Azure, PyGitHub) and falls back to a stub when one is missing. A pack build hands
papermill local paths only, yet paid for those imports in the builder (and in every fleet
worker): measured on the 2-core machine, ``import papermill`` 0.77 s of CPU with gcsfs
installed, 0.56 s without them, 2.4 s on a cold disk cache. :func:`load` hides them while
papermill is imported, so it takes its own missing-dependency path for those schemes, then
unhides them: the rest of the process (a notebook's own code, a Dask worker) imports them
as usual.

Papermill's own engine saves the output notebook twice per cell (when it starts and when
it completes): 339 saves, 1.84 s of the builder's CPU in a cold build of the demo pack (7
notebooks, measured on the 2-core machine). :data:`ENGINE` saves when the notebook starts,
when a cell raises and when the run ends, however it ends (papermill's ``finally``: a
kernel that died or was stopped by the watchdog still leaves everything it ran), which is
all a pack build reads: the saved file is private to the build and read once, after
papermill returns. As each cell completes, the engine hands its chart specs to
:func:`workbench.packs.charts.predraw`, which draws them while the kernel goes on.
"""

from __future__ import annotations

import sys
import threading
from types import ModuleType
from typing import Any

# jsonschema (imported by nbformat) loads rfc3987_syntax when it is installed, which builds
# a Lark grammar on import: ~2.5 s of CPU on the 2-core dev machine, for IRI format checks
# nbformat never makes. Marking it absent makes jsonschema skip those checks, as it does
# when the optional package is not installed.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

# papermill's optional remote-storage clients (gs://, s3://, adl://, abs://, github URLs)
UNUSED_CLIENTS = ("gcsfs", "boto3", "azure.datalake.store", "azure.storage.blob", "github")
_lock = threading.Lock()


ENGINE = "workbench"  # papermill engine name: nbclient, saving at the ends of a run only


def load() -> ModuleType:
    """``papermill`` with its engines and parameterizer imported and :data:`ENGINE`
    registered (once per process)."""
    with _lock:
        if "papermill.parameterize" not in sys.modules or "papermill.engines" not in sys.modules:
            hidden = [name for name in UNUSED_CLIENTS if name not in sys.modules]
            for name in hidden:
                sys.modules[name] = None  # type: ignore[assignment]  # "not installed"
            try:
                import papermill.engines
                import papermill.parameterize  # noqa: F401
            finally:
                for name in hidden:
                    if name in sys.modules and sys.modules[name] is None:
                        del sys.modules[name]
        import papermill
        import papermill.engines
        import papermill.exceptions

        # registered here even when something else imported papermill first
        engines = papermill.engines.papermill_engines
        try:
            engines.get_engine(ENGINE)
        except papermill.exceptions.PapermillException:
            engines.register(ENGINE, _engine_class(papermill.engines))
        return papermill


def _engine_class(engines: ModuleType) -> type:
    class EndSavingManager(engines.NotebookExecutionManager):  # type: ignore[name-defined]
        """papermill's execution manager, quiet around each cell (see the module
        docstring); every other save (start, a cell's exception, the end) is kept."""

        _quiet = False
        before_first_cell: Any = None  # called once the kernel is up, before any cell runs

        def save(self, **kwargs: Any) -> None:
            if not self._quiet:
                super().save(**kwargs)

        def cell_start(self, cell: Any, cell_index: int | None = None, **kwargs: Any) -> None:
            gate, self.before_first_cell = self.before_first_cell, None
            if gate is not None:
                gate()  # may raise: the run stops before its first cell, kernel shut down
            self._quiet = True
            try:
                super().cell_start(cell, cell_index, **kwargs)
            finally:
                self._quiet = False

        def cell_complete(self, cell: Any, cell_index: int | None = None,
                          **kwargs: Any) -> None:
            self._quiet = True
            try:
                super().cell_complete(cell, cell_index, **kwargs)
            finally:
                self._quiet = False
            # its charts drawn while the kernel runs the next cells (imported here: nbformat
            # must come after the rfc3987_syntax line above)
            from workbench.packs import charts

            charts.predraw(cell.get("outputs", []))

    class EndSavingEngine(engines.NBClientEngine):  # type: ignore[name-defined]
        """``NBClientEngine`` with :class:`EndSavingManager` (``Engine.execute_notebook``
        as papermill 2.7 has it, the manager class aside). ``before_first_cell``: a
        callable run once the kernel has started, before the first cell (a notebook whose
        kernel starts while the notebooks it reads still run waits there)."""

        @classmethod
        def execute_notebook(cls, nb: Any, kernel_name: str, output_path: str | None = None,
                             progress_bar: bool = True, log_output: bool = False,
                             autosave_cell_every: int = 30, before_first_cell: Any = None,
                             **kwargs: Any) -> Any:
            nb_man = EndSavingManager(nb, output_path=output_path, progress_bar=progress_bar,
                                      log_output=log_output,
                                      autosave_cell_every=autosave_cell_every)
            nb_man.before_first_cell = before_first_cell
            nb_man.notebook_start()
            try:
                cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output,
                                             **kwargs)
            finally:
                nb_man.cleanup_pbar()
                nb_man.notebook_complete()
            return nb_man.nb

    return EndSavingEngine

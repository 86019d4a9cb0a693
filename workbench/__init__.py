"""workbench: notebook-first review packs for production ML systems.

The public surface is small; each analysis area lives in its own module:
``workbench.contracts``, ``workbench.drift``, ``workbench.costs``, ``workbench.incidents``,
``workbench.packs``, ``workbench.sample``. Rendering helpers are in ``workbench.render``.
"""

from workbench.errors import (
    CheckFailed,
    ContractError,
    InputError,
    NotebookFailed,
    SpecError,
    WorkbenchError,
)

__version__ = "0.1.0"

__all__ = [
    "CheckFailed",
    "ContractError",
    "InputError",
    "NotebookFailed",
    "SpecError",
    "WorkbenchError",
    "__version__",
]

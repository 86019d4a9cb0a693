"""workbench: notebook-first review packs for production ML systems.

The public surface is small (pinned by ``tests/unit/test_public_api.py``): the error tree
and the findings every notebook writes. Each analysis area lives in its own package
(``workbench.contracts``, ``workbench.drift``, ``workbench.costs``, ``workbench.incidents``;
the registry is :mod:`workbench.areas`), packs in ``workbench.packs``, the demo data in
``workbench.sample``. Rendering helpers are in ``workbench.render``.
"""

from workbench.errors import (
    CheckFailed,
    ContractError,
    EnvironmentFailure,
    InputError,
    NotebookFailed,
    RecordError,
    SpecError,
    WorkbenchError,
)
from workbench.findings import Findings, read_findings

__version__ = "0.1.0"

__all__ = [
    "CheckFailed",
    "ContractError",
    "EnvironmentFailure",
    "Findings",
    "InputError",
    "NotebookFailed",
    "RecordError",
    "SpecError",
    "WorkbenchError",
    "__version__",
    "read_findings",
]

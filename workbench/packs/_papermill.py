"""papermill, imported without the cloud storage clients it never uses here.

``papermill.iorw`` tries to import a client for every remote scheme it supports (gcsfs,
boto3, Azure, PyGitHub) and falls back to a stub when one is missing. A pack build hands
papermill local paths only, yet paid for those imports in the builder (and in every fleet
worker): measured on the 2-core machine, ``import papermill`` 0.77 s of CPU with gcsfs
installed, 0.56 s without them, 2.4 s on a cold disk cache. :func:`load` hides them while
papermill is imported, so it takes its own missing-dependency path for those schemes, then
unhides them: the rest of the process (a notebook's own code, a Dask worker) imports them
as usual.
"""

from __future__ import annotations

import sys
import threading
from types import ModuleType

# jsonschema (imported by nbformat) loads rfc3987_syntax when it is installed, which builds
# a Lark grammar on import: ~2.5 s of CPU on the 2-core dev machine, for IRI format checks
# nbformat never makes. Marking it absent makes jsonschema skip those checks, as it does
# when the optional package is not installed.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

# papermill's optional remote-storage clients (gs://, s3://, adl://, abs://, github URLs)
UNUSED_CLIENTS = ("gcsfs", "boto3", "azure.datalake.store", "azure.storage.blob", "github")
_lock = threading.Lock()


def load() -> ModuleType:
    """``papermill`` with its engines and parameterizer imported (once per process)."""
    with _lock:
        if "papermill.parameterize" in sys.modules and "papermill.engines" in sys.modules:
            return sys.modules["papermill"]
        hidden = [name for name in UNUSED_CLIENTS if name not in sys.modules]
        for name in hidden:
            sys.modules[name] = None  # type: ignore[assignment]  # "not installed"
        try:
            import papermill
            import papermill.engines
            import papermill.parameterize  # noqa: F401
        finally:
            for name in hidden:
                if name in sys.modules and sys.modules[name] is None:
                    del sys.modules[name]
        return papermill

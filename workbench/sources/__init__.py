"""Where data lives: ODCS servers (files, DuckDB, PostgreSQL) and connection URLs, and a
read-only connection that runs aggregate queries there (``_model``, ``_engine``)."""

from workbench.sources._engine import Connection
from workbench.sources._model import (
    ENV_PASSWORD,
    ENV_USER,
    Source,
    from_url,
    is_url,
    scrub,
    server_kind,
    server_source,
)


def connect(source: Source) -> Connection:
    """A read-only :class:`Connection` to ``source`` (use it as a context manager)."""
    return Connection(source)


__all__ = ["ENV_PASSWORD", "ENV_USER", "Connection", "Source", "connect", "from_url", "is_url",
           "scrub", "server_kind", "server_source"]

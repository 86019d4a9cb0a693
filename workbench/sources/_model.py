"""Where data lives: an ODCS server (files, DuckDB, PostgreSQL) or a connection URL plus a table.

>>> from workbench.sources import from_url
>>> src = from_url("postgresql://reader@db.internal:5432/scoring?schema=public", "features")
>>> src.describe(), src.table
('postgres at db.internal:5432/scoring', 'features')

:func:`server_source` resolves a server of a contract (``servers[].server``: its type,
host, port, database, schema, path); :func:`from_url` reads ``postgresql://`` and
``duckdb:///path.db`` URLs. :func:`connect` opens a read-only connection
(``workbench.sources._engine``) that runs aggregate queries and counts the bytes that came
back.

Credentials never sit in a contract: they come from the environment with datacontract-cli's
names, ``DATACONTRACT_POSTGRES_USERNAME`` and ``DATACONTRACT_POSTGRES_PASSWORD`` (a user name
in a URL wins over the variable; a password in a URL is accepted but discouraged). A password
is kept out of every ``repr``, message and log line: :meth:`Source.describe` never shows it and
every error message passes through :func:`scrub`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from workbench.errors import InputError

ENV_USER = "DATACONTRACT_POSTGRES_USERNAME"
ENV_PASSWORD = "DATACONTRACT_POSTGRES_PASSWORD"
ENV_TIMEOUT = "WORKBENCH_SERVER_TIMEOUT"  # seconds to wait for a server to answer (connect)
ENV_STATEMENT = "WORKBENCH_SQL_SECONDS"   # seconds a query may run (shared with SQL rules)

DATABASE_TYPES = {"postgres": "postgres", "postgresql": "postgres", "duckdb": "duckdb"}
FILE_TYPES = {"local", "file", "s3", "gcs", "azure", "abfs", "sftp", "https", "http"}


@dataclass(frozen=True)
class Source:
    """A database table's whereabouts. ``password`` is never part of ``repr`` or messages."""

    engine: str                    # "postgres" | "duckdb"
    name: str                      # the server's name in the contract, or "url"
    table: str | None = None
    host: str | None = None
    port: int | None = None
    database: str | None = None
    schema: str | None = None
    path: str | None = None        # a DuckDB database file
    user: str | None = None
    password: str | None = field(default=None, repr=False)

    def describe(self) -> str:
        """What a message may say about the server: never a credential."""
        if self.engine == "duckdb":
            return f"duckdb at {self.path or ':memory:'}"
        where = f"{self.host or 'localhost'}:{self.port or 5432}/{self.database or ''}"
        return f"{self.engine} at {where}"

    def with_table(self, table: str) -> Source:
        return Source(**{**self.__dict__, "table": table})

    @property
    def label(self) -> str:
        """``server NAME (postgres at host:port/db)``: how errors name the server."""
        return f"server {self.name} ({self.describe()})"

    @property
    def dataset(self) -> str:
        """The table as a result's ``dataset`` names it."""
        table = ".".join(p for p in (self.schema, self.table) if p)
        return f"{self.describe()}#{table}"


def scrub(text: str, source: Source | None) -> str:
    """``text`` with the source's password (and the password variable's value) replaced."""
    secrets = {s for s in (getattr(source, "password", None), os.environ.get(ENV_PASSWORD)) if s}
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def server_kind(server: Any) -> str:
    """``postgres``, ``duckdb`` or ``file`` for an ODCS server; an InputError otherwise."""
    kind = (server.type or "").strip().lower()
    if kind in DATABASE_TYPES:
        return DATABASE_TYPES[kind]
    if kind in FILE_TYPES or (not kind and (server.path or server.location)):
        return "file"
    if kind == "duckdb" or (server.path and str(server.path).endswith((".duckdb", ".db"))):
        return "duckdb"
    raise InputError(f"server {server.server}: type: expected one of postgres, duckdb or a file "
                     f"server (local, s3, ...), got {server.type!r}", field="servers.type",
                     expected="postgres, duckdb or a file server")


def server_source(server: Any, contract_path: str | os.PathLike[str] | None = None) -> Source:
    """A database server of a contract as a :class:`Source` (no table yet)."""
    kind = server_kind(server)
    name = server.server or server.id or kind
    if kind == "duckdb":
        raw = server.path or server.location or server.database
        if not raw:
            raise InputError(f"server {name}: path: expected the DuckDB database file",
                             field="servers.path")
        path = str(raw)
        if contract_path is not None and not os.path.isabs(path) and "://" not in path:
            path = os.path.normpath(Path(contract_path).parent / path)
        return Source("duckdb", name, path=path, schema=server.schema_)
    if kind != "postgres":
        raise InputError(f"server {name}: type: expected a database server, got a file "
                         "server", field="servers.type")
    port = server.port
    try:
        port = int(port) if port is not None else 5432
    except ValueError:
        raise InputError(f"server {name}: port: expected a number, got {port!r}",
                         field="servers.port") from None
    if not server.database:
        raise InputError(f"server {name}: database: expected the database to connect to",
                         field="servers.database")
    return Source("postgres", name, host=server.host or "localhost", port=port,
                  database=server.database, schema=server.schema_ or "public",
                  user=os.environ.get(ENV_USER), password=os.environ.get(ENV_PASSWORD))


def from_url(url: str, table: str | None = None) -> Source:
    """``postgresql://[user[:password]@]host[:port]/database[?schema=S]`` or
    ``duckdb:///path/to/file.duckdb``; ``table`` may be ``schema.table``."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    schema = None
    if table and "." in table:
        schema, table = table.split(".", 1)
    if scheme == "duckdb":
        path = unquote(parts.netloc + parts.path) if parts.netloc else unquote(parts.path)
        if not path:
            raise InputError("duckdb URL: expected duckdb:///path/to/file.duckdb",
                             field="url")
        return Source("duckdb", "url", table=table, path=path, schema=schema)
    if scheme not in {"postgres", "postgresql"}:
        raise InputError(f"connection URL: expected postgresql://... or duckdb:///..., got "
                         f"a {scheme or 'plain'} URL", field="url")
    query = parse_qs(parts.query)
    schema = schema or (query.get("schema") or ["public"])[0]
    try:
        port = parts.port or 5432
    except ValueError:
        raise InputError("connection URL: port: expected a number", field="url") from None
    return Source("postgres", "url", table=table, host=parts.hostname or "localhost",
                  port=port, database=unquote(parts.path.lstrip("/")) or None, schema=schema,
                  user=unquote(parts.username) if parts.username else os.environ.get(ENV_USER),
                  password=unquote(parts.password) if parts.password
                  else os.environ.get(ENV_PASSWORD))


def is_url(text: str) -> bool:
    return str(text).lower().startswith(("postgres://", "postgresql://", "duckdb://"))


__all__ = ["ENV_PASSWORD", "ENV_USER", "Source", "from_url", "is_url", "scrub",
           "server_kind", "server_source"]

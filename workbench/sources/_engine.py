"""A read-only connection to a database server that runs aggregate queries and counts the
bytes that come back.

PostgreSQL (psycopg 3): every transaction is read-only (``default_transaction_read_only``),
every statement has a timeout (``statement_timeout``, ``WORKBENCH_SQL_SECONDS``, default 60 s)
and connecting gives up after ``WORKBENCH_SERVER_TIMEOUT`` seconds (default 10). Connect as a
role that can only read (``GRANT SELECT`` on the contract's tables): the read-only transaction
is a second fence, not the first. DuckDB: the database file is opened ``read_only`` with
external access (other files, URLs, extensions) off and the configuration locked.

Failures become one line naming the server: a wrong password, a missing database, table or
column (:meth:`Connection.require_columns` names every missing column), or a refused
permission is an :class:`~workbench.errors.InputError` (exit 2); a server
that does not answer, or a connection lost, an
:class:`~workbench.errors.EnvironmentFailure` (exit 4). Passwords are scrubbed from every
message (:func:`workbench.sources.scrub`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from workbench.errors import EnvironmentFailure, InputError
from workbench.sources._model import ENV_STATEMENT, ENV_TIMEOUT, Source, scrub

# connection failures that are the input's fault (exit 2); anything else there is exit 4
_INPUT_FAILURES = ("password authentication failed", "no password supplied",
                   "does not exist", "authentication failed", "permission denied",
                   "not permitted to log in", "pg_hba.conf")


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name)
    try:
        value = float(raw) if raw else default
    except ValueError:
        raise InputError(f"{name}: expected a number of seconds, got {raw!r}",
                         field=name) from None
    return value if value > 0 else default


class Connection:
    """``fetch(sql)`` -> (column names, rows); ``bytes_returned`` adds up every result."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.engine = source.engine
        self.dialect = "postgres" if source.engine == "postgres" else "duckdb"
        self.bytes_returned = 0
        self.queries = 0
        self.statement_seconds = _seconds(ENV_STATEMENT, 60.0)
        if source.engine == "postgres":
            self._con = self._postgres()
        elif source.engine == "duckdb":
            self._con = self._duckdb()
        else:
            raise InputError(f"{source.label}: expected a postgres or duckdb server",
                             field="servers.type")

    # --- opening ---------------------------------------------------------------------------

    def _postgres(self) -> Any:
        import psycopg  # only where a PostgreSQL server is used

        src = self.source
        timeout = _seconds(ENV_TIMEOUT, 10.0)
        ms = int(self.statement_seconds * 1000)
        try:
            return psycopg.connect(
                host=src.host, port=src.port, dbname=src.database, user=src.user,
                password=src.password, connect_timeout=max(1, int(round(timeout))),
                autocommit=True, application_name="workbench",
                options=f"-c default_transaction_read_only=on -c statement_timeout={ms}")
        except psycopg.OperationalError as exc:
            raise self._connect_failure(exc) from None

    def _connect_failure(self, exc: BaseException) -> Exception:
        text = " ".join(scrub(str(exc), self.source).split())
        reason = text.split("FATAL:")[-1].strip() if "FATAL:" in text else text
        if any(word in text.lower() for word in _INPUT_FAILURES):
            return InputError(f"{self.source.label}: could not connect: {reason[:300]}",
                              field="servers")
        return EnvironmentFailure(f"{self.source.label}: did not answer: {reason[:300]}; the "
                                  "environment failed, retrying may help")

    def _duckdb(self) -> Any:
        import duckdb

        path = self.source.path or ""
        if not os.path.exists(path):
            raise InputError(f"{self.source.label}: path: expected an existing DuckDB "
                             "database file", file=path, field="servers.path")
        try:
            return duckdb.connect(path, read_only=True, config={
                "enable_external_access": False, "autoinstall_known_extensions": False,
                "autoload_known_extensions": False, "lock_configuration": True})
        except duckdb.Error as exc:
            raise InputError(f"{self.source.label}: expected a DuckDB database: "
                             f"{_line(exc)}", file=path, field="servers.path") from None

    # --- queries ---------------------------------------------------------------------------

    def fetch(self, sql: str, params: tuple | list | None = None
              ) -> tuple[list[str], list[tuple]]:
        """Run one query; its column names and rows. Failures as described in the module."""
        self.queries += 1
        if self.engine == "postgres":
            return self._fetch_postgres(sql, params)
        return self._fetch_duckdb(sql, params)

    def _fetch_postgres(self, sql: str, params: Any) -> tuple[list[str], list[tuple]]:
        import psycopg

        try:
            with self._con.cursor() as cur:
                cur.execute(sql, params)
                if cur.description is None:
                    return [], []
                rows = cur.fetchall()
                res = cur.pgresult
                if res is not None:  # the payload as it came over the wire
                    self.bytes_returned += sum(
                        len(res.get_value(r, c) or b"") for r in range(res.ntuples)
                        for c in range(res.nfields))
                return [d.name for d in cur.description], rows
        except psycopg.errors.QueryCanceled as exc:
            raise EnvironmentFailure(
                f"{self.source.label}: a query was stopped after {self.statement_seconds:g} s "
                f"({ENV_STATEMENT} sets the limit): {self._line(exc)}") from None
        except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn,
                psycopg.errors.InsufficientPrivilege, psycopg.errors.InvalidSchemaName) as exc:
            raise InputError(f"{self.source.label}: {self._line(exc)}",
                             field="servers") from None
        except psycopg.OperationalError as exc:
            raise EnvironmentFailure(f"{self.source.label}: the connection failed: "
                                     f"{self._line(exc)}; retrying may help") from None
        except psycopg.Error as exc:  # the query itself (a type, a regular expression, ...)
            raise InputError(f"{self.source.label}: a query failed: {self._line(exc)}",
                             field="servers") from None

    def _fetch_duckdb(self, sql: str, params: Any) -> tuple[list[str], list[tuple]]:
        import duckdb

        try:
            rel = self._con.execute(sql, params or [])
            if rel.description is None:
                return [], []
            names = [d[0] for d in rel.description]
            table = rel.to_arrow_table()
        except duckdb.InterruptException as exc:
            raise EnvironmentFailure(f"{self.source.label}: a query was stopped: "
                                     f"{self._line(exc)}") from None
        except duckdb.Error as exc:
            raise InputError(f"{self.source.label}: a query failed: {self._line(exc)}",
                             field="servers") from None
        self.bytes_returned += table.nbytes
        return names, [tuple(r.values()) for r in table.to_pylist()]

    def run_guarded(self, sql: str) -> tuple[Any, str | None]:
        """A contract's own SQL rule: its first value, or why it did not run (one line).

        The statement timeout and read-only transaction (PostgreSQL) or the read-only, locked
        database (DuckDB) apply; a failure here is the rule's failure, not the run's."""
        try:
            _, rows = self.fetch(sql)
        except EnvironmentFailure as exc:
            return None, f"stopped: {str(exc).split(': ', 1)[-1][:200]}"
        except InputError as exc:  # the rule's own error (syntax, types): the rule fails
            return None, str(exc).split(": ", 1)[-1][:200]
        return (rows[0][0] if rows and rows[0] else None), None

    def column_types(self, table: str, schema: str | None) -> dict[str, str]:
        """The table's columns and their engine type names, in order; an InputError naming
        the server and the table when there is no such table."""
        if self.engine == "postgres":
            _, rows = self.fetch(
                "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON "
                "n.oid = c.relnamespace WHERE c.relname = %s AND n.nspname = %s AND "
                "a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                (table, schema or "public"))
        else:
            _, rows = self.fetch(
                "SELECT column_name, data_type FROM information_schema.columns WHERE "
                "table_name = ? AND (? IS NULL OR table_schema = ?) ORDER BY ordinal_position",
                [table, schema, schema])
        if not rows:
            where = f"{schema}.{table}" if schema else table
            raise InputError(f"{self.source.label}: table {where}: expected an existing table "
                             "the connection may read", field="physicalName")
        return {name: type_name for name, type_name in rows}

    def require_columns(self, table: str, schema: str | None, columns: Sequence[str],
                        why: str) -> dict[str, str]:
        """:meth:`column_types`, or an InputError naming the server, the table and every one
        of ``columns`` it lacks, on one line, missing columns first (``why`` says who named
        them).

        On a server this is the input's fault rather than a failed check: the queries
        cannot run against a table without the column, so the contract (or the command)
        points at the wrong table."""
        types = self.column_types(table, schema)
        missing = list(dict.fromkeys(c for c in columns if c not in types))
        if missing:
            where = f"{schema}.{table}" if schema else table
            has = ", ".join(list(types)[:12]) + (", ..." if len(types) > 12 else "")
            raise InputError(
                f"{self.source.label}: table {where}: expected the column"
                f"{'s' if len(missing) > 1 else ''} {', '.join(missing)} ({why}); the table "
                f"has {has}", field="columns", expected=", ".join(missing))
        return types

    def close(self) -> None:
        try:
            self._con.close()
        except Exception:  # closing a connection that already failed
            pass

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _line(self, exc: BaseException) -> str:
        return scrub(_line(exc), self.source)


def _line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


__all__ = ["Connection"]

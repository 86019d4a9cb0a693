"""SQL quality rules in a sandbox: a contract's query touches the contract's data and nothing else.

Contracts travel between teams, so a ``type: sql`` rule is untrusted code run with the rights
of whoever checks the contract. Three layers keep it to the data:

1. **Parsing.** DuckDB's own parser (``duckdb.extract_statements``) must find exactly one
   statement of type ``SELECT`` (``WITH ... SELECT``, ``FROM t``, ``DESCRIBE``, ``SUMMARIZE``
   parse as that too). ``COPY``, ``ATTACH``, ``INSTALL``/``LOAD``, ``SET``/``PRAGMA``,
   ``CREATE``, ``CALL``, ``EXPLAIN``, two statements, or a query that does not parse are
   refused and never run. The parsed statement object is what runs, not the text again.
2. **The connection.** A fresh in-memory DuckDB database, created with
   ``enable_external_access=false`` (no file, URL, glob, ``ATTACH``, ``COPY``, extension
   install, temp file or Python replacement scan), extension autoload/autoinstall and
   community/unsigned extensions off, persistent secrets off, ``threads``, ``memory_limit``,
   ``temp_directory=''`` and ``max_temp_directory_size=0`` (nothing spills to disk). The
   contract's dataset is registered from Python (a pyarrow dataset, polars LazyFrame or Arrow
   table, :func:`table_for`: DuckDB never opens the file itself) and then
   ``lock_configuration=true``: no statement can change any of the above. A ``SELECT`` that
   reaches for anything else (``read_csv('/etc/passwd')``, ``glob``, ``query('COPY ...')``)
   fails with DuckDB's permission error before reading.
3. **Limits.** Each query runs under a timer that calls ``con.interrupt()`` after
   :attr:`SqlLimits.seconds`; memory is bounded by the connection's ``memory_limit``.

What the limits do not bound (measured on DuckDB 1.5.6, 256MB / 5 s limits): DuckDB sees an
interrupt between chunks and its ``memory_limit`` covers what its buffer manager holds (hash
tables, sorts, a materialised cross join or ``list()``: all stopped at 256MB), not the strings
one scalar function builds inside a chunk. ``SELECT repeat('x', 1000000000)`` peaked at
2.1 GB and stopped after 13 s; ``repeat`` over 8 rows of 100 MB peaked at 957 MB and stopped
after 21 s. A hard bound needs the operating system: run checks of contracts you do not trust
under a memory cap (container, ``systemd-run -p MemoryMax=``, ``ulimit -v``). The same holds
for the data a polars LazyFrame scan hands to DuckDB (CSV sources): it is Python memory.

A rule that is refused or stopped is a failed check whose observed value is one line saying
why; nothing the query computed reaches the result. Other failures whose query names a
sensitive column have their message withheld, as DuckDB quotes values in conversion errors.

Why the data is registered rather than read by DuckDB: ``allowed_paths`` would let DuckDB read
the data file with external access off, but the same setting lets ``COPY ... TO`` write that
path (tried on DuckDB 1.5: only the temporary-file rename stopped an overwrite). Registering
Python objects keeps DuckDB away from the file system altogether and still pushes
projections and filters into the scan (``EXPLAIN`` shows them on the ``ARROW_SCAN``).
Measured in ``benchmarks/contracts_sql.py`` (10M-row Parquet): see its header.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from workbench.errors import input_error

# duckdb is imported where it is used: its import starts a thread, which would keep the
# warm-kernel server (workbench.packs.kernels) from preloading this area for its kernels

ENV_SECONDS = "WORKBENCH_SQL_SECONDS"
ENV_MEMORY = "WORKBENCH_SQL_MEMORY"
_MEMORY = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


@dataclass(frozen=True)
class SqlLimits:
    """What one SQL rule may use: wall-clock seconds, DuckDB memory and threads."""

    seconds: float = 60.0
    memory: str = "1GB"
    threads: int = 2

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SqlLimits:
        """Defaults, overridden by ``WORKBENCH_SQL_SECONDS`` / ``WORKBENCH_SQL_MEMORY``.

        The checker sets the limits, never the contract: a contract is the untrusted side.

        >>> SqlLimits.from_env({"WORKBENCH_SQL_SECONDS": "5", "WORKBENCH_SQL_MEMORY": "2GB"})
        SqlLimits(seconds=5.0, memory='2GB', threads=2)
        """
        env = os.environ if env is None else env
        base = cls()
        seconds, memory = base.seconds, base.memory
        if (text := env.get(ENV_SECONDS)) is not None:
            try:
                seconds = float(text)
            except ValueError:
                seconds = -1.0
            if not 0 < seconds < float("inf"):
                raise input_error("environment", ENV_SECONDS, "a positive number of seconds",
                                  text)
        if (text := env.get(ENV_MEMORY)) is not None:
            if not _MEMORY.match(text.strip()):
                raise input_error("environment", ENV_MEMORY, "a size such as 512MB or 2GB", text)
            memory = text.strip()
        return cls(seconds=seconds, memory=memory, threads=base.threads)


def table_for(source: Any, lf: Any) -> Any:
    """What the sandbox registers for a dataset: never a path DuckDB would open itself.

    A local Parquet file: a pyarrow dataset over it (read lazily, columns and filters pushed
    down; 10.6 s against the LazyFrame's 16.9 s and DuckDB's own reader's 12.1 s for three
    rules on 10M rows, ``benchmarks/contracts_sql.py``).
    A DataFrame: its Arrow table (no copy). Anything else (CSV, JSON lines, a directory, a
    URL, a LazyFrame): the engine's own LazyFrame, so SQL sees the same columns and types as
    every other check.
    """
    if isinstance(source, pl.DataFrame):
        return source.to_arrow()
    if isinstance(source, tuple) and source[0] == "parquet" and os.path.isfile(source[1]):
        import pyarrow.dataset as ds  # 0.55 s of CPU to import: only for SQL rules on Parquet

        return ds.dataset(source[1], format="parquet")
    return lf


def refusal(query: str) -> str | None:
    """Why ``query`` may not run (one line), or None when it is a single read-only SELECT.

    >>> refusal("SELECT COUNT(*) FROM t WHERE amount < 0") is None
    True
    >>> refusal("COPY (SELECT 1) TO 'out.csv'")
    'refused: expected a single read-only SELECT, got COPY'
    """
    return _parsed(query)[1]


def _parsed(query: str) -> tuple[list[Any], str | None]:
    """(the statements DuckDB parses ``query`` into, why they may not run or None)."""
    import duckdb

    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        return [], f"refused: the query does not parse: {_line(exc)}"
    return statements, _refusal_of(statements)


def _refusal_of(statements: list[Any]) -> str | None:
    import duckdb

    if not statements:
        return "refused: expected a single read-only SELECT, got no statement"
    if len(statements) > 1:
        kinds = ", ".join(s.type.name for s in statements)
        return f"refused: expected a single read-only SELECT, got {len(statements)} " \
               f"statements ({kinds})"
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        return f"refused: expected a single read-only SELECT, got {kind.name}"
    return None


def sandbox(tables: Mapping[str, Any], limits: SqlLimits) -> Any:
    """A locked in-memory DuckDB connection holding ``tables`` (name -> LazyFrame or Arrow).

    The caller closes it. Every setting is fixed at creation, the tables are registered from
    Python, then the configuration is locked.
    """
    import duckdb

    config: dict[str, Any] = {
        "enable_external_access": False,
        "autoload_known_extensions": False,
        "autoinstall_known_extensions": False,
        "allow_community_extensions": False,
        "allow_unsigned_extensions": False,
        "allow_persistent_secrets": False,
        "python_enable_replacements": False,
        "threads": limits.threads,
        "memory_limit": limits.memory,
        "temp_directory": "",
        "max_temp_directory_size": "0B",
    }
    con = duckdb.connect(":memory:", config=config)
    try:
        for name, table in tables.items():
            con.register(name, table)
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


def scalar(con: Any, query: str, limits: SqlLimits,
           sensitive: frozenset[str] | set[str] = frozenset()) -> tuple[Any, str | None]:
    """The first value of ``query``'s first row, or ``(None, reason)`` when it did not run.

    The query is parsed first and refused unless it is one SELECT; it then runs with a timer
    that interrupts the connection after ``limits.seconds``.
    """
    import duckdb

    statements, why = _parsed(query)
    if why is not None:
        return None, why
    timer = threading.Timer(limits.seconds, con.interrupt)
    timer.daemon = True
    timer.start()
    try:
        row = con.execute(statements[0]).fetchone()
    except duckdb.InterruptException:
        return None, (f"stopped: the query ran past the {limits.seconds:g} s limit for a SQL "
                      f"rule ({ENV_SECONDS})")
    except duckdb.OutOfMemoryException:
        return None, (f"stopped: the query needed more than the {limits.memory} memory limit "
                      f"for a SQL rule ({ENV_MEMORY})")
    except duckdb.PermissionException as exc:
        return None, ("refused: the query reaches outside the contract's data "
                      f"({_line(exc).removeprefix('Permission Error: ')})")
    except duckdb.ParserException as exc:  # SQL text inside query()/query_table()
        return None, f"refused: the query does not parse: {_line(exc)}"
    except duckdb.Error as exc:
        if any(c in query for c in sensitive):
            # conversion errors quote the offending value: never show a sensitive one
            return None, (f"the query failed ({type(exc).__name__}); the message is withheld "
                          "because the query reads a sensitive column")
        return None, _line(exc)
    finally:
        timer.cancel()
    return (row[0] if row else None), None


def shown(value: Any, limit: int = 200) -> Any:
    """``value`` as a result may show it: text cut to ``limit`` characters.

    A rule's observed value is one figure; a query returning a whole column as one string
    (``string_agg``) must not copy it into a published pack.

    >>> shown("x" * 500)[-3:], len(shown("x" * 500)), shown(42)
    ('xx…', 200, 42)
    """
    if isinstance(value, str) and len(value) > limit:
        return value[: limit - 1] + "…"
    return value


def _line(exc: BaseException) -> str:
    text = " ".join(str(exc).split("\n")[0].split())
    return text[:300]

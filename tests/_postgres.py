"""A throwaway PostgreSQL server for the push-down tests: Debian's `postgresql` binaries, a
temporary data directory, a free localhost port, stopped when the test session ends.

`initdb` refuses to run as root, so as root the server runs as the unprivileged `postgres`
user the Debian package creates. Missing binaries are installed with apt-get (as `make test`
does through its `postgres` target); when that is impossible the fixture fails, it never skips.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

USER = "workbench_test"
PASSWORD = "s3cret-test-pw"  # a test server's password, checked never to reach any output
DATABASE = "workbench"


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def ensure_installed() -> Path:
    bindir = _bindir()
    if bindir is None:
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "postgresql"], check=True,
                       env=env, stdout=subprocess.DEVNULL)
        bindir = _bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL binaries not found in /usr/lib/postgresql/*/bin after "
                           "installing Debian's postgresql package")
    return bindir


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    host: str
    port: int
    user: str
    password: str
    database: str
    datadir: Path
    bindir: Path
    as_user: list[str]

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{self.database}"

    def connect(self):
        import psycopg

        return psycopg.connect(host=self.host, port=self.port, user=self.user,
                               password=self.password, dbname=self.database, autocommit=True)

    def stop(self) -> None:
        subprocess.run([*self.as_user, str(self.bindir / "pg_ctl"), "-D", str(self.datadir),
                        "-m", "immediate", "-w", "stop"], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.datadir.parent, ignore_errors=True)


def start() -> Server:
    bindir = ensure_installed()
    root = Path(tempfile.mkdtemp(prefix="workbench-pg-"))
    datadir = root / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:
        # initdb refuses root: the server runs as Debian's unprivileged postgres user
        shutil.chown(root, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    pwfile = root / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if as_user:
        shutil.chown(pwfile, "postgres", "postgres")
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True)
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(datadir), "-U", USER,
                    f"--pwfile={pwfile}", "--auth-local=trust", "--auth-host=scram-sha-256",
                    "-E", "UTF8", "--locale=C"], **quiet)
    pwfile.unlink()
    port = _free_port()
    options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c full_page_writes=off -c synchronous_commit=off -c shared_buffers=64MB")
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(datadir), "-o", options,
                    "-l", str(root / "log"), "-w", "-t", "60", "start"], **quiet)
    server = Server("127.0.0.1", port, USER, PASSWORD, DATABASE, datadir, bindir, as_user)
    subprocess.run([*as_user, str(bindir / "createdb"), "-h", str(root), "-p", str(port),
                    "-U", USER, DATABASE], **quiet)
    return server


_PG_TYPES = {"Int8": "smallint", "Int16": "smallint", "Int32": "integer", "Int64": "bigint",
             "UInt8": "smallint", "UInt16": "integer", "UInt32": "bigint",
             "Float32": "real", "Float64": "double precision", "String": "text",
             "Boolean": "boolean", "Date": "date", "Time": "time"}


def pg_type(dtype) -> str:
    import polars as pl

    if isinstance(dtype, pl.Datetime):
        return "timestamptz" if dtype.time_zone else "timestamp"
    if isinstance(dtype, pl.Decimal):
        return f"numeric({dtype.precision},{dtype.scale})"
    return _PG_TYPES[dtype.base_type().__name__]


def load(con, table: str, frame, schema: str = "public") -> None:
    """``frame`` (polars) as a new table, through COPY (the types follow the frame's)."""
    cols = ", ".join(f'"{n}" {pg_type(t)}' for n, t in frame.schema.items())
    con.execute(f'DROP TABLE IF EXISTS "{schema}"."{table}"')
    con.execute(f'CREATE TABLE "{schema}"."{table}" ({cols})')
    names = ", ".join(f'"{n}"' for n in frame.columns)
    with con.cursor() as cur, cur.copy(
            f'COPY "{schema}"."{table}" ({names}) FROM STDIN') as copy:
        for row in frame.iter_rows():
            copy.write_row(row)

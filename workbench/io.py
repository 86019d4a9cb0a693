"""Reading inputs and writing findings.

Every reader turns a failure into an :class:`~workbench.errors.InputError` that names the
file (and the field where there is one), so the CLI can print one line and exit 2.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import json
import os
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import yaml
from polars.exceptions import PanicException

from workbench import yamlsafe

# writing files: re-exported, their home is workbench.atomic
from workbench.atomic import dumps_json as dumps_json
from workbench.atomic import write_json as write_json
from workbench.atomic import write_text_atomic as write_text_atomic
from workbench.errors import InputError, input_error
from workbench.findings import Findings

TABULAR_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "ndjson",
    ".ndjson": "ndjson",
    ".json": "json",  # a JSON document (array of records) or JSON lines: decided on reading
}
GLOB_CHARS = frozenset("*?[")


def is_glob(path: str | os.PathLike[str]) -> bool:
    """A local path pattern such as ``data/*.parquet`` (one table over every match)."""
    return not is_url(path) and any(ch in GLOB_CHARS for ch in str(path))


def is_url(path: str | os.PathLike[str]) -> bool:
    return "://" in str(path)


def table_format(path: str | os.PathLike[str], fmt: str | None = None) -> str:
    """'csv', 'parquet', 'ndjson' (JSON lines) or 'json' (a JSON document, or JSON lines:
    :func:`scan` looks) from an explicit format or the file suffix."""
    if fmt:
        fmt = fmt.lower()
        if fmt in {"csv", "parquet", "ndjson", "jsonl", "json"}:
            return "ndjson" if fmt == "jsonl" else fmt
        raise input_error(path, "format", "one of csv, parquet, json, jsonl", fmt)
    name = str(path).split("?")[0].lower()
    for suffix, kind in TABULAR_SUFFIXES.items():
        if name.endswith(suffix):
            return kind
    raise input_error(path, None, "a .csv, .parquet, .json or .jsonl file")


def note_read(path: str | os.PathLike[str]) -> None:
    """Tell a listening pack build that ``path`` (a file, a folder or a glob) is read.

    polars and pyarrow open files in Rust or C++, where Python's ``open`` audit event does
    not fire; a pack kernel records this event instead (see workbench.packs.cache). Costs
    nothing when nobody listens.
    """
    sys.audit("workbench.read", os.fspath(path))


def now(purpose: str) -> datetime:
    """The current time (UTC), for a result measured from it: freshness, overdue items.

    A listening pack build records ``purpose`` (see workbench.packs.cache): what the
    notebook found changes with time alone, so its output is never reused by a later
    build. Pass an explicit ``as_of`` instead to make a result reproducible.
    """
    sys.audit("workbench.clock", purpose)
    return datetime.now(UTC)


def scan(
    path: str | os.PathLike[str],
    fmt: str | None = None,
    *,
    schema_overrides: Mapping[str, pl.DataType] | None = None,
    try_parse_dates: bool = True,
) -> pl.LazyFrame:
    """A LazyFrame over a CSV, Parquet, JSON-lines or JSON file (local path, a glob such as
    ``data/*.parquet`` over files of one layout, or any URL polars scans).

    The file is checked for existence and readability here, and its schema is resolved,
    so that errors surface as one clear line rather than deep inside a query.
    """
    kind = table_format(path, fmt)
    src = str(path)
    note_read(src)
    if is_glob(src):
        matches = sorted(glob.glob(src, recursive=True))
        if not matches:
            raise input_error(src, None, "a pattern matching at least one file")
        for match in matches:
            if kind in {"csv", "ndjson", "json"}:
                _check_utf8(Path(match))
        if kind == "json":
            return pl.concat([scan(m, "json") for m in matches], how="diagonal_relaxed")
    elif not is_url(src):
        p = Path(src)
        if not p.exists():
            raise input_error(src, None, "an existing file")
        if p.is_dir() and kind != "parquet":
            raise input_error(src, None, "a file, not a directory")
        if p.is_file() and p.stat().st_size == 0:
            raise input_error(src, None, "a non-empty file")
        if p.is_file() and kind in {"csv", "ndjson", "json"}:
            _check_utf8(p)
    try:
        if kind == "csv":
            lf = pl.scan_csv(
                src,
                try_parse_dates=try_parse_dates,
                schema_overrides=schema_overrides,
                infer_schema_length=10_000,
                separator="\t" if src.lower().endswith(".tsv") else ",",
            )
        elif kind == "parquet":
            lf = pl.scan_parquet(src)
        elif kind == "json" and _json_document(src):
            lf = pl.read_json(src, infer_schema_length=10_000).lazy()
        else:
            lf = pl.scan_ndjson(src, infer_schema_length=10_000)
        lf.collect_schema()
    except InputError:
        raise
    except (Exception, PanicException) as exc:  # polars raises many kinds; all mean
        # "cannot read this" (a corrupt Parquet page can even panic inside the Rust reader:
        # PanicException derives from BaseException, found by tests/trust/test_fuzz.py)
        raise InputError(
            f"{src}: expected a readable {kind} file: {type(exc).__name__}: {_first_line(exc)}",
            file=src,
        ) from exc
    return lf


def _json_document(src: str) -> bool:
    """Whether a .json file holds one document (``[{...}, ...]``, as datacontract-cli reads
    it) rather than JSON lines: its first non-blank character opens an array, or (a single
    record over several lines) its first line is not a whole JSON value."""
    if is_url(src):
        return False
    with open(src, "rb") as fh:
        first = fh.readline()
        while first and not first.strip():
            first = fh.readline()
    text = first.lstrip(b"\xef\xbb\xbf").strip()
    if text.startswith(b"["):
        return True
    try:
        json.loads(text)
    except ValueError:
        return True
    return False


def _check_utf8(p: Path, sniff: int = 1 << 16) -> None:
    """Text tables must be UTF-8: a UTF-16 file or a Latin-1 byte fails here, in one line."""
    with open(p, "rb") as fh:
        head = fh.read(sniff)
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\0" in head:
        raise input_error(p, "encoding", "UTF-8 text", "UTF-16 or binary bytes")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the end of the sniff
            line = head[: exc.start].count(b"\n") + 1
            raise input_error(
                p, f"encoding (line {line})", "UTF-8 text", f"byte {head[exc.start]:#04x}"
            ) from exc


def read_problem(path: str | os.PathLike[str], exc: BaseException) -> InputError | None:
    """Name the line of a ragged CSV row that made a lazy read fail, or None.

    polars reports "found more fields than defined in 'Schema'" without a line number;
    this re-reads the local CSV with the csv module (only after a failure) to find it.
    """

    p = Path(str(path))
    if "more fields" not in str(exc) or is_url(path) or not p.is_file():
        return None
    with open(p, newline="", encoding="utf-8", errors="replace") as fh:
        rows = csv.reader(fh, delimiter="\t" if p.suffix.lower() == ".tsv" else ",")
        width = len(next(rows, []))
        for row in rows:
            if len(row) != width:
                return input_error(
                    p,
                    f"line {rows.line_num}",
                    f"{width} fields like the header",
                    f"{len(row)} fields",
                )
    return None


def read_table(path: str | os.PathLike[str], fmt: str | None = None, **kw: Any) -> pl.DataFrame:
    """:func:`scan` and collect, with read failures (ragged rows, bad encoding) as InputError."""
    lf = scan(path, fmt, **kw)
    try:
        return lf.collect()
    except (Exception, PanicException) as exc:
        if (problem := read_problem(path, exc)) is not None:
            raise problem from exc
        raise InputError(
            f"{path}: expected a readable {table_format(path, fmt)} file: "
            f"{type(exc).__name__}: {_first_line(exc)}",
            file=str(path),
        ) from exc


def require_columns(
    frame: pl.LazyFrame | pl.DataFrame, columns: Mapping[str, str] | list[str], file: object
) -> None:
    """Raise naming the first missing column. ``columns`` maps name -> what it should hold."""
    have = set(frame.collect_schema().names() if isinstance(frame, pl.LazyFrame) else frame.columns)
    wanted = columns if isinstance(columns, Mapping) else {c: "a column" for c in columns}
    for name, what in wanted.items():
        if name not in have:
            raise input_error(
                file, name, f"{what} (column missing; found {', '.join(sorted(have)[:12])})"
            )


def read_yaml(path: str | os.PathLike[str]) -> Any:
    """Parse a YAML file; a syntax error names the file, line and column.

    Duplicate keys, alias bombs and ``!!set``/``!!binary`` tags are refused like syntax
    errors (see :mod:`workbench.yamlsafe`).
    """
    return _read_yaml(path, yamlsafe.load)


def read_yaml_documents(path: str | os.PathLike[str]) -> list[Any]:
    """Every non-empty document of a YAML file (OpenSLO keeps several per file), each held
    to :func:`read_yaml`'s rules."""
    docs = [d for d in _read_yaml(path, yamlsafe.load_all) if d is not None]
    if not docs:
        raise input_error(Path(path), None, "a non-empty YAML document")
    return docs


def read_yaml_bytes(path: str | os.PathLike[str]) -> tuple[Any, bytes]:
    """(the parsed document, the file's bytes): one read, for callers that hash the file
    they parse (a pack spec); held to :func:`read_yaml`'s rules."""
    p = Path(path)
    if not p.exists():
        raise input_error(p, None, "an existing YAML file")
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise input_error(p, None, "UTF-8 text") from exc
    return _parse_yaml(p, text, yamlsafe.load), raw


def _read_yaml(path: str | os.PathLike[str], parse: Callable[[str], Any]) -> Any:
    p = Path(path)
    if not p.exists():
        raise input_error(p, None, "an existing YAML file")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise input_error(p, None, "UTF-8 text") from exc
    return _parse_yaml(p, text, parse)


def _parse_yaml(p: Path, text: str, parse: Callable[[str], Any]) -> Any:
    try:
        data = parse(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "document"
        problem = getattr(exc, "problem", None) or _first_line(exc)
        raise InputError(f"{p}: {where}: expected valid YAML: {problem}", file=str(p)) from exc
    if data is None:
        raise input_error(p, None, "a non-empty YAML document")
    return data


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_results(
    name: str, results: Mapping[str, Any], results_dir: str | os.PathLike[str] = "."
) -> Path:
    """Write a findings document as ``<results_dir>/<name>.results.json`` through
    :class:`workbench.findings.Findings` (validated; ``schema_version`` added). Prefer
    ``result.findings(name).write(results_dir)``.
    """
    return Findings.from_dict(results, name=name, source=f"{name}.results.json").write(
        results_dir)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__

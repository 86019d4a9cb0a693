"""Errors raised by workbench.

    WorkbenchError
    ├── InputError            unusable input: a file, a field or a parameter (CLI exit 2)
    │   ├── ContractError     an ODCS contract that does not parse or validate
    │   ├── RecordError       an incident record or SLO file that does not validate
    │   └── SpecError         a pack spec that does not parse or validate
    ├── CheckFailed           a check, gate or verification failed (CLI exit 1)
    ├── NotebookFailed        a notebook raised while a pack was built (CLI exit 3)
    └── EnvironmentFailure    disk full, permission denied, a server that does not answer
                              (CLI exit 4; the CLI also maps any OSError here)

Every message names the file, the field and what was expected, on one line, and is
bounded in length so a scheduler's log stays readable. An input error that found several
problems lists every one in ``problems`` (each ``file: field.path: expected ...``); the
message is a one-line summary. :func:`field_path` and :func:`pydantic_problems` are the one
way to turn pydantic's error locations into those lines.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable
from typing import Any

MAX_MESSAGE = 600


class WorkbenchError(Exception):
    """Base of every error workbench raises on purpose."""

    exit_code = 1

    def __str__(self) -> str:
        text = " ".join(super().__str__().split())
        return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


class InputError(WorkbenchError):
    """Unusable input. Build the message with :func:`input_error` where possible."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, field: str | None = None,
                 expected: str | None = None, problems: list[str] | None = None) -> None:
        self.file, self.field, self.expected = file, field, expected
        self.problems: list[str] = list(problems) if problems else [message]
        super().__init__(message)


class ContractError(InputError):
    """An ODCS contract that does not parse or validate; ``problems`` lists every one."""


class RecordError(InputError):
    """An incident record or SLO definitions that do not validate; ``problems`` lists each."""


class SpecError(InputError):
    """A pack spec that does not parse or validate; ``problems`` lists every one."""


class CheckFailed(WorkbenchError):
    exit_code = 1


class NotebookFailed(WorkbenchError):
    exit_code = 3


class EnvironmentFailure(WorkbenchError):
    """The machine or a service failed, not the input: retrying may help."""

    exit_code = 4


def environment_failure(exc: OSError) -> EnvironmentFailure:
    """One line for an OSError: ``<file>: <what the system said> (errno name)``.

    >>> str(environment_failure(OSError(28, "No space left on device", "reports/x")))
    'reports/x: No space left on device (ENOSPC); the environment failed, retrying may help'
    """
    where = exc.filename if exc.filename is not None else "workbench"
    name = errno.errorcode.get(exc.errno or 0, "")
    what = exc.strerror or type(exc).__name__
    return EnvironmentFailure(
        f"{where}: {what}{f' ({name})' if name else ''}; the environment failed, retrying may help"
    )


def input_error(file: object, field: str | None, expected: str, got: object = None) -> InputError:
    """``file: field: expected X[, got Y]`` as an :class:`InputError`.

    >>> str(input_error("data/a.csv", "amount", "a numeric column", "str"))
    'data/a.csv: amount: expected a numeric column, got str'
    """
    where = f"{file}: {field}" if field else f"{file}"
    msg = f"{where}: expected {expected}"
    if got is not None:
        got_text = repr(got) if isinstance(got, str) else str(got)
        msg += f", got {got_text[:120]}"
    return InputError(msg, file=str(file), field=field, expected=expected)


def field_path(loc: Iterable[Any], *, skip: frozenset[str] = frozenset()) -> str:
    """A pydantic (or JSON Schema) error location as a YAML path.

    >>> field_path(("schema", 0, "properties", 3, "x"))
    'schema[0].properties[3].x'

    ``skip``: tags pydantic inserts for discriminated unions, dropped from the path.
    """
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part) not in skip:
            out += f".{part}" if out else str(part)
    return out


def expected_text(err: dict[str, Any]) -> str:
    """What a pydantic error says was expected, in the words of our messages."""
    kind, msg, ctx = err["type"], err.get("msg", ""), err.get("ctx") or {}
    if kind == "missing":
        return "a value (field missing)"
    if kind == "extra_forbidden":
        return "no such field (unknown field)"
    if kind == "literal_error":
        return f"one of {ctx.get('expected', '')}".replace("'", "")
    if kind == "value_error":
        return str(ctx.get("error", msg)).removeprefix("Value error, ")
    if kind.startswith("datetime") or kind.startswith("date"):
        return "an ISO 8601 date" + ("time" if kind.startswith("datetime") else "")
    if kind == "too_short":
        return "at least one entry" if ctx.get("min_length") == 1 else msg.lower()
    if kind == "string_too_short":
        return "non-empty text"
    text = msg[0].lower() + msg[1:] if msg else kind
    return text.removeprefix("input should be ")


def pydantic_problems(file: object, errors: Iterable[dict[str, Any]], *, root: str = "(document)",
                      skip: frozenset[str] = frozenset()) -> list[str]:
    """One ``file: path: expected X[, got Y]`` line per pydantic error (``exc.errors()``)."""
    lines = []
    for err in errors:
        got = err.get("input") if err["type"] != "missing" else None
        got_text = "" if got is None or isinstance(got, dict | list) else f", got {str(got)[:80]!r}"
        where = field_path(err.get("loc", ()), skip=skip) or root
        lines.append(f"{file}: {where}: expected {expected_text(err)}{got_text}")
    return lines


def summarize(file: object, what: str, problems: list[str]) -> str:
    """``file: N problem(s) in WHAT: first; second; ...`` (bounded by ``MAX_MESSAGE``)."""
    prefix = f"{file}: "
    bodies = "; ".join(p.removeprefix(prefix) for p in problems)
    n = len(problems)
    return f"{file}: {n} problem{'s' if n != 1 else ''} in {what}: {bodies}"

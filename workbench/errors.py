"""Errors raised by workbench.

    WorkbenchError
    ├── InputError            unusable input: a file, a field or a parameter (CLI exit 2)
    │   ├── ContractError     an ODCS contract that does not parse or validate
    │   └── SpecError         a pack spec that does not parse or validate
    ├── CheckFailed           a check, gate or verification failed (CLI exit 1)
    ├── NotebookFailed        a notebook raised while a pack was built (CLI exit 3)
    └── EnvironmentFailure    disk full, permission denied, a server that does not answer
                              (CLI exit 4; the CLI also maps any OSError here)

Every message names the file, the field and what was expected, on one line, and is
bounded in length so a scheduler's log stays readable.
"""

from __future__ import annotations

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
                 expected: str | None = None) -> None:
        self.file, self.field, self.expected = file, field, expected
        super().__init__(message)


class ContractError(InputError):
    """An ODCS contract that does not parse or validate; ``problems`` lists every one."""

    def __init__(self, message: str, *, problems: list[str] | None = None, **kw) -> None:
        self.problems = problems or [message]
        super().__init__(message, **kw)


class SpecError(InputError):
    """A pack spec that does not parse or validate."""


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
    import errno

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

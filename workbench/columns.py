"""Columns a caller names, checked against the data before any work is done.

A column named in a parameter (predictions, labels, excluded columns, key features, the
timestamp) that the data does not have must never be ignored silently: a missing
prediction column makes "predictions have not drifted" true about nothing, which a gate
then reports as go. Every command, notebook and the pack builder's pre-flight call
:func:`check_named_columns` first, with the parameter names their user wrote, so the error
line names what to fix::

    data/current.parquet: prediction_columns: expected columns of this data, got 'y_prob'
    (did you mean 'y_proba'?; columns: age, income, y_proba, ...)

Only the schema is read (``collect_schema`` on a lazy scan), never the rows.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence

from workbench.errors import InputError

SHOWN_COLUMNS = 15  # columns listed in a message; the rest are counted


def as_names(value: str | Iterable[str] | None) -> list[str]:
    """A parameter's columns as a list: None or "" -> [], "a" -> ["a"], ["a", "b"] as is."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value]


def describe_columns(available: Sequence[str], missing: str) -> str:
    """``did you mean 'x'?; columns: a, b, c, ... (40 in all)`` for a message."""
    close = difflib.get_close_matches(missing, list(available), n=1, cutoff=0.6)
    shown = ", ".join(available[:SHOWN_COLUMNS]) or "none"
    if len(available) > SHOWN_COLUMNS:
        shown += f", ... ({len(available)} in all)"
    hint = f"did you mean {close[0]!r}?; " if close else ""
    return f"{hint}columns: {shown}"


def check_named_columns(
    available: Sequence[str], named: Mapping[str, str | Iterable[str] | None], source: str
) -> None:
    """Raise :class:`InputError` for the first column in ``named`` that ``available`` lacks.

    ``named`` maps a parameter name (as the user wrote it: ``prediction_columns``,
    ``--label``) to the column or columns it names; ``source`` names the data (its path).

    >>> check_named_columns(["a", "score"], {"prediction": ["score"]}, "cur.csv")
    >>> check_named_columns(["a", "score"], {"prediction": "scores"}, "cur.csv")
    Traceback (most recent call last):
    ...
    workbench.errors.InputError: cur.csv: prediction: expected columns of this data, got \
'scores' (did you mean 'score'?; columns: a, score)
    """
    have = set(available)
    for param, value in named.items():
        for column in as_names(value):
            if column not in have:
                raise InputError(
                    f"{source}: {param}: expected columns of this data, got {column!r} "
                    f"({describe_columns(list(available), column)})",
                    file=source,
                    field=param,
                    expected="columns of this data",
                )

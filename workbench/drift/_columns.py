"""The columns drift is told about, checked against both datasets before any work.

Kept apart from ``_compute`` so the statistics can change without touching this check.
Predictions, labels and key features must be in both datasets (each is compared); the
timestamp in the current data (it splits the current data into windows); an excluded
column in at least one of them (excluding a column neither has is a typo).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import polars as pl

from workbench.columns import as_names, check_named_columns
from workbench.errors import InputError

# API argument -> the name a message uses by default (a caller passes its own through
# compute(column_names=...): the CLI its options)
API_NAMES = {
    "prediction": "prediction",
    "label": "label",
    "key_features": "key_features",
    "timestamp": "timestamp",
    "exclude": "exclude",
}


def check_drift_columns(
    current: pl.LazyFrame,
    reference: pl.LazyFrame,
    cur_name: str,
    ref_name: str,
    *,
    prediction: Iterable[str] = (),
    label: Iterable[str] = (),
    key_features: Iterable[str] = (),
    timestamp: str | None = None,
    exclude: Iterable[str] = (),
    names: Mapping[str, str] | None = None,
) -> None:
    """Raise InputError naming the parameter, the column and the columns that exist.

    A single string where a list of columns is expected is refused too: ``"score"`` would
    otherwise be read as the columns ``s``, ``c``, ``o``... or match by substring.
    """
    say = {**API_NAMES, **(names or {})}
    for key, value in (
        ("prediction", prediction),
        ("label", label),
        ("key_features", key_features),
        ("exclude", exclude),
    ):
        if isinstance(value, str):
            raise InputError(
                f"{say[key]}: expected a list of column names, got the string {value!r}",
                field=say[key],
                expected="a list of column names",
            )
    cur_cols = current.collect_schema().names()
    ref_cols = reference.collect_schema().names()
    both = {
        say["prediction"]: as_names(prediction),
        say["label"]: as_names(label),
        say["key_features"]: as_names(key_features),
    }
    check_named_columns(cur_cols, {**both, say["timestamp"]: as_names(timestamp)}, cur_name)
    check_named_columns(ref_cols, both, ref_name)
    union = cur_cols + [c for c in ref_cols if c not in set(cur_cols)]
    check_named_columns(union, {say["exclude"]: as_names(exclude)}, cur_name)

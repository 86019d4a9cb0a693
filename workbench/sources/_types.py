"""Engine column types (as the database names them) parsed by sqlglot in the engine's
dialect, and the polars type family the file path would see for each."""

from __future__ import annotations

import polars as pl
from sqlglot import exp

T = exp.DataType.Type
_POLARS = {
    T.TINYINT: pl.Int8(), T.SMALLINT: pl.Int16(), T.INT: pl.Int32(), T.BIGINT: pl.Int64(),
    T.INT128: pl.Int128(), T.UTINYINT: pl.UInt8(), T.USMALLINT: pl.UInt16(),
    T.UINT: pl.UInt32(), T.UBIGINT: pl.UInt64(), T.FLOAT: pl.Float32(), T.DOUBLE: pl.Float64(),
    T.BOOLEAN: pl.Boolean(), T.DATE: pl.Date(), T.TIME: pl.Time(),
    T.TIMESTAMP: pl.Datetime("us"), T.TIMESTAMPNTZ: pl.Datetime("us"),
    T.TIMESTAMPTZ: pl.Datetime("us", "UTC"), T.TIMESTAMP_S: pl.Datetime("ms"),
    T.TIMESTAMP_MS: pl.Datetime("ms"), T.TIMESTAMP_NS: pl.Datetime("ns"), T.BLOB: pl.Binary(),
    T.VARBINARY: pl.Binary(), T.BINARY: pl.Binary(),
}
_TEXT = {T.VARCHAR, T.TEXT, T.CHAR, T.NCHAR, T.NVARCHAR, T.BPCHAR, T.NAME, T.UUID}
_SAME = {T.TIMESTAMPNTZ: T.TIMESTAMP, T.BPCHAR: T.CHAR}


def datatype(text: str, dialect: str) -> exp.DataType | None:
    try:
        return exp.DataType.build(text, dialect=dialect)
    except Exception:  # a type sqlglot does not know (a user-defined type, ...)
        return None


def polars_dtype(type_text: str, dialect: str) -> pl.DataType:
    """The polars type family the file path would see for an engine column type."""
    dt = datatype(type_text, dialect)
    if dt is None:
        return pl.Object()
    if dt.this in _TEXT:
        return pl.String()
    if dt.this == T.DECIMAL:
        params = [int(e.name) for e in dt.expressions if e.name.isdigit()]
        if len(params) >= 1:
            return pl.Decimal(params[0], params[1] if len(params) > 1 else 0)
        return pl.Decimal(38, 9)
    if dt.this == T.ARRAY:
        return pl.List(pl.Null)
    if dt.this == T.STRUCT:
        return pl.Struct({})
    return _POLARS.get(dt.this, pl.Object())


__all__ = ["T", "datatype", "polars_dtype"]

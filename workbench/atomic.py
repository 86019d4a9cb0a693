"""Atomic file writes and deterministic JSON: the lowest layer every writer shares.

A file is written to a temporary name in its own folder and renamed into place, so a
reader never sees half of it; JSON is written with sorted keys and no NaN, so the same
content gives the same bytes.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def json_safe(value: Any) -> Any:
    """JSON-safe and deterministic: NaN/inf become None, tuples lists, numpy scalars Python."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return json_safe(value.item())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def dumps_json(obj: Any) -> str:
    """Deterministic JSON text: sorted keys, no NaN, trailing newline."""
    return (
        json.dumps(json_safe(obj), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
        + "\n"
    )


def write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Write :func:`dumps_json` atomically (temp file in the same directory, then rename)."""
    return write_text_atomic(path, dumps_json(obj))


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p

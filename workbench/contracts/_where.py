"""Contract problems that say which schema object and column they are about.

Problems carry the YAML path as pydantic and jsonschema give it (``schema[0].properties[9]``),
which a reader has to count out in the file. :func:`locate` appends the names those indexes
stand for (``(column orders.email)``) and, for a field ODCS does not know, the ODCS field it
most resembles (``mustbe`` -> ``mustBe``). The path itself is kept: tools and tests match it.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from importlib.resources import files
from typing import Any

_TOKEN = re.compile(r"\.?([A-Za-z_$][\w$-]*)|\[(\d+)\]")
_UNEXPECTED = re.compile(r"got unexpected (.+)$")


@cache
def odcs_field_names() -> frozenset[str]:
    """Every field name the ODCS JSON Schema defines (for did-you-mean hints)."""
    schema = json.loads(
        files("open_data_contract_standard").joinpath("schema.json").read_text("utf-8")
    )
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            props = node.get("properties")
            if isinstance(props, Mapping):
                names.update(str(k) for k in props)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(schema)
    return frozenset(names)


def _walk(doc: Any, path: str) -> tuple[Any, list[str]]:
    """(the node at ``path`` or None, the ``name`` of each schema object / property on it)."""
    names: list[str] = []
    node, key = doc, None
    for m in _TOKEN.finditer(path):
        field, index = m.group(1), m.group(2)
        if field is not None:
            key = field
            node = node.get(field) if isinstance(node, Mapping) else None
        else:
            node = node[int(index)] if isinstance(node, list) and int(index) < len(node) else None
            if key in {"schema", "properties"} and isinstance(node, Mapping):
                name = node.get("name")
                if isinstance(name, str) and name:
                    names.append(name)
        if node is None:
            break
    return node, names


@cache
def _sorted_fields() -> tuple[list[str], dict[str, str]]:
    """ODCS field names, sorted, and by their lower case (built once, not per problem)."""
    fields = sorted(odcs_field_names())
    return fields, {f.lower(): f for f in fields}


def did_you_mean(field: str) -> str | None:
    """The ODCS field ``field`` most resembles, case-insensitively (None if none is close)."""
    fields, by_lower = _sorted_fields()
    if field.lower() in by_lower and by_lower[field.lower()] != field:
        return by_lower[field.lower()]
    close = difflib.get_close_matches(field, fields, n=1, cutoff=0.75)
    return close[0] if close else None


def locate(problems: Iterable[str], doc: Any, src: str) -> list[str]:
    """Each problem with the names of the object and column it is about appended."""
    known = odcs_field_names()
    out = []
    for problem in problems:
        body = problem.removeprefix(f"{src}: ")
        path = body.split(": ", 1)[0]
        node, names = _walk(doc, path) if path.startswith("schema[") else (None, [])
        unknown: list[str] = []
        m = _UNEXPECTED.search(body)
        if m:
            unknown = m.group(1).split(", ")
        elif isinstance(node, Mapping):  # e.g. a quality rule whose operator is misspelt
            unknown = [str(k) for k in node if str(k) not in known]
        hints = [f"{f!r} -> {h!r}" for f in unknown if (h := did_you_mean(f))]
        extra = f" (did you mean {'; '.join(hints)}?)" if hints else ""
        if len(names) >= 2:
            extra += f" (column {'.'.join(names)})"
        elif names:
            extra += f" (schema object {names[0]})"
        out.append(problem + extra)
    return out

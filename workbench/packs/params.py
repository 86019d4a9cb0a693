"""A notebook's declared parameters, and spec values checked against their declared types.

The ``parameters`` cell is parsed with :mod:`ast` and :mod:`tokenize` rather than read
through papermill's ``inspect_notebook``: papermill gives each name's annotation and
default, but takes the help text only from a comment on the same line and drops a line
whose comment holds a quote (``tests/trust/test_parameters.py``), while the reference
(``notebooks/REFERENCE.md``) needs every parameter with the comment above it too.

Types are enforced both ways before anything runs: a string where the notebook declares
``list`` is refused (``prediction_columns: y_pred_proba`` would otherwise reach
``compute`` as one string), and so is a list where it declares ``str``. ``int`` is
accepted for ``float``; ``bool`` is never an ``int``; ``Optional[X]`` / ``X | None``
accept null. A parameter without annotation takes the type of its literal default
(a ``None`` default accepts anything).
"""

from __future__ import annotations

import ast
import builtins
import io
import json
import logging
import tokenize
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

NO_VALUE = object()
_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "list": (list,),
    "dict": (dict,),
}
_WORDS = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "list": "a list",
    "dict": "a mapping",
}


@dataclass(frozen=True)
class Parameter:
    """One assignment of a notebook's ``parameters`` cell."""

    name: str
    type: str  # the annotation as written ("list", "str | None"), or "" when none
    default: str  # the default's source text
    help: str  # the comment on the line, else the comment lines right above it

    @property
    def value(self) -> Any:
        """The default as a Python literal (``NO_VALUE`` when it is an expression)."""
        try:
            return ast.literal_eval(self.default)
        except (ValueError, SyntaxError):
            return NO_VALUE

    def allowed(self) -> tuple[tuple[builtins.type, ...], bool] | None:
        """(accepted Python types, null accepted), or None when any value is accepted."""
        text = self.type.replace(" ", "")
        nullable = False
        for opt in ("Optional[", "typing.Optional["):
            if text.startswith(opt) and text.endswith("]"):
                text, nullable = text[len(opt) : -1], True
        parts = [p for p in text.split("|") if p]
        if "None" in parts:
            nullable = True
            parts = [p for p in parts if p != "None"]
        if not parts:
            value = self.value
            if value is None or value is NO_VALUE:
                return None
            parts = [type(value).__name__]
        accepted: tuple[type, ...] = ()
        for p in parts:
            base = p.split("[", 1)[0].removeprefix("typing.").lower()
            if base not in _TYPES:
                return None  # a type we do not know: leave it to the notebook
            accepted += _TYPES[base]
        return accepted, nullable

    def describe_type(self) -> str:
        got = self.allowed()
        if got is None:
            return "any value"
        accepted, nullable = got
        names = [n for n, ts in _TYPES.items() if set(ts) <= set(accepted)]
        if "float" in names and "int" in names:
            names.remove("int")
        words = " or ".join(_WORDS[n] for n in names)
        return words + (" or null" if nullable else "")


def read_notebook(path: str | Path) -> dict[str, Any]:
    """The notebook's JSON, read once per version of the file.

    Plain JSON, not ``nbformat.read``: its schema validation took 0.7 of the 2.0 s the
    demo's pre-flight spent reading its five notebooks 17 times (cProfile); the builder
    validates the notebooks it runs anyway.
    """
    p = Path(path)
    st = p.stat()
    return _read_notebook(str(p.resolve()), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=64)
def _read_notebook(path: str, _mtime_ns: int, _size: int) -> dict[str, Any]:
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    return nb if isinstance(nb, dict) else {}


def cell_source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def parameters_cell(path: str | Path) -> str:
    """The source of the notebook's cell tagged ``parameters`` ("" if none)."""
    for cell in read_notebook(path).get("cells", []):
        tags = (cell.get("metadata") or {}).get("tags", [])
        if cell.get("cell_type") == "code" and "parameters" in tags:
            return cell_source(cell)
    return ""


@lru_cache(maxsize=64)  # pre-flight asks for each notebook's parameters several times
def parse_parameters(source: str) -> tuple[Parameter, ...]:
    """Every top-level assignment of a parameters cell, in order, with its comment.

    >>> [(p.name, p.type, p.default, p.help) for p in parse_parameters(
    ...     "# the data\\npath: str = 'a.csv'\\nn = 3  # rows\\n")]
    [('path', 'str', "'a.csv'", 'the data'), ('n', '', '3', 'rows')]
    """
    tree = ast.parse(source)
    comments: dict[int, str] = {}
    inline: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            row = tok.start[0]
            comments[row] = tok.string.lstrip("#").strip()
            if tok.line[: tok.start[1]].strip():
                inline.add(row)
    out = []
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name, kind, value = node.target.id, ast.unparse(node.annotation), node.value
        elif (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            name, kind, value = node.targets[0].id, "", node.value
        else:
            continue
        default = ast.get_source_segment(source, value) if value is not None else ""
        row = node.end_lineno or node.lineno
        if row in inline:
            text = comments[row]
        else:  # the comment lines directly above the assignment
            above: list[str] = []
            r = node.lineno - 1
            while r in comments and r not in inline:
                above.insert(0, comments[r])
                r -= 1
            text = " ".join(above)
        out.append(Parameter(name, kind, default or "", text))
    return tuple(out)


def declared_parameters(path: Path) -> set[str]:
    """Names in the notebook's ``parameters`` cell (papermill's own parser)."""
    from workbench.packs import _papermill

    papermill = _papermill.load()

    # papermill logs a warning per line it cannot parse (e.g. a quote inside a comment);
    # such a line is simply not a declared parameter, which check_declared_parameters reports.
    log = logging.getLogger("papermill")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        return set(papermill.inspect_notebook(str(path)))
    finally:
        log.setLevel(level)


def notebook_parameters(path: str | Path) -> dict[str, Parameter]:
    """``{name: Parameter}`` of the notebook at ``path``."""
    return {p.name: p for p in parse_parameters(parameters_cell(path))}


def describe_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"the string {value[:60]!r}"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "a mapping"
    return f"{type(value).__name__} {str(value)[:60]}"

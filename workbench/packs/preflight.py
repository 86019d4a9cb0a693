"""Pre-flight: the columns a pack's notebooks are told about, checked before any kernel starts.

A notebook declares, in its metadata, which parameters name columns and in which data
parameter those columns must be (``notebooks/drift.ipynb``)::

    "workbench": {"columns": {
        "prediction_columns": ["current_path", "reference_path"],   # in each of them
        "exclude_columns": {"any_of": ["current_path", "reference_path"]},
        "timestamp": ["current_path"]}}

For each such parameter the builder takes the value the notebook will run with (the
spec's, else the notebook's default) and, when the data is a local file it can read, reads
only its schema (a lazy scan; no rows) and refuses a column it lacks with one line naming
the spec field, the column and the columns that exist (SpecError, exit 2). Data the builder
cannot read (a URL, a database, a path computed in the notebook) is left to the notebook,
whose ``compute`` runs the same check: the notebook fails and its gates are unknown.

Gates are checked the same way against the metrics the notebook declares
(``"workbench": {"metrics": {name: meaning}}``, ``<model>`` standing for any one key):
a misspelt metric would otherwise be "unknown" on every build.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from workbench.columns import as_names, describe_columns
from workbench.errors import InputError, SpecError
from workbench.io import scan
from workbench.packs.params import NO_VALUE, describe_value, notebook_parameters, read_notebook
from workbench.packs.spec import EnvParam, PackSpec, PathParam


def notebook_declarations(path: str | Path) -> dict[str, Any]:
    """The notebook's ``metadata.workbench`` ({} when it declares nothing)."""
    meta = (read_notebook(path).get("metadata") or {}).get("workbench", {})
    return dict(meta) if isinstance(meta, Mapping) else {}


def _value(spec: Any, nb: Any, key: str, defaults: Mapping[str, Any]) -> tuple[Any, bool]:
    """(the value the notebook runs with, whether the spec set it)."""
    if key in nb.parameters:
        v = nb.parameters[key]
        if isinstance(v, PathParam):
            return str((spec.base_dir / v.path).resolve()), True
        if isinstance(v, EnvParam):
            return os.environ.get(v.env, v.default), True
        return v, True
    param = defaults.get(key)
    value = param.value if param is not None else None
    return (None if value is NO_VALUE else value), False


def _local_file(value: Any, notebook_dir: Path) -> Path | None:
    if not isinstance(value, str) or not value or "://" in value:
        return None
    p = Path(value) if Path(value).is_absolute() else notebook_dir / value
    return p if p.exists() else None


def check_columns(spec: Any) -> None:
    """Raise SpecError for the first named column a readable data file lacks."""
    by_file: dict[Path, list[str] | None] = {}  # notebooks often share a data file

    def schema(local: Path) -> list[str] | None:
        if local not in by_file:
            try:
                by_file[local] = scan(local).collect_schema().names()
            except (InputError, OSError):
                by_file[local] = None  # the notebook reports it when it reads it
        return by_file[local]

    for i, nb in enumerate(spec.notebooks):
        path = spec.notebook_path(nb)
        rules = notebook_declarations(path).get("columns") or {}
        if not rules:
            continue
        defaults = notebook_parameters(path)
        schemas: dict[str, list[str] | None] = {}

        def columns_of(data_param: str, nb=nb, defaults=defaults, path=path, schemas=schemas):
            if data_param not in schemas:
                value, _ = _value(spec, nb, data_param, defaults)
                local = _local_file(value, path.parent)
                schemas[data_param] = schema(local) if local else None
            return schemas[data_param]

        for param, where in rules.items():
            value, from_spec = _value(spec, nb, param, defaults)
            named = as_names(value) if isinstance(value, str | list | tuple) else []
            if not named:
                continue
            any_of = isinstance(where, Mapping)
            sources = list(where.get("any_of", [])) if any_of else list(where)
            found = {s: columns_of(s) for s in sources}
            if any(v is None for v in found.values()):
                continue  # some data cannot be read here; compute checks it in the kernel
            field = f"notebooks[{i}].parameters.{param}"
            if not from_spec:
                field += f" (default of {nb.path})"
            for column in named:
                lacking = [s for s, cols in found.items() if column not in cols]
                if (any_of and len(lacking) == len(sources)) or (not any_of and lacking):
                    src = lacking[0]
                    data, _ = _value(spec, nb, src, defaults)
                    raise SpecError(
                        f"{spec.path}: {field}: expected columns of {src} ({data}), got "
                        f"{column!r} ({describe_columns(found[src], column)})",
                        file=str(spec.path),
                        field=field,
                        expected=f"columns of {src}",
                    )


def _metric_pattern(name: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(name).replace(re.escape("<model>"), r"[^.]+") + "$")


def check_gate_metrics(spec: Any) -> None:
    """Raise SpecError for a gate whose metric its notebook does not declare."""
    declared: dict[str, list[str]] = {}
    for nb in spec.notebooks:
        metrics = notebook_declarations(spec.notebook_path(nb)).get("metrics") or {}
        declared[nb.name] = list(metrics)
    for i, gate in enumerate(spec.gates):
        names = declared.get(gate.notebook) or []
        where = spec.notebook(gate.notebook).path
        if not names or any(_metric_pattern(n).match(gate.metric) for n in names):
            continue
        close = difflib.get_close_matches(gate.metric, names, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise SpecError(
            f"{spec.path}: gates[{i}].metric: expected a metric {gate.notebook} declares, got "
            f"{gate.metric!r} ({hint}see `workbench pack metrics {where}`)",
            file=str(spec.path),
            field=f"gates[{i}].metric",
            expected=f"a metric {gate.notebook} declares",
        )


DEMO_DATA = Path(__file__).resolve().parents[2] / "data" / "sample"


def _demo_default(param: Any, notebook_dir: Path) -> bool:
    value = param.value
    if not isinstance(value, str) or not value or "://" in value:
        return False
    p = (notebook_dir / value).resolve()
    return p == DEMO_DATA or DEMO_DATA in p.parents


def check_demo_defaults(spec: Any) -> None:
    """Refuse a notebook that would mix the user's files with the demo's.

    The notebooks' file defaults point at the demo data so they run as they are in
    JupyterLab. A spec that replaces some of them (``current_path``) but not others
    (``contract_path``) would silently check the user's data against the demo's contract,
    or list the demo's incidents in the user's portfolio.
    """
    for i, nb in enumerate(spec.notebooks):
        path = spec.notebook_path(nb)
        demo = [p for p in notebook_parameters(path).values() if _demo_default(p, path.parent)]
        replaced = [p.name for p in demo if p.name in nb.parameters]
        left = [p for p in demo if p.name not in nb.parameters]
        if replaced and left:
            field = f"notebooks[{i}].parameters.{left[0].name}"
            raise SpecError(
                f"{spec.path}: {field}: expected a value: {', '.join(replaced)} replaced the "
                f"demo's files but {left[0].name} would still read the demo's "
                f"{left[0].value} (set it, or \"\" where the notebook allows none)",
                file=str(spec.path),
                field=field,
                expected="a value",
            )


def preflight(spec: Any) -> None:
    """Every check that needs the notebooks and the data's schema, none of their rows."""
    check_parameter_types(spec)
    check_demo_defaults(spec)
    check_columns(spec)
    check_gate_metrics(spec)


def check_parameter_types(spec: PackSpec) -> None:
    """Refuse (SpecError, exit 2) any spec parameter whose value the notebook's type refuses.

    ``{path: ...}`` and ``{env: ...}`` values are strings when they reach the kernel.
    """
    for i, nb in enumerate(spec.notebooks):
        declared = notebook_parameters(spec.notebook_path(nb))
        for key, value in nb.parameters.items():
            param = declared.get(key)
            rule = param.allowed() if param else None
            if param is None or rule is None:
                continue  # unknown names are check_declared_parameters' business
            accepted, nullable = rule
            if isinstance(value, PathParam | EnvParam):
                ok = str in accepted
                got = "a {path: ...}" if isinstance(value, PathParam) else "an {env: ...}"
                got += " (a string)"
            else:
                ok = (value is None and nullable) or (
                    value is not None
                    and isinstance(value, accepted)
                    and not (isinstance(value, bool) and bool not in accepted)
                )
                got = describe_value(value)
            if not ok:
                field = f"notebooks[{i}].parameters.{key}"
                expected = param.describe_type()
                hint = ""
                if list in accepted and isinstance(value, str):
                    hint = f" (write [{value}] for one item)"
                elif str in accepted and not isinstance(value, str | list | dict):
                    hint = " (quote it)"
                raise SpecError(
                    f"{spec.path}: {field}: expected {expected}, as {nb.path} declares "
                    f"{key}: {param.type or type(param.value).__name__}, got {got}{hint}",
                    file=str(spec.path),
                    field=field,
                    expected=expected,
                )

"""The fleet spec: a pack spec used as a template, and a table of models.

A fleet file (YAML)::

    name: fleet                      # the fleet's folder under --out: index and findings
    title: Model fleet weekly review
    template: {...a pack spec without name...}   # or a path to a pack spec YAML file
    models: {path: ../../data/fleet/models.csv}  # CSV or YAML file, or an inline list

Each model row has ``model`` (its pack's name) and ``owner``. Every other column either
names a placeholder or overrides the template:

- ``data_dir`` (any name without a dot): ``{data_dir}`` in any string of the template is
  replaced by the row's value (text substitution, before ``{path: ...}`` values are resolved
  against the fleet file); ``{model}`` and ``{owner}`` always exist;
- ``<notebook>.<parameter>`` (``drift.key_features``): that notebook's parameter;
- ``gates.<gate id>`` (``gates.unit-cost``): that gate's threshold.

CSV cells are read as YAML values (``[a, b]`` is a list, ``180`` a number, ``true`` a bool,
an empty cell leaves the template's value). Every problem is one ``file: field: expected``
line (exit 2), listed together.

:func:`model_spec` writes each model's concrete pack spec (name = the model id, paths
relative to where it is written), which ``pack build`` could run by itself.
"""

from __future__ import annotations

import copy
import csv
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from workbench.errors import InputError, SpecError, input_error
from workbench.io import read_yaml, write_text_atomic
from workbench.packs.spec import NAME_PATTERN

_NAME = re.compile(NAME_PATTERN)
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TOP = {"name", "title", "description", "template", "models"}


@dataclass(frozen=True)
class ModelRow:
    model: str
    owner: str
    values: dict[str, str]  # placeholders: model, owner and every column without a dot
    parameters: dict[str, dict[str, Any]]  # notebook -> parameter -> value
    gates: dict[str, Any]  # gate id -> threshold


@dataclass(frozen=True)
class FleetSpec:
    name: str
    title: str
    description: str
    path: Path  # the fleet file, absolute
    template: dict[str, Any]  # the pack spec template, as parsed
    template_dir: Path  # relative paths of the template resolve against it
    models: tuple[ModelRow, ...]

    @property
    def base_dir(self) -> Path:
        return self.path.parent


def load_fleet(path: str | os.PathLike[str]) -> FleetSpec:
    """Read and check a fleet file and its models table; one InputError listing every
    problem (exit 2)."""
    p = Path(path)
    raw = _read_yaml(p, None)
    if not isinstance(raw, dict):
        raise input_error(p, None, "a mapping (name, title, template, models)",
                          type(raw).__name__)
    problems: list[str] = []
    for key in sorted(set(raw) - _TOP):
        problems.append(f"{p}: {key}: expected one of {', '.join(sorted(_TOP))}")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        problems.append(f"{p}: name: expected a name matching {NAME_PATTERN}, got {name!r}")
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        problems.append(f"{p}: title: expected a non-empty string")
    template, template_dir = _template(p, raw.get("template"), problems)
    rows = _models(p, raw.get("models"), template, problems)
    if problems:
        raise _problems(p, problems)
    return FleetSpec(str(name), str(title), str(raw.get("description") or ""), p.resolve(),
                     template, template_dir, tuple(rows))


def _problems(p: Path, problems: list[str]) -> SpecError:
    return SpecError(problems[0] if len(problems) == 1 else f"{p}: {len(problems)} problems",
                     file=str(p), problems=problems)


def _read_yaml(p: Path, field: str | None) -> Any:
    if not p.is_file():
        raise input_error(p, field, "an existing YAML file")
    try:
        return read_yaml(p)
    except InputError:
        raise
    except Exception as exc:  # a YAML error: one line naming the file
        raise input_error(p, field, "valid YAML", " ".join(str(exc).split())[:120]) from exc


def _template(p: Path, value: Any, problems: list[str]) -> tuple[dict[str, Any], Path]:
    if isinstance(value, str):
        tpath = (p.parent / value).resolve()
        if not tpath.is_file():
            problems.append(f"{p}: template: expected a pack spec file, got {value!r} "
                            "(no such file)")
            return {}, p.parent.resolve()
        tvalue = _read_yaml(tpath, "template")
        base = tpath.parent
    else:
        tvalue, base = value, p.parent.resolve()
    if not isinstance(tvalue, dict) or not isinstance(tvalue.get("notebooks"), list):
        problems.append(f"{p}: template: expected a pack spec (a mapping with notebooks) "
                        "or the path of one")
        return {}, base
    return tvalue, base


def _models(p: Path, value: Any, template: dict[str, Any], problems: list[str]
            ) -> list[ModelRow]:
    where = p
    if isinstance(value, dict) and set(value) == {"path"}:
        where = (p.parent / str(value["path"])).resolve()
        if not where.is_file():
            problems.append(f"{p}: models.path: expected a CSV or YAML file, got "
                            f"{value['path']!r} (no such file)")
            return []
        if where.suffix.lower() == ".csv":
            table = _read_csv(where)
        else:
            table = _read_yaml(where, "models")
    else:
        table = value
    if not isinstance(table, list) or not table:
        problems.append(f"{where}: models: expected a non-empty list of models "
                        "(or {path: models.csv})")
        return []
    notebooks = {nb.get("name") for nb in template.get("notebooks", [])
                 if isinstance(nb, dict)}
    gates = {g.get("id") for g in template.get("gates", []) or [] if isinstance(g, dict)}
    rows: list[ModelRow] = []
    seen: set[str] = set()
    for i, row in enumerate(table):
        r = _row(where, i, row, notebooks, gates, problems)
        if r is None:
            continue
        if r.model in seen:
            problems.append(f"{where}: models[{i}].model: expected a unique model id, got "
                            f"{r.model!r} again")
        seen.add(r.model)
        rows.append(r)
    if template and rows:
        used = _placeholders(template)
        missing = sorted(used - set(rows[0].values))
        if missing:
            problems.append(f"{p}: template: expected placeholders the models table defines "
                            f"(model, owner, {', '.join(sorted(rows[0].values))}), got "
                            f"{', '.join('{' + m + '}' for m in missing)}")
    return rows


def _read_csv(path: Path) -> list[dict[str, Any]]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for row in rows:
        parsed: dict[str, Any] = {}
        for k, v in row.items():
            if k is None or v is None or v == "":
                continue
            try:
                parsed[k] = yaml.safe_load(v)
            except yaml.YAMLError:
                parsed[k] = v
        out.append(parsed)
    return out


def _row(where: Path, i: int, row: Any, notebooks: set[Any], gates: set[Any],
         problems: list[str]) -> ModelRow | None:
    if not isinstance(row, dict):
        problems.append(f"{where}: models[{i}]: expected a mapping, got {type(row).__name__}")
        return None
    model, owner = row.get("model"), row.get("owner")
    bad = False
    if not isinstance(model, str) or not _NAME.match(model):
        problems.append(f"{where}: models[{i}].model: expected an id matching "
                        f"{NAME_PATTERN}, got {model!r}")
        bad = True
    if not isinstance(owner, str) or not owner.strip():
        problems.append(f"{where}: models[{i}].owner: expected a non-empty owner, "
                        f"got {owner!r}")
        bad = True
    values: dict[str, str] = {}
    params: dict[str, dict[str, Any]] = {}
    gate_values: dict[str, Any] = {}
    for key, value in row.items():
        key = str(key)
        if "." not in key:
            values[key] = "" if value is None else str(value)
            continue
        head, _, tail = key.partition(".")
        if head == "gates":
            if tail not in gates:
                problems.append(f"{where}: models[{i}].{key}: expected a gate of the "
                                f"template ({', '.join(sorted(map(str, gates)))})")
                bad = True
            elif isinstance(value, bool | int | float):
                gate_values[tail] = value
            else:
                problems.append(f"{where}: models[{i}].{key}: expected a number or bool, "
                                f"got {value!r}")
                bad = True
        elif head in notebooks and tail:
            params.setdefault(head, {})[tail] = value
        else:
            problems.append(f"{where}: models[{i}].{key}: expected <notebook>.<parameter> "
                            f"naming a notebook of the template, or gates.<id>")
            bad = True
    if bad:
        return None
    return ModelRow(str(model), str(owner), values, params, gate_values)


def _placeholders(obj: Any) -> set[str]:
    if isinstance(obj, str):
        return set(_PLACEHOLDER.findall(obj))
    if isinstance(obj, dict):
        return set().union(*(_placeholders(v) for v in obj.values())) if obj else set()
    if isinstance(obj, list):
        return set().union(*(_placeholders(v) for v in obj)) if obj else set()
    return set()


def _fill(obj: Any, values: dict[str, str]) -> Any:
    if isinstance(obj, str):
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), obj)
    if isinstance(obj, dict):
        return {k: _fill(v, values) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_fill(v, values) for v in obj]
    return obj


def model_spec(fleet: FleetSpec, row: ModelRow, spec_dir: Path) -> Path:
    """Write ``row``'s pack spec into ``spec_dir/<model>.yml`` (atomically); its path.

    Paths (notebook files, ``{path: ...}`` parameters, inputs) are made relative to
    ``spec_dir``, so the written spec is an ordinary pack spec.
    """
    spec = _fill(copy.deepcopy(fleet.template), row.values)
    spec["name"] = row.model
    spec["title"] = f"{spec.get('title') or fleet.title} · {row.model}"
    spec_dir = spec_dir.resolve()

    def rel(path: str) -> str:
        return os.path.relpath(fleet.template_dir / path, spec_dir)

    for nb in spec.get("notebooks", []):
        if not isinstance(nb, dict):
            continue
        if isinstance(nb.get("path"), str):
            nb["path"] = rel(nb["path"])
        params = dict(nb.get("parameters") or {})
        params.update(copy.deepcopy(row.parameters.get(str(nb.get("name")), {})))
        for key, value in params.items():
            if isinstance(value, dict) and set(value) == {"path"} and isinstance(
                    value["path"], str):
                params[key] = {"path": rel(value["path"])}
        if params:
            nb["parameters"] = params
    spec["inputs"] = [rel(i) if isinstance(i, str) else i for i in spec.get("inputs", [])]
    for gate in spec.get("gates", []) or []:
        if isinstance(gate, dict) and gate.get("id") in row.gates:
            gate["value"] = row.gates[gate["id"]]
    out = spec_dir / f"{row.model}.yml"
    header = f"# generated by workbench fleet build from {fleet.path}; model {row.model}\n"
    write_text_atomic(out, header + yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))
    return out

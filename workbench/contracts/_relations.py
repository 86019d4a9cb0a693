"""ODCS relationships (v3.1+): foreign keys between the schema objects of one contract.

A relationship sits on a property (``from`` is that property) or on a schema object (``from``
names this schema's properties; several for a composite key). ``to`` names the referenced
property (or properties) in the shorthand ``<schema>.<property>`` or the fully qualified
``schema/<id>/properties/<id>`` notation, either one possibly reaching into nested fields
(``accounts.address.postal_code``, ``schema/accounts/properties/address/properties/zip``).
``type`` defaults to ``foreignKey``. A key that is a nested field (on either side) is
resolved, then reported as not checked (info).

The check (rule ``foreignKey``) counts the rows whose key is fully present and has no equal
key in the referenced schema's data, as datacontract-cli 1.2.8 does. What the contract gets
wrong (an unknown schema or property, ``from`` and ``to`` of different lengths) is a contract
problem; what workbench cannot check (another contract's data, another relationship type) is
reported as a failed ``info`` check, never skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from open_data_contract_standard.model import (
    OpenDataContractStandard,
    Relationship,
    SchemaObject,
    SchemaProperty,
)

from workbench.contracts._names import column_name as _column
from workbench.contracts._names import schema_name as _schema_label
from workbench.contracts._names import walk_properties


@dataclass(frozen=True)
class ForeignKey:
    """One relationship of a schema object, resolved to data columns."""

    id: str                              # the check id
    schema: str                          # this schema object
    column: str | None                   # the property's column (property-level), else None
    columns: tuple[str, ...]             # this schema's key columns
    target: str = ""                     # referenced schema object
    target_columns: tuple[str, ...] = ()
    label: str = ""                      # "customers.id" as written, for messages
    unsupported: str | None = None       # why it is not checked


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _external(ref: str) -> bool:
    return "#" in ref or "://" in ref or ref.endswith((".yaml", ".yml", ".json"))


def _resolve(odcs: OpenDataContractStandard, ref: str
             ) -> tuple[int, SchemaObject, SchemaProperty, bool] | None:
    """``<schema>.<property>[.<nested>...]`` (names) or ``schema/<id>/properties/<id>
    [/properties/<id>...]`` (ids; ``items`` steps into an array's items). The last item
    says whether the property is nested in another one."""
    objects = odcs.schema_ or []
    if "/" in ref:
        parts = [p for p in ref.split("/") if p]
        if parts and parts[0] == "schema":
            parts = parts[1:]
        if len(parts) < 3 or parts[1] != "properties":
            return None
        sid, steps = parts[0], parts[1:]
        for i, obj in enumerate(objects):
            if sid in {obj.id, obj.name}:
                found = _walk(obj.properties or [], steps, lambda p, k: k in {p.id, p.name})
                if found is not None:
                    return i, obj, found[0], found[1]
        return None
    sname, dot, rest = ref.partition(".")
    if not dot:
        return None
    steps = [x for name in rest.split(".") for x in ("properties", name)]
    for i, obj in enumerate(objects):
        if sname in {obj.name, obj.physicalName, _schema_label(obj, i)}:
            found = _walk(obj.properties or [], steps,
                          lambda p, k: k in {p.name, p.physicalName})
            if found is not None:
                return i, obj, found[0], found[1]
    return None


def _walk(props: list[SchemaProperty], steps: list[str], match: Any
          ) -> tuple[SchemaProperty, bool] | None:
    """Follow ``properties/<key>`` and ``items`` steps from a schema object's properties."""
    current: SchemaProperty | None = None
    depth = 0
    k = 0
    while k < len(steps):
        if steps[k] == "items" and current is not None and current.items is not None:
            current, k = current.items, k + 1
            continue
        if steps[k] != "properties" or k + 1 >= len(steps):
            return None
        pool = props if current is None else (current.properties or (
            current.items.properties if current.items is not None else None) or [])
        current = next((p for p in pool if match(p, steps[k + 1])), None)
        if current is None:
            return None
        depth, k = depth + 1, k + 2
    return (current, depth > 1) if current is not None else None


def foreign_keys(odcs: OpenDataContractStandard, index: int
                 ) -> tuple[list[ForeignKey], list[str]]:
    """The relationships declared on schema object ``index``, and the contract's problems
    with them (``schema[0].properties[2].relationships[0].to: expected ...``)."""
    obj = (odcs.schema_ or [])[index]
    name = _schema_label(obj, index)
    base = f"schema[{index}]"
    declared: list[tuple[str, SchemaProperty | None, Relationship]] = []
    for j, prop in enumerate(obj.properties or []):
        for k, rel in enumerate(prop.relationships or []):
            declared.append((f"{base}.properties[{j}].relationships[{k}]", prop, rel))
    for k, rel in enumerate(obj.relationships or []):
        declared.append((f"{base}.relationships[{k}]", None, rel))
    nested_from: list[ForeignKey] = []
    for prop, path in walk_properties(obj.properties or []):
        if path.count("properties") + path.count("items") > 1:  # below the top level
            dotted = _dotted(obj.properties or [], path) if prop.relationships else ""
            for rel in prop.relationships or []:
                label = ", ".join(_as_list(rel.to))
                nested_from.append(ForeignKey(
                    f"{name}.{dotted}.{rel.id or 'foreignKey'}", name, dotted, (), label=label,
                    unsupported="a relationship from a nested field"))

    keys: list[ForeignKey] = nested_from
    problems: list[str] = []
    for where, source, rel in declared:
        targets = _as_list(rel.to)
        label = ", ".join(targets)
        if source is not None:
            sources = [source]
            cid = f"{name}.{source.name or _column(source)}.{rel.id or 'foreignKey'}"
            column: str | None = _column(source)
        else:
            cid = f"{name}.{rel.id or 'foreignKey'}"
            column = None
            sources = []
            froms = _as_list(rel.from_)
            if not froms:
                problems.append(f"{where}.from: expected the property (or properties) of "
                                f"{name} the relationship starts from")
                continue
            for ref in froms:
                found = _resolve(odcs, ref if "." in ref or "/" in ref else f"{name}.{ref}")
                if found is None or found[0] != index or found[3]:
                    problems.append(f"{where}.from: expected a property of {name} "
                                    f"(<schema>.<property>), got {ref!r}")
                    break
                sources.append(found[2])
            if len(sources) != len(froms):
                continue
            if len(sources) == 1:
                column = _column(sources[0])
        columns = tuple(_column(p) for p in sources)
        kind = rel.type or "foreignKey"
        if kind != "foreignKey":
            keys.append(ForeignKey(cid, name, column, columns, label=label,
                                   unsupported=f"relationship type {kind!r}; workbench "
                                               "checks foreignKey"))
            continue
        if not targets:
            problems.append(f"{where}.to: expected the referenced <schema>.<property>")
            continue
        if any(_external(t) for t in targets):
            keys.append(ForeignKey(cid, name, column, columns, label=label,
                                   unsupported="it references another contract's data"))
            continue
        if len(targets) != len(columns):
            problems.append(f"{where}.to: expected {len(columns)} referenced "
                            f"propert{'y' if len(columns) == 1 else 'ies'} (as many as "
                            f"from), got {len(targets)}")
            continue
        resolved = [_resolve(odcs, t) for t in targets]
        bad = next((t for t, r in zip(targets, resolved, strict=True) if r is None), None)
        if bad is not None:
            problems.append(f"{where}.to: expected <schema>.<property> of a schema object in "
                            f"this contract, got {bad!r}")
            continue
        nested = [t for t, r in zip(targets, resolved, strict=True) if r is not None and r[3]]
        if nested:
            keys.append(ForeignKey(cid, name, column, columns, label=label,
                                   unsupported=f"the referenced key {', '.join(nested)} is a "
                                               "nested field"))
            continue
        target_objs = {r[0] for r in resolved if r is not None}
        if len(target_objs) != 1:
            problems.append(f"{where}.to: expected the properties of one schema object, got "
                            f"{label!r}")
            continue
        ti = target_objs.pop()
        keys.append(ForeignKey(
            cid, name, column, columns,
            target=_schema_label((odcs.schema_ or [])[ti], ti),
            target_columns=tuple(_column(r[2]) for r in resolved if r is not None),
            label=label))
    return keys, problems


def _dotted(props: list[SchemaProperty], path: str) -> str:
    """``properties[1].properties[0]`` -> ``customer.email`` (``items`` -> ``[]``)."""
    out, pool, current = "", props, None
    for step in path.split("."):
        if step == "items" and current is not None:
            out, current = out + "[]", current.items
            pool = (current.properties or []) if current is not None else []
            continue
        index = int(step[step.index("[") + 1:-1])
        current = pool[index]
        out += ("." if out else "") + (current.name or _column(current))
        pool = current.properties or []
    return out


def relationship_problems(odcs: OpenDataContractStandard) -> list[str]:
    return [p for i in range(len(odcs.schema_ or [])) for p in foreign_keys(odcs, i)[1]]

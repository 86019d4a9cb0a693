"""ODCS relationships (v3.1+): foreign keys between the schema objects of one contract.

A relationship sits on a property (``from`` is that property) or on a schema object (``from``
names this schema's properties; several for a composite key). ``to`` names the referenced
property (or properties) in the shorthand ``<schema>.<property>`` or the fully qualified
``schema/<id>/properties/<id>`` notation. ``type`` defaults to ``foreignKey``.

The check (rule ``foreignKey``) counts the rows whose key is fully present and has no equal
key in the referenced schema's data, as datacontract-cli 1.2.8 does. What the contract gets
wrong (an unknown schema or property, ``from`` and ``to`` of different lengths) is a contract
problem; what workbench cannot check (another contract's data, another relationship type) is
reported as a failed ``info`` check, never skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

from open_data_contract_standard.model import (
    OpenDataContractStandard,
    Relationship,
    SchemaObject,
    SchemaProperty,
)

from workbench.contracts._model import column_name as _column
from workbench.contracts._model import schema_name as _schema_label


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
             ) -> tuple[int, SchemaObject, SchemaProperty] | None:
    """``<schema>.<property>`` (names) or ``schema/<id>/properties/<id>`` (ids)."""
    objects = odcs.schema_ or []
    if "/" in ref:
        parts = [p for p in ref.split("/") if p]
        if parts and parts[0] == "schema":
            parts = parts[1:]
        if len(parts) != 3 or parts[1] != "properties":
            return None
        sid, pid = parts[0], parts[2]
        for i, obj in enumerate(objects):
            if sid in {obj.id, obj.name}:
                for prop in obj.properties or []:
                    if pid in {prop.id, prop.name}:
                        return i, obj, prop
        return None
    sname, dot, pname = ref.partition(".")
    if not dot:
        return None
    for i, obj in enumerate(objects):
        if sname in {obj.name, obj.physicalName, _schema_label(obj, i)}:
            for prop in obj.properties or []:
                if pname in {prop.name, prop.physicalName}:
                    return i, obj, prop
    return None


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

    keys: list[ForeignKey] = []
    problems: list[str] = []
    for where, prop, rel in declared:
        targets = _as_list(rel.to)
        label = ", ".join(targets)
        if prop is not None:
            sources = [prop]
            cid = f"{name}.{prop.name or _column(prop)}.{rel.id or 'foreignKey'}"
            column: str | None = _column(prop)
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
                if found is None or found[0] != index:
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


def relationship_problems(odcs: OpenDataContractStandard) -> list[str]:
    return [p for i in range(len(odcs.schema_ or [])) for p in foreign_keys(odcs, i)[1]]

"""Names and paths of ODCS schema objects and properties, read by the loader, the compiler
and the relationship resolver alike."""

from __future__ import annotations

from collections.abc import Iterable

from open_data_contract_standard.model import SchemaObject, SchemaProperty


def schema_name(obj: SchemaObject, index: int = 0) -> str:
    return obj.name or obj.physicalName or f"schema{index}"


def column_name(prop: SchemaProperty) -> str:
    return prop.physicalName or prop.name or ""


def walk_properties(props: Iterable[SchemaProperty], base: str = "properties"
                    ) -> Iterable[tuple[SchemaProperty, str]]:
    """Every property with its YAML path, nested ones (``properties``, ``items``) right after
    their parent: ``(prop, "properties[2].items.properties[0]")``."""
    def walk(prop: SchemaProperty, where: str) -> Iterable[tuple[SchemaProperty, str]]:
        yield prop, where
        yield from walk_properties(prop.properties or [], f"{where}.properties")
        if prop.items is not None:
            yield from walk(prop.items, f"{where}.items")

    for j, prop in enumerate(props):
        yield from walk(prop, f"{base}[{j}]")

"""YAML loading for files a user hands to workbench (pack specs, contracts, incident records).

``yaml.safe_load`` refuses arbitrary Python objects but still accepts three things that
hurt here, each reproduced against PyYAML 6:

* duplicate keys: the last one silently wins, so a second ``gates:`` key can make a no-go
  gate vanish;
* aliases that expand exponentially: PyYAML builds each anchor once and shares it, so
  loading a 657-byte document of nested aliases is instant, but everything that walks the
  result afterwards (validation, hashing, JSON) sees 10^9 nodes and runs for minutes;
* ``!!set``, ``!!binary``, ``!!omap`` and ``!!pairs``: Python sets, bytes and pair lists
  that no workbench file means and that later fail far from the line that caused them.

:func:`load` is ``safe_load`` with all three refused as a ``yaml.YAMLError`` carrying the
line and column, so :func:`workbench.io.read_yaml` reports them like any syntax error.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

#: Nodes a document may hold once every alias is expanded. Real specs and contracts hold
#: hundreds to tens of thousands; a billion-laughs document holds billions.
MAX_EXPANDED_NODES = 1_000_000
REFUSED_TAGS = {
    "tag:yaml.org,2002:set": "!!set",
    "tag:yaml.org,2002:binary": "!!binary",
    "tag:yaml.org,2002:omap": "!!omap",
    "tag:yaml.org,2002:pairs": "!!pairs",
}
_MERGE = "tag:yaml.org,2002:merge"


# libyaml's parser when PyYAML was built with it: 0.03 s instead of 0.37 s for a 3,000-line
# contract. Its composer is native, so the expansion check hooks get_single_node, which both
# parsers expose to the (Python) constructor.
_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class StrictLoader(_Base):
    """SafeLoader refusing duplicate keys, alias bombs and the tags in REFUSED_TAGS."""

    def get_single_node(self) -> Node | None:
        node = super().get_single_node()
        if node is not None:
            check_expansion(node)
        return node

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            seen: dict[Any, Any] = {}
            for key_node, _value in node.value:
                if key_node.tag == _MERGE or not isinstance(key_node, ScalarNode):
                    continue  # merged keys may be overridden on purpose; complex keys are rare
                key = self.construct_object(key_node, deep=True)
                if key in seen:
                    raise ConstructorError(
                        None,
                        None,
                        f"duplicate key {key!r} (first on line {seen[key].line + 1})",
                        key_node.start_mark,
                    )
                seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def _refuse(loader: StrictLoader, node: Node) -> Any:
    raise ConstructorError(
        None,
        None,
        f"no {REFUSED_TAGS[node.tag]} tag (workbench files hold plain mappings, lists and "
        "scalars)",
        node.start_mark,
    )


for _tag in REFUSED_TAGS:
    StrictLoader.add_constructor(_tag, _refuse)


def check_expansion(root: Node, limit: int = MAX_EXPANDED_NODES) -> int:
    """Count the nodes of ``root`` with every alias expanded; raise past ``limit``.

    Iterative (a deeply nested document must not hit Python's recursion limit) and
    memoised per node, so the count costs one visit per distinct node.
    """
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            total = 1 + sum(size[id(c)] for c in _children(node))
            if total > limit:
                raise ConstructorError(
                    None,
                    None,
                    f"at most {limit:,} values once aliases are expanded (this document "
                    "expands past that: nested aliases?)",
                    node.start_mark,
                )
            size[key] = total
            continue
        if key in size:
            continue
        if key in on_path:
            raise ConstructorError(
                None, None, "no alias that refers to itself", node.start_mark
            )
        on_path.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in size)
    return size[id(root)]


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def load_all(text: str) -> list[Any]:
    """Every document of a multi-document stream (OpenSLO), each held to the same rules."""
    try:
        return list(yaml.load_all(text, Loader=StrictLoader))  # noqa: S506 (SafeLoader subclass)
    except RecursionError as exc:
        raise ConstructorError(None, None, "nesting at most a few hundred levels deep") from exc


def load(text: str) -> Any:
    """Parse one YAML document with :class:`StrictLoader`."""
    try:
        return yaml.load(text, Loader=StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except RecursionError as exc:
        raise ConstructorError(None, None, "nesting at most a few hundred levels deep") from exc

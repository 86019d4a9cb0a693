"""Two versions of an ODCS contract -> every change, each breaking or not, and a version.

Both versions are loaded and validated first (an invalid one is unusable input). Each is
turned into a tree keyed by name (schema objects and properties by ``name``, servers by
``server``, quality rules by ``id`` else position, SLA properties by ``property``), the
trees are compared leaf by leaf, and each difference is classified by a rule, as
datacontract-cli's ``breaking`` does (its ``breaking/rules.py``): a rule gives the
*direction* of a change for the data the contract accepts:

* ``tightens``: data that kept the old version can fail the new one (a new ``required``,
  a narrowed range, removed valid values, a new error-severity rule);
* ``loosens``: the new version accepts data the old one refused (a dropped ``required``,
  a widened range, added valid values, a removed column);
* ``both`` (a changed type, a renamed object), ``undetermined`` (a changed pattern: which
  way cannot be told) and ``untested`` (descriptions, tags, owners: no check reads them).

The direction agrees with datacontract-cli wherever both have a rule
(``tests/unit/test_contracts_diff.py`` runs it on pairs of contracts). ``breaking`` is
for the consumers of the data: a change is breaking when what consumers built on the old
version can stop working: a removed or renamed column or schema object (datacontract-cli's
``loosens``/``both``), or a change after which data the old version accepted fails the new
one's checks (``tightens``, ``both``, ``undetermined``: a change whose direction cannot be
told is never called safe). A new optional column is the one tightening that is not
breaking: consumers that do not read it are unaffected. Loosenings other than removals are
not breaking; their reason says what consumers may now receive.

Suggested version (semantic versioning of the old ``version``): major when a change is
breaking, minor when any change reaches the checks, patch for metadata alone.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workbench import render
from workbench.contracts._model import Contract, load_contract

TIGHTENS, LOOSENS, BOTH = "tightens", "loosens", "both"
UNDETERMINED, UNTESTED = "undetermined", "untested"

_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
_LOWER = ("minimum", "exclusiveMinimum", "minLength", "minItems")
_UPPER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems")
_OPERATORS = ("mustBe", "mustNotBe", "mustBeGreaterThan", "mustBeGreaterOrEqualTo",
              "mustBeLessThan", "mustBeLessOrEqualTo", "mustBeBetween", "mustNotBeBetween")
# SLA properties whose value is a ceiling (a smaller one tightens) or a floor
_SLA_CEILING = {"freshness", "latency", "frequency", "retention", "errorrate", "timetodetect",
                "timetonotify", "timetorepair"}
_SLA_FLOOR = {"availability", "throughput"}
_SLA_UNITS = {"ms": 0.001, "s": 1, "sec": 1, "second": 1, "seconds": 1, "m": 60, "min": 60,
              "minute": 60, "minutes": 60, "h": 3600, "hr": 3600, "hour": 3600, "hours": 3600,
              "d": 86400, "day": 86400, "days": 86400, "w": 604800, "week": 604800,
              "weeks": 604800, "y": 31536000, "yr": 31536000, "year": 31536000,
              "years": 31536000}


@dataclass(frozen=True)
class ContractChange:
    """One difference between the versions. ``path``: its YAML path (in the new version,
    in the old one for what was removed); ``key``: the same place by names
    (``schema.orders.properties.id.required``, datacontract-cli's changelog path)."""

    path: str
    kind: str
    breaking: bool
    reason: str
    direction: str
    key: str
    old: Any = None
    new: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "breaking": self.breaking,
                "reason": self.reason, "direction": self.direction,
                "old": _plain(self.old), "new": _plain(self.new)}


@dataclass(frozen=True)
class ContractDiff:
    """Every change from ``old_version`` to ``new_version`` and the version they call for."""

    old_contract: str
    new_contract: str
    old_version: str | None
    new_version: str | None
    suggested_version: str
    changes: tuple[ContractChange, ...] = field(default_factory=tuple)

    @property
    def breaking(self) -> bool:
        return any(c.breaking for c in self.changes)

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    @property
    def version_ok(self) -> bool | None:
        """Whether the new version's own ``version`` is at least the suggested one (None when
        either cannot be read as semantic versions)."""
        new, wanted = _semver(self.new_version), _semver(self.suggested_version)
        if new is None or wanted is None:
            return None
        return new >= wanted

    def to_dict(self) -> dict[str, Any]:
        return {"breaking": self.breaking, "suggested_version": self.suggested_version,
                "changes": [c.to_dict() for c in self.changes],
                "old_version": self.old_version, "new_version": self.new_version,
                "version_ok": self.version_ok}

    def _repr_html_(self) -> str:
        """The headline and a table of the changes (every cell escaped)."""
        rows = [{"where (YAML path)": c.path, "change": c.kind,
                 "breaking": "breaking" if c.breaking else "no", "why": c.reason}
                for c in self.changes]
        declared = ""
        if self.changes and self.version_ok is False:
            declared = (f" The new contract says version {self.new_version}, below the "
                        f"suggested {self.suggested_version}.")
        title = (f"The contract changed since the last pack ({self.old_version or '?'} -> "
                 f"{self.new_version or '?'})" if self.changes
                 else "The contract did not change since the last pack")
        table = render.html_table(rows, caption="Contract changes", max_rows=len(rows)) \
            if rows else ""
        status = "fail" if self.breaking else "warn" if self.changes else "ok"
        return str(render.callout(title, self.headline() + declared, status)) + table

    def headline(self) -> str:
        if not self.changes:
            return "The contract did not change."
        n = len(self.changes)
        b = sum(c.breaking for c in self.changes)
        what = f"{b} breaking" if b else "none breaking"
        return (f"{n} change{'s' if n != 1 else ''} from {self.old_version or '?'} "
                f"({what}); suggested version {self.suggested_version}.")


def diff(old: Contract | str | os.PathLike[str],
         new: Contract | str | os.PathLike[str]) -> ContractDiff:
    """Every change from ``old`` to ``new`` (contracts or paths; both are validated first)."""
    old_c = old if isinstance(old, Contract) else load_contract(old)
    new_c = new if isinstance(new, Contract) else load_contract(new)
    before, after = _doc(old_c), _doc(new_c)
    t_old, p_old = _tree(before)
    t_new, p_new = _tree(after)
    raw = list(_compare(t_old, t_new, ()))
    changes = _classify(raw, t_old, t_new, p_old, p_new)
    version = _suggest(before.get("version"), changes)
    return ContractDiff(old_contract=old_c.path, new_contract=new_c.path,
                        old_version=_text(before.get("version")),
                        new_version=_text(after.get("version")),
                        suggested_version=version, changes=tuple(changes))


# --- the trees ---

def _doc(contract: Contract) -> dict[str, Any]:
    return contract.odcs.model_dump(mode="json", by_alias=True, exclude_none=True)


Key = tuple[str, ...]


def _tree(doc: Any) -> tuple[Any, dict[Key, str]]:
    """The document keyed by names, and the YAML path of every key path."""
    paths: dict[Key, str] = {}

    def walk(node: Any, key: Key, where: str, parent: str | None) -> Any:
        paths[key] = where or "(document)"
        if isinstance(node, Mapping):
            return {k: walk(v, (*key, str(k)), f"{where}.{k}" if where else str(k), str(k))
                    for k, v in node.items()}
        if isinstance(node, list) and node and all(isinstance(x, Mapping) for x in node):
            out: dict[str, Any] = {}
            for i, item in enumerate(node):
                name = _item_name(item, parent, i)
                while name in out:  # two items with one name: keep both, by position
                    name = f"{name}[{i}]"
                out[name] = walk(item, (*key, name), f"{where}[{i}]", None)
            return out
        return node

    return walk(doc, (), "", None), paths


def _item_name(item: Mapping[str, Any], parent: str | None, i: int) -> str:
    if parent in {"schema", "properties"}:
        return str(item.get("name") or item.get("physicalName") or f"[{i}]")
    if parent == "servers":
        return str(item.get("server") or f"[{i}]")
    if parent == "slaProperties":
        return str(item.get("property") or f"[{i}]")
    if parent == "enum":
        return str(item.get("value"))
    if parent == "quality":
        return str(item.get("id") or f"[{i}]")
    for k in ("id", "name", "property", "username", "role", "channel", "url"):
        if item.get(k) is not None:
            return str(item[k])
    return f"[{i}]"


@dataclass(frozen=True)
class _Raw:
    key: Key
    type: str   # added | removed | updated
    old: Any
    new: Any


def _compare(a: Any, b: Any, key: Key) -> Iterable[_Raw]:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in a:
            if k not in b:
                yield from _whole((*key, k), "removed", a[k])
            else:
                yield from _compare(a[k], b[k], (*key, k))
        for k in b:
            if k not in a:
                yield from _whole((*key, k), "added", b[k])
    elif a != b:
        yield _Raw(key, "updated", a, b)


def _whole(key: Key, how: str, value: Any) -> Iterable[_Raw]:
    """An added or removed element is one change; a plain mapping (``logicalTypeOptions``,
    ``arguments``) is its fields, each classified on its own (as datacontract-cli does)."""
    if isinstance(value, dict) and value and not _element(key):
        for k, v in value.items():
            yield from _whole((*key, k), how, v)
        return
    yield _Raw(key, how, value if how == "removed" else None,
               value if how == "added" else None)


def _element(key: Key) -> bool:
    """Schema objects, properties, quality rules, SLA properties, enum values, relationships,
    servers and team members: things added or removed as a whole."""
    if len(key) < 2:
        return False
    return key[-1] == "enum" or key[-2] in {"schema", "properties", "quality", "slaProperties",
                                            "relationships", "servers", "team", "members", "roles",
                       "support", "authoritativeDefinitions", "customProperties"} or (
        key[0] == "schema" and len(key) == 2)


# --- classification ---

def _classify(raw: list[_Raw], t_old: Any, t_new: Any, p_old: dict[Key, str],
              p_new: dict[Key, str]) -> list[ContractChange]:
    raw = _renames(raw, t_old, t_new)
    out = []
    for r in raw:
        kind, direction, reason = _rule(r, t_old, t_new)
        breaking = _breaking(kind, direction, r)
        path = p_old.get(r.key) if r.type == "removed" else p_new.get(r.key)
        if r.type == "renamed":
            path = p_new.get(r.new_key)  # type: ignore[attr-defined]
        out.append(ContractChange(path=path or ".".join(r.key), kind=kind, breaking=breaking,
                          reason=reason, direction=direction, key=".".join(r.key),
                          old=_summary(r.old), new=_summary(r.new)))
    return out


@dataclass(frozen=True)
class _Renamed(_Raw):
    new_key: Key = ()


def _renames(raw: list[_Raw], t_old: Any, t_new: Any) -> list[_Raw]:
    """A schema object or column removed and another added in its place: one rename when
    they keep the physicalName, or agree on everything but the name."""
    removed = [r for r in raw if r.type == "removed" and _container(r.key)]
    added = [r for r in raw if r.type == "added" and _container(r.key)]
    dropped: set[int] = set()
    renames: list[_Raw] = []
    for r in removed:
        for a in added:
            if id(a) in dropped or a.key[:-1] != r.key[:-1]:
                continue
            if _same_thing(r.old, a.new):
                renames.append(_Renamed(r.key, "renamed", r.old, a.new, new_key=a.key))
                dropped |= {id(r), id(a)}
                break
    kept = [r for r in raw if id(r) not in dropped]
    return renames + kept


def _container(key: Key) -> bool:
    return len(key) >= 2 and key[0] == "schema" and (len(key) == 2 or key[-2] == "properties")


def _same_thing(old: Any, new: Any) -> bool:
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return False
    physical = [d.get("physicalName") or d.get("name") for d in (old, new)]
    if physical[0] and physical[0] == physical[1]:
        return True
    strip = lambda d: {k: v for k, v in d.items() if k not in {"name", "id"}}  # noqa: E731
    return strip(old) == strip(new)


def _rule(r: _Raw, t_old: Any, t_new: Any) -> tuple[str, str, str]:
    key = r.key
    last = key[-1]
    where = _where(key)
    if isinstance(r, _Renamed):
        what = "schema object" if len(key) == 2 else "column"
        return (f"{'schema' if len(key) == 2 else 'column'}_renamed", BOTH,
                f"{what} {key[-1]!r} renamed to {r.new_key[-1]!r}: consumers reading "
                f"{key[-1]!r} find nothing")
    if key[0] == "schema" and len(key) == 2:
        if r.type == "removed":
            return "schema_removed", LOOSENS, f"schema object {last!r} removed: consumers " \
                                              "reading it find nothing"
        if r.type == "added":
            return "schema_added", TIGHTENS, f"schema object {last!r} added"
    if key[0] == "schema" and len(key) >= 3 and key[-2] == "properties":
        on = _where(key[:-2])
        if r.type == "removed":
            return "column_removed", LOOSENS, f"column {last!r} removed{on}: consumers " \
                                              "reading it break"
        if r.type == "added":
            if isinstance(r.new, dict) and r.new.get("required"):
                return ("column_added", TIGHTENS, f"required column {last!r} added{on}: "
                        "data without it fails the new version")
            return ("column_added", TIGHTENS, f"optional column {last!r} added{on}: "
                    "consumers that do not read it are unaffected")
    if key[0] == "schema":
        return _schema_rule(r, t_old, t_new, where)
    if key[0] == "slaProperties":
        return _sla_rule(r, where)
    return "metadata", UNTESTED, f"{'.'.join(key)} {_verb(r)} (no check reads it)"


def _schema_rule(r: _Raw, t_old: Any, t_new: Any, where: str) -> tuple[str, str, str]:
    key, last = r.key, r.key[-1]
    if "quality" in key:
        return _quality_rule(r, t_old, t_new, where)
    if last == "physicalName":
        return "physical_name_changed", BOTH, f"physical name{where} {_verb(r)}: " \
                                              "consumers find the data under another name"
    if last in {"logicalType", "physicalType"} and len(key) >= 5:
        direction = BOTH if r.type == "updated" else TIGHTENS if r.type == "added" else LOOSENS
        return "type_changed", direction, f"{last}{where} {_verb(r)}"
    if last in {"required", "unique", "primaryKey", "uniqueItems"}:
        direction = _flag(r.old, r.new)
        text = {TIGHTENS: "now enforced: data that passed may fail",
                LOOSENS: "no longer enforced: consumers may now receive data without it",
                UNTESTED: "unchanged in effect"}.get(direction, "changed")
        return f"{last}_changed", direction, f"{last}{where} {text}"
    if last == "primaryKeyPosition":
        return "key_order_changed", UNTESTED, f"primary key position{where} {_verb(r)}"
    if "logicalTypeOptions" in key and last in (*_BOUNDS, "minLength", "maxLength",
                                                 "minItems", "maxItems"):
        return _bound_rule(r, t_old, t_new, where)
    if "logicalTypeOptions" in key and last in {"pattern", "format"}:
        if r.type == "added":
            return f"{last}_changed", TIGHTENS, f"{last}{where} added: data must match it"
        if r.type == "removed":
            return f"{last}_changed", LOOSENS, f"{last}{where} removed"
        return (f"{last}_changed", UNDETERMINED if last == "pattern" else BOTH,
                f"{last}{where} changed from {r.old!r} to {r.new!r}: values the old one "
                "accepted may fail the new one")
    if "enum" in key:
        return _enum_rule(r, t_old, t_new, where)
    if "relationships" in key:
        direction = TIGHTENS if r.type == "added" else LOOSENS if r.type == "removed" else BOTH
        return "relationship_changed", direction, f"relationship{where} {_verb(r)}"
    return "metadata", UNTESTED, f"{'.'.join(key)} {_verb(r)} (no check reads it)"


def _bound_rule(r: _Raw, t_old: Any, t_new: Any, where: str) -> tuple[str, str, str]:
    key, last = r.key, r.key[-1]
    opts_key = key[:-1]
    old_opts = _lookup(t_old, opts_key) or {}
    new_opts = _lookup(t_new, opts_key) or {}
    ltype = (_lookup(t_new, opts_key[:-1]) or _lookup(t_old, opts_key[:-1]) or {}).get(
        "logicalType")
    if last in _BOUNDS:
        group = ("minimum", "exclusiveMinimum") if last in _LOWER else (
            "maximum", "exclusiveMaximum")
        old_b = {k: _number(old_opts.get(k)) for k in group if old_opts.get(k) is not None}
        new_b = {k: _number(new_opts.get(k)) for k in group if new_opts.get(k) is not None}
        if r.type != "updated" and len(old_b) + len(new_b) > 1 and (
                set(old_b) != set(new_b)):
            # an inclusive bound swapped for an exclusive one: compare what each accepts
            if last != _carrier(old_opts, new_opts, group):
                return "range_changed", UNTESTED, f"{last}{where} {_verb(r)} (with its " \
                                                  "counterpart)"
            if None in (*old_b.values(), *new_b.values()):
                return "range_changed", UNDETERMINED, f"{last}{where} {_verb(r)}"
            probes = _probes([*old_b.values(), *new_b.values()],
                             integers=ltype in {"integer", "date"})
            direction = _accepted(lambda v: _accepts(old_b, v), lambda v: _accepts(new_b, v),
                                  probes or [])
            return "range_" + _word(direction), direction, _range_text(direction, last, where)
    if r.type == "added":
        return "range_narrowed", TIGHTENS, f"{last} {r.new!r} added{where}: values beyond " \
                                           "it now fail"
    if r.type == "removed":
        return "range_widened", LOOSENS, f"{last} {r.old!r} removed{where}: consumers may " \
                                         "now receive values beyond it"
    old, new = _number(r.old), _number(r.new)
    if old is None or new is None:
        return "range_changed", UNDETERMINED, f"{last}{where} changed from {r.old!r} to {r.new!r}"
    if old == new:
        return "range_changed", UNTESTED, f"{last}{where} rewritten, same value"
    tighter = new > old if last in _LOWER else new < old
    direction = TIGHTENS if tighter else LOOSENS
    return "range_" + _word(direction), direction, (
        f"{last}{where} {r.old!r} -> {r.new!r}: " + (
            "values the old range allowed now fail" if tighter
            else "consumers may now receive values outside the old range"))


def _range_text(direction: str, last: str, where: str) -> str:
    return {TIGHTENS: f"{last}{where}: values the old range allowed now fail",
            LOOSENS: f"{last}{where}: consumers may now receive values outside the old range",
            BOTH: f"{last}{where}: the range moved (some old values fail, some new ones pass)",
            }.get(direction, f"{last}{where}: same values accepted")


def _word(direction: str) -> str:
    return {TIGHTENS: "narrowed", LOOSENS: "widened"}.get(direction, "changed")


def _enum_rule(r: _Raw, t_old: Any, t_new: Any, where: str) -> tuple[str, str, str]:
    key = r.key
    i = key.index("enum")
    if len(key) == i + 1:  # the whole list added or removed
        if r.type == "added":
            return "valid_values_added", TIGHTENS, f"valid values{where} added: other values fail"
        return "valid_values_removed", LOOSENS, f"valid values{where} removed: any value passes"
    if len(key) == i + 3 and key[-1] == "value":  # one value (an item of the list)
        value = key[i + 1]
        if r.type == "removed":
            return "valid_value_removed", TIGHTENS, f"valid value {value!r} removed{where}: " \
                                                    "data holding it now fails"
        if r.type == "added":
            return "valid_value_added", LOOSENS, f"valid value {value!r} added{where}: " \
                                                 "consumers may now receive it"
    return "metadata", UNTESTED, f"{'.'.join(key)} {_verb(r)} (no check reads it)"


def _quality_rule(r: _Raw, t_old: Any, t_new: Any, where: str) -> tuple[str, str, str]:
    key = r.key
    i = len(key) - 1 - key[::-1].index("quality")
    rule_key = key[:i + 2]
    old_rule = _lookup(t_old, rule_key) or {}
    new_rule = _lookup(t_new, rule_key) or {}
    name = key[i + 1] if len(key) > i + 1 else "quality"
    field_ = key[i + 2] if len(key) > i + 2 else None
    was, now = _guarantee(old_rule), _guarantee(new_rule)
    label = f"quality rule {name}{where}"
    if not was and not now:
        return "quality_changed", UNTESTED, f"{label} {_verb(r)} (not an error-severity rule)"
    if field_ is None:
        if r.type == "added":
            return "quality_added", TIGHTENS, f"{label} added: data that passed may fail it"
        return "quality_removed", LOOSENS, f"{label} removed: consumers lose its guarantee"
    if was != now:
        if field_ == "severity":
            return ("quality_changed", TIGHTENS if now else LOOSENS,
                    f"{label} severity {r.old!r} -> {r.new!r}")
        return "quality_changed", UNTESTED, f"{label} {_verb(r)}"
    if field_ == "arguments":
        arg = key[i + 3] if len(key) > i + 3 else None
        metric = new_rule.get("metric")
        if metric == "invalidValues" and arg == "validValues" and r.type == "updated":
            old_v = set(map(str, r.old or [])) if isinstance(r.old, list) else None
            new_v = set(map(str, r.new or [])) if isinstance(r.new, list) else None
            if old_v is not None and new_v is not None:
                gone, came = sorted(old_v - new_v), sorted(new_v - old_v)
                direction = BOTH if gone and came else TIGHTENS if gone else LOOSENS
                if gone:
                    text = f"valid values {', '.join(gone)} removed{where}: data holding " \
                           "them now fails"
                    kind = "valid_value_removed"
                else:
                    text = f"valid values {', '.join(came)} added{where}: consumers may now " \
                           "receive them"
                    kind = "valid_value_added"
                return kind, direction, text
        return "quality_changed", UNDETERMINED, f"{label} argument {arg or ''} {_verb(r)}"
    if field_ in _OPERATORS:
        old_t, new_t = _threshold(old_rule), _threshold(new_rule)
        if field_ != _carrier(old_rule, new_rule, _OPERATORS):
            return "quality_changed", UNTESTED, f"{label} {field_} {_verb(r)}"
        percent = {(q.get("unit") or "rows") == "percent" for q in (old_rule, new_rule)}
        if old_t is None or new_t is None or len(percent) > 1:
            return "quality_changed", UNDETERMINED, f"{label} threshold {_verb(r)}"
        bounds = [b for t in (old_t, new_t) for b in _flat(t[1])]
        probes = _probes(bounds, integers=not percent.pop() and new_rule.get("type") not in
                         {"sql", "custom"})
        if probes is None:
            return "quality_changed", UNDETERMINED, f"{label} threshold {_verb(r)}"
        direction = _accepted(lambda v: _passes(old_t, v), lambda v: _passes(new_t, v), probes)
        text = {TIGHTENS: "stricter: data that passed may fail",
                LOOSENS: "laxer: consumers may now receive more bad rows",
                BOTH: "moved both ways"}.get(direction, "same effect")
        return "quality_threshold_changed", direction, f"{label} threshold {text}"
    if field_ in {"description", "dimension", "name", "businessImpact", "tags",
                  "customProperties", "authoritativeDefinitions", "method", "schedule",
                  "scheduler", "id"}:
        return "quality_changed", UNTESTED, f"{label} {field_} {_verb(r)}"
    return "quality_changed", UNDETERMINED, f"{label} {field_} {_verb(r)}"


def _sla_rule(r: _Raw, where: str) -> tuple[str, str, str]:
    key = r.key
    prop = key[1]
    name = prop.lower()
    if len(key) == 2:
        if r.type == "added":
            return "sla_added", TIGHTENS, f"service level {prop} added: a feed that " \
                                          "misses it now fails the contract"
        return "sla_removed", LOOSENS, f"service level {prop} removed: consumers lose it"
    last = key[2]
    if last in {"value", "unit"} and r.type == "updated":
        old = _sla_seconds(r, "old")
        new = _sla_seconds(r, "new")
        if old is None or new is None:
            return "sla_changed", UNDETERMINED, f"service level {prop} {last} {_verb(r)}"
        if old == new:
            return "sla_changed", UNTESTED, f"service level {prop} rewritten, same level"
        if name in _SLA_CEILING:
            direction = TIGHTENS if new < old else LOOSENS
        elif name in _SLA_FLOOR:
            direction = TIGHTENS if new > old else LOOSENS
        else:
            return "sla_changed", UNDETERMINED, f"service level {prop} {last} {_verb(r)}"
        text = "stricter" if direction == TIGHTENS else "laxer: consumers may get data later " \
                                                         "or less reliably"
        return "sla_changed", direction, f"service level {prop} {text} ({r.old!r} -> {r.new!r})"
    if last == "element":
        return "sla_changed", BOTH, f"service level {prop} now measured on {r.new!r}"
    return "sla_changed", UNTESTED, f"service level {prop} {last} {_verb(r)}"


def _sla_seconds(r: _Raw, side: str) -> float | None:
    """The SLA value on one side, in seconds for durations (units ODCS names)."""
    value = r.old if side == "old" else r.new
    if r.key[-1] == "unit":  # the value is unchanged: scale it by each unit
        return _SLA_UNITS.get(str(value).lower()) if value is not None else None
    number = _number(value)
    return number


def _breaking(kind: str, direction: str, r: _Raw) -> bool:
    if kind in {"column_removed", "schema_removed", "column_renamed", "schema_renamed"}:
        return True
    if kind == "column_added":
        return bool(isinstance(r.new, dict) and r.new.get("required"))
    if kind == "schema_added":
        return False
    return direction in {TIGHTENS, BOTH, UNDETERMINED}


def _suggest(version: Any, changes: list[ContractChange]) -> str:
    parsed = _semver(_text(version)) or (0, 0, 0)
    major, minor, patch = parsed
    if not changes:
        return f"{major}.{minor}.{patch}"
    if any(c.breaking for c in changes):
        return f"{major + 1}.0.0"
    if any(c.direction != UNTESTED for c in changes):
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


# --- helpers ---

_SEMVER = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?")


def _semver(text: str | None) -> tuple[int, int, int] | None:
    m = _SEMVER.match(text or "")
    if not m:
        return None
    return int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _where(key: Key) -> str:
    """`` on orders.amount`` for a place inside a schema object."""
    if key[0] != "schema" or len(key) < 2:
        return ""
    names = [key[1]]
    i = 2
    while i + 1 < len(key) and key[i] == "properties":
        names.append(key[i + 1])
        i += 2
    return f" on {'.'.join(names)}"


def _verb(r: _Raw) -> str:
    if r.type == "added":
        return f"added ({_short(r.new)})"
    if r.type == "removed":
        return f"removed (was {_short(r.old)})"
    return f"changed from {_short(r.old)} to {_short(r.new)}"


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _summary(value: Any) -> Any:
    return None if isinstance(value, dict) else value


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _lookup(tree: Any, key: Key) -> Any:
    node = tree
    for part in key:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _flag(old: Any, new: Any) -> str:
    o, n = bool(old), bool(new)
    if o == n:
        return UNTESTED
    return TIGHTENS if n else LOOSENS


def _carrier(old: Mapping[str, Any], new: Mapping[str, Any], keys: Iterable[str]) -> str | None:
    """Of ``keys`` changing together, the one that carries the change (as datacontract-cli:
    the first set in the new version, else the first removed)."""
    changed = [k for k in keys if old.get(k) != new.get(k)]
    return next((k for k in changed if new.get(k) is not None), next(iter(changed), None))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        pass
    from datetime import UTC, datetime

    try:
        text = str(value).strip()
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def _accepts(bounds: Mapping[str, float | None], v: float) -> bool:
    tests = {"minimum": lambda b: v >= b, "exclusiveMinimum": lambda b: v > b,
             "maximum": lambda b: v <= b, "exclusiveMaximum": lambda b: v < b}
    return all(tests[k](b) for k, b in bounds.items() if b is not None)


def _probes(bounds: list[Any], integers: bool) -> list[float] | None:
    """Values that tell apart predicates changing their answer only at ``bounds``."""
    nums = sorted({b for b in bounds if b is not None})
    if not nums or not all(isinstance(b, int | float) and not isinstance(b, bool) for b in nums):
        return None
    if integers:
        return sorted({n for b in nums for n in range(math.floor(b) - 1, math.ceil(b) + 2)})
    return sorted(nums + [(a + b) / 2 for a, b in zip(nums, nums[1:], strict=False)]
                  + [nums[0] - 1, nums[-1] + 1])


def _accepted(old_ok: Any, new_ok: Any, probes: list[float]) -> str:
    loosens = any(new_ok(p) and not old_ok(p) for p in probes)
    tightens = any(old_ok(p) and not new_ok(p) for p in probes)
    if loosens and tightens:
        return BOTH
    if loosens:
        return LOOSENS
    return TIGHTENS if tightens else UNTESTED


def _threshold(rule: Mapping[str, Any]) -> tuple[str, Any] | None:
    for op in _OPERATORS:
        if rule.get(op) is not None:
            return op, rule[op]
    return None


def _flat(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _passes(t: tuple[str, Any], actual: float) -> bool:
    op, v = t
    try:
        return {
            "mustBe": lambda: actual == v, "mustNotBe": lambda: actual != v,
            "mustBeGreaterThan": lambda: actual > v, "mustBeGreaterOrEqualTo": lambda: actual >= v,
            "mustBeLessThan": lambda: actual < v, "mustBeLessOrEqualTo": lambda: actual <= v,
            "mustBeBetween": lambda: v[0] <= actual <= v[1],
            "mustNotBeBetween": lambda: not (v[0] <= actual <= v[1]),
        }[op]()
    except (TypeError, IndexError):
        return False


def _guarantee(rule: Mapping[str, Any]) -> bool:
    """Whether a quality rule can fail the contract (an error-severity rule with a threshold;
    warnings and infos never fail it)."""
    if not rule:
        return False
    sev = str(rule.get("severity") or "error").strip().lower()
    if sev in {"warning", "warn", "info", "information", "informational"}:
        return False
    if rule.get("type") == "text":
        return False
    if rule.get("type") == "custom":
        return False  # another engine's rule: workbench reports it as not run
    return _threshold(rule) is not None or rule.get("type") is None and rule.get(
        "metric") is not None


PACK_COPY = "{name}.contract.yaml"


def since_last_pack(contract: Contract, previous_dir: str | os.PathLike[str] | None,
                    fallback: str | os.PathLike[str] | None = None,
                    results_dir: str | os.PathLike[str] | None = None, *,
                    name: str = "contract_checks") -> ContractDiff | None:
    """What changed in the contract since the previous pack.

    The previous pack's copy of its contract (``<previous_dir>/<name>.contract.yaml``) is the
    old version; without one, ``fallback`` (the version the previous pack is known to have
    used). ``results_dir``: a copy of this contract is written there for the next pack.
    None when there is nothing to compare with.
    """
    from pathlib import Path

    from workbench.io import write_text_atomic

    if results_dir is not None:
        write_text_atomic(Path(results_dir) / PACK_COPY.format(name=name),
                          Path(contract.path).read_text(encoding="utf-8"))
    old = None
    if previous_dir:
        copy = Path(previous_dir) / PACK_COPY.format(name=name)
        if copy.is_file():
            old = copy
    if old is None and fallback:
        old = Path(fallback)
    if old is None:
        return None
    return diff(old, contract)

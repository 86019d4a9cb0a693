"""Compare the findings of two pack versions, ignoring what legitimately differs.

    python benchmarks/findings_compat.py OLD_VERSION_DIR NEW_VERSION_DIR

Every ``*.results.json`` of either version is loaded as JSON; ``schema_version`` (added
with the findings contract) and the fields that carry a build's version or time (the
review summary's history rows and change summary name versions) are dropped; the rest must
be equal. Prints one line per difference and exits 1 if any. Used to show that a
refactoring left the demo pack's findings unchanged::

    make demo
    python benchmarks/findings_compat.py /path/to/old/demo/<version> reports/demo/<version>
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

IGNORED_KEYS = {"schema_version"}


def _stable(name: str, doc: dict[str, Any]) -> dict[str, Any]:
    doc = {k: v for k, v in doc.items() if k not in IGNORED_KEYS}
    if name == "review_summary":
        # history rows and the change summary name earlier versions (timestamps + hashes)
        doc["history"] = [{k: v for k, v in row.items() if k != "version"}
                          for row in doc.get("history") or []]
        if isinstance(doc.get("changes"), dict):
            doc["changes"] = {k: v for k, v in doc["changes"].items()
                              if k not in {"previous", "headline"}}
    return doc


def _diff(path: str, a: Any, b: Any, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{path}.{k}: only in {'new' if k in b else 'old'}")
            else:
                _diff(f"{path}.{k}", a[k], b[k], out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _diff(f"{path}[{i}]", x, y, out)
    elif a != b:
        out.append(f"{path}: {json.dumps(a)[:120]} -> {json.dumps(b)[:120]}")


def compare(old: Path, new: Path) -> list[str]:
    """One line per difference between the two versions' findings (empty: identical)."""
    names = sorted({p.name for p in old.glob("*.results.json")}
                   | {p.name for p in new.glob("*.results.json")})
    out: list[str] = []
    for n in names:
        if not (old / n).is_file() or not (new / n).is_file():
            out.append(f"{n}: only in {'new' if (new / n).is_file() else 'old'}")
            continue
        stem = n.removesuffix(".results.json")
        a = _stable(stem, json.loads((old / n).read_text(encoding="utf-8")))
        b = _stable(stem, json.loads((new / n).read_text(encoding="utf-8")))
        _diff(stem, a, b, out)
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python benchmarks/findings_compat.py OLD_VERSION_DIR NEW_VERSION_DIR",
              file=sys.stderr)
        return 2
    old, new = Path(argv[0]), Path(argv[1])
    diffs = compare(old, new)
    for line in diffs:
        print(line)
    files = len(list(new.glob("*.results.json")))
    verdict = "identical" if not diffs else f"{len(diffs)} difference(s)"
    print(f"{files} findings files compared: {verdict} (schema_version and version names "
          "ignored)")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

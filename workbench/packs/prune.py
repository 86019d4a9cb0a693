"""Listing and pruning published versions, and holding versions for audit.

A hold keeps a version through every ``prune`` until it is released. Holds live beside the
versions in ``reports/<pack>/holds.json`` (version directories are write-once, so a marker
inside one would fail ``verify``)::

    {"holds": {"<version>": {"reason": "Q3 model risk audit", "held_at": "2026-11-02T10:00:00Z"}}}

The file is read and written under the pack's lock, atomically.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workbench.errors import InputError, input_error
from workbench.io import dumps_json
from workbench.packs import index
from workbench.packs.execute import remove_orphan_temp
from workbench.packs.lock import locked
from workbench.packs.manifest import MANIFEST
from workbench.packs.publish import remove_stale_staging

HOLDS = "holds.json"


def list_packs(out_dir: str | os.PathLike[str] = "reports") -> list[dict[str, Any]]:
    """Every pack under ``out_dir`` with its versions (newest first) and ``latest``."""
    return index.packs(Path(out_dir))


def prune(out_dir: str | os.PathLike[str] = "reports", keep: int = 10) -> list[Path]:
    """Delete all but the ``keep`` newest versions of each pack.

    ``latest`` and every held version (:func:`hold`) are always kept, on top of ``keep``.

    Each victim is first renamed to a hidden name (one step), so the index and readers
    never see a half-deleted version. Returns the removed directories.

    Only what workbench made is deleted: versions are folders whose manifest.json is a
    sealed workbench manifest naming the pack
    (:func:`workbench.packs.index.is_version_manifest`); leftovers of killed builds are
    ``.staging-<version>`` folders in a pack's folder and temp folders carrying workbench's
    marker.
    """
    if keep < 1:
        raise InputError(f"--keep: expected at least 1, got {keep}", field="keep")
    out = Path(out_dir)
    removed = []
    # a pack whose only build was killed has no version yet, but its folder has the lock
    # file every build creates, and may hold a staging folder with unscrubbed results
    for lock in sorted(out.glob("*/.lock")) if out.is_dir() else []:
        if lock.parent.is_dir() and not lock.parent.is_symlink():
            with locked(lock):
                remove_stale_staging(lock.parent)
    for pack in index.packs(out):
        pack_dir = out / pack["name"]
        with locked(pack_dir / ".lock"):
            # leftovers of killed builds (staging may hold unscrubbed results) go first
            remove_stale_staging(pack_dir)
            latest = index.read_latest(pack_dir)
            held = read_holds(pack_dir)
            for v in index.versions(pack_dir)[keep:]:
                if v["version"] == latest or v["version"] in held:
                    continue
                victim = pack_dir / v["version"]
                trash = pack_dir / f".trash-{v['version']}"
                os.rename(victim, trash)
                shutil.rmtree(trash, ignore_errors=True)
                removed.append(victim)
    remove_orphan_temp()  # private temp folders of killed builds (by their marker)
    with locked(out / ".index.lock"):
        index.write_site_index(out)  # left alone (None) when workbench did not write it
    return removed


def read_holds(pack_dir: Path) -> dict[str, dict[str, Any]]:
    """``{version: {reason, held_at}}``; a missing file means no holds."""
    path = pack_dir / HOLDS
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError as exc:  # never prune on a guess: an unreadable hold list stops prune
        raise input_error(path, None, "valid JSON (the audit hold list)") from exc
    holds = doc.get("holds") if isinstance(doc, dict) else None
    if not isinstance(holds, dict):
        raise input_error(path, "holds", "a mapping of version -> {reason, held_at}")
    return holds


def _version_of(version_dir: str | os.PathLike[str]) -> tuple[Path, str]:
    root = Path(version_dir)
    if not (root / MANIFEST).is_file():
        raise input_error(root, None, "a published pack version directory (with manifest.json)")
    return root.resolve().parent, root.resolve().name


def _write_holds(pack_dir: Path, holds: dict[str, dict[str, Any]]) -> None:
    index.publish_text(pack_dir / HOLDS, dumps_json({"holds": holds}))


def hold(version_dir: str | os.PathLike[str], reason: str) -> dict[str, Any]:
    """Keep ``version_dir`` through every prune until :func:`release`; returns the hold."""
    if not reason.strip():
        raise InputError("--reason: expected why the version is held (e.g. the audit)",
                         field="reason")
    pack_dir, version = _version_of(version_dir)
    entry = {"reason": reason.strip(),
             "held_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")}
    with locked(pack_dir / ".lock"):
        holds = read_holds(pack_dir)
        holds[version] = entry
        _write_holds(pack_dir, holds)
    return entry


def release(version_dir: str | os.PathLike[str]) -> bool:
    """Remove the hold on ``version_dir``; False when it was not held."""
    pack_dir, version = _version_of(version_dir)
    with locked(pack_dir / ".lock"):
        holds = read_holds(pack_dir)
        if version not in holds:
            return False
        del holds[version]
        _write_holds(pack_dir, holds)
    return True

"""Listing and pruning published versions."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from workbench.errors import InputError
from workbench.packs import index
from workbench.packs.lock import locked


def list_packs(out_dir: str | os.PathLike[str] = "reports") -> list[dict[str, Any]]:
    """Every pack under ``out_dir`` with its versions (newest first) and ``latest``."""
    return index.packs(Path(out_dir))


def prune(out_dir: str | os.PathLike[str] = "reports", keep: int = 10) -> list[Path]:
    """Delete all but the ``keep`` newest versions of each pack; ``latest`` is always kept.

    Each victim is first renamed to a hidden name (one step), so the index and readers
    never see a half-deleted version. Returns the removed directories.
    """
    if keep < 1:
        raise InputError(f"--keep: expected at least 1, got {keep}", field="keep")
    out = Path(out_dir)
    removed = []
    for pack in index.packs(out):
        pack_dir = out / pack["name"]
        with locked(pack_dir / ".lock"):
            latest = index.read_latest(pack_dir)
            for v in index.versions(pack_dir)[keep:]:
                if v["version"] == latest:
                    continue
                victim = pack_dir / v["version"]
                trash = pack_dir / f".trash-{v['version']}"
                os.rename(victim, trash)
                shutil.rmtree(trash, ignore_errors=True)
                removed.append(victim)
    with locked(out / ".index.lock"):
        index.write_site_index(out)
    return removed

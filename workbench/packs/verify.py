"""``workbench pack verify VERSION_DIR``: is this version exactly what was published?

Checks, in order, stopping at the first problem (named in the error):

1. manifest.json exists, is canonical JSON and matches its own ``manifest_sha256``;
2. every output the manifest lists exists with its size and sha256;
3. no file is in the directory that the manifest does not list.
"""

from __future__ import annotations

import json
from pathlib import Path

from workbench.errors import CheckFailed, InputError
from workbench.io import sha256_file
from workbench.packs.manifest import MANIFEST, _files, seal


def verify(version_dir: str | Path) -> dict:
    """Return the manifest when everything matches; raise :class:`CheckFailed` naming the file."""
    root = Path(version_dir)
    if not root.is_dir():
        raise InputError(f"{root}: expected a pack version directory", file=str(root))
    mpath = root / MANIFEST
    if not mpath.is_file():
        raise CheckFailed(f"{mpath}: missing")
    try:
        text = mpath.read_bytes().decode("utf-8")  # no newline translation: every byte counts
        manifest = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise CheckFailed(f"{mpath}: not valid JSON (modified?): {exc}") from exc
    if (
        not isinstance(manifest, dict)
        or "manifest_sha256" not in manifest
        or "outputs" not in manifest
    ):
        raise CheckFailed(f"{mpath}: not a workbench manifest")
    if seal(manifest) != text:
        raise CheckFailed(f"{mpath}: modified (its content no longer matches manifest_sha256)")
    listed = {}
    for entry in manifest["outputs"]:
        listed[entry["path"]] = entry
        p = root / entry["path"]
        if not p.is_file():
            raise CheckFailed(f"{p}: missing (listed in {MANIFEST})")
        if p.stat().st_size != entry["size"] or sha256_file(p) != entry["sha256"]:
            raise CheckFailed(f"{p}: modified (sha256 differs from {MANIFEST})")
    for p in sorted(_files(root)):
        rel = p.relative_to(root).as_posix()
        if rel != MANIFEST and rel not in listed:
            raise CheckFailed(f"{p}: extra file not listed in {MANIFEST}")
    return manifest

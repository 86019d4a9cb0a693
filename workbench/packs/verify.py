"""``workbench pack verify VERSION_DIR [--key PUB]``: is this version exactly what was built?

Checks, in order, stopping at the first problem (named in the error):

1. with ``--key``: ``manifest.sig`` exists, names that key and is a valid Ed25519
   signature by it over manifest.json's bytes (:mod:`workbench.packs.sign`);
2. manifest.json exists, is canonical JSON, has the shape workbench writes and matches its
   own ``manifest_sha256``;
3. nothing in the folder is a symlink (a link can make a verified page show any file);
4. every folder and every output the manifest lists exists, outputs with their size and
   sha256;
5. no file or folder is in the directory that the manifest does not list.

Without a key, 2-5 prove integrity against accidents only: anyone can rewrite a file,
recompute every hash with workbench's own functions and reseal the manifest. Only the
signature, checked with a key the verifier already trusts, proves who built the pack.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from workbench.errors import CheckFailed, InputError
from workbench.io import sha256_file
from workbench.packs.manifest import MANIFEST, SIGNATURE, seal
from workbench.packs.sign import check_signature, read_signature


@dataclass(frozen=True)
class Verified:
    """What ``verify`` proved about one version."""

    manifest: dict[str, Any]
    files: int
    signed_by: str | None  # fingerprint checked against the given key; None: not checked
    signature_present: bool  # manifest.sig exists (whether or not a key was given)

    def summary(self, version_dir: Path | str) -> str:
        base = f"{version_dir}: ok ({self.files} files match manifest.json"
        if self.signed_by:
            return base + f"; signed by the given key {self.signed_by}: origin proven)"
        if self.signature_present:
            return base + "; integrity only: signed, but no --key given, so origin is unproven)"
        return base + "; integrity only: unsigned, so origin is unproven)"


def _valid_rel(path: Any) -> bool:
    if not isinstance(path, str) or not path or "\\" in path or "\0" in path:
        return False
    p = PurePosixPath(path)
    return not p.is_absolute() and ".." not in p.parts and str(p) == path


def _shape(manifest: Any) -> str | None:
    """The first field of ``manifest`` that is not as workbench writes it, if any."""
    if not isinstance(manifest, dict):
        return "(top level)"
    if not isinstance(manifest.get("manifest_sha256"), str):
        return "manifest_sha256"
    outputs = manifest.get("outputs")
    if not isinstance(outputs, list):
        return "outputs"
    for i, e in enumerate(outputs):
        if not (
            isinstance(e, dict)
            and _valid_rel(e.get("path"))
            and isinstance(e.get("size"), int)
            and not isinstance(e.get("size"), bool)
            and isinstance(e.get("sha256"), str)
        ):
            return f"outputs[{i}]"
    dirs = manifest.get("directories", [])
    if not isinstance(dirs, list):
        return "directories"
    for i, d in enumerate(dirs):
        if not _valid_rel(d):
            return f"directories[{i}]"
    return None


def _walk(root: Path) -> tuple[list[str], list[str]]:
    """(files, folders) below ``root``, relative; CheckFailed on the first symlink."""
    files, dirs = [], []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        for name in [*dirnames, *filenames]:
            p = here / name
            mode = p.lstat().st_mode
            if stat.S_ISLNK(mode):
                raise CheckFailed(f"{p}: a symlink (a published version holds none)")
            rel = p.relative_to(root).as_posix()
            if stat.S_ISDIR(mode):
                dirs.append(rel)
            elif stat.S_ISREG(mode):
                files.append(rel)
            else:
                raise CheckFailed(f"{p}: not a regular file")
    return sorted(files), sorted(dirs)


def verify(version_dir: str | Path, public_key: Any = None) -> dict:
    """Return the manifest when everything matches; raise :class:`CheckFailed` naming the file.

    ``public_key`` (an Ed25519 public key, see :func:`workbench.packs.sign.load_public_key`)
    also requires a valid signature by that key.
    """
    return verify_version(version_dir, public_key).manifest


def verify_version(version_dir: str | Path, public_key: Any = None) -> Verified:

    root = Path(version_dir)
    if not root.is_dir():
        raise InputError(f"{root}: expected a pack version directory", file=str(root))
    mpath = root / MANIFEST
    if mpath.is_symlink() or not mpath.is_file():
        raise CheckFailed(f"{mpath}: missing")
    signed_by = check_signature(root, public_key) if public_key is not None else None
    signature_present = signed_by is not None or read_signature(root) is not None
    try:
        text = mpath.read_bytes().decode("utf-8")  # no newline translation: every byte counts
        manifest = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise CheckFailed(f"{mpath}: not valid JSON (modified?): {exc}") from exc
    bad = _shape(manifest)
    if bad is not None:
        raise CheckFailed(f"{mpath}: {bad}: not as workbench writes a manifest (modified?)")
    try:
        sealed = seal(manifest)
    except (TypeError, ValueError) as exc:
        raise CheckFailed(f"{mpath}: not a workbench manifest ({exc})") from exc
    if sealed != text:
        raise CheckFailed(f"{mpath}: modified (its content no longer matches manifest_sha256)")
    files, dirs = _walk(root)
    listed_dirs = set(manifest.get("directories", []))
    for d in sorted(listed_dirs):
        if not (root / d).is_dir():
            raise CheckFailed(f"{root / d}: missing folder (listed in {MANIFEST})")
    listed = {}
    for entry in manifest["outputs"]:
        listed[entry["path"]] = entry
        p = root / entry["path"]
        if not p.is_file():
            raise CheckFailed(f"{p}: missing (listed in {MANIFEST})")
        if p.stat().st_size != entry["size"] or sha256_file(p) != entry["sha256"]:
            raise CheckFailed(f"{p}: modified (sha256 differs from {MANIFEST})")
    for d in dirs:
        if d not in listed_dirs:
            raise CheckFailed(f"{root / d}: extra folder not listed in {MANIFEST}")
    for rel in files:
        if rel not in (MANIFEST, SIGNATURE) and rel not in listed:
            raise CheckFailed(f"{root / rel}: extra file not listed in {MANIFEST}")
    return Verified(manifest, len(listed), signed_by, signature_present)

"""manifest.json: what produced a version of a pack, and the hashes that prove it.

Layout (keys sorted on disk; see design.md)::

    pack, title, version, status (ok|failed), verdict (go|hold|no-go),
    started_at, finished_at, duration_s,
    spec: {path, sha256, content (secrets redacted)},
    inputs: [{path, size, sha256}],          # relative to the spec's directory
    notebooks: [{name, source, source_sha256, parameters, status, duration_s,
                 execution_s, export_s, error, results}],
    outputs: [{path, size, sha256}],         # every file in the version dir but this one
                                             # (and manifest.sig, the signature, if signed)
    directories: [path],                     # every folder below the version dir
    gates: [{id, title, notebook, metric, op, value, observed, status, outcome, ...}],
    git: {commit, dirty[, source, path | notebooks]}, environment: {python, platform, packages},
    manifest_sha256                          # sha256 of this document without this key

``manifest_sha256`` plus the canonical serialisation (:func:`workbench.io.dumps_json`)
make any edit of the manifest itself detectable by ``workbench pack verify``; a signature
(:mod:`workbench.packs.sign`) makes it attributable to the holder of a key.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from workbench.io import dumps_json, sha256_bytes, sha256_file, write_text_atomic

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"  # see workbench.packs.sign
KEY_PACKAGES = (
    "workbench",
    "papermill",
    "nbconvert",
    "nbclient",
    "nbformat",
    "ipykernel",
    "jupyter-client",
    "polars",
    "pandas",
    "numpy",
    "scipy",
    "pyarrow",
    "altair",
    "vl-convert-python",
    "duckdb",
    "pydantic",
    "jinja2",
    "evidently",
    "open-data-contract-standard",
)


def environment() -> dict[str, Any]:
    """Python and key package versions (metadata only: nothing is imported)."""
    packages: dict[str, str | None] = {}
    for name in KEY_PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    return {
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "platform": platform.platform(terse=True),
        "packages": packages,
    }


def git_state(where: Path) -> dict[str, Any]:
    """``{commit, dirty}`` of the repository holding ``where`` (nulls outside git)."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=where, capture_output=True, text=True, timeout=20, check=True
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit.strip(), "dirty": bool(status and status.strip())}


def pack_git_state(spec_dir: Path, code_dirs: list[Path]) -> dict[str, Any]:
    """The spec's ``{commit, dirty}``, and the notebooks' and package's repository too.

    A spec kept outside any repository (a user's own folder) still records the commit of the
    code that ran: the first of ``code_dirs`` in git, with ``"source": "notebooks"``. When
    spec and code live in different repositories, the code's state is added as ``notebooks``.
    """
    state = git_state(spec_dir)
    code = None
    for d in dict.fromkeys(code_dirs):
        found = git_state(d)
        if found["commit"] is not None:
            code = {**found, "path": str(d)}
            break
    if code is None:
        return state
    if state["commit"] is None:
        return {**code, "source": "notebooks"}
    if code["commit"] != state["commit"]:
        return {**state, "notebooks": code}
    return state


def file_entries(root: Path, names: list[str] | None = None) -> list[dict[str, Any]]:
    """``[{path, size, sha256}]`` for every file under ``root`` except the manifest, sorted."""
    out = []
    for p in sorted(_files(root)):
        rel = p.relative_to(root).as_posix()
        if rel in (MANIFEST, SIGNATURE):
            continue
        out.append({"path": rel, "size": p.stat().st_size, "sha256": sha256_file(p)})
    return out


def _files(root: Path) -> list[Path]:
    found: list[Path] = []
    for dirpath, _dirs, files in os.walk(root):
        found.extend(Path(dirpath) / f for f in files)
    return found


def directory_entries(root: Path) -> list[str]:
    """Every folder below ``root`` (relative, POSIX), sorted: verify refuses unlisted ones."""
    found: list[str] = []
    for dirpath, dirs, _files in os.walk(root):
        found.extend((Path(dirpath) / d).relative_to(root).as_posix() for d in dirs)
    return sorted(found)


def seal(manifest: dict[str, Any]) -> str:
    """Canonical manifest text with its own ``manifest_sha256`` filled in."""
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    digest = sha256_bytes(dumps_json(body).encode("utf-8"))
    return dumps_json({**body, "manifest_sha256": digest})


def write_manifest(version_dir: Path, manifest: dict[str, Any]) -> Path:
    manifest = {
        **manifest,
        "outputs": file_entries(version_dir),
        "directories": directory_entries(version_dir),
    }
    return write_text_atomic(version_dir / MANIFEST, seal(manifest))

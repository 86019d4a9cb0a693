"""The publish stage of ``pack build``: an assembled staging dir -> a published version.

The staging dir is opened to the umask's permissions and renamed into place in one step
(readers never see half a version); ``latest`` moves only when every notebook succeeded;
``reports/index.html`` is regenerated. A failed build is still published (status
``failed``) so people can read the error where it happened; it never becomes ``latest``
and never serves as ``previous_dir``.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from workbench.packs._faults import kill_point
from workbench.packs.assemble import Assembly
from workbench.packs.execute import NotebookRun
from workbench.packs.index import LATEST, current_umask, publish_text, write_site_index
from workbench.packs.lock import locked
from workbench.packs.plan import STAGING_PREFIX, BuildPlan


@dataclass(frozen=True)
class BuildResult:
    pack: str
    version: str
    version_dir: Path
    status: str  # ok | failed
    verdict: str  # go | hold | no-go
    runs: tuple[NotebookRun, ...]
    duration_s: float
    withheld: tuple[str, ...] = ()  # files removed because a secret could not be scrubbed

    @property
    def index_html(self) -> Path:
        return self.version_dir / "index.html"

    @property
    def failed(self) -> list[NotebookRun]:
        return [r for r in self.runs if r.status != "ok"]


def publish(plan: BuildPlan, assembly: Assembly) -> Path:
    """Rename the staging dir into place; the published version's folder."""
    make_readable(plan.staging)
    final = plan.pack_dir / plan.version
    os.rename(plan.staging, final)
    kill_point("published")
    return final


def announce(plan: BuildPlan, assembly: Assembly, final: Path,
             say: Callable[[str], None]) -> BuildResult:
    """Move ``latest`` (only after a successful build) and regenerate the site index."""
    for warning in assembly.warnings:
        say(f"warning: {warning}")
    if assembly.status == "ok":
        publish_text(plan.pack_dir / LATEST, plan.version + "\n")
        kill_point("latest")
    with locked(plan.out_dir / ".index.lock"):
        if write_site_index(plan.out_dir) is None:
            say(f"left {plan.out_dir / 'index.html'} alone: workbench did not write it")
    kill_point("site-index")
    return BuildResult(plan.pack, plan.version, final, assembly.status, assembly.verdict,
                       assembly.runs, assembly.duration_s, assembly.withheld)


def make_readable(root: Path) -> None:
    """Atomic writes create 0600 temp files and staging is 0700; published pages and folders
    follow the umask like any file."""
    mask = current_umask()
    for p in root.rglob("*"):
        if p.is_file() and not p.is_symlink():
            p.chmod(0o666 & ~mask)
        elif p.is_dir() and not p.is_symlink():
            p.chmod(0o777 & ~mask)
    root.chmod(0o777 & ~mask)


_LEFTOVER = re.compile(
    rf"^(?:{re.escape(STAGING_PREFIX)}|\.trash-)\d{{8}}T\d{{6}}Z-[0-9a-f]{{8}}(?:-\d+)?$"
)


def remove_stale_staging(pack_dir: Path) -> list[Path]:
    """Staging dirs left by a killed build, trash left by a killed prune (the caller holds
    the pack's lock, so none is in use). Only names this module makes, ``.staging-`` or
    ``.trash-`` followed by a version name, and only real folders (never a symlink's
    target), are removed."""
    removed = []
    for d in pack_dir.iterdir() if pack_dir.is_dir() else []:
        if _LEFTOVER.match(d.name) and d.is_dir() and not d.is_symlink():
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d)
    return removed

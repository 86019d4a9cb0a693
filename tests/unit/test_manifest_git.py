"""The manifest records the commit of the code that ran, even when the spec is not in git."""

from __future__ import annotations

import subprocess
from pathlib import Path

from workbench.packs.manifest import git_state, pack_git_state

ROOT = Path(__file__).resolve().parents[2]


def _repo(path: Path) -> str:
    path.mkdir()
    run = {"cwd": path, "check": True, "capture_output": True}
    subprocess.run(["git", "init", "-q"], **run)
    (path / "a.txt").write_text(f"{path.name}\n")  # distinct repositories, distinct commits
    subprocess.run(["git", "add", "a.txt"], **run)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit",
                    "-qm", "a"], **run)
    return subprocess.run(["git", "rev-parse", "HEAD"], text=True, **run).stdout.strip()


def test_spec_outside_git_records_the_notebooks_commit(tmp_path):
    code = _repo(tmp_path / "code")
    (tmp_path / "mine").mkdir()
    state = pack_git_state(tmp_path / "mine", [tmp_path / "code"])
    assert state["commit"] == code and state["source"] == "notebooks"
    assert state["dirty"] is False and state["path"] == str(tmp_path / "code")


def test_spec_in_another_repository_records_both(tmp_path):
    code = _repo(tmp_path / "code")
    spec = _repo(tmp_path / "spec")
    state = pack_git_state(tmp_path / "spec", [tmp_path / "code"])
    assert state["commit"] == spec and state["notebooks"]["commit"] == code


def test_same_repository_is_recorded_once():
    state = pack_git_state(ROOT / "notebooks" / "packs", [ROOT / "notebooks"])
    assert state == git_state(ROOT / "notebooks" / "packs")


def test_nothing_in_git_stays_null(tmp_path):
    assert pack_git_state(tmp_path, [tmp_path]) == {"commit": None, "dirty": None}

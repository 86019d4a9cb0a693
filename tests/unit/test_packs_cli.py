"""`workbench pack build` exit codes for a scheduler (build itself stubbed: no kernels)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from workbench.cli import cli
from workbench.packs import build as build_module
from workbench.packs.execute import NotebookRun
from workbench.packs.publish import BuildResult


def _result(tmp_path: Path, verdict: str, failed: bool = False) -> BuildResult:
    run = NotebookRun("a", "a.ipynb", "0" * 64, {}, status="failed" if failed else "ok")
    return BuildResult(
        "p", "v1", tmp_path / "p" / "v1", "failed" if failed else "ok", verdict, (run,), 1.0
    )


@pytest.mark.parametrize(
    ("verdict", "failed", "flag", "code"),
    [
        ("no-go", False, False, 0),
        ("no-go", False, True, 1),
        ("hold", False, True, 0),
        ("go", True, True, 3),
        ("no-go", True, True, 3),
    ],
)
def test_build_exit_codes(tmp_path, monkeypatch, verdict, failed, flag, code):
    monkeypatch.setattr(build_module, "build", lambda *a, **k: _result(tmp_path, verdict, failed))
    args = ["pack", "build", "spec.yml", "--out", str(tmp_path)] + (
        ["--fail-on-gate"] if flag else []
    )
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == code, result.output
    assert result.stdout.strip().splitlines()[-1] == str(tmp_path / "p" / "v1" / "index.html")


def test_list_with_no_packs(tmp_path):
    result = CliRunner().invoke(cli, ["pack", "list", "--out", str(tmp_path)])
    assert result.exit_code == 0 and "no packs" in result.output

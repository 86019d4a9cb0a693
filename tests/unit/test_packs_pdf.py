"""`workbench pack pdf`: unusable input exits 2, a missing tool exits 4, nothing overwritten.

The PDF itself (every page, front page first, read back) is checked in
tests/browser/test_any_data.py, which has a pack and Chromium at hand.
"""

from __future__ import annotations

import json
import sys

from click.testing import CliRunner

from workbench.cli import cli


def _version(tmp_path):
    d = tmp_path / "pack" / "20261201T000000Z-abc"
    d.mkdir(parents=True)
    (d / "manifest.json").write_text(json.dumps({"title": "T", "version": d.name,
                                                 "notebooks": [{"name": "nb"}]}))
    (d / "index.html").write_text("<p>front</p>")
    (d / "nb.html").write_text("<p>nb</p>")
    return d


def _run(*args):
    return CliRunner().invoke(cli, ["pack", "pdf", *map(str, args)])


def test_not_a_version_directory_exits_2_naming_it(tmp_path):
    r = _run(tmp_path)
    assert r.exit_code == 2
    assert r.stderr.strip() == (f"workbench: error: {tmp_path}: expected a pack version "
                                "directory (with manifest.json)")


def test_a_missing_page_exits_2(tmp_path):
    d = _version(tmp_path)
    (d / "nb.html").unlink()
    r = _run(d, "--out", tmp_path / "x.pdf")
    assert r.exit_code == 2 and "missing nb.html" in r.stderr


def test_an_existing_file_is_never_overwritten(tmp_path):
    d = _version(tmp_path)
    out = tmp_path / "keep.pdf"
    out.write_bytes(b"mine")
    r = _run(d, "--out", out)
    assert r.exit_code == 2 and "already exists" in r.stderr
    assert out.read_bytes() == b"mine"


def test_without_the_pdf_extra_one_line_and_exit_4(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pypdf", None)  # as if not installed
    r = _run(_version(tmp_path), "--out", tmp_path / "x.pdf")
    assert r.exit_code == 4
    assert r.stderr.startswith("workbench: error: workbench pack pdf needs the pdf extra: "
                               "pip install 'workbench[pdf]'")
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.pdf").exists()


def test_without_a_browser_one_line_and_exit_4(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path / "no-browsers"))
    r = _run(_version(tmp_path), "--out", tmp_path / "x.pdf")
    assert r.exit_code == 4, r.output
    assert "Chromium not found or not starting" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.glob("*.pdf")) and not list(tmp_path.glob(".x.pdf*"))

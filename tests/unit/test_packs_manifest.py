"""Manifest sealing and `pack verify`: any changed, missing or extra file is named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from workbench.cli import cli
from workbench.errors import CheckFailed
from workbench.packs.manifest import git_state, write_manifest
from workbench.packs.verify import verify


@pytest.fixture
def version(tmp_path: Path) -> Path:
    d = tmp_path / "20261127T000000Z-00000000"
    d.mkdir()
    (d / "index.html").write_text("<p>front page</p>\n")
    (d / "a.html").write_text("<p>a</p>\n")
    (d / "a.results.json").write_text('{"metrics": {}}\n')
    write_manifest(d, {"pack": "p", "version": d.name, "status": "ok"})
    return d


def test_manifest_lists_every_output_with_size_and_hash(version):
    m = json.loads((version / "manifest.json").read_text())
    assert [o["path"] for o in m["outputs"]] == ["a.html", "a.results.json", "index.html"]
    assert m["outputs"][0]["size"] == len("<p>a</p>\n")
    assert len(m["outputs"][0]["sha256"]) == 64
    assert verify(version)["pack"] == "p"


def test_flipped_byte_names_the_file(version):
    data = bytearray((version / "a.html").read_bytes())
    data[3] ^= 0x01
    (version / "a.html").write_bytes(bytes(data))
    with pytest.raises(CheckFailed, match=r"a\.html: modified"):
        verify(version)


def test_flipped_byte_in_manifest_is_detected(version):
    path = version / "manifest.json"
    text = path.read_text()
    # change one hex digit of a hash: still valid JSON, different content
    i = text.index('"sha256": "') + len('"sha256": "')
    path.write_text(text[:i] + ("0" if text[i] != "0" else "1") + text[i + 1 :])
    with pytest.raises(CheckFailed, match=r"manifest\.json: modified"):
        verify(version)


def test_whitespace_edit_of_manifest_is_detected(version):
    path = version / "manifest.json"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r", 1))
    with pytest.raises(CheckFailed, match=r"manifest\.json"):
        verify(version)


def test_missing_and_extra_files(version, tmp_path):
    (version / "a.html").unlink()
    with pytest.raises(CheckFailed, match=r"a\.html: missing"):
        verify(version)


def test_extra_file(version):
    (version / "notes.txt").write_text("added later")
    with pytest.raises(CheckFailed, match=r"notes\.txt: extra file"):
        verify(version)


def test_cli_verify_exit_codes(version):
    runner = CliRunner()
    ok = runner.invoke(cli, ["pack", "verify", str(version)])
    assert ok.exit_code == 0 and "ok" in ok.output
    (version / "index.html").write_text("<p>tampered</p>\n")
    bad = runner.invoke(cli, ["pack", "verify", str(version)])
    assert bad.exit_code == 1
    assert "index.html: modified" in bad.output
    missing = runner.invoke(cli, ["pack", "verify", str(version / "nope")])
    assert missing.exit_code == 2


def test_git_state_outside_a_repository(tmp_path):
    assert git_state(tmp_path) == {"commit": None, "dirty": None}

"""Part 7: `workbench pack prune --keep N` never removes the latest nor a held version."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from workbench.cli import cli
from workbench.packs.verify import verify

FIXTURES = Path(__file__).resolve().parent / "fixtures"
OLDER = ("20260101T000000Z-aaaaaaaa", "20260201T000000Z-bbbbbbbb", "20260301T000000Z-cccccccc")


@pytest.fixture()
def reports(tmp_path):
    """One real build plus three older copies of it (each a complete, verifiable version)."""
    spec = tmp_path / "tiny.yml"
    spec.write_text(f"name: tiny\ntitle: Tiny\nnotebooks:\n  - name: a\n"
                    f"    path: {FIXTURES / 'tiny.ipynb'}\n")
    out = tmp_path / "reports"
    r = CliRunner().invoke(cli, ["pack", "build", str(spec), "--out", str(out)])
    assert r.exit_code == 0, r.output
    pack = out / "tiny"
    newest = Path(r.stdout.strip().splitlines()[-1]).parent
    for name in OLDER:
        shutil.copytree(newest, pack / name)
    return out, pack, newest.name


def _versions(pack: Path) -> set[str]:
    return {d.name for d in pack.iterdir() if d.is_dir() and not d.name.startswith(".")}


def test_prune_keeps_held_and_latest_and_removes_the_rest(reports):
    out, pack, newest = reports
    runner = CliRunner()
    (pack / "latest").write_text(OLDER[1] + "\n")  # e.g. the newest build failed
    hold = ["pack", "hold", str(pack / OLDER[0]), "--reason", "Q3 audit <model risk>"]
    r = runner.invoke(cli, hold)
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["pack", "list", "--out", str(out)])
    assert "(held: Q3 audit <model risk>)" in r.stdout

    r = runner.invoke(cli, ["pack", "prune", "--keep", "1", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert _versions(pack) == {newest, OLDER[0], OLDER[1]}  # newest, held, latest
    assert "removed 1 version" in r.stdout and OLDER[2] in r.stdout
    for v in _versions(pack):
        verify(pack / v)  # nothing half-deleted
    index = (out / "index.html").read_text()
    assert OLDER[2] not in index and OLDER[0] in index

    r = runner.invoke(cli, ["pack", "release", str(pack / OLDER[0])])
    assert r.exit_code == 0 and "released" in r.stdout
    (pack / "latest").write_text(newest + "\n")
    r = runner.invoke(cli, ["pack", "prune", "--keep", "1", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert _versions(pack) == {newest}  # the latest survives even --keep 1 of one


def test_hold_needs_a_published_version_and_a_reason(reports, tmp_path):
    out, pack, newest = reports
    runner = CliRunner()
    r = runner.invoke(cli, ["pack", "hold", str(tmp_path / "nope"), "--reason", "audit"])
    assert r.exit_code == 2 and "nope" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = runner.invoke(cli, ["pack", "hold", str(pack / newest), "--reason", "  "])
    assert r.exit_code == 2 and "--reason" in r.stderr


def test_an_unreadable_hold_list_stops_prune_instead_of_guessing(reports):
    out, pack, _ = reports
    (pack / "holds.json").write_text("{not json")
    r = CliRunner().invoke(cli, ["pack", "prune", "--keep", "1", "--out", str(out)])
    assert r.exit_code == 2 and "holds.json" in r.stderr
    assert set(OLDER) <= _versions(pack)

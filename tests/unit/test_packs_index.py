"""reports/index.html and the pack front page: escaped, and `latest` read safely."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from workbench.cli import cli
from workbench.findings import Findings
from workbench.packs.index import front_page, read_latest, write_site_index
from workbench.packs.manifest import write_manifest

EVIL = '<script>alert("x")</script>'


def _publish(out: Path, pack: str, version: str, status: str = "ok", title: str = "T") -> Path:
    d = out / pack / version
    d.mkdir(parents=True)
    (d / "index.html").write_text("x")
    write_manifest(
        d,
        {
            "pack": pack,
            "title": title,
            "version": version,
            "status": status,
            "verdict": "go",
            "started_at": "2026-11-27T00:00:00Z",
            "gates": [],
        },
    )
    return d


def test_site_index_escapes_titles_and_marks_latest(tmp_path):
    _publish(tmp_path, "p", "20261127T000000Z-aaaaaaaa", title=EVIL)
    _publish(tmp_path, "p", "20261127T010000Z-bbbbbbbb", status="failed", title=EVIL)
    (tmp_path / "p" / "latest").write_text("20261127T000000Z-aaaaaaaa\n")
    html = write_site_index(tmp_path).read_text()
    assert EVIL not in html
    assert "&lt;script&gt;" in html
    assert "<script" not in html
    assert (
        'href="p/20261127T000000Z-aaaaaaaa/index.html">20261127T000000Z-aaaaaaaa</a> (latest)'
        in html
    )
    assert "failed" in html
    assert "Content-Security-Policy" in html


def test_read_latest_ignores_a_missing_version(tmp_path):
    (tmp_path / "latest").write_text("20990101T000000Z-deadbeef\n")
    assert read_latest(tmp_path) is None


def test_front_page_escapes_spec_and_results_text():
    manifest = {
        "pack": "p",
        "title": EVIL,
        "version": "v",
        "status": "failed",
        "verdict": "hold",
        "started_at": "s",
        "finished_at": "f",
        "duration_s": 1.0,
        "spec": {"path": "x.yml", "sha256": "0" * 64},
        "inputs": [],
        "git": {"commit": None},
        "environment": {"python": "3.11"},
        "gates": [
            {
                "id": "g",
                "title": EVIL,
                "notebook": "a",
                "metric": "m",
                "op": "<",
                "value": 1,
                "observed": None,
                "status": "unknown",
                "outcome": "hold",
                "reason": EVIL,
            }
        ],
        "notebooks": [
            {"name": "a", "status": "ok", "duration_s": 1.0, "results": True, "error": None},
            {
                "name": "b",
                "status": "failed",
                "duration_s": 1.0,
                "results": False,
                "error": {"ename": "ValueError", "evalue": EVIL},
            },
        ],
    }
    html = front_page(manifest, {"a": Findings("a", "warn", EVIL)})
    assert EVIL not in html and "<script" not in html
    assert "Build failed" in html and "b did not finish" in html


def test_prune_keeps_latest_and_newest(tmp_path):
    names = [f"20261127T0{i}0000Z-0000000{i}" for i in range(4)]
    for n in names:
        _publish(tmp_path, "p", n)
    (tmp_path / "p" / "latest").write_text(names[0] + "\n")
    result = CliRunner().invoke(cli, ["pack", "prune", "--keep", "2", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    left = sorted(d.name for d in (tmp_path / "p").iterdir() if d.is_dir())
    assert left == [names[0], names[2], names[3]]
    listed = CliRunner().invoke(cli, ["pack", "list", "--out", str(tmp_path)])
    assert (
        names[0] in listed.output and "(latest)" in listed.output and names[1] not in listed.output
    )


def _version(pack_dir: Path, version: str, drifted: float, **cache) -> dict:
    d = pack_dir / version
    d.mkdir(parents=True)
    Findings("drift", "warn", "h", {"drifted_share": drifted}).write(d)
    m = {"pack": "p", "title": "T", "version": version, "status": "ok", "verdict": "go",
         "started_at": "s", "finished_at": "f", "duration_s": 1.0,
         "spec": {"path": "x.yml", "sha256": "0" * 64}, "inputs": [], "git": {"commit": None},
         "environment": {"python": "3.11"}, "gates": [], "notebooks": [
             {"name": "drift", "status": "ok", "duration_s": 1.0, "results": True}],
         "previous_version": cache.pop("previous", None)}
    if cache:
        m["cache"] = cache
    return m


def test_a_restated_version_adds_no_trend_point_and_reuses_the_previous_chart(
        tmp_path, monkeypatch):
    import re

    from workbench.packs import index

    pack = tmp_path / "p"
    m1 = _version(pack, "20261127T000000Z-aaaaaaaa", 0.1)
    write_manifest(pack / m1["version"], m1)
    m2 = _version(pack, "20261128T000000Z-bbbbbbbb", 0.3, previous=m1["version"])
    page2 = front_page(m2, {"drift": Findings("drift", "warn", "h", {"drifted_share": 0.3})},
                       pack_dir=pack)
    chart2 = re.search(r'<img data-chart-key="([0-9a-f]{64})" src="([^"]+)"', page2)
    assert chart2 is not None
    (pack / m2["version"] / "index.html").write_text(page2)
    write_manifest(pack / m2["version"], m2)

    def redrawn(rows):
        raise AssertionError("the chart was drawn again")

    monkeypatch.setattr(index, "history_svg_data_uri", redrawn)
    m3 = _version(pack, "20261129T000000Z-cccccccc", 0.3, previous=m2["version"],
                  nothing_changed=True, same_as=m2["version"], previous_version=m2["version"])
    page3 = front_page(m3, {"drift": Findings("drift", "warn", "h", {"drifted_share": 0.3})},
                       pack_dir=pack)
    assert chart2[2] in page3  # the same SVG, not drawn again
    assert f"it restates {m2['version']}" in page3
    assert "20261129T000000Z-cccccccc (this)" not in page3.replace("<wbr>", "")
    # a previous chart drawn from other data (another key) is never borrowed
    (pack / m2["version"] / "index.html").write_text(page2.replace(chart2[1], "0" * 64))
    with pytest.raises(AssertionError, match="drawn again"):
        front_page(m3, {"drift": Findings("drift", "warn", "h", {"drifted_share": 0.3})},
                   pack_dir=pack)

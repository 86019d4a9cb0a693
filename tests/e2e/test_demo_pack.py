"""End to end: the demo pack as `make demo` builds it, checked as a PM and an auditor would."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from click.testing import CliRunner

from workbench.cli import cli

DEMO_NOTEBOOKS = (
    "contract_checks", "drift", "cost_to_value", "incident_postmortem", "model_performance",
    "release_readiness",
    "review_summary",
)

pytestmark = pytest.mark.slow

MAX_PAGE = 2_000_000
REMOTE = re.compile(
    r"""<(?:script|link|img|iframe|source|embed|object|image|use)\b[^>]*?"""
    r"""(?:src|href|data|xlink:href)\s*=\s*["']?\s*(?:https?:)?//""",
    re.IGNORECASE,
)


def test_version_holds_pages_notebooks_results_and_manifest(demo_pack):
    names = {p.name for p in demo_pack.version_dir.iterdir()}
    expected = {"index.html", "manifest.json"}
    for nb in DEMO_NOTEBOOKS:
        expected |= {f"{nb}.html", f"{nb}.ipynb", f"{nb}.results.json"}
    expected.add("contract_checks.contract.yaml")  # the contract the next pack diffs against
    assert names == expected
    assert (demo_pack.pack_dir / "latest").read_text().strip() == demo_pack.version_dir.name
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{8}", demo_pack.version_dir.name)
    progress = [line for line in demo_pack.stderr.splitlines() if line.startswith("[")]
    assert len(progress) == len(DEMO_NOTEBOOKS)


def test_results_follow_the_shared_contract(demo_pack):
    for nb in DEMO_NOTEBOOKS:
        res = json.loads((demo_pack.version_dir / f"{nb}.results.json").read_text())
        assert res["notebook"] == nb
        assert res["status"] in {"ok", "pass", "warn", "fail"}
        assert isinstance(res["headline"], str) and res["headline"]
        assert all(isinstance(v, int | float | bool) or v is None for v in res["metrics"].values())


def test_manifest_and_front_page_agree_on_the_verdict(demo_pack):
    m = json.loads((demo_pack.version_dir / "manifest.json").read_text())
    summary = json.loads((demo_pack.version_dir / "review_summary.results.json").read_text())
    assert m["status"] == "ok"
    assert m["verdict"] == summary["verdict"]
    assert [g["id"] for g in m["gates"]] == [g["id"] for g in summary["gates"]]
    assert all(g["status"] != "unknown" for g in m["gates"]), (
        "a gate names a metric no notebook writes"
    )
    front = demo_pack.index.read_text()
    assert {"go": "GO", "hold": "HOLD", "no-go": "NO-GO"}[m["verdict"]] in front
    site = (demo_pack.out / "index.html").read_text()
    assert f"demo/{demo_pack.version_dir.name}/index.html" in site


def test_verify_passes_then_names_a_flipped_byte(demo_pack, tmp_path):
    runner = CliRunner()
    ok = runner.invoke(cli, ["pack", "verify", str(demo_pack.version_dir)])
    assert ok.exit_code == 0, ok.output
    for name in ("drift.html", "contract_checks.results.json", "manifest.json"):
        copy = tmp_path / name
        shutil.copytree(demo_pack.version_dir, copy)
        data = bytearray((copy / name).read_bytes())
        data[len(data) // 2] ^= 0x20
        (copy / name).write_bytes(bytes(data))
        bad = runner.invoke(cli, ["pack", "verify", str(copy)])
        assert bad.exit_code == 1, bad.output
        assert name in bad.output


def test_pages_are_small_offline_and_show_no_code(demo_pack):
    pages = sorted(demo_pack.out.rglob("*.html"))
    assert len(pages) == len(DEMO_NOTEBOOKS) + 2
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert page.stat().st_size <= MAX_PAGE, f"{page.name}: {page.stat().st_size} bytes"
        assert not REMOTE.search(html), f"{page.name} loads something over the network"
        assert not re.search(r"@import|url\(\s*['\"]?https?:", html), page.name
        assert "<script" not in html.lower(), page.name
        assert "Content-Security-Policy" in html, page.name
    for nb in DEMO_NOTEBOOKS:
        html = (demo_pack.version_dir / f"{nb}.html").read_text(encoding="utf-8")
        assert "render.setup()" not in html and "results_dir =" not in html, f"{nb}: input shown"

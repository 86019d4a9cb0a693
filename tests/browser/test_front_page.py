"""The demo pack's front page on a 1366x768 laptop screen, in headless Chromium, offline.

The verdict banner, the page links and the whole gates table must be inside the first
screen (no scrolling), the table must say what manifest.json says, and the text must be
a readable size. A screenshot is saved to ``$WORKBENCH_ARTIFACTS`` (a CI artifact
directory) or the test's tmp dir, and its path printed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDTH, HEIGHT = 1366, 768
OUTCOME_TEXT = {"go": "GO", "hold": "HOLD", "no-go": "NO-GO"}



@pytest.fixture(scope="module")
def page(browser, demo_pack):
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    blocked: list[str] = []

    def route(r):
        if r.request.url.startswith(("file://", "data:")):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    pg = context.new_page()
    pg.goto(demo_pack.index.as_uri(), wait_until="load")
    pg.blocked = blocked
    yield pg
    context.close()


def _inside_viewport(pg, selector: str) -> dict:
    box = pg.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not rendered"
    assert box["x"] >= 0 and box["y"] >= 0, (selector, box)
    assert box["x"] + box["width"] <= WIDTH, f"{selector} runs off the right edge: {box}"
    assert box["y"] + box["height"] <= HEIGHT, f"{selector} is below the fold: {box}"
    return box


def test_verdict_and_gates_fit_the_first_screen(page, demo_pack, tmp_path):
    shots = Path(os.environ.get("WORKBENCH_ARTIFACTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    shot = shots / "front_page_1366x768.png"
    page.screenshot(path=str(shot))
    print(f"screenshot: {shot}")
    assert shot.stat().st_size > 10_000  # a real picture, not a blank page

    assert page.evaluate("window.scrollY") == 0
    verdict = _inside_viewport(page, "#verdict")
    gates = _inside_viewport(page, "#gates")
    _inside_viewport(page, ".wb-pages")
    assert verdict["y"] < gates["y"]
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    assert page.blocked == []


def test_front_page_says_what_the_manifest_says(page, demo_pack):
    m = json.loads((demo_pack.version_dir / "manifest.json").read_text())
    banner = page.locator("#verdict").inner_text()
    assert f"Verdict: {OUTCOME_TEXT[m['verdict']]}" in banner
    if len(m["verdict_reason"]) <= 200:
        assert m["verdict_reason"] in banner
    else:  # a long reason is counted in the banner; the gates table right below names them
        nogo = sum(g["outcome"] == "no-go" for g in m["gates"])
        hold = sum(g["status"] == "failed" and g["outcome"] == "hold" for g in m["gates"])
        assert f"{nogo} no-go gates failed, {hold} hold gates failed" in banner
    rows = page.locator("#gates tbody tr")
    assert rows.count() == len(m["gates"]) > 0
    for i, g in enumerate(m["gates"]):
        cells = rows.nth(i).locator("td").all_inner_texts()
        assert cells[0] == OUTCOME_TEXT[g["outcome"]] and cells[1] == g["title"], cells
    # each notebook's page is one click away, above the fold
    links = page.eval_on_selector_all(".wb-pages a", "as => as.map(a => a.getAttribute('href'))")
    assert links == [f"{nb['name']}.html" for nb in m["notebooks"]]


def test_text_is_readable_at_laptop_size(page):
    sizes = page.eval_on_selector_all(
        "#verdict .wb-verdict, #verdict .wb-reason, #gates td",
        "els => els.map(e => parseFloat(getComputedStyle(e).fontSize))",
    )
    assert sizes and min(sizes) >= 13
    assert sizes[0] >= 20  # the verdict itself stands out


def test_ten_gates_and_a_failed_build_still_fit(browser, tmp_path):
    """Worst case we design for: long description, failed build, 10 failing gates with
    two-line titles and reasons; the banner then counts gates instead of naming them."""
    from types import SimpleNamespace

    from workbench.findings import Findings
    from workbench.packs.gates import evaluate_gates, verdict, verdict_reason
    from workbench.packs.index import front_page

    gates = [
        SimpleNamespace(
            id=f"g{i}",
            title=f"Gate {i}: a fairly long title that PM and MLOps agreed on",
            notebook="drift",
            metric=f"drifted_share.model_{i}",
            op="<=",
            value=0.25,
            severity="no-go" if i % 2 else "hold",
            reason="A reason of realistic length telling a product manager why this gate "
            "matters for the release decision.",
        )
        for i in range(10)
    ]
    results = {
        "drift": Findings.from_dict({
            "notebook": "drift",
            "status": "fail",
            "headline": "h",
            "metrics": {f"drifted_share.model_{i}": 0.5 for i in range(9)},
        }),
        "boom": None,
    }
    found = evaluate_gates(gates, results)
    manifest = {
        "pack": "p", "title": "Credit risk model — weekly review",
        "version": "20261127T000000Z-aaaaaaaa", "status": "failed",
        "verdict": verdict(found, ["boom"]), "verdict_reason": verdict_reason(found, ["boom"]),
        "started_at": "2026-11-27T00:00:00Z", "finished_at": "2026-11-27T00:01:00Z",
        "duration_s": 60.0, "spec": {"path": "x.yml", "sha256": "0" * 64}, "inputs": [],
        "git": {"commit": None}, "environment": {"python": "3.11"},
        "gates": [g.to_dict() for g in found], "previous_version": None,
        "notebooks": [
            {"name": "drift", "status": "ok", "duration_s": 1.0, "results": True, "error": None},
            {"name": "boom", "status": "failed", "duration_s": 1.0, "results": False,
             "error": {"ename": "ValueError", "evalue": "boom"}},
        ],
    }  # fmt: skip
    description = "Data contract, drift, cost-to-value and the latest incident for the model. " * 3
    path = tmp_path / "index.html"
    path.write_text(front_page(manifest, results, description))
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    pg = context.new_page()
    pg.goto(path.as_uri(), wait_until="load")
    pg.screenshot(path=str(tmp_path / "worst_case_1366x768.png"))
    banner = pg.locator("#verdict").inner_text()
    assert "4 no-go gates failed, 5 hold gates failed, 1 not evaluated (holds)" in banner
    assert "Build failed" in banner
    _inside_viewport(pg, "#verdict")
    _inside_viewport(pg, "#gates")
    context.close()

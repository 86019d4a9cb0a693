"""The demo pack in headless Chromium with the network cut off.

Every request that is not file:// (or data:) is aborted and recorded. Each page must
load with zero blocked requests and zero console errors (a CSP violation is one), and
every chart must be drawn: an inline <svg> with marks and a visible size. This test
never skips: without Playwright or Chromium it errors (`make browser` installs Chromium).
"""

from __future__ import annotations

import pytest
from _chromium import open_offline

DEMO_NOTEBOOKS = (
    "contract_checks", "drift", "cost_to_value", "incident_postmortem", "model_performance",
    "review_summary",
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHARTS_JS = """() => Array.from(document.querySelectorAll('figure.wb-chart svg')).map(svg => {
  const box = svg.getBoundingClientRect();
  return {marks: svg.querySelectorAll('path, rect, circle, line, text, polygon, polyline').length,
          width: box.width, height: box.height};
})"""


def test_index_pages_load_offline_and_fit_the_screen(browser, demo_pack):
    for path in (demo_pack.out / "index.html", demo_pack.index):
        page, blocked, errors = open_offline(browser, path)
        assert blocked == [], f"{path.name}: {blocked}"
        assert errors == [], f"{path.name}: {errors}"
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways at 1366x768"
        page.context.close()
    page, _, _ = open_offline(browser, demo_pack.index)
    links = page.eval_on_selector_all(
        "main a[href$='.html']", "as => as.map(a => a.getAttribute('href'))"
    )
    assert {f"{nb}.html" for nb in DEMO_NOTEBOOKS} <= set(links)
    page.context.close()


def test_every_notebook_page_draws_its_charts_offline(browser, demo_pack):
    charts_total = 0
    for nb in DEMO_NOTEBOOKS:
        path = demo_pack.version_dir / f"{nb}.html"
        page, blocked, errors = open_offline(browser, path)
        assert blocked == [], f"{nb}: blocked {blocked}"
        assert errors == [], f"{nb}: console errors {errors}"
        charts = page.evaluate(CHARTS_JS)
        for i, chart in enumerate(charts):
            assert chart["marks"] > 0, f"{nb}: chart {i} has no marks"
            assert chart["width"] > 0 and chart["height"] > 0, f"{nb}: chart {i} not visible"
        charts_total += len(charts)
        page.context.close()
    assert charts_total > 0

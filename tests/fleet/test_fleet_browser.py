"""The fleet index in headless Chromium with the network cut off: no request leaves the
machine, no console error (a CSP violation is one), readable at 1366x768 (no sideways
scrolling), and every link between the fleet's pages resolves."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from _chromium import open_offline

from workbench.fleet.index import write_fleet_index
from workbench.sample.fleet import synthetic_records

pytestmark = [pytest.mark.browser]




def test_fleet_index_offline_and_readable(browser, tmp_path):
    fleet = SimpleNamespace(name="f", title="Model fleet — weekly review",
                            description="Every model's latest review pack.")
    recs = synthetic_records(1200)
    recs[0]["owner"] = "<img src=https://example.com/x.png>"
    index = write_fleet_index(fleet, tmp_path, recs)
    for path in [index, *sorted(tmp_path.glob("*-1.html"))]:
        page, blocked, errors = open_offline(browser, path)
        assert blocked == [], f"{path.name}: {blocked}"
        assert errors == [], f"{path.name}: {errors}"
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path.name} scrolls sideways at 1366x768"
        assert page.evaluate("document.scripts.length") == 0
        hrefs = page.eval_on_selector_all(
            "a[href]", "as => as.map(a => a.getAttribute('href'))")
        for href in hrefs:
            if not href.startswith("../"):  # links to the packs point outside this test
                assert (tmp_path / href).is_file(), href
        page.context.close()
    page, _, _ = open_offline(browser, index)
    text = page.inner_text("main")
    assert "NO-GO" in text and "Gates that failed" in text
    page.context.close()

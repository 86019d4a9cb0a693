"""Part 1: hostile strings render as text on every page of a pack, in headless Chromium.

The session's hostile pack carries the payload corpus in column names, category values,
contract descriptions, incident text, cost model names, a file name, the spec's title,
description and gates, and a notebook parameter (see conftest). Every page is loaded
twice: once with the page's Content-Security-Policy BYPASSED, so escaping alone must keep
the payloads inert, and once normally. A separate test proves the CSP itself blocks a
script injected into a published page.
"""

from __future__ import annotations

import shutil
from html.parser import HTMLParser

import pytest
from hostile_inputs import HOSTILE_COLUMN, HOSTILE_MODEL, PAYLOADS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

INJECTED_JS = """() => ({
  pwned: typeof window.__pwned !== 'undefined',
  marked: document.querySelectorAll('#wbpwn, [id=wbpwn]').length,
  scripts: document.querySelectorAll('script').length,
  handlers: Array.from(document.querySelectorAll('*')).filter(
      el => Array.from(el.attributes).some(a => a.name.toLowerCase().startsWith('on'))).length,
  jsLinks: Array.from(document.querySelectorAll('[href], [src], [xlink\\\\:href]')).filter(
      el => /^\\s*javascript:/i.test(el.getAttribute('href') || el.getAttribute('src') ||
                                    el.getAttribute('xlink:href') || '')).length,
  text: document.body ? document.body.innerText : '',
  svgText: Array.from(document.querySelectorAll('svg text, svg title'))
      .map(t => t.textContent).concat(Array.from(document.querySelectorAll('svg [aria-label]'))
      .map(el => el.getAttribute('aria-label'))).join('\\n'),
})"""


class _LiveMarkup(HTMLParser):
    """Real tags (not escaped text) that could run code: script, on* handlers, javascript:."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hits: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.hits.append("<script>")
        for name, value in attrs:
            if name.startswith("on"):
                self.hits.append(f"<{tag} {name}=...>")
            elif name in {"href", "src", "xlink:href", "action", "formaction"} and (
                (value or "").strip().lower().startswith("javascript:")
            ):
                self.hits.append(f"<{tag} {name}={value[:40]!r}>")


class _Metas(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[dict[str, str]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "meta":
            self.found.append({k: v or "" for k, v in attrs})



def _pages(pack):
    return [pack.out / "index.html", *sorted(pack.version_dir.glob("*.html"))]


def _load(browser, path, bypass_csp):
    context = browser.new_context(bypass_csp=bypass_csp)
    dialogs, requests = [], []
    context.route(
        "**/*",
        lambda r: (r.continue_() if r.request.url.startswith(("file://", "data:"))
                   else (requests.append(r.request.url), r.abort())),
    )
    page = context.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_timeout(150)  # let failed image loads fire their error events
    state = page.evaluate(INJECTED_JS)
    context.close()
    return state, dialogs, requests


@pytest.mark.parametrize("bypass_csp", [True, False], ids=["escaping-only", "with-csp"])
def test_no_payload_runs_or_becomes_an_element(browser, hostile_pack, bypass_csp):
    pages = _pages(hostile_pack)
    assert len(pages) >= 9  # site index, front page, 7 notebook pages
    for path in pages:
        state, dialogs, requests = _load(browser, path, bypass_csp)
        where = path.relative_to(hostile_pack.out)
        assert dialogs == [], f"{where}: a dialog opened: {dialogs}"
        assert not state["pwned"], f"{where}: a payload ran"
        assert state["marked"] == 0, f"{where}: a payload element was created"
        assert state["scripts"] == 0, f"{where}: <script> elements in the page"
        assert state["handlers"] == 0, f"{where}: elements with on* handlers"
        assert state["jsLinks"] == 0, f"{where}: javascript: links"
        assert requests == [], f"{where}: network requests {requests}"


def test_payloads_are_shown_as_text_where_they_came_in(browser, hostile_pack):
    """Escaped, not dropped: the reader sees the hostile text itself."""
    expect = {
        "index.html": [PAYLOADS[0]],  # spec title on the site index
        "hostile/*/index.html": [PAYLOADS[0], PAYLOADS[1]],  # title, gate title
        "drift.html": [HOSTILE_COLUMN],  # a column name in tables and chart labels
        "cost_to_value.html": [HOSTILE_MODEL],  # a category value (model)
        "incident_postmortem.html": [PAYLOADS[0]],  # incident title
        "leaky.html": [PAYLOADS[1], PAYLOADS[4]],  # a parameter, in callout/table/markdown
    }
    for pattern, needles in expect.items():
        path = (next(hostile_pack.out.glob(pattern)) if "/" in pattern or pattern == "index.html"
                else hostile_pack.version_dir / pattern)
        state, _, _ = _load(browser, path, bypass_csp=True)
        text = state["text"] + "\n" + state["svgText"]
        for needle in needles:
            assert needle in text, f"{pattern}: {needle!r} not shown as text"
    state, _, _ = _load(browser, hostile_pack.version_dir / "drift.html", bypass_csp=True)
    # in a chart: as a label or in the marks' descriptions (aria-label, what a tooltip says)
    # (long labels are shortened in charts, so look for its start)
    assert HOSTILE_COLUMN[:20] in state["svgText"], "the hostile column name is not in a chart"


def test_html_files_hold_no_live_markup_from_data(hostile_pack):
    for path in _pages(hostile_pack):
        parser = _LiveMarkup()
        parser.feed(path.read_text(encoding="utf-8"))
        assert parser.hits == [], f"{path.name}: live markup {parser.hits[:5]}"


def test_csp_forbids_any_script_the_pack_did_not_put_there(browser, hostile_pack, tmp_path):
    for path in _pages(hostile_pack):
        metas = _Metas()
        metas.feed(path.read_text(encoding="utf-8"))
        csp = [m.get("content", "") for m in metas.found
               if m.get("http-equiv", "").lower() == "content-security-policy"]
        assert len(csp) == 1, f"{path.name}: no (or several) Content-Security-Policy"
        assert "default-src 'none'" in csp[0] and "script-src" not in csp[0]
    # tamper with a published page: the policy still stops the script and the handler
    page_dir = tmp_path / "copy"
    shutil.copytree(hostile_pack.version_dir, page_dir)
    target = page_dir / "drift.html"
    html = target.read_text(encoding="utf-8")
    target.write_text(
        html.replace("<body>", '<body><script>window.__pwned=1;alert(1)</script>'
                     '<img src=x onerror="window.__pwned=1">', 1),
        encoding="utf-8",
    )
    state, dialogs, _ = _load(browser, target, bypass_csp=False)
    assert not state["pwned"] and dialogs == []
    state, dialogs, _ = _load(browser, target, bypass_csp=True)
    assert state["pwned"], "control: without the CSP the injected script does run"

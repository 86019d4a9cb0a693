"""How the browser tests start Debian's Chromium (Playwright cannot download its own here),
and open a page with the network cut off.

The executable and flags are the ones `workbench pack pdf` uses, so tests and product start
the browser the same way.
"""

from workbench.packs.pdf import CHROMIUM, CHROMIUM_ARGS

ARGS = CHROMIUM_ARGS
__all__ = ["ARGS", "CHROMIUM", "open_offline"]


def open_offline(browser, path, width: int = 1366, height: int = 768):
    """Load ``path`` in a new context where every request that is not file:// (or data:) is
    aborted; return (page, blocked request URLs, console errors). A CSP violation is a
    console error. Close with ``page.context.close()``."""
    context = browser.new_context(viewport={"width": width, "height": height})
    blocked: list[str] = []
    errors: list[str] = []

    def route(r):
        url = r.request.url
        if url.startswith(("file://", "data:")):
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri(), wait_until="load")
    return page, blocked, errors

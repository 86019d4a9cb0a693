"""How the browser tests start Debian's Chromium (Playwright cannot download its own here).

The executable and flags are the ones `workbench pack pdf` uses, so tests and product start
the browser the same way.
"""

from workbench.packs.pdf import CHROMIUM, CHROMIUM_ARGS

ARGS = CHROMIUM_ARGS
__all__ = ["ARGS", "CHROMIUM"]

"""How the browser tests start Debian's Chromium (Playwright cannot download its own here)."""

CHROMIUM = "/usr/bin/chromium"
# headless as root; no background networking, so nothing tries to reach the internet
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

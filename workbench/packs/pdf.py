"""``workbench pack pdf VERSION_DIR``: one PDF of a published pack version, front page first.

PMs forward reviews as PDF. Chromium prints every page of the version (the front page,
then each notebook's page in the spec's order) with the pages' own print stylesheet, and
pypdf joins them into one file with a bookmark per page. Nothing is written into the
version directory: a published version is never modified.

Why Chromium (driven by Playwright) rather than WeasyPrint: measured on the demo pack
(``benchmarks/pdf.py``, figures in its header), both kept every table cell and chart, and
WeasyPrint 70 took 8.5 times as long (210 s against 25 s under the same load). Chromium
is also the engine PMs print from and the browser tests run, so the PDF is what the pages
look like, and it adds no native library to the runtime. The browser is the system's
Chromium (``/usr/bin/chromium``, or ``WORKBENCH_CHROMIUM``), falling back to a browser
Playwright installed itself.

Pages are loaded from disk with every other request aborted, so a PDF is made offline
like the pages render. Pages a notebook added beside its own (the evidently deep dive,
several MB of script) are not printed: they need script, which pack pages never run.
"""

from __future__ import annotations

import html
import io
import json
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import EnvironmentFailure, InputError
from workbench.packs.index import current_umask
from workbench.packs.manifest import MANIFEST

PAPERS = {"a4": "A4", "letter": "Letter"}
CHROMIUM = "/usr/bin/chromium"
# headless as root, no background networking (nothing reaches the internet), no GPU
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
_MARGIN = {"top": "12mm", "bottom": "14mm", "left": "10mm", "right": "10mm"}


@dataclass(frozen=True)
class PdfPage:
    file: Path
    title: str


def pack_pages(version_dir: str | os.PathLike[str]) -> tuple[dict, list[PdfPage]]:
    """The version's manifest and its pages in print order: front page, then notebooks."""
    root = Path(version_dir)
    mpath = root / MANIFEST
    if not root.is_dir() or not mpath.is_file():
        raise InputError(
            f"{root}: expected a pack version directory (with {MANIFEST})", file=str(root)
        )
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
        notebooks = [str(nb["name"]) for nb in manifest["notebooks"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(
            f"{mpath}: notebooks: expected a workbench manifest listing the notebooks",
            file=str(mpath), field="notebooks",
        ) from exc
    pages = [PdfPage(root / "index.html", "Front page")]
    pages += [PdfPage(root / f"{name}.html", name) for name in notebooks]
    missing = [p.file.name for p in pages if not p.file.is_file()]
    if missing:
        raise InputError(
            f"{root}: expected every page of the pack, missing {', '.join(missing)}",
            file=str(root),
        )
    return manifest, pages


def default_output(version_dir: str | os.PathLike[str]) -> Path:
    """``<pack>-<version>.pdf`` in the current directory."""
    root = Path(version_dir).resolve()
    return Path(f"{root.parent.name}-{root.name}.pdf")


def _imports():
    try:
        from playwright.sync_api import Error, sync_playwright
        from pypdf import PdfReader, PdfWriter
    except ImportError as exc:
        raise EnvironmentFailure(
            f"workbench pack pdf needs the pdf extra: pip install 'workbench[pdf]' ({exc})"
        ) from exc
    return sync_playwright, Error, PdfReader, PdfWriter


def _footer(title: str, version: str) -> str:
    # Chromium fills the pageNumber/totalPages spans; everything else is escaped text
    return (
        '<div style="font-size:7pt;color:#57606a;width:100%;padding:0 10mm;'
        'display:flex;justify-content:space-between">'
        f"<span>{html.escape(title)} · {html.escape(version)}</span>"
        '<span><span class="title"></span> · <span class="pageNumber"></span>/'
        '<span class="totalPages"></span></span></div>'
    )


def write_pdf(
    version_dir: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    *,
    paper: str = "a4",
    chromium: str | None = None,
    timeout_s: float = 120.0,
) -> Path:
    """Print every page of ``version_dir`` into one PDF at ``out``; return its path.

    ``out`` must not exist (nothing is overwritten); it is written to a temporary file
    beside it and renamed, so a reader never sees half a PDF.
    """
    manifest, pages = pack_pages(version_dir)
    if paper not in PAPERS:
        raise InputError(f"--paper: expected one of {', '.join(PAPERS)}, got {paper!r}")
    target = Path(out) if out is not None else default_output(version_dir)
    if target.exists():
        raise InputError(
            f"{target}: already exists; choose another --out (nothing is overwritten)",
            file=str(target),
        )
    if not target.parent.is_dir():
        raise InputError(f"{target}: expected an existing directory for the PDF",
                         file=str(target))
    sync_playwright, BrowserError, PdfReader, PdfWriter = _imports()
    title = str(manifest.get("title") or manifest.get("pack") or "Review pack")
    version = str(manifest.get("version") or Path(version_dir).name)
    exe = chromium or os.environ.get("WORKBENCH_CHROMIUM") or CHROMIUM

    footer = _footer(title, version)

    def print_pages() -> list[bytes]:
        with sync_playwright() as p:
            launch: dict[str, Any] = {"args": CHROMIUM_ARGS}
            if Path(exe).is_file():
                launch["executable_path"] = exe
            try:
                browser = p.chromium.launch(**launch)
            except BrowserError as exc:
                raise EnvironmentFailure(
                    f"Chromium not found or not starting ({exe}): install it "
                    "(apt-get install chromium) or set WORKBENCH_CHROMIUM: "
                    + " ".join(str(exc).split())[:200]
                ) from exc
            try:
                context = browser.new_context(java_script_enabled=False)
                context.set_default_timeout(timeout_s * 1000)
                context.route(
                    "**/*",
                    lambda r: r.continue_()
                    if r.request.url.startswith(("file://", "data:"))
                    else r.abort(),
                )
                printed = []
                for page_spec in pages:
                    page = context.new_page()
                    page.goto(page_spec.file.resolve().as_uri(), wait_until="load")
                    printed.append(page.pdf(
                        format=PAPERS[paper],
                        print_background=True,
                        margin=_MARGIN,
                        display_header_footer=True,
                        header_template="<span></span>",
                        footer_template=footer,
                    ))
                    page.close()
                return printed
            finally:
                browser.close()

    # Playwright's sync API refuses to run where an asyncio loop is running (a Jupyter
    # kernel, another Playwright session): its own thread has none.
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            printed = pool.submit(print_pages).result()
    except (BrowserError, OSError) as exc:  # a browser that crashed or timed out
        raise EnvironmentFailure(
            f"{target}: could not print the pack: {' '.join(str(exc).split())[:300]}"
        ) from exc
    writer = PdfWriter()
    for page_spec, data in zip(pages, printed, strict=True):
        start = len(writer.pages)
        for pdf_page in PdfReader(io.BytesIO(data)).pages:
            writer.add_page(pdf_page)
        writer.add_outline_item(title=page_spec.title, page_number=start)
    writer.add_metadata({"/Title": f"{title} · {version}", "/Creator": "workbench pack pdf"})
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            writer.write(fh)
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp made it 0600
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise EnvironmentFailure(f"{target}: could not write the PDF: {exc}") from exc
    return target



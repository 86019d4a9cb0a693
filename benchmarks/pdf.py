"""`workbench pack pdf`: Chromium (Playwright) against WeasyPrint on one pack version.

    python benchmarks/pdf.py VERSION_DIR                      # Chromium, via workbench
    python benchmarks/pdf.py VERSION_DIR --engine weasyprint  # in an env with weasyprint

For each engine: seconds to print every page (front page + notebooks) into one PDF, pages,
size, and completeness: the share of the HTML's table cells (headers and data, first 400
per page) whose text is found in the PDF's text, and how many inline SVG charts were drawn
(at least 80% of their axis and title text found in the PDF's text). Printing is
measured, not asserted (timings are noisy).

Measured 2026-12-02 on the demo pack (6 pages), one after the other in one run, 2 shared
cores with other jobs running (load average 11.7 at the start, 15.4 at the end):
  chromium (A4)       24.8 s, 42 pages, 0.85 MB, table cells found 100.0% of 1559, charts 14/15
  weasyprint 70 (A4) 210.4 s, 42 pages, 0.84 MB, table cells found 100.0% of 1559, charts 15/15
  chromium (Letter)   19.8 s, 45 pages, 0.85 MB, table cells found 100.0% of 1559, charts 14/15
Both engines keep every column and row (the pages' print stylesheet does that). The chart
counted "missing" for Chromium was drawn: the text not found is axis labels Vega hid
(opacity 0, overlapping), which Chromium leaves out of the PDF's text and WeasyPrint
keeps; hidden labels no longer count (Chromium, A4, rerun: 15/15 charts, 13.9 s, load 9).
WeasyPrint took 8.5 times as long.

Chromium is kept: 8.5 times faster here, it is the browser PMs print from and the one the
browser tests drive, so the PDF matches what they see, and it needs nothing beyond
Playwright (already a test tool) and pypdf. WeasyPrint would add Pango, HarfBuzz and
fontconfig as runtime requirements for the same result.
"""

from __future__ import annotations

import argparse
import html
import io
import re
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

_CELL = re.compile(r"<t[hd]\b[^>]*>(.*?)</t[hd]>", re.S)
_TAG = re.compile(r"<[^>]+>")


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"\s+", "", text)


def cells(page: Path, limit: int = 400) -> list[str]:
    raw = page.read_text(encoding="utf-8")
    raw = re.sub(r"<svg\b.*?</svg>", "", raw, flags=re.S)
    found = [_norm(html.unescape(_TAG.sub("", c))) for c in _CELL.findall(raw)]
    return [c for c in found if c][:limit]


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return _norm("".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages))


def pages_of(version_dir: Path) -> list[Path]:
    import json

    manifest = json.loads((version_dir / "manifest.json").read_text(encoding="utf-8"))
    return [version_dir / "index.html"] + [
        version_dir / f"{nb['name']}.html" for nb in manifest["notebooks"]
    ]


def chromium(version_dir: Path, paper: str) -> bytes:
    from workbench.packs.pdf import write_pdf

    with tempfile.TemporaryDirectory() as tmp:
        out = write_pdf(version_dir, Path(tmp) / "pack.pdf", paper=paper)
        return out.read_bytes()


def weasyprint(version_dir: Path, paper: str) -> bytes:
    from pypdf import PdfReader, PdfWriter
    from weasyprint import CSS, HTML

    writer = PdfWriter()
    size = CSS(string=f"@page {{ size: {'A4' if paper == 'a4' else 'Letter'}; }}")
    for page in pages_of(version_dir):
        data = HTML(filename=str(page), base_url=str(version_dir)).write_pdf(stylesheets=[size])
        for p in PdfReader(io.BytesIO(data)).pages:
            writer.add_page(p)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("version_dir", type=Path)
    ap.add_argument("--engine", choices=["chromium", "weasyprint"], default="chromium")
    ap.add_argument("--paper", choices=["a4", "letter"], default="a4")
    args = ap.parse_args()
    run = chromium if args.engine == "chromium" else weasyprint
    t0 = time.perf_counter()
    data = run(args.version_dir, args.paper)
    seconds = time.perf_counter() - t0
    text = pdf_text(data)
    wanted = [c for p in pages_of(args.version_dir) for c in cells(p)]
    found = sum(c in text for c in wanted)
    charts = [svg for p in pages_of(args.version_dir)
              for svg in re.findall(r"<svg\b.*?</svg>", p.read_text(encoding="utf-8"), re.S)]
    drawn = 0
    for svg in charts:  # a chart is drawn when the text of its axes and titles is in the PDF
        words = [_norm(html.unescape(_TAG.sub("", t)))
                 for t in re.findall(r"<text\b(?![^>]*opacity=\"0\")[^>]*>(.*?)</text>", svg,
                                     re.S)]  # labels Vega hid (overlapping) do not count
        words = [w for w in words if w]
        ok = bool(words) and sum(w in text for w in words) >= 0.8 * len(words)
        drawn += ok
        if not ok:
            print("  chart not found, e.g.:", [w for w in words if w not in text][:8],
                  file=sys.stderr)
    from pypdf import PdfReader

    n_pages = len(PdfReader(io.BytesIO(data)).pages)
    print(
        f"{args.engine:10s} {seconds:6.1f} s, {n_pages} pages, {len(data) / 1e6:.2f} MB, "
        f"table cells found {found / max(len(wanted), 1):.1%} of {len(wanted)}, "
        f"charts drawn {drawn} of {len(charts)}"
    )
    missing = [c for c in wanted if c not in text][:10]
    if missing:
        print("  not found, e.g.:", missing, file=sys.stderr)


if __name__ == "__main__":
    main()

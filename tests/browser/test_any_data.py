"""Every page of a pack built from data the demo never saw: no timestamp, no labels, no costs.

The data is scikit-learn's bundled breast cancer table (569 rows, 30 numerical features),
split into a reference and a current half with one feature shifted, and checked against a
contract whose only range rule fails by 0.0001. Each page is opened in headless Chromium
with the network cut off, at 1366x768 on screen and at A4 and Letter widths for print:

* no horizontal page scroll, and no table wider than the page unless it scrolls in a box
  of its own (on screen) or at all (on paper, where a scroll box would cut it);
* nothing squeezed: no cell of three or more words laid out one word per line;
* no raw dictionary (``{'key': ...}``) anywhere;
* sections that need what the data lacks are left out with one sentence saying why;
* ``workbench pack pdf`` writes one PDF of the whole pack, read back with pypdf.

This test never skips: without Playwright or Chromium it errors (`make browser`).
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from click.testing import CliRunner

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ("contract_checks", "drift", "review_summary")
# printable width in CSS px: paper width minus the 10 mm side margins of @page
PAPER_WIDTHS = {"A4": round((210 - 20) / 25.4 * 96), "Letter": round((215.9 - 20) / 25.4 * 96)}

LAYOUT_JS = """() => {
  const W = document.documentElement.clientWidth;
  const out = {pageScroll: document.documentElement.scrollWidth - W, tooWide: [], clipped: [],
               squeezed: []};
  const name = t => ((t.caption && t.caption.textContent) || t.rows[0].textContent).slice(0, 60);
  for (const t of document.querySelectorAll('table')) {
    let box = null;
    for (let p = t.parentElement; p && p !== document.body; p = p.parentElement) {
      const cs = getComputedStyle(p);
      if (cs.overflowX !== 'visible' || cs.overflowY !== 'visible') { box = p; break; }
    }
    if (box && (box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1))
      out.clipped.push(name(t));
    if (!box && t.getBoundingClientRect().right > W + 1) out.tooWide.push(name(t));
  }
  for (const c of document.querySelectorAll('td, th')) {
    const words = c.textContent.trim().split(/\\s+/).filter(w => w.length);
    if (words.length < 3) continue;
    const range = document.createRange();
    range.selectNodeContents(c);
    const lines = new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top)));
    if (lines.size >= words.length) out.squeezed.push(c.textContent.trim().slice(0, 60));
  }
  return out;
}"""

RAW_DICT = re.compile(r"\{\s*['\"][A-Za-z_]+['\"]\s*:")


def _write_inputs(d: Path) -> Path:
    import polars as pl
    from sklearn.datasets import load_breast_cancer

    frame = pl.from_pandas(load_breast_cancer(as_frame=True).frame).drop("target")
    frame = frame.rename({c: c.replace(" ", "_") for c in frame.columns})
    frame.head(300).write_parquet(d / "reference.parquet")
    current = frame.tail(269).with_columns(
        mean_radius=pl.col("mean_radius") * 1.3,
        # three values just past the contract's maximum of 40
        mean_texture=pl.when(pl.int_range(pl.len()) < 3)
        .then(pl.lit(40.0001))
        .otherwise(pl.col("mean_texture")),
    )
    current.write_parquet(d / "current.parquet")
    props = [
        {"name": c, "logicalType": "number", "physicalType": "double", "required": True}
        | ({"logicalTypeOptions": {"minimum": 0, "maximum": 40}} if c == "mean_texture" else {})
        for c in current.columns
    ]
    contract = {
        "apiVersion": "v3.1.0", "kind": "DataContract", "id": "urn:test:cells",
        "name": "Cell nuclei features", "version": "1.0.0", "status": "active",
        "schema": [{"name": "cells", "physicalName": "cells", "logicalType": "object",
                    "physicalType": "table", "properties": props}],
    }
    (d / "cells.odcs.yaml").write_text(yaml.safe_dump(contract, sort_keys=False))
    spec = {
        "name": "cells", "title": "Cell classifier — review on plain data",
        "inputs": ["*.parquet", "*.yaml"],
        "notebooks": [
            {"name": "contract_checks", "path": str(ROOT / "notebooks/contract_checks.ipynb"),
             "parameters": {"contract_path": str(d / "cells.odcs.yaml"),
                            "data_path": str(d / "current.parquet")}},
            {"name": "drift", "path": str(ROOT / "notebooks/drift.ipynb"),
             "parameters": {"reference_path": str(d / "reference.parquet"),
                            "current_path": str(d / "current.parquet"), "contract_path": "",
                            "timestamp": "", "prediction_columns": [], "label_columns": [],
                            "exclude_columns": []}},
            {"name": "review_summary", "path": str(ROOT / "notebooks/review_summary.ipynb"),
             "needs": ["contract_checks", "drift"]},
        ],
        "gates": [
            {"id": "contract", "title": "No error-level contract check fails",
             "notebook": "contract_checks", "metric": "error_checks_failed", "op": "==",
             "value": 0, "severity": "no-go",
             "reason": "The data breaks its contract; scores on it cannot be trusted."},
            {"id": "drift", "title": "At most half of the features drifted",
             "notebook": "drift", "metric": "drifted_share", "op": "<=", "value": 0.5,
             "severity": "hold", "reason": "The inputs moved away from the training data."},
        ],
    }
    path = d / "cells.yml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def plain_pack(tmp_path_factory) -> SimpleNamespace:
    from workbench.cli import cli

    d = tmp_path_factory.mktemp("plain")
    spec = _write_inputs(d)
    out = d / "reports"
    result = CliRunner().invoke(cli, ["pack", "build", str(spec), "--out", str(out)])
    assert result.exit_code == 0, result.output
    index = Path(result.stdout.strip().splitlines()[-1])
    return SimpleNamespace(dir=d, out=out, index=index, version_dir=index.parent)



def _pages(pack) -> list[Path]:
    return [pack.out / "index.html", pack.index] + [
        pack.version_dir / f"{nb}.html" for nb in NOTEBOOKS
    ]


def _open(browser, path: Path, width: int, media: str = "screen"):
    context = browser.new_context(viewport={"width": width, "height": 768})
    context.route(
        "**/*",
        lambda r: r.continue_() if r.request.url.startswith(("file://", "data:")) else r.abort(),
    )
    page = context.new_page()
    page.emulate_media(media=media)
    page.goto(path.as_uri(), wait_until="load")
    return page


def test_every_page_reads_well_on_screen_at_1366(browser, plain_pack):
    for path in _pages(plain_pack):
        page = _open(browser, path, 1366)
        layout = page.evaluate(LAYOUT_JS)
        text = page.inner_text("body")
        page.context.close()
        assert layout["pageScroll"] <= 0, f"{path.name} scrolls sideways at 1366x768"
        assert layout["tooWide"] == [], f"{path.name}: tables wider than the page"
        assert layout["squeezed"] == [], f"{path.name}: one word per line in {layout['squeezed']}"
        assert not RAW_DICT.search(text), f"{path.name} shows a raw dictionary"


@pytest.mark.parametrize("paper", PAPER_WIDTHS)
def test_every_page_prints_every_column_and_row(browser, plain_pack, paper):
    for path in _pages(plain_pack):
        page = _open(browser, path, PAPER_WIDTHS[paper], media="print")
        layout = page.evaluate(LAYOUT_JS)
        page.context.close()
        assert layout["pageScroll"] <= 0, f"{path.name} runs off {paper} paper"
        assert layout["tooWide"] == [], f"{path.name}: tables off the {paper} page"
        assert layout["clipped"] == [], f"{path.name}: tables cut by a scroll box on paper"
        assert layout["squeezed"] == [], f"{path.name}: one word per line in {layout['squeezed']}"


def test_sections_that_do_not_apply_say_why_once(browser, plain_pack):
    drift = _open(browser, plain_pack.version_dir / "drift.html", 1366)
    text = text_of_drift = drift.inner_text("main")
    drift.context.close()
    assert "Not shown: When did it start?, because no timestamp column was given" in text
    assert "Not shown: Values outside the contract, because no data contract was given" in text
    assert "First window in which each column drifted" not in text
    assert "Figures gates can read" in text and "drifted_share" in text

    checks = _open(browser, plain_pack.version_dir / "contract_checks.html", 1366)
    failed = checks.eval_on_selector_all(
        "table", "ts => ts.filter(t => t.caption && t.caption.textContent === 'Failed checks')"
        ".map(t => Array.from(t.rows).map(r => Array.from(r.cells).map(c => c.textContent)))")
    text = checks.inner_text("main")
    checks.context.close()
    (rows,) = failed
    header, row = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert row["worst value"] == "40.0001" and row["expected"] == "40"
    assert "first_failed_at" not in header  # no timestamp: no column of dashes
    assert "Not shown: When failed checks failed" in text

    front = _open(browser, plain_pack.index, 1366)
    pages_line = front.inner_text("p.wb-pages")
    front_text = front.inner_text("main")
    front.context.close()
    assert "contract_checks ran, findings fail" in " ".join(pages_line.split())

    # one number format per metric: the drifted share reads the same on both pages
    from workbench.render import pct

    found = json.loads((plain_pack.version_dir / "drift.results.json").read_text())
    share = pct(found["metrics"]["drifted_share"])
    assert f"columns drifted ({share}," in text_of_drift and share in front_text


def test_pack_pages_carry_static_charts_only(plain_pack):
    from workbench.render import LAB_MIME

    for nb in NOTEBOOKS:
        notebook = json.loads((plain_pack.version_dir / f"{nb}.ipynb").read_text())
        kinds = {k for c in notebook["cells"] for o in c.get("outputs", [])
                 for k in o.get("data", {})}
        assert LAB_MIME not in kinds, f"{nb}: interactive chart output in a pack"
    assert "image/svg+xml" in kinds or nb == "review_summary"


def test_pack_pdf_holds_every_page_front_page_first(plain_pack, tmp_path):
    from pypdf import PdfReader

    from workbench.cli import cli

    out = tmp_path / "pack.pdf"
    args = ["pack", "pdf", str(plain_pack.version_dir), "--out", str(out), "--paper", "letter"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(out)
    reader = PdfReader(out)
    texts = [unicodedata.normalize("NFKC", p.extract_text() or "") for p in reader.pages]
    assert "Verdict: NO-GO" in texts[0]  # the front page first
    assert [o.title for o in reader.outline] == ["Front page", *NOTEBOOKS]
    flat = re.sub(r"\s+", "", "".join(texts))
    for wanted in ("Datadrift:isproductionstillthedata", "Per-columndrift", "threshold",
                   "drifted", "severity", "smoothness_error", "40.0001", "Everycheck",
                   "worst_radius.required", "Reviewsummary"):
        assert wanted in flat, f"{wanted!r} missing from the PDF"
    # the drift table's last row and last columns reached the paper
    last = plain_pack.version_dir / "drift.results.json"
    columns = json.loads(last.read_text())["columns"]
    assert all(c["column"] in flat for c in columns)
    # nothing is overwritten
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 2 and "already exists" in again.stderr

"""Executed notebook -> the PM's HTML page, in-process with nbconvert.

Our template (``workbench/templates/workbench``) drops every input cell, loads nothing
from the network (no require.js, MathJax or CDN CSS: the stock lab/classic templates pull
them), inlines its CSS and sets a Content-Security-Policy that forbids script, so the page
renders the same offline. Output priority: text/html, image/svg+xml, image/png,
image/jpeg, text/markdown, text/plain. Exporting in-process takes ~0.1-0.3 s per notebook
against ~2.4 s for the ``jupyter nbconvert`` CLI (mostly interpreter start-up).
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import nbformat
from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.markdown_mistune import markdown2html_mistune
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbconvert.preprocessors.sanitize import SanitizeHTML
from traitlets.config import Config

from workbench.packs.pages import TEMPLATES

PRIORITY = ["text/html", "image/svg+xml", "image/png", "image/jpeg", "text/markdown", "text/plain"]
MAX_PAGE_BYTES = 2_000_000

_SVG_SCRIPT = re.compile(r"<script\b.*?</script\s*>", re.IGNORECASE | re.DOTALL)
_SVG_FOREIGN = re.compile(r"<foreignObject\b.*?</foreignObject\s*>", re.IGNORECASE | re.DOTALL)
_SVG_ON_ATTR = re.compile(
    r"""\s on[a-z]+ \s*=\s* (?:"[^"]*"|'[^']*'|[^\s>]+)""", re.IGNORECASE | re.VERBOSE
)
_SVG_EXTERNAL = re.compile(
    r"""\s (?:xlink:)?href \s*=\s* (?:"(?!\#|data:)[^"]*"|'(?!\#|data:)[^']*')""",
    re.IGNORECASE | re.VERBOSE,
)
_SVG_PROLOG = re.compile(r"^\s*(?:<\?xml[^>]*\?>\s*)?(?:<!DOCTYPE[^>]*>\s*)?", re.IGNORECASE)


_SVG_ID = re.compile(r'\bid="([^"]+)"')


def clean_svg(svg: str, prefix: str = "") -> str:
    """Inline-safe SVG: no script, event handlers, foreign HTML or external references.

    With ``prefix``, ids (and ``url(#id)`` / ``href="#id"`` references to them) are made
    unique, so two inline charts on one page cannot clip or fill with each other's defs.
    """
    svg = _SVG_PROLOG.sub("", svg)
    if prefix:
        for old in set(_SVG_ID.findall(svg)):
            new = f"{prefix}{old}"
            svg = (
                svg.replace(f'id="{old}"', f'id="{new}"')
                .replace(f"url(#{old})", f"url(#{new})")
                .replace(f'href="#{old}"', f'href="#{new}"')
            )
    svg = _SVG_SCRIPT.sub("", svg)
    svg = _SVG_FOREIGN.sub("", svg)
    svg = _SVG_ON_ATTR.sub("", svg)
    return _SVG_EXTERNAL.sub("", svg)


class OutputSanitizer(SanitizeHTML):
    """Sanitize text/markdown outputs (rendered to HTML, then cleaned: they may carry data),
    clean SVG, drop script types.

    Markdown *cells* are the notebook author's prose and stay as written; text/html
    outputs are workbench's own escaped markup (``workbench.render``).
    """

    def preprocess_cell(self, cell, resources, cell_index):  # noqa: D102 (nbconvert API)
        if cell.cell_type != "code":
            return cell, resources
        for output in cell.get("outputs", []):
            data = output.get("data")
            if not data:
                continue
            if "text/markdown" in data and "text/html" not in data:
                # render first, then sanitize the HTML: sanitizing the Markdown source
                # would leave [x](javascript:...) links for the renderer to create
                md = data.pop("text/markdown")
                html = markdown2html_mistune("".join(md) if isinstance(md, list) else md)
                data["text/html"] = self.sanitize_html_tags(html)
            if "image/svg+xml" in data:
                svg = data["image/svg+xml"]
                n = resources["wb_svg_count"] = resources.get("wb_svg_count", 0) + 1
                data["image/svg+xml"] = clean_svg(
                    "".join(svg) if isinstance(svg, list) else svg, prefix=f"wb{n}-"
                )
        cell.outputs = self.sanitize_code_outputs(cell.outputs)
        return cell, resources


_IMG_WITHOUT_ALT = re.compile(r"<img\b(?![^>]*\balt\s*=)", re.IGNORECASE)


class PackExporter(HTMLExporter):
    """nbconvert's HTML exporter without its last step, a BeautifulSoup parse and
    re-serialization of the whole page for two accessibility fixes: ``alt`` text on images
    that have none, ``tabindex`` on the lab template's input and output wrappers. Our
    template has no such wrappers and gives its own images ``alt`` text, so the pass only
    cost time: 0.55 s of a 0.83 s export of the cost-to-value page (1,560 tags, most of
    them inline SVG charts; measured with cProfile on the 2-core machine, nbconvert
    7.17). An image without ``alt`` (raw HTML in an output) still gets nbconvert's text.
    """

    def from_notebook_node(  # type: ignore[override]
        self, nb: nbformat.NotebookNode, resources: dict[str, Any] | None = None, **kw: Any
    ) -> tuple[str, dict[str, Any]]:
        # HTMLExporter.from_notebook_node up to its parse, as nbconvert 7.17 has it
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        self.register_filter("highlight_code", self.filters.get(
            "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        if _IMG_WITHOUT_ALT.search(html):
            html = _IMG_WITHOUT_ALT.sub(
                '<img alt="No description has been provided for this image"', html)
        return html, resources


def make_exporter() -> HTMLExporter:
    """One exporter per thread (nbconvert exporters keep per-call state)."""
    c = Config()
    c.HTMLExporter.extra_template_basedirs = [str(TEMPLATES)]
    c.HTMLExporter.template_name = "workbench"
    c.HTMLExporter.exclude_input = True
    c.HTMLExporter.exclude_input_prompt = True
    c.HTMLExporter.exclude_output_prompt = True
    c.HTMLExporter.embed_images = True
    c.HTMLExporter.mathjax_url = ""
    c.HTMLExporter.require_js_url = ""
    # NbConvertBase owns this trait (set on HTMLExporter it is ignored, with a warning);
    # leaving out application/javascript keeps any script output off the page
    c.NbConvertBase.display_data_priority = PRIORITY
    c.OutputSanitizer.safe_output_keys = {
        "metadata",
        "text/plain",
        "text/html",
        "image/svg+xml",
        "image/png",
        "image/jpeg",
        "application/json",
    }
    c.OutputSanitizer.sanitized_output_types = {"text/markdown"}
    # what Markdown renders to (bleach's default list lacks headings, paragraphs, tables);
    # attributes stay bleach's (href/title on <a>, protocols http/https/mailto only)
    c.OutputSanitizer.tags = sorted(
        {"a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4",
         "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "strong", "sub", "sup", "table",
         "tbody", "td", "th", "thead", "tr", "ul"}
    )
    # long ids get <wbr> break points on the page only (render.soft_break_markup): the
    # executed notebook keeps the exact text the secret scrubber searches
    c.HTMLExporter.filters = {"wb_soft_breaks": "workbench.render.soft_break_markup"}
    exporter = PackExporter(config=c)
    exporter.register_preprocessor(OutputSanitizer(config=c), enabled=True)
    return exporter


_local = threading.local()


def _thread_exporter() -> HTMLExporter:
    """Reuse one exporter per worker thread: building its Jinja environment and compiling
    the template costs more than rendering a page (measured ~0.8 s of a 1.3 s first export)."""
    if not hasattr(_local, "exporter"):
        _local.exporter = make_exporter()
    return _local.exporter


def export_html(
    nb: nbformat.NotebookNode, out: Path, wb: dict[str, Any], exporter: HTMLExporter | None = None
) -> Path:
    """Write the PM view of executed notebook ``nb`` to ``out``.

    ``wb`` feeds the template: name, title, pack_title, version, source, error (or None).
    """
    exporter = exporter or _thread_exporter()
    body, _ = exporter.from_notebook_node(nb, resources={"wb": wb})
    out.write_text(body, encoding="utf-8")
    return out

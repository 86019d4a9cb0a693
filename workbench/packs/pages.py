"""The one Jinja environment of the pack pages and the summary's HTML fragments.

Autoescape is on and undefined names fail (``StrictUndefined``), so every string from a
spec, a manifest or a findings file is escaped; the only markup that goes in unescaped is
workbench's own (``render.badge``, ``render.html_table``, ``render.callout``), passed as
:class:`markupsafe.Markup`. Templates live in ``workbench/templates`` (the fragments under
``packs/``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from workbench import render

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
VERDICT_TEXT = {"go": "GO", "hold": "HOLD", "no-go": "NO-GO"}


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    # long ids and metric names get break opportunities (see render.soft_breaks)
    env.filters["wbr"] = lambda v: Markup(render.soft_breaks(render.escape(v)))
    env.globals.update(
        badge=lambda status, text=None: Markup(
            render.badge(str(status), None if text is None else str(text))
        ),
        fmt=render.fmt,
        verdict_text=lambda v: VERDICT_TEXT.get(v, str(v)),
        verdict_text_of=lambda v: VERDICT_TEXT.get(v, "—" if v is None else str(v)),
        pct=lambda v: "—" if not isinstance(v, int | float) else render.pct(v),
        fmt_metric=render.fmt_metric,
        fmt_apart=render.fmt_apart,
    )
    return env


def page(template: str, /, **context: Any) -> str:
    """Render ``template`` (a page or a fragment, relative to TEMPLATES) with ``context``."""
    return environment().get_template(template).render(**context)


def trusted(markup: str | render.HTML) -> Markup:
    """Markup workbench built and escaped itself (``render.html_table``, ``render.callout``)."""
    return Markup(str(markup))

"""Removing secret values from everything a build publishes, failing closed.

A secret parameter reaches the kernel through its environment, so a notebook can print
it, chart it, write it into its results or into any file in ``results_dir``. An output
holds a value in whatever encoding the code path that wrote it chose, so a value is
searched in each form it can take there (:func:`secret_forms`):

* raw, HTML-escaped (``&amp; &quot; &#x27; &lt; &gt;``: every page, and Jinja/markupsafe's
  ``&#34; &#39;``), URL-encoded (``quote`` and ``quote_plus``, as in links and query
  strings), JSON-escaped (``json.dumps`` with and without ``ensure_ascii``: .ipynb and
  .results.json), those forms escaped twice (JSON inside HTML, HTML inside JSON);
* base64 (standard and URL-safe) at each of the three byte alignments a value can have
  inside a longer encoded blob (``data:`` URLs, images, notebook attachments): only the
  characters that depend on the value alone are searched, so a match does not depend on
  the bytes around it.

Longer forms are replaced first, so a form is never left half-replaced inside a longer
one. :func:`scrub_tree` then rewrites every file of the version folder and checks it again
afterwards; a file it cannot rewrite (binary, unreadable, a symlink) or that still holds a
form afterwards is removed and reported as withheld. A build whose verification still
finds a form raises :class:`ScrubFailed` and publishes nothing: scrubbing fails closed.
"""

from __future__ import annotations

import base64
import html
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

from workbench.atomic import write_text_atomic
from workbench.errors import WorkbenchError

SCRUBBED = "••••"
MIN_SCRUB = 4  # shorter values are left alone: replacing every "a" would destroy the page
MIN_B64 = 6  # shorter base64 fragments would match image data by chance


class ScrubFailed(WorkbenchError):
    """A secret could not be removed from an output; nothing was published."""

    exit_code = 3


def _b64_fragments(raw: bytes) -> set[str]:
    out = set()
    n = len(raw)
    for k in range(3):  # the value starts k bytes into a 3-byte group
        enc = base64.b64encode(b"\0" * k + raw).decode("ascii")
        start, stop = -(-8 * k // 6), (8 * (k + n)) // 6
        frag = enc[start:stop]
        if len(frag) >= MIN_B64:
            out.add(frag)
            out.add(frag.replace("+", "-").replace("/", "_"))
    return out


def secret_forms(values: Iterable[str]) -> list[str]:
    """Every searched form of every value, longest first."""
    forms: set[str] = set()
    for v in values:
        if not v or len(v) < MIN_SCRUB:
            continue
        base = {
            v,
            html.escape(v, quote=True),
            html.escape(v, quote=False),
            html.escape(v, quote=True).replace("&quot;", "&#34;").replace("&#x27;", "&#39;"),
            quote(v, safe=""),
            quote(v),
            quote_plus(v),
            json.dumps(v)[1:-1],
            json.dumps(v, ensure_ascii=False)[1:-1],
        }
        twice = {json.dumps(f, ensure_ascii=False)[1:-1] for f in base}
        twice |= {html.escape(f, quote=True) for f in base}
        forms |= base | twice
        forms |= _b64_fragments(v.encode("utf-8"))
    return sorted((f for f in forms if len(f) >= MIN_SCRUB), key=lambda f: (-len(f), f))


def scrub_text(text: str, forms: list[str]) -> str:
    for f in forms:
        if f in text:
            text = text.replace(f, SCRUBBED)
    return text


def scrub_obj(obj: Any, forms: list[str]) -> Any:
    """``obj`` with every form replaced in every string (dicts and lists are edited in place)."""
    if not forms:
        return obj
    if isinstance(obj, str):
        return scrub_text(obj, forms)
    if isinstance(obj, dict):
        for k in list(obj):
            obj[k] = scrub_obj(obj[k], forms)
        return obj
    if isinstance(obj, list):
        for i, v in enumerate(obj):
            obj[i] = scrub_obj(v, forms)
        return obj
    return obj


def holds_secret(data: bytes, forms: list[str]) -> bool:
    return any(f.encode("utf-8") in data for f in forms)


def _entries(root: Path) -> list[Path]:
    out: list[Path] = []
    for dirpath, dirs, files in os.walk(root):
        out.extend(Path(dirpath) / n for n in files)
        out.extend(Path(dirpath) / n for n in dirs if os.path.islink(Path(dirpath) / n))
    return sorted(out)


def _remove(p: Path) -> None:
    try:
        p.unlink()
    except OSError as exc:  # cannot withhold it either: stop the build, publish nothing
        raise ScrubFailed(f"{p}: holds a secret and could not be removed ({exc})") from exc


def scrub_tree(root: Path, forms: list[str]) -> list[str]:
    """Scrub every file under ``root`` in place; return the files withheld (removed).

    Text files (UTF-8) are rewritten with each form replaced; any other file that holds a
    form, any file that cannot be read or rewritten, and any file still holding a form
    afterwards is removed. Symlinks never belong in a version (``verify`` refuses them) and
    are removed unread, secrets or not.
    """
    withheld: list[str] = []
    for p in _entries(root):
        rel = p.relative_to(root).as_posix()
        try:
            if p.is_symlink():
                raise ValueError("a symlink")
            if not forms:
                continue
            data = p.read_bytes()
            if not holds_secret(data, forms):
                continue
            text = data.decode("utf-8")  # binary files holding a secret are withheld
            mode = p.stat().st_mode & 0o777
            write_text_atomic(p, scrub_text(text, forms))
            p.chmod(mode)
            if holds_secret(p.read_bytes(), forms):
                raise ValueError("still holds a secret after scrubbing")
        except (OSError, ValueError):  # UnicodeDecodeError is a ValueError
            _remove(p)
            withheld.append(rel)
    return withheld


def check_tree(root: Path, forms: list[str]) -> None:
    """Raise :class:`ScrubFailed` naming the first file under ``root`` holding a form."""
    for p in _entries(root):
        try:
            data = p.read_bytes() if not p.is_symlink() else b""
        except OSError as exc:
            raise ScrubFailed(f"{p}: could not be read to check for secrets ({exc})") from exc
        if holds_secret(data, forms):
            raise ScrubFailed(f"{p}: still holds a secret value; nothing was published")

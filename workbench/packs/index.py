"""HTML indexes: a version's front page and ``reports/index.html`` over every pack.

Both come from Jinja templates with autoescaping on, so every string from a spec, a
manifest or a results file is escaped; the only markup injected is workbench's own
(``render.badge``, which escapes its arguments).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from workbench import render
from workbench.io import write_text_atomic
from workbench.packs.gates import VERDICT_TEXT
from workbench.packs.manifest import MANIFEST

LATEST = "latest"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.globals.update(
        badge=lambda status, text=None: Markup(
            render.badge(str(status), None if text is None else str(text))
        ),
        fmt=render.fmt,
        verdict_text=lambda v: VERDICT_TEXT.get(v, str(v)),
    )
    return env


def front_page(
    manifest: dict[str, Any], results: dict[str, dict | None], description: str = ""
) -> str:
    """The pack version's index.html: verdict, gates, each notebook's status and headline."""
    notebooks = []
    for nb in manifest["notebooks"]:
        res = results.get(nb["name"]) or {}
        if nb["status"] != "ok":
            badge, text = "fail", "failed"
            headline = (
                f"Failed: {(nb.get('error') or {}).get('ename', 'error')}: "
                f"{(nb.get('error') or {}).get('evalue', '')}"
            )
        else:
            badge = {"ok": "ok", "warn": "warn", "fail": "fail"}.get(str(res.get("status")), "info")
            text = str(res.get("status", "no results"))
            headline = str(res.get("headline", "(no results file)"))
        notebooks.append({**nb, "badge": badge, "status_text": text, "headline": headline})
    failed = [nb["name"] for nb in manifest["notebooks"] if nb["status"] != "ok"]
    gates = manifest["gates"]
    n_fail = sum(g["status"] == "failed" for g in gates)
    n_unknown = sum(g["status"] == "unknown" for g in gates)
    note = (
        f"{len(gates) - n_fail - n_unknown} of {len(gates)} gates passed"
        + (f", {n_fail} failed" if n_fail else "")
        + (f", {n_unknown} could not be evaluated" if n_unknown else "")
        + "."
    )
    return (
        _env()
        .get_template("pack_index.html.j2")
        .render(
            m=manifest,
            notebooks=notebooks,
            failed_names=failed,
            description=description,
            verdict_text=VERDICT_TEXT.get(manifest["verdict"], manifest["verdict"]),
            verdict_note=note,
        )
    )


def read_latest(pack_dir: Path) -> str | None:
    """The version ``latest`` names, if it exists on disk."""
    try:
        name = (pack_dir / LATEST).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return name if name and (pack_dir / name / MANIFEST).is_file() else None


def versions(pack_dir: Path) -> list[dict[str, Any]]:
    """Published versions of one pack, newest first, from their manifests."""
    out = []
    for d in pack_dir.iterdir() if pack_dir.is_dir() else []:
        if d.name.startswith(".") or not d.is_dir():
            continue
        try:
            m = json.loads((d / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        out.append(
            {
                "version": d.name,
                "title": m.get("title", pack_dir.name),
                "status": m.get("status", "unknown"),
                "verdict": m.get("verdict", "unknown"),
                "started_at": m.get("started_at", ""),
                "gates_failed": sum(g.get("status") == "failed" for g in m.get("gates", [])),
            }
        )
    return sorted(out, key=lambda v: v["version"], reverse=True)


def packs(out_dir: Path) -> list[dict[str, Any]]:
    found = []
    for d in sorted(out_dir.iterdir()) if out_dir.is_dir() else []:
        if not d.is_dir() or d.name.startswith("."):
            continue
        vs = versions(d)
        if not vs:
            continue
        latest = read_latest(d)
        latest_verdict = next((v["verdict"] for v in vs if v["version"] == latest), None)
        found.append(
            {
                "name": d.name,
                "title": vs[0]["title"],
                "latest": latest,
                "latest_verdict": latest_verdict,
                "versions": vs,
            }
        )
    return found


def publish_text(path: Path, text: str) -> Path:
    """Atomic write, then the umask's permissions (temp files are created 0600)."""
    write_text_atomic(path, text)
    mask = os.umask(0)
    os.umask(mask)
    path.chmod(0o666 & ~mask)
    return path


def write_site_index(out_dir: Path) -> Path:
    """Regenerate ``<out_dir>/index.html`` (atomically) from the manifests on disk."""
    html = _env().get_template("site_index.html.j2").render(packs=packs(out_dir))
    return publish_text(out_dir / "index.html", html)

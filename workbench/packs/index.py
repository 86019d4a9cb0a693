"""HTML indexes: a version's front page and ``reports/index.html`` over every pack.

Both come from Jinja templates with autoescaping on, so every string from a spec, a
manifest or a results file is escaped; the only markup injected is workbench's own
(``render.badge``, which escapes its arguments).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import jinja2

from workbench.findings import Findings
from workbench.io import dumps_json, sha256_bytes, write_text_atomic
from workbench.packs import pages
from workbench.packs.cache import workbench_code_sha256
from workbench.packs.gates import VERDICT_TEXT, GateResult, verdict_reason
from workbench.packs.manifest import MANIFEST
from workbench.packs.summary import (
    HISTORY_LIMIT,
    ChangeSummary,
    changes,
    history,
    history_long,
    history_row,
    history_svg_data_uri,
    read_results_dir,
)

LATEST = "latest"
TEMPLATES = pages.TEMPLATES


def _env() -> jinja2.Environment:
    return pages.environment()


def _gate_objects(gates: list[dict[str, Any]]) -> list[GateResult]:
    names = GateResult.__dataclass_fields__
    return [GateResult(**{k: g.get(k) for k in names}) for g in gates]  # type: ignore[arg-type]


def _previous(
    pack_dir: Path | None, manifest: dict[str, Any]
) -> tuple[dict[str, Findings], dict[str, Any]] | None:
    """(results, manifest) of the version this one is compared with, if it is on disk."""
    name = manifest.get("previous_version")
    if not pack_dir or not name or not (pack_dir / name).is_dir():
        return None
    try:
        prev_manifest = json.loads((pack_dir / name / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        prev_manifest = {}
    return read_results_dir(pack_dir / name), prev_manifest


_PAGE_FILE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*\.html$")


def extra_pages(results: Findings | Mapping[str, Any]) -> list[dict[str, str]]:
    """Pages a notebook wrote beside its own (its results' ``pages``: file and title).

    Only plain file names in the version folder are linked: never a path or a URL.
    """
    pages = results.get("pages") or []
    return [{"file": p["file"], "title": str(p.get("title") or p["file"])}
            for p in pages if isinstance(p, dict) and _PAGE_FILE.match(str(p.get("file", "")))]


def _run_text(nb: dict[str, Any]) -> str:
    """"ran", "failed", or "reused from <version>" (an incremental build, packs.cache)."""
    if nb["status"] != "ok":
        return "failed"
    reused = (nb.get("cache") or {}).get("reused_from")
    return f"reused from {reused}" if reused else "ran"


def front_page(
    manifest: dict[str, Any],
    results: Mapping[str, Findings | None],
    description: str = "",
    pack_dir: Path | None = None,
) -> str:
    """The pack version's index.html: verdict, gates, what changed, trends, notebook links.

    ``pack_dir`` (the pack's directory under reports/) gives the previous version and the
    history; without it the page shows this version alone.
    """
    notebooks = []
    for nb in manifest["notebooks"]:
        res: Findings | Mapping[str, Any] = results.get(nb["name"]) or {}
        # Whether the notebook ran and what it found are two different facts: a "fail"
        # finding beside a notebook that ran fine must not read as a crash.
        ran = nb["status"] == "ok"
        if not ran:
            badge, text = "info", "none (did not finish)"
            headline = (
                f"Failed: {(nb.get('error') or {}).get('ename', 'error')}: "
                f"{(nb.get('error') or {}).get('evalue', '')}"
            )
        else:
            found = str(res.get("status", ""))
            badge = FINDINGS_BADGE.get(found, "info")
            text = FINDINGS_TEXT.get(found, found or "no results")
            headline = str(res.get("headline", "(no results file)"))
        notebooks.append({**nb, "badge": badge, "status_text": text, "headline": headline,
                          "run_badge": "ok" if ran else "fail",
                          "run_text": _run_text(nb),
                          "pages": extra_pages(res)})
    failed = [nb["name"] for nb in manifest["notebooks"] if nb["status"] != "ok"]
    missing = [nb["name"] for nb in manifest["notebooks"] if not results.get(nb["name"])]
    gates = manifest["gates"]
    n_fail = sum(g["status"] == "failed" for g in gates)
    n_unknown = sum(g["status"] == "unknown" for g in gates)
    note = (
        f"{len(gates) - n_fail - n_unknown} of {len(gates)} gates passed"
        + (f", {n_fail} failed" if n_fail else "")
        + (f", {n_unknown} could not be evaluated" if n_unknown else "")
        + "."
    )
    reason = manifest.get("verdict_reason") or verdict_reason(_gate_objects(gates), missing)
    if len(reason) > 200:  # the gates table right below names them; keep the banner short
        reason = verdict_reason(_gate_objects(gates), missing, brief=True)
    prev = _previous(pack_dir, manifest)
    if prev is None and manifest.get("previous_version") and pack_dir:
        diff = ChangeSummary(manifest["previous_version"], compared=False)  # pruned meanwhile
    else:
        diff = changes(
            results,
            prev[0] if prev else None,
            previous_name=manifest.get("previous_version"),
            gates=gates,
            previous_gates=(prev[1].get("gates") or []) if prev else [],
            verdict=manifest.get("verdict"),
            previous_verdict=prev[1].get("verdict") if prev else None,
        )
    restated = bool((manifest.get("cache") or {}).get("nothing_changed"))
    trend = history(
        pack_dir,
        None if restated else history_row(  # a restated version repeats no point
            manifest["version"],
            results,
            status=manifest.get("status"),
            verdict=manifest.get("verdict"),
        ),
    )
    chart_key = trend_chart_key(trend) if len(trend) > 1 else None
    chart = None
    if chart_key is not None:
        chart = _previous_chart(pack_dir, manifest.get("previous_version"), chart_key) \
            or history_svg_data_uri(trend)
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
            verdict_reason=reason,
            diff=diff,
            trend=trend,
            trend_chart=chart,
            trend_chart_key=chart_key,
            restated=restated,
            op_text=OP_TEXT,
            history_limit=HISTORY_LIMIT,
        )
    )


def trend_chart_key(trend: list[dict[str, Any]]) -> str:
    """What the trend chart is drawn from: its data, workbench's code and the versions of
    the chart libraries. Two pages with one key show the same SVG."""
    libs: dict[str, str | None] = {}
    for dist in ("altair", "vl-convert-python"):
        try:
            libs[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            libs[dist] = None
    what = {"rows": history_long(trend), "code": workbench_code_sha256(), "libs": libs}
    return sha256_bytes(dumps_json(what).encode("utf-8"))


_CHART = re.compile(r'<img data-chart-key="([0-9a-f]{64})" src="(data:image/svg\+xml;base64,'
                    r'[A-Za-z0-9+/=]+)"')


def _previous_chart(pack_dir: Path | None, previous: str | None, key: str) -> str | None:
    """The previous version's trend chart when it was drawn from the same data and code:
    drawing it again would start altair and vl-convert (about 3 s) for the same SVG."""
    if not pack_dir or not previous:
        return None
    try:
        text = (pack_dir / previous / "index.html").read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None
    hit = _CHART.search(text)
    return hit[2] if hit and hit[1] == key else None


FINDINGS_TEXT = {"pass": "pass", "warn": "warn", "fail": "fail"}
FINDINGS_BADGE = {"pass": "ok", "warn": "warn", "fail": "fail"}

OP_TEXT = {"<": "<", "<=": "≤", ">": ">", ">=": "≥", "==": "=", "!=": "≠"}


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
        if not is_version_manifest(m, pack_dir.name):
            continue  # someone else's folder: never listed, pruned or indexed
        out.append(
            {
                "version": d.name,
                "title": m.get("title", pack_dir.name),
                "status": m.get("status", "unknown"),
                "verdict": m.get("verdict", "unknown"),
                "started_at": m.get("started_at", ""),
                "gates_failed": sum(g.get("status") == "failed" for g in m.get("gates", [])),
                "gates_total": len(m.get("gates", [])),
                "verdict_reason": str(m.get("verdict_reason") or ""),
            }
        )
    return sorted(out, key=lambda v: v["version"], reverse=True)


def is_version_manifest(m: Any, pack: str) -> bool:
    """The marker of a folder workbench published: its manifest.json is a sealed workbench
    manifest (``manifest_sha256``, ``outputs``) naming this pack. A web app's
    manifest.json, or any other folder that happens to hold one, is not a version."""
    return (
        isinstance(m, dict)
        and isinstance(m.get("manifest_sha256"), str)
        and isinstance(m.get("outputs"), list)
        and m.get("pack") == pack
    )


SITE_INDEX_MARKER = '<meta name="generator" content="workbench">'
_LEGACY_SITE_INDEX = "<title>Review packs</title>"  # written before the marker existed


def site_index_is_ours(out_dir: Path) -> bool:
    """``out_dir/index.html`` is absent or was written by :func:`write_site_index`."""
    path = out_dir / "index.html"
    if not path.exists() and not path.is_symlink():
        return True
    if path.is_symlink() or not path.is_file():
        return False
    with open(path, "rb") as fh:
        head = fh.read(4096).decode("utf-8", errors="replace")
    return SITE_INDEX_MARKER in head or _LEGACY_SITE_INDEX in head


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


def current_umask() -> int:
    """The process umask, read without setting it where possible (setting is process-wide,
    and another thread could create a file in between)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def publish_text(path: Path, text: str) -> Path:
    """Atomic write, then the umask's permissions (temp files are created 0600)."""
    write_text_atomic(path, text)
    path.chmod(0o666 & ~current_umask())
    return path


def write_site_index(out_dir: Path) -> Path | None:
    """Regenerate ``<out_dir>/index.html`` (atomically) from the manifests on disk.

    An ``index.html`` workbench did not write (no generator marker) is left alone and None
    is returned: a build or prune deletes or replaces only what workbench created.
    """
    if not site_index_is_ours(out_dir):
        return None
    html = _env().get_template("site_index.html.j2").render(packs=packs(out_dir))
    return publish_text(out_dir / "index.html", html)

"""The assemble stage of ``pack build``: the plan's runs -> a complete version in staging.

Every file the notebooks wrote is scrubbed of the pack's secrets (a file that cannot be
scrubbed is withheld), the gates are evaluated over the findings, and the front page and
``manifest.json`` (signed when a key is given) are written. Nothing is published here:
:mod:`workbench.packs.publish` renames the staging dir into place.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from workbench.io import write_text_atomic
from workbench.packs import cache
from workbench.packs._faults import kill_point
from workbench.packs.execute import NotebookRun
from workbench.packs.gates import GateResult, evaluate_gates, load_results, verdict, verdict_reason
from workbench.packs.index import front_page
from workbench.packs.manifest import environment, pack_git_state, write_manifest
from workbench.packs.plan import BuildPlan
from workbench.packs.scrub import check_tree, scrub_obj, scrub_text, scrub_tree, secret_forms
from workbench.packs.sign import sign_version


@dataclass(frozen=True)
class Assembly:
    """A version complete in its staging dir, ready to be published."""

    status: str  # ok | failed
    verdict: str  # go | hold | no-go
    runs: tuple[NotebookRun, ...]
    gates: tuple[GateResult, ...]
    duration_s: float
    withheld: tuple[str, ...] = ()  # files removed because a secret could not be scrubbed
    warnings: tuple[str, ...] = ()  # said in the build output, recorded in the manifest


def iso(t: datetime) -> str:
    return t.isoformat(timespec="seconds").replace("+00:00", "Z")


def assemble(plan: BuildPlan, runs: tuple[NotebookRun, ...], key: Any = None) -> Assembly:
    """Scrub, evaluate the gates, write the front page and manifest into ``plan.staging``.

    ``check_tree`` fails closed: a secret left anywhere stops the build before publishing.
    """
    forms = secret_forms(plan.secret_values)
    withheld = tuple(scrub_tree(plan.staging, forms))  # every file the notebooks wrote
    reuse = _cache_section(plan, runs)  # outputs hashed as published: after scrubbing
    results = load_results(plan.staging, [e.name for e in plan.notebooks])
    # a failed notebook's results are partial: its gates are unknown, never passed
    for r in runs:
        if r.status != "ok":
            results[r.name] = None
    gate_results = evaluate_gates(plan.gates, results)
    missing = [r.name for r in runs if not r.results or r.status != "ok"]
    status = "ok" if all(r.status == "ok" for r in runs) and not withheld else "failed"
    kill_point("gates")
    manifest = _manifest(plan, runs, gate_results, missing, status, withheld)
    if reuse is not None:
        manifest["cache"] = reuse
    # a notebook that read findings it does not wait for: its output depended on timing
    warnings = [u["message"] for u in (reuse or {}).get("undeclared_reads") or []]
    if warnings:
        manifest["warnings"] = warnings
    scrub_obj(manifest, forms)
    page = front_page(manifest, results, plan.description, pack_dir=plan.pack_dir)
    write_text_atomic(plan.staging / "index.html", scrub_text(page, forms))
    kill_point("front-page")
    write_manifest(plan.staging, manifest)
    if key is not None:
        sign_version(plan.staging, key)
    kill_point("manifest")
    check_tree(plan.staging, forms)
    return Assembly(status, manifest["verdict"], runs, tuple(gate_results),
                    manifest["duration_s"], withheld, tuple(warnings))


def _cache_section(plan: BuildPlan, runs: tuple[NotebookRun, ...]) -> dict[str, Any] | None:
    """The manifest's ``cache``: which notebooks ran, which were reused, and whether nothing
    at all changed since the previous version (the front page says so)."""
    if plan.cache is None:
        return None
    summary = cache.finalize(
        plan.cache, plan.version, {r.name: r.cache for r in runs if r.cache is not None},
        {r.name: r.status for r in runs},
    )
    nothing = cache.nothing_changed(
        plan.cache, summary, plan.spec_sha256, [dict(i) for i in plan.inputs]
    )
    return {
        **summary,
        "spec_dir": str(plan.base_dir.resolve()),
        "nothing_changed": nothing,
        "same_as": cache.same_as(plan.cache, nothing),
    }


def _manifest(
    plan: BuildPlan,
    runs: tuple[NotebookRun, ...],
    gate_results: list[GateResult],
    missing: list[str],
    status: str,
    withheld: tuple[str, ...],
) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "pack": plan.pack,
        "title": plan.title,
        "version": plan.version,
        "status": status,
        "verdict": verdict(gate_results, missing),
        "verdict_reason": verdict_reason(gate_results, missing),
        "started_at": iso(plan.started),
        "finished_at": iso(datetime.now(UTC)),
        "duration_s": round(time.perf_counter() - plan.started_clock, 3),
        "spec": {"path": plan.spec_path, "sha256": plan.spec_sha256,
                 "content": plan.spec_content},
        "inputs": [dict(i) for i in plan.inputs],
        "notebooks": [r.to_dict() for r in runs],
        "gates": [g.to_dict() for g in gate_results],
        "previous_version": plan.previous,
        "git": pack_git_state(plan.base_dir, list(plan.code_dirs)),
        "environment": environment(),
    }
    if withheld:
        manifest["withheld"] = list(withheld)
    return manifest

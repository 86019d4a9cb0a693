"""``workbench pack build``: a spec -> a new, write-once version of its pack.

A straight pipeline, each stage in its own module taking the previous stage's output
(see :mod:`workbench.packs.plan`)::

    load_spec -> check -> [pack lock] resolve -> run_plan -> assemble -> publish -> announce

1. load and validate the spec, each notebook's declared parameters, secrets, columns and
   gate metrics (SpecError -> exit 2), and read the signing key: before anything runs;
2. under a per-pack lock (overlapping builds of one pack wait for each other), clean up
   after killed builds and resolve the plan: inputs hashed, version ``<UTC time>-<hash8>``,
   every notebook's parameters (``findings_name`` among them) and cache key;
3. run the notebooks in a thread pool, each once the notebooks it ``needs`` are done
   (one progress line per notebook with its execution and export time);
4. scrub, evaluate gates, write the front page and manifest.json into ``.staging-<version>``;
5. ``os.rename`` the staging dir into place (one step: readers never see half a version);
6. only if every notebook succeeded, move ``latest``; regenerate ``reports/index.html``.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

from workbench import render
from workbench.packs import kernels
from workbench.packs._faults import kill_point
from workbench.packs.assemble import assemble
from workbench.packs.execute import imports_that_may_run, remove_orphan_temp, run_plan
from workbench.packs.lock import locked
from workbench.packs.plan import STAGING_PREFIX, BuildPlan, check, resolve
from workbench.packs.publish import BuildResult, announce, publish, remove_stale_staging
from workbench.packs.sign import load_private_key
from workbench.packs.spec import PackSpec, load_spec

__all__ = ["STAGING_PREFIX", "BuildResult", "build", "build_if_changed", "remove_stale_staging"]


def build(
    spec_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str] = "reports",
    jobs: int | None = None,
    progress: Callable[[str], None] | None = None,
    sign_key: Path | None = None,
    use_cache: bool = True,
) -> BuildResult:
    """Build one version of the pack ``spec_path`` describes under ``out_dir/<pack>/``.

    With ``sign_key`` (an Ed25519 private key file, see :mod:`workbench.packs.sign`) the
    manifest is signed; the key is read before anything runs, so a bad key costs nothing.
    ``use_cache=False`` (``--no-cache``) runs every notebook: nothing is reused from the
    previous version (:mod:`workbench.packs.cache`).
    """
    result = _start(spec_path, out_dir, jobs, progress, sign_key, use_cache, None)
    assert result is not None  # nothing is skipped without a skip rule
    return result


def build_if_changed(
    spec_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str] = "reports",
    jobs: int | None = None,
    progress: Callable[[str], None] | None = None,
    sign_key: Path | None = None,
    unless_digest: str | None = None,
) -> BuildResult | None:
    """:func:`build`, unless the new version would restate the latest one (nothing its
    evidence rests on changed: see :mod:`workbench.packs.cache`), or the spec, its inputs
    and its notebooks are those of ``unless_digest`` (the ``<hash8>`` of a version name:
    an attempt that failed, not to be repeated until one of them changes). None then:
    nothing is written and no kernel starts."""

    def skip(plan: BuildPlan) -> bool:
        restates = plan.cache is not None and plan.cache.same_as is not None
        return restates or (unless_digest is not None
                            and version_digest(plan.version) == unless_digest)

    return _start(spec_path, out_dir, jobs, progress, sign_key, True, skip)


def version_digest(version: str) -> str:
    """The ``<hash8>`` of ``<UTC time>-<hash8>[-n]``: the spec, its inputs and notebooks."""
    return version.split("-")[1]


def _start(spec_path: str | os.PathLike[str], out_dir: str | os.PathLike[str],
           jobs: int | None, progress: Callable[[str], None] | None, sign_key: Path | None,
           use_cache: bool, skip: Callable[[BuildPlan], bool] | None) -> BuildResult | None:
    say = progress or (lambda _line: None)
    spec = load_spec(spec_path)
    # the warm-kernel server imports on the other core while the spec is checked and the
    # inputs hashed (about 1 s), so the first kernels are forked from it too (the CLI
    # starts it even before the builder's imports)
    with kernels.warm_kernels(ordinary_first=0):
        return _build(spec, spec_path, out_dir, jobs, say, sign_key, use_cache, skip)


def _build(spec: PackSpec, spec_path: str | os.PathLike[str], out_dir: str | os.PathLike[str],
           jobs: int | None, say: Callable[[str], None], sign_key: Path | None,
           use_cache: bool, skip: Callable[[BuildPlan], bool] | None = None
           ) -> BuildResult | None:
    declared = check(spec)  # parameter types, named columns, gate metrics: before any kernel
    key = load_private_key(sign_key) if sign_key is not None else None
    out = Path(out_dir)
    pack_dir = out / spec.name
    waiting = f"waiting for another build of {spec.name}"
    with locked(pack_dir / ".lock", on_wait=lambda: say(waiting)):
        kill_point("locked")
        remove_stale_staging(pack_dir)
        remove_orphan_temp()  # temp notebooks and kernel sockets of killed builds
        kill_point("staging-cleaned")
        plan = resolve(spec, declared, out, spec_path=str(spec_path),
                       jobs=max(1, jobs or os.cpu_count() or 1), use_cache=use_cache)
        if skip is not None and skip(plan):
            kernels.stop_unused_server()
            return None
        _unless_stopping()
        if plan.cache is not None and plan.cache.same_as is not None:
            kernels.stop_unused_server()  # restating the previous version: no kernel starts
        elif plan.cache is not None and plan.cache.enabled and plan.previous is not None:
            kernels.preload_only(imports_that_may_run(plan))
        # private while notebooks write into it (results may hold a secret until scrubbed);
        # opened to the umask's permissions just before it is published
        plan.staging.mkdir(mode=0o700, parents=True)
        plan.staging.chmod(0o700)
        kill_point("staging-created")
        warming = _warm_chart_runtime(plan)
        try:
            runs = run_plan(plan, say)
            _unless_stopping()  # its kernels were killed: runs that failed for that
            if warming is not None:
                warming.join()
            assembly = assemble(plan, runs, key)
            final = publish(plan, assembly)
        except BaseException:
            shutil.rmtree(plan.staging, ignore_errors=True)
            raise
        return announce(plan, assembly, final, say)


def _unless_stopping() -> None:
    """Abandon the build (nothing published, staging removed) when this process was asked
    to stop (:data:`workbench.packs.kernels.stopping`)."""
    if kernels.stopping.is_set():
        raise KeyboardInterrupt


def _warm_chart_runtime(plan: BuildPlan) -> threading.Thread | None:
    """Start altair and vl-convert's JavaScript runtime (about 3 s of CPU the first time in
    a process) while the notebooks run, when the front page will draw its trend chart: it
    is drawn last, on the critical path, and a short chain of notebooks (a cost change:
    cost_to_value, then review_summary) leaves a core idle meanwhile. Not for a first
    version (no trend yet) nor for one that restates the previous (its chart is reused)."""
    if plan.previous is None or (plan.cache is not None and plan.cache.same_as is not None):
        return None

    def warm() -> None:
        try:
            render.setup()  # altair: heavy, and only when a chart will be drawn
            render.chart_svg({
                "data": {"values": [{"x": 0}]}, "mark": "point",
                "encoding": {"x": {"field": "x", "type": "quantitative"}}})
        except Exception:  # noqa: BLE001 - only a warm-up: the front page draws for real
            pass

    thread = threading.Thread(target=warm, name="chart-warm-up", daemon=True)
    thread.start()
    return thread

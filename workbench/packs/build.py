"""``workbench pack build``: execute a spec's notebooks into a new, write-once version.

Steps (under a per-pack lock, so overlapping builds of one pack wait for each other):

1. validate the spec and each notebook's declared parameters (SpecError -> exit 2);
2. hash inputs, spec, notebook sources and parameters -> version ``<UTC time>-<hash8>``;
3. run the notebooks in a thread pool of ``jobs`` workers, each as soon as the notebooks it
   ``needs`` have finished (whatever their outcome: the summary must still run to report a
   failure); one progress line per notebook with its execution and export time;
4. evaluate gates, write the front page and manifest.json into ``.staging-<version>``;
5. ``os.rename`` the staging dir into place (one step: readers never see half a version);
6. only if every notebook succeeded, move ``latest`` (a text file, written atomically);
7. regenerate ``reports/index.html``.

A failed build is still published (status ``failed``) so people can read the error where
it happened; it never becomes ``latest`` and never serves as ``previous_dir``.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workbench import render
from workbench.io import dumps_json, sha256_file, write_text_atomic
from workbench.packs import cache
from workbench.packs._faults import kill_point
from workbench.packs.execute import (
    NotebookRun,
    declared_parameters,
    pack_secret_values,
    recorded_parameters,
    remove_orphan_temp,
    run_notebook,
)
from workbench.packs.gates import evaluate_gates, load_results, verdict, verdict_reason
from workbench.packs.index import (
    LATEST,
    current_umask,
    front_page,
    publish_text,
    read_latest,
    write_site_index,
)
from workbench.packs.lock import locked
from workbench.packs.manifest import environment, pack_git_state, write_manifest
from workbench.packs.preflight import preflight
from workbench.packs.scrub import check_tree, scrub_obj, scrub_text, scrub_tree, secret_forms
from workbench.packs.sign import load_private_key, sign_version
from workbench.packs.spec import (
    EnvParam,
    NotebookSpec,
    PackSpec,
    _fail,
    check_declared_parameters,
    load_spec,
)

STAGING_PREFIX = ".staging-"
# a full disk, a quota or a read-only or failing filesystem while a notebook's outputs are
# written: not the notebook's failure (exit 3) but the environment's (exit 4)
ENVIRONMENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO})
PARTIAL_RESULTS = "results.partial.json"  # <name>.results.partial.json: a failed run's results


@dataclass(frozen=True)
class BuildResult:
    pack: str
    version: str
    version_dir: Path
    status: str  # ok | failed
    verdict: str  # go | hold | no-go
    runs: tuple[NotebookRun, ...]
    duration_s: float
    withheld: tuple[str, ...] = ()  # files removed because a secret could not be scrubbed

    @property
    def index_html(self) -> Path:
        return self.version_dir / "index.html"

    @property
    def failed(self) -> list[NotebookRun]:
        return [r for r in self.runs if r.status != "ok"]


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="seconds").replace("+00:00", "Z")


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
    ``use_cache=False`` (``--no-cache``) runs every notebook, reusing nothing
    (:mod:`workbench.packs.cache`).
    """
    say = progress or (lambda _line: None)
    spec = load_spec(spec_path)
    declared = {nb.name: _declared(spec, i, nb) for i, nb in enumerate(spec.notebooks)}
    check_declared_parameters(spec, declared)
    _check_secrets(spec)
    preflight(spec)  # parameter types, named columns, gate metrics: before any kernel
    key = load_private_key(sign_key) if sign_key is not None else None
    jobs = max(1, jobs or os.cpu_count() or 1)

    out = Path(out_dir)
    pack_dir = out / spec.name
    with locked(
        pack_dir / ".lock", on_wait=lambda: say(f"waiting for another build of {spec.name}")
    ):
        kill_point("locked")
        remove_stale_staging(pack_dir)
        remove_orphan_temp()  # temp notebooks and kernel sockets of killed builds
        kill_point("staging-cleaned")
        started = _now()
        t0 = time.perf_counter()
        inputs = [
            {"path": f.path, "size": f.abspath.stat().st_size, "sha256": sha256_file(f.abspath)}
            for f in spec.input_files()
        ]
        version = _version_name(pack_dir, started, _fingerprint(spec, inputs))
        staging = pack_dir / f"{STAGING_PREFIX}{version}"
        # private while notebooks write into it (results may hold a secret until scrubbed);
        # opened to the umask's permissions just before it is published
        staging.mkdir(mode=0o700, parents=True)
        staging.chmod(0o700)
        kill_point("staging-created")
        try:
            previous = read_latest(pack_dir)
            builtins = {
                "results_dir": str(staging.resolve()),
                "previous_dir": str((pack_dir / previous).resolve()) if previous else "",
                "pack_spec": str(spec.path),
            }
            page = {"pack_title": spec.title, "version": version}
            ctx = cache.context(staging, pack_dir, spec.base_dir, previous, use_cache)

            def task(nb: NotebookSpec) -> NotebookRun:
                kill_point(f"notebook-start:{nb.name}")
                nb_page = {**page, "title": f"{nb.name} · {spec.title}"}
                run, why = _cached_run(ctx, spec, nb, builtins, declared[nb.name], nb_page)
                if run is None:
                    run = _safe_run(spec, nb, staging, builtins, declared[nb.name], nb_page)
                    _record_execution(ctx, spec, nb, builtins, declared[nb.name], nb_page, run, why)
                if run.status != "ok":
                    _set_aside_partial_results(staging, nb.name)
                kill_point(f"notebook-done:{nb.name}")
                return run

            runs = _run_all(spec, jobs, task, say)
            forms = secret_forms(pack_secret_values(spec))
            withheld = scrub_tree(staging, forms)  # every file the notebooks wrote
            cache_summary = cache.finalize(
                ctx, version, {r.name: r.cache for r in runs if r.cache is not None},
                {r.name: r.status for r in runs},
            )
            names = [nb.name for nb in spec.notebooks]
            results = load_results(staging, names)
            # a failed notebook's results are partial: its gates are unknown, never passed
            for r in runs:
                if r.status != "ok":
                    results[r.name] = None
            gate_results = evaluate_gates(spec.gates, results)
            missing = [r.name for r in runs if not r.results or r.status != "ok"]
            status = "ok" if all(r.status == "ok" for r in runs) and not withheld else "failed"
            kill_point("gates")
            finished = _now()
            manifest: dict[str, Any] = {
                "pack": spec.name,
                "title": spec.title,
                "version": version,
                "status": status,
                "verdict": verdict(gate_results, missing),
                "verdict_reason": verdict_reason(gate_results, missing),
                "started_at": _iso(started),
                "finished_at": _iso(finished),
                "duration_s": round(time.perf_counter() - t0, 3),
                "spec": {
                    "path": str(spec_path),
                    "sha256": spec.sha256,
                    "content": _redacted_spec(spec),
                },
                "inputs": inputs,
                "notebooks": [r.to_dict() for r in runs],
                "cache": {
                    **cache_summary,
                    "spec_dir": str(spec.base_dir.resolve()),
                    "nothing_changed": cache.nothing_changed(
                        ctx, cache_summary, spec.sha256, inputs
                    ),
                },
                "gates": [g.to_dict() for g in gate_results],
                "previous_version": previous,
                "git": pack_git_state(
                    spec.base_dir,
                    [spec.notebook_path(nb).parent for nb in spec.notebooks]
                    + [Path(__file__).resolve().parent],
                ),
                "environment": environment(),
            }
            if withheld:
                manifest["withheld"] = withheld
            scrub_obj(manifest, forms)
            write_text_atomic(
                staging / "index.html",
                scrub_text(
                    front_page(manifest, results, spec.model.description, pack_dir=pack_dir),
                    forms,
                ),
            )
            kill_point("front-page")
            write_manifest(staging, manifest)
            if key is not None:
                sign_version(staging, key)
            kill_point("manifest")
            check_tree(staging, forms)  # fails closed: nothing is published
            _make_readable(staging)
            final = pack_dir / version
            os.rename(staging, final)
            kill_point("published")
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if status == "ok":
            publish_text(pack_dir / LATEST, version + "\n")
            kill_point("latest")
        with locked(out / ".index.lock"):
            if write_site_index(out) is None:
                say(f"left {out / 'index.html'} alone: workbench did not write it")
        kill_point("site-index")
    return BuildResult(
        spec.name,
        version,
        final,
        status,
        manifest["verdict"],
        tuple(runs),
        manifest["duration_s"],
        tuple(withheld),
    )


def _cached_run(
    ctx: cache.CacheContext,
    spec: PackSpec,
    nb: NotebookSpec,
    builtins: dict[str, str],
    declared: set[str],
    page: dict[str, Any],
) -> tuple[NotebookRun | None, str]:
    """The previous version's run of ``nb``, its outputs copied into staging, when its cache
    key is unchanged; else None and why the notebook has to run (recorded in the manifest)."""
    record, secret = recorded_parameters(spec, nb, declared, builtins)
    part = cache.notebook_part(spec.notebook_path(nb), record, page)
    never = cache.uncacheable_reason(record, secret)
    if never:
        return None, never
    entry, why = cache.try_reuse(ctx, nb.name, part)
    if entry is None:
        return None, why
    prev = ctx.previous[nb.name]
    return NotebookRun(
        nb.name,
        nb.path,
        prev["source_sha256"],
        prev["parameters"],  # as the reused execution received them
        status="ok",
        results=bool(prev.get("results")),
        page_bytes=int(prev.get("page_bytes") or 0),
        cache=entry,
    ), why


def _record_execution(
    ctx: cache.CacheContext,
    spec: PackSpec,
    nb: NotebookSpec,
    builtins: dict[str, str],
    declared: set[str],
    page: dict[str, Any],
    run: NotebookRun,
    why: str,
) -> None:
    """Give an executed run its cache entry: the key of what it read (known only now)."""
    record, secret = recorded_parameters(spec, nb, declared, builtins)
    part = cache.notebook_part(spec.notebook_path(nb), record, page)
    never = cache.uncacheable_reason(record, secret)
    executed = cache.digest_events(ctx, nb.name, run.events)
    run.cache = cache.execution_entry(ctx, nb.name, part, executed, why, never)
    run.events = None


def _set_aside_partial_results(staging: Path, name: str) -> None:
    """A notebook that failed after writing its results leaves them under another name, so
    no reader (the builder's gates, the review_summary notebook) takes them as its
    findings: a gate on a failed notebook is unknown, never passed."""
    results = staging / f"{name}.results.json"
    if results.exists():
        os.replace(results, staging / f"{name}.{PARTIAL_RESULTS}")


def _declared(spec: PackSpec, i: int, nb: NotebookSpec) -> set[str]:
    """The notebook's declared parameters; a notebook papermill cannot read is a spec error."""
    try:
        return declared_parameters(spec.notebook_path(nb))
    except Exception as exc:  # papermill raises bare ValueError/JSON errors on bad notebooks
        raise _fail(
            spec.path,
            f"notebooks[{i}].path",
            "a notebook whose parameters cell papermill can read",
            f"{nb.path}: {' '.join(str(exc).split())[:120]}",
        ) from exc


def _check_secrets(spec: PackSpec) -> None:
    for i, nb in enumerate(spec.notebooks):
        for key, value in nb.parameters.items():
            if (
                isinstance(value, EnvParam)
                and value.secret
                and value.default is None
                and not os.environ.get(value.env)
            ):
                raise _fail(
                    spec.path,
                    f"notebooks[{i}].parameters.{key}.env",
                    "a set environment variable holding the secret",
                    value.env,
                )


def _redacted_spec(spec: PackSpec) -> dict[str, Any]:
    content = spec.model.model_dump(mode="json")
    for nb_dump, nb in zip(content["notebooks"], spec.notebooks, strict=True):
        nb_dump["parameters"] = spec.redacted_parameters(nb)
    return content


def _fingerprint(spec: PackSpec, inputs: list[dict[str, Any]]) -> str:
    what = {
        "spec": spec.sha256,
        "inputs": inputs,
        "notebooks": [
            {
                "name": nb.name,
                "sha256": sha256_file(spec.notebook_path(nb)),
                "parameters": spec.redacted_parameters(nb),
            }
            for nb in spec.notebooks
        ],
    }
    return hashlib.sha256(dumps_json(what).encode("utf-8")).hexdigest()[:8]


def _version_name(pack_dir: Path, started: datetime, digest: str) -> str:
    base = f"{started.strftime('%Y%m%dT%H%M%SZ')}-{digest}"
    name, n = base, 1
    while (pack_dir / name).exists():  # same inputs rebuilt within one second
        n += 1
        name = f"{base}-{n}"
    return name


def _make_readable(root: Path) -> None:
    """Atomic writes create 0600 temp files and staging is 0700; published pages and folders
    follow the umask like any file."""
    mask = current_umask()
    for p in root.rglob("*"):
        if p.is_file() and not p.is_symlink():
            p.chmod(0o666 & ~mask)
        elif p.is_dir() and not p.is_symlink():
            p.chmod(0o777 & ~mask)
    root.chmod(0o777 & ~mask)


_LEFTOVER = re.compile(
    rf"^(?:{re.escape(STAGING_PREFIX)}|\.trash-)\d{{8}}T\d{{6}}Z-[0-9a-f]{{8}}(?:-\d+)?$"
)


def remove_stale_staging(pack_dir: Path) -> list[Path]:
    """Staging dirs left by a killed build, trash left by a killed prune (the caller holds
    the pack's lock, so none is in use). Only names this module makes, ``.staging-`` or
    ``.trash-`` followed by a version name, and only real folders (never a symlink's
    target), are removed."""
    removed = []
    for d in pack_dir.iterdir() if pack_dir.is_dir() else []:
        if _LEFTOVER.match(d.name) and d.is_dir() and not d.is_symlink():
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d)
    return removed


def _safe_run(
    spec: PackSpec,
    nb: NotebookSpec,
    staging: Path,
    builtins: dict[str, str],
    declared: set[str],
    page: dict[str, Any],
) -> NotebookRun:
    """run_notebook, but a failure of the machinery itself still yields a failed run and a page."""
    t0 = time.perf_counter()
    try:
        return run_notebook(spec, nb, staging, builtins, declared, page)
    except OSError as exc:
        if exc.errno in ENVIRONMENT_ERRNOS:
            raise  # the machine failed, not the notebook: the build stops, exit 4
        return _failed_run(spec, nb, staging, exc, t0)
    except Exception as exc:
        return _failed_run(spec, nb, staging, exc, t0)


def _failed_run(
    spec: PackSpec, nb: NotebookSpec, staging: Path, exc: Exception, t0: float
) -> NotebookRun:
    """A failed run and a page naming the error, when the machinery itself failed."""
    run = NotebookRun(
        nb.name,
        nb.path,
        sha256_file(spec.notebook_path(nb)),
        spec.redacted_parameters(nb),
        status="failed",
        exec_s=time.perf_counter() - t0,
        error={
            "ename": type(exc).__name__,
            "evalue": " ".join(str(exc).split())[:500],
            "cell_index": None,
            "execution_count": None,
            "anchor": None,
        },
    )
    msg = f"{run.error['ename']}: {run.error['evalue']}"
    write_text_atomic(
        staging / f"{nb.name}.html",
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'">'
        f"<title>{render.escape(nb.name)}</title></head><body><h1>"
        f"{render.escape(nb.name)} could not be run</h1><p>{render.escape(msg)}</p>"
        '<p><a href="index.html">Back to the pack</a></p></body></html>\n',
    )
    run.results = (staging / f"{nb.name}.results.json").exists()
    run.page_bytes = (staging / f"{nb.name}.html").stat().st_size
    return run


def _run_all(
    spec: PackSpec,
    jobs: int,
    task: Callable[[NotebookSpec], NotebookRun],
    say: Callable[[str], None],
) -> list[NotebookRun]:
    """Run every notebook once its ``needs`` are done, at most ``jobs`` at a time."""
    pending = {nb.name: set(nb.needs) for nb in spec.notebooks}
    done: dict[str, NotebookRun] = {}
    width = max(len(nb.name) for nb in spec.notebooks)
    total = len(spec.notebooks)
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="pack") as pool:
        running: dict[Future[NotebookRun], str] = {}

        def submit_ready() -> None:
            for name in [n for n, deps in pending.items() if deps <= done.keys()]:
                del pending[name]
                running[pool.submit(task, spec.notebook(name))] = name

        submit_ready()
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                name = running.pop(fut)
                run = fut.result()
                done[name] = run
                note = (
                    ""
                    if run.status == "ok"
                    else f"  {run.error['ename']}: {run.error['evalue']}"[:160]
                )
                say(
                    f"[{len(done)}/{total}] {name:<{width}}  {run.status:<6}  "
                    f"exec {run.exec_s:5.1f} s  "
                    f"export {run.export_s:4.1f} s  page {run.page_bytes / 1e6:4.2f} MB"
                    f"{' (over 2 MB)' if run.page_bytes > 2_000_000 else ''}{note}"
                )
            submit_ready()
    return [done[nb.name] for nb in spec.notebooks]

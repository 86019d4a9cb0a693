"""The execute stage of ``pack build``: run each notebook of a plan with papermill and
export its page.

:func:`run_entry` is one self-contained task (a :class:`~workbench.packs.plan.NotebookEntry`
in, a :class:`NotebookRun` out, files written into the entry's staging dir), so the
builder fans runs out over a thread pool (:func:`run_plan`) today and a distributed
scheduler can call the same function later. Runs
use threads, not processes: the work happens in the kernel subprocess, and threads avoid
paying interpreter + papermill import per notebook. Nothing here calls ``os.chdir``
(papermill's ``cwd=`` does, which is process-global): the kernel's working directory is
set through nbclient's ``resources['metadata']['path']``.

Secrets: a parameter ``{env: VAR, secret: true}`` reaches the kernel through its
inherited environment. papermill writes a placeholder into the injected cell, which we
rewrite to ``os.environ["VAR"]``, so the value is never a literal in the notebook; every
output is then scrubbed of the value in each of its encodings as a second line of
defence (:mod:`workbench.packs.scrub`).

papermill saves the executed notebook after every cell, secrets and all: it saves into a
private temporary folder (mode 0700, marked as workbench's), removed on every exit path;
one left by a killed build is removed by the next build or ``pack prune``. Only the
scrubbed notebook is written into the version's staging folder.

Charts: a pack kernel sends each chart's spec and the builder draws it as SVG, once the
kernel is done and before anything is scrubbed, written or exported
(:mod:`workbench.packs.charts`): one vl-convert runtime per builder, not one per kernel.

Kernels start with ``_kernel_shims`` first on PYTHONPATH; it only hides the optional
``rfc3987_syntax`` package, whose import costs ~2.6 s of CPU per kernel (measured with
/usr/bin/time: importing polars + altair + workbench.render, 3.5 s user vs 0.9 s), and
installs the read recorder. :func:`run_plan` runs inside
:func:`~workbench.packs.kernels.warm_kernels`: kernels are forked from a server, started
with the build, that imported ipykernel, numpy, polars, pandas, altair and the workbench
areas once. A kernel is killed once its notebook has run (``shutdown_kernel="immediate"``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

# first: hides rfc3987_syntax from nbformat's jsonschema (see _papermill)
from workbench.packs import _papermill  # isort: skip

import nbformat  # noqa: E402

from workbench.io import write_text_atomic  # noqa: E402
from workbench.packs import cache, charts, pages  # noqa: E402
from workbench.packs import kernels as kernels_mod  # noqa: E402
from workbench.packs._faults import kill_point  # noqa: E402
from workbench.packs.plan import BuildPlan, NotebookEntry, SecretRef  # noqa: E402
from workbench.packs.scrub import (  # noqa: E402
    MIN_SCRUB,
    SCRUBBED,
    scrub_obj,
    scrub_text,
    secret_forms,
)
from workbench.packs.spec import REDACTED  # noqa: E402

__all__ = ["MIN_SCRUB", "SCRUBBED"]

KERNEL_SHIMS = kernels_mod.KERNEL_SHIMS
TEMP_MARKER = ".workbench-temp"  # in every private temp folder: "<pid>\n"
# a full disk, a quota or a read-only or failing filesystem while a notebook's outputs are
# written: not the notebook's failure (exit 3) but the environment's (exit 4)
ENVIRONMENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO})
PARTIAL_RESULTS = "results.partial.json"  # <name>.results.partial.json: a failed run's results
_PLACEHOLDER_RE = re.compile(r"""(["'])__workbench_secret_(\d+)__\1""")
# start the kernel of a notebook while the notebooks it reads finish (run_plan);
# WORKBENCH_START_AHEAD=0 turns it off
AHEAD = os.environ.get("WORKBENCH_START_AHEAD", "1").strip() not in {"0", "false", "no", "off"}


@dataclass
class NotebookRun:
    """What happened to one notebook; recorded in the manifest."""

    name: str
    source: str  # path as written in the spec
    source_sha256: str
    parameters: dict[str, Any]  # as injected, secrets redacted
    status: str = "pending"  # ok | failed
    exec_s: float = 0.0
    export_s: float = 0.0
    error: dict[str, Any] | None = None
    results: bool = False  # <name>.results.json was written
    page_bytes: int = 0         # size of <name>.html (a page should stay under 2 MB)
    cache: dict[str, Any] | None = None  # key, what went into it, reuse (packs.cache)
    events: list[dict[str, str]] | None = None  # what the kernel read and wrote (not recorded)
    launch: str | None = None  # "warm" (forked by packs.kernels) or "ordinary (why)"; not recorded

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "source_sha256": self.source_sha256,
            "parameters": self.parameters,
            "status": self.status,
            "duration_s": round(self.exec_s + self.export_s, 3),
            "execution_s": round(self.exec_s, 3),
            "export_s": round(self.export_s, 3),
            "error": self.error,
            "results": self.results,
            "page_bytes": self.page_bytes,
            **({"cache": self.cache} if self.cache is not None else {}),
        }


def scrub(obj: Any, values: Iterable[str]) -> Any:
    """``obj`` with every encoding of each secret value replaced (strings, dicts, lists).

    Values shorter than MIN_SCRUB characters are left alone: replacing every "a" would
    destroy the page, and such a value is no secret (it still never appears as a literal).
    """
    return scrub_obj(obj, secret_forms(values))


_TEMP_RE = re.compile(r"^workbench-(\d+)-")


def _temp_prefix() -> str:
    """Temp names carry the builder's pid, so leftovers of a killed build can be found."""
    return f"workbench-{os.getpid()}-"


def private_temp_dir(label: str) -> Path:
    """A new 0700 folder in the temp dir, carrying the marker that lets cleanup find it."""
    d = Path(tempfile.mkdtemp(prefix=f"{_temp_prefix()}{label}-"))  # mkdtemp: mode 0700
    (d / TEMP_MARKER).write_text(f"{os.getpid()}\n", encoding="utf-8")
    return d


def remove_private_temp(d: Path) -> bool:
    """Remove a private temp folder, its marker last: a build killed half-way through (or
    a kernel still writing into it) leaves a folder that :func:`remove_orphan_temp` still
    recognises. True when the folder is gone."""
    marker = d / TEMP_MARKER
    with contextlib.suppress(OSError):
        for child in list(d.iterdir()):
            if child.name == TEMP_MARKER:
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
    try:
        owner = marker.read_bytes()
    except OSError:
        owner = None
    with contextlib.suppress(OSError):
        marker.unlink(missing_ok=True)
    try:
        d.rmdir()
    except FileNotFoundError:
        return True
    except OSError:  # something appeared meanwhile: put the marker back for the next sweep
        if owner:
            with contextlib.suppress(OSError):
                marker.write_bytes(owner)
        return False
    return True


def remove_orphan_temp() -> int:
    """Delete private temp folders of builders that no longer run.

    A SIGKILLed build cannot clean up after itself; the next build (or ``pack prune``)
    does. Only folders this module created are touched: a ``workbench-<pid>-*`` folder
    owned by this user whose marker file names the same pid, or one holding nothing but
    an empty marker (killed while creating it). A user's own ``workbench-2025-q3-report``
    folder carries no marker and stays. Returns how many folders were removed.
    """
    removed = 0
    tmp = Path(tempfile.gettempdir())
    for entry in tmp.glob("workbench-*-*"):
        m = _TEMP_RE.match(entry.name)
        if not m or int(m.group(1)) == os.getpid():
            continue
        try:
            st = entry.lstat()
            if not entry.is_dir() or entry.is_symlink() or st.st_uid != os.getuid():
                continue
            names = os.listdir(entry)
            marker = (entry / TEMP_MARKER).read_text(encoding="utf-8") \
                if TEMP_MARKER in names else ""
        except (OSError, UnicodeDecodeError):
            continue  # not ours, or gone meanwhile
        ours = marker.strip() == m.group(1)
        # killed between mkdtemp and writing the marker: nothing in the folder but perhaps
        # an empty marker, and removing it loses nothing
        unborn = not marker and set(names) <= {TEMP_MARKER}
        if not (ours or unborn) or _pid_alive(int(m.group(1))) is not False:
            continue
        removed += remove_private_temp(entry)
    return removed


def _pid_alive(pid: int) -> bool | None:
    """True alive, False gone, None unknown (another user's, or not a pid at all)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return None
    return True


def _first_error(nb: nbformat.NotebookNode) -> dict[str, Any] | None:
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return {
                    "ename": out.get("ename", ""),
                    "evalue": str(out.get("evalue", ""))[:500],
                    "cell_index": index,
                    "execution_count": cell.get("execution_count"),
                    "anchor": "papermill-error-cell",
                }
    return None




def _read_secrets_from_env(nb: nbformat.NotebookNode, secrets: tuple[SecretRef, ...]) -> None:
    """Rewrite placeholders in the injected cell into environment look-ups."""

    def repl(m: re.Match[str]) -> str:
        param = secrets[int(m.group(2))]
        if param.default is None:
            return f"__import__('os').environ[{param.env!r}]"
        return f"__import__('os').environ.get({param.env!r}, {param.default!r})"

    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.source = _PLACEHOLDER_RE.sub(repl, cell.source)
    params = nb.metadata.get("papermill", {}).get("parameters", {})
    for key, value in list(params.items()):
        if isinstance(value, str) and value.startswith("__workbench_secret_"):
            params[key] = REDACTED


# -- the pack: every entry of the plan, each once its needs are done ------------------------


class Superseded(Exception):  # noqa: N818 - not an error: a run that was not needed
    """A notebook whose kernel was started ahead turned out to need no run: the previous
    version's outputs are reused (``run``), or the build stopped (``run`` is None)."""

    def __init__(self, run: NotebookRun | None) -> None:
        super().__init__(run.name if run is not None else "the build stopped")
        self.run = run


def run_plan(plan: BuildPlan, say: Callable[[str], None]) -> tuple[NotebookRun, ...]:
    """Run every notebook of ``plan`` once its ``needs`` are done (whatever their outcome:
    the summary must still run to report a failure), at most ``plan.jobs`` at a time.

    Meanwhile up to ``plan.jobs`` more notebooks that wait for others and will run
    whatever those write (something else they read, or their code or parameters, changed:
    :func:`cache.runs_whatever`) start their kernels ahead (0.5 to 1 s each, on a core the
    running ones leave idle); the first cell waits for the needs, then for the cache
    (:func:`run_or_reuse`). Those waiting hold at most ``plan.jobs`` of the pool's
    ``2 * plan.jobs`` threads, so what they wait for always gets one. Several opening at
    once may run beside ``plan.jobs`` others for a while."""
    pending = {e.name: set(e.needs) for e in plan.notebooks}
    done: dict[str, NotebookRun] = {}
    waiting: dict[str, threading.Event] = {}  # started ahead, first cell not yet run
    stopped = threading.Event()
    # a notebook's outputs are final (its export may still run): those started ahead that
    # need it may start their first cell
    final = {e.name: threading.Event() for e in plan.notebooks}
    opens = {e.name: threading.Event() for e in plan.notebooks}

    def settle(name: str) -> None:
        final[name].set()
        for e in plan.notebooks:
            if name in e.needs and all(final[n].is_set() for n in e.needs):
                opens[e.name].set()

    width = max(len(e.name) for e in plan.notebooks)
    total = len(plan.notebooks)
    with (
        kernels_mod.warm_kernels(),
        ThreadPoolExecutor(max_workers=2 * plan.jobs, thread_name_prefix="pack") as pool,
    ):
        running: dict[Future[NotebookRun], str] = {}

        def submit_ready() -> None:
            for name in [n for n in waiting if set(plan.entry(n).needs) <= done.keys()]:
                waiting.pop(name).set()
            for name in [n for n, deps in pending.items() if deps <= done.keys()]:
                if len(running) - len(waiting) >= plan.jobs:
                    break
                del pending[name]
                running[pool.submit(run_or_reuse, plan, plan.entry(name),
                                    settled=settle)] = name
            unfinished = {e.name for e in plan.notebooks} - done.keys()
            for name in [n for n, deps in pending.items() if not deps <= done.keys()]:
                if len(waiting) >= plan.jobs or not AHEAD:
                    break
                if not _runs_whatever(plan, plan.entry(name), unfinished):
                    continue  # reused unless what they write changed: no kernel ahead
                del pending[name]
                opened = waiting[name] = opens[name]
                running[pool.submit(run_or_reuse, plan, plan.entry(name), opened,
                                    stopped, settled=settle)] = name

        try:
            submit_ready()
            while running:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in finished:
                    run = done[running.pop(fut)] = fut.result()
                    say(f"[{len(done)}/{total}] {progress_line(run, width)}")
                submit_ready()
        finally:  # a failure stops the build: kernels started ahead must not wait forever
            stopped.set()
            for opened in waiting.values():
                opened.set()
    return tuple(done[e.name] for e in plan.notebooks)


def progress_line(run: NotebookRun, width: int = 0) -> str:
    note = "" if run.status == "ok" or not run.error else (
        f"  {run.error['ename']}: {run.error['evalue']}"[:160])
    return (
        f"{run.name:<{width}}  {run.status:<6}  exec {run.exec_s:5.1f} s  "
        f"export {run.export_s:4.1f} s  page {run.page_bytes / 1e6:4.2f} MB"
        f"{' (over 2 MB)' if run.page_bytes > 2_000_000 else ''}{note}"
    )


def _runs_whatever(plan: BuildPlan, entry: NotebookEntry, running: Iterable[str]) -> bool:
    """Whether ``entry`` will run whatever the notebooks ``running`` write."""
    if plan.cache is None or entry.never_reuse is not None:
        return True
    return cache.runs_whatever(plan.cache, entry.name, entry.cache_part, running)


def imports_that_may_run(plan: BuildPlan) -> list[str]:
    """The modules imported by the notebooks that may run in this build: those whose key
    changed (or that are never reused) and, transitively, those that need one of them
    (what it writes may change). For the warm-kernel server's preloading only: a notebook
    left out still runs, its kernel importing what it needs itself."""
    may = {e.name for e in plan.notebooks if _runs_whatever(plan, e, ())}
    grown = True
    while grown:
        more = {e.name for e in plan.notebooks if may.intersection(e.needs)} - may
        may |= more
        grown = bool(more)
    sources = []
    for e in plan.notebooks:
        if e.name in may:
            nb = nbformat.read(e.path, as_version=4)
            sources += [c.source for c in nb.cells if c.cell_type == "code"]
    return kernels_mod.notebook_imports(sources)


def run_or_reuse(plan: BuildPlan, entry: NotebookEntry,
                 opened: threading.Event | None = None,
                 stopped: threading.Event | None = None,
                 settled: Callable[[str], None] | None = None) -> NotebookRun:
    """The previous version's run of ``entry`` when its cache key is unchanged (its outputs
    copied into staging), else :func:`run_entry` with the key of what it read.

    With ``opened``, ``entry``'s kernel starts now and its first cell waits until
    ``opened`` is set (the outputs of its needs are final), then for the cache's answer: a
    reused run stops the kernel before any cell ran. A kernel that never got that far (it
    did not start) leaves the decision to the ordinary path, after ``opened``.
    ``settled(entry.name)`` is called once what the notebooks that need it read is final:
    when it ran, as soon as papermill returned (before its charts and page); else at the
    end, whatever happened."""
    _final.hook = (lambda: settled(entry.name)) if settled is not None else None
    try:
        return _run_or_reuse(plan, entry, opened, stopped)
    finally:
        outputs_final()


_final = threading.local()  # .hook: what outputs_final() calls, once, in this thread


def outputs_final() -> None:
    """The notebook this thread runs has written what the notebooks that need it read
    (its results, set aside if it failed); its page may still be drawn."""
    hook, _final.hook = getattr(_final, "hook", None), None
    if hook is not None:
        hook()


def _run_or_reuse(plan: BuildPlan, entry: NotebookEntry, opened: threading.Event | None,
                  stopped: threading.Event | None) -> NotebookRun:
    if opened is not None:
        decided: list[str] = []  # why the notebook runs, once its gate asked the cache

        def gate() -> None:
            opened.wait()
            if stopped is not None and stopped.is_set():
                raise Superseded(None)
            try:
                reused, why = _reused(plan, entry)
            except Exception as exc:  # raised where the ordinary path raises it, below
                raise Superseded(None) from exc
            if reused is not None:
                raise Superseded(reused)
            decided.append(why)

        try:
            run = run_entry(entry, gate)
        except Superseded as s:
            if s.run is None:
                raise (s.__cause__ or s) from None
            return s.run
        if decided:
            return _with_key(plan, entry, run, decided[0])
        opened.wait()
    reused, why = _reused(plan, entry)
    if reused is not None:
        return reused
    return _with_key(plan, entry, run_entry(entry), why)


def _reused(plan: BuildPlan, entry: NotebookEntry) -> tuple[NotebookRun | None, str]:
    """The previous version's run of ``entry`` when its key is unchanged, else None and
    why it must run ("" without a cache)."""
    ctx = plan.cache
    if ctx is None:
        return None, ""
    why = entry.never_reuse
    if why is None:
        reused, why = cache.try_reuse(ctx, entry.name, entry.cache_part)
        if reused is not None:
            prev = ctx.previous[entry.name]
            return NotebookRun(
                entry.name,
                entry.source,
                prev["source_sha256"],
                prev["parameters"],  # as the reused execution received them
                status="ok",
                results=bool(prev.get("results")),
                page_bytes=int(prev.get("page_bytes") or 0),
                cache=reused,
            ), ""
    return None, why


def _with_key(plan: BuildPlan, entry: NotebookEntry, run: NotebookRun,
              why: str) -> NotebookRun:
    """``run`` with its cache entry: the key of what it read, and why it ran."""
    ctx = plan.cache
    if ctx is None:
        return run
    executed = cache.digest_events(ctx, entry.name, run.events)
    run.cache = cache.execution_entry(
        ctx, entry.name, entry.cache_part, executed, why, entry.never_reuse
    )
    run.events = None
    return run


# -- one notebook: the task a scheduler calls (plan entry in, run record out) ---------------


def run_entry(entry: NotebookEntry, gate: Callable[[], None] | None = None) -> NotebookRun:
    """Execute one notebook of a plan into ``entry.staging``: ``<name>.ipynb`` (scrubbed),
    ``<name>.html`` and whatever the notebook writes (its ``<name>.results.json``).

    Never raises for the notebook's own failure or the machinery's (the run is ``failed``
    and its page names the error); an OSError of a full or read-only disk propagates (the
    environment failed, the build stops), and so does the :class:`Superseded` of ``gate``
    (see :func:`_execute`). Everything it needs is in ``entry``, so a distributed
    scheduler can call it in another process.
    """
    kill_point(f"notebook-start:{entry.name}")
    t0 = time.perf_counter()
    try:
        run = run_notebook(entry, gate)
    except Superseded:
        raise
    except OSError as exc:
        if exc.errno in ENVIRONMENT_ERRNOS:
            raise  # the machine failed, not the notebook: the build stops, exit 4
        run = _failed_run(entry, exc, t0)
    except Exception as exc:
        run = _failed_run(entry, exc, t0)
    if run.status != "ok":
        _set_aside_partial_results(entry.staging, entry.name)
    kill_point(f"notebook-done:{entry.name}")
    return run


def run_notebook(entry: NotebookEntry, gate: Callable[[], None] | None = None) -> NotebookRun:
    """Parameterize, execute, scrub and export one notebook (may raise; see run_entry)."""
    _papermill.load()
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    run = NotebookRun(entry.name, entry.source, entry.source_sha256, dict(entry.record))
    nb = load_notebook_node(str(entry.path))  # also gives every cell the tags papermill expects
    kernel = nb.metadata.get("kernelspec", {}).get("name") or "python3"
    if entry.inject:
        nb = parameterize_notebook(nb, dict(entry.inject), kernel_name=kernel,
                                   language="python")
        _read_secrets_from_env(nb, entry.secrets)
    # papermill saves the executed notebook after each cell: into the private folder, never
    # staging, and records input_path in the metadata: give it a file, not the node
    work = private_temp_dir(entry.name)
    charts.warm_up()  # the builder draws the kernel's charts: its runtime starts meanwhile
    try:
        executed = _execute(entry, nb, kernel, work, run, gate)
        kill_point(f"executed:{entry.name}")
    finally:
        remove_private_temp(work)
    if run.status == "ok":  # (a failed run's results are set aside first: run_entry)
        outputs_final()
    _draw_charts(executed, run)
    _write_scrubbed(entry, executed, run)
    kill_point(f"scrubbed:{entry.name}")
    _export(entry, executed, run)
    kill_point(f"exported:{entry.name}")
    return run


def _kernel_manager(ipc_dir: Path, kernels: list[Any], reads: Path,
                    imports: list[str] | None = None) -> type:
    """A kernel manager class whose kernels the watchdog can find and kill, forked from the
    active warm-kernel server when there is one (:mod:`workbench.packs.kernels`)."""
    from jupyter_client.manager import AsyncKernelManager

    class _TrackedKernelManager(AsyncKernelManager):
        """Lets the watchdog find the kernel process; nbclient still owns and cleans it up."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # IPC sockets in a private temp dir: no TCP ports to race for between parallel
            # kernels, and no "running over TCP without encryption" warning in the log.
            self.transport = "ipc"
            self.ip = str(ipc_dir / "kernel")
            # the connection file (it holds the session key) there too, not as a tmp*.json
            # in $TMPDIR that a killed build would leave behind
            self.connection_file = str(ipc_dir / "connection.json")
            self.client_factory = kernels_mod.ReadyClient
            kernels.append(self)

        async def _async_pre_start_kernel(self, **kw: Any) -> Any:
            env = kernels_mod.kernel_env(kw.pop("env", None))
            env[cache.READS_ENV] = str(reads)  # what the notebook reads: packs.cache
            if imports:  # preloaded by the warm-kernel server before it forks this kernel
                env[kernels_mod.IMPORTS_ENV] = ",".join(imports)
            if self.provisioner is None:
                self.kernel_id = self.kernel_id or kw.pop("kernel_id", None) or str(uuid4())
                self.provisioner = kernels_mod.WarmProvisioner(
                    kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self
                )
            return await super()._async_pre_start_kernel(env=env, **kw)

        async def _async_post_start_kernel(self, **kw: Any) -> None:
            prov = self.provisioner
            self.launched = "warm" if getattr(prov, "warm", False) else (
                f"ordinary ({getattr(prov, 'fallback_reason', None) or 'not forked'})")
            await super()._async_post_start_kernel(**kw)

    return _TrackedKernelManager


def _execute(
    entry: NotebookEntry, nb: nbformat.NotebookNode, kernel: str, work: Path, run: NotebookRun,
    gate: Callable[[], None] | None = None,
) -> nbformat.NotebookNode:
    """papermill under a watchdog; the executed notebook, however far it got. With
    ``gate``, the kernel starts now and the first cell waits for ``gate()`` (which may
    raise :class:`Superseded`); the watchdog and the execution time start after it."""
    papermill = _papermill.load()
    from papermill.exceptions import PapermillExecutionError

    tmp_name = str(work / "input.ipynb")
    out_ipynb = work / f"{entry.name}.ipynb"
    nbformat.write(nb, tmp_name)
    kernels: list[Any] = []
    ipc_dir = work / "kernel"
    ipc_dir.mkdir()
    timed_out = threading.Event()
    finished = threading.Event()

    def _watchdog() -> None:
        timed_out.set()
        # a kernel still starting (a warm kernel waits for the server's imports on a busy
        # machine) has no process yet: try again until there is one to kill
        while not finished.is_set():
            procs = [getattr(getattr(km, "provisioner", None), "process", None)
                     for km in kernels]
            for proc in procs:
                if proc is not None:
                    proc.kill()
            if any(p is not None for p in procs) or finished.wait(0.2):
                return

    # threading.Timer raises OverflowError in its own thread past TIMEOUT_MAX, which ends
    # the watchdog silently: a longer limit is no limit, so clamp it
    timer = threading.Timer(min(entry.max_duration, threading.TIMEOUT_MAX), _watchdog)
    timer.daemon = True
    t0 = time.perf_counter()

    def _opened() -> None:  # the kernel is up: wait for the gate, then the clock starts
        nonlocal t0
        if gate is not None:
            gate()
            t0 = time.perf_counter()
            timer.start()

    if gate is None:
        timer.start()
    try:
        executed = papermill.execute_notebook(
            tmp_name,
            str(out_ipynb),
            kernel_name=kernel,
            language="python",
            progress_bar=False,
            engine_name=_papermill.ENGINE,  # saves at the ends of the run, not per cell
            request_save_on_cell_execute=True,
            start_timeout=120,
            execution_timeout=entry.timeout,
            # every cell has run and its outputs are in: SIGKILL the kernel rather than ask
            # it to exit (nbclient's "graceful" waits for the interpreter's teardown: 0.2 to
            # 0.9 s per notebook on the 2-core machine, 2.9 s when the kernel was busy
            # tearing down and had to be interrupted first). Nothing of the kernel's is
            # lost: results are written by cells (atomically), the read recorder writes
            # each event unbuffered
            shutdown_kernel="immediate",
            kernel_manager_class=_kernel_manager(
                ipc_dir, kernels, cache.reads_file(work),
                kernels_mod.notebook_imports(
                    [c.source for c in nb.cells if c.cell_type == "code"])),
            resources={"metadata": {"path": str(entry.path.parent)}},
            before_first_cell=_opened,
        )
        run.status = "ok"
    except Superseded:
        raise
    except PapermillExecutionError:
        executed = nbformat.read(out_ipynb, as_version=4)
        run.status = "failed"
        run.error = _first_error(executed)
    except Exception as exc:  # kernel died, cell timeout, watchdog: keep what ran so far
        executed = nbformat.read(out_ipynb, as_version=4) if out_ipynb.exists() else nb
        _stopped(entry, executed, run, exc, timed_out.is_set())
    finally:
        finished.set()
        timer.cancel()
    run.exec_s = time.perf_counter() - t0
    run.launch = "; ".join(getattr(km, "launched", "not started") for km in kernels) or None
    run.events = cache.read_events(cache.reads_file(work))
    executed.metadata.setdefault("papermill", {}).update(
        input_path=entry.source, output_path=f"{entry.name}.ipynb"
    )
    return executed


def _stopped(entry: NotebookEntry, executed: nbformat.NotebookNode, run: NotebookRun,
             exc: Exception, timed_out: bool) -> None:
    """Record a run the kernel did not finish (died, cell timeout, watchdog)."""
    run.status = "failed"
    if timed_out:
        ename = "Timeout"
        evalue = f"the notebook ran longer than {entry.max_duration} s and was stopped"
    else:
        ename, evalue = type(exc).__name__, " ".join(str(exc).split())[:500]
    run.error = {"ename": ename, "evalue": evalue, "cell_index": None,
                 "execution_count": None, "anchor": None}
    executed.cells.append(
        nbformat.v4.new_markdown_cell(f"**The notebook stopped: {ename}.** See the banner above.")
    )


def _draw_charts(executed: nbformat.NotebookNode, run: NotebookRun) -> None:
    """Every chart the kernel left to the builder, as SVG (:mod:`workbench.packs.charts`);
    a chart that cannot be drawn fails the run, as it failed its cell in the kernel. The
    time counts as the page's (``export_s``)."""
    t0 = time.perf_counter()
    error = charts.draw(executed)
    if error is not None and run.status == "ok":
        run.status, run.error = "failed", error
    run.export_s = time.perf_counter() - t0


def _write_scrubbed(entry: NotebookEntry, executed: nbformat.NotebookNode,
                    run: NotebookRun) -> None:
    """Scrub every secret of the pack from the executed notebook, the error and the results,
    then write the notebook into staging."""
    forms = secret_forms(entry.secret_values)
    results = entry.staging / f"{entry.name}.results.json"
    if forms:
        scrub_obj(executed, forms)
        if run.error:
            scrub_obj(run.error, forms)
        # the results file as text: a malformed one is scrubbed too (never skipped)
        if results.exists():
            write_text_atomic(results, scrub_text(results.read_text(encoding="utf-8"), forms))
    write_text_atomic(entry.staging / f"{entry.name}.ipynb", nbformat.writes(executed))
    run.results = results.exists()


def _export(entry: NotebookEntry, executed: nbformat.NotebookNode, run: NotebookRun) -> None:
    from workbench.packs.export import export_html

    out_html = entry.staging / f"{entry.name}.html"
    t1 = time.perf_counter()
    export_html(
        executed,
        out_html,
        {**entry.page, "name": entry.name, "source": entry.source, "error": run.error},
    )
    run.export_s += time.perf_counter() - t1
    run.page_bytes = out_html.stat().st_size


def _failed_run(entry: NotebookEntry, exc: Exception, t0: float) -> NotebookRun:
    """A failed run and a page naming the error, when the machinery itself failed."""
    run = NotebookRun(
        entry.name,
        entry.source,
        entry.source_sha256,
        dict(entry.spec_parameters),
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
    msg = f"{run.error['ename']}: {run.error['evalue']}"  # type: ignore[index]
    page = entry.staging / f"{entry.name}.html"
    write_text_atomic(page, pages.page("packs/failed_run.html.j2", name=entry.name,
                                       message=msg))
    run.results = (entry.staging / f"{entry.name}.results.json").exists()
    run.page_bytes = page.stat().st_size
    return run


def _set_aside_partial_results(staging: Path, name: str) -> None:
    """A notebook that failed after writing its results leaves them under another name, so
    no reader (the builder's gates, the review_summary notebook) takes them as its
    findings: a gate on a failed notebook is unknown, never passed."""
    results = staging / f"{name}.results.json"
    if results.exists():
        os.replace(results, staging / f"{name}.{PARTIAL_RESULTS}")

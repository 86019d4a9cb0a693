"""Run one notebook of a pack with papermill and export its page.

Each run is a self-contained task (notebook + parameters + staging dir -> files), so the
builder can fan runs out over a thread pool today and onto another executor later. Runs
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

Kernels start with ``_kernel_shims`` first on PYTHONPATH; it only hides the optional
``rfc3987_syntax`` package, whose import costs ~2.6 s of CPU per kernel (measured with
/usr/bin/time: importing polars + altair + workbench.render, 3.5 s user vs 0.9 s).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# jsonschema (imported by nbformat) loads rfc3987_syntax when it is installed, which builds
# a Lark grammar on import: ~2.5 s of CPU on the 2-core dev machine, for IRI format checks
# nbformat never makes. Marking it absent makes jsonschema skip those checks, as it does
# when the optional package is not installed.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

import nbformat  # noqa: E402

from workbench.io import sha256_file, write_text_atomic  # noqa: E402
from workbench.packs._faults import kill_point  # noqa: E402
from workbench.packs.cache import READS_ENV, read_events, reads_file  # noqa: E402
from workbench.packs.scrub import (  # noqa: E402
    MIN_SCRUB,
    SCRUBBED,
    scrub_obj,
    scrub_text,
    secret_forms,
)
from workbench.packs.spec import REDACTED, EnvParam, NotebookSpec, PackSpec, PathParam  # noqa: E402

__all__ = ["MIN_SCRUB", "SCRUBBED"]

KERNEL_SHIMS = Path(__file__).resolve().parent / "_kernel_shims"
TEMP_MARKER = ".workbench-temp"  # in every private temp folder: "<pid>\n"
BUILTIN_PARAMETERS = ("results_dir", "previous_dir", "pack_spec")
_PLACEHOLDER = "__workbench_secret_{}__"
_PLACEHOLDER_RE = re.compile(r"""(["'])__workbench_secret_(\d+)__\1""")


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


def declared_parameters(path: Path) -> set[str]:
    """Names in the notebook's ``parameters`` cell (papermill's own parser)."""
    import papermill

    # papermill logs a warning per line it cannot parse (e.g. a quote inside a comment);
    # such a line is simply not a declared parameter, which check_declared_parameters reports.
    log = logging.getLogger("papermill")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        return set(papermill.inspect_notebook(str(path)))
    finally:
        log.setLevel(level)


def _parameters(
    spec: PackSpec, nb: NotebookSpec, declared: set[str], builtins: dict[str, str]
) -> tuple[dict[str, Any], dict[str, Any], list[tuple[EnvParam, str | None]]]:
    """(values to inject, values to record, secrets [(param, value)])."""
    inject: dict[str, Any] = {k: v for k, v in builtins.items() if k in declared}
    record = dict(inject)
    secrets: list[tuple[EnvParam, str | None]] = []
    for key, value in nb.parameters.items():
        if isinstance(value, EnvParam) and value.secret:
            inject[key] = _PLACEHOLDER.format(len(secrets))
            record[key] = REDACTED
            secrets.append((value, os.environ.get(value.env)))
        elif isinstance(value, EnvParam):
            inject[key] = record[key] = os.environ.get(value.env, value.default)
        elif isinstance(value, PathParam):
            inject[key] = record[key] = str((spec.base_dir / value.path).resolve())
        else:
            inject[key] = record[key] = value
    return inject, record, secrets


def recorded_parameters(
    spec: PackSpec, nb: NotebookSpec, declared: set[str], builtins: dict[str, str]
) -> tuple[dict[str, Any], list[str]]:
    """(the parameters as the manifest records them, the names of secret parameters)."""
    _inject, record, _secrets = _parameters(spec, nb, declared, builtins)
    secret = [k for k, v in nb.parameters.items() if isinstance(v, EnvParam) and v.secret]
    return record, secret


def _read_secrets_from_env(
    nb: nbformat.NotebookNode, secrets: list[tuple[EnvParam, str | None]]
) -> None:
    """Rewrite placeholders in the injected cell into environment look-ups."""

    def repl(m: re.Match[str]) -> str:
        param = secrets[int(m.group(2))][0]
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


def remove_orphan_temp() -> int:
    """Delete private temp folders of builders that no longer run.

    A SIGKILLed build cannot clean up after itself; the next build (or ``pack prune``)
    does. Only folders this module created are touched: a ``workbench-<pid>-*`` folder
    owned by this user whose marker file names the same pid. A user's own
    ``workbench-2025-q3-report`` folder carries no marker and stays. Returns how many
    folders were removed.
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
            if (entry / TEMP_MARKER).read_text(encoding="utf-8").strip() != m.group(1):
                continue
        except FileNotFoundError:
            # killed between mkdtemp and writing the marker: an empty folder, and removing
            # an empty folder loses nothing (rmdir refuses any other)
            if _pid_alive(int(m.group(1))) is False:
                with contextlib.suppress(OSError):
                    entry.rmdir()
                    removed += 1
            continue
        except (OSError, UnicodeDecodeError):
            continue  # not ours
        if _pid_alive(int(m.group(1))) is not False:
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed += 1
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


def pack_secret_values(spec: PackSpec) -> list[str]:
    """The values of every secret parameter in the spec (from the environment or defaults)."""
    values = []
    for nb in spec.notebooks:
        for param in nb.parameters.values():
            if isinstance(param, EnvParam) and param.secret:
                value = os.environ.get(param.env, param.default)
                if value not in (None, ""):
                    values.append(str(value))
    return values


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


def run_notebook(
    spec: PackSpec,
    nb_spec: NotebookSpec,
    staging: Path,
    builtins: dict[str, str],
    declared: set[str],
    wb_page: dict[str, Any],
) -> NotebookRun:
    """Execute ``nb_spec`` into ``staging`` as <name>.ipynb and <name>.html.

    The notebook itself writes <name>.results.json into ``results_dir`` (the staging dir).
    """
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    src = spec.notebook_path(nb_spec)
    inject, record, secrets = _parameters(spec, nb_spec, declared, builtins)
    run = NotebookRun(nb_spec.name, nb_spec.path, sha256_file(src), record)
    final_ipynb = staging / f"{nb_spec.name}.ipynb"
    out_html = staging / f"{nb_spec.name}.html"
    # every secret of the pack, not only this notebook's: all kernels inherit the
    # environment, so another notebook could print os.environ
    forms = secret_forms(pack_secret_values(spec))

    nb = load_notebook_node(str(src))  # also gives every cell the tags list papermill expects
    kernel = nb.metadata.get("kernelspec", {}).get("name") or "python3"
    if inject:
        nb = parameterize_notebook(nb, inject, kernel_name=kernel, language="python")
        _read_secrets_from_env(nb, secrets)
    # papermill records input_path in the metadata: give it a file, not the in-memory node.
    # It saves the executed notebook after each cell: into the private folder, never staging.
    work = private_temp_dir(nb_spec.name)
    try:
        return _execute(nb, nb_spec, src, kernel, work, final_ipynb, out_html, run, forms,
                        wb_page)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _execute(
    nb: nbformat.NotebookNode,
    nb_spec: NotebookSpec,
    src: Path,
    kernel: str,
    work: Path,
    final_ipynb: Path,
    out_html: Path,
    run: NotebookRun,
    forms: list[str],
    wb_page: dict[str, Any],
) -> NotebookRun:
    import papermill
    from jupyter_client.manager import AsyncKernelManager
    from papermill.exceptions import PapermillExecutionError

    from workbench.packs.export import export_html

    staging = final_ipynb.parent
    tmp_name = str(work / "input.ipynb")
    out_ipynb = work / final_ipynb.name
    nbformat.write(nb, tmp_name)

    kernels: list[Any] = []
    ipc_dir = work / "kernel"
    ipc_dir.mkdir()

    class _TrackedKernelManager(AsyncKernelManager):
        """Lets the watchdog find the kernel process; nbclient still owns and cleans it up."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # IPC sockets in a private temp dir: no TCP ports to race for between parallel
            # kernels, and no "running over TCP without encryption" warning in the log.
            self.transport = "ipc"
            self.ip = str(Path(ipc_dir) / "kernel")
            kernels.append(self)

        async def _async_pre_start_kernel(self, **kw: Any) -> Any:
            env = dict(kw.pop("env", None) or os.environ)
            paths = (str(KERNEL_SHIMS), env.get("PYTHONPATH"))
            env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
            env["WORKBENCH_PACK_BUILD"] = "1"  # render.setup(): static SVG charts, no script
            env[READS_ENV] = str(reads_file(work))  # what the notebook reads: packs.cache
            return await super()._async_pre_start_kernel(env=env, **kw)

    timed_out = threading.Event()

    def _watchdog() -> None:
        timed_out.set()
        for km in kernels:
            proc = getattr(getattr(km, "provisioner", None), "process", None)
            if proc is not None:
                proc.kill()

    # threading.Timer raises OverflowError in its own thread past TIMEOUT_MAX, which ends
    # the watchdog silently: a longer limit is no limit, so clamp it
    timer = threading.Timer(min(nb_spec.max_duration, threading.TIMEOUT_MAX), _watchdog)
    timer.daemon = True
    t0 = time.perf_counter()
    timer.start()
    try:
        executed = papermill.execute_notebook(
            tmp_name,
            str(out_ipynb),
            kernel_name=kernel,
            language="python",
            progress_bar=False,
            request_save_on_cell_execute=True,
            start_timeout=120,
            execution_timeout=nb_spec.timeout,
            kernel_manager_class=_TrackedKernelManager,
            resources={"metadata": {"path": str(src.parent)}},
        )
        run.status = "ok"
    except PapermillExecutionError:
        executed = nbformat.read(out_ipynb, as_version=4)
        run.status = "failed"
        run.error = _first_error(executed)
    except Exception as exc:  # kernel died, cell timeout, watchdog: keep what ran so far
        executed = nbformat.read(out_ipynb, as_version=4) if out_ipynb.exists() else nb
        run.status = "failed"
        if timed_out.is_set():
            ename, evalue = (
                "Timeout",
                f"the notebook ran longer than {nb_spec.max_duration} s and was stopped",
            )
        else:
            ename, evalue = type(exc).__name__, " ".join(str(exc).split())[:500]
        run.error = {
            "ename": ename,
            "evalue": evalue,
            "cell_index": None,
            "execution_count": None,
            "anchor": None,
        }
        banner = nbformat.v4.new_markdown_cell(
            f"**The notebook stopped: {ename}.** See the banner above."
        )
        executed.cells.append(banner)
    finally:
        timer.cancel()
    run.exec_s = time.perf_counter() - t0
    run.events = read_events(reads_file(work))
    kill_point(f"executed:{nb_spec.name}")
    executed.metadata.setdefault("papermill", {}).update(
        input_path=nb_spec.path, output_path=final_ipynb.name
    )

    if forms:
        scrub_obj(executed, forms)
        if run.error:
            scrub_obj(run.error, forms)
        # the results file as text: a malformed one is scrubbed too (never skipped)
        results = staging / f"{nb_spec.name}.results.json"
        if results.exists():
            write_text_atomic(results, scrub_text(results.read_text(encoding="utf-8"), forms))
    write_text_atomic(final_ipynb, nbformat.writes(executed))
    run.results = (staging / f"{nb_spec.name}.results.json").exists()
    kill_point(f"scrubbed:{nb_spec.name}")

    t1 = time.perf_counter()
    export_html(
        executed,
        out_html,
        {**wb_page, "name": nb_spec.name, "source": nb_spec.path, "error": run.error},
    )
    run.export_s = time.perf_counter() - t1
    run.page_bytes = out_html.stat().st_size
    kill_point(f"exported:{nb_spec.name}")
    return run

"""The warm-kernel server: imports the heavy, thread-free modules once, then forks one
kernel process per request (the builder's side is :mod:`workbench.packs.kernels`).

Started by the builder as ``python -c "import _workbench_forkserver as s; s.serve(FD)"``
with the kernels' own environment (this folder first on PYTHONPATH, so ``sys.path`` is a
kernel's). It speaks JSON lines over the socket ``FD``:

* server -> builder, once: ``{"ready": true, "threads": N, "busy": [...], "preloaded":
  [...]}`` after importing :data:`PRELOAD`; then, once it has imported :data:`LATER` one
  module at a time between requests: ``{"preloaded_later": [...], "busy": [...]}``;
* builder -> server: ``{"id": I, "argv": [...], "env": {...}, "cwd": "..."}`` (a kernel
  command ``python -m ipykernel_launcher -f CONNECTION_FILE``);
* builder -> server: ``{"op": "only", "modules": [...]}``: of :data:`LATER` still to
  import, keep :data:`BASE` and those named (the imports of the notebooks that may run:
  a rebuild that runs the cost notebook alone does not import scipy, statsmodels and
  scikit-learn beside it on a 2-core machine);
* server -> builder: ``{"id": I, "pid": P}`` or ``{"id": I, "error": "..."}`` (then the
  builder launches that kernel the ordinary way);
* server -> builder: ``{"exit": P, "code": C}`` when kernel P ended (C as
  ``Popen.returncode``: negative for a signal). Only the server can reap its children.

After preloading, ``gc.freeze()`` moves every object into the permanent generation, so
no kernel's collector walks them (measured: the build's CPU saving went from 6 to 17 %).

Fork safety: a fork copies only the calling thread, so a module whose import started a
thread that matters (a worker pool, an allocator's background thread) would leave the child
without it. polars, pyarrow and pandas start only jemalloc background threads and polars'
spill-file cleaner on import: the kernels' environment turns the jemalloc threads off
(:data:`workbench.packs.kernels.PINNED`), and the cleaner (:data:`IDLE_THREADS`) waits on a
channel holding no lock; polars' and rayon's worker pools start at first use, in the
kernel. Before every fork the server checks that no other thread runs
(:func:`busy_threads`); otherwise it answers with an error and the builder falls back to an
ordinary launch. duckdb (a thread on import) is not preloaded.

Lifetime: the server runs in its own session (Ctrl-C reaches the builder, which shuts its
kernels down). When the builder's end of the socket closes (it exited, or was SIGKILLed),
the server SIGKILLs every kernel's process group and exits; each kernel also has
``PR_SET_PDEATHSIG`` = SIGKILL, so a kernel never outlives its server. A server started by
the builder's main thread has it too, so it dies the moment the builder does.

The child becomes a kernel as ``python -m ipykernel_launcher`` would: its own session,
environment, working directory and ``sys.argv``; the read recorder (``_workbench_reads``)
installed when ``WORKBENCH_READS`` is set; numpy's global random state re-seeded from the
OS (a fresh interpreter's is); the import system's caches of the working directory
dropped; then ``runpy`` runs ``ipykernel_launcher`` as ``__main__``,
and the interpreter exits the ordinary way (atexit handlers, thread joins) when it returns.
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import json
import os
import runpy
import select
import signal
import socket
import sys
import threading

# imported before the server reports ready: what every kernel needs to start
PRELOAD = (
    "IPython",
    "zmq",
    "tornado",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
)
# imported one by one after it reports ready, between requests (a request waits for at most
# one import): a kernel forked meanwhile imports the rest itself, as an ordinary one does.
# Ordered by how many notebooks need them. The CPU each saves per kernel, measured on the
# 2-core machine on top of the modules before it: numpy 0.1 s, scipy.stats 1.1 s, altair
# (+ jsonschema) 0.5 s, polars 0.2 s, pandas + pyarrow 0.5 s, a workbench area 0.3 to 0.7 s
# (performance, with scikit-learn, 1.25 s; release, with statsmodels, 0.7 s)
LATER = (
    "numpy",
    "polars",
    "pyarrow",
    "pandas",
    "altair",
    "jsonschema",
    "jinja2",
    "vl_convert",
    "yaml",
    "pydantic",
    "workbench.render",
    "workbench.costs",
    "workbench.incidents",
    "scipy.stats",
    "scipy.signal",
    "scipy.optimize",
    "workbench.drift",
    "sqlglot",
    "workbench.contracts",
    "joblib",
    "workbench.packs",
    "workbench.release",
    "workbench.performance",
)
# every notebook needs these (the rest is one area's or another's)
BASE = LATER[:LATER.index("workbench.render") + 1]
# threads that may exist when the server forks: each is blocked on a queue, holding no lock
# a child could need, and the child does not need it to run (see the module docstring)
IDLE_THREADS = frozenset({
    # polars' spill-file cleaner (started on import: a channel receiver thread). In a
    # forked kernel its queue is never drained, so spill files of a query that spilled to
    # disk stay until the next polars process sweeps the folders of dead processes
    "polars-ooc-clea",  # /proc names are cut to 15 characters
})
# set by the builder in a kernel's environment: the modules its notebook imports (comma-
# separated); those still to preload are imported before that kernel is forked
IMPORTS_ENV = "WORKBENCH_KERNEL_IMPORTS"
_PR_SET_PDEATHSIG = 1
_LAUNCHER = "ipykernel_launcher"


def threads() -> int:
    """Threads of this process."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return -1  # unknown: never fork


def busy_threads() -> list[str] | None:
    """Names of this process's threads other than the calling one and :data:`IDLE_THREADS`
    (empty: safe to fork; None: unknown, never fork)."""
    try:
        tasks = os.listdir("/proc/self/task")
        names = []
        for tid in tasks:
            if int(tid) == threading.get_native_id():
                continue
            with open(f"/proc/self/task/{tid}/comm", encoding="utf-8") as fh:
                names.append(fh.read().strip())
    except (OSError, ValueError):
        return None
    return [n for n in names if n not in IDLE_THREADS]


def preload(names: tuple[str, ...] = PRELOAD) -> list[str]:
    """Import ``names`` (those installed), stopping after any that starts a busy thread."""
    done = []
    for name in names:
        if not import_one(name):
            continue
        done.append(name)
        if busy_threads() != []:
            break  # serve() will refuse to fork: every kernel launches the ordinary way
    return done


def import_one(name: str) -> bool:
    """Import ``name``; False when it is absent or broken (an optional module)."""
    try:
        importlib.import_module(name)
    except Exception:  # noqa: BLE001 - an optional module that is absent or broken
        return False
    return True


class _Server:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.pid = os.getpid()
        self.children: set[int] = set()
        self.todo: list[str] = []  # modules still to preload (loop())
        self.done: list[str] = []  # those preloaded by loop()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)

    def send(self, msg: dict) -> None:
        try:
            self.sock.sendall((json.dumps(msg) + "\n").encode("utf-8"))
        except OSError:
            self.stop()

    def stop(self) -> None:
        """Kill every kernel (its whole process group) and exit."""
        for pid in list(self.children):
            for kill in (os.killpg, os.kill):
                try:
                    kill(pid, signal.SIGKILL)
                    break
                except OSError:
                    continue
        self.reap(report=False)
        os._exit(0)

    def reap(self, report: bool = True) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.children.discard(pid)
            if report:
                self.send({"exit": pid, "code": os.waitstatus_to_exitcode(status)})

    def loop(self, later: tuple[str, ...] = ()) -> dict:
        """Serve until the builder goes away; in a forked child, return its request.

        While nothing is asked, import the modules of ``later`` one at a time (each then
        frozen for the collector, see :func:`serve`); when they are done (or one started a
        busy thread) tell the builder which were imported."""
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self.wake_w)
        buf = b""
        self.todo = list(later)
        while True:
            ready, _, _ = select.select([self.sock, self.wake_r], [], [],
                                        0 if self.todo else None)
            if not ready and self.todo:
                self.import_later(self.todo[0])
                continue
            if self.wake_r in ready:
                while True:
                    try:
                        if not os.read(self.wake_r, 512):
                            break
                    except BlockingIOError:
                        break
                self.reap()
            if self.sock in ready:
                try:
                    data = self.sock.recv(1 << 16)
                except OSError:
                    data = b""
                if not data:
                    self.stop()
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    req = json.loads(line)
                    if req.get("op") == "stop":
                        self.stop()
                    if req.get("op") == "only":
                        self.only(req.get("modules") or [])
                        continue
                    child = self.fork(req)
                    if child is not None:
                        return child

    def import_later(self, name: str) -> None:
        """Import ``name`` of the modules still to preload (then frozen for the
        collector); tell the builder once none is left."""
        self.todo.remove(name)
        if import_one(name):
            self.done.append(name)
            gc.freeze()
        busy = busy_threads()
        if busy != []:
            self.todo.clear()  # fork() now refuses: kernels launch the ordinary way
        if not self.todo:
            self.send({"preloaded_later": self.done, "busy": busy, "threads": threads()})

    def only(self, modules: list[str]) -> None:
        """Import no more of :data:`LATER` than :data:`BASE` and ``modules``."""
        if not self.todo:
            return
        keep = set(BASE) | set(modules)
        self.todo = [n for n in self.todo if n in keep]
        if not self.todo:
            self.send({"preloaded_later": self.done, "busy": busy_threads(),
                       "threads": threads()})

    def preload_for(self, req: dict) -> None:
        """Import the modules the kernel's notebook imports (its request's environment
        names them) that are still to preload: once here, rather than by the kernel while
        this server imports them too."""
        wanted = set((req.get("env") or {}).get(IMPORTS_ENV, "").split(","))
        for name in [n for n in self.todo if n in wanted]:
            if name in self.todo:  # a busy thread empties the list
                self.import_later(name)

    def fork(self, req: dict) -> dict | None:
        self.preload_for(req)
        busy = busy_threads()
        if busy != []:
            self.send({"id": req["id"], "error": f"the server runs threads ({busy})"})
            return None
        argv = req.get("argv") or []
        if argv[1:3] != ["-m", _LAUNCHER]:
            self.send({"id": req["id"], "error": f"not an ipykernel command: {argv[:3]}"})
            return None
        sys.stdout.flush()
        sys.stderr.flush()
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the kernel-to-be
            os.close(r)
            try:
                os.setsid()  # as jupyter_client's start_new_session: interrupts go to the group
                die_with_parent(self.pid)  # exits at once if the server died meanwhile
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                os.close(self.wake_r)
                os.close(self.wake_w)
                self.sock.close()
                os.write(w, b"1")
                os.close(w)
            except BaseException:
                os._exit(70)
            return req
        os.close(w)
        try:
            ok = os.read(r, 1)
        finally:
            os.close(r)
        self.children.add(pid)
        if ok:
            self.send({"id": req["id"], "pid": pid})
        else:  # it died before it was set up (reaped and reported as an exit)
            self.send({"id": req["id"], "error": "the forked kernel died while starting"})
        return None


def serve(fd: int, names: tuple[str, ...] = PRELOAD, later: tuple[str, ...] = LATER,
          owner: int | None = None) -> None:
    """Preload ``names``, report ready, serve while importing ``later``; in each forked
    child, become the requested kernel. With ``owner`` (the builder's pid, when its main
    thread started this server), die with it at once: a SIGKILLed builder's kernels must
    not run on while the next build cleans up its temp folders, and this server notices
    the closed socket only between imports (up to a second)."""
    if owner is not None:
        die_with_parent(owner)
    sock = socket.socket(fileno=fd)
    done = preload(names)
    # the preloaded modules' objects live as long as any kernel: keep the collector from
    # walking them in every kernel (and copying their pages on write); the Python docs'
    # advice for a server that forks
    gc.collect()
    gc.freeze()
    server = _Server(sock)
    busy = busy_threads()
    server.send({"ready": True, "threads": threads(), "busy": busy, "preloaded": done,
                 "pid": os.getpid()})
    req = server.loop(later if busy == [] else ())
    del server
    run_kernel(req)


def die_with_parent(parent: int) -> None:
    """SIGKILL this process when ``parent`` exits (``PR_SET_PDEATHSIG``); exit now if it
    already has."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0 or os.getppid() != parent:
        os._exit(70)


def run_kernel(req: dict) -> None:
    """In the forked child: become ``python -m ipykernel_launcher ARGS`` (see the module
    docstring); returns when the kernel exits."""
    env = dict(req["env"])
    env["JPY_PARENT_PID"] = str(os.getppid())  # ipykernel exits if its parent (server) does
    os.environ.clear()
    os.environ.update(env)
    os.chdir(req["cwd"])
    if env.get("WORKBENCH_READS"):
        import _workbench_reads

        _workbench_reads.install()
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()  # fresh entropy, as a fresh interpreter's global RandomState
    if "random" in sys.modules:
        sys.modules["random"].seed()  # likewise the standard library's
    # python -m puts the working directory first on sys.path (ipykernel_launcher removes it
    # again); python -c put "" there
    if sys.path and sys.path[0] == "":
        sys.path[0] = os.getcwd()
    # the import system as a fresh interpreter's: the working-directory entry ("" and its
    # absolute form) meets the path hooks again at the first import from it (as in an
    # ordinary kernel, where the read recorder sees the same events), and no directory
    # listing cached before the fork hides a module created since
    for entry in ("", os.getcwd()):
        sys.path_importer_cache.pop(entry, None)
    importlib.invalidate_caches()
    sys.argv = [_LAUNCHER, *req["argv"][3:]]
    runpy.run_module(_LAUNCHER, run_name="__main__", alter_sys=True)

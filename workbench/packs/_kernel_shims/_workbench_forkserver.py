"""The warm-kernel server: imports the heavy, thread-free modules once, then forks one
kernel process per request (the builder's side is :mod:`workbench.packs.kernels`).

Started by the builder as ``python -c "import _workbench_forkserver as s; s.serve(FD)"``
with the kernels' own environment (this folder first on PYTHONPATH, so ``sys.path`` is a
kernel's). It speaks JSON lines over the socket ``FD``:

* server -> builder, once: ``{"ready": true, "threads": N, "preloaded": [...]}``;
* builder -> server: ``{"id": I, "argv": [...], "env": {...}, "cwd": "..."}`` (a kernel
  command ``python -m ipykernel_launcher -f CONNECTION_FILE``);
* server -> builder: ``{"id": I, "pid": P}`` or ``{"id": I, "error": "..."}`` (then the
  builder launches that kernel the ordinary way);
* server -> builder: ``{"exit": P, "code": C}`` when kernel P ended (C as
  ``Popen.returncode``: negative for a signal). Only the server can reap its children.

Fork safety: a fork copies only the calling thread, so a module that started threads
(polars, pandas, pyarrow, duckdb, scikit-learn, statsmodels) would be left with a pool whose
threads do not exist. None of those is preloaded, and before every fork the server checks
``/proc/self/task`` holds one thread; otherwise it answers with an error and the builder
falls back to an ordinary launch.

Lifetime: the server runs in its own session (Ctrl-C reaches the builder, which shuts its
kernels down). When the builder's end of the socket closes (it exited, or was SIGKILLed),
the server SIGKILLs every kernel's process group and exits; each kernel also has
``PR_SET_PDEATHSIG`` = SIGKILL, so a kernel never outlives its server.

The child becomes a kernel as ``python -m ipykernel_launcher`` would: its own session,
environment, working directory and ``sys.argv``; the read recorder (``_workbench_reads``)
installed when ``WORKBENCH_READS`` is set; numpy's global random state re-seeded from the
OS (a fresh interpreter's is); the import system's caches of the working directory
dropped; then ``runpy`` runs ``ipykernel_launcher`` as ``__main__``,
and the interpreter exits the ordinary way (atexit handlers, thread joins) when it returns.
"""

from __future__ import annotations

import ctypes
import importlib
import json
import os
import runpy
import select
import signal
import socket
import sys

# thread-free on import (checked: /proc/self/task holds one thread after each, with
# OPENBLAS_NUM_THREADS=1); the CPU each saves per kernel, measured on the 2-core machine:
# ipykernel + IPython 0.3 s, numpy 0.1 s, scipy.stats 1.1 s, altair (+ jsonschema) 0.5 s
PRELOAD = (
    "IPython",
    "zmq",
    "tornado",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "numpy",
    "scipy.stats",
    "scipy.signal",
    "scipy.optimize",
    "altair",
    "jsonschema",
    "jinja2",
    "vl_convert",
    "yaml",
    "sqlglot",
    "pydantic",
    "joblib",
)
_PR_SET_PDEATHSIG = 1
_LAUNCHER = "ipykernel_launcher"


def threads() -> int:
    """Threads of this process (1: safe to fork)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return -1  # unknown: never fork


def preload(names: tuple[str, ...] = PRELOAD) -> list[str]:
    """Import ``names`` (those installed), stopping before any that starts a thread."""
    done = []
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: S112 - an optional module that is absent or broken
            continue
        done.append(name)
        if threads() != 1:
            break  # serve() will refuse to fork: every kernel launches the ordinary way
    return done


class _Server:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.pid = os.getpid()
        self.children: set[int] = set()
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

    def loop(self) -> dict:
        """Serve until the builder goes away; in a forked child, return its request."""
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self.wake_w)
        buf = b""
        while True:
            ready, _, _ = select.select([self.sock, self.wake_r], [], [])
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
                    child = self.fork(req)
                    if child is not None:
                        return child

    def fork(self, req: dict) -> dict | None:
        n = threads()
        if n != 1:
            self.send({"id": req["id"], "error": f"the server runs {n} threads, not 1"})
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
                libc = ctypes.CDLL(None, use_errno=True)
                if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
                    os._exit(70)
                if os.getppid() != self.pid:  # the server died before prctl took effect
                    os._exit(70)
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


def serve(fd: int, names: tuple[str, ...] = PRELOAD) -> None:
    """Preload, report ready, serve; in each forked child, become the requested kernel."""
    sock = socket.socket(fileno=fd)
    done = preload(names)
    server = _Server(sock)
    server.send({"ready": True, "threads": threads(), "preloaded": done, "pid": os.getpid()})
    req = server.loop()
    del server
    run_kernel(req)


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

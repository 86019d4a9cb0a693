"""Warm kernels: notebook kernels forked from a server that imported the heavy modules once.

Every pack kernel used to start a fresh interpreter and import ipykernel, numpy, polars,
pandas, altair and its workbench area again (about 1 to 3 s of CPU per notebook before it
does any work). A :class:`KernelServer` (one process, :mod:`_workbench_forkserver` in
``_kernel_shims``) imports those once and forks a kernel per notebook; the child sets its
own environment, working directory and read recorder, then runs ``ipykernel_launcher``
with the connection file jupyter_client wrote. It is plugged into jupyter_client as a
kernel provisioner (:class:`WarmProvisioner`, a ``LocalProvisioner`` whose ``launch_kernel``
asks the server), so poll, wait, kill, interrupt and the build's watchdog work unchanged
on the process handle it returns (:class:`ForkedKernel`, ``Popen``-like).

The server reports ready once ipykernel is imported, then imports the rest (numpy,
polars, pyarrow, pandas, altair, scipy, every workbench area) one module at a time between
forks, so a kernel asked for early is forked at once with what is there and imports the
rest itself. Nothing that leaves a thread the child would need is preloaded (a fork keeps
the calling thread only): jemalloc's background threads are turned off in every kernel's
environment (:data:`NO_BACKGROUND_THREADS`), polars' spill cleaner is known idle, duckdb
(a thread on import) is imported by the kernel that uses it. The server checks no busy
thread runs before each fork and answers with an error otherwise; the kernel then
launches the ordinary way, as it also does when the kernel's environment
differs from the server's in anything but the per-kernel variables (:data:`PER_KERNEL`),
when its command is not ``python -m ipykernel_launcher``, when no server is active, or
when ``WORKBENCH_WARM_KERNELS=0``. Every kernel, warm or not, gets the same pinned
environment (:func:`kernel_env`), so a result cannot depend on the launch path.

API (for the pack builder and for fleet workers that execute many notebooks):

    with warm_kernels(ordinary_first=0):  # one server for the kernels started inside
        run_entry(entry) ...        # (threads share it; it is stopped on exit); pack
                                    # build starts it with the build, before the spec
                                    # is checked; by default it starts at the second
                                    # kernel (ordinary_first=1)

    shared_server()                 # a per-process server kept until the process exits
                                    # (a Dask worker: call once; kernels then use it)

No kernel outlives its server and no server outlives its owner: the server exits and
SIGKILLs its kernels when the owner's end of the socket closes (also when the owner is
SIGKILLed), and each kernel has ``PR_SET_PDEATHSIG`` = SIGKILL. A server started from
the owner's main thread has it as well: it dies with its owner at once, not at its next
look at the socket.
"""

from __future__ import annotations

import ast
import asyncio
import atexit
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from queue import Empty
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.provisioning import LocalProvisioner

KERNEL_SHIMS = Path(__file__).resolve().parent / "_kernel_shims"
ENV_SWITCH = "WORKBENCH_WARM_KERNELS"  # "0": every kernel launches the ordinary way
# set per kernel (by the builder or jupyter_client); every other variable must equal the
# server's, since the preloaded modules read the environment when they were imported
PER_KERNEL = frozenset({"WORKBENCH_READS", "WORKBENCH_KERNEL_IMPORTS", "JPY_PARENT_PID",
                        "JPY_SESSION_NAME"})
IMPORTS_ENV = "WORKBENCH_KERNEL_IMPORTS"  # the notebook's imports (see notebook_imports)
PINNED = {"OPENBLAS_NUM_THREADS": "1"}  # numpy's BLAS pool would be a thread at fork time
# jemalloc's background purging threads (polars' allocator reads _RJEM_MALLOC_CONF, pyarrow's
# JE_ARROW_MALLOC_CONF) would be threads at fork time; without them jemalloc purges in the
# allocating thread. Appended to the options already there (importing polars sets its own
# decay options in the builder's environment); a background_thread option the user set is
# kept (the server then does not fork)
NO_BACKGROUND_THREADS = ("_RJEM_MALLOC_CONF", "JE_ARROW_MALLOC_CONF")
START_TIMEOUT = 120.0  # seconds for the server's preload plus one fork


# importing polars writes its allocator options in front of _RJEM_MALLOC_CONF in this
# process's environment (polars/__init__.py); a kernel imports polars and writes them
# itself. The value before that, to take them off again: otherwise a server started
# before the builder imported polars (pack build starts it first) and the kernels asked
# for after it see different environments, and no kernel is ever forked
_POLARS_CONF = "_RJEM_MALLOC_CONF"
_POLARS_OPTIONS = frozenset({"dirty_decay_ms", "muzzy_decay_ms", "thp", "metadata_thp"})
_CONF_BEFORE_POLARS = os.environ.get(_POLARS_CONF) if "polars" not in sys.modules else None
_CONF_POLARS_SEEN = "polars" in sys.modules


def _without_polars_options(value: str | None) -> str | None:
    """``value`` of _RJEM_MALLOC_CONF with the options polars' import put in front of what
    was there when this module was imported taken off (as it was before; ``value`` when
    polars was imported earlier, or something else changed it)."""
    if value is None or _CONF_POLARS_SEEN:
        return value
    before = _CONF_BEFORE_POLARS
    head = value if not before else (value[:-len(before) - 1]
                                     if value.endswith("," + before) else None)
    if not head or any(opt.split(":", 1)[0] not in _POLARS_OPTIONS
                       for opt in head.split(",")):
        return value
    return before


def kernel_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of every pack kernel: ``base`` (default ``os.environ``) with the
    kernel shims first on PYTHONPATH, the pack-build flag and :data:`PINNED`."""
    env = dict(os.environ if base is None else base)
    conf = _without_polars_options(env.get(_POLARS_CONF))
    if conf is None:
        env.pop(_POLARS_CONF, None)
    else:
        env[_POLARS_CONF] = conf
    paths = (str(KERNEL_SHIMS), env.get("PYTHONPATH"))
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    env["WORKBENCH_PACK_BUILD"] = "1"  # render.setup(): static SVG charts, no script
    env["WORKBENCH_DEFER_CHARTS"] = "1"  # drawn by the builder from their specs: packs.charts
    env.update(PINNED)
    for key in NO_BACKGROUND_THREADS:
        conf = env.get(key, "")
        if "background_thread" not in conf:
            env[key] = f"{conf},background_thread:false" if conf else "background_thread:false"
    return env


def notebook_imports(sources: list[str]) -> list[str]:
    """The modules the code cells ``sources`` import at their top level, in order
    (``from workbench import costs`` names ``workbench`` and ``workbench.costs``); a cell
    that is not plain Python (a magic) is skipped. The server imports those it still has
    to preload before it forks the notebook's kernel."""
    names: dict[str, None] = {}
    for source in sources:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                names.update((alias.name, None) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names[node.module] = None
                names.update((f"{node.module}.{alias.name}", None) for alias in node.names)
    return list(names)


def enabled() -> bool:
    return os.environ.get(ENV_SWITCH, "1").strip().lower() not in {"0", "false", "no", "off"}


class ForkedKernel:
    """A ``Popen``-like handle on a kernel the server forked (the server reaps it and
    reports its exit code)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._done = threading.Event()

    def _exited(self, code: int) -> None:
        if self.returncode is None:
            self.returncode = code
        self._done.set()

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._done.wait(timeout):
            raise subprocess.TimeoutExpired([f"kernel {self.pid}"], timeout or 0)
        return self.returncode  # type: ignore[return-value]

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:  # never signal a pid that may have been reused
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class KernelServer:
    """One fork server process (see the module docstring); thread-safe."""

    def __init__(self, env: Mapping[str, str] | None = None,
                 preload: tuple[str, ...] | None = None,
                 later: tuple[str, ...] | None = None) -> None:
        """``env``: the kernels' base environment (default ``os.environ``); ``preload``:
        the modules to import before forking (default: the server's ``PRELOAD``);
        ``later``: those imported between forks (default: ``LATER``; none when
        ``preload`` is given)."""
        self.env = kernel_env(env)
        server_env = {k: v for k, v in self.env.items() if k not in PER_KERNEL}
        ours, theirs = socket.socketpair()
        self._sock = ours
        self._lock = threading.Lock()
        self._next = 0
        self._replies: dict[int, dict[str, Any]] = {}
        self._kernels: dict[int, ForkedKernel] = {}
        self._early_exits: dict[int, int] = {}
        self._cond = threading.Condition(self._lock)
        self.ready: dict[str, Any] | None = None
        self.preloaded: dict[str, Any] | None = None  # once LATER is imported
        self.launched = 0  # fork requests made
        self.closed = False
        if preload is not None and later is None:
            later = ()
        args = "".join(f", {name}={tuple(str(n) for n in mods)!r}" for name, mods in
                       (("names", preload), ("later", later)) if mods is not None)
        # started from the main thread (pack build): the server dies with this process
        # (PR_SET_PDEATHSIG fires when the creating thread exits, so only the main thread's
        # lifetime is this process's); from another thread (a Dask worker's task), the
        # server notices its closed socket instead
        if threading.current_thread() is threading.main_thread():
            args += f", owner={os.getpid()}"
        code = f"import _workbench_forkserver as s; s.serve({theirs.fileno()}{args})"
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code],
                env=server_env,
                stdin=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),),
                start_new_session=True,  # Ctrl-C reaches the builder, which stops kernels
            )
        finally:
            theirs.close()
        self._reader = threading.Thread(target=self._read, name="kernel-server", daemon=True)
        self._reader.start()

    # -- the socket ------------------------------------------------------------------------

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                data = self._sock.recv(1 << 16)
            except OSError:
                data = b""
            if not data:
                break
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                self._handle(json.loads(line))
        with self._cond:  # the server is gone, and with it every kernel (PDEATHSIG)
            self.closed = True
            kernels = list(self._kernels.values())
            self._kernels.clear()
            self._cond.notify_all()
        for k in kernels:
            k._exited(-signal.SIGKILL)
        with contextlib.suppress(Exception):
            self.process.wait(timeout=5)

    def _handle(self, msg: dict[str, Any]) -> None:
        with self._cond:
            if "ready" in msg:
                self.ready = msg
            elif "preloaded_later" in msg:
                self.preloaded = msg
            elif "exit" in msg:
                kernel = self._kernels.pop(msg["exit"], None)
                if kernel is None:
                    self._early_exits[msg["exit"]] = msg["code"]
                else:
                    kernel._exited(msg["code"])
            elif "id" in msg:
                self._replies[msg["id"]] = msg
            self._cond.notify_all()

    # -- the API ---------------------------------------------------------------------------

    def accepts(self, cmd: list[str], env: Mapping[str, str]) -> str | None:
        """Why a kernel with ``cmd`` and ``env`` cannot be forked here (None: it can)."""
        if self.closed:
            return "the kernel server has stopped"
        if cmd[1:3] != ["-m", "ipykernel_launcher"] or not _same_file(cmd[0], sys.executable):
            return "not this interpreter's ipykernel"
        for key in (env.keys() | self.env.keys()) - PER_KERNEL:
            if env.get(key) != self.env.get(key):
                return f"the kernel's environment differs from the server's ({key})"
        return None

    def launch(self, cmd: list[str], env: Mapping[str, str], cwd: str,
               timeout: float = START_TIMEOUT) -> ForkedKernel:
        """Fork a kernel; raises RuntimeError when the server cannot (launch it yourself)."""
        why = self.accepts(cmd, env)
        if why:
            raise RuntimeError(why)
        with self._cond:
            self._next += 1
            self.launched += 1
            rid = self._next
            req = {"id": rid, "argv": list(cmd), "env": dict(env), "cwd": str(cwd)}
            try:
                self._sock.sendall((json.dumps(req) + "\n").encode("utf-8"))
            except OSError as exc:
                raise RuntimeError(f"the kernel server has stopped: {exc}") from exc
            if not self._cond.wait_for(lambda: rid in self._replies or self.closed, timeout):
                raise RuntimeError("the kernel server did not answer in time")
            reply = self._replies.pop(rid, None)
            if reply is None:
                raise RuntimeError("the kernel server has stopped")
            if "error" in reply:
                raise RuntimeError(reply["error"])
            kernel = ForkedKernel(reply["pid"])
            if kernel.pid in self._early_exits:
                kernel._exited(self._early_exits.pop(kernel.pid))
            else:
                self._kernels[kernel.pid] = kernel
            return kernel

    def only(self, modules: list[str]) -> None:
        """Preload no more than the modules every kernel needs and ``modules`` (the
        imports of the notebooks that may run); ignored once everything is imported."""
        with self._cond:
            if self.closed:
                return
            with contextlib.suppress(OSError):
                self._sock.sendall((json.dumps({"op": "only", "modules": modules}) + "\n")
                                   .encode("utf-8"))

    def wait_ready(self, timeout: float = START_TIMEOUT) -> dict[str, Any] | None:
        """The server's ready message once it preloaded (None if it stopped first)."""
        with self._cond:
            self._cond.wait_for(lambda: self.ready is not None or self.closed, timeout)
            return self.ready

    def wait_preloaded(self, timeout: float = START_TIMEOUT) -> dict[str, Any] | None:
        """The server's message once it imported its ``later`` modules (None if it
        stopped first or has none to import)."""
        with self._cond:
            self._cond.wait_for(lambda: self.preloaded is not None or self.closed, timeout)
            return self.preloaded

    def close(self) -> None:
        """Stop the server; it SIGKILLs whatever kernels still run."""
        with self._cond:
            # no kernel of its own runs (none forked yet, or all exited): nothing to stop
            # but its imports, so kill it rather than wait for the import under way
            if not self.closed and (self.ready is None or not self._kernels):
                with contextlib.suppress(OSError):
                    self.process.kill()
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._sock.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=10)


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


# -- which server kernels use ----------------------------------------------------------------

_state_lock = threading.Lock()
_active: KernelServer | None = None
_users = 0  # warm_kernels() blocks open in this process
_shared = False
_ordinary_left = 0  # kernels still to launch the ordinary way before the server starts


def active_server() -> KernelServer | None:
    """The server new kernels are forked from now (None: none is running)."""
    server = _active
    if server is None or server.closed or not enabled():
        return None
    return server


def server_for_launch() -> tuple[KernelServer | None, str]:
    """The server a kernel about to start should be forked from, starting it when a
    :func:`warm_kernels` block has launched its ordinary kernels; else None and why."""
    global _active, _ordinary_left
    if not enabled():
        return None, f"{ENV_SWITCH}=0"
    with _state_lock:
        if _active is not None and not _active.closed:
            return _active, ""
        if _users == 0 and not _shared:
            return None, "no kernel server"
        if _ordinary_left > 0:
            _ordinary_left -= 1
            return None, "the build's first kernel (the server starts for the next)"
        _active = KernelServer()
        return _active, ""


@contextlib.contextmanager
def warm_kernels(on: bool | None = None, ordinary_first: int = 1
                 ) -> Iterator[KernelServer | None]:
    """Kernels started inside are forked from one server, shared by threads and stopped on
    exit (unless :func:`shared_server` keeps it for the process).

    The server's own imports cost about as much CPU as two kernels save, so it starts
    when the block launches kernel number ``ordinary_first + 1``: a rebuild that runs one
    notebook does not pay for it; the first kernel launches the ordinary way while the
    server imports. ``ordinary_first=0`` starts it now (the block then yields it).
    ``on=False`` or ``WORKBENCH_WARM_KERNELS=0``: kernels launch the ordinary way."""
    global _active, _users, _ordinary_left
    if not (enabled() if on is None else on):
        yield None
        return
    with _state_lock:
        if _users == 0:
            _ordinary_left = ordinary_first
        _users += 1
        if ordinary_first == 0 and (_active is None or _active.closed):
            _active = KernelServer()
        server = _active if ordinary_first == 0 else None
    try:
        yield server
    finally:
        with _state_lock:
            _users -= 1
            stop = _active if _users == 0 and not _shared else None
            if stop is not None:
                _active = None
        if stop is not None:
            stop.close()


def stop_unused_server() -> None:
    """Stop the active server if it has forked no kernel and is not a shared one (a build
    that turns out to restate its previous version starts no kernel); a kernel launched
    later in the same :func:`warm_kernels` block starts a new one."""
    global _active
    with _state_lock:
        server = _active
        if server is None or _shared or server.launched:
            return
        _active = None
    server.close()


# set when this process was asked to stop (pack watch's SIGTERM or Ctrl-C): no kernel starts
# any more, and a build under way publishes nothing (workbench.packs.build)
stopping = threading.Event()


def stop_now() -> None:
    """Ask this process's kernels to stop: set :data:`stopping` and kill the active server
    (its kernels die with it). Safe in a signal handler: it takes no lock and raises
    nothing into the code it interrupts (an exception raised there can land inside a
    library that swallows it: polars turns it into a panic that a reader reports)."""
    stopping.set()
    server = _active
    if server is not None:
        with contextlib.suppress(OSError):
            server.process.kill()


def preload_only(modules: list[str]) -> None:
    """Tell this build's server (not a shared one: its next builds may need the rest)
    which modules to preload besides the ones every kernel needs."""
    with _state_lock:
        server = None if _shared else _active
    if server is not None and not server.closed:
        server.only(modules)


def shared_server() -> KernelServer | None:
    """Start (once) a server kept for the life of this process, e.g. a fleet worker that
    runs many notebooks; stopped at exit (and it exits by itself if this process dies)."""
    global _active, _shared
    if not enabled():
        return None
    with _state_lock:
        if _active is None or _active.closed:
            _active = KernelServer()
        if not _shared:
            _shared = True
            atexit.register(stop_shared)
        return _active


def stop_shared() -> None:
    """Stop the server :func:`shared_server` started (before this process execs)."""
    global _active, _shared
    with _state_lock:
        server, _active, _shared = _active, None, False
    if server is not None:
        server.close()


class WarmProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, launching through the active server when it
    can (see :meth:`KernelServer.accepts`) and the ordinary way otherwise."""

    warm: bool = False
    fallback_reason: str | None = None

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        if stopping.is_set():
            raise RuntimeError("this process is stopping: no kernel starts")
        server, why = server_for_launch()
        env = kwargs.get("env") or dict(os.environ)
        cwd = str(kwargs.get("cwd") or os.getcwd())
        if server is None:
            self.fallback_reason = why
            return await super().launch_kernel(cmd, **kwargs)
        try:
            process = await asyncio.to_thread(server.launch, cmd, env, cwd)
        except RuntimeError as exc:
            self.fallback_reason = str(exc)
            return await super().launch_kernel(cmd, **kwargs)
        self.warm = True
        self.process = process  # type: ignore[assignment]  # a Popen-like handle (ForkedKernel)
        self.pid = process.pid
        self.pgid = process.pid  # the child called setsid()
        self.cwd = cwd
        return self.connection_info


class ReadyClient(AsyncKernelClient):
    """jupyter_client's kernel client, ready without the idle 0.2 s that end its
    ``wait_for_ready``: after the kernel_info handshake it listens on IOPub until nothing
    came for 0.2 s, to discard the start-up messages. nbclient ignores every IOPub message
    that does not answer its own request, so they are taken here without waiting for more.
    That wait was on the chain of every notebook (a rebuild's second notebook starts when
    the first ends). The handshake itself is jupyter_client 8's: kernel_info until a reply
    comes with IOPub connected (its status message arrives), or the kernel dies."""

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            self.kernel_info()
            try:
                msg = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                pass
            else:
                if msg["msg_type"] == "kernel_info_reply":
                    try:  # IOPub connected: the kernel's status message arrives on it
                        await self.iopub_channel.get_msg(timeout=0.2)
                    except Empty:
                        pass
                    else:
                        self._handle_kernel_info_reply(msg)
                        break
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")
        while True:  # what start-up put on IOPub, taken without waiting for more
            try:
                await self.iopub_channel.get_msg(timeout=0)
            except Empty:
                break

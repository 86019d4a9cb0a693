"""Warm kernels (workbench.packs.kernels): forked kernels give the same results as ordinary
ones, the watchdog kills them, none outlives its build or a SIGKILLed builder, and a server
that is not single-threaded makes every kernel launch the ordinary way."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import nbformat
import pytest
import yaml
from _notebooks import demo_subset, executed_outputs

from workbench.packs import kernels
from workbench.packs.execute import run_plan
from workbench.packs.plan import check, resolve
from workbench.packs.spec import load_spec

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "packs"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purpose (its parent has not reaped it yet)
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _gone(pids, within: float = 10.0) -> bool:
    end = time.monotonic() + within
    while time.monotonic() < end:
        if not any(_alive(p) for p in pids):
            return True
        time.sleep(0.1)
    return False


def _children_of(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                out.append(int(d.name))
    return out


def _run(spec_path: Path, out: Path, jobs: int = 2):
    spec = load_spec(spec_path)
    plan = resolve(spec, check(spec), out, spec_path=str(spec_path), jobs=jobs,
                   use_cache=False)
    plan.staging.mkdir(mode=0o700, parents=True)
    return plan, {r.name: r for r in run_plan(plan, lambda _line: None)}


def test_the_default_preload_leaves_no_busy_thread():
    """Every module of PRELOAD and LATER imports, and what runs besides the server's own
    thread is only what IDLE_THREADS names (polars' spill cleaner): forks are allowed."""
    server = kernels.KernelServer()
    try:
        ready = server.wait_ready()
        assert ready is not None and ready["busy"] == [], ready
        assert {"IPython", "ipykernel.ipkernel"} <= set(ready["preloaded"])
        later = server.wait_preloaded()
        assert later is not None and later["busy"] == [], later
        assert {"numpy", "scipy.stats", "altair", "polars", "pandas", "workbench.drift",
                "workbench.contracts", "workbench.performance", "workbench.release",
                "workbench.packs"} <= set(later["preloaded_later"]), later
        assert "duckdb" not in later["preloaded_later"]  # a thread on import
    finally:
        server.close()
    assert _gone([server.process.pid])


def test_the_kernel_environment_turns_jemalloc_background_threads_off(monkeypatch):
    # options that were there before this process imported polars are kept, ours appended
    # (whether polars came before workbench.packs.kernels depends on the test order: fixed)
    monkeypatch.setattr(kernels, "_CONF_POLARS_SEEN", True)
    monkeypatch.setenv("_RJEM_MALLOC_CONF", "dirty_decay_ms:500,muzzy_decay_ms:1000")
    monkeypatch.delenv("JE_ARROW_MALLOC_CONF", raising=False)
    env = kernels.kernel_env()
    assert env["_RJEM_MALLOC_CONF"] == (
        "dirty_decay_ms:500,muzzy_decay_ms:1000,background_thread:false")
    # those polars' own import put in front of the value seen before it are taken off: the
    # kernel's polars puts them back, and the server's environment must match the kernels'
    monkeypatch.setattr(kernels, "_CONF_POLARS_SEEN", False)
    monkeypatch.setattr(kernels, "_CONF_BEFORE_POLARS", "narenas:2")
    monkeypatch.setenv("_RJEM_MALLOC_CONF", "dirty_decay_ms:500,muzzy_decay_ms:1000,narenas:2")
    assert kernels.kernel_env()["_RJEM_MALLOC_CONF"] == "narenas:2,background_thread:false"
    assert env["JE_ARROW_MALLOC_CONF"] == "background_thread:false"
    # the user's own choice stays (the server then runs threads and forks nothing)
    monkeypatch.setenv("JE_ARROW_MALLOC_CONF", "background_thread:true")
    assert kernels.kernel_env()["JE_ARROW_MALLOC_CONF"] == "background_thread:true"


# every area the server preloads, against kernels that import it themselves
PRELOADED_AREAS = {"drift", "cost_to_value", "contract_checks", "model_performance",
                   "release_readiness"}


def test_warm_and_ordinary_kernels_give_byte_identical_results(tmp_path, monkeypatch):
    spec = demo_subset(tmp_path, PRELOADED_AREAS)
    with kernels.warm_kernels(ordinary_first=0) as server:
        assert server is not None and server.wait_preloaded() is not None
        warm_plan, warm = _run(spec, tmp_path / "warm")
    monkeypatch.setenv(kernels.ENV_SWITCH, "0")
    cold_plan, cold = _run(spec, tmp_path / "cold")
    assert {r.launch for r in warm.values()} == {"warm"}
    assert all(r.launch.startswith("ordinary") for r in cold.values())
    for name in sorted(PRELOADED_AREAS):
        assert warm[name].status == cold[name].status == "ok", (warm[name].error,
                                                               cold[name].error)
        a = (warm_plan.staging / f"{name}.results.json").read_bytes()
        b = (cold_plan.staging / f"{name}.results.json").read_bytes()
        assert a == b, name
        assert (executed_outputs(warm_plan.staging, name)
                == executed_outputs(cold_plan.staging, name)), name
        # the read recorder ran in the forked kernel too: the same inputs were read
        def reads(run):
            return sorted(r["path"] for r in run.cache["reads"]
                          if not r["path"].startswith(str(tmp_path)))

        assert "not_reusable" not in warm[name].cache, warm[name].cache
        assert reads(warm[name]) == reads(cold[name]), set(reads(warm[name])) ^ set(
            reads(cold[name]))
        assert any("data/sample" in p for p in reads(warm[name])), reads(warm[name])


def _spec(tmp: Path, notebooks: list[dict]) -> Path:
    path = tmp / "p.yml"
    path.write_text(yaml.safe_dump({"name": "p", "title": "P", "notebooks": notebooks}))
    return path


def test_the_watchdog_kills_a_forked_kernel_and_no_kernel_outlives_the_build(tmp_path):
    spec = _spec(tmp_path, [
        {"name": "ok", "path": str(FIXTURES / "ok.ipynb")},
        {"name": "slow", "path": str(FIXTURES / "slow.ipynb"),
         "parameters": {"seconds": 120.0}, "max_duration": 3},
    ])
    t0 = time.monotonic()
    with kernels.warm_kernels(ordinary_first=0) as server:
        assert server is not None
        _plan, runs = _run(spec, tmp_path / "out")
        kids = _children_of(server.process.pid)
    assert time.monotonic() - t0 < 60
    assert runs["slow"].launch == runs["ok"].launch == "warm"
    assert runs["ok"].status == "ok"
    assert runs["slow"].status == "failed" and runs["slow"].error["ename"] == "Timeout"
    assert kids == []  # every kernel was shut down and reaped before the build ended
    assert _gone([server.process.pid])  # and the server stopped with it


def test_an_interrupt_reaches_a_forked_kernel(tmp_path):
    from jupyter_client import BlockingKernelClient
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_client.utils import run_sync

    class Manager(AsyncKernelManager):
        async def _async_pre_start_kernel(self, **kw):
            kw["env"] = kernels.kernel_env(kw.get("env"))
            self.kernel_id = self.kernel_id or str(os.getpid())
            self.provisioner = kernels.WarmProvisioner(
                kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
            return await super()._async_pre_start_kernel(**kw)

    with kernels.warm_kernels(ordinary_first=0):
        km = Manager(kernel_name="python3")
        km.transport, km.ip = "ipc", str(tmp_path / "k")
        run_sync(km.start_kernel)(cwd=str(tmp_path))
        try:
            assert km.provisioner.warm
            kc = BlockingKernelClient()
            kc.load_connection_info(km.get_connection_info())
            kc.start_channels()
            kc.wait_for_ready(timeout=60)
            msg_id = kc.execute("import time; time.sleep(60)")
            time.sleep(1.0)
            run_sync(km.interrupt_kernel)()
            reply = kc.get_shell_msg(timeout=30)
            while reply["parent_header"].get("msg_id") != msg_id:
                reply = kc.get_shell_msg(timeout=30)
            assert reply["content"]["status"] == "error"
            assert reply["content"]["ename"] == "KeyboardInterrupt"
            kc.stop_channels()
        finally:
            run_sync(km.shutdown_kernel)(now=True)
        assert not run_sync(km.is_alive)()


def test_a_server_that_runs_threads_forks_nothing(tmp_path, monkeypatch):
    """duckdb starts a thread on import: a server that preloaded it must refuse to fork,
    and every kernel then launches the ordinary way (and still works)."""
    server = kernels.KernelServer(preload=("numpy", "duckdb"))
    try:
        ready = server.wait_ready()
        assert ready["threads"] > 1 and ready["busy"], ready
        monkeypatch.setattr(kernels, "_active", server)
        spec = _spec(tmp_path, [{"name": "ok", "path": str(FIXTURES / "ok.ipynb")}])
        _plan, runs = _run(spec, tmp_path / "out", jobs=1)
        assert runs["ok"].status == "ok"
        assert runs["ok"].launch.startswith("ordinary") and "threads" in runs["ok"].launch
        assert _children_of(server.process.pid) == []
    finally:
        server.close()


def test_a_kernel_whose_environment_differs_is_not_forked():
    server = kernels.KernelServer()
    try:
        cmd = [sys.executable, "-m", "ipykernel_launcher", "-f", "x.json"]
        env = dict(server.env)
        assert server.accepts(cmd, {**env, "WORKBENCH_READS": "/tmp/r"}) is None
        assert "PYTHONHASHSEED" in server.accepts(cmd, {**env, "PYTHONHASHSEED": "1"})
        assert server.accepts(["/bin/sh", "-c", "true"], env)
    finally:
        server.close()


def test_no_kernel_survives_a_sigkilled_builder(tmp_path):
    script = tmp_path / "builder.py"
    script.write_text(textwrap.dedent(f"""
        import sys, time
        from workbench.packs import kernels
        server = kernels.KernelServer()
        cmd = [sys.executable, "-m", "ipykernel_launcher", "-f", {str(tmp_path / 'k.json')!r}]
        kernel = server.launch(cmd, dict(server.env), {str(tmp_path)!r})
        print(server.process.pid, kernel.pid, flush=True)
        time.sleep(300)
    """))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                            cwd=tempfile.gettempdir())
    try:
        server_pid, kernel_pid = map(int, proc.stdout.readline().split())
        assert _alive(server_pid) and _alive(kernel_pid)
        end = time.monotonic() + 60
        while not (tmp_path / "k.json").exists() and time.monotonic() < end:
            time.sleep(0.1)  # a real kernel: it writes its connection file
        assert json.loads((tmp_path / "k.json").read_text())["transport"]
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert _gone([server_pid, kernel_pid], within=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_server_busy_importing_dies_with_its_sigkilled_builder_at_once(tmp_path):
    """The server looks at its socket only between imports: without the parent-death signal
    a SIGKILLed builder's server (and kernels) ran on through the import, while the next
    build was already sweeping the killed one's temp folders."""
    (tmp_path / "slow_to_import.py").write_text("import time\ntime.sleep(60)\n")
    script = tmp_path / "builder.py"
    script.write_text(textwrap.dedent("""
        import sys, time
        from workbench.packs import kernels
        server = kernels.KernelServer(later=("slow_to_import",))
        assert server.wait_ready() is not None
        print(server.process.pid, flush=True)
        time.sleep(300)
    """))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                            cwd=tempfile.gettempdir(), env=env)
    server_pid = None
    try:
        server_pid = int(proc.stdout.readline())
        time.sleep(1.0)  # the server is inside the 60 s import now
        assert _alive(server_pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert _gone([server_pid], within=3)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if server_pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(server_pid, signal.SIGKILL)


def test_the_recorder_ignores_importlib_metadata_scanning_sys_path(tmp_path, monkeypatch):
    """Package look-ups are no input of the notebook (and when they happen depends on what
    the kernel imported before the first cell); a folder the notebook lists still counts."""
    import importlib.metadata

    from workbench.packs._kernel_shims._workbench_reads import Recorder

    (tmp_path / "x.dist-info").mkdir()
    monkeypatch.syspath_prepend(str(tmp_path))
    log = tmp_path / "reads.jsonl"
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    recorder = Recorder(fd, armed=True)
    try:
        # an audit hook cannot be removed: this one goes quiet once the test is done
        importlib.invalidate_caches()
        sys.addaudithook(lambda e, a: recorder(e, a) if recorder.fd >= 0 else None)
        list(importlib.metadata.distributions())
        os.listdir(tmp_path)
    finally:
        recorder.fd = -1
        os.close(fd)
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert {"op": "list", "path": str(tmp_path)} in events
    assert len([e for e in events if e["op"] == "list"]) == 1, events


def test_pack_build_from_the_command_line_forks_its_kernels(tmp_path):
    """The CLI starts the server before the builder imports polars, which writes its
    allocator options into the environment: kernels asked for afterwards must still be
    forked (they were not: every kernel launched the ordinary way, silently). A notebook
    reads its own command line: a forked kernel's is the server's."""
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell(
        "import polars\nprint(open('/proc/self/cmdline').read().replace('\\0', ' '))")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, tmp_path / "who.ipynb")
    (tmp_path / "s.yml").write_text(
        "name: s\ntitle: S\nnotebooks:\n  - {name: a, path: who.ipynb}\n"
        "  - {name: b, path: who.ipynb}\n")
    cli = Path(sys.executable).with_name("workbench")
    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    done = subprocess.run([str(cli), "pack", "build", str(tmp_path / "s.yml"), "--out",
                           str(tmp_path / "out")], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    version = Path(done.stdout.strip().splitlines()[-1]).parent
    for name in ("a", "b"):
        executed = nbformat.read(version / f"{name}.ipynb", as_version=4)
        text = executed.cells[0].outputs[0]["text"]
        assert "_workbench_forkserver" in text, f"{name}: launched the ordinary way: {text}"


def test_a_build_starts_the_server_for_its_second_kernel():
    """One kernel (a rebuild where one notebook changed) never pays for the server."""
    with kernels.warm_kernels() as none:
        assert none is None and kernels.active_server() is None
        first, why = kernels.server_for_launch()
        assert first is None and "first kernel" in why
        second, _ = kernels.server_for_launch()
        assert second is not None and kernels.server_for_launch()[0] is second
    assert kernels.active_server() is None
    assert _gone([second.process.pid])
    assert kernels.server_for_launch() == (None, "no kernel server")


def test_a_build_that_starts_no_kernel_stops_its_early_server():
    """pack build starts the server first; a build that restates its previous version
    stops it at once (it forked nothing); one that forked a kernel keeps it to the end."""
    with kernels.warm_kernels(ordinary_first=0) as early:
        assert early is not None
        kernels.stop_unused_server()
        assert kernels.active_server() is None
        assert _gone([early.process.pid])
        later, _ = kernels.server_for_launch()  # a kernel after all: a new server
        assert later is not None and later is not early
        later.launched = 1  # as after a fork request
        kernels.stop_unused_server()
        assert kernels.active_server() is later
    assert _gone([later.process.pid])


def test_a_kernel_that_dies_keeps_the_outputs_of_the_cells_before(tmp_path):
    """The executed notebook is saved when the run ends however it ends (not after every
    cell): a kernel that dies mid-notebook still leaves what its earlier cells showed."""
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("print('the first cell ran')"),
        nbformat.v4.new_code_cell("import os\nos._exit(1)"),
        nbformat.v4.new_code_cell("print('after')"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / "dies.ipynb"
    nbformat.write(nb, path)
    plan, runs = _run(_spec(tmp_path, [{"name": "dies", "path": str(path)}]),
                      tmp_path / "out", jobs=1)
    assert runs["dies"].status == "failed", runs["dies"]
    saved = nbformat.read(plan.staging / "dies.ipynb", as_version=4)
    code = [c for c in saved.cells if c.cell_type == "code" and "print" in c.source]
    assert [o.get("text") for o in code[0].outputs] == ["the first cell ran\n"]
    assert code[1].outputs == []  # never ran


def test_the_server_first_preloads_what_the_kernel_s_notebook_imports(monkeypatch):
    import socket as socketlib

    from workbench.packs._kernel_shims import _workbench_forkserver as fs

    names = kernels.notebook_imports([
        "from datetime import date\n\nfrom workbench import costs, render\nrender.setup()",
        "%matplotlib inline",  # not Python: skipped
        "import polars as pl, numpy",
    ])
    assert names == ["datetime", "datetime.date", "workbench", "workbench.costs",
                     "workbench.render", "polars", "numpy"]
    monkeypatch.setattr(fs, "busy_threads", lambda: [])  # this test process has threads
    ours, theirs = socketlib.socketpair()
    try:
        server = fs._Server(ours)
        server.todo = ["json", "decimal", "fractions"]
        server.preload_for({"env": {fs.IMPORTS_ENV: "fractions,os"}})
        assert server.todo == ["json", "decimal"] and server.done == ["fractions"]
        server.preload_for({"env": {}})
        assert server.todo == ["json", "decimal"]
    finally:
        ours.close()
        theirs.close()


def test_the_engine_is_registered_when_papermill_was_imported_first():
    """A process that imported papermill before the builder (a notebook server, a Dask
    worker, a test) still gets the engine every pack run names."""
    code = ("import papermill.engines, papermill.parameterize\n"
            "from workbench.packs import _papermill\n"
            "pm = _papermill.load()\n"
            "print(pm.engines.papermill_engines.get_engine(_papermill.ENGINE).__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "EndSavingEngine"


def test_the_server_preloads_only_what_the_notebooks_that_may_run_need(monkeypatch):
    import socket as socketlib

    from workbench.packs._kernel_shims import _workbench_forkserver as fs

    monkeypatch.setattr(fs, "busy_threads", lambda: [])
    ours, theirs = socketlib.socketpair()
    try:
        server = fs._Server(ours)
        server.todo = ["polars", "workbench.render", "workbench.costs", "scipy.stats",
                       "workbench.drift", "workbench.release"]
        server.only(["workbench", "workbench.costs"])
        assert server.todo == ["polars", "workbench.render", "workbench.costs"]
        server.todo = ["scipy.stats"]
        server.only([])  # nothing left: the builder hears preloading is over
        assert server.todo == []
        assert b'"preloaded_later"' in theirs.recv(1 << 16)
    finally:
        ours.close()
        theirs.close()
    assert set(fs.BASE) <= set(fs.LATER) and "workbench.render" in fs.BASE
    assert "scipy.stats" not in fs.BASE and "workbench.release" not in fs.BASE


def test_the_kernel_client_is_ready_without_waiting_for_iopub_to_fall_silent():
    """jupyter_client's wait_for_ready ends by listening to IOPub until it has been silent
    for 0.2 s; ours takes what start-up left there without waiting (nbclient ignores IOPub
    messages that do not answer its requests). The handshake is kept: a kernel_info reply
    counts once IOPub has delivered the kernel's status."""
    import asyncio
    from queue import Empty

    calls = []

    class Channel:
        def __init__(self, name, msgs):
            self.name, self.msgs = name, list(msgs)

        async def get_msg(self, timeout=None):
            calls.append((self.name, timeout))
            if self.msgs:
                msg = self.msgs.pop(0)
                if msg is not None:
                    return msg
            raise Empty

    reply = {"msg_type": "kernel_info_reply", "content": {}}
    shell = Channel("shell", [reply, reply])
    iopub = Channel("iopub", [None, {"msg_type": "status"}, {"msg_type": "stream"}])

    class Fake(kernels.ReadyClient):
        shell_channel = shell  # type: ignore[assignment]
        iopub_channel = iopub  # type: ignore[assignment]
        sent = 0

        def kernel_info(self):
            Fake.sent += 1

        async def _async_is_alive(self):
            return True

        def _handle_kernel_info_reply(self, msg):
            pass

    asyncio.run(Fake.wait_for_ready(Fake.__new__(Fake), timeout=5))
    # the first reply came before IOPub was connected (nothing on it): asked again
    assert Fake.sent == 2
    assert calls == [("shell", 1), ("iopub", 0.2), ("shell", 1), ("iopub", 0.2),
                     ("iopub", 0), ("iopub", 0)]

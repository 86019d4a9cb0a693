"""Fleet builds on a real Dask cluster: a scheduler and two workers started as separate
processes on localhost (the ``dask`` CLI), stopped after each test."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from _fleet_support import BIN, ENV, dask_cluster, make_fleet

from workbench.packs.verify import verify

pytestmark = pytest.mark.slow


def _fleet_build(fleet: Path, out: Path, *args: str, wait: bool = True):
    cmd = [str(BIN / "workbench"), "fleet", "build", str(fleet), "--out", str(out), *args]
    if not wait:
        return subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
    return subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=900)


def _running(pid: int) -> bool:
    """The process exists and is not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _versions(pack_dir: Path) -> list[Path]:
    return sorted(d for d in pack_dir.iterdir() if d.is_dir() and d.name[:1].isdigit())


def test_twenty_models_one_broken_on_a_two_worker_cluster(tmp_path):
    fleet = make_fleet(tmp_path / "fleet", 20, broken=(7,))
    out = tmp_path / "reports"
    with dask_cluster(tmp_path) as (address, _workers):
        done = _fleet_build(fleet, out, "--scheduler", address)
    assert done.returncode == 3, done.stderr[-3000:]  # a model's notebook failed
    # every kernel was forked by its worker's warm-kernel server (one per worker, kept for
    # the worker's lifetime), and the servers stopped with the workers
    parents = {}
    for i in range(20):
        if i != 7:
            (version,) = _versions(out / f"m{i:02d}")
            found = json.loads((version / "score.results.json").read_text())["kernel_parent"]
            parents[found["pid"]] = found["cmdline"]
    assert 1 <= len(parents) <= 2, parents
    assert all("_workbench_forkserver" in cmd for cmd in parents.values()), parents
    deadline = time.monotonic() + 30
    while any(_running(pid) for pid in parents):
        assert time.monotonic() < deadline, f"a kernel server outlived its worker: {parents}"
        time.sleep(0.2)
    index = Path(done.stdout.strip().splitlines()[-1])
    assert index == out / "tinyfleet" / "index.html" and index.is_file()
    for i in range(20):
        pack = out / f"m{i:02d}"
        (version,) = _versions(pack)
        manifest = verify(version)  # every version, failed or not, verifies
        assert manifest["pack"] == f"m{i:02d}"
        assert not list(pack.glob(".staging-*"))
        if i == 7:
            assert manifest["status"] == "failed"
            assert not (pack / "latest").exists()
            score = next(n for n in manifest["notebooks"] if n["name"] == "score")
            assert score["status"] == "failed" and score["error"]["ename"] == "ValueError"
        else:
            assert manifest["status"] == "ok"
            assert (pack / "latest").read_text().strip() == version.name
            mean = sum(i + k for k in range(5)) / 5
            # the per-model threshold from the table: 10 for even models, 12 for odd
            limit = 12 if i % 2 else 10
            assert manifest["verdict"] == ("go" if mean <= limit else "no-go"), i
    findings = json.loads((out / "tinyfleet" / "fleet.results.json").read_text())
    by = findings["metrics"]["by_verdict"]
    # means are i + 2: go up to m08 (even) / m09 (odd, limit 12 -> i <= 10)
    expect_go = sum(1 for i in range(20) if i != 7 and i + 2 <= (12 if i % 2 else 10))
    assert by == {"error": 0, "failed": 1, "no-go": 19 - expect_go, "hold": 0,
                  "go": expect_go}
    assert findings["status"] == "fail"
    page = index.read_text()
    assert "m07" in page and 'href="../m00/' in page
    # worst first: the failed model before every no-go, the no-go before every go
    assert page.index(">m07<") < page.index(">m19<") < page.index(">m00<")


def test_a_worker_killed_mid_run_is_retried_without_duplicates(tmp_path):
    fleet = make_fleet(tmp_path / "fleet", 6, sleep_s=2.0)
    out = tmp_path / "reports"
    with dask_cluster(tmp_path) as (address, workers):
        from distributed import Client

        build = _fleet_build(fleet, out, "--scheduler", address, wait=False)
        victim = workers[0]
        with Client(address, timeout=60) as client:
            info = client.scheduler_info()["workers"]
            addr = next(a for a, w in info.items() if w.get("name") == "w0")
            deadline = time.monotonic() + 300
            while not client.processing().get(addr):
                assert build.poll() is None, build.communicate()
                assert time.monotonic() < deadline, "worker w0 never got a task"
                time.sleep(0.2)
            time.sleep(1.0)  # inside a notebook run (each sleeps 2 s)
            assert client.processing().get(addr), "w0 finished before it could be killed"
            os.killpg(victim.pid, signal.SIGKILL)  # the node dies: worker and its kernels
            victim.wait()
        stdout, stderr = build.communicate(timeout=900)
    assert build.returncode == 0, stderr[-3000:]
    assert Path(stdout.strip().splitlines()[-1]).is_file()
    for i in range(6):
        pack = out / f"m{i:02d}"
        (version,) = _versions(pack)  # exactly one version: the retry made no second one
        manifest = verify(version)
        assert manifest["status"] == "ok"
        assert (pack / "latest").read_text().strip() == version.name
        assert not list(pack.glob(".staging-*"))


def test_a_fleets_charts_are_drawn_on_its_workers(tmp_path):
    """Pack kernels send chart specs (kernels.kernel_env); run_entry, on the worker, draws
    them: no spec is left in the notebook and the page has its SVG."""
    from workbench import render

    fleet = make_fleet(tmp_path / "fleet", 3, chart=True)
    out = tmp_path / "reports"
    with dask_cluster(tmp_path) as (address, _workers):
        done = _fleet_build(fleet, out, "--scheduler", address)
    assert done.returncode == 0, done.stderr[-3000:]
    for i in range(3):
        (version,) = _versions(out / f"m{i:02d}")
        nb = (version / "score.ipynb").read_text()
        assert render.SPEC_MIME not in nb and nb.count('"image/svg+xml"') == 1, i
        assert "<svg" in (version / "score.html").read_text(), i

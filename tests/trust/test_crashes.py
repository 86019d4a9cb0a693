"""Part 3: timeouts, a kernel that stops answering, kernel death, and SIGKILL of the builder.

One build runs four notebooks side by side: one whose cell outlives the per-cell timeout,
one whose kernel stops itself (SIGSTOP: it answers nothing, not even heartbeats, so only
the whole-notebook watchdog can end it), one whose kernel dies mid-cell, and a healthy
one. The build must finish, publish a complete failed version with each error on its page,
and leave ``latest`` alone.

The SIGKILL test drives benchmarks/soak_kill.py: 14 named kill points (every step of a
build, ``WORKBENCH_KILL_AT``) plus 6 kills after random delays, each followed by the
invariant checks, then a clean build.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import pytest
import yaml
from click.testing import CliRunner
from nbformat.v4 import new_code_cell, new_notebook

from workbench.cli import cli
from workbench.packs.verify import verify

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CELLS = {
    "slow_cell": "import time\ntime.sleep(300)",
    "frozen": "import os, signal\nos.kill(os.getpid(), signal.SIGSTOP)",
    "dies": "import os\nos._exit(9)",
}


def _notebook(path: Path, body: str) -> Path:
    params = new_code_cell('results_dir: str = "."  # unused')
    params.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[params, new_code_cell("print('started')"), new_code_cell(body)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def crashed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("crashes")
    out = tmp / "reports"
    ok_spec = tmp / "ok.yml"
    ok_spec.write_text(f"name: crash\ntitle: Crash\nnotebooks:\n  - name: a\n"
                       f"    path: {FIXTURES / 'tiny.ipynb'}\n")
    runner = CliRunner()
    first = runner.invoke(cli, ["pack", "build", str(ok_spec), "--out", str(out)])
    assert first.exit_code == 0, first.output
    notebooks = [{"name": "a", "path": str(FIXTURES / "tiny.ipynb")}]
    for name, body in CELLS.items():
        entry = {"name": name, "path": str(_notebook(tmp / f"{name}.ipynb", body))}
        entry.update({"slow_cell": {"timeout": 3}, "frozen": {"max_duration": 8},
                      "dies": {}}[name])
        notebooks.append(entry)
    spec = tmp / "crash.yml"
    spec.write_text(yaml.safe_dump({"name": "crash", "title": "Crash", "notebooks": notebooks}))
    box = {}

    def run():
        box["result"] = CliRunner().invoke(
            cli, ["pack", "build", str(spec), "--out", str(out), "--jobs", "4"]
        )

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(240)  # generous bound: the watchdog stops the frozen kernel after 8 s
    assert not worker.is_alive(), "pack build hung on a kernel that never answers"
    return {"out": out, "result": box["result"], "latest_before": first.stdout.strip()}


def test_build_finishes_and_publishes_a_complete_failed_version(crashed):
    r = crashed["result"]
    assert r.exit_code == 3, r.output
    version = Path(r.stdout.strip().splitlines()[-1]).parent
    manifest = verify(version)
    assert manifest["status"] == "failed"
    latest = (crashed["out"] / "crash" / "latest").read_text().strip()
    assert latest == Path(crashed["latest_before"]).parent.name  # latest did not move
    runs = {n["name"]: n for n in manifest["notebooks"]}
    assert runs["a"]["status"] == "ok"
    assert {n for n, v in runs.items() if v["status"] == "failed"} == set(CELLS)


def test_each_failure_is_named_on_its_page(crashed):
    version = Path(crashed["result"].stdout.strip().splitlines()[-1]).parent
    runs = {n["name"]: n for n in json.loads((version / "manifest.json").read_text())["notebooks"]}
    assert "timeout" in json.dumps(runs["slow_cell"]["error"]).lower()
    assert runs["frozen"]["error"]["ename"] == "Timeout"  # the watchdog, not the cell timeout
    assert "8 s" in runs["frozen"]["error"]["evalue"]
    assert "dead" in json.dumps(runs["dies"]["error"]).lower()
    for name in CELLS:
        page = (version / f"{name}.html").read_text()
        assert "This notebook failed" in page and "started" in page  # output before the failure


def test_sigkill_at_20_points_never_leaves_a_partial_version(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "soak_kill.py"), "--kills", "20",
         "--notebooks", "1", "--seed", "7", "--work", str(tmp_path), "--json"],
        capture_output=True, text=True, env=env, timeout=900,
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]
    summary = json.loads(done.stdout)
    assert summary["kills"] == 20 and summary["named_points"] == 14
    assert summary["outcomes"]["killed"] == 20 and summary["timed_kills"] == 6
    assert summary["problems"] == [], summary["problems"]
    assert summary["published_versions"] >= 2  # killed after publishing + the final build

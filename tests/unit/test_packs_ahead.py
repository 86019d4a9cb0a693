"""Kernels started ahead: a notebook that waits for others starts its kernel while they
run (``execute.run_plan``), its first cell waits for them and for the cache, its watchdog
and execution time start then, and a notebook that turns out reused stops its kernel."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from _notebooks import write_notebook

from workbench.packs import cache, execute
from workbench.packs.build import build

pytestmark = pytest.mark.slow

# the first notebook sleeps; the second records when its kernel process started and when
# its first cell ran (epoch seconds)
FIRST = ("import time, pathlib\ntime.sleep(seconds)\n"
         "pathlib.Path(results_dir, 'first.txt').write_text('x')")
# (the process's age from /proc/uptime and its start in clock ticks, both to 10 ms: the
# boot time in /proc/stat is whole seconds)
SECOND = (
    "import json, os, pathlib, time\n"
    "ticks = os.sysconf('SC_CLK_TCK')\n"
    "start = int(open('/proc/self/stat').read().rsplit(')', 1)[1].split()[19]) / ticks\n"
    "age = float(open('/proc/uptime').read().split()[0]) - start\n"
    "now = time.time()\n"
    "pathlib.Path(results_dir, 'second.json').write_text(json.dumps(\n"
    "    {'kernel_started': now - age, 'first_cell': now, 'pid': os.getpid(),\n"
    "     'first_done': pathlib.Path(results_dir, 'first.txt').exists()}))\n"
    "print(tag)"
)


def _spec(tmp_path: Path, seconds: float, tag: str = "a") -> Path:
    write_notebook(tmp_path / "first.ipynb", 'results_dir = "."\nseconds = 1.0', FIRST)
    write_notebook(tmp_path / "second.ipynb", 'results_dir = "."\ntag = "a"', SECOND)
    spec = tmp_path / "s.yml"
    spec.write_text(
        "name: s\ntitle: S\nnotebooks:\n"
        f"  - {{name: first, path: first.ipynb, parameters: {{seconds: {seconds}}}}}\n"
        f"  - {{name: second, path: second.ipynb, needs: [first], max_duration: 3,\n"
        f"      parameters: {{tag: {tag}}}}}\n")
    return spec


def _second(version: Path) -> dict:
    return json.loads((version / "second.json").read_text())


def test_a_waiting_notebook_s_kernel_starts_while_its_needs_run(tmp_path):
    """Its kernel is up before the first notebook is done; its first cell runs after; its
    watchdog (3 s) starts with that cell, not with the kernel (the first takes 4 s)."""
    result = build(_spec(tmp_path, 4.0), tmp_path / "out", jobs=2)
    assert result.status == "ok", [(r.name, r.error) for r in result.runs]
    second = _second(result.version_dir)
    first_done = (result.version_dir / "first.txt").stat().st_mtime
    assert second["first_done"]
    assert second["kernel_started"] < first_done - 1.0, second
    assert second["first_cell"] >= first_done
    run = {r.name: r for r in result.runs}["second"]
    assert run.exec_s < 3.0  # timed from its first cell, not from its kernel's start


def test_without_starting_ahead_the_kernel_starts_after(tmp_path, monkeypatch):
    """The same build with the feature off: the test above can fail."""
    monkeypatch.setattr(execute, "AHEAD", False)
    result = build(_spec(tmp_path, 2.0), tmp_path / "out", jobs=2)
    second = _second(result.version_dir)
    assert second["kernel_started"] >= (result.version_dir / "first.txt").stat().st_mtime - 0.3


def test_a_kernel_started_ahead_of_a_reused_notebook_is_stopped_unused(tmp_path, monkeypatch):
    """Nothing changed, but the prediction says it runs: the first cell's gate finds the
    key unchanged, the previous version's outputs are reused byte for byte and its
    kernel is gone."""
    spec = _spec(tmp_path, 1.0)
    first = build(spec, tmp_path / "out", jobs=2)
    write_notebook(tmp_path / "first.ipynb", 'results_dir = "."\nseconds = 1.0', FIRST + "\n# v2")
    monkeypatch.setattr(cache, "runs_whatever", lambda *a, **k: True)
    gated: list[str] = []
    real = execute.run_entry

    def spy(entry, gate=None):
        if gate is not None:
            gated.append(entry.name)
        return real(entry, gate)

    monkeypatch.setattr(execute, "run_entry", spy)
    again = build(spec, tmp_path / "out", jobs=2)
    assert gated == ["second"]
    runs = {r.name: r for r in again.runs}
    assert runs["first"].cache["reused_from"] is None  # its notebook file changed: it ran
    assert runs["second"].cache["reused_from"] == first.version
    for name in ("second.json", "second.html", "second.ipynb"):
        assert (again.version_dir / name).read_bytes() == \
            (first.version_dir / name).read_bytes()
    pid = _second(again.version_dir)["pid"]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_waiting_notebook_starts_once_its_needs_outputs_are_final_not_their_pages(
        tmp_path, monkeypatch):
    """The first notebook's page takes 3 s more to export: the second's first cell does
    not wait for it (it reads findings, never pages)."""
    import time

    real = execute._export
    ended: dict[str, float] = {}

    def slow_export(entry, executed, run):
        if entry.name == "first":
            time.sleep(3)
        real(entry, executed, run)
        ended[entry.name] = time.time()

    monkeypatch.setattr(execute, "_export", slow_export)
    result = build(_spec(tmp_path, 0.5), tmp_path / "out", jobs=2)
    assert result.status == "ok", [(r.name, r.error) for r in result.runs]
    second = _second(result.version_dir)
    assert second["first_done"]
    assert second["first_cell"] < ended["first"] - 2.0


def test_a_failed_need_s_partial_results_are_set_aside_before_its_dependent_starts(tmp_path):
    write_notebook(tmp_path / "first.ipynb", 'results_dir = "."',
                   "import pathlib\npathlib.Path(results_dir, 'first.results.json')"
                   ".write_text('{}')\nraise RuntimeError('failed after writing its results')")
    write_notebook(tmp_path / "second.ipynb", 'results_dir = "."',
                   "import json, os, pathlib\npathlib.Path(results_dir, 'second.json').write_text("
                   "json.dumps({'saw': os.path.exists(os.path.join(results_dir, "
                   "'first.results.json'))}))")
    spec = tmp_path / "s.yml"
    spec.write_text("name: s\ntitle: S\nnotebooks:\n  - {name: first, path: first.ipynb}\n"
                    "  - {name: second, path: second.ipynb, needs: [first]}\n")
    result = build(spec, tmp_path / "out", jobs=2)
    runs = {r.name: r.status for r in result.runs}
    assert runs == {"first": "failed", "second": "ok"}
    assert json.loads((result.version_dir / "second.json").read_text()) == {"saw": False}

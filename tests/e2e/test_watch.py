"""``pack watch`` and ``pack build --if-changed``: a version is published when, and only
when, something it rests on changed; a failed attempt is not repeated as it was; a spec
broken meanwhile is reported once; new code on disk restarts the watcher; SIGTERM stops
it with its kernels, and a build under way publishes nothing."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from _notebooks import write_notebook
from click.testing import CliRunner

from workbench.cli import cli
from workbench.errors import InputError
from workbench.packs import kernels, watch

pytestmark = pytest.mark.slow

A = """
from workbench import io
frame = io.read_table(data_path)
assert frame["v"].min() >= 0, "a negative value"
total = int(frame["v"].sum())
io.write_results("a", {"notebook": "a", "status": "ok", "headline": f"total {total}",
                       "metrics": {"total": total}}, results_dir)
"""
B = """
import json, os
from workbench import io
total = json.load(open(os.path.join(results_dir, "a.results.json")))["metrics"]["total"]
io.write_results("b", {"notebook": "b", "status": "ok", "headline": "b",
                       "metrics": {"twice": 2 * total}}, results_dir)
"""


def _pack(root: Path) -> Path:
    (root / "data").mkdir(parents=True)
    (root / "data" / "a.csv").write_text("k,v\n1,10\n2,20\n", encoding="utf-8")
    write_notebook(root / "a.ipynb", 'results_dir: str = "."\ndata_path: str = ""', A)
    write_notebook(root / "b.ipynb", 'results_dir: str = "."', B)
    spec = root / "pack.yml"
    spec.write_text(yaml.safe_dump({
        "name": "w", "title": "Watched", "inputs": ["data/*"],
        "notebooks": [
            {"name": "a", "path": "a.ipynb", "parameters": {"data_path": {"path": "data/a.csv"}}},
            {"name": "b", "path": "b.ipynb", "needs": ["a"]},
        ]}), encoding="utf-8")
    return spec


def _versions(out: Path) -> list[str]:
    return sorted(p.name for p in (out / "w").glob("2*"))


def test_watch_builds_on_change_only_never_repeats_a_failure_and_waits_out_a_bad_spec(
        tmp_path, monkeypatch):
    """Polls are counted by the sleep between them; each poll's change is made there."""
    spec = _pack(tmp_path)
    out = tmp_path / "out"
    data = tmp_path / "data" / "a.csv"
    good_spec = spec.read_text()
    changes = {  # poll number -> what changes on disk before the next look
        1: lambda: None,  # nothing: no version
        2: lambda: data.write_text("k,v\n1,10\n2,-5\n", encoding="utf-8"),  # a fails
        3: lambda: None,  # the failed attempt is not repeated
        4: lambda: spec.write_text("name: w\nnotebooks: [", encoding="utf-8"),  # broken
        5: lambda: None,  # still broken: reported once
        6: lambda: spec.write_text(good_spec, encoding="utf-8"),  # fixed, data still bad
        7: lambda: data.write_text("k,v\n1,10\n2,30\n", encoding="utf-8"),  # fixed: builds
    }
    polls, built, said = [], [], []

    def sleep(_seconds: float) -> None:
        polls.append(len(built))
        changes[len(polls)]()

    code = watch.watch(spec, out, interval=0.0, on_build=built.append, say=said.append,
                       jobs=2, max_builds=3, sleep=sleep)
    kernels.stop_shared()
    assert code == 0
    assert [r.status for r in built] == ["ok", "failed", "ok"]
    # built at start, after poll 2 (the failure), after poll 7 (the fix); never in between
    assert polls == [1, 1, 2, 2, 2, 2, 2]
    errors = [line for line in said if line.startswith("workbench: error:")]
    assert len(errors) == 1 and "pack.yml" in errors[0] and "waiting for a change" in errors[0]
    manifest = json.loads((built[-1].version_dir / "manifest.json").read_text())
    assert manifest["notebooks"][0]["status"] == "ok"
    assert sorted(manifest["cache"]["executed"]) == ["a", "b"]
    assert len(_versions(out)) == 3


def test_watch_refuses_a_spec_unusable_from_the_start(tmp_path):
    spec = tmp_path / "pack.yml"
    spec.write_text("name: w\nnotebooks: [", encoding="utf-8")
    with pytest.raises(InputError):
        watch.watch(spec, tmp_path / "out", interval=0.0, on_build=lambda r: None,
                    say=lambda line: None, sleep=lambda s: None)
    kernels.stop_shared()
    result = CliRunner().invoke(cli, ["pack", "watch", str(spec), "--out", str(tmp_path)])
    kernels.stop_shared()
    assert result.exit_code == 2
    assert "pack.yml" in result.output


def _descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                kids = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found.update(kids)
            todo += kids
    return found


def test_watch_restarts_on_new_code_publishes_each_change_and_stops_on_sigterm(tmp_path):
    """The process started here sees another fingerprint of the code on disk before its
    first build and execs a fresh ``python -m workbench pack watch`` (same pid), which
    then builds, waits, rebuilds on a change and stops on SIGTERM with its kernels."""
    spec = _pack(tmp_path)
    out = tmp_path / "out"
    script = (
        "import workbench.packs.watch as w\n"
        "seen = iter(['at start', 'changed on disk'])\n"
        "w.environment_fingerprint = lambda: next(seen, 'changed on disk')\n"
        "from workbench.cli import main\n"
        f"main(['pack', 'watch', {str(spec)!r}, '--out', {str(out)!r}, '--interval', '0.2'])\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)

    def next_line(timeout: float) -> str | None:
        return proc.stdout.readline().strip() if sel.select(timeout) else None

    try:
        first = next_line(120)
        assert first and first.endswith("index.html"), proc.stderr.read()
        assert next_line(2.0) is None  # nothing changed: nothing published
        (tmp_path / "data" / "a.csv").write_text("k,v\n1,10\n2,21\n", encoding="utf-8")
        second = next_line(120)
        assert second and second != first
        manifest = json.loads((Path(second).parent / "manifest.json").read_text())
        headline = json.loads((Path(second).parent / "a.results.json").read_text())["headline"]
        assert headline == "total 31"
        assert sorted(manifest["cache"]["executed"]) == ["a", "b"]
        helpers = _descendants(proc.pid)
        assert helpers, "the warm-kernel server runs between builds"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()  # it did not stop: leave nothing running, then fail
            proc.wait()
            raise
    assert code == 0
    said = proc.stderr.read()
    assert "restarting the watcher" in said and "pack watch: stopped" in said
    deadline = time.monotonic() + 5
    while any(Path(f"/proc/{p}").exists() for p in helpers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in helpers if Path(f"/proc/{p}").exists()]
    assert _versions(out) == sorted(Path(p).parent.name for p in (first, second))


def test_build_if_changed_publishes_nothing_when_nothing_changed(tmp_path):
    """Also: a changed input of ``a`` makes ``a`` and ``b`` (it needs ``a``) the notebooks
    that may run, not ``c`` (its inputs unchanged): the kernel server is told to preload
    their imports, not what only ``c`` imports."""
    from workbench.packs.execute import imports_that_may_run
    from workbench.packs.plan import check, resolve
    from workbench.packs.spec import load_spec

    spec = _pack(tmp_path)
    write_notebook(tmp_path / "c.ipynb", 'results_dir: str = "."',
                   "import fractions\nprint(fractions.Fraction(1, 3))")
    doc = yaml.safe_load(spec.read_text())
    doc["notebooks"].append({"name": "c", "path": "c.ipynb"})
    spec.write_text(yaml.safe_dump(doc), encoding="utf-8")
    out = tmp_path / "out"
    runner = CliRunner()
    args = ["pack", "build", str(spec), "--out", str(out), "--if-changed"]
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    again = runner.invoke(cli, [*args, "--fail-on-gate"])
    kernels.stop_shared()
    assert again.exit_code == 0, again.output
    assert "nothing changed since" in again.output
    assert len(_versions(out)) == 1
    assert again.stdout.strip().splitlines()[-1] == first.stdout.strip().splitlines()[-1]
    os.utime(tmp_path / "data" / "a.csv")  # touched, same bytes: still nothing changed
    assert runner.invoke(cli, args).exit_code == 0
    (tmp_path / "data" / "a.csv").write_text("k,v\n1,11\n2,20\n", encoding="utf-8")
    loaded = load_spec(spec)
    plan = resolve(loaded, check(loaded), out, spec_path=str(spec), jobs=2, use_cache=True)
    names = imports_that_may_run(plan)
    assert {"workbench.io", "json"} <= set(names)  # a's and b's
    assert "fractions" not in names
    third = runner.invoke(cli, args)
    assert third.exit_code == 0
    assert len(_versions(out)) == 2
    assert runner.invoke(cli, [*args, "--no-cache"]).exit_code == 2


def test_a_stop_during_a_build_publishes_nothing(tmp_path, monkeypatch):
    """What the watcher's SIGTERM handler does (kernels.stop_now), while the notebooks
    run: the build is abandoned, no version and no staging folder are left."""
    import threading

    from workbench.packs import build as build_mod

    monkeypatch.setattr(kernels, "stopping", threading.Event())
    real = build_mod.run_plan

    def stopped_meanwhile(plan, say):
        kernels.stop_now()
        return real(plan, say)

    monkeypatch.setattr(build_mod, "run_plan", stopped_meanwhile)
    spec = _pack(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        build_mod.build(spec, tmp_path / "out", jobs=2)
    pack_dir = tmp_path / "out" / "w"
    assert not [p.name for p in pack_dir.iterdir() if not p.name.startswith(".lock")]

"""Incremental builds under 200+ random single changes: each build re-runs exactly the
notebooks the change affects (and the dependents whose inputs, the findings of the notebooks
they need, changed), and no published output is ever stale.

The pack's five notebooks are real notebook files built through the real pipeline (plan,
cache, assemble, publish). Only the kernel is replaced: ``execute.run_entry`` runs the code
cells in this process, under the same audit-hook recorder the kernel loads
(``_kernel_shims/_workbench_reads.py``), so a build takes a fraction of a second instead of
a kernel start per notebook. The recorder inside a real kernel is tested by
tests/e2e/test_incremental.py.

Stale is checked against ground truth: after every build, each notebook is executed afresh
on the current files into a scratch folder, and its findings and page must equal the
published ones byte for byte.
"""

from __future__ import annotations

import html
import json
import os
import random
import shutil
import sys
import threading
from pathlib import Path

import nbformat
import pytest
import yaml
from _notebooks import write_notebook

from workbench.packs import cache, execute
from workbench.packs._kernel_shims._workbench_reads import Recorder
from workbench.packs.build import build
from workbench.packs.execute import NotebookRun
from workbench.packs.verify import verify

pytestmark = pytest.mark.slow

CHANGES = 200
SEED = 20

# name -> (needs, parameters cell, body); every notebook ends with `out`, its page's content
NOTEBOOKS = {
    "n1": ((), 'results_dir: str = "."\nscale: int = 1\nx1_path: str = ""', """
from workbench import io
frame = io.read_table(x1_path)
out = int(sum(frame[c].sum() for c in frame.columns)) * scale
io.write_results("n1", {"notebook": "n1", "status": "ok", "headline": "n1",
                        "metrics": {"total": out}}, results_dir)
"""),
    "n2": ((), 'results_dir: str = "."\nx2_path: str = ""\ncfg_path: str = ""', """
from workbench import io
frame = io.read_table(x2_path)
cfg = io.read_yaml(cfg_path)
out = int(frame["v"].sum()) * int(cfg["factor"]) % 7
io.write_results("n2", {"notebook": "n2", "status": "ok", "headline": "n2",
                        "metrics": {"mod7": out}}, results_dir)
"""),
    "n3": ((), 'results_dir: str = "."\nfolder: str = ""', """
import os
from workbench import io
names = sorted(os.listdir(folder))
out = [(n, open(os.path.join(folder, n), encoding="utf-8").read().strip()) for n in names]
io.write_results("n3", {"notebook": "n3", "status": "ok", "headline": "n3",
                        "metrics": {"parts": len(out)}}, results_dir)
"""),
    "n4": (("n1", "n2"), 'results_dir: str = "."\nmode: str = "sum"', """
import json, os
from workbench import io
a = json.load(open(os.path.join(results_dir, "n1.results.json")))["metrics"]["total"]
b = json.load(open(os.path.join(results_dir, "n2.results.json")))["metrics"]["mod7"]
out = a + b if mode == "sum" else a * b
io.write_results("n4", {"notebook": "n4", "status": "ok", "headline": "n4",
                        "metrics": {"combined": out % 5}}, results_dir)
"""),
    "n5": (("n4",), 'results_dir: str = "."\nx3_path: str = ""', """
import json, os
from workbench import io
c = json.load(open(os.path.join(results_dir, "n4.results.json")))["metrics"]["combined"]
frame = io.read_table(x3_path)
out = c + int(frame["v"].max())
io.write_results("n5", {"notebook": "n5", "status": "ok", "headline": "n5",
                        "metrics": {"last": out}}, results_dir)
"""),
}
READS = {  # which data files each notebook reads (the oracle's knowledge, not the cache's)
    "n1": {"x1.csv"}, "n2": {"x2.csv", "cfg.yaml"}, "n3": {"parts"}, "n4": set(),
    "n5": {"x3.csv"},
}


# -- an in-process kernel ------------------------------------------------------------------

_active: dict[str, object] = {}


def _dispatch(event: str, args: tuple) -> None:
    rec = _active.get("recorder")
    if rec is not None and _active.get("thread") == threading.get_ident():
        rec(event, args)  # type: ignore[operator]


_hooked: list[bool] = []


def _execute_cells(path: Path, inject: dict, results_dir: Path, reads: Path | None) -> str:
    """Run the notebook's code cells with ``inject`` after its parameters cell; its page."""
    if not _hooked:
        sys.addaudithook(_dispatch)  # permanent: forwards only while a recorder is active
        _hooked.append(True)
    nb = nbformat.read(path, as_version=4)
    ns: dict = {}
    fd = os.open(reads, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600) if reads else None
    if fd is not None:
        os.write(fd, b'{"op": "armed", "path": "-"}\n')
        _active.update(recorder=Recorder(fd, armed=True), thread=threading.get_ident())
    try:
        for i, cell in enumerate(nb.cells):
            exec(compile(cell.source, f"{path.name}[{i}]", "exec"), ns)  # noqa: S102
            if i == 0:
                ns.update(inject, results_dir=str(results_dir))
    finally:
        _active.clear()
        if fd is not None:
            os.close(fd)
    return f"<h1>{html.escape(path.stem)}</h1><p>{html.escape(repr(ns.get('out')))}</p>\n"


def fake_run_entry(entry, gate=None) -> NotebookRun:
    if gate is not None:  # started ahead of its needs: the first cell waits (may be reused)
        gate()
    work = execute.private_temp_dir(entry.name)
    try:
        reads = cache.reads_file(work)
        page = _execute_cells(entry.path, dict(entry.inject), entry.staging, reads)
        events = cache.read_events(reads)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    (entry.staging / f"{entry.name}.html").write_text(page, encoding="utf-8")
    (entry.staging / f"{entry.name}.ipynb").write_text(
        json.dumps({"inject": entry.inject}, sort_keys=True), encoding="utf-8")
    results = entry.staging / f"{entry.name}.results.json"
    return NotebookRun(entry.name, entry.source, entry.source_sha256, dict(entry.record),
                       status="ok", exec_s=0.001, results=results.exists(),
                       page_bytes=len(page), events=events)


# -- the world -----------------------------------------------------------------------------




class World:
    def __init__(self, root: Path, rng: random.Random, notebooks: dict | None = None) -> None:
        self.root, self.rng = root, rng
        self.notebooks = notebooks or NOTEBOOKS
        self.data = root / "data"
        (self.data / "parts").mkdir(parents=True)
        for name in ("x1.csv", "x2.csv", "x3.csv"):
            rows = "\n".join(f"{rng.randint(10, 99)},{rng.randint(10, 99)}" for _ in range(6))
            (self.data / name).write_text(f"k,v\n{rows}\n", encoding="utf-8")
        (self.data / "cfg.yaml").write_text("factor: 3\n", encoding="utf-8")
        for i in range(3):
            (self.data / "parts" / f"p{i}.txt").write_text(f"{i}\n", encoding="utf-8")
        self.params = {"n1": {"scale": 1}, "n4": {"mode": "sum"}}
        self.code = {n: body for n, (_, _, body) in self.notebooks.items()}
        for name in self.notebooks:
            self.write_notebook(name)
        self.write_spec()
        self.packages = {"polars": "1.0.0"}

    def write_notebook(self, name: str) -> None:
        write_notebook(self.root / f"{name}.ipynb", self.notebooks[name][1], self.code[name])

    def paths(self, name: str) -> dict:
        d = self.data
        return {"n1": {"x1_path": {"path": str(d / "x1.csv")}},
                "n2": {"x2_path": {"path": str(d / "x2.csv")},
                       "cfg_path": {"path": str(d / "cfg.yaml")}},
                "n3": {"folder": {"path": str(d / "parts")}},
                "n4": {}, "n5": {"x3_path": {"path": str(d / "x3.csv")}}}.get(name, {})

    def write_spec(self) -> None:
        notebooks = []
        for name, (needs, _, _) in self.notebooks.items():
            entry = {"name": name, "path": f"{name}.ipynb",
                     "parameters": {**self.paths(name), **self.params.get(name, {})}}
            if needs:
                entry["needs"] = list(needs)
            notebooks.append(entry)
        (self.root / "pack.yml").write_text(yaml.safe_dump(
            {"name": "rand", "title": "Random changes", "inputs": ["data/**/*"],
             "notebooks": notebooks}), encoding="utf-8")

    # each change returns the notebooks it affects directly
    def change(self) -> tuple[str, set[str]]:
        kind = self.rng.choice(["byte", "byte", "byte", "part", "param", "code", "code",
                                "package"])
        return getattr(self, f"_{kind}")()

    def _byte(self) -> tuple[str, set[str]]:
        name = self.rng.choice(["x1.csv", "x2.csv", "x3.csv", "cfg.yaml", "parts"])
        path = self.data / name
        if name == "parts":
            path = self.rng.choice(sorted(path.iterdir()))
        raw = bytearray(path.read_bytes())
        digits = [i for i, b in enumerate(raw) if chr(b).isdigit()]
        i = self.rng.choice(digits)
        raw[i] = ord(self.rng.choice([c for c in "23456789" if ord(c) != raw[i]]))
        path.write_bytes(bytes(raw))
        return f"byte {i} of {path.relative_to(self.root)}", _readers(name)

    def _part(self) -> tuple[str, set[str]]:
        parts = self.data / "parts"
        existing = sorted(parts.iterdir())
        if len(existing) > 1 and self.rng.random() < 0.5:
            gone = self.rng.choice(existing)
            gone.unlink()
            return f"removed {gone.name}", {"n3"}
        new = parts / f"p{self.rng.randint(10, 10**6)}.txt"
        new.write_text(f"{self.rng.randint(0, 9)}\n", encoding="utf-8")
        return f"added {new.name}", {"n3"}

    def _param(self) -> tuple[str, set[str]]:
        if self.rng.random() < 0.5:
            self.params["n1"]["scale"] = self.rng.choice(
                [s for s in range(1, 6) if s != self.params["n1"]["scale"]])
            self.write_spec()
            return f"n1 scale={self.params['n1']['scale']}", {"n1"}
        self.params["n4"]["mode"] = "product" if self.params["n4"]["mode"] == "sum" else "sum"
        self.write_spec()
        return f"n4 mode={self.params['n4']['mode']}", {"n4"}

    def _code(self) -> tuple[str, set[str]]:
        name = self.rng.choice(sorted(NOTEBOOKS))
        self.code[name] += f"\n# revision {self.rng.randint(0, 10**9)}"  # the output stays
        if self.rng.random() < 0.3:
            self.code[name] += "\nout = (out, 'v2')"  # the page changes, findings do not
        self.write_notebook(name)
        return f"code of {name}", {name}

    def _package(self) -> tuple[str, set[str]]:
        major = int(self.packages["polars"].split(".")[0]) + 1
        self.packages["polars"] = f"{major}.0.0"
        return f"polars {self.packages['polars']}", set(NOTEBOOKS)

    def fresh(self, scratch: Path) -> dict[str, tuple[bytes, bytes]]:
        """Every notebook executed afresh on the current files: (findings, page)."""
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir()
        spec = yaml.safe_load((self.root / "pack.yml").read_text(encoding="utf-8"))
        out = {}
        for nb in spec["notebooks"]:
            if nb["name"] not in NOTEBOOKS:
                continue  # a reader of the pack's history: its truth depends on the versions
            inject = {k: (v["path"] if isinstance(v, dict) else v)
                      for k, v in nb["parameters"].items()}
            page = _execute_cells(self.root / nb["path"], inject, scratch, None)
            out[nb["name"]] = ((scratch / f"{nb['name']}.results.json").read_bytes(),
                               page.encode("utf-8"))
        return out


def _readers(name: str) -> set[str]:
    return {n for n, files in READS.items() if name in files}


def _expected_runs(direct: set[str], changed_findings: set[str]) -> set[str]:
    runs = set(direct)
    for name, (needs, _, _) in NOTEBOOKS.items():  # in dependency order
        if any(n in changed_findings for n in needs):
            runs.add(name)
    return runs


@pytest.fixture
def world(tmp_path, monkeypatch):
    w = World(tmp_path / "pack", random.Random(SEED))
    monkeypatch.setattr(execute, "run_entry", fake_run_entry)

    def environment():
        return {"python": "3", "implementation": "cpython", "platform": "test",
                "packages": dict(w.packages)}

    monkeypatch.setattr(cache, "environment", environment)
    return w


def test_random_single_changes_rerun_exactly_what_they_affect(world, tmp_path):
    out = tmp_path / "reports"
    spec = world.root / "pack.yml"
    first = build(spec, out, jobs=1)
    assert {r.name for r in first.runs if not r.cache["reused_from"]} == set(NOTEBOOKS)
    previous = first.version_dir
    kinds: dict[str, int] = {}
    reused_total = 0
    for step in range(CHANGES):
        what, direct = world.change()
        kinds[what.split()[0]] = kinds.get(what.split()[0], 0) + 1
        result = build(spec, out, jobs=1)
        assert result.status == "ok", what
        ran = {r.name for r in result.runs if not r.cache["reused_from"]}
        changed = {
            n for n in NOTEBOOKS
            if (result.version_dir / f"{n}.results.json").read_bytes()
            != (previous / f"{n}.results.json").read_bytes()
        }
        assert ran == _expected_runs(direct, changed), f"step {step}: {what}"
        for r in result.runs:
            if r.cache["reused_from"]:
                assert r.cache["reused_from"] == previous.name
        truth = world.fresh(tmp_path / "fresh")
        for n, (findings, page) in truth.items():
            assert (result.version_dir / f"{n}.results.json").read_bytes() == findings, (
                f"step {step}: {what}: stale findings of {n}")
            assert (result.version_dir / f"{n}.html").read_bytes() == page, (
                f"step {step}: {what}: stale page of {n}")
        reused_total += len(NOTEBOOKS) - len(ran)
        if step % 50 == 0:
            verify(result.version_dir)
        # keep the pack to two versions: history reads stay small
        for old in out.joinpath("rand").iterdir():
            if old.is_dir() and old.name not in (previous.name, result.version_dir.name):
                shutil.rmtree(old)
        previous = result.version_dir
    assert reused_total > CHANGES  # the test exercised reuse, not only re-runs
    assert set(kinds) >= {"byte", "added", "n1", "n4", "code", "polars"}, kinds


def test_no_cache_runs_everything(world, tmp_path):
    out = tmp_path / "reports"
    spec = world.root / "pack.yml"
    build(spec, out, jobs=1)
    again = build(spec, out, jobs=1)
    assert all(r.cache["reused_from"] for r in again.runs)
    manifest = json.loads((again.version_dir / "manifest.json").read_text())
    assert manifest["cache"]["nothing_changed"] is True
    reused_note = "every notebook's output was reused: the pages below are"
    assert reused_note in (again.version_dir / "index.html").read_text()
    forced = build(spec, out, jobs=1, use_cache=False)
    assert not any(r.cache["reused_from"] for r in forced.runs)
    assert {r.cache["ran_because"] for r in forced.runs} == {"--no-cache"}
    manifest = json.loads((forced.version_dir / "manifest.json").read_text())
    assert manifest["cache"]["nothing_changed"] is False
    assert reused_note not in (forced.version_dir / "index.html").read_text()


def test_a_previous_output_edited_after_publishing_is_never_reused(world, tmp_path):
    out = tmp_path / "reports"
    spec = world.root / "pack.yml"
    first = build(spec, out, jobs=1)
    page = first.version_dir / "n3.html"
    page.chmod(0o644)
    page.write_text("<p>edited</p>\n", encoding="utf-8")
    again = build(spec, out, jobs=1)
    runs = {r.name: r.cache for r in again.runs}
    assert runs["n3"]["reused_from"] is None
    assert "differs from its manifest" in runs["n3"]["ran_because"]
    assert (again.version_dir / "n3.html").read_text() != "<p>edited</p>\n"
    assert runs["n1"]["reused_from"] == first.version


# -- the pack's own history ----------------------------------------------------------------

# like contract_checks (compares with the previous version's findings) and review_summary
# (lists the pack's versions and reads each one's findings)
HISTORY = {
    "h1": (("n1",), 'results_dir: str = "."\nprevious_dir: str = ""', """
import json, os
from workbench import io
try:
    before = json.load(open(os.path.join(previous_dir, "n1.results.json")))["metrics"]["total"]
except (OSError, ValueError):
    before = None
now = json.load(open(os.path.join(results_dir, "n1.results.json")))["metrics"]["total"]
out = ("n1 was", before, "is", now)
io.write_results("h1", {"notebook": "h1", "status": "ok", "headline": "h1",
                        "metrics": {"changed": before != now}}, results_dir)
"""),
    "h2": (("n5", "h1"), 'results_dir: str = "."\nprevious_dir: str = ""', """
import json, os
from workbench import io
pack = os.path.dirname(previous_dir) if previous_dir else ""
versions = sorted(v for v in os.listdir(pack) if v[0] != "." and v != "latest") if pack else []
trend = []
for v in versions:
    try:
        trend.append(json.load(open(os.path.join(pack, v, "n5.results.json")))["metrics"]["last"])
    except (OSError, ValueError):
        pass
out = ("versions", len(versions), "trend", trend)
io.write_results("h2", {"notebook": "h2", "status": "ok", "headline": "h2",
                        "metrics": {"versions": len(versions)}}, results_dir)
"""),
}


@pytest.fixture
def history_world(tmp_path, monkeypatch):
    w = World(tmp_path / "pack", random.Random(SEED + 1), {**NOTEBOOKS, **HISTORY})
    monkeypatch.setattr(execute, "run_entry", fake_run_entry)

    def environment():
        return {"python": "3", "implementation": "cpython", "platform": "test",
                "packages": dict(w.packages)}

    monkeypatch.setattr(cache, "environment", environment)
    return w


def _outputs(version_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(version_dir.iterdir())
            if p.name not in ("manifest.json", "index.html")}


def test_history_only_changes_reuse_every_output_and_say_whose_pages_they_are(
        history_world, tmp_path):
    """A build in which nothing but the pack's own history changed (the previous version is
    new, the list of versions grew) restates the version whose pages it copies; any real
    change runs the history readers again, and nothing stale is ever published."""
    w, out, spec = history_world, tmp_path / "reports", history_world.root / "pack.yml"
    first = build(spec, out, jobs=1)
    assert all(not r.cache["reused_from"] for r in first.runs)
    same_as, previous, restated = first.version, first, 0
    for step in range(40):
        noop = step == 0 or w.rng.random() < 0.5  # right after the first version too
        what, direct = ("nothing", set()) if noop else w.change()
        result = build(spec, out, jobs=1)
        assert result.status == "ok", what
        m = json.loads((result.version_dir / "manifest.json").read_text())
        ran = {r.name for r in result.runs if not r.cache["reused_from"]}
        page = (result.version_dir / "index.html").read_text()
        if noop:
            restated += 1
            assert ran == set(), f"step {step}: nothing changed, yet {ran} ran"
            assert m["cache"]["nothing_changed"] is True
            assert m["cache"]["same_as"] == same_as
            assert _outputs(result.version_dir) == _outputs(out / "rand" / same_as)
            assert f"Nothing changed since {same_as}:</strong>" in page
            assert f"the pages below are {same_as}'s" in page
            if same_as != previous.version:
                assert f"(as {previous.version}'s were)" in page
            # pack verify --inputs right after: nothing changed (history reads not checked)
            _, since = cache.check_inputs(result.version_dir, m)
            assert [c for c in since if c.state != "not checked"] == [], f"step {step}"
        else:
            assert m["cache"]["nothing_changed"] is False and m["cache"]["same_as"] is None
            assert "every notebook's output was reused" not in page
            # the history changed since the readers ran: h2's list of versions grew, so it
            # runs again; h1 is reused only when what it reads of the previous version is
            # as it was (its output then equals a fresh run against that version)
            assert "h2" in ran and direct & set(NOTEBOOKS) <= ran, f"step {step}: {what}"
            scratch = tmp_path / "h1"
            shutil.rmtree(scratch, ignore_errors=True)
            scratch.mkdir()
            shutil.copy(result.version_dir / "n1.results.json", scratch)
            h1_page = _execute_cells(w.root / "h1.ipynb",
                                     {"previous_dir": str(previous.version_dir)}, scratch, None)
            assert (result.version_dir / "h1.html").read_text() == h1_page, f"step {step}"
            assert (result.version_dir / "h1.results.json").read_bytes() == \
                (scratch / "h1.results.json").read_bytes()
            truth = w.fresh(tmp_path / "fresh")
            for n, (findings, html_page) in truth.items():
                assert (result.version_dir / f"{n}.results.json").read_bytes() == findings
                assert (result.version_dir / f"{n}.html").read_bytes() == html_page
            versions = sorted(v.name for v in (out / "rand").iterdir()
                              if not v.name.startswith(".") and v.name != "latest")
            h2 = json.loads((result.version_dir / "h2.results.json").read_text())
            assert h2["metrics"]["versions"] == len(versions) - 1  # before this one
            same_as = result.version
        if step % 10 == 0:
            verify(result.version_dir)
        previous = result
    assert 10 < restated < 30


def test_a_read_of_findings_outside_the_needs_is_reported_and_never_reused(world, tmp_path):
    """n3 reads n1's findings without needing n1: what it read depended on timing. The build
    says so (progress line, manifest, front page) and the run is never reused."""
    world.code["n3"] += """
import json
try:
    json.load(open(os.path.join(results_dir, "n1.results.json")))
except (OSError, ValueError):
    pass
"""
    world.write_notebook("n3")
    out, spec = tmp_path / "reports", world.root / "pack.yml"
    said: list[str] = []
    first = build(spec, out, jobs=1, progress=said.append)
    warning = [line for line in said if line.startswith("warning: ")]
    assert len(warning) == 1 and "n3 read $results_dir/n1.results.json" in warning[0]
    assert "add n1 to n3's needs" in warning[0]
    m = json.loads((first.version_dir / "manifest.json").read_text())
    assert m["warnings"] == [warning[0].removeprefix("warning: ")]
    n3 = next(nb for nb in m["notebooks"] if nb["name"] == "n3")["cache"]
    assert n3["key"] is None and "not among its needs" in n3["not_reusable"]
    assert n3["undeclared_reads"][0]["of"] == "n1"
    assert "add n1 to n3&#39;s needs" in (first.version_dir / "index.html").read_text()
    # n5 reads n4's findings and n4 reads n1's: n5 needs n4 only, and n1 through it
    assert all("undeclared_reads" not in nb["cache"] for nb in m["notebooks"]
               if nb["name"] != "n3")
    again = build(spec, out, jobs=1)
    runs = {r.name: r.cache for r in again.runs}
    assert runs["n3"]["reused_from"] is None and runs["n1"]["reused_from"] == first.version
    assert json.loads((again.version_dir / "manifest.json").read_text())["cache"][
        "nothing_changed"] is False

"""Soak test: SIGKILL `workbench pack build` over and over, then check nothing is broken.

    .venv/bin/python benchmarks/soak_kill.py --kills 120          # the soak (minutes)
    .venv/bin/python benchmarks/soak_kill.py --kills 20 --notebooks 1 --json   # tests/trust

A tiny two-notebook spec is built again and again into one reports dir. Each build runs
in a forked child (the parent imports the builder once, so a kill costs a fork rather
than an interpreter start). The first kills walk every named kill point of
``workbench.packs._faults`` once (``WORKBENCH_KILL_AT``); the rest kill the child with
SIGKILL after a random delay within one build's duration (a build that finishes first
does not count: the next delay aims earlier). After EVERY kill:

* every published version directory passes ``workbench pack verify``;
* ``latest`` (when present) names a verified version whose status is ok;
* no version published earlier has disappeared;
* (at the end) no temp notebook, kernel socket dir or connection file of a build is left
  in $TMPDIR;
* the processes of the killed builder (its kernel server and kernels, re-parented to this
  process as their subreaper) are gone within a few seconds; any left over are counted and
  killed, and the next build starts only then.

At the end one build runs without a kill: it must succeed, remove every ``.staging-*``
leftover, and ``reports/index.html`` must list every published version. Exit status 0
when no problem was found, 1 otherwise. Timings are wall-clock on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from workbench.packs import _faults
from workbench.packs.build import STAGING_PREFIX, build
from workbench.packs.index import read_latest
from workbench.packs.verify import verify

NOTEBOOKS = ("a", "b")  # --notebooks 1 builds only "a"


def write_spec(root: Path, notebooks: tuple[str, ...] = NOTEBOOKS) -> Path:
    """A spec of two tiny notebooks (no heavy imports: a kill point costs a kernel start)."""
    params = new_code_cell(
        'results_dir: str = "."  # where the results JSON goes\nname: str = "a"  # results stem'
    )
    params.metadata["tags"] = ["parameters"]
    body = new_code_cell(
        "import json, pathlib\n"
        "doc = {'notebook': name, 'status': 'ok', 'headline': 'fine.', 'metrics': {'rows': 3}}\n"
        "pathlib.Path(results_dir, name + '.results.json').write_text(json.dumps(doc))\n"
        "print('done')"
    )
    nb = new_notebook(cells=[params, body])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, root / "tiny.ipynb")
    spec = root / "tiny.yml"
    lines = ["name: tiny", "title: Tiny pack", "inputs: ['tiny.ipynb']", "notebooks:"]
    for name in notebooks:
        lines += [f"  - name: {name}", "    path: tiny.ipynb", f"    parameters: {{name: {name}}}"]
    spec.write_text("\n".join(lines) + "\n")
    return spec


def named_points(notebooks: tuple[str, ...] = NOTEBOOKS) -> list[str]:
    out = []
    for p in _faults.POINTS:
        out.extend(p.format(nb=n) for n in notebooks) if "{nb}" in p else out.append(p)
    return out


def _child(spec: Path, out: Path, point: str | None) -> int:
    pid = os.fork()
    if pid == 0:  # child: build, with the kill point armed
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            if point:
                os.environ[_faults.ENV] = point
            # every build executes its notebooks (nothing reused from the previous version),
            # so each kill point on the execution path is reached
            build(spec, out, jobs=2, use_cache=False)
            os._exit(0)
        except BaseException:
            os._exit(3)
    return pid


def _wait(pid: int) -> str:
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        return "killed" if sig == signal.SIGKILL else f"signal {sig}"
    return "finished" if os.WEXITSTATUS(status) == 0 else f"exit {os.WEXITSTATUS(status)}"


PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> None:
    """Processes a killed builder leaves (its kernel server, its kernels) are re-parented
    to this process rather than to init, so they can be found, waited for and reaped."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _orphans(parent: int) -> list[int]:
    """Live processes left by the killed builder ``parent`` (this process is their
    subreaper, and no build runs while this is asked): reaps those that have exited."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
    me, found = os.getpid(), []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) == parent:
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
        if int(fields[1]) == me and fields[0] != "Z":
            found.append(int(d.name))
    return found


def _reap_orphans(parent: int, grace: float = 8.0) -> int:
    """Wait up to ``grace`` s for the killed builder's processes to go (its kernel server
    dies with it, its kernels with the server); kill and count any that stay. The next
    build starts only then: a kernel still writing into its temp folder is a race with
    that build's cleanup, not a leak."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _orphans(parent):
            return 0
        time.sleep(0.05)
    left = _orphans(parent)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    while _orphans(parent):
        time.sleep(0.05)
    return len(left)


def check(pack_dir: Path, seen: set[str]) -> list[str]:
    """Invariants after a kill; returns problems (empty when all hold). Updates ``seen``."""
    problems = []
    published = {d.name for d in pack_dir.iterdir() if d.is_dir() and not d.name.startswith(".")}
    for name in sorted(published):
        try:
            verify(pack_dir / name)
        except Exception as exc:  # noqa: BLE001 (report whatever verify raises)
            problems.append(f"{name}: fails verify: {exc}")
    lost = seen - published
    if lost:
        problems.append(f"versions disappeared: {sorted(lost)}")
    seen |= published
    if (pack_dir / "latest").exists():
        latest = read_latest(pack_dir)
        if latest is None:
            problems.append("latest names no published version")
        elif json.loads((pack_dir / latest / "manifest.json").read_text())["status"] != "ok":
            problems.append(f"latest {latest} is not an ok version")
    return problems


def _preload() -> None:
    """Import what a build imports lazily, once, so each forked child starts warm."""
    import jupyter_client.manager  # noqa: F401
    import papermill  # noqa: F401
    import papermill.parameterize  # noqa: F401

    from workbench.packs import export

    export.make_exporter()


def soak(kills: int, seed: int, work: Path, notebooks: int = 2) -> dict:
    _preload()
    rng = random.Random(seed)
    names = NOTEBOOKS[:notebooks]
    spec = write_spec(work, names)
    out = work / "reports"
    pack_dir = out / "tiny"
    t0 = time.monotonic()
    pid = _child(spec, out, None)  # one clean build: baseline and duration of a build
    first = _wait(pid)
    build_s = time.monotonic() - t0
    seen: set[str] = set()
    problems = [] if first == "finished" else [f"first build: {first}"]
    problems += check(pack_dir, seen)
    points = named_points(names)
    outcomes: dict[str, int] = {}
    staging_left = orphans = 0
    log = []
    children: list[int] = []
    i = 0
    while outcomes.get("killed", 0) < kills and i < 3 * kills:  # a random kill may come late
        point = points[i] if i < len(points) else None
        delay = None if point else rng.uniform(0.0, build_s)
        started = time.monotonic()
        pid = _child(spec, out, point)
        children.append(pid)
        if delay is not None:
            time.sleep(delay)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        outcome = _wait(pid)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        orphans += _reap_orphans(pid)
        leftovers = list(pack_dir.glob(f"{STAGING_PREFIX}*"))
        staging_left += bool(leftovers)
        found = check(pack_dir, seen)
        what = point or f"after {delay:.2f} s"
        problems += [f"kill {i + 1} ({what}): {p}" for p in found]
        if point and outcome != "killed":
            problems.append(f"kill {i + 1} ({what}): the build was not killed ({outcome})")
        log.append({"kill": i + 1, "at": what, "outcome": outcome,
                    "s": round(time.monotonic() - started, 2), "staging_left": len(leftovers)})
        if outcome == "finished":  # the build was faster than the delay: aim earlier
            build_s = min(build_s, time.monotonic() - started)
        i += 1
    pid = _child(spec, out, None)  # the next build after all that must just work
    last = _wait(pid)
    if last != "finished":
        problems.append(f"final build: {last}")
    problems += check(pack_dir, seen)
    if list(pack_dir.glob(f"{STAGING_PREFIX}*")):
        problems.append("staging leftovers remain after a successful build")
    tmp = Path(tempfile.gettempdir())
    temp_left = [p.name for pid in children for p in tmp.glob(f"workbench-{pid}-*")]
    if temp_left:
        problems.append(f"temp files of killed builds remain: {temp_left[:5]}")
    marks = [f"workbench-{pid}-" for pid in children]
    connection_files = [p.name for p in tmp.glob("tmp*.json")
                        if p.stat().st_size < 4096 and any(m in p.read_text(errors="replace")
                                                            for m in marks)]
    if connection_files:
        problems.append(f"kernel connection files of builds remain: {connection_files[:5]}")
    index = (out / "index.html").read_text(encoding="utf-8")
    missing = sorted(v for v in seen if v not in index)
    if missing:
        problems.append(f"reports/index.html lacks versions {missing}")
    return {
        "kills": outcomes.get("killed", 0),
        "builds_started": i,
        "named_points": min(i, len(points)),
        "timed_kills": outcomes.get("killed", 0) - min(i, len(points)),
        "outcomes": outcomes,
        "published_versions": len(seen),
        "kills_leaving_staging": staging_left,
        "orphan_kernels_killed": orphans,
        "clean_build_s": round(build_s, 2),
        "elapsed_s": round(time.monotonic() - t0, 1),
        "problems": problems,
        "log": log,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=120,
                    help="builds to kill (random kills that come too late are retried)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--notebooks", type=int, choices=(1, 2), default=2)
    ap.add_argument("--work", type=Path, default=None, help="work dir (default: a temp dir)")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="soak-kill-"))
    work.mkdir(parents=True, exist_ok=True)
    become_subreaper()
    summary = soak(args.kills, args.seed, work, args.notebooks)
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        for k in ("kills", "builds_started", "named_points", "timed_kills", "outcomes",
                  "published_versions", "kills_leaving_staging", "orphan_kernels_killed",
                  "clean_build_s", "elapsed_s"):
            print(f"{k:<24} {summary[k]}")
        print(f"{'problems':<24} {len(summary['problems'])}")
        for p in summary["problems"]:
            print(f"  {p}")
        print("(wall-clock figures on a shared 2-core machine: noisy)")
    return 1 if summary["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())

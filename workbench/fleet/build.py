"""``workbench fleet build``: every notebook run of every model as a Dask task.

The client (this process) does what must happen exactly once per model, under the model's
pack lock: write the model's pack spec, check it, resolve its plan (version name, staging
dir, every notebook's parameters), and at the end rename the assembled staging dir into
place and move ``latest``. Dask runs the rest:

- one task per notebook run (:func:`workbench.packs.execute.run_entry`: plan entry in, run
  record out), depending on the tasks of the notebooks it ``needs`` (Dask task
  dependencies, so a model's summary starts when its inputs are done, while other models'
  notebooks keep the workers busy);
- one task per model that assembles the version in staging (scrub, gates, front page,
  manifest), depending on the model's notebook tasks.

Retries: a task whose worker dies is rescheduled by the scheduler (up to
``distributed.scheduler.allowed-failures`` deaths, then ``KilledWorker``); a task that raises
is retried ``retries`` times. A retried task rewrites files in the model's staging dir only
(atomic writes, the same names); nothing is visible until the client renames staging into
place, once, so a retry never duplicates or corrupts a published version. A model whose
task still fails gets a failed version (its runs marked failed, named in the manifest);
the other models go on. A model whose spec or data is refused before running (exit 2 for a
lone ``pack build``) gets no version and is listed as ``error`` in the index.

The staging dir must be on storage every worker and the client share (a laptop's disk for
a ``LocalCluster``; a shared filesystem for a remote cluster).

Speed (``benchmarks/fleet.py``): each model's tasks are submitted as soon as its plan is
resolved, so the workers start on the first model while the client plans the others; each
worker keeps one warm-kernel server for its lifetime (every kernel it starts is forked
from it: :mod:`workbench.packs.kernels`) and imports the execution and assembly code once
(:class:`workbench.fleet._worker.FleetWorker`); the ``LocalCluster`` runs one worker
process per core, two notebooks at a time each (:data:`THREADS_PER_WORKER`), with Dask's
background sampling slowed (:data:`LOCAL_CLUSTER_CONFIG`): with the defaults, the
statistical profiler, the 20 ms event-loop tick, the 0.5 s system monitor and the
0.1 s memory monitor cost 17% of a core per worker while a task only waits for its kernel
(measured: 3.4 s of CPU per 20 s of two waiting tasks, 0.4 s with these settings).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import EnvironmentFailure, InputError, WorkbenchError
from workbench.fleet.spec import FleetSpec, ModelRow, load_fleet, model_spec
from workbench.packs.assemble import Assembly, assemble
from workbench.packs.execute import NotebookRun, remove_orphan_temp, run_entry
from workbench.packs.index import LATEST, publish_text, write_site_index
from workbench.packs.lock import locked
from workbench.packs.plan import BuildPlan, NotebookEntry, check, resolve
from workbench.packs.publish import make_readable, remove_stale_staging
from workbench.packs.spec import load_spec


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))

DEFAULT_RETRIES = 2
CONNECT_TIMEOUT = "30s"  # how long to wait for --scheduler
# The embedded LocalCluster's Dask settings: every task waits seconds to minutes on a
# notebook kernel (another process), so Dask's per-worker sampling is pure overhead there.
# Failure handling is unchanged (heartbeats, worker TTL, retries and the nanny's restarts
# keep their defaults; the nanny checks memory every 2 s instead of every 0.1 s).
LOCAL_CLUSTER_CONFIG: dict[str, Any] = {
    "distributed.worker.profile.enabled": False,  # stack samples every 10 ms per task
    "distributed.admin.tick.interval": "1s",  # event-loop blocked checks, 20 ms by default
    "distributed.admin.tick.limit": "30s",
    "distributed.admin.system-monitor.interval": "5s",  # psutil CPU/memory/network, 0.5 s
    "distributed.worker.memory.monitor-interval": "2s",  # nanny's RSS check, 0.1 s
    "distributed.scheduler.work-stealing": False,  # tasks of 10-60 s, one slot per worker
    # kernels get the environment ``pack build`` gives them (Dask pins the BLAS thread
    # pools to 1 by default), so a pack's numbers never depend on how it was built
    "distributed.nanny.pre-spawn-environ": {"MALLOC_TRIM_THRESHOLD_": 65536},
}


@dataclass
class ModelOutcome:
    """What happened to one model of the fleet (one record of the fleet index)."""

    model: str
    owner: str
    status: str  # ok | failed | error (refused before running: no version)
    verdict: str | None  # go | hold | no-go; None without a version
    version: str | None = None
    verdict_reason: str = ""
    failed_gates: list[dict[str, Any]] = field(default_factory=list)
    previous_version: str | None = None
    previous_verdict: str | None = None
    changes: list[str] = field(default_factory=list)  # what changed since the previous
    problems: list[str] = field(default_factory=list)  # why it failed or was refused
    duration_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class FleetResult:
    fleet: str
    fleet_dir: Path
    index_html: Path
    outcomes: tuple[ModelOutcome, ...]
    duration_s: float

    @property
    def exit_code(self) -> int:
        """As for ``pack build``, for the fleet as a whole: 2 a model was refused, 3 a
        model's notebook failed, else 0."""
        if any(o.status == "error" for o in self.outcomes):
            return 2
        if any(o.status == "failed" for o in self.outcomes):
            return 3
        return 0


def _run_task(entry: NotebookEntry, *needs: NotebookRun) -> NotebookRun:
    """One notebook run on a worker (``needs``: the runs it waited for, unused)."""
    return run_entry(entry)


def _assemble_task(plan: BuildPlan, *runs: NotebookRun) -> Assembly:
    """One model's version assembled in staging on a worker."""
    return assemble(plan, tuple(runs))


@contextlib.contextmanager
def _client(scheduler: str | None, workers: int | None) -> Iterator[Any]:
    from workbench.fleet._worker import FleetWorker

    with _cluster_client(scheduler, workers) as client:
        client.register_plugin(FleetWorker())
        yield client


@contextlib.contextmanager
def _cluster_client(scheduler: str | None, workers: int | None) -> Iterator[Any]:
    import dask
    from distributed import Client

    if scheduler:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            raise EnvironmentFailure(
                f"--scheduler {scheduler}: expected a running Dask scheduler, could not "
                f"connect ({type(exc).__name__}: {' '.join(str(exc).split())[:160]})"
            ) from exc
        with client:
            yield client
        return
    with dask.config.set(LOCAL_CLUSTER_CONFIG), local_cluster(workers) as cluster, \
            Client(cluster) as client:
        yield client


# notebooks run at once per worker process: a notebook's kernel is busy only about half of
# its run (measured, cost_to_value: 1.0-1.4 s kernel start, 6.1-6.6 s of cells holding
# 3 s of kernel CPU, a 1.3-2.1 s graceful shutdown, for ~4 s of kernel CPU in 10 s), so one
# notebook per core leaves the cores half idle
THREADS_PER_WORKER = 2


def local_cluster(workers: int | None = None,
                  threads: int = THREADS_PER_WORKER) -> Any:
    """The embedded cluster: ``workers`` (default: one per core) worker processes running
    ``threads`` notebooks each (the work is in each notebook's kernel, a subprocess of the
    worker). Use it inside ``dask.config.set(LOCAL_CLUSTER_CONFIG)``."""
    from distributed import LocalCluster

    n = max(1, workers or os.cpu_count() or 1)
    return LocalCluster(n_workers=n, threads_per_worker=threads, processes=True,
                        dashboard_address="127.0.0.1:0")


def build_fleet(
    fleet_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str] = "reports",
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    retries: int = DEFAULT_RETRIES,
    progress: Callable[[str], None] | None = None,
) -> FleetResult:
    """Build every model's pack of ``fleet_path`` under ``out_dir``, write the fleet index
    and findings; the fleet file itself is refused (InputError) before anything runs."""
    from workbench.fleet.index import write_fleet_index

    say = progress or (lambda _line: None)
    t0 = time.perf_counter()
    fleet = load_fleet(fleet_path)
    out = Path(out_dir)
    fleet_dir = out / fleet.name
    clash = next((r.model for r in fleet.models if r.model == fleet.name), None)
    if clash:
        raise InputError(f"{fleet.path}: name: expected a fleet name no model uses, got "
                         f"{clash!r}", file=str(fleet.path), field="name")
    spec_dir = fleet_dir / "specs"
    spec_dir.mkdir(parents=True, exist_ok=True)
    remove_orphan_temp()
    outcomes: dict[str, ModelOutcome] = {}
    plans: dict[str, BuildPlan] = {}
    # the cluster first: an unreachable scheduler fails before any staging dir exists
    with _client(scheduler, workers) as client, contextlib.ExitStack() as locks:
        try:
            tasks = _Tasks(client, retries)
            for row in fleet.models:
                plan = _plan(fleet, row, out, spec_dir, locks, outcomes, say)
                if plan is not None:
                    plans[row.model] = plan
                    tasks.submit(row.model, plan)  # runs while the next model is planned
            tasks.collect(plans, outcomes, say)
        finally:  # interrupted or failed: no staging dir is left behind
            for plan in plans.values():
                shutil.rmtree(plan.staging, ignore_errors=True)
    with locked(out / ".index.lock"):
        write_site_index(out)
    records = [outcomes[r.model] for r in fleet.models]
    index = write_fleet_index(fleet, fleet_dir, records)
    return FleetResult(fleet.name, fleet_dir, index, tuple(records),
                       round(time.perf_counter() - t0, 3))


def _plan(fleet: FleetSpec, row: ModelRow, out: Path, spec_dir: Path,
          locks: contextlib.ExitStack, outcomes: dict[str, ModelOutcome],
          say: Callable[[str], None]) -> BuildPlan | None:
    """Check and resolve one model's plan holding its pack lock (kept until the fleet
    ends); an unusable spec or input makes the model an ``error`` record."""
    try:
        path = model_spec(fleet, row, spec_dir)
        spec = load_spec(path)
        declared = check(spec)
        pack_dir = out / spec.name
        locks.enter_context(locked(pack_dir / ".lock",
                                   on_wait=lambda: say(f"waiting for a build of {spec.name}")))
        remove_stale_staging(pack_dir)
        plan = resolve(spec, declared, out, spec_path=str(path), jobs=1)
        plan.staging.mkdir(mode=0o700, parents=True)
        plan.staging.chmod(0o700)
    except WorkbenchError as exc:
        lines = exc.problems if isinstance(exc, InputError) and exc.problems else [str(exc)]
        outcomes[row.model] = ModelOutcome(row.model, row.owner, "error", None,
                                           problems=[str(x)[:300] for x in lines])
        say(f"{row.model}: refused: {lines[0]}"[:300])
        return None
    outcomes[row.model] = ModelOutcome(row.model, row.owner, "pending", None,
                                       version=plan.version,
                                       previous_version=plan.previous)
    return plan


class _Tasks:
    """Every model's Dask tasks, submitted model by model; completions in any order."""

    def __init__(self, client: Any, retries: int) -> None:
        from distributed import as_completed

        self.client = client
        self.retries = retries
        self.runs: dict[str, list[Any]] = {}
        self.finals: dict[Any, str] = {}
        self.done = as_completed()

    def submit(self, model: str, plan: BuildPlan) -> None:
        """One task per notebook (after the ones it needs) and one assembling the version."""
        futs: dict[str, Any] = {}
        for entry in _ordered(plan):
            futs[entry.name] = self.client.submit(
                _run_task, entry, *(futs[n] for n in entry.needs),
                key=f"run-{model}-{plan.version}-{entry.name}", retries=self.retries,
                pure=False)
        self.runs[model] = [futs[e.name] for e in plan.notebooks]
        fin = self.client.submit(_assemble_task, plan, *self.runs[model],
                                 key=f"assemble-{model}-{plan.version}",
                                 retries=self.retries, pure=False)
        self.finals[fin] = model
        self.done.add(fin)

    def collect(self, plans: dict[str, BuildPlan], outcomes: dict[str, ModelOutcome],
                say: Callable[[str], None]) -> None:
        """Publish each model as its assembly finishes (or fails for good)."""
        count = 0
        for fut in self.done:
            model = self.finals[fut]
            plan = plans[model]
            try:
                assembly = fut.result()
            except Exception as exc:  # a worker died too often, or the environment failed
                assembly = _assemble_failed(plan, self.runs[model], exc)
            _publish(plan, assembly, outcomes[model])
            count += 1
            o = outcomes[model]
            say(f"[{count}/{len(plans)}] {model}  {o.status:<6}  {o.verdict or '-':<5}  "
                f"{plan.version}")
            fut.release()
            for f in self.runs[model]:
                f.release()


def _ordered(plan: BuildPlan) -> list[NotebookEntry]:
    """The plan's entries with every entry after the ones it needs."""
    placed: dict[str, NotebookEntry] = {}
    pending = list(plan.notebooks)
    while pending:
        for e in list(pending):
            if all(n in placed for n in e.needs):
                placed[e.name] = e
                pending.remove(e)
    return list(placed.values())


def _assemble_failed(plan: BuildPlan, futures: list[Any], exc: Exception) -> Assembly:
    """A failed version for a model whose tasks failed for good: runs that came back are
    kept, the others are failed runs naming the error."""
    runs = []
    for entry, fut in zip(plan.notebooks, futures, strict=True):
        try:
            runs.append(fut.result())
        except Exception as run_exc:
            runs.append(NotebookRun(
                entry.name, entry.source, entry.source_sha256, dict(entry.record),
                status="failed",
                error={"ename": type(run_exc).__name__,
                       "evalue": " ".join(str(run_exc).split())[:500],
                       "cell_index": None, "execution_count": None, "anchor": None}))
    if all(r.status == "ok" for r in runs):  # the assembly itself failed: run it here
        runs[-1].status = "failed"
        runs[-1].error = {"ename": type(exc).__name__,
                          "evalue": " ".join(str(exc).split())[:500],
                          "cell_index": None, "execution_count": None, "anchor": None}
    return assemble(plan, tuple(runs))


def _publish(plan: BuildPlan, assembly: Assembly, outcome: ModelOutcome) -> None:
    """Rename staging into place (once, here in the client); ``latest`` on success."""
    make_readable(plan.staging)
    final = plan.pack_dir / plan.version
    os.rename(plan.staging, final)
    if assembly.status == "ok":
        publish_text(plan.pack_dir / LATEST, plan.version + "\n")
    manifest = read_json(final / "manifest.json")
    outcome.status = assembly.status
    outcome.verdict = assembly.verdict
    outcome.verdict_reason = str(manifest.get("verdict_reason") or "")
    outcome.duration_s = assembly.duration_s
    outcome.failed_gates = [
        {k: g.get(k) for k in ("id", "title", "severity", "status")}
        for g in manifest.get("gates", []) if g.get("status") != "passed"
    ]
    outcome.problems = [
        f"{r.name}: {r.error['ename']}: {r.error['evalue']}"[:300]
        for r in assembly.runs if r.status != "ok" and r.error
    ]
    outcome.changes = _changes(plan, manifest, outcome)


def _changes(plan: BuildPlan, manifest: dict[str, Any], outcome: ModelOutcome) -> list[str]:
    """What changed since the model's previous (latest) version: verdict and gates."""
    if not plan.previous:
        return ["first version"]
    try:
        before = read_json(plan.pack_dir / plan.previous / "manifest.json")
    except (OSError, ValueError, WorkbenchError):
        return ["previous version unreadable"]
    outcome.previous_verdict = before.get("verdict")
    out = []
    if before.get("verdict") != manifest.get("verdict"):
        out.append(f"verdict {before.get('verdict')} → {manifest.get('verdict')}")
    was = {g.get("id"): g.get("status") for g in before.get("gates", [])}
    for g in manifest.get("gates", []):
        old = was.get(g.get("id"))
        if old is not None and old != g.get("status"):
            out.append(f"{g.get('id')}: {old} → {g.get('status')}")
    return out or ["no change"]

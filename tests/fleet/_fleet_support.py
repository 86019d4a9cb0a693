"""Helpers of the fleet tests: a tiny fleet (two fixture notebooks per model, the second
needing the first) and a Dask scheduler with workers started as separate processes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat

BIN = Path(sys.executable).parent
ENV = {**os.environ, "NML_DISABLE_USAGE_LOGGING": "1", "PYTHONWARNINGS": "ignore"}

SCORE_CODE = """\
import csv, json, os, time
time.sleep(sleep_s)
with open(data_path, newline="") as fh:
    values = [float(r["value"]) for r in csv.DictReader(fh)]
mean = sum(values) / len(values)
with open(f"/proc/{os.getppid()}/cmdline", "rb") as fh:  # who started this kernel
    parent = fh.read().replace(b"\\0", b" ").decode()
doc = {"schema_version": 1, "notebook": "score", "status": "pass",
       "headline": f"{len(values)} values, mean {mean:.2f}",
       "metrics": {"rows": len(values), "mean": mean},
       "kernel_parent": {"pid": os.getppid(), "cmdline": parent}}
with open(os.path.join(results_dir, findings_name + ".results.json"), "w") as fh:
    json.dump(doc, fh)
print(doc["headline"])
"""

SUMMARY_CODE = """\
import json, os
with open(os.path.join(results_dir, "score.results.json")) as fh:
    score = json.load(fh)
doc = {"schema_version": 1, "notebook": "summary", "status": score["status"],
       "headline": "summary: " + score["headline"], "metrics": dict(score["metrics"])}
with open(os.path.join(results_dir, findings_name + ".results.json"), "w") as fh:
    json.dump(doc, fh)
"""


CHART_CODE = """\
import altair as alt
from workbench import render
render.setup()
alt.Chart(alt.Data(values=[{"value": v} for v in values])).mark_bar().encode(x="value:Q")
"""


def _notebook(path: Path, params: str, code: str, *more: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    cell = nbformat.v4.new_code_cell(params)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Fleet fixture"), cell,
                nbformat.v4.new_code_cell(code), *map(nbformat.v4.new_code_cell, more)]
    nbformat.write(nb, str(path))


def make_fleet(root: Path, models: int, *, broken: tuple[int, ...] = (),
               sleep_s: float = 0.0, chart: bool = False) -> Path:
    """A fleet file under ``root`` over ``models`` models' CSVs; models in ``broken`` get a
    CSV whose values are not numbers (their first notebook raises). ``chart``: the first
    notebook ends with an Altair chart of the values."""
    nbdir = root / "notebooks"
    nbdir.mkdir(parents=True)
    _notebook(nbdir / "score.ipynb",
              'data_path: str = ""\nresults_dir: str = "."\nfindings_name: str = "score"\n'
              "sleep_s: float = 0.0\n", SCORE_CODE, *([CHART_CODE] if chart else []))
    _notebook(nbdir / "summary.ipynb",
              'results_dir: str = "."\nfindings_name: str = "summary"\n', SUMMARY_CODE)
    data = root / "data"
    rows = ["model,owner,data_dir,gates.low-mean"]
    for i in range(models):
        d = data / f"m{i:02d}"
        d.mkdir(parents=True)
        values = ["x", "y"] if i in broken else [str(i + k) for k in range(5)]
        (d / "values.csv").write_text("value\n" + "\n".join(values) + "\n")
        rows.append(f"m{i:02d},team-{i % 3},m{i:02d},{12 if i % 2 else 10}")
    (data / "models.csv").write_text("\n".join(rows) + "\n")
    fleet = root / "fleet.yml"
    fleet.write_text(f"""\
name: tinyfleet
title: Tiny fleet
models: {{path: data/models.csv}}
template:
  title: Tiny model review
  inputs: ["data/{{data_dir}}/*.csv"]
  notebooks:
    - name: score
      path: notebooks/score.ipynb
      parameters:
        data_path: {{path: "data/{{data_dir}}/values.csv"}}
        sleep_s: {sleep_s}
    - name: summary
      path: notebooks/summary.ipynb
      needs: [score]
  gates:
    - {{id: low-mean, title: Mean at most 10, notebook: score, metric: mean, op: "<=",
        value: 10, severity: no-go}}
    - {{id: enough, title: At least 3 rows, notebook: summary, metric: rows, op: ">=",
        value: 3, severity: hold}}
""")
    return fleet


@contextlib.contextmanager
def dask_cluster(tmp: Path, workers: int = 2) -> Iterator[tuple[str, list[subprocess.Popen]]]:
    """``dask scheduler`` and ``workers`` × ``dask worker --no-nanny`` as processes on
    localhost; (scheduler address, worker processes); all stopped on exit."""
    sched_file = tmp / "scheduler.json"
    logs = tmp / "dask-logs"
    logs.mkdir()
    procs: list[subprocess.Popen] = []

    def start(args: list[str], log: str) -> subprocess.Popen:
        p = subprocess.Popen([str(BIN / "dask"), *args], env=ENV, cwd=tmp,
                             stdout=open(logs / log, "wb"), stderr=subprocess.STDOUT,
                             start_new_session=True)
        procs.append(p)
        return p

    try:
        start(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
               "--scheduler-file", str(sched_file)], "scheduler.log")
        deadline = time.monotonic() + 60
        while not sched_file.exists() or not sched_file.read_text().strip():
            assert time.monotonic() < deadline, "dask scheduler did not start"
            time.sleep(0.2)
        address = json.loads(sched_file.read_text())["address"]
        worker_procs = [
            start(["worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                   "--host", "127.0.0.1", "--name", f"w{i}"], f"worker{i}.log")
            for i in range(workers)
        ]
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=90)
        yield address, worker_procs
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait()

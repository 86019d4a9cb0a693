"""Part 4: several builds of one spec at once wait on the pack lock and each publish a
complete, distinct version; a build of another pack into the same reports dir at the same
time neither blocks on that lock nor loses anything from reports/index.html.

Real processes (`workbench pack build` subprocesses), started together.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.packs.verify import verify

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _spec(tmp: Path, name: str) -> Path:
    spec = tmp / f"{name}.yml"
    spec.write_text(f"name: {name}\ntitle: Pack {name}\nnotebooks:\n  - name: a\n"
                    f"    path: {FIXTURES / 'tiny.ipynb'}\n")
    return spec


def test_concurrent_builds_publish_distinct_complete_versions(tmp_path):
    out = tmp_path / "reports"
    same = _spec(tmp_path, "same")
    other = _spec(tmp_path, "other")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    exe = Path(sys.executable).parent / "workbench"
    cmd = [str(exe), "pack", "build", "--out", str(out), "--jobs", "1"]
    procs = [
        subprocess.Popen([*cmd, str(spec)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env)
        for spec in (same, same, same, other)
    ]
    results = [(*p.communicate(timeout=600), p.returncode) for p in procs]
    results = [(code, stdout, stderr) for stdout, stderr, code in results]
    for code, _, stderr in results:
        assert code == 0, stderr[-1500:]
    same_versions = [Path(r[1].strip().splitlines()[-1]).parent for r in results[:3]]
    assert len({v.name for v in same_versions}) == 3  # distinct, none overwritten
    on_disk = sorted(d.name for d in (out / "same").iterdir()
                     if d.is_dir() and not d.name.startswith("."))
    assert on_disk == sorted(v.name for v in same_versions)
    for v in same_versions:
        manifest = verify(v)
        assert manifest["status"] == "ok"
    latest = (out / "same" / "latest").read_text().strip()
    assert latest == max(on_disk)  # the last build to finish under the lock is the newest
    assert not list((out / "same").glob(".staging-*"))
    index = (out / "index.html").read_text()
    for v in on_disk:
        assert v in index
    other_version = Path(results[3][1].strip().splitlines()[-1]).parent.name
    assert other_version in index
    # the lock serialised them: no two builds of the pack ran at the same time
    spans = sorted(
        (m["started_at"], m["finished_at"])
        for m in (json.loads((v / "manifest.json").read_text()) for v in same_versions)
    )
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        assert end <= start

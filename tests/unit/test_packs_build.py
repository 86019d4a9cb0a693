"""Building packs from tiny fixture notebooks: success, failure, timeout, secrets.

Two builds of one pack share a module fixture (each kernel costs seconds): the first
succeeds and becomes ``latest``; the second has a notebook that raises and one the
watchdog stops, so it is published as failed and ``latest`` stays put.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from workbench.cli import cli
from workbench.packs.verify import verify

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "packs"
SUMMARY = Path(__file__).resolve().parents[2] / "notebooks" / "review_summary.ipynb"
SECRET = "wb-s3cret-value-42"


def _write_spec(path: Path, notebooks: list[dict]) -> Path:
    doc = {
        "name": "p",
        "title": "Pack <p>",
        "inputs": [str(FIXTURES / "*.ipynb")],
        "notebooks": notebooks,
        "gates": [
            {
                "id": "rows",
                "title": "Enough rows",
                "notebook": "alpha",
                "metric": "rows",
                "op": ">=",
                "value": 3,
                "severity": "no-go",
                "reason": "r",
            }
        ],
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("builds")
    out = tmp / "reports"
    good = _write_spec(
        tmp / "good.yml",
        [
            {
                "name": "alpha",
                "path": str(FIXTURES / "ok.ipynb"),
                "parameters": {"rows": 5, "token": {"env": "WB_TEST_SECRET", "secret": True}},
            },
            {"name": "review_summary", "path": str(SUMMARY), "needs": ["alpha"]},
        ],
    )
    bad = _write_spec(
        tmp / "bad.yml",
        [
            {"name": "alpha", "path": str(FIXTURES / "ok.ipynb")},
            {"name": "boom", "path": str(FIXTURES / "boom.ipynb")},
            {
                "name": "slow",
                "path": str(FIXTURES / "slow.ipynb"),
                "parameters": {"seconds": 120.0},
                "max_duration": 2,
            },
        ],
    )
    runner = CliRunner()
    os.environ["WB_TEST_SECRET"] = SECRET
    try:
        first = runner.invoke(cli, ["pack", "build", str(good), "--out", str(out), "--jobs", "2"])
        latest_after_first = (out / "p" / "latest").read_text().strip()
        second = runner.invoke(cli, ["pack", "build", str(bad), "--out", str(out), "--jobs", "3"])
    finally:
        del os.environ["WB_TEST_SECRET"]
    return {"out": out, "first": first, "second": second, "latest_after_first": latest_after_first}


def test_successful_build_publishes_and_moves_latest(builds):
    first, out = builds["first"], builds["out"]
    assert first.exit_code == 0, first.output
    index = Path(first.stdout.strip().splitlines()[-1])
    version = index.parent
    assert index.name == "index.html" and index.is_file()
    assert builds["latest_after_first"] == version.name
    assert {p.name for p in version.iterdir()} == {
        "index.html",
        "manifest.json",
        "alpha.html",
        "alpha.ipynb",
        "alpha.results.json",
        "review_summary.html",
        "review_summary.ipynb",
        "review_summary.results.json",
    }
    progress = [line for line in first.stderr.splitlines() if line.startswith("[")]
    assert len(progress) == 2 and all(" exec " in line and " export " in line for line in progress)
    assert not any(p.name.startswith(".staging") for p in (out / "p").iterdir())
    verify(version)


def test_manifest_records_what_produced_the_version(builds):
    version = Path(builds["first"].stdout.strip().splitlines()[-1]).parent
    m = json.loads((version / "manifest.json").read_text())
    assert m["status"] == "ok" and m["verdict"] == "go"
    assert {i["path"].rsplit("/", 1)[-1] for i in m["inputs"]} >= {"ok.ipynb", "boom.ipynb"}
    alpha = m["notebooks"][0]
    assert alpha["parameters"]["token"] == "<redacted>"
    assert alpha["parameters"]["rows"] == 5
    assert len(alpha["source_sha256"]) == 64 and alpha["status"] == "ok"
    assert m["gates"][0]["observed"] == 5 and m["gates"][0]["status"] == "passed"
    assert m["environment"]["packages"]["papermill"]
    # the spec is in a temp folder, the notebooks in this repository: their commit is recorded
    assert {"commit", "dirty"} <= set(m["git"]) and m["git"]["commit"]
    summary = json.loads((version / "review_summary.results.json").read_text())
    assert summary["verdict"] == "go" and summary["metrics"]["gates_failed"] == 0


def test_secret_never_reaches_an_output(builds):
    version = Path(builds["first"].stdout.strip().splitlines()[-1]).parent
    for p in version.iterdir():
        assert SECRET.encode() not in p.read_bytes(), p.name
    html = (version / "alpha.html").read_text()
    assert "token seen: ••••" in html
    nb = json.loads((version / "alpha.ipynb").read_text())
    injected = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert "os').environ['WB_TEST_SECRET']" in "".join(injected[0]["source"])


def test_failed_notebook_still_published_but_latest_not_moved(builds):
    second, out = builds["second"], builds["out"]
    assert second.exit_code == 3, second.output
    assert "boom" in second.stderr and "latest not moved" in second.stderr
    version = Path(second.stdout.strip().splitlines()[-1]).parent
    assert (
        (out / "p" / "latest").read_text().strip() == builds["latest_after_first"] != version.name
    )
    m = verify(version)
    assert m["status"] == "failed"
    runs = {n["name"]: n for n in m["notebooks"]}
    assert runs["alpha"]["status"] == "ok"
    assert runs["boom"]["status"] == "failed" and runs["boom"]["error"]["ename"] == "ValueError"
    assert runs["slow"]["error"]["ename"] == "Timeout"
    site = (out / "index.html").read_text()
    assert version.name in site and "failed" in site


def test_failed_page_shows_error_where_it_happened_and_a_banner(builds):
    version = Path(builds["second"].stdout.strip().splitlines()[-1]).parent
    html = (version / "boom.html").read_text()
    banner = html.index('class="wb-banner"')
    first_output = html.index("before the error")
    error = html.index('class="wb-error"')
    assert banner < first_output < error
    assert "boom &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html
    assert "never runs" not in html
    assert "Timeout" in (version / "slow.html").read_text()
    front = (version / "index.html").read_text()
    assert "Build failed" in front and "boom" in front

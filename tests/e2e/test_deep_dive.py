"""Drift's optional deep dive: evidently's own report, published and linked as its own page."""

import re
from pathlib import Path

from click.testing import CliRunner

from workbench.cli import cli

ROOT = Path(__file__).resolve().parents[2]
REMOTE = re.compile(
    r"""<(?:script|link|img)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I
)


def test_evidently_page_is_published_linked_and_offline(tmp_path):
    spec = tmp_path / "deep.yml"
    spec.write_text(
        "name: deep\n"
        "title: Drift with the evidently deep dive\n"
        "notebooks:\n"
        "  - name: drift\n"
        f"    path: {ROOT / 'notebooks' / 'drift.ipynb'}\n"
        "    parameters:\n"
        "      evidently_sample_rows: 2000\n"
        f"      reference_path: {{path: {ROOT / 'data/sample/scoring/reference.parquet'}}}\n"
        f"      current_path: {{path: {ROOT / 'data/sample/scoring/current.parquet'}}}\n"
        f"      contract_path: {{path: {ROOT / 'data/sample/contracts/loan_scoring.odcs.yaml'}}}\n"
    )
    out = tmp_path / "reports"
    runner = CliRunner()
    built = runner.invoke(cli, ["pack", "build", str(spec), "--out", str(out)])
    assert built.exit_code == 0, built.output
    index = Path(built.stdout.strip().splitlines()[-1])
    deep = index.parent / "drift.evidently.html"
    assert deep.is_file() and deep.stat().st_size > 100_000
    assert 'href="drift.evidently.html"' in index.read_text(encoding="utf-8")
    assert not REMOTE.search(deep.read_text(encoding="utf-8"))
    # it is part of the version: hashed in the manifest, so verify covers it
    assert runner.invoke(cli, ["pack", "verify", str(index.parent)]).exit_code == 0
    deep.write_bytes(deep.read_bytes()[:-1] + b"!")
    bad = runner.invoke(cli, ["pack", "verify", str(index.parent)])
    assert bad.exit_code == 1 and "drift.evidently.html" in bad.output

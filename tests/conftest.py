"""Shared fixtures. The demo pack is built ONCE per session and shared by e2e and browser tests."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

# nannyml (dev extra, parity tests) sends usage analytics unless this is set
os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")

ROOT = Path(__file__).resolve().parents[1]
DEMO_SPEC = ROOT / "notebooks" / "packs" / "demo.yml"
AREA_NOTEBOOKS = ("contract_checks", "drift", "cost_to_value", "incident_postmortem",
                  "model_performance")
DEMO_NOTEBOOKS = (*AREA_NOTEBOOKS, "review_summary")


@pytest.fixture(scope="session")
def demo_pack(tmp_path_factory) -> SimpleNamespace:
    """`workbench pack build notebooks/packs/demo.yml --out <tmp>/reports`, in-process.

    ``WORKBENCH_TEST_SPEC`` may name another spec (for working on the tests themselves).
    """
    from click.testing import CliRunner

    from workbench.cli import cli

    spec = Path(os.environ.get("WORKBENCH_TEST_SPEC", DEMO_SPEC))
    out = tmp_path_factory.mktemp("demo") / "reports"
    result = CliRunner().invoke(cli, ["pack", "build", str(spec), "--out", str(out)])
    assert result.exit_code == 0, f"demo pack build failed ({result.exit_code}):\n{result.output}"
    index = Path(result.stdout.strip().splitlines()[-1])
    return SimpleNamespace(
        out=out,
        index=index,
        version_dir=index.parent,
        pack_dir=index.parent.parent,
        stdout=result.stdout,
        stderr=result.stderr,
    )


# Notebooks under tests/ (fixtures; some raise or leak on purpose) are inputs to pack tests,
# not tests for nbval: `make test` runs nbval over notebooks/ only. fnmatch's * spans folders.
collect_ignore_glob = ["*.ipynb"]


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium, one per test module (Playwright's sync API allows one at a time)."""
    from _chromium import ARGS, CHROMIUM
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server of Debian's packages, on a free local port, for the session (started
    and stopped by tests/_postgres.py; installed with apt-get where missing, never skipped)."""
    import _postgres

    server = _postgres.start()
    try:
        yield server
    finally:
        server.stop()

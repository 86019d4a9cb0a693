"""Fixtures for the trust tests (issue 7); the hostile inputs live in hostile_inputs.py."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from hostile_inputs import build_pack, hostile_spec


@pytest.fixture(scope="session")
def hostile_pack(tmp_path_factory) -> SimpleNamespace:
    """The hostile spec built once: ``version_dir``, ``out`` (reports dir), ``spec``."""
    root = tmp_path_factory.mktemp("hostile")
    spec = hostile_spec(root)
    out = root / "reports"
    version_dir = build_pack(spec, out)
    return SimpleNamespace(root=root, spec=spec, out=out, version_dir=version_dir)


@pytest.fixture(scope="session")
def hostile_rebuild(hostile_pack, tmp_path_factory) -> Path:
    """The same spec and inputs built again into a fresh reports dir (determinism)."""
    out = tmp_path_factory.mktemp("hostile-again") / "reports"
    return build_pack(hostile_pack.spec, out)

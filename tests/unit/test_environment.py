"""environment.yml mirrors pyproject.toml: same packages, same version ranges."""

import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def _norm(req: str) -> tuple[str, str]:
    r = Requirement(req)
    extras = ",".join(sorted(r.extras))
    name = r.name.lower().replace("_", "-") + (f"[{extras}]" if extras else "")
    return name, ",".join(sorted(str(s) for s in r.specifier))


def test_environment_yml_mirrors_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_norm(r) for r in project["dependencies"]}
    wanted |= {_norm(r) for r in project["optional-dependencies"]["dev"]}

    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    have = {_norm(r) for r in pip_section if not r.startswith("-e")}
    assert have == wanted, (
        f"only in environment.yml: {have - wanted}; only in pyproject: {wanted - have}"
    )
    assert "python=3.11" in env["dependencies"]

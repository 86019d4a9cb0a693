"""Part 2: sensitive columns and secret parameters never reach any output of a pack.

The hostile pack's applicant e-mails are canaries (``canary.personNNNNN@trust-canary.example``)
in a column the contract classifies ``restricted`` with a ``pii`` tag; the spec passes a
secret from the environment to one fixture notebook, which prints it, displays it, charts
it and writes it into its results, while another notebook reads it straight from the
kernel's environment. Every published file is searched as text and inside every base64 run
it embeds (images, data: URLs).
"""

from __future__ import annotations

import base64
import binascii
import json
import re

import hostile_inputs
from hostile_inputs import CANARY_DOMAIN, SECRET

BASE64_RUN = re.compile(rb"[A-Za-z0-9+/]{24,}={0,2}")
SCRUBBED = "••••"


def _texts(data: bytes):
    """The file itself plus every base64 run it contains, decoded."""
    yield data
    for m in BASE64_RUN.finditer(data):
        run = m.group(0)
        try:
            yield base64.b64decode(run + b"=" * (-len(run) % 4), validate=False)
        except (binascii.Error, ValueError):
            continue


def _published_files(pack):
    files = [p for p in pack.version_dir.rglob("*") if p.is_file()]
    files += [pack.out / "index.html", *[p for p in pack.out.glob("hostile/*") if p.is_file()]]
    return files


def test_no_canary_or_secret_in_any_output(hostile_pack):
    needles = [CANARY_DOMAIN.encode(), b"canary.person", SECRET.encode(),
               base64.b64encode(SECRET.encode())[:16]]
    files = _published_files(hostile_pack)
    kinds = {p.suffix for p in files}
    assert {".html", ".ipynb", ".json"} <= kinds
    for path in files:
        for text in _texts(path.read_bytes()):
            for needle in needles:
                assert needle not in text, f"{path.name}: contains {needle!r}"


def test_the_secret_did_reach_the_kernels_and_was_scrubbed(hostile_pack):
    """Guards the search above: the values were there to leak, and were replaced."""
    leaky = json.loads((hostile_pack.version_dir / "leaky.results.json").read_text())
    assert leaky["token"] == SCRUBBED and SCRUBBED in leaky["headline"]
    snoop = json.loads((hostile_pack.version_dir / "snoop.results.json").read_text())
    assert snoop["metrics"]["saw"] is True and snoop["headline"] == f"saw {SCRUBBED}"
    nb = json.loads((hostile_pack.version_dir / "leaky.ipynb").read_text())
    injected = next(c for c in nb["cells"] if "injected-parameters" in c["metadata"]["tags"])
    assert "os').environ['WB_TRUST_TOKEN']" in "".join(injected["source"])
    assert nb["metadata"]["papermill"]["parameters"]["token"] == "<redacted>"
    manifest = json.loads((hostile_pack.version_dir / "manifest.json").read_text())
    leaky_run = next(n for n in manifest["notebooks"] if n["name"] == "leaky")
    assert leaky_run["parameters"]["token"] == "<redacted>"


def test_the_sensitive_column_was_read_but_shown_masked(hostile_pack):
    """The contract checks ran over applicant_email (so the canaries were in play)."""
    results = (hostile_pack.version_dir / "contract_checks.results.json").read_text()
    assert "applicant_email" in results


def test_a_value_from_the_environment_is_secret_unless_the_spec_says_otherwise(
    tmp_path, monkeypatch
):
    from workbench.packs.plan import resolve_parameters, secret_values
    from workbench.packs.spec import load_spec

    nb = tmp_path / "n.ipynb"
    nb.write_bytes((hostile_inputs.FIXTURES / "leaky.ipynb").read_bytes())
    spec_path = tmp_path / "s.yml"
    spec_path.write_text(
        "name: s\ntitle: S\nnotebooks:\n  - name: n\n    path: n.ipynb\n    parameters:\n"
        "      token: {env: WB_T_TOKEN}\n      label: {env: WB_T_LABEL, secret: false}\n"
    )
    monkeypatch.setenv("WB_T_TOKEN", "from-env-0001")
    monkeypatch.setenv("WB_T_LABEL", "plain-label")
    spec = load_spec(spec_path)
    recorded = spec.redacted_parameters(spec.notebooks[0])
    assert recorded["token"]["value"] == "<redacted>"
    assert recorded["label"]["value"] == "plain-label"
    inject, record, _ = resolve_parameters(spec, spec.notebooks[0], {"token", "label"}, {})
    assert "from-env-0001" not in json.dumps([inject, record])
    assert secret_values(spec) == ["from-env-0001"]

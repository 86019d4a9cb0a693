"""The hostile pack of the trust tests (issue 7): payloads, canaries, inputs, spec.

The ``hostile_pack`` fixture (conftest) builds it ONCE per session: `workbench sample`
data (small) rewritten so that column names, category values, contract descriptions,
incident text, cost model names, file names, the spec's title/description/gates and
notebook parameters carry the payload corpus below; applicant e-mails are recognisable
canaries; two tiny fixture notebooks receive (and try to leak) a secret parameter.
Every payload that could run sets ``window.__pwned`` and every payload element carries
``id=wbpwn``, so the browser tests can tell whether anything was interpreted.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl
import yaml
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

PAYLOADS = (
    "<script>window.__pwned=1</script>",
    '<img id=wbpwn src=x onerror="window.__pwned=1">',
    "</script><script>window.__pwned=1</script>",
    '<a id=wbpwn href="javascript:window.__pwned=1">click</a>',
    "<svg id=wbpwn onload=window.__pwned=1>",
    "line\u2028sep\u2029 \"double\" 'single' `tick`",
    "<script>alert(1)</script>",
)
ALL_PAYLOADS = " ".join(PAYLOADS)
# usable where a value must stay short, unquoted, slash-free (file names, JSON tags, codes)
SVG = "<svg id=wbpwn onload=window.__pwned=1>"
IMG = "<img id=wbpwn src=x onerror=window.__pwned=1>"
HOSTILE_COLUMN = f"segment{IMG}"
HOSTILE_MODEL = f"fraud{SVG}"
HOSTILE_FILE = f"current '\"{SVG}.parquet"
CANARY_DOMAIN = "trust-canary.example"
SECRET = "tRuSt-S3CRET-0b7c1e"  # recognisable, in the environment only
SECRET_ENV = "WB_TRUST_TOKEN"


def _canary(i: int) -> str:
    return f"canary.person{i:05d}@{CANARY_DOMAIN}"


def _hostile_scoring(data: Path) -> Path:
    scoring = data / "scoring"
    for name in ("reference", "current"):
        path = scoring / f"{name}.parquet"
        df = pl.read_parquet(path)
        n = df.height
        # reference: mostly the first payload; current: mostly others (so it drifts and is charted)
        order = PAYLOADS if name == "reference" else PAYLOADS[::-1]
        seg = [order[0] if i % 5 else order[i // 5 % len(order)] for i in range(n)]
        df = df.with_columns(
            pl.Series(HOSTILE_COLUMN, seg),
            pl.Series("applicant_email", [_canary(i) for i in range(n)]),
            pl.col("loan_purpose").replace({"other": SVG, "car": PAYLOADS[0]}),
        )
        if name == "current":
            df = df.with_columns(pl.col("channel").replace({"broker": IMG}))
        df.write_parquet(path)
    hostile = scoring / HOSTILE_FILE
    (scoring / "current.parquet").rename(hostile)
    return hostile


def _hostile_contract(data: Path) -> Path:
    path = data / "contracts" / "loan_scoring.odcs.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["name"] = f"Loan scoring {PAYLOADS[1]}"
    doc["description"]["purpose"] = ALL_PAYLOADS
    doc["servers"][0]["path"] = f"../scoring/{HOSTILE_FILE}"
    for prop in doc["schema"][0]["properties"]:
        prop["description"] = f"{prop.get('description', '')} {PAYLOADS[3]} {PAYLOADS[5]}"
        if prop["name"] == "loan_purpose":
            for q in prop.get("quality", []):
                values = q.get("arguments", {}).get("validValues")
                if values:
                    values[:] = [SVG if v == "other" else PAYLOADS[0] if v == "car" else v
                                 for v in values]
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _hostile_incident(data: Path) -> Path:
    path = data / "incidents" / "INC-2026-1019.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["title"] = f"Broker outage {PAYLOADS[0]} {PAYLOADS[5]}"
    doc["summary"] = ALL_PAYLOADS
    doc["root_causes"] = [*doc["root_causes"], PAYLOADS[1], PAYLOADS[2]]
    doc["impact"]["description"] = PAYLOADS[3]
    doc["resolution"] = PAYLOADS[4]
    for key in doc.get("lessons_learned", {}):
        doc["lessons_learned"][key].append(PAYLOADS[6])
    for item in doc.get("action_items", []):
        item["description" if "description" in item else "title"] = PAYLOADS[1]
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    events = path.parent / "INC-2026-1019" / "events.csv"
    ev = pl.read_csv(events)
    ev = ev.with_columns(pl.concat_str([pl.col("message"), pl.lit(" " + ALL_PAYLOADS)]))
    ev.write_csv(events)
    return path


def _hostile_costs(data: Path) -> None:
    costs = data / "costs"
    for name in ("usage.csv", "value.csv", "budgets.csv"):
        df = pl.read_csv(costs / name, infer_schema_length=0)
        df.with_columns(pl.col("model").replace({"fraud_screen": HOSTILE_MODEL})).write_csv(
            costs / name
        )
    ledger = costs / "focus_costs.parquet"
    df = pl.read_parquet(ledger)
    tag = json.dumps(HOSTILE_MODEL)[1:-1]
    df = df.with_columns(
        pl.col("Tags").str.replace_all('"fraud_screen"', f'"{tag}"', literal=True),
        pl.col("ChargeDescription") + pl.lit(" " + PAYLOADS[4]),
    )
    df.write_parquet(ledger)


def write_hostile_inputs(root: Path) -> dict[str, Path]:
    """Sample data (small) rewritten with payloads and canaries under ``root/data``."""
    from workbench.sample import generate

    data = root / "data"
    generate(data, 1500)
    _hostile_costs(data)
    return {
        "current": _hostile_scoring(data),
        "contract": _hostile_contract(data),
        "incident": _hostile_incident(data),
        "costs": data / "costs",
    }


def hostile_spec(root: Path) -> Path:
    paths = write_hostile_inputs(root)
    data = root / "data"
    spec = {
        "name": "hostile",
        "title": f"Hostile {PAYLOADS[0]} {PAYLOADS[5]}",
        "description": ALL_PAYLOADS,
        "inputs": ["data/**/*"],
        "notebooks": [
            {
                "name": "contract_checks",
                "path": str(NOTEBOOKS / "contract_checks.ipynb"),
                "parameters": {
                    # the contract's server path names the hostile current file
                    "contract_path": {"path": str(paths["contract"].relative_to(root))},
                },
            },
            {
                "name": "drift",
                "path": str(NOTEBOOKS / "drift.ipynb"),
                "parameters": {
                    "reference_path": {"path": "data/scoring/reference.parquet"},
                    "current_path": {"path": str(paths["current"].relative_to(root))},
                    "contract_path": {"path": str(paths["contract"].relative_to(root))},
                    "top_charts": 6,
                },
            },
            {
                "name": "cost_to_value",
                "path": str(NOTEBOOKS / "cost_to_value.ipynb"),
                "parameters": {
                    "ledger_path": {"path": "data/costs/focus_costs.parquet"},
                    "usage_path": {"path": "data/costs/usage.csv"},
                    "value_path": {"path": "data/costs/value.csv"},
                    "budgets_path": {"path": "data/costs/budgets.csv"},
                },
            },
            {
                "name": "incident_postmortem",
                "path": str(NOTEBOOKS / "incident_postmortem.ipynb"),
                "needs": ["contract_checks", "drift"],
                "parameters": {
                    "record_path": {"path": str(paths["incident"].relative_to(root))},
                    "portfolio_source": {"path": "data/incidents"},
                },
            },
            {
                "name": "leaky",
                "path": str(FIXTURES / "leaky.ipynb"),
                "parameters": {
                    "token": {"env": SECRET_ENV, "secret": True},
                    "label": ALL_PAYLOADS,
                },
            },
            {"name": "snoop", "path": str(FIXTURES / "snoop.ipynb")},
            {
                "name": "review_summary",
                "path": str(NOTEBOOKS / "review_summary.ipynb"),
                "needs": ["contract_checks", "drift", "cost_to_value", "incident_postmortem",
                          "leaky", "snoop"],
            },
        ],
        "gates": [
            {
                "id": "hostile-gate",
                "title": f"Gate {PAYLOADS[1]}",
                "notebook": "leaky",
                "metric": "rows",
                "op": ">=",
                "value": 1,
                "severity": "hold",
                "reason": ALL_PAYLOADS,
            }
        ],
    }
    del data
    path = root / "hostile.yml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def build_pack(spec: Path, out: Path, jobs: int = 2) -> Path:
    """`workbench pack build` in-process; return the new version directory."""
    from workbench.cli import cli

    os.environ[SECRET_ENV] = SECRET
    try:
        result = CliRunner().invoke(
            cli, ["pack", "build", str(spec), "--out", str(out), "--jobs", str(jobs)]
        )
    finally:
        del os.environ[SECRET_ENV]
    assert result.exit_code == 0, f"build failed ({result.exit_code}):\n{result.output}"
    return Path(result.stdout.strip().splitlines()[-1]).parent

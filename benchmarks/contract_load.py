"""Contract loading time: the packaged ODCS schema as jsonschema runs it vs workbench's loader.

    .venv/bin/python benchmarks/contract_load.py            # stock: 1 to 3 levels (seconds)
    .venv/bin/python benchmarks/contract_load.py --levels 4 # stock at 4 levels: minutes
    .venv/bin/python benchmarks/contract_load.py --peer     # and datacontract-cli's lint

Contracts are generated here, in the shapes the issue measured: ``deep<N>``, arrays of
objects nested N levels (the 4-level one is 39 lines); ``wide545``, 545 properties in
objects nested up to 4 deep, like datacontract-cli's ``product_detail`` import fixture;
``flat40``, 40 top-level properties. "stock" validates with jsonschema's own validator for
the packaged ODCS 3.2.0 schema (what workbench did before); "workbench" is
``load_contract`` (YAML read, schema workarounds, pydantic model, workbench's own rules).
CPU seconds of this process (``time.process_time``) are printed beside wall seconds: the
machine is shared, and CPU time moves much less with its load.

Measured 2026-12-02 on the development machine (2 cores, shared: load average 9 to 12,
so wall times are 3 to 4 times the CPU times), ``--levels 4``:

    contract   props  stock CPU s  workbench CPU s  wall s
    flat40        40        0.080            0.013   0.112
    deep1          2        0.038            0.003   0.005
    deep2          3        0.440            0.003   0.016
    deep3          4        4.211            0.004   0.012
    deep4          5       44.340            0.007   0.010   (the issue: 78 s wall)
    deep5          6    (skipped)            0.014   0.041
    deep6          7    (skipped)            0.026   0.055
    wide545      545    (skipped)            0.121   0.324   (product_detail: 195 s in the issue)

With ``--peer``, same run (load average 11): datacontract-cli 1.2.8's ``lint`` (it drops
``unevaluatedProperties`` and does not refuse unknown fields) took 0.16 to 0.25 CPU s on
flat40 and deep1-6 (workbench 0.002 to 0.033) and 0.77 on wide545 (workbench 0.16).

datacontract-cli's ``product_detail`` fixture itself (not committed): 0.39 CPU s, 1.0 to
1.5 s wall at load 9; its JSON-schema validation alone took 2.0 s wall with only the
``unevaluatedProperties`` change, 0.42 s once the logicalType ``if`` tests were decided in
Python. The slowest of the standard's 18 examples (``postgresql-adventureworks``) 0.7 s
wall at load 9.

Stock time grows about tenfold per level (``unevaluatedProperties`` re-validates every
subschema at every level); workbench's stays linear in the size of the contract.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from importlib.resources import files
from pathlib import Path

import yaml

HEAD = {"apiVersion": "v3.1.0", "kind": "DataContract", "id": "bench", "version": "1.0.0",
        "status": "active"}


def deep(levels: int) -> dict:
    leaf: dict = {"name": "leaf", "logicalType": "string", "required": True}
    for level in reversed(range(levels)):
        leaf = {"name": f"level{level}", "logicalType": "array",
                "items": {"logicalType": "object", "properties": [leaf]}}
    return {**HEAD, "schema": [{"name": "t", "properties": [leaf, {"name": "f"}]}]}


def wide(total: int = 545) -> dict:
    counter = iter(range(total))

    def group(depth: int) -> list[dict]:
        props: list[dict] = []
        for _ in range(8):
            n = next(counter, None)
            if n is None:
                break
            if depth < 4 and n % 3 == 0:
                props.append({"name": f"obj{n}", "logicalType": "object", "physicalType": "object",
                              "properties": group(depth + 1)})
            else:
                props.append({"name": f"field{n}", "logicalType": "string",
                              "physicalType": "string", "examples": [f"value {n}"]})
        return props

    props: list[dict] = []
    while (more := group(1)):
        props += more
    return {**HEAD, "schema": [{"name": "product_detail", "properties": props}]}


def flat(n: int = 40) -> dict:
    return {**HEAD, "schema": [{"name": "t", "properties": [
        {"name": f"c{i}", "logicalType": "integer", "required": True,
         "logicalTypeOptions": {"minimum": 0}} for i in range(n)]}]}


def count_properties(node: object) -> int:
    if isinstance(node, dict):
        return (node.get("name") is not None and "logicalType" in node) + sum(
            count_properties(v) for v in node.values())
    if isinstance(node, list):
        return sum(count_properties(v) for v in node)
    return 0


def timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--levels", type=int, default=3, help="deepest level run stock")
    parser.add_argument("--peer", action="store_true",
                        help="also time datacontract-cli's lint (Python API) on each contract")
    args = parser.parse_args()

    import jsonschema

    from workbench.contracts import load_contract
    from workbench.contracts._model import _validator

    schema = json.loads(files("open_data_contract_standard").joinpath("schema.json").read_text())
    stock = jsonschema.validators.validator_for(schema)(schema)
    _validator()  # built once per process in both cases
    cases = {"flat40": flat(), **{f"deep{n}": deep(n) for n in range(1, 7)}, "wide545": wide()}
    print(os.popen("uptime").read().strip())
    if args.peer:
        from datacontract.data_contract import DataContract
    print(f"{'contract':10} {'props':>5} {'stock CPU s':>12} {'workbench CPU s':>16} {'wall s':>7}"
          + (f" {'datacontract lint CPU s':>24}" if args.peer else ""))
    with tempfile.TemporaryDirectory() as tmp:
        for name, doc in cases.items():
            path = Path(tmp) / f"{name}.odcs.yaml"
            path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
            levels = int(name[4:]) if name.startswith("deep") else 0
            run_stock = levels <= args.levels and name != "wide545"
            before = (f"{timed(lambda d=doc: list(stock.iter_errors(d)))[0]:12.3f}"
                      if run_stock else f"{'(skipped)':>12}")
            cpu, wall = timed(lambda p=path: load_contract(p))
            peer = ""
            if args.peer:
                lint = timed(lambda p=path: DataContract(data_contract_file=str(p)).lint())[0]
                peer = f" {lint:24.3f}"
            print(f"{name:10} {count_properties(doc):5} {before} {cpu:16.3f} {wall:7.3f}{peer}")


if __name__ == "__main__":
    main()

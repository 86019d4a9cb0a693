"""`workbench cost`: allocate a FOCUS cost ledger and weigh it against usage, value, budgets."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from workbench.errors import input_error


def _parse_day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise input_error("--as-of", "as_of", "a date YYYY-MM-DD", value) from exc


def _table(result) -> str:
    from workbench import render

    cols = ("model", "cost", "value", "cost_per_1k_predictions", "value_cost_ratio", "net_value",
            "budget_burn_pct", "forecast_vs_budget_pct", "on_budget")
    heads = ("model", "cost", "value", "cost/1k", "value/cost", "net value", "burn %",
             "forecast %", "on budget")
    rows = [[render.fmt(r[c]) if not isinstance(r[c], float) else f"{r[c]:,.2f}" for c in cols]
            for r in result.models.iter_rows(named=True)]
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(heads)]
    line = "  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True))
    out = [f"{result.headline}", "", line, "-" * len(line)]
    out += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    alloc = result.allocation
    out += ["", f"total cost {alloc['total_cost']:,.2f} {result.currency}; unallocated share "
                f"{alloc['unallocated_share']:.1%}; tag coverage {alloc['tag_coverage']:.1%}; "
                f"credits {alloc['credits']:,.2f}"]
    out += [f"warning: {w}" for w in result.warnings]
    for a in result.anomalies.iter_rows(named=True):
        out.append(f"anomaly: {a['date']} {a['service']} cost {a['cost']:,.2f} "
                   f"(median {a['median']:,.2f}, score {a['score']:.1f})")
    return "\n".join(out)


@click.command("cost")
@click.argument("ledger", type=click.Path(path_type=Path))
@click.option("--usage", required=True, type=click.Path(path_type=Path),
              help="Predictions served: date, model, version, predictions.")
@click.option("--value", "value", required=True, type=click.Path(path_type=Path),
              help="Business value: date, model, value.")
@click.option("--budgets", required=True, type=click.Path(path_type=Path),
              help="Budgets: model, month (YYYY-MM), budget.")
@click.option("--rates", type=click.Path(path_type=Path), default=None,
              help="Exchange rates: currency, rate (units of --currency per unit).")
@click.option("--currency", default=None, help="Reporting currency (default: the ledger's).")
@click.option("--month", default=None, help="Month to report, YYYY-MM (default: latest).")
@click.option("--as-of", "as_of", default=None, help="Last day counted in the month, YYYY-MM-DD.")
@click.option("--cost-column", default="EffectiveCost", show_default=True,
              type=click.Choice(["EffectiveCost", "BilledCost"]))
@click.option("--split-shared/--keep-shared", default=True, show_default=True,
              help="Split cost tagged model=shared across models by predictions served.")
@click.option("--split-untagged/--keep-untagged", default=False, show_default=True,
              help="Split cost without a model tag across models by predictions served.")
@click.option("--model-tag", default="model", show_default=True,
              help="Tag key that names the model.")
@click.option("--stage-tag", default="stage", show_default=True,
              help="Tag key that names the lifecycle stage.")
@click.option("--version-tag", default="version", show_default=True,
              help="Tag key that names the model version.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
def command(ledger: Path, usage: Path, value: Path, budgets: Path, rates: Path | None,
            currency: str | None, month: str | None, as_of: str | None, cost_column: str,
            split_shared: bool, split_untagged: bool, model_tag: str, stage_tag: str,
            version_tag: str, fmt: str) -> None:
    """Cost per model and stage from a FOCUS LEDGER, against usage, value and budgets.

    LEDGER: a FOCUS export: a .csv, .csv.gz or .parquet file, a folder of part files or a
    quoted glob ("exports/*.parquet").
    """
    from workbench import costs
    from workbench.io import dumps_json

    rules = costs.AllocationRules(split_shared=split_shared, split_untagged=split_untagged,
                                  cost_column=cost_column, model_tag=model_tag,
                                  stage_tag=stage_tag, version_tag=version_tag)
    result = costs.compute(ledger, usage, value, budgets, rates=rates, month=month,
                           as_of=_parse_day(as_of), currency=currency, rules=rules)
    click.echo(dumps_json(result.to_dict()) if fmt == "json" else _table(result), nl=fmt != "json")

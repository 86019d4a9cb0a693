"""`workbench drift REFERENCE CURRENT`: per-column drift, evidently-compatible.

The CLI keeps the design's REFERENCE CURRENT order; the Python API takes current first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from workbench.cli import names
from workbench.errors import InputError

if TYPE_CHECKING:
    from workbench.drift import DriftResult


def _pairs(values: tuple[str, ...], option: str, cast: type) -> dict:
    out = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise InputError(f"{option}: expected COLUMN=VALUE, got {item!r}", field=option)
        try:
            out[name.strip()] = cast(value.strip())
        except ValueError as exc:
            raise InputError(
                f"{option}: expected COLUMN=NUMBER, got {item!r}", field=option
            ) from exc
    return out


@click.command("drift")
@click.argument("reference")
@click.argument("current")
@click.option("--columns", default=None, help="Comma-separated columns to compare (default: all).")
@click.option(
    "--drift-share",
    type=click.FloatRange(0, 1, min_open=True),
    default=0.5,
    show_default=True,
    help="Dataset drift when at least this share of columns drifted.",
)
@click.option(
    "--methods",
    type=click.Choice(["evidently", "calibrated"]),
    default="calibrated",
    show_default=True,
    help="evidently: evidently 0.7's defaults exactly; calibrated: the same, but a "
    "contingency chi-square where evidently's small-sample chi-square over-alarms.",
)
@click.option(
    "--method",
    "method_overrides",
    multiple=True,
    metavar="COLUMN=METHOD",
    help="Per-column method: ks, chisquare, z, wasserstein, jensenshannon, psi, "
    "kl_div, hellinger. Repeatable.",
)
@click.option(
    "--threshold",
    "threshold_overrides",
    multiple=True,
    metavar="COLUMN=VALUE",
    help="Per-column threshold. Repeatable.",
)
@click.option(
    "--contract",
    type=click.Path(exists=False),
    default=None,
    help="ODCS contract: column types, valid values and sensitive columns come from it.",
)
@click.option("--schema", default=None, help="Schema object of the contract (if it has several).")
@click.option(
    "--timestamp", default=None, help="Timestamp column of the current data (for --window)."
)
@click.option(
    "--window",
    default=None,
    help="Drift per time window of the current data: day, week, or a length like 3d, 12h.",
)
@click.option("--prediction", default=None, help="Comma-separated prediction columns.")
@click.option("--label", default=None, help="Comma-separated label columns (label drift).")
@click.option(
    "--key-features",
    default=None,
    help="Comma-separated features a gate watches: adds key_drifted_share to the output.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option("--fail-on-drift", is_flag=True, help="Exit 1 when the dataset drifted.")
def command(
    reference: str,
    current: str,
    columns: str | None,
    drift_share: float,
    methods: str,
    method_overrides: tuple[str, ...],
    threshold_overrides: tuple[str, ...],
    contract: str | None,
    schema: str | None,
    timestamp: str | None,
    window: str | None,
    prediction: str | None,
    label: str | None,
    key_features: str | None,
    fmt: str,
    fail_on_drift: bool,
) -> int:
    """Compare CURRENT with REFERENCE (CSV, Parquet or JSON lines), column by column.

    Either side may be a database table, summarised where it lives:
    postgresql://host:port/db#schema.table, duckdb:///file.duckdb#table, or
    server:NAME[#table] for a server of --contract (credentials:
    $DATACONTRACT_POSTGRES_USERNAME, $DATACONTRACT_POSTGRES_PASSWORD).
    """
    from workbench.drift import compute
    from workbench.io import dumps_json

    cols = names(columns) or None
    loaded = None
    if contract is not None:
        from workbench.contracts import load_contract

        loaded = load_contract(contract)
    named = [*names(prediction), *names(label), *names(key_features)]
    sides = _tables(reference, current, cols, loaded, schema, window, named)
    result = compute(
        current=sides.get("current", current),
        reference=sides.get("reference", reference),
        columns=cols,
        drift_share=drift_share,
        methods=methods,
        method=_pairs(method_overrides, "--method", str),
        threshold=_pairs(threshold_overrides, "--threshold", float),
        contract=loaded,
        schema=schema,
        timestamp=timestamp,
        window=window,
        prediction=names(prediction),
        label=names(label),
        key_features=names(key_features),
        # errors about named columns name the option the user typed
        column_names={"prediction": "--prediction", "label": "--label",
                      "key_features": "--key-features", "timestamp": "--timestamp"},
    )
    if not result.columns:
        raise _nothing_compared(current, result.skipped)
    if fmt == "json":
        out = result.to_dict()
        if result.skipped:
            out["not_compared"] = [dict(s) for s in result.skipped]
        if result.key_features:
            out["key_features"] = list(result.key_features)
            out["key_drifted_share"] = round(result.key_drifted_share or 0.0, 6)
        if window:
            out["windows"] = result.window_rows()
            out["first_drift_window"] = result.first_drift_window()
        if result.breaches:
            out["contract_breaches"] = result.breach_rows()
        click.echo(dumps_json(out), nl=False)
    else:
        click.echo(_table(result))
    return 1 if fail_on_drift and result.dataset_drift else 0


def _tables(reference: str, current: str, cols: list[str] | None, contract: Any,
            schema: str | None, window: str | None, named: list[str]) -> dict:
    """The sides that name a database table, rebuilt from engine-side summaries; a column
    named by an option (--columns, --prediction, --label, --key-features) that a table lacks
    is one line naming the server, the table and every such column (exit 2)."""
    from workbench.drift._table import resolve, table_frame

    out = {}
    for side, text in (("reference", reference), ("current", current)):
        source = resolve(text, contract, schema)
        if source is None:
            continue
        if window:
            raise InputError(f"{source.label}: --window: expected a file; per-window drift "
                             "needs each row's timestamp and a table is summarised per column",
                             field="--window")
        out[side] = table_frame(source, cols, require=named)
    return out


def _nothing_compared(current: str, skipped: list[dict[str, str]]) -> InputError:
    """No column could be compared: an error, never a "no drift" verdict."""
    why = "; ".join(f"{s['column']}: {s['reason']}" for s in skipped[:5]) or "no common columns"
    more = f" (and {len(skipped) - 5} more)" if len(skipped) > 5 else ""
    return InputError(
        f"{current}: expected at least one column to compare, got none ({why}{more})",
        file=current,
        field="columns",
    )


def _table(result: DriftResult) -> str:
    from workbench.render import fmt

    rows = [("column", "type", "method", "statistic", "threshold", "drifted")]
    for c in result.ranked():
        rows.append(
            (
                c.column,
                c.type,
                c.method,
                fmt(c.statistic),
                fmt(c.threshold),
                "DRIFT" if c.drifted else "-",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.append("")
    lines.append(result.headline)
    if result.key_features:
        lines.append(f"key features: {result.key_drifted_columns} of "
                     f"{len(result.key_features)} drifted ({result.key_drifted_share:.0%})")
    for s in result.skipped:
        lines.append(f"not compared: {s['column']} ({s['reason']})")
    for b in result.breaches:
        if b.side == "current":
            lines.append(f"contract breach: {b.column} = {b.value!r} in {b.rows} rows")
    if result.windows:
        first = {c: w for c, w in result.first_drift_window().items() if w}
        for col, start in sorted(first.items(), key=lambda kv: (kv[1], kv[0])):
            lines.append(f"first drifted window: {col} from {start}")
    return "\n".join(lines)

"""`workbench sample`: write the demo scenario (at any scale), or a fleet of models."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("sample")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory to write the scenario into (created if missing).")
@click.option("--rows", type=click.IntRange(min=1000), default=None,
              help="Rows of the current scoring window (reference: half); default: demo size.")
@click.option("--models", type=click.IntRange(min=1), default=None,
              help="Write N models' inputs (a fleet) and models.csv instead of one scenario.")
def command(out_dir: Path, rows: int | None, models: int | None) -> None:
    """Write the demo credit-risk scenario: scoring logs, contract, costs, incidents."""
    if models is not None:
        from workbench.sample.fleet import ROWS, generate_fleet

        written = generate_fleet(out_dir, models, rows=rows or ROWS)
    else:
        from workbench.sample import generate

        written = generate(out_dir, rows=rows)
    total = sum(p.stat().st_size for p in written)
    click.echo(f"wrote {len(written)} files ({total / 1e6:.1f} MB) under {out_dir}")

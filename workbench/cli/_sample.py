"""`workbench sample`: write the demo scenario (at any scale)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("sample")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory to write the scenario into (created if missing).")
@click.option("--rows", type=click.IntRange(min=1000), default=None,
              help="Rows of the current scoring window (reference: half); default: demo size.")
def command(out_dir: Path, rows: int | None) -> None:
    """Write the demo credit-risk scenario: scoring logs, contract, costs, incidents."""
    from workbench.sample import generate

    written = generate(out_dir, rows=rows)
    total = sum(p.stat().st_size for p in written)
    click.echo(f"wrote {len(written)} files ({total / 1e6:.1f} MB) under {out_dir}")

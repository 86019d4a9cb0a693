"""`workbench fleet build`: every model's review pack, fanned out on Dask distributed.

Progress goes to stderr (one line per model); the last line on stdout is the path of the
fleet index page. Exit codes, for the fleet as a whole, as for ``pack build``: 0 every
model published; 2 the fleet file is unusable (nothing runs), or a model's spec or input
was refused (the others still run); 3 a model's notebook failed (its version is published
as failed, ``latest`` does not move; the others go on); 4 the environment failed.
"""

from __future__ import annotations

from pathlib import Path

import click


@click.group("fleet")
def command() -> None:
    """Build every model's review pack of a fleet, and the fleet index."""


@command.command("build")
@click.argument("fleet", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="A running Dask scheduler (tcp://host:8786); default: a LocalCluster "
              "on this machine.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="LocalCluster worker processes (default: number of CPU cores).")
@click.option("--retries", type=click.IntRange(min=0), default=2, show_default=True,
              help="Times a task that raised is retried (a task whose worker died is "
              "rescheduled by Dask in any case).")
@click.option("--out", "out_dir", default="reports", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Reports directory.")
def build_cmd(fleet: Path, scheduler: str | None, workers: int | None, retries: int,
              out_dir: Path) -> int:
    """Build every model of FLEET (a pack spec template and a table of models) as an
    ordinary pack version under OUT/<model>/, and OUT/<fleet>/index.html.

    \b
    Exit codes:
      0  every model published
      2  unusable fleet file (nothing runs) or a model refused before running
      3  a model's notebook failed (its version published as failed)
      4  the environment failed (disk full, permission denied)
    """
    from workbench.fleet import build_fleet

    def say(line: str) -> None:
        click.echo(line, err=True)

    if scheduler and workers:
        say("--workers applies to the LocalCluster only; ignored with --scheduler")
    result = build_fleet(fleet, out_dir, scheduler=scheduler, workers=workers,
                         retries=retries, progress=say)
    counts: dict[str, int] = {}
    for o in result.outcomes:
        key = o.status if o.status != "ok" else str(o.verdict)
        counts[key] = counts.get(key, 0) + 1
    say(f"fleet {result.fleet}: {len(result.outcomes)} models ("
        + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        + f"), {result.duration_s:.1f} s")
    for o in result.outcomes:
        if o.status == "error":
            say(f"workbench: error: {o.model}: {o.problems[0] if o.problems else 'refused'}")
    click.echo(str(result.index_html))
    return result.exit_code

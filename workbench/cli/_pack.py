"""`workbench pack`: build, list, verify, prune, hold and release review packs.

``pack build`` never prompts. Progress goes to stderr (one line per notebook); stdout
gets only the path of the new version's index.html, so ``$(workbench pack build ...)``
captures it. Exit codes: 0 ok; 1 a no-go gate with ``--fail-on-gate``; 2 unusable spec or
input; 3 a notebook failed (the version is still published, status failed, and
``latest`` does not move). ``pack pdf`` exits 4 when Chromium or the pdf extra is missing.
"""

from __future__ import annotations

from pathlib import Path

import click

from workbench.errors import CheckFailed, NotebookFailed


@click.group("pack")
def command() -> None:
    """Build, list, verify and prune review packs."""


# every subcommand that reads or writes reports/ takes the same --out
_out_option = click.option(
    "--out",
    "out_dir",
    default="reports",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Reports directory.",
)


@command.command("build")
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@_out_option
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Notebooks run at once (default: number of CPU cores).",
)
@click.option("--fail-on-gate", is_flag=True, help="Exit 1 when the verdict is no-go.")
def build_cmd(spec: Path, out_dir: Path, jobs: int | None, fail_on_gate: bool) -> None:
    """Execute SPEC's notebooks into a new version under OUT/<pack>/.

    Prints one progress line per notebook on stderr and the new front page's path on
    stdout. Never prompts.

    \b
    Exit codes:
      0  published (whatever the verdict, unless --fail-on-gate)
      1  verdict no-go and --fail-on-gate
      2  unusable spec or input (one line naming the file and field)
      3  a notebook failed: the version is published as failed, latest does not move
    """
    from workbench.packs.build import build

    def say(line: str) -> None:
        click.echo(line, err=True)

    result = build(spec, out_dir, jobs=jobs, progress=say)
    say(
        f"pack {result.pack} {result.version}: {result.status}, verdict {result.verdict}, "
        f"{result.duration_s:.1f} s"
    )
    click.echo(str(result.index_html))
    if result.failed:
        names = ", ".join(r.name for r in result.failed)
        raise NotebookFailed(
            f"pack {result.pack}: notebook(s) failed: {names}; "
            f"see {result.index_html} (latest not moved)"
        )
    if fail_on_gate and result.verdict == "no-go":
        raise CheckFailed(f"pack {result.pack}: verdict no-go; see {result.index_html}")


@command.command("list")
@_out_option
def list_cmd(out_dir: Path) -> None:
    """List every pack and version with its status and verdict."""
    from workbench.packs.prune import list_packs, read_holds

    found = list_packs(out_dir)
    if not found:
        click.echo(f"no packs under {out_dir}")
        return
    for pack in found:
        click.echo(f"{pack['name']}: {pack['title']}")
        held = read_holds(out_dir / pack["name"])
        for v in pack["versions"]:
            mark = "  (latest)" if v["version"] == pack["latest"] else ""
            if v["version"] in held:
                mark += f"  (held: {held[v['version']]['reason']})"
            click.echo(
                f"  {v['version']}  {v['status']:<6}  {v['verdict']:<5}  "
                f"{out_dir / pack['name'] / v['version'] / 'index.html'}{mark}"
            )


@command.command("verify")
@click.argument("version_dir", type=click.Path(path_type=Path))
def verify_cmd(version_dir: Path) -> None:
    """Recompute every hash of a published version; exit 1 naming the first bad file."""
    from workbench.packs.verify import verify

    manifest = verify(version_dir)
    click.echo(f"{version_dir}: ok ({len(manifest['outputs'])} files match manifest.json)")


@command.command("pdf")
@click.argument("version_dir", type=click.Path(path_type=Path))
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="PDF to write (default: <pack>-<version>.pdf here); never overwritten.")
@click.option("--paper", type=click.Choice(["a4", "letter"]), default="a4", show_default=True,
              help="Paper size.")
def pdf_cmd(version_dir: Path, out: Path | None, paper: str) -> None:
    """Write one PDF of the pack version VERSION_DIR, front page first (needs the pdf extra)."""
    from workbench.packs.pdf import write_pdf

    click.echo(str(write_pdf(version_dir, out, paper=paper)))


@command.command("prune")
@click.option(
    "--keep", type=click.IntRange(min=1), required=True, help="Versions to keep per pack."
)
@_out_option
def prune_cmd(keep: int, out_dir: Path) -> None:
    """Delete all but the KEEP newest versions of each pack (latest and held ones are kept)."""
    from workbench.packs.prune import prune

    removed = prune(out_dir, keep)
    click.echo(f"removed {len(removed)} version(s)")
    for p in removed:
        click.echo(f"  {p}")


@command.command("hold")
@click.argument("version_dir", type=click.Path(path_type=Path))
@click.option("--reason", required=True, help="Why the version is kept (e.g. the audit).")
def hold_cmd(version_dir: Path, reason: str) -> None:
    """Keep VERSION_DIR through every prune (an audit hold) until released."""
    from workbench.packs.prune import hold

    entry = hold(version_dir, reason)
    click.echo(f"{version_dir}: held ({entry['reason']})")


@command.command("release")
@click.argument("version_dir", type=click.Path(path_type=Path))
def release_cmd(version_dir: Path) -> None:
    """Remove the audit hold on VERSION_DIR (prune may then delete it)."""
    from workbench.packs.prune import release

    released = release(version_dir)
    click.echo(f"{version_dir}: {'released' if released else 'was not held'}")

"""`workbench pack`: build, list, verify, prune, hold and release review packs.

``pack build`` never prompts. Progress goes to stderr (one line per notebook); stdout
gets only the path of the new version's index.html, so ``$(workbench pack build ...)``
captures it. Exit codes: 0 ok; 1 a no-go gate with ``--fail-on-gate``; 2 unusable spec or
input; 3 a notebook failed (the version is still published, status failed, and
``latest`` does not move); 4 the environment failed (disk full, permission denied; for
``pack pdf``, Chromium or the pdf extra is missing).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from workbench.cli import names
from workbench.errors import CheckFailed, NotebookFailed

if TYPE_CHECKING:
    from workbench.packs.publish import BuildResult


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
# pack build and pack watch
_jobs_option = click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Notebooks run at once (default: number of CPU cores).",
)
_sign_key_option = click.option(
    "--sign-key",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="WORKBENCH_SIGN_KEY",
    default=None,
    help="Ed25519 private key (PEM) to sign the manifest with (env WORKBENCH_SIGN_KEY); "
    "make one with `workbench pack keygen`.",
)


@command.command("build")
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@_out_option
@_jobs_option
@click.option("--fail-on-gate", is_flag=True, help="Exit 1 when the verdict is no-go.")
@_sign_key_option
@click.option(
    "--no-cache",
    is_flag=True,
    help="Run every notebook, even one whose inputs, code and parameters are unchanged "
    "since the previous version (whose outputs are reused otherwise).",
)
@click.option(
    "--if-changed",
    is_flag=True,
    help="Publish nothing when the new version would restate the latest (nothing it rests "
    "on changed); stdout then names the latest version's index.html.",
)
def build_cmd(
    spec: Path,
    out_dir: Path,
    jobs: int | None,
    fail_on_gate: bool,
    sign_key: Path | None,
    no_cache: bool,
    if_changed: bool,
) -> None:
    """Execute SPEC's notebooks into a new version under OUT/<pack>/.

    Prints one progress line per notebook on stderr and the new front page's path on
    stdout. Never prompts.

    \b
    Exit codes:
      0  published (whatever the verdict, unless --fail-on-gate)
      1  verdict no-go and --fail-on-gate
      2  unusable spec or input (one line naming the file and field)
      3  a notebook failed: the version is published as failed, latest does not move
      4  the environment failed (disk full, permission denied): one line
    """
    from workbench.packs import kernels

    def say(line: str) -> None:
        click.echo(line, err=True)

    # the warm-kernel server starts first: it imports on the other core while the builder
    # imports its own modules and checks the spec (about 1.5 s before the first kernel)
    if if_changed and no_cache:
        raise click.UsageError("--if-changed compares with the latest version: not with "
                               "--no-cache")
    with kernels.warm_kernels(ordinary_first=0):
        from workbench.packs.build import build, build_if_changed

        if if_changed:
            maybe = build_if_changed(spec, out_dir, jobs=jobs, progress=say, sign_key=sign_key)
            if maybe is None:
                index, verdict = _unchanged(spec, out_dir)
                if fail_on_gate and verdict == "no-go":
                    raise CheckFailed(f"verdict no-go (unchanged); see {index}")
                return
            result = maybe
        else:
            result = build(spec, out_dir, jobs=jobs, progress=say, sign_key=sign_key,
                           use_cache=not no_cache)
    _announce(result)
    problem = _problem(result)
    if problem is not None:
        raise problem
    if fail_on_gate and result.verdict == "no-go":
        raise CheckFailed(f"pack {result.pack}: verdict no-go; see {result.index_html}")


def _unchanged(spec: Path, out_dir: Path) -> tuple[Path, str | None]:
    """``--if-changed`` found nothing changed: the latest version stands (its index.html
    and verdict)."""
    import json

    from workbench.packs.index import read_latest
    from workbench.packs.spec import load_spec

    name = load_spec(spec).name
    version = out_dir / name / str(read_latest(out_dir / name))
    verdict = json.loads((version / "manifest.json").read_text(encoding="utf-8")).get("verdict")
    click.echo(f"pack {name}: nothing changed since {version.name} (verdict {verdict}); no "
               "version published", err=True)
    click.echo(str(version / "index.html"))
    return version / "index.html", verdict


def _announce(result: BuildResult) -> None:
    """A built version: its summary on stderr, its index.html path alone on stdout."""
    click.echo(
        f"pack {result.pack} {result.version}: {result.status}, verdict {result.verdict}, "
        f"{result.duration_s:.1f} s",
        err=True,
    )
    click.echo(str(result.index_html))
    sys.stdout.flush()


def _problem(result: BuildResult) -> NotebookFailed | None:
    """Why ``result`` exits 3: a notebook failed, or a file was withheld."""
    if result.failed:
        names = ", ".join(r.name for r in result.failed)
        return NotebookFailed(
            f"pack {result.pack}: notebook(s) failed: {names}; "
            f"see {result.index_html} (latest not moved)"
        )
    if result.withheld:
        return NotebookFailed(
            f"pack {result.pack}: withheld {', '.join(result.withheld)[:200]} (a secret could "
            f"not be scrubbed from it); see {result.index_html} (latest not moved)"
        )
    return None


@command.command("watch")
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@_out_option
@click.option(
    "--interval",
    type=click.FloatRange(min=0.05),
    default=30.0,
    show_default=True,
    help="Seconds between two looks at the spec, its inputs and what its notebooks read.",
)
@_jobs_option
@_sign_key_option
@click.option(
    "--builds",
    "max_builds",
    type=click.IntRange(min=1),
    default=None,
    help="Stop after this many builds (default: run until stopped).",
)
def watch_cmd(
    spec: Path, out_dir: Path, interval: float, jobs: int | None, sign_key: Path | None,
    max_builds: int | None,
) -> None:
    """Build SPEC's pack now if anything changed since its latest version, then again
    whenever something does; runs until stopped (SIGTERM, Ctrl-C).

    A look that finds nothing changed (the spec, its inputs, the notebooks and everything
    they read, workbench and its packages) publishes nothing. One process keeps the
    builder's imports and a warm-kernel server between builds, so a rebuild starts with
    its imports done; when workbench or its packages change on disk, the watcher restarts
    itself. Output per build as for `pack build` (stdout: the new index.html path).

    \b
    Exit codes:
      0  stopped, or --builds reached
      2  unusable spec or input when it starts (one line naming the file and field)
      3  --builds reached and the last build had a notebook fail
      4  the environment failed (disk full, permission denied): one line
    """
    import os
    import signal

    from workbench.packs import kernels

    kernels.shared_server()  # imports on the other core while the builder imports its own
    from workbench.cli import invoked
    from workbench.packs.watch import RESTART, watch

    last: list[BuildResult] = []

    def on_build(result: BuildResult) -> None:
        _announce(result)
        last[:] = [result]

    def stop(_signum: int, _frame: object) -> None:
        # a flag and the server killed (its kernels die with it): the watcher and a build
        # under way see the flag; nothing is raised into the code the signal interrupts
        kernels.stop_now()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        code = watch(spec, out_dir, interval=interval, on_build=on_build,
                     say=lambda line: click.echo(line, err=True), jobs=jobs,
                     sign_key=sign_key, max_builds=max_builds)
    except KeyboardInterrupt:
        click.echo("pack watch: stopped", err=True)
        return
    if code == RESTART:
        kernels.stop_shared()
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, [sys.executable, "-m", "workbench", *invoked()])
    problem = _problem(last[0]) if last else None
    if problem is not None:
        raise problem


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
@click.option(
    "--key",
    "key_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Ed25519 public key (PEM) the pack must be signed with: proves who built it.",
)
@click.option(
    "--inputs",
    "check_inputs",
    is_flag=True,
    help="Also re-hash the inputs the version recorded that are still on disk and list "
    "those changed since it was built (exit 1 when any changed or is gone).",
)
def verify_cmd(version_dir: Path, key_path: Path | None, check_inputs: bool) -> None:
    """Recompute every hash of a published version; exit 1 naming the first bad file.

    Without --key this proves integrity only (nothing changed by accident since the
    manifest was written); with --key it also proves the holder of the matching private
    key built it and nothing was added, removed or changed since.
    """
    from workbench.packs.sign import load_public_key
    from workbench.packs.verify import verify_version

    key = load_public_key(key_path) if key_path is not None else None
    verified = verify_version(version_dir, key)
    click.echo(verified.summary(version_dir))
    if check_inputs:
        _verify_inputs(version_dir, verified.manifest)


def _verify_inputs(version_dir: Path, manifest: dict) -> None:
    """``pack verify --inputs``: one line per recorded input that changed or is gone."""
    from workbench.packs.cache import check_inputs

    checked, changes = check_inputs(version_dir, manifest)
    for c in changes:
        click.echo(f"  {c.state}: {c.path} (read by {', '.join(c.notebooks)})")
    bad = [c for c in changes if c.state != "not checked"]
    if bad:
        raise CheckFailed(
            f"{version_dir}: {len(bad)} of {checked} recorded inputs changed or are gone "
            "since the version was built"
        )
    click.echo(f"{version_dir}: all {checked} recorded inputs still on disk are unchanged")


@command.command("keygen")
@click.argument("private_key", type=click.Path(dir_okay=False, path_type=Path))
def keygen_cmd(private_key: Path) -> None:
    """Make an Ed25519 key pair: PRIVATE_KEY (mode 0600) and PRIVATE_KEY.pub.

    Keep the private key with the scheduler that builds packs (`pack build --sign-key`);
    give the .pub file to whoever verifies them (`pack verify --key`).
    """
    from workbench.packs.sign import generate_keypair

    public = private_key.with_name(private_key.name + ".pub")
    fp = generate_keypair(private_key, public)
    click.echo(f"private key: {private_key}\npublic key:  {public}\nfingerprint: {fp}")


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


# --- bring your own model: a starter spec, and what gates can read ----------------------


@command.command("init")
@click.option("--reference", required=True, help="Reference data (what the model learned on).")
@click.option("--current", required=True, help="Current data (what the model scores now).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="Where to write the spec (YAML).")
@click.option("--contract", default=None, help="ODCS contract of the current data.")
@click.option("--prediction", default=None, help="Comma-separated prediction columns.")
@click.option("--label", default=None, help="Comma-separated label columns.")
@click.option("--timestamp", default=None, help="Timestamp column of the current data.")
@click.option("--key-features", default=None, help="Comma-separated features a gate watches.")
@click.option("--exclude", default=None, help="Comma-separated columns never compared.")
@click.option("--costs", default=None, help="FOCUS cost export (needs --usage --value --budgets).")
@click.option("--usage", default=None, help="Predictions per model and day (CSV/Parquet).")
@click.option("--value", default=None, help="Business value per model and day.")
@click.option("--budgets", default=None, help="Budget per model and month.")
@click.option("--incident", default=None, help="Incident record (YAML) for a postmortem.")
@click.option("--name", default=None, help="Pack name (default: from --out).")
@click.option("--title", default=None, help="Pack title.")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
def init_cmd(reference: str, current: str, out: str, contract: str | None,
             prediction: str | None, label: str | None, timestamp: str | None,
             key_features: str | None, exclude: str | None, costs: str | None,
             usage: str | None, value: str | None, budgets: str | None,
             incident: str | None, name: str | None, title: str | None, force: bool) -> None:
    """Write a starter pack spec for your own model's files; it builds as written.

    Every named column is checked against both data files (exit 2 naming it). Then run
    `workbench pack build OUT`.
    """
    from workbench.packs.starter import StarterInputs, write_starter

    path = write_starter(StarterInputs(
        reference=reference, current=current, out=out, contract=contract,
        prediction=names(prediction), label=names(label), timestamp=timestamp or None,
        key_features=names(key_features), exclude=names(exclude), costs=costs, usage=usage,
        value=value, budgets=budgets, incident=incident, name=name, title=title,
    ), force=force)
    click.echo(f"wrote {path}; build it with: workbench pack build {path}", err=True)
    click.echo(str(path))


@command.command("metrics")
@click.argument("notebook", required=False)
def metrics_cmd(notebook: str | None) -> None:
    """Print the metrics gates can read: of NOTEBOOK (a name such as drift, or an
    .ipynb path), or of every notebook. The full reference is notebooks/REFERENCE.md."""
    from workbench.packs.reference import metrics_text, notebooks, resolve_notebook

    paths = [resolve_notebook(notebook)] if notebook else notebooks()
    click.echo("\n\n".join(metrics_text(p) for p in paths))

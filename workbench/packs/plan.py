"""Resolve a validated spec once into the immutable plan every later stage reads.

``pack build`` is a straight pipeline, one module per stage, each taking the previous
stage's output::

    spec.load_spec(path)      -> PackSpec       the YAML, read once, validated
    plan.check(spec)          -> declared       notebooks' parameters, secrets, pre-flight
    plan.resolve(spec, ...)   -> BuildPlan      (under the pack's lock) version, staging,
                                                inputs and their hashes, every notebook's
                                                resolved parameters and cache key
    execute.run_plan(plan)    -> NotebookRuns   each entry through execute.run_entry
                                                (executed notebook + its page, export.py)
    assemble.assemble(plan, runs) -> Assembly   scrubbed outputs, gates, front page, manifest
    publish.publish(plan, assembly) -> BuildResult   rename into place, latest, site index

Nothing after :func:`resolve` looks at the spec again. A :class:`NotebookEntry` carries
everything one notebook's run needs (plain data, picklable), so a distributed scheduler
can ship it to another process and get a :class:`~workbench.packs.execute.NotebookRun`
back.

Cache keys (:mod:`workbench.packs.cache`): ``NotebookEntry.cache_part`` is what the plan
knows of a run's key (the notebook, its resolved parameters, its page); ``BuildPlan.cache``
adds the environment and the previous successful version's runs (its one mutable part is a
memo of file hashes). What a notebook reads is known only once it has run, so the execute
stage completes the key.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from workbench.io import dumps_json, sha256_file, write_text_atomic
from workbench.packs import cache
from workbench.packs.index import read_latest
from workbench.packs.params import declared_parameters
from workbench.packs.preflight import preflight
from workbench.packs.spec import (
    REDACTED,
    EnvParam,
    GateSpec,
    NotebookSpec,
    PackSpec,
    PathParam,
    _fail,
    check_declared_parameters,
)

STAGING_PREFIX = ".staging-"
SECRET_PLACEHOLDER = "__workbench_secret_{}__"


@dataclass(frozen=True)
class SecretRef:
    """A secret parameter: the kernel reads ``env`` (or ``default``) from its environment."""

    env: str
    default: Any = None


@dataclass(frozen=True)
class NotebookEntry:
    """One notebook of the plan: everything its run needs, resolved (plain data)."""

    name: str  # the spec's name: page, executed notebook and findings are written under it
    source: str  # the notebook's path as the spec writes it
    path: Path  # the notebook file, absolute
    source_sha256: str
    inject: dict[str, Any]  # values papermill injects (secrets as placeholders)
    record: dict[str, Any]  # values the manifest records (secrets redacted)
    spec_parameters: dict[str, Any]  # the spec's own parameters, redacted
    secrets: tuple[SecretRef, ...]  # the placeholders' order
    needs: tuple[str, ...]
    timeout: int  # seconds per cell
    max_duration: int  # seconds for the whole notebook (watchdog)
    staging: Path  # where every output of the run goes
    page: dict[str, Any]  # what the page template shows besides the notebook
    cache_part: dict[str, Any]  # the notebook's part of its cache key (packs.cache)
    # every secret value of the pack (all kernels inherit the environment, so any notebook
    # could print another's): the run scrubs them from its outputs
    secret_values: tuple[str, ...] = field(default=(), repr=False)
    never_reuse: str | None = None  # why this run is never reused (a secret parameter)


@dataclass(frozen=True)
class BuildPlan:
    """A build, resolved: which version, which inputs, which notebooks with what."""

    pack: str
    title: str
    description: str
    spec_path: str  # as the caller named it (recorded in the manifest)
    spec_sha256: str
    spec_content: dict[str, Any]  # the spec as parsed, secrets redacted
    out_dir: Path
    pack_dir: Path
    version: str
    staging: Path
    previous: str | None
    started: datetime
    started_clock: float  # time.perf_counter() at ``started``
    inputs: tuple[dict[str, Any], ...]  # {path, size, sha256}
    notebooks: tuple[NotebookEntry, ...]
    gates: tuple[GateSpec, ...]
    code_dirs: tuple[Path, ...]  # folders whose git state the manifest records
    base_dir: Path
    jobs: int
    secret_values: tuple[str, ...] = field(default=(), repr=False)
    cache: cache.CacheContext | None = None  # None: no incremental build (packs.cache)

    def entry(self, name: str) -> NotebookEntry:
        return next(e for e in self.notebooks if e.name == name)


def check(spec: PackSpec) -> dict[str, set[str]]:
    """Everything refusable before a kernel starts (SpecError, exit 2): the parameters each
    notebook declares, secrets that must be set, parameter types, named columns and gate
    metrics. Returns each notebook's declared parameters."""
    declared = {nb.name: _declared(spec, i, nb) for i, nb in enumerate(spec.notebooks)}
    check_declared_parameters(spec, declared)
    _check_secrets(spec)
    preflight(spec)
    return declared


def resolve(
    spec: PackSpec,
    declared: Mapping[str, set[str]],
    out_dir: Path,
    *,
    spec_path: str,
    jobs: int,
    use_cache: bool = True,
) -> BuildPlan:
    """The plan of one build (call it holding the pack's lock: it reads ``latest`` and picks
    a version name no other build has taken)."""
    pack_dir = out_dir / spec.name
    started = datetime.now(UTC)
    clock = time.perf_counter()
    inputs = tuple(
        {"path": f.path, "size": f.abspath.stat().st_size, "sha256": sha256_file(f.abspath)}
        for f in spec.input_files()
    )
    sources = {nb.name: sha256_file(spec.notebook_path(nb)) for nb in spec.notebooks}
    version = version_name(pack_dir, started, _fingerprint(spec, inputs, sources))
    staging = pack_dir / f"{STAGING_PREFIX}{version}"
    previous = read_latest(pack_dir)
    builtins = {
        "results_dir": str(staging.resolve()),
        "previous_dir": str((pack_dir / previous).resolve()) if previous else "",
        "pack_spec": str(spec.path),
    }
    secrets = tuple(secret_values(spec))
    page = {"pack_title": spec.title, "version": version}
    ctx = cache.context(staging, pack_dir, spec.base_dir, previous, use_cache,
                        needs={nb.name: nb.needs for nb in spec.notebooks})
    entries = []
    for nb in spec.notebooks:
        inject, record, refs = resolve_parameters(
            spec, nb, declared[nb.name], {**builtins, "findings_name": nb.name}
        )
        nb_page = {**page, "title": f"{nb.name} · {spec.title}"}
        entries.append(
            NotebookEntry(
                name=nb.name,
                source=nb.path,
                path=spec.notebook_path(nb),
                source_sha256=sources[nb.name],
                inject=inject,
                record=record,
                spec_parameters=spec.redacted_parameters(nb),
                secrets=refs,
                needs=tuple(nb.needs),
                timeout=nb.timeout,
                max_duration=nb.max_duration,
                staging=staging,
                page=nb_page,
                cache_part=cache.notebook_part(spec.notebook_path(nb), record, nb_page),
                secret_values=secrets,
                never_reuse=cache.uncacheable_reason(
                    record,
                    [k for k, v in nb.parameters.items() if isinstance(v, EnvParam) and v.secret],
                ),
            )
        )
    # nothing but the pack's own history changed: the version restates the previous one
    ctx = replace(ctx, same_as=cache.history_rule(
        ctx, {e.name: e.cache_part for e in entries if e.never_reuse is None}
        if all(e.never_reuse is None for e in entries) else {},
        spec.sha256, [dict(i) for i in inputs]))
    return BuildPlan(
        pack=spec.name,
        title=spec.title,
        description=spec.model.description,
        spec_path=spec_path,
        spec_sha256=spec.sha256,
        spec_content=_redacted_spec(spec),
        out_dir=out_dir,
        pack_dir=pack_dir,
        version=version,
        staging=staging,
        previous=previous,
        started=started,
        started_clock=clock,
        inputs=inputs,
        notebooks=tuple(entries),
        gates=tuple(spec.gates),
        code_dirs=tuple(
            [spec.notebook_path(nb).parent for nb in spec.notebooks]
            + [Path(__file__).resolve().parent]
        ),
        base_dir=spec.base_dir,
        jobs=jobs,
        secret_values=secrets,
        cache=ctx,
    )


def resolve_parameters(
    spec: PackSpec, nb: NotebookSpec, declared: set[str], builtins: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, Any], tuple[SecretRef, ...]]:
    """(values to inject, values to record, secrets in placeholder order). A builder
    parameter (``results_dir``, ``findings_name``, ...) is passed only when declared."""
    inject: dict[str, Any] = {k: v for k, v in builtins.items() if k in declared}
    record = dict(inject)
    secrets: list[SecretRef] = []
    for key, value in nb.parameters.items():
        if isinstance(value, EnvParam) and value.secret:
            inject[key] = SECRET_PLACEHOLDER.format(len(secrets))
            record[key] = REDACTED
            secrets.append(SecretRef(value.env, value.default))
        elif isinstance(value, EnvParam):
            inject[key] = record[key] = os.environ.get(value.env, value.default)
        elif isinstance(value, PathParam):
            inject[key] = record[key] = str((spec.base_dir / value.path).resolve())
        else:
            inject[key] = record[key] = value
    return inject, record, tuple(secrets)


def secret_values(spec: PackSpec) -> list[str]:
    """The values of every secret parameter in the spec (from the environment or defaults)."""
    values = []
    for nb in spec.notebooks:
        for param in nb.parameters.values():
            if isinstance(param, EnvParam) and param.secret:
                value = os.environ.get(param.env, param.default)
                if value not in (None, ""):
                    values.append(str(value))
    return values


def version_name(pack_dir: Path, started: datetime, digest: str) -> str:
    base = f"{started.strftime('%Y%m%dT%H%M%SZ')}-{digest}"
    name, n = base, 1
    while (pack_dir / name).exists():  # same inputs rebuilt within one second
        n += 1
        name = f"{base}-{n}"
    return name


def _declared(spec: PackSpec, i: int, nb: NotebookSpec) -> set[str]:
    """The notebook's declared parameters; a notebook papermill cannot read is a spec error."""
    try:
        return declared_cached(spec.notebook_path(nb))
    except Exception as exc:  # papermill raises bare ValueError/JSON errors on bad notebooks
        raise _fail(
            spec.path,
            f"notebooks[{i}].path",
            "a notebook whose parameters cell papermill can read",
            f"{nb.path}: {' '.join(str(exc).split())[:120]}",
        ) from exc


def _parameters_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "workbench" / "declared-parameters"


def declared_cached(path: Path) -> set[str]:
    """:func:`~workbench.packs.params.declared_parameters`, remembered per notebook content.

    papermill's import and ``inspect_notebook`` cost about 0.1 s of CPU per notebook; a
    rebuild whose notebooks did not change reads the answer back instead. The entry is
    keyed by the notebook file's sha256 and papermill's version (its parser decides what
    is declared); anything unreadable is ignored and papermill asked again.
    """
    raw = path.read_bytes()
    try:
        pm = metadata.version("papermill")
    except metadata.PackageNotFoundError:
        pm = "none"
    key = hashlib.sha256(raw + b"\0papermill " + pm.encode()).hexdigest()
    entry = _parameters_cache() / f"{key}.json"
    try:
        names = json.loads(entry.read_text(encoding="utf-8"))
        if isinstance(names, list) and all(isinstance(n, str) for n in names):
            return set(names)
    except (OSError, ValueError):
        pass
    found = declared_parameters(path)
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(entry, json.dumps(sorted(found)))
    except OSError:
        pass  # a read-only home: papermill is asked again next time
    return found


def _check_secrets(spec: PackSpec) -> None:
    for i, nb in enumerate(spec.notebooks):
        for key, value in nb.parameters.items():
            if (
                isinstance(value, EnvParam)
                and value.secret
                and value.default is None
                and not os.environ.get(value.env)
            ):
                raise _fail(
                    spec.path,
                    f"notebooks[{i}].parameters.{key}.env",
                    "a set environment variable holding the secret",
                    value.env,
                )


def _redacted_spec(spec: PackSpec) -> dict[str, Any]:
    content = spec.model.model_dump(mode="json")
    for nb_dump, nb in zip(content["notebooks"], spec.notebooks, strict=True):
        nb_dump["parameters"] = spec.redacted_parameters(nb)
    return content


def _fingerprint(
    spec: PackSpec, inputs: tuple[dict[str, Any], ...], sources: Mapping[str, str]
) -> str:
    what = {
        "spec": spec.sha256,
        "inputs": list(inputs),
        "notebooks": [
            {
                "name": nb.name,
                "sha256": sources[nb.name],
                "parameters": spec.redacted_parameters(nb),
            }
            for nb in spec.notebooks
        ],
    }
    return hashlib.sha256(dumps_json(what).encode("utf-8")).hexdigest()[:8]


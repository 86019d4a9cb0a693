"""Incremental builds: a cache key per notebook execution, and reuse of unchanged outputs.

A notebook's output is reused from the previous successful version of the pack only when
everything its execution rested on is as it was then:

* ``notebook``: the notebook file's sha256 (every cell, not only code: markdown is on the
  page too; the code cells' own hash is recorded beside it for a reader), its resolved
  parameters and the page context (pack title);
* ``environment``: Python, the versions of the packages that compute results
  (:data:`workbench.packs.manifest.KEY_PACKAGES`) and the sha256 of workbench's own source
  tree (an editable install changes code without changing its version);
* ``reads``: the content hash of every file the kernel read, every folder it listed and
  every glob it expanded, recorded by an audit hook in the kernel
  (``_kernel_shims/_workbench_reads.py``): path parameters, the spec's inputs, contracts,
  records, other notebooks' findings in ``results_dir`` and the previous version's in
  ``previous_dir`` alike. Files of the interpreter and installed packages are covered by
  ``environment`` and not listed.

The set of files a notebook reads is only known once it has run, so reuse is decided the
way ccache's direct mode does: re-hash what the previous execution recorded; if every hash,
the notebook and the environment are equal, a new execution would read the same bytes and
compute the same output (notebooks are deterministic: style.md rule 8). The builtin
parameters ``results_dir`` and ``previous_dir`` name this build's own folders: they enter
the key as ``$results_dir``/``$previous_dir``, and what is read under them by content.

**History.** ``$previous_dir`` and ``$pack_dir`` are the pack's own history, which every
build extends. The rule (:func:`history_rule`, decided once per build in ``plan.resolve``):
when the spec and its inputs are the previous version's, the pack runs the same notebooks,
and for every one of them the notebook part, the environment and every read that is *not*
history hash as they did (reads of ``$results_dir`` compared against the previous
version's own files, which is what staging will hold once everything is reused), nothing
a version's evidence rests on changed: the build restates the previous version, reusing
every output with its history reads left uncompared, and records ``same_as`` (the last
version that ran something) for the front page. Otherwise history reads are compared like
any other read, so a history reader re-runs whenever what it read changed: a restated
version can only ever copy pages that were true of identical evidence.

**Reads outside the needs.** A notebook that read ``$results_dir/<X>.results.json`` of
another notebook X of the pack that is not among its transitive ``needs`` read a file that
may or may not have existed yet (thread timing): :func:`undeclared_reads` finds it, the
run is never reused and the build warns (progress line, manifest ``warnings``, front
page). Not a failure: the file it read was complete (atomic writes) and is hashed in the
manifest; the spec author adds the ``needs``.

Not cached, always executed: a notebook with a secret parameter (a hash of the secret in a
manifest could be brute-forced), one that read a URL (its content cannot be hashed without
fetching it again), one that measured something from the current time (freshness or
overdue action items with an empty ``as_of``, through :func:`workbench.io.now`: yesterday's
"fresh" would otherwise be restated today over data that stopped arriving), one that
failed, and every notebook under ``--no-cache``.

The manifest records, per notebook, the key and what went into it, the outputs with their
sha256, where the output was executed and, when reused, the version it was copied from.
"""

from __future__ import annotations

import glob
import importlib.util
import json
import os
import shutil
import sys
import sysconfig
import tempfile
import threading
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.io import dumps_json, sha256_bytes, sha256_file
from workbench.packs.manifest import MANIFEST, environment

KEY_SCHEMA = 1
WORKBENCH_ROOT = Path(__file__).resolve().parents[1]  # the package's own source tree
READS_ENV = "WORKBENCH_READS"  # the kernel appends its events to this file
GLOB_CHARS = frozenset("*?[")
_CODE_SUFFIXES = frozenset({".py", ".j2", ".css", ".html", ".js", ".json", ".yaml", ".typed"})
_TOKENS = ("$results_dir", "$previous_dir", "$pack_dir", "$spec_dir")
# recorded, never hashed: a server's or URL's answer, the current time
UNKEYED = frozenset({"net", "clock"})


def workbench_code_sha256() -> str:
    """sha256 over workbench's own source files (paths and contents), caches excluded."""
    root = WORKBENCH_ROOT
    parts = []
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for f in sorted(files):
            p = Path(dirpath) / f
            if p.suffix in _CODE_SUFFIXES:
                parts.append(f"{p.relative_to(root).as_posix()} {sha256_file(p)}")
    return sha256_bytes("\n".join(parts).encode("utf-8"))


def environment_part() -> dict[str, Any]:
    env = environment()
    return {
        "python": env["python"],
        "implementation": env["implementation"],
        "platform": env["platform"],
        "packages": env["packages"],
        "workbench_code_sha256": workbench_code_sha256(),
    }


def _ignored_roots() -> tuple[str, ...]:
    """Files the environment part already covers, or that are no input at all."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    roots.update(p for p in sysconfig.get_paths().values() if p)
    roots.add(str(WORKBENCH_ROOT))
    roots.update(("/proc", "/dev", "/sys"))
    # the system's time zone database: read by whichever module first needs a zone (in a
    # warm kernel, often before the fork), so when it is read depends on the launch path
    roots.update(zoneinfo.TZPATH)
    return tuple(sorted({os.path.realpath(r) for r in roots if r}))


@dataclass(frozen=True)
class CacheContext:
    """What the cache needs of one build; made once per build by :func:`context`."""

    enabled: bool
    staging: Path
    pack_dir: Path
    spec_dir: Path
    previous_version: str | None
    previous: dict[str, dict[str, Any]]  # notebook name -> its entry in the previous manifest
    previous_spec: dict[str, Any]  # the previous manifest's spec and inputs, to tell "nothing"
    # notebook -> the notebooks it needs, transitively (a read of another notebook's findings
    # outside them is a race: :func:`undeclared_reads`)
    needs: dict[str, frozenset[str]] = field(default_factory=dict)
    # set by :func:`with_history_rule`: the version this build restates (nothing but the
    # pack's own history changed since it), whose history reads are then not compared
    same_as: str | None = None
    environment: dict[str, Any] = field(default_factory=environment_part)
    ignored: tuple[str, ...] = field(default_factory=_ignored_roots)
    _hashes: dict[tuple[str, int, int], str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __getstate__(self) -> dict[str, Any]:
        """Picklable (a fleet ships plans to Dask workers): the lock is not sent."""
        state = dict(self.__dict__)
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        object.__setattr__(self, "_lock", threading.Lock())

    @property
    def previous_dir(self) -> Path | None:
        return self.pack_dir / self.previous_version if self.previous_version else None

    def roots(self) -> list[tuple[str, Path]]:
        """Token -> folder, most specific first (staging and previous live in pack_dir)."""
        found = [("$results_dir", self.staging)]
        if self.previous_dir is not None:
            found.append(("$previous_dir", self.previous_dir))
        found += [("$pack_dir", self.pack_dir), ("$spec_dir", self.spec_dir)]
        return found


def context(
    staging: Path, pack_dir: Path, spec_dir: Path, previous_version: str | None, enabled: bool,
    needs: Mapping[str, Iterable[str]] | None = None,
) -> CacheContext:
    """The cache of one build; the previous version's manifest is read once, here.

    ``needs``: each notebook of the pack -> the notebooks it ``needs`` (direct; closed
    transitively here)."""
    pack_dir = pack_dir.resolve()
    previous: dict[str, dict[str, Any]] = {}
    previous_spec: dict[str, Any] = {}
    if previous_version:
        try:
            m = json.loads((pack_dir / previous_version / MANIFEST).read_text(encoding="utf-8"))
            if isinstance(m, dict) and m.get("status") == "ok":
                previous = {
                    nb["name"]: nb
                    for nb in m.get("notebooks") or []
                    if isinstance(nb, dict) and isinstance(nb.get("name"), str)
                }
                mc: dict[str, Any] = m["cache"] if isinstance(m.get("cache"), dict) else {}
                previous_spec = {"spec": (m.get("spec") or {}).get("sha256"),
                                 "inputs": m.get("inputs"),
                                 "same_as": mc.get("same_as") if mc.get("nothing_changed")
                                 else None}
        except (OSError, ValueError, TypeError):
            previous = {}  # no usable previous manifest: everything runs
    return CacheContext(
        enabled, staging.resolve(), pack_dir, spec_dir.resolve(), previous_version, previous,
        previous_spec, transitive_needs(needs or {}),
    )


def transitive_needs(needs: Mapping[str, Iterable[str]]) -> dict[str, frozenset[str]]:
    """Each notebook -> every notebook it waits for, directly or through another."""
    direct = {n: set(d) for n, d in needs.items()}
    out: dict[str, frozenset[str]] = {}

    def close(name: str, seen: frozenset[str]) -> frozenset[str]:
        if name in out:
            return out[name]
        found: set[str] = set()
        for d in direct.get(name, ()):
            if d not in seen:  # the spec refuses cycles; never loop on one anyway
                found |= {d} | close(d, seen | {d})
        out[name] = frozenset(found)
        return out[name]

    for name in direct:
        close(name, frozenset({name}))
    return out


# --- the key -------------------------------------------------------------------------


def notebook_part(
    source: Path, parameters: Mapping[str, Any], page: Mapping[str, Any]
) -> dict[str, Any]:
    """The notebook, its resolved parameters (builtins as tokens) and its page context."""
    raw = source.read_bytes()
    try:
        cells = json.loads(raw).get("cells", [])
        code = ["".join(c.get("source", "")) for c in cells if c.get("cell_type") == "code"]
    except (ValueError, AttributeError):
        code = []
    params = dict(parameters)
    for name in ("results_dir", "previous_dir"):
        if params.get(name):
            params[name] = f"${name}"
    return {
        "source_sha256": sha256_bytes(raw),
        "code_sha256": sha256_bytes(json.dumps(code).encode("utf-8")),
        "parameters": params,
        "page": {k: v for k, v in page.items() if k != "version"},
    }


def key_of(parts: Mapping[str, Any], reads: Iterable[Mapping[str, Any]]) -> str:
    return sha256_bytes(
        dumps_json({"schema": KEY_SCHEMA, "parts": parts, "reads": list(reads)}).encode()
    )


def normalize(ctx: CacheContext, path: str) -> str:
    """``$token/rel`` for a path under one of the build's folders, else the absolute path."""
    if "://" in path:
        return path
    p = os.path.normpath(path)
    for token, root in ctx.roots():
        r = str(root)
        if p == r:
            return token
        if p.startswith(r + os.sep):
            return f"{token}/{Path(p).relative_to(r).as_posix()}"
    rel = os.path.relpath(p, ctx.spec_dir)
    return f"$spec_dir/{Path(rel).as_posix()}"


def resolve(roots: Mapping[str, Path], path: str) -> str:
    """The inverse of :func:`normalize`, against ``roots`` (token -> folder)."""
    token, _, rel = path.partition("/")
    if token in roots:
        return os.path.normpath(os.path.join(roots[token], rel)) if rel else str(roots[token])
    return path


def _file_sha(ctx: CacheContext | None, p: str) -> str:
    st = os.stat(p)
    k = (p, st.st_size, st.st_mtime_ns)
    if ctx is not None:
        with ctx._lock:
            hit = ctx._hashes.get(k)
        if hit is not None:
            return hit
    digest = sha256_file(p)
    if ctx is not None:
        with ctx._lock:
            ctx._hashes[k] = digest
    return digest


def _listing(p: str) -> list[str]:
    # atomic writes' temp files (".name.xyz") and staging folders come and go during a build
    return sorted(n for n in os.listdir(p) if not n.startswith("."))


def fingerprint(ctx: CacheContext | None, op: str, path: str) -> str | None:
    """sha256 of what ``op`` saw at ``path`` (absolute) now; None: cannot be keyed (a URL, a
    network connection)."""
    if "://" in path or op in UNKEYED:
        return None
    try:
        if op == "list":
            return sha256_bytes("\n".join(_listing(path)).encode("utf-8"))
        if os.path.isfile(path):
            return _file_sha(ctx, path)
        if os.path.isdir(path):
            files = sorted(
                os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs
                if not f.startswith(".")
            )
        elif any(c in GLOB_CHARS for c in path):
            files = sorted(m for m in glob.glob(path, recursive=True) if os.path.isfile(m))
        else:
            return "missing"
        lines = [f"{os.path.relpath(f, path if os.path.isdir(path) else '/')} "
                 f"{_file_sha(ctx, f)}" for f in files]
        return sha256_bytes("\n".join(lines).encode("utf-8"))
    except OSError:
        return "missing"


def _ignored(ctx: CacheContext, path: str) -> bool:
    if "__pycache__" in path.split(os.sep):
        return True
    real = os.path.realpath(path) if "://" not in path else path
    return any(real == r or real.startswith(r + os.sep) for r in ctx.ignored)


def read_events(path: Path) -> list[dict[str, str]]:
    """The kernel's events (see ``_kernel_shims/_workbench_reads.py``), bad lines skipped."""
    events = []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    for line in text.splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if isinstance(e, dict) and isinstance(e.get("op"), str) and isinstance(e.get("path"), str):
            events.append(e)
    return events


@dataclass(frozen=True)
class Executed:
    """What an execution read and wrote, as recorded by the kernel (paths normalized)."""

    reads: tuple[tuple[str, str], ...]  # (op, normalized path), sorted
    writes: tuple[str, ...]  # files under results_dir, relative


def digest_events(
    ctx: CacheContext, name: str, events: Iterable[Mapping[str, str]] | None
) -> Executed | None:
    """What the notebook read (hashable later) and wrote; None when recording never ran."""
    events = [e for e in events or []
              if e.get("op") in {"armed", "read", "list", "write", *UNKEYED}]
    if not any(e["op"] == "armed" for e in events):
        return None
    events = [e for e in events if e["op"] != "armed"]
    writes: set[str] = set()
    reads: set[tuple[str, str]] = set()
    staged = str(ctx.staging)
    written = {os.path.normpath(e["path"]) for e in events if e["op"] == "write"}
    for e in events:
        if e["op"] in UNKEYED:
            reads.add((e["op"], e["path"]))
            continue
        p = os.path.normpath(e["path"])
        if p.endswith(".pyc") and "__pycache__" in p.split(os.sep):
            # a module imported from its cached bytecode: the source is what counts (the
            # .pyc is only rewritten when the source changes)
            try:
                p = importlib.util.source_from_cache(p)
            except ValueError:
                continue
        if e["op"] == "write":
            if p.startswith(staged + os.sep) and not Path(p).name.startswith("."):
                writes.add(Path(p).relative_to(staged).as_posix())
            continue
        if p in written or _ignored(ctx, p):
            continue  # its own output, or a file the environment part covers
        if e["op"] == "list" and p == staged:
            continue  # the staging folder fills as notebooks finish: read files count, not names
        reads.add((e["op"], normalize(ctx, p)))
    own = {f"{name}.ipynb", f"{name}.html", f"{name}.results.json"}
    return Executed(tuple(sorted(reads)), tuple(sorted(writes - own)))


def _roots(ctx: CacheContext) -> dict[str, Path]:
    return dict(ctx.roots())


def hashed_reads(ctx: CacheContext, reads: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    roots = _roots(ctx)
    return [
        {"op": op, "path": path, "sha256": fingerprint(ctx, op, resolve(roots, path))}
        for op, path in reads
    ]


# --- reads outside a notebook's needs, and the pack's own history ---------------------

FINDINGS_SUFFIX = ".results.json"
HISTORY_TOKENS = ("$previous_dir", "$pack_dir")


def undeclared_reads(ctx: CacheContext, name: str,
                     reads: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    """The findings of other notebooks of this pack that ``name`` read from ``$results_dir``
    without waiting for them (not among its transitive ``needs``): whether such a file
    existed yet, and which version of it, depended on thread timing."""
    if name not in ctx.needs:
        return []
    mine = ctx.needs[name]
    found = []
    for op, path in reads:
        token, _, rel = path.partition("/")
        if op != "read" or token != "$results_dir" or "/" in rel:
            continue
        other = rel.removesuffix(FINDINGS_SUFFIX)
        if rel.endswith(FINDINGS_SUFFIX) and other in ctx.needs and other != name \
                and other not in mine:
            found.append({"notebook": name, "read": path, "of": other,
                          "message": f"{name} read {path}, the findings of {other}, which is "
                                     f"not among its needs: add {other} to {name}'s needs "
                                     "(or stop reading it); until then this run is not reused"})
    return found


def sans_history(part: Mapping[str, Any]) -> dict[str, Any]:
    """The notebook part without ``previous_dir`` when it only says whether the pack had a
    previous version ("" in a first version, ``$previous_dir`` after): that is history."""
    params = dict(part.get("parameters") or {})
    if params.get("previous_dir") in ("", "$previous_dir"):
        params.pop("previous_dir")
    return {**part, "parameters": params}


def is_history(path: str) -> bool:
    """A read of the pack's own versions (the previous one's files, the list of versions)."""
    return any(path == t or path.startswith(t + "/") for t in HISTORY_TOKENS)


def history_rule(ctx: CacheContext, parts: Mapping[str, Mapping[str, Any]], spec_sha: str,
                 inputs: list[dict[str, Any]]) -> str | None:
    """The version this build would restate, when nothing but the pack's history changed.

    That is: the spec and its inputs are the previous version's, it ran the same notebooks,
    and for every one of them the notebook part, the environment and every read that is
    not history (``$previous_dir``, ``$pack_dir``) hash as they did; reads of
    ``$results_dir`` are compared with the previous version's own files, which are what
    this build's staging will hold once everything is reused. The new version is then a
    copy of the previous one (which is ``same_as`` it, or the version it restated in turn).
    """
    if not ctx.enabled or ctx.previous_dir is None or not ctx.previous:
        return None
    if ctx.previous_spec.get("spec") != spec_sha or ctx.previous_spec.get("inputs") != inputs:
        return None
    if set(parts) != set(ctx.previous):
        return None
    roots = {**_roots(ctx), "$results_dir": ctx.previous_dir}
    for name, part in parts.items():
        pc = ctx.previous[name].get("cache")
        if ctx.previous[name].get("status") != "ok" or not isinstance(pc, dict) \
                or not pc.get("key"):
            return None
        before = pc.get("parts") or {}
        if sans_history(before.get("notebook") or {}) != sans_history(part) \
                or before.get("environment") != ctx.environment:
            return None
        for r in pc.get("reads") or []:
            if is_history(r["path"]):
                continue
            if fingerprint(ctx, r["op"], resolve(roots, r["path"])) != r["sha256"]:
                return None
        for o in pc.get("outputs") or []:  # all of them can be copied, as try_reuse will
            src = ctx.previous_dir / o["path"]
            if not src.is_file() or src.is_symlink() or _file_sha(ctx, str(src)) != o["sha256"]:
                return None
    return ctx.previous_spec.get("same_as") or ctx.previous_version


# --- one notebook: reuse, or the entry of an execution -------------------------------


def uncacheable_reason(parameters: Mapping[str, Any], secret_keys: Iterable[str]) -> str | None:
    secrets = sorted(secret_keys)
    if secrets:
        return f"secret parameter {secrets[0]}: never reused"
    return None


def try_reuse(
    ctx: CacheContext, name: str, part: Mapping[str, Any]
) -> tuple[dict[str, Any] | None, str]:
    """(the previous manifest entry whose outputs were copied into staging, why) or
    (None, why the notebook must run)."""
    pc, why = _previous_key(ctx, name, part)
    if pc is None:
        return None, why
    outputs = pc.get("outputs") or []
    for o in outputs:  # the previous version's files, exactly as its manifest hashed them
        src = ctx.previous_dir / o["path"]
        if not src.is_file() or src.is_symlink() or _file_sha(ctx, str(src)) != o["sha256"]:
            return None, f"output {o['path']} of {ctx.previous_version} differs from its manifest"
    for o in outputs:
        dst = ctx.staging / o["path"]
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ctx.previous_dir / o["path"], dst)
    entry = {k: v for k, v in pc.items() if k != "ran_because"}
    entry["reused_from"] = ctx.previous_version
    entry["executed_in"] = pc.get("executed_in") or ctx.previous_version
    return entry, f"reused from {ctx.previous_version}"


def runs_whatever(ctx: CacheContext, name: str, part: Mapping[str, Any],
                  running: Iterable[str]) -> bool:
    """Whether notebook ``name`` will run whatever the notebooks ``running`` (still
    running) write: something else it read, or its code, parameters or environment,
    changed since the previous version. Reads nothing but hashes; copies nothing."""
    theirs = tuple(f"$results_dir/{n}." for n in running)
    return _previous_key(ctx, name, part, skip=lambda p: p.startswith(theirs))[0] is None


def _previous_key(ctx: CacheContext, name: str, part: Mapping[str, Any],
                  skip: Callable[[str], bool] | None = None
                  ) -> tuple[dict[str, Any] | None, str]:
    """The previous version's cache entry of ``name`` when everything that went into its
    key is unchanged (reads whose path ``skip`` names aside), else None and why not."""
    if not ctx.enabled:
        return None, "--no-cache"
    prev = ctx.previous.get(name)
    if ctx.previous_dir is None:
        return None, "no previous successful version"
    if prev is None:
        return None, f"not in {ctx.previous_version}"
    pc = prev.get("cache")
    if prev.get("status") != "ok" or not isinstance(pc, dict) or not pc.get("key"):
        return None, f"not reusable in {ctx.previous_version}"
    parts = dict(pc.get("parts") or {})
    if ctx.same_as is not None:  # restating: whether a previous version existed is history
        parts["notebook"], part = sans_history(parts.get("notebook") or {}), sans_history(part)
    for what, now in (("notebook", part), ("environment", ctx.environment)):
        before = parts.get(what) or {}
        if before != now:
            changed = sorted(k for k in {*before, *now} if before.get(k) != now.get(k))
            return None, f"changed: {what} {', '.join(changed)}"
    roots = _roots(ctx)
    for r in pc.get("reads") or []:
        if ctx.same_as is not None and is_history(r["path"]):
            continue  # nothing but the history changed: the version restates the previous
        if skip is not None and skip(r["path"]):
            continue
        if fingerprint(ctx, r["op"], resolve(roots, r["path"])) != r["sha256"]:
            return None, f"changed: {r['path']}"
    return pc, ""


def execution_entry(
    ctx: CacheContext,
    name: str,
    part: Mapping[str, Any],
    executed: Executed | None,
    reason: str,
    uncacheable: str | None = None,
) -> dict[str, Any]:
    """The cache entry of a notebook that ran (its key is known only now: reads count)."""
    reads = hashed_reads(ctx, executed.reads) if executed else []
    undeclared = undeclared_reads(ctx, name, executed.reads) if executed else []
    if executed is None:
        uncacheable = uncacheable or "no record of what the notebook read"
    elif any(r["op"] == "clock" for r in reads):
        what = next(r["path"] for r in reads if r["op"] == "clock")
        uncacheable = uncacheable or (
            f"measured from the current time ({what}): what it found changes with time alone")
    elif any(r["sha256"] is None for r in reads):
        uncacheable = uncacheable or "read a URL or a server, whose content is not hashed"
    elif undeclared:
        uncacheable = uncacheable or (
            "read the findings of " + ", ".join(sorted({u["of"] for u in undeclared}))
            + ", not among its needs: what it read depended on timing")
    parts = {"notebook": dict(part), "environment": ctx.environment}
    return {
        "key": None if uncacheable else key_of(parts, reads),
        "parts": parts,
        "reads": reads,
        "outputs": [{"path": p} for p in _own_outputs(name, executed)],
        "executed_in": None,  # filled with the version's name by finalize
        "reused_from": None,
        "ran_because": reason,
        **({"not_reusable": uncacheable} if uncacheable else {}),
        **({"undeclared_reads": undeclared} if undeclared else {}),
    }


def _own_outputs(name: str, executed: Executed | None) -> list[str]:
    extra = list(executed.writes) if executed else []
    return sorted({f"{name}.ipynb", f"{name}.html", f"{name}.results.json", *extra})


def finalize(
    ctx: CacheContext,
    version: str,
    entries: Mapping[str, dict[str, Any]],
    statuses: Mapping[str, str],
) -> dict[str, Any]:
    """Hash each notebook's outputs as published (after scrubbing) and summarize the build.

    A notebook that failed, or whose output is missing (withheld), is not reusable."""
    for name, entry in entries.items():
        outs = []
        for o in entry["outputs"]:
            p = ctx.staging / o["path"]
            if p.is_file():
                outs.append({"path": o["path"], "sha256": sha256_file(p)})
            elif not o["path"].endswith(".results.json"):
                entry["key"] = None
                entry.setdefault("not_reusable", f"output {o['path']} missing")
        entry["outputs"] = outs
        if statuses.get(name) != "ok":
            entry["key"] = None
            entry.setdefault("not_reusable", "the notebook failed")
        if entry["reused_from"] is None:
            entry["executed_in"] = version
    reused = sorted(n for n, e in entries.items() if e["reused_from"])
    executed = sorted(n for n, e in entries.items() if not e["reused_from"])
    return {
        "enabled": ctx.enabled,
        "previous_version": ctx.previous_version,
        "reused": reused,
        "executed": executed,
        "undeclared_reads": [u for _, e in sorted(entries.items())
                             for u in e.get("undeclared_reads") or []],
    }


def nothing_changed(ctx: CacheContext, summary: Mapping[str, Any], spec_sha: str,
                    inputs: list[dict[str, Any]]) -> bool:
    """Every notebook reused, and the spec and its inputs are those of the previous version."""
    return bool(
        summary["reused"]
        and not summary["executed"]
        and ctx.previous_spec.get("spec") == spec_sha
        and ctx.previous_spec.get("inputs") == inputs
    )


def same_as(ctx: CacheContext, nothing: bool) -> str | None:
    """The version whose pages a nothing-changed build restates: the previous version, or
    the one the previous version restated in turn."""
    if not nothing:
        return None
    return ctx.same_as or ctx.previous_spec.get("same_as") or ctx.previous_version


def reads_file(work: Path) -> Path:
    return work / "reads.jsonl"


def temp_reads_file() -> Path:
    fd, name = tempfile.mkstemp(prefix="workbench-reads-", suffix=".jsonl")
    os.close(fd)
    return Path(name)


# --- pack verify --inputs ------------------------------------------------------------


@dataclass(frozen=True)
class InputChange:
    path: str  # as recorded (spec-relative for the spec's inputs, $token/... for reads)
    state: str  # changed | missing | not checked
    notebooks: tuple[str, ...]


def check_inputs(version_dir: Path, manifest: Mapping[str, Any]) -> tuple[int, list[InputChange]]:
    """Re-hash the inputs a version recorded that are still on disk.

    Returns (how many were checked, the ones that changed or are gone). The spec's
    ``inputs`` are resolved against the spec's folder, the notebooks' reads against the
    folders the build recorded (``$results_dir`` is the version itself).
    """
    cache = manifest.get("cache") or {}
    version_dir = version_dir.resolve()
    pack_dir = version_dir.parent
    spec_dir = Path(cache.get("spec_dir") or "")
    roots = {"$results_dir": version_dir, "$pack_dir": pack_dir, "$spec_dir": spec_dir}
    if cache.get("previous_version"):
        roots["$previous_dir"] = pack_dir / cache["previous_version"]
    wanted: dict[tuple[str, str], tuple[str | None, set[str]]] = {}
    for i in manifest.get("inputs") or []:
        wanted[("read", f"$spec_dir/{i['path']}")] = (i.get("sha256"), {"(spec inputs)"})
    for nb in manifest.get("notebooks") or []:
        for r in (nb.get("cache") or {}).get("reads") or []:
            _, names = wanted.setdefault((r["op"], r["path"]), (r.get("sha256"), set()))
            names.add(nb["name"])
    changes, checked = [], 0
    for (op, path), (sha, names) in sorted(wanted.items()):
        if not spec_dir.parts and path.startswith("$spec_dir"):
            changes.append(InputChange(path, "not checked", tuple(sorted(names))))
            continue
        if (op, path) == ("list", "$pack_dir"):
            # the pack's list of versions grows by design, this version first: not an input
            # that can be checked after the build (a rebuild still keys on it)
            changes.append(InputChange(path, "not checked", tuple(sorted(names))))
            continue
        if op in UNKEYED:  # a server's answer, the time: recorded, never hashed
            changes.append(InputChange(path, "not checked", tuple(sorted(names))))
            continue
        if cache.get("nothing_changed") and is_history(path):
            # a restated version: its history reads are those of the version it restates,
            # whose previous version was another folder (the build did not compare them)
            changes.append(InputChange(path, "not checked", tuple(sorted(names))))
            continue
        now = fingerprint(None, op, resolve(roots, path))
        checked += 1
        if now == sha:
            continue
        state = "missing" if now == "missing" else "changed"
        changes.append(InputChange(path, state, tuple(sorted(names))))
    return checked, changes

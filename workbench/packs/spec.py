"""Pack specs: the YAML a scheduler passes to ``workbench pack build``.

A spec names the notebooks of a pack, their parameters, the inputs they read and the
gates that turn their findings into a go / hold / no-go verdict::

    name: demo                      # directory under reports/ (letters, digits, _ -)
    title: Credit risk weekly review
    description: ...
    inputs: ["../../data/sample/**/*"]   # files/globs hashed into the manifest
    notebooks:
      - name: drift                 # output file stem; unique
        path: ../drift.ipynb        # relative to this spec file
        parameters:                 # only names the notebook declares
          drift_share: 0.5          # literal, injected as-is
          current: {path: ../../data/sample/scoring/current.parquet}   # resolved here
          api_token: {env: API_TOKEN}   # from the environment: secret unless secret: false
          region: {env: REGION, secret: false}   # from the environment, recorded as is
        needs: [contract_checks]    # run after these (whatever their outcome)
        timeout: 600                # seconds per cell
        max_duration: 1800          # seconds for the whole notebook (watchdog)
    gates:
      - {id: drift, title: No dataset drift, notebook: drift, metric: dataset_drift,
         op: "==", value: false, severity: no-go, reason: Retrain before promoting.}

Paths resolve relative to the spec file. A plain string parameter is passed unchanged
(the kernel runs in the notebook's own directory, so ``../data/...`` means what it means
in JupyterLab). Secret parameters never reach an output: the injected cell reads them
from the kernel's environment and every output is scrubbed of their values.

Every problem is a :class:`~workbench.errors.SpecError` naming the file and the field
path, e.g. ``packs/demo.yml: notebooks[1].needs[0]: expected the name of another
notebook (one of contract_checks, drift), got 'drfit'``.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    Tag,
    ValidationError,
)

from workbench.errors import (
    SpecError,
    expected_text,
    field_path,
    pydantic_problems,
    summarize,
)
from workbench.io import read_yaml_bytes
from workbench.packs.params import read_notebook  # cached: pre-flight reads it again

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
DEFAULT_CELL_TIMEOUT = 600
DEFAULT_MAX_DURATION = 1800
REDACTED = "<redacted>"
# injected when the notebook declares them; findings_name is the spec's notebook name
BUILDER_PARAMETERS = ("results_dir", "previous_dir", "pack_spec", "findings_name")
OPS = ("<", "<=", ">", ">=", "==", "!=")
RESERVED_NAMES = frozenset({"index"})  # a notebook's page <name>.html must not replace these


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EnvParam(_Model):
    """A value read from an environment variable at build time.

    Secret unless the spec says ``secret: false``: environments carry credentials, and a
    value that is not meant to be recorded must not leak because a flag was forgotten.
    """

    env: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
    secret: bool = True
    default: Any = None


class PathParam(_Model):
    """A path written relative to the spec file, passed to the notebook as absolute."""

    path: Annotated[str, Field(min_length=1)]


def _param_kind(value: Any) -> str:
    if isinstance(value, dict) and ("env" in value or "secret" in value):
        return "env"
    if isinstance(value, dict) and set(value) == {"path"}:
        return "path"
    return "literal"


ParamValue = Annotated[
    Annotated[EnvParam, Tag("env")]
    | Annotated[PathParam, Tag("path")]
    | Annotated[Any, Tag("literal")],
    Discriminator(_param_kind),
]


class NotebookSpec(_Model):
    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    path: Annotated[str, Field(min_length=1)]
    parameters: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")], ParamValue] = {}
    needs: list[str] = []
    timeout: Annotated[int, Field(gt=0)] = DEFAULT_CELL_TIMEOUT
    max_duration: Annotated[int, Field(gt=0)] = DEFAULT_MAX_DURATION


class GateSpec(_Model):
    id: Annotated[str, Field(pattern=NAME_PATTERN)]
    title: Annotated[str, Field(min_length=1)]
    notebook: str
    metric: Annotated[str, Field(min_length=1)]
    op: Literal["<", "<=", ">", ">=", "==", "!="]
    # a finite number: .nan compares false with everything and .inf makes a gate that
    # can never fail (or never pass), so neither is a threshold anyone agreed on
    value: StrictBool | StrictInt | Annotated[StrictFloat, Field(allow_inf_nan=False)]
    severity: Literal["no-go", "hold"] = "no-go"
    reason: str = ""


class PackSpecModel(_Model):
    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    title: Annotated[str, Field(min_length=1)]
    description: str = ""
    notebooks: Annotated[list[NotebookSpec], Field(min_length=1)]
    inputs: list[Annotated[str, Field(min_length=1)]] = []
    gates: list[GateSpec] = []


@dataclass(frozen=True)
class InputFile:
    path: str  # relative to the spec's directory, POSIX separators
    abspath: Path


@dataclass(frozen=True)
class PackSpec:
    """A validated spec plus where it came from. Paths are resolved against ``base_dir``."""

    model: PackSpecModel
    path: Path
    sha256: str
    raw: dict

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def title(self) -> str:
        return self.model.title

    @property
    def notebooks(self) -> list[NotebookSpec]:
        return self.model.notebooks

    @property
    def gates(self) -> list[GateSpec]:
        return self.model.gates

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def notebook_path(self, nb: NotebookSpec) -> Path:
        return (self.base_dir / nb.path).resolve()

    def notebook(self, name: str) -> NotebookSpec:
        return next(nb for nb in self.notebooks if nb.name == name)

    def input_files(self) -> list[InputFile]:
        """Every file the ``inputs`` globs match, sorted, without duplicates."""
        seen: dict[str, InputFile] = {}
        for pattern in self.model.inputs:
            for p in sorted(input_glob(self.base_dir, pattern, file=self.path)):
                if p.is_file():
                    rel = os.path.relpath(p, self.base_dir).replace(os.sep, "/")
                    seen.setdefault(rel, InputFile(rel, p.resolve()))
        return [seen[k] for k in sorted(seen)]

    def redacted_parameters(self, nb: NotebookSpec) -> dict[str, Any]:
        """The spec's parameters for ``nb`` as recorded in the manifest (secrets redacted)."""
        out: dict[str, Any] = {}
        for key, value in nb.parameters.items():
            if isinstance(value, EnvParam):
                out[key] = (
                    {"env": value.env, "secret": True, "value": REDACTED}
                    if value.secret
                    else {"env": value.env, "value": os.environ.get(value.env, value.default)}
                )
            elif isinstance(value, PathParam):
                out[key] = {"path": value.path}
            else:
                out[key] = value
        return out


MAX_INPUT_MATCHES = 100_000
MAX_GLOB_SECONDS = 60.0


def input_glob(
    base: Path,
    pattern: str,
    *,
    file: Path,
    field: str = "inputs",
    limit: int = MAX_INPUT_MATCHES,
    seconds: float = MAX_GLOB_SECONDS,
) -> list[Path]:
    """Paths ``pattern`` matches under ``base``, bounded in count and time.

    ``glob.glob(recursive=True)`` follows symlinked directories inside ``**``: two symlink
    loops in an inputs folder made it walk ``a/b/a/b/...`` until paths grew too long,
    doubling at every level. ``pathlib``'s ``**`` does not descend into symlinked
    directories (a symlinked file still matches), so loops are never entered; the count
    and time limits bound what is left (a huge tree, a slow network mount). Hidden
    entries are skipped unless the pattern names them, as ``glob.glob`` does.
    """
    pat = Path(pattern)
    root, rel = (Path(pat.anchor), pat.relative_to(pat.anchor)) if pat.is_absolute() else (
        base, pat
    )
    if not any(ch in str(rel) for ch in "*?["):
        p = root / rel
        return [p] if p.exists() else []
    literal = {part for part in rel.parts if part.startswith(".")}
    out: list[Path] = []
    t0 = time.monotonic()
    try:
        for hit in root.glob(str(rel)):
            parts = hit.relative_to(root).parts
            if any(x.startswith(".") and x not in literal for x in parts):
                continue
            out.append(hit)
            if len(out) > limit or time.monotonic() - t0 > seconds:
                raise _fail(
                    file,
                    field,
                    f"a glob matching at most {limit:,} paths within {seconds:.0f} s",
                    pattern,
                )
    except OSError as exc:  # a loop or an unreadable folder below a wildcard part
        raise _fail(file, field, f"a glob over readable folders ({exc.strerror})", pattern) from exc
    return out


def load_spec(path: str | os.PathLike[str]) -> PackSpec:
    """Read and validate a pack spec; raise one :class:`SpecError` listing every problem
    (``problems``: one ``file: field: expected ...`` line each)."""
    p = Path(path)
    try:
        raw, content = read_yaml_bytes(p)
    except SpecError:
        raise
    except Exception as exc:  # read_yaml raises InputError; re-raise as the spec kind
        raise SpecError(str(exc), file=str(p)) from exc
    if not isinstance(raw, dict):
        raise SpecError(
            f"{p}: expected a mapping at the top level, got {type(raw).__name__}", file=str(p)
        )
    try:
        model = PackSpecModel.model_validate(raw)
    except ValidationError as exc:
        raise _spec_error(p, exc) from exc
    spec = PackSpec(
        model=model, path=p.resolve(), sha256=hashlib.sha256(content).hexdigest(), raw=raw
    )
    _check_references(spec, p)
    return spec


def _fail(file: Path, field: str, expected: str, got: Any = None) -> SpecError:
    msg = f"{file}: {field}: expected {expected}"
    if got is not None:
        msg += f", got {got!r}"[:160]
    return SpecError(msg, file=str(file), field=field, expected=expected)


_TAGS = frozenset({"env", "path", "literal"})


def _untag(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop the tag pydantic inserts after ``parameters.<key>`` for the parameter union (a
    field named ``path`` elsewhere stays)."""
    return tuple(
        part for k, part in enumerate(loc)
        if not (k >= 2 and loc[k - 2] == "parameters" and part in _TAGS)
    )


_UNION_MEMBERS = frozenset({"bool", "int", "float", "str"})  # pydantic's tags in a union


def _merge_unions(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One problem per value a union refused (``value: .nan`` fails bool, int and float):
    ``gates[0].value: expected a valid boolean, a valid integer or a finite number``."""
    out: list[dict[str, Any]] = []
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for e in errors:
        loc = e["loc"]
        if not (loc and loc[-1] in _UNION_MEMBERS):
            out.append(e)
            continue
        if loc[:-1] not in groups:
            groups[loc[:-1]] = {**e, "loc": loc[:-1], "type": "value_error", "wants": []}
            out.append(groups[loc[:-1]])
        groups[loc[:-1]]["wants"].append(expected_text(e))
    for g in groups.values():
        wants = g.pop("wants")
        g["ctx"] = {"error": ", ".join(wants[:-1]) + (" or " if len(wants) > 1 else "")
                    + wants[-1]}
    return out


def _spec_error(file: Path, exc: ValidationError) -> SpecError:
    errors: list[dict[str, Any]] = _merge_unions(
        [{**e, "loc": _untag(tuple(e["loc"]))} for e in exc.errors(include_url=False)]
    )
    return _combine(file, pydantic_problems(file, errors, root="(top level)"),
                    field=field_path(errors[0]["loc"]) if errors else None)


def _combine(file: Path, problems: list[str], field: str | None = None) -> SpecError:
    """One SpecError listing every problem (its message: the problem, or a summary)."""
    message = problems[0] if len(problems) == 1 else summarize(file, "pack spec", problems)
    return SpecError(message, file=str(file), field=field, problems=problems)


def _check_references(spec: PackSpec, file: Path) -> None:
    """Every problem of the spec's names, paths, needs, parameters, gates and inputs."""
    problems = _check_notebooks(spec, file)
    if not problems:  # a cycle is only meaningful between notebooks that exist
        problems += _check_cycles(spec, file)
    problems += _check_gates(spec, file) + _check_inputs(spec, file)
    if problems:
        lines = [line for p in problems for line in p.problems]
        raise _combine(file, lines, field=problems[0].field)


def _check_notebooks(spec: PackSpec, file: Path) -> list[SpecError]:
    names = [nb.name for nb in spec.notebooks]
    out: list[SpecError] = []
    for i, nb in enumerate(spec.notebooks):
        if names.index(nb.name) != i:
            out.append(_fail(
                file, f"notebooks[{i}].name", "a name not used by another notebook", nb.name))
        if nb.name.casefold() in RESERVED_NAMES:
            # <name>.html would replace the pack's front page (index.html)
            out.append(_fail(
                file,
                f"notebooks[{i}].name",
                "a name other than " + ", ".join(sorted(RESERVED_NAMES)) + " (the pack uses it)",
                nb.name,
            ))
        out += _check_notebook_path(spec, file, i, nb)
        for j, need in enumerate(nb.needs):
            if need not in names or need == nb.name:
                others = ", ".join(n for n in names if n != nb.name)
                out.append(_fail(
                    file,
                    f"notebooks[{i}].needs[{j}]",
                    f"the name of another notebook (one of {others})",
                    need,
                ))
        out += _check_parameters(spec, file, i, nb)
    return out


def _check_notebook_path(spec: PackSpec, file: Path, i: int, nb: NotebookSpec) -> list[SpecError]:
    nb_path = spec.notebook_path(nb)
    if nb_path.suffix != ".ipynb" or not nb_path.is_file():
        return [_fail(file, f"notebooks[{i}].path",
                      "an existing .ipynb file (relative to the spec)", nb.path)]
    try:
        _check_notebook_file(file, f"notebooks[{i}].path", nb_path)
    except SpecError as exc:
        return [exc]
    return []


def _check_parameters(spec: PackSpec, file: Path, i: int, nb: NotebookSpec) -> list[SpecError]:
    out = []
    for key, value in nb.parameters.items():
        if (
            isinstance(value, EnvParam)
            and value.env not in os.environ
            and value.default is None
            and not value.secret
        ):
            out.append(_fail(
                file,
                f"notebooks[{i}].parameters.{key}.env",
                "a set environment variable (or a default)",
                value.env,
            ))
        if isinstance(value, PathParam) and not (spec.base_dir / value.path).exists():
            out.append(_fail(
                file,
                f"notebooks[{i}].parameters.{key}.path",
                "an existing path (relative to the spec)",
                value.path,
            ))
    return out


def _check_gates(spec: PackSpec, file: Path) -> list[SpecError]:
    names = [nb.name for nb in spec.notebooks]
    ids = [g.id for g in spec.gates]
    out = []
    for i, gate in enumerate(spec.gates):
        if ids.index(gate.id) != i:
            out.append(_fail(file, f"gates[{i}].id", "an id not used by another gate", gate.id))
        if gate.notebook not in names:
            out.append(_fail(
                file,
                f"gates[{i}].notebook",
                f"one of the pack's notebooks ({', '.join(names)})",
                gate.notebook,
            ))
    return out


def _check_inputs(spec: PackSpec, file: Path) -> list[SpecError]:
    out = []
    for i, pattern in enumerate(spec.model.inputs):
        try:
            hits = input_glob(spec.base_dir, pattern, file=file, field=f"inputs[{i}]")
        except SpecError as exc:
            out.append(exc)
            continue
        if not any(h.is_file() for h in hits):
            out.append(_fail(
                file,
                f"inputs[{i}]",
                "a file or glob matching at least one file (relative to the spec)",
                pattern,
            ))
    return out


def _check_notebook_file(file: Path, field: str, nb_path: Path) -> None:
    """The notebook parses as Jupyter JSON and names its kernel (papermill needs both)."""
    try:
        doc = read_notebook(nb_path)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _fail(file, field, f"a Jupyter notebook (JSON) at {nb_path}", str(exc)) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("cells"), list):
        raise _fail(file, field, f"a Jupyter notebook (a JSON object with cells) at {nb_path}")
    meta = doc.get("metadata")
    kernelspec = meta.get("kernelspec") if isinstance(meta, dict) else None
    if not isinstance(kernelspec, dict) or not isinstance(kernelspec.get("name"), str) or not (
        kernelspec["name"]
    ):
        raise _fail(
            file,
            field,
            f"a notebook whose metadata names its kernel (kernelspec.name), in {nb_path}",
        )


def _check_cycles(spec: PackSpec, file: Path) -> list[SpecError]:
    needs = {nb.name: list(nb.needs) for nb in spec.notebooks}
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            i = next(k for k, nb in enumerate(spec.notebooks) if nb.name == name)
            raise _fail(
                file,
                f"notebooks[{i}].needs",
                "no cycle between notebooks",
                " -> ".join([*trail[trail.index(name) :], name]),
            )
        state[name] = 1
        for dep in needs[name]:
            visit(dep, [*trail, name])
        state[name] = 2

    try:
        for nb in spec.notebooks:
            visit(nb.name, [])
    except SpecError as exc:
        return [exc]
    return []


def check_declared_parameters(spec: PackSpec, declared: dict[str, set[str]]) -> None:
    """Every spec parameter must be one the notebook declares (catches typos before running);
    every such problem is listed."""
    problems = []
    for i, nb in enumerate(spec.notebooks):
        have = declared.get(nb.name, set())
        for key in nb.parameters:
            if key in BUILDER_PARAMETERS:
                problems.append(_fail(
                    spec.path,
                    f"notebooks[{i}].parameters.{key}",
                    "no value: the builder sets " + ", ".join(BUILDER_PARAMETERS),
                    key,
                ))
            elif key not in have:
                listed = ", ".join(sorted(have)) or "none"
                problems.append(_fail(
                    spec.path,
                    f"notebooks[{i}].parameters.{key}",
                    f"a parameter {nb.path} declares (one of {listed})",
                    key,
                ))
    if problems:
        raise _combine(spec.path, [str(p) for p in problems], field=problems[0].field)

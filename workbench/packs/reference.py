"""The parameter and metric reference of the notebooks (``notebooks/REFERENCE.md``).

Generated, never edited by hand: parameters come from each notebook's ``parameters`` cell
(name, annotation, default and the comment beside or above it, :mod:`workbench.packs.params`),
metrics and column parameters from its ``metadata.workbench`` (the same declarations the
builder's pre-flight enforces). ``tests/unit/test_reference.py`` regenerates the file and
fails when it differs, and checks the declared metrics against the ones each area produces.
Regenerate with::

    .venv/bin/python -m workbench.packs.reference > notebooks/REFERENCE.md
"""

from __future__ import annotations

import sys
from pathlib import Path

from workbench.errors import input_error
from workbench.packs.params import cell_source, notebook_parameters, read_notebook
from workbench.packs.preflight import notebook_declarations
from workbench.packs.spec import BUILDER_PARAMETERS

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
ORDER = ("contract_checks", "drift", "cost_to_value", "incident_postmortem", "review_summary")


def notebooks(directory: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The product's notebooks, in the order a pack usually runs them."""
    found = {p.stem: p for p in directory.glob("*.ipynb")}
    return [found[n] for n in ORDER if n in found] + sorted(
        p for n, p in found.items() if n not in ORDER
    )


def resolve_notebook(name_or_path: str) -> Path:
    """A notebook from its name (``drift``) or path (``notebooks/drift.ipynb``)."""
    p = Path(name_or_path)
    if p.suffix == ".ipynb" and p.is_file():
        return p
    candidate = NOTEBOOKS_DIR / f"{name_or_path}.ipynb"
    if candidate.is_file():
        return candidate
    names = ", ".join(n.stem for n in notebooks())
    raise input_error(name_or_path, None, f"a notebook name ({names}) or an .ipynb path")


def declared_metrics(path: Path) -> dict[str, str]:
    """``{metric: meaning}`` the notebook declares (``<model>`` stands for any model name)."""
    metrics = notebook_declarations(path).get("metrics") or {}
    return {str(k): str(v) for k, v in metrics.items()}


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _title(path: Path) -> str:
    for cell in read_notebook(path).get("cells", []):
        if cell.get("cell_type") == "markdown":
            for line in cell_source(cell).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return path.stem


def notebook_section(path: Path) -> str:
    """One notebook's parameters and metrics as Markdown."""
    lines = [f"## {path.stem}", "", f"`notebooks/{path.name}`: {_title(path)}", ""]
    params = notebook_parameters(path)
    columns = notebook_declarations(path).get("columns") or {}
    lines += ["### Parameters", "", "| name | type | default | meaning |", "|---|---|---|---|"]
    for p in params.values():
        meaning = p.help
        if p.name in BUILDER_PARAMETERS:
            meaning = f"set by the pack builder; {meaning}" if meaning else "set by the builder"
        where = columns.get(p.name)
        if where:
            sources = where.get("any_of", []) if isinstance(where, dict) else where
            joiner = " or " if isinstance(where, dict) else " and "
            meaning += f" (columns checked in {joiner.join(sources)})"
        default = f"`{_cell(p.default)}`" if p.default else ""
        lines.append(f"| `{p.name}` | {_cell(p.type) or '-'} | {default} | {_cell(meaning)} |")
    metrics = declared_metrics(path)
    lines += ["", "### Metrics a gate can read", ""]
    if metrics:
        lines += ["| metric | meaning |", "|---|---|"]
        lines += [f"| `{_cell(k)}` | {_cell(v)} |" for k, v in metrics.items()]
    else:
        lines.append("None declared.")
    return "\n".join(lines) + "\n"


def reference_markdown(directory: Path = NOTEBOOKS_DIR) -> str:
    """The whole of ``notebooks/REFERENCE.md``."""
    head = [
        "# Notebook reference: parameters and gate metrics",
        "",
        "Generated from the notebooks by `python -m workbench.packs.reference`; do not edit"
        " (a test",
        "fails when it is out of date). A pack spec sets any parameter under a notebook's",
        "`parameters:`; a value of the wrong type, or a column the data lacks, is refused",
        "before anything runs. Paths are strings; write `{path: ...}` to give one relative",
        "to the spec. A gate reads one metric of its notebook's results: `<model>` stands",
        "for a model name of the cost data (`cost_per_1k_predictions.credit_risk`). A",
        "metric that is null (for example `prediction_drift` without prediction columns)",
        "makes its gate unknown, which holds. `workbench pack metrics NOTEBOOK` prints the",
        "metrics on the command line.",
        "",
        "",
    ]
    return "\n".join(head) + "\n".join(notebook_section(p) for p in notebooks(directory))


def metrics_text(path: Path) -> str:
    """``workbench pack metrics``: one line per metric, aligned."""
    metrics = declared_metrics(path)
    if not metrics:
        return f"{path.stem}: declares no metrics ({path})"
    width = max(len(k) for k in metrics)
    return "\n".join(
        [f"{path.stem} ({path}):"] + [f"  {k:<{width}}  {v}" for k, v in metrics.items()]
    )


if __name__ == "__main__":
    sys.stdout.write(reference_markdown())

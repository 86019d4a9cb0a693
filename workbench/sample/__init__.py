"""The demo scenario: a credit-risk (loan approval) model in production.

``generate(out_dir, rows=None)`` writes every demo input, deterministically: the same
arguments give byte-identical files. ``rows`` scales the current scoring window (the
reference window scales with it) for benchmarks; ``None`` is the committed demo size.

Parts, one module each: ``scoring`` (reference and current scoring logs), ``contract``
(the ODCS v3 contract of the scoring table), ``costs`` (FOCUS cost ledger, usage, value,
budgets), ``incidents`` (the incident, its events and SLIs, and a portfolio of past ones),
``release`` (the v3 -> v4 rollout: shadow and canary logs, SLIs per version, the plan);
``performance`` (labels that arrive after the scoring logs were exported).
Shared dates and names are in :mod:`workbench.sample.scenario`.
"""

from __future__ import annotations

from pathlib import Path

from workbench.sample import scenario

__all__ = ["generate", "scenario"]


def generate(out_dir: str | Path, rows: int | None = None) -> list[Path]:
    """Write the whole demo scenario under ``out_dir``; return the files written (sorted)."""
    from workbench.sample import contract, costs, incidents, performance, release, scoring

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    written += scoring.generate(out, rows=rows)
    written += contract.generate(out)
    written += contract.generate_lifecycle(out)
    written += costs.generate(out, rows=rows)
    written += incidents.generate(out)
    written += performance.generate(out, rows=rows)
    written += release.generate(out)
    return sorted(written)

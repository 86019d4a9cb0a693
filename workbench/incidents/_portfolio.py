"""Many incident records at once: TTD/TTR by month, counts by category and severity,
overdue action items as of a fixed date."""

from __future__ import annotations

import glob
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from workbench.errors import RecordError, input_error, summarize
from workbench.incidents._compute import action_items_frame, durations
from workbench.incidents._model import PortfolioResult
from workbench.incidents._record import (
    IncidentRecord,
    categories,
    severities,
    validate_record,
)
from workbench.io import read_yaml_documents


def is_slo_document(data: object) -> bool:
    """An SLO file (workbench's own, OpenSLO v1 or Sloth) rather than an incident record.

    Teams keep SLO files beside their postmortems; a portfolio folder holding them must not fail.
    """
    if isinstance(data, list):  # OpenSLO files may hold several documents
        return bool(data) and all(is_slo_document(d) for d in data)
    if not isinstance(data, dict) or "started_at" in data or "detected_at" in data:
        return False
    api = str(data.get("apiVersion", "")).lower()
    return (
        api.startswith("openslo/")
        or str(data.get("version", "")).startswith("prometheus/")
        or "availability" in data
        or ("slos" in data and "service" in data)
    )


def record_files(source: str | os.PathLike[str]) -> list[Path]:
    """``*.yaml``/``*.yml`` directly in a directory, or the files a glob pattern matches."""
    s = str(source)
    if any(ch in s for ch in "*?["):
        files = [Path(p) for p in glob.glob(s, recursive=True)]
    elif Path(s).is_dir():
        files = [*Path(s).glob("*.yaml"), *Path(s).glob("*.yml")]
    elif Path(s).is_file():
        files = [Path(s)]
    else:
        raise input_error(s, None, "a directory of incident records or a glob pattern")
    files = sorted(p for p in files if p.is_file())
    if not files:
        raise input_error(s, None, "at least one incident record (*.yaml)")
    return files


def load_records(source: str | os.PathLike[str]) -> list[tuple[Path, IncidentRecord]]:
    """Validate every record; problems of all files are reported together."""
    out, problems = [], []
    for path in record_files(source):
        docs = read_yaml_documents(path)
        doc = docs[0] if len(docs) == 1 else docs
        if is_slo_document(doc):
            continue
        try:
            out.append((path, validate_record(doc, file=path)))
        except RecordError as exc:
            problems += exc.problems
    if not out and not problems:
        raise input_error(source, None, "at least one incident record (only SLO files found)")
    if problems:
        raise RecordError(
            summarize(source, "incident records", problems), problems=problems, file=str(source)
        )
    return out


def portfolio(
    source: str | os.PathLike[str] | list[IncidentRecord], *, as_of: datetime
) -> PortfolioResult:
    """Summarise many incidents (a directory, a glob or records already loaded)."""
    records = source if isinstance(source, list) else [r for _, r in load_records(source)]
    rows, items = [], []
    for r in records:
        d = durations(r)
        ai = action_items_frame(r, as_of)
        items.append(ai)
        rows.append(
            {
                "id": r.id,
                "title": r.title,
                "severity": r.severity,
                "status": r.status,
                "started_at": r.started_at,
                "month": r.started_at.strftime("%Y-%m"),
                "categories": ", ".join(r.categories),
                "models": ", ".join(r.affected_models),
                "ttd_minutes": d["ttd"],
                "tta_minutes": d["tta"],
                "ttm_minutes": d["ttm"],
                "ttr_minutes": d["ttr"],
                "open_action_items": int((~ai["status"].is_in(["done", "wontfix"])).sum()),
                "overdue_action_items": int(ai["overdue"].sum()),
            }
        )
    schema: dict[str, Any] = {
        "id": pl.String,
        "title": pl.String,
        "severity": pl.String,
        "status": pl.String,
        "started_at": pl.Datetime("us", "UTC"),
        "month": pl.String,
        "categories": pl.String,
        "models": pl.String,
        "ttd_minutes": pl.Float64,
        "tta_minutes": pl.Float64,
        "ttm_minutes": pl.Float64,
        "ttr_minutes": pl.Float64,
        "open_action_items": pl.Int64,
        "overdue_action_items": pl.Int64,
    }
    inc = pl.DataFrame(rows, schema=schema).sort("started_at", "id")
    by_month = (
        inc.group_by("month")
        .agg(
            pl.len().alias("incidents"),
            pl.col("ttd_minutes").median().alias("median_ttd_minutes"),
            pl.col("ttr_minutes").median().alias("median_ttr_minutes"),
            pl.col("ttd_minutes").mean().alias("mean_ttd_minutes"),
            pl.col("ttr_minutes").mean().alias("mean_ttr_minutes"),
        )
        .sort("month")
    )
    cats = [
        {"category": c, "incidents": sum(c in r.categories for r in records)} for c in categories()
    ]
    by_category = pl.DataFrame(cats, schema={"category": pl.String, "incidents": pl.Int64}).filter(
        pl.col("incidents") > 0
    )
    # Only the severity scales in use (a PagerDuty team sees P1-P5, not empty SEV rows).
    sev = [
        {"severity": s, "incidents": sum(r.severity == s for r in records)} for s in severities()
    ]
    by_severity = pl.DataFrame(sev, schema={"severity": pl.String, "incidents": pl.Int64}).filter(
        pl.col("incidents") > 0
    )
    overdue = (
        (pl.concat(items) if items else action_items_frame(records[0], as_of))
        .filter(pl.col("overdue"))
        .sort(["days_overdue", "incident", "id"], descending=[True, False, False])
    )
    return PortfolioResult(as_of, inc, by_month, by_category, by_severity, overdue)

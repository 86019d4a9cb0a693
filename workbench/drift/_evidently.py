"""evidently's own DataDriftPreset report on a sample, for the deep-dive page.

evidently is imported only here and only when a report is asked for (the import alone
takes about 5 s). Its saved HTML embeds its JavaScript bundle and icon font (no CDN
script); any remaining remote reference is checked and reported by :func:`remote_refs`.

evidently writes column names and category values into that page without escaping them
(measured: a column named ``</script><script>...`` runs its script when the page opens).
So every string handed to evidently is defanged first: ``< > & " '`` and the line
separators become look-alike characters (``‹ › ＆ ＂ ＇``), which read the same and
cannot open or close markup.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from workbench.drift._compute import Frame, as_lazy

_REMOTE = re.compile(
    r"""<(?:script|link|img)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I
)


def evidently_report(
    path: str | os.PathLike[str],
    *,
    current: Frame,
    reference: Frame,
    sample_rows: int,
    columns: Sequence[str],
    seed: int = 0,
) -> Path:
    """Run evidently's DataDriftPreset on up to ``sample_rows`` rows of each side; save HTML.

    Only ``columns`` are passed (give the compared, non-sensitive ones: evidently's page
    shows values). Returns the path written.
    """
    cur_lf, _ = as_lazy(current, "current")
    ref_lf, _ = as_lazy(reference, "reference")
    cols = list(columns)
    cur = _defang(_sample(cur_lf.select(cols), sample_rows, seed))
    ref = _defang(_sample(ref_lf.select(cols), sample_rows, seed + 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # evidently is optional and heavy (about 5 s to import): only when a report is asked
        from evidently import Report
        from evidently.presets import DataDriftPreset

        snapshot = Report([DataDriftPreset()]).run(cur.to_pandas(), ref.to_pandas())
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    snapshot.save_html(str(out))
    return out


def remote_refs(html_path: str | os.PathLike[str]) -> int:
    """How many script/link/img tags in a saved page load something over the network."""
    return len(_REMOTE.findall(Path(html_path).read_text(encoding="utf-8")))


_LOOKALIKE = {"<": "\u2039", ">": "\u203a", "&": "\uff06", '"': "\uff02", "'": "\uff07",
              "\u2028": " ", "\u2029": " "}


def defang(text: str) -> str:
    """``text`` with markup characters replaced by look-alikes (see the module docstring).

    >>> defang("<b>R&D</b>")
    '‹b›R＆D‹/b›'
    """
    return "".join(_LOOKALIKE.get(ch, ch) for ch in text)


def _defang(df: pl.DataFrame) -> pl.DataFrame:
    renamed = df.rename({c: defang(c) for c in df.columns})
    strings = [c for c, t in renamed.schema.items() if t in (pl.String, pl.Categorical)]
    exprs = []
    for c in strings:
        e = pl.col(c).cast(pl.String)
        for ch, alike in _LOOKALIKE.items():
            e = e.str.replace_all(ch, alike, literal=True)
        exprs.append(e)
    return renamed.with_columns(exprs)


def _sample(lf: pl.LazyFrame, rows: int, seed: int) -> pl.DataFrame:
    df = lf.collect()
    return df if df.height <= rows else df.sample(n=rows, seed=seed, shuffle=False)

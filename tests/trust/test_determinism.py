"""Part 6: the same inputs and parameters give the same findings and pages.

The hostile spec is built twice into separate reports dirs. Every results JSON must be
byte-identical; every HTML page identical except lines that state when the build ran
(its version id, which starts with the build time, and build/notebook durations).
"""

from __future__ import annotations

import re

TIME_LINE = re.compile(
    r"\d{8}T\d{6}Z"  # a version id / timestamp
    r"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"  # started/finished at
    r"|\d+(?:\.\d+)?\s*s\b"  # a duration
)


def test_results_json_is_byte_identical(hostile_pack, hostile_rebuild):
    first = sorted(p.name for p in hostile_pack.version_dir.glob("*.results.json"))
    assert len(first) == 7
    assert first == sorted(p.name for p in hostile_rebuild.glob("*.results.json"))
    for name in first:
        a = (hostile_pack.version_dir / name).read_bytes()
        b = (hostile_rebuild / name).read_bytes()
        assert a == b, f"{name} differs between two builds of the same inputs"


def test_html_differs_only_in_lines_stating_the_build_time(hostile_pack, hostile_rebuild):
    pages = sorted(p.name for p in hostile_pack.version_dir.glob("*.html"))
    assert "index.html" in pages and len(pages) == 8
    for name in pages:
        a = (hostile_pack.version_dir / name).read_text(encoding="utf-8").splitlines()
        b = (hostile_rebuild / name).read_text(encoding="utf-8").splitlines()
        assert len(a) == len(b), f"{name}: {len(a)} vs {len(b)} lines"
        # line by line (the counts are equal): difflib may pair two notebooks' equal durations
        # across rows and then report the unchanged rows between them as moved
        changed = [line for x, y in zip(a, b, strict=True) if x != y for line in (f"-{x}", f"+{y}")]
        other = [line for line in changed if not TIME_LINE.search(line)]
        assert other == [], f"{name}: lines differ beyond the build time: {other[:4]}"

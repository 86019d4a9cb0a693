"""Pack trust (issue 12): what the bounds cost and what they prevent, old way beside new.

    .venv/bin/python benchmarks/trust_limits.py [--limit 20] [--mb 20]

1. A 342-byte spec of nested YAML aliases (9 levels x 9 references): ``yaml.safe_load``
   plus ``json.dumps`` of the result (what validating and hashing a spec does) in a
   subprocess stopped after ``--limit`` seconds, against :func:`workbench.yamlsafe.load`
   refusing it.
2. Two symlink loops in an inputs folder: ``glob.glob("data/**/*", recursive=True)`` in a
   subprocess stopped after ``--limit`` seconds, against
   :func:`workbench.packs.spec.input_glob`.
3. Scrubbing: :func:`workbench.packs.scrub.scrub_tree` over ``--mb`` MB of text pages
   holding no secret (the common case: every byte is still searched for every form), and
   the number of forms searched per secret.
4. Signing and verifying a version of 200 files: :func:`sign_version` and
   :func:`verify_version` with a key, against :func:`verify_version` without one.

Timings on a shared 2-core machine are noisy; the load average is printed with them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _bomb() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for n in "bcdefghi":
        lines.append(f"{n}: &{n} [{','.join(['*' + prev] * 9)}]")
        prev = n
    return "\n".join(lines) + "\n"


def _timed_subprocess(code: str, limit: float) -> str:
    t0 = time.perf_counter()
    try:
        subprocess.run([sys.executable, "-c", code], timeout=limit, capture_output=True,
                       check=False)
    except subprocess.TimeoutExpired:
        return f"still running after {limit:.0f} s (stopped)"
    return f"{time.perf_counter() - t0:.2f} s"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=float, default=20.0)
    ap.add_argument("--mb", type=int, default=20)
    args = ap.parse_args()
    print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))

    from workbench import yamlsafe

    bomb = _bomb()
    old = _timed_subprocess(
        f"import json, yaml; json.dumps(yaml.safe_load({bomb!r}))", args.limit
    )
    t0 = time.perf_counter()
    try:
        yamlsafe.load(bomb)
        new = "loaded (!)"
    except Exception as exc:  # noqa: BLE001
        new = f"refused in {1000 * (time.perf_counter() - t0):.1f} ms ({type(exc).__name__})"
    print(f"alias bomb ({len(bomb)} bytes): safe_load + json.dumps {old}; yamlsafe {new}")

    from workbench.packs.spec import input_glob

    with tempfile.TemporaryDirectory() as tmp:
        sub = Path(tmp, "data", "sub")
        sub.mkdir(parents=True)
        (sub / "x.csv").write_text("a\n1\n")
        (sub / "up").symlink_to("..", target_is_directory=True)
        (sub / "again").symlink_to("../sub", target_is_directory=True)
        old = _timed_subprocess(
            f"import glob; glob.glob({str(Path(tmp, 'data', '**', '*'))!r}, recursive=True)",
            args.limit,
        )
        t0 = time.perf_counter()
        hits = input_glob(Path(tmp), "data/**/*", file=Path("spec.yml"))
        new = f"{1000 * (time.perf_counter() - t0):.2f} ms, {len(hits)} paths"
        print(f"two symlink loops: glob.glob {old}; input_glob {new}")

    from workbench.packs.scrub import scrub_tree, secret_forms

    forms = secret_forms(["Tok&en\"'<b> +/=ü;\\x-2025"])
    with tempfile.TemporaryDirectory() as tmp:
        page = ("<tr><td>credit_score</td><td>0.0123</td><td>&lt;ok&gt;</td></tr>\n" * 2000)
        per = len(page.encode())
        n = max(1, args.mb * 1_000_000 // per)
        for i in range(n):
            Path(tmp, f"p{i}.html").write_text(page)
        t0 = time.perf_counter()
        scrub_tree(Path(tmp), forms)
        dt = time.perf_counter() - t0
        print(f"scrub_tree: {n * per / 1e6:.1f} MB in {n} files, {len(forms)} forms per secret: "
              f"{dt:.2f} s ({n * per / 1e6 / dt:.0f} MB/s)")

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from workbench.packs.manifest import write_manifest
    from workbench.packs.sign import sign_version
    from workbench.packs.verify import verify_version

    key = Ed25519PrivateKey.generate()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for i in range(200):
            (root / f"f{i}.html").write_text("x" * 50_000)
        write_manifest(root, {"pack": "bench", "version": root.name})
        t0 = time.perf_counter()
        sign_version(root, key)
        t_sign = time.perf_counter() - t0
        t0 = time.perf_counter()
        verify_version(root, key.public_key())
        t_key = time.perf_counter() - t0
        t0 = time.perf_counter()
        verify_version(root)
        t_plain = time.perf_counter() - t0
        print(f"200 files x 50 kB: sign {1000 * t_sign:.1f} ms; verify with key "
              f"{1000 * t_key:.1f} ms, without {1000 * t_plain:.1f} ms")


if __name__ == "__main__":
    main()

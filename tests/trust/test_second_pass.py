"""Issue 12: the defects found by attacking the packs a second time, and signed packs.

One signed build (``built``) of three notebooks that leak a secret in every encoding and
into every kind of file, write malformed results, or fail after writing results serves
items 1, 2, 4, 6 and 10; the others are cheap and build nothing, except item 3's killed
build. Each test names the item it guards.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote, quote_plus

import pytest
from click.testing import CliRunner
from second_pass_inputs import SECRET, SECRET_ENV, notebook, second_pass_spec

from workbench.cli import cli
from workbench.io import sha256_file
from workbench.packs.manifest import MANIFEST, file_entries, seal

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
WORKBENCH = str(Path(sys.executable).with_name("workbench"))
BASE64_RUN = re.compile(rb"[A-Za-z0-9+/_-]{12,}={0,2}")


def _invoke(*args: str, env: dict[str, str] | None = None) -> SimpleNamespace:
    r = CliRunner().invoke(cli, list(args), env=env)
    return SimpleNamespace(code=r.exit_code, out=r.stdout, err=r.stderr, exc=r.exception)


def _one_line_error(r: SimpleNamespace, code: int, *needles: str) -> None:
    assert r.code == code, (r.code, r.err, r.exc)
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("workbench: error: "), r.err
    assert "Traceback" not in r.err
    for n in needles:
        assert n in lines[0], (n, lines[0])


def _keypair(path: Path) -> tuple[Path, Path]:
    """An Ed25519 key pair written with cryptography itself (not through workbench)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    pub = path.with_name(path.name + ".pub")
    pub.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return path, pub


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The second-pass pack, built once and signed; uncaught thread errors recorded."""
    root = tmp_path_factory.mktemp("trust2")
    spec = second_pass_spec(root)
    # item 10: a huge max_duration must not kill the watchdog thread
    text = spec.read_text().replace("name: malformed\n", "name: malformed\n  max_duration: "
                                    "1000000000000\n", 1)
    spec.write_text(text)
    key, pub = _keypair(root / "builder.key")
    thread_errors: list[BaseException] = []
    hook = threading.excepthook
    threading.excepthook = lambda a: thread_errors.append(a.exc_value)
    try:
        # the key from the environment, as a scheduler passes it (--sign-key works alike)
        r = _invoke("pack", "build", str(spec), "--out", str(root / "reports"), "--jobs", "2",
                    env={SECRET_ENV: SECRET, "WORKBENCH_SIGN_KEY": str(key)})
    finally:
        threading.excepthook = hook
    assert r.code == 3, (r.err, r.exc)  # fails_after failed
    version_dir = Path(r.out.strip()).parent
    return SimpleNamespace(root=root, out=root / "reports", version_dir=version_dir, key=key,
                           pub=pub, thread_errors=thread_errors,
                           err=r.err)


# 1, 4 -------------------------------------------------------------------------------------

def _encodings(value: str) -> list[bytes]:
    forms = {value, html.escape(value), html.escape(value, quote=False), quote(value, safe=""),
             quote_plus(value), json.dumps(value)[1:-1],
             json.dumps(value, ensure_ascii=False)[1:-1]}
    return [f.encode() for f in forms]


def _decoded_base64_runs(data: bytes):
    for m in BASE64_RUN.finditer(data):
        run = m.group(0).replace(b"-", b"+").replace(b"_", b"/")
        for cut in range(4):  # the run may start mid-group
            chunk = run[cut:]
            try:
                yield base64.b64decode(chunk + b"=" * (-len(chunk) % 4))
            except ValueError:
                continue


def test_item1_secret_in_no_encoding_in_no_file(built):
    files = [p for p in built.version_dir.rglob("*") if p.is_file()]
    files.append(built.out / "index.html")
    assert {p.name for p in files} >= {"leak.ipynb", "leak.html", "leak-notes.txt", "deep.json",
                                       "malformed.ipynb", "malformed.results.json"}
    needles = _encodings(SECRET)
    for p in files:
        data = p.read_bytes()
        for n in needles:
            assert n not in data, f"{p.name} holds {n!r}"
        for decoded in _decoded_base64_runs(data):
            assert SECRET.encode() not in decoded, f"{p.name} holds the secret in base64"
    assert "••••" in (built.version_dir / "leak-notes.txt").read_text()
    assert "••••" in (built.version_dir / "sub" / "deep.json").read_text()


def test_item1_4_a_file_that_cannot_be_scrubbed_is_withheld_and_named(built):
    """leak-blob.bin is binary: it cannot be rewritten, so it is not published."""
    assert not (built.version_dir / "leak-blob.bin").exists()
    manifest = json.loads((built.version_dir / MANIFEST).read_text())
    assert manifest["withheld"] == ["leak-blob.bin"]
    assert manifest["status"] == "failed"


def test_item4_a_malformed_results_file_does_not_stop_the_scrub(built):
    nb = (built.version_dir / "malformed.ipynb").read_text()
    assert "••••" in nb  # the notebook printed the secret: it was there and was replaced
    assert "••••" in (built.version_dir / "malformed.results.json").read_text()


def test_item4_scrubbing_fails_closed(tmp_path):
    from workbench.packs.scrub import ScrubFailed, check_tree, scrub_tree, secret_forms

    forms = secret_forms([SECRET])
    (tmp_path / "page.html").write_text("<p>" + html.escape(SECRET) + "</p>")
    (tmp_path / "blob.bin").write_bytes(b"\xff" + SECRET.encode())
    (tmp_path / "link").symlink_to("/etc/hostname")
    assert scrub_tree(tmp_path, forms) == ["blob.bin", "link"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html"]
    check_tree(tmp_path, forms)  # clean now
    (tmp_path / "late.txt").write_text(quote_plus(SECRET))
    with pytest.raises(ScrubFailed, match="late.txt"):
        check_tree(tmp_path, forms)


# 2 ---------------------------------------------------------------------------------------

def test_item2_a_gate_on_a_failed_notebook_is_unknown_never_passed(built):
    manifest = json.loads((built.version_dir / MANIFEST).read_text())
    gate = manifest["gates"][0]
    assert gate["notebook"] == "fails_after"
    assert (gate["status"], gate["outcome"]) == ("unknown", "hold")
    assert manifest["verdict"] != "go"
    front = (built.version_dir / "index.html").read_text()
    assert "Verdict: GO" not in front and ">GO<" not in front
    # the partial results stay readable, under a name no reader takes for findings
    assert not (built.version_dir / "fails_after.results.json").exists()
    assert (built.version_dir / "fails_after.results.partial.json").exists()


# 6 ---------------------------------------------------------------------------------------

def _copy(built, tmp_path: Path, name: str) -> Path:
    dst = tmp_path / name
    shutil.copytree(built.version_dir, dst, symlinks=True)
    return dst


def test_item6_signed_pack_verifies_with_its_key_and_says_what_was_proven(built):
    signed = _invoke("pack", "verify", str(built.version_dir), "--key", str(built.pub))
    assert signed.code == 0, signed.err
    assert "origin proven" in signed.out
    plain = _invoke("pack", "verify", str(built.version_dir))
    assert plain.code == 0 and "integrity only" in plain.out
    sig = json.loads((built.version_dir / "manifest.sig").read_text())
    assert sig["algorithm"] == "ed25519" and sig["public_key_fingerprint"].startswith("sha256:")


def test_item6_a_forged_pack_fails_verify_with_the_key(built, tmp_path):
    forged = _copy(built, tmp_path, "forged")
    results = forged / "leak.results.json"
    results.write_text(results.read_text().replace('"n": 1', '"n": 0'))
    manifest = json.loads((forged / MANIFEST).read_text())
    manifest["outputs"] = file_entries(forged)  # recomputed with workbench's own functions
    (forged / MANIFEST).write_text(seal(manifest))
    assert _invoke("pack", "verify", str(forged)).code == 0  # integrity alone cannot tell
    r = _invoke("pack", "verify", str(forged), "--key", str(built.pub))
    _one_line_error(r, 1, "signature does not match")


def test_item6_another_key_or_no_signature_fails_verify(built, tmp_path):
    other = tmp_path / "other.key"
    made = _invoke("pack", "keygen", str(other))
    assert made.code == 0 and "fingerprint: sha256:" in made.out, made.err
    assert oct(other.stat().st_mode & 0o777) == "0o600"
    r = _invoke("pack", "verify", str(built.version_dir), "--key", str(other) + ".pub")
    _one_line_error(r, 1, "not by the given key")
    unsigned = _copy(built, tmp_path, "unsigned")
    (unsigned / "manifest.sig").unlink()
    _one_line_error(_invoke("pack", "verify", str(unsigned), "--key", str(built.pub)), 1,
                    "not signed")
    r = _invoke("pack", "verify", str(built.version_dir), "--key", str(other))  # private key
    _one_line_error(r, 2, "public key")


@pytest.mark.parametrize("plant", ["empty folder", "folder symlink", "file symlink"])
def test_item6_a_planted_folder_or_symlink_fails_verify_with_or_without_key(
    built, tmp_path, plant
):
    pack = _copy(built, tmp_path, "planted")
    if plant == "empty folder":
        (pack / "sub" / "extra").mkdir()
    elif plant == "folder symlink":
        (pack / "assets").symlink_to("/etc", target_is_directory=True)
    else:
        (pack / "leak.html").unlink()
        (pack / "leak.html").symlink_to(built.version_dir / "leak.html")
    for extra in ([], ["--key", str(built.pub)]):
        r = _invoke("pack", "verify", str(pack), *extra)
        _one_line_error(r, 1, "symlink" if "symlink" in plant else "extra folder")


def test_item6_keygen_never_replaces_a_key(built):
    r = _invoke("pack", "keygen", str(built.key))
    _one_line_error(r, 2, str(built.key))


# 9 (manifest) ------------------------------------------------------------------------------

@pytest.mark.parametrize("edit", ["outputs not a list", "entry without sha256", "path escapes",
                                  "a list", "not json"])
def test_item9_a_malformed_manifest_is_one_line_exit_1(built, tmp_path, edit):
    """Sealed (its own hash matches) but not shaped as workbench writes it."""
    (tmp_path / "out" / "trust2").mkdir(parents=True)
    pack = _copy(built, tmp_path / "out" / "trust2", "v1")
    m = json.loads((pack / MANIFEST).read_text())
    if edit == "outputs not a list":
        m["outputs"] = {"a": 1}
    elif edit == "entry without sha256":
        del m["outputs"][0]["sha256"]
    elif edit == "path escapes":
        m["outputs"][0]["path"] = "../../etc/hostname"
    text = {"a list": "[1, 2]\n", "not json": "{\n"}.get(edit) or seal(m)
    (pack / MANIFEST).write_text(text)
    _one_line_error(_invoke("pack", "verify", str(pack)), 1, "manifest.json")
    listed = _invoke("pack", "list", "--out", str(tmp_path / "out"))
    assert listed.code == 0 and listed.exc is None, (listed.err, listed.exc)


# 10 ----------------------------------------------------------------------------------------

def test_item10_a_huge_max_duration_leaves_the_watchdog_running(built):
    assert not [e for e in built.thread_errors if isinstance(e, OverflowError)]
    manifest = json.loads((built.version_dir / MANIFEST).read_text())
    run = next(n for n in manifest["notebooks"] if n["name"] == "malformed")
    assert run["status"] == "ok"


# 3 ---------------------------------------------------------------------------------------

def test_item3_an_executed_notebook_never_sits_unscrubbed_in_staging(tmp_path):
    """SIGKILL right after execution: the executed notebook is only in a private 0700 temp
    folder (never the staging folder, which is 0700 too); ``pack prune`` removes both."""
    spec = second_pass_spec(tmp_path, names=("leak",), pack="killed")
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    out = tmp_path / "reports"
    env = {**os.environ, SECRET_ENV: SECRET, "TMPDIR": str(tmpdir),
           "WORKBENCH_KILL_AT": "executed:leak"}
    done = subprocess.run([WORKBENCH, "pack", "build", str(spec), "--out", str(out)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == -signal.SIGKILL, done.stderr
    staging = list((out / "killed").glob(".staging-*"))
    assert len(staging) == 1
    assert staging[0].stat().st_mode & 0o077 == 0, "staging is readable by others"
    assert not (staging[0] / "leak.ipynb").exists()
    private = [d for d in tmpdir.iterdir() if d.name.startswith("workbench-")]
    assert private and all(d.stat().st_mode & 0o077 == 0 for d in private)
    assert any((d / "leak.ipynb").exists() for d in private)
    env.pop("WORKBENCH_KILL_AT")
    pruned = subprocess.run([WORKBENCH, "pack", "prune",
                             "--keep", "1", "--out", str(out)],
                            env=env, capture_output=True, text=True, timeout=120)
    assert pruned.returncode == 0, pruned.stderr
    assert not list((out / "killed").glob(".staging-*"))
    assert not [d for d in tmpdir.iterdir() if d.name.startswith("workbench-")]


# 7 ---------------------------------------------------------------------------------------

def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_item7_prune_deletes_only_versions_it_recognises(tmp_path):
    out = tmp_path / "srv"
    for app in ("app1", "app2", "app3"):  # a folder of web apps, each with a manifest.json
        (out / "webapps" / app).mkdir(parents=True)
        (out / "webapps" / app / "manifest.json").write_text(json.dumps({"name": app}))
    (out / "index.html").write_text("<html><body>the team's own page</body></html>")
    r = _invoke("pack", "prune", "--keep", "1", "--out", str(out))
    assert r.code == 0, r.err
    assert sorted(p.name for p in (out / "webapps").iterdir()) == ["app1", "app2", "app3"]
    assert (out / "index.html").read_text() == "<html><body>the team's own page</body></html>"


def test_item7_temp_cleanup_touches_only_folders_carrying_the_marker(tmp_path, monkeypatch):
    import tempfile

    from workbench.packs.execute import TEMP_MARKER, remove_orphan_temp

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    pid = _dead_pid()
    theirs = tmp_path / f"workbench-{pid}-q3-report"
    theirs.mkdir()
    (theirs / "report.md").write_text("a user's work")
    ours = tmp_path / f"workbench-{pid}-leak-abc123"
    ours.mkdir()
    (ours / TEMP_MARKER).write_text(f"{pid}\n")
    half = tmp_path / f"workbench-{pid}-killed-before-its-marker"
    half.mkdir()  # empty: removing it loses nothing
    assert remove_orphan_temp() == 2
    assert theirs.is_dir() and (theirs / "report.md").exists()
    assert not ours.exists() and not half.exists()


def test_item7_a_temp_folder_is_recognised_until_it_is_gone(tmp_path, monkeypatch):
    """Its marker goes last: a cleanup interrupted (a kernel of a killed build still
    writing into the folder) leaves a folder the next sweep still knows as its own."""
    import tempfile

    from workbench.packs.execute import TEMP_MARKER, remove_orphan_temp, remove_private_temp

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    pid = _dead_pid()
    d = tmp_path / f"workbench-{pid}-a-xyz"
    (d / "kernel").mkdir(parents=True)
    (d / "kernel" / "kernel-1").write_text("")
    (d / TEMP_MARKER).write_text(f"{pid}\n")
    rmdir = Path.rmdir
    writes = []

    def late_write(self):  # the kernel binds a socket while the folder is being removed
        if self == d and not writes:
            writes.append((d / "late").write_text(""))
        return rmdir(self)

    monkeypatch.setattr(Path, "rmdir", late_write)
    assert remove_private_temp(d) is False
    assert (d / TEMP_MARKER).read_text() == f"{pid}\n" and (d / "late").exists()
    assert remove_orphan_temp() == 1 and not d.exists()
    monkeypatch.setattr(Path, "rmdir", rmdir)
    empty_marker = tmp_path / f"workbench-{pid}-b-xyz"  # killed while writing its marker
    empty_marker.mkdir()
    (empty_marker / TEMP_MARKER).write_text("")
    alive = tmp_path / f"workbench-{os.getppid()}-c-xyz"  # a running builder's
    alive.mkdir()
    (alive / TEMP_MARKER).write_text(f"{os.getppid()}\n")
    assert remove_orphan_temp() == 1
    assert not empty_marker.exists() and alive.is_dir()


# 5, 8 --------------------------------------------------------------------------------------

def _spec_file(tmp_path: Path, text: str) -> Path:
    nb = tmp_path / "n.ipynb"
    nb.write_bytes((FIXTURES / "tiny.ipynb").read_bytes())
    p = tmp_path / "s.yml"
    p.write_text(text)
    return p


BASE = "name: s\ntitle: S\nnotebooks:\n  - {name: n, path: n.ipynb}\n"
GATE = "gates:\n  - {id: g, title: G, notebook: n, metric: m, op: '==', value: %s}\n"


def test_item5_duplicate_keys_are_refused_naming_file_and_key(tmp_path):
    from workbench.errors import SpecError
    from workbench.packs.spec import load_spec

    p = _spec_file(tmp_path, BASE + GATE % "0" + "gates: []\n")
    with pytest.raises(SpecError) as err:
        load_spec(p)
    assert str(p) in str(err.value) and "duplicate key 'gates'" in str(err.value)
    _one_line_error(_invoke("pack", "build", str(p), "--out", str(tmp_path / "r")), 2,
                    "duplicate key 'gates'")


def test_item5_8_an_alias_bomb_is_refused_at_once(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for n in "bcdefghi":
        lines.append(f"{n}: &{n} [{','.join(['*' + prev] * 9)}]")
        prev = n
    bomb = "\n".join(lines) + "\n"
    p = _spec_file(tmp_path, bomb + BASE)
    assert len(bomb) < 700
    t0 = time.perf_counter()
    r = _invoke("pack", "build", str(p), "--out", str(tmp_path / "r"))
    assert time.perf_counter() - t0 < 10
    _one_line_error(r, 2, str(p), "aliases")


@pytest.mark.parametrize("tag", ["!!set {a, b}", "!!binary aGVsbG8="])
def test_item9_set_and_binary_tags_are_one_line_exit_2(tmp_path, tag):
    p = _spec_file(tmp_path, BASE.replace("title: S", f"title: {tag}"))
    _one_line_error(_invoke("pack", "build", str(p), "--out", str(tmp_path / "r")), 2,
                    str(p), tag.split()[0])


def test_item5_8_symlink_loops_in_inputs_do_not_explode(tmp_path):
    data = tmp_path / "data" / "sub"
    data.mkdir(parents=True)
    (data / "x.csv").write_text("a\n1\n")
    (data / "up").symlink_to("..", target_is_directory=True)
    (data / "again").symlink_to("../sub", target_is_directory=True)
    p = _spec_file(tmp_path, BASE + "inputs: ['data/**/*']\n")
    code = ("import sys; from workbench.packs.spec import load_spec; "
            "print([f.path for f in load_spec(sys.argv[1]).input_files()])")
    done = subprocess.run([sys.executable, "-c", code, str(p)], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "data/sub/x.csv" in done.stdout


def test_item8_input_globs_are_bounded_in_count(tmp_path, monkeypatch):
    from workbench.errors import SpecError
    from workbench.packs import spec as spec_mod

    for i in range(30):
        (tmp_path / f"f{i}.csv").write_text("a\n")
    p = _spec_file(tmp_path, BASE + "inputs: ['*.csv']\n")
    monkeypatch.setattr(spec_mod, "MAX_INPUT_MATCHES", 10)
    monkeypatch.setattr(spec_mod.input_glob, "__kwdefaults__",
                        {**spec_mod.input_glob.__kwdefaults__, "limit": 10})
    with pytest.raises(SpecError, match=r"inputs\[0\].*at most 10 paths"):
        spec_mod.load_spec(p)


# 9 ---------------------------------------------------------------------------------------

def test_item9_a_notebook_that_is_not_json_or_names_no_kernel_is_one_line_exit_2(tmp_path):
    p = _spec_file(tmp_path, BASE)
    (tmp_path / "n.ipynb").write_text("this is not a notebook")
    _one_line_error(_invoke("pack", "build", str(p), "--out", str(tmp_path / "r")), 2,
                    "notebooks[0].path", "JSON")
    notebook(tmp_path / "n.ipynb", "print(1)")
    doc = json.loads((tmp_path / "n.ipynb").read_text())
    del doc["metadata"]["kernelspec"]
    (tmp_path / "n.ipynb").write_text(json.dumps(doc))
    _one_line_error(_invoke("pack", "build", str(p), "--out", str(tmp_path / "r")), 2,
                    "notebooks[0].path", "kernelspec.name")


def test_item9_an_impossible_out_is_one_line_exit_4(tmp_path):
    p = _spec_file(tmp_path, BASE)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    r = _invoke("pack", "build", str(p), "--out", str(blocker / "reports"))
    _one_line_error(r, 4, "a-file", "environment")


def test_item9_a_full_disk_is_one_line_exit_4(tmp_path, monkeypatch):
    import errno

    from workbench.packs import build as build_mod

    def full(path, on_wait=None):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(build_mod, "locked", full)
    p = _spec_file(tmp_path, BASE)
    r = _invoke("pack", "build", str(p), "--out", str(tmp_path / "r"))
    _one_line_error(r, 4, "ENOSPC", "retrying may help")


def test_item9_readme_exit_code_table_has_4():
    readme = (ROOT / "README.md").read_text()
    assert re.search(r"^\| 4 \| .*environment", readme, re.M)
    assert "pack verify" in readme and "--key" in readme and "integrity only" in readme


# 10 ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["index", "Index"])
def test_item10_a_notebook_named_index_is_refused(tmp_path, name):
    p = _spec_file(tmp_path, BASE.replace("name: n,", f"name: {name},"))
    _one_line_error(_invoke("pack", "build", str(p), "--out", str(tmp_path / "r")), 2,
                    "notebooks[0].name", "index")


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", ".NaN"])
def test_item10_a_gate_value_of_nan_or_inf_is_refused(tmp_path, value):
    p = _spec_file(tmp_path, BASE + GATE % value)
    _one_line_error(_invoke("pack", "build", str(p), "--out", str(tmp_path / "r")), 2,
                    "gates[0].value")


def test_sha256_helper_is_the_manifest_one(built):
    """Guards the forgery test: it recomputes hashes exactly as the builder does."""
    m = json.loads((built.version_dir / MANIFEST).read_text())
    entry = next(e for e in m["outputs"] if e["path"] == "leak.results.json")
    assert entry["sha256"] == sha256_file(built.version_dir / "leak.results.json")


def test_item9_an_unexpected_error_is_never_exit_1(monkeypatch, capsys):
    """A bug prints its traceback and exits 70: exit 1 would read as "a gate failed"."""
    from workbench.cli import main
    from workbench.packs import prune as prune_mod

    def bug(*_a, **_k):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(prune_mod, "prune", bug)
    with pytest.raises(SystemExit) as exited:
        main(["pack", "prune", "--keep", "1", "--out", "nowhere"])
    assert exited.value.code == 70
    err = capsys.readouterr().err
    assert "ZeroDivisionError" in err and "internal error" in err


def test_item9_a_full_disk_while_a_notebook_runs_is_exit_4_and_publishes_nothing(
    tmp_path, monkeypatch
):
    """Not "a notebook failed" (exit 3): the environment failed; nothing half-published."""
    import errno

    from workbench.packs import execute as execute_mod

    def full(entry, gate=None):
        (entry.staging / f"{entry.name}.ipynb").write_text("half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(entry.staging / "n.ipynb"))

    monkeypatch.setattr(execute_mod, "run_notebook", full)
    p = _spec_file(tmp_path, BASE)
    r = _invoke("pack", "build", str(p), "--out", str(tmp_path / "r"))
    _one_line_error(r, 4, "ENOSPC")
    pack = tmp_path / "r" / "s"
    assert [d.name for d in pack.iterdir() if not d.name.startswith(".")] == []
    assert not list(pack.glob(".staging-*"))


def test_item6_a_bad_sign_key_is_one_line_exit_2_before_anything_runs(tmp_path):
    p = _spec_file(tmp_path, BASE)
    bad = tmp_path / "not-a-key.pem"
    bad.write_text("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")
    r = _invoke("pack", "build", str(p), "--out", str(tmp_path / "r"), "--sign-key", str(bad))
    _one_line_error(r, 2, "not-a-key.pem", "Ed25519 private key")
    assert not (tmp_path / "r").exists()

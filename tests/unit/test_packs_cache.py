"""The pieces of an incremental build's cache key (workbench.packs.cache) and the recorder
a pack kernel loads (_kernel_shims/_workbench_reads.py)."""

from __future__ import annotations

import json
import os

from workbench.packs import cache
from workbench.packs._kernel_shims._workbench_reads import Recorder


def _ctx(tmp_path, previous=None):
    pack = tmp_path / "reports" / "p"
    (pack / ".staging-v2").mkdir(parents=True)
    if previous:
        (pack / previous).mkdir()
    spec_dir = tmp_path / "specs"
    spec_dir.mkdir(exist_ok=True)
    return cache.context(pack / ".staging-v2", pack, spec_dir, previous, True)


def test_paths_are_keyed_relative_to_the_builds_folders_and_resolve_back(tmp_path):
    ctx = _ctx(tmp_path, "v1")
    roots = dict(ctx.roots())
    cases = {
        str(ctx.staging / "a.results.json"): "$results_dir/a.results.json",
        str(ctx.pack_dir / "v1" / "a.results.json"): "$previous_dir/a.results.json",
        str(ctx.pack_dir): "$pack_dir",
        str(tmp_path / "data" / "x.csv"): "$spec_dir/../data/x.csv",
        "s3://bucket/x.parquet": "s3://bucket/x.parquet",
    }
    for path, token in cases.items():
        assert cache.normalize(ctx, path) == token
        assert cache.resolve(roots, token) == path


def test_fingerprints_see_content_names_and_matches(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    (d / "a.csv").write_text("1\n")
    f = str(d / "a.csv")
    first = {op_path: cache.fingerprint(None, *op_path)
             for op_path in [("read", f), ("read", str(d)), ("list", str(d)),
                             ("read", str(d / "*.csv"))]}
    assert cache.fingerprint(None, "read", str(d / "gone.csv")) == "missing"
    assert cache.fingerprint(None, "read", "https://example.org/x.csv") is None
    (d / "a.csv").write_text("2\n")  # same size, other content
    assert cache.fingerprint(None, "read", f) != first[("read", f)]
    assert cache.fingerprint(None, "list", str(d)) == first[("list", str(d))]  # names only
    assert cache.fingerprint(None, "read", str(d)) != first[("read", str(d))]
    (d / "b.csv").write_text("3\n")  # a new match of the glob, a new name in the folder
    assert cache.fingerprint(None, "list", str(d)) != first[("list", str(d))]
    assert cache.fingerprint(None, "read", str(d / "*.csv")) != first[("read", str(d / "*.csv"))]


def test_events_without_the_recorders_mark_give_no_key(tmp_path):
    ctx = _ctx(tmp_path)
    assert cache.digest_events(ctx, "a", []) is None
    assert cache.digest_events(ctx, "a", [{"op": "read", "path": "/x"}]) is None
    entry = cache.execution_entry(ctx, "a", {"source_sha256": "0"}, None, "first build")
    assert entry["key"] is None and entry["not_reusable"]


def test_own_outputs_and_the_environments_files_are_not_inputs(tmp_path):
    ctx = _ctx(tmp_path)
    data = tmp_path / "specs" / "x.csv"
    events = [
        {"op": "armed", "path": "-"},
        {"op": "read", "path": str(data)},
        {"op": "read", "path": os.path.join(os.__file__)},  # the standard library
        {"op": "write", "path": str(ctx.staging / "a.results.json")},
        {"op": "read", "path": str(ctx.staging / "a.results.json")},  # reads its own output
        {"op": "write", "path": str(ctx.staging / "a.extra.html")},
        {"op": "write", "path": str(ctx.staging / ".a.results.json.tmp1")},
        {"op": "read", "path": str(ctx.staging / "b.results.json")},  # another's findings
        {"op": "list", "path": str(ctx.staging)},
    ]
    executed = cache.digest_events(ctx, "a", events)
    assert executed.reads == (("read", "$results_dir/b.results.json"),
                              ("read", "$spec_dir/x.csv"))
    assert executed.writes == ("a.extra.html",)


def test_the_recorder_writes_reads_writes_and_listings_once_armed(tmp_path):
    log = tmp_path / "reads.jsonl"
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    rec = Recorder(fd)
    rec("open", ("/data/early.csv", "r", 0))  # kernel start-up: not recorded
    rec("exec", (compile("1", "/tmp/ipykernel_123/456.py", "exec"),))
    rec("open", ("/data/x.csv", "r", 0))
    rec("open", ("/data/x.csv", "rb", 0))  # once per path
    rec("open", ("/out/r.json", None, os.O_WRONLY | os.O_CREAT))
    rec("os.listdir", ("/data",))
    rec("os.rename", ("/out/.tmp", "/out/r2.json", -1, -1))
    rec("workbench.read", ("/data/*.parquet",))
    rec("open", (3, "r", 0))  # a file descriptor: nothing to key
    os.close(fd)
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert events == [
        {"op": "armed", "path": "-"},
        {"op": "read", "path": "/data/x.csv"},
        {"op": "write", "path": "/out/r.json"},
        {"op": "list", "path": "/data"},
        {"op": "write", "path": "/out/r2.json"},
        {"op": "read", "path": "/data/*.parquet"},
    ]


def test_the_launcher_does_not_arm_the_recorder(tmp_path):
    fd = os.open(tmp_path / "r", os.O_WRONLY | os.O_CREAT, 0o600)
    rec = Recorder(fd)
    rec("exec", (compile("1", "/venv/lib/python3.11/site-packages/ipykernel_launcher.py",
                         "exec"),))
    assert not rec.armed
    os.close(fd)


def test_secret_parameters_are_never_reused():
    assert cache.uncacheable_reason({}, ["token"]) == "secret parameter token: never reused"
    assert cache.uncacheable_reason({}, []) is None


def test_network_reads_make_a_run_unreusable_and_bytecode_counts_as_its_source(tmp_path):
    ctx = _ctx(tmp_path)
    helper = tmp_path / "specs" / "helper.py"
    helper.write_text("X = 1\n")
    pyc = tmp_path / "specs" / "__pycache__" / "helper.cpython-311.pyc"
    events = [{"op": "armed", "path": "-"}, {"op": "read", "path": str(pyc)},
              {"op": "net", "path": "socket:('db.example', 5432)"}]
    executed = cache.digest_events(ctx, "a", events)
    assert ("read", "$spec_dir/helper.py") in executed.reads
    entry = cache.execution_entry(ctx, "a", {}, executed, "first build")
    assert entry["key"] is None
    assert "server" in entry["not_reusable"]


def test_the_recorder_marks_connections_and_sqlite_files(tmp_path):
    log = tmp_path / "reads.jsonl"
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    rec = Recorder(fd, armed=True)
    rec("socket.connect", (object(), ("db.example", 5432)))
    rec("sqlite3.connect", ("/data/x.db",))
    rec("sqlite3.connect", (":memory:",))
    os.close(fd)
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert events == [{"op": "net", "path": "socket:('db.example', 5432)"},
                      {"op": "read", "path": "/data/x.db"}]


def test_verify_inputs_does_not_count_the_packs_own_growing_list_of_versions(tmp_path):
    # review_summary lists the pack's folder before its own version is published: the
    # listing is keyed for rebuilds but is not an input a later `verify --inputs` can check
    pack_dir = tmp_path / "demo"
    version = pack_dir / "20261202T000000Z-aaaaaaaa"
    version.mkdir(parents=True)
    (version / "a.csv").write_text("x\n1\n", encoding="utf-8")
    manifest = {"inputs": [], "cache": {"spec_dir": str(tmp_path)}, "notebooks": [
        {"name": "review_summary", "cache": {"reads": [
            {"op": "list", "path": "$pack_dir", "sha256": "0" * 64},
            {"op": "read", "path": "$results_dir/a.csv", "sha256": "1" * 64}]}}]}
    checked, changes = cache.check_inputs(version, manifest)
    states = {c.path: c.state for c in changes}
    assert states == {"$pack_dir": "not checked", "$results_dir/a.csv": "changed"}
    assert checked == 1


def test_a_result_measured_from_the_current_time_is_recorded_and_never_reused(tmp_path):
    log = tmp_path / "reads.jsonl"
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    rec = Recorder(fd, armed=True)
    rec("workbench.clock", ("as_of: freshness measured from now",))
    os.close(fd)
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert events == [{"op": "clock", "path": "as_of: freshness measured from now"}]
    ctx = _ctx(tmp_path)
    executed = cache.digest_events(ctx, "a", [{"op": "armed", "path": "-"}, *events])
    entry = cache.execution_entry(ctx, "a", {}, executed, "first build")
    assert entry["key"] is None
    assert "current time (as_of: freshness measured from now)" in entry["not_reusable"]
    # a later `pack verify --inputs` cannot check the time: it says so, never "unchanged"
    version = tmp_path / "demo" / "20261202T000000Z-aaaaaaaa"
    version.mkdir(parents=True)
    manifest = {"inputs": [], "cache": {"spec_dir": str(tmp_path)}, "notebooks": [
        {"name": "a", "cache": {"reads": entry["reads"]}}]}
    checked, changes = cache.check_inputs(version, manifest)
    assert (checked, [(c.path, c.state) for c in changes]) == (
        0, [("as_of: freshness measured from now", "not checked")])


def test_workbench_raises_the_clock_event_only_when_it_reads_the_clock():
    import sys

    from workbench import io
    from workbench.contracts._sla import _instant

    seen = []

    def hook(event, args):
        if event == "workbench.clock":
            seen.append(args[0])

    sys.addaudithook(hook)  # stays for the process: it only appends to a local list
    _instant("2026-11-02T00:00:00Z")
    assert seen == []
    _instant(None)
    io.now("overdue items")
    assert seen == ["as_of: freshness and service levels measured from now", "overdue items"]

"""Records what a pack kernel reads and writes, for the incremental build's cache key.

Loaded by this folder's ``sitecustomize`` in every pack kernel (standard library only, no
workbench import: it runs before the notebook). When ``WORKBENCH_READS`` names a file, an
audit hook (:pep:`578`) appends one JSON line per event to it:

* ``open`` of a path for reading -> ``{"op": "read", "path"}``; for writing -> ``"write"``;
* ``os.listdir``/``os.scandir`` -> ``{"op": "list", "path"}`` (a folder's names count: a new
  incident record in a portfolio folder changes what the notebook sees);
* ``os.rename``/``os.replace`` -> ``"write"`` of the destination (atomic writes);
* ``sqlite3.connect`` -> ``"read"`` of the database file;
* ``socket.connect`` and ``urllib.Request`` -> ``{"op": "net", "path": address}``: what a
  server or URL returns cannot be hashed, so such a notebook is never reused;
* ``workbench.read`` (raised by :func:`workbench.io.scan`, whose polars readers open files
  in Rust where no ``open`` event fires) -> ``{"op": "read", "path"}`` for a file, a folder
  or a glob pattern;
* ``workbench.clock`` (raised by :func:`workbench.io.now`: freshness or overdue items
  measured from the current time) -> ``{"op": "clock", "path": purpose}``: what the
  notebook found changes with time alone, so it is never reused.

Recording starts at the first ``exec`` of a cell (the injected parameters), so the kernel's
own start-up (profile and connection files) is not recorded. The builder, not the kernel,
hashes what was recorded (:mod:`workbench.packs.cache`): the kernel pays one ``os.write``
per event.
"""

from __future__ import annotations

import json
import os
import re
import sys

ENV_VAR = "WORKBENCH_READS"
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_CELL = re.compile(r"ipykernel_\d+[/\\][^/\\]+\.py$")  # not ipykernel_launcher.py
_LIST_EVENTS = frozenset({"os.listdir", "os.scandir"})
# importlib.metadata finds installed distributions by listing every sys.path entry and
# trying each as a zip file; those are package look-ups (the key names the packages),
# not the notebook's inputs. When they happen depends on what was imported before the
# first cell (a warm kernel imported altair before it; an ordinary kernel imports it in
# a cell), so recording them would make the key depend on the launch path.
_METADATA_SCAN = (f"{os.sep}importlib{os.sep}metadata{os.sep}",
                  f"{os.sep}importlib_metadata{os.sep}")


class Recorder:
    """An audit hook writing events to ``fd`` once armed (by the first ``exec``)."""

    def __init__(self, fd: int, armed: bool = False) -> None:
        self.fd = fd
        self.armed = armed
        self.seen: set[tuple[str, str]] = set()

    def _emit(self, op: str, path: object) -> None:
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not isinstance(path, str) or not path:
            return
        if op not in ("net", "clock") and not os.path.isabs(path) and "://" not in path:
            path = os.path.join(os.getcwd(), path)
        if (op, path) in self.seen:
            return
        self.seen.add((op, path))
        os.write(self.fd, (json.dumps({"op": op, "path": path}) + "\n").encode("utf-8"))

    def __call__(self, event: str, args: tuple) -> None:
        if not self.armed:
            if event == "exec" and _is_cell(args[0]):
                self.armed = True
                # proof that recording ran: without it the builder never reuses the output
                os.write(self.fd, b'{"op": "armed", "path": "-"}\n')
            return
        try:
            if event == "open":
                path, mode, flags = args
                if isinstance(path, int) or _metadata_scan():
                    return
                writes = (
                    any(c in mode for c in "wax+") if isinstance(mode, str) else
                    bool((flags or 0) & _WRITE_FLAGS)
                )
                self._emit("write" if writes else "read", path)
            elif event in _LIST_EVENTS:
                if sys._getframe(1).f_code.co_filename.startswith("<frozen importlib"):
                    return  # the import system caching a sys.path folder's names
                if _metadata_scan():
                    return
                self._emit("list", args[0] if args and args[0] is not None else ".")
            elif event in ("os.rename", "os.replace"):
                self._emit("write", args[1])
            elif event == "workbench.read":
                self._emit("read", args[0])
            elif event == "workbench.clock":
                self._emit("clock", args[0])
            elif event == "sqlite3.connect":
                if args and args[0] not in (":memory:", b":memory:", ""):
                    self._emit("read", args[0])
            elif event == "socket.connect":
                self._emit("net", f"socket:{args[1]!r}")
            elif event == "urllib.Request":
                self._emit("net", str(args[0]))
        except Exception:  # noqa: S110 - a hook must never break the notebook it watches
            pass


def _metadata_scan(depth: int = 8) -> bool:
    """Whether the event comes from importlib.metadata's search for distributions (the
    hook's caller, or a few frames up: zipfile opening a sys.path entry for it)."""
    frame = sys._getframe(2)
    for _ in range(depth):
        if frame is None:
            return False
        if any(m in frame.f_code.co_filename for m in _METADATA_SCAN):
            return True
        frame = frame.f_back
    return False


def _is_cell(code: object) -> bool:
    """A notebook cell (ipykernel compiles cells to ``.../ipykernel_<pid>/<hash>.py``), not
    the ``exec`` that dataclasses or namedtuple run while the kernel starts."""
    name = getattr(code, "co_filename", "")
    return _CELL.search(name) is not None or name.startswith("<ipython-input")


def install(path: str | None = None) -> Recorder | None:
    """Start recording into ``path`` (default: ``$WORKBENCH_READS``); None when unset."""
    path = path or os.environ.get(ENV_VAR)
    if not path:
        return None
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    recorder = Recorder(fd)
    sys.addaudithook(recorder)
    return recorder

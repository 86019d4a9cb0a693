"""One way for a benchmark to time a tool in a child process of its own script.

``measure(script, tool, *args, env=...)`` runs ``python SCRIPT --child TOOL ARGS...``, whose
last stdout line is a JSON object, and adds the child's wall time and peak memory; a child
that fails gives ``{"tool": ..., "error": <its last stderr line>}``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping

# the first lines of a child script passed with ``python -c`` (drift, performance): CPU
# seconds of the child itself, warnings off, nannyml's usage reporting off
PREAMBLE = r"""import json, os, resource, sys, time, warnings
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
warnings.simplefilter("ignore")
os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")
"""

# the last lines of such a script: ``out`` (its result dict, timed from ``t0``/``c0``, with
# ``t_import`` the import time) printed as JSON with CPU seconds, peak memory and the load
POSTAMBLE = r"""
out["seconds"] = time.perf_counter() - t0
out["cpu_seconds"] = cpu() - c0
out["import_seconds"] = t_import
hwm = [x for x in open("/proc/self/status") if x.startswith("VmHWM")][0]
out["peak_mb"] = int(hwm.split()[1]) / 1024
out["load"] = os.getloadavg()[0]
print(json.dumps(out))
"""


def measure(script: str, tool: str, *args: str, env: Mapping[str, str] | None = None) -> dict:
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, script, "--child", tool, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    out, err = proc.stdout.read(), proc.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        return {"tool": tool, "error": err.strip().splitlines()[-1] if err.strip() else "failed"}
    result = json.loads(out.strip().splitlines()[-1])
    result.update(tool=tool, process_seconds=wall, peak_rss_mb=usage.ru_maxrss / 1024)
    return result

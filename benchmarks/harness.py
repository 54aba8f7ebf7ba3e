"""Run one benchmark contender in a fresh interpreter and read its own wall time and peak memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

RUNNER = """
import json, os, resource, sys, time
PATH = sys.argv[1]
t0 = time.perf_counter()
{body}
wall = time.perf_counter() - t0
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec. Worker processes
# (healthdeck splits big plain files across cores) are added as cores x the largest worker's peak.
rss = next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmHWM:"))
child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
rss += (os.cpu_count() or 1) * child if child else 0
print(json.dumps({{"wall": wall, "rss": rss, "result": result}}))
"""


def run(body: str, path: Path) -> dict:
    """{wall, rss, result} of `body` (which sets `result`, reading the file at PATH) in a new process."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", RUNNER.format(body=body), str(path)], capture_output=True, text=True, env=env
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout)


def best(body: str, path: Path, repeat: int) -> dict:
    """Best wall time and highest peak memory over `repeat` runs."""
    runs = [run(body, path) for _ in range(repeat)]
    return {
        "wall": min(r["wall"] for r in runs),
        "rss": max(r["rss"] for r in runs),
        "result": runs[0]["result"],
    }

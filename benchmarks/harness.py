"""Run benchmark contenders in fresh interpreters and read their own wall time, CPU time and peak memory.

Two ways to time a contender:

* `run(body, path, setup)`: in-process. `setup` (imports) runs first and is not timed; `body` (which
  sets `result`, reading the file at PATH) is. This is the parse itself.
* `run_command(argv)`: the whole process, interpreter start-up and imports included, timed from
  outside as a user's shell would.

Peak RSS is always the contender's own: each runs in a new process (see the comments below on how).
CPU time is reported beside wall time because benchmark machines are often shared: when other work
competes for the cores, wall time swings while CPU time barely moves.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

RUNNER = """
import json, os, resource, sys, time
PATH = sys.argv[1]
{setup}
t0, c0 = time.perf_counter(), time.process_time()
{body}
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec. Worker processes
# (healthdeck splits big plain files across cores) are added as cores x the largest worker's peak.
rss = next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmHWM:"))
child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
rss += (os.cpu_count() or 1) * child if child else 0
print(json.dumps({{"wall": wall, "cpu": cpu, "rss": rss, "result": result}}))
"""

# A fresh interpreter that runs one command and reports it alone: RUSAGE_CHILDREN of this process
# covers exactly that child, so its peak RSS is the command's own.
MEASURE = """
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - t0
use = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "cpu": use.ru_utime + use.ru_stime, "rss": use.ru_maxrss * 1024,
                  "rc": done.returncode, "stderr": done.stderr[-2000:]}))
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def run(body: str, path: Path, setup: str = "") -> dict:
    """{wall, cpu, rss, result} of `body` (which sets `result`, reading the file at PATH) in a new process."""
    done = subprocess.run(
        [sys.executable, "-c", RUNNER.format(setup=setup, body=body), str(path)],
        capture_output=True,
        text=True,
        env=_env(),
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout)


def run_command(argv: list[str]) -> dict:
    """{wall, cpu, rss} of a whole process, start-up included; a non-zero exit is an error."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *argv], capture_output=True, text=True, env=_env(), check=True
    )
    measured = json.loads(done.stdout)
    if measured["rc"] != 0:
        raise RuntimeError(f"{argv[:3]} exited {measured['rc']}: {measured['stderr']}")
    return measured


def best(body: str, path: Path, repeat: int, setup: str = "") -> dict:
    """Best wall and CPU time and highest peak memory over `repeat` in-process runs of `body`."""
    return best_of(lambda: run(body, path, setup), repeat)


def best_of(measure: Callable[[], dict], repeat: int) -> dict:
    """Best wall and CPU time and highest peak memory over `repeat` calls of `measure()`."""
    return best_run([measure() for _ in range(repeat)])


def best_run(runs: list[dict]) -> dict:
    """Best wall and CPU time and highest peak memory over measured runs of one contender."""
    return {
        "wall": min(r["wall"] for r in runs),
        "cpu": min(r["cpu"] for r in runs),
        "rss": max(r["rss"] for r in runs),
        "result": runs[0].get("result"),
    }

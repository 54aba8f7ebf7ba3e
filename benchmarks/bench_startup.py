"""Start-up benchmark: the light CLI commands vs a bare `python -c pass`, as whole processes.

    python benchmarks/bench_startup.py [--repeat 15] [--max-ratio 5] [--python PATH]

Builds a small report (the bundled sample's smoke suite and coverage) and its SQLite history in a
temporary folder, starts a local stand-in for GitHub's REST API for `comment --post`, then times each
command as a whole process (`python -m healthdeck.reports.cli ...`, the same interpreter and environment
as the bare run), interleaved so load on the machine hits every contender alike. Prints the median wall
wall time and CPU time (user + system) of each and their ratios to the bare interpreter's medians. `--max-ratio` makes the run fail (exit 1)
when a command is slower than that many bare starts (the issue's target is 5x).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from github_standin import GitHubStandIn  # noqa: E402  (tests/ holds the stand-in the tests use too)


def prepare(tmp: Path, python: str) -> Path:
    """A small report with its history: one collect over the sample's smoke suite and coverage."""
    sample = REPO / "reports" / "samples" / "dateutil"
    for name in ("smoke.junit.xml.gz", "coverage.xml.gz"):
        (tmp / name.removesuffix(".gz")).write_bytes(gzip.decompress((sample / name).read_bytes()))
    shutil.copy(sample / "pyproject.toml", tmp / "pyproject.toml")
    out = tmp / "out"
    cli(
        python,
        tmp,
        "collect",
        "--junit",
        "smoke=smoke.junit.xml",
        "--coverage",
        "coverage.xml",
        "--out",
        str(out),
        "-q",
    )
    return out / "latest.json"


def cli(python: str, cwd: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [python, "-m", "healthdeck.reports.cli", *args],
        cwd=cwd, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip


def timed(argv: list[str], cwd: Path, env: dict) -> tuple[float, float]:
    """(wall, CPU) seconds of one whole process. CPU (user + system) is what the process itself costs;
    on a shared machine its wall time also holds the time other work had the cores."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):  # gate may say NO-GO (1): that is an answer, not a failure
        raise RuntimeError(f"{argv[3:]} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=15, help="runs of each command (median reported)")
    parser.add_argument(
        "--max-ratio", type=float, default=None, help="fail when a command exceeds this ratio"
    )
    parser.add_argument(
        "--python", default=sys.executable, metavar="PATH",
        help="the interpreter to time (default: this one), e.g. a fresh venv with only the built wheel",
    )  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name, GitHubStandIn() as github:
        tmp = Path(name)
        report = prepare(tmp, args.python)
        github.add_comments(3)
        event = tmp / "event.json"
        event.write_text(json.dumps({"pull_request": {"number": github.pr}}))
        env = {**os.environ, **github.env(), "GITHUB_EVENT_PATH": str(event)}
        py = [args.python]
        hd = [*py, "-m", "healthdeck.reports.cli"]
        r = ["--report", str(report)]
        contenders = {
            "python -c pass": [*py, "-c", "pass"],
            "healthdeck --help": [*hd, "--help"],
            "healthdeck gate": [*hd, "gate", *r],
            "healthdeck comment": [*hd, "comment", *r],
            "healthdeck badge": [*hd, "badge", *r, "--out", str(tmp / "badges")],
            "healthdeck comment --post": [*hd, "comment", *r, "--post"],
        }
        walls: dict[str, list[float]] = {k: [] for k in contenders}
        cpus: dict[str, list[float]] = {k: [] for k in contenders}
        for _ in range(args.repeat):
            for label, argv in contenders.items():
                wall, cpu = timed(argv, tmp, env)
                walls[label].append(wall)
                cpus[label].append(cpu)
    bare_wall, bare_cpu = (
        statistics.median(walls["python -c pass"]),
        statistics.median(cpus["python -c pass"]),
    )
    load = os.getloadavg()[0]
    print(f"{args.repeat} runs each, medians; {args.python}; {os.cpu_count()} cores, load average {load:.1f}")
    print(f"{'command':<28} {'wall (ms)':>10} {'vs bare':>8} {'CPU (ms)':>10} {'vs bare':>8}")
    worst = 0.0
    for label in contenders:
        wall, cpu = statistics.median(walls[label]), statistics.median(cpus[label])
        if label != "python -c pass":
            worst = max(worst, wall / bare_wall)
        print(
            f"{label:<28} {wall * 1000:>10.1f} {wall / bare_wall:>7.2f}x {cpu * 1000:>10.1f} {cpu / bare_cpu:>7.2f}x"
        )
    if args.max_ratio is not None and worst > args.max_ratio:
        print(
            f"slowest command is {worst:.2f}x bare Python, over the {args.max_ratio}x limit", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

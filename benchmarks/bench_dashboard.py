"""Dashboard render benchmark: the overview over a history of 10 000 runs.

    python benchmarks/bench_dashboard.py [--runs 10000] [--reruns 5] [--full-reports] [--store-only]

Generates a history of N runs (two branches, four coverage lanes, a dozen ruff rules, failing tests)
in a temporary SQLite store, writes a latest report, then runs the overview in Streamlit's AppTest:
the first load (cold caches) and `--reruns` more (what a user's filter change costs). Reports the
server-side render time of each, and the largest number of points any chart ships to the browser.
Target (issue): after the first load, under 1.5 s; no chart over a few thousand points.

`--full-reports` stores a full report with every run, as `collect` does (the real python-dateutil
sample report's details, each run's own summary), and prints the store size and bytes per run.
`--store-only` then gives the dashboard no report file: it reads the newest run from the store.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from healthdeck.reports.history.store import open_store

REPO = Path(__file__).resolve().parents[1]

LANES = ("lukhas", "core", "matriz", "labs")
RULES = (
    "E501",
    "F401",
    "B007",
    "UP031",
    "E741",
    "F841",
    "B904",
    "SIM105",
    "E731",
    "PLR2004",
    "RUF012",
    "W291",
)


def summary(i: int, n: int, rng: random.Random, now: int) -> dict:
    rate = min(1.0, 0.93 + 0.06 * i / n + rng.uniform(-0.01, 0.01))
    cov = 70 + 15 * i / n + rng.uniform(-0.5, 0.5)
    stats = {rule: max(0, int(80 * (1 - i / n)) + rng.randrange(10)) for rule in RULES}
    return {
        "git_sha": f"{i:08x}", "git_sha_full": f"{i:040x}", "branch": "main" if i % 5 else "develop",
        "ts": now - (n - i) * 3600, "timestamp_iso": "", "version": None, "ci_run_id": str(i),
        "tests": {"smoke": {"passed": int(rate * 800), "failed": 800 - int(rate * 800), "errors": 0, "skipped": 3,
                            "xfailed": 1, "flaky": rng.randrange(3), "total": 804, "pass_rate": rate}},
        "coverage": {"percent": cov, "statements_percent": cov + 1, "branches_percent": cov - 3,
                     "lanes": {lane: {"percent": cov + k - 2} for k, lane in enumerate(LANES)}},
        "ruff": {"count": {"total": sum(stats.values()), "lanes": {lane: stats["E501"] // (k + 1)
                 for k, lane in enumerate(LANES)}}, "stats": stats, "syntax_errors": 0},
        "compileall": {"failures": int(i < n // 10), "lanes": dict.fromkeys(LANES, 0)},
        "guardian": None, "missing": ["guardian"],
    }  # fmt: skip


def sample_report(folder: Path) -> dict:
    """The real python-dateutil sample's report, made by `healthdeck collect` (no history)."""
    from healthdeck.reports.cli import main as cli

    sample = REPO / "reports" / "samples" / "dateutil"
    out = folder / "sample"
    args = ["collect", "-q", "--no-history", "--config", str(sample / "pyproject.toml"), "--out", str(out),
            "--junit", f"smoke={sample / 'smoke.junit.xml.gz'}", "--junit", f"unit={sample / 'unit.junit.xml.gz'}",
            "--coverage", str(sample / "coverage.xml.gz"), "--ruff", str(sample / "ruff.json.gz"),
            "--compileall", str(sample / "compileall.txt")]  # fmt: skip
    if cli(args) != 0:
        raise SystemExit("collect failed on the bundled sample")
    return json.loads((out / "latest.json").read_text())


def build(folder: Path, n: int, full: bool = False) -> tuple[Path, str]:
    url = f"sqlite:///{folder / 'history.sqlite'}"
    store = open_store(url, project="bench")
    rng = random.Random(1)
    now = int(time.time())
    real = sample_report(folder) if full else None
    last = None
    for i in range(n):
        last = {**summary(i, n, rng, now), "project": "bench"}
        failing = [
            ("smoke", f"tests/test_{k}.py::test_case", "failed")
            for k in range(800 - last["tests"]["smoke"]["passed"])
        ]
        report = {**real, "summary": {**real["summary"], **last}} if real else None
        store.append(last, failing=failing, report=report)
    report_path = folder / "latest.json"
    key = store.runs(limit=1)[0].run_key
    report = {"schema_version": "1.1", "generator": {"name": "healthdeck", "version": "bench"},
              "summary": {**last, "run_key": key, "timestamp_iso": "2026-01-01T00:00:00Z"}, "details": {}}  # fmt: skip
    report_path.write_text(json.dumps(report))
    sizes = store.report_sizes()
    store.close()  # checkpoints the WAL into the file, so the file size is the store's size
    size = sum(p.stat().st_size for p in folder.glob("history.sqlite*"))
    count, stored, raw = sizes
    if count:
        print(f"full reports: {count:,} stored, {stored / count:,.0f} bytes per run compressed "
              f"({raw / count:,.0f} uncompressed)")  # fmt: skip
    print(f"store file: {size / 1e6:,.1f} MB for {n:,} runs ({size / n:,.0f} bytes per run in all)")
    return report_path, url


def chart_points(at) -> int:
    """The most points any trace of any chart sends (plain lists or plotly's base64 typed arrays)."""
    most = 0
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        for trace in spec.get("data", []):
            for axis in ("x", "y"):
                values = trace.get(axis)
                if isinstance(values, list):
                    most = max(most, len(values))
                elif isinstance(values, dict) and "bdata" in values:
                    size = {"f8": 8, "f4": 4, "i4": 4, "i2": 2, "i1": 1, "u1": 1, "i8": 8, "u4": 4}.get(
                        values["dtype"], 8
                    )
                    most = max(most, len(base64.b64decode(values["bdata"])) // size)
    return most


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--reruns", type=int, default=5)
    parser.add_argument("--full-reports", action="store_true", help="store a full report with every run")
    parser.add_argument(
        "--store-only", action="store_true", help="no report file: the dashboard reads the store"
    )
    args = parser.parse_args()
    from streamlit.testing.v1 import AppTest

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        report, url = build(Path(tmp), args.runs, full=args.full_reports or args.store_only)
        print(f"generated {args.runs:,} runs in {time.perf_counter() - started:.1f} s")
        if args.store_only:
            report.unlink()
        os.environ.update(HEALTHDECK_REPORT=str(report), HEALTHDECK_HISTORY=url)
        os.environ["HEALTHDECK_CONFIG"] = str(REPO / "pyproject.toml")
        at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=300)
        at.query_params["window"] = "all"
        t0, c0 = time.perf_counter(), time.process_time()
        at.run()
        first, first_cpu = time.perf_counter() - t0, time.process_time() - c0
        if at.exception:
            raise SystemExit(f"the overview raised: {at.exception[0].value}")
        again = []
        for _ in range(args.reruns):
            t0 = time.perf_counter()
            at.run()
            again.append(time.perf_counter() - t0)
        points = chart_points(at)
        runs_shown = len(at.session_state["healthdeck_ctx"].runs)
    median = statistics.median(again)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Overview over {runs_shown:,} runs (window: all), Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs, load average {load:.1f} while measuring")  # fmt: skip
    print()
    print("| measure | value |")
    print("|---|---:|")
    print(f"| first load (cold caches) | {first:.2f} s |")
    print(f"| first load, CPU time of the process | {first_cpu:.2f} s |")
    print(f"| rerun after the first load, median of {args.reruns} | {median:.2f} s |")
    print(f"| rerun, slowest | {max(again):.2f} s |")
    print(f"| most points in one chart trace | {points:,} |")
    print()
    print(f"target rerun < 1.5 s: {'met' if max(again) < 1.5 else 'MISSED'}; "
          f"target chart points <= a few thousand: {'met' if points <= 3000 else 'MISSED'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

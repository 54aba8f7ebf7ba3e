"""Dashboard benchmark: the overview over a history of 10 000 runs (14 months, two branches).

    python benchmarks/bench_dashboard.py [--runs 10000] [--reruns 5] [--browser] [--loads 5]

Generates a history of N runs (about 24 a day over 14 months, `main` and a feature branch, release tags,
four coverage lanes, a dozen ruff rules, failing tests) in a temporary SQLite store and a latest report.

Server side (Streamlit's AppTest, in process, modules already imported as in a running server):
- first load with cold caches, at N runs and at 100 runs, for the default window and for "all";
- a plain rerun and a filter change (to the window) for every dated window and "all", after the first
  load: what a lead's click costs;
- the most points any chart trace sends to the browser.

With --browser, also in headless Chromium (Debian's, driven by Playwright): the overview against the
framework's floor, a Streamlit page with one plotly chart measured the same way (a new browser context
per load, until the script is idle and every chart has drawn), median of `--loads` warm loads.

Targets: first load <= 1.5 s at N runs and <= 2x the load at 100 runs; rerun or filter change
<= 0.3 s; at most a few hundred points per trace; browser overview <= 1.3x the one-chart floor.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

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
SPAN_DAYS = 425  # 14 months
RELEASE_EVERY = 21  # days between release tags on main
WINDOWS = ("7d", "30d", "90d", "1y", "all")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]  # fmt: skip
FLOOR_APP = """
import numpy as np, pandas as pd, plotly.graph_objects as go, streamlit as st
st.set_page_config(layout="wide")
st.title("One chart")
t = pd.date_range("2026-01-01", periods=90, freq="D", tz="UTC")
st.plotly_chart(go.Figure(go.Scatter(x=t, y=np.linspace(90, 99, 90), mode="lines")))
"""


def summary(i: int, n: int, rng: random.Random, now: int, span_days: int) -> dict:
    """Run i of n: quality improves over time, with noise; every fifth run is on a feature branch."""
    rate = min(1.0, 0.93 + 0.06 * i / n + rng.uniform(-0.01, 0.01))
    cov = 70 + 15 * i / n + rng.uniform(-0.5, 0.5)
    stats = {rule: max(0, int(80 * (1 - i / n)) + rng.randrange(10)) for rule in RULES}
    ts = now - int((n - i) * span_days * 86_400 / n)
    branch = "main" if i % 5 else "feature/cache"
    release = (ts // 86_400) // RELEASE_EVERY
    tagged = branch == "main" and i % 24 == 1  # one run a day or so is the tag's own commit
    version = f"v1.{release}.0" if tagged else f"v1.{release}.0-{i % 24}-g{i:07x}"
    sha = hashlib.sha1(f"run {i}".encode()).hexdigest()
    return {
        "project": "bench", "git_sha": sha[:8], "git_sha_full": sha, "branch": branch, "version": version,
        "ts": ts, "timestamp_iso": "", "ci_run_id": str(i),
        "tests": {"unit": {"passed": int(rate * 800), "failed": 800 - int(rate * 800), "errors": 0, "skipped": 3,
                           "xfailed": 1, "flaky": rng.randrange(3), "total": 804, "pass_rate": rate}},
        "coverage": {"percent": cov, "statements_percent": cov + 1, "branches_percent": cov - 3,
                     "lanes": {lane: {"percent": cov + k - 2} for k, lane in enumerate(LANES)}},
        "ruff": {"count": {"total": sum(stats.values()), "lanes": {lane: stats["E501"] // (k + 1)
                 for k, lane in enumerate(LANES)}}, "stats": stats, "syntax_errors": 0},
        "compileall": {"failures": int(i < n // 10), "lanes": dict.fromkeys(LANES, 0)},
        "guardian": None, "missing": ["guardian"],
    }  # fmt: skip


def build(folder: Path, n: int, span_days: int = SPAN_DAYS, full: bool = False) -> tuple[Path, str]:
    """A history of n runs over span_days ending now, and a latest report (a real one, on main)."""
    from healthdeck.reports.history.store import open_store

    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / 'history.sqlite'}"
    store = open_store(url, project="bench")
    real = sample_report(folder) if full else None
    rng = random.Random(1)
    now = int(time.time())
    for i in range(n):
        s = summary(i, n, rng, now, span_days)
        failing = [
            ("unit", f"tests/test_{k}.py::test_case", "failed")
            for k in range(800 - s["tests"]["unit"]["passed"])
        ]
        key = f"bench:{i}"
        report = {**real, "summary": {**real["summary"], **s}} if real else None  # as collect stores it
        store.append(s, failing=failing, run_key=key, report=report)
    store.close()
    config = folder / "pyproject.toml"
    config.write_text(
        '[tool.healthdeck]\nproject = "bench"\nsmoke_suite = "unit"\nprod_lanes = ["lukhas", "core"]\n'
        '[tool.healthdeck.lanes]\n' + "".join(f'{lane} = ["{lane}/"]\n' for lane in LANES) +
        '[tool.healthdeck.gates]\npass_rate_min = { unit = 0.95 }\ncoverage_min = 80\n'
    )  # fmt: skip
    latest(folder, url, config)
    return folder / "latest.json", url


def sample_report(folder: Path) -> dict:
    """The real python-dateutil sample's report, made by `healthdeck collect` (no history)."""
    from healthdeck.reports.cli import main as cli
    from healthdeck.reports.demo.history import DATEUTIL

    out = folder / "sample"
    args = ["collect", "-q", "--no-history", "--config", str(DATEUTIL / "pyproject.toml"), "--out", str(out),
            "--junit", f"unit={DATEUTIL / 'unit.junit.xml.gz'}", "--coverage", str(DATEUTIL / "coverage.xml.gz"),
            "--ruff", str(DATEUTIL / "ruff.json.gz"), "--compileall", str(DATEUTIL / "compileall.txt")]  # fmt: skip
    if cli(args) != 0:
        raise SystemExit("collect failed on the bundled sample")
    return json.loads((out / "latest.json").read_text())


def latest(folder: Path, url: str, config: Path) -> None:
    """The newest run is a real `healthdeck collect` of the bundled python-dateutil artifacts on main."""
    import contextlib
    import io

    from healthdeck.reports.cli import main
    from healthdeck.reports.demo.history import DATEUTIL

    saved = {k: os.environ.get(k) for k in ("GITHUB_REF_NAME", "GITHUB_SHA", "SOURCE_DATE_EPOCH")}
    os.environ.update(GITHUB_REF_NAME="main", GITHUB_SHA="d" * 40, SOURCE_DATE_EPOCH=str(int(time.time())))
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            code = main(["collect", "-q", "--config", str(config), "--out", str(folder), "--history", url,
                         "--junit", f"unit={DATEUTIL / 'unit.junit.xml.gz'}", "--coverage", str(DATEUTIL / "coverage.xml.gz"),
                         "--ruff", str(DATEUTIL / "ruff.json.gz"), "--compileall", str(DATEUTIL / "compileall.txt")])  # fmt: skip
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    if code != 0:
        raise SystemExit(f"healthdeck collect failed ({code}) on the bundled samples")


def use(folder: Path) -> None:
    os.environ.update(HEALTHDECK_REPORT=str(folder / "latest.json"), HEALTHDECK_CONFIG=str(folder / "pyproject.toml"),
                      HEALTHDECK_HISTORY=f"sqlite:///{folder / 'history.sqlite'}")  # fmt: skip


def trace_points(specs: list[dict]) -> int:
    """The most points any trace of the given plotly specs sends (lists or plotly's base64 arrays)."""
    most = 0
    sizes = {"f8": 8, "f4": 4, "i4": 4, "i2": 2, "i1": 1, "u1": 1, "u2": 2, "i8": 8, "u4": 4}
    for spec in specs:
        for trace in spec.get("data", []):
            for axis in ("x", "y"):
                values = trace.get(axis)
                if isinstance(values, list):
                    most = max(most, len(values))
                elif isinstance(values, dict) and "bdata" in values:
                    most = max(most, len(base64.b64decode(values["bdata"])) // sizes.get(values["dtype"], 8))
    return most


def chart_points(at) -> int:
    return trace_points([json.loads(chart.proto.spec) for chart in at.get("plotly_chart")])


def app(window: str | None = None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=300)
    if window:
        at.query_params["window"] = window
    return at


def timed(at) -> float:
    t0 = time.perf_counter()
    at.run()
    took = time.perf_counter() - t0
    if at.exception:
        raise SystemExit(f"the overview raised: {at.exception[0].value}")
    return took


def cold_load(folder: Path, window: str | None) -> tuple[float, object]:
    import streamlit as st

    use(folder)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = app(window)
    return timed(at), at


def server_side(big: Path, small: Path, reruns: int) -> dict:
    out: dict = {}
    cold_load(small, None)  # imports pages, plotly, pandas: a running server has them already
    for window in (None, "all"):
        name = window or "default (90 days)"
        out[f"first load, {name}, 100 runs"] = cold_load(small, window)[0]
        out[f"first load, {name}"], at = cold_load(big, window)
    out["runs in the default window"] = len(at.session_state["healthdeck_ctx"].runs)
    out["points"] = chart_points(at)
    # after the first load: a plain rerun and a change to each window, as a lead clicks
    _, at = cold_load(big, None)
    rerun, change = {}, {}
    for window in WINDOWS:
        at.selectbox(key="window").set_value(window)
        change[window] = timed(at)
        rerun[window] = statistics.median(timed(at) for _ in range(reruns))
        out["points"] = max(out["points"], chart_points(at))
    at.selectbox(key="branch").set_value("all branches")
    change["branch: all branches"] = timed(at)
    at.selectbox(key="branch").set_value("main")
    change["branch: main"] = timed(at)
    out["rerun"], out["change"] = rerun, change
    return out


def _serve(script: Path, env: dict, port: int) -> subprocess.Popen:
    from tests.services import wait_http

    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
        cwd=script.parent, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_http(f"http://127.0.0.1:{port}/_stcore/health", timeout=60, expect=b"ok")
    return process


def load_time(browser, url: str, charts: int) -> float:
    """One page load in a new browser context: until the script is idle and `charts` charts have drawn."""
    context = browser.new_context(viewport={"width": 1280, "height": 1400})
    page = context.new_page()
    t0 = time.perf_counter()
    page.goto(url)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
    page.wait_for_function(
        f"() => document.querySelectorAll('[data-testid=\"stPlotlyChart\"] .main-svg').length >= {charts} "
        "&& !document.querySelector('[data-testid=\"stSkeleton\"]')",
        timeout=60_000,
    )
    took = time.perf_counter() - t0
    context.close()
    return took


def in_browser(big: Path, loads: int) -> dict:
    from playwright.sync_api import sync_playwright

    from tests.services import free_port

    with tempfile.TemporaryDirectory() as tmp:
        floor = Path(tmp) / "floor.py"
        floor.write_text(FLOOR_APP)
        env = {**os.environ, "HEALTHDECK_REPORT": str(big / "latest.json"), "HEALTHDECK_CONFIG": str(big / "pyproject.toml"),
               "HEALTHDECK_HISTORY": f"sqlite:///{big / 'history.sqlite'}"}  # fmt: skip
        ports = free_port(), free_port()
        servers = [_serve(floor, env, ports[0]), _serve(REPO / "dashboard" / "app.py", env, ports[1])]
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
                )
                result = {}
                for name, port, charts in (
                    ("floor: one plotly chart", ports[0], 1),
                    ("overview", ports[1], 2),
                ):
                    url = f"http://127.0.0.1:{port}/"
                    result[f"{name}, first (server caches cold)"] = load_time(browser, url, charts)
                    result[name] = statistics.median(load_time(browser, url, charts) for _ in range(loads))
                browser.close()
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=20)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--reruns", type=int, default=5)
    parser.add_argument("--browser", action="store_true", help="also measure in headless Chromium")
    parser.add_argument("--loads", type=int, default=5, help="browser loads per page (median)")
    parser.add_argument(
        "--full-reports", action="store_true", help="store a full report with every run, as collect does"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        big, _ = build(Path(tmp) / "big", args.runs, full=args.full_reports)
        small, _ = build(Path(tmp) / "small", 100, full=args.full_reports)
        print(f"generated {args.runs:,} runs in {time.perf_counter() - started:.1f} s")
        r = server_side(big.parent, small.parent, args.reruns)
        browser = in_browser(big.parent, args.loads) if args.browser else {}
    print(f"Overview over {args.runs:,} runs ({r['runs in the default window']:,} in the default window: main, "
          f"90 days), Python {sys.version.split()[0]}, {os.cpu_count()} cores\n")  # fmt: skip
    print("| measure | value |\n|---|---:|")
    firsts = [k for k in r if k.startswith("first load") and not k.endswith("100 runs")]
    for key in firsts:
        ratio = r[key] / r[f"{key}, 100 runs"]
        print(
            f"| {key} ({args.runs:,} runs) | {r[key]:.2f} s ({ratio:.2f}× the load at 100 runs: {r[f'{key}, 100 runs']:.2f} s) |"
        )
    for window in WINDOWS:
        print(f"| rerun, window {window} (median of {args.reruns}) | {r['rerun'][window]:.3f} s |")
    for what, took in r["change"].items():
        print(f"| filter change to {what} | {took:.3f} s |")
    print(f"| most points in one chart trace | {r['points']:,} |")
    for key, took in browser.items():
        print(f"| browser: {key} | {took:.2f} s |")
    worst_click = max([*r["rerun"].values(), *r["change"].values()])
    checks = [
        ("first load <= 1.5 s", max(r[k] for k in firsts) <= 1.5),
        ("first load <= 2x the load at 100 runs", all(r[k] <= 2 * r[f"{k}, 100 runs"] for k in firsts)),
        (f"rerun or filter change <= 0.3 s (worst {worst_click:.3f} s)", worst_click <= 0.3),
        ("at most a few hundred points per trace", r["points"] <= 500),
    ]
    if browser:
        ratio = browser["overview"] / browser["floor: one plotly chart"]
        checks.append((f"browser overview <= 1.3x the one-chart floor ({ratio:.2f}x)", ratio <= 1.3))
    print()
    for name, ok in checks:
        print(f"target {name}: {'met' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

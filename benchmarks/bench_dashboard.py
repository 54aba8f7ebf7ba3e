"""Dashboard benchmark: the overview over a history of 10 000 runs (14 months, two branches).

    python benchmarks/bench_dashboard.py [--runs 10000] [--full-reports | --store-only] [--browser]
                                         [--repeat 3] [--reruns 5] [--loads 5] [--data DIR]

Generates a history of N runs (about 24 a day over 14 months, `main` and a feature branch, release tags,
four coverage lanes, a dozen ruff rules, failing tests) in a SQLite store, and the same at 100 runs;
the newest run is a real `healthdeck collect` of the bundled python-dateutil sample. `--full-reports`
stores that real report with every run, as `collect` does; `--store-only` (implies it) then deletes the
report file, so the dashboard reads the newest run's report from the store. `--data DIR` keeps the
generated stores there and reuses them on the next run.

Server side, in Streamlit's AppTest, each store measured in a fresh process set up as a server is
before its first page load (one server serves one store): pages, pandas and plotly imported, the
component registry scanned once (AppTest would rescan it for every new instance; a server does it once,
at start-up):
- first load with cold caches, at N runs and at 100 runs, for the default window and for "all";
- after a first load, a change to each window and to all branches and back (what a lead's click
  costs), and a plain rerun at each window (median of --reruns);
- the most points any chart trace sends to the browser.
Each figure is the median of --repeat tries, as wall time and as the process's CPU time (on a shared
machine the CPU time is the figure that compares; wall time also holds the time other work had).
A first load reads its own window; once the page has painted, the server reads all time in the
background. The benchmark waits for that read before the next measurement (a lead's click comes after
it; measured on the same CPU it would only slow the next one) and prints how long it took.

With --browser, also in headless Chromium (Debian's, driven by Playwright): the overview against the
framework's floor, a Streamlit page with one plotly chart measured the same way (a new browser context
per load, until the script is idle and every chart, KPI sparklines included, has drawn), median of
--loads loads after a first one with cold server caches.

Targets: first load <= 1.5 s at N runs and <= 2x the load at 100 runs (default window and "all");
rerun or filter change <= 0.3 s; at most a few hundred points per trace; browser overview <= 1.3x the
one-chart floor.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import random
import shutil
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
    from healthdeck.reports.schema import validate_report

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
        report = stored_report(real, s, key) if real else None  # as collect stores it
        if report is not None and i % 1000 == 0:  # every stored report is as collect writes one
            validate_report(report)
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


def stored_report(real: dict, s: dict, key: str) -> dict:
    """The sample's report as run `key` with the figures of summary `s`: the run's identity and headline
    figures replaced where they stand, every other field (lanes, files, details) the sample's, so the
    report stays valid against the schema and every page can render it."""
    base = real["summary"]
    identity = ("project", "git_sha", "git_sha_full", "branch", "version", "ts", "ci_run_id")
    summary = {**base, **{k: s[k] for k in identity}, "run_key": key, "timestamp_iso": _iso(s["ts"])}
    summary["tests"] = {**base["tests"], "unit": {**base["tests"]["unit"], **s["tests"]["unit"]}}
    summary["coverage"] = {**base["coverage"], **{k: s["coverage"][k] for k in ("percent", "statements_percent",
                                                                                 "branches_percent")}}  # fmt: skip
    summary["ruff"] = {**base["ruff"], "count": {**base["ruff"]["count"], "total": s["ruff"]["count"]["total"]},
                       "stats": s["ruff"]["stats"]}  # fmt: skip
    summary["compileall"] = {**base["compileall"], "failures": s["compileall"]["failures"]}
    return {**real, "summary": summary}


def _iso(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


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
    from healthdeck.reports.demo.history import DATEUTIL, environment

    ci = environment(GITHUB_REF_NAME="main", GITHUB_SHA="d" * 40, SOURCE_DATE_EPOCH=str(int(time.time())))
    with ci, contextlib.redirect_stdout(io.StringIO()):
        code = main(["collect", "-q", "--config", str(config), "--out", str(folder), "--history", url,
                     "--junit", f"unit={DATEUTIL / 'unit.junit.xml.gz'}", "--coverage", str(DATEUTIL / "coverage.xml.gz"),
                     "--ruff", str(DATEUTIL / "ruff.json.gz"), "--compileall", str(DATEUTIL / "compileall.txt")])  # fmt: skip
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


_REGISTRY: list = []  # the component registry AppTest scans, scanned once (see `app`)


def app(window: str | None = None):
    """The dashboard in AppTest. AppTest scans the installed packages for components on each new
    instance's first run (about 0.1 s here); a server does it once at start-up, so the benchmark scans
    once and hands every instance the same registry."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=300)
    if _REGISTRY and hasattr(at, "_bidi_component_manager"):
        at._bidi_component_manager = _REGISTRY[0]
    if window:
        at.query_params["window"] = window
    return at


def timed(at) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of the script."""
    import gc

    gc.collect()  # the garbage of the previous try is not this one's cost
    wall, cpu = time.perf_counter(), time.process_time()
    at.run()
    took = time.perf_counter() - wall, time.process_time() - cpu
    if at.exception:
        raise SystemExit(f"the overview raised: {at.exception[0].value}")
    return took


def settled() -> float:
    """Wait for the reads a page leaves for after it has painted (all time, in the background); the
    seconds waited. A lead's first click comes after them; the next measurement must not share the CPU."""
    from healthdeck.dashboard import data

    started = time.perf_counter()
    data.background_done()
    return time.perf_counter() - started


def cold_load(folder: Path, window: str | None) -> tuple[tuple[float, float], object]:
    import streamlit as st

    settled()
    use(folder)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = app(window)
    return timed(at), at


def median(tries: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(t[0] for t in tries), statistics.median(t[1] for t in tries)


def serve_like(folder: Path) -> None:
    """Set this process up as a dashboard server is before its first page load: pages, pandas and
    plotly imported, the components scanned."""
    warm = app()
    use(folder)
    warm.run()
    _REGISTRY[:] = [getattr(warm, "_bidi_component_manager", None)]


def first_loads(folder: Path, repeat: int) -> dict:
    """First loads with cold caches, default window and "all", in this process (one store per process,
    as one server serves one store): {window: (wall, CPU)}."""
    serve_like(folder)
    return {
        window or "default": median([cold_load(folder, window)[0] for _ in range(repeat)])
        for window in (None, "all")
    }


def clicks(folder: Path, repeat: int, reruns: int) -> dict:
    """After a first load, as a lead clicks: each window (and a plain rerun there), then all branches
    and back to main."""
    serve_like(folder)
    _, at = cold_load(folder, None)
    out: dict = {
        "runs in the default window": len(at.session_state["healthdeck_ctx"].runs),
        "points": chart_points(at),
        "background": [],
    }
    changes: dict[str, list] = {}
    reruns_at: dict[str, list] = {}
    for _ in range(repeat):
        _, at = cold_load(folder, None)
        out["background"].append(settled())
        for window in WINDOWS:
            at.selectbox(key="window").set_value(window)
            changes.setdefault(f"window {window}", []).append(timed(at))
            reruns_at.setdefault(window, []).extend(timed(at) for _ in range(reruns))
            out["points"] = max(out["points"], chart_points(at))
        for branch in ("all branches", "main"):
            at.selectbox(key="branch").set_value(branch)
            changes.setdefault(f"branch {branch} (window all)", []).append(timed(at))
    out["background"] = statistics.median(out["background"])
    out["change"] = {what: median(tries) for what, tries in changes.items()}
    out["rerun"] = {window: median(tries) for window, tries in reruns_at.items()}
    return out


def in_process(what: str, folder: Path, repeat: int, reruns: int) -> dict:
    """`what` ("first" or "clicks") measured in a fresh Python process, like a fresh server."""
    job = json.dumps({"what": what, "folder": str(folder), "repeat": repeat, "reruns": reruns})
    done = subprocess.run(
        [sys.executable, __file__, "--measure", job], check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(job: dict) -> dict:
    folder = Path(job["folder"])
    if job["what"] == "first":
        return first_loads(folder, job["repeat"])
    return clicks(folder, job["repeat"], job["reruns"])


def server_side(big: Path, small: Path, repeat: int, reruns: int) -> dict:
    out = {"first": {}}
    for name, folder in (("100", small), ("big", big)):
        for window, pair in in_process("first", folder, repeat, reruns).items():
            out["first"][(window, name)] = tuple(pair)
    out.update(in_process("clicks", big, repeat, reruns))
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
    """One page load in a new browser context: until the script is idle, `charts` plotly charts have
    drawn, every KPI sparkline has drawn and no skeleton is left."""
    context = browser.new_context(viewport={"width": 1280, "height": 1400})
    page = context.new_page()
    t0 = time.perf_counter()
    page.goto(url)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
    page.wait_for_function(
        f"() => document.querySelectorAll('[data-testid=\"stPlotlyChart\"] .main-svg').length >= {charts} "
        "&& [...document.querySelectorAll('[data-testid=\"stMetricChart\"]')].every(c => c.querySelector('svg, canvas')) "
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
                pages = (("floor: one plotly chart", ports[0], 1), ("overview", ports[1], 2))
                for name, port, charts in pages:
                    url = f"http://127.0.0.1:{port}/"
                    result[f"{name}, first load (server caches cold)"] = load_time(browser, url, charts)
                times: dict[str, list[float]] = {}
                for _ in range(loads):  # interleaved, so both see the same machine load
                    for name, port, charts in pages:
                        times.setdefault(name, []).append(
                            load_time(browser, f"http://127.0.0.1:{port}/", charts)
                        )
                result.update({name: statistics.median(t) for name, t in times.items()})
                browser.close()
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=20)
    return result


def stores(folder: Path, runs: int, full: bool, store_only: bool) -> tuple[Path, Path, float]:
    """The N-run and 100-run stores in `folder` (reused when made with the same options)."""
    meta = {"runs": runs, "full": full, "store_only": store_only}
    stamp = folder / "bench.json"
    started = time.perf_counter()
    if not (stamp.exists() and json.loads(stamp.read_text()) == meta):
        # in a process of its own: the measuring process holds what a dashboard server holds, no more
        subprocess.run(
            [sys.executable, __file__, "--make", json.dumps({"folder": str(folder), **meta})], check=True
        )
    return folder / "big", folder / "small", time.perf_counter() - started


def make(args: dict) -> None:
    folder = Path(args["folder"])
    for name, n in (("big", args["runs"]), ("small", 100)):
        shutil.rmtree(folder / name, ignore_errors=True)
        build(folder / name, n, full=args["full"])
        if args["store_only"]:
            for report in ("latest.json", "latest.md"):
                (folder / name / report).unlink()
    (folder / "bench.json").write_text(json.dumps({k: v for k, v in args.items() if k != "folder"}))


def machine() -> str:
    import pandas
    import plotly
    import streamlit

    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "?") if Path("/proc/cpuinfo").exists() else "?"  # fmt: skip
    return (f"{os.cpu_count()} cores ({model}), Python {sys.version.split()[0]}, Streamlit {streamlit.__version__}, "
            f"pandas {pandas.__version__}, plotly {plotly.__version__}")  # fmt: skip


def fmt(pair: tuple[float, float]) -> str:
    return f"{pair[0]:.3f} s | {pair[1]:.3f} s"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="tries per server-side figure (median)")
    parser.add_argument("--reruns", type=int, default=5)
    parser.add_argument("--browser", action="store_true", help="also measure in headless Chromium")
    parser.add_argument("--loads", type=int, default=5, help="browser loads per page (median)")
    parser.add_argument(
        "--full-reports", action="store_true", help="store a full report with every run, as collect does"
    )
    parser.add_argument(
        "--store-only", action="store_true", help="full reports, and no report file: the store alone"
    )
    parser.add_argument("--data", type=Path, help="keep the generated stores here (and reuse them)")
    parser.add_argument("--make", help=argparse.SUPPRESS)  # the stores, in a process of their own
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # one measure, in a fresh process
    args = parser.parse_args()
    if args.make:
        make(json.loads(args.make))
        return 0
    if args.measure:
        print(json.dumps(measure(json.loads(args.measure))))
        return 0
    full = args.full_reports or args.store_only
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.data or Path(tmp)
        big, small, took = stores(folder, args.runs, full, args.store_only)
        print(f"stores ready in {took:.1f} s; load average {os.getloadavg()[0]:.1f} before measuring")
        r = server_side(big, small, args.repeat, args.reruns)
        browser = in_browser(big, args.loads) if args.browser else {}
    load = os.getloadavg()[0]
    kind = "full reports, no report file" if args.store_only else "full reports" if full else "summaries only"
    print(f"\nOverview over {args.runs:,} runs ({r['runs in the default window']:,} in the default window: main, 90 days), "
          f"store with {kind}; {machine()}; load average {load:.1f} after measuring\n")  # fmt: skip
    print(f"Server side (AppTest), median of {args.repeat}:\n")
    print(
        f"| first load, cold caches | wall, 100 runs | CPU, 100 runs | wall, {args.runs:,} runs | CPU, {args.runs:,} runs | ratio (CPU) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    firsts = r["first"]
    for window in ("default", "all"):
        small_t, big_t = firsts[(window, "100")], firsts[(window, "big")]
        print(f"| window {'90d (default)' if window == 'default' else 'all'} | {fmt(small_t)} | {fmt(big_t)} | "
              f"{big_t[1] / small_t[1]:.2f}× |")  # fmt: skip
    print(f"\n| after the first load, {args.runs:,} runs | wall | CPU |\n|---|---:|---:|")
    for what, pair in r["change"].items():
        print(f"| change to {what} | {fmt(pair)} |")
    for window, pair in r["rerun"].items():
        print(f"| rerun, window {window} (median of {args.reruns}) | {fmt(pair)} |")
    print(f"| most points in one chart trace | {r['points']:,} | |")
    print(f"\nAfter a first load the server reads all time in the background (the page does not wait for it): "
          f"{r['background']:.3f} s, median; the clicks above come after it, as a lead's do.")  # fmt: skip
    if browser:
        print(f"\nBrowser (headless Chromium), median of {args.loads} loads:\n\n| page | load |\n|---|---:|")
        for key, value in browser.items():
            print(f"| {key} | {value:.2f} s |")
    big_firsts = [firsts[(w, "big")] for w in ("default", "all")]
    worst_click = max(pair[1] for pair in [*r["change"].values(), *r["rerun"].values()])
    worst_ratio = max(firsts[(w, "big")][1] / firsts[(w, "100")][1] for w in ("default", "all"))
    checks = [
        (f"first load <= 1.5 s (worst {max(p[0] for p in big_firsts):.2f} s wall)", max(p[0] for p in big_firsts) <= 1.5),
        (f"first load <= 2x the load at 100 runs (worst {worst_ratio:.2f}x, CPU)", worst_ratio <= 2),
        (f"rerun or filter change <= 0.3 s (worst {worst_click:.3f} s CPU)", worst_click <= 0.3),
        (f"at most a few hundred points per trace ({r['points']:,})", r["points"] <= 500),
    ]  # fmt: skip
    if browser:
        ratio = browser["overview"] / browser["floor: one plotly chart"]
        checks.append((f"browser overview <= 1.3x the one-chart floor ({ratio:.2f}x)", ratio <= 1.3))
    print()
    for name, ok in checks:
        print(f"target {name}: {'met' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

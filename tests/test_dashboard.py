"""The dashboard in Streamlit's AppTest: every page renders on the demo data, on an empty history, with
inputs missing or unreadable, and at CI volume (hundreds of runs a month on two branches); KPI values
and deltas equal the report's figures; links keep the view."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from benchmarks.bench_dashboard import build as build_volume
from benchmarks.bench_dashboard import trace_points
from healthdeck.dashboard import auth, data
from healthdeck.dashboard.context import uses_guardian
from healthdeck.dashboard.widgets import change, compact
from healthdeck.reports.cli import EXIT_OK, main
from healthdeck.reports.demo import history as demo
from healthdeck.reports.failures import number
from healthdeck.reports.gate import condition_figures
from healthdeck.reports.history.reader import HistoryReader
from healthdeck.reports.history.store import open_store
from healthdeck.reports.render.review import figure
from tests.conftest import EDGE, REAL
from tests.coverage_project import run_coverage

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
PAGES = ["tests", "coverage", "lint", "guardian", "review"]


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("demo")
    config = demo.build(out, runs=8, progress=False)
    return out, config


@pytest.fixture(scope="module")
def volume(tmp_path_factory) -> Path:
    """720 runs over 30 days (24 a day), main and a feature branch, release tags, a real latest run."""
    folder = tmp_path_factory.mktemp("volume")
    build_volume(folder, 720, span_days=30)
    return folder


@pytest.fixture(autouse=True)
def _fresh_caches():
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield


def _app(monkeypatch, report: Path, history: Path, config: Path | None = None) -> AppTest:
    monkeypatch.setenv("HEALTHDECK_REPORT", str(report))
    monkeypatch.setenv("HEALTHDECK_HISTORY", f"sqlite:///{history}")
    if config:
        monkeypatch.setenv("HEALTHDECK_CONFIG", str(config))
    return AppTest.from_file(APP, default_timeout=60)


def _volume_app(monkeypatch, folder: Path) -> AppTest:
    return _app(monkeypatch, folder / "latest.json", folder / "history.sqlite", folder / "pyproject.toml")


def _render_all(at: AppTest) -> dict[str, AppTest]:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    for page in _pages(at):
        at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, (page, [e.value for e in at.exception])
    return at


def _every_page(at: AppTest):
    at.run()
    yield "overview"
    for page in _pages(at):
        at.switch_page(f"app_pages/{page}.py").run()
        yield page


def test_overview_kpis_equal_the_report(monkeypatch, demo_out) -> None:
    out, config = demo_out
    at = _app(monkeypatch, out / "latest.json", out / "history.sqlite", config).run()
    assert not at.exception
    report = json.loads((out / "latest.json").read_text())
    s = report["summary"]
    metrics = {m.label: m for m in at.metric}
    smoke = metrics["smoke pass rate"]
    assert smoke.value == f"{s['tests']['smoke']['pass_rate'] * 100:.2f} %"
    assert metrics["coverage"].value == f"{s['coverage']['percent']:.2f} %"
    prod = sum(s["ruff"]["count"]["lanes"][lane] for lane in ("tz", "parser"))
    assert metrics["ruff (prod lanes)"].value == f"{prod:,}"
    g = s["guardian"]
    guardian = metrics["Guardian denies"]
    assert guardian.value == f"{compact(g['permissive']['would_deny'])} → {compact(g['strict']['denied'])}"
    assert compact(1882) == "1.9k" and compact(751) == "751" and compact(12_345) == "12k"
    assert guardian.delta == f"{g['new_in_strict']} new in strict"
    # the deltas are against the previous run of the same branch, as the history says
    store = open_store(f"sqlite:///{out / 'history.sqlite'}")
    runs = [r for r in store.runs(branch=s["branch"]) if r.run_key != s["run_key"]]
    base = runs[-1].summary
    rate_change = (s["tests"]["smoke"]["pass_rate"] - base["tests"]["smoke"]["pass_rate"]) * 100
    assert smoke.delta == figure(rate_change, "percent", signed=True)
    assert metrics["coverage"].delta == figure(
        s["coverage"]["percent"] - base["coverage"]["percent"], "percent", True
    )
    assert len(at.get("plotly_chart")) == 3  # pass-rate trend, coverage trend, deny delta
    banner = (at.error or at.warning or at.success)[0].value
    assert s["verdict"] in banner
    assert {b.label.split(" (")[0] for b in at.get("download_button")} == {"Report", "Failures"}


def test_a_change_reads_as_a_person_reads_it() -> None:
    assert change(91.2, 90.0, unit="percent", higher_is_better=True) == {
        "delta": "+1.20 pts",
        "delta_color": "normal",
    }
    assert change(3, 5, unit="count", higher_is_better=False) == {"delta": "-2", "delta_color": "inverse"}
    unchanged = change(7, 7, unit="count", higher_is_better=False)
    assert unchanged == {"delta": "no change", "delta_color": "off", "delta_arrow": "off"}  # never a red "+0"
    assert change(7, None, unit="count", higher_is_better=False) == {}
    # a coverage "drop" of -1.2 points is a rise, and is worded as one
    drop = {"name": "coverage_drop", "description": "coverage drop vs baseline", "actual": -1.2, "threshold": 1.0,
            "unit": "points"}  # fmt: skip
    assert condition_figures(drop) == ("coverage change vs baseline", "+1.20 pts", "no drop over 1.00 pts")
    same = {**drop, "actual": 0.0}  # the same coverage on both sides is no change, never "-0.00 pts"
    assert condition_figures(same)[1] == "no change"
    assert figure(0.917059, "fraction") == "91.71 %" and figure(1.3195, "count") == "1"
    assert figure(-0.00001, "percent", signed=True) == "-<0.01 pts"  # a fall, too small to show
    assert figure(90.42 - (90.42 + 1e-12), "percent", signed=True) == "no change"  # float noise


def test_every_page_renders_on_the_demo_data(monkeypatch, demo_out) -> None:
    out, config = demo_out
    at = _render_all(_app(monkeypatch, out / "latest.json", out / "history.sqlite", config))
    at.switch_page("app_pages/review.py").run()
    assert at.get("download_button"), "the release review offers its Markdown"


def test_a_coverage_change_compares_one_measure_when_only_one_run_measured_branches(
    monkeypatch, tmp_path
) -> None:
    """One code base measured with branches, then statements only: the card's change compares statements
    on both sides (as the gate and the comment do), not a combined total with a statements-only one, and
    per-file changes, stored as each run measured them, are not set side by side."""
    store, out = tmp_path / "history.sqlite", tmp_path / "out"
    for branch in (True, False):
        measured = run_coverage(tmp_path / f"branch-{branch}", branch)
        args = ["collect", "-q", "--out", str(out), "--history", f"sqlite:///{store}"]
        assert main([*args, "--coverage", str(measured / "cov.xml")]) == EXIT_OK
    base, now = (run.summary["coverage"] for run in open_store(f"sqlite:///{store}").runs())
    assert base["branch_measured"] and not now["branch_measured"]
    assert base["percent"] != now["percent"]  # a mixed comparison would show a change
    at = _app(monkeypatch, out / "latest.json", store).run()
    assert not at.exception, [e.value for e in at.exception]
    card = {m.label: m for m in at.metric}["coverage"]
    assert card.delta == figure(now["statements_percent"] - base["statements_percent"], "percent", True)
    assert card.delta == "no change"  # the same code, the same statements covered
    assert "the change compares statements only (branches were measured on one side only)" in card.help
    at.switch_page("app_pages/coverage.py").run()
    assert not at.exception
    assert any("Per-file changes are not shown" in c.value for c in at.caption)
    # and the trend says its line mixes the two measures
    assert any(c.value.startswith("1 of 2 runs in") and "measured branches" in c.value for c in at.caption)
    assert not [d for d in at.dataframe if "change" in d.value.columns]


def test_lowest_coverage_reads_as_coverage_py_shows_a_percent(monkeypatch, demo_out, tmp_path) -> None:
    """A file at 99.996 % is not shown as 100.00 % among the lowest-covered, and a big file's statements
    carry the thousands separator every other table uses."""
    out, config = demo_out
    report = json.loads((out / "latest.json").read_text())
    files = report["details"]["coverage"]["files"]
    files[:] = [{**f, "percent": 100.0} for f in files]  # only the edited file is "lowest"
    files[0] = {**files[0], "percent": 99.996, "statements": 25_000}
    (tmp_path / "latest.json").write_text(json.dumps(report))
    at = _app(monkeypatch, tmp_path / "latest.json", out / "history.sqlite", config)
    at.switch_page("app_pages/coverage.py").run()
    assert not at.exception, [e.value for e in at.exception]
    lowest = at.dataframe[0].value
    assert list(lowest["percent"]) == [99.99] and list(lowest["statements"]) == ["25 000"]


def test_no_history_yet_is_said_on_every_page_and_nothing_is_created(monkeypatch, demo_out, tmp_path) -> None:
    out, config = demo_out
    history = tmp_path / "none.sqlite"
    at = _app(monkeypatch, out / "latest.json", history, config)
    for page in _every_page(at):
        assert not at.exception, page
        assert any("No history yet" in i.value for i in at.info), page
    assert not history.exists()  # the dashboard only reads


def test_no_report_at_all(monkeypatch, tmp_path) -> None:
    at = _app(monkeypatch, tmp_path / "latest.json", tmp_path / "h.sqlite")
    for page in _every_page(at):
        assert not at.exception, page
        assert "No report yet" in at.info[0].value and not at.error, page


def test_unreadable_report_and_unreadable_history_are_told_apart(monkeypatch, tmp_path) -> None:
    (tmp_path / "latest.json").write_text('{"summary": ')
    (tmp_path / "h.sqlite").write_bytes(b"this is not a database" * 100)
    at = _app(monkeypatch, tmp_path / "latest.json", tmp_path / "h.sqlite")
    for page in _every_page(at):
        assert not at.exception, page
        errors = [e.value.replace("\\", "") for e in at.error]  # as read: the Markdown escapes resolved
        assert any(
            e.startswith("**Unreadable report.**") and "latest.json: not a JSON report" in e for e in errors
        ), page
        assert any(e.startswith("**History unreadable.**") for e in errors), page
        assert not any("No report yet" in i.value for i in at.info), page


def test_an_unreadable_report_stays_said_when_the_store_shows_an_older_run(monkeypatch, tmp_path) -> None:
    """CI wrote a torn latest.json; the store has older runs of the default branch. The pages may show the
    newest stored run, but never as if it were the file's: the error says what is shown instead."""
    monkeypatch.setenv("GITHUB_REF_NAME", "main")
    assert (
        main(["collect", "-q", "--out", str(tmp_path), "--junit", f"smoke={EDGE / 'xunit2.xml'}"]) == EXIT_OK
    )
    (tmp_path / "latest.json").write_text('{"summary": ')
    at = _app(monkeypatch, tmp_path / "latest.json", tmp_path / "history.sqlite")
    for page in _every_page(at):
        assert not at.exception, page
        errors = [e.value.replace("\\", "") for e in at.error]
        assert any(e.startswith("**Unreadable report.**") and "latest.json: not a JSON report" in e
                   and "shown instead: the newest stored run of main" in e for e in errors), (page, errors)  # fmt: skip


@pytest.mark.parametrize(
    "inputs",
    [
        ["--ruff", str(REAL / "more-itertools.ruff-statistics.txt")],
        ["--junit", f"smoke={EDGE / 'xunit2.xml'}"],
        ["--coverage", str(REAL / "packaging.coverage.xml.gz")],
        ["--compileall", str(REAL / "dateutil15.compileall.txt")],
    ],
    ids=["only-ruff", "only-junit", "only-coverage", "only-compileall"],
)
def test_each_input_missing(monkeypatch, tmp_path, inputs: list[str]) -> None:
    assert main(["collect", "-q", "--out", str(tmp_path), *inputs]) == EXIT_OK
    _render_all(_app(monkeypatch, tmp_path / "latest.json", tmp_path / "history.sqlite"))


def test_guardian_page_only_where_the_project_uses_guardian(monkeypatch, tmp_path, demo_out) -> None:
    assert (
        main(["collect", "-q", "--out", str(tmp_path), "--junit", f"smoke={EDGE / 'xunit2.xml'}"]) == EXIT_OK
    )
    generic = _app(monkeypatch, tmp_path / "latest.json", tmp_path / "history.sqlite").run()
    assert not uses_guardian(generic.session_state["healthdeck_ctx"])
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        generic.switch_page("app_pages/guardian.py")
    out, config = demo_out  # the demo's project runs Guardian
    guarded = _app(monkeypatch, out / "latest.json", out / "history.sqlite", config).run()
    guarded.switch_page("app_pages/guardian.py").run()
    assert not guarded.exception


def _pages(at: AppTest) -> list[str]:
    """The pages the dashboard lists: Guardian's only for a project that uses Guardian."""
    return [p for p in PAGES if p != "guardian" or uses_guardian(at.session_state["healthdeck_ctx"])]


def test_one_run_trace_says_why(monkeypatch, tmp_path, capsys) -> None:
    assert (
        main(["collect", "-q", "--out", str(tmp_path), "--junit", f"unit={EDGE / 'xunit2.xml'}"]) == EXIT_OK
    )
    at = _app(monkeypatch, tmp_path / "latest.json", tmp_path / "history.sqlite").run()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    notes = [a["text"] for a in spec["layout"].get("annotations", [])]
    assert any(
        n.startswith("unit: recorded by only one run of ") and "a trend needs two" in n for n in notes
    ), notes
    assert at.metric[0].label == "unit pass rate"  # the suite as the project names it, never "smoke"
    capsys.readouterr()
    assert main(["history", "show", "--history", f"sqlite:///{tmp_path / 'history.sqlite'}"]) == EXIT_OK
    header = capsys.readouterr().out.splitlines()[0]
    assert "unit" in header and "smoke" not in header


def test_filters_come_from_the_url_and_are_always_written(monkeypatch, demo_out) -> None:
    out, config = demo_out
    everything = _app(monkeypatch, out / "latest.json", out / "history.sqlite", config)
    everything.query_params["window"] = "all"
    everything.query_params["branch"] = "all branches"
    everything.run()
    # the baseline starts on the run the verdict was decided against, as the PR comment compares
    from healthdeck.reports.context import compared_with

    gated = compared_with(json.loads((out / "latest.json").read_text()))
    filters = {k: everything.query_params[k] for k in ("branch", "window", "baseline")}
    assert filters == {"branch": "all branches", "window": "all", "baseline": gated} and gated != "previous"
    assert f"run:{everything.session_state['healthdeck_ctx'].baseline.run_key}" == gated
    week = _app(monkeypatch, out / "latest.json", out / "history.sqlite", config)
    week.query_params["window"] = "7d"
    week.run()
    assert not week.exception
    # the defaults are written too: a pasted link never depends on what the default is that day
    assert week.query_params == {
        "branch": "main",
        "window": "7d",
        "baseline": gated,
        "view": "each run",
        "overview_dim": "rule",
    }
    all_runs = everything.session_state["healthdeck_ctx"].runs
    shown = week.session_state["healthdeck_ctx"].runs
    assert len(all_runs) == 8 and 0 < len(shown) < len(all_runs)
    assert set(shown["branch"]) == {"main"}


def test_an_unknown_value_in_the_link_is_said_not_swallowed(monkeypatch, demo_out) -> None:
    out, config = demo_out
    at = _app(monkeypatch, out / "latest.json", out / "history.sqlite", config)
    at.query_params.update(branch="release/9.9", window="fortnight")
    at.run()
    notices = [w.value for w in at.warning]
    # the fallback as its control names it
    assert any("branch `release/9.9`" in n and "showing main instead" in n for n in notices), notices
    assert any("window `fortnight`" in n and "showing 90 days instead" in n for n in notices), notices
    assert at.query_params["branch"] == "main" and at.query_params["window"] == "90d"


def test_at_volume_the_branch_starts_on_main_and_trends_are_daily(monkeypatch, volume) -> None:
    at = _volume_app(monkeypatch, volume).run()
    assert not at.exception, [e.value for e in at.exception]
    branch = at.selectbox(key="branch")
    assert branch.value == "main" and branch.options[:2] == ["main", "all branches"]
    # the coverage card gives the range of main's last 30 runs, as the store has them
    store = open_store(f"sqlite:///{volume / 'history.sqlite'}", readonly=True)
    last = [store.metrics_of(r["id"])["coverage.percent"] for r in store.run_index(branch="main", limit=30)]
    assert f"last 30 runs {min(last):.2f}–{max(last):.2f} %" in [c.value for c in at.caption]
    ctx = at.session_state["healthdeck_ctx"]
    assert set(ctx.runs["branch"]) == {"main"} and len(ctx.runs) > 500
    assert at.session_state["view"] == "daily"
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert 0 < trace_points(specs) <= 31  # one point per day of the 30-day store
    marked = [t for s in specs for t in s["data"] if "markers" in t.get("mode", "")]
    # no per-run markers: the one point per chart is the newest run, the figure its card shows
    assert all(t["hovertemplate"].startswith("newest run:") for t in marked) and len(marked) <= len(specs)
    assert any(
        a["text"].startswith("v1.") for s in specs for a in s["layout"].get("annotations", [])
    )  # releases
    # the raw view is one click away, and still bounded
    at.segmented_control(key="view").set_value("each run").run()
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert 31 < trace_points(specs) <= 500 and at.query_params["view"] == "each run"


def test_a_rerun_with_a_dated_window_reads_nothing_again(monkeypatch, volume, tmp_path) -> None:
    """The window's start is the start of its first day: a rerun a second later hits every cache. Also
    on a store nobody has read yet: opening it creates an empty WAL file, which is no new data."""
    volume = Path(
        shutil.copytree(volume, tmp_path / "fresh", ignore=shutil.ignore_patterns("*-wal", "*-shm"))
    )
    calls: list[str] = []
    for name in (
        "run_rows",
        "metric_series",
        "metric_table",
        "runs",
        "run",
        "metrics_of",
        "failing_of",
        "branches",
    ):
        original = getattr(HistoryReader, name)

        def counted(self, *args, _original=original, _name=name, **kwargs):
            calls.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(HistoryReader, name, counted)
    at = _volume_app(monkeypatch, volume)
    at.query_params["window"] = "1y"
    at.run()
    assert calls and not at.exception and data.background_done(timeout=60)
    calls.clear()
    at.run()
    assert calls == []


def test_a_first_load_reads_its_window_then_every_filter_is_a_slice(monkeypatch, volume) -> None:
    """The first load reads its own window's runs and trend metrics only, then, once the page has
    painted, all time in the background: every window and branch after it is a slice and reads nothing
    (a lead's click costs no store read of the trends; another branch reads its newest runs for the KPI
    cards, a query with a LIMIT, counted apart)."""
    calls: list[tuple[str, dict]] = []
    for name in ("run_rows", "metric_series", "runs"):
        original = getattr(HistoryReader, name)

        def counted(self, *args, _original=original, _name=name, **kwargs):
            calls.append((_name, kwargs))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(HistoryReader, name, counted)
    at = _volume_app(monkeypatch, volume).run()
    assert not at.exception and data.background_done(timeout=60)
    first = [(name, kw.get("since_ts"), kw.get("from_run_id")) for name, kw in calls if not kw.get("limit")]
    # the window first (dated: a start time, the window's first run id), then all time (neither)
    assert ("run_rows", data.window_start(90), None) in first and ("run_rows", None, None) in first
    dated = [f for f in first if f[0] == "metric_series" and f[2] is not None]
    assert dated and len([f for f in first if f[0] == "metric_series" and f[2] is None]) == len(dated)
    assert first.index(("run_rows", data.window_start(90), None)) < first.index(("run_rows", None, None))
    seen = {}
    for window in ("30d", "7d", "1y", "all", "90d"):
        calls.clear()
        at.selectbox(key="window").set_value(window).run()
        assert not at.exception and calls == [], (window, calls)
        seen[window] = len(at.session_state["healthdeck_ctx"].runs)
    calls.clear()
    at.selectbox(key="branch").set_value("all branches").run()
    assert not at.exception and calls and all(kw.get("limit") for _, kw in calls), calls
    everything = len(at.session_state["healthdeck_ctx"].runs)
    # the slices are the windows they say: 7 days hold fewer runs than 30, all branches more than main
    assert 0 < seen["7d"] < seen["30d"] <= seen["all"] < everything == 721


def test_a_pasted_review_link_shows_the_same_runs(monkeypatch, volume) -> None:
    store = open_store(f"sqlite:///{volume / 'history.sqlite'}")
    runs = store.run_index(branch="main")
    at = _volume_app(monkeypatch, volume)
    at.switch_page("app_pages/review.py").run()
    assert not at.exception, [e.value for e in at.exception]
    # by default: the newest run against the last release before it
    candidate = at.selectbox(key="candidate")
    releases = [r for r in store.run_index() if r["version"] and "-g" not in r["version"]]
    last_release = next(r for r in releases if r["version"] == releases[-1]["version"])
    assert at.selectbox(key="base").value == last_release["run_key"]
    assert (
        at.query_params["candidate"] == candidate.value and at.query_params["base"] == last_release["run_key"]
    )
    assert "baseline" not in at.query_params  # one baseline control on this page
    # a link to two older runs by key, one of them outside the offered window
    link = {"candidate": runs[-40]["run_key"], "base": runs[0]["run_key"]}
    pasted = _volume_app(monkeypatch, volume)
    pasted.switch_page("app_pages/review.py")
    pasted.query_params.update(link)
    pasted.query_params["window"] = "7d"
    pasted.run()
    assert not pasted.exception and not pasted.warning
    assert (pasted.selectbox(key="candidate").value, pasted.selectbox(key="base").value) == tuple(
        link.values()
    )
    # every figure is rounded to its unit: no raw floats
    table = pasted.dataframe[1].value  # after the checklist, candidate beside baseline
    for column in ("candidate", "baseline", "change"):
        for cell in table[column]:
            assert re.fullmatch(r"—|no change|([+-]?[\d,]+|[+-]?(\d+\.\d{2}|<0\.01) (%|pts))( \((better|worse)\))?", cell), (
                column, cell)  # fmt: skip
    # picking another candidate gives it its own default baseline, not the one kept from the first
    # (a release made after the new candidate would read every change backwards)
    newer = runs[-2]["run_key"]  # in the window, so offered
    pasted.selectbox(key="candidate").set_value(newer).run()
    assert not pasted.exception
    expected = pasted.session_state["base"]
    assert expected != link["base"] and rows_ts(store, expected) < rows_ts(store, newer)
    # the same run on both sides is said
    pasted.selectbox(key="base").set_value(newer).run()
    assert any("the same run" in w.value for w in pasted.warning)
    # an unknown key is said, not swallowed
    broken = _volume_app(monkeypatch, volume)
    broken.switch_page("app_pages/review.py")
    broken.query_params["candidate"] = "bench:nope"
    broken.run()
    assert any("candidate run `bench:nope`" in w.value for w in broken.warning)
    # the fallback is named as the control names it, not by its URL key
    odd = _volume_app(monkeypatch, volume)
    odd.query_params["window"] = "5y"
    odd.run()
    [said] = [w.value for w in odd.warning if "window" in w.value]
    assert "showing 90 days instead" in said and "`90d`" not in said, said


def rows_ts(store, run_key: str) -> int:
    return store.run(run_key).ts


def test_prometheus_unreachable_is_a_clear_state_not_a_hang(monkeypatch, demo_out) -> None:
    import time

    from tests.services import free_port

    out, config = demo_out
    monkeypatch.setenv("HEALTHDECK_PROMETHEUS", f"http://127.0.0.1:{free_port()}")
    at = _app(monkeypatch, out / "latest.json", out / "history.sqlite", config).run()
    started = time.monotonic()
    at.switch_page("app_pages/guardian.py").run()
    assert time.monotonic() - started < 15
    assert not at.exception
    assert any(e.value.startswith("Prometheus unreachable") for e in at.error)


def test_prometheus_without_its_extra_names_the_extra(monkeypatch, demo_out) -> None:
    """[dashboard] alone has no Prometheus client: the page said nothing useful (an uncaught import error)."""
    import sys

    import streamlit as st

    out, config = demo_out
    st.cache_data.clear()
    monkeypatch.setitem(sys.modules, "prometheus_api_client", None)  # as if not installed
    monkeypatch.setenv("HEALTHDECK_PROMETHEUS", "http://127.0.0.1:9")
    at = _app(monkeypatch, out / "latest.json", out / "history.sqlite", config).run()
    at.switch_page("app_pages/guardian.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("the [prometheus] extra: pip install" in e.value.replace("\\", "") for e in at.error)


def test_who_may_look(tmp_path) -> None:
    from healthdeck.reports.config import ConfigError, load_config

    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[tool.healthdeck.dashboard]\nallowed_domains = ["@Example.com"]\nallowed_groups = ["leads"]\n'
    )
    access = load_config(pyproject).dashboard
    assert access.requires_sign_in and access.allowed_domains == ("example.com",)
    assert auth.permitted({"email": "ann@example.com", "email_verified": True}, access)
    assert not auth.permitted({"email": "ann@example.com", "email_verified": False}, access)
    assert not auth.permitted({"email": "ann@example.com.evil.org"}, access)
    assert auth.permitted({"email": "bob@elsewhere.org", "groups": ["leads", "devs"]}, access)
    assert not auth.permitted({"email": "bob@elsewhere.org", "groups": "devs"}, access)
    pyproject.write_text("[tool.healthdeck]\nout = 'x'\n")
    assert not load_config(pyproject).dashboard.requires_sign_in
    pyproject.write_text("[tool.healthdeck.dashboard]\nsign_in = true\n")
    assert auth.permitted({"email": "anyone@anywhere.org"}, load_config(pyproject).dashboard)
    pyproject.write_text(
        '[tool.healthdeck.dashboard]\nallowed_domain = ["example.com"]\n'
    )  # a typo never opens it
    with pytest.raises(ConfigError, match="allowed_domains"):
        load_config(pyproject)


def test_how_often_an_open_page_looks_for_a_new_run(tmp_path) -> None:
    from healthdeck.reports.config import ConfigError, load_config

    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text("[tool.healthdeck]\n")
    assert load_config(pyproject).dashboard.recheck_seconds == 30
    pyproject.write_text("[tool.healthdeck.dashboard]\nrecheck_seconds = 0\n")
    assert load_config(pyproject).dashboard.recheck_seconds == 0
    for bad in ("-1", "1.5", "true", '"30"', "7200"):
        pyproject.write_text(f"[tool.healthdeck.dashboard]\nrecheck_seconds = {bad}\n")
        with pytest.raises(
            ConfigError, match="recheck_seconds must be a whole number of seconds from 0 to 3600"
        ):
            load_config(pyproject)


def test_sign_in_asked_for_but_not_configured_stays_closed(monkeypatch, demo_out, tmp_path) -> None:
    out, _ = demo_out
    config = tmp_path / "pyproject.toml"
    config.write_text('[tool.healthdeck]\n[tool.healthdeck.dashboard]\nallowed_domains = ["example.com"]\n')
    monkeypatch.chdir(tmp_path)  # no .streamlit/secrets.toml here
    at = _app(monkeypatch, out / "latest.json", out / "history.sqlite", config).run()
    assert not at.exception
    assert any("Sign-in is required" in e.value for e in at.error)
    assert not at.metric and not at.get("plotly_chart")


def test_the_dashboard_needs_only_select_on_postgres(monkeypatch, demo_out, tmp_path_factory) -> None:
    """docs/deployment.md: the dashboard's database role needs read access only."""
    import sqlalchemy as sa

    from healthdeck.reports.history.store import HistoryError
    from tests.services import Postgres

    out, config = demo_out
    server = Postgres(tmp_path_factory.mktemp("pg")).start()
    try:
        url = server.create_database("hd_dashboard_ro")
        writer, source = open_store(url), open_store(f"sqlite:///{out / 'history.sqlite'}")
        for run in source.runs():
            failing = [(s, t, o) for (s, t), o in source.failing_of(run.id).items()]
            writer.append(run.summary, run_key=run.run_key, source=run.source, failing=failing)
        writer.close()
        admin = sa.create_engine(
            url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            for statement in ("CREATE ROLE health_ro LOGIN", "GRANT CONNECT ON DATABASE hd_dashboard_ro TO health_ro",
                              "GRANT USAGE ON SCHEMA public TO health_ro",
                              "GRANT SELECT ON ALL TABLES IN SCHEMA public TO health_ro"):  # fmt: skip
                conn.execute(sa.text(statement))
        admin.dispose()
        read_only = url.replace("postgres@", "health_ro@", 1)
        with pytest.raises(HistoryError):  # the role really cannot write
            open_store(read_only).append({"ts": 1, "branch": "main"}, run_key="nope")
        monkeypatch.setenv("HEALTHDECK_REPORT", str(out / "latest.json"))
        monkeypatch.setenv("HEALTHDECK_HISTORY", read_only)
        monkeypatch.setenv("HEALTHDECK_CONFIG", str(config))
        at = AppTest.from_file(APP, default_timeout=60)
        for page in _every_page(at):
            assert not at.exception, (page, [e.value for e in at.exception])
            assert not any("History unreadable" in e.value for e in at.error), page
        assert len(at.session_state["healthdeck_ctx"].runs) == len(source.runs(branch="main"))
    finally:
        server.stop()


def test_sessions_read_the_sqlite_store_at_once(volume) -> None:
    """Every session shares one sqlite3 reader (a server runs each session's script in its own thread):
    reads from many threads at once take turns instead of breaking each other's transaction."""
    from concurrent.futures import ThreadPoolExecutor

    from healthdeck.dashboard import data

    url = f"sqlite:///{volume / 'history.sqlite'}"
    shared = data.store(url)
    assert data.store(url) is shared
    expected = (len(shared.run_index()), len(shared.metric_table(["coverage.percent"])))

    def read(_: int) -> tuple[int, int]:
        return len(shared.run_index()), len(shared.metric_table(["coverage.percent"]))

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(read, range(64))) == {expected}


def test_the_lint_page_lists_the_findings_under_their_exact_count(monkeypatch, demo_out) -> None:
    out, config = demo_out
    ruff = json.loads((out / "latest.json").read_text())["details"]["ruff"]
    at = _app(monkeypatch, out / "latest.json", out / "history.sqlite", config)
    at.switch_page("app_pages/lint.py").run()
    assert not at.exception, [e.value for e in at.exception]
    if not ruff.get("findings"):
        pytest.fail("the demo's ruff input is expected to be findings with files (--output-format json)")
    total, listed = ruff["findings_total"], len(ruff["findings"])
    heading = f"Findings: {number(total)}" + (f" — showing {number(listed)}" if listed < total else "")
    assert heading in [s.value for s in at.subheader]
    table = next(d.value for d in at.dataframe if "where" in d.value)
    assert len(table) == listed and table["where"].iloc[0].startswith(ruff["findings"][0]["path"])


def test_without_prod_lanes_the_lint_page_counts_the_whole_tree_as_the_gate_does(
    monkeypatch, tmp_path
) -> None:
    """No prod_lanes configured: the gate counts every finding; the Lint page's card says the same figure,
    not 0 (the sum over no lanes)."""
    from tests.conftest import REAL

    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "p"\n[tool.healthdeck]\nlanes = { core = ["src/"] }\n'
    )
    ruff = REAL / "more-itertools.ruff-violations.json.gz"
    assert main(["collect", "-q", "--out", "out", "--ruff", str(ruff)]) == 0
    total = json.loads((tmp_path / "out" / "latest.json").read_text())["summary"]["ruff"]["count"]["total"]
    at = _app(monkeypatch, tmp_path / "out" / "latest.json", tmp_path / "out" / "history.sqlite")
    at.run()
    at.switch_page("app_pages/lint.py").run()
    assert not at.exception, [e.value for e in at.exception]
    card = next(m for m in at.metric if m.label == "ruff findings in prod lanes")
    assert total > 0 and card.value == number(total)
    lanes = next(d.value for d in at.dataframe if "lane" in d.value and "prod" in d.value)
    assert lanes["prod"].all()  # every lane is prod when none is named


def test_review_from_the_store_alone_with_the_verdicts_runs_were_given(monkeypatch, demo_out, capsys) -> None:
    """`healthdeck review` from `--history` alone gives the page's review: each run with the verdict
    `healthdeck gate` gave it (the demo gates every run), not the checklist re-evaluated without that
    run's own baseline (which made a GO baseline read INCOMPLETE)."""
    out, config = demo_out
    url = f"sqlite:///{out / 'history.sqlite'}"
    store = open_store(url, readonly=True)
    newest = store.latest()
    store.close()
    args = ["review", "--history", url, "--config", str(config), "--run", newest.run_key]
    assert main(args) == EXIT_OK
    text = capsys.readouterr().out
    from healthdeck.reports.review import default_baseline

    reader = open_store(url, readonly=True)
    base = default_baseline(reader, newest)
    reader.close()
    assert base is not None and base.verdict in ("GO", "NO-GO", "INCOMPLETE")
    assert text.startswith("# Release review: ") and text.splitlines()[0].endswith(f" · {newest.verdict}")
    assert f"· {base.verdict} — as gated" in text and f"**Verdict: {newest.verdict}**" in text
    at = _app(monkeypatch, out / "latest.json", out / "history.sqlite", config)
    at.switch_page("app_pages/review.py")
    at.query_params.update({"candidate": newest.run_key, "base": base.run_key})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    heads = [s.value for s in at.subheader if s.value.startswith(("Baseline:", "Candidate:"))]
    assert heads == [f"Candidate: {newest.verdict}", f"Baseline: {base.verdict}"]  # under their selectors
    # one checklist table, full width: both statuses side by side (a narrow page still shows them), then
    # both figures, details last
    checklist = at.dataframe[0].value
    assert list(checklist.columns) == ["condition", "threshold", "candidate", "baseline", "candidate value",
                                       "baseline value", "candidate detail", "baseline detail"]  # fmt: skip
    assert checklist["condition"].is_unique and set(checklist["candidate"]) <= {
        "PASS",
        "FAIL",
        "UNKNOWN",
        "—",
    }
    assert ("FAIL" in set(checklist["candidate"])) == (newest.verdict == "NO-GO")
    assert ("FAIL" in set(checklist["baseline"])) == (base.verdict == "NO-GO")
    assert main([*args, "--baseline", "tag:no-such-tag"]) == 3
    assert main([*args, "--baseline", "report:x.json"]) == 2


def test_an_unreadable_config_or_an_unknown_project_is_said_not_crashed(
    monkeypatch, demo_out, tmp_path
) -> None:
    """A pyproject edited while the dashboard serves, and a HEALTHDECK_PROJECT the store does not hold."""
    out, _ = demo_out
    bad = tmp_path / "pyproject.toml"
    bad.write_text("[tool.healthdeck\nprod_lanes = 3\n")
    at = _app(monkeypatch, out / "latest.json", out / "history.sqlite", bad).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(e.value.startswith("**Unreadable configuration**, so the defaults are used.") and "cannot read config"
               in e.value for e in at.error)  # fmt: skip
    monkeypatch.setenv("HEALTHDECK_PROJECT", "acme/nosuch")
    at = _app(monkeypatch, out / "latest.json", out / "history.sqlite").run()
    assert not at.exception, [e.value for e in at.exception]
    notes = [i.value for i in at.info]
    assert any(
        "**No run of project `acme/nosuch` yet.**" in n and "another project's run" in n for n in notes
    ), notes
    assert not any("does not exist" in n for n in notes)


def test_the_dashboard_command_reads_healthdeck_config(monkeypatch, tmp_path) -> None:
    """deployment.md: the wrapper reads HEALTHDECK_CONFIG where --config is not given; it ran Streamlit on
    the defaults instead (and told it so), losing the project's lanes, gates and output folder."""
    import healthdeck.reports.commands.dashboard as command

    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text('[tool.healthdeck]\nout = "custom-out"\n')
    seen: dict = {}
    monkeypatch.setattr(command, "serve", lambda report, history, config, *_, **__: seen.update(
        report=report, config=config) or 0)  # fmt: skip
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HEALTHDECK_CONFIG", str(project / "pyproject.toml"))
    for name in ("HEALTHDECK_REPORT", "HEALTHDECK_HISTORY"):
        monkeypatch.delenv(name, raising=False)
    assert main(["dashboard"]) == EXIT_OK
    assert seen["report"].resolve() == project / "custom-out" / "latest.json"
    assert seen["config"] == project / "pyproject.toml"


def test_a_wider_window_asked_during_the_background_read_waits_for_it() -> None:
    """No read twice: a session asking for all time while the background read runs gets its result;
    when that read fails, the session reads itself (and would say what went wrong)."""
    import threading

    import pandas as pd

    for fails in (False, True):
        holder, reads, release = data._Widest(), [], threading.Event()

        def read_all(fails=fails, reads=reads, release=release) -> pd.DataFrame:
            release.wait(10)
            reads.append("background")
            if fails:
                raise OSError("store gone")
            return pd.DataFrame({"ts": [1, 2, 3]})

        def read_window(reads=reads) -> pd.DataFrame:
            reads.append("window")
            return pd.DataFrame({"ts": [3]})

        def read_everything(reads=reads) -> pd.DataFrame:
            reads.append("session")
            return pd.DataFrame({"ts": [1, 2, 3]})

        assert len(holder.covering(3, read_window, read_all)) == 1
        data.read_the_rest()
        got: list = []
        asker = threading.Thread(
            target=lambda h=holder, g=got, r=read_everything, a=read_all: g.append(h.covering(None, r, a))
        )
        asker.start()
        asker.join(0.3)
        assert asker.is_alive()  # waiting for the background read, not reading again
        release.set()
        asker.join(10)
        assert data.background_done(timeout=10) and len(got[0]) == 3
        assert reads == (["window", "background", "session"] if fails else ["window", "background"])
        assert holder.since_ts is None and holder.widening is None

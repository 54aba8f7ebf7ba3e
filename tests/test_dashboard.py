"""The dashboard in Streamlit's AppTest: every page renders on the demo data, on an empty history and
with inputs missing; KPI values and deltas equal the report's figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from healthdeck.dashboard.context import uses_guardian
from healthdeck.dashboard.widgets import compact
from healthdeck.reports.cli import EXIT_OK, main
from healthdeck.reports.demo import history as demo
from tests.conftest import EDGE, REAL

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
PAGES = ["tests", "coverage", "lint", "guardian", "review"]


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("demo")
    config = demo.build(out, runs=8, progress=False)
    return out, config


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


def _render_all(at: AppTest) -> dict[str, AppTest]:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    for page in _pages(at):
        at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, (page, [e.value for e in at.exception])
    return at


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
    assert metrics["ruff errors (prod lanes)"].value == str(prod)
    g = s["guardian"]
    guardian = metrics["Guardian would-deny → deny"]
    assert guardian.value == f"{compact(g['permissive']['would_deny'])} → {compact(g['strict']['denied'])}"
    assert compact(1882) == "1.9k" and compact(751) == "751" and compact(12_345) == "12k"
    assert guardian.delta == f"{g['new_in_strict']} new in strict"
    # the deltas are against the previous run of the same branch, as the history says
    from healthdeck.reports.history.store import open_store

    store = open_store(f"sqlite:///{out / 'history.sqlite'}")
    runs = [r for r in store.runs(branch=s["branch"]) if r.run_key != s["run_key"]]
    base = runs[-1].summary
    assert (
        smoke.delta
        == f"{(s['tests']['smoke']['pass_rate'] - base['tests']['smoke']['pass_rate']) * 100:+.2f} pts"
    )
    assert metrics["coverage"].delta == f"{s['coverage']['percent'] - base['coverage']['percent']:+.2f} pts"
    assert len(at.get("plotly_chart")) == 3  # smoke trend, coverage trend, deny delta
    banner = (at.error or at.warning or at.success)[0].value
    assert s["verdict"] in banner


def test_every_page_renders_on_the_demo_data(monkeypatch, demo_out) -> None:
    out, config = demo_out
    at = _render_all(_app(monkeypatch, out / "latest.json", out / "history.sqlite", config))
    at.switch_page("app_pages/review.py").run()
    assert at.get("download_button"), "the release review offers its Markdown"


def test_empty_history_renders_and_creates_nothing(monkeypatch, demo_out, tmp_path) -> None:
    out, config = demo_out
    history = tmp_path / "none.sqlite"
    at = _render_all(_app(monkeypatch, out / "latest.json", history, config))
    assert not history.exists()  # the dashboard only reads
    at.switch_page("app_pages/overview.py").run()
    assert any("trend" in i.value for i in at.info)


def test_no_report_at_all(monkeypatch, tmp_path) -> None:
    at = _render_all(_app(monkeypatch, tmp_path / "latest.json", tmp_path / "h.sqlite"))
    at.switch_page("app_pages/overview.py").run()
    assert "No report yet" in at.info[0].value


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


def test_filters_come_from_the_url(monkeypatch, demo_out) -> None:
    out, config = demo_out
    everything = _app(monkeypatch, out / "latest.json", out / "history.sqlite", config)
    everything.query_params["window"] = "all"
    everything.run()
    week = _app(monkeypatch, out / "latest.json", out / "history.sqlite", config)
    week.query_params["window"] = "7 days"
    week.query_params["branch"] = "main"
    week.run()
    assert not week.exception
    assert (week.selectbox(key="window").value, week.selectbox(key="branch").value) == ("7 days", "main")
    all_runs = everything.session_state["healthdeck_ctx"].runs
    shown = week.session_state["healthdeck_ctx"].runs
    assert len(all_runs) == 8 and 0 < len(shown) < len(all_runs)
    assert set(shown["branch"]) == {"main"}


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


def _pages(at: AppTest) -> list[str]:
    """The pages the dashboard lists: Guardian's only for a project that uses Guardian."""
    return [p for p in PAGES if p != "guardian" or uses_guardian(at.session_state["healthdeck_ctx"])]

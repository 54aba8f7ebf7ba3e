"""The dashboard from the history store alone (the team set-up: CI writes to a shared SQLite or
PostgreSQL store, the dashboard host has no report file), the project picker, the all-projects page,
and the configuration the report carries — in AppTest and in Chromium."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from benchmarks.bench_dashboard import trace_points
from healthdeck.reports.cli import EXIT_NO_GO, EXIT_OK, main
from healthdeck.reports.render.md import coverage_pc
from tests.services import streamlit
from tests.test_browser import APP, browser, ready, shots  # noqa: F401 - browser and shots are fixtures
from tests.test_dashboard_triage import failing_grid
from tests.test_store_first import KNOWN, NEW, NEW_MESSAGE, _project, artifacts, ci  # noqa: F401 - fixtures

PAGES = ["overview", "tests", "coverage", "lint", "review"]


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


@pytest.fixture
def three_runs(store_url, artifacts, ci, tmp_path, monkeypatch) -> str:  # noqa: F811
    """Three runs of project svc collected and gated into the store; then every local file deleted."""
    checkout = _project(tmp_path / "checkout")
    monkeypatch.chdir(checkout)
    for k, name in enumerate(("green", "known", "new"), 1):
        ci(k)
        assert main(["collect", "-q", "--history", store_url, *artifacts[name]]) == EXIT_OK
    assert main(["gate", "--history", store_url]) == EXIT_NO_GO
    shutil.rmtree(checkout)
    host = tmp_path / "dashboard-host"
    host.mkdir()
    monkeypatch.chdir(host)  # no report, no pyproject.toml: only the store's URL
    for name in ("HEALTHDECK_REPORT", "HEALTHDECK_CONFIG", "HEALTHDECK_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HEALTHDECK_HISTORY", store_url)
    return store_url


def _run(page: str | None = None, **params: str) -> AppTest:
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(APP), default_timeout=60)
    params.setdefault("window", "all")  # the runs are from a fixed past time (SOURCE_DATE_EPOCH)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _charts(at: AppTest) -> int:
    return len(at.get("plotly_chart"))


def test_an_ungated_run_is_not_judged_by_its_age(store_url, artifacts, ci, tmp_path, monkeypatch) -> None:  # noqa: F811
    """Every run a dashboard host shows is old and checked out nowhere: "health report is current" is
    the gate's item, about its checkout. The overview left it in and said NO-GO for a day-old run; the
    release review left it out."""
    monkeypatch.chdir(_project(tmp_path / "checkout"))
    for k in (1, 2):  # runs from 2025-12-29 (SOURCE_DATE_EPOCH): months old, never gated
        ci(k)
        assert main(["collect", "-q", "--history", store_url, *artifacts["green"]]) == EXIT_OK
    host = tmp_path / "host"
    host.mkdir()
    monkeypatch.chdir(host)
    for name in ("HEALTHDECK_REPORT", "HEALTHDECK_CONFIG", "HEALTHDECK_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HEALTHDECK_HISTORY", store_url)
    overview = _run()
    shown = " ".join(e.value for e in (*overview.info, *overview.warning, *overview.error, *overview.success))
    assert "health report is current" not in shown and "Not gated yet" in shown, shown
    assert "(as collected)" in " ".join(c.value for c in overview.caption)
    assert re.search(r"No newer run: this one is about \d+ days old", shown)  # an age, not a verdict
    review = _run("review")
    assert "health report is current" not in " ".join(m.value for m in review.markdown)


def test_the_store_alone_shows_everything(three_runs, tmp_path) -> None:
    sqlite = three_runs.removeprefix("sqlite:///") if three_runs.startswith("sqlite:///") else None
    before = _snapshot(Path(sqlite).parent) if sqlite else None
    overview = _run()
    texts = [e.value for e in (*overview.info, *overview.warning, *overview.error, *overview.success)]
    assert not any("No report yet" in t or "No report" in t for t in texts), texts
    banner = overview.error[0].value
    assert banner.startswith("### :material/block: NO-GO") and "new failing tests vs baseline" in banner
    assert "**new failing tests vs baseline**: 1 (threshold 0)" in banner  # as `healthdeck gate` says it
    charts = _charts(overview)
    tests = _run("tests")
    charts += _charts(tests) + _charts(_run("lint"))
    assert charts >= 3
    failing = next(d.value for d in tests.dataframe if "test_id" in d.value)
    [row] = failing[failing["test_id"] == NEW].to_dict("records")
    assert row["status"] == "new" and row["message"].startswith(NEW_MESSAGE.split("(")[0])
    assert KNOWN in set(failing["test_id"])
    for page in PAGES:
        _run(page)
    if sqlite:  # the dashboard only reads: the store file is untouched, nothing else is added
        after = _snapshot(Path(sqlite).parent)
        # SQLite's read-only connection to a WAL database creates the (empty) log and shared-memory
        # index it coordinates readers through; they hold no data (the log stays 0 bytes).
        added = {Path(p).name: size for p, (size, _) in after.items() if p not in before}
        assert (
            set(added) <= {"history.sqlite-wal", "history.sqlite-shm"}
            and added.get("history.sqlite-wal", 0) == 0
        )
        assert {p: after[p] for p in before} == before
    assert not list(Path.cwd().iterdir())


def test_the_report_s_configuration_wins_and_is_named(three_runs, tmp_path) -> None:
    # The dashboard host has a pyproject.toml of its own that disagrees (other prod lanes).
    Path("pyproject.toml").write_text('[tool.healthdeck]\nprod_lanes = ["parser"]\n[tool.healthdeck.lanes]\n'
                                      'parser = ["src/dateutil/parser/"]\n')  # fmt: skip
    at = _run()
    report_lanes = ("tz", "parser")  # what the report was made with (tests/test_store_first.py CONFIG)
    ctx = at.session_state["healthdeck_ctx"]
    assert ctx.src.config.prod_lanes == report_lanes
    lanes = ctx.summary["ruff"]["count"]["lanes"]
    assert {m.label: m.value for m in at.metric}["ruff (prod lanes)"] == str(
        sum(lanes[x] for x in report_lanes)
    )
    [label] = [e.label for e in at.expander if e.label.startswith("Configuration in force")]
    assert label.startswith("Configuration in force: the report's own — ")
    notes = [m.value for m in at.markdown if "prod\\_lanes" in m.value]
    assert notes and "using the report" in notes[0]


@pytest.fixture
def two_projects(artifacts, ci, tmp_path, monkeypatch) -> str:  # noqa: F811
    """api: a known failure, then a new one; web: one green run. One SQLite store, every run gated
    (NO-GO both: the real sample has ruff findings in its prod lanes), no report file."""
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    monkeypatch.chdir(_project(tmp_path / "p", project=None))
    for k, (project, name) in enumerate((("api", "known"), ("web", "green"), ("api", "new")), 1):
        ci(k)
        assert main(["collect", "-q", "--project", project, "--history", url, *artifacts[name]]) == EXIT_OK
        main(["gate", "--history", url, "--project", project])  # the verdict is stored, whatever it is
    shutil.rmtree("docs")
    monkeypatch.chdir(tmp_path)
    for name in ("HEALTHDECK_REPORT", "HEALTHDECK_CONFIG", "HEALTHDECK_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HEALTHDECK_HISTORY", url)
    return url


def test_project_picker_and_all_projects(two_projects) -> None:
    api = _run(project="api")
    assert api.selectbox(key="project").options == ["api", "web"]
    assert api.session_state["healthdeck_ctx"].summary["project"] == "api"
    assert "NO-GO" in api.error[0].value
    web = _run(project="web")
    assert web.session_state["healthdeck_ctx"].summary["project"] == "web"
    # web's only run fails the default checklist too (the real sample's ruff findings in prod lanes),
    # and its own: api's runs are no baseline for it
    banner = web.error[0].value
    assert (
        banner.startswith("### :material/block: NO-GO") and "no earlier run of main with coverage" in banner
    )
    # trends are the project's own runs: web's one run, api's two (never the three of the store)
    for at, runs in ((web, 1), (api, 2)):
        assert len(at.session_state["healthdeck_ctx"].runs) == runs
        assert trace_points([json.loads(c.proto.spec) for c in at.get("plotly_chart")]) == runs
    # a test's own history is its project's: KNOWN fails in every api run; web's store holds nothing of
    # it (it passed there, and the store keeps failures), which is said rather than guessed
    history = _run("tests", project="web", test=f"smoke::{KNOWN}")
    assert any(i.value.startswith("No failure and no recorded duration") for i in history.info)
    history = _run("tests", project="api", test=f"smoke::{KNOWN}")
    assert any(m.value.startswith("failing since") for m in history.markdown)
    every = _run("projects")
    [table] = [d.value for d in every.dataframe if "project" in d.value]
    assert list(table["verdict"]) == ["NO-GO", "NO-GO"]
    assert list(table["project"]) == ["api", "web"]  # worst first: the lower smoke pass rate
    web_summary = web.session_state["healthdeck_ctx"].summary
    # figures as the cards write them, counts with their separator, never "None"
    assert table["smoke pass rate"][1] == coverage_pc(web_summary["tests"]["smoke"]["pass_rate"] * 100, 2)
    assert table["coverage"][1] == coverage_pc(web_summary["coverage"]["percent"], 2)
    assert table["runs"].tolist() == ["2", "1"] and len(table["trend"][0]) == 2
    assert "None" not in table.astype(str).to_string()


# --- in a real browser, SQLite and PostgreSQL --------------------------------------------------


def test_browser_the_store_alone(three_runs, browser, shots, request) -> None:  # noqa: F811
    env = {"HEALTHDECK_HISTORY": three_runs, "HEALTHDECK_REPORT": str(Path.cwd() / "none" / "latest.json")}
    kind = request.node.callspec.params["store_url"]
    with streamlit(APP, env) as url:
        context = browser.new_context(viewport={"width": 1280, "height": 1600})
        page = context.new_page()
        try:
            page.goto(f"{url}/?window=all")
            ready(page)
            main = page.locator('[data-testid="stMain"]')
            assert "No report" not in main.inner_text()
            banner = main.locator('[data-testid="stAlertContentError"]').first.inner_text()
            assert "NO-GO" in banner and NEW.replace("\u200b", "") in banner.replace("\u200b", "")
            charts = main.locator('[data-testid="stPlotlyChart"]').count()
            page.screenshot(path=str(shots / f"store-only-{kind}.png"))
            page.goto(f"{url}/lint?window=all")
            ready(page)
            charts += main.locator('[data-testid="stPlotlyChart"]').count()
            assert charts >= 3
            page.goto(f"{url}/tests?window=all")
            ready(page)
            grid = page.locator('[data-testid="stMain"] [data-testid="stDataFrame"]').nth(failing_grid(page))
            grid.scroll_into_view_if_needed()  # the grid lists the cells it draws
            page.wait_for_timeout(300)
            cells = " ".join(grid.locator('[role="gridcell"]').all_inner_texts())
            assert NEW in cells and NEW_MESSAGE.split("(")[0] in cells
        finally:
            context.close()


def test_browser_all_projects_opens_the_clicked_project(two_projects, browser, shots) -> None:  # noqa: F811
    with streamlit(APP, {"HEALTHDECK_HISTORY": two_projects}) as url:
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        page = context.new_page()
        try:
            page.goto(f"{url}/projects")
            ready(page)
            grid = page.locator('[data-testid="stMain"] [data-testid="stDataFrame"]').first
            # the grid draws its rows after the script ends
            grid.locator('[role="row"]').nth(2).wait_for(state="attached")
            rows = grid.locator('[role="row"]').all_inner_texts()[1:]  # the grid's accessible rows
            assert rows[0].startswith("apiNO-GO99.67") and rows[1].startswith("webNO-GO100"), (
                rows
            )  # worst first
            page.screenshot(path=str(shots / "all-projects.png"))
            box = grid.bounding_box()
            page.mouse.click(box["x"] + 12, box["y"] + 35 + 35 + 17)  # the second row's selection cell: web
            page.wait_for_function("() => location.search.includes('project=web')", timeout=20_000)
            ready(page)
            page.get_by_role("link", name="Open web").click()
            page.wait_for_function("() => !location.pathname.includes('projects')", timeout=20_000)
            ready(page)
            assert page.get_by_role("heading", name="Release health").count() == 1
            assert "NO-GO" in page.locator('[data-testid="stAlertContentError"]').first.inner_text()
            assert "project=web" in page.url
        finally:
            context.close()


def test_coverage_trend_when_the_newest_run_lacks_it(store_url, artifacts, ci, tmp_path, monkeypatch) -> None:  # noqa: F811
    """The run where coverage went missing is when a lead most needs its trend: not "No coverage trend
    yet" beside a card that lists the last runs' coverage."""
    monkeypatch.chdir(_project(tmp_path / "checkout"))
    green = artifacts["green"]
    assert "--coverage" in green
    at = green.index("--coverage")
    for k, args in enumerate((green, green, green[:at] + green[at + 2 :]), 1):
        ci(k)
        assert main(["collect", "-q", "--history", store_url, *args]) == EXIT_OK
    monkeypatch.setenv("HEALTHDECK_HISTORY", store_url)
    overview = _run()
    shown = " ".join(m.value for m in (*overview.markdown, *overview.info, *overview.caption))
    assert "No coverage trend yet" not in shown and _charts(overview) >= 2


def test_a_branch_without_stored_reports(store_url, artifacts, ci, tmp_path, monkeypatch) -> None:  # noqa: F811
    """Runs recorded before reports were stored (or imported from console output) still have their
    figures: the branch's trends are drawn, and the page says why there is no verdict, not "run collect"."""
    from healthdeck.reports.history.store import open_store

    monkeypatch.chdir(_project(tmp_path / "checkout"))
    for k in (1, 2):
        ci(k)
        assert main(["collect", "-q", "--history", store_url, *artifacts["green"]]) == EXIT_OK
    store = open_store(store_url)
    newest = store.runs()[-1]
    for k in (3, 4):  # the same figures on another branch, without a report
        summary = {**newest.summary, "branch": "feature/old", "git_sha": f"{k:08x}", "ts": newest.ts + 60 * k}
        store.append(summary, run_key=f"imported:{k}", source="import-dir")
    store.close()
    monkeypatch.setenv("HEALTHDECK_HISTORY", store_url)
    for name in ("HEALTHDECK_REPORT", "HEALTHDECK_CONFIG", "HEALTHDECK_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # the dashboard host: the store alone, no report file
    overview = _run(branch="feature/old")
    shown = " ".join(m.value for m in (*overview.markdown, *overview.info, *overview.caption))
    assert "was recorded without its report" in shown and "feature/old" in shown
    assert "does not exist: run `healthdeck collect`" not in shown
    assert "No pass-rate trend yet" not in shown and _charts(overview) >= 2


def test_a_link_to_a_project_the_store_does_not_hold(three_runs) -> None:
    """A one-project store still says when a pasted link names another project, instead of silently
    showing its own."""
    overview = _run(project="nope")
    notices = [w.value for w in overview.warning]
    assert any(
        "The link asks for project `nope`, which this history store does not hold" in w for w in notices
    )

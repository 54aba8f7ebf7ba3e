"""The Tests page's triage on a real project's history (tests/triage_project.py): failures by cause,
their number over time, transitions, slower tests, and one test's own history — in AppTest and in
Chromium, where clicking a failing test opens its history."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from healthdeck.dashboard.triage_charts import duration_trend, outcome_strip
from tests import triage_project
from tests.services import streamlit
from tests.test_browser import APP, browser, ready, shots  # noqa: F401 - browser and shots are fixtures


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> dict:
    return triage_project.build(tmp_path_factory.mktemp("triage"))


def _env(project: dict) -> dict[str, str]:
    return {"HEALTHDECK_REPORT": str(project["report"]), "HEALTHDECK_HISTORY": project["history"],
            "HEALTHDECK_CONFIG": str(project["config"])}  # fmt: skip


def _tests_page(monkeypatch, project: dict, test: str | None = None) -> AppTest:
    import streamlit as st

    st.cache_data.clear()
    for key, value in _env(project).items():
        monkeypatch.setenv(key, value)
    at = AppTest.from_file(str(APP), default_timeout=60)
    if test:
        at.query_params["test"] = test
    at.run()
    at.switch_page("app_pages/tests.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_failures_by_cause_transitions_and_slower_tests(monkeypatch, project) -> None:
    report = json.loads(project["report"].read_text())
    unit = report["details"]["tests"]["unit"]
    at = _tests_page(monkeypatch, project)
    labels = [e.label for e in at.expander]
    # one expander per cause, largest first, with its exact count, category and new mark
    assert len(labels) == len(unit["causes"]) == 2
    assert labels[0].startswith(f"**{triage_project.DB_TESTS}** · ConnectionRefusedError")
    assert "infrastructure" in labels[0] and "new" not in labels[0]
    assert labels[1].startswith("**1** · ZeroDivisionError") and ":red-badge[new]" in labels[1]
    markdown = [m.value for m in at.markdown]
    assert "**unit: 7 failing tests, 2 causes**" in markdown
    metrics = {m.label: m.value for m in at.metric}
    moved = unit["transitions"]
    assert metrics == {"new failures": "1", "fixed": "3", "still failing": str(triage_project.DB_TESTS),
                       "flaky": "0"} == {k: str(moved[f"{key}_total"]) for k, key in
                                         zip(metrics, ("new", "fixed", "still_failing", "flaky"), strict=True)}  # fmt: skip
    assert any("1 test at least 2× slower" in m for m in markdown)
    assert any(
        d.value["test_id"].tolist() == ["test_app::test_slow"] for d in at.dataframe if "ratio" in d.value
    )
    assert [s.value for s in at.subheader if s.value.startswith("Failing tests")] == ["Failing tests (7)"]
    assert len(at.get("plotly_chart")) == 2  # pass rate and causes over time


def test_a_linked_test_shows_its_own_history(monkeypatch, project) -> None:
    shas = [sha[:8] for sha in project["shas"]]
    at = _tests_page(monkeypatch, project, "unit::test_app::test_db[0]")
    facts = next(m.value for m in at.markdown if m.value.startswith("failing since"))
    # broke in the second commit, passed last in the first
    assert (
        facts.startswith(f"failing since `{shas[1]}`")
        and f"last run where it did not fail: `{shas[0]}`" in facts
    )
    fixed = _tests_page(monkeypatch, project, "unit::test_app::test_lookup[user-4821]")
    facts = next(m.value for m in fixed.markdown if "did not fail" in m.value)
    assert (
        facts.startswith("not failing in the newest run")
        and f"last run where it did not fail: `{shas[3]}`" in facts
    )
    slow = _tests_page(monkeypatch, project, "unit::test_app::test_slow")
    assert len(slow.get("plotly_chart")) == 4  # pass rate, causes, the outcome strip and the durations
    # an id the store knows nothing of: no strip and no "did not fail" fact, which would be a guess
    unknown = _tests_page(monkeypatch, project, "unit::test_app::test_never_written")
    assert any(i.value.startswith("No failure and no recorded duration of this test") for i in unknown.info)
    assert not any("did not fail" in m.value for m in unknown.markdown)
    assert len(unknown.get("plotly_chart")) == 2  # the suite's charts only


def test_strip_and_duration_builders() -> None:
    runs = [{"ts": 1_700_000_000 + i, "sha": f"<b>{i}</b>", "outcome": o, "seconds": s}
            for i, (o, s) in enumerate([("passed", 0.3), ("failed", None), ("error", 0.7)])]  # fmt: skip
    strip = outcome_strip(runs)
    assert list(strip.data[0].marker.color) == ["#2da44e", "#cf222e", "#82071e"]
    assert all("<b>" not in x for x in strip.data[0].x)  # shas are labels, escaped
    durations = duration_trend(runs, 0.5)
    assert list(durations.data[0].y) == [0.3, None, 0.7]


@pytest.fixture(scope="module")
def triage_server(project):
    with streamlit(APP, _env(project)) as url:
        yield url


def test_browser_clicking_a_failing_test_opens_its_history(triage_server, browser, shots) -> None:  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 2400})
    page = context.new_page()
    try:
        page.goto(f"{triage_server}/tests")
        ready(page)
        main = page.locator('[data-testid="stMain"]')
        assert main.locator('[data-testid="stExpander"]').count() == 2
        assert main.get_by_text("History of one test").count() == 0
        grid = main.locator('[data-testid="stDataFrame"]').nth(failing_grid(page))
        box = grid.bounding_box()
        # the grid draws on a canvas: click the row-selection cell of the first data row
        page.mouse.click(box["x"] + 12, box["y"] + 35 + 17)
        page.wait_for_function("() => location.search.includes('test=')", timeout=20_000)
        ready(page)
        assert main.get_by_text("History of one test").count() == 1
        assert "failing since" in main.inner_text()
        page.screenshot(path=str(shots / "tests-triage.png"), full_page=True)
        linked = page.url
        page.goto(linked)  # the URL names the test: a pasted link opens the same history
        ready(page)
        assert main.get_by_text("History of one test").count() == 1
    finally:
        context.close()


def failing_grid(page) -> int:
    """The index of the failing-tests table among the page's dataframes (the one under its subheader)."""
    return page.evaluate("""() => {
        const grids = [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stDataFrame"]')];
        const head = [...document.querySelectorAll('h3')].find(h => h.textContent.startsWith('Failing tests'));
        return grids.findIndex(g => head.compareDocumentPosition(g) & Node.DOCUMENT_POSITION_FOLLOWING);
    }""")


def test_ten_thousand_failures_are_counted_exactly_on_every_page(monkeypatch, tmp_path) -> None:
    """The broken-fixture run (10 000 failures, 3 causes) as a lead opens it: the banner says NO-GO, the
    overview and the Tests page state 10 000 — never the 200 the report lists — and each cause its count."""
    import streamlit as st

    from healthdeck.reports.cli import main
    from tests.test_triage import broken_fixture

    xml = tmp_path / "junit.xml"
    xml.write_text(broken_fixture(), encoding="utf-8")
    out, config = tmp_path / "out", tmp_path / "pyproject.toml"
    config.write_text("[tool.healthdeck]\nsmoke_suite = 'unit'\n")
    history = f"sqlite:///{out / 'history.sqlite'}"
    args = ["--config", str(config), "--out", str(out), "--history", history]
    assert main(["collect", "-q", *args, "--junit", f"unit={xml}"]) in (0, 1)
    assert main(["gate", *args[:2], "--report", str(out / "latest.json"), "--history", history]) == 1
    st.cache_data.clear()
    for key, value in {"HEALTHDECK_REPORT": str(out / "latest.json"), "HEALTHDECK_HISTORY": history,
                       "HEALTHDECK_CONFIG": str(config)}.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    banner = at.error[0].value
    assert "NO-GO" in banner and "4 000 failed" in banner and "6 000 errors" in banner, banner
    assert [b.label for b in at.get("download_button")][1] == "Failures (CSV, first 200 of 10 000)"
    shown = " ".join(m.value for m in (*at.markdown, *at.caption))
    assert "200 failing" not in shown and "(200" not in shown
    at.switch_page("app_pages/tests.py").run()
    assert not at.exception, [e.value for e in at.exception]
    markdown = [m.value for m in at.markdown]
    assert "**unit: 10 000 failing tests, 3 causes**" in markdown
    assert [e.label.split(" · ")[0] for e in at.expander][:3] == ["**6 000**", "**3 000**", "**1 000**"]
    captions = [c.value for c in at.caption]
    assert any(c.startswith("10 000 failing tests — showing 200") for c in captions), captions
    assert [s.value for s in at.subheader if s.value.startswith("Failing tests")] == [
        "Failing tests (10 000)"
    ]

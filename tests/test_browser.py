"""The dashboard in a real browser: `streamlit run` on a free port, Debian's Chromium driven by
Playwright. Screenshots of every page land in $HEALTHDECK_SCREENSHOTS (CI: .ci-artifacts/screenshots)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from healthdeck.reports.demo import history as demo
from tests.services import require, streamlit

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]  # fmt: skip
PAGES = {"tests": "Tests", "coverage": "Coverage", "lint": "Lint", "guardian": "Guardian: permissive → strict",
         "review": "Release review"}  # fmt: skip


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("HEALTHDECK_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    config = demo.build(out, runs=12, progress=False)
    env = {"HEALTHDECK_REPORT": str(out / "latest.json"), "HEALTHDECK_HISTORY": f"sqlite:///{out / 'history.sqlite'}",
           "HEALTHDECK_CONFIG": str(config)}  # fmt: skip
    with streamlit(APP, env) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    chromium = require("chromium", "apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1400})
    page = context.new_page()
    yield page
    context.close()


def ready(page) -> None:
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=60_000)
    page.wait_for_timeout(300)  # let plotly finish drawing before a screenshot
    assert page.locator('[data-testid="stException"]').count() == 0


def test_overview(server, page, shots) -> None:
    page.goto(server)
    ready(page)
    banner = page.locator('[data-testid="stAlert"]').first
    assert any(word in banner.inner_text() for word in ("GO", "NO-GO", "INCOMPLETE"))
    assert page.locator('[data-testid="stMetric"]').count() == 4
    assert page.locator('[data-testid="stPlotlyChart"]').count() == 3
    page.screenshot(path=str(shots / "overview.png"))
    page.locator('[data-testid="stMain"]').screenshot(path=str(shots / "overview-full.png"))


def test_every_page(server, page, shots) -> None:
    for path, title in PAGES.items():
        page.goto(f"{server}/{path}")
        ready(page)
        assert page.get_by_role("heading", name=title).count() >= 1, path
        page.screenshot(path=str(shots / f"{path}.png"))


def _markers(page) -> int:
    return page.locator('[data-testid="stPlotlyChart"]').first.locator(".scatterlayer .point").count()


def test_a_filter_changes_the_url_and_the_content(server, page, shots) -> None:
    page.goto(f"{server}/?window=all")
    ready(page)
    before = _markers(page)
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').nth(1).click()
    page.get_by_role("option", name="7 days").click()
    ready(page)
    page.wait_for_function("() => location.search.includes('window=7')", timeout=20_000)
    assert "window=7" in page.url
    after = _markers(page)
    assert 0 < after < before
    page.screenshot(path=str(shots / "overview-7-days.png"))
    shared = page.url  # a link pasted into a release thread shows the same view
    page.goto(shared)
    ready(page)
    assert _markers(page) == after

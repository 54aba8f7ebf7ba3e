"""The dashboard in a real browser: `streamlit run` on a free port, Debian's Chromium driven by
Playwright. Screenshots land in $HEALTHDECK_SCREENSHOTS (CI: .ci-artifacts/screenshots).

Two stores: the demo's (12 runs) for every page, and one at CI volume (10 000 runs over 14 months on
two branches, release tags) for the aggregated trends, the branch default and a pasted review link.
Sign-in runs against a real OpenID Connect provider (npm `oidc-provider`) on 127.0.0.1.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from benchmarks.bench_dashboard import build as build_volume
from healthdeck.reports.demo import history as demo
from healthdeck.reports.history.store import open_store
from tests.services import free_port, require, streamlit, wait_http

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboard" / "app.py"
OIDC_SCRIPT = Path(__file__).parent / "oidc" / "provider.mjs"
OIDC_INSTALL = Path(os.environ.get("HEALTHDECK_OIDC_PROVIDER") or ROOT / ".ci-tools")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]  # fmt: skip
PAGES = {"tests": "Tests", "coverage": "Coverage", "lint": "Lint", "guardian": "Guardian: permissive → strict",
         "review": "Release review"}  # fmt: skip
VOLUME_RUNS = 10_000


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("HEALTHDECK_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _env(folder: Path, config: Path) -> dict:
    return {"HEALTHDECK_REPORT": str(folder / "latest.json"), "HEALTHDECK_HISTORY": f"sqlite:///{folder / 'history.sqlite'}",
            "HEALTHDECK_CONFIG": str(config)}  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    config = demo.build(out, runs=12, progress=False)
    with streamlit(APP, _env(out, config)) as url:
        yield url


@pytest.fixture(scope="module")
def volume(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("volume")
    build_volume(folder, VOLUME_RUNS)
    return folder


@pytest.fixture(scope="module")
def volume_server(volume):
    with streamlit(APP, _env(volume, volume / "pyproject.toml")) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    chromium = require("chromium", "apt-get install chromium", "google-chrome")
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


def ready(page, charts: int = 0) -> None:
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=60_000)
    if charts:
        page.wait_for_function(f"() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= {charts}",
                               timeout=60_000)  # fmt: skip
    page.wait_for_timeout(300)  # let plotly finish drawing before a screenshot
    assert page.locator('[data-testid="stException"]').count() == 0


def _trace_lengths(page) -> list[int]:
    """Points per trace of every plotly chart on the page, as the browser holds them."""
    return page.evaluate(
        "() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(g => g.data.map(t => (t.x || []).length))"
    )


def _query(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def test_overview(server, page, shots) -> None:
    page.goto(server)
    ready(page, charts=3)
    banner = page.locator('[data-testid="stAlert"]').first
    assert any(word in banner.inner_text() for word in ("GO", "NO-GO", "INCOMPLETE"))
    assert page.locator('[data-testid="stMetric"]').count() == 4
    assert page.locator('[data-testid="stPlotlyChart"]').count() == 3
    assert (
        page.locator('[data-testid="stDownloadButton"]').count() == 2
    )  # the report as Markdown, failures as CSV
    page.screenshot(path=str(shots / "overview.png"))
    page.locator('[data-testid="stMain"]').screenshot(path=str(shots / "overview-full.png"))


def test_the_downloads_hold_the_report_and_the_failures(server, page) -> None:
    """The Markdown is made on click (not on every rerun): what arrives is the whole report."""
    page.goto(server)
    ready(page)
    with page.expect_download() as made:
        page.locator('[data-testid="stDownloadButton"] button').first.click()
    markdown = Path(made.value.path()).read_text(encoding="utf-8")
    assert made.value.suggested_filename.endswith(".md") and markdown.startswith("# Health report — ")
    assert "## Tests" in markdown and "cannot be rendered" not in markdown
    with page.expect_download() as made:
        page.locator('[data-testid="stDownloadButton"] button').nth(1).click()
    assert Path(made.value.path()).read_text(encoding="utf-8").startswith("suite,test_id,outcome,status")


def test_every_page(server, page, shots) -> None:
    for path, title in PAGES.items():
        page.goto(f"{server}/{path}")
        ready(page)
        assert page.get_by_role("heading", name=title).count() >= 1, path
        page.screenshot(path=str(shots / f"{path}.png"))


def test_no_request_leaves_the_dashboard_host(server, page) -> None:
    """A lead's browser talks to the dashboard only: no icon, font or script from a CDN (on a locked-down
    host those fail, on an open one they tell a third party who looks at the release health)."""
    from urllib.parse import urlsplit

    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).hostname or request.url.split(":")[0]))
    for path in ("", *PAGES):
        page.goto(f"{server}/{path}")
        ready(page)
    assert hosts <= {urlsplit(server).hostname, "data", "blob"}, hosts


def test_overview_has_its_own_path(server, page, shots) -> None:
    """A pasted `/overview?…` link opens the overview at `/` with its filters, not Streamlit's "Page not
    found" dialog."""
    page.goto(f"{server}/overview?window=30d")
    ready(page, charts=3)
    assert page.get_by_role("heading", name="Release health").count() == 1
    assert page.get_by_role("dialog").count() == 0
    assert "not found" not in page.locator("body").inner_text().lower()
    assert _query(page).get("window") == "30d"
    page.screenshot(path=str(shots / "overview-path.png"))


def test_dark_theme(server, browser, shots) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 1400}, color_scheme="dark")
    page = context.new_page()
    page.goto(server)
    ready(page, charts=3)
    background = page.evaluate(
        "() => getComputedStyle(document.querySelector('[data-testid=\"stApp\"]')).backgroundColor"
    )
    channels = [int(c) for c in background.removeprefix("rgb(").removesuffix(")").split(",")[:3]]
    assert max(channels) < 80, background  # the system's dark preference is followed
    page.locator('[data-testid="stMain"]').screenshot(path=str(shots / "overview-dark.png"))
    context.close()


def _markers(page) -> int:
    return page.locator('[data-testid="stPlotlyChart"]').first.locator(".scatterlayer .point").count()


def test_a_filter_changes_the_url_and_the_content(server, page, shots) -> None:
    page.goto(f"{server}/?window=all")
    ready(page, charts=3)
    before = _markers(page)
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').nth(1).click()
    page.get_by_role("option", name="7 days").click()
    ready(page, charts=3)
    page.wait_for_function("() => location.search.includes('window=7d')", timeout=20_000)
    after = _markers(page)
    assert 0 < after < before
    page.screenshot(path=str(shots / "overview-7-days.png"))
    shared = page.url  # a link pasted into a release thread shows the same view
    assert {"branch", "window", "baseline", "view"} <= set(_query(page))
    page.goto(shared)
    ready(page, charts=3)
    assert _markers(page) == after


def test_every_filter_survives_page_changes(server, page) -> None:
    """Moving between pages in the sidebar keeps every filter in the URL, the trend toggle included (a
    widget whose key recurs on the next page loses its state there unless it is kept)."""
    page.goto(server)
    ready(page, charts=3)
    shared = ("branch", "window", "baseline", "view")  # the filters every trend page has
    start = {k: _query(page)[k] for k in shared}
    assert start["view"] in ("daily", "each run")
    for name in ("Tests", "Coverage", "Lint", "Overview", "Tests", "Lint"):
        page.locator('[data-testid="stSidebarNav"] a', has_text=name).first.click()
        ready(page)
        page.wait_for_function("() => location.search.includes('view=')", timeout=20_000)
        assert {k: _query(page).get(k) for k in shared} == start, name


def test_at_volume_main_by_default_and_daily_trends(volume_server, page, shots) -> None:
    page.goto(volume_server)
    ready(page, charts=2)
    query = _query(page)
    assert (query["branch"], query["window"], query["view"]) == ("main", "90d", "daily")
    branch = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"] input').first
    assert branch.input_value() == "main"
    lengths = _trace_lengths(page)
    assert lengths and max(lengths) <= 92  # 90 days (and today): one point per day, whatever the store holds
    # no per-run markers: at most one point a chart, the newest run (the figure its card shows)
    assert (
        page.locator(".scatterlayer .point").count() <= page.locator('[data-testid="stPlotlyChart"]').count()
    )
    assert page.locator(".js-plotly-plot .annotation-text", has_text="v1.").count() >= 3  # release tags
    page.locator('[data-testid="stMain"]').screenshot(path=str(shots / "volume-overview-90-days.png"))
    # the hover names the day, the number of runs and the worst run, in UTC
    plot = page.locator('[data-testid="stPlotlyChart"]').first.locator(".nsewdrag").first
    box = plot.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] / 2)
    hover = page.locator(".hoverlayer").first
    hover.locator("text").first.wait_for(timeout=10_000)
    text = hover.text_content()
    assert "runs" in text and "worst" in text and "UTC" in text, text
    page.locator('[data-testid="stMain"]').screenshot(path=str(shots / "volume-overview-hover.png"))


def test_at_volume_every_window_stays_readable(volume_server, page, shots) -> None:
    for window in ("1y", "all"):
        page.goto(f"{volume_server}/?window={window}")
        ready(page, charts=2)
        assert _query(page)["window"] == window
        assert max(_trace_lengths(page)) <= 500
        page.locator('[data-testid="stMain"]').screenshot(path=str(shots / f"volume-overview-{window}.png"))
    # all branches is one choice away; each run is one click away, and bounded too
    page.goto(f"{volume_server}/?branch=all+branches&view=each+run")
    ready(page, charts=2)
    assert _query(page)["branch"] == "all branches" and max(_trace_lengths(page)) <= 500
    page.locator('[data-testid="stMain"]').screenshot(path=str(shots / "volume-overview-each-run.png"))
    page.goto(f"{volume_server}/lint")
    ready(page, charts=2)
    assert max(_trace_lengths(page)) <= 500
    page.locator('[data-testid="stMain"]').screenshot(path=str(shots / "volume-lint.png"))


def test_a_pasted_review_link(volume, volume_server, page, shots) -> None:
    runs = open_store(f"sqlite:///{volume / 'history.sqlite'}").run_index(branch="main")
    candidate, base = runs[-100], runs[-2000]  # the baseline is far outside the default window
    page.goto(f"{volume_server}/review?candidate={candidate['run_key']}&base={base['run_key']}")
    ready(page)
    boxes = page.locator('[data-testid="stMain"] [data-testid="stSelectbox"] input')
    assert candidate["git_sha"][:8] in boxes.nth(0).input_value()
    assert base["git_sha"][:8] in boxes.nth(1).input_value()
    assert page.locator('[data-testid="stAlert"]', has_text="The link asks for").count() == 0
    query = _query(page)
    assert (query["candidate"], query["base"]) == (candidate["run_key"], base["run_key"])
    page.locator('[data-testid="stMain"]').screenshot(path=str(shots / "volume-review.png"))
    page.goto(f"{volume_server}/review?candidate=bench:gone")
    ready(page)
    assert page.locator('[data-testid="stAlert"]', has_text="bench:gone").count() == 1


@pytest.fixture(scope="module")
def oidc(tmp_path_factory):
    """A local OpenID Connect provider and a dashboard that requires sign-in through it."""
    node = require("node", "apt-get install nodejs")
    if not (OIDC_INSTALL / "node_modules" / "oidc-provider").is_dir():
        message = f"npm oidc-provider is not installed in {OIDC_INSTALL} (.ci/run installs it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("signin")
    out = folder / "demo"
    demo_config = demo.build(out, runs=3, progress=False)
    config = folder / "pyproject.toml"
    config.write_text(demo_config.read_text() + '\n[tool.healthdeck.dashboard]\nallowed_domains = ["example.com"]\n'
                      'allowed_groups = ["release-leads"]\n')  # fmt: skip
    provider_port, app_port = free_port(), free_port()
    redirect = f"http://127.0.0.1:{app_port}/oauth2callback"
    provider = subprocess.Popen([node, str(OIDC_SCRIPT), str(provider_port), redirect, str(OIDC_INSTALL)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    issuer = f"http://127.0.0.1:{provider_port}"
    secrets_toml = folder / "secrets.toml"
    secrets_toml.write_text(
        f'[auth]\nredirect_uri = "{redirect}"\ncookie_secret = "{secrets.token_hex(32)}"\nclient_id = "healthdeck"\n'
        f'client_secret = "test-secret"\nserver_metadata_url = "{issuer}/.well-known/openid-configuration"\n'
        # oidc-provider knows no prompt=select_account, Streamlit's default: ask for the login form
        'client_kwargs = { scope = "openid email profile groups", prompt = "login" }\n'
    )  # fmt: skip
    try:
        wait_http(f"{issuer}/.well-known/openid-configuration", timeout=30)
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true", "--server.port",
             str(app_port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
             "--browser.gatherUsageStats", "false", "--secrets.files", str(secrets_toml)],
            cwd=APP.parent, env={**os.environ, **_env(out, config)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_http(f"http://127.0.0.1:{app_port}/_stcore/health", timeout=60, expect=b"ok")
            yield f"http://127.0.0.1:{app_port}"
        finally:
            process.terminate()
            process.wait(timeout=20)
    finally:
        provider.terminate()
        provider.wait(timeout=20)


def _sign_in(page, app: str, login: str) -> None:
    page.goto(app)
    ready(page)
    assert page.locator('[data-testid="stMetric"]').count() == 0  # nothing shows before sign-in
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("input[name=login]", timeout=30_000)  # the provider's own login form
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "any")
    page.locator("button[type=submit]").click()
    page.wait_for_selector("button[type=submit]", timeout=30_000)  # consent
    page.locator("button[type=submit]").click()
    page.wait_for_url(f"{app}/**", timeout=30_000)
    ready(page)


def test_sign_in_lets_the_team_in(oidc, page, shots) -> None:
    _sign_in(page, oidc, "ann@example.com")
    page.wait_for_selector('[data-testid="stMetric"]', timeout=30_000)
    assert page.get_by_text("Signed in as ann@example.com").count() == 1
    page.locator('[data-testid="stMain"]').screenshot(path=str(shots / "signed-in.png"))


def test_sign_in_by_group(oidc, page) -> None:
    _sign_in(page, oidc, "lead@partner.org")  # not an allowed domain, but in the release-leads group
    page.wait_for_selector('[data-testid="stMetric"]', timeout=30_000)


def test_sign_in_keeps_others_out(oidc, page, shots) -> None:
    _sign_in(page, oidc, "mallory@evil.org")
    page.get_by_text("may not see this dashboard").wait_for(timeout=30_000)
    assert page.locator('[data-testid="stMetric"]').count() == 0
    page.screenshot(path=str(shots / "signed-in-not-allowed.png"))


def test_an_open_page_says_when_a_new_run_lands(tmp_path, page, shots) -> None:
    """A run recorded while the overview is open: the page's partial rerun notices it (here every second,
    `[tool.healthdeck.dashboard] recheck_seconds`), names its commit, and "Show it" loads it."""
    out = tmp_path / "demo"
    config = demo.build(out, runs=3, progress=False)
    config.write_text(config.read_text() + "\n[tool.healthdeck.dashboard]\nrecheck_seconds = 1\n")
    url = f"sqlite:///{out / 'history.sqlite'}"
    with streamlit(APP, _env(out, config)) as app:
        page.goto(app)
        ready(page, charts=3)
        page.wait_for_timeout(2_500)  # rechecks with nothing new say nothing
        assert page.get_by_text("A new run landed").count() == 0
        store = open_store(url)
        newest = store.latest()
        # a pull request's run is no news to the view of main
        store.append({**newest.summary, "ts": newest.ts + 30, "git_sha": "beadfeed", "git_sha_full": "beadfeed" * 5,
                      "branch": "feature/x", "project": newest.project}, report=store.report(newest))  # fmt: skip
        page.wait_for_timeout(2_500)
        assert page.get_by_text("A new run landed").count() == 0
        store.append({**newest.summary, "ts": newest.ts + 60, "git_sha": "f00dfeed", "git_sha_full": "f00dfeed" * 5,
                      "branch": "main",
                      "project": newest.project}, report=store.report(newest))  # fmt: skip
        store.close()
        notice = page.get_by_text("A new run landed")
        notice.wait_for(timeout=30_000)
        assert "f00dfeed" in page.locator('[data-testid="stAlert"]', has_text="A new run landed").inner_text()
        page.screenshot(path=str(shots / "new-run-notice.png"))
        page.get_by_role("button", name="Show it").click()
        ready(page, charts=3)
        page.wait_for_timeout(2_500)
        assert page.get_by_text("A new run landed").count() == 0  # the page now shows it

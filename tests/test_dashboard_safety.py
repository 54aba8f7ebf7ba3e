"""No markup from artifacts: test ids, messages, Guardian tenants, rule ids and etags are shown as
text on every dashboard page, in AppTest and in a real browser that would fetch an injected image."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from healthdeck.dashboard.charts import deny_delta, label, top_bars
from healthdeck.dashboard.context import uses_guardian
from healthdeck.dashboard.text import md_prose
from healthdeck.dashboard.widgets import md
from tests import crafted
from tests.services import streamlit
from tests.test_browser import APP, browser, ready, shots  # noqa: F401 - browser and shots are fixtures

PAGES = ["overview", "tests", "coverage", "lint", "guardian", "review"]
HOSTILE = [
    crafted.IMAGE_ID, crafted.LINK_ID, crafted.EMPHASIS_ID, crafted.GREEN_ID, crafted.TENANT, crafted.RULE,
    crafted.ETAG, crafted.ACTION, crafted.TERMINAL, "line\n\n### GO\n===", "<img src=x onerror=alert(1)>",
    "see www.evil.example or mail a@evil.example", "$x^2$ ~~gone~~ | a | b |", "# 1. - > + !", "``a`b```",
    "`lead", "trail`", "tests/test_a.py::test_b[x:y]", "\u202eevil\u202c", "back\\slash",
]  # fmt: skip
PUNCTUATION = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
ZWSP = "\u200b"


def _unescape(text: str) -> str:
    """What a Markdown reader shows for md()'s prose: every backslash escape resolved."""
    return re.sub(r"\\(.)", r"\1", text).replace(ZWSP, "")


def _visible(raw: str) -> str:
    """The raw text as md() shows it: no terminal codes or controls, one line."""
    no_ansi = re.sub(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])?", "", raw)
    return " ".join(re.sub(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e]", "", no_ansi).split())


@pytest.mark.parametrize("raw", HOSTILE)
def test_md_prose_escapes_every_special_and_reads_back_the_same(raw: str) -> None:
    out = md(raw)
    assert "\n" not in out and "\x1b" not in out and "\u202e" not in out
    # every ASCII punctuation mark is escaped, so no Markdown construct can start
    unescaped = re.sub(r"\\.", "", out)
    assert not PUNCTUATION & set(unescaped), out
    # links, e-mail addresses and :shortcodes: that Streamlit finds after escapes are broken
    shown = re.sub(r"\\(.)", r"\1", out)
    assert not re.search(r"(?i)https?://|(?<![\w\u200b])www\.|\w@\w|:[a-z]", shown), shown
    assert _unescape(out) == _visible(raw)


@pytest.mark.parametrize("raw", HOSTILE)
def test_md_code_is_one_span_the_content_cannot_close(raw: str) -> None:
    out = md(raw, code=True)
    fence = re.match(r"`+", out).group(0)
    assert out.endswith(fence)
    inner = out[len(fence) : -len(fence)]
    assert all(len(run) < len(fence) for run in re.findall(r"`+", inner))
    assert inner.strip(" ").replace(":" + ZWSP, ":") == _visible(raw)
    assert "\n" not in out and "\x1b" not in out


@pytest.mark.parametrize("raw", HOSTILE)
def test_md_prose_of_a_detail_keeps_its_code_spans_and_nothing_else(raw: str) -> None:
    """A condition's detail is healthdeck's wording around values from artifacts (a suite name, a path):
    its own `...` spans show as code; a value holding backticks cannot open markup outside a code span."""
    detail = f"no {raw} results; give `healthdeck collect --junit unit=PATH` or set `x = false`"
    out = md_prose(detail)
    if raw.count("`") % 2:  # an odd backtick: no span can be trusted, all of it is escaped prose
        assert out == md(detail)
        return
    assert out.endswith(" or set `x = false`") and "`healthdeck collect --junit unit=PATH`" in out
    outside = re.sub(r"(`+)(?:(?!\1).)*?\1", "", out)  # what is left outside the code spans
    assert not PUNCTUATION & set(re.sub(r"\\.", "", outside)), outside
    assert "\n" not in out and "\x1b" not in out


def test_md_shortens_before_escaping() -> None:
    out = md("*" * 500, limit=10)
    assert out == "\\*" * 9 + "…"


def test_chart_labels_are_text_not_html() -> None:
    assert (
        label('<a href="https://evil.example/">x</a> & <b>')
        == '&lt;a href="https://evil.example/"&gt;x&lt;/a&gt; &amp; &lt;b&gt;'
    )
    fig = top_bars([crafted.ACTION], [3], "<b>title</b>")
    assert "<a" not in fig.data[0].y[0] and "<b>" not in fig.layout.title.text
    rows = {
        crafted.ACTION: {"would_deny": 0, "denied": 1, "would_deny_per_1000": 0.0, "denied_per_1000": 1.0}
    }
    fig = deny_delta(rows, "action", {crafted.ACTION})
    assert all("<a" not in x and "<b>" not in x for trace in fig.data for x in trace.x)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> dict[str, Path]:
    return crafted.build(tmp_path_factory.mktemp("crafted"))


def _env(project: dict[str, Path]) -> dict[str, str]:
    return {"HEALTHDECK_REPORT": str(project["report"]), "HEALTHDECK_HISTORY": f"sqlite:///{project['history']}",
            "HEALTHDECK_CONFIG": str(project["config"])}  # fmt: skip


def _markdown_sinks(at: AppTest) -> list[str]:
    texts = [e.value for kind in ("markdown", "error", "warning", "info", "success", "caption", "subheader")
             for e in getattr(at, kind)]  # fmt: skip
    texts += [m.label for m in at.metric] + [m.help or "" for m in at.metric]
    return texts


def test_every_page_escapes_what_the_artifacts_say(monkeypatch, project) -> None:
    import streamlit as st

    st.cache_data.clear()
    for key, value in _env(project).items():
        monkeypatch.setenv(key, value)
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    seen = []
    for page in _pages(at):
        at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, (page, [e.value for e in at.exception])
        for text in _markdown_sinks(at):
            prose = re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", text)  # code spans are shown verbatim
            assert not re.search(r"(?<!\\)(!\[|\]\(|<b>|<a |:green\[)", prose), (page, text)
            assert "\x1b" not in text and str(project["report"].parent.parent) not in text, (page, text)
            seen.append(text)
    banner = next(t for t in seen if "NO-GO" in t)
    assert md(f"c::t[{crafted.IMAGE_ID}]") in banner and md(f"c::t[{crafted.EMPHASIS_ID}]") in banner


# --- in a real browser -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def crafted_server(project):
    with streamlit(APP, _env(project)) as url:
        yield url


@pytest.fixture
def watched(browser):  # noqa: F811 - the fixture imported above
    """A page that records every request it makes."""
    context = browser.new_context(viewport={"width": 1280, "height": 1400})
    page = context.new_page()
    page.requests = []
    page.on("request", lambda request: page.requests.append(request.url))
    yield page
    context.close()


def _text(locator) -> str:
    return locator.inner_text().replace(ZWSP, "")


def _no_leak(page, base: str) -> None:
    page.wait_for_timeout(500)  # an injected <img> would have been requested by now
    # Streamlit itself fetches the page icon (a Material symbol) from Google's font host; nothing else
    # may leave the page, and above all nothing the artifacts name.
    outside = [
        url for url in page.requests if not url.startswith((base, "data:", "https://fonts.gstatic.com/"))
    ]
    assert outside == [], outside
    main = page.locator('[data-testid="stMain"]')
    assert main.locator('a[href*="evil.example"], a[href*="127.0.0.2"], img[src*="127.0.0.2"]').count() == 0
    assert main.locator("svg a").count() == 0  # plotly turns <a href> in a label into a link


def test_browser_overview_shows_crafted_ids_as_text(crafted_server, watched, shots) -> None:  # noqa: F811
    watched.goto(crafted_server)
    ready(watched)
    _no_leak(watched, crafted_server)
    banner = watched.locator('[data-testid="stAlertContentError"]').first
    text = _text(banner)
    assert "NO-GO" in text
    for test_id in crafted.IDS:
        assert f"c::t[{test_id}]" in text, test_id
    # no emphasis, link, image or coloured text from the ids (the heading's own anchor is "#...")
    assert banner.locator('em, a:not([href^="#"]), img, .stMarkdownColoredText').count() == 0
    # the only icons in a NO-GO banner are the verdict's and the failed or unknown conditions'
    icons = banner.locator('[role="img"]').evaluate_all("els => els.map(e => e.textContent)")
    assert set(icons) <= {"block", "close", "question_mark"}, icons
    watched.screenshot(path=str(shots / "crafted-overview.png"))


def test_browser_guardian_shows_tenants_rules_and_etags_as_text(crafted_server, watched, shots) -> None:  # noqa: F811
    watched.goto(f"{crafted_server}/guardian?guardian_dim=action")
    ready(watched)
    _no_leak(watched, crafted_server)
    main = watched.locator('[data-testid="stMain"]')
    errors = _text(main.locator('[data-testid="stAlertContentError"]').first)
    assert crafted.RULE in errors and "![t](http://127.0.0.2:9/tenant.png)" in errors
    warnings = " ".join(_text(w) for w in main.locator('[data-testid="stAlertContentWarning"]').all())
    assert crafted.ETAG in warnings
    assert "permissive.jsonl line" in warnings and "/permissive.jsonl" not in warnings  # no server paths
    ticks = " ".join(
        t.text_content() for t in main.locator('[data-testid="stPlotlyChart"] .xtick text').all()
    )
    assert '<a href="https://evil.example/phish">x</a> <b>y</b>' in ticks
    main.screenshot(path=str(shots / "crafted-guardian.png"))


def test_browser_tests_page_has_no_links_from_messages(crafted_server, watched) -> None:
    watched.goto(f"{crafted_server}/tests")
    ready(watched)
    _no_leak(watched, crafted_server)


def _pages(at: AppTest) -> list[str]:
    """The pages the dashboard lists: Guardian's only for a project that uses Guardian."""
    return [p for p in PAGES if p != "guardian" or uses_guardian(at.session_state["healthdeck_ctx"])]

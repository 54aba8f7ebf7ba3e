"""healthdeck dashboard: `healthdeck dashboard`, or `streamlit run dashboard/app.py`.

This script checks who may look (optional sign-in), draws the filters the selected page uses, loads
the data once per rerun (cached), says what could not be read, and hands the context to the page
through the session, so every page of one session sees the same view.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from healthdeck.dashboard import auth, context, data, links
from healthdeck.dashboard.widgets import data_state, history_said, new_run_notice

# A local icon: a Material or emoji icon is fetched from a CDN by every viewer's browser.
st.set_page_config(
    page_title="healthdeck", page_icon=str(Path(__file__).with_name("icon.png")), layout="wide"
)
# A narrow window (a laptop with the sidebar open, 800 px) cut the KPI cards' figures to "99…": the
# figures wrap and shrink with the window instead, since the verdict rests on them. Static CSS only.
st.html(
    "<style>"
    '[data-testid="stMetricValue"] > div, [data-testid="stMetricLabel"] p, [data-testid="stMetricDelta"] > div'
    " {white-space: normal !important; overflow: visible !important; text-overflow: clip !important;"
    " overflow-wrap: break-word;}"
    '[data-testid="stMetricValue"] {font-size: clamp(1.25rem, 2.6vw, 2.25rem);}'
    # columns narrower than a card or a readable chart wrap onto the next row instead of squeezing
    '[data-testid="stHorizontalBlock"] {flex-wrap: wrap;}'
    '[data-testid="stColumn"] {min-width: min(190px, 100%);}'
    "</style>"
)
SOURCE = data.source()
REPORT = context.report_for_pages(SOURCE)


def _overview_link() -> None:
    """`/overview`: answered in the entry script below, before any page runs."""


OVERVIEW = st.Page(
    "app_pages/overview.py", title="Overview", icon=":material/monitor_heart:", url_path="home", default=True
)
PAGES = [
    OVERVIEW,
    # Streamlit serves the default page at `/` only and answers `/overview` with a "Page not found"
    # dialog; this hidden page takes a pasted `/overview?…` link to `/` with its filters.
    st.Page(_overview_link, title="Overview", url_path="overview", visibility="hidden"),
    st.Page("app_pages/tests.py", title="Tests", icon=":material/science:", url_path="tests"),
    st.Page("app_pages/coverage.py", title="Coverage", icon=":material/shield:", url_path="coverage"),
    st.Page("app_pages/lint.py", title="Lint", icon=":material/cleaning_services:", url_path="lint"),
    *(
        [st.Page("app_pages/guardian.py", title="Guardian", icon=":material/policy:", url_path="guardian")]
        if context.guardian_used(REPORT, SOURCE.config)
        else []
    ),
    st.Page("app_pages/review.py", title="Release review", icon=":material/fact_check:", url_path="review"),
    st.Page("app_pages/projects.py", title="All projects", icon=":material/apps:", url_path="projects"),
]
# The sidebar filters each page's view depends on; each lives in the URL (links.py).
FILTERS = {"guardian": (), "review": ("branch", "window"), "projects": ()}

if auth.allowed():
    page = st.navigation(PAGES)
    if page.url_path == "overview":
        st.switch_page(OVERVIEW, query_params=st.query_params.to_dict())
    name = page.url_path or "overview"
    filters = FILTERS.get(name, ("branch", "window", "baseline"))
    links.notice_area()
    ctx = context.build(filters)
    st.session_state["healthdeck_ctx"] = ctx
    data_state(ctx)
    auth.sign_out_button()
    with history_said():  # a row of a shared store that no healthdeck wrote so: said, not a crash
        new_run_notice(ctx)
        page.run()
    data.read_the_rest()  # the page has painted: all time in the background, for the next click

"""healthdeck dashboard: `healthdeck dashboard`, or `streamlit run dashboard/app.py`.

This script loads the data once per rerun (cached), draws the shared filters, and hands the context
to the selected page through the session, so every page of one session sees the same view.
"""

from __future__ import annotations

import streamlit as st

from healthdeck.dashboard import context

st.set_page_config(page_title="healthdeck", page_icon=":material/monitor_heart:", layout="wide")
st.session_state["healthdeck_ctx"] = context.build()
PAGES = [
    st.Page(
        "app_pages/overview.py",
        title="Overview",
        icon=":material/monitor_heart:",
        url_path="overview",
        default=True,
    ),
    st.Page("app_pages/tests.py", title="Tests", icon=":material/science:", url_path="tests"),
    st.Page("app_pages/coverage.py", title="Coverage", icon=":material/shield:", url_path="coverage"),
    st.Page("app_pages/lint.py", title="Lint", icon=":material/cleaning_services:", url_path="lint"),
    *(
        [st.Page("app_pages/guardian.py", title="Guardian", icon=":material/policy:", url_path="guardian")]
        if context.uses_guardian(st.session_state["healthdeck_ctx"])
        else []
    ),
    st.Page("app_pages/review.py", title="Release review", icon=":material/fact_check:", url_path="review"),
    st.Page("app_pages/projects.py", title="All projects", icon=":material/apps:", url_path="projects"),
]
st.navigation(PAGES).run()

"""The coverage page (registered by dashboard/app.py)."""

import streamlit as st

from healthdeck.dashboard.views import coverage_page

coverage_page.render(st.session_state["healthdeck_ctx"])

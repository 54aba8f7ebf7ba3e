"""The lint page (registered by dashboard/app.py)."""

import streamlit as st

from healthdeck.dashboard.views import lint_page

lint_page.render(st.session_state["healthdeck_ctx"])

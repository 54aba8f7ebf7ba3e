"""The tests page (registered by dashboard/app.py)."""

import streamlit as st

from healthdeck.dashboard.views import tests_page

tests_page.render(st.session_state["healthdeck_ctx"])

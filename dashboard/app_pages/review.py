"""The review page (registered by dashboard/app.py)."""

import streamlit as st

from healthdeck.dashboard.views import review_page

review_page.render(st.session_state["healthdeck_ctx"])

"""The guardian page (registered by dashboard/app.py)."""

import streamlit as st

from healthdeck.dashboard.views import guardian_page

guardian_page.render(st.session_state["healthdeck_ctx"])

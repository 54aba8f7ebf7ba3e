"""The overview page (registered by dashboard/app.py)."""

import streamlit as st

from healthdeck.dashboard.views import overview

overview.render(st.session_state["healthdeck_ctx"])

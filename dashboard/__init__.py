"""Streamlit dashboard for leads (reads reports and history only)."""

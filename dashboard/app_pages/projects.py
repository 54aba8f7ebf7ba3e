"""All projects: one row per project of the shared store, worst first, for leads."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from healthdeck.dashboard import data, portfolio
from healthdeck.dashboard.context import Ctx
from healthdeck.dashboard.widgets import FIGURE_TEXT, counted, dataframe, md, missing
from healthdeck.reports.render.md import coverage_pc, plural


@st.cache_data(show_spinner=False, max_entries=16)
def _rows(url: str, version: str, _config: object) -> list[portfolio.ProjectRow]:
    return portfolio.project_rows(data.store(url), _config)


def render(ctx: Ctx) -> None:
    st.title("All projects")
    if ctx.history_error:
        return  # the page's header already says the store cannot be read
    if not ctx.src.history_exists:
        missing(
            "shared history",
            "Point the dashboard at a history store (`HEALTHDECK_HISTORY`) that CI writes to.",
        )
        return
    rows = _rows(ctx.src.history, ctx.version, data.source().config)
    if not rows:
        missing("runs", "The history store holds no run yet: rows appear after `healthdeck collect`.")
        return
    frame = pd.DataFrame([{
        "project": r.project or "(no project)", "verdict": r.verdict,
        # never "100.00 %" while a test failed (the cards' rounding)
        "smoke pass rate": coverage_pc(r.pass_rate, 2),
        "coverage": "not measured" if r.coverage is None else coverage_pc(r.coverage, 2),
        "ruff (prod lanes)": "not measured" if r.ruff_prod is None else counted(r.ruff_prod),
        "last run": datetime.fromtimestamp(r.last_run_ts, UTC), "runs": counted(r.runs), "trend": r.spark,
        "smoke suite": r.smoke_suite,
    } for r in rows])  # fmt: skip
    st.caption(f"{plural(len(rows), 'project')}, worst first: NO-GO, then INCOMPLETE, then not gated, then GO; "
               "within each, the lowest smoke pass rate first. Click a row to pick that project for every page.")  # fmt: skip
    dataframe(
        frame, hide_index=True, on_select=lambda: _open(rows), selection_mode="single-row", key="project_pick",
        # the trend beside the pass rate it draws: last, it was the column a laptop's width cut off
        column_order=["project", "verdict", "smoke pass rate", "trend", "coverage", "ruff (prod lanes)", "last run",
                      "runs", "smoke suite"],
        column_config={
            "smoke pass rate": FIGURE_TEXT, "coverage": FIGURE_TEXT, "ruff (prod lanes)": FIGURE_TEXT, "runs": FIGURE_TEXT,
            "last run": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm z"),
            # each row on its own scale (98-99.7 % on 0-100 % is a flat line); green rising, red falling, grey
            # level at the two decimals shown (portfolio rounds the points)
            "trend": st.column_config.LineChartColumn(
                "pass-rate trend", color="auto",
                help="Each project's last runs on its own scale: the shape, not the level (see the pass rate)",
            ),
        },
    )  # fmt: skip
    chosen = st.session_state.get("project")
    if chosen and any(r.project == chosen for r in rows):
        # st.switch_page cannot be used: it clears the URL's parameters, which the filters are bound to.
        st.page_link("app_pages/overview.py", label=f"Open {md(chosen)}", icon=":material/arrow_forward:",
                     query_params={"project": chosen})  # fmt: skip


def _open(rows: list[portfolio.ProjectRow]) -> None:
    """A row was clicked: pick that project in the sidebar (its state is set before the picker is drawn)."""
    picked = st.session_state["project_pick"].selection.rows
    if picked and rows[picked[0]].project is not None:
        st.session_state["project"] = rows[picked[0]].project


render(st.session_state["healthdeck_ctx"])

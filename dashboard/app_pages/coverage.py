"""Coverage: total and per lane over time, the lowest files, the biggest drops versus the baseline."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from healthdeck.dashboard import charts, data
from healthdeck.dashboard.context import Ctx
from healthdeck.dashboard.widgets import (
    FIGURE_TEXT,
    counted,
    dataframe,
    md,
    missing,
    mixed_coverage_note,
    run_shown,
    trend_chart,
    trends,
)
from healthdeck.reports.failures import number
from healthdeck.reports.gate import comparable_coverage
from healthdeck.reports.render.md import display_covered

PERCENT = st.column_config.NumberColumn(format="%.2f %%")
POINTS = st.column_config.NumberColumn(format="%+.2f pts")


def render(ctx: Ctx) -> None:
    st.title("Coverage")
    cov = ctx.summary.get("coverage")
    if not cov or cov.get("percent") is None:
        missing("coverage", "Give coverage.py XML/JSON/.coverage to `healthdeck collect --coverage`.")
        return
    lanes = list(ctx.src.config.lanes)
    run_shown(ctx, "Tables")
    if ctx.history_ok:

        def draw(view: charts.View) -> None:
            columns = {
                "coverage.percent": "total",
                **{f"coverage.lanes.{lane}.percent": lane for lane in lanes},
            }
            trend_chart(ctx, "coverage", "coverage_trend", columns, view, ("total", "coverage", "%", 1), "cov_trend",
                        lanes=tuple(lanes), target=ctx.src.config.gates.coverage_min, scope=ctx.scope)  # fmt: skip
            mixed_coverage_note(ctx)

        trends(ctx, draw)
    st.caption(
        "coverage = (covered statements + covered branches) ÷ (statements + branches), as coverage.py says."
    )
    files = pd.DataFrame(ctx.details.get("coverage", {}).get("files", []))
    total = ctx.details.get("coverage", {}).get("files_total") or len(files)
    if total > len(files):
        st.caption(f"Per-file figures for the {number(len(files))} lowest-covered of {number(total)} files "
                   "(coverage_files_listed).")  # fmt: skip
    left, right = st.columns(2)
    with left:
        st.subheader("Lowest coverage")
        # a fully covered file is no "lowest" (as coverage.py's skip_covered)
        partial = files[(files["statements"] > 0) & (files["percent"] < 100)] if len(files) else files
        if len(files) and partial.empty:
            st.caption("Every measured file is fully covered.")
        elif len(partial):
            lowest = partial.sort_values("percent").head(15)
            precision = ctx.src.config.coverage_precision
            # in no lane: not a grey "None"; a percent as coverage.py shows it (99.996 reads 99.99, not 100.00)
            lowest = lowest.assign(lane=lowest["lane"].fillna("—"),
                                   percent=[float(display_covered(v, precision)) for v in lowest["percent"]],
                                   statements=[counted(v) for v in lowest["statements"]])  # fmt: skip
            dataframe(lowest[["percent", "path", "statements", "lane"]], hide_index=True,
                         # blue, not the theme's primary red: a bar's length is the figure, not a failure
                         column_config={"percent": st.column_config.ProgressColumn(
                                            min_value=0, max_value=100, format=f"%.{precision}f %%", color="blue"),
                                        "statements": FIGURE_TEXT})  # fmt: skip
    with right:
        st.subheader("Biggest drops vs baseline")
        if ctx.baseline is None or not len(files):
            missing("baseline", "Drops need an earlier run in the history (see the Baseline filter).")
            return
        base_cov = ctx.baseline.summary.get("coverage") or {}
        measure, _ = comparable_coverage(cov, base_cov)
        # per-file figures are stored as each run measured them: with branches on one side only, not like for like
        if bool(cov.get("branch_measured")) != bool(
            base_cov.get("branch_measured", cov.get("branch_measured"))
        ):
            st.caption(f"Per-file changes are not shown: the two runs measured coverage differently, so only "
                       f"{measure} compares (the overview's coverage change).")  # fmt: skip
            return
        base = data.load_run_metrics(ctx.src.history, ctx.version, ctx.baseline.id)
        files["baseline"] = files["path"].map(lambda p: base.get(f"coverage.file.{p}"))
        files["change"] = files["percent"] - files["baseline"]
        drops = files.dropna(subset=["change"]).sort_values("change").head(15)
        drops = drops[drops["change"] < 0]
        if len(drops):
            dataframe(drops[["change", "path", "baseline", "percent"]], hide_index=True,
                         column_config={"change": POINTS, "baseline": PERCENT, "percent": PERCENT})  # fmt: skip
        else:
            st.success(
                f"No file lost coverage since {md(ctx.baseline.short_sha or ctx.baseline.run_key, code=True)}."
            )


render(st.session_state["healthdeck_ctx"])

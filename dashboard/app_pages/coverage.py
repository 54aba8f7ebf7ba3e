"""Coverage: total and per lane over time, the lowest files, the biggest drops versus the baseline."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from healthdeck.dashboard import charts, data
from healthdeck.dashboard.context import Ctx
from healthdeck.dashboard.widgets import md, missing


def render(ctx: Ctx) -> None:
    st.title("Coverage")
    cov = ctx.summary.get("coverage")
    if not cov or cov.get("percent") is None:
        missing("coverage", "Give coverage.py XML/JSON/.coverage to `healthdeck collect --coverage`.")
        return
    lanes = list(ctx.src.config.lanes)
    if len(ctx.runs):
        frame = ctx.metric_trend(
            {"coverage.percent": "total", **{f"coverage.lanes.{lane}.percent": lane for lane in lanes}}
        )
        st.plotly_chart(
            charts.coverage_trend(frame, lanes, ctx.src.config.gates.coverage_min), key="cov_trend"
        )
    st.caption(
        "coverage = (covered statements + covered branches) ÷ (statements + branches), as coverage.py says."
    )
    files = pd.DataFrame(ctx.details.get("coverage", {}).get("files", []))
    left, right = st.columns(2)
    with left:
        st.subheader("Lowest coverage")
        if len(files):
            lowest = files[files["statements"] > 0].sort_values("percent").head(15)
            st.dataframe(lowest[["path", "lane", "percent", "statements"]], hide_index=True,
                         column_config={"percent": st.column_config.ProgressColumn(min_value=0, max_value=100,
                                                                                   format="%.1f %%")})  # fmt: skip
    with right:
        st.subheader("Biggest drops vs baseline")
        if ctx.baseline is None or not len(files):
            missing("baseline", "Drops need an earlier run in the history (see the Baseline filter).")
            return
        base = data.store(ctx.src.history).metrics_of(ctx.baseline.id)
        files["baseline"] = files["path"].map(lambda p: base.get(f"coverage.file.{p}"))
        files["change"] = files["percent"] - files["baseline"]
        drops = files.dropna(subset=["change"]).sort_values("change").head(15)
        drops = drops[drops["change"] < 0]
        if len(drops):
            st.dataframe(drops[["path", "baseline", "percent", "change"]], hide_index=True,
                         column_config={c: st.column_config.NumberColumn(format="%.2f") for c in
                                        ("baseline", "percent", "change")})  # fmt: skip
        else:
            st.success(
                f"No file lost coverage since {md(ctx.baseline.short_sha or ctx.baseline.run_key, code=True)}."
            )


render(st.session_state["healthdeck_ctx"])

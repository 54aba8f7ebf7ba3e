"""Lint: ruff total and per rule over time, top rules now, prod lanes versus the rest, compileall."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from healthdeck.dashboard import charts
from healthdeck.dashboard.context import Ctx
from healthdeck.dashboard.widgets import missing

TOP_RULES = 8


def render(ctx: Ctx) -> None:
    st.title("Lint")
    ruff = ctx.summary.get("ruff")
    if not ruff:
        missing(
            "ruff results", "Give `ruff check --output-format json` output to `healthdeck collect --ruff`."
        )
    else:
        rules = list(ruff["stats"])[:TOP_RULES]
        if len(ctx.runs):
            columns = {f"ruff.rule.{r}": r for r in rules}
            frame = ctx.metric_trend({"ruff.total": "total", **columns})
            frame["other"] = (frame["total"] - frame[rules].fillna(0).sum(axis=1)).clip(lower=0)
            st.plotly_chart(charts.ruff_trend(frame, [*rules, "other"]), key="ruff_trend")
        left, right = st.columns(2)
        with left:
            names = ctx.details.get("ruff", {}).get("names", {})
            top = list(ruff["stats"].items())[:15]
            st.plotly_chart(charts.top_bars([f"{c} {names.get(c, '')}" for c, _ in top], [n for _, n in top],
                                            "Top rules now"), key="ruff_top")  # fmt: skip
        with right:
            lanes = ruff["count"].get("lanes")
            prod = ctx.src.config.prod_lanes
            if lanes is None:
                missing(
                    "per-lane counts",
                    "ruff statistics do not say where; use `ruff check --output-format json`.",
                )
            else:
                in_prod = sum(v for k, v in lanes.items() if k in prod)
                rows = [{"lane": k, "prod": k in prod, "findings": v} for k, v in lanes.items()]
                rows.append(
                    {
                        "lane": "(outside every lane)",
                        "prod": False,
                        "findings": ruff["count"]["total"] - sum(lanes.values()),
                    }
                )
                st.metric("ruff findings in prod lanes", in_prod, border=True)
                st.dataframe(pd.DataFrame(rows), hide_index=True)
    st.subheader("Compile (compileall)")
    comp = ctx.summary.get("compileall")
    if not comp:
        missing(
            "compileall output", "Give `python -m compileall -q` output to `healthdeck collect --compileall`."
        )
        return
    failures = ctx.details.get("compileall", {}).get("failures", [])
    st.metric("files failing to compile", comp["failures"], border=True)
    if failures:
        st.dataframe(pd.DataFrame(failures), hide_index=True)
    if len(ctx.runs) and "compileall.failures" in ctx.metrics:
        st.plotly_chart(charts.count_trend(ctx.metric_trend({"compileall.failures": "failures"}), ["failures"],
                                           "compileall failures", "files"), key="compile_trend")  # fmt: skip


render(st.session_state["healthdeck_ctx"])

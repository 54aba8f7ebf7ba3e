"""Lint: ruff total and per rule over time, top rules now, prod lanes versus the rest, compileall."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from healthdeck.dashboard import charts
from healthdeck.dashboard.context import Ctx
from healthdeck.dashboard.widgets import (
    FIGURE_TEXT,
    chart,
    counted,
    dataframe,
    missing,
    run_shown,
    trend_chart,
    trends,
)
from healthdeck.reports.config import ruff_in_prod
from healthdeck.reports.failures import number
from healthdeck.reports.render.md import located

TOP_RULES = 8


def render(ctx: Ctx) -> None:
    st.title("Lint")
    ruff = ctx.summary.get("ruff")
    comp = ctx.summary.get("compileall")
    if ctx.history_ok and (ruff or comp):
        run_shown(ctx, "Tables")
        trends(ctx, lambda view: _trends(ctx, view))
    if not ruff:
        missing(
            "ruff results", "Give `ruff check --output-format json` output to `healthdeck collect --ruff`."
        )
    else:
        left, right = st.columns(2)
        with left:
            names = ctx.details.get("ruff", {}).get("names", {})
            top = list(ruff["stats"].items())[:15]
            if not top:
                st.success("No ruff findings in this run.")
            else:
                chart(charts.top_bars([_rule(c, names) for c, _ in top], [n for _, n in top], "Top rules now"),
                      "ruff-top-rules", key="ruff_top",
                      alt="Top ruff rules now: " + ", ".join(f"{c} {number(n)}" for c, n in top[:5]))  # fmt: skip
        with right:
            _prod_lanes(ruff, ctx.src.config.prod_lanes)
        _findings(ctx.details.get("ruff") or {})
    st.subheader("Compile (compileall)")
    if not comp:
        missing(
            "compileall output", "Give `python -m compileall -q` output to `healthdeck collect --compileall`."
        )
        return
    failures = ctx.details.get("compileall", {}).get("failures", [])
    st.metric("files failing to compile", number(comp["failures"]), border=True)
    if failures:
        dataframe(pd.DataFrame(failures), hide_index=True)


def _prod_lanes(ruff: dict, prod: tuple[str, ...]) -> None:
    """The gate's figure (every finding when no lane is prod: the whole tree is prod) and where they are."""
    in_prod = ruff_in_prod({"ruff": ruff}, prod)
    lanes = ruff["count"].get("lanes")
    if in_prod is None:
        missing("per-lane counts", "ruff statistics do not say where; use `ruff check --output-format json`.")
        return
    st.metric("ruff findings in prod lanes", number(in_prod), border=True)
    if not prod:
        st.caption("whole tree (no `prod_lanes` configured), as the gate counts it")
    if lanes is None:
        return
    whole = not prod
    rows = [{"findings": counted(v), "lane": k, "prod": whole or k in prod} for k, v in lanes.items()]
    rows.append({"findings": counted(ruff["count"]["total"] - sum(lanes.values())), "lane": "(outside every lane)",
                 "prod": whole})  # fmt: skip
    dataframe(pd.DataFrame(rows), hide_index=True, column_config={"findings": FIGURE_TEXT})


def _findings(details: dict) -> None:
    """What to fix: the findings the report lists (prod lanes first), under their exact count."""
    listed, total = details.get("findings") or [], details.get("findings_total") or 0
    if not listed:
        return
    shown = f" — showing {number(len(listed))}" if len(listed) < total else ""
    st.subheader(f"Findings: {number(total)}{shown}")
    dataframe(pd.DataFrame([{"where": located(f), "rule": f["code"], "message": f["message"], "lane": f["lane"] or "—"}
                               for f in listed]), hide_index=True)  # fmt: skip


def _trends(ctx: Ctx, view: charts.View) -> None:
    ruff = ctx.summary.get("ruff")
    if ruff:
        rules = tuple(ruff["stats"])[:TOP_RULES]
        trend_chart(ctx, "ruff-by-rule", "ruff_trend", {"ruff.total": "total", **{f"ruff.rule.{r}": r for r in rules}},
                    view, ("total", "ruff findings", "count", 1), "ruff_trend", rules=(*rules, "other"))  # fmt: skip
    if ctx.summary.get("compileall"):
        trend_chart(ctx, "compileall-failures", "count_trend", {"compileall.failures": "failures"}, view,
                    ("failures", "files failing to compile", "count", 1), "compile_trend", columns=("failures",),
                    title="compileall failures", y_title="files", scope=ctx.scope)  # fmt: skip


def _rule(code: str, names: dict[str, str]) -> str:
    """ "F401 unused-import"; a finding without a code (a syntax error) is named once: "invalid-syntax"."""
    name = names.get(code, "")
    return f"{code} {name}" if name and name != code else code


render(st.session_state["healthdeck_ctx"])

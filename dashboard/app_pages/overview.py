"""Overview: what a lead needs to decide in ten seconds.

The verdict and the KPI cards paint first (they need the report and a few recent runs); the trends,
which read the window's runs, follow under a spinner, and their per-day/each-run toggle reruns them
alone.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from healthdeck.dashboard import charts
from healthdeck.dashboard.context import Ctx, uses_guardian, uses_openapi
from healthdeck.dashboard.widgets import (
    change,
    compact,
    deny_delta,
    md,
    missing,
    mixed_coverage_note,
    openapi_changes,
    provenance,
    run_shown,
    trend_chart,
    trends,
    verdict_banner,
)
from healthdeck.reports.config import ruff_in_prod
from healthdeck.reports.failures import number, total_failing
from healthdeck.reports.gate import comparable_coverage, smoke_suite
from healthdeck.reports.render.markdown import render_markdown
from healthdeck.reports.render.md import coverage_measure, coverage_pc, percent


def kpis(ctx: Ctx) -> None:
    s, b = ctx.summary, (ctx.baseline.summary if ctx.baseline else {})

    def card(label: str, value: str, values: pd.Series | None = None, unit: str = "count", **metric) -> None:
        """A KPI card and, under it, the range of the branch's last runs: inside the card, beside the
        delta, a narrow card cut it to "vs 6d4c6a0… · la…". The baseline is named in the line above."""
        st.metric(label, value, border=True, **metric)
        if values is not None and (recent_range := charts.recent_range(values, unit)):
            st.caption(recent_range)

    guardian = uses_guardian(ctx)  # a project without Guardian gets no Guardian card
    cols = st.columns(4 if guardian else 3)
    smoke = ctx.smoke
    tests = (s.get("tests") or {}).get(smoke) if smoke else None
    lanes_cfg = ctx.src.config.prod_lanes
    recent = ctx.recent({f"tests.{smoke}.pass_rate": "rate", "coverage.percent": "coverage", "ruff.total": "ruff",
                         "guardian.strict.denied": "denied", **{f"ruff.lanes.{lane}": lane for lane in lanes_cfg}})  # fmt: skip
    with cols[0]:
        if tests:
            rate = tests["pass_rate"]
            base = ((b.get("tests") or {}).get(smoke) or {}).get("pass_rate")
            card(f"{md(smoke)} pass rate", percent(rate), recent["rate"] * 100,
                 "percent", **change(None if rate is None else rate * 100, None if base is None else base * 100,
                                     unit="percent", higher_is_better=True),
                 help="passed ÷ (passed + failed + errors); the range is the branch's last 30 runs")  # fmt: skip
        else:  # the gate's reason: no tests, or several suites and none the checklist calls smoke
            card("pass rate", "—", help=md(smoke_suite(s, ctx.src.config.smoke_suite)[1]))
    with cols[1]:
        now_cov, base_cov = s.get("coverage") or {}, b.get("coverage") or {}
        # the change compares one measure on both sides, as the gate and the comment do
        measure, key = comparable_coverage(now_cov, base_cov)
        compared = f"; the change compares {measure}" if base_cov.get(key) is not None else ""
        card("coverage", coverage_pc(now_cov.get("percent"), ctx.src.config.coverage_precision), recent["coverage"], "percent",
             **change(now_cov.get(key), base_cov.get(key), unit="percent", higher_is_better=True),
             help=f"coverage.py total: {coverage_measure(now_cov)}{compared}; the range is the branch's last 30 runs")  # fmt: skip
    with cols[2]:
        ruff = s.get("ruff")
        now = ruff_in_prod(s, lanes_cfg) if lanes_cfg else None
        if now is not None:
            base = ruff_in_prod(b, lanes_cfg)  # None when the base counted other lanes: no change shown
            spark = recent[list(lanes_cfg)].sum(axis=1, min_count=1)
            card("ruff (prod lanes)", number(now), spark, **change(now, base, unit="count", higher_is_better=False),
                 help=f"findings in {', '.join(lanes_cfg)}; the range is the branch's last 30 runs")  # fmt: skip
        else:
            total = ruff["count"]["total"] if ruff else None
            base = ((b.get("ruff") or {}).get("count") or {}).get("total")
            card("ruff (all files)", "—" if total is None else number(total), recent["ruff"],
                 **change(total, base, unit="count", higher_is_better=False),
                 help="per-lane counts need ruff --output-format json and [tool.healthdeck] prod_lanes")  # fmt: skip
    if not guardian:
        return
    with cols[3]:
        g = s.get("guardian") or {}
        if g.get("permissive"):
            card("Guardian denies", f"{compact(g['permissive']['would_deny'])} → {compact(g['strict']['denied'])}",
                 recent["denied"], delta=f"{g['new_in_strict']} new in strict",
                 delta_color="inverse" if g["new_in_strict"] else "off",
                 delta_arrow="auto" if g["new_in_strict"] else "off",
                 help=f"permissive would-deny {number(g['permissive']['would_deny'])} → strict rehearsal deny "
                      f"{number(g['strict']['denied'])} (estimate); the range is strict denies per run")  # fmt: skip
        else:
            card("Guardian denies", "—", help="no Guardian decision logs")


def downloads(ctx: Ctx) -> None:
    sha = ctx.summary.get("git_sha") or "latest"
    failures = pd.DataFrame(
        ctx.failures, columns=["suite", "test_id", "outcome", "status", "flaky", "message"]
    )
    report, precision = ctx.report, ctx.src.config.coverage_precision

    def markdown() -> str:  # made on click, not on every rerun; a stored report must not cost the page
        try:
            return render_markdown(report, precision)
        except (KeyError, TypeError, ValueError) as exc:  # a store an older healthdeck wrote
            return f"This stored report cannot be rendered as Markdown ({type(exc).__name__}: {exc}).\n"

    with st.container(horizontal=True):
        st.download_button("Report (Markdown)", markdown, file_name=f"health-{sha}.md", mime="text/markdown",
                           on_click="ignore", icon=":material/description:")  # fmt: skip
        total = total_failing(ctx.summary)
        listed = (
            number(len(failures))
            if len(failures) >= total
            else f"first {number(len(failures))} of {number(total)}"
        )
        st.download_button(f"Failures (CSV, {listed})", failures.to_csv(index=False),
                           file_name=f"failures-{sha}.csv", mime="text/csv", on_click="ignore", icon=":material/table:")  # fmt: skip


def headline_charts(ctx: Ctx) -> None:
    if not ctx.history_ok:
        return  # the page header already says why there are no trends
    gates = ctx.src.config.gates
    smoke = ctx.smoke
    # the lanes the release gate counts (every lane without prod lanes); the Coverage page draws them all
    lanes = ctx.src.config.prod_lanes or tuple(ctx.src.config.lanes)
    coverage = {"coverage.percent": "total", **{f"coverage.lanes.{lane}.percent": lane for lane in lanes}}

    def draw(view: charts.View) -> None:
        left, right = st.columns(2)
        with left:
            if smoke:
                trend_chart(ctx, f"pass-rate-{smoke}", "pass_rate_trend", {f"tests.{smoke}.pass_rate": smoke}, view,
                            (smoke, f"{smoke} pass rate", "%", 100), "smoke_trend", suites=(smoke,),
                            minimums=ctx.pass_rate_minimums, scope=ctx.scope)  # fmt: skip
            else:
                missing("pass-rate trend", "It appears after `healthdeck collect --junit SUITE=...` has run.")
        with right:
            # drawn when this run or a recent one of the branch measured coverage: the run where coverage
            # went missing is when a lead most needs its trend
            measured = (ctx.summary.get("coverage") or {}).get("percent") is not None
            if measured or not ctx.report or ctx.recent({"coverage.percent": "c"})["c"].notna().any():
                trend_chart(ctx, "coverage", "coverage_trend", coverage, view, ("total", "coverage", "%", 1),
                            "coverage_trend", lanes=lanes, target=gates.coverage_min, scope=ctx.scope)  # fmt: skip
                mixed_coverage_note(ctx)
            else:
                missing(
                    "coverage trend", "It appears after `healthdeck collect --coverage coverage.xml` has run."
                )

    trends(ctx, draw)


def render(ctx: Ctx) -> None:
    st.title("Release health")
    verdict_banner(ctx)
    provenance(ctx)
    run_shown(ctx, "Verdict and cards")
    if ctx.report:
        kpis(ctx)
        downloads(ctx)
        if uses_openapi(ctx):
            with st.expander(
                "OpenAPI changes", expanded=bool((ctx.summary.get("openapi") or {}).get("breaking"))
            ):
                openapi_changes(ctx.summary, ctx.details)
    headline_charts(ctx)
    if uses_guardian(ctx):
        deny_delta(ctx, key="overview")


render(st.session_state["healthdeck_ctx"])

"""Overview: what a lead needs to decide in ten seconds."""

from __future__ import annotations

import streamlit as st

from healthdeck.dashboard import charts
from healthdeck.dashboard.context import Ctx
from healthdeck.dashboard.widgets import (
    compact,
    deny_delta,
    md,
    missing,
    openapi_changes,
    pct,
    provenance,
    verdict_banner,
)


def _delta(now: float | None, base: float | None, scale: float = 1, unit: str = " pts") -> str | None:
    return None if now is None or base is None else f"{(now - base) * scale:+.2f}{unit}"


def kpis(ctx: Ctx) -> None:
    s, b = ctx.summary, (ctx.baseline.summary if ctx.baseline else {})
    cols = st.columns(4)
    smoke = ctx.smoke
    tests = (s.get("tests") or {}).get(smoke) if smoke else None
    with cols[0]:
        if tests:
            base = ((b.get("tests") or {}).get(smoke) or {}).get("pass_rate")
            spark = ctx.metric_trend({f"tests.{smoke}.pass_rate": "v"})["v"] * 100
            st.metric(f"{md(smoke)} pass rate", pct(tests["pass_rate"] * 100 if tests["pass_rate"] is not None else None),
                      _delta(tests["pass_rate"], base, 100), chart_data=charts.sparkline(spark), border=True,
                      help="passed ÷ (passed + failed + errors)")  # fmt: skip
        else:
            st.metric("smoke pass rate", "—", border=True, help="no JUnit input in the latest report")
    with cols[1]:
        cov = (s.get("coverage") or {}).get("percent")
        base = (b.get("coverage") or {}).get("percent")
        spark = ctx.metric_trend({"coverage.percent": "v"})["v"]
        st.metric("coverage", pct(cov), _delta(cov, base), chart_data=charts.sparkline(spark), border=True,
                  help="coverage.py total: statements + branches")  # fmt: skip
    with cols[2]:
        lanes_cfg = ctx.src.config.prod_lanes
        ruff = s.get("ruff")
        lanes = (ruff or {}).get("count", {}).get("lanes")
        if ruff and lanes is not None and lanes_cfg:
            now = sum(lanes.get(lane, 0) for lane in lanes_cfg)
            base_lanes = ((b.get("ruff") or {}).get("count") or {}).get("lanes")
            base = sum(base_lanes.get(lane, 0) for lane in lanes_cfg) if base_lanes is not None else None
            frame = ctx.metric_trend({f"ruff.lanes.{lane}": lane for lane in lanes_cfg})
            spark = frame[list(lanes_cfg)].sum(axis=1, min_count=1)
            st.metric("ruff errors (prod lanes)", f"{now}", None if base is None else f"{now - base:+d}",
                      delta_color="inverse", chart_data=charts.sparkline(spark), border=True)  # fmt: skip
        else:
            total = ruff["count"]["total"] if ruff else None
            base = ((b.get("ruff") or {}).get("count") or {}).get("total")
            st.metric("ruff errors (all)", "—" if total is None else f"{total}",
                      None if total is None or base is None else f"{total - base:+d}", delta_color="inverse",
                      chart_data=charts.sparkline(ctx.metric_trend({"ruff.total": "v"})["v"]), border=True,
                      help="per-lane counts need ruff --output-format json and [tool.healthdeck] prod_lanes")  # fmt: skip
    with cols[3]:
        g = s.get("guardian") or {}
        if g.get("permissive"):
            spark = ctx.metric_trend({"guardian.strict.denied": "v"})["v"]
            st.metric("Guardian would-deny → deny",
                      f"{compact(g['permissive']['would_deny'])} → {compact(g['strict']['denied'])}",
                      f"{g['new_in_strict']} new in strict", delta_color="inverse" if g["new_in_strict"] else "off",
                      chart_data=charts.sparkline(spark), border=True,
                      help=f"permissive would-deny {g['permissive']['would_deny']} → strict rehearsal deny "
                           f"{g['strict']['denied']} (estimate); the line is strict denies per run")  # fmt: skip
        else:
            st.metric("Guardian would-deny → deny", "—", border=True, help="no Guardian decision logs")


def headline_charts(ctx: Ctx) -> None:
    left, right = st.columns(2)
    gates = ctx.src.config.gates
    with left:
        smoke = ctx.smoke
        if smoke and len(ctx.runs):
            frame = ctx.metric_trend({f"tests.{smoke}.pass_rate": smoke})
            threshold = gates.pass_rate_min.get(smoke, 0.95)
            st.plotly_chart(charts.pass_rate_trend(frame, [smoke], threshold), key="smoke_trend")
        else:
            missing(
                "smoke pass-rate trend", "It appears after `healthdeck collect --junit smoke=...` has run."
            )
    with right:
        lanes = list(ctx.src.config.lanes)
        if len(ctx.runs) and "coverage.percent" in ctx.metrics:
            frame = ctx.metric_trend({"coverage.percent": "total",
                                      **{f"coverage.lanes.{lane}.percent": lane for lane in lanes}})  # fmt: skip
            st.plotly_chart(charts.coverage_trend(frame, lanes, gates.coverage_min), key="coverage_trend")
        else:
            missing(
                "coverage trend", "It appears after `healthdeck collect --coverage coverage.xml` has run."
            )
    deny_delta(ctx, key="overview")


def render(ctx: Ctx) -> None:
    st.title("Release health")
    if ctx.history_error:
        st.error(f"History unavailable: {md(ctx.history_error)}")
    verdict_banner(ctx)
    provenance(ctx)
    if ctx.report:
        kpis(ctx)
        with st.expander(
            "OpenAPI changes", expanded=bool((ctx.summary.get("openapi") or {}).get("breaking"))
        ):
            openapi_changes(ctx.summary, ctx.details)
    headline_charts(ctx)


render(st.session_state["healthdeck_ctx"])

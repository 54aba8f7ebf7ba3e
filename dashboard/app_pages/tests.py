"""Tests: pass rate per suite over time, current failures (new vs known, flaky), slowest, flaky."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from healthdeck.dashboard import charts, data
from healthdeck.dashboard.context import Ctx
from healthdeck.dashboard.widgets import missing
from healthdeck.reports.history.trends import flaky_tests


def render(ctx: Ctx) -> None:
    st.title("Tests")
    tests = ctx.summary.get("tests") or {}
    if not tests:
        missing("test results", "Give JUnit XML to `healthdeck collect --junit SUITE=PATH`.")
        return
    suites = list(tests)
    if len(ctx.runs):
        frame = ctx.metric_trend({f"tests.{s}.pass_rate": s for s in suites})
        st.plotly_chart(charts.pass_rate_trend(frame, suites, ctx.src.config.gates.pass_rate_min.get(ctx.smoke)),
                        key="suites_trend")  # fmt: skip
    st.dataframe(
        pd.DataFrame([{"suite": s, "pass rate": t["pass_rate"], **{k: t[k] for k in
                       ("passed", "failed", "errors", "skipped", "xfailed", "flaky", "total")}}
                      for s, t in tests.items()]),
        hide_index=True, column_config={"pass rate": st.column_config.NumberColumn(format="percent")},
    )  # fmt: skip
    st.caption("pass rate = passed ÷ (passed + failed + errors); a test is a distinct test id.")
    st.subheader(f"Current failures ({len(ctx.failures)})")
    if ctx.failures:
        frame = pd.DataFrame(ctx.failures)
        frame["flaky"] = frame["flaky"].map({True: "flaky", False: ""})
        frame = frame.sort_values(["status", "suite", "test_id"], key=lambda c: c.map({"new": 0}).fillna(1)
                                  if c.name == "status" else c)  # fmt: skip
        st.dataframe(frame[["status", "flaky", "suite", "test_id", "outcome", "message"]], hide_index=True)
    else:
        st.success("No failing tests in the latest report.")
    left, right = st.columns(2)
    with left:
        st.subheader("Slowest tests")
        rows = [{"suite": s, **t} for s, d in ctx.details.get("tests", {}).items() for t in d["slowest"]]
        if rows:
            st.dataframe(pd.DataFrame(rows).sort_values("seconds", ascending=False).head(15), hide_index=True)
    with right:
        st.subheader("Flaky over the window")
        if ctx.src.history_exists and not ctx.history_error:
            found = [
                f for s in suites for f in flaky_tests(data.store(ctx.src.history), s, branch=ctx.branch)
            ]
            if found:
                st.dataframe(pd.DataFrame([{"suite": f.suite, "test": f.test_id, "same commit": f.same_commit,
                                            "flip rate": f.flip_rate, "runs": f.runs} for f in found]),
                             hide_index=True)  # fmt: skip
            else:
                st.success("No flaky test in the last 30 runs.")
        else:
            missing("history", "Flakiness across runs needs the history store.")


render(st.session_state["healthdeck_ctx"])

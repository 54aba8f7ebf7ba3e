"""Tests: pass rate per suite over time; failures by cause, transitions against the baseline and tests
that got slower; every failing test with exact counts; one test's own history from the store; slowest
and flaky tests."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from healthdeck.dashboard import charts, data, triage_charts
from healthdeck.dashboard.context import Ctx
from healthdeck.dashboard.widgets import (
    FIGURE_TEXT,
    chart,
    counted,
    dataframe,
    md,
    missing,
    run_shown,
    trend_chart,
    trends,
)
from healthdeck.reports.failures import number, total_failing
from healthdeck.reports.history.store import Run
from healthdeck.reports.history.trends import CaseHistory, case_history
from healthdeck.reports.render.md import display_covered
from healthdeck.reports.render.triage import runner_speed_note, unrecorded_note

HISTORY_RUNS = 30  # outcomes in a test's strip
TRANSITIONS = {"new": "new failures", "fixed": "fixed", "still_failing": "still failing", "flaky": "flaky"}


def tests_word(n: int) -> str:
    return f"{number(n)} {'test' if n == 1 else 'tests'}"


def _when(ref: dict | None) -> str:
    """'`1a2b3c4d` (main, 2026-03-01 10:00 UTC)' for a {git_sha, branch, ts} run reference."""
    if not ref:
        return "—"
    when = datetime.fromtimestamp(ref["ts"], UTC).strftime("%Y-%m-%d %H:%M UTC")
    where = ", ".join([md(ref["branch"]), when] if ref.get("branch") else [when])
    return f"{md(ref.get('git_sha') or ref.get('run_key') or '?', code=True)} ({where})"


def _ref(run: Run) -> dict:
    return {"git_sha": run.short_sha, "branch": run.branch, "ts": run.ts, "run_key": run.run_key}


def suites_table(tests: dict) -> None:
    keys = ("passed", "failed", "errors", "skipped", "xfailed", "flaky", "total", "causes")
    # The cards' rounding (never 100.00 while a test failed); fixed formats, not the browser's locale, so
    # the table reads "99.67 %" beside the cards in every language
    rows = [{"suite": s, "pass rate": None if t["pass_rate"] is None else float(display_covered(t["pass_rate"] * 100, 2)),
             **{k: counted(t.get(k)) for k in keys}} for s, t in tests.items()]  # fmt: skip
    counts = dict.fromkeys(keys, FIGURE_TEXT)
    dataframe(pd.DataFrame(rows), hide_index=True,
                 column_config={**counts, "pass rate": st.column_config.NumberColumn(format="%.2f %%")})  # fmt: skip
    st.caption("pass rate = passed ÷ (passed + failed + errors); a test is a distinct test id.")


def causes_section(ctx: Ctx, suite: str, summary: dict, details: dict) -> None:
    """Failures grouped by cause, largest first, each expandable to its tests; counts are exact."""
    causes = details.get("causes")
    failing = summary["failed"] + summary["errors"]
    if causes is None or not failing:
        return
    total = details.get("causes_total", len(causes))
    shown = f" — showing the {number(len(causes))} largest" if len(causes) < total else ""
    st.markdown(f"**{md(suite)}: {number(failing)} failing test{'' if failing == 1 else 's'}, {number(total)} "
                f"{'cause' if total == 1 else 'causes'}**{shown}")  # fmt: skip
    for cause in causes:
        flags = [":red-badge[new]"] if cause.get("new") else []
        if cause.get("category"):
            flags.append(f":gray-badge[{md(cause['category'])}]")
        title = f"**{number(cause['count'])}** · {md(cause['signature'], limit=140)} {' '.join(flags)}"
        with st.expander(title):
            st.code(cause.get("example_message") or cause["signature"], language=None, wrap_lines=True)
            outcomes = ", ".join(f"{number(n)} {o}" for o, n in (cause.get("outcomes") or {}).items())
            st.caption(f"{outcomes} · first seen {_when(cause.get('first_seen'))}"
                       + ("" if cause.get("new") is None else " · new against the baseline" if cause["new"]
                          else " · also in the baseline"))  # fmt: skip
            listed = cause.get("tests") or []
            dataframe(pd.DataFrame({"test": listed}), hide_index=True)
            if len(listed) < cause["count"]:
                st.caption(f"{tests_word(cause['count'])} — showing {number(len(listed))}")


def causes_trend(ctx: Ctx, suites: list[str]) -> None:
    if not ctx.history_ok:
        return
    metrics = {f"tests.{s}.causes": s for s in suites}
    if ctx.metric_trend(metrics)[suites].notna().any().any():
        view = st.session_state.get("view") or charts.default_view(len(ctx.runs))  # the page's trend toggle
        trend_chart(ctx, "failure-causes", "count_trend", metrics, view, (suites[0], "failure causes", "count", 1),
                    "causes_trend", columns=tuple(suites), title="Failure causes", y_title="causes", scope=ctx.scope)  # fmt: skip


def transitions_section(suite: str, details: dict) -> None:
    moved = details.get("transitions")
    if not moved:
        st.caption(f"{md(suite)}: no transitions — no baseline run of this suite to compare with.")
        return
    st.markdown(f"**{md(suite)}: against {_when(moved.get('baseline'))}**")
    cols = st.columns(len(TRANSITIONS))
    for col, (key, words) in zip(cols, TRANSITIONS.items(), strict=True):
        col.metric(words, number(moved.get(f"{key}_total", len(moved.get(key) or []))), border=True)
    tabs = st.tabs(
        [f"{words} ({number(moved.get(f'{key}_total', 0))})" for key, words in TRANSITIONS.items()]
    )
    for tab, key in zip(tabs, TRANSITIONS, strict=True):
        with tab:
            listed, total = moved.get(key) or [], moved.get(f"{key}_total", 0)
            if listed:
                dataframe(pd.DataFrame({"test": listed}), hide_index=True)
            if len(listed) < total:
                st.caption(f"{tests_word(total)} — showing {number(len(listed))}")
            elif not total:
                st.caption("None.")


def slower_section(suite: str, details: dict) -> None:
    slower = details.get("duration_regressions")
    if not slower:
        return
    total = slower.get("tests_total", len(slower["tests"]))
    st.markdown(f"**{md(suite)}: {tests_word(total)} at least {slower['ratio']:g}× slower than in "
                f"{_when(slower.get('baseline'))}** (and at least {slower['floor_seconds']:g} s now)")  # fmt: skip
    if slower["tests"]:
        dataframe(pd.DataFrame(slower["tests"]), hide_index=True,
                     column_config={"ratio": st.column_config.NumberColumn(format="%.2f×")})  # fmt: skip
    if len(slower["tests"]) < total:
        st.caption(f"{tests_word(total)} — showing {number(len(slower['tests']))}")
    if slower.get("unrecorded"):
        st.caption(unrecorded_note(slower))
    if note := runner_speed_note(slower):
        st.caption(note)


def failures_table(ctx: Ctx, tests: dict) -> tuple[str, str] | None:
    """Every listed failing test with exact counts; returns the (suite, test id) the reader clicked."""
    total = total_failing(ctx.summary)
    st.subheader(f"Failing tests ({number(total)})")
    if not ctx.failures:
        if total:
            st.warning(f"{number(total)} failing tests — the report lists none of them.")
        else:
            st.success("No failing tests in the latest report.")
        return None
    if len(ctx.failures) < total:
        st.caption(f"{number(total)} failing tests — showing {number(len(ctx.failures))} (the report lists "
                   f"up to {number(ctx.src.config.max_failing_listed)} per suite)")  # fmt: skip
    frame = pd.DataFrame(ctx.failures)
    frame["flaky"] = frame["flaky"].map({True: "flaky", False: ""})
    frame = frame.sort_values(["status", "suite", "test_id"], key=lambda c: c.map({"new": 0}).fillna(1)
                              if c.name == "status" else c).reset_index(drop=True)  # fmt: skip
    event = dataframe(frame[["status", "flaky", "suite", "test_id", "outcome", "message"]], hide_index=True,
                         on_select="rerun", selection_mode="single-row", key="failing_pick")  # fmt: skip
    st.caption("Click a row to see that test's own history.")
    rows = event.selection.rows if event else []
    if rows:
        picked = frame.iloc[rows[0]]
        st.query_params["test"] = f"{picked['suite']}::{picked['test_id']}"  # a link opens the same test
        return picked["suite"], picked["test_id"]
    return None


def linked_test(tests: dict) -> tuple[str, str] | None:
    """The test a link names (?test=SUITE::ID), failing now or not."""
    suite, _, test_id = st.query_params.get("test", "").partition("::")
    return (suite, test_id) if suite in tests and test_id else None


@st.cache_data(show_spinner=False, max_entries=64)
def _case(
    url: str, version: str, suite: str, test_id: str, branch: str | None, project: str | None
) -> CaseHistory:
    return case_history(data.store(url), suite, test_id, branch=branch, window=HISTORY_RUNS, project=project)


def test_history(ctx: Ctx, suite: str, test_id: str) -> None:
    """The test's last outcomes, when it started failing, the last commit where it did not fail, its durations."""
    st.subheader("History of one test")
    st.markdown(f"{md(test_id, code=True)} in suite {md(suite, code=True)}")
    if not ctx.src.history_exists or ctx.history_error:
        missing("test history", "A test's own history needs the history store.")
        return
    case = _case(ctx.src.history, ctx.version, suite, test_id, ctx.branch, ctx.src.project)
    if not case.runs:
        missing("test history", "No run of this suite in the history.")
        return
    if not case.recorded:  # "passed" would be a guess: the store keeps failures and slower tests only
        st.info(f"No failure and no recorded duration of this test in the last {len(case.runs)} runs of "
                f"{md(suite, code=True)}: it passed quickly in each, or no test has this id (the store keeps "
                "failing outcomes and the durations of slower tests, not every passing test).")  # fmt: skip
        return
    runs = [{"ts": c.run.ts, "sha": c.run.short_sha or None, "outcome": c.outcome, "seconds": c.seconds}
            for c in case.runs]  # fmt: skip
    chart(
        triage_charts.outcome_strip(runs),
        "test-outcomes",
        key="case_strip",
        alt=f"Outcomes of {test_id} in its last {len(runs)} runs.",
    )
    facts = []
    if case.failing_since is not None:
        earlier = " or earlier (it fails in every run shown)" if case.streak_covers_window else ""
        facts.append(f"failing since {_when(_ref(case.failing_since))}{earlier}")
    else:
        facts.append("not failing in the newest run")
    # the store keeps failures, not passes: a run without a failure of it passed it, or did not run it
    if case.last_passed is not None:
        facts.append(f"last run where it did not fail: {_when(_ref(case.last_passed))}")
    else:
        facts.append(f"failed in each of the last {len(case.runs)} runs")
    st.markdown(" · ".join(facts))
    if any(r["seconds"] is not None for r in runs):
        chart(
            triage_charts.duration_trend(runs, ctx.src.config.duration_floor),
            "test-durations",
            key="case_durations",
            alt=f"Durations of {test_id} in its last {len(runs)} runs.",
        )
    st.caption("The store keeps failing outcomes and the durations of slower tests (at least half the "
               "duration floor); a run without a duration for this test shows a gap.")  # fmt: skip


def render(ctx: Ctx) -> None:
    st.title("Tests")
    tests = ctx.summary.get("tests") or {}
    if not tests:
        missing("test results", "Give JUnit XML to `healthdeck collect --junit SUITE=PATH`.")
        return
    suites = list(tests)
    details = ctx.details.get("tests") or {}
    run_shown(ctx, "Tables")
    if ctx.history_ok:
        trends(ctx, lambda view: trend_chart(
            ctx, "pass-rate", "pass_rate_trend", {f"tests.{s}.pass_rate": s for s in suites}, view,
            (suites[0], f"{suites[0]} pass rate", "%", 100), "suites_trend", suites=tuple(suites),
            minimums=ctx.pass_rate_minimums, scope=ctx.scope))  # fmt: skip
    suites_table(tests)
    if any((details.get(s) or {}).get("causes") for s in suites):
        st.subheader("Failures by cause")
        for suite in suites:
            causes_section(ctx, suite, tests[suite], details.get(suite) or {})
        causes_trend(ctx, suites)
    if any("transitions" in (details.get(s) or {}) for s in suites):
        st.subheader("Against the baseline")
        for suite in suites:
            transitions_section(suite, details.get(suite) or {})
            slower_section(suite, details.get(suite) or {})
    picked = failures_table(ctx, tests) or linked_test(tests)
    if picked:
        test_history(ctx, *picked)
    left, right = st.columns(2)
    with left:
        st.subheader("Slowest tests")
        rows = [{"suite": s, **t} for s, d in details.items() for t in d["slowest"]]
        if rows:  # the time first: a long test id must not push it out of view
            dataframe(pd.DataFrame(rows).sort_values("seconds", ascending=False).head(15), hide_index=True,
                         column_order=("seconds", "test_id", "suite"),
                         column_config={"seconds": st.column_config.NumberColumn(format="%.3f s")})  # fmt: skip
    with right:
        st.subheader("Flaky in the last 30 runs")
        if ctx.src.history_exists and not ctx.history_error:
            found = [
                f
                for s in suites
                for f in data.load_flaky(ctx.src.history, ctx.version, s, ctx.branch, ctx.src.project)
            ]
            if found:
                # a test that failed and passed on one commit (a rerun included) is flaky at any flip rate
                # of its runs' final outcomes; a rate of 0 beside it would read as "never flips", so none
                dataframe(pd.DataFrame([{"test": f.test_id,
                                            "why": "failed and passed on one commit" if f.same_commit else "flips between runs",
                                            "flip rate": None if not f.flip_rate else 100 * f.flip_rate,
                                            "runs": f.runs, "suite": f.suite} for f in found]),
                             hide_index=True, column_config={
                                 "flip rate": st.column_config.NumberColumn(
                                     format="%.2f %%", help="outcome changes ÷ (runs − 1) over the last 30 runs")})  # fmt: skip
            else:
                st.success("No flaky test in the last 30 runs.")
        else:
            missing("history", "Flakiness across runs needs the history store.")


render(st.session_state["healthdeck_ctx"])

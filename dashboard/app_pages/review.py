"""Release review: a candidate run against a baseline, side by side, downloadable as Markdown.

Both runs are in the URL by run key (`?candidate=…&base=…`), so a pasted link shows the same review
whatever the runs' verdicts or labels. The baseline defaults to the last release before the candidate
(a run whose `git describe` is a tag), else the run its gate compared it with, else the previous run on
the candidate's branch.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from healthdeck.dashboard import data, links
from healthdeck.dashboard.context import Ctx, uses_openapi
from healthdeck.dashboard.widgets import (
    conditions_compared,
    dataframe,
    md,
    missing,
    openapi_changes,
    table_or,
)
from healthdeck.reports.failures import number
from healthdeck.reports.history.store import Run
from healthdeck.reports.render.review import UNKNOWN_NEW, given
from healthdeck.reports.review import label

BASE_FOR = "review_base_for"  # session: the candidate the baseline control was last drawn for
OFFERED = 500  # the newest runs of the window offered as candidates (a pasted older one is added)


def _label(row: dict) -> str:
    return label(_as_run(row))


def _as_run(row: dict) -> Run:
    """An index row as far as its label needs (the run's summary is not loaded for the picker). pandas
    holds a missing text as NaN, which is truthy: a run nobody gated would be labelled "nan"."""
    text = {k: v if isinstance(v, str) else None for k, v in row.items()}
    return Run(0, row["run_key"], text["sha"], text["branch"], text["version"], int(row["ts"]), None, "", False,
               text["verdict"], {})  # fmt: skip


def _row(run) -> dict:
    return {"run_key": run.run_key, "ts": run.ts, "sha": run.short_sha, "branch": run.branch,
            "version": run.version, "verdict": run.verdict}  # fmt: skip


def render(ctx: Ctx) -> None:
    st.title("Release review")
    if not ctx.history_ok:
        return  # the page header says why
    # all time, every field (the trends' frame has no run key or verdict); the window is a slice of it
    everything = data.review_runs(ctx.src.history, ctx.version, ctx.src.project)
    window = (
        data.window_of(everything, ctx.since_ts, ctx.branch).sort_values("ts", ascending=False).head(OFFERED)
    )
    rows = {r["run_key"]: r for r in window.to_dict("records")}
    for r in data.releases(everything).to_dict("records"):
        rows.setdefault(r["run_key"], r)
    for key in ("candidate", "base"):  # a pasted run outside the window is still offered
        asked = st.query_params.get(key)
        if asked and asked not in rows and (run := data.load_run(ctx.src.history, ctx.version, asked)):
            rows[asked] = _row(run)
    if len(rows) < 2:
        missing("runs to compare", "A review needs at least two runs in the history (widen the window?).")
        return
    ordered = sorted(rows, key=lambda k: rows[k]["ts"], reverse=True)
    labels = {k: _label(rows[k]) for k in ordered}
    current = ctx.current.run_key if ctx.current and ctx.current.run_key in rows else ordered[0]
    # one picker per row: side by side, a narrow window cut each run's label before its branch, tag and verdict
    candidate_key = links.choice("Candidate", ordered, "candidate", current, what="candidate run",
                                 format_func=labels.get)  # fmt: skip
    base_default = data.load_default_baseline(ctx.src.history, ctx.version, candidate_key)
    base_default = base_default or ordered[min(1, len(ordered) - 1)]
    if base_default not in rows:
        run = data.load_run(ctx.src.history, ctx.version, base_default)
        rows[base_default], labels[base_default] = _row(run), _label(_row(run))
        ordered.append(base_default)
    # a candidate picked here gets its own default baseline: the one kept from the previous candidate
    # could be a release made after this one (a pasted link keeps its own `base`: nothing was picked yet)
    if st.session_state.get(BASE_FOR) not in (None, candidate_key):
        st.session_state["base"] = base_default
    st.session_state[BASE_FOR] = candidate_key
    base_key = links.choice("Baseline", ordered, "base", base_default, what="baseline run", format_func=labels.get,
                            help="Default: the last release before the candidate, else the run its gate "
                                 "compared with, else the previous run on its branch.")  # fmt: skip
    if base_key == candidate_key:
        st.warning("The candidate and the baseline are the same run: every figure reads “no change”. Pick "
                   "another baseline.", icon=":material/compare_arrows:")  # fmt: skip
    config = ctx.src.config
    checklist = repr((config.gates, config.prod_lanes))
    found = data.load_review(ctx.src.history, ctx.version, candidate_key, base_key, checklist, config)
    if found is None:
        st.error("That run is no longer in the history.")
        return
    a, b = st.columns(2)
    # in the selectors' order: candidate left, baseline right
    for column, title, v in ((a, "Candidate", found.verdicts[0]), (b, "Baseline", found.verdicts[1])):
        with column:
            # GO is the gate's to give: a run nobody gated never reads GO, here or on All projects
            word = "not gated" if v["evaluated_here"] and v["status"] == "GO" else v["status"]
            st.subheader(
                f"{title}: {word}" + (" (not gated)" if v["evaluated_here"] and word != "not gated" else "")
            )
            # the conditions against a baseline are the gate's, against the run it compared with: named
            st.caption(f"The checklist evaluated here says {v['status']}: this run was never gated." if v["evaluated_here"]
                       else f"The verdict `healthdeck gate` gave this run ({md(given(v))}).")  # fmt: skip
    dataframe(pd.DataFrame(conditions_compared(*found.verdicts)), hide_index=True)
    st.subheader("Every figure")
    # what changed first (each group by name): unchanged rows would fill the table's first screen
    deltas = sorted(found.deltas, key=lambda d: d["shown"]["change"] in ("no change", "—"))
    dataframe(pd.DataFrame([{"change": d["shown"]["change"], "figure": d["label"], "candidate": d["shown"]["candidate"],
                                "baseline": d["shown"]["baseline"]} for d in deltas]), hide_index=True)  # fmt: skip
    st.caption("Pass rates and coverage in percent (changes in percentage points), counts as whole numbers.")
    if uses_openapi(ctx):
        st.subheader("OpenAPI")
        # None for runs recorded before full reports were stored
        stored = data.load_stored_report(ctx.src.history, ctx.version, candidate_key)
        openapi_changes(found.candidate.summary, stored.get("details") if stored else None,
                        baseline=found.baseline.summary)  # fmt: skip
    if found.new_failures is None:
        st.subheader("New failures: unknown")
        st.caption(UNKNOWN_NEW)
    else:
        new = found.new_failures
        st.subheader(f"New failures ({number(new.count)})")
        table_or([{"test": t, "suite": s} for s, t in new.named], "No new failures.")
        if new.count > len(new.named):
            st.caption(f"The first {number(len(new.named))} of {number(new.count)}, by suite and name.")
    st.download_button("Download the review (Markdown)", found.markdown,
                       file_name=f"release-review-{found.candidate.short_sha}.md",
                       mime="text/markdown", on_click="ignore")  # fmt: skip


render(st.session_state["healthdeck_ctx"])

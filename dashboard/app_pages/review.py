"""Release review: a candidate run against a baseline, side by side, downloadable as Markdown."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from healthdeck.dashboard import data
from healthdeck.dashboard.context import Ctx
from healthdeck.dashboard.widgets import conditions_table, missing, openapi_changes, table_or
from healthdeck.reports.gate import evaluate
from healthdeck.reports.history.trends import classify_failures
from healthdeck.reports.render.review import metric_deltas, render_review


def _label(row: pd.Series) -> str:
    when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(row["ts"]))
    return f"{when} · {row['sha'] or row['run_key'][:12]} · {row['branch'] or '—'} · {row['verdict'] or 'not gated'}"


def render(ctx: Ctx) -> None:
    st.title("Release review")
    if not len(ctx.runs) or len(ctx.runs) < 2:
        missing("runs to compare", "A review needs at least two runs in the history (widen the window?).")
        return
    runs = ctx.runs.sort_values("ts", ascending=False).head(500)  # the newest 500 are offered
    labels = {row["run_key"]: _label(row) for _, row in runs.iterrows()}
    keys = list(labels)
    left, right = st.columns(2)
    candidate_key = left.selectbox(
        "Candidate", keys, format_func=labels.get, key="candidate", bind="query-params"
    )
    base_key = right.selectbox("Baseline (e.g. the last release)", keys, index=min(1, len(keys) - 1),
                               format_func=labels.get, key="base", bind="query-params")  # fmt: skip
    store = data.store(ctx.src.history)
    candidate = data.load_run(ctx.src.history, ctx.version, candidate_key)
    baseline = data.load_run(ctx.src.history, ctx.version, base_key)
    if candidate is None or baseline is None:
        st.error("That run is no longer in the history.")
        return
    failing_now = {
        t: o for (s, t), o in data.load_failing(ctx.src.history, ctx.version, candidate.id).items()
    }
    failing_before = {
        t: o for (s, t), o in data.load_failing(ctx.src.history, ctx.version, baseline.id).items()
    }
    new = sorted(t for t, status in classify_failures(failing_now, failing_before).items() if status == "new")
    config = ctx.src.config
    verdict = evaluate(candidate.summary, config.gates, config.prod_lanes, baseline=baseline.summary,
                       new_failures=new, now=candidate.ts)  # fmt: skip
    stored_base = store.run(baseline.run_key)
    base_verdict = (
        evaluate(baseline.summary, config.gates, config.prod_lanes, now=baseline.ts) if stored_base else None
    )
    a, b = st.columns(2)
    for column, title, v in ((a, "Baseline", base_verdict), (b, "Candidate", verdict)):
        with column:
            st.subheader(f"{title}: {v['status'] if v else '—'}")
            if v:
                st.dataframe(pd.DataFrame(conditions_table(v)), hide_index=True)
    deltas = metric_deltas(store.metrics_of(candidate.id), store.metrics_of(baseline.id))
    st.subheader("Every figure")
    st.dataframe(pd.DataFrame(deltas), hide_index=True)
    st.subheader("OpenAPI")
    stored = store.report(candidate)  # None for runs recorded before full reports were stored
    openapi_changes(candidate.summary, stored.get("details") if stored else None, baseline=baseline.summary)
    st.subheader(f"New failures ({len(new)})")
    table_or([{"test": t} for t in new], "No new failures.")
    markdown = render_review({"label": labels[candidate_key], "summary": candidate.summary},
                             {"label": labels[base_key], "summary": baseline.summary},
                             (verdict, base_verdict), deltas, new)  # fmt: skip
    st.download_button("Download the review (Markdown)", markdown, file_name=f"release-review-{candidate.short_sha}.md",
                       mime="text/markdown", on_click="ignore")  # fmt: skip


render(st.session_state["healthdeck_ctx"])

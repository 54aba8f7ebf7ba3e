"""Release review: a candidate run against a baseline, side by side, downloadable as Markdown.

Both runs are in the URL by run key (`?candidate=…&base=…`), so a pasted link shows the same review
whatever the runs' verdicts or labels. The baseline defaults to the last release before the candidate
(a run whose `git describe` is a tag), else the previous run on the candidate's branch.
"""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from healthdeck.dashboard import data, links
from healthdeck.dashboard.context import Ctx
from healthdeck.dashboard.widgets import conditions_table, missing, openapi_changes, table_or
from healthdeck.reports.gate import evaluate
from healthdeck.reports.history.trends import classify_failures
from healthdeck.reports.render.review import metric_deltas, render_review

OFFERED = 500  # the newest runs of the window offered as candidates (a pasted older one is added)


def _label(row: dict) -> str:
    when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(row["ts"]))
    tag = f" · {row['version']}" if data.is_release(row.get("version")) else ""
    return f"{when} UTC · {row['sha'] or row['run_key'][:12]} · {row['branch'] or '—'}{tag} · {row['verdict'] or 'not gated'}"


def _row(run) -> dict:
    return {"run_key": run.run_key, "ts": run.ts, "sha": run.short_sha, "branch": run.branch,
            "version": run.version, "verdict": run.verdict}  # fmt: skip


def default_baseline(candidate: dict, everything: pd.DataFrame) -> str | None:
    """The last release before the candidate, else the previous run on its branch."""
    before = everything[everything["ts"] < candidate["ts"]]
    tags = data.releases(before)
    if len(tags):
        return tags.iloc[-1]["run_key"]
    same = before[before["branch"] == candidate["branch"]]
    return same.iloc[-1]["run_key"] if len(same) else None


def render(ctx: Ctx) -> None:
    st.title("Release review")
    if not ctx.history_ok:
        return  # the page header says why
    everything = data.load_runs(ctx.src.history, ctx.version, None, None, ctx.src.project)
    window = ctx.runs.sort_values("ts", ascending=False).head(OFFERED)
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
    left, right = st.columns(2)
    with left:
        candidate_key = links.choice("Candidate", ordered, "candidate", current, what="candidate run",
                                     format_func=labels.get)  # fmt: skip
    base_default = default_baseline(rows[candidate_key], everything) or ordered[min(1, len(ordered) - 1)]
    if base_default not in rows:
        run = data.load_run(ctx.src.history, ctx.version, base_default)
        rows[base_default], labels[base_default] = _row(run), _label(_row(run))
        ordered.append(base_default)
    with right:
        base_key = links.choice("Baseline (default: the last release)", ordered, "base", base_default,
                                what="baseline run", format_func=labels.get)  # fmt: skip
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
    base_verdict = evaluate(baseline.summary, config.gates, config.prod_lanes, now=baseline.ts)
    a, b = st.columns(2)
    for column, title, v in ((a, "Baseline", base_verdict), (b, "Candidate", verdict)):
        with column:
            st.subheader(f"{title}: {v['status']}")
            st.dataframe(pd.DataFrame(conditions_table(v)), hide_index=True)
    deltas = metric_deltas(data.load_run_metrics(ctx.src.history, ctx.version, candidate.id),
                           data.load_run_metrics(ctx.src.history, ctx.version, baseline.id))  # fmt: skip
    st.subheader("Every figure")
    st.dataframe(pd.DataFrame([{"change": d["shown"]["change"], "metric": d["metric"], "candidate": d["shown"]["candidate"],
                                "baseline": d["shown"]["baseline"]} for d in deltas]), hide_index=True)  # fmt: skip
    st.caption("Pass rates and coverage in percent (changes in percentage points), counts as whole numbers.")
    st.subheader("OpenAPI")
    stored = data.load_stored_report(
        ctx.src.history, ctx.version, candidate.run_key
    )  # None before full reports
    openapi_changes(candidate.summary, stored.get("details") if stored else None, baseline=baseline.summary)
    st.subheader(f"New failures ({len(new)})")
    table_or([{"test": t} for t in new], "No new failures.")
    markdown = render_review({"label": labels[candidate_key], "summary": candidate.summary},
                             {"label": labels[base_key], "summary": baseline.summary},
                             (verdict, base_verdict), deltas, new)  # fmt: skip
    st.download_button("Download the review (Markdown)", markdown, file_name=f"release-review-{candidate.short_sha}.md",
                       mime="text/markdown", on_click="ignore")  # fmt: skip


render(st.session_state["healthdeck_ctx"])

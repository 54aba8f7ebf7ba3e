"""Small drawing helpers shared by the pages."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import PureWindowsPath
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from healthdeck.dashboard import charts, data, links
from healthdeck.dashboard.context import Ctx
from healthdeck.dashboard.text import md, md_prose
from healthdeck.reports.failures import number
from healthdeck.reports.gate import (
    NO_GO,
    against,
    age_limit_hours,
    condition_figures,
    ungated_new_failures,
    ungated_status,
)
from healthdeck.reports.render.review import figure
from healthdeck.reports.visible import visible

# Material icons: they render without an emoji font (headless browsers, locked-down desktops).
ICONS = {"GO": ":material/check_circle:", "NO-GO": ":material/block:", "INCOMPLETE": ":material/help:",
         "PASS": ":material/check:", "FAIL": ":material/close:", "UNKNOWN": ":material/question_mark:"}  # fmt: skip
VERDICTS = ("GO", "NO-GO", "INCOMPLETE")
DETAIL_CHARS = 240
NEW_IN_STRICT_SHOWN = 5
VIEW_LABELS = {"daily": "per day", "each run": "each run"}


# Figures in tables as the report writes them ("4 908", "99.67 %"), right-aligned: printf formats have no
# thousands separator and "localized" follows the viewer's language, so one figure would read two ways.
FIGURE_TEXT = st.column_config.TextColumn(alignment="right")


def counted(value: float | None) -> str:
    """A count for a table cell: '4 908', or '—' where it was not measured (not 'None')."""
    return "—" if value is None or value != value else number(int(value))


def missing(what: str, how: str) -> None:
    st.info(f"**No {what} yet.** {how}", icon=":material/info:")


def data_state(ctx: Ctx) -> None:
    """What the dashboard could not read, on every page: no report, an unreadable report, no history
    yet, an unreadable history are four different things and are told apart."""
    if ctx.src.config_problem:
        st.error(f"**Unreadable configuration**, so the defaults are used. {md(ctx.src.config_problem)}",
                 icon=":material/error:")  # fmt: skip
    if ctx.report_problem:
        st.error(f"**Unreadable report.** {md(ctx.report_problem)}", icon=":material/error:")
    elif ctx.report is None and ctx.src.project and ctx.src.report.exists():
        missing("run of project " + md(ctx.src.project, code=True),
                f"`{ctx.src.report}` holds another project's run and the history store has none of this one: "
                "pick a project in the sidebar, or check `HEALTHDECK_PROJECT`.")  # fmt: skip
    elif ctx.unreported:
        where = f"of {md(ctx.branch, code=True)} " if ctx.branch else ""
        missing("report for this run", f"The newest run {where}in the history store was recorded without its "
                "report (before reports were stored, or imported from console output): the trends are drawn "
                "from the figures it has; the verdict and the tables need a run collected with this version.")  # fmt: skip
    elif ctx.report is None:
        missing(
            "report", f"`{ctx.src.report}` does not exist: run `healthdeck collect` (or `healthdeck demo`)."
        )
    if ctx.history_problem:
        st.error(f"**History unreadable.** {md(ctx.history_problem)}", icon=":material/database:")
    elif not ctx.src.history_exists:
        missing("history", f"{md(ctx.src.history, code=True)} does not exist yet: trends appear after `healthdeck collect` "
                           "has recorded runs.")  # fmt: skip
    elif not ctx.branches and data.newest_run(ctx.src.history, ctx.version) is None:
        missing("history", "The history store holds no run yet: trends appear after `healthdeck collect`.")


def verdict_banner(ctx: Ctx) -> None:
    verdict = ctx.verdict
    if verdict is None:
        return  # data_state already said why there is no report
    status = verdict["status"]
    trouble = [c for c in verdict["conditions"] if c["status"] != "PASS"]
    lines = [f"- {ICONS[c['status']]} **{md(label)}**: {md(actual)} ({against(c)} {md(threshold)})"
             + (f" — {md_prose(c['detail'], limit=DETAIL_CHARS)}" if c["detail"] else "")
             for c in trouble for label, actual, threshold in [condition_figures(c)]]  # fmt: skip
    if not verdict["conditions"]:
        st.warning(
            f"### {ICONS['INCOMPLETE']} No release checklist in force\n\nNothing was checked: this is not a GO."
        )
        return
    body = "\n".join(lines) if lines else "Every condition passes."
    new = ctx.new_failures.count if ctx.new_failures else None
    if warning := ungated_new_failures(verdict, new):  # our own words: a GO above new failures
        body += f"\n\n:material/warning: {warning}."
    if ctx.verdict_stored:
        shown = status if status in VERDICTS else md(status)
        heading = f"### {ICONS.get(status, ICONS['INCOMPLETE'])} {shown}"
        {"GO": st.success, "NO-GO": st.error}.get(status, st.warning)(f"{heading}\n\n{body}")
        return
    # No stored verdict: `healthdeck gate` has not decided on this run, so the banner never says GO.
    note = f"_Not gated yet: the checklist evaluated now says {md(status)}; `healthdeck gate` decides and stores it._"
    if ungated_status(status) == NO_GO:
        st.error(f"### {ICONS['NO-GO']} NO-GO\n\n{body}\n\n{note}")
    else:
        st.warning(f"### {ICONS['INCOMPLETE']} Not gated yet\n\n{body}\n\n{note}")


def compact(n: int) -> str:
    """1 882 -> "1.9k": KPI values must fit a quarter of a 1280 px screen."""
    return f"{n / 1000:.1f}k" if 1000 <= n < 10_000 else f"{n // 1000}k" if n >= 10_000 else str(n)


def conditions_compared(candidate: dict, baseline: dict) -> list[dict]:
    """One row per checklist item, the candidate's status beside the baseline's, then their figures, details
    last: two half-width tables cut every detail, and a narrow page still shows both statuses. An item only
    one side's checklist had is "—" on the other."""
    rows: dict[str, dict] = {}
    for side, verdict in (("candidate", candidate), ("baseline", baseline)):
        for c in verdict["conditions"]:
            label, actual, threshold = condition_figures(c)
            row = rows.setdefault(label, {"condition": label, "threshold": threshold, "candidate": "—",
                                          "baseline": "—", "candidate value": "", "baseline value": "",
                                          "candidate detail": "", "baseline detail": ""})  # fmt: skip
            if threshold != row["threshold"]:  # the checklists differ on this item: show both
                row["threshold"] += f" (baseline {threshold})"
            row.update({side: c["status"], f"{side} value": actual, f"{side} detail": c["detail"]})
    return list(rows.values())


def run_shown(ctx: Ctx, what: str) -> None:
    """Say which run `what` (the verdict, cards, tables) come from when the trends show another scope:
    the branch filter moves the trends, while those show the report's one run."""
    if not ctx.report or not ctx.history_ok:
        return  # no trends: nothing to tell apart
    branch = ctx.summary.get("branch")
    if ctx.branch is not None and ctx.branch == branch:
        return
    sha = ctx.summary.get("git_sha") or ctx.summary.get("run_key") or "unknown"
    where = f" on {md(branch, code=True)}" if branch else ""
    trends = f"branch {md(ctx.branch, code=True)}" if ctx.branch else "all branches"
    st.caption(f"{what}: the report's run ({md(sha, code=True)}{where}); trends: {trends}.")


def provenance(ctx: Ctx) -> None:
    s = ctx.summary
    if not s:
        return
    age_h = (time.time() - s["ts"]) / 3600
    limit = age_limit_hours(ctx.src.config.gates)
    made = time.strftime(
        "%Y-%m-%d %H:%M UTC", time.gmtime(s["ts"])
    )  # ts is always there; the ISO text may not be
    parts = [f"commit {md(s.get('git_sha') or 'unknown', code=True)}",
             f"branch {md(s.get('branch') or 'unknown', code=True)}", f"made {made}"]  # fmt: skip
    if ctx.baseline:
        gated = "as gated" if ctx.verdict_stored else "as collected"
        how = gated if ctx.baseline_spec.startswith("run:") else ctx.baseline_spec  # a run key says nothing
        parts.append(f"baseline {md(ctx.baseline.short_sha or ctx.baseline.run_key, code=True)} on "
                     f"{md(ctx.baseline.branch or 'no branch', code=True)} ({md(how)})")  # fmt: skip
    st.caption(" · ".join(parts))
    config_notes(ctx)
    if limit is not None and age_h > limit:  # CI has not reported for longer than the checklist allows
        age = f"{age_h:.0f} hours" if age_h < 72 else f"{age_h / 24:.0f} days"
        st.warning(
            f"No newer run: this one is about {age} old, more than the {limit:g} h the checklist allows a "
            "report before a release.",
            icon=":material/schedule:",
        )


def config_notes(ctx: Ctx) -> None:
    """Which configuration the figures are read with, where the report's own and the local one disagree."""
    notes = ctx.src.config_notes
    if notes:
        differ = (
            f"{len(notes)} {'setting differs' if len(notes) == 1 else 'settings differ'} from the local one"
        )
        with st.expander(f"Configuration in force: the report's own — {differ}", icon=":material/tune:"):
            st.markdown("\n".join(f"- {md(n)}" for n in notes))


def change(now: float | None, base: float | None, *, unit: str, higher_is_better: bool) -> dict:
    """st.metric's delta arguments for a change ("+1.20 pts", "+3"; `unit` "percent" or "count"): red only
    when it is worse, grey and arrowless when nothing changed, nothing at all without a baseline."""
    if now is None or base is None:
        return {}
    text = figure(now - base, unit, signed=True)
    if text == "no change":
        return {"delta": text, "delta_color": "off", "delta_arrow": "off"}
    return {"delta": text, "delta_color": "normal" if higher_is_better else "inverse"}


def chart(fig: go.Figure, name: str, alt: str, key: str | None = None) -> None:
    """Every plotly chart: one shared config (named PNG, trimmed toolbar) and alt text."""
    st.plotly_chart(fig, key=key or name, config=charts.chart_config(name), alt=alt)


@st.cache_resource(max_entries=64, ttl=6 * 3600, show_spinner=False)
def _trend_figure(url: str, version: str, project: str | None, branch: str | None, since_ts: int | None,
                  builder: str, columns: tuple[tuple[str, str], ...], view: charts.View, options: tuple,
                  alt: tuple) -> tuple[go.Figure, str]:  # fmt: skip
    """A trend figure and its alt text, built once per data version, project, window and view. A resource
    cache: the figure is handed out as is (pickling a plotly figure would validate it all over again)."""
    frame = data.window_trend(url, version, project, branch, since_ts, columns)
    releases = data.release_marks(url, version, project, branch, since_ts)
    fig = getattr(charts, builder)(frame, **dict(options), view=view, releases=releases)
    return fig, charts.describe(frame, *alt, view=view, stacked=builder == "ruff_trend")


def trend_chart(ctx: Ctx, name: str, builder: str, metrics: dict[str, str], view: charts.View,
                alt: tuple[str, str, str, float], key: str, **options: object) -> None:  # fmt: skip
    """Draw charts.<builder>(the window's `metrics`, renamed, **options); `alt`: (column, what, unit, scale)."""
    fig, text = _trend_figure(ctx.src.history, ctx.version, ctx.src.project, ctx.branch, ctx.since_ts, builder,
                              tuple(metrics.items()), view, tuple(options.items()), alt)  # fmt: skip
    chart(fig, name, text, key)


def mixed_coverage_note(ctx: Ctx) -> None:
    """Under a coverage trend whose window holds runs that measured branches and runs that did not: the
    line mixes two measures (statements + branches, statements only), which a step in it would hide."""
    frame = data.window_trend(ctx.src.history, ctx.version, ctx.src.project, ctx.branch, ctx.since_ts,
                              (("coverage.percent", "total"), ("coverage.branches_percent", "branches")))  # fmt: skip
    measured = frame[frame["total"].notna()]
    with_branches = int(measured["branches"].notna().sum())
    if 0 < with_branches < len(measured):
        st.caption(f"{number(with_branches)} of {number(len(measured))} runs in {md(ctx.scope)} measured branches, "
                   "the others statements only: the total mixes the two measures (a step between them is no "
                   "change of coverage; the overview's change compares one measure on both sides).")  # fmt: skip


def trend_view(ctx: Ctx, key: str = "view") -> charts.View:
    """Per day or each run; per day by default above charts.AGGREGATE_ABOVE runs in the window."""
    runs = len(ctx.runs)
    default = charts.default_view(runs)
    view = links.choice("Trend", list(charts.VIEWS), key, default, control="segmented",
                        format_func=VIEW_LABELS.get,
                        help=f"Above {charts.AGGREGATE_ABOVE} runs in the window trends are drawn per day: the "
                             "daily median with the day's min–max band. 'each run' draws the newest "
                             f"{charts.MAX_RAW} runs one by one.")  # fmt: skip
    if view == "each run" and runs > charts.MAX_RAW:
        st.caption(
            f"Each run: the newest {number(charts.MAX_RAW)} of {number(runs)} runs in {md(ctx.scope)}."
        )
    return view


def dataframe(data: object, **kwargs: Any) -> Any:
    """st.dataframe of text as it reads: test ids, messages, paths and names come from artifacts and git,
    and a terminal escape or a direction override in them (`test_a\u202egnp.exe` showed as
    `test_aexe.png`) is dropped, as in every Markdown sink. The caller's frame is left as it is (it may
    be a cached one)."""
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    texts = [
        c
        for c in frame.columns
        if pd.api.types.is_object_dtype(frame[c]) or pd.api.types.is_string_dtype(frame[c])
    ]
    if texts:
        frame = frame.assign(
            **{c: frame[c].map(lambda v: visible(v) if isinstance(v, str) else v) for c in texts}
        )
    return st.dataframe(frame, **kwargs)


@contextlib.contextmanager
def history_said() -> Iterator[None]:
    """A page or a fragment that meets a row of a shared store no healthdeck wrote so says it where it
    met it, in one line, never Streamlit's error page (a fragment's errors never reach the page's)."""
    try:
        yield
    except data.HistoryError as exc:
        st.error(f"**History unreadable.** {md(str(exc))}", icon=":material/database:")


def trends(ctx: Ctx, draw: Callable[[charts.View], None], key: str = "view") -> None:
    """A view toggle and the charts it changes, rerun alone when the toggle moves (st.fragment)."""

    @st.fragment
    def panel() -> None:
        with history_said():
            draw(trend_view(ctx, key))

    with st.spinner(f"Loading the runs of {md(ctx.scope)}…"):
        _ = ctx.runs  # load the window under the spinner, before the toggle asks its size
    panel()


def deny_delta(ctx: Ctx, key: str) -> None:
    g = ctx.summary.get("guardian") or {}
    if not g.get("permissive"):
        missing(
            "Guardian deny deltas",
            "Give `--guardian-permissive` and `--guardian-strict` decision logs to collect.",
        )
        return

    @st.fragment
    def panel() -> None:
        dim = links.choice(
            "Deny delta by", ["rule", "tenant", "action"], f"{key}_dim", "rule", control="segmented"
        )
        field = {"rule": "rule_id", "tenant": "tenant", "action": "action"}[dim]
        new = {row[field] for row in ctx.details.get("guardian", {}).get("new_in_strict", [])}
        rows = g["delta"][f"by_{dim}"]
        total = (g.get("delta_total") or {}).get(f"by_{dim}", len(rows))  # schema 1.8+: the table may be cut
        which = f"the {len(rows)} largest of {number(total)}" if total > len(rows) else str(len(rows))
        chart(charts.deny_delta(rows, dim, new), f"deny-delta-by-{dim}", key=f"{key}_deny",
              alt=f"Permissive would-deny versus strict deny per 1 000 decisions for {which} {dim}s; "
                  f"{len(new)} new in strict.")  # fmt: skip

    panel()
    if g["new_in_strict"]:
        combos = ctx.details["guardian"]["new_in_strict"]
        total = ctx.details["guardian"].get(
            "new_in_strict_total", len(combos)
        )  # the report's list may be cut
        shown = ", ".join(f"{md(r['rule_id'], code=True)} {md(r['tenant'])} {md(r['action'], code=True)}"
                          for r in combos[:NEW_IN_STRICT_SHOWN])  # fmt: skip
        listed = min(len(combos), NEW_IN_STRICT_SHOWN)
        cut = f" (the first {listed} of {number(total)} combinations)" if total > listed else ""
        st.error(f"**{number(g['new_in_strict'])} requests are denied in strict** under rules, tenants and actions "
                 f"that never would-deny in permissive: {shown}{cut}")  # fmt: skip
    st.caption(md(ctx.details.get("guardian", {}).get("note", "")))


def openapi_changes(summary: dict, details: dict | None, *, baseline: dict | None = None) -> None:
    """The OpenAPI diff of a run: exact counts (and the baseline's, on a review), and every change when
    the run's details are at hand (`details` None: only the summary is)."""
    api = summary.get("openapi")
    if not api:
        missing("OpenAPI diff", "Give `healthdeck collect --openapi BASE HEAD` (two spec files) or "
                "`--openapi-report FILE` (npm openapi-diff or oasdiff output).")  # fmt: skip
        return
    files = ", ".join(md(PureWindowsPath(str(f)).name, code=True) for f in api.get("files") or [])
    before = (baseline or {}).get("openapi")
    was = f" (baseline: {number(before['breaking'])} breaking)" if before else ""
    text = (f"**{number(api['breaking'])} breaking OpenAPI {'change' if api['breaking'] == 1 else 'changes'}**, "
            f"{number(api['non_breaking'])} non-breaking{was} — {md(api.get('source') or '?')}"
            + (f" on {files}" if files else ""))  # fmt: skip
    (st.error if api["breaking"] else st.success)(text, icon=":material/api:")
    if details is None:
        return
    changes = details.get("openapi") or []
    if changes:
        columns = ["breaking", "rule", "method", "path", "location", "message"]
        # a document-level change (a path added) has no method: shown blank, not "None"
        dataframe(pd.DataFrame(changes).reindex(columns=columns).fillna(""), hide_index=True)
    shown = sum(1 for c in changes if c.get("breaking"))
    if shown < api["breaking"]:
        st.caption(f"{number(api['breaking'])} breaking changes — showing {number(shown)}")


def table_or(
    rows: list, empty: str, column_config: dict | None = None, column_order: list[str] | None = None
) -> None:
    """The rows as a table (`column_order`: only those columns), or a success note saying why there is none."""
    if rows:
        dataframe(rows, hide_index=True, column_config=column_config, column_order=column_order)
    else:
        st.success(empty)


def new_run_notice(ctx: Ctx) -> None:
    """Tell the lead when a run lands while the page is open (checked every [tool.healthdeck.dashboard]
    recheck_seconds: a partial rerun that reads the store's version, and the newest run when it moved)."""
    every = ctx.src.config.dashboard.recheck_seconds
    if not ctx.history_ok or not every:
        return
    # the branch the page shows: a pull request's run landing is no news to a view of main
    shown = data.latest_run(ctx.src.history, ctx.version, ctx.src.project, ctx.branch)

    @st.fragment(run_every=every)
    def watch() -> None:
        version = data.history_version(ctx.src.history)
        if version == ctx.version:
            return
        try:
            newest = data.latest_run(ctx.src.history, version, ctx.src.project, ctx.branch)
        except data.HistoryError:  # the page says it on the next full run: no error every few seconds
            return
        if newest is None or (shown is not None and newest["run_key"] == shown["run_key"]):
            return
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(int(newest["ts"])))
        st.info(f"**A new run landed**: commit {md(newest['sha'] or '?', code=True)} on {md(newest['branch'] or '?', code=True)} "
                f"at {when} UTC.", icon=":material/fiber_new:")  # fmt: skip
        if st.button("Show it", key="show_new_run", icon=":material/refresh:"):
            st.rerun()

    watch()

"""Everything a page needs for one rerun: the filters, the report, the history around it, the verdict.

Built once per rerun from cached loaders. What is cheap (the report, the verdict, the filters) is
ready at once, so the banner and the KPI cards paint first; the window's runs and metrics load when a
chart asks for them. The verdict comes from `reports.gate` (stored by `healthdeck gate`, or evaluated
the same way when the report was not gated yet), never from the UI.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property

import pandas as pd
import streamlit as st

from healthdeck.collectors.errors import exception_text
from healthdeck.reports.context import compared_with
from healthdeck.reports.context import context as failure_context
from healthdeck.reports.failures import failure_counts
from healthdeck.reports.gate import pass_rate_minimums, smoke_suite
from healthdeck.reports.history.baselines import NewFailures
from healthdeck.reports.history.store import Run
from healthdeck.reports.report_config import effective_config
from healthdeck.reports.review import evaluated_here
from healthdeck.reports.stamp import utc_text

from . import data, links
from .text import md

WINDOWS = {"7d": 7, "30d": 30, "90d": 90, "1y": 365, "all": None}
WINDOW_LABELS = {"7d": "7 days", "30d": "30 days", "90d": "90 days", "1y": "1 year", "all": "all time"}
DEFAULT_WINDOW = "90d"
ALL_BRANCHES = "all branches"
RECENT = 30  # the recent runs each KPI card gives the range of


def guardian_used(report: dict | None, config: data.Config) -> bool:
    """Guardian is one policy engine, not every project's: its page shows where the report has Guardian
    figures or expects them (`guardian` missing), or the configuration names Guardian or its Prometheus."""
    s = (report or {}).get("summary") or {}
    return bool(
        s.get("guardian") is not None
        or "guardian" in (s.get("missing") or [])
        or config.uses_guardian
        or os.environ.get("HEALTHDECK_PROMETHEUS")
    )


def uses_guardian(ctx: Ctx) -> bool:
    return guardian_used(ctx.report, ctx.src.config)


def uses_openapi(ctx: Ctx) -> bool:
    """The report has an OpenAPI diff, or the checklist still asks for one (a project without an HTTP API
    drops the item with `openapi_breaking_max = false`, and then sees no OpenAPI section)."""
    return (ctx.summary or {}).get(
        "openapi"
    ) is not None or ctx.src.config.gates.openapi_breaking_max is not None


@dataclass
class Ctx:
    src: data.Source
    report: dict | None
    report_problem: str | None  # the report exists but cannot be read
    version: str
    history_problem: str | None  # the history exists but cannot be read
    branches: list[str]
    branch: str | None  # None: all branches
    window: str
    since_ts: int | None
    baseline_spec: str
    current: Run | None = None
    baseline: Run | None = None
    failures: list[dict] = field(default_factory=list)
    verdict: dict | None = None
    verdict_stored: bool = False
    new_failures: NewFailures | None = None  # failing now, not in the baseline (None: it cannot tell)
    unreported: bool = False  # the run shown is in the store without its report (an older or imported run)

    @property
    def history_error(self) -> str | None:
        return self.history_problem

    @property
    def history_ok(self) -> bool:
        return self.src.history_exists and self.history_problem is None

    @property
    def summary(self) -> dict:
        return (self.report or {}).get("summary") or {}

    @property
    def details(self) -> dict:
        return (self.report or {}).get("details") or {}

    @property
    def smoke(self) -> str | None:
        """The suite the checklist calls smoke (the gate's rule: the configured one, else the only one);
        None with several suites and none of that name, as the gate's item is then UNKNOWN."""
        if not self.summary.get("tests"):  # no report to ask: the trends need only the configured name
            return self.src.config.smoke_suite
        return smoke_suite(self.summary, self.src.config.smoke_suite)[0]

    @property
    def pass_rate_minimums(self) -> dict[str, float]:
        """Each suite's pass-rate threshold in the checklist in force (the gate's own rule)."""
        return pass_rate_minimums(self.src.config.gates, self.summary, self.src.config.smoke_suite)

    @property
    def scope(self) -> str:
        """Where the trends come from, in words: "main, last 90 days"."""
        where = self.branch or ALL_BRANCHES
        return f"{where}, {'all time' if self.window == 'all' else 'last ' + WINDOW_LABELS[self.window]}"

    @cached_property
    def runs(self) -> pd.DataFrame:
        """The window's runs (a slice of the project's runs, read once per history version)."""
        if not self.history_ok:
            return data._run_frame([])
        return data.load_runs(self.src.history, self.version, self.branch, self.since_ts, self.src.project)

    def metric_trend(self, columns: dict[str, str]) -> pd.DataFrame:
        """time, sha and the named metrics (renamed) of every run in the window."""
        if not self.history_ok:
            return data.trend(data._run_frame([]), pd.DataFrame(), columns)
        return data.window_trend(self.src.history, self.version, self.src.project, self.branch, self.since_ts,
                                 tuple(columns.items()))  # fmt: skip

    def recent(self, columns: dict[str, str]) -> pd.DataFrame:
        """The same for the newest RECENT runs of the branch, whatever the window: cheap, for the KPI cards."""
        if not self.history_ok:
            return data.trend(data._run_frame([]), pd.DataFrame(), columns)
        return data.recent_trend(
            self.src.history, self.version, self.src.project, self.branch, RECENT, columns
        )


@st.cache_data(**data.CACHE)
def _failures(origin: str, stamp: int, url: str, version: str, spec: str, project: str | None) -> tuple:
    report, _ = _report(origin, stamp, url, version)
    ctx = failure_context(report, data.store(url), spec, project=project)
    return ctx.current, ctx.baseline, ctx.failures, failure_counts(ctx).for_gate


def _report(origin: str, stamp: int, url: str, version: str) -> tuple[dict | None, str | None]:
    """origin "file:PATH" (stamp = its mtime) or "run:KEY" (a run stored in the history)."""
    kind, _, where = origin.partition(":")
    if kind == "file":
        return data.load_report(where, stamp)
    try:
        return data.load_stored_report(url, version, where), None
    except data.HistoryError as exc:  # a stored report no healthdeck wrote so: "unreadable report", said
        return None, str(exc)


def load(src: data.Source, version: str) -> tuple[dict | None, str | None, str, int, str | None]:
    """(report, report problem, origin, stamp, history problem): the report file when there is one, else
    the project's newest stored run, so the dashboard works from HEALTHDECK_HISTORY alone."""
    mtime = data.mtime(src.report)
    local, problem = data.load_report(str(src.report), mtime) if mtime else (None, None)
    if problem or (local is not None and src.project in (None, local["summary"].get("project"))):
        return local, problem, f"file:{src.report}", mtime, None
    if not src.history_exists:
        return None, None, "", 0, None
    try:
        run = data.load_latest_run(src.history, version, src.project or src.config.project)
    except Exception as exc:  # an unreadable store is shown on every page, never a traceback
        return None, None, "", 0, exception_text(exc)
    if run is None:
        return None, None, "", 0, None
    report, problem = _report(f"run:{run.run_key}", 0, src.history, version)
    return report, problem, f"run:{run.run_key}", 0, None


def report_for_pages(src: data.Source) -> dict | None:
    """The report that decides which pages are listed (Guardian's only where it is used); None when
    nothing can be read (build() then says why)."""
    try:
        return load(src, data.history_version(src.history) if src.history_exists else "")[0]
    except Exception:  # build() shows the problem on the page
        return None


def _with_report_config(src: data.Source, report: dict | None) -> data.Source:
    """The report's own configuration (prod lanes, smoke suite, checklist) wins over the local one."""
    if not report:
        return src
    config, notes = effective_config(report, src.config)
    project = src.project or report["summary"].get("project")
    return replace(src, config=config, project=project, config_notes=tuple(notes))


@st.cache_data(**data.CACHE)
def _project_names(url: str, version: str) -> list[str]:
    return [name for name in data.store(url).project_names() if name is not None]


def project_picker(src: data.Source, version: str) -> data.Source:
    """With several projects in the store, the one to show (kept in the URL); the default is the
    configured project (HEALTHDECK_PROJECT), else the report file's, else the first by name."""
    if not src.history_exists:
        return src
    try:
        names = _project_names(src.history, version)
    except Exception:  # the pages say the history cannot be read
        return src
    if len(names) < 2:
        asked = st.query_params.get("project")
        if asked is not None and asked not in names:  # a link from a shared store's dashboard, say
            links.notice(f"The link asks for project {md(asked, code=True)}, which this history store does not "
                         f"hold; showing {md(names[0] if names else 'its runs', code=True)}.")  # fmt: skip
        return src
    mtime = data.mtime(src.report)
    local = data.load_report(str(src.report), mtime)[0] if mtime else None
    default = src.project or (local or {}).get("summary", {}).get("project")
    default = default if default in names else names[0]
    with st.sidebar:
        picked = links.choice("Project", names, "project", default,
                              help="Projects sharing this history store; All projects compares them")  # fmt: skip
    return replace(src, project=picked)


def gated_baseline(report: dict | None) -> tuple[str, str]:
    """(spec, label) of the baseline the report's run was compared with (the gate's, else collect's),
    where the store can find it: the default of the Baseline filter, so the cards, the triage and the
    banner's verdict speak of one run, as the PR comment does. A report:/git: file baseline lives on
    the CI runner only. The label names the run by commit and branch, not by its run key."""
    spec = compared_with(report) if report else None
    if not spec or spec.split(":", 1)[0] not in ("previous", "branch", "run", "tag", "sha"):
        return "previous", "previous"
    details = (report or {}).get("details") or {}
    gated = bool(report["summary"].get("verdict"))
    decided = details.get("verdict") if gated else details.get("checklist")
    ref = (decided or {}).get("baseline") or {}
    how = "as gated" if gated else "as collected"  # nobody gated the run: collect's comparison
    if spec.startswith("run:") and ref.get("git_sha"):
        return spec, f"{how}: {ref['git_sha']} on {ref.get('branch') or 'no branch'}"
    return spec, f"{how}: {spec}"


def sidebar_filters(branches: list[str], default_branch: str | None, show: tuple[str, ...],
                    gated: tuple[str, str] | Callable[[str | None], tuple[str, str]] = ("previous", "previous"),
                    ) -> tuple:  # fmt: skip
    """Branch, window and baseline, kept in the URL so a pasted link shows the same view. `gated` (the
    Baseline filter's default) may be asked for once the branch is known: the run it speaks of can
    depend on the branch."""
    branch, window = default_branch, DEFAULT_WINDOW
    with st.sidebar:
        if show:  # a page without filters (All projects) gets no empty heading
            st.header("Filters")
        if "branch" in show:
            start = default_branch or ALL_BRANCHES
            others = [b for b in branches if b != default_branch]
            options = [start, *([ALL_BRANCHES] if start != ALL_BRANCHES else []), *others]
            choice = links.choice("Branch", options, "branch", start,
                                  help="Trends start on the default branch; feature branches are one choice away")  # fmt: skip
            branch = None if choice == ALL_BRANCHES else choice
        if "window" in show:
            window = links.choice("Window", list(WINDOWS), "window", DEFAULT_WINDOW,
                                  format_func=WINDOW_LABELS.get)  # fmt: skip
        gated, label = gated(branch) if callable(gated) else gated
        baseline = gated
        if "baseline" in show:
            options = list(dict.fromkeys([gated, "previous", *(f"branch:{b}" for b in branches)]))
            baseline = links.choice("Baseline", options, "baseline", gated,
                                    format_func=lambda v: label if v == gated else v,
                                    help="What deltas and new failures compare with: by default the run the "
                                         "verdict was decided against; the previous run, or a branch's latest run")  # fmt: skip
    return branch, window, baseline


def build(filters: tuple[str, ...] = ("branch", "window", "baseline")) -> Ctx:
    src = data.source()
    version, history_problem, branches = "", None, []
    if src.history_exists:
        try:
            version = data.history_version(src.history)
        except Exception as exc:  # any failure to read the store is shown, never a traceback
            history_problem = exception_text(exc)
    src = project_picker(src, version) if history_problem is None else src
    report, report_problem, origin, stamp, problem = load(src, version)
    history_problem = history_problem or problem
    local = src
    src = _with_report_config(src, report)
    if src.history_exists and history_problem is None:
        try:
            branches = data.load_branches(src.history, version, src.project)
        except Exception as exc:  # as above
            history_problem = exception_text(exc)
    default = data.default_branch(src.config, branches)
    if origin.startswith("file:") and report and report["summary"].get("branch") in branches:
        default = report["summary"]["branch"]  # the file's run, and the trends of its branch beside it

    def on_branch(branch: str | None) -> tuple[str, str]:
        """From the store alone, the banner, cards and tables show the newest run of the branch the
        trends show (by default the default branch), not a pull request's run that landed last; the
        Baseline filter then starts on that run's baseline. With a report file, the filter starts on the
        file's branch and they show the file's run; another branch shows its newest stored run."""
        nonlocal report, report_problem, origin, src
        # a run from the store or a report file (shown on its own branch, the default below): another
        # branch, picked or linked, moves the tables to that branch's newest stored run as the trends move
        if (
            origin
            and src.history_exists
            and branch
            and (report is None or report["summary"].get("branch") != branch)
        ):
            run = data.load_latest_run(src.history, version, src.project, branch)
            if run is not None:
                # an unreadable file stays said: the stored run shown instead may be older than CI's
                unreadable = report_problem if report is None and origin.startswith("file:") else None
                report, report_problem = _report(f"run:{run.run_key}", 0, src.history, version)
                if unreadable:
                    when = utc_text(run.ts, "%Y-%m-%d %H:%M UTC")
                    report_problem = (f"{unreadable} — shown instead: the newest stored run of {branch} "
                                      f"({run.short_sha}, {when}), which may be older than the run the file "
                                      "was written for")  # fmt: skip
                origin = f"run:{run.run_key}"
                src = _with_report_config(local, report)
        return gated_baseline(report)

    branch, window, spec = sidebar_filters(branches, default, filters, on_branch)
    ctx = Ctx(src, report, report_problem, version, history_problem, branches, branch, window,
              data.window_start(WINDOWS[window]), spec, unreported=report is None and origin.startswith("run:"))  # fmt: skip
    new: NewFailures | None = None
    if report and ctx.history_ok:
        try:
            ctx.current, ctx.baseline, ctx.failures, new = _failures(origin, stamp, src.history, version, spec,
                                                                     src.project)  # fmt: skip
            ctx.new_failures = new
        except Exception as exc:  # shown on every page, as above
            ctx.history_problem = exception_text(exc)
    if report and not ctx.history_ok:
        ctx.failures = [{**f, "suite": s, "status": "unknown", "flaky": False}
                        for s, d in ((report.get("details") or {}).get("tests") or {}).items() for f in d["failing"]]  # fmt: skip
    stored = (report or {}).get("details", {}).get("verdict")
    ctx.verdict, ctx.verdict_stored = stored, bool(stored)
    if report and not stored:
        ctx.verdict = evaluated_here(
            report["summary"],
            src.config,
            baseline=ctx.baseline.summary if ctx.baseline else None,
            new_failures=new,
        )
    return ctx

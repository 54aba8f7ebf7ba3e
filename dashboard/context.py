"""Everything a page needs for one rerun: the filters, the report, the history around it, the verdict.

Built once per rerun from cached loaders; the verdict comes from `reports.gate` (stored by
`healthdeck gate`, or evaluated the same way when the report was not gated yet), never from the UI.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace

import pandas as pd
import streamlit as st

from healthdeck.reports.config import Config
from healthdeck.reports.context import context as failure_context
from healthdeck.reports.failures import failure_counts
from healthdeck.reports.gate import evaluate
from healthdeck.reports.history.store import Run
from healthdeck.reports.report_config import effective_config

from . import data

WINDOWS = {"7 days": 7, "30 days": 30, "90 days": 90, "1 year": 365, "all": None}
BASELINES = ["previous", "branch:main"]


def uses_guardian(ctx: Ctx) -> bool:
    """Guardian is one policy engine, not every project's: its page shows where the report has Guardian
    figures or expects them (`guardian` missing), or the configuration names Guardian or its Prometheus."""
    s = (ctx.report or {}).get("summary") or {}
    return bool(
        s.get("guardian") is not None
        or "guardian" in (s.get("missing") or [])
        or ctx.src.config.uses_guardian
        or os.environ.get("HEALTHDECK_PROMETHEUS")
    )


@dataclass
class Ctx:
    src: data.Source
    report: dict | None
    version: str
    branch: str | None
    since_ts: int | None
    baseline_spec: str
    runs: pd.DataFrame
    metrics: pd.DataFrame
    current: Run | None
    baseline: Run | None
    failures: list[dict]
    verdict: dict | None
    verdict_stored: bool
    history_error: str | None = None

    @property
    def summary(self) -> dict:
        return (self.report or {}).get("summary") or {}

    @property
    def details(self) -> dict:
        return (self.report or {}).get("details") or {}

    @property
    def smoke(self) -> str | None:
        return headline_suite(self.summary, self.src.config.smoke_suite)

    def metric_trend(self, columns: dict[str, str]) -> pd.DataFrame:
        return data.trend(self.runs, self.metrics, columns)


@st.cache_data(show_spinner=False)
def _failures(origin: str, stamp: int, url: str, version: str, spec: str, project: str | None) -> tuple:
    report = _report(origin, stamp, url, version)
    ctx = failure_context(report, data.store(url), spec, project=project)
    return ctx.current, ctx.baseline, ctx.failures, failure_counts(ctx).for_gate


def _report(origin: str, stamp: int, url: str, version: str) -> dict | None:
    """origin "file:PATH" (stamp = its mtime) or "run:KEY" (a run stored in the history)."""
    kind, _, where = origin.partition(":")
    return data.load_report(where, stamp) if kind == "file" else data.load_stored_report(url, version, where)


def _load(src: data.Source, version: str) -> tuple[dict | None, str, int, str | None]:
    """(report, origin, stamp, error): the report file when there is one (and it is of the project
    picked), else the project's newest stored run, so the dashboard works from HEALTHDECK_HISTORY alone."""
    mtime = data._mtime(src.report)
    local = data.load_report(str(src.report), mtime) if mtime else None
    if local is not None and src.project in (None, local["summary"].get("project")):
        return local, f"file:{src.report}", mtime, None
    if not src.history_exists:
        return None, "", 0, None
    try:
        run = data.load_latest_run(src.history, version, src.project or src.config.project)
    except data.HistoryError as exc:
        return None, "", 0, str(exc)
    if run is None:
        return None, "", 0, None
    return _report(f"run:{run.run_key}", 0, src.history, version), f"run:{run.run_key}", 0, None


def _with_report_config(src: data.Source, report: dict | None) -> data.Source:
    """The report's own configuration (prod lanes, smoke suite, checklist) wins over the local one."""
    if not report:
        return src
    config, notes = effective_config(report, src.config)
    project = src.project or report["summary"].get("project")
    return replace(src, config=config, project=project, config_notes=tuple(notes))


def headline_suite(summary: dict, configured: str) -> str | None:
    """The suite a page headlines: the configured smoke suite if the report has it, else its first suite."""
    tests = summary.get("tests") or {}
    return configured if configured in tests else next(iter(tests), None)


def unstored_verdict(
    report: dict, config: Config, baseline: dict | None = None, new_failures: list[str] | None = None
) -> dict:
    """The checklist evaluated now, by the reports' own function, for a run `healthdeck gate` never
    decided on; the pages say so and never show it as GO."""
    return evaluate(report["summary"], config.gates, config.prod_lanes, smoke=config.smoke_suite,
                    baseline=baseline, new_failures=new_failures)  # fmt: skip


def sidebar_filters(branches: list[str]) -> tuple[str | None, int | None, str]:
    """Branch, window and baseline, kept in the URL so a pasted link shows the same view."""
    with st.sidebar:
        st.header("Filters")
        branch = st.selectbox("Branch", ["all branches", *branches], key="branch", bind="query-params")
        window = st.selectbox("Window", list(WINDOWS), index=2, key="window", bind="query-params")
        options = [*BASELINES, *(f"branch:{b}" for b in branches if f"branch:{b}" not in BASELINES)]
        baseline = st.selectbox("Baseline", options, key="baseline", bind="query-params",
                                help="What deltas compare with: the previous run, or a branch's latest run")  # fmt: skip
    days = WINDOWS[window]
    since = int(time.time()) - days * 86_400 if days else None
    return (None if branch == "all branches" else branch), since, baseline


@st.cache_data(show_spinner=False, max_entries=16)
def _project_names(url: str, version: str) -> list[str]:
    return [name for name in data.store(url).project_names() if name is not None]


def project_picker(src: data.Source, version: str) -> data.Source:
    """With several projects in the store, the one to show (kept in the URL); the default is the
    configured project (HEALTHDECK_PROJECT), else the report file's, else the first by name."""
    if not src.history_exists:
        return src
    try:
        names = _project_names(src.history, version)
    except data.HistoryError:
        return src  # the pages say the history cannot be read
    if len(names) < 2:
        return src
    mtime = data._mtime(src.report)
    local = data.load_report(str(src.report), mtime) if mtime else None
    default = src.project or (local or {}).get("summary", {}).get("project")
    default = default if default in names else names[0]
    with st.sidebar:
        picked = st.selectbox("Project", names, index=names.index(default), key="project", bind="query-params",
                              help="Projects sharing this history store; All projects compares them")  # fmt: skip
    return replace(src, project=picked)


def build() -> Ctx:
    src = data.source()
    version = data.history_version(src.history)
    src = project_picker(src, version)
    report, origin, stamp, error = _load(src, version)
    src = _with_report_config(src, report)
    branches: list[str] = []
    if src.history_exists and error is None:
        try:
            branches = data.load_branches(src.history, version, src.project)
        except data.HistoryError as exc:
            error = str(exc)
    branch, since, spec = sidebar_filters(branches)
    runs, metrics = pd.DataFrame(columns=["run_id", "time", "sha", "ts"]), pd.DataFrame()
    current = baseline = None
    failures: list[dict] = []
    new: list[str] | None = None
    if src.history_exists and error is None:
        runs = data.load_runs(src.history, version, branch, since, src.project)
        prefixes = ("tests.", "coverage.lanes.", "ruff.", "compileall.")
        metrics = data.load_metrics(
            src.history, version, branch, since, data.HEADLINE_METRICS, prefixes, src.project
        )
        if report:
            current, baseline, failures, new = _failures(
                origin, stamp, src.history, version, spec, src.project
            )
    elif report:
        failures = [{**f, "suite": s, "status": "unknown", "flaky": False}
                    for s, d in ((report.get("details") or {}).get("tests") or {}).items() for f in d["failing"]]  # fmt: skip
    stored = (report or {}).get("details", {}).get("verdict")
    verdict = stored
    if report and not stored:
        verdict = unstored_verdict(report, src.config, baseline.summary if baseline else None, new)
    return Ctx(src, report, version, branch, since, spec, runs, metrics, current, baseline, failures, verdict,
               bool(stored), error)  # fmt: skip

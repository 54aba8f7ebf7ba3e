"""Where the dashboard's data comes from, loaded once and cached until the files change.

The dashboard reads latest.json and the history store only, and the store alone is enough: without a
report file it shows the project's newest stored run. Paths come from the environment that
`healthdeck dashboard` sets (HEALTHDECK_REPORT, HEALTHDECK_HISTORY, HEALTHDECK_CONFIG,
HEALTHDECK_PROJECT), else from the project's [tool.healthdeck] config. The store is opened read-only.
Caches are keyed on the report's and the SQLite file's modification times, so a new
`healthdeck collect` shows up on the next rerun.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from healthdeck.reports.config import Config, load_config
from healthdeck.reports.history.store import (
    HistoryError,
    HistoryStore,
    ProjectSummary,
    Run,
    default_url,
    open_store,
    store_exists,
)
from healthdeck.reports.stamp import resolve_project

HEADLINE_METRICS = ("coverage.percent", "ruff.total", "compileall.failures", "guardian.permissive.would_deny",
                    "guardian.strict.denied", "guardian.new_in_strict", "guardian.permissive.decisions",
                    "guardian.strict.decisions")  # fmt: skip


@dataclass(frozen=True)
class Source:
    config: Config  # the configuration in force: the report's own once a report is loaded (see context.py)
    report: Path
    history: str
    project: str | None = None  # HEALTHDECK_PROJECT, else the local one; the report's once loaded
    config_notes: tuple[str, ...] = ()  # where the report's configuration and the local one disagree

    @property
    def history_exists(self) -> bool:
        return store_exists(self.history)


def source() -> Source:
    path = os.environ.get("HEALTHDECK_CONFIG")
    # "" = the project has no pyproject: the defaults, never the pyproject nearest this process's folder
    # (`healthdeck dashboard` runs Streamlit in dashboard/, inside healthdeck's own checkout).
    config = Config() if path == "" else load_config(path or None)
    report = Path(os.environ.get("HEALTHDECK_REPORT") or Path(config.out) / "latest.json")
    history = os.environ.get("HEALTHDECK_HISTORY") or config.history or default_url(report.parent)
    project = os.environ.get("HEALTHDECK_PROJECT") or None
    return Source(config, report, history, project)


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def history_version(url: str) -> str:
    """Changes whenever the history changes: SQLite file times; other databases every 30 s."""
    if url.startswith("sqlite:///"):
        db = Path(url.removeprefix("sqlite:///"))
        return f"{_mtime(db)}:{_mtime(db.with_name(db.name + '-wal'))}"
    return str(int(time.time() // 30))


@st.cache_data(show_spinner=False)
def load_report(path: str, mtime_ns: int) -> dict | None:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


@st.cache_resource(show_spinner=False)
def store(url: str) -> HistoryStore:
    return open_store(url, readonly=True)


@st.cache_data(show_spinner=False)
def load_stored_report(url: str, version: str, run_key: str) -> dict | None:
    """The full report stored with a run (None for runs stored before reports were)."""
    run = store(url).run(run_key)
    return store(url).report(run) if run else None


@st.cache_data(show_spinner=False)
def load_latest_run(url: str, version: str, project: str | None) -> Run | None:
    """The newest run of `project`; with none named: of the store's only project, else of the project
    this folder resolves to, else the newest run of any project."""
    s = store(url)
    if project is not None:
        return s.latest(project)
    names = s.project_names()
    if len(names) == 1:
        return s.latest(names[0])
    return s.latest(resolve_project(Path.cwd(), None)[0]) or s.latest()


@st.cache_data(show_spinner=False)
def load_projects(
    url: str, version: str, names: tuple[str, ...], prefixes: tuple[str, ...]
) -> list[ProjectSummary]:
    """Every project of the store with its newest run and sparkline series of the named metrics."""
    return store(url).projects(names=names, prefixes=prefixes)


@st.cache_data(show_spinner=False)
def load_runs(
    url: str, version: str, branch: str | None, since_ts: int | None, project: str | None = None
) -> pd.DataFrame:
    rows = store(url).run_table(project=project, branch=branch, since_ts=since_ts)  # no summaries: cheap
    frame = pd.DataFrame(
        [{"run_id": r["id"], "run_key": r["run_key"], "ts": r["ts"], "sha": (r["git_sha"] or "")[:8],
          "branch": r["branch"], "verdict": r["verdict"], "approximate": bool(r["approximate"]),
          "source": r["source"]} for r in rows],
        columns=["run_id", "run_key", "ts", "sha", "branch", "verdict", "approximate", "source"],
    )  # fmt: skip
    frame["time"] = pd.to_datetime(frame["ts"], unit="s", utc=True)
    return frame


@st.cache_data(show_spinner=False)
def load_metrics(
    url: str,
    version: str,
    branch: str | None,
    since_ts: int | None,
    names: tuple[str, ...],
    prefixes: tuple[str, ...],
    project: str | None = None,
) -> pd.DataFrame:
    """One row per run (index run_id), one column per metric."""
    rows = store(url).metric_table(names, prefixes, branch=branch, since_ts=since_ts, project=project)
    if not rows:
        return pd.DataFrame()
    return pd.DataFrame(rows, columns=["run_id", "name", "value"]).pivot(
        index="run_id", columns="name", values="value"
    )


@st.cache_data(show_spinner=False)
def load_run(url: str, version: str, run_key: str) -> Run | None:
    return store(url).run(run_key)


@st.cache_data(show_spinner=False)
def load_failing(url: str, version: str, run_id: int) -> dict[tuple[str, str], str]:
    return store(url).failing_of(run_id)


@st.cache_data(show_spinner=False)
def load_branches(url: str, version: str, project: str | None = None) -> list[str]:
    return store(url).branches(project)


def trend(runs: pd.DataFrame, metrics: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """time, sha and the given metrics (renamed) for every run, oldest first."""
    frame = runs[["run_id", "time", "sha"]].set_index("run_id")
    for name, label in columns.items():
        frame[label] = metrics[name] if name in metrics else float("nan")
    return frame.reset_index(drop=True)


__all__ = ["HistoryError", "Source", "source"]

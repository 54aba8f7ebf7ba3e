"""Where the dashboard's data comes from, loaded once and cached until the data changes.

The dashboard reads latest.json and the history store only. Paths come from the environment that
`healthdeck dashboard` sets (HEALTHDECK_REPORT, HEALTHDECK_HISTORY, HEALTHDECK_CONFIG), else from the
project's [tool.healthdeck] config.

Cache keys never hold a value that changes by itself: the report is keyed on its modification time,
the history on a version that changes only when a run lands (SQLite: the file's times; other
databases: the newest run id, asked at most every few seconds), and a dated window on the start of
its first day (UTC), so a rerun a second later hits the cache. Every cache is bounded.

The project's runs and each set of trend metrics are read once per history version: a first load
reads its window only (90 days of a 10 000-run store are a fifth of it) and, once the page has painted,
all time in the background (`read_the_rest`); every window and branch after that is a slice in pandas
and reads nothing.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from healthdeck.collectors.files import read_named
from healthdeck.dashboard.charts import Release
from healthdeck.reports.config import Config, ConfigError, load_config
from healthdeck.reports.errors import InputError
from healthdeck.reports.history import open_reader
from healthdeck.reports.history.reader import INDEX_FIELDS, HistoryReader
from healthdeck.reports.history.sqlite import SqliteHistory
from healthdeck.reports.history.store import (
    HistoryError,
    Run,
    store_exists,
)
from healthdeck.reports.history.trends import FlakyTest, flaky_tests
from healthdeck.reports.reading import history_url
from healthdeck.reports.report_file import parse_report
from healthdeck.reports.review import NOT_A_TAG, Review, default_baseline, review
from healthdeck.reports.stamp import resolve_project

DAY = 86_400
CACHE = {"max_entries": 64, "ttl": 6 * 3600, "show_spinner": False}  # every cache is bounded
# The project-wide frames are shared as they are, not copied per use (a pickle round trip each time):
# only this module hands out slices of them, and pandas' copy-on-write keeps every slice from writing back.
SHARED = {"max_entries": 16, "ttl": 6 * 3600, "show_spinner": False}
# A run's fields as a frame's columns (the store's id, git_sha and ts are run_id, sha and ts, plus time).
_COLUMN_OF = {"id": "run_id", "git_sha": "sha"}
# What the trends and the windows need of every run: read for all time at 10 000 runs, each field left
# out is some 1 ms a field in SQLite and as much to build (the release review reads the rest).
TREND_FIELDS = ("id", "git_sha", "branch", "version", "ts")


@dataclass(frozen=True)
class Source:
    config: Config  # the configuration in force: the report's own once a report is loaded (see context.py)
    report: Path
    history: str
    project: str | None = None  # HEALTHDECK_PROJECT, else the local one; the report's once loaded
    config_notes: tuple[str, ...] = ()  # where the report's configuration and the local one disagree
    config_problem: str | None = None  # the local configuration could not be read: the defaults are used

    @property
    def history_exists(self) -> bool:
        return store_exists(self.history)


def source() -> Source:
    path = os.environ.get("HEALTHDECK_CONFIG")
    # "" = the project has no pyproject: the defaults, never the pyproject nearest this process's folder
    # (`healthdeck dashboard` runs Streamlit in dashboard/, inside healthdeck's own checkout).
    problem = None
    try:
        config = Config() if path == "" else load_config(path or None)
    except ConfigError as exc:  # edited while the dashboard serves: said on every page, never a crash
        config, problem = Config(), str(exc)
    report = Path(os.environ.get("HEALTHDECK_REPORT") or config.report_path)
    history = history_url(None, config, report.parent)  # a URL that cannot be a store: said on every page
    project = os.environ.get("HEALTHDECK_PROJECT") or None
    return Source(config, report, history, project, config_problem=problem)


def mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def history_version(url: str) -> str:
    """Changes when a run lands: SQLite file times; other databases the newest run (asked every 5 s)."""
    if url.startswith("sqlite:///"):
        db = Path(url.removeprefix("sqlite:///"))
        return f"{mtime(db)}:{_wal_stamp(db.with_name(db.name + '-wal'))}"
    newest = newest_run(url, str(int(time.time() // 5)))
    return newest["run_key"] if newest else "empty"


def _wal_stamp(wal: Path) -> str:
    """The WAL file's time and size while it holds a write. A reader opening the store creates it empty,
    which changes nothing: counting that would make the second load after a dashboard start miss every
    cache."""
    try:
        stat = wal.stat()
    except OSError:
        return "0"
    return f"{stat.st_mtime_ns}+{stat.st_size}" if stat.st_size else "0"


@st.cache_data(**CACHE)
def load_report(path: str, mtime_ns: int) -> tuple[dict | None, str | None]:
    """(report, None), or (None, why it cannot be read)."""
    try:  # as every command reads it: size-capped, strict JSON, a healthdeck report of schema 1.x
        return parse_report(read_named(path), path), None
    except OSError as exc:
        return None, f"{path}: cannot read it: {exc.strerror or exc}"
    except InputError as exc:
        return None, str(exc)


class _OneAtATime:
    """A store whose reads take turns: the standard library's sqlite3 reader of a SQLite file holds one
    connection, and a dashboard's sessions run in threads of their own."""

    def __init__(self, reader: HistoryReader) -> None:
        self._reader, self._turn = reader, threading.RLock()

    def __getattr__(self, name: str):
        found = getattr(self._reader, name)
        if not callable(found):
            return found

        def in_turn(*args, **kwargs):
            with self._turn:
                return found(*args, **kwargs)

        return in_turn


@st.cache_resource(show_spinner=False, max_entries=8)
def store(url: str) -> HistoryReader:
    """The store, read-only: a SQLite file through sqlite3 (no SQLAlchemy row overhead), one read at a
    time; other databases through SQLAlchemy, whose connection pool serves every session at once."""
    reader = open_reader(url, readonly=True)
    return _OneAtATime(reader) if isinstance(reader, SqliteHistory) else reader  # type: ignore[return-value]


@st.cache_data(**CACHE)
def load_stored_report(url: str, version: str, run_key: str) -> dict | None:
    """The full report stored with a run (None for runs stored before reports were)."""
    run = store(url).run(run_key)
    return store(url).report(run) if run else None


@st.cache_data(**CACHE)
def load_latest_run(url: str, version: str, project: str | None, branch: str | None = None) -> Run | None:
    """The newest run of `project` (on `branch` when given); with none named: of the store's only project,
    else of the project this folder resolves to, else the newest run of any project."""
    s = store(url)
    if project is not None:
        return s.latest(project, branch)
    names = s.project_names()
    if len(names) == 1:
        return s.latest(names[0], branch)
    return s.latest(resolve_project(Path.cwd(), None)[0], branch) or s.latest(None, branch)


def window_start(days: int | None, now: float | None = None) -> int | None:
    """The window's first day at 00:00 UTC: stable all day long, so it can key a cache."""
    if days is None:
        return None
    today = int((now if now is not None else time.time()) // DAY) * DAY
    return today - days * DAY


@dataclass
class _Widest:
    """The widest window of one history version read so far, shared by every session of the server.

    A first load reads its own window only; once the page has painted, `read_the_rest` reads all time in
    the background, so a wider window is a slice too by the time a lead clicks. A session that asks for
    more while that read runs waits for it rather than reading the same again."""

    since_ts: int | None = None  # the window's start; None: all time
    frame: pd.DataFrame | None = None  # None: nothing read yet
    widening: threading.Event | None = None  # set when the background read of all time ends
    lock: threading.Lock = field(default_factory=threading.Lock)

    def covering(
        self, since_ts: int | None, read: Callable[[], pd.DataFrame], read_all: Callable[[], pd.DataFrame]
    ) -> pd.DataFrame:
        """The frame of a window at least as wide as the one starting at `since_ts`, read now (`read`) if
        none is; a dated window then leaves `read_all` for after the page (`read_the_rest`)."""
        while True:
            with self.lock:
                wider = self.since_ts is None or (since_ts is not None and self.since_ts <= since_ts)
                if self.frame is not None and wider:
                    return self.frame
                pending = self.widening
                if pending is None:
                    self.frame, self.since_ts = read(), since_ts
                    if since_ts is not None:
                        with _LATER_LOCK:  # bounded: a page that never ends normally cannot grow it
                            _LATER[:] = [*_LATER[-(_MAX_LATER - 1) :], (self, read_all)]
                    return self.frame
            pending.wait()

    def widen(self, read_all: Callable[[], pd.DataFrame]) -> None:
        """Read all time (outside the lock: sessions keep slicing the window meanwhile), then keep it."""
        try:
            frame: pd.DataFrame | None = read_all()
        except Exception:  # the click that needs it reads it again and says what went wrong
            frame = None
        with self.lock:
            if frame is not None and self.since_ts is not None:
                self.frame, self.since_ts = frame, None
            done, self.widening = self.widening, None
        if done is not None:
            done.set()


_LATER: list[tuple[_Widest, Callable[[], pd.DataFrame]]] = []  # all-time reads left for after the page
_MAX_LATER = 64
_LATER_LOCK = threading.Lock()
_BACKGROUND: list[threading.Thread] = []


def read_the_rest() -> None:
    """After a page has painted: read all time for every window the page read alone, in one background
    thread (the page did not wait for it; a wider window after it is a slice)."""
    with _LATER_LOCK:
        later = list({id(holder): (holder, read_all) for holder, read_all in _LATER}.values())
        _LATER.clear()
    # only what still reads a dated window and is not being read already
    later = [
        (holder, read_all)
        for holder, read_all in later
        if holder.since_ts is not None and holder.widening is None
    ]
    if not later:
        return
    for holder, _ in later:
        with holder.lock:
            holder.widening = threading.Event()
    thread = threading.Thread(
        target=lambda: [holder.widen(read_all) for holder, read_all in later],
        name="healthdeck-read-the-rest",
        daemon=True,
    )
    _BACKGROUND[:] = [t for t in _BACKGROUND if t.is_alive()] + [thread]
    thread.start()


def background_done(timeout: float | None = None) -> bool:
    """Wait for the background reads (tests and the benchmark: a click after the page has settled)."""
    for thread in list(_BACKGROUND):
        thread.join(timeout)
    return not any(t.is_alive() for t in _BACKGROUND)


@st.cache_resource(**SHARED)
def _widest(url: str, version: str, project: str | None, what: tuple[str, ...]) -> _Widest:
    return _Widest()


def project_runs(url: str, version: str, project: str | None, since_ts: int | None = None) -> pd.DataFrame:
    """The project's runs (every project's with None) since `since_ts` (all time with None), every branch,
    oldest first, without their summaries: a slice of the widest window read in this history version."""
    reader = store(url)
    runs = _widest(url, version, project, ("runs",)).covering(
        since_ts,
        lambda: _run_frame(
            reader.run_rows(project=project, since_ts=since_ts, fields=TREND_FIELDS), TREND_FIELDS
        ),
        lambda: _run_frame(reader.run_rows(project=project, fields=TREND_FIELDS), TREND_FIELDS),
    )
    return window_of(runs, since_ts)


def window_of(runs: pd.DataFrame, since_ts: int | None, branch: str | None = None) -> pd.DataFrame:
    """The runs since `since_ts` (all with None) on `branch` (every branch with None): a slice."""
    runs = runs if since_ts is None else runs[runs["ts"] >= since_ts]
    return runs[runs["branch"] == branch] if branch else runs


@st.cache_resource(**SHARED)
def review_runs(url: str, version: str, project: str | None) -> pd.DataFrame:
    """Every field of the project's runs, all time, every branch: the release review's pickers name
    each run's key and verdict, which the trends' frame leaves out. Read when the review is opened."""
    return _run_frame(store(url).run_rows(project=project))


def load_runs(
    url: str, version: str, branch: str | None, since_ts: int | None, project: str | None
) -> pd.DataFrame:
    """The window's runs of the project on `branch` (None: every branch), oldest first, without their
    summaries: project_runs holds the window, a branch is a slice of it."""
    return window_of(project_runs(url, version, project, since_ts), None, branch)


def _run_frame(rows: list[tuple], fields: Sequence[str] = INDEX_FIELDS) -> pd.DataFrame:
    """The runs' rows (tuples of `fields`, INDEX_FIELDS or some of them) as a frame (run_id, sha: its
    first 8 characters, ...) with their time, built column by column (a frame from 10 000 records and its
    fix-ups cost a third more)."""
    values = dict(zip(fields, zip(*rows, strict=True) if rows else [()] * len(fields), strict=True))
    ts = np.array(values["ts"], dtype="int64")
    columns: dict[str, object] = {}
    for name, column in values.items():
        if name in ("id", "ts"):
            columns[_COLUMN_OF.get(name, name)] = ts if name == "ts" else np.array(column, dtype="int64")
        elif name == "git_sha":
            columns["sha"] = _texts([sha[:8] if sha else "" for sha in column])
        elif name == "verdict":
            columns[name] = np.array(column, dtype=object)
        elif name == "approximate":
            columns[name] = np.array(column, dtype=bool)
        else:
            columns[name] = _texts(column)
    return pd.DataFrame({**columns, "time": pd.to_datetime(ts, unit="s", utc=True)})


def _texts(values: Sequence[str | None]) -> list | np.ndarray:
    """A text column as pandas infers it (its string dtype, whose comparisons and regex search run in
    Arrow: Python strings cost less to build and far more to search), and an empty one as text, not float."""
    return list(values) if values else np.empty(0, dtype=object)


@st.cache_data(**CACHE)
def newest_run(url: str, version: str) -> dict | None:
    """The newest run of the store, any project's (key, commit, branch, time): one cheap query."""
    rows = store(url).run_index(limit=1)
    return rows[-1] if rows else None


@st.cache_data(**CACHE)
def recent_runs(url: str, version: str, project: str | None, branch: str | None, limit: int) -> pd.DataFrame:
    """The project's newest `limit` runs on `branch` (any with None), oldest first, whatever the window:
    one query down the store's (project, branch, time) index."""
    return _run_frame(store(url).run_rows(branch=branch, limit=limit, project=project))


def latest_run(url: str, version: str, project: str | None, branch: str | None = None) -> dict | None:
    """The project's newest run (run_key, sha, branch, ts) on `branch` (any with None), for "a new run has
    landed"."""
    runs = recent_runs(url, version, project, branch, 1)
    return runs.iloc[-1][["run_key", "sha", "branch", "ts"]].to_dict() if len(runs) else None


def project_metrics(
    url: str, version: str, project: str | None, names: tuple[str, ...], since_ts: int | None = None
) -> pd.DataFrame:
    """The named metrics of the project's runs since `since_ts`: one row per run (index run_id), one column
    per metric; rows of other runs may be there too (a trend aligns on the runs' ids). A slice of the
    widest window read in this history version and set of names."""
    runs = project_runs(url, version, project, since_ts)
    first = None if since_ts is None or runs.empty else int(runs["run_id"].min())
    reader = store(url)
    return _widest(url, version, project, ("metrics", *names)).covering(
        since_ts,
        lambda: _series_frame(reader.metric_series(names, project=project, from_run_id=first), names),
        lambda: _series_frame(reader.metric_series(names, project=project), names),
    )


def _pairs(rows: Sequence[tuple]) -> np.ndarray:
    """(run id, value) rows as an n×2 float array, without a Python sequence per row (2.5x faster)."""
    flat = np.fromiter(itertools.chain.from_iterable(rows), dtype=float, count=2 * len(rows))
    return flat.reshape(-1, 2)


def _series_frame(series: dict[str, list[tuple]], names: tuple[str, ...]) -> pd.DataFrame:
    """Each metric's (run id, value) pairs as one row per run (index run_id, ascending), one column per
    metric, NaN where a run lacks one: numpy places them (a pandas pivot of 50 000 rows cost 10 ms)."""
    pairs = [_pairs(series.get(name, ())) for name in names]
    ids = np.unique(np.concatenate([p[:, 0] for p in pairs])) if pairs else np.empty(0)
    values = np.full((len(ids), len(names)), np.nan)
    for column, p in enumerate(pairs):
        values[np.searchsorted(ids, p[:, 0]), column] = p[:, 1]
    return pd.DataFrame(values, index=pd.Index(ids.astype("int64"), name="run_id"), columns=list(names))


@st.cache_data(**CACHE)
def run_metrics(url: str, version: str, run_ids: tuple[int, ...], names: tuple[str, ...]) -> pd.DataFrame:
    """The named metrics of a few runs (the KPI cards' recent runs), shaped as `project_metrics`."""
    s = store(url)
    series: dict[str, list[tuple]] = {name: [] for name in names}
    for run_id in run_ids:
        for name, value in s.metrics_of(run_id).items():
            if name in series:
                series[name].append((run_id, value))
    return _series_frame(series, names)


@st.cache_data(**CACHE)
def load_run(url: str, version: str, run_key: str) -> Run | None:
    return store(url).run(run_key)


@st.cache_data(**CACHE)
def load_default_baseline(url: str, version: str, candidate_key: str) -> str | None:
    """The run key of the review's default baseline for the candidate (see reports.review)."""
    candidate = store(url).run(candidate_key)
    found = default_baseline(store(url), candidate) if candidate else None
    return found.run_key if found else None


@st.cache_data(**CACHE)
def load_review(
    url: str, version: str, candidate_key: str, base_key: str, checklist: str, _config: Config
) -> Review | None:
    """The release review of two stored runs (None when either is gone), with `_config`, the configuration
    in force, whose checklist (`checklist`, its text) keys the cache."""
    reader = store(url)
    candidate, baseline = reader.run(candidate_key), reader.run(base_key)
    return review(reader, candidate, baseline, _config) if candidate and baseline else None


@st.cache_data(**CACHE)
def load_run_metrics(url: str, version: str, run_id: int) -> dict[str, float]:
    return store(url).metrics_of(run_id)


@st.cache_data(**CACHE)
def load_branches(url: str, version: str, project: str | None = None) -> list[str]:
    return store(url).branches(project)


@st.cache_data(**CACHE)
def load_flaky(
    url: str, version: str, suite: str, branch: str | None, project: str | None = None
) -> list[FlakyTest]:
    return flaky_tests(store(url), suite, branch=branch, project=project)


def default_branch(config: Config, branches: list[str]) -> str | None:
    """The configured default branch, else main or master as seen in the store, else None (all)."""
    if config.default_branch:
        return config.default_branch
    return next((b for b in config.default_branches if b in branches), None)


def releases(runs: pd.DataFrame) -> pd.DataFrame:
    """The first run of each release tag, oldest first."""
    # reports.review.is_release over the column: its pattern, vectorised (a call per run cost 13 ms at 10 000)
    versions = runs["version"]
    tagged = (versions.fillna("") != "") & ~versions.str.contains(NOT_A_TAG, regex=True, na=True)
    return runs[tagged].sort_values("ts").drop_duplicates("version", keep="first")


@st.cache_data(**CACHE)
def release_marks(
    url: str, version: str, project: str | None, branch: str | None, since_ts: int | None
) -> list[Release]:
    return [
        Release(row.time, row.version)
        for row in releases(load_runs(url, version, branch, since_ts, project)).itertuples()
    ]


def window_trend(
    url: str, version: str, project: str | None, branch: str | None, since_ts: int | None,
    columns: tuple[tuple[str, str], ...],
) -> pd.DataFrame:  # fmt: skip
    """time, sha and the named metrics (renamed) of every run in the window, oldest first."""
    runs = load_runs(url, version, branch, since_ts, project)
    names = tuple(sorted(name for name, _ in columns))
    metrics = project_metrics(url, version, project, names, since_ts) if len(runs) else pd.DataFrame()
    return trend(runs, metrics, dict(columns))


def recent_trend(
    url: str, version: str, project: str | None, branch: str | None, limit: int, columns: dict[str, str]
) -> pd.DataFrame:
    """The same for the newest `limit` runs of the branch, whatever the window (KPI cards): their
    metrics are read for those runs only."""
    runs = recent_runs(url, version, project, branch, limit)
    metrics = run_metrics(url, version, tuple(int(i) for i in runs["run_id"]), tuple(sorted(columns)))
    return trend(runs, metrics, columns)


def trend(runs: pd.DataFrame, metrics: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """time, sha and the given metrics (renamed) for every run, oldest first."""
    frame = runs[["run_id", "time", "sha"]].set_index("run_id")
    for name, label in columns.items():
        frame[label] = metrics[name] if name in metrics else float("nan")
    return frame.reset_index(drop=True)


__all__ = ["HistoryError", "Source", "source"]

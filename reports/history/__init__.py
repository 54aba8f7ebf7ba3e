"""Run history: every collected report as a row with flat metrics and non-passing tests."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:
    from .reader import HistoryReader

# Here, not in trends.py, so the command-line help can name the specs without importing the store.
BASELINE_HELP = "previous | branch:NAME | tag:NAME | sha:PREFIX | run:KEY | report:PATH | git:REF"


def open_reader(
    url: str,
    *,
    readonly: bool = False,
    project: str | None = None,
    lock_timeout: float | None = None,
) -> HistoryReader:
    """The store a reading command opens: a SQLite file through sqlite3; PostgreSQL, in-memory SQLite,
    a URL with options, a file not there yet, or a store this opening must migrate through SQLAlchemy.

    `project`: who claims the runs recorded before projects existed, should this opening migrate;
    `lock_timeout`: seconds (default reader.DEFAULT_LOCK_TIMEOUT). Here, not in sqlite.py: it chooses
    between the two backends, which then import neither each other nor this (the help stays light)."""
    from .reader import DEFAULT_LOCK_TIMEOUT
    from .sqlite import SqliteHistory
    from .urls import sqlite_path

    lock_timeout = DEFAULT_LOCK_TIMEOUT if lock_timeout is None else lock_timeout

    path = sqlite_path(url)
    if path is not None and "?" not in url and path.exists():
        store = SqliteHistory(url, path, readonly=readonly, lock_timeout=lock_timeout)
        if not store.needs_migration:
            return store
        store.close()
    from .store import open_store

    return open_store(url, readonly=readonly, project=project, lock_timeout=lock_timeout)

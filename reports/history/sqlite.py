"""A SQLite history store through the standard library's `sqlite3`: what the reading commands open.

`gate`, `comment`, `badge` and `history show` run several times in every CI job; importing SQLAlchemy
would be most of what they cost. They read through `SqliteHistory` (the queries in reader.py, which
`HistoryStore` runs too) and `gate` stores its verdict through it. Anything else goes through
`HistoryStore` (store.py): PostgreSQL, appending runs, pruning, and a store whose schema is older than
this healthdeck's when the command may write (the migrations are SQLAlchemy).

The connection settings below are the only ones: `HistoryStore` opens its SQLite connections with them.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from .reader import (
    DEFAULT_LOCK_TIMEOUT,
    LOCK_SLICE_MS,
    HistoryError,
    HistoryReader,
    Query,
    check_schema,
    why,
)
from .urls import safe_url

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:
    from typing import TypeVar

    _T = TypeVar("_T")


def writer_settings(conn: sqlite3.Connection) -> None:
    """WAL lets readers run beside the writer; a short busy timeout makes parallel writers wait a little
    inside SQLite, then `_waiting` retries (and says so) until `lock_timeout`."""
    conn.isolation_level = None  # transactions are begun explicitly: BEGIN IMMEDIATE to write
    cursor = conn.cursor()
    cursor.execute(f"PRAGMA busy_timeout={LOCK_SLICE_MS}")
    if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":  # switching needs a lock
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def readonly_connector(url: str, path: Path) -> Callable[[], sqlite3.Connection]:
    """Connections through which nothing can be written. Where the store is writable a reader opens it
    read-write but query-only: a `mode=ro` reader of a WAL store creates its -wal and -shm files and,
    being read-only, cannot remove them when it closes. Elsewhere `mode=ro`, and on a read-only mount
    (where a WAL database cannot create its shared-memory file) `immutable=1`: nobody can be writing
    through a read-only mount, so there is nothing to lock against."""
    if not path.exists():
        raise HistoryError(f"{safe_url(url)}: no history store there")
    target = quote(str(path.resolve()))

    def connect(mode: str) -> sqlite3.Connection:
        conn = sqlite3.connect(f"file:{target}?{mode}", uri=True, check_same_thread=False, timeout=5)
        if mode == "mode=rw":
            conn.execute("PRAGMA query_only=ON")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # opening is lazy: fail here
        return conn

    writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
    try:
        mode = "mode=rw" if writable else "mode=ro"
        connect(mode).close()
    except sqlite3.OperationalError:
        mode = "immutable=1"
    return lambda: connect(mode)


class SqliteHistory(HistoryReader):
    """One sqlite3 connection: read-only (`mode=ro`), or for gate's verdict a writer's connection."""

    _lock_error = sqlite3.OperationalError
    _db_errors = (sqlite3.Error,)

    def __init__(
        self,
        url: str,
        path: Path,
        *,
        readonly: bool,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        self.url, self.readonly, self.lock_timeout = url, readonly, lock_timeout
        self.on_wait = self._say_waits(on_wait)
        self.claimed = 0  # a reader never migrates, so it never gives runs to a project
        self._conn: sqlite3.Connection | None = None
        try:
            if readonly:
                self._conn = readonly_connector(url, path)()
                self._conn.isolation_level = None
            else:
                self._conn = sqlite3.connect(path, timeout=LOCK_SLICE_MS / 1000, check_same_thread=False)
                # a fresh SQLite file is locked while its first opener switches it to WAL
                self._waiting("open", lambda: writer_settings(self._conn))
            self.needs_migration = check_schema(url, self.schema_version(), readonly)
        except BaseException as exc:
            self.close()
            if isinstance(exc, sqlite3.Error):
                raise HistoryError(f"{safe_url(url)}: cannot open history: {why(url, exc)}") from exc
            raise

    def schema_version(self) -> int:
        with self._transaction() as query:
            if not query(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'", {}
            ):
                return 0
            return query("SELECT max(version) FROM schema_migrations", {})[0][0] or 0

    @contextmanager
    def _transaction(self) -> Iterator[Query]:
        conn = self._connection()
        try:
            conn.execute("BEGIN")  # one snapshot for the queries inside; WAL readers never wait for a writer
            try:
                yield lambda sql, params: conn.execute(sql, params).fetchall()
            finally:
                conn.execute("ROLLBACK")  # a read has nothing to commit
        except sqlite3.Error as exc:  # a store that breaks mid-command is one line too, never a traceback
            raise HistoryError(f"{safe_url(self.url)}: cannot read history: {why(self.url, exc)}") from exc

    def _writing(self, work: Callable[[Query], _T]) -> _T:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")  # the write lock up front: writers queue, never deadlock
        try:
            result = work(lambda sql, params: conn.execute(sql, params).fetchall())
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise HistoryError(f"{safe_url(self.url)}: the history store is closed")
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

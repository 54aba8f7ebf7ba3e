"""The history store: SQLAlchemy Core over SQLite (a file, nothing to start) or PostgreSQL (by URL).

Per run the store keeps three things, each for its own reader:
- `runs`: one row (commit, branch, project, time, verdict, the summary as JSON) — what lists read;
- `metrics`: every figure as a named number — what trends read, without ever opening a report;
- `run_reports`: the full report, zlib-compressed JSON — what `gate`, `comment`, `badge` and the
  dashboard read when no report file is at hand. `test_results` keeps every non-passing test (not
  only the ones the report lists), for new-versus-known failures and flakiness.

Schema changes are explicit, numbered migrations recorded in `schema_migrations`; a writer applies the
missing ones under a lock, so parallel CI jobs can open and append at once. A reader opens the store
read-only (SQLite `mode=ro`, PostgreSQL read-only transactions) and never migrates: it says which
command to run instead. Each append is one transaction. A writer that finds the store locked says so
on stderr and gives up after `lock_timeout` seconds with a message naming the setting.

The read queries live in reader.py (SQL text both databases speak), shared with the sqlite3 reader
that the reading commands open (sqlite.py); this module adds the tables, migrations and writes.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, CursorResult, Engine

from .metrics import flatten
from .model import ProjectSummary, PruneResult, Run
from .reader import (
    CODEC,
    DEFAULT_LOCK_TIMEOUT,
    LOCK_SLICE_MS,
    SCHEMA_VERSION,
    HistoryError,
    HistoryReader,
    Query,
    check_schema,
    encode_report,
    why,
)
from .sqlite import readonly_connector, writer_settings
from .urls import default_url, safe_url, sqlite_path, store_exists

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:
    from typing import TypeVar

    _T = TypeVar("_T")

metadata = sa.MetaData()

schema_migrations = sa.Table(
    "schema_migrations",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("applied_at", sa.BigInteger, nullable=False),
)


def _v1_tables(md: sa.MetaData) -> tuple[sa.Table, sa.Table, sa.Table]:
    """The tables as schema version 1 created them. Frozen: later versions alter, never edit this."""
    runs = sa.Table(
        "runs",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_key", sa.String(200), nullable=False, unique=True),  # idempotent imports
        sa.Column("git_sha", sa.String(64)),
        sa.Column("branch", sa.String(255)),
        sa.Column("version", sa.String(255)),
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("ci_run_id", sa.String(100)),
        sa.Column("source", sa.String(20), nullable=False),  # collect | import-dir | import-git
        sa.Column("approximate", sa.Boolean, nullable=False, default=False),
        sa.Column("report_schema", sa.String(20)),
        sa.Column("verdict", sa.String(20)),
        sa.Column("verdict_json", sa.Text),
        sa.Column("summary_json", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.BigInteger, nullable=False),
    )
    metrics = sa.Table(
        "metrics",
        md,
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("value", sa.Float, nullable=False),
    )
    test_results = sa.Table(
        "test_results",
        md,
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("suite", sa.String(100), primary_key=True),
        sa.Column("test_id", sa.String(1000), primary_key=True),
        sa.Column("outcome", sa.String(10), nullable=False),  # failed | error | flaky
    )
    sa.Index("runs_branch_ts", runs.c.branch, runs.c.ts)
    sa.Index("runs_sha", runs.c.git_sha)
    sa.Index("metrics_name", metrics.c.name)
    return runs, metrics, test_results


# The current shape, for queries: version 1's tables plus what later versions added.
runs, metrics, test_results = _v1_tables(metadata)
runs.append_column(sa.Column("project", sa.String(255)))  # v3
runs.append_column(sa.Column("tag", sa.String(255)))  # v3: the release tag the commit carries
run_reports = sa.Table(  # v3
    "run_reports",
    metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("codec", sa.String(10), nullable=False),  # zlib: zlib-compressed compact UTF-8 JSON
    sa.Column("size", sa.Integer, nullable=False),  # uncompressed bytes
    sa.Column("body", sa.LargeBinary, nullable=False),
)
# v2: one row per cause per run: "when did this cause first appear" and "was it there in the baseline".
run_causes = sa.Table(
    "run_causes",
    metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("suite", sa.String(100), primary_key=True),
    sa.Column("cause_id", sa.String(16), primary_key=True),
    sa.Column("signature", sa.Text, nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
)
# v2: durations of the run's slower tests only (above a floor, bounded), for duration regressions and trends.
test_durations = sa.Table(
    "test_durations",
    metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("suite", sa.String(100), primary_key=True),
    sa.Column("test_id", sa.String(1000), primary_key=True),
    sa.Column("seconds", sa.Float, nullable=False),
)
sa.Index("run_causes_cause", run_causes.c.suite, run_causes.c.cause_id)
sa.Index("test_durations_test", test_durations.c.suite, test_durations.c.test_id)
_V3_INDEXES = (
    sa.Index("runs_project_branch_ts", runs.c.project, runs.c.branch, runs.c.ts),
    sa.Index("runs_project_ts", runs.c.project, runs.c.ts),
)


# v4: the trends read a project's runs (reader.INDEX_FIELDS) and each metric's (run id, value) from an index
# alone, without visiting each run's row (which holds its summary): at 10 000 runs the run list 17 -> 11 ms
# and three metrics 37 -> 14 ms in SQLite. They serve every query of the indexes they replace.
_V4_INDEXES = (
    sa.Index("metrics_name_run_value", metrics.c.name, metrics.c.run_id, metrics.c.value),
    sa.Index("runs_project_ts_listed", runs.c.project, runs.c.ts, runs.c.run_key, runs.c.git_sha, runs.c.branch,
             runs.c.version, runs.c.verdict, runs.c.approximate, runs.c.source),
)  # fmt: skip


def _v1(conn: Connection, project: str | None) -> None:
    for table in _v1_tables(sa.MetaData()):
        table.create(conn, checkfirst=True)


def _v2_causes_and_durations(conn: Connection, project: str | None) -> None:
    for table in (run_causes, test_durations):
        table.create(conn, checkfirst=True)


def _v3_projects_and_reports(conn: Connection, project: str | None) -> None:
    """Projects, release tags and full reports. (The runs recorded before get the migrating writer's
    project: see `HistoryStore._migrate`.)"""
    for column in ("project", "tag"):
        conn.execute(sa.text(f"ALTER TABLE runs ADD COLUMN {column} VARCHAR(255)"))
    run_reports.create(conn)
    for index in _V3_INDEXES:
        index.create(conn)


def _v4_covering_indexes(conn: Connection, project: str | None) -> None:
    for index in _V4_INDEXES:
        index.create(conn)
    for replaced in ("metrics_name", "runs_project_ts"):
        conn.execute(sa.text(f"DROP INDEX IF EXISTS {replaced}"))


# Numbered, append-only. A new column or table is a new function here, never an edit of an old one.
MIGRATIONS: list[Callable[[Connection, str | None], None]] = [
    _v1,
    _v2_causes_and_durations,
    _v3_projects_and_reports,
    _v4_covering_indexes,
]
PROJECTS_SINCE = 3  # the version that gave runs a project
if len(MIGRATIONS) != SCHEMA_VERSION:  # readers know the version without importing this module
    raise RuntimeError(
        f"reader.SCHEMA_VERSION is {SCHEMA_VERSION}, but there are {len(MIGRATIONS)} migrations"
    )


CONNECT_TIMEOUT_S = 15  # a PostgreSQL store's default; `?connect_timeout=N` in the URL overrides it


def open_store(
    url: str,
    *,
    readonly: bool = False,
    project: str | None = None,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> HistoryStore:
    """`project`: who claims the runs recorded before projects existed, when this opening migrates."""
    return HistoryStore(url, readonly=readonly, project=project, lock_timeout=lock_timeout)


def _gated(summary: dict, report: dict | None) -> dict:
    """The verdict columns of a report that `healthdeck gate` already decided (an imported, committed
    report): the run keeps the gate's verdict and conditions. A run `collect` records has none yet."""
    details = (report or {}).get("details")
    verdict = details.get("verdict") if isinstance(details, dict) else None
    status = summary.get("verdict")
    if (
        status in ("GO", "NO-GO", "INCOMPLETE")
        and isinstance(verdict, dict)
        and verdict.get("status") == status
    ):
        return {"verdict": status, "verdict_json": json.dumps(verdict)}
    return {}


class HistoryStore(HistoryReader):
    _lock_error = sa.exc.OperationalError
    _db_errors = (sa.exc.SQLAlchemyError,)

    def __init__(
        self,
        url: str,
        *,
        readonly: bool = False,
        project: str | None = None,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        self.url = url
        self.readonly = readonly
        self.claimed = 0  # runs without a project that this opening's migration gave to `project`
        self.lock_timeout = lock_timeout
        self.on_wait = self._say_waits(on_wait)
        try:
            self.engine = _engine(url, readonly, lock_timeout)
            # a fresh SQLite file is locked while the first opener switches it to WAL and migrates
            self._waiting("open", lambda: self._check_or_migrate(project))
        except sa.exc.SQLAlchemyError as exc:
            raise HistoryError(f"{safe_url(url)}: cannot open history: {why(url, exc)}") from exc
        except OSError as exc:  # the folder of a SQLite store cannot be made
            raise HistoryError(f"{safe_url(url)}: cannot open history: {exc.strerror or exc}") from exc
        except sqlite3.DatabaseError as exc:  # the read-only probe opens the file itself: not a database
            raise HistoryError(f"{safe_url(url)}: cannot open history: {exc}") from exc

    # -- schema ---------------------------------------------------------------------------------
    def _check_or_migrate(self, project: str | None) -> None:
        version = self.schema_version()
        if version == 0 and not self.readonly and self.engine.dialect.name == "sqlite":
            with self.engine.connect() as conn:
                foreign = sorted(set(sa.inspect(conn).get_table_names()) - set(metadata.tables))
            if foreign:  # never add healthdeck's tables to another application's database file
                raise HistoryError(f"{safe_url(self.url)}: holds another application's tables "
                                   f"({', '.join(foreign[:5])}); give the history a SQLite file of its own")  # fmt: skip
        if check_schema(self.url, version, self.readonly):
            self._write_core("migrate", lambda conn: self._migrate(conn, project))

    def _migrate(self, conn: Connection, project: str | None) -> None:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(7046218)"))  # one migrator at a time
        schema_migrations.create(conn, checkfirst=True)
        done = {row[0] for row in conn.execute(sa.select(schema_migrations.c.version))}
        for version, migration in enumerate(MIGRATIONS, 1):
            if version not in done:
                migration(conn, project)
                conn.execute(schema_migrations.insert().values(version=version, applied_at=int(time.time())))
        if PROJECTS_SINCE not in done and project:
            # Until projects existed a store served one repository (the default store lives in its
            # output folder): its runs belong to the writer that brings it to projects.
            self.claimed = conn.execute(
                runs.update().where(runs.c.project.is_(None)).values(project=project)
            ).rowcount

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table("schema_migrations"):
                return 0
            return conn.execute(sa.select(sa.func.max(schema_migrations.c.version))).scalar() or 0

    # -- transactions ---------------------------------------------------------------------------
    @contextmanager
    def _transaction(self) -> Iterator[Query]:
        with self.engine.connect() as conn:
            yield lambda sql, params: _rows(conn.execute(sa.text(sql), params))

    def _in_write_transaction(self, work: Callable[[Connection], _T]) -> _T:
        with self.engine.connect().execution_options(**{_WRITE: True}) as conn, conn.begin():
            if conn.dialect.name == "postgresql":  # reads keep the session's whole lock_timeout
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = {LOCK_SLICE_MS}")
            return work(conn)

    def _writing(self, work: Callable[[Query], _T]) -> _T:
        return self._in_write_transaction(
            lambda conn: work(lambda sql, params: _rows(conn.execute(sa.text(sql), params)))
        )

    def _write_core(self, what: str, work: Callable[[Connection], _T]) -> _T:
        """Run `work` (SQLAlchemy Core) in one write transaction, waiting for other writers up to
        `lock_timeout` seconds."""
        if self.readonly:
            raise HistoryError(f"{safe_url(self.url)}: opened read-only, cannot {what}")
        return self._waiting(what, lambda: self._in_write_transaction(work))

    # -- writing --------------------------------------------------------------------------------
    def append(
        self,
        summary: dict,
        *,
        source: str = "collect",
        run_key: str | None = None,
        approximate: bool = False,
        failing: Iterable[tuple[str, str, str]] = (),
        report_schema: str | None = None,
        figures: dict[str, float] | None = None,
        causes: Iterable[tuple[str, str, str, int]] = (),
        durations: Iterable[tuple[str, str, float]] = (),
        report: dict | None = None,
        project: str | None = None,
    ) -> int | None:
        """Record one run; returns its id, or None when `run_key` is already stored (re-import).

        `failing`: (suite, test id, outcome) of non-passing tests, the first given of a test id kept; read
        in the write transaction, once per attempt (an iterator is listed first; an iterable that makes
        them anew each time holds none of them). `causes`: (suite, cause id, signature, count);
        `durations`: (suite, test id, seconds) of the tests worth tracking (see reports.triage).
        `report`: the full report, stored compressed so readers need no report file. `project`: the
        run's project when the summary does not name one (imports).
        """
        key = run_key or f"{source}:{uuid.uuid4().hex}"
        row = {
            "run_key": key,
            "project": summary.get("project") or project,
            "git_sha": summary.get("git_sha_full") or summary.get("git_sha"),
            "branch": summary.get("branch"),
            "tag": summary.get("tag"),
            "version": summary.get("version"),
            "ts": int(summary["ts"]),
            "ci_run_id": summary.get("ci_run_id"),
            "source": source,
            "approximate": approximate,
            "report_schema": report_schema,
            "summary_json": json.dumps(summary, sort_keys=True),
            "recorded_at": int(time.time()),
        }
        values = figures if figures is not None else flatten(summary)
        # an attempt that waits for a lock starts over: an iterator could be read only once
        tests = list(failing) if isinstance(failing, Iterator) else failing
        cause_rows = [{"suite": s, "cause_id": c, "signature": sig, "count": n} for s, c, sig, n in causes]
        timed = [{"suite": s, "test_id": t, "seconds": x} for s, t, x in durations]
        body = encode_report(report) if report is not None else None
        row.update(_gated(summary, report))

        def work(conn: Connection) -> int | None:
            if conn.execute(sa.select(runs.c.id).where(runs.c.run_key == key)).first():
                return None
            run_id = conn.execute(runs.insert().values(**row)).inserted_primary_key[0]
            if values:
                conn.execute(
                    metrics.insert(), [{"run_id": run_id, "name": k, "value": v} for k, v in values.items()]
                )
            # in batches: a run with a million failing tests would hold a million parameter dicts at once;
            # the database keeps the first row of a test id (a dict of them per suite took 40 MB a million)
            insert, pending = _first_kept(conn, test_results), iter(tests)
            while batch := list(itertools.islice(pending, _BATCH)):
                conn.execute(insert, [{"suite": s, "test_id": t, "outcome": o, "run_id": run_id}
                                      for s, t, o in batch])  # fmt: skip
            if cause_rows:
                conn.execute(run_causes.insert(), [{**c, "run_id": run_id} for c in cause_rows])
            if timed:
                conn.execute(test_durations.insert(), [{**t, "run_id": run_id} for t in timed])
            if body is not None:
                conn.execute(
                    run_reports.insert().values(run_id=run_id, codec=CODEC, size=body[0], body=body[1])
                )
            return run_id

        try:
            return self._write_core("record the run", work)
        except sa.exc.IntegrityError as exc:
            if self.run(key) is not None:
                return None  # a concurrent writer stored the same run_key first
            raise HistoryError(f"{safe_url(self.url)}: cannot record the run: {why(self.url, exc)}") from exc
        except sa.exc.SQLAlchemyError as exc:
            raise HistoryError(f"{safe_url(self.url)}: cannot record the run: {why(self.url, exc)}") from exc

    def claim_projectless(self, project: str) -> int:
        """Give the runs recorded without a project to `project`; returns how many."""
        return self._write_core(
            "assign runs to a project",
            lambda conn: (
                conn.execute(runs.update().where(runs.c.project.is_(None)).values(project=project)).rowcount
            ),
        )

    def prune(
        self,
        *,
        keep_days: float | None,
        keep_runs: int | None,
        now: int,
        project: str | None = None,
        keep_shas: Iterable[str] = (),
        dry_run: bool = False,
        batch: int = 200,
    ) -> PruneResult:
        """Delete the runs no rule keeps. A run is kept when it is younger than `keep_days`, among the
        newest `keep_runs` of its project and branch, carries a release tag, or is at a commit in
        `keep_shas` (the tagged commits of the repository).

        The runs to delete are chosen once, then deleted by id in short transactions of `batch` runs, so
        a CI job appending meanwhile waits at most one batch and its new run is never among them.
        """
        if keep_days is None and keep_runs is None:
            raise ValueError("prune needs keep_days or keep_runs")
        shas = {s.lower() for s in keep_shas}
        every = self.runs(project=project)[::-1]  # newest first
        seen: dict[tuple[str | None, str | None], int] = {}
        doomed: list[Run] = []
        for run in every:
            rank = seen[(run.project, run.branch)] = seen.get((run.project, run.branch), 0) + 1
            keep = (
                (keep_runs is not None and rank <= keep_runs)
                or (keep_days is not None and run.ts >= now - keep_days * 86_400)
                or bool(run.tag)
                or (run.git_sha or "").lower() in shas
            )
            if not keep:
                doomed.append(run)
        if not dry_run:
            for start in range(0, len(doomed), batch):
                ids = [r.id for r in doomed[start : start + batch]]
                self._write_core("prune", lambda conn, ids=ids: _delete_runs(conn, ids))
        return PruneResult(doomed, len(every) - len(doomed))

    def close(self) -> None:
        self.engine.dispose()


def _delete_runs(conn: Connection, ids: list[int]) -> None:
    # Children first and explicitly: SQLite only cascades with foreign_keys=ON on every connection.
    for table in (metrics, test_results, run_causes, test_durations, run_reports):
        conn.execute(table.delete().where(table.c.run_id.in_(ids)))
    conn.execute(runs.delete().where(runs.c.id.in_(ids)))


def _first_kept(conn: Connection, table: sa.Table) -> sa.Insert:
    """An INSERT of `table` that skips a row whose primary key is taken (by an earlier row of it)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def _rows(result: CursorResult) -> list[tuple]:
    return [tuple(row) for row in result] if result.returns_rows else []


_BATCH = 5_000  # rows per INSERT of a run's failing tests
_WRITE = "healthdeck_write"  # execution option marking a write transaction


def _engine(url: str, readonly: bool, lock_timeout: float) -> Engine:
    path = sqlite_path(url)
    if url.startswith("sqlite") and readonly:
        if path is None:
            return sa.create_engine(url)
        return sa.create_engine("sqlite://", creator=readonly_connector(url, path))
    if url.startswith("sqlite"):
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": LOCK_SLICE_MS / 1000})
        sa.event.listen(engine, "connect", lambda dbapi_conn, _record: writer_settings(dbapi_conn))

        @sa.event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:
            # A writer takes the write lock up front (no upgrade deadlocks); a reader never waits for one.
            write = conn.get_execution_options().get(_WRITE, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    options = (
        "-c default_transaction_read_only=on" if readonly else f"-c lock_timeout={int(lock_timeout * 1000)}"
    )
    connect_args: dict = {"options": options} if url.startswith("postgresql") else {}
    if url.startswith("postgresql") and "connect_timeout=" not in url:
        # a server that accepts the connection and never answers would hold the job for minutes, silently
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
    return sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)


__all__ = [
    "HistoryError",
    "HistoryStore",
    "ProjectSummary",
    "PruneResult",
    "Run",
    "default_url",
    "store_exists",
]

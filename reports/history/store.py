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
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
import uuid
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .metrics import flatten
from .model import ProjectSummary, PruneResult, Run

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


# Numbered, append-only. A new column or table is a new function here, never an edit of an old one.
MIGRATIONS: list[Callable[[Connection, str | None], None]] = [
    _v1,
    _v2_causes_and_durations,
    _v3_projects_and_reports,
]
PROJECTS_SINCE = 3  # the version that gave runs a project
SCHEMA_VERSION = len(MIGRATIONS)
CODEC = "zlib"
_T = TypeVar("_T")
DEFAULT_LOCK_TIMEOUT = 60.0


class HistoryError(Exception):
    """The history store cannot be opened or written; the message names the URL and the reason."""


def default_url(out: str | Path) -> str:
    return f"sqlite:///{Path(out) / 'history.sqlite'}"


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory SQLite)."""
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[1] if "///" in url else ""
    return Path(path) if path and path != ":memory:" else None


def store_exists(url: str) -> bool:
    """False only for a SQLite file that is not there (a server database is assumed to exist)."""
    path = sqlite_path(url)
    return path is None or path.exists()


def open_store(
    url: str,
    *,
    readonly: bool = False,
    project: str | None = None,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> HistoryStore:
    """`project`: who claims the runs recorded before projects existed, when this opening migrates."""
    return HistoryStore(url, readonly=readonly, project=project, lock_timeout=lock_timeout)


class HistoryStore:
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
        self.on_wait = on_wait or (
            lambda message: print(f"healthdeck: {message}", file=sys.stderr, flush=True)
        )
        try:
            self.engine = _engine(url, readonly, lock_timeout)
            # a fresh SQLite file is locked while the first opener switches it to WAL and migrates
            self._waiting("open", lambda: self._check_or_migrate(project))
        except sa.exc.SQLAlchemyError as exc:
            raise HistoryError(f"{_safe(url)}: cannot open history: {_why(url, exc)}") from exc
        except OSError as exc:  # the folder of a SQLite store cannot be made
            raise HistoryError(f"{_safe(url)}: cannot open history: {exc.strerror or exc}") from exc
        except sqlite3.DatabaseError as exc:  # the read-only probe opens the file itself: not a database
            raise HistoryError(f"{_safe(url)}: cannot open history: {exc}") from exc

    # -- schema ---------------------------------------------------------------------------------
    def _check_or_migrate(self, project: str | None) -> None:
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise HistoryError(
                f"{_safe(self.url)}: history schema {version} was written by a newer healthdeck "
                f"(this one knows {SCHEMA_VERSION}): upgrade healthdeck"
            )
        if version == SCHEMA_VERSION:
            return
        if self.readonly:
            raise HistoryError(
                f"{_safe(self.url)}: history schema {version} is older than this healthdeck's "
                f"({SCHEMA_VERSION}) and this command opens it read-only: run "
                f"`healthdeck history migrate --history URL` (or any collect) with write access first"
            )
        self._write("migrate", lambda conn: self._migrate(conn, project))

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

    def _write(self, what: str, work: Callable[[Connection], _T]) -> _T:
        """Run `work` in one write transaction, waiting for other writers up to `lock_timeout` seconds."""
        if self.readonly:
            raise HistoryError(f"{_safe(self.url)}: opened read-only, cannot {what}")

        def transaction() -> _T:
            with self.engine.connect().execution_options(**{_WRITE: True}) as conn, conn.begin():
                if conn.dialect.name == "postgresql":  # reads keep the session's whole lock_timeout
                    conn.exec_driver_sql(f"SET LOCAL lock_timeout = {_LOCK_SLICE_MS}")
                return work(conn)

        return self._waiting(what, transaction)

    def _waiting(self, what: str, attempt: Callable[[], _T]) -> _T:
        """`attempt()`, retried while another writer holds the lock: says so once, gives up at the timeout."""
        deadline = time.monotonic() + self.lock_timeout
        said = False
        while True:
            try:
                return attempt()
            except sa.exc.OperationalError as exc:
                if not _is_lock_wait(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise HistoryError(
                        f"{_safe(self.url)}: still locked by another writer after {self.lock_timeout:g} s, "
                        f"gave up ({what}); raise [tool.healthdeck] history_lock_timeout or --lock-timeout"
                    ) from exc
                if not said:
                    self.on_wait(
                        f"history {_safe(self.url)} is locked by another writer; waiting up to "
                        f"{self.lock_timeout:g} s ({what})"
                    )
                    said = True
                time.sleep(0.05)

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

        `failing`: (suite, test id, outcome) of non-passing tests; `causes`: (suite, cause id, signature,
        count); `durations`: (suite, test id, seconds) of the tests worth tracking (see reports.triage).
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
        tests = _unique_tests(
            [{"suite": s, "test_id": t, "outcome": o} for s, t, o in dict.fromkeys(failing)]
        )
        cause_rows = [{"suite": s, "cause_id": c, "signature": sig, "count": n} for s, c, sig, n in causes]
        timed = [{"suite": s, "test_id": t, "seconds": x} for s, t, x in durations]
        body = encode_report(report) if report is not None else None

        def work(conn: Connection) -> int | None:
            if conn.execute(sa.select(runs.c.id).where(runs.c.run_key == key)).first():
                return None
            run_id = conn.execute(runs.insert().values(**row)).inserted_primary_key[0]
            if values:
                conn.execute(
                    metrics.insert(), [{"run_id": run_id, "name": k, "value": v} for k, v in values.items()]
                )
            if tests:
                conn.execute(test_results.insert(), [{**t, "run_id": run_id} for t in tests])
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
            return self._write("record the run", work)
        except sa.exc.IntegrityError as exc:
            if self.run(key) is not None:
                return None  # a concurrent writer stored the same run_key first
            raise HistoryError(f"{_safe(self.url)}: cannot record the run: {_why(self.url, exc)}") from exc
        except sa.exc.SQLAlchemyError as exc:
            raise HistoryError(f"{_safe(self.url)}: cannot record the run: {_why(self.url, exc)}") from exc

    def set_verdict(self, run_key: str, verdict: str, detail: dict) -> bool:
        """Store the gate's verdict on the run and in its stored report (so readers of the store see it)."""

        def work(conn: Connection) -> bool:
            row = conn.execute(sa.select(runs.c.id).where(runs.c.run_key == run_key)).first()
            if row is None:
                return False
            conn.execute(
                runs.update()
                .where(runs.c.id == row.id)
                .values(verdict=verdict, verdict_json=json.dumps(detail))
            )
            stored = (
                conn.execute(sa.select(run_reports).where(run_reports.c.run_id == row.id)).mappings().first()
            )
            if stored is not None:
                report = decode_report(stored["codec"], stored["body"])
                report["summary"]["verdict"] = verdict
                report.setdefault("details", {})["verdict"] = detail
                size, body = encode_report(report)
                conn.execute(
                    run_reports.update().where(run_reports.c.run_id == row.id).values(size=size, body=body)
                )
            return True

        try:
            return self._write("store the verdict", work)
        except sa.exc.SQLAlchemyError as exc:
            raise HistoryError(f"{_safe(self.url)}: cannot store the verdict: {_why(self.url, exc)}") from exc

    def claim_projectless(self, project: str) -> int:
        """Give the runs recorded without a project to `project`; returns how many."""
        return self._write(
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
        query = sa.select(runs).order_by(runs.c.ts.desc(), runs.c.id.desc())
        if project is not None:
            query = query.where(runs.c.project == project)
        with self.engine.connect() as conn:
            every = [_run(r) for r in conn.execute(query).mappings()]
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
                self._write("prune", lambda conn, ids=ids: _delete_runs(conn, ids))
        return PruneResult(doomed, len(every) - len(doomed))

    # -- reading --------------------------------------------------------------------------------
    def runs(
        self,
        branch: str | None = None,
        limit: int | None = None,
        before_ts: int | None = None,
        since_ts: int | None = None,
        project: str | None = None,
    ) -> list[Run]:
        """Runs oldest first (the newest `limit` of them); every project's unless `project` is given."""
        query = sa.select(runs).order_by(runs.c.ts.desc(), runs.c.id.desc())
        if project is not None:
            query = query.where(runs.c.project == project)
        if branch:
            query = query.where(runs.c.branch == branch)
        if before_ts is not None:
            query = query.where(runs.c.ts < before_ts)
        if since_ts is not None:
            query = query.where(runs.c.ts >= since_ts)
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [_run(r) for r in reversed(rows)]

    def run_index(
        self,
        branch: str | None = None,
        since_ts: int | None = None,
        limit: int | None = None,
        project: str | None = None,
    ) -> list[dict]:
        """Runs oldest first (the newest `limit`), without their summaries, with their `git describe`
        version (release tags on trends); every project's unless `project` is given."""
        columns = [runs.c.id, runs.c.run_key, runs.c.git_sha, runs.c.branch, runs.c.version, runs.c.ts,
                   runs.c.verdict, runs.c.approximate, runs.c.source]  # fmt: skip
        query = sa.select(*columns).order_by(runs.c.ts.desc(), runs.c.id.desc())
        if project is not None:
            query = query.where(runs.c.project == project)
        if branch:
            query = query.where(runs.c.branch == branch)
        if since_ts is not None:
            query = query.where(runs.c.ts >= since_ts)
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        keys = [c.name for c in columns]
        return [dict(zip(keys, r, strict=True)) for r in reversed(rows)]

    def run(self, run_key: str) -> Run | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(runs).where(runs.c.run_key == run_key)).mappings().first()
        return _run(row) if row else None

    def latest(self, project: str | None = None, branch: str | None = None) -> Run | None:
        """The newest run (of the project, of the branch when given)."""
        found = self.runs(branch=branch, limit=1, project=project)
        return found[0] if found else None

    def latest_for_sha(self, sha_prefix: str, project: str | None = None) -> Run | None:
        query = sa.select(runs).where(runs.c.git_sha.like(f"{sha_prefix}%"))
        if project is not None:
            query = query.where(runs.c.project == project)
        with self.engine.connect() as conn:
            row = conn.execute(query.order_by(runs.c.ts.desc(), runs.c.id.desc()).limit(1)).mappings().first()
        return _run(row) if row else None

    def report(self, run: Run | int) -> dict | None:
        """The full report stored with the run (None for runs recorded before reports were stored)."""
        run_id = run.id if isinstance(run, Run) else run
        with self.engine.connect() as conn:
            row = (
                conn.execute(sa.select(run_reports).where(run_reports.c.run_id == run_id)).mappings().first()
            )
        return decode_report(row["codec"], row["body"]) if row else None

    def report_sizes(self) -> tuple[int, int, int]:
        """(runs with a stored report, compressed bytes, uncompressed bytes) over the whole store."""
        query = sa.select(
            sa.func.count(), sa.func.sum(sa.func.length(run_reports.c.body)), sa.func.sum(run_reports.c.size)
        )
        with self.engine.connect() as conn:
            count, stored, raw = conn.execute(query).one()
        return int(count or 0), int(stored or 0), int(raw or 0)

    def projects(
        self, spark: int = 30, names: Iterable[str] = (), prefixes: Iterable[str] = ()
    ) -> list[ProjectSummary]:
        """Every project with its run count, newest run, and the asked-for metrics over its newest
        `spark` runs (for sparklines). Three queries whatever the number of runs; no report is opened."""
        rank = (
            sa.func.row_number()
            .over(partition_by=runs.c.project, order_by=(runs.c.ts.desc(), runs.c.id.desc()))
            .label("rank")
        )
        ranked = sa.select(runs.c.id, runs.c.project, runs.c.ts, rank).subquery()
        counts = sa.select(runs.c.project, sa.func.count()).group_by(runs.c.project)
        with self.engine.connect() as conn:
            recent = conn.execute(sa.select(ranked).where(ranked.c.rank <= max(spark, 1))).mappings().all()
            totals = dict(conn.execute(counts).all())
            newest_ids = [r["id"] for r in recent if r["rank"] == 1]
            newest = {
                r["project"]: _run(r)
                for r in conn.execute(sa.select(runs).where(runs.c.id.in_(newest_ids))).mappings()
            }
        ts_of = {r["id"]: (r["project"], r["ts"]) for r in recent}
        series: dict[str | None, dict[str, list[tuple[int, float]]]] = {}
        names, prefixes = list(names), list(prefixes)
        if (names or prefixes) and ts_of:
            for run_id, name, value in self._metric_rows(names, prefixes, run_ids=list(ts_of)):
                project, ts = ts_of[run_id]
                series.setdefault(project, {}).setdefault(name, []).append((ts, value))
        for per_metric in series.values():
            for points in per_metric.values():
                points.sort()
        return [
            ProjectSummary(project, totals.get(project, 0), run, series.get(project, {}))
            for project, run in sorted(newest.items(), key=lambda kv: kv[0] or "")
        ]

    def metric_table(
        self,
        names: Iterable[str] = (),
        prefixes: Iterable[str] = (),
        branch: str | None = None,
        since_ts: int | None = None,
        project: str | None = None,
    ) -> list[tuple[int, str, float]]:
        """(run id, metric, value) for the named metrics (or names starting with a prefix), in one query."""
        return self._metric_rows(
            list(names), list(prefixes), branch=branch, since_ts=since_ts, project=project
        )

    def _metric_rows(
        self,
        names: list[str],
        prefixes: list[str],
        *,
        branch: str | None = None,
        since_ts: int | None = None,
        project: str | None = None,
        run_ids: list[int] | None = None,
    ) -> list[tuple[int, str, float]]:
        conditions = [metrics.c.name.in_(names)] if names else []
        conditions += [metrics.c.name.startswith(prefix, autoescape=True) for prefix in prefixes]
        query = sa.select(metrics.c.run_id, metrics.c.name, metrics.c.value).join(
            runs, runs.c.id == metrics.c.run_id
        )
        if conditions:
            query = query.where(sa.or_(*conditions))
        if branch:
            query = query.where(runs.c.branch == branch)
        if since_ts is not None:
            query = query.where(runs.c.ts >= since_ts)
        if project is not None:
            query = query.where(runs.c.project == project)
        if run_ids is not None:
            query = query.where(runs.c.id.in_(run_ids))
        with self.engine.connect() as conn:
            return [(run_id, name, float(value)) for run_id, name, value in conn.execute(query)]

    def branches(self, project: str | None = None) -> list[str]:
        query = sa.select(runs.c.branch).where(runs.c.branch.is_not(None)).distinct()
        if project is not None:
            query = query.where(runs.c.project == project)
        with self.engine.connect() as conn:
            return sorted(r[0] for r in conn.execute(query))

    def project_names(self) -> list[str | None]:
        with self.engine.connect() as conn:
            return sorted(
                (r[0] for r in conn.execute(sa.select(runs.c.project).distinct())), key=lambda p: p or ""
            )

    def metrics_of(self, run_id: int) -> dict[str, float]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(metrics.c.name, metrics.c.value).where(metrics.c.run_id == run_id))
            return {name: float(value) for name, value in rows}

    def failing_of(self, run_id: int, suite: str | None = None) -> dict[tuple[str, str], str]:
        query = sa.select(test_results.c.suite, test_results.c.test_id, test_results.c.outcome).where(
            test_results.c.run_id == run_id
        )
        if suite:
            query = query.where(test_results.c.suite == suite)
        with self.engine.connect() as conn:
            return {(s, t): o for s, t, o in conn.execute(query)}

    def test_history(self, suite: str, run_ids: list[int]) -> dict[str, dict[int, str]]:
        """test id -> {run id: outcome} over `run_ids` (non-passing outcomes only)."""
        if not run_ids:
            return {}
        query = sa.select(test_results.c.test_id, test_results.c.run_id, test_results.c.outcome).where(
            test_results.c.suite == suite, test_results.c.run_id.in_(run_ids)
        )
        out: dict[str, dict[int, str]] = {}
        with self.engine.connect() as conn:
            for test_id, run_id, outcome in conn.execute(query):
                out.setdefault(test_id, {})[run_id] = outcome
        return out

    def causes_of(self, run_id: int) -> dict[str, dict[str, int]]:
        """suite -> {cause id: count} recorded for a run."""
        query = sa.select(run_causes.c.suite, run_causes.c.cause_id, run_causes.c.count).where(
            run_causes.c.run_id == run_id
        )
        out: dict[str, dict[str, int]] = {}
        with self.engine.connect() as conn:
            for suite, cause_id, count in conn.execute(query):
                out.setdefault(suite, {})[cause_id] = int(count)
        return out

    def first_seen(
        self, suite: str, cause_ids: Iterable[str], branch: str | None = None, project: str | None = None
    ) -> dict[str, Run]:
        """cause id -> the oldest stored run (of the project) in which the suite had that cause (ids never
        seen are left out)."""
        ids = list(cause_ids)
        if not ids:
            return {}
        first = (
            sa.select(run_causes.c.cause_id, sa.func.min(runs.c.ts).label("ts"))
            .join(runs, runs.c.id == run_causes.c.run_id)
            .where(run_causes.c.suite == suite, run_causes.c.cause_id.in_(ids))
            .group_by(run_causes.c.cause_id)
        )
        if branch:
            first = first.where(runs.c.branch == branch)
        if project is not None:
            first = first.where(runs.c.project == project)
        first = first.subquery()
        # The runs at each cause's earliest time (usually one; the lowest id wins a tie).
        query = (
            sa.select(run_causes.c.cause_id, runs)
            .join(runs, runs.c.id == run_causes.c.run_id)
            .join(first, sa.and_(first.c.cause_id == run_causes.c.cause_id, first.c.ts == runs.c.ts))
            .where(run_causes.c.suite == suite)
            .order_by(runs.c.id.desc())
        )
        if branch:
            query = query.where(runs.c.branch == branch)
        if project is not None:
            query = query.where(runs.c.project == project)
        with self.engine.connect() as conn:
            return {row["cause_id"]: _run(row) for row in conn.execute(query).mappings()}

    def durations_of(self, run_id: int, suite: str | None = None) -> dict[tuple[str, str], float]:
        """(suite, test id) -> seconds, for the tests whose duration the run recorded."""
        query = sa.select(test_durations.c.suite, test_durations.c.test_id, test_durations.c.seconds).where(
            test_durations.c.run_id == run_id
        )
        if suite:
            query = query.where(test_durations.c.suite == suite)
        with self.engine.connect() as conn:
            return {(s, t): float(x) for s, t, x in conn.execute(query)}

    def test_timeline(
        self, suite: str, test_id: str, run_ids: list[int]
    ) -> dict[int, tuple[str | None, float | None]]:
        """run id -> (stored outcome or None when not failing, recorded seconds or None) for one test."""
        if not run_ids:
            return {}
        out: dict[int, tuple[str | None, float | None]] = dict.fromkeys(run_ids, (None, None))
        outcomes = sa.select(test_results.c.run_id, test_results.c.outcome).where(
            test_results.c.suite == suite,
            test_results.c.test_id == test_id,
            test_results.c.run_id.in_(run_ids),
        )
        seconds = sa.select(test_durations.c.run_id, test_durations.c.seconds).where(
            test_durations.c.suite == suite,
            test_durations.c.test_id == test_id,
            test_durations.c.run_id.in_(run_ids),
        )
        with self.engine.connect() as conn:
            for run_id, outcome in conn.execute(outcomes):
                out[run_id] = (outcome, out[run_id][1])
            for run_id, value in conn.execute(seconds):
                out[run_id] = (out[run_id][0], float(value))
        return out

    def close(self) -> None:
        self.engine.dispose()


def encode_report(report: dict) -> tuple[int, bytes]:
    """(uncompressed size, body): compact JSON, zlib level 9 (≈ 4× smaller; decoding takes microseconds)."""
    raw = json.dumps(report, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
    return len(raw), zlib.compress(raw, 9)


def decode_report(codec: str, body: bytes) -> dict:
    if codec != CODEC:
        raise HistoryError(
            f"stored report uses codec {codec!r}, which this healthdeck cannot read: upgrade it"
        )
    return json.loads(zlib.decompress(body).decode("utf-8"))


def _delete_runs(conn: Connection, ids: list[int]) -> None:
    # Children first and explicitly: SQLite only cascades with foreign_keys=ON on every connection.
    for table in (metrics, test_results, run_causes, test_durations, run_reports):
        conn.execute(table.delete().where(table.c.run_id.in_(ids)))
    conn.execute(runs.delete().where(runs.c.id.in_(ids)))


def _unique_tests(rows: list[dict]) -> list[dict]:
    seen: dict[tuple, dict] = {}
    for row in rows:
        seen.setdefault((row["suite"], row["test_id"]), row)
    return list(seen.values())


def _run(row: sa.RowMapping) -> Run:
    return Run(
        id=row["id"],
        run_key=row["run_key"],
        git_sha=row["git_sha"],
        branch=row["branch"],
        version=row["version"],
        ts=int(row["ts"]),
        ci_run_id=row["ci_run_id"],
        source=row["source"],
        approximate=bool(row["approximate"]),
        verdict=row["verdict"],
        summary=json.loads(row["summary_json"]),
        project=row.get("project"),
        tag=row.get("tag"),
    )


_WRITE = "healthdeck_write"  # execution option marking a write transaction
# How long SQLite (busy_timeout) or PostgreSQL (lock_timeout) itself waits for a lock before `_waiting`
# takes over: says that it waits, then retries the whole transaction until the command's lock timeout.
_LOCK_SLICE_MS = 1000


def _engine(url: str, readonly: bool, lock_timeout: float) -> Engine:
    path = sqlite_path(url)
    if url.startswith("sqlite") and readonly:
        return _sqlite_readonly_engine(url, path)
    if url.startswith("sqlite"):
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": _LOCK_SLICE_MS / 1000})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            # WAL lets readers run beside the writer; a short busy timeout makes parallel writers wait a
            # little inside SQLite, then `_write` retries (and says so) until `lock_timeout`.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute(f"PRAGMA busy_timeout={_LOCK_SLICE_MS}")
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":  # switching needs a lock
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

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
    connect_args = {"options": options} if url.startswith("postgresql") else {}
    return sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def _sqlite_readonly_engine(url: str, path: Path | None) -> Engine:
    """`mode=ro`: nothing can be written through this connection. On a read-only mount a WAL database
    cannot create its shared-memory file, so it is opened `immutable=1` instead: nobody can be writing
    through a read-only mount, so there is nothing to lock against."""
    if path is None:
        return sa.create_engine(url)
    if not path.exists():
        raise HistoryError(f"{_safe(url)}: no history store there")
    target = quote(str(path.resolve()))

    def connect(mode: str) -> sqlite3.Connection:
        conn = sqlite3.connect(f"file:{target}?{mode}", uri=True, check_same_thread=False, timeout=5)
        if mode == "mode=rw":
            conn.execute("PRAGMA query_only=ON")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # opening is lazy: fail here
        return conn

    # Where the store is writable a reader opens it read-write but query-only: a `mode=ro` reader of a WAL
    # store creates its -wal and -shm files and, being read-only, cannot remove them when it closes.
    writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
    try:
        mode = "mode=rw" if writable else "mode=ro"
        connect(mode).close()
    except sqlite3.OperationalError:
        mode = "immutable=1"
    return sa.create_engine("sqlite://", creator=lambda: connect(mode))


def _is_lock_wait(exc: sa.exc.OperationalError) -> bool:
    text = str(exc.orig).lower()
    return "database is locked" in text or "database is busy" in text or "lock timeout" in text


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


def one_line(exc: BaseException) -> str:
    """The driver's own message (without SQLAlchemy's statement dump and help link), on one line."""
    text = str(getattr(exc, "orig", None) or exc)
    return " ".join(text.split())[:300]


def _why(url: str, exc: BaseException) -> str:
    """`one_line`, plus what SQLite's "unable to open database file" means when the file is read-only."""
    path = sqlite_path(url)
    if (
        path is not None
        and path.exists()
        and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))
    ):
        return f"{one_line(exc)} (the store is read-only here; a reader such as gate --no-write needs no write access)"
    return one_line(exc)


__all__ = ["HistoryError", "HistoryStore", "ProjectSummary", "PruneResult", "Run"]

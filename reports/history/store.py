"""The history store: SQLAlchemy Core over SQLite (a file, nothing to start) or PostgreSQL (by URL).

Schema changes are explicit, numbered migrations recorded in `schema_migrations`; opening a store
applies the missing ones under a lock, so parallel CI jobs can open and append at once. Each append is
one transaction: a run row, its flat metrics, its non-passing tests.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .metrics import flatten

metadata = sa.MetaData()

schema_migrations = sa.Table(
    "schema_migrations",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("applied_at", sa.BigInteger, nullable=False),
)
runs = sa.Table(
    "runs",
    metadata,
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
    metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("value", sa.Float, nullable=False),
)
test_results = sa.Table(
    "test_results",
    metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("suite", sa.String(100), primary_key=True),
    sa.Column("test_id", sa.String(1000), primary_key=True),
    sa.Column("outcome", sa.String(10), nullable=False),  # failed | error | flaky
)
# One row per cause per run: "when did this cause first appear" and "was it there in the baseline".
run_causes = sa.Table(
    "run_causes",
    metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("suite", sa.String(100), primary_key=True),
    sa.Column("cause_id", sa.String(16), primary_key=True),
    sa.Column("signature", sa.Text, nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
)
# Durations of the run's slower tests only (above a floor, bounded), for duration regressions and trends.
test_durations = sa.Table(
    "test_durations",
    metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("suite", sa.String(100), primary_key=True),
    sa.Column("test_id", sa.String(1000), primary_key=True),
    sa.Column("seconds", sa.Float, nullable=False),
)
sa.Index("runs_branch_ts", runs.c.branch, runs.c.ts)
sa.Index("runs_sha", runs.c.git_sha)
sa.Index("metrics_name", metrics.c.name)
sa.Index("run_causes_cause", run_causes.c.suite, run_causes.c.cause_id)
sa.Index("test_durations_test", test_durations.c.suite, test_durations.c.test_id)


def _v1(conn: Connection) -> None:
    for table in (runs, metrics, test_results):
        table.create(conn, checkfirst=True)


def _v2_causes_and_durations(conn: Connection) -> None:
    for table in (run_causes, test_durations):
        table.create(conn, checkfirst=True)


# Numbered, append-only. A new column or table is a new function here, never an edit of an old one.
MIGRATIONS: list[Callable[[Connection], None]] = [_v1, _v2_causes_and_durations]
SCHEMA_VERSION = len(MIGRATIONS)


class HistoryError(Exception):
    """The history store cannot be opened or written; the message names the URL and the reason."""


@dataclass(frozen=True)
class Run:
    id: int
    run_key: str
    git_sha: str | None
    branch: str | None
    version: str | None
    ts: int
    ci_run_id: str | None
    source: str
    approximate: bool
    verdict: str | None
    summary: dict

    @property
    def short_sha(self) -> str:
        return (self.git_sha or "")[:8]


def default_url(out: str | Path) -> str:
    return f"sqlite:///{Path(out) / 'history.sqlite'}"


def open_store(url: str) -> HistoryStore:
    return HistoryStore(url)


class HistoryStore:
    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine = _engine(url)
            self._migrate()
        except sa.exc.SQLAlchemyError as exc:
            raise HistoryError(f"{_safe(url)}: cannot open history: {_one_line(exc)}") from exc
        except OSError as exc:  # the SQLite file's folder cannot be created
            raise HistoryError(
                f"{_safe(url)}: cannot write the history folder: {exc.strerror or exc}"
            ) from exc

    # -- schema ---------------------------------------------------------------------------------
    def _migrate(self) -> None:
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(7046218)"))  # one migrator at a time
            schema_migrations.create(conn, checkfirst=True)
            done = {row[0] for row in conn.execute(sa.select(schema_migrations.c.version))}
            for version, migration in enumerate(MIGRATIONS, 1):
                if version not in done:
                    migration(conn)
                    conn.execute(
                        schema_migrations.insert().values(version=version, applied_at=int(time.time()))
                    )

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.max(schema_migrations.c.version))).scalar() or 0

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
    ) -> int | None:
        """Record one run; returns its id, or None when `run_key` is already stored (re-import).

        `failing`: (suite, test id, outcome) of non-passing tests; `causes`: (suite, cause id, signature,
        count); `durations`: (suite, test id, seconds) of the tests worth tracking (see reports.triage).
        """
        key = run_key or f"{source}:{uuid.uuid4().hex}"
        row = {
            "run_key": key,
            "git_sha": summary.get("git_sha_full") or summary.get("git_sha"),
            "branch": summary.get("branch"),
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
        try:
            with self.engine.begin() as conn:
                if conn.execute(sa.select(runs.c.id).where(runs.c.run_key == key)).first():
                    return None
                run_id = conn.execute(runs.insert().values(**row)).inserted_primary_key[0]
                if values:
                    conn.execute(
                        metrics.insert(),
                        [{"run_id": run_id, "name": k, "value": v} for k, v in values.items()],
                    )
                tests = [
                    {"run_id": run_id, "suite": s, "test_id": t, "outcome": o}
                    for s, t, o in dict.fromkeys(failing)
                ]
                if tests:
                    conn.execute(test_results.insert(), _unique_tests(tests))
                cause_rows = [
                    {"run_id": run_id, "suite": s, "cause_id": c, "signature": sig, "count": n}
                    for s, c, sig, n in causes
                ]
                if cause_rows:
                    conn.execute(run_causes.insert(), cause_rows)
                timed = [{"run_id": run_id, "suite": s, "test_id": t, "seconds": x} for s, t, x in durations]
                if timed:
                    conn.execute(test_durations.insert(), timed)
                return run_id
        except sa.exc.IntegrityError:
            return None  # a concurrent writer stored the same run_key first
        except sa.exc.SQLAlchemyError as exc:
            raise HistoryError(f"{_safe(self.url)}: cannot record the run: {_one_line(exc)}") from exc

    def set_verdict(self, run_key: str, verdict: str, detail: dict) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                runs.update()
                .where(runs.c.run_key == run_key)
                .values(verdict=verdict, verdict_json=json.dumps(detail))
            )
            return result.rowcount > 0

    # -- reading --------------------------------------------------------------------------------
    def runs(
        self,
        branch: str | None = None,
        limit: int | None = None,
        before_ts: int | None = None,
        since_ts: int | None = None,
    ) -> list[Run]:
        """Runs oldest first (the newest `limit` of them)."""
        query = sa.select(runs).order_by(runs.c.ts.desc(), runs.c.id.desc())
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

    def run(self, run_key: str) -> Run | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(runs).where(runs.c.run_key == run_key)).mappings().first()
        return _run(row) if row else None

    def latest_for_sha(self, sha_prefix: str) -> Run | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    sa.select(runs)
                    .where(runs.c.git_sha.like(f"{sha_prefix}%"))
                    .order_by(runs.c.ts.desc())
                    .limit(1)
                )
                .mappings()
                .first()
            )
        return _run(row) if row else None

    def metric_table(
        self,
        names: Iterable[str] = (),
        prefixes: Iterable[str] = (),
        branch: str | None = None,
        since_ts: int | None = None,
    ) -> list[tuple[int, str, float]]:
        """(run id, metric, value) for the named metrics (or names starting with a prefix), in one query."""
        conditions = [metrics.c.name.in_(list(names))] if names else []
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
        with self.engine.connect() as conn:
            return [(run_id, name, float(value)) for run_id, name, value in conn.execute(query)]

    def branches(self) -> list[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(runs.c.branch).where(runs.c.branch.is_not(None)).distinct())
            return sorted(r[0] for r in rows)

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

    def first_seen(self, suite: str, cause_ids: Iterable[str], branch: str | None = None) -> dict[str, Run]:
        """cause id -> the oldest stored run in which the suite had that cause (ids never seen are left out)."""
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
    )


def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 60})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            # WAL lets readers run beside the writer; busy_timeout makes parallel writers wait, not fail.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=60000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # take the write lock up front: no upgrade deadlocks

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return sa.create_engine(url, pool_pre_ping=True)


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]

"""Reading the history store, in SQL that SQLite and PostgreSQL both speak, without SQLAlchemy.

Every read query lives here once, as SQL text with `:name` parameters, and so does the mapping of
its rows. Two backends run it: `HistoryStore` (store.py: SQLAlchemy Core, for writing, migrations
and PostgreSQL) and `SqliteHistory` (sqlite.py: the standard library's `sqlite3`, for the commands a
CI job calls several times — `gate`, `comment`, `badge`, `history show` — which must not pay for
importing SQLAlchemy). A backend only says how to run a query in one transaction.
"""

from __future__ import annotations

import itertools
import json
import math
import operator
import os
import re
import sys
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

from healthdeck.collectors.errors import exception_text

from ..stamp import LATEST_TIME
from .model import ProjectSummary, Run
from .urls import safe_url, sqlite_path

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:
    from typing import TypeVar

    _T = TypeVar("_T")

# The number of migrations in store.py (checked there): a reader knows the version it can read
# without importing the migrations, which need SQLAlchemy.
SCHEMA_VERSION = 4
# Readers read stores from this version on: version 4 only added indexes (a read-only dashboard on a
# store no writer has migrated yet still works, a little slower).
READS_SINCE = 3
CODEC = "zlib"
DEFAULT_LOCK_TIMEOUT = 60.0
# How long SQLite (busy_timeout) or PostgreSQL (lock_timeout) itself waits for a lock before `_waiting`
# takes over: says that it waits, then retries the whole transaction until the command's lock timeout.
LOCK_SLICE_MS = 1000
RUN_FIELDS = ("id", "run_key", "git_sha", "branch", "version", "ts", "ci_run_id", "source", "approximate",
              "verdict", "summary_json", "project", "tag")  # fmt: skip
RUN_COLUMNS = ", ".join(f"runs.{name}" for name in RUN_FIELDS)
# run_index's columns: what a list of runs shows, without the summaries
INDEX_FIELDS = ("id", "run_key", "git_sha", "branch", "version", "ts", "verdict", "approximate", "source")
# Rows per page where a run's failing tests are read in pages, and ids per `IN (...)` lookup (well under
# SQLite's 32 766 parameters and PostgreSQL's 65 535).
PAGE = 20_000
LOOKUP = 1_000
Query = Callable[[str, dict], list[tuple]]  # runs one statement in the open transaction: its rows


class HistoryError(Exception):
    """The history store cannot be opened or written; the message names the URL and the reason."""


class StoreContentError(HistoryError):
    """A row of the store that is not as healthdeck writes it: a shared store is written by every runner
    with its credentials, so what it holds is read as any input is (one line, exit 3, bounded memory)."""


def why(url: str, exc: BaseException) -> str:
    """`exception_text`, plus what SQLite's "unable to open database file" means when the file is read-only."""
    path = sqlite_path(url)
    if (
        path is not None
        and path.exists()
        and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))
    ):
        return f"{exception_text(exc)} (the store is read-only here; a reader such as gate --no-write needs no write access)"
    return exception_text(exc)


def is_lock_wait(exc: BaseException) -> bool:
    text = exception_text(exc).lower()
    return "database is locked" in text or "database is busy" in text or "lock timeout" in text


# (lowest project, highest project, any run without one): one project in all when the first two are equal
# and the third false; each part answered from an index.
_ONLY_PROJECT = (
    "SELECT (SELECT min(project) FROM runs), (SELECT max(project) FROM runs), "
    "EXISTS (SELECT 1 FROM runs WHERE project IS NULL)"
)


def check_schema(url: str, version: int, readonly: bool) -> bool:
    """True when the store needs migrating (and this opening may write); HistoryError when it cannot
    be read: written by a newer healthdeck, or older and opened read-only (a reader never migrates)."""
    if isinstance(version, bool) or not isinstance(version, int):  # SQLite's max() of a text row is the text
        raise StoreContentError(
            f"{safe_url(url)}: schema version {str(version)[:40]!r} is no healthdeck schema version"
        )
    if version > SCHEMA_VERSION:
        raise HistoryError(
            f"{safe_url(url)}: history schema {version} was written by a newer healthdeck "
            f"(this one knows {SCHEMA_VERSION}): upgrade healthdeck"
        )
    if version == 0 and readonly:
        raise HistoryError(
            f"{safe_url(url)}: holds no healthdeck history (no healthdeck tables): record a run into it "
            f"(`healthdeck collect --history URL`, or `healthdeck history migrate --history URL`) first"
        )
    if version < READS_SINCE and readonly:
        raise HistoryError(
            f"{safe_url(url)}: history schema {version} is older than this healthdeck's "
            f"({SCHEMA_VERSION}) and this command opens it read-only: run "
            f"`healthdeck history migrate --history URL` (or any collect) with write access first"
        )
    return version < SCHEMA_VERSION and not readonly


def encode_report(report: dict) -> tuple[int, bytes]:
    """(uncompressed size, body): compact JSON, zlib level 9 (≈ 4× smaller; decoding takes microseconds)."""
    raw = json.dumps(report, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
    return len(raw), zlib.compress(raw, 9)


def decode_report(codec: str, body: bytes, where: str = "stored report") -> dict:
    """A stored report, read as a report file is: inflated within the size a report file may have (a
    1 MB row can inflate to gigabytes), strict JSON, a healthdeck report by its schema; otherwise
    StoreContentError naming `where`."""
    from healthdeck.collectors.files import MIB, SMALL_FILE_LIMIT

    from ..errors import InputError
    from ..report_file import check_report, parse_report

    if codec != CODEC:
        raise HistoryError(f"{where} uses codec {codec!r}, which this healthdeck cannot read: upgrade it")
    if not isinstance(body, bytes | bytearray | memoryview):
        raise StoreContentError(f"{where}: not compressed data but {type(body).__name__}")
    inflate, raw, left = zlib.decompressobj(), bytearray(), bytes(body)
    try:  # a MiB at a time: zlib's own output buffer for one call doubles past what is asked for
        while (left or not inflate.eof) and len(raw) <= SMALL_FILE_LIMIT:
            piece = inflate.decompress(left, MIB)
            left = inflate.unconsumed_tail
            if not piece and not left:
                break
            raw += piece
    except zlib.error as exc:
        raise StoreContentError(f"{where}: not zlib data ({exc})") from None
    if len(raw) > SMALL_FILE_LIMIT:
        raise StoreContentError(
            f"{where}: inflates to more than {SMALL_FILE_LIMIT // MIB} MiB, the most a report may take"
        )
    try:
        report = parse_report(bytes(raw), where)
        check_report(report, where)
    except InputError as exc:
        raise StoreContentError(str(exc)) from None
    return report


def figure(value: object, where: str) -> float:
    """A stored figure (a metric, a duration) as a finite float; StoreContentError otherwise: a NaN passes
    every threshold comparison, and text or infinity broke every reader that rounds it."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or isinstance(value, bool):
        raise StoreContentError(f"{where}: {str(value)[:40]!r} is not a finite number")
    return number


def figures(rows: Sequence[Sequence], where: Callable[[Sequence], str]) -> list[tuple]:
    """Rows whose last item is a stored figure, as tuples with that figure a finite float (see `figure`).
    Checked in bulk, in C: a trend over 10 000 runs reads some 180 000 figures, and building each one's
    message up front (the store's URL, masked) cost 0.8 s; a bad row's message is built when it is met."""
    values = [row[-1] for row in rows]
    if set(map(type, values)) <= {float} and math.isfinite(sum(values)):  # inf, nan or an overflow: look
        return list(map(tuple, rows))
    return [(*row[:-1], figure(row[-1], where(row))) for row in rows]


_SECTIONS = ("coverage", "ruff", "compileall", "guardian", "openapi")
_SUITE_FIGURES = ("passed", "failed", "errors", "skipped", "total", "pass_rate")


def _misshapen(summary: dict) -> str | None:
    """The first part of a stored summary that readers would trip over, else None. A shape check, not
    the schema: `runs()` lists thousands of summaries for a trend, so it must cost microseconds."""
    tests = summary.get("tests")
    if tests is not None and not isinstance(tests, dict):
        return "tests"
    for suite, figures in (tests or {}).items():
        if not isinstance(figures, dict):
            return f"tests.{suite}"
        for key in _SUITE_FIGURES:
            value = figures.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value != value
                                      or value in (math.inf, -math.inf)):  # fmt: skip
                return f"tests.{suite}.{key}"
    return next(
        (k for k in _SECTIONS if summary.get(k) is not None and not isinstance(summary[k], dict)), None
    )


def _strict(constant: str) -> float:
    raise ValueError(f"{constant} is not a JSON number")


def run_from_row(row: tuple, url: str = "") -> Run:
    """A Run from a row of RUN_COLUMNS (of the store at `url`, named in an error); StoreContentError when
    the row is not as healthdeck writes it."""
    r = dict(zip(RUN_FIELDS, row, strict=True))
    where = f"{safe_url(url) + ': ' if url else ''}stored run {r['run_key']!r}"
    try:
        summary = json.loads(r["summary_json"], parse_constant=_strict)
    except (TypeError, ValueError, RecursionError) as exc:
        raise StoreContentError(
            f"{where}: its summary is not JSON ({' '.join(str(exc).split())[:120]})"
        ) from None
    ts = r["ts"]
    if not isinstance(summary, dict):
        raise StoreContentError(f"{where}: its summary is {type(summary).__name__}, not a JSON object")
    if bad := _misshapen(summary):
        raise StoreContentError(f"{where}: its summary's {bad} is not as healthdeck writes it")
    if isinstance(ts, bool) or not isinstance(ts, int) or not 0 <= ts < LATEST_TIME:
        raise StoreContentError(f"{where}: its time {ts!r} is not a Unix time")
    return Run(
        id=r["id"],
        run_key=r["run_key"],
        git_sha=r["git_sha"],
        branch=r["branch"],
        version=r["version"],
        ts=ts,
        ci_run_id=r["ci_run_id"],
        source=r["source"],
        approximate=bool(r["approximate"]),
        verdict=r["verdict"],
        summary=summary,
        project=r["project"],
        tag=r["tag"],
    )


def _in(column: str, name: str, values: Iterable, params: dict) -> str:
    """`column IN (:name0, :name1, ...)`, its values added to `params` (one spelling for both databases)."""
    keys = []
    for i, value in enumerate(values):
        params[f"{name}{i}"] = value
        keys.append(f":{name}{i}")
    return f"{column} IN ({', '.join(keys)})" if keys else "1 = 0"


def _starts_with(column: str, name: str, prefix: str, params: dict) -> str:
    params[name] = re.sub(r"([/%_])", r"/\1", prefix) + "%"
    return f"{column} LIKE :{name} ESCAPE '/'"


def _where(conditions: list[str]) -> str:
    return f" WHERE {' AND '.join(conditions)}" if conditions else ""


def _run_filters(
    params: dict,
    *,
    project: str | None = None,
    branch: str | None = None,
    before_ts: int | None = None,
    since_ts: int | None = None,
) -> list[str]:
    """The conditions every run list shares; `branch` only when given (empty means every branch)."""
    conditions = []
    for column, value, op in (("project", project, "="), ("branch", branch or None, "="),
                              ("ts", before_ts, "<"), ("ts", since_ts, ">=")):  # fmt: skip
        if value is not None:
            key = f"{column}_{len(params)}"
            params[key] = value
            conditions.append(f"runs.{column} {op} :{key}")
    return conditions


class HistoryReader:
    """Every read of the history store. Subclasses provide `_transaction` (and, to write, `_writing`)."""

    url: str
    readonly: bool
    lock_timeout: float
    on_wait: Callable[[str], None]
    _lock_error: type[BaseException]  # the driver's error that a lock wait raises
    _db_errors: tuple[type[BaseException], ...]  # the driver's errors, for messages naming the URL

    def _say_waits(self, on_wait: Callable[[str], None] | None) -> Callable[[str], None]:
        return on_wait or (lambda message: print(f"healthdeck: {message}", file=sys.stderr, flush=True))

    @contextmanager
    def _transaction(self) -> Iterator[Query]:
        """One read transaction (one snapshot of the store)."""
        raise NotImplementedError

    def _writing(self, work: Callable[[Query], _T]) -> _T:
        """`work` in one write transaction that takes the write lock up front."""
        raise NotImplementedError

    def _query(self, sql: str, params: dict | None = None) -> list[tuple]:
        with self._transaction() as query:
            return query(sql, params or {})

    # -- waiting for writers --------------------------------------------------------------------
    def _waiting(self, what: str, attempt: Callable[[], _T]) -> _T:
        """`attempt()`, retried while another writer holds the lock: says so once, gives up at the timeout."""
        deadline = time.monotonic() + self.lock_timeout
        said = False
        while True:
            try:
                return attempt()
            except self._lock_error as exc:
                if not is_lock_wait(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise HistoryError(
                        f"{safe_url(self.url)}: still locked by another writer after {self.lock_timeout:g} s, "
                        f"gave up ({what}); raise [tool.healthdeck] history_lock_timeout or --lock-timeout"
                    ) from exc
                if not said:
                    self.on_wait(
                        f"history {safe_url(self.url)} is locked by another writer; waiting up to "
                        f"{self.lock_timeout:g} s ({what})"
                    )
                    said = True
                time.sleep(0.05)

    def _write(self, what: str, work: Callable[[Query], _T]) -> _T:
        if self.readonly:
            raise HistoryError(f"{safe_url(self.url)}: opened read-only, cannot {what}")
        try:
            return self._waiting(what, lambda: self._writing(work))
        except self._db_errors as exc:
            raise HistoryError(f"{safe_url(self.url)}: cannot {what}: {why(self.url, exc)}") from exc

    # -- the one write a reader does: gate's verdict --------------------------------------------
    def set_verdict(self, run_key: str, verdict: str, detail: dict) -> bool:
        """Store the gate's verdict on the run and in its stored report (so readers of the store see it)."""

        def work(query: Query) -> bool:
            found = query("SELECT id FROM runs WHERE run_key = :key", {"key": run_key})
            if not found:
                return False
            run_id = found[0][0]
            query("UPDATE runs SET verdict = :verdict, verdict_json = :detail WHERE id = :id",
                  {"verdict": verdict, "detail": json.dumps(detail), "id": run_id})  # fmt: skip
            stored = query("SELECT codec, body FROM run_reports WHERE run_id = :id", {"id": run_id})
            if stored:
                report = decode_report(*stored[0], f"stored report of run {run_key!r}")
                report["summary"]["verdict"] = verdict
                report.setdefault("details", {})["verdict"] = detail
                size, body = encode_report(report)
                query("UPDATE run_reports SET size = :size, body = :body WHERE run_id = :id",
                      {"size": size, "body": body, "id": run_id})  # fmt: skip
            return True

        return self._write("store the verdict", work)

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
        params: dict = {}
        where = _where(
            _run_filters(params, project=project, branch=branch, before_ts=before_ts, since_ts=since_ts)
        )
        sql = f"SELECT {RUN_COLUMNS} FROM runs{where} ORDER BY runs.ts DESC, runs.id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [run_from_row(r, self.url) for r in reversed(self._query(sql, params))]

    def run_index(
        self,
        branch: str | None = None,
        since_ts: int | None = None,
        limit: int | None = None,
        project: str | None = None,
    ) -> list[dict]:
        """Runs oldest first (the newest `limit`), without their summaries, with their `git describe`
        version (release tags on trends); every project's unless `project` is given."""
        rows = self.run_rows(branch=branch, since_ts=since_ts, limit=limit, project=project)
        return [dict(zip(INDEX_FIELDS, r, strict=True)) for r in rows]

    def run_rows(
        self,
        branch: str | None = None,
        since_ts: int | None = None,
        limit: int | None = None,
        project: str | None = None,
        fields: Sequence[str] = INDEX_FIELDS,
    ) -> list[tuple]:
        """`run_index` as tuples of `fields` (INDEX_FIELDS or some of them, id and ts among them, in the
        order given): what a table is built from, without a dict per run."""
        if not {"id", "ts"} <= set(fields) <= set(INDEX_FIELDS):
            raise ValueError(f"run_rows: fields {fields!r} are not id, ts and others of {INDEX_FIELDS}")
        params: dict = {}
        where = _where(_run_filters(params, project=project, branch=branch, since_ts=since_ts))
        columns = ", ".join(f"runs.{name}" for name in fields)
        sql = f"SELECT {columns} FROM runs{where}"
        if limit:
            newest = f"{sql} ORDER BY runs.ts DESC, runs.id DESC LIMIT {int(limit)}"
            return list(reversed(self._query(newest, params)))
        # Time order is the (project, ts) index's own; the few runs of one second are put in id order here,
        # which costs less than the sort SQLite would add for them (4 of 21 ms at 10 000 runs).
        rows = self._query(f"{sql} ORDER BY runs.ts", params)
        rows.sort(key=operator.itemgetter(fields.index("ts"), fields.index("id")))
        return rows

    def run(self, run_key: str) -> Run | None:
        rows = self._query(f"SELECT {RUN_COLUMNS} FROM runs WHERE runs.run_key = :key", {"key": run_key})
        return run_from_row(rows[0], self.url) if rows else None

    def latest(self, project: str | None = None, branch: str | None = None) -> Run | None:
        """The newest run (of the project, of the branch when given)."""
        found = self.runs(branch=branch, limit=1, project=project)
        return found[0] if found else None

    def latest_for_sha(self, sha_prefix: str, project: str | None = None) -> Run | None:
        params: dict = {}
        conditions = [_starts_with("runs.git_sha", "sha", sha_prefix, params)]
        conditions += _run_filters(params, project=project)
        rows = self._query(f"SELECT {RUN_COLUMNS} FROM runs{_where(conditions)} "
                           "ORDER BY runs.ts DESC, runs.id DESC LIMIT 1", params)  # fmt: skip
        return run_from_row(rows[0], self.url) if rows else None

    def latest_for_tag(self, tag: str, project: str | None = None) -> Run | None:
        """The newest run recorded at release tag `tag` (its `tag`, or a `git describe` that is exactly it)."""
        params: dict = {"tag": tag}
        conditions = ["(runs.tag = :tag OR runs.version = :tag)", *_run_filters(params, project=project)]
        rows = self._query(f"SELECT {RUN_COLUMNS} FROM runs{_where(conditions)} "
                           "ORDER BY runs.ts DESC, runs.id DESC LIMIT 1", params)  # fmt: skip
        return run_from_row(rows[0], self.url) if rows else None

    def report(self, run: Run | int) -> dict | None:
        """The full report stored with the run (None for runs recorded before reports were stored). Given
        the Run, it names its run: a report imported from a folder or git never had a run key, and a
        reader that looks up "previous" from it must not find the run itself."""
        run_id = run.id if isinstance(run, Run) else run
        rows = self._query("SELECT codec, body FROM run_reports WHERE run_id = :id", {"id": run_id})
        if not rows:
            return None
        key = run.run_key if isinstance(run, Run) else f"id {run_id}"
        report = decode_report(*rows[0], f"{safe_url(self.url)}: stored report of run {key!r}")
        if isinstance(run, Run):
            report["summary"]["run_key"] = run.run_key
        return report

    def verdict_detail(self, run: Run) -> dict | None:
        """The gate's verdict and conditions as stored on the run (runs without a stored report have them
        too: gate wrote them), None when never gated or unreadable."""
        rows = self._query("SELECT verdict_json FROM runs WHERE id = :id", {"id": run.id})
        try:
            detail = json.loads(rows[0][0]) if rows and rows[0][0] else None
        except ValueError:
            return None
        return detail if isinstance(detail, dict) and detail.get("status") == run.verdict else None

    def report_sizes(self) -> tuple[int, int, int]:
        """(runs with a stored report, compressed bytes, uncompressed bytes) over the whole store."""
        [(count, stored, raw)] = self._query("SELECT count(*), sum(length(body)), sum(size) FROM run_reports")
        return int(count or 0), int(stored or 0), int(raw or 0)

    def projects(
        self,
        spark: int = 30,
        names: Iterable[str] = (),
        prefixes: Iterable[str] = (),
        prefer: Sequence[str] = (),
    ) -> list[ProjectSummary]:
        """Every project with its run count, newest run, and the asked-for metrics over its newest
        `spark` runs (for sparklines). Three queries whatever the number of runs; no report is opened.
        `prefer`: branches whose runs come first (a project's default branch: its newest run there is its
        headline, not a pull request's that landed last); a project with none keeps its newest run. The
        sparkline holds only runs of the headline run's branch, so a pull request's dips never read as
        the default branch's."""
        params: dict = {"spark": max(spark, 1)}
        preferred = _in("runs.branch", "prefer", list(prefer), params)  # "1 = 0" when none
        ranked = ("SELECT id, project, ts, rn, branch FROM (SELECT runs.id AS id, runs.project AS project, "
                  "runs.ts AS ts, runs.branch AS branch, "
                  f"row_number() OVER (PARTITION BY runs.project ORDER BY CASE WHEN {preferred} THEN 0 ELSE 1 END, "
                  "runs.ts DESC, runs.id DESC) AS rn FROM runs) AS ranked WHERE rn <= :spark")  # fmt: skip
        with self._transaction() as query:
            recent = query(ranked, params)
            totals = dict(query("SELECT project, count(*) FROM runs GROUP BY project", {}))
            params: dict = {}
            newest_ids = _in("runs.id", "id", [r[0] for r in recent if r[3] == 1], params)
            newest = {run.project: run for run in (run_from_row(row, self.url) for row in query(
                f"SELECT {RUN_COLUMNS} FROM runs WHERE {newest_ids}", params))}  # fmt: skip
        ts_of = {
            run_id: (project, ts)
            for run_id, project, ts, _, branch in recent
            if project in newest and branch == newest[project].branch
        }
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

    def metric_series(
        self, names: Sequence[str], project: str | None = None, from_run_id: int | None = None
    ) -> dict[str, list[tuple]]:
        """(run id, value) of each named metric over the project's runs (every project's with None), in
        run id order, from run `from_run_id` on (a window's first run) when given. One range of the
        (name, run_id, value) index per name: a trend over 10 000 runs costs no look-up of each run or
        each row, and no pivot in the store."""
        with self._transaction() as query:
            # In a store of this one project (the usual case) every metric row is the project's.
            only = project is None or tuple(query(_ONLY_PROJECT, {})[0]) == (project, project, False)
            since = "" if from_run_id is None else " AND metrics.run_id >= :first"
            sql = (
                f"SELECT run_id, value FROM metrics WHERE name = :name{since} ORDER BY run_id"
                if only
                else "SELECT metrics.run_id, metrics.value FROM metrics JOIN runs ON runs.id = metrics.run_id "
                f"WHERE metrics.name = :name AND runs.project = :project{since} ORDER BY metrics.run_id"
            )
            params = {"project": project, "first": from_run_id}
            return {name: figures(query(sql, {**params, "name": name}), self._metric_where(name))
                    for name in dict.fromkeys(names)}  # fmt: skip

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
        params: dict = {}
        which = [_in("metrics.name", "name", names, params)] if names else []
        which += [_starts_with("metrics.name", f"prefix{i}", p, params) for i, p in enumerate(prefixes)]
        conditions = [f"({' OR '.join(which)})"] if which else []
        conditions += _run_filters(params, branch=branch, since_ts=since_ts, project=project)
        if run_ids is not None:
            conditions.append(_in("runs.id", "run", run_ids, params))
        sql = ("SELECT metrics.run_id, metrics.name, metrics.value FROM metrics "
               f"JOIN runs ON runs.id = metrics.run_id{_where(conditions)}")  # fmt: skip
        where = self._metric_where
        return figures(self._query(sql, params), lambda row: where(row[1])(row))

    def branches(self, project: str | None = None) -> list[str]:
        params: dict = {}
        conditions = ["runs.branch IS NOT NULL", *_run_filters(params, project=project)]
        return sorted(
            r[0] for r in self._query(f"SELECT DISTINCT runs.branch FROM runs{_where(conditions)}", params)
        )

    def project_names(self) -> list[str | None]:
        return sorted((r[0] for r in self._query("SELECT DISTINCT project FROM runs")), key=lambda p: p or "")

    def metrics_of(self, run_id: int) -> dict[str, float]:
        rows = self._query("SELECT run_id, name, value FROM metrics WHERE run_id = :id", {"id": run_id})
        return {name: value for _, name, value in figures(rows, lambda row: self._metric_where(row[1])(row))}

    def _metric_where(self, name: str) -> Callable[[Sequence], str]:
        """The message's start for a bad stored metric of a (run id, …) row."""
        return lambda row: f"{safe_url(self.url)}: stored metric {name!r} of run id {row[0]}"

    def failing_of(self, run_id: int, suite: str | None = None) -> dict[tuple[str, str], str]:
        """A run's non-passing tests at once, for copying or inspecting small runs; what reads runs of
        any size pages through failing_pages instead."""
        params = {"id": run_id, **({"suite": suite} if suite else {})}
        sql = "SELECT suite, test_id, outcome FROM test_results WHERE run_id = :id"
        rows = self._query(sql + (" AND suite = :suite" if suite else ""), params)
        return {(s, t): o for s, t, o in rows}

    def failing_pages(self, run_id: int, suite: str) -> Iterator[list[tuple[str, str]]]:
        """One suite's non-passing tests in a run as (test id, outcome), a page at a time in the primary
        key's order: each page is one index range read in its own short transaction, so a run of a
        million failing tests is never held at once (a dict of them took 340 MB)."""
        sql = "SELECT test_id, outcome FROM test_results WHERE run_id = :id AND suite = :suite"
        return self._pages(sql, {"id": run_id, "suite": suite}, "test_id")

    def failing_pages_against(
        self, run_id: int, suite: str, base_id: int
    ) -> Iterator[list[tuple[str, str, str | None]]]:
        """failing_pages with each test's outcome in run `base_id` beside it (None: not recorded there,
        so it passed or did not run), in the same query, where a lookup of each page's ids took a query
        per thousand ids (PostgreSQL answered 100 000 of them 2.5 times slower). A subquery on the whole
        primary key, not a join: right after a large run was written, PostgreSQL's statistics still say
        the table is empty, and it planned the join as a scan of the baseline's rows for every row (180 s
        for 100 000)."""
        sql = ("SELECT a.test_id, a.outcome, (SELECT b.outcome FROM test_results b WHERE b.run_id = :base "
               "AND b.suite = a.suite AND b.test_id = a.test_id) FROM test_results a "
               "WHERE a.run_id = :id AND a.suite = :suite")  # fmt: skip
        return self._pages(sql, {"id": run_id, "suite": suite, "base": base_id}, "a.test_id")

    def _pages(self, sql: str, params: dict, key: str) -> Iterator[list[tuple]]:
        """`sql` (its first column `key`, unique in its rows) PAGE rows at a time by `key`, each page
        its own query: nothing is held open between pages, and the database's own order is followed."""
        after: str | None = None
        while True:
            where, bound = (
                (sql, params) if after is None else (f"{sql} AND {key} > :after", {**params, "after": after})
            )
            rows = self._query(f"{where} ORDER BY {key} LIMIT {PAGE}", bound)
            if rows:
                yield rows
            if len(rows) < PAGE:
                return
            after = rows[-1][0]

    def outcomes_in(self, run_id: int, suite: str, test_ids: Iterable[str]) -> dict[str, str]:
        """test id -> outcome in the run's suite, for those of `test_ids` it recorded as non-passing."""
        out: dict[str, str] = {}
        ids = iter(test_ids)
        while chunk := list(itertools.islice(ids, LOOKUP)):
            params: dict = {"id": run_id, "suite": suite}
            sql = ("SELECT test_id, outcome FROM test_results WHERE run_id = :id AND suite = :suite AND "
                   + _in("test_id", "t", chunk, params))  # fmt: skip
            out.update(self._query(sql, params))
        return out

    def changing_history(
        self, suite: str, run_ids: list[int], grouped: Iterable[int] = ()
    ) -> dict[str, dict[int, str]]:
        """test id -> {run id: outcome} over `run_ids` (oldest first; non-passing outcomes only), for the
        tests whose outcome may have changed: flaky in some run; failing in a run of `grouped` (runs
        of a commit that ran more than once) and passing in another; or failing in runs that are not
        all the oldest or all the newest (two changes at least). A test failing in every run, or only
        in the newest ones (it broke once), is left in the store: at a million failing tests per run
        their histories were gigabytes, and they are not flaky."""
        if not run_ids:
            return {}
        params: dict = {"suite": suite, "n": len(run_ids)}
        runs = _in("run_id", "run", run_ids, params)
        at = "CASE run_id " + " ".join(f"WHEN :run{i} THEN {i}" for i in range(len(run_ids))) + " END"
        failing = "outcome IN ('failed', 'error')"
        in_group = _in("run_id", "grp", grouped, params)
        sql = (f"SELECT test_id, run_id, outcome FROM test_results WHERE suite = :suite AND {runs} AND test_id IN ("
               f"SELECT test_id FROM test_results WHERE suite = :suite AND {runs} GROUP BY test_id HAVING "
               "sum(CASE WHEN outcome = 'flaky' THEN 1 ELSE 0 END) > 0"
               f" OR (sum(CASE WHEN {failing} AND {in_group} THEN 1 ELSE 0 END) > 0"
               f" AND sum(CASE WHEN {failing} THEN 1 ELSE 0 END) < :n)"
               f" OR NOT ((min(CASE WHEN {failing} THEN {at} END) = 0"
               f" AND max(CASE WHEN {failing} THEN {at} END) = sum(CASE WHEN {failing} THEN 1 ELSE 0 END) - 1)"
               f" OR (max(CASE WHEN {failing} THEN {at} END) = :n - 1"
               f" AND min(CASE WHEN {failing} THEN {at} END) = :n - sum(CASE WHEN {failing} THEN 1 ELSE 0 END))))")  # fmt: skip
        out: dict[str, dict[int, str]] = {}
        for test_id, run_id, outcome in self._query(sql, params):
            out.setdefault(test_id, {})[run_id] = outcome
        return out

    def causes_of(self, run_id: int) -> dict[str, dict[str, int]]:
        """suite -> {cause id: count} recorded for a run."""
        out: dict[str, dict[str, int]] = {}
        for suite, cause_id, count in self._query(
            "SELECT suite, cause_id, count FROM run_causes WHERE run_id = :id", {"id": run_id}
        ):
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
        params: dict = {"suite": suite}
        scope = _run_filters(params, branch=branch, project=project)
        earliest = ("SELECT run_causes.cause_id AS cause_id, min(runs.ts) AS ts FROM run_causes "
                    "JOIN runs ON runs.id = run_causes.run_id"
                    + _where(["run_causes.suite = :suite", _in("run_causes.cause_id", "cause", ids, params), *scope])
                    + " GROUP BY run_causes.cause_id")  # fmt: skip
        # The runs at each cause's earliest time (usually one; the lowest id wins a tie).
        sql = (f"SELECT run_causes.cause_id, {RUN_COLUMNS} FROM run_causes "
               "JOIN runs ON runs.id = run_causes.run_id "
               f"JOIN ({earliest}) AS earliest ON earliest.cause_id = run_causes.cause_id AND earliest.ts = runs.ts"
               + _where(["run_causes.suite = :suite", *scope]) + " ORDER BY runs.id DESC")  # fmt: skip
        return {row[0]: run_from_row(row[1:], self.url) for row in self._query(sql, params)}

    def durations_of(self, run_id: int, suite: str | None = None) -> dict[tuple[str, str], float]:
        """(suite, test id) -> seconds, for the tests whose duration the run recorded."""
        sql = "SELECT suite, test_id, seconds FROM test_durations WHERE run_id = :id"
        params = {"id": run_id, **({"suite": suite} if suite else {})}
        rows = self._query(sql + (" AND suite = :suite" if suite else ""), params)
        return {
            (s, t): x
            for s, t, x in figures(rows, lambda row: f"{safe_url(self.url)}: stored duration of {row[1]!r}")
        }

    def test_timeline(
        self, suite: str, test_id: str, run_ids: list[int]
    ) -> dict[int, tuple[str | None, float | None]]:
        """run id -> (stored outcome or None when not failing, recorded seconds or None) for one test."""
        if not run_ids:
            return {}
        out: dict[int, tuple[str | None, float | None]] = dict.fromkeys(run_ids, (None, None))
        params: dict = {"suite": suite, "test": test_id}
        which = "WHERE suite = :suite AND test_id = :test AND " + _in("run_id", "run", run_ids, params)
        with self._transaction() as query:
            for run_id, outcome in query(f"SELECT run_id, outcome FROM test_results {which}", params):
                out[run_id] = (outcome, out[run_id][1])
            for run_id, value in query(f"SELECT run_id, seconds FROM test_durations {which}", params):
                out[run_id] = (
                    out[run_id][0],
                    figure(value, f"{safe_url(self.url)}: stored duration of {test_id!r}"),
                )
        return out

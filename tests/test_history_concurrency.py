"""The store and the report pair under pressure: parallel collects, a writer that waits for a lock and
gives up, kill -9 in the middle of writing, retention while CI writes, read-only mounts, and stores
made by the previous schema."""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from healthdeck.reports.cli import EXIT_INPUT, EXIT_NO_GO, EXIT_OK, EXIT_OUTPUT, main
from healthdeck.reports.history.store import SCHEMA_VERSION, HistoryError, open_store
from healthdeck.reports.output import md_run_key
from tests.conftest import EDGE, FIXTURES, REAL

V1_STORE = FIXTURES / "history" / "schema-v1.sqlite"
SMALL = [
    "--junit",
    f"smoke={EDGE / 'xunit2.xml'}",
    "--ruff",
    str(REAL / "more-itertools.ruff-statistics.txt"),
]


def _collector(url: str, out: str, worker: int, count: int, errors) -> None:
    os.environ["GITHUB_SHA"] = f"{worker:08x}" + "0" * 32
    for i in range(count):
        os.environ["SOURCE_DATE_EPOCH"] = str(1_700_000_000 + worker * 1000 + i)
        code = main(["collect", "-q", "--project", "p", "--out", out, "--history", url, *SMALL])
        if code != 0:
            errors.put((worker, i, code))


def test_parallel_collects_into_one_sqlite_store_lose_no_run(tmp_path) -> None:
    """8 CI jobs × 50 runs, one SQLite store, one output folder: every run recorded, and the pair on
    disk is one run's, and that run is in the history."""
    url, out = f"sqlite:///{tmp_path / 'h.sqlite'}", str(tmp_path / "out")
    context = multiprocessing.get_context("fork")
    errors = context.Queue()
    workers = [context.Process(target=_collector, args=(url, out, w, 50, errors)) for w in range(8)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(timeout=600)
    assert [p.exitcode for p in workers] == [0] * 8
    assert errors.empty()
    store = open_store(url, readonly=True)
    runs = store.runs()
    assert len(runs) == 400 and len({r.run_key for r in runs}) == 400
    key = json.loads((tmp_path / "out" / "latest.json").read_text())["summary"]["run_key"]
    assert md_run_key(tmp_path / "out" / "latest.md") == key and store.run(key) is not None
    assert store.report(store.run(key))["summary"]["run_key"] == key
    store.close()


def test_a_locked_store_waits_says_so_gives_up_and_keeps_the_previous_pair(tmp_path, capsys) -> None:
    url, out = f"sqlite:///{tmp_path / 'h.sqlite'}", tmp_path / "out"
    assert main(["collect", "-q", "--out", str(out), "--history", url, *SMALL]) == EXIT_OK
    before = {name: (out / name).read_bytes() for name in ("latest.json", "latest.md")}
    holder = sqlite3.connect(tmp_path / "h.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer in the middle of its transaction
    try:
        started = time.monotonic()
        code = main(["collect", "-q", "--lock-timeout", "1.5", "--out", str(out), "--history", url, *SMALL])
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert code == EXIT_OUTPUT and 1.5 <= waited < 10
    err = capsys.readouterr().err.splitlines()
    assert "is locked by another writer; waiting up to 1.5 s" in err[0]
    assert (
        "still locked by another writer after 1.5 s, gave up" in err[1] and "history_lock_timeout" in err[1]
    )
    assert len(err) == 2
    assert {name: (out / name).read_bytes() for name in before} == before  # nothing replaced
    store = open_store(url, readonly=True)
    assert [r.run_key for r in store.runs()] == [json.loads(before["latest.json"])["summary"]["run_key"]]
    store.close()


def test_a_locked_postgresql_store_says_it_waits_then_records(postgres, tmp_path, capsys) -> None:
    """PostgreSQL waits inside the server: it is asked to give up after a short slice so that the wait is
    said, then the transaction is retried until the command's own lock timeout."""
    import threading

    import psycopg

    url, out = postgres.create_database("hd_locked"), tmp_path / "out"
    assert main(["collect", "-q", "--out", str(out), "--history", url, *SMALL]) == EXIT_OK
    holder = psycopg.connect(url)
    holder.execute("LOCK TABLE runs IN SHARE MODE")  # blocks writers, not readers: another writer mid-way
    started = (
        time.monotonic()
    )  # before the timer starts: the lock is released 2.5 s after this at the earliest
    release = threading.Timer(2.5, holder.rollback)
    release.start()
    try:
        code = main(["collect", "-q", "--lock-timeout", "30", "--out", str(out), "--history", url, *SMALL])
        waited = time.monotonic() - started
    finally:
        release.join()
        holder.close()
    err = capsys.readouterr().err
    assert code == EXIT_OK, err
    assert 2.5 <= waited < 25
    assert "is locked by another writer; waiting up to 30 s" in err and err.count("\n") == 1
    store = open_store(url, readonly=True)
    assert len(store.runs()) == 2
    store.close()


WRITER = """
import json, sys
from pathlib import Path
from healthdeck.reports.output import write_report_pair
target = Path(sys.argv[1])
filler = "x" * 400_000  # big enough that a write takes a while
k = 0
while True:
    k += 1
    report = {"summary": {"run_key": f"run-{k}"}, "pad": [filler] * 5}
    write_report_pair(target, json.dumps(report), "# report\\n" + filler, f"run-{k}")
    print(k, flush=True)
"""


def test_kill_9_while_writing_leaves_old_or_new_never_torn(tmp_path) -> None:
    """A process writing the pair in a loop is killed with SIGKILL at random moments, 25 times."""
    target = tmp_path / "latest.json"
    rng = random.Random(7)
    for attempt in range(25):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout.readline()  # at least one pair written
        time.sleep(rng.uniform(0, 0.05))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        report = json.loads(target.read_text())  # always whole JSON: one complete version
        key = report["summary"]["run_key"]
        md_key = md_run_key(target.with_suffix(".md"))
        # Markdown is renamed first: it is the JSON's run or, after a kill between the renames, the next one
        assert md_key in (key, f"run-{int(key.split('-')[1]) + 1}"), (attempt, key, md_key)
        assert len(report["pad"]) == 5
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) <= 2  # only the last killed writer's temp files: the next pair removes them


def test_kill_9_during_collect_keeps_report_and_history_agreeing(tmp_path) -> None:
    """Real `healthdeck collect` processes killed at random moments: latest.json is always a whole
    report of a run the history has."""
    url, out = f"sqlite:///{tmp_path / 'h.sqlite'}", tmp_path / "out"
    command = [sys.executable, "-m", "healthdeck.reports.cli", "collect", "-q", "--out", str(out), "--history", url,
               "--junit", f"smoke={REAL / 'dateutil.junit-reruns.xml.gz'}", "--coverage", str(REAL / "dateutil.coverage.xml.gz")]  # fmt: skip
    assert subprocess.run(command, capture_output=True, timeout=120).returncode == 0
    started = time.monotonic()
    subprocess.run(command, capture_output=True, timeout=120, check=True)
    duration = time.monotonic() - started
    rng = random.Random(3)
    for _ in range(8):
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 1.0) * duration)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        key = json.loads((out / "latest.json").read_text())["summary"]["run_key"]
        store = open_store(url, readonly=True)
        assert store.run(key) is not None
        store.close()


def _writer(url: str, worker: int, count: int) -> None:
    store = open_store(url, project="p")
    for i in range(count):
        store.append({"ts": int(time.time()), "branch": "main", "project": "p"},
                     failing=[("smoke", f"t{i}", "failed")], report={"summary": {"i": i}})  # fmt: skip
    store.close()


def test_prune_keeps_what_the_rules_keep(tmp_path, capsys) -> None:
    repo = tmp_path / "repo"  # a release tagged after its run was recorded
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@e"}  # fmt: skip
    for args in (["init", "-q"], ["commit", "-q", "--allow-empty", "-m", "r"], ["tag", "v0.9"]):
        subprocess.run(["git", "-C", str(repo), *args] if args[0] != "init" else ["git", *args, str(repo)],
                       check=True, env=env)  # fmt: skip
    tagged_later = subprocess.run(["git", "-C", str(repo), "rev-parse", "v0.9"], capture_output=True, text=True,
                                  check=True).stdout.strip()  # fmt: skip
    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    store = open_store(url, project="p")
    now = int(time.time())
    for k in range(10):  # ten old runs on main: one of a release tag, one at the later-tagged commit
        sha = tagged_later if k == 5 else f"{k:040x}"
        store.append({"ts": now - (100 - k) * 86_400, "branch": "main", "project": "p", "git_sha_full": sha,
                      "tag": "v1.0" if k == 2 else None}, report={"summary": {}})  # fmt: skip
    for k in range(5):
        store.append({"ts": now - (50 - k) * 86_400, "branch": "feature", "project": "p"})
    store.append({"ts": now - 3600, "branch": "main", "project": "p"}, report={"summary": {}})  # fresh
    store.append({"ts": now - 200 * 86_400, "branch": "main", "project": "other"})
    store.close()
    history = ["--history", url, "--project", "p"]
    assert (
        main(["history", "prune", "--keep-runs", "2", "--keep-days", "30", "--dry-run", *history]) == EXIT_OK
    )
    assert capsys.readouterr().out.startswith("would delete 11 runs, kept 5")
    assert (
        main(["history", "prune", "--keep-runs", "2", "--keep-days", "30", "--repo", str(repo), *history])
        == EXIT_OK
    )
    assert capsys.readouterr().out.startswith("deleted 10 runs, kept 6")
    store = open_store(url, readonly=True)
    kept = store.runs(project="p")
    assert "v1.0" in {r.tag for r in kept} and tagged_later in {r.git_sha for r in kept}
    assert [r.branch for r in kept].count("feature") == 2 and len(store.runs(project="other")) == 1
    assert store.report_sizes()[0] == 4  # the deleted runs' reports went with them: v1.0, tagged, 2 newest
    store.close()
    assert main(["history", "prune", *history]) == 2  # nothing to keep by: a usage error


def test_prune_while_ci_writes(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    store = open_store(url, project="p")
    for k in range(600):
        store.append({"ts": 1_000 + k, "branch": "main", "project": "p"}, report={"summary": {"k": k}})
    store.close()
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=_writer, args=(url, w, 40)) for w in range(3)]
    for p in writers:
        p.start()
    pruner = open_store(url)
    result = pruner.prune(keep_days=1, keep_runs=None, now=int(time.time()), batch=50)  # keeps the new runs
    pruner.close()
    for p in writers:
        p.join(timeout=120)
    assert [p.exitcode for p in writers] == [0] * 3
    store = open_store(url, readonly=True)
    new = [r for r in store.runs() if r.ts >= 2_000]
    assert len(new) == 120  # every run written during the prune is there
    assert len(result.deleted) == 600 and all(r.ts < 2_000 for r in result.deleted)
    assert store.report_sizes()[0] == 120
    store.close()


def _copy_v1(tmp_path: Path) -> str:
    path = tmp_path / "v1.sqlite"
    shutil.copy(V1_STORE, path)
    return f"sqlite:///{path}"


def test_a_store_made_by_schema_1_migrates(tmp_path, capsys, monkeypatch) -> None:
    """The fixture was written by healthdeck at schema 1 (three collects of the dateutil sample, one gated)."""
    monkeypatch.chdir(tmp_path)  # no report file here: the readers read the store
    url = _copy_v1(tmp_path)
    with pytest.raises(HistoryError, match="healthdeck history migrate"):
        open_store(url, readonly=True)  # a reader never migrates
    assert main(["gate", "--no-write", "--history", url, "--project", "dateutil"]) == EXIT_INPUT
    assert "is older than this healthdeck's" in capsys.readouterr().err
    before = sqlite3.connect(tmp_path / "v1.sqlite").execute("select count(*) from metrics").fetchone()[0]
    assert main(["history", "migrate", "--history", url, "--project", "dateutil"]) == EXIT_OK
    assert (
        f"history at schema {SCHEMA_VERSION}; 3 runs without a project assigned to dateutil"
        in capsys.readouterr().out
    )
    store = open_store(url, readonly=True)
    runs = store.runs(project="dateutil")
    assert len(runs) == 3 and [r.branch for r in runs] == ["main", "feature", "main"]
    assert runs[-1].verdict == "GO" and store.report(runs[-1]) is None  # no full report before schema 2
    assert sum(len(store.metrics_of(r.id)) for r in runs) == before
    store.close()
    assert main(["comment", "--history", url, "--project", "dateutil"]) == EXIT_OK
    out, err = capsys.readouterr()
    assert "recorded before full reports were stored" in err and "smoke pass rate" in out
    # the verdict gate stored on the run, as `history show` and the badge say it (not "not gated yet")
    headline = next(line for line in out.splitlines() if line.startswith("## "))
    assert "GO" in headline and "not gated" not in out, headline


def test_schema_1_on_postgresql_migrates(postgres) -> None:
    """The same schema-1 rows, in a PostgreSQL database made by migration 1 alone."""
    import sqlalchemy as sa

    from healthdeck.reports.history.store import MIGRATIONS, schema_migrations

    url = postgres.create_database("hd_v1")
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    source = sqlite3.connect(V1_STORE)
    with engine.begin() as conn:
        schema_migrations.create(conn)
        MIGRATIONS[0](conn, None)
        conn.execute(schema_migrations.insert().values(version=1, applied_at=0))
        for table in ("runs", "metrics", "test_results"):
            cursor = source.execute(f"select * from {table}")
            names = [d[0] for d in cursor.description]
            rows = [dict(zip(names, row, strict=True)) for row in cursor]
            if table == "runs":
                rows = [{**r, "approximate": bool(r["approximate"])} for r in rows]
            conn.execute(
                sa.text(
                    f"insert into {table} ({', '.join(names)}) values ({', '.join(':' + n for n in names)})"
                ),
                rows,
            )
        conn.execute(sa.text("SELECT setval('runs_id_seq', (SELECT max(id) FROM runs))"))  # as a restore does
    engine.dispose()
    store = open_store(url, project="dateutil")
    assert store.schema_version() == SCHEMA_VERSION
    with (
        store.engine.connect() as conn
    ):  # migration 4 on PostgreSQL: the covering index replaces metrics_name
        assert {i["name"] for i in sa.inspect(conn).get_indexes("metrics")} == {"metrics_name_run_value"}
        assert "runs_project_ts_listed" in {i["name"] for i in sa.inspect(conn).get_indexes("runs")}
    assert [r.project for r in store.runs()] == ["dateutil"] * 3
    report = json.loads((FIXTURES / "golden" / "full.json").read_text())  # a stored report is read as one
    run_id = store.append({"ts": 2_000_000_000, "branch": "main", "project": "dateutil"}, report=report)
    assert store.report(run_id) == report
    store.close()


def _bind_mount_read_only(source: Path, target: Path) -> None:
    target.mkdir()
    done = subprocess.run(
        ["mount", "--bind", "-o", "ro", str(source), str(target)], capture_output=True, text=True
    )
    if done.returncode != 0:
        message = f"a read-only bind mount needs root with mount rights: {done.stderr.strip()}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


def test_readers_work_on_a_read_only_mount(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # no report file here: without --report the readers read the store
    data = tmp_path / "data"
    out = data / "out"
    url = f"sqlite:///{data / 'history.sqlite'}"
    for k in range(2):
        monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(time.time()) - 100 + k))  # in the dashboard's window
        assert (
            main(["collect", "-q", "--project", "p", "--out", str(out), "--history", url, *SMALL]) == EXIT_OK
        )
    ro = tmp_path / "ro"
    _bind_mount_read_only(data, ro)
    try:
        with pytest.raises(OSError):
            (ro / "probe").write_text("x")  # really read-only, even for root
        ro_url = f"sqlite:///{ro / 'history.sqlite'}"
        report = str(ro / "out" / "latest.json")
        capsys.readouterr()
        assert main(["gate", "--no-write", "--history", ro_url]) == EXIT_NO_GO  # from the store alone
        assert main(["gate", "--no-write", "--report", report, "--history", ro_url]) == EXIT_NO_GO
        assert "verdict:" in capsys.readouterr().out
        assert main(["comment", "--history", ro_url, "--project", "p"]) == EXIT_OK
        assert main(["badge", "--report", report, "--out", str(tmp_path / "badges")]) == EXIT_OK
        assert main(["history", "show", "--history", ro_url, "--project", "p", "--format", "json"]) == EXIT_OK
        assert (
            main(["gate", "--history", ro_url, "--project", "p"]) == EXIT_INPUT
        )  # storing a verdict cannot work
        [err] = [
            line for line in capsys.readouterr().err.splitlines() if not line.startswith("healthdeck: note:")
        ]
        assert "the store is read-only here" in err  # when opening or when storing the verdict
        _dashboard_on(ro_url, tmp_path / "no-report.json", monkeypatch)
    finally:
        subprocess.run(["umount", str(ro)], check=True)


def _dashboard_on(url: str, report: Path, monkeypatch) -> None:
    """The dashboard over a read-only store and no report file: it renders the stored run."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("HEALTHDECK_REPORT", str(report))
    monkeypatch.setenv("HEALTHDECK_HISTORY", url)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(
        str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py"), default_timeout=60
    )
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    ctx = at.session_state["healthdeck_ctx"]
    assert ctx.history_error is None and ctx.report is not None and len(ctx.runs) == 2
    from healthdeck.dashboard import data

    data.store(url).close()  # let go of the file, so the mount can be undone
    st.cache_resource.clear()


def test_a_version_3_store_is_read_as_it_is_and_a_writer_adds_the_indexes(tmp_path, capsys) -> None:
    """Version 4 only adds indexes: read-only commands and the dashboard read a version-3 store (no
    "run migrate first"), and the next writer brings it to version 4 with the trends' covering indexes."""
    from healthdeck.reports.history import open_reader

    url = _copy_v1(tmp_path)
    assert main(["history", "migrate", "--history", url, "--project", "dateutil"]) == EXIT_OK
    db = sqlite3.connect(tmp_path / "v1.sqlite", isolation_level=None)
    db.executescript("BEGIN; DROP INDEX metrics_name_run_value; CREATE INDEX metrics_name ON metrics (name); "
                     "DROP INDEX runs_project_ts_listed; CREATE INDEX runs_project_ts ON runs (project, ts); "
                     "DELETE FROM schema_migrations WHERE version > 3; COMMIT;")  # fmt: skip
    names = [r[0] for r in db.execute("SELECT DISTINCT name FROM metrics ORDER BY name LIMIT 3")]
    reader = open_reader(url, readonly=True)
    assert reader.schema_version() == 3
    before = reader.metric_series(names)
    reader.close()
    assert [len(pairs) for pairs in before.values()] == [3, 3, 3]
    assert main(["comment", "--history", url, "--project", "dateutil"]) == EXIT_OK
    assert main(["gate", "--no-write", "--history", url, "--project", "dateutil"]) in (EXIT_OK, EXIT_NO_GO)
    assert "older than" not in capsys.readouterr().err
    assert main(["history", "migrate", "--history", url, "--project", "dateutil"]) == EXIT_OK
    indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"metrics_name_run_value", "runs_project_ts_listed"} <= indexes
    assert not {"metrics_name", "runs_project_ts"} & indexes
    listed = "SELECT id, run_key, branch, ts FROM runs WHERE project = 'dateutil' ORDER BY ts DESC"
    assert "COVERING INDEX runs_project_ts_listed" in str(
        db.execute(f"EXPLAIN QUERY PLAN {listed}").fetchall()
    )
    plan = db.execute(
        "EXPLAIN QUERY PLAN SELECT run_id, value FROM metrics WHERE name = ?", names[:1]
    ).fetchall()
    assert "COVERING INDEX metrics_name_run_value" in str(plan)
    reader = open_reader(url, readonly=True)
    assert reader.schema_version() == SCHEMA_VERSION == 4 and reader.metric_series(names) == before
    reader.close()
    # with a second project in the store, each project's columns hold its own runs only
    writer = open_store(url)
    other = writer.append({"ts": 2_000_000_000, "branch": "main", "project": "other"}, report={"summary": {}})
    db.execute("INSERT INTO metrics (run_id, name, value) VALUES (?, ?, 1.5)", (other, names[0]))
    writer.close()
    reader = open_reader(url, readonly=True)
    assert reader.metric_series(names, project="dateutil") == before
    assert reader.metric_series(names, project="other") == {
        names[0]: [(other, 1.5)],
        names[1]: [],
        names[2]: [],
    }
    assert len(reader.metric_series(names)[names[0]]) == 4  # every project's
    reader.close()

"""History against a real SQLite file and a real PostgreSQL server: append, migrate, parallel
writers, importers (folder, git, bare git, every upstream shape), trends and baselines."""

from __future__ import annotations

import json
import multiprocessing
import subprocess

import pytest
import sqlalchemy as sa

from healthdeck.reports.cli import EXIT_OK, main
from healthdeck.reports.history.baselines import Baseline
from healthdeck.reports.history.importers import import_dir, import_git, normalize
from healthdeck.reports.history.store import MIGRATIONS, HistoryStore, open_store
from healthdeck.reports.history.trends import BaselineError, flaky_tests, resolve_baseline
from tests.conftest import REAL
from tests.upstream_shapes import versions


def _summary(
    ts: int, sha: str = "f" * 40, branch: str = "main", rate: float = 0.9, cov: float = 80.0
) -> dict:
    return {
        "git_sha": sha[:8], "git_sha_full": sha, "branch": branch, "ts": ts, "version": None,
        "tests": {"smoke": {"passed": int(rate * 100), "failed": 100 - int(rate * 100), "errors": 0, "skipped": 0,
                            "xfailed": 0, "flaky": 0, "total": 100, "pass_rate": rate}},
        "coverage": {"percent": cov, "statements_percent": cov, "branches_percent": None, "lanes": {}},
        "ruff": {"count": {"total": 5, "lanes": {"core": 2}}, "stats": {"E501": 5}, "syntax_errors": 0},
        "compileall": None, "guardian": None, "missing": ["compileall", "guardian"],
    }  # fmt: skip


def test_append_and_read_back(store_url) -> None:
    store = open_store(store_url)
    run_id = store.append(_summary(100), failing=[("smoke", "t::a", "failed"), ("smoke", "t::b", "flaky")])
    assert store.schema_version() == len(MIGRATIONS)
    [run] = store.runs()
    assert (run.id, run.branch, run.short_sha, run.ts) == (run_id, "main", "ffffffff", 100)
    assert store.metrics_of(run_id)["tests.smoke.pass_rate"] == 0.9
    assert store.metrics_of(run_id)["ruff.lanes.core"] == 2
    assert store.failing_of(run_id) == {("smoke", "t::a"): "failed", ("smoke", "t::b"): "flaky"}
    assert store.append(_summary(100), run_key=run.run_key) is None  # the same key is stored once
    store.close()
    reopened = open_store(store_url)  # migrations are not applied twice
    assert reopened.schema_version() == len(MIGRATIONS) and len(reopened.runs()) == 1


def test_a_failing_test_given_twice_keeps_its_first_outcome(store_url, monkeypatch) -> None:
    """The database skips a test id given again (no dict of a million failing tests in memory); an attempt
    that waits for a lock starts over, reading its rows anew (an iterator is listed first)."""
    rows = [("smoke", "t::a", "failed"), ("unit", "t::a", "error"), ("smoke", "t::a", "flaky"),
            ("smoke", "t::b", "flaky"), ("unit", "t::a", "failed")]  # fmt: skip
    want = {("smoke", "t::a"): "failed", ("unit", "t::a"): "error", ("smoke", "t::b"): "flaky"}

    class Rows:  # made anew each time, as collect's are
        def __iter__(self):
            return iter(rows)

    store = open_store(store_url)
    written = HistoryStore._in_write_transaction
    locked = [True]

    def once_locked(self, work):  # the first attempt writes, then meets a lock and is rolled back
        def then_locked(conn):
            run_id = work(conn)
            if locked.pop():
                raise sa.exc.OperationalError("INSERT", {}, Exception("database is locked"))
            return run_id

        return written(self, then_locked)

    monkeypatch.setattr(HistoryStore, "_in_write_transaction", once_locked)
    for ts, failing in ((100, Rows()), (101, iter(rows))):
        locked[:] = [False, True]
        run_id = store.append(_summary(ts), failing=failing)
        assert store.failing_of(run_id) == want
    store.close()


def _writer(url: str, worker: int, count: int) -> None:
    store = open_store(url)
    for i in range(count):
        store.append(_summary(1000 + worker * 100 + i), failing=[("smoke", f"t{i}", "failed")])
    store.close()


def test_parallel_writers_lose_nothing(store_url) -> None:
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_writer, args=(store_url, w, 15)) for w in range(6)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(timeout=120)
    assert [p.exitcode for p in workers] == [0] * 6
    store = open_store(store_url)
    runs = store.runs()
    assert len(runs) == 90
    assert sum(len(store.failing_of(r.id)) for r in runs) == 90


def _git(repo, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org", "PATH": "/usr/bin:/bin"}  # fmt: skip
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env
    ).stdout


@pytest.fixture
def upstream_repo(tmp_path):
    repo = tmp_path / "lukhas"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    target = repo / "docs/audits/health/latest.json"
    target.parent.mkdir(parents=True)
    for i, (report, _expect) in enumerate(versions()):
        target.write_text(json.dumps(report, indent=2))
        _git(repo, "add", ".")
        _git(repo, "commit", "-q", "-m", f"health {i}", "--date", f"@{report['summary']['ts']}")
    target.write_text("{ not json")  # a broken commit is skipped, not fatal
    _git(repo, "commit", "-qam", "broken")
    return repo


def test_import_git_every_upstream_shape(store_url, upstream_repo, tmp_path) -> None:
    store = open_store(store_url)
    result = import_git(store, upstream_repo, "docs/audits/health/latest.json")
    expected = versions()
    assert result.imported == len(expected) == 14
    assert len(result.skipped) == 1 and "not a JSON report" in result.skipped[0]
    runs = store.runs()
    assert len(runs) == 14  # two commits share a timestamp and are still two runs
    assert all(r.approximate for r in runs)
    for run, (_report, expect) in zip(runs, expected, strict=True):
        figures = store.metrics_of(run.id)
        assert figures.get("tests.smoke.pass_rate") == pytest.approx(expect["smoke_pass_rate"]) if expect[
            "smoke_pass_rate"] is not None else "tests.smoke.pass_rate" not in figures  # fmt: skip
        assert figures.get("ruff.total") == expect["ruff"]
    again = import_git(store, upstream_repo, "docs/audits/health/latest.json")
    assert (again.imported, again.already) == (0, 14)
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(upstream_repo), str(bare)], check=True)
    other = open_store(f"sqlite:///{tmp_path / 'bare.sqlite'}")
    assert import_git(other, bare, "docs/audits/health/latest.json").imported == 14


def test_import_dir_of_healthdeck_and_upstream_reports(tmp_path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps(versions()[0][0]))
    report = {"schema_version": "1.1", "summary": _summary(5000)}
    (folder / "b.json").write_text(json.dumps(report))
    (folder / "junk.json").write_text("[1, 2]")
    import os

    os.mkfifo(folder / "stray.json")  # nobody writes it: skipped, not a wait
    store = open_store(f"sqlite:///{tmp_path / 'h.sqlite'}")
    result = import_dir(store, folder)
    assert (result.imported, len(result.skipped)) == (2, 2)
    assert any(s.endswith("stray.json: not a regular file") for s in result.skipped)
    approximate = {r.ts: r.approximate for r in store.runs()}
    assert approximate == {versions()[0][0]["summary"]["ts"]: True, 5000: False}


def test_normalize_rejects_what_is_not_a_report() -> None:
    with pytest.raises(ValueError, match="no summary"):
        normalize({"raw": {}})
    with pytest.raises(ValueError, match="no timestamp"):
        normalize({"summary": {"tests": {}}})


def test_baselines(tmp_path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'h.sqlite'}")
    store.append(_summary(100, "a" * 40, "main", cov=80))
    store.append(_summary(200, "b" * 40, "feature", cov=70))
    store.append(_summary(300, "c" * 40, "main", cov=82))
    store.append(_summary(400, "d" * 40, "feature", cov=75), run_key="current")
    current = store.run("current")
    assert resolve_baseline(store, "previous", current).git_sha == "b" * 40  # same branch
    assert resolve_baseline(store, "branch:main", current).git_sha == "c" * 40
    assert resolve_baseline(store, "sha:aaaa", current).git_sha == "a" * 40
    assert resolve_baseline(store, "branch:nope", current) is None
    with pytest.raises(BaselineError):
        resolve_baseline(store, "yesterday", current)


def test_baseline_by_tag(tmp_path, upstream_repo) -> None:
    _git(upstream_repo, "tag", "v1.0", "HEAD~3")
    sha = _git(upstream_repo, "rev-parse", "v1.0").strip()
    store = open_store(f"sqlite:///{tmp_path / 'h.sqlite'}")
    store.append(_summary(100, sha), run_key="release")
    store.append(_summary(200, "e" * 40), run_key="now")
    assert resolve_baseline(store, "tag:v1.0", store.run("now"), repo=upstream_repo).run_key == "release"


def test_flaky_across_runs_and_new_failures(tmp_path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'h.sqlite'}")
    sha = "a" * 40
    store.append(_summary(1, sha), failing=[("smoke", "t::flip", "failed"), ("smoke", "t::always", "failed")])
    store.append(
        _summary(2, sha), failing=[("smoke", "t::always", "failed")]
    )  # t::flip passed on the same commit
    for ts in range(3, 9):
        store.append(_summary(ts, f"{ts:040d}"), failing=[("smoke", "t::always", "failed")]
                     + ([("smoke", "t::sometimes", "failed")] if ts % 2 else [])
                     + ([("smoke", "t::broke", "failed")] if ts >= 6 else []))  # fmt: skip
    flaky = {f.test_id: f for f in flaky_tests(store, "smoke", min_runs=5)}
    assert flaky["t::flip"].same_commit
    assert not flaky["t::sometimes"].same_commit and flaky["t::sometimes"].flip_rate > 0.5
    assert "t::always" not in flaky
    assert "t::broke" not in flaky  # one flip: it broke, it is not flaky
    assert flaky_tests(store, "smoke", min_runs=50)[0].flip_rate is None  # below the minimum sample size
    # Judged among given ids (read a page at a time, a bit per run each): the same verdicts, only theirs.
    every = flaky_tests(store, "smoke", min_runs=5)
    among = ["t::always", "t::broke", "t::flip", "t::flip", "t::never_failed"]
    assert flaky_tests(store, "smoke", min_runs=5, among=among) == [f for f in every if f.test_id in among]
    assert [f.test_id for f in every] == ["t::flip", "t::sometimes"]
    newest = store.runs()[-1]
    base = Baseline.of_run(store, newest)
    assert base.classify("smoke", ["t::always", "t::sometimes", "t::new"]) == {
        "t::always": "known",
        "t::sometimes": "new",
        "t::new": "new",
    }  # t::sometimes passed in the newest run
    assert base.classify("e2e", ["t::a"]) == {"t::a": "unknown"}  # the baseline did not run e2e


def test_a_rerun_with_another_selection_is_no_evidence_of_flakiness(tmp_path) -> None:
    """Two runs of one commit, the second with other tests (a shard, `-k`): a test failing in the second
    never ran in the first, so it did not pass there; a rerun of the same suite still shows a flip."""
    store = open_store(f"sqlite:///{tmp_path / 'h.sqlite'}")
    sha = "a" * 40
    first = _summary(1, sha)
    second = _summary(2, sha)
    second["tests"]["smoke"] = {**second["tests"]["smoke"], "total": 3, "passed": 2, "failed": 1}
    store.append(first)
    store.append(second, failing=[("smoke", "t::only_in_the_second", "failed")])
    assert flaky_tests(store, "smoke") == []
    store.append(_summary(3, sha))  # the first selection again, passing: still not the same tests
    assert flaky_tests(store, "smoke") == []
    rerun = _summary(4, sha)
    rerun["tests"]["smoke"] = second["tests"]["smoke"]
    store.append(rerun)  # the second selection again, now passing: a flip on the same commit
    assert [f.test_id for f in flaky_tests(store, "smoke") if f.same_commit] == ["t::only_in_the_second"]


def test_collect_twice_then_history_show(tmp_path, capsys) -> None:
    """The issue's acceptance path: two collects with different artifacts, then the trend with deltas."""
    from tests.conftest import EDGE, REAL

    out = tmp_path / "out"
    base = ["collect", "-q", "--out", str(out), "--ruff", str(REAL / "more-itertools.ruff-statistics.txt")]
    assert main([*base, "--junit", f"smoke={EDGE / 'xunit2.xml'}"]) == EXIT_OK
    assert main([*base, "--junit", f"smoke={EDGE / 'reruns.xml'}"]) == EXIT_OK
    capsys.readouterr()
    assert main(["history", "show", "--history", f"sqlite:///{out / 'history.sqlite'}"]) == EXIT_OK
    table = capsys.readouterr().out.splitlines()
    assert len(table) == 6 and table[-2].startswith("ruff and compile: ")  # header, rule, two runs, legend
    assert "35.71%" in table[2] and "42.86%" in table[3] and "+7.14" in table[3]  # 5/14, then 6/14
    assert (
        main(["history", "show", "--format", "json", "--history", f"sqlite:///{out / 'history.sqlite'}"]) == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert rows[1]["smoke_pass_rate_delta"] == pytest.approx(6 / 14 - 5 / 14)
    assert type(rows[1]["ruff"]) is int and rows[1]["ruff_delta"] == 0  # counts as counts, not 79.0
    url = f"sqlite:///{out / 'history.sqlite'}"
    assert main(["history", "show", "--history", url, "--branch", "mian"]) == EXIT_OK
    shown = capsys.readouterr()
    assert shown.err.startswith("healthdeck: note: no runs on branch 'mian' (branches in the store: ")
    assert shown.out.splitlines()[0].split()[-9] == "rate"  # an empty table's header is not cut to "pass rat"


def test_history_show_compares_coverage_like_for_like(tmp_path, capsys) -> None:
    """Branch coverage turned on between two runs: the change is statements against statements, as the
    gate and the comment compare, not statements+branches against statements."""
    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    store = open_store(url)
    first = _summary(100, "a" * 40)
    first["coverage"] = {"percent": 83.33, "statements_percent": 83.33, "branches_percent": None,
                         "branch_measured": False, "lanes": {}}  # fmt: skip
    second = _summary(200, "b" * 40)
    second["coverage"] = {"percent": 75.0, "statements_percent": 83.33, "branches_percent": 50.0,
                          "branch_measured": True, "lanes": {}}  # fmt: skip
    store.append(first)
    store.append(second)
    store.close()
    assert main(["history", "show", "--format", "json", "--history", url, "--all-projects"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[1]["coverage"] == 75.0 and rows[1]["coverage_delta"] == 0


def test_history_show_compares_each_run_with_its_own_branch(tmp_path, capsys) -> None:
    """main, a feature branch, main again: main's newest change is against main's previous run, not the
    feature branch's run between them (as the report's own `previous` baseline is)."""
    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    store = open_store(url)
    store.append(_summary(100, "a" * 40, cov=80.0))
    store.append(_summary(200, "b" * 40, branch="feature/x", cov=70.0))
    store.append(_summary(300, "c" * 40, cov=81.5))
    store.close()
    assert main(["history", "show", "--format", "json", "--history", url, "--all-projects"]) == EXIT_OK
    out = capsys.readouterr().out
    rows = {row["git_sha"]: row for row in json.loads(out)}
    assert rows["cccccccc"]["coverage_delta"] == pytest.approx(1.5)  # not +11.5 against the feature branch
    assert rows["bbbbbbbb"]["coverage_delta"] is None  # the branch's first run: nothing to compare with
    assert out.endswith("]\n")  # a file ends with a newline


def test_history_show_keeps_columns_with_wide_and_combining_characters(tmp_path, capsys) -> None:
    from unicodedata import combining, east_asian_width

    url = f"sqlite:///{tmp_path / 'history.sqlite'}"
    store = open_store(url)
    for ts, branch in enumerate(["main", "功能分支登录页面修复", "cafe\u0301-fix", "x" * 40], start=1):
        store.append({**_summary(ts, branch=branch), "project": "p"})
    store.close()
    assert main(["history", "show", "--history", url, "--project", "p"]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()[:6]

    def columns(text: str) -> int:  # what a terminal draws
        return sum(0 if combining(c) else 2 if east_asian_width(c) in "WF" else 1 for c in text)

    assert len({columns(line) for line in lines[:1] + lines[2:]}) == 1, lines
    # the branch column is as wide as its widest name, up to 30 columns: the 40-column name is cut
    assert "功能分支登录页面修复" in lines[3] and "cafe\u0301-fix" in lines[4] and "x" * 29 + "…" in lines[5]


def test_history_errors_are_one_line(tmp_path, capsys) -> None:
    assert main(["history", "show", "--history", "postgresql://nobody@127.0.0.1:1/none"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("healthdeck: error: postgresql://nobody@127.0.0.1:1/none: cannot open history")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    "argv", [["history", "show"], ["history", "prune", "--keep-runs", "1"], ["gate"], ["comment"], ["badge"]]
)
def test_a_file_that_is_not_a_database_is_one_line_and_exit_3(tmp_path, capsys, argv) -> None:
    store = tmp_path / "history.sqlite"
    store.write_bytes(b"not a database, a text file saved over the store\n" * 200)
    before = store.read_bytes()
    from_store = ["--run", "branch:main"] if argv[0] in ("gate", "comment", "badge") else []  # no report file
    code = main([*argv, "--history", f"sqlite:///{store}", *from_store])
    err = capsys.readouterr().err
    assert code == 3, err
    assert err.startswith(f"healthdeck: error: sqlite:///{store}: ") and err.count("\n") == 1, err
    assert store.read_bytes() == before  # nothing written over it


@pytest.mark.parametrize("command", ["history", "collect"])
def test_a_database_error_mid_command_is_one_line(tmp_path, capsys, monkeypatch, command) -> None:
    """A server gone while a command reads (not while it opens the store): one line naming the store's
    error, exit 3 for a reader and exit 4 for collect (its run could not be recorded) — never a traceback."""
    import sqlalchemy as sa

    from healthdeck.reports.history import store as store_module

    def gone(*_args, **_kwargs):
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection\nunexpectedly"))

    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    junit = str(REAL / "more-itertools.junit.xml")
    assert main(["collect", "-q", "--out", str(tmp_path), "--history", url, "--junit", f"unit={junit}"]) == 0
    monkeypatch.setattr(store_module.HistoryStore, "runs", gone)
    monkeypatch.setattr(store_module.HistoryStore, "run", gone)
    argv = (  # prune reads the runs through SQLAlchemy before it deletes (show reads through sqlite3: below)
        ["history", "prune", "--keep-runs", "1", "--dry-run"]
        if command == "history"
        else ["collect", "--out", str(tmp_path), "--junit", f"unit={junit}"]
    )
    code = main([*argv, "--history", url])
    err = capsys.readouterr().err
    assert code == (3 if command == "history" else 4), err
    assert err == "healthdeck: error: history store: server closed the connection unexpectedly\n"


def test_a_database_error_mid_read_through_sqlite3_is_one_line(tmp_path, capsys, monkeypatch) -> None:
    """The same for the readers that open SQLite through the standard library (gate, comment, badge,
    history show): the store breaks after it was opened, and the command says so in one line, exit 3."""
    import sqlite3

    from healthdeck.reports.history.sqlite import SqliteHistory

    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    junit = str(REAL / "more-itertools.junit.xml")
    assert main(["collect", "-q", "--out", str(tmp_path), "--history", url, "--junit", f"unit={junit}"]) == 0
    opened = SqliteHistory._connection

    def broken(self) -> sqlite3.Connection:
        conn = opened(self)
        conn.close()  # what a vanished file system or a disk error looks like to the next query
        return conn

    monkeypatch.setattr(SqliteHistory, "_connection", broken)
    assert main(["history", "show", "--history", url]) == 3
    err = capsys.readouterr().err
    assert err == f"healthdeck: error: {url}: cannot read history: Cannot operate on a closed database.\n"


def test_a_reader_leaves_no_wal_files_and_cannot_write(tmp_path) -> None:
    """Readers (gate --no-write, comment, badge, the dashboard) must not leave -wal/-shm files beside the
    store, which CI uploads as an artifact, and must not be able to write."""
    import sqlalchemy as sa

    path = tmp_path / "history.sqlite"
    junit = str(REAL / "more-itertools.junit.xml")
    assert (
        main(
            [
                "collect",
                "-q",
                "--out",
                str(tmp_path),
                "--history",
                f"sqlite:///{path}",
                "--junit",
                f"unit={junit}",
            ]
        )
        == 0
    )
    assert sorted(p.name for p in tmp_path.glob("history.sqlite*")) == ["history.sqlite"]
    store = open_store(f"sqlite:///{path}", readonly=True)
    assert len(store.runs()) == 1
    with pytest.raises(sa.exc.OperationalError, match="readonly"), store.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM runs")
    store.close()
    assert sorted(p.name for p in tmp_path.glob("history.sqlite*")) == ["history.sqlite"]
    assert main(["comment", "--output", str(tmp_path / "c.md"), "--history", f"sqlite:///{path}"]) == 0
    assert sorted(p.name for p in tmp_path.glob("history.sqlite*")) == ["history.sqlite"]


def test_store_type_is_reused(tmp_path) -> None:
    assert isinstance(open_store(f"sqlite:///{tmp_path / 'x' / 'h.sqlite'}"), HistoryStore)


def test_import_git_keeps_the_verdict_the_committed_report_carries(tmp_path, monkeypatch, capsys) -> None:
    """A project that commits its gated report: importing its git history into a new store keeps each
    run's verdict (and the conditions behind it), as the run had when it was committed."""
    from pathlib import Path

    sample = Path(__file__).parents[1] / "reports" / "samples" / "dateutil" / "smoke.junit.xml.gz"
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "pyproject.toml").write_text(
        "[tool.healthdeck.gates]\nruff_prod_max = false\ncompileall_prod_max = false\nreport_current = false\n"
        "openapi_breaking_max = false\n"
    )
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    monkeypatch.chdir(repo)
    assert main(["collect", "-q", "--no-history", "--junit", f"smoke={sample}"]) == EXIT_OK
    assert main(["gate"]) == EXIT_OK  # GO: the sample's smoke suite passes 99.67 %
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "report"], check=True)
    url = f"sqlite:///{tmp_path / 'imported.sqlite'}"
    capsys.readouterr()
    assert main(["history", "import-git", "--history", url, "--repo", str(repo),
                 "--path", "docs/audits/health/latest.json"]) == EXIT_OK  # fmt: skip
    capsys.readouterr()
    assert main(["history", "show", "--history", url, "--format", "json"]) == EXIT_OK
    [run] = json.loads(capsys.readouterr().out)
    assert run["verdict"] == "GO"
    store = open_store(url, readonly=True)
    [stored] = store.runs()
    assert stored.verdict == "GO"
    store.close()


def test_a_tag_baseline_without_the_tag_in_a_clone_uses_the_runs_recorded_at_it(tmp_path) -> None:
    """A fresh runner or the dashboard host has the store but not the tag: `tag:NAME` finds the newest
    run recorded at that release (its tag, or a `git describe` that is exactly it), not nothing."""
    store = open_store(f"sqlite:///{tmp_path / 'h.sqlite'}")
    store.append({**_summary(100, "a" * 40, "main", cov=80), "tag": "v1.0"})
    store.append({**_summary(200, "b" * 40, "main", cov=81), "version": "v1.1"})
    store.append(_summary(300, "c" * 40, "main", cov=82), run_key="current")
    current = store.run("current")
    elsewhere = tmp_path / "not-a-clone"
    elsewhere.mkdir()
    assert resolve_baseline(store, "tag:v1.0", current, repo=elsewhere).git_sha == "a" * 40
    assert resolve_baseline(store, "tag:v1.1", current, repo=elsewhere).git_sha == "b" * 40
    assert resolve_baseline(store, "tag:v9", current, repo=elsewhere) is None


def test_a_store_password_is_never_printed(postgres, tmp_path, capsys) -> None:
    """The URL is a CI secret: notes and errors name the store with its password masked."""
    from tests.conftest import EDGE

    url = postgres.create_database("hd_secret").replace("postgres@", "postgres:s3cret-pw@", 1)  # trust auth
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    junit = ["--junit", f"smoke={EDGE / 'xunit2.xml'}"]
    assert (
        main(
            ["collect", "-q", "--out", str(tmp_path / "out"), "--history", url, "--project", "acme/a", *junit]
        )
        == 0
    )
    capsys.readouterr()
    main(["gate", "--history", url, "--project", "acme/a", "--no-write"])  # the note: which run it read
    main(["gate", "--history", url, "--project", "acme/nope", "--no-write"])  # the error: no such project
    main(["history", "show", "--history", url, "--project", "acme/nope"])
    err = capsys.readouterr().err
    assert "from the history store postgresql+psycopg://postgres:***@" in err and "acme/nope" in err
    assert "s3cret-pw" not in err


@pytest.mark.parametrize(
    "url, words",
    [
        ("postgresql://u:s3cret@127.0.0.1:notaport/db", "not a valid URL"),
        ("postgresql://u:s3cret@[::1", "not a valid URL"),
        ("mysql://u:s3cret@h/db", "not a history store URL: give sqlite:///PATH or postgresql://"),
        ("sqlite://", "names no file (an in-memory store is lost at exit)"),
        ("sqlite:///:memory:", "names no file"),
        ("postgresql://ci:s3cret@Prod!@db.example.invalid/health", "the password holds an '@': percent-encode it"),
    ],
)  # fmt: skip
def test_a_url_that_cannot_be_a_store_is_one_line_exit_2(tmp_path, capsys, url, words) -> None:
    from tests.conftest import EDGE

    for args in (["collect", "-q", "--out", str(tmp_path / "out"), "--junit", f"smoke={EDGE / 'xunit2.xml'}"],
                 ["history", "show"], ["gate", "--no-write"]):  # fmt: skip
        assert main([*args, "--history", url]) == 2
        [line] = capsys.readouterr().err.strip().splitlines()
        assert words in line and "s3cret" not in line and "Prod!" not in line
    assert not (tmp_path / "out").exists()


def test_the_cli_reads_healthdeck_history_as_the_dashboard_does(tmp_path, monkeypatch) -> None:
    from tests.conftest import EDGE

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HEALTHDECK_HISTORY", f"sqlite:///{tmp_path / 'shared.sqlite'}")
    assert main(["collect", "-q", "--out", "out", "--junit", f"smoke={EDGE / 'xunit2.xml'}"]) == 0
    assert (tmp_path / "shared.sqlite").exists() and not (tmp_path / "out" / "history.sqlite").exists()
    assert main(["collect", "-q", "--out", "out", "--history", "sqlite:///flag.sqlite",
                 "--junit", f"smoke={EDGE / 'xunit2.xml'}"]) == 0  # fmt: skip
    assert (tmp_path / "flag.sqlite").exists()  # the flag wins


def test_a_projects_headline_is_its_default_branchs_newest_run(store_url) -> None:
    """On a shared store a pull request's run lands last; the All projects row shows main's newest run,
    and a project that never ran on main keeps its newest run."""
    store = open_store(store_url)
    store.append({**_summary(1, "a" * 40, "main"), "project": "acme/a"})
    store.append({**_summary(2, "b" * 40, "feature"), "project": "acme/a"})
    store.append({**_summary(3, "c" * 40, "feature"), "project": "acme/b"})
    newest = {p.project: p.latest.branch for p in store.projects(spark=1, prefer=["main", "master"])}
    assert newest == {"acme/a": "main", "acme/b": "feature"}
    assert {p.project: p.latest.branch for p in store.projects(spark=1)} == {
        "acme/a": "feature",
        "acme/b": "feature",
    }


def test_a_projects_sparkline_holds_only_its_headline_branchs_runs(store_url) -> None:
    """A pull request's runs between main's (a new project has fewer main runs than the sparkline holds)
    never dip the line drawn beside main's figures."""
    store = open_store(store_url)
    for ts, branch, rate in ((1, "main", 1.0), (2, "feature", 0.5), (3, "main", 0.98), (4, "feature", 0.4)):
        store.append({**_summary(ts, "a" * 40, branch, rate=rate), "project": "acme/a"})
    [row] = store.projects(spark=30, names=["tests.smoke.pass_rate"], prefer=["main"])
    assert row.latest.branch == "main"
    assert row.series["tests.smoke.pass_rate"] == [(1, 1.0), (3, 0.98)]
    [row] = store.projects(spark=30, names=["tests.smoke.pass_rate"])  # no default branch known: the newest's
    assert row.latest.branch == "feature" and row.series["tests.smoke.pass_rate"] == [(2, 0.5), (4, 0.4)]


def test_another_applications_sqlite_file_is_never_written_into(tmp_path, capsys) -> None:
    """`--history sqlite:///app.sqlite` naming a database of something else: refused, untouched; a reader
    of an empty or foreign file says it holds no healthdeck history (not "an older schema")."""
    import sqlite3

    from tests.conftest import EDGE

    other = tmp_path / "app.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    url = f"sqlite:///{other}"
    assert main(["collect", "-q", "--out", str(tmp_path / "out"), "--history", url,
                 "--junit", f"smoke={EDGE / 'xunit2.xml'}"]) == 4  # fmt: skip
    assert (
        "holds another application's tables (users); give the history a SQLite file of its own"
        in capsys.readouterr().err
    )
    with sqlite3.connect(other) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == [
            "users"
        ]
    assert main(["history", "show", "--history", url]) == 3
    assert "holds no healthdeck history (no healthdeck tables)" in capsys.readouterr().err

"""The sqlite3 reader that gate, comment, badge and history show open (no SQLAlchemy import): the same
answers as the SQLAlchemy store on a real store, readers beside a writer, gate's verdict waiting for one,
stores of an older and a newer schema, and a store that is not there."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from healthdeck.reports.cli import EXIT_INPUT, EXIT_NO_GO, EXIT_OK, EXIT_OUTPUT, main
from healthdeck.reports.history import open_reader
from healthdeck.reports.history.reader import SCHEMA_VERSION, HistoryError
from healthdeck.reports.history.sqlite import SqliteHistory
from healthdeck.reports.history.store import HistoryStore, open_store
from tests.conftest import FIXTURES
from tests.triage_project import build


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> dict:
    """Four real pytest runs of a small project collected into SQLite: failures, causes, durations."""
    return build(tmp_path_factory.mktemp("reader") / "project")


def _copy(project: dict, tmp_path: Path) -> tuple[str, Path, list[str]]:
    """A private copy of the project's store and report; (url, report, the CLI's --config/--report/--history)."""
    shutil.copytree(Path(project["report"]).parent, tmp_path / "out")
    report, url = tmp_path / "out" / "latest.json", f"sqlite:///{tmp_path / 'out' / 'history.sqlite'}"
    return url, report, ["--config", str(project["config"]), "--report", str(report), "--history", url]


def test_the_sqlite3_reader_answers_as_the_sqlalchemy_store(project) -> None:
    url = project["history"]
    light, full = open_reader(url, readonly=True), open_store(url, readonly=True)
    try:
        assert isinstance(light, SqliteHistory) and isinstance(full, HistoryStore)
        runs = full.runs()
        assert len(runs) == 4 and light.runs() == runs
        newest, first = runs[-1], runs[0]
        ids = [r.id for r in runs]
        causes = full.causes_of(newest.id)["unit"]
        failing = full.failing_of(newest.id)
        assert causes and failing and full.durations_of(newest.id)  # the store has what is compared below
        test_id = sorted(t for _, t in failing)[0]
        unit_ids = [t for s, t in failing if s == "unit"]
        assert unit_ids and list(full.failing_pages(newest.id, "unit"))  # the pages below are not empty
        calls = [
            ("runs", (), {"branch": "main", "limit": 2}),
            ("runs", (), {"before_ts": newest.ts, "since_ts": first.ts + 1}),
            ("runs", (), {"project": newest.project}),
            ("run_index", (), {"limit": 3}),
            ("run", (newest.run_key,), {}),
            ("run", ("no-such-run",), {}),
            ("latest", (newest.project,), {}),
            ("latest", (), {"branch": "no-such-branch"}),
            ("latest_for_sha", (project["shas"][1][:7],), {}),
            ("report", (newest,), {}),
            ("report", (first.id,), {}),
            ("report_sizes", (), {}),
            ("projects", (), {"spark": 3, "names": ["tests.unit.pass_rate"], "prefixes": ["tests.unit."]}),
            ("metric_table", (), {"prefixes": ["tests."], "branch": "main", "since_ts": first.ts}),
            ("metric_table", (["tests.unit.failed"],), {"project": newest.project}),
            (
                "metric_series",
                (["tests.unit.failed", "coverage.percent", "no.such.metric"],),
                {"project": newest.project},
            ),
            (
                "metric_series",
                (["coverage.percent"],),
                {"project": newest.project, "from_run_id": runs[-2].id},
            ),
            ("metric_series", (["coverage.percent"],), {"from_run_id": runs[-2].id}),
            ("run_rows", (), {"branch": "main", "limit": 3}),
            ("branches", (), {}),
            ("project_names", (), {}),
            ("metrics_of", (newest.id,), {}),
            ("failing_of", (newest.id,), {}),
            ("failing_of", (newest.id, "unit"), {}),
            ("changing_history", ("unit", ids, ids[:2]), {}),
            ("changing_history", ("unit", ids), {}),
            ("failing_pages", (newest.id, "unit"), {}),
            ("failing_pages_against", (newest.id, "unit", runs[-2].id), {}),
            ("outcomes_in", (newest.id, "unit", [*unit_ids, "no::such_test"]), {}),
            ("causes_of", (newest.id,), {}),
            ("first_seen", ("unit", list(causes)), {"branch": "main"}),
            ("durations_of", (newest.id, "unit"), {}),
            ("test_timeline", ("unit", test_id, ids), {}),
            ("schema_version", (), {}),
        ]
        for name, args, kwargs in calls:
            want = _whole(getattr(full, name)(*args, **kwargs))
            assert _whole(getattr(light, name)(*args, **kwargs)) == want, name
        assert full.first_seen("unit", list(causes))  # not vacuous: the causes were seen before
        # each metric's series holds what the metric rows hold, in run id order
        names = [*sorted(light.metrics_of(newest.id))[:2], "no.such.metric"]
        series = light.metric_series(names)
        rows = light.metric_table(names)
        assert len(series[names[0]]) == len(runs) and series["no.such.metric"] == []
        assert {(run_id, name, value) for name in names for run_id, value in series[name]} == set(rows)
        assert all(pairs == sorted(pairs) for pairs in series.values())
        # from a window's first run on: that run and the newer ones, not the older
        later = light.metric_series(names, from_run_id=runs[-2].id)[names[0]]
        assert [run_id for run_id, _ in later] == sorted(r.id for r in runs[-2:])
        assert (
            light.latest_for_sha("%") is None and light.latest_for_sha("_") is None
        )  # a prefix, not a pattern
    finally:
        light.close()
        full.close()


def test_runs_of_one_second_are_listed_in_the_order_they_were_recorded(project, tmp_path) -> None:
    """The run list reads time order from the index and puts runs of the same second in id order itself:
    with and without a limit, through both readers, as one SQL ORDER BY ts, id would."""
    url, _, _ = _copy(project, tmp_path)
    db = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    ids = [r[0] for r in db.execute("SELECT id FROM runs ORDER BY id")]
    # the two newest runs share the oldest one's second, the two others another (reversed against ids)
    for run_id, ts in zip(ids, (1_000, 2_000, 1_000, 1_000), strict=True):
        db.execute("UPDATE runs SET ts = ? WHERE id = ?", (ts, run_id))
    db.close()
    want = [ids[0], ids[2], ids[3], ids[1]]
    for reader in (open_reader(url, readonly=True), open_store(url, readonly=True)):
        try:
            assert [r[0] for r in reader.run_rows()] == want
            assert [r[0] for r in reader.run_rows(limit=2)] == want[-2:]
            assert [r["id"] for r in reader.run_index(project=reader.project_names()[0])] == want
            # some of the fields, in any order the caller names: the trends read five of nine
            assert [r[1] for r in reader.run_rows(fields=("ts", "id", "branch"))] == want
            with pytest.raises(ValueError, match="fields"):
                reader.run_rows(fields=("id", "branch"))  # no time to order by
            with pytest.raises(ValueError, match="fields"):
                reader.run_rows(fields=("id", "ts", "summary_json"))
        finally:
            reader.close()


def test_readers_never_wait_for_a_writer_and_gate_waits_then_gives_up(project, tmp_path, capsys) -> None:
    url, report, args = _copy(project, tmp_path)
    before = report.read_bytes()
    holder = sqlite3.connect(tmp_path / "out" / "history.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer in the middle of its transaction
    holder.execute("UPDATE runs SET verdict = 'GO'")  # not committed: no reader may see it
    try:
        assert main(["gate", "--no-write", *args]) == EXIT_NO_GO
        assert main(["comment", *args]) == EXIT_OK
        assert main(["history", "show", "--history", url, "--config", str(project["config"])]) == EXIT_OK
        out, err = capsys.readouterr()
        assert "locked" not in err and "verdict: NO-GO" in out
        # storing the verdict must wait; giving up is an output not written (exit 4), not an input
        assert main(["gate", "--lock-timeout", "1.5", *args]) == EXIT_OUTPUT
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    err = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("healthdeck: note:")]
    assert "is locked by another writer; waiting up to 1.5 s (store the verdict)" in err[0]
    assert "still locked by another writer after 1.5 s, gave up" in err[1] and len(err) == 2
    assert err[1].endswith("the verdict above is neither stored nor written to the report")
    assert report.read_bytes() == before  # history first: the file carries no verdict the store lacks
    assert main(["gate", *args]) == EXIT_NO_GO  # the writer is gone: the verdict lands in both
    key = json.loads(report.read_text())["summary"]["run_key"]
    reader = open_reader(url, readonly=True)
    stored = reader.run(key)
    assert stored.verdict == "NO-GO" and reader.report(stored)["details"]["verdict"]["status"] == "NO-GO"
    assert json.loads(report.read_text())["summary"]["verdict"] == "NO-GO"
    assert {r.verdict for r in reader.runs() if r.run_key != key} == {None}  # the rolled-back write
    reader.close()


def test_a_store_from_a_newer_healthdeck_is_refused_by_readers_and_gate(project, tmp_path, capsys) -> None:
    url, _, args = _copy(project, tmp_path)
    with sqlite3.connect(tmp_path / "out" / "history.sqlite") as db:
        db.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)", (SCHEMA_VERSION + 1,))
    for readonly in (True, False):
        with pytest.raises(HistoryError, match="written by a newer healthdeck"):
            open_reader(url, readonly=readonly)
    capsys.readouterr()
    for argv in (["gate", "--no-write", *args], ["gate", *args], ["comment", *args]):
        assert main(argv) == EXIT_INPUT
        assert (
            f"history schema {SCHEMA_VERSION + 1} was written by a newer healthdeck"
            in capsys.readouterr().err
        )


def test_gate_on_an_older_store_migrates_it_through_sqlalchemy(tmp_path, monkeypatch, capsys) -> None:
    """A reader never migrates; gate, which writes, brings the store to this schema and stores its verdict."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "v1.sqlite"
    shutil.copy(FIXTURES / "history" / "schema-v1.sqlite", path)
    url = f"sqlite:///{path}"
    with pytest.raises(HistoryError, match="healthdeck history migrate"):
        open_reader(url, readonly=True)
    assert main(["gate", "--history", url, "--project", "dateutil"]) in (EXIT_OK, EXIT_NO_GO)
    reader = open_reader(url, readonly=True)
    assert isinstance(reader, SqliteHistory) and reader.schema_version() == SCHEMA_VERSION
    newest = reader.latest("dateutil")
    assert newest.verdict in ("GO", "NO-GO", "INCOMPLETE") and "verdict:" in capsys.readouterr().out
    reader.close()


def test_a_store_that_is_not_there(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'none' / 'history.sqlite'}"
    with pytest.raises(HistoryError, match="no history store there"):
        open_reader(url, readonly=True)
    assert not (tmp_path / "none").exists()  # reading made nothing


def _whole(answer: object) -> object:
    """A reader's answer as a value: pages read to their end."""
    return list(answer) if isinstance(answer, Iterator) else answer

"""Comparing with a baseline at any size: the streaming comparisons give exactly what sets of every id
give, and a run against a baseline of a hundred thousand failing tests costs no more memory than the
first run did (it cost a gigabyte more at a million when both runs' failing tests were held as dicts)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from healthdeck.reports.cli import main
from healthdeck.reports.history.baselines import Baseline, count_new
from healthdeck.reports.history.model import Run
from healthdeck.reports.ordering import Smallest, natural_key
from healthdeck.reports.triage import transitions
from tests.test_xml_bounds import _MEASURE

IDS = st.sampled_from([f"m::t{i}" for i in range(40)] + ["m::t[1]", "m::t[10]", "m::t[2]", "m::é"])
OUTCOMES = st.sampled_from(["failed", "error", "flaky"])


@given(
    now=st.lists(IDS, max_size=30),
    before=st.dictionaries(IDS, OUTCOMES, max_size=30),
    passed=st.sets(IDS),
    flaky=st.sets(IDS, max_size=5),
    cap=st.integers(0, 6),
)
def test_transitions_equal_the_set_arithmetic(now, before, passed, flaky, cap) -> None:
    """The reference is the definition (docs/report-schema.md) on sets of every id."""
    now.sort()  # FailingTests order: sorted, an id may repeat (two files)
    got = transitions(now, before.items(), lambda ids: passed.intersection(ids), flaky, cap)
    failing_before = {t for t, o in before.items() if o in ("failed", "error")}
    want = {
        "new": set(now) - failing_before,
        "fixed": {t for t in failing_before - set(now) if t in passed and t not in flaky},
        "still_failing": set(now) & failing_before,
        "flaky": flaky,
    }
    assert got.totals == {k: len(v) for k, v in want.items()}
    for key, ids in want.items():
        assert getattr(got, key) == sorted(ids, key=natural_key)[:cap]
    assert [bool(b) for b in got.new_at] == [t in want["new"] for t in now]


def _file_baseline(suites: dict[str, dict[str, str]], partial: frozenset[str] = frozenset()) -> Baseline:
    run = Run(0, "base", None, None, None, 0, None, "report", False, None, {"tests": {s: {} for s in suites}})
    failing = {(s, t): o for s, tests in suites.items() for t, o in tests.items()}
    return Baseline(run, failing, partial, "report", {})


@given(
    pieces=st.lists(
        st.tuples(st.sampled_from(["unit", "smoke", "e2e"]), st.lists(IDS, max_size=8)), max_size=6
    ),
    before=st.dictionaries(st.sampled_from(["unit", "smoke"]), st.dictionaries(IDS, OUTCOMES, max_size=10)),
    cut=st.booleans(),
)
def test_counting_new_failures_a_piece_at_a_time(pieces, before, cut) -> None:
    base = _file_baseline(before, frozenset({"smoke"}) if cut else frozenset())
    got = count_new(((s, ids, None) for s, ids in pieces), base)
    known = {(s, t) for (s, t), o in base.failing.items() if o in ("failed", "error")}
    now = {(s, t) for s, ids in pieces for t in ids}
    unsure = {(s, t) for s, t in now - known if s not in before or s in base.partial}
    new = [(s, t) for s, ids in pieces for t in ids if (s, t) not in known and (s, t) not in unsure]
    assert got.count == len(new)  # each failing entry given (a listed id may repeat), as the gate counts
    assert got.exact == (not unsure)
    assert got.named == sorted(new, key=lambda k: (k[0], natural_key(k[1])))


@given(st.lists(st.text(max_size=6)), st.integers(0, 5))
def test_smallest_keeps_the_first_n_without_the_rest(texts, n) -> None:
    kept = Smallest(n)
    for text in texts:
        kept.add(text)
        assert len(kept.items) < max(2 * n, 1)
    assert kept.result() == sorted(texts, key=natural_key)[:n]


def _failing_junit(path: Path, n: int) -> Path:
    with gzip.open(path, "wt", compresslevel=1) as out:
        out.write('<?xml version="1.0"?><testsuites><testsuite name="pytest">')
        for i in range(n):
            out.write(
                f'<testcase classname="m" name="t{i}"><failure message="boom {i}">x</failure></testcase>'
            )
        out.write("</testsuite></testsuites>")
    return path


def _measured(args: list[str], cwd: Path) -> dict:
    argv = [sys.executable, "-c", "from healthdeck.reports.cli import main; raise SystemExit(main())", *args]
    done = subprocess.run([sys.executable, "-c", _MEASURE, *argv], capture_output=True, text=True, cwd=cwd,
                          check=True, timeout=600)  # fmt: skip
    return json.loads(done.stdout)


def test_a_second_run_of_many_failing_tests_costs_what_the_first_did(tmp_path: Path) -> None:
    """100 000 failing tests twice into one store: the second run compares with the first (transitions,
    flaky history, the checklist's new failures) a page at a time, and the readers stay small."""
    n = 100_000
    junit = _failing_junit(tmp_path / "junit.xml.gz", n)
    store = f"sqlite:///{tmp_path / 'h.sqlite'}"
    collect = [
        "collect",
        "-q",
        "--out",
        str(tmp_path / "out"),
        "--history",
        store,
        "--junit",
        f"unit={junit}",
    ]
    first, second = _measured(collect, tmp_path), _measured(collect, tmp_path)
    assert first["rc"] == second["rc"] == 0, second["stderr"]
    report = json.loads((tmp_path / "out" / "latest.json").read_text())
    assert report["summary"]["tests"]["unit"]["transitions"] == {
        "new": 0,
        "fixed": 0,
        "still_failing": n,
        "flaky": 0,
    }
    print(
        f"collect of {n} failing: first {first['peak'] / 2**20:.0f} MiB, second {second['peak'] / 2**20:.0f} MiB"
    )
    assert second["peak"] < first["peak"] + 20 * 2**20  # was +90 MB per 100 000
    for command in (["gate", "--no-write"], ["comment"], ["review"]):
        run = _measured(
            [*command, "--report", str(tmp_path / "out" / "latest.json"), "--history", store], tmp_path
        )
        assert run["rc"] in (0, 1), run["stderr"]
        print(f"{command[0]}: {run['peak'] / 2**20:.0f} MiB")
        assert run["peak"] < 80 * 2**20  # a dict of both runs' failing tests: 170 MB at 100 000


_OUTCOME_IN_RUN = st.sampled_from([None, None, "failed", "error", "flaky"])  # None: passed


@settings(max_examples=40, deadline=None)
@given(
    runs=st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.lists(_OUTCOME_IN_RUN, min_size=6, max_size=6)),
        min_size=1,
        max_size=7,
    ),
    min_runs=st.integers(2, 5),
)
def test_the_stores_filter_of_changing_tests_loses_no_flaky_test(runs, min_runs) -> None:
    """flaky_tests over every recorded test reads only the histories that may hold a change (SQL); the
    same judged over all six ids read run by run (no filter) finds exactly the same tests."""
    from healthdeck.reports.history.store import open_store
    from healthdeck.reports.history.trends import flaky_tests

    ids = [f"t{i}" for i in range(6)]
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{folder}/h.sqlite")
        for ts, (sha, outcomes) in enumerate(runs, start=1):
            summary = {"git_sha": sha, "git_sha_full": sha * 40, "branch": "main", "ts": ts, "version": None,
                       "tests": {"smoke": {"passed": 6, "failed": 0, "errors": 0, "skipped": 0, "xfailed": 0,
                                           "flaky": 0, "total": 6, "pass_rate": 1.0}},
                       "coverage": None, "ruff": None, "compileall": None, "guardian": None, "missing": []}  # fmt: skip
            store.append(summary, failing=[("smoke", t, o) for t, o in zip(ids, outcomes, strict=True) if o])
        every = flaky_tests(store, "smoke", min_runs=min_runs)
        assert every == flaky_tests(store, "smoke", min_runs=min_runs, among=ids)
        store.close()


def test_pages_and_lookups_read_every_row_once_in_either_database(store_url, monkeypatch) -> None:
    """Pages follow the database's own order of ids (PostgreSQL's collation is not Python's): with pages
    of 7 and lookups of 5, ids of every case, accent and punctuation are each read exactly once."""
    from healthdeck.reports.history import reader
    from healthdeck.reports.history.store import open_store

    monkeypatch.setattr(reader, "PAGE", 7)
    monkeypatch.setattr(reader, "LOOKUP", 5)
    ids = [
        f"{m}::{n}" for m in ("t", "T", "_t", "é", "t.a", "t-a") for n in ("a", "B", "b", "é", "10", "9", "_")
    ]
    store = open_store(store_url)
    tests = {"unit": {"passed": 0, "failed": len(ids), "errors": 0, "total": len(ids), "pass_rate": 0.0}}
    store.append(
        {"ts": 1, "tests": tests},
        failing=[("unit", t, "failed" if i % 3 else "error") for i, t in enumerate(ids)],
    )
    [run] = store.runs()
    read = [row for page in store.failing_pages(run.id, "unit") for row in page]
    assert sorted(read) == sorted((t, o) for (_, t), o in store.failing_of(run.id, "unit").items())
    assert len(read) == len(ids) == len(set(read))
    assert store.outcomes_in(run.id, "unit", [*ids, "no::such"]) == dict(read)
    base = Baseline.of_run(store, run)
    moved = transitions(sorted(ids[:20]), base.rows("unit"), lambda _: set(ids), (), 50)
    assert moved.totals == {"new": 0, "fixed": len(ids) - 20, "still_failing": 20, "flaky": 0}
    store.close()


def test_a_stored_run_counted_against_a_report_file_or_a_stored_run(tmp_path) -> None:
    """stored_failing joins the pages with a baseline run of the same store in SQL, and asks any other
    baseline (a report file) itself: both count the same new failures."""
    from healthdeck.reports.history.baselines import stored_failing
    from healthdeck.reports.history.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'h.sqlite'}")
    tests = {"unit": {"passed": 0, "failed": 3, "errors": 0, "total": 3, "pass_rate": 0.0}, "e2e": {}}
    store.append({"ts": 1, "tests": {"unit": tests["unit"]}},
                 failing=[("unit", "t::a", "failed"), ("unit", "t::b", "flaky")])  # fmt: skip
    store.append({"ts": 2, "tests": tests}, failing=[("unit", t, "failed") for t in ("t::a", "t::b", "t::c")]
                 + [("e2e", "t::x", "error")])  # fmt: skip
    before, now = store.runs()
    stored = Baseline.of_run(store, before)
    as_file = _file_baseline({"unit": {"t::a": "failed", "t::b": "flaky"}})
    for base in (stored, as_file):
        got = count_new(stored_failing(store, now, base), base)
        assert (got.count, got.named, got.exact) == (
            2,
            [("unit", "t::b"), ("unit", "t::c")],
            False,
        )  # e2e: unsure
    store.close()


def test_postgres_compares_a_run_just_written_by_its_primary_key(postgres, capsys) -> None:
    """Right after a large run is written, PostgreSQL's statistics still call the table empty; the
    comparison must not lean on them (a join was planned as a scan of the baseline for every row: 180 s
    for 100 000 failing tests). 30 000 failing tests in both runs, reviewed at once: a few seconds."""
    from healthdeck.reports.history.store import open_store

    n, url = 30_000, postgres.create_database("hd_fresh_stats")
    store = open_store(url)
    tests = {"unit": {"passed": 0, "failed": n, "errors": 0, "total": n, "pass_rate": 0.0}}
    for ts in (1, 2):
        store.append(
            {"ts": ts, "project": "p", "tests": tests},
            failing=[("unit", f"t::{i}", "failed") for i in range(n)],
        )
    store.close()
    started = time.monotonic()
    assert main(["review", "--history", url, "--project", "p"]) == 0
    took = time.monotonic() - started
    assert "## New failures (0)" in capsys.readouterr().out
    assert took < 15, f"review took {took:.1f} s"

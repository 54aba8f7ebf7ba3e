"""Triage through the CLI and a real store: causes in the report and the comment, transitions against the
baseline, first-seen causes, duration regressions, a test's own history."""

from __future__ import annotations

import json
import random
import re
import subprocess
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest

from healthdeck.reports.cli import EXIT_OK, main
from healthdeck.reports.history.store import open_store
from healthdeck.reports.history.trends import case_history
from healthdeck.reports.render.comment import GITHUB_LIMIT
from tests.services import Postgres

SHA = "{:08x}" + "f" * 32  # distinct short forms, as real commits have


def junit(cases: list[tuple[str, str, str, float]]) -> str:
    """pytest-shaped JUnit XML from (test id "module::name", outcome, message, seconds)."""
    out = ['<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">']
    for test_id, outcome, message, seconds in cases:
        module, name = test_id.split("::")
        inner = ""
        if outcome == "failed":
            inner = f"<failure message={quoteattr(message)}>{escape(message)}</failure>"
        elif outcome == "error":
            inner = f"<error message={quoteattr(message)}>{escape(message)}</error>"
        elif outcome == "skipped":
            inner = '<skipped type="pytest.skip" message="skip"/>'
        out.append(f'<testcase classname="{module}" name="{name}" time="{seconds}">{inner}</testcase>')
    return "".join(out) + "</testsuite></testsuites>"


def broken_fixture(counts: tuple[int, int, int] = (6000, 3000, 1000), passing: int = 200) -> str:
    """Three breakages whose messages differ only in numbers, ids, ports and line numbers."""
    rng = random.Random(11)
    cases = []
    for i in range(counts[0]):
        message = (
            'failed on setup with "ConnectionRefusedError: [Errno 111] Connect call failed '
            f"('127.0.0.1', {rng.randint(30000, 60000)})\""
        )
        cases.append((f"tests.test_db::test_query[{i}]", "error", message, 0.01))
    for i in range(counts[1]):
        message = f"KeyError: 'user-{rng.randint(1000, 99999)}' not in cache (line {rng.randint(10, 900)})"
        cases.append((f"tests.test_users::test_profile[{i}]", "failed", message, 0.01))
    for i in range(counts[2]):
        message = f"TimeoutError: GET http://localhost:{rng.randint(30000, 60000)}/api/items/{i} timed out"
        cases.append((f"tests.test_api::test_items[{i}]", "failed", message, 0.01))
    cases += [(f"tests.test_ok::test_ok[{i}]", "passed", "", 0.01) for i in range(passing)]
    return junit(cases)


class Runs:
    """Collect runs of one project into one store, the way CI does, one commit after another."""

    def __init__(self, root: Path, monkeypatch, history: str | None = None, config: str = "") -> None:
        self.root, self.monkeypatch = root, monkeypatch
        self.history = history or f"sqlite:///{root / 'history.sqlite'}"
        self.config = root / "pyproject.toml"
        self.config.write_text(f"[tool.healthdeck]\nsmoke_suite = 'unit'\n{config}")
        self.n = 0

    def collect(self, xml: str | Path, *extra: str) -> dict:
        """Collect JUnit XML (text, or a file) as the next commit's run; returns the report."""
        self.n += 1
        path = xml if isinstance(xml, Path) else self.root / f"run{self.n}.xml"
        if not isinstance(xml, Path):
            path.write_text(xml, encoding="utf-8")
        self.monkeypatch.setenv("GITHUB_SHA", SHA.format(self.n))
        self.monkeypatch.setenv("GITHUB_REF_NAME", "main")
        self.monkeypatch.setenv("SOURCE_DATE_EPOCH", str(1_700_000_000 + 3600 * self.n))
        code = main(["collect", "-q", "--config", str(self.config), "--out", str(self.out),
                     "--history", self.history, "--junit", f"unit={path}", *extra])  # fmt: skip
        assert code == EXIT_OK
        return json.loads((self.out / "latest.json").read_text())

    @property
    def out(self) -> Path:
        return self.root / "out"

    def comment(self, capsys) -> str:
        capsys.readouterr()
        assert main(["comment", "--config", str(self.config), "--report", str(self.out / "latest.json"),
                     "--history", self.history]) == EXIT_OK  # fmt: skip
        return capsys.readouterr().out


def test_ten_thousand_failures_three_causes(tmp_path, monkeypatch, capsys) -> None:
    runs = Runs(tmp_path, monkeypatch)
    report = runs.collect(broken_fixture())
    s, d = report["summary"]["tests"]["unit"], report["details"]["tests"]["unit"]
    assert (s["failed"] + s["errors"], s["causes"]) == (10_000, 3)
    assert [(c["signature"], c["count"]) for c in d["causes"]] == [
        ("ConnectionRefusedError: [Errno <n>] Connect call failed ('<ip>', <n>)", 6000),
        ("KeyError: 'user-<n>' not in cache (line <n>)", 3000),
        ("TimeoutError: GET http://localhost:<n>/api/items/<n> timed out", 1000),
    ]
    first = d["causes"][0]
    assert first["outcomes"] == {"error": 6000} and len(first["tests"]) == 20  # the count stays exact
    assert first["example_message"].startswith("ConnectionRefusedError: [Errno 111]")
    assert first["first_seen"]["run_key"] == report["summary"]["run_key"]  # first run: seen here first
    assert first["new"] is None  # no baseline to be new against
    assert all(f["cause"] in {c["id"] for c in d["causes"]} for f in d["failing"])
    md = (runs.out / "latest.md").read_text()
    assert "**10 000 failing tests, 3 causes**" in md and "… and 5 980 more" in md
    text = runs.comment(capsys)
    assert "**10 000 failing tests, 3 causes**" in text and len(text) <= GITHUB_LIMIT
    table = [line for line in text.splitlines() if line.startswith("| `")]
    assert [row.split(" | ")[1] for row in table] == ["6 000", "3 000", "1 000"]
    assert "`tests.test_db::test_query[0]`" in table[0]
    # the same breakage again: the same signatures, now known, first seen in run 1
    again = runs.collect(broken_fixture())["details"]["tests"]["unit"]["causes"]
    assert [c["id"] for c in again] == [c["id"] for c in d["causes"]]
    assert [c["new"] for c in again] == [False, False, False]
    assert {c["first_seen"]["run_key"] for c in again} == {report["summary"]["run_key"]}


def test_fixed_still_failing_and_new_against_the_baseline(tmp_path, monkeypatch, capsys) -> None:
    runs = Runs(tmp_path, monkeypatch)
    base = runs.collect(junit([
        ("t.mod::test_fixed", "failed", "AssertionError: 1 != 2", 0.1),
        ("t.mod::test_still", "error", "OSError: disk full at block 1234", 0.1),
        ("t.mod::test_fine", "passed", "", 0.1),
        ("t.mod::test_skipped_now", "failed", "ValueError: gone", 0.1),
    ]))  # fmt: skip
    now = runs.collect(junit([
        ("t.mod::test_fixed", "passed", "", 0.1),
        ("t.mod::test_still", "error", "OSError: disk full at block 98", 0.1),
        ("t.mod::test_fine", "failed", "KeyError: 'price'", 0.1),
        ("t.mod::test_skipped_now", "skipped", "", 0.1),
    ]))  # fmt: skip
    s, d = now["summary"]["tests"]["unit"], now["details"]["tests"]["unit"]
    assert s["transitions"] == {"new": 1, "fixed": 1, "still_failing": 1, "flaky": 0}
    moved = d["transitions"]
    assert (moved["new"], moved["fixed"], moved["still_failing"]) == (
        ["t.mod::test_fine"],
        ["t.mod::test_fixed"],
        ["t.mod::test_still"],
    )  # a test skipped now is not fixed
    assert moved["baseline"]["run_key"] == base["summary"]["run_key"]
    causes = {c["signature"]: c for c in d["causes"]}
    assert causes["OSError: disk full at block <n>"]["new"] is False
    assert causes["KeyError: 'price'"]["new"] is True
    assert causes["OSError: disk full at block <n>"]["first_seen"]["run_key"] == base["summary"]["run_key"]
    text = runs.comment(capsys)
    assert "**Fixed (1)**: `t.mod::test_fixed`" in text
    # failing now: counted in the transitions, named once, in the list of failing tests with their status
    assert "**Still failing (1)**: 1 in the list below" in text
    assert "**New failures (1)**: 1 in the list below" in text
    assert "- `t.mod::test_still` (unit, error, still failing)" in text
    assert "- `t.mod::test_fine` (unit, failed, new)" in text
    table = [line for line in text.splitlines() if line.startswith("| `")]
    assert any("`KeyError: 'price'`" in row and "**new**" in row for row in table)
    assert any("`OSError: disk full at block <n>`" in row and "known" in row for row in table)
    md = (runs.out / "latest.md").read_text()
    assert (
        "- **Fixed (1)**: `t.mod::test_fixed`" in md and "- **Still failing (1)**: `t.mod::test_still`" in md
    )


BASE_RUN = [
    ("t.mod::test_fixed", "failed", "AssertionError: 1 != 2", 0.1),
    ("t.mod::test_still", "error", "OSError: disk full at block 1234", 0.1),
    ("t.mod::test_fine", "passed", "", 0.1),
    ("t.mod::test_skipped_now", "failed", "ValueError: gone", 0.1),
]
NEXT_RUN = [
    ("t.mod::test_fixed", "passed", "", 0.1),
    ("t.mod::test_still", "error", "OSError: disk full at block 98", 0.1),
    ("t.mod::test_fine", "failed", "KeyError: 'price'", 0.1),
    ("t.mod::test_skipped_now", "skipped", "", 0.1),
]


@pytest.mark.parametrize("kind", ["report", "git"])
def test_a_file_baseline_gives_the_same_triage_as_the_stored_run(tmp_path, monkeypatch, kind) -> None:
    """On a runner without a store, the base branch's report file (an artifact, or committed) says what
    is new, fixed and still failing exactly as the stored run would; it holds no durations."""
    runs = Runs(tmp_path, monkeypatch)
    runs.collect(junit(BASE_RUN))
    base_file = tmp_path / "base.json"
    base_file.write_bytes((runs.out / "latest.json").read_bytes())
    stored = runs.collect(junit(NEXT_RUN))["details"]["tests"]["unit"]
    spec, config = f"report:{base_file}", runs.config
    if kind == "git":  # the base report committed at the configured output path of a repository
        repo = tmp_path / "repo"
        (repo / "docs/audits/health").mkdir(parents=True)
        (repo / "docs/audits/health/latest.json").write_bytes(base_file.read_bytes())
        config = repo / "pyproject.toml"
        config.write_bytes(runs.config.read_bytes())
        for args in (["init", "-q"], ["add", "-A"], ["-c", "user.email=a@b", "-c", "user.name=t", "commit", "-qm", "base"],
                     ["tag", "v1"]):  # fmt: skip
            subprocess.run(["git", *args], cwd=repo, check=True)
        spec = "git:v1"
    xml = tmp_path / "next.xml"
    xml.write_text(junit(NEXT_RUN), encoding="utf-8")
    out = tmp_path / "no-store"
    assert main(["collect", "-q", "--config", str(config), "--out", str(out), "--no-history",
                 "--baseline", spec, "--junit", f"unit={xml}"]) == EXIT_OK  # fmt: skip
    report = json.loads((out / "latest.json").read_text())
    alone = report["details"]["tests"]["unit"]
    assert report["summary"]["tests"]["unit"]["transitions"] == {
        "new": 1,
        "fixed": 1,
        "still_failing": 1,
        "flaky": 0,
    }
    for key in ("new", "fixed", "still_failing", "flaky"):
        assert alone["transitions"][key] == stored["transitions"][key]
    assert [(c["id"], c["new"]) for c in alone["causes"]] == [(c["id"], c["new"]) for c in stored["causes"]]
    assert {c["new"] for c in alone["causes"]} == {True, False}
    assert all(c["first_seen"] is None for c in alone["causes"])  # no store: nothing says where first seen
    # no durations in a file: latest.md says so rather than leave the slower tests out as if none were
    assert "unit: test durations not compared — the baseline holds none" in (out / "latest.md").read_text()
    assert "test durations not compared" not in (runs.out / "latest.md").read_text()  # the store has them
    assert "duration_regressions" not in alone or alone["duration_regressions"] is None


def test_a_cut_base_report_leaves_transitions_unknown(tmp_path, monkeypatch) -> None:
    """A base report that listed only 5 of its 40 failures cannot say which of today's are new."""
    runs = Runs(tmp_path, monkeypatch, config="max_failing_listed = 5\n")
    runs.collect(junit([(f"t.m::test_{i:03d}", "failed", "AssertionError: x", 0.1) for i in range(40)]))
    base_file = tmp_path / "base.json"
    base_file.write_bytes((runs.out / "latest.json").read_bytes())
    xml = tmp_path / "next.xml"
    xml.write_text(junit([(f"t.m::test_{i:03d}", "failed", "AssertionError: x", 0.1) for i in range(41)]))
    out = tmp_path / "no-store"
    assert main(["collect", "-q", "--config", str(runs.config), "--out", str(out), "--no-history",
                 "--baseline", f"report:{base_file}", "--junit", f"unit={xml}"]) == EXIT_OK  # fmt: skip
    report = json.loads((out / "latest.json").read_text())
    assert report["summary"]["tests"]["unit"]["transitions"] is None
    assert [c["new"] for c in report["details"]["tests"]["unit"]["causes"]] == [
        False
    ]  # its causes are all listed


def test_rerun_pass_is_flaky_not_fixed_and_new_suite_has_no_transitions(tmp_path, monkeypatch) -> None:
    runs = Runs(tmp_path, monkeypatch)
    runs.collect(junit([("t.m::test_wobbly", "failed", "AssertionError: x", 0.1)]))
    flaky_now = junit([("t.m::test_wobbly", "failed", "AssertionError: x", 0.1)]).replace(
        "</testsuite>", '<testcase classname="t.m" name="test_wobbly" time="0.1"/></testsuite>'
    )  # pytest-rerunfailures: a failed attempt, then a pass
    report = runs.collect(flaky_now)
    moved = report["details"]["tests"]["unit"]["transitions"]
    assert (moved["fixed"], moved["flaky"], moved["flaky_total"]) == ([], ["t.m::test_wobbly"], 1)
    other = runs.root / "other.xml"
    other.write_text(junit([("o::test_a", "failed", "ValueError: 1", 0.1)]))
    report = runs.collect(junit([("t.m::test_wobbly", "passed", "", 0.1)]), "--junit", f"extra={other}")
    assert report["summary"]["tests"]["extra"]["transitions"] is None  # the baseline did not run it
    assert report["details"]["tests"]["extra"]["causes"][0]["new"] is None
    # flaky in the baseline is not failing there, so passing now is not "fixed"
    assert report["summary"]["tests"]["unit"]["transitions"] == dict.fromkeys(
        ("new", "fixed", "still_failing", "flaky"), 0
    )


def test_capped_transition_lists_carry_exact_totals(tmp_path, monkeypatch, capsys) -> None:
    runs = Runs(tmp_path, monkeypatch, config="max_failing_listed = 5\n")
    runs.collect(junit([(f"t.m::test_{i:03d}", "failed", "AssertionError: x", 0.1) for i in range(40)]))
    report = runs.collect(junit([(f"t.m::test_{i:03d}", "passed", "", 0.1) for i in range(40)]))
    moved = report["details"]["tests"]["unit"]["transitions"]
    assert (len(moved["fixed"]), moved["fixed_total"]) == (5, 40)
    assert report["summary"]["tests"]["unit"]["transitions"]["fixed"] == 40
    text = runs.comment(capsys)
    assert "**Fixed (40)**:" in text and "… and 35 more" in text
    # still failing: the list below names some, the line names others; the parts add up to the count
    runs.collect(junit([(f"t.m::test_{i:03d}", "failed", "AssertionError: x", 0.1) for i in range(40)]))
    report = runs.collect(
        junit([(f"t.m::test_{i:03d}", "failed", "AssertionError: x", 0.1) for i in range(40)])
    )
    line = next(x for x in runs.comment(capsys).splitlines() if x.startswith("- **Still failing (40)**"))
    said = re.fullmatch(
        r"- \*\*Still failing \(40\)\*\*: (\d+) in the list below(?:; also (.*) …)? and (\d+) more", line
    )
    assert said, line
    named = (said[2] or "").count("`") // 2
    assert int(said[1]) + named + int(said[3]) == 40


def test_duration_regressions(tmp_path, monkeypatch) -> None:
    runs = Runs(tmp_path, monkeypatch, config="duration_floor = 0.5\n")
    tests = {"doubled": (0.3, 0.8), "slightly_slower": (0.6, 0.9), "fast": (0.01, 0.4), "new": (None, 5.0),
             "tripled": (1.0, 3.2)}  # fmt: skip
    runs.collect(junit([(f"t.m::{k}", "passed", "", b) for k, (b, _) in tests.items() if b is not None]))
    report = runs.collect(junit([(f"t.m::{k}", "passed", "", n) for k, (_, n) in tests.items()]))
    assert report["summary"]["tests"]["unit"]["duration_regressions"] == 2
    slower = report["details"]["tests"]["unit"]["duration_regressions"]
    assert [(x["test_id"], x["baseline_seconds"], x["seconds"]) for x in slower["tests"]] == [
        ("t.m::tripled", 1.0, 3.2),
        ("t.m::doubled", 0.3, 0.8),
    ]  # worst ratio first; 0.01 -> 0.4 stays under the floor; a test without a baseline time is not listed
    md = (runs.out / "latest.md").read_text()
    assert "### Slower than the baseline — unit" in md and "| `t.m::tripled` | 3.200 | 1.000 | 3.2× |" in md
    # "new" takes 5 s with no time recorded before: not listed, and said to be unknown rather than fine
    assert slower["unrecorded"] == 1
    assert "_unit: 1 test taking at least 0.5 s now has no recorded time in the baseline" in md
    assert "the same commit" not in md
    monkeypatch.setattr(runs, "n", runs.n - 1)  # the same commit again: only the runner's timing changed
    runs.collect(junit([(f"t.m::{k}", "passed", "", n * 2.5 if n else n) for k, (_, n) in tests.items()]))
    assert (
        "The baseline is this same commit: the code did not change, the runner's timing did."
        in (runs.out / "latest.md").read_text()
    )


def test_a_slower_runner_is_told_from_slower_tests(tmp_path, monkeypatch) -> None:
    """Every test 1.8x slower (a busy runner) and two 2.2x: the two are listed, and latest.md says the
    median test took 1.8x, so the reader does not chase load; too few tests timed in both: no median."""
    runs = Runs(tmp_path, monkeypatch, config="duration_floor = 0.5\n")
    runs.collect(junit([(f"t.m::test_{i}", "passed", "", 1.0) for i in range(10)]))
    report = runs.collect(junit([(f"t.m::test_{i}", "passed", "", 2.2 if i < 2 else 1.8) for i in range(10)]))
    slower = report["details"]["tests"]["unit"]["duration_regressions"]
    assert (slower["tests_total"], slower["timed_in_both"], slower["median_ratio"]) == (2, 10, 1.8)
    assert (
        "The 10 tests timed in both runs took a median 1.80× their baseline time: the runner as a whole was "
        "slower, so part of this list is its speed, not the code." in (runs.out / "latest.md").read_text()
    )
    report = runs.collect(
        junit([(f"t.m::test_{i}", "passed", "", 4.0 if i < 2 else 0.01) for i in range(10)])
    )
    slower = report["details"]["tests"]["unit"]["duration_regressions"]
    assert (slower["timed_in_both"], slower["median_ratio"]) == (2, None)  # the rest ran under the kept times
    assert "timed in both runs" not in (runs.out / "latest.md").read_text()


@pytest.fixture(scope="module")
def postgres(tmp_path_factory):
    server = Postgres(tmp_path_factory.mktemp("pg")).start()
    yield server
    server.stop()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_first_seen_and_a_tests_own_history(tmp_path, monkeypatch, request, backend: str) -> None:
    url = (
        None if backend == "sqlite" else request.getfixturevalue("postgres").create_database(f"tri_{backend}")
    )
    runs = Runs(tmp_path, monkeypatch, history=url)
    outcomes = ["passed", "failed", "passed", "failed", "failed", "failed"]
    keys = []
    for i, outcome in enumerate(outcomes):
        message = f"ConnectionError: db at 10.0.0.{i}:5432 refused" if outcome == "failed" else ""
        report = runs.collect(
            junit([("t.m::test_db", outcome, message, 0.5 + i), ("t.m::test_ok", "passed", "", 0.1)])
        )
        keys.append(report["summary"]["run_key"])
    cause = report["details"]["tests"]["unit"]["causes"][0]
    assert cause["first_seen"]["run_key"] == keys[1] and cause["new"] is False
    store = open_store(runs.history)
    try:
        story = case_history(store, "unit", "t.m::test_db")
        assert [c.outcome for c in story.runs] == outcomes
        assert story.failing_since.run_key == keys[3] and not story.streak_covers_window
        assert story.last_passed.run_key == keys[2] and story.last_passed.git_sha == SHA.format(3)
        assert [c.seconds for c in story.runs] == [0.5 + i for i in range(6)]  # all above floor/2 = 0.25
        assert [c.seconds for c in case_history(store, "unit", "t.m::test_ok").runs] == [None] * 6
        assert case_history(store, "unit", "t.m::test_ok").failing_since is None
        short = case_history(store, "unit", "t.m::test_db", window=2)
        assert short.streak_covers_window and short.last_passed is None
        latest = store.runs()[-1]
        assert store.causes_of(latest.id) == {"unit": {cause["id"]: 1}}
    finally:
        store.close()


def test_comment_stays_under_the_limit_with_huge_test_ids(tmp_path, monkeypatch, capsys) -> None:
    runs = Runs(tmp_path, monkeypatch)
    ids = [f"t.m::test_{'x' * 3000}_{i}" for i in range(60)]
    runs.collect(junit([(t, "failed", f"ValueError: {i}", 0.1) for i, t in enumerate(ids)]))
    runs.collect(junit([(t, "passed" if i % 2 else "failed", f"OSError: {i} {'y' * 2000}", 0.1)
                        for i, t in enumerate(ids)]))  # fmt: skip
    text = runs.comment(capsys)
    assert (
        len(text) <= GITHUB_LIMIT
        and "**60 failing tests" not in text
        and "**30 failing tests, 1 cause**" in text
    )
    assert "**Fixed (30)**" in text


def test_categories_in_report_and_comment(tmp_path, monkeypatch, capsys) -> None:
    runs = Runs(tmp_path, monkeypatch, config=(
        "[tool.healthdeck.categories]\n"
        'infrastructure = { message = "ConnectionRefused", outcome = "error" }\n'
        '"product defect" = { outcome = ["failed"] }\n'
    ))  # fmt: skip
    report = runs.collect(broken_fixture((30, 20, 0), passing=1))
    categories = [(c["category"], c["count"]) for c in report["details"]["tests"]["unit"]["causes"]]
    assert categories == [("infrastructure", 30), ("product defect", 20)]
    text = runs.comment(capsys)
    assert "| infrastructure: `ConnectionRefusedError: [Errno <n>] Connect call failed ('<ip>', <n>)`" in text
    assert "| Category |" in (runs.out / "latest.md").read_text()


def test_schema_holds_the_triage_details(tmp_path, monkeypatch) -> None:
    from healthdeck.reports.schema import ReportError, validate_report

    runs = Runs(tmp_path, monkeypatch)
    runs.collect(junit([("t.m::test_a", "failed", "ValueError: 1", 0.1)]))
    report = runs.collect(
        junit([("t.m::test_a", "passed", "", 0.1), ("t.m::test_b", "error", "OSError: 2", 0.1)])
    )
    validate_report(report)
    suite = report["details"]["tests"]["unit"]
    del suite["transitions"]["fixed_total"]  # a capped list without its exact count
    with pytest.raises(ReportError, match="fixed_total"):
        validate_report(report)


def test_failing_list_ranks_the_most_shared_cause_first() -> None:
    from healthdeck.reports.failures import ordered

    failures = [{"suite": "u", "test_id": f"t{i}", "message": f"OSError: port {i}", "cause": "aaa", "status": "known"}
                for i in range(3)]  # fmt: skip
    failures.append(
        {"suite": "u", "test_id": "a0", "message": "ValueError: x", "cause": "bbb", "status": "known"}
    )
    # three distinct messages, one cause: they outrank the single failure that sorts first by name
    assert [f["test_id"] for f in ordered(failures)] == ["t0", "t1", "t2", "a0"]
    # a list cut at max_failing_listed ranks by the causes' exact sizes, as latest.json lists them
    assert [f["test_id"] for f in ordered(failures, {"aaa": 3, "bbb": 2_500})] == ["a0", "t0", "t1", "t2"]


def test_the_comments_top_ten_follows_the_report_when_the_list_is_cut(tmp_path, monkeypatch, capsys) -> None:
    """Four causes of 2 500 failures each, 200 listed: the comment's ten are latest.json's first ten (the
    causes' true sizes tie, so by name), not re-ranked by how many of each the cut list happens to hold
    (67, 67 and 66 of three causes here: the third's tests were left out of the comment's ten)."""
    messages = [
        "AssertionError: {i} apples",
        "ConnectionError: port {i}",
        "KeyError: 'k-{i}'",
        "TimeoutError: {i} s",
    ]
    first = [i % 3 for i in range(200)]  # the 200 names listed: three causes, unevenly
    rest = [c for c in range(4) for _ in range(2_500 - first.count(c))]
    cases = [
        (f"t.m::test_{i:05d}", "failed", messages[c].format(i=i), 0.1) for i, c in enumerate(first + rest)
    ]
    runs = Runs(tmp_path, monkeypatch)
    report = runs.collect(junit(cases))
    listed = [f["test_id"] for f in report["details"]["tests"]["unit"]["failing"][:10]]
    comment = runs.comment(capsys)
    shown = re.findall(r"^- `(t\.m::test_\d+)`", comment, re.M)
    assert shown == listed == [f"t.m::test_{i:05d}" for i in range(10)]


def test_collect_gate_and_comment_speak_of_one_baseline(tmp_path, monkeypatch, capsys) -> None:
    """Only collect is given the baseline (a base report on a runner): gate and comment compare with the
    same run, so the comment's deltas, its new/fixed lists and the verdict agree."""
    runs = Runs(tmp_path, monkeypatch)
    runs.collect(junit(BASE_RUN))
    base_file = tmp_path / "base.json"
    base_file.write_bytes((runs.out / "latest.json").read_bytes())
    runs.collect(junit([("t.mod::test_other", "passed", "", 0.1)]))  # the previous run is another one
    runs.collect(junit(NEXT_RUN), "--baseline", f"report:{base_file}")
    capsys.readouterr()
    report = str(runs.out / "latest.json")
    assert main(["gate", "--config", str(runs.config), "--report", report, "--history", runs.history]) == 1
    verdict = json.loads((runs.out / "latest.json").read_text())["details"]["verdict"]
    assert verdict["baseline"]["spec"] == f"report:{base_file}"
    text = runs.comment(capsys)
    base_sha = SHA.format(1)[:8]
    compared = next(line for line in text.splitlines() if line.startswith("_Compared with"))
    assert f"commit `{base_sha}`" in compared
    assert f"**Against `main` `{base_sha}`**" in text
    assert "**New failures (1)**: 1 in the list below" in text and "No baseline run" not in text
    assert "- `t.mod::test_fine` (unit, failed, new)" in text


@pytest.mark.parametrize("with_store", [True, False])
def test_the_listed_failures_are_new_first_in_the_report_too(tmp_path, monkeypatch, with_store) -> None:
    """latest.json and latest.md list new failures first, as the comment does; with a cut list a new
    failure is never the one cut away for a known one whose name sorts first."""
    runs = Runs(tmp_path, monkeypatch, config="max_failing_listed = 2\n")
    base = runs.collect(junit([("t.a::test_known", "failed", "AssertionError: old", 0.1),
                               ("t.z::test_new1", "passed", "", 0.1), ("t.z::test_new2", "passed", "", 0.1)]))  # fmt: skip
    base_file = tmp_path / "base.json"
    base_file.write_text(json.dumps(base))
    now = junit([("t.a::test_known", "failed", "AssertionError: old", 0.1),
                 ("t.z::test_new1", "failed", "KeyError: 'a'", 0.1), ("t.z::test_new2", "failed", "OSError: b", 0.1)])  # fmt: skip
    if with_store:
        report = runs.collect(now)
    else:
        xml = tmp_path / "now.xml"
        xml.write_text(now)
        out = tmp_path / "alone"
        assert main(["collect", "-q", "--config", str(runs.config), "--out", str(out), "--no-history",
                     "--baseline", f"report:{base_file}", "--junit", f"unit={xml}"]) == EXIT_OK  # fmt: skip
        report = json.loads((out / "latest.json").read_text())
    failing = report["details"]["tests"]["unit"]["failing"]
    assert [f["test_id"] for f in failing] == ["t.z::test_new1", "t.z::test_new2"]
    assert report["details"]["tests"]["unit"]["failing_total"] == 3


def test_test_ids_are_listed_with_their_numbers_in_order(tmp_path, monkeypatch, capsys) -> None:
    """A person reads test[2] before test[10] before test[1000], in every list: the report's failing
    tests, each cause's tests, the transitions and the comment."""
    runs = Runs(tmp_path, monkeypatch)
    ids = [f"t.m::test_case[{i}]" for i in (1000, 2, 10, 30)]
    runs.collect(junit([(ids[3], "failed", "AssertionError: x", 0.1)]))
    report = runs.collect(junit([(i, "failed", "AssertionError: x", 0.1) for i in ids]))
    d = report["details"]["tests"]["unit"]
    shown = ["t.m::test_case[2]", "t.m::test_case[10]", "t.m::test_case[1000]"]
    assert [f["test_id"] for f in d["failing"]] == [*shown, "t.m::test_case[30]"]  # new first
    assert d["causes"][0]["tests"] == [f"t.m::test_case[{i}]" for i in (2, 10, 30, 1000)]
    assert d["transitions"]["new"] == shown and d["transitions"]["still_failing"] == ["t.m::test_case[30]"]
    text = runs.comment(capsys)
    at = [text.index(f"`{t}`") for t in shown]
    assert at == sorted(at), text


def test_a_base_report_that_is_not_there_yet_is_said_not_fatal(tmp_path, monkeypatch, capsys) -> None:
    """The first pull request, or an expired artifact: `--baseline report:PATH` names a file that does not
    exist. The run is still reported (compared with nothing, and saying so); the folder an artifact
    download makes is read as the report inside it."""
    runs = Runs(tmp_path, monkeypatch)
    runs.collect(junit(BASE_RUN))
    base = tmp_path / "base"
    base.mkdir()
    (base / "latest.json").write_bytes((runs.out / "latest.json").read_bytes())
    capsys.readouterr()
    report = runs.collect(junit(NEXT_RUN), "--baseline", f"report:{tmp_path / 'nothere' / 'latest.json'}")
    assert report["details"]["tests"]["unit"]["transitions"] is None
    warning = f"baseline report:{tmp_path / 'nothere' / 'latest.json'}: no file"
    [said] = [w for w in report["details"]["metadata"]["warnings"] if w.startswith(warning)]
    assert said.endswith("(no checklist item needs a baseline)"), said  # the default checklist has none
    runs.config.write_text(runs.config.read_text() + "[tool.healthdeck.gates]\nno_new_failures = true\n")
    again = runs.collect(junit(NEXT_RUN), "--baseline", f"report:{tmp_path / 'nothere' / 'latest.json'}")
    assert any(w.startswith(warning) and w.endswith("the checklist's no_new_failures is UNKNOWN")
               for w in again["details"]["metadata"]["warnings"])  # fmt: skip
    assert "latest.json: no file" in (runs.out / "latest.md").read_text()  # (the path, Markdown-escaped)
    from_folder = runs.collect(junit(NEXT_RUN), "--baseline", f"report:{base}")
    assert from_folder["summary"]["tests"]["unit"]["transitions"]["new"] == 1


def test_the_comment_names_a_new_cause_too_small_for_its_top_table() -> None:
    """One new failure behind five large known causes is what the change broke; the table of the largest
    causes would hide it."""
    from healthdeck.reports.render.triage import comment_causes

    causes = [{"signature": f"KeyError: 'k{n}'", "id": f"{n:012x}", "count": 50 - n, "new": False,
               "example_test": f"t::test_{n}", "category": None, "exception_type": "KeyError"} for n in range(6)]  # fmt: skip
    causes.append(
        {**causes[0], "signature": "ValueError: bad header", "count": 1, "new": True, "id": "f" * 12}
    )
    summary = {"unit": {"failed": sum(c["count"] for c in causes), "errors": 0, "causes": len(causes)}}
    text = "\n".join(comment_causes(summary, {"unit": {"causes": causes}}, top=5))
    assert "ValueError" not in text.split("_Top 5 of 7 causes")[0]  # not in the table: it is the smallest
    assert "**Also new** (1 cause, 1 test): `ValueError: bad header`" in text
    assert "Also new" not in "\n".join(comment_causes(summary, {"unit": {"causes": causes}}, top=7))


def test_two_long_causes_that_differ_at_their_end_read_apart_in_the_comment() -> None:
    """Cut at their start, two SSL errors read the same ("Max retries exceeded with url: / (Caused…");
    the middle is cut instead, so what tells them apart stays."""
    from healthdeck.reports.render.triage import comment_causes

    head = "requests.exceptions.SSLError: HTTPSConnectionPool(host='localhost', port=<n>): Max retries exceeded with url: / (Caused by "
    causes = [{"id": str(i), "signature": head + tail, "count": 1, "new": None, "example_test": f"t{i}", "category": None}
              for i, tail in enumerate(("SSLError(CERTIFICATE_EXPIRED))", "SSLEOFError(EOF occurred))"))]  # fmt: skip
    lines = comment_causes({"unit": {"failed": 2, "errors": 0, "causes": 2}}, {"unit": {"causes": causes}}, 5)
    rows = [line for line in lines if line.startswith("| `requests")]
    assert (
        len(rows) == 2 and "CERTIFICATE_EXPIRED" in rows[0] + rows[1] and "SSLEOFError" in rows[0] + rows[1]
    )

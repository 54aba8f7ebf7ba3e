"""pytest 9 subtests (tests/fixtures/subtests/, real runs): healthdeck counts one test per test id, and
its figures relate to pytest's own console (kept beside each file) exactly as docs/inputs.md says."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field

import pytest

from healthdeck.collectors.junit import JUnitOptions, collect_junit
from healthdeck.reports.build import listed_failing
from healthdeck.reports.causes import group_causes
from tests.conftest import FIXTURES, REAL

SUBTESTS = FIXTURES / "subtests"
EXPECTED = {
    k: v for k, v in json.loads((SUBTESTS / "EXPECTED.json").read_text()).items() if not k.startswith("_")
}
FIGURES = ("passed", "failed", "errors", "skipped", "xfailed", "flaky", "total")
_NODE_ID = re.compile(r"(\S+\.py)((?:::\S+)+)")


@dataclass
class Console:
    """What pytest's console says, per test id in healthdeck's form (`module.Class::name`)."""

    failed: int
    passed: int
    passed_ids: set[str] = field(default_factory=set)
    subfailed: Counter[str] = field(default_factory=Counter)  # SUBFAILED lines per test
    own_failure: dict[str, str] = field(default_factory=dict)  # FAILED line's message per test


def _test_id(node_id: str) -> str:
    path, rest = _NODE_ID.search(node_id).groups()  # type: ignore[union-attr]
    parts = [path[:-3].replace("/", "."), *rest.split("::")[1:]]
    return f"{'.'.join(parts[:-1])}::{parts[-1]}"


def _console(name: str) -> Console:
    lines = (SUBTESTS / EXPECTED[name]["console"]).read_text().splitlines()
    summary = lines[-1]
    figure = {k: int(n) for n, k in re.findall(r"(\d+) (failed|passed)\b", summary)}
    console = Console(figure["failed"], figure["passed"])
    for line in lines:
        word = line.split(" ", 1)[0]
        if word == "PASSED":
            console.passed_ids.add(_test_id(line))
        elif word.startswith("SUBFAILED"):
            console.subfailed[_test_id(line)] += 1
        elif word == "FAILED":
            console.own_failure[_test_id(line)] = line.partition(" - ")[2]
    return console


def _read(name: str):
    return collect_junit([SUBTESTS / name], JUnitOptions(keep_outcomes=True))


def _subtests_as_healthdeck_counts(console: Console, test_id: str) -> int:
    """What the XML lets healthdeck count for one test, from pytest's lines for it (docs/inputs.md):
    a "contains N failed subtests" failure or several failures are subtests; the test's own failure
    after failed subtests counts among them; a lone failed unittest subtest looks like a failed test."""
    k = console.subfailed[test_id]
    own = console.own_failure.get(test_id)
    if own is not None and own.startswith("contains"):
        return k
    if own is not None:
        return k + 1 if k else 0
    return k if k > 1 else 0


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_figures_as_recorded(name: str) -> None:
    want = EXPECTED[name]
    result = _read(name)
    assert {k: getattr(result.counts, k) for k in FIGURES} == {k: want[k] for k in FIGURES}
    assert result.failed_subtests == want["failed_subtests"]
    assert result.attempts == result.counts.total  # one testcase per test: subtests are not elements


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_figures_relate_to_pytest_console(name: str) -> None:
    console, result = _console(name), _read(name)
    failing = {f.test_id: f for f in result.failing}
    # every test with a FAILED or SUBFAILED line is one failed test, and only those
    assert set(failing) == set(console.subfailed) | set(console.own_failure)
    assert result.counts.failed == len(failing)
    # pytest's "N failed" counts each failed subtest and each failed test: the file's own failures=
    assert result.readings[0].declared["failures"] == console.failed
    # failed subtests per test, as far as the XML carries them
    per_test = {t: _subtests_as_healthdeck_counts(console, t) for t in failing}
    assert {t: f.failed_subtests for t, f in failing.items()} == per_test
    assert result.failed_subtests == sum(per_test.values())
    # pytest's passed counts tests whose only failures are subtests, and tests with a skipped subtest
    only_subtests = {t for t in console.subfailed if t not in console.own_failure}
    skipped_by_subtests = set(EXPECTED[name]["skipped_by_subtests"])
    assert {t for t, o in result.outcomes.items() if o == "skipped"} == skipped_by_subtests
    assert console.passed == result.counts.passed + len(only_subtests) + len(skipped_by_subtests)
    if console.passed_ids:  # -rA lists them: the same tests, id by id
        passed_here = {t for t, o in result.outcomes.items() if o == "passed"}
        assert console.passed_ids == passed_here | only_subtests | skipped_by_subtests


def test_more_itertools_counts_every_failed_subtest() -> None:
    # the failing run: pytest "23 failed, 762 passed"; 3 tests hold 10, 5 and 5 failed subtests
    console, result = _console("more-itertools-ilen.junit.xml.gz"), _read("more-itertools-ilen.junit.xml.gz")
    assert sorted(f.failed_subtests for f in result.failing) == [0, 0, 0, 5, 5, 10]
    assert result.failed_subtests == sum(console.subfailed.values()) == 20


def test_failing_entry_says_how_many_subtests_failed() -> None:
    result = _read("more-itertools-ilen.junit.xml.gz")
    causes = group_causes(result.failing, [])
    entries = {e["test_id"]: e for e in listed_failing(result, causes, 50)}
    entry = entries["tests.test_more.TestSubfactorial::test_vs_derangements"]
    assert entry["failed_subtests"] == 10
    assert entry["message"] == "AssertionError: 1 != 2 (first of 10 failed subtests)"
    plain = entries["tests.test_more.IlenTests::test_ilen"]
    assert (plain["failed_subtests"], plain["message"]) == (0, "AssertionError: 12 != 11")
    # the cause is the bare message's: a subtest failure groups with the same failure elsewhere
    by_test = {t: c.signature for c in causes for t in c.tests}
    assert "subtest" not in by_test["tests.test_more.TestSubfactorial::test_vs_derangements"]


def test_one_failed_fixture_subtest_is_said_so() -> None:
    # the edge project's test_subtests: one failed subtest and pytest's "contains 1 failed subtest"
    result = collect_junit([FIXTURES / "edge" / "xunit2.xml"])
    entry = next(e for e in listed_failing(result, group_causes(result.failing, []), 50)
                 if e["test_id"] == "test_edge::test_subtests")  # fmt: skip
    assert (entry["failed_subtests"], entry["message"]) == (1, "assert 3 != 3 (a failed subtest)")


def test_green_subtest_run_is_not_a_disagreement() -> None:
    # tests="21959" for 765 testcases: pytest counts its 21194 passing subtests there, nothing to say
    reading = collect_junit([REAL / "more-itertools.junit.xml"]).readings[0]
    assert reading.declared["tests"] > reading.counted["testcases"]
    assert reading.notes == []


def test_failing_subtest_run_names_the_files_own_failures() -> None:
    reading = _read("more-itertools-ilen.junit.xml.gz").readings[0]
    assert reading.notes == [
        "the file says 21959 tests and 23 failures for 765 testcase elements: pytest counts every "
        "subtest in them, as its summary line's 'failed' counts each failed subtest; healthdeck counts "
        "one test per test id, so the 3 tests holding 20 failed subtests are 3 failed tests "
        "(failed_subtests 20), while pytest's 'passed' counts as passed a unittest test whose only "
        "failures are subtests (up to 3 more here)"  # pytest: 762 passed = 759 + the 3
    ]


def test_skipped_subtests_are_not_extra_tests() -> None:
    # skipped= counts each skipped subtest (4): no skipped test is made up beyond the 14 tests
    result = _read("subtests.junit.xml")
    assert result.readings[0].declared["skipped"] == 4
    assert result.counts.skipped == 3 and result.counts.total == 14

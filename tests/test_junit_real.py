"""JUnit collector against real pytest runs: healthdeck's figures equal pytest's own summaries."""

from __future__ import annotations

import json

import junitparser
import pytest

from healthdeck.collectors.base import open_binary
from healthdeck.collectors.junit import collect_junit
from tests.conftest import EDGE, REAL, expected

COUNT_KEYS = ("passed", "failed", "errors", "skipped", "xfailed", "flaky", "total")
REAL_JUNIT = expected("junit")
EDGE_JUNIT = {
    k: v for k, v in json.loads((EDGE / "EXPECTED.json").read_text()).items() if not k.startswith("_")
}


def _counts(result) -> dict:
    c = result.counts
    return {k: getattr(c, k) for k in COUNT_KEYS}


@pytest.mark.parametrize("name", sorted(REAL_JUNIT))
def test_real_project_counts_equal_pytest_summary(name: str) -> None:
    want = REAL_JUNIT[name]
    result = collect_junit([REAL / name])
    assert _counts(result) == {k: want[k] for k in COUNT_KEYS}, want["pytest_summary"]
    if "collection_errors" in want:
        assert result.collection_errors == want["collection_errors"]
    if "failing" in want:
        assert [f.test_id for f in result.failing] == want["failing"]


@pytest.mark.parametrize("name", sorted(EDGE_JUNIT))
def test_edge_project_counts(name: str) -> None:
    want = EDGE_JUNIT[name]
    result = collect_junit([EDGE / name])
    assert _counts(result) == {k: want[k] for k in COUNT_KEYS}, want["pytest_summary"]
    for key in ("collection_errors", "failed_subtests"):
        if key in want:
            assert getattr(result, key) == want[key]
    if "flaky_tests" in want:
        assert result.flaky == want["flaky_tests"]


def test_subtests_do_not_become_tests() -> None:
    # more-itertools: the suite element claims tests="21959" (765 tests + 21194 subtests).
    result = collect_junit([REAL / "more-itertools.junit.xml"])
    assert result.counts.total == 765
    assert result.attempts == 765


def test_reruns_are_attempts_not_tests() -> None:
    # dateutil with --reruns 1: 4 failing tests each written twice.
    result = collect_junit([REAL / "dateutil.junit-reruns.xml.gz"])
    assert result.attempts == result.counts.total + 4
    assert result.counts.flaky == 0


def test_edge_failing_tests_keep_the_call_failure_message() -> None:
    result = collect_junit([EDGE / "xunit2.xml"])
    failing = {f.test_id: f for f in result.failing}
    assert failing["test_edge::test_fail_teardown_error"].outcome == "failed"
    assert failing["test_edge::test_fail_teardown_error"].message == "assert False"
    assert failing["test_edge::test_pass_teardown_error"].outcome == "error"
    assert failing["test_broken"].message == "collection failure"
    assert failing["test_edge::test_xpass_strict"].message == "[XPASS(strict)] strict"
    assert "test_edge::test_xpass" not in failing  # non-strict XPASS is written as a pass


def test_xunit1_keeps_file() -> None:
    result = collect_junit([EDGE / "xunit1.xml"])
    assert {f.file for f in result.failing} == {"test_edge.py", "test_broken.py"}


def test_message_excerpt_is_bounded() -> None:
    from healthdeck.collectors.junit import JUnitOptions

    result = collect_junit([REAL / "dateutil.junit-reruns.xml.gz"], JUnitOptions(message_chars=40))
    assert all(len(f.message) <= 40 for f in result.failing)
    assert any(f.message.endswith("…") for f in result.failing)


def test_slowest_one_entry_per_test_longest_first() -> None:
    result = collect_junit([REAL / "dateutil.junit-reruns.xml.gz"])
    ids = [t.test_id for t in result.slowest]
    assert len(ids) == len(set(ids)) == 10
    seconds = [t.seconds for t in result.slowest]
    assert seconds == sorted(seconds, reverse=True)
    assert ids[0] == "tests.test_tzpath_data::test_ambiguous_and_imaginary[tzpath]"


def _junitparser_reference(path) -> dict[str, int]:
    """Independent count with junitparser: one outcome per distinct (classname, name)."""
    with open_binary("junit", path) as fh:
        xml = junitparser.JUnitXml.fromfile(fh)
    outcomes: dict[tuple[str, str], str] = {}
    suites = [xml] if isinstance(xml, junitparser.TestSuite) else list(xml)
    for suite in suites:
        for case in suite:
            kinds = {type(r).__name__ for r in case.result}
            if "Failure" in kinds:
                outcome = "failed"
            elif "Error" in kinds:
                outcome = "errors"
            elif "Skipped" in kinds:
                skipped = next(r for r in case.result if type(r).__name__ == "Skipped")
                outcome = "xfailed" if skipped.type == "pytest.xfail" else "skipped"
            else:
                outcome = "passed"
            outcomes[(case.classname or "", case.name or "")] = outcome
    counts = dict.fromkeys(("passed", "failed", "errors", "skipped", "xfailed"), 0)
    for outcome in outcomes.values():
        counts[outcome] += 1
    return counts


@pytest.mark.parametrize(
    "name",
    # files without reruns or duplicate ids, where a plain per-element walk is also right
    [
        "more-itertools.junit.xml",
        "packaging.junit-xunit1-xdist.xml.gz",
        "packaging.junit-collection-errors.xml",
    ],
)
def test_differential_against_junitparser(name: str) -> None:
    ours = _counts(collect_junit([REAL / name]))
    reference = _junitparser_reference(REAL / name)
    assert {k: ours[k] for k in reference} == reference

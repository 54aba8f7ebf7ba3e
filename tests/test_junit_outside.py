"""An outside check: healthdeck's figures against publish-unit-test-result-action's own expected
figures for its JUnit test files (tests/fixtures/outside/, Apache-2.0, see NOTICE.md there)."""

from __future__ import annotations

import json

import pytest

from healthdeck.collectors import CollectorError
from healthdeck.collectors.junit import collect_junit
from tests.conftest import FIXTURES

OUTSIDE = FIXTURES / "outside" / "publish-unit-test-result-action"
EXPECTED = {
    k: v for k, v in json.loads((OUTSIDE / "EXPECTED.json").read_text()).items() if not k.startswith("_")
}
# Where healthdeck deliberately differs (docs/inputs.md):
DIFFERS = {
    # a testcase with <skipped>, <failure> and <error> together: the action reports an error, healthdeck
    # a failure (a call failure plus a teardown error is one failed test, as pytest counts it)
    "junit.multiresult.xml",
    # a root that is not JUnit (<suites>): the action reports nothing; healthdeck refuses the file (exit 3)
    "non-junit.xml",
}


@pytest.mark.parametrize("name", sorted(set(EXPECTED) - DIFFERS))
def test_same_figures_as_the_action(name: str) -> None:
    c = collect_junit([OUTSIDE / name]).counts
    ours = (c.total, c.passed, c.skipped + c.xfailed, c.failed, c.errors)
    want = EXPECTED[name]
    assert ours == (
        want["tests"],
        want["tests_succ"],
        want["tests_skip"],
        want["tests_fail"],
        want["tests_error"],
    )


def test_the_documented_differences() -> None:
    c = collect_junit([OUTSIDE / "junit.multiresult.xml"]).counts
    assert (c.failed, c.errors) == (2, 0) and EXPECTED["junit.multiresult.xml"]["tests_error"] == 1
    with pytest.raises(CollectorError, match="root element is <suites>"):
        collect_junit([OUTSIDE / "non-junit.xml"])


def test_suites_that_count_failures_no_testcase_carries_are_one_cause(tmp_path) -> None:
    """Each count-only suite is its own failing entry (named after it), and all of them are one cause:
    the message does not repeat the suite's name (50 000 broken packages were 50 000 causes)."""
    from healthdeck.reports.causes import group_causes

    suites = "".join(f'<testsuite name="pkg{i}" tests="{i + 1}" errors="{i + 1}"/>' for i in range(5))
    path = tmp_path / "junit.xml"
    path.write_text(f"<testsuites>{suites}</testsuites>")
    result = collect_junit([path])
    assert len(result.failing) == 5 and result.counts.errors == 15
    [cause] = group_causes(result.failing)
    assert cause.count == 5 and cause.signature.startswith(
        "its error count is <n> more than its testcases carry"
    )

"""Where JUnit writers really differ: small named rules, chosen from the content of each file.

Most of JUnit is common ground and is read the same way for every runner (collectors/junit.py). A
`Dialect` holds only what differs, and `detect` picks one from what the writer leaves in the file
(root and suite attributes, the shape of test names). docs/inputs.md lists, per runner, what its XML
cannot express (a Jest `todo` written as a pass, Mocha leaving pending tests out, retries without
a trace) and how healthdeck's figures relate to the runner's own summary.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

Attrs = Mapping[str, str]


def _occurrence(name: str, occurrence: int, attrs: Attrs) -> str:
    """Suites of the same name later in a file hold other tests (matrix variants, test binaries)."""
    return f"{name} #{occurrence + 1}" if occurrence else ""


def _project(name: str, occurrence: int, attrs: Attrs) -> str:
    """Playwright names the project (desktop, mobile, a browser) only in the suite's `hostname`."""
    return attrs.get("hostname") or _occurrence(name, occurrence, attrs)


def _binary(name: str, occurrence: int, attrs: Attrs) -> str:
    """libtest names every suite "test"; each document of the stream is one test binary."""
    return f"test binary {occurrence + 1}" if occurrence else ""


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str
    # attributes alone can change a childless testcase's outcome: status="notrun"/"disabled",
    # result="suppressed"/"skipped" (GoogleTest, CTest), flaky="true" (Flank); checking them costs
    # time on every testcase, so runners known not to write them skip it
    case_attributes: bool = False
    # an <error> written straight under a suite stands for all the errors the suite counts
    stray_error_covers_suite: bool = False
    # testcases carry a placeholder classname ("test"): the suite's name stands in (node's runner)
    suite_as_classname: bool = False
    # the part of a test's identity that tells same-named suites of one file apart
    suite_label: Callable[[str, int, Attrs], str] = _occurrence
    # pytest 9 subtests: the runner writes one <failure> (or <skipped>) per failed (skipped) subtest
    # into the test's one testcase and counts every subtest in the suite's tests/failures/skipped, so
    # several failures in one testcase are failed subtests and the totals exceed the testcases
    subtests: bool = False
    # unittest's XML writers (unittest-xml-reporting, nose2) write each failed subTest as a testcase of
    # its own, "test_x (n=1)" or "test_x [msg]", and none for the test: they are the test's failed subtests
    named_subtests: bool = False
    # expected failures and unexpected successes, as unittest's writers mark them on <skipped>
    unittest_outcomes: bool = False
    # Deno writes each step of a test (t.step) as a testcase of its own, "test > step" (nested steps
    # "test > outer > inner"), after the tests, and counts them in tests=/failures=; the test's own
    # testcase says only "1 test step failed": a step is part of its test, a failed one a failed subtest
    steps: str | None = None
    # Catch2 marks a [!shouldfail] or [!mayfail] test that failed with both <skipped> and <failure>:
    # "failed as expected"
    skipped_failure_expected: bool = False


GENERIC = Dialect("generic", case_attributes=True)
PYTEST = Dialect("pytest", subtests=True)
JEST = Dialect("jest-junit")
VITEST = Dialect("vitest")
PLAYWRIGHT = Dialect("playwright", suite_label=_project)
MOCHA = Dialect("mocha-junit-reporter")
NODE = Dialect("node-test", suite_as_classname=True)
SUREFIRE = Dialect("surefire")
GOTESTSUM = Dialect("gotestsum")
GOOGLETEST = Dialect("googletest", case_attributes=True)
CTEST = Dialect("ctest", case_attributes=True)
LIBTEST = Dialect("cargo-libtest", suite_label=_binary)
TAP = Dialect("tap-junit", stray_error_covers_suite=True)
UNITTEST = Dialect("unittest", named_subtests=True, unittest_outcomes=True)
BEHAVE = Dialect("behave")
DENO = Dialect("deno", steps=" > ")
CATCH2 = Dialect("catch2", skipped_failure_expected=True)
RUFF = Dialect("ruff")  # a lint report, not tests: its testcases are ignored

_PLAYWRIGHT_TITLE = " \u203a "  # Playwright joins describe titles and the test title with " › "
_TAP_NAME = re.compile(r"^\d+(?: - |$)")  # TAP::Formatter::JUnit: "<number> - <description>"
_XMLRUNNER_SUITE = re.compile(r"-\d{14}$")  # unittest-xml-reporting: "<module>.<Class>-YYYYMMDDhhmmss"
_CTEST_STATUS = frozenset(("run", "fail", "notrun", "disabled"))  # behave writes passed/failed/untested …
_SUREFIRE_XSD = "surefire"
_XSI_LOCATION = "xsi:noNamespaceSchemaLocation"  # Surefire points it at its own report schema


def detect(root: Attrs, root_tag: str, suite: Attrs | None, case: Attrs | None) -> Dialect:
    """The dialect of a file, from its root, its first testcase's suite and that testcase."""
    suite = suite or {}
    case = case or {}
    root_name = root.get("name") if root_tag == "testsuites" else None
    by_root = {
        "pytest tests": PYTEST,
        "jest tests": JEST,
        "vitest tests": VITEST,
        "Mocha Tests": MOCHA,
        "AllTests": GOOGLETEST,
        "deno test": DENO,
    }
    if root_name in by_root:
        return by_root[root_name]
    if suite.get("package") == "org.ruff":
        return RUFF
    if suite.get("name") == "pytest":
        return PYTEST
    if root_tag == "testsuite" and root.get("name") == "nose2-junit":
        return UNITTEST
    if _XMLRUNNER_SUITE.search(suite.get("name") or "") and "line" in case and "timestamp" in case:
        return UNITTEST
    if "status" in case and "result" in case:
        return GOOGLETEST
    # Catch2's JUnit reporter: classname "<executable>.global", status="run", a placeholder hostname
    if (
        case.get("status") == "run"
        and suite.get("hostname") == "tbd"
        and (case.get("classname") or "").endswith(".global")
    ):
        return CATCH2
    if "status" in case and root_tag == "testsuite":
        return CTEST if case["status"] in _CTEST_STATUS else BEHAVE
    if _SUREFIRE_XSD in (suite.get(_XSI_LOCATION) or root.get(_XSI_LOCATION) or ""):
        return SUREFIRE
    if _PLAYWRIGHT_TITLE in (case.get("name") or "") and "hostname" in suite:
        return PLAYWRIGHT
    if suite.get("name") == "test" and suite.get("package") == "test" and suite.get("id") == "0":
        return LIBTEST
    # node's runner: classname="test" on every testcase; a top-level test() sits straight under the root
    if case.get("classname") == "test" and ("disabled" in suite or (root_tag == "testsuites" and not suite)):
        return NODE
    if "classname" not in case and _TAP_NAME.match(case.get("name") or ""):
        return TAP
    return GENERIC


GO_VERSION = "go.version"  # the <property> gotestsum records
PROPERTIES_READ = frozenset(
    (GO_VERSION,)
)  # the <property> names `with_properties` reads; others are not kept


def with_properties(dialect: Dialect, properties: Mapping[str, str]) -> Dialect:
    """Refine a generic guess with a suite's <properties> (gotestsum records the Go version there)."""
    if dialect is GENERIC and GO_VERSION in properties:
        return GOTESTSUM
    return dialect

"""JUnit XML (pytest xunit1/xunit2, Surefire, Flank and friends) -> per-test outcomes.

A *test* is a distinct test id: (file when present, classname, name). Every `<testcase>` element is one
*attempt* (or one phase of an attempt: pytest writes a call failure and a teardown error of the same
test as two elements). Counting rules, chosen to match how pytest counts and documented in
docs/report-schema.md:

* pytest-rerunfailures writes failed attempts as *empty* `<testcase/>` elements followed by another
  element with the same id in the same file. So an empty element that is followed, in the same file,
  by another element of the same id is a failed attempt (a rerun), not a pass.
* A test whose last element passed after a failed attempt is *flaky*; it is counted in `passed`
  (as pytest does) and also in `flaky`. Surefire's `<flakyFailure>`/`<flakyError>` and Flank's
  `flaky="true"` say the same thing explicitly.
* Otherwise the test's outcome is the worst of its non-rerun elements: failed > error > passed >
  xfailed > skipped. A call failure plus a teardown error is one failed test.
* pytest subtests do not create test ids: a test with failing subtests is one failed test.
* pytest writes a non-strict XPASS as a plain pass (indistinguishable), a strict XPASS as a failure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .base import CollectorError, XmlTarget, first_line, parse_xml

SOURCE = "junit"

# Attempt outcomes, ordered by severity for the "worst element wins" rule.
SKIPPED, XFAILED, PASSED, ERROR, FAILED = range(5)
_NAMES = {SKIPPED: "skipped", XFAILED: "xfailed", PASSED: "passed", ERROR: "error", FAILED: "failed"}
# Bit set on an attempt when the producer itself marks the test as flaky (Surefire, Flank).
_FLAKY_MARK = 8

_SUBTEST_SUMMARY = re.compile(r"^contains \d+ failed subtests?$")
_RUFF_PACKAGE = "org.ruff"  # ruff --output-format junit marks its suites so


@dataclass(frozen=True, slots=True)
class FailingTest:
    test_id: str
    outcome: str  # "failed" or "error"
    message: str  # bounded, single-line excerpt
    file: str | None = None


@dataclass(frozen=True, slots=True)
class TimedTest:
    test_id: str
    seconds: float


@dataclass(slots=True)
class TestCounts:
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    xfailed: int = 0
    flaky: int = 0  # a subset of `passed`

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.errors + self.skipped + self.xfailed


@dataclass(slots=True)
class JUnitResult:
    """What one suite's JUnit files say, normalised per test id."""

    files: list[str]
    counts: TestCounts
    attempts: int  # <testcase> elements read
    failing: list[FailingTest]  # every failed/errored test (sorted by id); excerpts are bounded
    flaky: list[str]  # test ids, sorted
    slowest: list[TimedTest]  # longest first
    collection_errors: int
    failed_subtests: int
    time_seconds: float
    warnings: list[str] = field(default_factory=list)
    outcomes: dict[str, str] | None = None  # test id -> outcome, only with JUnitOptions(keep_outcomes=True)


@dataclass(frozen=True, slots=True)
class JUnitOptions:
    message_chars: int = 300
    slowest: int = 10
    keep_outcomes: bool = False  # every test's outcome (memory per test), for run-to-run comparisons


class _Tally:
    """Per-test state while streaming.

    Most tests have exactly one element, so they cost one dict entry holding a small int
    (outcome | flaky-mark | file index << 4). Only ids seen more than once are promoted to a list of
    attempts, and only non-passing tests keep their name and message.
    """

    def __init__(self, options: JUnitOptions) -> None:
        self.options = options
        self.single: dict[str, int] = {}
        self.multi: dict[str, list[int]] = {}
        self.details: dict[str, tuple[int, str, str | None]] = {}  # id -> (outcome, message, file)
        self.slow: dict[str, float] = {}  # at most options.slowest entries
        self.slow_floor = 0.0
        self.attempts = 0
        self.collection_errors = 0
        self.failed_subtests = 0
        self.time_seconds = 0.0
        self.ruff_cases = 0

    def add(self, key: str, code: int, file_index: int) -> None:
        self.attempts += 1
        packed = code | (file_index << 4)
        previous = self.single.get(key)
        if previous is None:
            history = self.multi.get(key)
            if history is None:
                self.single[key] = packed
                return
        else:
            history = self.multi[key] = [previous]
            del self.single[key]
        last = history[-1]
        # A pass immediately followed by the same id in the same file was a failed attempt (rerun).
        if last & 7 == PASSED and last >> 4 == file_index:
            history[-1] = -1
        history.append(packed)

    def time(self, key: str, seconds: float) -> None:
        """Keep the N slowest tests (one entry per test: its slowest attempt)."""
        self.time_seconds += seconds
        limit = self.options.slowest
        if not limit or (seconds <= self.slow_floor and len(self.slow) >= limit):
            return
        if seconds > self.slow.get(key, -1.0):
            self.slow[key] = seconds
        if len(self.slow) > limit:
            del self.slow[min(self.slow, key=self.slow.__getitem__)]
        if len(self.slow) >= limit:
            self.slow_floor = min(self.slow.values())

    def finish(self) -> tuple[TestCounts, list[str]]:
        counts = TestCounts()
        flaky: list[str] = []
        bump = {PASSED: "passed", FAILED: "failed", ERROR: "errors", SKIPPED: "skipped", XFAILED: "xfailed"}
        for packed in self.single.values():
            outcome = packed & 7
            setattr(counts, bump[outcome], getattr(counts, bump[outcome]) + 1)
            if outcome == PASSED and packed & _FLAKY_MARK:
                counts.flaky += 1
        for key, history in self.multi.items():
            outcome, is_flaky = _resolve(history)
            setattr(counts, bump[outcome], getattr(counts, bump[outcome]) + 1)
            if is_flaky:
                counts.flaky += 1
                flaky.append(key)
        flaky.extend(k for k, p in self.single.items() if p & 7 == PASSED and p & _FLAKY_MARK)
        return counts, flaky


def _resolve(history: list[int]) -> tuple[int, bool]:
    """Outcome of a test seen several times, and whether it is flaky (see module docstring)."""
    reruns = [p for p in history if p == -1]
    real = [p for p in history if p != -1]
    last = real[-1] & 7
    failed_before = bool(reruns) or any(p & 7 in (FAILED, ERROR) for p in real[:-1])
    if last == PASSED and (failed_before or real[-1] & _FLAKY_MARK):
        return PASSED, True
    return max(p & 7 for p in real), False


def display_id(key: str) -> str:
    """pytest-like display form of a test key: `classname::name` (file shown separately)."""
    _file, classname, name = key.split("\x1f")
    return f"{classname}::{name}" if classname else name


def collect_junit(paths: Sequence[str | Path], options: JUnitOptions | None = None) -> JUnitResult:
    """Read one suite's JUnit files (plain or gzip) and normalise them per test id."""
    if not paths:
        raise CollectorError(SOURCE, "<none>", "no JUnit files given")
    options = options or JUnitOptions()
    tally = _Tally(options)
    for index, path in enumerate(paths):
        _read_file(path, index, tally)
    counts, flaky_keys = tally.finish()
    failing = [
        FailingTest(display_id(key), _NAMES[outcome], message, file)
        for key, (outcome, message, file) in sorted(tally.details.items())
        if _final_outcome(tally, key) in (FAILED, ERROR)
    ]
    ranked = sorted(tally.slow.items(), key=lambda kv: (-kv[1], kv[0]))
    slowest = [TimedTest(display_id(k), round(t, 6)) for k, t in ranked]
    warnings = []
    if tally.attempts == 0:
        # Valid, and worth saying loudly: pass rate is unknown, not 100 % (pytest exits 5 here).
        warnings.append("no <testcase> elements: no test ran")
    if tally.ruff_cases:
        warnings.append(f"ignored {tally.ruff_cases} <testcase> elements from a ruff lint report (not tests)")
    return JUnitResult(
        files=[str(p) for p in paths],
        counts=counts,
        attempts=tally.attempts,
        failing=failing,
        flaky=sorted(display_id(k) for k in flaky_keys),
        slowest=slowest,
        collection_errors=tally.collection_errors,
        failed_subtests=tally.failed_subtests,
        time_seconds=round(tally.time_seconds, 6),
        warnings=warnings,
        outcomes=(
            {display_id(k): _NAMES[_final_outcome(tally, k)] for k in (*tally.single, *tally.multi)}
            if options.keep_outcomes
            else None
        ),
    )


def _final_outcome(tally: _Tally, key: str) -> int:
    packed = tally.single.get(key)
    if packed is not None:
        return packed & 7
    return _resolve(tally.multi[key])[0]


def _read_file(path: str | Path, file_index: int, tally: _Tally) -> None:
    parse_xml(SOURCE, path, _JUnitTarget(tally, file_index))


class _JUnitTarget(XmlTarget):
    """Streaming parser target: events in, per-test outcomes into the tally; no tree is built.

    `start` for <testcase> and its children is the hot path of the benchmark, so the common case
    (a pass with no children) does the least work.
    """

    roots = ("testsuites", "testsuite")

    def __init__(self, tally: _Tally, file_index: int) -> None:
        self.tally = tally
        self.file_index = file_index
        self.packed_file = file_index << 4
        self.message_chars = tally.options.message_chars
        self.ruff_suites: list[bool] = []
        self.key: str | None = None  # the <testcase> being read
        self.classname = ""
        self.file: str | None = None
        self.seconds = 0.0
        self.children: list[tuple[str, str | None, str | None]] = []  # (tag, message, type)
        self.flaky_attr = False
        self.text: list[str] | None = None  # text of a child without a message attribute

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        if self.depth == 0:
            self.check_root(tag)
        self.depth += 1
        if tag == "testcase":
            if self.ruff_suites and self.ruff_suites[-1]:
                # ruff --output-format junit: lint findings and its "No errors found" pass are not tests.
                self.tally.ruff_cases += 1
                return
            self.classname = attrib.get("classname") or ""
            self.file = attrib.get("file")
            # \x1f (unit separator) is not a legal XML 1.0 character, so keys never collide.
            self.key = f"{self.file or ''}\x1f{self.classname}\x1f{attrib.get('name') or ''}"
            try:
                self.seconds = float(attrib.get("time") or 0.0)
            except ValueError:
                self.seconds = 0.0
            self.flaky_attr = attrib.get("flaky") == "true"
        elif self.key is not None:
            if tag in _CHILD_TAGS:
                message = attrib.get("message")
                self.children.append((tag, message, attrib.get("type")))
                if not message and tag != "skipped":
                    self.text = []
        elif tag == "testsuite":
            self.ruff_suites.append(attrib.get("package") == _RUFF_PACKAGE)

    def data(self, text: str) -> None:
        if self.text is not None and sum(map(len, self.text)) < 4 * self.message_chars:
            self.text.append(text)

    def end(self, tag: str) -> None:
        self.depth -= 1
        if tag == "testcase":
            if self.key is not None:
                self._finish_case(self.key)
            self.key = None
        elif self.text is not None and tag in _CHILD_TAGS:
            child_tag, _, kind = self.children[-1]
            self.children[-1] = (child_tag, "".join(self.text), kind)
            self.text = None
        elif tag == "testsuite":
            self.ruff_suites.pop()

    def _finish_case(self, key: str) -> None:
        tally = self.tally
        if self.children or self.flaky_attr:
            code, message = _classify(self.children, self.flaky_attr, tally)
            self.children = []
            outcome = code & 7
            if outcome >= ERROR:
                if self.classname == "" and outcome == ERROR and message.startswith("collection failure"):
                    tally.collection_errors += 1
                previous = tally.details.get(key)
                # Keep the most severe message: the call failure rather than its teardown error.
                if previous is None or previous[0] < outcome:
                    tally.details[key] = (outcome, first_line(message, self.message_chars), self.file)
        else:
            code = PASSED
        if key in tally.single or key in tally.multi:
            tally.add(key, code, self.file_index)
        else:  # first sighting, the common case: inlined tally.add
            tally.attempts += 1
            tally.single[key] = code | self.packed_file
        tally.time(key, self.seconds)


_CHILD_TAGS = frozenset(
    ("failure", "error", "skipped", "flakyFailure", "flakyError", "rerunFailure", "rerunError")
)


def _classify(
    children: list[tuple[str, str | None, str | None]], flaky_attr: bool, tally: _Tally
) -> tuple[int, str]:
    """Outcome code (with the flaky mark) and the raw message of one <testcase>, from its children."""
    failures: list[str] = []
    subtest_summary = False
    error = skipped = None
    skipped_kind = SKIPPED
    flaky_mark = _FLAKY_MARK if flaky_attr else 0
    for tag, message, kind in children:
        text = message or ""
        if tag == "failure":
            if _SUBTEST_SUMMARY.match(text.strip()):
                subtest_summary = True
            else:
                failures.append(text)
        elif tag == "error" and error is None:
            error = text
        elif tag == "skipped" and skipped is None:
            skipped = text
            skipped_kind = XFAILED if kind == "pytest.xfail" else SKIPPED
        elif tag in ("flakyFailure", "flakyError"):
            flaky_mark = _FLAKY_MARK
    if subtest_summary:
        # pytest subtests: one <failure> per failed subtest plus a "contains N failed subtests" line.
        tally.failed_subtests += len(failures)
    if failures or subtest_summary:
        return FAILED | flaky_mark, failures[0] if failures else "failed subtests"
    if error is not None:
        return ERROR | flaky_mark, error
    if skipped is not None:
        return skipped_kind | flaky_mark, skipped
    return PASSED | flaky_mark, ""

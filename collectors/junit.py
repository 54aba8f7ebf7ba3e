"""JUnit XML from any runner (pytest, Jest, Vitest, Playwright, Mocha, node, Surefire, gotestsum,
GoogleTest, CTest, cargo, TAP) -> per-test outcomes.

A *test* is what the runner reports as one test: a distinct test id (file when present, the suite's
label when same-named suites share a file, classname, name). Every `<testcase>` element is one
*attempt* (or one phase of an attempt: pytest writes a call failure and a teardown error of the same
test as two elements). Counting rules, documented in docs/inputs.md:

* Reruns: an empty `<testcase/>` followed, in the same file, by another element of the same id was a
  failed attempt (pytest-rerunfailures writes them so). A test whose last element passed after a
  failed attempt is *flaky*; it is counted in `passed` and also in `flaky`. Surefire's
  `<flakyFailure>`/`<flakyError>` and Flank's `flaky="true"` say the same thing explicitly.
* Otherwise the test's outcome is the worst of its non-rerun elements: failed > error > passed >
  xfailed > skipped. A call failure plus a teardown error is one failed test.
* Identity: the same name in two suites of one file is two tests (Playwright projects, matrix
  variants, test binaries); the same id in two files is one test (shards, a rerun file).
  A testcase with neither name nor classname is a test of its own.
* Attributes that say a test did not run (`status="notrun"`/`"disabled"`, `result="suppressed"`)
  make it skipped, never passed.
* Never hide a failure: `errors`/`failures` that a suite or the root counts but no element accounts
  for, and `<error>`/`<failure>` written outside any testcase (a Go package that did not build, a
  TAP script that died), become failing entries of their own. A suite that lists no testcases is read
  from its counts; tests a suite counts as skipped but does not list (Mocha's pending tests, cargo's
  ignored tests) are counted as skipped.
* pytest subtests do not create test ids: a test with failing subtests is one failed test.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from . import junit_dialects as dialects
from .base import CollectorError, XmlRefused, first_line, iter_xml
from .traces import NO_TRACE, TraceFacts, read_trace

SOURCE = "junit"

# Attempt outcomes, ordered by severity for the "worst element wins" rule.
SKIPPED, XFAILED, PASSED, ERROR, FAILED = range(5)
_NAMES = {SKIPPED: "skipped", XFAILED: "xfailed", PASSED: "passed", ERROR: "error", FAILED: "failed"}
_BUMP = {PASSED: "passed", FAILED: "failed", ERROR: "errors", SKIPPED: "skipped", XFAILED: "xfailed"}
# Bit set on an attempt when the producer itself marks the test as flaky (Surefire, Flank).
_FLAKY_MARK = 8

_SUBTEST_SUMMARY = re.compile(r"^contains \d+ failed subtests?$")
_CONTAINERS = ("testsuites", "testsuite")
_TAGS = ("testsuites", "testsuite", "testcase", "error", "failure")
_NOT_RUN_STATUS = frozenset(("notrun", "disabled"))
_NOT_RUN_RESULT = frozenset(("suppressed", "skipped"))
_UNNAMED = "\x1e"  # marks the name part of a testcase that had neither name nor classname
_MAX_SECONDS = 1e9  # a testcase time beyond ~30 years is as meaningless as NaN


@dataclass(frozen=True, slots=True)
class FailingTest:
    test_id: str
    outcome: str  # "failed" or "error"
    message: str  # bounded, single-line excerpt
    file: str | None = None
    # What tells causes apart when the message does not (see collectors/traces.py); each bounded.
    exception_type: str | None = None  # the element's `type` attribute, else pytest's closing line
    exception: str | None = None  # the exception line the failure body ends with
    last_frame: str | None = None  # the innermost frame of the failure body


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
class FileReading:
    """How one file was read: the dialect, its own totals next to what was counted, and why they differ."""

    file: str
    dialect: str
    declared: dict[str, int] | None  # the root's (or top-level suites') tests/failures/errors/skipped
    counted: dict[str, int]  # <testcase> elements, failure and error elements, skipped testcases
    notes: list[str] = field(default_factory=list)  # each disagreement and how it was resolved


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
    readings: list[FileReading] = field(default_factory=list)
    durations: dict[str, float] | None = (
        None  # test id -> seconds, only with JUnitOptions(durations_above=...)
    )


@dataclass(frozen=True, slots=True)
class JUnitOptions:
    message_chars: int = 300
    slowest: int = 10
    keep_outcomes: bool = False  # every test's outcome (memory per test), for run-to-run comparisons
    durations_above: float | None = None  # keep every test at least this slow (its slowest attempt)


class _Tally:
    """Per-test state while streaming, shared by all files of a suite.

    Most tests have exactly one element, so they cost one dict entry holding a small int
    (outcome | flaky-mark | file index << 4). Only ids seen more than once are promoted to a list of
    attempts, and only non-passing tests keep their name and message. Tests known only from a
    suite's counts are added to `extra` and, when failing, to `synthetic`.
    """

    def __init__(self, options: JUnitOptions) -> None:
        self.options = options
        self.single: dict[str, int] = {}
        self.multi: dict[str, list[int]] = {}
        # id -> (outcome, message, file, exception type, trace facts)
        self.details: dict[str, tuple[int, str, str | None, str | None, TraceFacts]] = {}
        self.slow: dict[str, float] = {}  # at most options.slowest entries
        self.slow_floor = -1.0  # every time beats it until `slowest` tests are kept
        self.durations: dict[str, float] = {}
        self.durations_above = math.inf if options.durations_above is None else options.durations_above
        self.attempts = 0
        self.collection_errors = 0
        self.failed_subtests = 0
        self.time_seconds = 0.0
        self.bad_times = 0
        self.ruff_cases = 0
        self.extra = TestCounts()
        self.synthetic: list[FailingTest] = []

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
        tallies = dict.fromkeys(range(5), 0)
        for packed in self.single.values():
            tallies[packed & 7] += 1
        flaky = [k for k, p in self.single.items() if p & 15 == PASSED | _FLAKY_MARK]
        for key, history in self.multi.items():
            outcome, is_flaky = _resolve(history)
            tallies[outcome] += 1
            if is_flaky:
                flaky.append(key)
        counts = TestCounts(flaky=len(flaky))
        for outcome, n in tallies.items():
            name = _BUMP[outcome]
            setattr(counts, name, n + getattr(self.extra, name))
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
    """pytest-like display form of a test key: `classname::name`, the suite label in brackets."""
    _file, suite, classname, name = key.split("\x1f")
    label = suite.partition("\x1e")[2]
    if name.startswith(_UNNAMED):
        name = f"(testcase without a name #{name[1:]})"
    shown = f"{classname}::{name}" if classname else name
    return f"{shown} [{label}]" if label else shown


def collect_junit(paths: Sequence[str | Path], options: JUnitOptions | None = None) -> JUnitResult:
    """Read one suite's JUnit files (plain or gzip) and normalise them per test id."""
    if not paths:
        raise CollectorError(SOURCE, "<none>", "no JUnit files given")
    options = options or JUnitOptions()
    tally = _Tally(options)
    readings = [_FileReader(tally, index, path).read() for index, path in enumerate(paths)]
    counts, flaky_keys = tally.finish()
    failing = [
        FailingTest(display_id(key), _NAMES[outcome], message, file, kind or trace.exception_type,
                    trace.exception, trace.last_frame)
        for key, (outcome, message, file, kind, trace) in tally.details.items()
        if _final_outcome(tally, key) in (FAILED, ERROR)
    ]  # fmt: skip
    failing = sorted([*failing, *tally.synthetic], key=lambda f: f.test_id)
    ranked = sorted(tally.slow.items(), key=lambda kv: (-kv[1], kv[0]))
    slowest = [TimedTest(display_id(k), round(t, 6)) for k, t in ranked]
    warnings = []
    if tally.attempts == 0 and not counts.total:
        # Valid, and worth saying loudly: pass rate is unknown, not 100 % (pytest exits 5 here).
        warnings.append("no <testcase> elements: no test ran")
    if tally.ruff_cases:
        warnings.append(f"ignored {tally.ruff_cases} <testcase> elements from a ruff lint report (not tests)")
    if tally.bad_times:
        warnings.append(
            f"{tally.bad_times} <testcase> elements had a time that is not a finite, non-negative "
            "number; their time is treated as missing"
        )
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
        readings=readings,
        durations=(
            {display_id(k): round(t, 6) for k, t in tally.durations.items()}
            if options.durations_above is not None
            else None
        ),
    )


def _final_outcome(tally: _Tally, key: str) -> int:
    packed = tally.single.get(key)
    if packed is not None:
        return packed & 7
    return _resolve(tally.multi[key])[0]


# Counters kept per file and compared with what suites declare: <failure> and <error> elements,
# skipped testcases (testcase elements are the tally's attempts); entries made from counts apart.
_CASES, _FAILURES, _ERRORS, _SKIPS = range(4)
_DECLARED = ("tests", "failures", "errors", "skipped")
_ROOT_PREFIX = "\x1f\x1e\x1f"
_RERUN_TAGS = frozenset(("flakyFailure", "flakyError", "rerunFailure", "rerunError"))
_KEEP_UNTRIMMED = 1000  # children kept before the dialect is known (its <properties> are read then)


@dataclass(slots=True)
class _Frame:
    """An open <testsuite>/<testsuites>: the counters when it opened, its label, its stray errors."""

    elem: etree._Element
    start: tuple[int, ...]
    prefix: str  # the suite part of its testcases' keys: "\x1f" name "\x1e" label "\x1f"
    name: str = ""
    stray_errors: int = 0


class _FileReader:
    """Reads one file (all its XML documents) into the shared tally."""

    def __init__(self, tally: _Tally, file_index: int, path: str | Path) -> None:
        self.tally = tally
        self.file_index = file_index
        self.packed_file = file_index << 4
        self.path = path
        self.message_chars = tally.options.message_chars
        self.dialect: dialects.Dialect | None = None
        self.frames: list[_Frame] = []
        self.prefix = _ROOT_PREFIX  # of the innermost open suite
        self.attempts0 = tally.attempts
        self.elements = [0, 0, 0, 0]  # [unused, failures, errors, skipped testcases] seen as elements
        self.synthetic = [0, 0, 0, 0]  # cases, failures, errors, skips made from declared counts
        self.occurrences: dict[str, int] = {}
        self.unnamed = 0
        self.read_file_attr = False  # xunit1 / GoogleTest write file="..." on testcases
        self.notes: list[str] = []
        self.declared: dict[str, int] | None = None
        self.top_declared: dict[str, int] | None = None

    # -- driving -------------------------------------------------------------------------------

    def read(self) -> FileReading:
        try:
            for events in iter_xml(SOURCE, self.path, _CONTAINERS, _TAGS):
                self._consume(events)
                self._trim()
        except XmlRefused as exc:
            raise CollectorError(SOURCE, self.path, str(exc)) from exc
        cases = self.tally.attempts - self.attempts0
        counted = {
            "testcases": cases,
            "failures": self.elements[_FAILURES],
            "errors": self.elements[_ERRORS],
            "skipped": self.elements[_SKIPS],
        }
        declared = self.declared if self.declared is not None else self.top_declared
        if declared and declared.get("tests") is not None and declared["tests"] != cases:
            self.notes.insert(
                0,
                f"the file says {declared['tests']} tests and holds {cases} testcase elements; "
                "healthdeck counts one test per distinct test id (reruns and subtests are not extra "
                "tests; counts without a testcase are entries of their own)",
            )
        dialect = (self.dialect or dialects.GENERIC).name
        return FileReading(str(self.path), dialect, declared, counted, self.notes)

    def _consume(self, events: Iterable[tuple[str, etree._Element]]) -> None:
        for event, elem in events:
            tag = elem.tag
            if event == "end":
                if tag == "testcase":
                    self._testcase(elem)
                elif tag in _CONTAINERS:
                    self._close(elem)
                else:
                    self._maybe_stray(elem)
            elif tag in _CONTAINERS:
                self._open(elem)

    def _trim(self) -> None:
        """Free what has been read: every finished child of the open suites (the last may be open)."""
        keep = 1 if self.dialect is not None else _KEEP_UNTRIMMED
        for frame in self.frames:
            elem = frame.elem
            if len(elem) > keep:
                del elem[: len(elem) - 1]

    def _snapshot(self) -> tuple[int, ...]:
        e, s = self.elements, self.synthetic
        cases = self.tally.attempts - self.attempts0 + s[_CASES]
        return (cases, e[_FAILURES] + s[_FAILURES], e[_ERRORS] + s[_ERRORS], e[_SKIPS] + s[_SKIPS])

    # -- suites --------------------------------------------------------------------------------

    def _open(self, elem: etree._Element) -> None:
        parent = self.frames[-1] if self.frames else None
        name = parent.name if parent else ""
        if elem.tag == "testsuite":
            name = elem.get("name") or ""
            seen = self.occurrences.get(name, 0)
            self.occurrences[name] = seen + 1
            label = (self.dialect or dialects.GENERIC).suite_label(name, seen, elem.attrib)
            if not label and parent:
                label = parent.prefix.rstrip("\x1f").partition("\x1e")[2]
            self.prefix = f"\x1f{name}\x1e{label}\x1f"
        self.frames.append(_Frame(elem, self._snapshot(), self.prefix, name=name))

    def _close(self, elem: etree._Element) -> None:
        frame = self.frames.pop()
        self.prefix = self.frames[-1].prefix if self.frames else _ROOT_PREFIX
        declared = _declared(elem)
        if self.dialect is None and not self.frames:  # a document without any testcase
            self.dialect = dialects.detect(elem.attrib, elem.tag, None, None)
        if declared and self.dialect is not dialects.RUFF:
            self._reconcile(frame, declared)
            if not self.frames:  # the root of a document
                self.declared = _add(self.declared, declared)
            elif len(self.frames) == 1 and self.frames[0].elem.tag == "testsuites":
                self.top_declared = _add(self.top_declared, declared)
        elem.clear()

    def _reconcile(self, frame: _Frame, declared: dict[str, int]) -> None:
        """Make a suite's own counts and its elements agree without ever hiding a failure."""
        counted = [now - then for now, then in zip(self._snapshot(), frame.start, strict=True)]
        where = _where(frame)
        tally = self.tally
        failures = declared.get("failures", 0) - counted[_FAILURES]
        errors = declared.get("errors", 0) - counted[_ERRORS]
        if frame.stray_errors and (self.dialect or dialects.GENERIC).stray_error_covers_suite:
            errors = 0
        for missing, slot, outcome, noun in (
            (failures, _FAILURES, "failed", "failure"),
            (errors, _ERRORS, "error", "error"),
        ):
            if missing <= 0:
                continue
            plural = "s" if missing > 1 else ""
            message = (
                f"{where} counts {missing} {noun}{plural} that no testcase carries "
                "(for example a package that did not build, or a script that died)"
            )
            tally.synthetic.append(FailingTest(f"{where} (no testcase)", outcome, message, str(self.path)))
            setattr(
                tally.extra,
                "failed" if outcome == "failed" else "errors",
                getattr(tally.extra, "failed" if outcome == "failed" else "errors") + missing,
            )
            self.synthetic[slot] += missing
            self.synthetic[_CASES] += missing
            self.notes.append(f"{where}: {missing} {noun}{plural} without a testcase, reported as failing")
        tests = declared.get("tests")
        skipped = declared.get("skipped", 0) - counted[_SKIPS]
        if tests is None:
            return
        if counted[_CASES] == 0:  # a suite that reports only counts
            skipped = max(skipped, 0)
            passed = max(tests - max(failures, 0) - max(errors, 0) - skipped, 0)
            tally.extra.passed += passed
            tally.extra.skipped += skipped
            self.synthetic[_CASES] += passed + skipped
            self.synthetic[_SKIPS] += skipped
            if tests:
                self.notes.append(f"{where} lists no testcases: read from its counts ({tests} tests)")
        elif skipped > 0 and tests > counted[_CASES]:
            unlisted = min(skipped, tests - counted[_CASES])
            tally.extra.skipped += unlisted
            self.synthetic[_CASES] += unlisted
            self.synthetic[_SKIPS] += unlisted
            self.notes.append(
                f"{where} counts {unlisted} skipped tests it does not list as testcases; counted as skipped"
            )

    def _maybe_stray(self, elem: etree._Element) -> None:
        """An <error>/<failure> straight under a suite or the root: a failure outside any test."""
        parent = elem.getparent()
        if parent is None or parent.tag not in _CONTAINERS or not self.frames:
            return
        frame = self.frames[-1]
        failed = elem.tag == "failure"
        message = first_line(_message(elem), self.message_chars) or f"<{elem.tag}> without a message"
        where = _where(frame)
        self.tally.synthetic.append(
            FailingTest(f"{where} (no testcase)", "failed" if failed else "error", message, str(self.path))
        )
        if failed:
            self.tally.extra.failed += 1
        else:
            self.tally.extra.errors += 1
            frame.stray_errors += 1
        self.elements[_FAILURES if failed else _ERRORS] += 1
        self.synthetic[_CASES] += 1
        self.notes.append(f"{where}: an {elem.tag} element outside any testcase, reported as failing")

    # -- testcases (the hot path) --------------------------------------------------------------

    def _detect(self, elem: etree._Element) -> dialects.Dialect:
        suite = elem.getparent()
        root = self.frames[0].elem
        properties = {
            p.get("name") or "": p.get("value") or "" for p in suite.iterfind("properties/property")
        }
        dialect = dialects.detect(root.attrib, root.tag, suite.attrib, elem.attrib)
        dialect = dialects.with_properties(dialect, properties)
        self.read_file_attr = elem.get("file") is not None
        self.dialect = dialect
        # suites opened before the dialect was known take its labels now
        for frame in self.frames:
            if frame.elem.tag == "testsuite":
                name = frame.elem.get("name") or ""
                label = dialect.suite_label(name, self.occurrences.get(name, 1) - 1, frame.elem.attrib)
                if label:
                    frame.prefix = f"\x1f{name}\x1e{label}\x1f"
        self.prefix = self.frames[-1].prefix
        return dialect

    def _testcase(self, elem: etree._Element) -> None:
        dialect = self.dialect or self._detect(elem)
        tally = self.tally
        if dialect is dialects.RUFF:
            tally.ruff_cases += 1
            return
        get = elem.get
        classname = get("classname") or ""
        name = get("name") or ""
        if not name and not classname:
            self.unnamed += 1
            name = f"{_UNNAMED}{self.unnamed}"
        if dialect.suite_as_classname and classname == "test":
            classname = self.frames[-1].name
        file = get("file") if self.read_file_attr else None
        # \x1f (unit separator) is not a legal XML 1.0 character, so keys never collide.
        key = f"{file or ''}{self.prefix}{classname}\x1f{name}"
        if len(elem) or (dialect.case_attributes and _telling(elem)):
            code = self._classify(elem, key, classname, file, dialect)
        else:
            code = PASSED
        if key in tally.single or (tally.multi and key in tally.multi):
            tally.add(key, code, self.file_index)
        else:  # first sighting, the common case: inlined tally.add
            tally.attempts += 1
            tally.single[key] = code | self.packed_file
        seconds = get("time")
        if seconds:
            try:
                value = float(seconds)
            except ValueError:
                value = -1.0
            if 0.0 <= value < _MAX_SECONDS:  # false for NaN too
                tally.time_seconds += value
                if value > tally.slow_floor:
                    tally.time(key, value)
                if value >= tally.durations_above and value > tally.durations.get(key, -1.0):
                    tally.durations[key] = value
            else:
                tally.bad_times += 1

    def _classify(
        self, elem: etree._Element, key: str, classname: str, file: str | None, dialect: dialects.Dialect
    ) -> int:
        """Outcome code (with the flaky mark) of a testcase that has children or telling attributes."""
        tally = self.tally
        failures: list[str] = []
        subtest_summary = False
        error = skipped = None
        first_failure = error_child = None  # the elements whose body tells the cause
        skipped_kind = SKIPPED
        flaky_mark = _FLAKY_MARK if elem.get("flaky") == "true" else 0
        for child in elem:
            tag = child.tag
            if tag == "failure":
                self.elements[_FAILURES] += 1
                text = _message(child)
                if _SUBTEST_SUMMARY.match(text.strip()):
                    subtest_summary = True
                else:
                    failures.append(text)
                    first_failure = first_failure if first_failure is not None else child
            elif tag == "error":
                self.elements[_ERRORS] += 1
                if error is None:
                    error = _message(child)
                    error_child = child
            elif tag == "skipped":
                if skipped is None:
                    skipped = child.get("message") or ""
                    skipped_kind = XFAILED if child.get("type") == "pytest.xfail" else SKIPPED
            elif tag in _RERUN_TAGS:
                # Surefire's attempts before the last: they count in the suite's totals
                self.elements[_FAILURES if tag.endswith("Failure") else _ERRORS] += 1
                if tag.startswith("flaky"):
                    flaky_mark = _FLAKY_MARK
        if subtest_summary:
            # pytest subtests: one <failure> per failed subtest plus a "contains N failed subtests" line.
            tally.failed_subtests += len(failures)
        if failures or subtest_summary:
            code, message = FAILED, failures[0] if failures else "failed subtests"
        elif error is not None:
            code, message = ERROR, error
        elif dialect is dialects.CTEST and (skipped or "").startswith("Unable to find executable"):
            # CTest counts a test whose executable is missing as failed ("Not Run"), whatever the XML says
            code, message = ERROR, skipped or ""
        elif skipped is not None:
            code, message = skipped_kind, skipped
        elif dialect.case_attributes and _not_run(elem):
            code, message = SKIPPED, ""
        else:
            code, message = PASSED, ""
        if code <= XFAILED:
            self.elements[_SKIPS] += 1
        if code >= ERROR:
            if classname == "" and code == ERROR and message.startswith("collection failure"):
                tally.collection_errors += 1
            previous = tally.details.get(key)
            # Keep the most severe message: the call failure rather than its teardown error.
            if previous is None or previous[0] < code:
                told = first_failure if code == FAILED else error_child
                kind = told.get("type") if told is not None else None
                trace = read_trace(told.text, self.message_chars) if told is not None else NO_TRACE
                tally.details[key] = (
                    code,
                    first_line(message, self.message_chars),
                    file,
                    kind or None,
                    trace,
                )
        return code | flaky_mark


def _telling(elem: etree._Element) -> bool:
    """Attributes that change a childless testcase's outcome (Flank's flaky, not-run markers)."""
    return elem.get("flaky") == "true" or _not_run(elem)


def _not_run(elem: etree._Element) -> bool:
    return elem.get("status") in _NOT_RUN_STATUS or elem.get("result") in _NOT_RUN_RESULT


def _message(child: etree._Element) -> str:
    """A failure's message attribute, or the start of its text (bounded: texts can be huge)."""
    message = child.get("message")
    if message:
        return message
    return (child.text or "")[:4096]


def _where(frame: _Frame) -> str:
    """How a suite or the root is named in entries and notes."""
    elem = frame.elem
    name = elem.get("name")
    label = frame.prefix.strip("\x1f").partition("\x1e")[2]
    if elem.tag == "testsuites":
        return f"the file's <testsuites> {name}".rstrip() if name else "the file's <testsuites>"
    shown = f"suite {name}" if name else "an unnamed <testsuite>"
    return f"{shown} [{label}]" if label and label != name else shown


def _declared(elem: etree._Element) -> dict[str, int]:
    """The counts a suite or the root states about itself (absent or unreadable ones left out)."""
    out: dict[str, int] = {}
    for name in _DECLARED:
        value = elem.get(name)
        if value is not None:
            try:
                number = int(value)
            except ValueError:
                continue
            if number >= 0:
                out[name] = number
    disabled = elem.get("disabled")
    if disabled and disabled.isdigit() and int(disabled):
        out["skipped"] = out.get("skipped", 0) + int(disabled)  # GoogleTest and CTest count them apart
    return out


def _add(a: dict[str, int] | None, b: dict[str, int]) -> dict[str, int]:
    if a is None:
        return dict(b)
    return {k: a.get(k, 0) + b.get(k, 0) for k in {*a, *b}}

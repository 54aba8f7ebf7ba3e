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
* pytest subtests do not create test ids: a test with failing subtests is one failed test, whose
  message is its first subtest's; its failed subtests are counted apart (`failed_subtests`). pytest
  writes one `<failure>` per failed subtest into the test's testcase (and, for the `subtests`
  fixture, a closing "contains N failed subtests" one), and counts every subtest in `tests=`,
  `failures=` and `skipped=`.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from heapq import merge
from itertools import compress, islice
from operator import eq
from pathlib import Path
from typing import TypeVar
from xml.parsers import expat

from . import junit_dialects as dialects
from .base import CollectorError, current_limits, first_line, xml_pieces, xml_syntax_error
from .checks import Invalid, count
from .files import rereadable
from .junit_runs import (
    END_TAGS,
    END_TAGS_BUT_TESTCASE,
    RunShape,
    Unit,
    cut,
    plain_end,
    read_run,
    rewrite,
    run_end,
    run_shape,
    stretch,
)
from .traces import KEEP_CHARS, NO_TRACE, PLACEHOLDERS, TraceFacts, body_message, read_trace

SOURCE = "junit"

# Attempt outcomes, ordered by severity for the "worst element wins" rule.
SKIPPED, XFAILED, PASSED, ERROR, FAILED = range(5)
_NAMES = {SKIPPED: "skipped", XFAILED: "xfailed", PASSED: "passed", ERROR: "error", FAILED: "failed"}
_BUMP = {PASSED: "passed", FAILED: "failed", ERROR: "errors", SKIPPED: "skipped", XFAILED: "xfailed"}
# Bit set on an attempt when the producer itself marks the test as flaky (Surefire, Flank).
_FLAKY_MARK = 8

_TRACEBACK = "Traceback (most recent call last):"
_TAP_EXIT = re.compile(r"^Dubious, test returned (\d+)\b")
_SUBTEST_SUMMARY = re.compile(r"^contains \d+ failed subtests?$")
_STEPS_FAILED = re.compile(r"^\d+ test steps? failed\.?$")  # Deno's message on a test whose steps failed
# unittest's id of a subTest: the test method, then "[msg]", "(k=v, …)" or both, or "(<subtest>)"
# (unittest.case._SubTest); not "setUpClass (module.Class)", a fixture's error (no "=")
_UNITTEST_SUBTEST = re.compile(
    r"^(?P<test>[A-Za-z_]\w*) (?:\[.*\](?: \(.*=.*\))?|\(.*=.*\)|\(<subtest>\))$", re.S
)
# what unittest's writers put on <skipped> for its two outcomes that are not skips
_UNITTEST_SKIPPED = {"expected test failure": XFAILED, "test passes unexpectedly": PASSED}
# pytest's line for `assert obj.check(x)`, `assert isinstance(y, T)`: says only that something was false.
_BARE_ASSERT = re.compile(r"(?:AssertionError: )?assert (?:not )?(?:False|True|None|0|1)")
# its next line names what was false: "+  where False = validate((b'…' + b'x'))" -> "validate"
_WHERE = re.compile(r"^\s*\+\s+where (?P<value>\S+) = (?P<what>[A-Za-z_][\w.]*)(?P<call>\()?", re.M)
_CONTAINERS = ("testsuites", "testsuite")
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
    failed_subtests: int = 0  # pytest subtests of this test that failed (`message` is the first's)


class FailingTests(Sequence[FailingTest]):
    """Every failed or errored test of a suite, sorted by id, held column by column: each FailingTest is
    made when asked for. A million failing tests cost their ids and messages, not a million objects on
    top of them (some 110 MB); the rest of a failure (outcome, file, trace facts, failed subtests) is
    shared between the failures that have the same."""

    __slots__ = ("_ids", "_messages", "_rest")

    def __init__(self, failing: Iterable[FailingTest] = ()) -> None:
        self._ids: list[str] = []
        self._messages: list[str] = []
        self._rest: list[tuple[str, str | None, str | None, str | None, str | None, int]] = []
        self._extend(failing, {})

    def _extend(self, failing: Iterable[FailingTest], shared: dict) -> None:
        for f in failing:
            self._append(f.test_id, f.message, (f.outcome, f.file, f.exception_type, f.exception,
                                                f.last_frame, f.failed_subtests), shared)  # fmt: skip

    def _append(self, test_id: str, message: str, rest: tuple, shared: dict) -> None:
        self._ids.append(test_id)
        self._messages.append(message)
        self._rest.append(_one_of(shared, rest))

    def _merge(self, extra: Iterable[FailingTest], shared: dict) -> None:
        """Add `extra`, sorted by id, each after the entries of its id (as a stable sort would)."""
        ids, messages, rest = self._ids, self._messages, self._rest
        self._ids, self._messages, self._rest = [], [], []
        done = 0
        for f in extra:
            end = bisect_right(ids, f.test_id, done)
            self._ids += ids[done:end]
            self._messages += messages[done:end]
            self._rest += rest[done:end]
            self._extend([f], shared)
            done = end
        self._ids += ids[done:]
        self._messages += messages[done:]
        self._rest += rest[done:]

    def _reverse(self) -> None:
        for column in (self._ids, self._messages, self._rest):
            column.reverse()

    @property
    def test_ids(self) -> Sequence[str]:
        """The ids, in order, without a FailingTest made for each (the column itself: not to be changed)."""
        return self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def __getitem__(self, index: int) -> FailingTest:  # type: ignore[override]  # no slices: nothing cuts it
        outcome, file, kind, exception, last_frame, subtests = self._rest[index]
        return FailingTest(self._ids[index], outcome, self._messages[index], file, kind, exception, last_frame,
                           subtests)  # fmt: skip

    def __iter__(self) -> Iterator[FailingTest]:
        for index in range(len(self._ids)):
            yield self[index]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and all(map(eq, self, other))

    def __repr__(self) -> str:
        return f"FailingTests({list(self)!r})"


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
    failing: FailingTests  # every failed/errored test (sorted by id); excerpts are bounded
    flaky: list[str]  # test ids, sorted
    slowest: list[TimedTest]  # longest first
    collection_errors: int
    failed_subtests: int
    time_seconds: float
    warnings: list[str] = field(default_factory=list)
    outcomes: Outcomes | None = None  # test id -> outcome, only with JUnitOptions(keep_outcomes=True)
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


# What is kept of a failing test's most severe element: outcome, message excerpt, file, exception type,
# trace facts, failed subtests
Detail = tuple[int, str, str | None, str | None, TraceFacts, int]
_PLAIN = (None, None, NO_TRACE, 0)  # a Detail's file, type, trace facts and subtests when it has none
_SHARED_CACHE = 100_000  # the distinct messages and trace facts (and the rest of failures) shared at a time
T = TypeVar("T")


class _Tally:
    """Per-test state while streaming, shared by all files of a suite.

    Every test id costs one set entry (in the reader's `here` while its file is read, then in `seen`);
    most tests have exactly one element and it passes, which is all they cost. A test with one
    element that was skipped (or passed, marked flaky) also has a dict entry holding a small int (outcome
    | flaky-mark | file index << 4). A test whose one element failed costs its entry in `details` alone
    (its failure says its outcome): it is in no set until another element of it comes (a million such
    tests took some 120 MB more in `seen` and `single`). Only ids seen more than once are promoted to
    a list of attempts, and only non-passing tests keep their name and message. Tests known only from a
    suite's counts are added to `extra` and, when failing, to `synthetic`.
    """

    def __init__(self, options: JUnitOptions) -> None:
        self.options = options
        self.seen: set[str] = set()  # every id of the files already read, but those of `alone` tests
        self.single: dict[str, int] = {}  # one attempt that neither simply passed nor failed
        self.multi: dict[str, list[int]] = {}  # several attempts
        # id -> its most severe failure (see _kept), for every test with a failed attempt
        self.details: dict[str, str | Detail] = {}
        self.alone = [0] * 5  # tests whose one attempt failed (in `details` only), by outcome
        # one object for the failures that say alike (a broken fixture fails a million tests alike)
        self.shared: dict[object, object] = {}
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

    def add(self, key: str, code: int, file_index: int, here: set[str]) -> None:
        """One attempt, in document order, of a test that may have been seen before; `here` holds the
        ids of the file being read so far (the reader counts attempts)."""
        packed = code | (file_index << 4)
        history = self.multi.get(key)
        if history is None:
            previous = self.single.pop(key, None)
            if previous is None:
                kept = self.details.get(key)
                if kept is not None:  # one failed attempt, held in `details` alone: now in `here` too
                    previous = _detail(kept)[0] | (file_index << 4)
                    self.alone[previous & 7] -= 1
                elif key in here:  # one plain pass, earlier in this file
                    previous = PASSED | (file_index << 4)
                elif key in self.seen:  # one plain pass in an earlier file: not a rerun of this one
                    previous = PASSED | ((file_index - 1) << 4)
                else:
                    here.add(key)
                    if code != PASSED:
                        self.single[key] = packed
                    return
            here.add(key)
            history = self.multi[key] = [previous]
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
        # C-speed tallies: a million single-attempt tests are counted without a Python-level loop
        by_packed = Counter(self.single.values())  # a handful of distinct values: outcome | mark | file
        tallies: Counter[int] = Counter({PASSED: len(self.seen) - len(self.single) - len(self.multi)})
        tallies.update(dict(enumerate(self.alone)))
        marked = False
        for packed, n in by_packed.items():
            tallies[packed & 7] += n
            marked = marked or packed & 15 == PASSED | _FLAKY_MARK
        flaky = [k for k, p in self.single.items() if p & 15 == PASSED | _FLAKY_MARK] if marked else []
        for key, history in self.multi.items():
            outcome, is_flaky = _resolve(history)
            tallies[outcome] += 1
            if is_flaky:
                flaky.append(key)
        counts = TestCounts(flaky=len(flaky))
        for outcome, name in _BUMP.items():
            setattr(counts, name, tallies[outcome] + getattr(self.extra, name))
        return counts, flaky


def _underscored(times: list) -> bool:
    """Whether a time (text from expat, bytes from a bulk-read run, or None) has a '_'. One join per
    kind: a batch mixing both kinds must not fall back to reading its times one by one."""
    try:
        return "_" in "".join(times)
    except TypeError:
        pass
    try:
        return b"_" in b"".join(times)
    except TypeError:
        pass
    text = [t for t in times if type(t) is str]
    return "_" in "".join(text) or b"_" in b"".join([t for t in times if type(t) is bytes])


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
    failing, named = _failing(tally)
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
        outcomes=Outcomes(tally, *named) if named is not None else None,
        readings=readings,
        durations=(
            {display_id(k): round(t, 6) for k, t in tally.durations.items()}
            if options.durations_above is not None
            else None
        ),
    )


def _failing(tally: _Tally) -> tuple[FailingTests, tuple[list[str], bytearray] | None]:
    """The failing tests, sorted by id, and, when every test's outcome is kept, the ids and outcomes of
    those that are tests (not a suite's count or stray error) for `Outcomes`. What the tally held per
    test is let go as they are named (all of it unless every test's outcome is kept), so that a million
    failing tests are not held twice."""
    multi = tally.multi
    keys = [key for key in tally.details if key not in multi or _resolve(multi[key])[0] >= ERROR]
    keep = tally.options.keep_outcomes
    if not keep:
        tally.seen, tally.single, tally.multi = set(), {}, {}
    details, tally.details = tally.details, {}
    keys.reverse()  # ties in the order they always had: the last read first
    failing, shared = FailingTests(), {}
    ids, outcomes = [], bytearray()
    for test_id, key in _by_display_id(keys):
        outcome, message, file, kind, trace, subtests = _detail(details.pop(key))
        failing._append(test_id, message, (_NAMES[outcome], file, kind or trace.exception_type,
                        trace.exception, trace.last_frame, subtests), shared)  # fmt: skip
        if keep:
            ids.append(test_id)
            outcomes.append(outcome)
    if tally.synthetic:
        failing._merge(sorted(tally.synthetic, key=lambda f: f.test_id), shared)
    return failing, (ids, outcomes) if keep else None


_SORTED_AT_ONCE = 1 << 16  # keys _by_display_id sorts at a time: only their display ids are held at once


def _by_display_id(keys: list[str]) -> Iterator[tuple[str, str]]:
    """(display id, key) for each of `keys`, sorted by display id, equal ones in the order given; `keys`
    is emptied. Sorting a million keys at once held a display id for each beside the key (some 100 MB):
    each chunk is sorted on its own, then the chunks are merged, each key let go as it is named."""
    chunks = []
    while keys:
        chunk = keys[-_SORTED_AT_ONCE:]
        del keys[-_SORTED_AT_ONCE:]
        chunk.sort(key=display_id)
        chunk.reverse()  # popped from the end
        chunks.append(chunk)
    chunks.reverse()

    def drain(index: int, chunk: list[str]) -> Iterator[tuple[str, int, str]]:
        while chunk:
            key = chunk.pop()
            yield display_id(key), index, key

    # a tie on the display id goes to the earlier chunk, never to the keys themselves
    for test_id, _, key in merge(*(drain(i, chunk) for i, chunk in enumerate(chunks))):
        yield test_id, key


def _one_of(table: dict, value: T) -> T:
    """The object `table` keeps for `value` (`value` itself when new), so that equal failures share one;
    emptied when full, so that a million distinct ones are not held twice."""
    if len(table) >= _SHARED_CACHE:
        table.clear()
    return table.setdefault(value, value)


def _detail(kept: str | Detail) -> Detail:
    """A failure as _Tally.details keeps it, whole (see _kept)."""
    return (FAILED, kept, None, None, NO_TRACE, 0) if type(kept) is str else kept  # type: ignore[return-value]


def _kept(detail: Detail) -> str | Detail:
    """A plain failure (no file, type, trace facts or failed subtests: a bare <failure message="...">) is
    kept as its message alone, some 100 bytes less for each of a million such failures."""
    return detail[1] if detail[0] == FAILED and detail[2:] == _PLAIN else detail


def _excerpt(message: str, limit: int) -> str:
    """The message's first line; after a bare `assert False`, what was false as pytest's `where` line names
    it, without its arguments ("assert False (where False = validate(…))"): the values differ from test to
    test, the check that failed is what tells one breakage from another."""
    first = first_line(message, limit)
    if first.endswith(":") and len(first) < limit:  # "Parent suite setup failed:" (Robot): the reason follows
        following = first_line(message.strip()[len(first) :], limit)
        if following:
            return first_line(f"{first} {following}", limit)
    if not _BARE_ASSERT.fullmatch(first):
        return first
    where = _WHERE.search(message)
    if where is None:
        return first
    named = f"{where['what']}(…)" if where["call"] else where["what"]
    return first_line(f"{first} (where {where['value']} = {named})", limit)


def _final_outcome(tally: _Tally, key: str) -> int:
    """The outcome of a test in the tally's sets (not of an `alone` test: its failure says it)."""
    packed = tally.single.get(key)
    if packed is not None:
        return packed & 7
    history = tally.multi.get(key)
    return PASSED if history is None else _resolve(history)[0]


class Outcomes(Mapping[str, str]):
    """Every test's final outcome by test id, named when first asked for: naming a million tests costs
    about a second, and a run compared with its baseline asks only about the tests that failed there
    (`of`). The failing tests are named already (`failing`, sorted, with `outcomes`); the tally's sets
    hold the others (and those with several attempts). Where several keys show as one id (one test in
    several files), a failing one's outcome wins, the last listed of them."""

    def __init__(self, tally: _Tally, failing: list[str], outcomes: bytearray) -> None:
        self._tally = tally
        self._failing = failing
        self._outcomes = outcomes
        self._every: dict[str, str] | None = None

    def _all(self) -> dict[str, str]:
        if self._every is None:
            tally = self._tally
            self._every = {display_id(k): _NAMES[_final_outcome(tally, k)] for k in tally.seen}
            self._every.update(zip(self._failing, map(_NAMES.__getitem__, self._outcomes), strict=True))
        return self._every

    def __getitem__(self, test_id: str) -> str:
        return self._all()[test_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def of(self, test_ids: Iterable[str]) -> dict[str, str]:
        """The outcomes of `test_ids` that ran (the others are left out), without naming every test:
        only the keys whose name part could be one of theirs are named."""
        wanted = set(test_ids)
        if self._every is not None or not wanted:
            every = self._every or {}
            return {t: every[t] for t in wanted if t in every}
        failing, failed = self._failing, {}
        for test_id in wanted:
            at = bisect_right(failing, test_id) - 1
            if at >= 0 and failing[at] == test_id:
                failed[test_id] = _NAMES[self._outcomes[at]]
        wanted.difference_update(failed)
        names = {name for t in wanted for name in _possible_names(t)}
        tally, found = self._tally, {}
        for key in tally.seen if wanted else ():
            name = key[key.rfind("\x1f") + 1 :]
            if name in names or name.startswith(_UNNAMED):
                shown = display_id(key)
                if shown in wanted:
                    found[shown] = _NAMES[_final_outcome(tally, key)]
        found.update(failed)
        return found


def _possible_names(test_id: str) -> set[str]:
    """Every name part a key displayed as `test_id` could have (`classname::name`, then ` [label]`)."""
    bases = {test_id}
    if test_id.endswith("]"):  # a label may hold " [" itself: every place it could start
        start = test_id.find(" [")
        while start != -1:
            bases.add(test_id[:start])
            start = test_id.find(" [", start + 1)
    names = set(bases)
    for base in bases:
        start = base.find("::")
        while start != -1:
            names.add(base[start + 2 :])
            start = base.find("::", start + 1)
    return names


# Counters kept per file and compared with what suites declare: <failure> and <error> elements,
# skipped testcases (testcase elements are the tally's attempts); entries made from counts apart.
_CASES, _FAILURES, _ERRORS, _SKIPS = range(4)
_DECLARED = ("tests", "failures", "errors", "skipped")
_ROOT_PREFIX = "\x1f\x1e\x1f"
_RERUN_TAGS = frozenset(("flakyFailure", "flakyError", "rerunFailure", "rerunError"))
_RESULT_TAGS = frozenset(("failure", "error", "skipped", *_RERUN_TAGS))
_TEXT_CHARS = 4096  # of a failure's text, when it has no message attribute
_NO_LAYOUT = (-1, 0, 0, 0)
_UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")
_MISSES = 16  # odd testcases in a row after which the rest of a piece is left to expat


@dataclass(slots=True)
class _Frame:
    """An open <testsuite>/<testsuites>: the counters when it opened, its label, its stray errors."""

    tag: str
    attrs: dict[str, str]
    start: tuple[int, ...]
    prefix: str  # the suite part of its testcases' keys: "\x1f" name "\x1e" label "\x1f"
    name: str = ""
    stray_errors: int = 0
    properties: dict[str, str] = field(default_factory=dict)


class _Text:
    """expat's character data handler for a failure body: keeps its first and last KEEP_CHARS
    (what tells a cause lies at the ends of a traceback, and bodies can be megabytes long)."""

    __slots__ = ("head", "size", "tail")

    def __init__(self) -> None:
        self.head: list[str] = []
        self.size = 0
        self.tail = ""

    def __call__(self, data: str) -> None:
        if self.size < KEEP_CHARS:
            self.head.append(data)
            self.size += len(data)
        else:
            self.tail = (self.tail + data)[-KEEP_CHARS:]

    def __str__(self) -> str:
        head = "".join(self.head)
        return f"{head}\n{self.tail}" if self.tail else head


@dataclass(slots=True)
class _Child:
    """A result element of the open testcase (<failure>, <skipped>, ...) or a stray one."""

    tag: str
    attrs: dict[str, str]
    text: _Text | None = None


class _FileReader:
    """Reads one file (all its XML documents) into the shared tally.

    No tree is built. `_feed` hands each piece to expat, except the runs of plain testcases in it,
    which it reads from the bytes in bulk (collectors/junit_runs.py) where expat would read them as
    elements of the open suite. Every `<testcase>` element, read either way, is one attempt: its key
    and its raw `time` join two pending lists in document order, and its outcome is noted (by pending
    index) only when it is not a plain pass. After each piece `_commit` settles the pending attempts
    with C-level bulk operations when all their ids are new, which is the usual case, and one by one
    with the rerun rules when not; times are parsed, summed and ranked the same way. Of what expat
    reads, the hot path is a childless testcase with this file's usual attributes (the start handler
    builds its key and returns); everything else (children, suites, strays) takes the general,
    commented paths.
    """

    __slots__ = (
        "above",
        "backoff",
        "case_attrs",
        "case_step",
        "case_subtest",
        "children",
        "close",
        "codes",
        "declared",
        "dialect",
        "elements",
        "end_tags",
        "failed_before",
        "fed",
        "file_index",
        "floor",
        "frames",
        "handlers",
        "here",
        "in_cdata",
        "keys",
        "layout",
        "max_cases",
        "message_chars",
        "notes",
        "occurrences",
        "parser",
        "path",
        "pending",
        "prefix",
        "read_file_attr",
        "resting",
        "run_prefix",
        "settled",
        "shape",
        "steps",
        "stray",
        "stray_depth",
        "subtest_holders",
        "subtests",
        "synthetic",
        "taken",
        "taken_here",
        "tally",
        "times",
        "top_declared",
        "total_seconds",
        "unnamed",
        "utf8",
    )

    def __init__(self, tally: _Tally, file_index: int, path: str | Path) -> None:
        self.tally = tally
        self.file_index = file_index
        self.path = path
        self.message_chars = tally.options.message_chars
        self.max_cases = current_limits().max_testcases
        self.dialect: dialects.Dialect | None = None
        self.layout = _NO_LAYOUT  # attribute count and where classname, name, time sit
        self.frames: list[_Frame] = []
        self.prefix = _ROOT_PREFIX  # of the innermost open suite
        # attempts not settled yet, in document order: keys, raw times, outcomes other than a plain pass
        self.keys: list[str] = []
        self.times: list[str | None] = []
        self.codes: dict[int, int] = {}
        self.here: set[str] = set()  # the ids of this file so far, but those of `alone` tests
        self.failed_before = len(tally.details)  # `details` holds the failures of earlier files first
        # the failures of pending attempts: they join the tally's `details` as the attempts are settled
        self.pending: dict[str, str | Detail] = {}
        self.settled = 0  # testcase elements read (attempts) = settled + pending
        self.floor = tally.slow_floor
        self.above = tally.durations_above
        self.case_attrs: dict[str, str] | None = None  # only when the general path needs them
        self.case_subtest = False  # the open testcase is a unittest subTest (dialect.named_subtests)
        self.case_step: str | None = None  # the open testcase is a step of this test (dialect.steps)
        self.steps = 0  # steps read (dialect.steps): testcase elements that are not tests
        self.subtest_holders: set[str] = set()  # tests whose unittest subTests failed
        self.children: list[_Child] | None = None
        self.total_seconds = 0.0
        self.elements = [0, 0, 0, 0]  # [unused, failures, errors, skipped testcases] seen as elements
        self.synthetic = [0, 0, 0, 0]  # cases, failures, errors, skips made from declared counts
        self.subtests = [0, 0]  # testcases holding failed subtests, their failed subtests (pytest)
        self.occurrences: dict[str, int] = {}
        self.unnamed = 0
        self.read_file_attr = False  # xunit1 / GoogleTest write file="..." on testcases
        self.notes: list[str] = []
        self.declared: dict[str, int] | None = None
        self.top_declared: dict[str, int] | None = None
        self.stray: _Child | None = None
        self.stray_depth = 0
        # runs of plain testcases read without expat (collectors/junit_runs.py), once the layout is known
        self.shape: RunShape | None = None
        self.run_prefix = ("", b"")  # the suite prefix of the last run, as text and as UTF-8
        self.close = b" />"  # what closes the plain testcases of this file (pytest's, until a run says)
        self.end_tags = END_TAGS  # where stretches end (see collectors/junit_runs.py)
        self.taken_here = False  # a run was taken in the piece being fed
        self.backoff = self.resting = 0  # pieces left to expat after pieces without runs
        self.taken = False  # a run was taken out of expat's input: its error positions are off
        self.parser: expat.XMLParserType | None = None
        self.fed = 0  # bytes fed to this document's parser
        self.in_cdata = False
        self.utf8 = True  # the document is UTF-8 (not declared otherwise, no UTF-16 byte-order mark)
        self.handlers = self._handlers()

    # -- driving -------------------------------------------------------------------------------

    def read(self) -> FileReading:
        settle = self.handlers[2]
        for new_document, piece in xml_pieces(SOURCE, self.path, _CONTAINERS):
            if new_document or self.parser is None:
                self._finish_document()
                self.parser = self._new_parser()
            self._feed(piece)
            settle()
        self._finish_document()
        settle()
        cases = self._cases()
        tally, here, multi = self.tally, self.here, self.tally.multi
        # this file's ids: those in `here`, and its alone tests (failures it added to `details`, in no set);
        # as ever, not a test with several attempts before this file (`add` leaves it out of `here`)
        failed_here = islice(tally.details, self.failed_before, None)
        alone = sum(1 for key in failed_here if key not in here and key not in multi)
        repeats = cases - len(here) - alone  # elements beyond one per test id: reruns, teardown errors
        if tally.seen:
            tally.seen |= self.here
        else:
            tally.seen = self.here
        self.here = set()
        tally.attempts += cases
        self.tally.time_seconds += self.total_seconds
        counted = {
            "testcases": cases,
            "failures": self.elements[_FAILURES],
            "errors": self.elements[_ERRORS],
            "skipped": self.elements[_SKIPS],
        }
        declared = self.declared if self.declared is not None else self.top_declared
        note = self._totals_note(declared, cases, repeats) if declared else None
        if note:
            self.notes.insert(0, note)
        dialect = (self.dialect or dialects.GENERIC).name
        return FileReading(str(self.path), dialect, declared, counted, self.notes)

    def _totals_note(self, declared: dict[str, int], cases: int, repeats: int) -> str | None:
        """Why the file's own number of tests is not its number of testcases, when it is not."""
        tests = declared.get("tests")
        if tests is None or tests == cases:
            return None
        holders, failed = self.subtests
        if (self.dialect or dialects.GENERIC).subtests and tests > cases:
            # pytest counts every subtest in tests= (a green run of a subTest suite: 21959 for 765
            # testcases): that alone is no disagreement. Failed subtests are, with pytest's own figure.
            if not failed:
                return None
            failures = declared.get("failures")
            said = f"{tests} tests and {failures} failures" if failures is not None else f"{tests} tests"
            verb = "is" if holders == 1 else "are"
            again = "repeats" if repeats == 1 else "repeat"
            rerun = (
                f"; {_count(repeats, 'testcase element')} {again} a test id (reruns, teardown errors)"
                if repeats
                else ""
            )
            return (
                f"the file says {said} for {cases} testcase elements: pytest counts every subtest in "
                "them, as its summary line's 'failed' counts each failed subtest; healthdeck counts one "
                f"test per test id, so the {_count(holders, 'test')} "
                f"holding {_count(failed, 'failed subtest')} {verb} {_count(holders, 'failed test')} "
                f"(failed_subtests {failed}), while pytest's 'passed' counts as passed a unittest test "
                f"whose only failures are subtests (up to {holders} more here){rerun}"
            )
        dialect = self.dialect or dialects.GENERIC
        if self.steps and tests == cases + self.steps:
            return (
                f"the file says {tests} tests: {_count(cases, 'test')} and {_count(self.steps, 'step')}, each "
                f"step a testcase element named 'test{dialect.steps}step'; healthdeck counts the tests, as the "
                "runner's summary does, and a failed step as a failed subtest of its test"
            )
        if dialect is dialects.CATCH2:
            return (
                f"the file says {tests} tests, which Catch2 counts in assertions; healthdeck counts its {cases} "
                "testcase elements: one per test case and per section with assertions of its own"
            )
        return (
            f"the file says {tests} tests and holds {cases} testcase elements; "
            "healthdeck counts one test per distinct test id (reruns and subtests are not extra "
            "tests; counts without a testcase are entries of their own)"
        )

    def _new_parser(self) -> expat.XMLParserType:
        parser = expat.ParserCreate()
        parser.ordered_attributes = True  # a flat [name, value, ...] list: no dict per element
        parser.buffer_text = True
        parser.StartElementHandler, parser.EndElementHandler, *_ = self.handlers
        parser.XmlDeclHandler = self._declaration
        parser.StartCdataSectionHandler = self._cdata_start
        parser.EndCdataSectionHandler = self._cdata_end
        self.fed, self.in_cdata, self.utf8 = 0, False, True
        return parser

    def _declaration(self, version: str, encoding: str | None, standalone: int) -> None:
        self.utf8 = self.utf8 and (encoding is None or encoding.upper() == "UTF-8")

    def _cdata_start(self) -> None:
        self.in_cdata = True

    def _cdata_end(self) -> None:
        self.in_cdata = False

    def _feed(self, data: bytes) -> None:
        """Feed a piece to expat, except the runs of plain testcases in it, which are counted in bulk.

        A run is taken only where expat would read it as elements of the open suite: everything before
        it has been fed and fully read (no token left open: not inside a tag, a comment or a processing
        instruction), no CDATA section is open, and no testcase or stray element is open. A stretch
        goes up to the next end tag but those that close testcases a run can hold (`stretch` in
        collectors/junit_runs.py); its run stops before its last testcase when that one has other
        children (their end tag is what ends the stretch). A testcase with an entity or a character
        reference cuts the run; when the rest is not a run as a whole, what comes before its first odd
        testcase is taken and that one left to expat. A piece without any run leaves the next few
        pieces to expat. Everything not taken, expat reads as usual.
        """
        if not self.fed and data[:2] in _UTF16_MARKS:
            self.utf8 = False
        if self.dialect is None and self.utf8:
            data = self._learn(data)
        shape = self.shape
        if shape is None or not self.utf8 or self.resting:
            self.resting = max(self.resting - 1, 0)
            self._parse(data)
            return
        start, size = shape.start, len(data)
        fed = look = 0  # data[:fed] is fed to expat; runs are looked for from `look` on
        stop, units, first, dirty = -1, [], 0, False  # the stretch: its end, its units (from `first` on)
        misses = 0  # odd testcases in a row: a piece that is all odd is left to expat
        while (begin := data.find(start, look)) >= 0 and misses < _MISSES:
            if begin > fed:
                self._parse(data[fed:begin])
                fed = begin
            if not self._at_rest():  # in a comment, a CDATA section, a testcase: try the next one
                look = begin + 1
                continue
            if begin >= stop:
                skips = self.dialect is not dialects.CTEST
                stop, units = stretch(shape, data, begin, skips, self.end_tags)
                first, dirty = 0, False
            while first < len(units) and units[first].start < begin:
                first += 1
            held = units[first:]
            after = held[-1].end if held else begin
            whole = end = max(run_end(data, start, after, stop), after)
            if dirty:  # a run failed in this stretch: cut the next one at its first odd testcase
                held, end = [], plain_end(shape, data, begin, whole)
            amp = data.find(b"&", begin, end)
            if amp >= 0:  # an entity or a character reference: that testcase is expat's
                end, held = cut(data, begin, data.rfind(start, begin, amp), held)
            if end <= begin:  # the testcase at `begin` is odd: expat reads it
                look = begin + 1
                misses += 1
                continue
            if self._take(data, begin, end, held):
                fed, misses = end, 0
                look = stop if end == whole else end  # the rest up to the end tag is expat's
                continue
            if not dirty:  # find the first odd testcase, take what comes before it
                dirty = True
                valid = plain_end(shape, data, begin, end)
                if begin < valid < end and self._take(data, begin, valid):
                    fed = look = valid
                    continue
            look = stop  # what the check refuses is not what the pattern sees: the stretch is expat's
        if misses >= _MISSES and not self.taken_here:
            # a piece with no run at all: leave the next ones to expat for a while (1, 3, 7 ... 63)
            self.backoff = min(2 * self.backoff + 1, 63)
            self.resting = self.backoff
        elif self.taken_here:
            self.backoff = 0
        self.taken_here = False
        if fed < size:
            self._parse(data[fed:] if fed else data)

    def _learn(self, data: bytes) -> bytes:
        """Feed expat up to the end of the first testcase's start tag: its attributes may allow runs in
        the rest of the piece (the first piece of a file, about 700 of pytest's testcases)."""
        first = data.find(b"<testcase")
        close = data.find(b">", first) if first >= 0 else -1
        if close < 0:
            return data
        self._parse(data[: close + 1])
        if data[close - 1] != 0x2F:  # not "/>": passes have an end tag, which does not end a stretch
            self.end_tags = END_TAGS_BUT_TESTCASE
        return data[close + 1 :]

    def _at_rest(self) -> bool:
        """Whether expat has read everything fed so far and nothing but suites is open (see `_feed`)."""
        parser = self.parser
        if parser is None or parser.CurrentByteIndex != self.fed or self.in_cdata or not self.frames:
            return False
        return self.handlers[3]()  # no testcase and no stray element open

    def _take(self, data: bytes, begin: int, end: int, units: Sequence[Unit] = ()) -> bool:
        """Count data[begin:end] as testcases of the open suite, if it is a run (collectors/junit_runs.py):
        plain ones, and those in `units` (empty or skipped, written with an end tag)."""
        shape = self.shape
        assert shape is not None
        prefix, encoded = self.run_prefix
        if prefix is not self.prefix:
            prefix, encoded = self.run_prefix = (self.prefix, self.prefix.encode())
        if units:
            run, places = rewrite(shape, data, begin, end, list(units), self.close)
        else:
            run, places = data[begin:end], []
        read = read_run(shape, run, encoded)
        if read is None:
            return False
        keys, times = read
        base = len(self.keys)
        for unit, place in zip(units, places, strict=True):
            if unit.skipped:
                self.codes[base + place] = XFAILED if unit.xfail else SKIPPED
                self.elements[_SKIPS] += 1
        self.keys.extend(keys)
        self.times.extend(times)
        self.close = run[run.rfind(b'"') + 1 :]  # how this file closes a testcase, for the skipped ones
        self.taken = self.taken_here = True
        return True

    def _parse(self, data: bytes, final: bool = False) -> None:
        try:
            self.parser.Parse(data, final)  # type: ignore[union-attr]
        except expat.ExpatError as exc:
            error = self._error_again(exc) if self.taken else None
            raise (error or xml_syntax_error(SOURCE, self.path, exc)) from exc
        except (ValueError, LookupError) as exc:  # an encoding expat cannot read, past the transcoding
            raise CollectorError(SOURCE, self.path, f"cannot read its encoding: {exc}") from exc
        self.fed += len(data)

    def _error_again(self, exc: expat.ExpatError) -> CollectorError | None:
        """The first syntax error of the file as expat reports it on the whole input: where runs were
        taken out, the line and column expat saw are not the file's. A pipe (`<(zcat f.gz)`) cannot be
        read twice: its error goes without them."""
        if not rereadable(self.path):
            return xml_syntax_error(SOURCE, self.path, exc, placed=False)
        parser = None
        try:
            for new_document, piece in xml_pieces(SOURCE, self.path, _CONTAINERS):
                if new_document or parser is None:
                    if parser is not None:
                        parser.Parse(b"", True)
                    parser = expat.ParserCreate()
                parser.Parse(piece, False)
            if parser is not None:
                parser.Parse(b"", True)
        except expat.ExpatError as exc:
            return xml_syntax_error(SOURCE, self.path, exc)
        return None

    def _finish_document(self) -> None:
        if self.parser is not None:
            self._parse(b"", final=True)
            self.parser = None

    # -- elements ------------------------------------------------------------------------------

    def _handlers(
        self,
    ) -> tuple[
        Callable[[str, list[str]], None], Callable[[str], None], Callable[[], None], Callable[[], bool]
    ]:
        """expat's start and end handlers, `settle`, which commits the pending attempts, and `at_rest`
        (no testcase and no stray element open, so a run can be taken).

        The state the hot path touches on every testcase lives in the closures' own variables: it
        costs a third less than the same code reading and writing attributes of the reader. The hot
        path is a testcase with exactly this file's usual attributes (classname, name and time, in the
        order of its first testcase) and no per-testcase rules: it appends the key and the raw time,
        nothing else. A child element found before its end, or unusual attributes, send it through the
        reader's general methods, which note its outcome against its pending index.
        """
        keys, times, codes = self.keys, self.times, self.codes
        append_key, append_time = keys.append, times.append
        depth = 0  # inside the open testcase
        layout, prefix = self.layout, self.prefix
        skip: list[str] | None = None  # a lone <skipped> of the open testcase, kept as expat gave it

        def start(tag: str, attrs: list[str]) -> None:
            nonlocal depth, layout, prefix, skip
            if tag == "testcase" and not depth:
                depth = 1
                count, classname_at, name_at, time_at = layout
                if (
                    len(attrs) == count
                    and attrs[name_at] == "name"
                    and attrs[classname_at] == "classname"
                    and attrs[time_at] == "time"
                    and attrs[name_at + 1]
                ):
                    append_key(f"{prefix}{attrs[classname_at + 1]}\x1f{attrs[name_at + 1]}")
                    append_time(attrs[time_at + 1])
                    return
                self._start_case(_attrs(attrs))
                layout, prefix = self.layout, self.prefix
            elif depth:
                depth += 1
                if depth == 2 and tag in _RESULT_TAGS:
                    # a skip is the commonest child (~3 % of a pytest suite): it stays a list unless
                    # another result element joins it, then both go the general way, in order
                    if tag == "skipped" and skip is None and self.children is None:
                        skip = attrs
                        return
                    if skip is not None:
                        self._child("skipped", skip)
                        skip = None
                    self._child(tag, attrs)
                elif depth == 2 and tag == "system-out" and self.children:
                    # a failing test's output: cargo's libtest writes an empty <failure> and the panic here
                    self._child(tag, attrs)
            elif tag in _CONTAINERS:
                self._open(tag, _attrs(attrs))
                prefix = self.prefix
            else:
                self._other_start(tag, attrs)

        def end(tag: str) -> None:
            nonlocal depth, prefix, skip
            if depth == 1:  # the testcase itself
                depth = 0
                if self.children is not None:
                    self._finish_case()
                elif skip is not None:
                    self.elements[_SKIPS] += 1
                    codes[len(keys) - 1] = XFAILED if _attrs(skip).get("type") == "pytest.xfail" else SKIPPED
                    skip = None
            elif depth:
                if depth == 2 and self.children and self.children[-1].text is not None:
                    self._stop_text()
                depth -= 1
            elif tag in _CONTAINERS:
                self._close()
                prefix = self.prefix
            elif self.stray is not None:
                self.stray_depth -= 1
                if not self.stray_depth:
                    self._stray()

        def settle() -> None:
            """Commit the pending attempts; the open testcase's stays pending until its end."""
            settled = len(keys) - 1 if depth else len(keys)
            if settled > 0:
                self._commit(settled)

        def at_rest() -> bool:
            return not depth and self.stray is None

        return start, end, settle, at_rest

    def _commit(self, n: int) -> None:
        """Settle the first n pending attempts (none of them open): their ids, then their times."""
        keys, times = self.keys, self.times
        batch, raw = (keys, times) if n == len(keys) else (keys[:n], times[:n])
        self._settle_ids(batch)
        self._settle_times(batch, raw)
        del keys[:n], times[:n]
        if self.tally.attempts + self.settled > self.max_cases:  # a test id each is held: memory
            raise CollectorError(SOURCE, self.path, f"more than {self.max_cases} <testcase> elements in the "
                                 "files of one suite (limit max_testcases in [tool.healthdeck])")  # fmt: skip
        self.codes.clear()  # an open testcase gets its outcome only at its end

    def _settle_ids(self, batch: list[str]) -> None:
        """Count the batch's attempts per test id, exactly as if each had been added in turn.

        Usually every id is new and seen once: the batch joins `here` (the file's ids) in one C-level
        update, the skipped ones get their outcome in the tally's `single`, and the failed ones leave
        `here` again (their failure in `details` says their outcome: they are `alone`). Ids seen before
        (in a set or alone), or twice in the batch (reruns, shards), are added attempt by attempt, in
        order.
        """
        tally, here, codes = self.tally, self.here, self.codes
        earlier = here.intersection(batch) if not here.isdisjoint(batch) else set()
        in_here = earlier.copy()
        if tally.seen and not tally.seen.isdisjoint(batch):
            earlier |= tally.seen.intersection(batch)
        failed = tally.details.keys()  # of the attempts settled before (the batch's are still pending)
        if failed and not failed.isdisjoint(batch):
            earlier |= failed & batch
        size = len(here)
        here.update(batch)
        again = earlier
        if earlier or len(here) - size != len(batch):
            again = earlier | _twice(batch, None if earlier else len(batch) - (len(here) - size))
            here.difference_update(again - in_here)  # as before this batch, for `add`
        shift = self.file_index << 4
        alone = []
        for index, code in codes.items():
            key = batch[index]
            if key in again:
                continue
            if code & 7 >= ERROR:
                alone.append(key)
                tally.alone[code & 7] += 1
            else:
                tally.single[key] = code | shift
        for key in again:  # each id's attempts in document order (ids do not affect each other)
            index = -1
            for _ in range(batch.count(key)):
                index = batch.index(key, index + 1)
                tally.add(key, codes.get(index, PASSED), self.file_index, here)
        if alone:
            here.difference_update(alone)
        if self.pending:
            tally.details.update(self.pending)
            self.pending.clear()
        self.settled += len(batch)

    def _settle_times(self, batch: list[str], raw: list[str | None]) -> None:
        """Sum the batch's times and keep the slowest tests; unreadable times are counted, not summed."""
        try:
            if _underscored(raw):  # float() reads "1_000"; XML has no such number
                raise ValueError
            values = list(map(float, raw))  # type: ignore[arg-type]
        except (TypeError, ValueError):  # a missing or unreadable time: read them one by one
            values = None
        if values:
            top = max(values)
            # NaN escapes max() and min(), not fsum(); infinities and negatives are caught first
            total = math.fsum(values) if min(values) >= 0.0 and top < _MAX_SECONDS else math.nan
            if total == total:
                self.total_seconds += total
                if top > self.floor or top >= self.above:
                    self._rank(batch, values)
                return
        readable: list[float] = []
        timed: list[str] = []
        for key, text in zip(batch, raw, strict=True):
            if text is None:
                continue
            try:
                value = -1.0 if _underscored([text]) else float(text)
            except ValueError:
                value = -1.0
            if 0.0 <= value < _MAX_SECONDS:  # false for NaN too
                readable.append(value)
                timed.append(key)
            else:
                self.tally.bad_times += 1
        self.total_seconds += math.fsum(readable)
        self._rank(timed, readable)

    def _rank(self, keys: list[str], values: list[float]) -> None:
        """Offer each time above the slowest-test floor (or the durations floor) to the tally, in order."""
        tally, above = self.tally, self.above
        for key, value in zip(keys, values, strict=True):
            if value > self.floor:
                tally.time(key, value)
                self.floor = tally.slow_floor
            if value >= above:
                self._duration(key, value)

    def _child(self, tag: str, attrs: list[str]) -> None:
        """A result element (<failure>, <skipped>, ...) of the open testcase."""
        child = _Child(tag, _attrs(attrs))
        if self.children is None:
            self.children = [child]
        else:
            self.children.append(child)
        self._collect_text(child)

    def _other_start(self, tag: str, attrs: list[str]) -> None:
        """Outside any testcase: an <error>/<failure> of a suite itself, a suite's <property>."""
        if self.stray is not None:
            self.stray_depth += 1
        elif tag in ("error", "failure") and self.frames:
            self.stray = _Child(tag, _attrs(attrs))
            self.stray_depth = 1
            self._collect_text(self.stray)
        elif tag == "property" and self.frames:
            properties = _attrs(attrs)
            name = properties.get("name", "")
            if name in dialects.PROPERTIES_READ:  # 3 million properties were all kept: 381 MB
                self.frames[-1].properties[name] = properties.get("value", "")

    def _duration(self, key: str, value: float) -> None:
        """JUnitOptions(durations_above=...): keep each slow test's slowest attempt."""
        durations = self.tally.durations
        if value > durations.get(key, -1.0):
            durations[key] = value

    def _collect_text(self, child: _Child) -> None:
        """Keep the ends of a failure's body: its message when there is no attribute, its trace facts."""
        if child.tag != "skipped":
            child.text = _Text()
            self.parser.CharacterDataHandler = child.text  # type: ignore[union-attr]

    def _stop_text(self) -> None:
        self.parser.CharacterDataHandler = None  # type: ignore[union-attr]

    # -- testcases (general path) --------------------------------------------------------------

    def _start_case(self, attrs: dict[str, str]) -> None:
        """A testcase the hot path cannot take: the file's first, unusual attributes, or rules."""
        dialect = self.dialect or self._detect(attrs)
        classname = attrs.get("classname") or ""
        name = attrs.get("name") or ""
        if not name and not classname:
            self.unnamed += 1
            name = f"{_UNNAMED}{self.unnamed}"
        if dialect.suite_as_classname and classname == "test" and self.frames:
            # the describe block it is in; none for a top-level test
            classname = self.frames[-1].name if self.frames[-1].tag == "testsuite" else ""
        subtest = _UNITTEST_SUBTEST.match(name) if dialect.named_subtests else None
        self.case_subtest = subtest is not None
        if subtest:
            name = subtest["test"]
        file = attrs.get("file") if self.read_file_attr else None
        self.case_attrs = attrs
        self.children = []  # read at its end, whether or not children come
        if dialect.steps and dialect.steps in name:  # part of its test, which has a testcase of its own
            test = f"{file or ''}{self.prefix}{classname}\x1f{name.split(dialect.steps, 1)[0]}"
            if test in self.here or test in self.pending or test in self.tally.details or test in self.keys:
                self.case_step = test
                return  # (a test whose own name holds the separator, with no such test before it, is a test)
        if dialect is not dialects.RUFF:
            # \x1f (unit separator) is not a legal XML 1.0 character, so keys never collide.
            self.keys.append(f"{file or ''}{self.prefix}{classname}\x1f{name}")
            self.times.append(attrs.get("time"))

    def _finish_case(self) -> None:
        """The end of a testcase with children or unusual attributes: note its outcome unless a pass."""
        attrs, children = self.case_attrs, self.children
        self.case_attrs = self.children = None
        if self.dialect is dialects.RUFF:
            self.tally.ruff_cases += 1
            return
        if self.case_step is not None:
            self._finish_step(self.case_step, attrs or {}, children or [])
            self.case_step = None
            return
        index = len(self.keys) - 1  # an open testcase is always the last pending attempt
        code = self._classify(attrs or {}, children or [], self.keys[index])
        if code != PASSED:
            self.codes[index] = code

    def _finish_step(self, test: str, attrs: dict[str, str], children: list[_Child]) -> None:
        """A step (dialect.steps) is counted as the file counts it, not as a test. A failed step is a
        failed subtest of its test, and its message becomes the test's where that says only "N test
        steps failed"; its test's own testcase came first and already failed."""
        self.synthetic[_CASES] += 1
        self.steps += 1
        failure = next((c for c in children if c.tag in ("failure", "error")), None)
        if failure is None:
            self.elements[_SKIPS] += any(c.tag == "skipped" for c in children)
            return
        self.elements[_FAILURES if failure.tag == "failure" else _ERRORS] += 1
        held = self.pending if test in self.pending else self.tally.details
        kept = held.get(test)
        if kept is None:  # no failed test of that name before it: nothing to attach it to
            return
        code, excerpt, file, kind, trace, subtests = _detail(kept)
        if _STEPS_FAILED.match(excerpt):
            body = str(failure.text) if failure.text is not None else None
            shared = self.tally.shared
            excerpt = _one_of(
                shared, _excerpt(_message(failure, attrs.get("name") or ""), self.message_chars)
            )
            trace = _one_of(shared, read_trace(body, self.message_chars) if body else NO_TRACE)
            kind = failure.attrs.get("type") or None
        held[test] = _kept((code, excerpt, file, kind, trace, subtests + 1))
        self.tally.failed_subtests += 1

    def _detect(self, attrs: dict[str, str]) -> dialects.Dialect:
        suite = self.frames[-1] if self.frames else None
        root = self.frames[0] if self.frames else None
        dialect = dialects.detect(
            root.attrs if root else {},
            root.tag if root else "testsuite",
            suite.attrs if suite else None,
            attrs,
        )
        dialect = dialects.with_properties(dialect, suite.properties if suite else {})
        self.read_file_attr = "file" in attrs
        self.dialect = dialect
        # the hot path serves dialects without per-testcase rules, once it knows where attributes sit
        # (rules on attributes other than these three, such as case_attributes, cannot apply to it)
        fast = not (
            dialect.suite_as_classname or dialect.named_subtests or dialect.steps or self.read_file_attr
        )
        if fast and dialect is not dialects.RUFF and sorted(attrs) == ["classname", "name", "time"]:
            where = {n: 2 * i for i, n in enumerate(attrs)}
            self.layout = (6, where["classname"], where["name"], where["time"])
            self.shape = run_shape(list(attrs))
        # suites opened before the dialect was known take its labels now
        for frame in self.frames:
            if frame.tag == "testsuite":
                label = dialect.suite_label(frame.name, self.occurrences.get(frame.name, 1) - 1, frame.attrs)
                if label:
                    frame.prefix = f"\x1f{frame.name}\x1e{label}\x1f"
        if self.frames:
            self.prefix = self.frames[-1].prefix
        return dialect

    def _classify(self, attrs: dict[str, str], children: list[_Child], key: str) -> int:
        """Outcome code (with the flaky mark) of a testcase that has children or telling attributes."""
        tally = self.tally
        dialect = self.dialect or dialects.GENERIC
        failures: list[str] = []
        subtest_summary = False
        error = skipped = None
        first_failure = error_child = output = None  # the elements whose body tells the cause
        skipped_kind = SKIPPED
        flaky_mark = _FLAKY_MARK if attrs.get("flaky") == "true" else 0
        for child in children:
            tag = child.tag
            if tag == "failure":
                self.elements[_FAILURES] += 1
                text = _message(child, attrs.get("name") or "")
                if "failed subtest" in text[:200] and _SUBTEST_SUMMARY.match(text.strip()):
                    subtest_summary = True
                else:
                    failures.append(text)
                    first_failure = first_failure or child
            elif tag == "error":
                self.elements[_ERRORS] += 1
                if error is None:
                    error = _message(child, attrs.get("name") or "")
                    error_child = child
            elif tag == "skipped":
                if skipped is None:
                    skipped = child.attrs.get("message") or ""
                    skipped_kind = _skipped_kind(child.attrs, dialect)
            elif tag == "system-out":
                output = child
            elif tag in _RERUN_TAGS:
                # Surefire's attempts before the last: they count in the suite's totals
                self.elements[_FAILURES if tag.endswith("Failure") else _ERRORS] += 1
                if tag.startswith("flaky"):
                    flaky_mark = _FLAKY_MARK
        # pytest subtests: one <failure> per failed subtest, plus a closing "contains N failed subtests"
        # for the `subtests` fixture; a unittest test writes none, and pytest writes a test's own call
        # failure once, so several failures are subtests (the test's own failure after failed
        # subtests cannot be told apart and counts among them; a lone failed subTest looks like a
        # failed test)
        subtests = len(failures) if subtest_summary or (len(failures) > 1 and dialect.subtests) else 0
        unittest_subtest = self.case_subtest and (failures or error is not None)
        if unittest_subtest:  # one testcase per failed subTest: the holder counts once
            subtests = 1
            self.subtests[0] += key not in self.subtest_holders
            self.subtest_holders.add(key)
        elif subtests:
            self.subtests[0] += 1
        if subtests:
            tally.failed_subtests += subtests
            self.subtests[1] += subtests
        if failures and skipped is not None and dialect.skipped_failure_expected:
            code, message = XFAILED, failures[0]  # Catch2's [!shouldfail] / [!mayfail]: failed as expected
        elif failures or subtest_summary:
            code, message = FAILED, failures[0] if failures else "failed subtests"
        elif error is not None:
            code, message = ERROR, error
        elif dialect is dialects.CTEST and (skipped or "").startswith("Unable to find executable"):
            # CTest counts a test whose executable is missing as failed ("Not Run"), whatever the XML says
            code, message = ERROR, skipped or ""
        elif skipped is not None:  # (a unittest unexpected success ran and passed: no message)
            code, message = skipped_kind, skipped if skipped_kind != PASSED else ""
        elif dialect.case_attributes and _not_run(attrs):
            code, message = SKIPPED, ""
        else:
            code, message = PASSED, ""
        if code <= XFAILED or (skipped is not None and code == PASSED):  # as the suite's skipped= counts it
            self.elements[_SKIPS] += 1
        if code >= ERROR:
            classname = attrs.get("classname") or ""
            if classname == "" and code == ERROR and message.startswith("collection failure"):
                tally.collection_errors += 1
            kept = self.pending.get(key)
            if kept is None:
                kept = tally.details.get(key)
            previous = _detail(kept) if kept is not None else None
            # Keep the most severe message: the call failure rather than its teardown error.
            if unittest_subtest and previous is not None and previous[0] >= code:
                self.pending[key] = _kept((*previous[:5], previous[5] + 1))  # another failed subTest
            elif previous is not None and previous[0] == code == FAILED and subtests > previous[5]:
                self.pending[key] = _kept((*previous[:5], subtests))  # a rerun that says how many subtests
            elif previous is None or previous[0] < code:
                file = attrs.get("file") if self.read_file_attr else None
                told = first_failure if code == FAILED else error_child
                kind = (told.attrs.get("type") or None) if told is not None else None
                body = str(told.text) if told is not None and told.text is not None else None
                if not (body or "").strip() and not message.strip() and output is not None:
                    body = str(output.text)  # libtest: an empty <failure>, the panic in the test's output
                    message = body_message(body, attrs.get("name") or "") or ""
                trace = _one_of(tally.shared, read_trace(body, self.message_chars) if body else NO_TRACE)
                excerpt = _one_of(tally.shared, _excerpt(message, self.message_chars))
                if unittest_subtest and previous is not None:  # an earlier subTest failed less severely
                    subtests += previous[5]
                self.pending[key] = _kept((code, excerpt, file, kind, trace, subtests))
        return code | flaky_mark

    # -- suites --------------------------------------------------------------------------------

    def _cases(self) -> int:
        return self.settled + len(self.keys)

    def _snapshot(self) -> tuple[int, ...]:
        e, s = self.elements, self.synthetic
        cases = self._cases() + s[_CASES]
        return (cases, e[_FAILURES] + s[_FAILURES], e[_ERRORS] + s[_ERRORS], e[_SKIPS] + s[_SKIPS])

    def _open(self, tag: str, attrs: dict[str, str]) -> None:
        parent = self.frames[-1] if self.frames else None
        name = parent.name if parent else ""
        if tag == "testsuite":
            name = attrs.get("name") or ""
            seen = self.occurrences.get(name, 0)
            self.occurrences[name] = seen + 1
            label = (self.dialect or dialects.GENERIC).suite_label(name, seen, attrs)
            if not label and parent:
                label = parent.prefix.rstrip("\x1f").partition("\x1e")[2]
            self.prefix = f"\x1f{name}\x1e{label}\x1f"
        self.frames.append(_Frame(tag, attrs, self._snapshot(), self.prefix, name=name))

    def _close(self) -> None:
        frame = self.frames.pop()
        self.prefix = self.frames[-1].prefix if self.frames else _ROOT_PREFIX
        try:
            declared = _declared(frame.attrs)
        except Invalid as exc:
            raise CollectorError(SOURCE, self.path, f"{_where(frame)}: {exc}") from None
        if self.dialect is None and not self.frames:  # a document without any testcase
            self.dialect = dialects.detect(frame.attrs, frame.tag, None, None)
        if declared and self.dialect is not dialects.RUFF:
            self._reconcile(frame, declared)
            if not self.frames:  # the root of a document
                self.declared = _add(self.declared, declared)
            elif len(self.frames) == 1 and self.frames[0].tag == "testsuites":
                self.top_declared = _add(self.top_declared, declared)

    def _reconcile(self, frame: _Frame, declared: dict[str, int]) -> None:
        """Make a suite's own counts and its elements agree without ever hiding a failure."""
        counted = [now - then for now, then in zip(self._snapshot(), frame.start, strict=True)]
        where = _where(frame)
        tally = self.tally
        failures = declared.get("failures", 0) - counted[_FAILURES]
        errors = declared.get("errors", 0) - counted[_ERRORS]
        if frame.stray_errors and (self.dialect or dialects.GENERIC).stray_error_covers_suite:
            if errors > 0:  # say so: the file's own total is larger than what is reported
                self.notes.append(
                    f"{where} counts {declared['errors']} errors; its error outside any testcase stands for "
                    f"the {errors} it does not list (planned tests that never ran once the script died)"
                )
            errors = 0
        for missing, slot, outcome, noun in (
            (failures, _FAILURES, "failed", "failure"),
            (errors, _ERRORS, "error", "error"),
        ):
            if missing <= 0:
                continue
            plural = "s" if missing > 1 else ""
            # the entry's id names the suite; a message without it makes 50 000 such suites one cause
            message = (
                f"its {noun} count is {missing} more than its testcases carry "
                "(for example a package that did not build, or a script that died)"
            )
            tally.synthetic.append(FailingTest(f"{where} (no testcase)", outcome, message, str(self.path)))
            if outcome == "failed":
                tally.extra.failed += missing
            else:
                tally.extra.errors += missing
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
        elif skipped > 0 and tests > counted[_CASES] and not (self.dialect or dialects.GENERIC).subtests:
            # (pytest lists every skipped test; its skipped= also counts each skipped subtest)
            unlisted = min(skipped, tests - counted[_CASES])
            tally.extra.skipped += unlisted
            self.synthetic[_CASES] += unlisted
            self.synthetic[_SKIPS] += unlisted
            self.notes.append(
                f"{where} counts {unlisted} skipped tests it does not list as testcases; counted as skipped"
            )

    def _stray(self) -> None:
        """An <error>/<failure> straight under a suite or the root: a failure outside any test."""
        stray, self.stray = self.stray, None
        if stray is None:
            return
        if stray.text is not None:
            self._stop_text()
        frame = self.frames[-1]
        failed = stray.tag == "failure"
        message = first_line(_message(stray, ""), self.message_chars) or f"<{stray.tag}> without a message"
        where = _where(frame)
        if not failed and self._repeats_failures(frame, message):
            self.elements[_ERRORS] += 1  # the suite's errors= counts it: nothing is missing
            self.notes.append(f"{where}: {message!r} is the script's exit status, its number of failed tests "
                              "(listed above): not a failure of its own")  # fmt: skip
            return
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
        self.notes.append(f"{where}: an {stray.tag} element outside any testcase, reported as failing")

    def _repeats_failures(self, frame: _Frame, message: str) -> bool:
        """TAP::Formatter::JUnit's "Dubious, test returned N" for a script that exited N: a Test::More
        script exits with its number of failed tests (1–254), which are its failing testcases already;
        255 (it died, or ran other than it planned) is a failure of its own."""
        exited = (
            _TAP_EXIT.match(message) if (self.dialect or dialects.GENERIC).stray_error_covers_suite else None
        )
        if exited is None or not 0 < int(exited[1]) < 255:
            return False
        counted = [now - then for now, then in zip(self._snapshot(), frame.start, strict=True)]
        return counted[_FAILURES] == int(exited[1])


def _twice(batch: list[str], extra: int | None) -> set[str]:
    """The ids found more than once in `batch`, given `extra` (when known), the number of attempts
    beyond one per id: reruns follow each other, so neighbours are compared first (in C); that finds
    them all exactly when every id's attempts are together, i.e. when it finds `extra` equal pairs."""
    if extra is not None:
        pairs = list(compress(batch, map(eq, batch, islice(batch, 1, None))))
        if len(pairs) == extra:
            return set(pairs)
    return {key for key, n in Counter(batch).items() if n > 1}


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _attrs(flat: list[str]) -> dict[str, str]:
    """expat's ordered attribute list as a dict (the first of a repeated name wins, as XML forbids repeats)."""
    return dict(zip(flat[::2], flat[1::2], strict=True))


def _skipped_kind(attrs: dict[str, str], dialect: dialects.Dialect) -> int:
    """What a <skipped> stands for: a skip, an expected failure (pytest's xfail; unittest's, as
    unittest-xml-reporting and nose2 write it), or, from nose2, an unexpected success: a test that ran
    and passed."""
    if attrs.get("type") == "pytest.xfail":
        return XFAILED
    if dialect.unittest_outcomes:
        return (
            XFAILED
            if attrs.get("type") == "XFAIL"
            else _UNITTEST_SKIPPED.get(attrs.get("message") or "", SKIPPED)
        )
    return SKIPPED


def _not_run(attrs: dict[str, str]) -> bool:
    return attrs.get("status") in _NOT_RUN_STATUS or attrs.get("result") in _NOT_RUN_RESULT


def _message(child: _Child, test_name: str) -> str:
    """A failure's message attribute; where there is none, or one every failure of its writer carries,
    what its text says (traces.body_message; bounded: texts can be huge)."""
    message = child.attrs.get("message")
    # a whole traceback in the attribute (unittest-xml-reporting's import errors) ends where it matters
    if message and message.lower() not in PLACEHOLDERS and _TRACEBACK not in message:
        return message
    body = str(child.text)[:_TEXT_CHARS] if child.text is not None else ""
    told = body_message(body, test_name) if body.strip() else None
    return told or message or first_line(body, _TEXT_CHARS)


def _where(frame: _Frame) -> str:
    """How a suite or the root is named in entries and notes."""
    name = frame.attrs.get("name")
    label = frame.prefix.strip("\x1f").partition("\x1e")[2]
    if frame.tag == "testsuites":
        return f"the file's <testsuites> {name}".rstrip() if name else "the file's <testsuites>"
    shown = f"suite {name}" if name else "an unnamed <testsuite>"
    return f"{shown} [{label}]" if label and label != name else shown


def _declared(attrs: dict[str, str]) -> dict[str, int]:
    """The counts a suite or the root states about itself (absent or empty ones left out). A count that
    is not a plausible whole number (negative, fractional, `nan`, 23 digits) is Invalid: a suite read
    from its counts alone would turn it into passes, or into an absurd total."""
    out: dict[str, int] = {}
    for name in (*_DECLARED, "disabled"):
        value = attrs.get(name)
        if value is not None and value.strip():
            out[name] = count(value, name)
    if disabled := out.pop("disabled", 0):
        out["skipped"] = out.get("skipped", 0) + disabled  # GoogleTest and CTest count them apart
    return out


def _add(a: dict[str, int] | None, b: dict[str, int]) -> dict[str, int]:
    if a is None:
        return dict(b)
    return {k: a.get(k, 0) + b.get(k, 0) for k in {*a, *b}}

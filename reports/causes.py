"""Failures grouped by cause: one signature per failing test, tests with the same signature are one cause.

A signature is the exception type plus the message with its volatile parts replaced by placeholders
(timestamps, UUIDs, hex addresses and hashes, temporary paths, IP addresses, quoted ids, numbers — which
covers ports, line numbers and counters), so the same breakage gives the same signature run after run.
Where the message says nothing ("collection failure", an empty message), the exception line read from
the failure body stands in for it, and where that is empty too, the innermost frame of the traceback.

Pure functions only: no I/O, no store. Regexes are compiled once at import.
"""

from __future__ import annotations

import hashlib
import re
import signal
import time
from array import array
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from healthdeck.collectors.junit import FailingTest, FailingTests
from healthdeck.collectors.traces import BARE_LOCATION, PLACEHOLDERS

from .config import Category, ConfigError
from .ordering import natural_order
from .visible import visible

CATEGORY_SECONDS = 10.0  # for all of a run's category matching; a sane regex takes microseconds per cause
# Memory stays bounded when every failure has a cause of its own (a message with a per-test word in it):
# past MAX_CAUSES distinct signatures per suite, failures fold into one FOLDED cause (counts stay exact).
MAX_CAUSES = 10_000
FOLDED = "(other causes)"
SIGNATURE_CACHE = 100_000  # normalised raw failures remembered (one repeated message is normalised once)
SIGNATURE_CHARS = 200  # of the normalised message; longer tails rarely tell causes apart

# Order matters: the specific shapes go before the general "any number" rule that would split them.
# Each rule is skipped unless the text has one of its `needs` substrings (and a digit, when `digit`):
# cheap `in` tests save most of the regex scans on real messages.
_RULES: tuple[tuple[re.Pattern[str], str, tuple[str, ...], bool], ...] = tuple(
    (re.compile(pattern), placeholder, needs, digit)
    for pattern, placeholder, needs, digit in (
        # ISO 8601 timestamps and dates (2026-03-01T10:00:00.123Z, 2026-03-01 10:00:00+02:00, 2026-03-01)
        (r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?(?![\w-])", "<ts>",
         ("-",), True),
        (r"\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b", "<time>", (":",), True),  # bare clock times in log lines
        (r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "<uuid>", ("-",), True),
        (r"(?i)\b0x[0-9a-f]+\b", "<hex>", ("0x", "0X"), True),  # memory addresses: <Foo object at 0x7f3f0f115610>
        # the tail of an address pytest cut short in a long repr: '<objec...c71530>' (no 0x; 4+ digits)
        (r"(?i)(?:(?<=\.\.\.)|(?<=…))(?=[0-9a-f]*\d)[0-9a-f]{4,}\b", "<hex>", ("...", "…"), True),
        # hashes, short commit ids, trace and object ids: 7+ hex digits with both a digit and a letter, or
        # 8+ with a letter (a random id is now and then all letters: 'deadbeef'; few words are)
        (r"(?i)\b(?=[0-9a-f]*[a-f])(?:(?=[0-9a-f]*\d)[0-9a-f]{7,}|[0-9a-f]{8,})\b", "<hex>", ("",), True),
        # temporary files and folders (POSIX, macOS, Windows), up to the next quote, space or bracket
        (r"(?:/private)?/(?:tmp|var/tmp|var/folders|dev/shm)/[^\s'\"`),\]}>]*", "<tmp>",
         ("/tmp/", "/var/", "/dev/shm/"), False),
        (r"(?i)\b[a-z]:\\(?:[^\s'\"`\\]+\\)*?(?:temp|tmp)\\[^\s'\"`),\]}>]*", "<tmp>", (":\\",), False),
        (r"\b\d{1,3}(?:\.\d{1,3}){3}\b", "<ip>", (".",), True),
        # quoted ids: a quoted token of letters, digits, '-' and '_' with 2+ digits ('a8f3k2', 'req-2024-x1'),
        # except a word and a number ('user-4821', 'user_2'): the number rule makes both 'user-<n>', where
        # this one would make 'user_10' an id and leave 'user_2' to the number rule, two causes of one
        (r"(?<=['\"`])(?![A-Za-z]+(?:[_-][A-Za-z]+)*[_-]\d+['\"`])(?=[\w-]*\d[\w-]*\d)(?=[\w-]*[A-Za-z])[\w-]{4,64}(?=['\"`])",
         "<id>", ("'", '"', "`"), True),
        # any other number (ports, line numbers, counts, durations with a unit): not inside a word
        (r"(?<![A-Za-z0-9.])\d+(?:\.\d+)*(?=(?:ms|us|µs|ns|s|m|h|d|k|[KMG]i?B|b|px|%|x)?(?![A-Za-z0-9]))", "<n>",
         ("",), True),
    )
)  # fmt: skip
# What a volatile value became depends on the characters it happened to have ('dc521d5daf36' is <hex>,
# '476045684931' <n>, 'x9c21d5daf36' <id>): failures are grouped with the three as one, so the same
# breakage with other random ids is the same cause. The text shown keeps the placeholders.
_VALUE = re.compile(r"<(?:hex|id|n)>")
_DIGIT = re.compile(r"\d")
_SPACES = re.compile(r"\s+")
# pytest wraps setup/teardown errors: failed on setup with "ConnectionRefusedError: [Errno 111] ..."
_PHASE = re.compile(r'^failed on (?:setup|teardown|call) with "(?P<reason>.*?)"?$', re.S)
# "Type: message" where Type looks like an exception class (dotted, ending in a usual suffix)
_TYPED = re.compile(
    r"^(?P<type>(?:[A-Za-z_]\w*\.)*(?:[A-Za-z_]\w*?)?(?:Error|Exception|Exit|Failure|Failed|Interrupt|Warning"
    r"|Timeout|Iteration|Fault|Violation|Mismatch))(?::[ \t]*(?P<message>.*))?$",
    re.S,
)
_DOTTED = re.compile(r"^(?P<type>(?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*)(?::[ \t]*(?P<message>.*))?$", re.S)
# Messages that say only that something failed (or only where); the failure body knows more.
SAYS_NOTHING = frozenset(
    ("", "collection failure", "failed", "failure", "error", "failed subtests", *PLACEHOLDERS)
)


def normalise(text: str) -> str:
    """The message with its volatile parts replaced by placeholders, whitespace collapsed. Idempotent."""
    digits = _DIGIT.search(text) is not None
    for pattern, placeholder, needs, digit in _RULES:
        if (digits or not digit) and any(n in text for n in needs):
            text = pattern.sub(placeholder, text)
    return _SPACES.sub(" ", text).strip()


@dataclass(frozen=True, slots=True)
class Signature:
    text: str  # what groups failures: "ConnectionRefusedError: [Errno <n>] Connection refused"
    exception_type: str | None
    example: str  # the message it came from, as a person would want to read it

    key: str = field(init=False)  # what groups failures: the text with its value placeholders made one

    def __post_init__(self) -> None:  # once per signature (they are cached per raw message), not per failure
        object.__setattr__(self, "key", _VALUE.sub("<v>", self.text))

    @property
    def id(self) -> str:
        """A short stable id for the signature (store key, links, the failing tests' `cause`)."""
        return hashlib.sha1(self.key.encode("utf-8")).hexdigest()[:12]


def signature(
    message: str,
    exception_type: str | None = None,
    exception: str | None = None,
    last_frame: str | None = None,
) -> Signature:
    """The cause signature of one failure (see the module docstring)."""
    if exception_type and exception_type.lower() in SAYS_NOTHING:  # bats writes type="failure"
        exception_type = None
    text = visible(message).strip()  # with colours on or off, one failure is one cause
    phase = _PHASE.match(text)
    if phase:
        text = phase["reason"].strip()
    if (text.lower() in SAYS_NOTHING or text == exception_type or BARE_LOCATION.match(text)) and exception:
        text = exception
    kind, rest = _split_type(text, exception_type)
    kind = kind or exception_type
    if rest.endswith("…"):  # the excerpt was cut mid-word: the cut word would vary with the cut
        rest = rest[:-1].rsplit(" ", 1)[0] if " " in rest else rest[:-1]
    norm = normalise(rest)[:SIGNATURE_CHARS]
    if norm:
        return Signature(f"{kind}: {norm}" if kind else norm, kind, text)
    # Nothing but (at most) a type: where it was raised is what tells such failures apart.
    where = f"at {normalise(last_frame)[:SIGNATURE_CHARS]}" if last_frame else ""
    return Signature(" ".join(filter(None, (kind, where))) or "(no message)", kind, text or last_frame or "")


def _split_type(text: str, known: str | None) -> tuple[str | None, str]:
    """("Type", "message") when the text starts with an exception type: a usual name, or the known type
    (pytest's closing line) with or without its module ("requests.exceptions.InvalidSchema: ...")."""
    typed = _TYPED.match(text)
    if typed:
        return typed["type"], (typed["message"] or "").strip()
    dotted = _DOTTED.match(text) if known else None
    if dotted and dotted["type"].rsplit(".", 1)[-1] == known.rsplit(".", 1)[-1]:
        return dotted["type"], (dotted["message"] or "").strip()
    return None, text


@dataclass
class Cause:
    signature: str
    id: str
    exception_type: str | None
    example_message: str
    example_test: str
    tests: list[str] = field(default_factory=list)  # every failing test id of this cause, sorted
    outcomes: dict[str, int] = field(default_factory=dict)  # {"failed": n, "error": m}
    category: str | None = None
    folded: int = 0  # the FOLDED cause only: how many distinct signatures it holds

    @property
    def count(self) -> int:
        return len(self.tests)


def group_causes(
    failing: Iterable[FailingTest], categories: Sequence[Category] = (), clock: CategoryClock | None = None
) -> list[Cause]:
    """Failing tests grouped by signature, largest cause first (then by signature, for a stable order).

    The same raw failure is only normalised once: a broken fixture repeats one message thousands of times.
    `clock`: the run's time for category matching, shared by its suites (a fresh one: CATEGORY_SECONDS).
    """
    seen: dict[tuple[str, str | None, str | None, str | None], Signature] = {}
    causes: dict[str, Cause] = {}  # by signature key
    texts: dict[str, dict[str, int]] = {}  # key -> {text: failures}: a cause is named by its commonest text
    past = array("Q")  # the folded failures' signatures, as 48-bit ids: 8 bytes each, counted at the end
    # (a FailingTests makes each FailingTest when asked for, and has its ids without them)
    items = failing if isinstance(failing, Sequence) else list(failing)
    ids = items.test_ids if isinstance(items, FailingTests) else [f.test_id for f in items]
    for index in natural_order(ids):
        f = items[index]
        key = (f.message, f.exception_type, f.exception, f.last_frame)
        sig = seen.get(key)
        if sig is None:
            if len(seen) >= SIGNATURE_CACHE:  # a million distinct messages must not stay in memory
                seen.clear()
            sig = seen[key] = signature(*key)
        group = sig.key
        cause = causes.get(group)
        if cause is None and len(causes) >= MAX_CAUSES:
            past.append(int(sig.id, 16))
            cause = causes.get(FOLDED) or causes.setdefault(FOLDED, _folded(f.test_id))
        elif cause is None:
            cause = causes[group] = Cause(sig.text, sig.id, sig.exception_type, sig.example, f.test_id)
            texts[group] = {}
        if cause.signature != FOLDED:
            named = texts[group]
            named[sig.text] = named.get(sig.text, 0) + 1
        cause.tests.append(f.test_id)
        cause.outcomes[f.outcome] = cause.outcomes.get(f.outcome, 0) + 1
    if past:
        causes[FOLDED].folded = _distinct(past)
    for group, named in texts.items():
        if len(named) > 1:  # most failures' text, then the first in order: the same whatever the ids were
            causes[group].signature = min(named, key=lambda text: (-named[text], text))
    ranked = sorted(causes.values(), key=lambda c: (-c.count, c.signature))
    _categorise(ranked, categories, clock or CategoryClock())
    return ranked


def _distinct(ids: array) -> int:
    """How many distinct 48-bit ids `ids` holds, exactly: a set of all of them (990 000 folded causes)
    took 60 MB; split by their top 8 bits, a 256th of them is in a set at a time."""
    buckets = [array("Q") for _ in range(256)]
    for value in ids:
        buckets[value >> 40].append(value)
    return sum(len(set(bucket)) for bucket in buckets)


def _folded(first_test: str) -> Cause:
    folded = Signature(FOLDED, None, "")
    return Cause(FOLDED, folded.id, None, f"failures whose cause is not among the first {MAX_CAUSES:,} "
                 "distinct ones of this suite (each counted; see summary.tests.<suite>.causes)", first_test)  # fmt: skip


def distinct_causes(causes: Sequence[Cause]) -> int:
    """How many causes there are, the folded ones included (summary.tests.<suite>.causes)."""
    return sum(c.folded or 1 for c in causes)


class CategoryClock:
    """A run's time for category matching, shared by its suites (CATEGORY_SECONDS in all), and the time
    each category took, so that an overrun names the pattern that spent it."""

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = self.left = CATEGORY_SECONDS if seconds is None else seconds
        self.spent: dict[Category, float] = {}


def _categorise(causes: Sequence[Cause], categories: Sequence[Category], clock: CategoryClock) -> None:
    """Each cause's category: the first category (in file order) whose message regex and outcomes both
    match it (Allure's rule).

    The regexes come from pyproject.toml, which a pull request can change: one that backtracks
    catastrophically, such as `(a+)+$`, would hang the run on one message. Category by category, timed,
    so that when the run's time is spent the error names the category that spent most of it.
    """
    if not causes or not categories:
        return
    unassigned = list(causes)
    category = categories[0]
    start = time.monotonic()
    try:
        with _deadline(max(clock.left, 0.001)):
            for category in categories:
                left = []
                for cause in unassigned:
                    if _matches(category, cause):
                        cause.category = category.name
                    else:
                        left.append(cause)
                unassigned = left
                now = time.monotonic()
                clock.spent[category] = clock.spent.get(category, 0.0) + now - start
                clock.left -= now - start
                start = now
    except _Overrun:
        clock.spent[category] = clock.spent.get(category, 0.0) + time.monotonic() - start
        worst, took = max(clock.spent.items(), key=lambda kv: kv[1])
        raise ConfigError(
            f"{worst.where or worst.name}.message: matching [tool.healthdeck.categories] took more than "
            f"{clock.seconds:g} s over this run's failure messages, {took:.1f} s of it this pattern (one that "
            "backtracks catastrophically, such as (a+)+$, or one too slow for this many failures); simplify it"
        ) from None


def _matches(category: Category, cause: Cause) -> bool:
    if category.outcomes and not category.outcomes.intersection(cause.outcomes):
        return False
    return category.message is None or bool(
        category.message.search(cause.example_message) or category.message.search(cause.signature)
    )


class _Overrun(Exception):
    """The deadline passed (raised from SIGALRM's handler, inside the regex engine's loop)."""


def _alarm(_signum: int, _frame: object) -> None:
    raise _Overrun


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Raise _Overrun in the block after `seconds` of wall time. Python's regex engine checks for signals
    as it backtracks, so a runaway match stops. Only the main thread receives signals: elsewhere (a
    server's worker thread) there is no deadline."""
    try:
        previous = signal.signal(signal.SIGALRM, _alarm)
    except (ValueError, AttributeError):  # not the main thread; no SIGALRM (Windows)
        yield
        return
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

"""Failing tests counted exactly, whatever the caps, and ordered the way every renderer lists them.

The report lists at most `max_failing_listed` failing tests per suite, but the history keeps every
failing test of a run, so "how many are new" is exact whenever the run is in the history. The order of
any shortened list is: new failures first, then failures sharing their cause (or message) with many other tests
(one cause breaking many tests), then by suite and test name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from healthdeck.collectors.records import Record

from .history.model import FAILING
from .ordering import natural_key

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:
    from .context import Context
    from .history.baselines import NewFailures

FAILING_ORDER = (
    "Listed: new failures first, then failures whose cause many tests share, then by suite and name; "
    "the count is every failing test."
)


class FailureCounts(Record):
    total: int  # failing tests (failed + errors) over every suite: the true count, never a cap
    listed: int  # how many of them the report lists with a message
    new: int | None  # failing now, not failing in the baseline; None without a baseline
    new_exact: bool  # False when only the listed failures could be compared (run not in the history)
    named: NewFailures | None = None  # the new ones, the first of them named in the documented order

    @property
    def for_gate(self) -> NewFailures | None:
        """The new failures the no_new_failures condition counts; None when it cannot tell (no
        baseline, or an inexact count that found none)."""
        return self.named if self.new is not None and (self.new_exact or self.new) else None

    def headline(self, shown: int | None = None) -> str:
        """'10 000 failing tests (9 800 new) — showing 10'."""
        if self.new is None:
            new = ""
        elif self.new_exact:
            new = f" ({number(self.new)} new)"
        else:  # the baseline cannot speak for some ("0+ new" read as a typo)
            new = (
                f" (at least {number(self.new)} new)"
                if self.new
                else " (new or not: the baseline cannot tell for all)"
            )
        noun = "failing test" if self.total == 1 else "failing tests"
        cut = f" — showing {number(shown)}" if shown is not None and shown < self.total else ""
        return f"{number(self.total)} {noun}{new}{cut}"


def number(n: int | None) -> str:
    """10000 as '10 000' (a thin space would be lost in some terminals; a plain one reads fine); a count
    nobody knows (an imported console line that did not say it) as '—'."""
    return "—" if n is None else f"{n:,}".replace(",", " ")


def collection_errors(n: int) -> str:
    """What `n` collection errors (a test file pytest could not import or collect) mean for the figures:
    a module that never ran weighs one error in the pass rate, so a rate that still passes says so."""
    return (f"{number(n)} collection error{'' if n == 1 else 's'} (a test file that could not be collected: "
            "its tests did not run and are in no figure, the file counts as one error)")  # fmt: skip


def outcome_words(tests: dict) -> str:
    """'765 passed, 2 failed, 0 errors, 12 skipped': skipped, xfailed and flaky only when there are some."""
    words = [f"{number(tests[k])} {'error' if k == 'errors' and tests[k] == 1 else k}"
             for k in ("passed", "failed", "errors")]  # fmt: skip
    words += [f"{number(tests[k])} {k}" for k in ("skipped", "xfailed", "flaky") if tests.get(k)]
    return ", ".join(words)


def total_failing(summary: dict) -> int:
    # an imported run of an upstream console line may not know a count (None): it adds nothing here
    return sum((t.get("failed") or 0) + (t.get("errors") or 0) for t in (summary.get("tests") or {}).values())


def failure_counts(ctx: Context) -> FailureCounts:
    """Exact counts for the report in `ctx`: totals from the summary, new ones from the history.

    A run in the store is compared whole, a page of its failing tests at a time against the baseline
    (a stored run's, or the ones a report file lists); otherwise only the failures the report lists
    can be. A failure the baseline cannot speak for — its suite did not run there, or its list of
    failures was cut — is not counted as new, and makes the count inexact.
    """
    from .history.baselines import count_new, stored_failing  # with a baseline, which brought them in

    total = total_failing(ctx.summary)
    listed = len(ctx.failures)
    if ctx.compared is None:
        return FailureCounts(total, listed, None, True)
    sizes = cause_sizes(ctx.report.get("details") or {})
    first = [(f["suite"], f["test_id"]) for f in ordered(ctx.failures, sizes)]
    if ctx.current is not None:
        new = count_new(stored_failing(ctx.store, ctx.current, ctx.compared), ctx.compared, first)
        exact = True
    else:
        by_suite: dict[str, list[str]] = {}
        for f in ctx.failures:
            if f["outcome"] in FAILING:
                by_suite.setdefault(f["suite"], []).append(f["test_id"])
        new = count_new(((s, ids, None) for s, ids in by_suite.items()), ctx.compared, first)
        exact = listed >= total
    return FailureCounts(total, listed, new.count, exact and new.exact, new)


def ordered(failures: list[dict], sizes: Mapping[str, int] | None = None) -> list[dict]:
    """New first, then by how many tests share the failure's cause, then by suite and name.

    The cause (reports.causes) groups messages that differ only in numbers, ids or ports. `sizes`: each
    cause's exact count (cause_sizes), so a list cut at max_failing_listed ranks as the whole run does;
    without it (a report written before causes existed) the listed failures are counted, by cause or
    else by message.
    """
    sizes = sizes or {}
    shared = Counter(_shared_key(f) for f in failures)

    def share(f: dict) -> int:
        key = _shared_key(f)
        return sizes.get(key) or shared[key] if key else 1

    return sorted(
        failures,
        key=lambda f: (f.get("status") != "new", -share(f), f["suite"], natural_key(f["test_id"])),
    )


def cause_sizes(details: dict) -> dict[str, int]:
    """{cause id: its exact count} over the report's suites (details.tests.<suite>.causes)."""
    return {
        cause["id"]: cause["count"]
        for suite in ((details or {}).get("tests") or {}).values()
        if isinstance(suite, dict)
        for cause in suite.get("causes") or ()
        if isinstance(cause, dict) and cause.get("id") and isinstance(cause.get("count"), int)
    }


def _shared_key(failure: dict) -> str | None:
    return failure.get("cause") or failure.get("message") or None

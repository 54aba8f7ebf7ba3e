"""Failures against the baseline and the history: transitions, new and first-seen causes, slower tests.

`healthdeck collect` builds the report (causes are pure, see reports.causes), then, when it records
history, calls `compare_with_history` before writing: the full outcomes of this run are only known
there, and "fixed" needs them (a test that failed in the baseline and *passed* now — not one that was
skipped or removed).

Definitions (per suite, against the baseline run; docs/report-schema.md):
* new: failing now (failed or error), not failing in the baseline;
* fixed: failing in the baseline, passed now (a test that only passed on a rerun is flaky, not fixed);
* still failing: failing in both;
* flaky: flaky in this run (failed, then passed on a rerun), or failing now and flaky in the history
  (`history.trends.flaky_tests`). It overlaps the other three.
A suite the baseline did not run has no transitions (`null`), never "everything is new".
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from heapq import nsmallest

from .history.model import FAILING
from .ordering import Smallest, natural_key

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:  # collect --no-history never loads the store (SQLAlchemy)
    from healthdeck.collectors.junit import JUnitResult, Outcomes

    from .causes import Cause
    from .config import Config
    from .history.baselines import Baseline
    from .history.store import HistoryStore

DURATION_ROWS = 2000  # per suite and run: the store keeps the slowest tests above half the floor
# ids the run's outcomes are asked for at a time, to tell fixed from skipped or gone: each ask walks the
# run's tests once (a million fixed tests took 75 s asked 10 000 at a time, 19 s and 200 MB at 100 000)
SETTLE = 100_000


@dataclass(frozen=True)
class Transitions:
    """One suite against the baseline. Each list holds the first `cap` ids in natural order; `totals`
    counts them all; `new_at[i]` is 1 where the run's i-th failing test (FailingTests order) is new."""

    new: list[str]
    fixed: list[str]
    still_failing: list[str]
    flaky: list[str]
    totals: dict[str, int]
    new_at: bytearray

    def counts(self) -> dict[str, int]:
        return dict(self.totals)

    def listed(self) -> dict[str, list[str]]:
        return {key: getattr(self, key) for key in self.totals}


def transitions(
    failing_now: Sequence[str],
    failing_before: Iterable[tuple[str, str]],
    passed_now: Callable[[list[str]], Collection[str]],
    flaky_now: Iterable[str],
    cap: int,
) -> Transitions:
    """`failing_now`: this run's failing ids, sorted (FailingTests.test_ids; an id may repeat);
    `failing_before`: the baseline's non-passing (id, outcome) in any order, read once as it comes (a
    stored run's a page at a time); `passed_now(ids)`: those of `ids` that passed in this run. Holds a
    byte per failing test and the `cap` first of each list, never a set of a million ids."""
    n, flaky = len(failing_now), set(flaky_now)
    in_before = bytearray(n)
    still, fixed = 0, Smallest(cap)
    fixed_total, maybe_fixed = 0, []

    def settle(ids: list[str]) -> int:
        """Of ids that failed before and do not now: the ones that passed now (not flaky) are fixed."""
        passed = passed_now(ids)
        done = [t for t in ids if t in passed and t not in flaky]
        for t in done:
            fixed.add(t)
        return len(done)

    for test_id, outcome in failing_before:
        if outcome not in FAILING:
            continue
        j = bisect_left(failing_now, test_id)
        if j < n and failing_now[j] == test_id:
            still += 1
            while j < n and failing_now[j] == test_id:
                in_before[j] = 1
                j += 1
        else:
            maybe_fixed.append(test_id)
            if len(maybe_fixed) >= SETTLE:
                fixed_total += settle(maybe_fixed)
                maybe_fixed = []
    fixed_total += settle(maybe_fixed)

    def each(flag: int) -> Iterator[str]:
        """The ids (each once) that failed in the baseline too (flag 1), or did not (0)."""
        return (
            t
            for j, t in enumerate(failing_now)
            if in_before[j] == flag and (j == 0 or failing_now[j - 1] != t)
        )

    return Transitions(
        new=nsmallest(cap, each(0), key=natural_key),
        fixed=fixed.result(),
        still_failing=nsmallest(cap, each(1), key=natural_key),
        flaky=nsmallest(cap, flaky, key=natural_key),
        totals={
            "new": sum(1 for _ in each(0)),
            "fixed": fixed_total,
            "still_failing": still,
            "flaky": len(flaky),
        },
        new_at=in_before.translate(_NOT),
    )


_NOT = bytes([1, 0]) + bytes(254)  # bytes.translate table: 0 -> 1, 1 -> 0


def passed_in(outcomes: Outcomes | None) -> Callable[[list[str]], Collection[str]]:
    """Of some test ids, those that passed in this run (none is known without every test's outcome)."""
    if outcomes is None:
        return lambda ids: ()
    return lambda ids: {t for t, o in outcomes.of(ids).items() if o == "passed"}


@dataclass(frozen=True)
class SlowerTest:
    test_id: str
    seconds: float
    baseline_seconds: float

    @property
    def ratio(self) -> float:
        return self.seconds / self.baseline_seconds


def duration_regressions(
    now: Mapping[str, float], before: Mapping[str, float], floor: float, ratio: float
) -> list[SlowerTest]:
    """Tests at least `floor` seconds now and at least `ratio` times their baseline duration, worst first.

    A test without a recorded baseline duration is not listed: unknown is not slower.
    """
    slower = [
        SlowerTest(test_id, seconds, before[test_id])
        for test_id, seconds in now.items()
        if seconds >= floor and before.get(test_id, 0) > 0 and seconds >= ratio * before[test_id]
    ]
    return sorted(slower, key=lambda s: (-s.ratio, s.test_id))


MIN_TIMED_IN_BOTH = 5  # fewer tests timed in both runs say nothing of the runner as a whole


def runner_speed(now: Mapping[str, float], before: Mapping[str, float], kept_above: float) -> dict:
    """{"timed_in_both": n, "median_ratio": r}: how much slower (or faster) the median test that both runs
    timed (the store keeps times from `kept_above` up) ran now. A whole suite 1.7x slower on a busy
    runner makes "2x slower" tests of load alone; the reader weighs the list against this figure.
    `median_ratio` is null below MIN_TIMED_IN_BOTH tests."""
    ratios = sorted(x / before[t] for t, x in now.items() if x >= kept_above and before.get(t, 0) > 0)
    n = len(ratios)
    median = (ratios[n // 2] if n % 2 else (ratios[n // 2 - 1] + ratios[n // 2]) / 2) if n else None
    return {
        "timed_in_both": n,
        "median_ratio": round(median, 2) if median and n >= MIN_TIMED_IN_BOTH else None,
    }


def compare_with_history(
    report: dict,
    suites: Mapping[str, JUnitResult],
    store: HistoryStore | None,
    baseline: Baseline | None,
    config: Config,
) -> dict[str, Transitions]:
    """Fill the report's baseline-dependent triage: cause `new`/`first_seen`, transitions, slower tests;
    returns each compared suite's transitions.

    `suites` must have been collected with every test's outcome (JUnitOptions(keep_outcomes=True)).
    The baseline is a stored run or a report file; a file holds no durations (no slower tests), its
    causes only where it lists them all, and its failing tests only where that list was not cut.
    Without a store (`collect --no-history`) there is no first-seen run and no flaky history.
    """
    from .history.trends import flaky_tests

    s = report["summary"]
    here = {
        "run_key": s.get("run_key"),
        "git_sha": s.get("git_sha"),
        "branch": s.get("branch"),
        "ts": s["ts"],
    }
    stored = baseline is not None and baseline.origin == "history" and store is not None
    base_durations = store.durations_of(baseline.run.id) if stored else {}
    if stored:
        # A baseline written before causes were recorded cannot say which causes are new.
        by_suite = store.causes_of(baseline.run.id)
        recorded = {su for su, t in (baseline.summary.get("tests") or {}).items() if "causes" in t}
        base_causes = {su: set(by_suite.get(su, {})) for su in recorded}
    else:
        base_causes = baseline.causes if baseline else {}
    cap = config.max_failing_listed
    compared: dict[str, Transitions] = {}
    for suite, result in suites.items():
        summary, details = s["tests"][suite], report["details"]["tests"][suite]
        ran_before = baseline is not None and baseline.ran(suite)
        known = base_causes.get(suite) if ran_before else None
        seen = (
            store.first_seen(suite, [c["id"] for c in details["causes"]], project=s.get("project"))
            if store is not None
            else None
        )
        for cause in details["causes"]:
            if seen is not None:
                first = seen.get(cause["id"])
                cause["first_seen"] = first.ref() if first else here
            cause["new"] = cause["id"] not in known if known is not None else None
        # A suite the baseline did not run, or whose failing list it cut, has no transitions.
        if baseline is None or not ran_before or suite in baseline.partial:
            continue
        failing_now = result.failing.test_ids
        history_flaky = (
            {f.test_id for f in flaky_tests(store, suite, branch=s.get("branch"), project=s.get("project"),
                                            among=failing_now)}
            if store is not None and failing_now
            else set()
        )  # fmt: skip
        moved = transitions(
            failing_now,
            baseline.rows(suite),
            passed_in(result.outcomes),
            {*result.flaky, *history_flaky},
            cap,
        )
        compared[suite] = moved
        summary["transitions"] = moved.counts()
        details["transitions"] = {"baseline": baseline.run.ref()}
        for key, ids in moved.listed().items():
            details["transitions"][key] = ids
            details["transitions"][f"{key}_total"] = moved.totals[key]
        if stored and known is not None:  # durations were recorded with causes
            before = {t: x for (su, t), x in base_durations.items() if su == suite}
            slower = duration_regressions(
                result.durations or {}, before, config.duration_floor, config.duration_ratio
            )
            summary["duration_regressions"] = len(slower)
            details["duration_regressions"] = {
                "floor_seconds": config.duration_floor,
                "ratio": config.duration_ratio,
                "baseline": baseline.run.ref(),
                "tests": [
                    {
                        "test_id": x.test_id,
                        "seconds": x.seconds,
                        "baseline_seconds": x.baseline_seconds,
                        "ratio": round(x.ratio, 2),
                    }
                    for x in slower[:cap]
                ],
                "tests_total": len(slower),
                # at least the floor now, no recorded time then: faster than half the floor in the
                # baseline (the store keeps no shorter time) or new there; slower perhaps, not known
                "unrecorded": sum(
                    1
                    for t, x in (result.durations or {}).items()
                    if x >= config.duration_floor and t not in before
                ),
                **runner_speed(result.durations or {}, before, durations_kept_above(config)),
            }

    return compared


def cause_rows(causes: Mapping[str, list[Cause]]) -> list[tuple[str, str, str, int]]:
    """(suite, cause id, signature, count) for the history store: every cause, not only the listed ones."""
    return [(suite, c.id, c.signature, c.count) for suite, listed in causes.items() for c in listed]


def duration_rows(suites: Mapping[str, JUnitResult]) -> list[tuple[str, str, float]]:
    """(suite, test id, seconds) for the history store: the slowest DURATION_ROWS tests kept per suite."""
    rows = []
    for suite, result in suites.items():
        ranked = sorted((result.durations or {}).items(), key=lambda kv: (-kv[1], kv[0]))[:DURATION_ROWS]
        rows += [(suite, test_id, seconds) for test_id, seconds in ranked]
    return rows


def durations_kept_above(config: Config) -> float:
    """Store durations from half the floor up, so a test that doubles to just over the floor is caught."""
    return config.duration_floor / 2

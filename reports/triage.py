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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .ordering import natural_key

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:  # collect --no-history never loads the store (SQLAlchemy)
    from healthdeck.collectors.junit import JUnitResult

    from .causes import Cause
    from .config import Config
    from .history.baselines import Baseline
    from .history.store import HistoryStore

DURATION_ROWS = 2000  # per suite and run: the store keeps the slowest tests above half the floor
FAILING = ("failed", "error")


@dataclass(frozen=True)
class Transitions:
    new: list[str]
    fixed: list[str]
    still_failing: list[str]
    flaky: list[str]

    def counts(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.__dict__.items()}


def transitions(
    failing_now: Iterable[str],
    outcomes_now: Mapping[str, str],
    failing_before: Iterable[str],
    flaky_now: Iterable[str],
) -> Transitions:
    """Each list sorted by test id, numbers in ids as numbers. `outcomes_now`: every test of this run (id -> outcome)."""
    now, before, flaky = set(failing_now), set(failing_before), set(flaky_now)
    return Transitions(
        new=sorted(now - before, key=natural_key),
        fixed=sorted(
            (t for t in before - now if outcomes_now.get(t) == "passed" and t not in flaky), key=natural_key
        ),
        still_failing=sorted(now & before, key=natural_key),
        flaky=sorted(flaky, key=natural_key),
    )


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
    base_failing = baseline.failing if baseline else {}
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
        base_suite = ((baseline.summary.get("tests") or {}).get(suite)) if baseline else None
        known = base_causes.get(suite) if base_suite is not None else None
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
        if baseline is None or base_suite is None or suite in baseline.partial:
            continue
        failing_now = [f.test_id for f in result.failing]
        history_flaky = (
            {f.test_id for f in flaky_tests(store, suite, branch=s.get("branch"), project=s.get("project"))}
            if store is not None
            else set()
        )
        failing_before = [t for (su, t), o in base_failing.items() if su == suite and o in FAILING]
        moved = transitions(
            failing_now,
            result.outcomes.of(failing_before) if result.outcomes is not None else {},  # only those: fixed?
            failing_before,
            {*result.flaky, *history_flaky.intersection(failing_now)},
        )
        compared[suite] = moved
        summary["transitions"] = moved.counts()
        details["transitions"] = {"baseline": baseline.run.ref()}
        for key, ids in moved.__dict__.items():
            details["transitions"][key] = ids[:cap]
            details["transitions"][f"{key}_total"] = len(ids)
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

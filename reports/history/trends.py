"""Trends, deltas against a baseline, flaky tests across runs, and new-versus-known failures."""

from __future__ import annotations

import itertools
from array import array
from bisect import bisect_left
from collections.abc import MutableSequence, Sequence
from pathlib import Path

from healthdeck.collectors.records import Record

from . import BASELINE_HELP
from .model import FAILING, Run

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:  # these functions only call the reader's methods, whichever database runs them
    from .reader import HistoryReader

STORE_KINDS = ("previous", "branch", "tag", "sha", "run")


class BaselineError(Exception):
    """The baseline spec cannot be understood (not: no such run, which is simply None)."""


def resolve_baseline(
    store: HistoryReader, spec: str, current: Run | None, repo: str | Path = "."
) -> Run | None:
    """The stored run to compare `current` with; None when history has no such run.

    `previous`, `branch:`, `tag:` and `sha:` stay within the current run's project; `run:KEY` is exact.
    """
    before = current.ts if current else None
    exclude = current.run_key if current else None
    project = current.project if current else None
    kind, _, value = spec.partition(":")
    until = None if before is None else before + 1
    if kind == "previous":
        branch = current.branch if current else None
        # the newest two: one may be `current`
        candidates = store.runs(branch=branch, before_ts=until, limit=2, project=project)
    elif kind == "branch" and value:
        candidates = store.runs(branch=value, before_ts=until, limit=2, project=project)
    elif kind == "tag" and value:
        sha = _git_rev(repo, value)
        # without the tag in a clone (a fresh runner, the dashboard host): the runs recorded at it
        found = store.latest_for_sha(sha, project) if sha else store.latest_for_tag(value, project)
        return found if found and found.run_key != exclude else None
    elif kind == "sha" and value:
        found = store.latest_for_sha(value, project)
        return found if found and found.run_key != exclude else None
    elif kind == "run" and value:
        return store.run(value)
    else:
        raise BaselineError(f"baseline {spec!r} is not one of: {BASELINE_HELP}")
    candidates = [r for r in candidates if r.run_key != exclude]
    return candidates[-1] if candidates else None


def _git_rev(repo: str | Path, ref: str) -> str | None:
    import subprocess  # here: only a tag: baseline runs git

    try:
        done = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    except OSError:  # no git on this host (a dashboard container): the store's own tags answer
        return None
    return done.stdout.strip() or None


def delta(current: float | None, baseline: float | None) -> float | None:
    return None if current is None or baseline is None else current - baseline


class FlakyTest(Record):
    suite: str
    test_id: str
    same_commit: bool  # failed and passed on the same commit (including in-run reruns)
    flip_rate: float | None  # outcome changes ÷ (runs − 1) over the window; None below the minimum sample
    runs: int


def flaky_tests(
    store: HistoryReader,
    suite: str,
    branch: str | None = None,
    window: int = 30,
    min_runs: int = 5,
    min_flip_rate: float = 0.1,
    project: str | None = None,
    among: Sequence[str] | None = None,
) -> list[FlakyTest]:
    """Tests that both passed and failed on one commit, or flip between passing and failing often
    (two flips or more, at least `min_flip_rate` of the runs) over the last `window` runs.

    History keeps non-passing outcomes only, so "passed" means: the suite ran in that run and the test
    was not among its failures. Runs of one commit are compared only when the suite held as many tests
    in each: a rerun with another selection (a shard, `-k`) did not run the test it "passed".

    `among`: only these test ids (sorted), read a run at a time (in pages, or looked up when they are
    fewer than the run's failures) and kept as one bit per run each, so a run failing a million tests
    costs megabytes, not the gigabyte a dict of their histories took. Without it every test whose
    history may hold a change is judged (the dashboard's list; `changing_history`).
    """
    runs = [
        r
        for r in store.runs(branch=branch, limit=window, project=project)
        if suite in (r.summary.get("tests") or {})
    ]
    groups: dict[tuple[str, object], list[int]] = {}  # runs of one commit (and suite size), by position
    for i, run in enumerate(runs):
        if run.git_sha:
            groups.setdefault((run.git_sha, (run.summary["tests"][suite] or {}).get("total")), []).append(i)
    same = [g for g in groups.values() if len(g) > 1]
    rate_runs = len(runs) if len(runs) >= max(min_runs, 2) else None

    def judged(test_id: str, failing: int, in_run: bool) -> FlakyTest | None:
        """`failing`: bit i set when the test failed in runs[i]; `in_run`: flaky within some run."""
        bits = [(failing >> i) & 1 for i in range(len(runs))]
        same_commit = in_run or any(len({bits[i] for i in group}) == 2 for group in same)
        flips = sum(a != b for a, b in itertools.pairwise(bits))
        rate = flips / (rate_runs - 1) if rate_runs else None
        # One flip is a test that broke (or was fixed), not a flaky one: it takes two or more.
        if same_commit or (flips >= 2 and (rate or 0) >= min_flip_rate):
            return FlakyTest(suite, test_id, same_commit, rate, len(runs))
        return None

    if among is None:
        grouped = [runs[i].id for group in same for i in group]
        history = store.changing_history(suite, [r.id for r in runs], grouped)
        found = (
            judged(t, sum(1 << i for i, r in enumerate(runs) if got.get(r.id) in FAILING),
                   any(o == "flaky" for o in got.values()))
            for t, got in history.items()
        )  # fmt: skip
    else:
        failing, in_run = _bits_among(store, suite, runs, among)
        found = (
            judged(t, failing[j], j in in_run)
            for j, t in enumerate(among)
            if (failing[j] or j in in_run) and (j == 0 or among[j - 1] != t)
        )
    out = [f for f in found if f is not None]
    return sorted(out, key=lambda f: (not f.same_commit, -(f.flip_rate or 0), f.test_id))


def _bits_among(
    store: HistoryReader, suite: str, runs: list[Run], among: Sequence[str]
) -> tuple[MutableSequence[int], set[int]]:
    """For each position j of the sorted `among`: bit i set when among[j] failed in runs[i]; and the
    positions flaky within some run. No run's rows are held whole: read in pages, or looked up."""
    n = len(among)
    failing: MutableSequence[int] = array("Q", bytes(8 * n)) if len(runs) <= 64 else [0] * n
    in_run: set[int] = set()
    for i, run in enumerate(runs):
        counts = run.summary["tests"][suite] or {}
        recorded = sum(counts.get(k) or 0 for k in ("failed", "errors", "flaky"))
        # a few ids (the ones a report lists) are looked up; many are met in the run's pages
        rows = (
            store.outcomes_in(run.id, suite, among).items()
            if n < recorded
            else (row for page in store.failing_pages(run.id, suite) for row in page)
        )
        for test_id, outcome in rows:
            j = bisect_left(among, test_id)
            if j < n and among[j] == test_id:
                if outcome in FAILING:
                    failing[j] |= 1 << i
                elif outcome == "flaky":
                    in_run.add(j)
    return failing, in_run


class CaseRun(Record):
    run: Run
    outcome: str  # failed | error | flaky | passed ("passed": the suite ran and the test was not failing)
    seconds: float | None  # None when the run did not record it (faster than the recording floor)


class CaseHistory(Record):
    """One test's own history over the last runs that ran its suite (oldest first)."""

    suite: str
    test_id: str
    runs: list[CaseRun]
    failing_since: Run | None  # first run of the current failing streak; None when it is not failing now
    streak_covers_window: bool  # the streak may have started before the oldest run shown
    last_passed: Run | None  # the newest run (and so commit) where it passed
    recorded: bool = True  # the store holds something of it (a failure or a duration) in these runs


def case_history(
    store: HistoryReader,
    suite: str,
    test_id: str,
    branch: str | None = None,
    window: int = 30,
    project: str | None = None,
) -> CaseHistory:
    """The last `window` outcomes as a strip, when the test started failing, the last run where it passed,
    and its recorded durations (history keeps non-passing outcomes and slower tests' durations only)."""
    runs = [
        r
        for r in store.runs(branch=branch, limit=window, project=project)
        if suite in (r.summary.get("tests") or {})
    ]
    timeline = store.test_timeline(suite, test_id, [r.id for r in runs])
    strip = [CaseRun(r, timeline[r.id][0] or "passed", timeline[r.id][1]) for r in runs]
    failing = [c.outcome in FAILING for c in strip]
    streak = next((i for i in range(len(failing) - 1, -1, -1) if not failing[i]), -1) + 1
    passed = [c.run for c in strip if c.outcome == "passed"]
    return CaseHistory(
        suite=suite,
        test_id=test_id,
        runs=strip,
        failing_since=strip[streak].run if strip and failing[-1] else None,
        streak_covers_window=bool(strip) and streak == 0 and failing[-1],
        last_passed=passed[-1] if passed else None,
        recorded=any(outcome is not None or seconds is not None for outcome, seconds in timeline.values()),
    )

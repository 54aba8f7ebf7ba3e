"""Trends, deltas against a baseline, flaky tests across runs, and new-versus-known failures."""

from __future__ import annotations

import itertools
from pathlib import Path

from healthdeck.collectors.records import Record

from . import BASELINE_HELP
from .model import Run

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
) -> list[FlakyTest]:
    """Tests that both passed and failed on one commit, or flip between passing and failing often
    (two flips or more, at least `min_flip_rate` of the runs) over the last `window` runs.

    History keeps non-passing outcomes only, so "passed" means: the suite ran in that run and the test
    was not among its failures. Runs of one commit are compared only when the suite held as many tests
    in each: a rerun with another selection (a shard, `-k`) did not run the test it "passed".
    """
    runs = [
        r
        for r in store.runs(branch=branch, limit=window, project=project)
        if suite in (r.summary.get("tests") or {})
    ]
    history = store.test_history(suite, [r.id for r in runs])
    by_sha: dict[tuple[str, object], list[Run]] = {}
    for run in runs:
        if run.git_sha:
            size = (run.summary["tests"][suite] or {}).get("total")
            by_sha.setdefault((run.git_sha, size), []).append(run)
    out = []
    for test_id, outcomes in history.items():
        failing = [outcomes.get(r.id) in ("failed", "error") for r in runs]
        in_run = any(o == "flaky" for o in outcomes.values())
        same_commit = in_run or any(
            len(group) > 1 and len({outcomes.get(r.id) in ("failed", "error") for r in group}) == 2
            for group in by_sha.values()
        )
        flips = sum(a != b for a, b in itertools.pairwise(failing))
        rate = flips / (len(runs) - 1) if len(runs) >= max(min_runs, 2) else None
        # One flip is a test that broke (or was fixed), not a flaky one: it takes two or more.
        if same_commit or (flips >= 2 and (rate or 0) >= min_flip_rate):
            out.append(FlakyTest(suite, test_id, same_commit, rate, len(runs)))
    return sorted(out, key=lambda f: (not f.same_commit, -(f.flip_rate or 0), f.test_id))


def classify_failures(current: dict[str, str], baseline: dict[str, str] | None) -> dict[str, str]:
    """test id -> "new" (not failing in the baseline) or "known"; all "unknown" without a baseline."""
    if baseline is None:
        return dict.fromkeys(current, "unknown")
    return {t: ("known" if baseline.get(t) in ("failed", "error") else "new") for t in current}


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
    failing = [c.outcome in ("failed", "error") for c in strip]
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

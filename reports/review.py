"""The release review: a candidate run against a baseline run of the history store, both with the
verdict they were given. One place for the dashboard's Release review page and `healthdeck review`.
"""

from __future__ import annotations

import re
import time

from healthdeck.collectors.records import Record

from .context import compared_with
from .gate import evaluate
from .history.baselines import FILE_KINDS, Baseline, NewFailures, count_new, stored_failing
from .history.trends import resolve_baseline
from .render.review import metric_deltas, render_review

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:
    from .config import Config
    from .history.reader import HistoryReader
    from .history.store import Run

# `git describe` of a commit that is not exactly a tag: a bare sha, `-N-gSHA`, or `-dirty`.
NOT_A_TAG = r"^[0-9a-f]{7,40}(?:-dirty)?$|-\d+-g[0-9a-f]+(?:-dirty)?$|-dirty$"


def is_release(version: object) -> bool:
    """True when `git describe` named a tag exactly (not a commit past it, not a bare sha)."""
    return isinstance(version, str) and bool(version) and re.search(NOT_A_TAG, version) is None


def label(run: Run) -> str:
    """How a run is named in the review: time, commit, branch, release tag and verdict."""
    when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(run.ts))
    tag = f" · {run.version}" if is_release(run.version) else ""
    return f"{when} UTC · {run.short_sha or run.run_key[:12]} · {run.branch or '—'}{tag} · {run.verdict or 'not gated'}"


def default_baseline(store: HistoryReader, candidate: Run) -> Run | None:
    """The last release before the candidate (the first run of its tag), else the stored run its gate
    (else collect) compared it with, else the previous run on the candidate's branch. "Before" is the
    store's order (time, then id): two runs of the same second still come one after the other."""
    rows = []
    for r in store.run_index(project=candidate.project):  # oldest first
        if r["run_key"] == candidate.run_key:
            break
        rows.append(r)
    releases = [r for r in rows if is_release(r["version"])]
    if releases:
        last = releases[-1]["version"]
        return store.run(next(r for r in releases if r["version"] == last)["run_key"])
    if (gated := gated_against(store, candidate, {r["run_key"] for r in rows})) is not None:
        return gated
    same = [r for r in rows if r["branch"] == candidate.branch]
    return store.run(same[-1]["run_key"]) if same else None


def gated_against(store: HistoryReader, candidate: Run, before: set[str]) -> Run | None:
    """The stored run the candidate's verdict (else collect's preview) compared with, when it is one of
    `before` (the project's runs before the candidate, in the store's order: never another project's
    nor a later one). A pull request's first push has no earlier run of its branch, and its comment and
    verdict speak of a run of the base branch: the review compares with the same one. A file baseline
    (report:, git:) is not in the store; a stored verdict names its run by key, so the review finds the
    very run the gate used."""
    report = store.report(candidate)
    spec = compared_with(report) if report else None
    if not spec or spec.partition(":")[0] in FILE_KINDS:
        return None
    run = store.run(spec[4:]) if spec.startswith("run:") else resolve_baseline(store, spec, candidate)
    return run if run is not None and run.run_key in before else None


class Review(Record):
    candidate: Run
    baseline: Run | None  # None: nothing before the candidate to compare with
    verdicts: tuple[dict, dict | None]  # candidate's, baseline's; `evaluated_here` when never gated
    deltas: list[dict]
    new_failures: NewFailures | None  # None: the baseline cannot tell
    markdown: str


def stored_verdict(store: HistoryReader, run: Run) -> dict | None:
    """The verdict `healthdeck gate` gave the run, with its conditions, as the store keeps it."""
    if run.verdict is None:
        return None
    verdict = ((store.report(run) or {}).get("details") or {}).get("verdict")
    return verdict if isinstance(verdict, dict) and verdict.get("status") == run.verdict else None


def evaluated_here(
    summary: dict, config: Config, *, baseline: dict | None = None, new_failures: NewFailures | None = None
) -> dict:
    """The checklist evaluated on a reader (review, dashboard) for a run `healthdeck gate` never decided
    on, marked so. Without "current report" and "age": they are about the checkout where the gate runs,
    and every run a dashboard host shows is old and checked out nowhere."""
    # left out of the evaluation, not filtered from its result: an always-PASS age would count as evidence
    gates = config.gates._replace(report_current=False, max_age_hours=None)
    verdict = evaluate(summary, gates, config.prod_lanes, now=summary["ts"], smoke=config.smoke_suite,
                       baseline=baseline, new_failures=new_failures)  # fmt: skip
    return {**verdict, "evaluated_here": True}


def _verdict(store: HistoryReader, run: Run, config: Config, **against) -> dict:
    """The stored verdict; for a run nobody gated, the checklist evaluated here (and marked so)."""
    stored = stored_verdict(store, run)
    if stored is not None:
        return {**stored, "evaluated_here": False}
    return evaluated_here({**run.summary, "ts": run.ts}, config, **against)


def new_failures(store: HistoryReader, candidate: Run, baseline: Run) -> NewFailures | None:
    """The candidate's failing tests that did not fail in the baseline, compared suite by suite as the
    gate compares (the count exact, the first NEW_NAMED named by suite and natural order); None when the
    baseline cannot tell (a suite failing now did not run there) and no new failure was found elsewhere."""
    base = Baseline.of_run(store, baseline)
    new = count_new(stored_failing(store, candidate, base), base)
    return new if new.count or new.exact else None


def review(store: HistoryReader, candidate: Run, baseline: Run | None, config: Config) -> Review:
    """The candidate against the baseline; with no baseline (a project's or branch's first run, no
    release before it) the candidate alone, its figures and its verdict."""
    if baseline is None:
        verdict = _verdict(store, candidate, config)
        deltas = metric_deltas(store.metrics_of(candidate.id), {})
        markdown = render_review({"label": label(candidate), "summary": candidate.summary}, None,
                                 (verdict, None), deltas, None)  # fmt: skip
        return Review(candidate, None, (verdict, None), deltas, None, markdown)
    new = new_failures(store, candidate, baseline)
    verdicts = (
        _verdict(store, candidate, config, baseline=baseline.summary, new_failures=new),
        _verdict(store, baseline, config),
    )
    deltas = metric_deltas(store.metrics_of(candidate.id), store.metrics_of(baseline.id))
    markdown = render_review({"label": label(candidate), "summary": candidate.summary},
                             {"label": label(baseline), "summary": baseline.summary}, verdicts, deltas, new)  # fmt: skip
    return Review(candidate, baseline, verdicts, deltas, new, markdown)

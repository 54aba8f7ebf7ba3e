"""A report, the history around it, and what comparing them says: shared by gate, comment and the dashboard."""

from __future__ import annotations

from pathlib import Path

from healthdeck.collectors.records import Record

from . import DEFAULT_REPORT
from .history.baselines import Baseline, find_baseline
from .history.model import Run
from .history.trends import flaky_tests

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:  # a report-file baseline needs no store at all
    from typing import Literal

    from .history.reader import HistoryReader


class Context(Record):
    """A report, the history around it, and what comparing them says."""

    report: dict
    store: HistoryReader | None
    current: Run | None
    baseline: Run | None  # a stored run, or a stand-in (id 0) for a report:/git: baseline
    failures: list[dict]  # every failing test the report lists, marked new/known/unknown and flaky
    compared: Baseline | None = None  # the baseline itself: its failing tests, read as needed
    baseline_origin: str | None = None  # history | report | git
    baseline_spec: str | None = None

    @property
    def summary(self) -> dict:
        return self.report["summary"]


def _probe(report: dict, store: HistoryReader | None, project: str | None) -> tuple[Run | None, Run]:
    """(the report's own run in the store, a Run standing for the report): works before the run is
    stored too (collect compares before it appends)."""
    s = report["summary"]
    current = store.run(s["run_key"]) if store is not None and s.get("run_key") else None
    probe = current or Run(0, s.get("run_key") or "", s.get("git_sha_full"), s.get("branch"), s.get("version"),
                           int(s["ts"]), None, "report", False, None, s, s.get("project"))  # fmt: skip
    if project:
        probe = probe._replace(project=project)
    return current, probe


def compared_with(report: dict) -> str | None:
    """The baseline this report was compared with, as a spec: the stored verdict's, else the one collect
    previewed the checklist (and computed the triage) against. So collect, gate and comment speak of one
    baseline unless a command line names another."""
    details = report.get("details") or {}
    sources = (details.get("verdict") if report["summary"].get("verdict") else None, details.get("checklist"))
    for decided in sources:
        ref = (decided or {}).get("baseline") or {}
        if ref.get("spec"):
            return ref["spec"]
        if ref.get("run_key"):
            return f"run:{ref['run_key']}"
        if (decided or {}).get("baseline_spec"):  # asked for and not found: not some other run instead
            return decided["baseline_spec"]
    return None


def baseline_for(
    report: dict,
    store: HistoryReader | None,
    spec: str,
    repo: str | Path = ".",
    *,
    committed_report: str | Path = DEFAULT_REPORT,
) -> Baseline | None:
    """The baseline collect's triage compares with: a stored run, or a report file (report:/git:)."""
    return find_baseline(
        store, spec, _probe(report, store, None)[1], repo=repo, committed_report=committed_report
    )


def context(
    report: dict,
    store: HistoryReader | None,
    spec: str,
    repo: str | Path = ".",
    *,
    committed_report: str | Path = DEFAULT_REPORT,
    project: str | None = None,
    found: Baseline | Literal["look up"] | None = "look up",
) -> Context:
    """`project` overrides the report's own (--project); `committed_report` is where `git:REF` looks;
    `found`: the baseline already found for this report (collect's triage found it: a `git:` baseline
    is not read from git twice)."""
    s = report["summary"]
    current, probe = _probe(report, store, project)
    base = (
        find_baseline(store, spec, probe, repo=repo, committed_report=committed_report)
        if found == "look up"
        else found
    )
    failures: list[dict] = []
    for suite, det in ((report.get("details") or {}).get("tests") or {}).items():
        listed = [f["test_id"] for f in det["failing"]]
        status = base.classify(suite, listed) if base is not None else dict.fromkeys(listed, "unknown")
        flaky = (
            {f.test_id for f in flaky_tests(store, suite, branch=s.get("branch"), project=probe.project,
                                            among=sorted(set(listed)))}
            if store is not None and listed
            else set()
        )  # fmt: skip
        for f in det["failing"]:
            failures.append(
                {**f, "suite": suite, "status": status[f["test_id"]], "flaky": f["test_id"] in flaky}
            )
    if base is None:
        return Context(report, store, current, None, failures, baseline_spec=spec)
    return Context(report, store, current, base.run, failures, base, base.origin, spec)

"""What the history store hands out: plain records, importable without the database layer."""

from __future__ import annotations

from healthdeck.collectors.records import Record

FAILING = ("failed", "error")  # the outcomes that fail a run ("flaky" passed on a rerun)


class Run(Record):
    id: int
    run_key: str
    git_sha: str | None
    branch: str | None
    version: str | None
    ts: int
    ci_run_id: str | None
    source: str
    approximate: bool
    verdict: str | None
    summary: dict
    project: str | None = None
    tag: str | None = None

    @property
    def short_sha(self) -> str:
        return (self.git_sha or "")[:8]

    def ref(self) -> dict:
        """How a report names this run: `verdict.baseline`, a cause's `first_seen`, the transitions' baseline."""
        return {"run_key": self.run_key, "git_sha": self.short_sha, "branch": self.branch, "ts": self.ts}


class ProjectSummary(Record):
    """One project of a shared store: its newest run and the recent values of the asked-for metrics."""

    project: str | None
    runs: int
    latest: Run
    series: dict[str, list[tuple[int, float]]]  # metric -> [(ts, value)] oldest first


class PruneResult(Record):
    deleted: list[Run]
    kept: int

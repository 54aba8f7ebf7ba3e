"""The all-projects overview for leads: one row per project of a shared store, worst first.

Each row reads the project's newest run and its stored report (one per project, so the cost does not
grow with the number of runs), with the configuration that report was made with: its smoke suite and
its prod lanes, not the dashboard host's. The verdict is the one `healthdeck gate` stored; a run nobody
gated is "not gated", never GO (a failing checklist is still NO-GO, as on the overview's banner).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from healthdeck.reports.config import Config, ruff_in_prod
from healthdeck.reports.gate import NOT_GATED, smoke_suite, ungated_word
from healthdeck.reports.history.store import HistoryStore
from healthdeck.reports.report_config import effective_config
from healthdeck.reports.review import evaluated_here

SPARK_RUNS = 30
# Worst first: a failing release, then one that cannot be decided, then one nobody decided, then GO.
RANK = {"NO-GO": 0, "INCOMPLETE": 1, NOT_GATED: 2, "GO": 3}


@dataclass
class ProjectRow:
    project: str | None
    verdict: (
        str  # GO | NO-GO | INCOMPLETE as gated; "NO-GO (not gated)", "INCOMPLETE (not gated)" or "not gated"
    )
    smoke_suite: str | None
    pass_rate: float | None  # percent
    coverage: float | None  # percent
    ruff_prod: int | None
    last_run_ts: int
    runs: int
    spark: list[float] = field(default_factory=list)  # smoke pass rate (percent) over the newest runs

    @property
    def rank(self) -> tuple:
        word = next((w for w in ("NO-GO", "INCOMPLETE") if self.verdict.startswith(w)), None)
        word = word or (self.verdict if self.verdict in RANK else NOT_GATED)
        missing = -1.0  # an unknown figure sorts before every known one: it is not evidence of health
        return (RANK[word], self.pass_rate if self.pass_rate is not None else missing,
                self.coverage if self.coverage is not None else missing, self.project or "")  # fmt: skip


def project_rows(store: HistoryStore, local: Config) -> list[ProjectRow]:
    """Every project of the store, worst first."""
    prefer = local.default_branches
    newest = store.projects(spark=1, prefer=prefer)
    made: list[tuple] = []
    for summary in newest:
        report = store.report(summary.latest) or {"summary": summary.latest.summary}
        config, _ = effective_config(report, local)
        made.append((summary, report, config, smoke_suite(report["summary"], config.smoke_suite)[0]))
    names = tuple(sorted({f"tests.{suite}.pass_rate" for *_, suite in made if suite}))
    series = ({p.project: p.series for p in store.projects(spark=SPARK_RUNS, names=names, prefer=prefer)}
              if names else {})  # fmt: skip
    rows = []
    for summary, report, config, suite in made:
        s, run = report["summary"], summary.latest
        verdict = run.verdict or (report.get("details") or {}).get("verdict", {}).get("status")
        if verdict is None:
            verdict = ungated_word(evaluated_here(report["summary"], config)["status"])
        rate = ((s.get("tests") or {}).get(suite) or {}).get("pass_rate") if suite else None
        points = series.get(summary.project, {}).get(f"tests.{suite}.pass_rate", [])
        rows.append(ProjectRow(
            project=summary.project, verdict=verdict, smoke_suite=suite,
            pass_rate=None if rate is None else rate * 100, coverage=(s.get("coverage") or {}).get("percent"),
            ruff_prod=ruff_in_prod(s, config.prod_lanes), last_run_ts=run.ts, runs=summary.runs,
            spark=[round(v * 100, 2) for _, v in points],  # as shown: a change the table cannot show is flat (grey), not red
        ))  # fmt: skip
    return sorted(rows, key=lambda r: r.rank)

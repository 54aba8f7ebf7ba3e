"""A report, the history around it, and what comparing them says: shared by gate, comment and the dashboard."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InputError

if TYPE_CHECKING:  # the store (SQLAlchemy) loads only when a history is compared: badge never needs it
    from .history.store import HistoryStore, Run


def load_report(path: str | Path) -> dict:
    try:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read the report: {exc.strerror or exc}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a JSON report: {exc}") from exc
    if not isinstance(report, dict) or "summary" not in report or "schema_version" not in report:
        raise InputError(f"{path}: not a healthdeck report (no schema_version/summary)")
    return report


@dataclass
class Context:
    """A report, the history around it, and what comparing them says."""

    report: dict
    store: HistoryStore
    current: Run | None
    baseline: Run | None
    failures: list[dict]  # every failing test of the report, marked new/known and flaky

    @property
    def summary(self) -> dict:
        return self.report["summary"]


def baseline_for(
    report: dict, store: HistoryStore, spec: str, repo: str | Path = "."
) -> tuple[Run | None, Run | None]:
    """(the report's own run in the store, the baseline run); either may be None.

    Works before the report's run is stored too (collect compares before it appends).
    """
    from .history.store import Run
    from .history.trends import resolve_baseline

    s = report["summary"]
    current = store.run(s["run_key"]) if s.get("run_key") else None
    probe = current or Run(0, s.get("run_key") or "", s.get("git_sha_full"), s.get("branch"), s.get("version"),
                           int(s["ts"]), None, "report", False, None, s)  # fmt: skip
    return current, resolve_baseline(store, spec, probe, repo)


def context(report: dict, store: HistoryStore, spec: str, repo: str | Path = ".") -> Context:
    from .history.trends import classify_failures, flaky_tests

    s = report["summary"]
    current, baseline = baseline_for(report, store, spec, repo)
    base_failing = store.failing_of(baseline.id) if baseline else None
    failures = []
    for suite, det in ((report.get("details") or {}).get("tests") or {}).items():
        current_failing = {f["test_id"]: f["outcome"] for f in det["failing"]}
        # A suite the baseline did not run cannot tell new failures from known ones.
        ran_before = base_failing is not None and suite in (baseline.summary.get("tests") or {})
        base = {t: o for (su, t), o in base_failing.items() if su == suite} if ran_before else None
        status = classify_failures(current_failing, base)
        flaky = {f.test_id for f in flaky_tests(store, suite, branch=s.get("branch"))}
        for f in det["failing"]:
            failures.append(
                {**f, "suite": suite, "status": status[f["test_id"]], "flaky": f["test_id"] in flaky}
            )
    return Context(report, store, current, baseline, failures)

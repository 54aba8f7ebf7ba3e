"""Typed collector records -> the versioned health report (a JSON-ready dict).

The report has two parts: `summary` (figures that history, gate, comment and dashboard read; small)
and `details` (failing tests, slowest tests, worst files: bounded lists for humans). A section whose
input was not given is `null` in `summary` and named in `summary.missing` — never zeros.
"""

from __future__ import annotations

import functools
import heapq
from array import array
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import asdict, dataclass, field

from healthdeck.collectors.compileall import CompileallResult
from healthdeck.collectors.coveragepy import CoverageOptions, CoverageResult, Numbers
from healthdeck.collectors.guardian.prometheus import PrometheusResult
from healthdeck.collectors.junit import FailingTest, JUnitResult
from healthdeck.collectors.openapi import OpenAPIResult
from healthdeck.collectors.ruff import SYNTAX_ERROR_KEY, Finding, RuffResult

from . import SCHEMA_VERSION, __version__
from .causes import SAYS_NOTHING, Cause, distinct_causes, group_causes
from .config import Config, lane_of
from .guardian.delta import GuardianInputs, build_guardian
from .ordering import natural_key
from .report_config import config_block
from .stamp import Stamp

SECTIONS = ("tests", "coverage", "ruff", "compileall", "openapi", "guardian")


@dataclass
class Collected:
    tests: dict[str, JUnitResult] = field(default_factory=dict)
    coverage: CoverageResult | None = None
    ruff: RuffResult | None = None
    compileall: CompileallResult | None = None
    guardian: GuardianInputs | None = None
    prometheus: PrometheusResult | None = None
    openapi: OpenAPIResult | None = None


def pass_rate(passed: int, failed: int, errors: int) -> float | None:
    """passed ÷ (passed + failed + errors); skipped and xfailed are not runs that could fail."""
    ran = passed + failed + errors
    return passed / ran if ran else None


def build_report(
    collected: Collected, config: Config, stamp: Stamp, causes: dict[str, list[Cause]] | None = None
) -> dict:
    """The report; `causes` per suite when the caller grouped them already (else they are grouped here)."""
    summary: dict = {
        "git_sha": stamp.git_sha[:8] if stamp.git_sha else None,
        "git_sha_full": stamp.git_sha,
        "branch": stamp.branch,
        "version": stamp.version,
        "ts": stamp.ts,
        "timestamp_iso": stamp.timestamp_iso,
        "ci_run_id": stamp.ci_run_id,
        "project": stamp.project,
        "tag": stamp.tag,
        "merge_sha": stamp.merge_sha,
        "pull_request": stamp.pull_request,
    }
    details: dict = {"metadata": {"warnings": list(stamp.warnings)}}
    summary["tests"], details["tests"] = (
        _tests(collected.tests, config, causes or {}) if collected.tests else (None, None)
    )
    summary["coverage"], details["coverage"] = (
        _coverage(collected.coverage, config) if collected.coverage else (None, None)
    )
    summary["ruff"], details["ruff"] = _ruff(collected.ruff, config) if collected.ruff else (None, None)
    summary["compileall"], details["compileall"] = (
        _compileall(collected.compileall, config) if collected.compileall else (None, None)
    )
    summary["openapi"], details["openapi"] = (
        _openapi(collected.openapi) if collected.openapi else (None, None)
    )
    summary["guardian"], details["guardian"] = _guardian(collected, config)
    # Guardian is one policy engine, not every project's: it is missing only where the project uses it.
    # The OpenAPI diff is a checklist item unless the project dropped it (no API to diff).
    expected = [s for s in SECTIONS if (s != "guardian" or config.uses_guardian)
                and (s != "openapi" or config.gates.openapi_breaking_max is not None)]  # fmt: skip
    summary["missing"] = [s for s in expected if summary[s] is None]
    return {
        "schema_version": SCHEMA_VERSION,
        "generator": {"name": "healthdeck", "version": __version__},
        "config": config_block(config),
        "summary": summary,
        "details": details,
    }


def _tests(
    suites: dict[str, JUnitResult], config: Config, grouped: dict[str, list[Cause]]
) -> tuple[dict, dict]:
    summary, details = {}, {}
    for suite, result in suites.items():
        c = result.counts
        causes = grouped[suite] if suite in grouped else group_causes(result.failing, config.categories)
        counted_causes = distinct_causes(causes)  # the folded ones included
        summary[suite] = {
            "passed": c.passed,
            "failed": c.failed,
            "errors": c.errors,
            "skipped": c.skipped,
            "xfailed": c.xfailed,
            "flaky": c.flaky,
            "total": c.total,
            "pass_rate": pass_rate(c.passed, c.failed, c.errors),
            "attempts": result.attempts,
            "collection_errors": result.collection_errors,
            "failed_subtests": result.failed_subtests,
            "time_seconds": result.time_seconds,
            "causes": counted_causes,
            "transitions": None,  # against the baseline: reports.triage fills it when history is read
            "duration_regressions": None,
        }
        listed = listed_failing(result, causes, config.max_failing_listed)
        details[suite] = {
            "files": result.files,
            "failing": listed,
            "failing_total": len(result.failing),
            "failing_truncated": len(result.failing) > len(listed),
            "causes": [
                cause_entry(cause, config.cause_tests_listed) for cause in causes[: config.causes_listed]
            ],
            "causes_total": counted_causes,
            "transitions": None,
            "duration_regressions": None,
            "flaky": result.flaky,
            "slowest": [{"test_id": t.test_id, "seconds": t.seconds} for t in result.slowest],
            "warnings": result.warnings,
            "readings": [asdict(r) for r in result.readings],  # file, dialect, declared, counted, notes
        }
    return summary, details


def listed_failing(
    result: JUnitResult, causes: list[Cause], cap: int, new_at: bytes | None = None
) -> list[dict]:
    """The failures that say most, at most `cap`: new ones first (once the baseline is known), then a
    cause many tests share (one breakage failing many tests), then by name — the order every renderer
    lists them in. The count next to the list is always the true one."""
    # Each failing test's cause by its place in `failing` (sorted by id, so a cause's ids are found by
    # bisection; an id listed twice takes the last cause's), 4 bytes each: dicts of a million ids took
    # 30 MB each. Only the `cap` first are ranked in full (a sort of a million held a key tuple for each).
    failing = result.failing
    ids = failing.test_ids
    uncaused = len(causes)  # (a failure no cause holds counts as a cause of its own, with no id)
    cause_at = array("I", [uncaused]) * len(ids)
    for number, cause in enumerate(causes):
        for test_id in cause.tests:
            for index in range(bisect_left(ids, test_id), bisect_right(ids, test_id)):
                cause_at[index] = number
    sizes = [-len(cause.tests) for cause in causes] + [-1]
    fresh = new_at or bytes(len(ids))  # 1 where the failing test at that place is new (Transitions.new_at)

    def rank(index: int) -> tuple[bool, int, str]:
        return not fresh[index], sizes[cause_at[index]], natural_key(ids[index])

    return [
        {"test_id": f.test_id, "outcome": f.outcome, "message": _with_subtests(f), "file": f.file,
         "cause": causes[cause_at[index]].id, "failed_subtests": f.failed_subtests}
        for index in heapq.nsmallest(cap, range(len(ids)), key=rank)
        for f in (failing[index],)
    ]  # fmt: skip


def _with_subtests(failing: FailingTest) -> str:
    """The message as shown: a test whose several subtests failed shows its first subtest's message and
    says how many failed, so one line is not read as one failure (causes use the bare message). A message
    that says nothing (pytest's "collection failure") is led by the exception its failure body ends with,
    as its cause is named."""
    message, n = failing.message, failing.failed_subtests
    if failing.exception and message.strip().lower() in SAYS_NOTHING:
        message = f"{failing.exception} ({message})" if message.strip() else failing.exception
    if n == 1:
        return f"{message} (a failed subtest)"
    return f"{message} (first of {n} failed subtests)" if n else message


def cause_entry(cause: Cause, tests_listed: int) -> dict:
    """One cause in details: `count` is exact, `tests` the first `tests_listed` of them by id."""
    return {
        "id": cause.id,
        "signature": cause.signature,
        "exception_type": cause.exception_type,
        "category": cause.category,
        "example_message": cause.example_message,
        "example_test": cause.example_test,
        "count": cause.count,
        "outcomes": cause.outcomes,
        "tests": cause.tests[:tests_listed],
        "new": None,  # against the baseline, when history is read (reports.triage)
        "first_seen": None,
    }


def _numbers(n: Numbers, branch_measured: bool) -> dict:
    return {
        "percent": n.percent,
        "statements_percent": n.statements_percent,
        "branches_percent": n.branches_percent(branch_measured),
        "statements": n.statements,
        "covered_statements": n.covered_statements,
        "branches": n.branches,
        "covered_branches": n.covered_branches,
    }


def coverage_options(config: Config) -> CoverageOptions:
    """What _coverage reads of the files: the lowest covered it lists, and every file's lane."""
    return CoverageOptions(
        files_kept=max(config.lowest_files, config.coverage_files_listed),
        lane=functools.partial(lane_of, lanes=config.lanes) if config.lanes else None,
        paths_checked=config.coverage_paths_checked,
    )


def _coverage(result: CoverageResult, config: Config) -> tuple[dict, dict]:
    """From a result collected with `coverage_options(config)`: it holds only the files listed here."""
    detail = {
        "file": result.file,
        "format": result.format,
        "tool_version": result.tool_version,
        "lowest_files": [],
        "files": [],
        "files_total": 0,
        "warnings": list(result.warnings),
    }
    if not result.has_data:
        empty = dict.fromkeys(("percent", "statements_percent", "branches_percent"))
        return {**empty, "has_data": False, "branch_measured": False, "lanes": {}}, detail
    lanes: dict[str, dict | None] = {}
    for lane in config.lanes:
        figures = (result.lanes or {}).get(lane)
        # nothing measured under this lane: unknown, not 100 %
        lanes[lane] = None if figures is None else {**_numbers(figures.numbers, result.branch_measured),
                                                     "files": figures.files}  # fmt: skip
    summary = {
        **_numbers(result.totals, result.branch_measured),
        "has_data": True,
        "branch_measured": result.branch_measured,
        "files": result.files_total,
        "lanes": lanes,
    }
    # files with something left uncovered: a fully covered file is no "lowest" (coverage.py's skip_covered)
    partial = [
        f for f in result.files if f.numbers.statements + f.numbers.branches and f.numbers.percent < 100
    ]
    lowest = sorted(partial, key=lambda f: (f.numbers.percent, f.path))[: config.lowest_files]
    # every file up to coverage_files_listed (a million-file report would make a 150 MiB report and a
    # million per-file metrics in the history); past it the lowest covered, which the page's tables want
    listed = result.files
    if result.files_total > config.coverage_files_listed:
        listed = sorted(listed, key=lambda f: (f.numbers.percent, f.path))[: config.coverage_files_listed]
    detail["files"] = [
        {"path": f.path, "lane": lane_of(f.path, config.lanes), "percent": f.numbers.percent,
         "statements": f.numbers.statements, "branches": f.numbers.branches}
        for f in sorted(listed, key=lambda f: f.path)
    ]  # fmt: skip
    detail["files_total"] = result.files_total
    detail["lowest_files"] = [
        {"path": f.path, "lane": lane_of(f.path, config.lanes), **_numbers(f.numbers, result.branch_measured)}
        for f in lowest
    ]
    return summary, detail


def _findings(result: RuffResult, config: Config) -> list[dict] | None:
    """The first `findings_listed` findings, what an author fixes first: prod lanes (the gate counts
    them) first, then by file and line. None when the input says no more than counts."""
    if result.findings is None:
        return None
    prod = set(config.prod_lanes)

    def rank(f: Finding) -> tuple:
        return (
            bool(prod) and lane_of(f.path, config.lanes) not in prod,
            natural_key(f.path),
            f.line or 0,
            f.code,
        )

    # a million findings are neither held as objects nor sorted to list 50 (nsmallest is sorted()[:n])
    ranked = heapq.nsmallest(config.findings_listed, result.findings, key=rank)
    return [{"path": f.path, "line": f.line, "code": f.code, "message": f.message,
             "lane": lane_of(f.path, config.lanes)} for f in ranked]  # fmt: skip


def _ruff(result: RuffResult, config: Config) -> tuple[dict, dict]:
    lanes: dict[str, int] | None = None
    top_files: list[dict] = []
    if result.by_file is not None:
        per_lane: Counter[str] = Counter({lane: 0 for lane in config.lanes})
        for path, count in result.by_file.items():
            lane = lane_of(path, config.lanes)
            if lane:
                per_lane[lane] += count
        lanes = dict(per_lane)
        ranked = heapq.nsmallest(config.lowest_files, result.by_file.items(), key=lambda kv: (-kv[1], kv[0]))
        top_files = [{"path": p, "lane": lane_of(p, config.lanes), "count": n} for p, n in ranked]
    findings = _findings(result, config)
    stats = dict(sorted(result.stats.items(), key=lambda kv: (-kv[1], kv[0])))
    summary = {
        "count": {"total": result.total, "lanes": lanes},
        "stats": stats,
        "syntax_errors": result.stats.get(SYNTAX_ERROR_KEY, 0),
    }
    detail = {
        "file": result.file,
        "format": result.format,
        "reported_total": result.reported_total,
        "names": result.names,
        "top_files": top_files,
        "findings": findings,
        "findings_total": None if result.findings is None else len(result.findings),
        "warnings": result.warnings,
    }
    return summary, detail


def _compileall(result: CompileallResult, config: Config) -> tuple[dict, dict]:
    per_lane: Counter[str] = Counter({lane: 0 for lane in config.lanes})
    failures = []
    for failure in result.failures:
        lane = lane_of(failure.path, config.lanes)
        if lane:
            per_lane[lane] += 1
        failures.append(
            {"path": failure.path, "line": failure.line, "message": failure.message, "lane": lane}
        )
    return {"failures": len(result.failures), "lanes": dict(per_lane)}, {
        "file": result.file,
        "failures": failures,
    }


API_CHANGES_LISTED = 1_000  # changes kept in details.openapi (breaking first); the summary counts all
API_TEXT_CHARS = 500  # of a change's message and location: a tool's report can carry megabytes in one


def _openapi(result: OpenAPIResult) -> tuple[dict, list[dict]]:
    """Counts in the summary; the changes (breaking first, as the tool ordered them) in the details, at
    most API_CHANGES_LISTED of them, so that a report of 300 000 changes stays one its readers can read."""
    summary = {"breaking": result.breaking, "non_breaking": result.non_breaking, "source": result.source,
               "files": list(result.files)}  # fmt: skip
    changes = sorted(result.changes, key=lambda c: not c.breaking)[:API_CHANGES_LISTED]
    details = [{"rule": c.rule, "level": c.level, "breaking": c.breaking, "method": c.method, "path": c.path,
                "location": c.location[:API_TEXT_CHARS], "message": c.message[:API_TEXT_CHARS]}
               for c in changes]  # fmt: skip
    return summary, details


def _guardian(collected: Collected, config: Config) -> tuple[dict | None, dict | None]:
    if collected.guardian is None and collected.prometheus is None:
        return None, None
    summary, details = (
        build_guardian(collected.guardian, config.guardian_rows_listed) if collected.guardian else ({}, {})
    )
    if collected.prometheus is not None:
        summary["prometheus"] = prometheus_summary(collected.prometheus)
    return summary, details


def prometheus_summary(p: PrometheusResult) -> dict:
    def rows(items: list | None) -> list[dict] | None:
        return None if items is None else [{"key": r.key, "value": round(r.value, 3)} for r in items]

    return {
        "url": p.url,
        "window": p.window,
        "at_iso": p.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "decisions": [{**d, "value": round(d["value"], 3)} for d in p.decisions],
        "delta_by_tenant": rows(p.delta_by_tenant),
        "delta_by_action": rows(p.delta_by_action),
        "top_rules": rows(p.top_rules),
        "would_deny_share_by_tenant": rows(p.would_deny_share_by_tenant),
        "series": {k: [[t, round(v, 3)] for t, v in points] for k, points in p.series.items()},
        "warnings": list(p.warnings),
    }


def input_warnings(report: dict) -> list[str]:
    """Every warning the collectors gave (already in latest.md, each in its section), named by
    section, for the CLI to repeat on standard error."""
    details = report["details"]
    out = list((details.get("metadata") or {}).get("warnings") or [])
    out += [f"tests {suite}: {w}" for suite, d in (details.get("tests") or {}).items() for w in d["warnings"]]
    for section in ("coverage", "ruff"):
        out += [f"{section}: {w}" for w in (details.get(section) or {}).get("warnings", [])]
    prometheus = (report["summary"].get("guardian") or {}).get("prometheus") or {}
    return out + [f"prometheus: {w}" for w in prometheus.get("warnings", [])]

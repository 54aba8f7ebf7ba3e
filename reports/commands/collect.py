"""`healthdeck collect`: run the collectors, write latest.json + latest.md atomically, record the run."""

from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path

from healthdeck.collectors.base import expand_paths, input_limits
from healthdeck.collectors.compileall import collect_compileall
from healthdeck.collectors.coveragepy import collect_coverage
from healthdeck.collectors.errors import CollectorError
from healthdeck.collectors.guardian.prometheus import collect_prometheus
from healthdeck.collectors.junit import JUnitOptions, JUnitResult, collect_junit
from healthdeck.collectors.openapi import OpenAPIResult, collect_openapi, collect_openapi_report
from healthdeck.collectors.ruff import collect_ruff

from ..build import Collected, build_report, coverage_options, input_warnings, listed_failing
from ..causes import CategoryClock, group_causes
from ..config import Config, load_config
from ..context import baseline_for, context
from ..errors import UsageError, one_line
from ..failures import number, outcome_words
from ..gate import verdict_line
from ..guardian.delta import GuardianInputs, read_logs
from ..history.baselines import FILE_KINDS, Baseline
from ..history.metrics import flatten
from ..output import report_json, write_report_pair
from ..reading import open_history, store_url
from ..render.markdown import render_markdown
from ..render.md import display_covered, percent, plural
from ..stamp import read_stamp, resolve_project, stale_inputs, stale_text
from ..triage import cause_rows, compare_with_history, duration_rows, durations_kept_above
from . import require_extra
from .gate import decide

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Literal

    from ..history.baselines import Baseline
    from ..history.store import HistoryStore


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.root:
        config = config._replace(root=str(Path(args.root).resolve()), source=None)
    return collect(args, config)


def collect(args: argparse.Namespace, config: Config) -> int:
    """Collect, validate, record in history, then write latest.md + latest.json.

    History first: a failure to record (a locked or unreachable store) leaves the previous pair on disk,
    so the report on disk is always a run the history has. The pair is written Markdown first, JSON
    last, under the folder's lock (see healthdeck.reports.output).
    """
    with input_limits(config.input_limits):
        collected = collect_inputs(args, config)
    if not any((collected.tests, collected.coverage, collected.ruff, collected.compileall, collected.guardian,
                collected.prometheus, collected.openapi)):  # fmt: skip
        raise UsageError(
            "nothing to collect: give at least one of --junit, --coverage, --ruff, --compileall, --openapi, "
            "--openapi-report, --guardian-permissive/--guardian-strict, --prometheus"
        )
    out = Path(args.out) if args.out else config.out_path
    stamp = read_stamp(
        config.root_path, project=resolve_project(config.root_path, config.project, args.project)[0]
    )
    clock = CategoryClock()  # one time limit for the run's category matching, whatever its suites
    causes = {
        suite: group_causes(result.failing, config.categories, clock)
        for suite, result in collected.tests.items()
    }
    report = build_report(collected, config, stamp, causes)
    if stale := stale_inputs(config.root_path, tool_outputs(args), out):
        report["summary"]["stale_inputs"] = stale
        report["details"]["metadata"]["warnings"] += [stale_text(s) for s in stale]
    spec = args.baseline or config.gates.baseline
    if args.no_history:
        found: Baseline | Literal["look up"] | None = "look up"
        if file_baseline(args, config):  # a report file can still say what is new, fixed or still failing
            found = baseline_for(
                report, None, spec, config.root_path, committed_report=config.committed_report
            )
            note_missing_baseline(report, spec, found, config)
            triage(report, collected, None, found, config, causes)
        elif args.baseline:  # asked for on the command line, and it lives in the store this run does without
            report["details"]["metadata"]["warnings"].append(
                f"baseline {spec}: --no-history reads no history store, so it is not looked up; compared with "
                "nothing (a report:PATH or git:REF baseline works without one)"
            )
        report["details"]["checklist"] = checklist_preview(report, config, None, spec, found)
        json_text, md_text = report_json(report), render_markdown(report, config.coverage_precision)
        write_report_pair(out / "latest.json", json_text, md_text, None)
    else:
        report["summary"]["run_key"] = f"collect:{uuid.uuid4().hex}"
        json_text, md_text = record(args, config, out, report, collected, causes, spec)
        write_report_pair(out / "latest.json", json_text, md_text, report["summary"]["run_key"])
    for warning in input_warnings(report):  # -q quiets the summary, not what the user must know
        print(one_line(f"healthdeck: warning: {warning}"), file=sys.stderr)
    if not args.quiet:
        print(one_line(f"wrote {out / 'latest.json'} and {out / 'latest.md'}"))
        print(headline(report))
    return 0


def record(
    args: argparse.Namespace,
    config: Config,
    out: Path,
    report: dict,
    collected: Collected,
    causes: dict,
    spec: str,
) -> tuple[str, str]:
    """Compare with the history (the baseline-dependent parts of the report need it), then append the
    run, its figures, every non-passing test, its causes and durations and the full report. Returns the
    pair's texts, rendered after the comparison and before anything is recorded."""
    timeout = args.lock_timeout if args.lock_timeout is not None else config.history_lock_timeout
    s = report["summary"]
    store = open_history(store_url(args, config, out), project=s["project"], lock_timeout=timeout)
    try:
        baseline = baseline_for(
            report, store, spec, config.root_path, committed_report=config.committed_report
        )
        if baseline is None and spec != "previous":
            note_missing_baseline(
                report, spec, baseline, config, [p or "(none)" for p in store.project_names()]
            )
        triage(report, collected, store, baseline, config, causes)
        report["details"]["checklist"] = checklist_preview(report, config, store, spec, baseline)
        json_text = report_json(report)  # strict, schema-valid JSON or ReportError: before anything lands
        md_text = render_markdown(report, config.coverage_precision)
        store.append(s, source="collect", run_key=s["run_key"], failing=FailingRows(collected),
                     report_schema=report["schema_version"], figures=flatten(s, report["details"]),
                     causes=cause_rows(causes), durations=duration_rows(collected.tests), report=report)  # fmt: skip
    finally:
        store.close()
    return json_text, md_text


def triage(
    report: dict,
    collected: Collected,
    store: HistoryStore | None,
    baseline: Baseline | None,
    config: Config,
    causes: dict,
) -> None:
    """Compare with the baseline, then list each compared suite's failures new first (the listed ones
    are cut at max_failing_listed: new failures must not be the ones cut away)."""
    compared = compare_with_history(report, collected.tests, store, baseline, config)
    for suite, moved in compared.items():
        report["details"]["tests"][suite]["failing"] = listed_failing(
            collected.tests[suite], causes[suite], config.max_failing_listed, moved.new_at
        )


def checklist_preview(
    report: dict, config: Config, store: HistoryStore | None, spec: str,
    found: Baseline | Literal["look up"] | None = "look up",
) -> dict:  # fmt: skip
    """What the checklist says of these figures now (`healthdeck gate` records the verdict itself), against
    the baseline triage `found`. Without history only a report:/git: baseline can answer the baseline
    questions."""
    ctx = context(
        report, store, spec, config.root_path, committed_report=config.committed_report, found=found
    )
    return decide(ctx, config)


def note_missing_baseline(
    report: dict, spec: str, found: Baseline | None, config: Config, projects: list[str] | None = None
) -> None:
    """A baseline that was asked for and is not there is said (stderr and latest.md), not silently
    nothing: on a fresh runner that is the usual case. The previous run is missing on every first run."""
    if found is not None or spec == "previous":
        return
    kind, _, value = spec.partition(":")
    project = report["summary"].get("project")
    if kind == "report":
        why = f"no file {value} (the first run, or an expired artifact?)"
    elif project in (projects or []):  # runs of this project, none of them the one asked for
        why = (f"no run of project {project} matches it in the history store; record {value or kind} once "
               "(a run on it), or see docs/github-actions.md, \"The first run\"")  # fmt: skip
    elif projects:  # a shared store: it has runs, none of this project
        why = (f"the history store has no run of project {project} yet (it holds runs of "
               f"{', '.join(projects[:5])}{' …' if len(projects) > 5 else ''}); record {value or kind} once "
               "(a run on it), or see docs/github-actions.md, \"The first run\"")  # fmt: skip
    else:
        why = ("no such run in the history store (an empty store on a fresh runner? record the base branch "
               "once, or see docs/github-actions.md for report: and git: baselines)")  # fmt: skip
    needed = config.gates.baseline_keys()
    effect = (
        f"no changes, no new-failure marks, and the checklist's {' and '.join(needed)} "
        f"{'is' if len(needed) == 1 else 'are'} UNKNOWN"
        if needed
        else "no changes and no new-failure marks (no checklist item needs a baseline)"
    )
    report["details"]["metadata"]["warnings"].append(
        f"baseline {spec}: {why}; compared with nothing: {effect}"
    )


def file_baseline(args: argparse.Namespace, config: Config) -> bool:
    return (args.baseline or config.gates.baseline).partition(":")[0] in FILE_KINDS


class FailingRows:
    """Every non-passing test of the run (not only the ones listed in the report), for history, as (suite,
    test id, outcome): made as the store reads them, anew each time (a list of a million took 70 MB)."""

    def __init__(self, collected: Collected) -> None:
        self.tests = collected.tests

    def __iter__(self) -> Iterator[tuple[str, str, str]]:
        for suite, result in self.tests.items():
            for f in result.failing:
                yield suite, f.test_id, f.outcome
            for test_id in result.flaky:
                yield suite, test_id, "flaky"


def tool_outputs(args: argparse.Namespace) -> list[tuple[str, Path]]:
    """The inputs a tool writes on each run (not the committed ones, such as OpenAPI specs)."""
    found = [
        (f"junit {suite}", path) for suite, pattern in args.junit for path in expand_paths("junit", [pattern])
    ]
    found += [(what, Path(value)) for what, value in (("coverage", args.coverage), ("ruff", args.ruff),
                                                       ("compileall", args.compileall)) if value]  # fmt: skip
    return found


def collect_inputs(args: argparse.Namespace, config: Config) -> Collected:
    """Run every collector the arguments ask for. Any failure aborts before anything is written."""
    suites: dict[str, list[str]] = {}
    for suite, pattern in args.junit:
        suites.setdefault(suite, []).append(pattern)
    # Every test's outcome and the slower tests' durations: triage compares them with the baseline
    # (durations only with a store: a report file holds none).
    history = not args.no_history
    options = JUnitOptions(
        message_chars=config.message_chars, slowest=config.slowest,
        keep_outcomes=history or file_baseline(args, config),
        durations_above=durations_kept_above(config) if history else None,
    )  # fmt: skip
    root = config.root_path
    guardian = config.guardian
    url = args.prometheus or guardian.prometheus_url
    if url:
        require_extra("prometheus", "prometheus_api_client", "reading Guardian's counters from Prometheus")
    tests = {suite: collect_junit(expand_paths("junit", pats), options) for suite, pats in suites.items()}
    try:
        coverage = collect_coverage(args.coverage, root, coverage_options(config)) if args.coverage else None
    except CollectorError as exc:
        raise why_no_coverage(exc, tests) from exc
    return Collected(
        tests=tests,
        coverage=coverage,
        ruff=collect_ruff(args.ruff, root) if args.ruff else None,
        compileall=collect_compileall(args.compileall) if args.compileall else None,
        guardian=guardian_inputs(args),
        openapi=openapi_input(args),
        prometheus=collect_prometheus(
            url, args.window or guardian.window, at=args.at, names=guardian.metrics, timeout=guardian.timeout
        )
        if url
        else None,
    )


def why_no_coverage(exc: CollectorError, tests: dict[str, JUnitResult]) -> CollectorError:
    """A coverage file the test run did not write, when the tests' own JUnit says why: pytest stopped at a
    module it could not collect (a syntax error, a failed import), and pytest-cov writes nothing then. The
    error names the first such test and what it ended with, so the "no report" comment points at the
    real fault rather than at the missing file."""
    if Path(exc.path).exists():
        return exc
    for suite, result in tests.items():
        if error := next((f for f in result.failing if f.outcome == "error"), None):
            said = error.exception or error.message
            errors = plural(result.counts.errors, "error")
            return CollectorError(exc.source, exc.path, f"{exc.reason}; the test run that writes it stopped "
                                  f"early: suite {suite} has {errors}, first {error.test_id}: {said}")  # fmt: skip
    return exc


def openapi_input(args: argparse.Namespace) -> OpenAPIResult | None:
    """The built-in diff of --openapi BASE HEAD, or a tool's report given with --openapi-report."""
    if args.openapi and args.openapi_report:
        raise UsageError("give --openapi BASE HEAD or --openapi-report FILE, not both")
    if args.openapi_report:
        return collect_openapi_report(args.openapi_report)
    if not args.openapi:
        return None
    for module in ("openapi_spec_validator", "yaml"):
        require_extra("openapi", module, "the built-in OpenAPI diff (--openapi BASE HEAD)")
    return collect_openapi(*args.openapi)


def guardian_inputs(args: argparse.Namespace) -> GuardianInputs | None:
    """Both decision logs (and the optional rehearsal JUnit pair), or None when neither was given."""
    if not args.guardian_permissive and not args.guardian_strict:
        return None
    if not (args.guardian_permissive and args.guardian_strict):
        raise UsageError(
            "--guardian-permissive and --guardian-strict go together (the delta needs both runs)"
        )
    if bool(args.rehearsal_permissive) != bool(args.rehearsal_strict):
        raise UsageError("--rehearsal-permissive and --rehearsal-strict go together")
    inputs = read_logs(
        expand_paths("guardian-log", args.guardian_permissive),
        expand_paths("guardian-log", args.guardian_strict),
    )
    if args.rehearsal_permissive:
        options = JUnitOptions(keep_outcomes=True)
        inputs.rehearsal_permissive = collect_junit(expand_paths("junit", args.rehearsal_permissive), options)
        inputs.rehearsal_strict = collect_junit(expand_paths("junit", args.rehearsal_strict), options)
    return inputs


def headline(report: dict) -> str:
    """One line for a CI log."""
    s = report["summary"]
    parts = []
    for suite, t in (s["tests"] or {}).items():
        parts.append(f"{suite} {percent(t['pass_rate'])} ({outcome_words(t)})")
    if s["coverage"] and s["coverage"]["percent"] is not None:
        parts.append(f"coverage {display_covered(s['coverage']['percent'], 2)} %")
    if s["ruff"]:
        parts.append(f"ruff {number(s['ruff']['count']['total'])}")
    if s["compileall"]:
        parts.append(f"compileall {plural(s['compileall']['failures'], 'failure')}")
    if s.get("openapi"):
        parts.append(
            f"OpenAPI {number(s['openapi']['breaking'])} breaking, {number(s['openapi']['non_breaking'])} non-breaking"
        )
    g = s["guardian"]
    if g and g.get("permissive"):
        parts.append(
            f"guardian would-deny {number(g['permissive']['would_deny'])} → denied {number(g['strict']['denied'])}"
            f" ({number(g['new_in_strict'])} new in strict)"
        )
    if s["missing"]:
        parts.append("missing: " + ", ".join(s["missing"]))
    details = report.get("details") or {}
    gated = bool(s.get("verdict") and details.get("verdict"))
    verdict = verdict_line(details.get("verdict") if gated else details.get("checklist"), gated)
    return one_line(" · ".join(parts)) + "\n" + one_line(verdict)  # suite names come from artifacts

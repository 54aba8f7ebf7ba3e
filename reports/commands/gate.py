"""`healthdeck gate`: the go/no-go verdict, printed, stored in the report and history, optionally as JUnit."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from healthdeck.collectors.files import rereadable

from ..config import Config, load_config
from ..context import Context, compared_with, context
from ..errors import EXIT_NO_GO, EXIT_OK, one_line
from ..failures import FailureCounts, failure_counts
from ..gate import (
    against,
    condition_figures,
    evaluate,
    junit_xml,
    made_from,
    ungated_new_failures,
    verdict_line,
)
from ..history.baselines import FILE_KINDS
from ..history.reader import HistoryError, StoreContentError
from ..output import OutputError, json_text, write_atomic, write_report_pair
from ..reading import Reading, open_reading
from ..render.markdown import render_markdown
from ..report_file import check_report
from ..schema import validate_report
from ..stamp import checked_out, only_changed, pinned_time

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:
    from typing import TextIO


def run(args: argparse.Namespace) -> int:
    local = load_config(args.config)
    reading = open_reading(args, local, writable=not args.no_write)
    try:
        check_report_file(reading)
        verdict = cmd_gate(reading, baseline=args.baseline, junit=args.junit_xml, write=not args.no_write,
                           committed_report=local.committed_report)  # fmt: skip
    finally:
        reading.close()
    return EXIT_NO_GO if verdict["blocks"] else EXIT_OK


def cmd_gate(
    reading: Reading,
    *,
    baseline: str | None,
    junit: str | None,
    write: bool,
    committed_report: Path | None = None,
    out: TextIO | None = None,
) -> dict:
    """Evaluate, print every condition, store the verdict in the report (file and store); the verdict.

    History first, then the file: a report on disk never carries a verdict the history lacks.
    """
    out = out or sys.stdout
    config, report = reading.config, reading.report
    spec = baseline or compared_with(report) or config.gates.baseline
    ctx = context(report, reading.store, spec, project=reading.project,
                  committed_report=committed_report or config.committed_report)  # fmt: skip
    counts = failure_counts(ctx)
    verdict = decide(ctx, config, counts)
    # every printed line through one_line: suite names, branches and test ids come from artifacts and
    # git, and a terminal escape in one would recolour (or retitle, or clear) the CI log's terminal
    print(one_line(f"checklist: {verdict['checklist']}"), file=out)
    print(
        one_line(f"baseline: {baseline_text(verdict['baseline'], spec, bool(config.gates.baseline_keys()))}"),
        file=out,
    )
    if others := triage_baselines(report) - {(verdict["baseline"] or {}).get("run_key")}:
        print(one_line(f"healthdeck: warning: the report's new, fixed and still-failing lists compare with run "
                       f"{', '.join(sorted(map(str, others)))} (collect's baseline), this gate with "
                       f"{(verdict['baseline'] or {}).get('run_key') or 'no run'}; give the same --baseline to "
                       "collect to keep one baseline"), file=sys.stderr)  # fmt: skip
    for c in verdict["conditions"]:
        label, actual, threshold = condition_figures(c)
        print(one_line(f"{c['status']:<8} {label}: {actual} ({against(c)} {threshold})" + (f" — {c['detail']}" if c["detail"] else "")),
              file=out)  # fmt: skip
    print(one_line(verdict_line(verdict, gated=True)), file=out)
    if warning := ungated_new_failures(verdict, counts.new):
        print(one_line(f"warning: {warning}"), file=out)
    key = ctx.summary.get("run_key")
    if write and reading.store is not None and key:
        try:
            reading.store.set_verdict(key, verdict["status"], verdict)
        except StoreContentError:  # the stored report is not as healthdeck writes it: an input (exit 3)
            raise
        except HistoryError as exc:  # an output that was not written (exit 4), not an input
            raise OutputError(
                f"{exc}; the verdict above is neither stored nor written to the report"
            ) from exc
    if write and reading.path is not None and not rereadable(reading.path):
        print(f"healthdeck: note: {reading.path} is not a file (a pipe?): the verdict is not written back to it"
              + (", it is stored in the history" if reading.store is not None and key else ""), file=sys.stderr)  # fmt: skip
    elif write and reading.path is not None:
        report["summary"]["verdict"] = verdict["status"]
        details = report.setdefault("details", {})
        details["verdict"] = verdict
        details.pop("checklist", None)  # collect's preview; the gate's verdict supersedes it
        # The file was checked whole before the gate read it; of what the schema constrains, the gate
        # changed the summary (its verdict) alone.
        validate_report(report, part="summary")
        newer = write_report_pair(reading.path, json_text(report), render_markdown(report, config.coverage_precision),
                                  key, replacing=True)  # fmt: skip
        if newer:
            print(one_line(f"healthdeck: note: {reading.path} now holds run {newer} (a collect that finished "
                           f"meanwhile); the verdict of run {key} is stored in the history, the file is left to the "
                           "newer run"), file=sys.stderr)  # fmt: skip
    if junit:
        write_atomic({Path(junit): junit_xml(verdict)})
    return verdict


def check_report_file(reading: Reading) -> None:
    """A report file is checked against the schema before the gate reads it (and rewrites it): one that
    was edited by hand, or cut short, is an input error in one line, never a traceback or a rewrite.
    (A report from the store was checked when collect recorded it.)"""
    if reading.path is not None:
        check_report(reading.report, str(reading.path))


def decide(ctx: Context, config: Config, counts: FailureCounts | None = None) -> dict:
    """The checklist against the report in `ctx`, as `healthdeck gate` records it (collect previews it);
    `counts`: failure_counts(ctx), when the caller has them already."""
    counts = counts or failure_counts(ctx)
    checkout = checked_out(config.root_path)
    made = ctx.summary.get("git_sha_full") or ctx.summary.get("git_sha")
    # asked of git only when the commits differ: did a commit since change nothing but the report?
    report_only_since = bool(
        checkout and made and not made_from(ctx.summary, checkout)
        and only_changed(config.root_path, made, checkout, config.out_path)
    )  # fmt: skip
    verdict = evaluate(
        ctx.summary, config.gates, config.prod_lanes,
        baseline=ctx.baseline.summary if ctx.baseline else None,
        new_failures=counts.for_gate,
        now=pinned_time(), smoke=config.smoke_suite,
        checkout=checkout, asked=ctx.baseline_spec, report_only_since=report_only_since,
    )  # fmt: skip
    verdict["checklist"] = config.gates.describe(config.source)
    verdict["baseline"] = ctx.baseline.ref() if ctx.baseline else None
    verdict["baseline_spec"] = ctx.baseline_spec  # what was asked for, found or not (compared_with)
    if verdict["baseline"] and ctx.baseline_origin in FILE_KINDS:  # not in the store: keep how to find it
        verdict["baseline"]["spec"] = ctx.baseline_spec
    return verdict


def baseline_text(ref: dict | None, spec: str | None, needed: bool) -> str:
    """Which run the baseline conditions compared with, as the gate's log line says it; `needed`: the
    checklist has items that compare with a baseline."""
    asked = f" ({spec})" if spec else ""
    if not ref and spec and spec.startswith("run:"):  # exact: a typo or another store's key, not a first run
        return (f"none{asked}: the history has no run {spec[4:]} (`healthdeck history show` lists the stored runs)"
                + (", so the conditions against a baseline are UNKNOWN" if needed else ""))  # fmt: skip
    if not ref:
        if needed:
            return f"none{asked}: no run to compare with, so the conditions against a baseline are UNKNOWN"
        return (
            f"none{asked}: no run to compare with (no checklist item needs one; the comment shows no changes)"
        )
    return f"run {ref['run_key']} · commit {ref.get('git_sha') or 'unknown'} · branch {ref.get('branch') or 'unknown'}{asked}"


def triage_baselines(report: dict) -> set[str | None]:
    """The runs collect compared each suite's failures with (new, fixed, still failing)."""
    suites = ((report.get("details") or {}).get("tests") or {}).values()
    return {
        (s.get("transitions") or {}).get("baseline", {}).get("run_key")
        for s in suites
        if s.get("transitions")
    }

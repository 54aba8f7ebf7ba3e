"""`healthdeck gate`: the go/no-go verdict, printed, stored in the report and history, optionally as JUnit."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..config import Config, load_config
from ..context import Context, context, load_report
from ..failures import failure_counts
from ..gate import evaluate, junit_xml, show, verdict_line
from ..history.store import HistoryStore, Run
from ..output import report_json, write_atomic
from ..render.markdown import render_markdown
from ..stamp import checked_out
from . import report_path, store_for

EXIT_GO, EXIT_NO_GO = 0, 1


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    path = report_path(args, config)
    store = store_for(args, config, path.parent)
    try:
        verdict = cmd_gate(
            config, path, store, baseline=args.baseline, junit=args.junit_xml, write=not args.no_write
        )
    finally:
        store.close()
    return EXIT_NO_GO if verdict["blocks"] else EXIT_GO


def cmd_gate(
    config: Config,
    report_path: Path,
    store: HistoryStore,
    *,
    baseline: str | None,
    junit: str | None,
    write: bool,
    out=None,
) -> dict:
    """Evaluate, print every condition, store the verdict in the report and history; returns the verdict."""
    out = out or sys.stdout
    report = load_report(report_path)
    ctx = context(report, store, baseline or config.gates.baseline)
    verdict = decide(ctx, config)
    print(f"checklist: {verdict['checklist']}", file=out)
    for c in verdict["conditions"]:
        print(f"{c['status']:<8} {c['description']}: {show(c['actual'], c.get('unit', 'count'))} "
              f"(threshold {show(c['threshold'], c.get('unit', 'count'))})" + (f" — {c['detail']}" if c["detail"] else ""),
              file=out)  # fmt: skip
    print(verdict_line(verdict, gated=True), file=out)
    outputs: dict[Path, str] = {}
    if write:
        report["summary"]["verdict"] = verdict["status"]
        details = report.setdefault("details", {})
        details["verdict"] = verdict
        details.pop("checklist", None)  # collect's preview; the gate's verdict supersedes it
        outputs[report_path] = report_json(report)
        outputs[report_path.with_suffix(".md")] = render_markdown(report, config.coverage_precision)
    if junit:
        outputs[Path(junit)] = junit_xml(verdict)
    if outputs:
        write_atomic(outputs)
    if write and ctx.summary.get("run_key"):
        store.set_verdict(ctx.summary["run_key"], verdict["status"], verdict)
    return verdict


def decide(ctx: Context, config: Config) -> dict:
    """The checklist against the report in `ctx`, as `healthdeck gate` records it (collect previews it)."""
    counts = failure_counts(ctx)
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")  # reproducible builds: "now" is pinned
    verdict = evaluate(
        ctx.summary, config.gates, config.prod_lanes,
        baseline=ctx.baseline.summary if ctx.baseline else None,
        new_failures=counts.new_ids if counts.new is not None and (counts.new_exact or counts.new) else None,
        now=int(epoch) if epoch.isdigit() else None, smoke=config.smoke_suite,
        checkout=checked_out(config.root_path),
    )  # fmt: skip
    verdict["checklist"] = config.gates.describe(config.source)
    verdict["baseline"] = run_ref(ctx.baseline)
    return verdict


def run_ref(run: Run | None) -> dict | None:
    return (
        None
        if run is None
        else {"run_key": run.run_key, "git_sha": run.short_sha, "branch": run.branch, "ts": run.ts}
    )

"""`healthdeck comment`: the sticky PR comment (printed, or posted with --post), the step summary, annotations."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..config import Config, load_config
from ..context import Context, compared_with, context
from ..errors import InputError, UsageError, one_line, shown_path
from ..failures import failure_counts
from ..gate import condition_figures, smoke_name
from ..output import OutputError, append_text, pipe_reason, write_atomic
from ..reading import Reading, open_reading
from ..render.comment import MARKER, render_comment, render_no_report
from ..report_file import blamed_on
from ..stamp import read_stamp


def run(args: argparse.Namespace) -> int:
    reading = None
    if args.no_report is not None:  # collect failed: say so where the last push's verdict stands
        stamp = read_stamp(Path.cwd())  # the push this says no report for (CI's variables, else git)
        text = render_no_report(" ".join(args.no_report.split()) or "(no reason given)", args.link,
                                stamp.branch, stamp.git_sha)  # fmt: skip
    else:
        local = load_config(args.config)
        reading = open_reading(args, local)
        try:
            with blamed_on(reading.path, reading.report):
                text = cmd_comment(
                    reading, baseline=args.baseline, link=args.link, committed_report=local.committed_report
                )
        finally:
            reading.close()
    if args.output:
        write_atomic({Path(args.output): text})
    elif not (args.github_step_summary or args.post):
        sys.stdout.write(text)
    if args.github_step_summary and not github_step_summary(text):
        raise UsageError("--github-step-summary: $GITHUB_STEP_SUMMARY is not set")
    if args.annotations and reading is not None:
        print("\n".join(annotations(reading.report)))
    if args.post:
        post(text, args.pr, in_summary=args.github_step_summary)
    return 0


def post(text: str, number: int | None, *, in_summary: bool) -> None:
    """Keep one sticky comment on the pull request. A token that may not write (a fork's) is no failure:
    one line says so, the comment goes to the step summary and a warning annotation marks the run."""
    from ..github import EventUnreadable, GitHubError, post_sticky, pull_request_from_env, read_only_cause

    try:
        pr = pull_request_from_env(os.environ, number)
    except EventUnreadable as exc:
        raise InputError(str(exc)) from exc
    except ValueError as exc:
        raise UsageError(f"comment --post: {exc}") from exc
    try:
        posted = post_sticky(pr, text, MARKER)
    except GitHubError as exc:
        cause = read_only_cause(exc, pr)
        if cause is None:
            raise
        # the summary says why the comment is there and not on the pull request
        note = f"> **healthdeck:** this comment was not posted on the pull request: {exc}; {cause}.\n\n"
        where = (
            "the step summary"
            if github_step_summary(note if in_summary else note + text)
            else "nowhere ($GITHUB_STEP_SUMMARY is not set)"
        )
        print(
            f"healthdeck: comment not posted: {exc}; {cause}. The comment went to {where}.", file=sys.stderr
        )
        print(f"::warning title=healthdeck comment not posted::{_escape_command(f'{exc}; {cause}')}")
        return
    print(f"comment {posted.action}: {posted.url or f'id {posted.comment_id}'} ({pr.repository}#{pr.number})")


def cmd_comment(
    reading: Reading, *, baseline: str | None, link: str | None, committed_report: Path | None = None
) -> str:
    config: Config = reading.config
    report = reading.report
    verdict = (report.get("details") or {}).get("verdict") if report["summary"].get("verdict") else None
    spec = baseline or compared_with(report) or config.gates.baseline
    ctx = context(report, reading.store, spec, project=reading.project,
                  committed_report=committed_report or config.committed_report)  # fmt: skip
    if (
        ctx.baseline is None and baseline and baseline.startswith("run:")
    ):  # exact: a typo, another store's key
        print(f"healthdeck: warning: baseline {one_line(baseline)}: the history has no run {one_line(baseline[4:])}; "
              "the comment shows no changes", file=sys.stderr)  # fmt: skip
    details = report.get("details") or {}
    decided = ((verdict or details.get("checklist") or {}).get("baseline")) or {}
    # said as pruned only when the store was asked for that very run and no longer has it
    gone = decided if (ctx.baseline is None and reading.store is not None and decided.get("run_key")
                       and spec == f"run:{decided['run_key']}") else None  # fmt: skip
    return render_comment(
        ctx.summary, details, verdict=verdict, baseline_gone=gone,
        baseline=ctx.baseline.summary if ctx.baseline else None, failures=ctx.failures,
        smoke_suite=smoke_name(ctx.summary, config.smoke_suite), prod_lanes=config.prod_lanes, link=link,
        counts=failure_counts(ctx), baseline_ref=ctx.baseline.ref() if ctx.baseline else None, report_md=_markdown_beside(reading.path),
        base_findings=baseline_findings(ctx),
    )  # fmt: skip


def baseline_findings(ctx: Context) -> list[dict] | None:
    """Every ruff finding of a stored baseline run (None when unknown: no baseline, a file baseline, or
    a list cut at `findings_listed`, where a finding missing from it may have been there)."""
    if ctx.baseline is None or ctx.baseline_origin != "history" or ctx.store is None:
        return None
    ruff = ((ctx.store.report(ctx.baseline) or {}).get("details") or {}).get("ruff") or {}
    findings = ruff.get("findings")
    return findings if findings is not None and ruff.get("findings_total") == len(findings) else None


def _markdown_beside(report: Path | None) -> str | None:
    """The latest.md written beside the report file read (None when it came from the store), as the
    reader of the comment finds it in the artifacts: relative to the working directory when inside it."""
    if report is None:
        return None
    return shown_path(report.with_suffix(".md"))


def annotations(report: dict) -> list[str]:
    """GitHub workflow commands for the gate conditions that did not pass: an error for each one that
    blocks the release (a failure, or an unknown while unknowns block), a warning for an unknown that does not."""
    verdict = (report.get("details") or {}).get("verdict") or {"conditions": [], "unknown_blocks": True}
    lines = []
    for c in verdict["conditions"]:
        if c["status"] == "PASS":
            continue
        label, actual, threshold = condition_figures(c)
        text = f"{label}: {actual} vs threshold {threshold}" + (f" ({c['detail']})" if c["detail"] else "")
        level = "error" if c["status"] == "FAIL" or verdict["unknown_blocks"] else "warning"
        lines.append(f"::{level} title=healthdeck gate {c['name']}::{_escape_command(text)}")
    return lines


def _escape_command(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_step_summary(text: str) -> bool:
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return False
    try:
        append_text(path, text if text.endswith("\n") else text + "\n")
    except OSError as exc:
        raise OutputError(
            f"{path}: cannot write the step summary (GITHUB_STEP_SUMMARY): {pipe_reason(exc)}"
        ) from exc
    return True

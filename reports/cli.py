"""The `healthdeck` command. `main(argv) -> int` so tests call it as a function.

Exit codes (README.md, docs/gate.md):
  0  success
  1  the gate says NO-GO (or a blocking INCOMPLETE)
  2  usage or configuration error
  3  an input artifact is missing, unreadable or malformed
  4  an output could not be written
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from healthdeck.collectors import CollectorError
from healthdeck.collectors.base import expand_paths
from healthdeck.collectors.compileall import collect_compileall
from healthdeck.collectors.coveragepy import collect_coverage
from healthdeck.collectors.guardian.prometheus import collect_prometheus
from healthdeck.collectors.junit import JUnitOptions, collect_junit
from healthdeck.collectors.ruff import collect_ruff

from . import __version__, demo
from .build import Collected, build_report
from .config import Config, ConfigError, load_config
from .guardian.delta import GuardianInputs, build_guardian, read_logs
from .history.importers import ImportError_
from .history.metrics import flatten
from .history.store import HistoryError, default_url, open_store
from .history.trends import BASELINE_HELP, BaselineError
from .output import OutputError, write_atomic
from .release import (
    InputError,
    annotations,
    cmd_badge,
    cmd_comment,
    cmd_gate,
    cmd_import,
    format_history,
    github_step_summary,
    history_rows,
    load_report,
)
from .render.guardian import render_rehearsal_markdown
from .render.markdown import render_markdown
from .render.md import percent
from .schema import validate_report
from .stamp import read_stamp

EXIT_OK, EXIT_NO_GO, EXIT_USAGE, EXIT_INPUT, EXIT_OUTPUT = 0, 1, 2, 3, 4


class UsageError(Exception):
    pass


def _suite_spec(value: str) -> tuple[str, str]:
    suite, sep, path = value.partition("=")
    if not sep or not suite or not path:
        raise argparse.ArgumentTypeError(f"expected SUITE=PATH, got {value!r}")
    return suite, path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="healthdeck", description="Release-health report for a project.")
    parser.add_argument("--version", action="version", version=f"healthdeck {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    collect = sub.add_parser("collect", help="read CI artifacts and write latest.json + latest.md")
    collect.add_argument(
        "--junit",
        action="append",
        type=_suite_spec,
        default=[],
        metavar="SUITE=PATH",
        help="JUnit XML for a suite (plain or .gz; a glob is allowed; repeat for more files or suites)",
    )
    collect.add_argument(
        "--coverage", metavar="PATH", help="coverage.py XML, `coverage json` output or .coverage"
    )
    collect.add_argument(
        "--ruff", metavar="PATH", help="ruff --statistics (text/JSON) or --output-format json"
    )
    collect.add_argument("--compileall", metavar="PATH", help="output of python -m compileall -q")
    _guardian_args(collect)
    collect.add_argument("--prometheus", metavar="URL", help="read Guardian's counters from this Prometheus")
    collect.add_argument(
        "--window", metavar="DURATION", help="Prometheus window, e.g. 24h (default: config or 24h)"
    )
    collect.add_argument(
        "--at",
        metavar="ISO-TIME",
        type=_when,
        help="end of the Prometheus window (default: now), e.g. for backfills",
    )
    _common(collect)

    delta = sub.add_parser(
        "guardian-delta",
        help="permissive-versus-strict Guardian delta as Markdown (rehearsal comment) or JSON",
    )
    _guardian_args(delta, required=True)
    delta.add_argument("--format", choices=("markdown", "json"), default="markdown")
    delta.add_argument("--output", metavar="FILE", help="write here (atomically) instead of standard output")

    history = sub.add_parser("history", help="the run history: show trends, import past reports")
    hsub = history.add_subparsers(dest="history_command", required=True, metavar="ACTION")
    show = hsub.add_parser("show", help="runs with smoke pass rate, coverage, ruff and their changes")
    show.add_argument("--branch", help="only runs of this branch")
    show.add_argument("--limit", type=int, default=30, help="the newest N runs (default 30)")
    show.add_argument("--format", choices=("table", "json"), default="table")
    _store_args(show)
    idir = hsub.add_parser("import-dir", help="import every *.json report under a folder")
    idir.add_argument("folder")
    _store_args(idir)
    igit = hsub.add_parser(
        "import-git", help="import every committed version of a report file (bare repos too)"
    )
    igit.add_argument("--repo", default=".", help="repository (default: .)")
    igit.add_argument(
        "--path", default="docs/audits/health/latest.json", help="the report file in the repository"
    )
    igit.add_argument("--ref", default="HEAD", help="history to walk (default: HEAD)")
    _store_args(igit)

    gate = sub.add_parser("gate", help="go/no-go against [tool.healthdeck.gates]; exit 0 go, 1 no-go")
    _report_args(gate)
    gate.add_argument("--junit-xml", metavar="PATH", help="also write the verdict as JUnit XML")
    gate.add_argument(
        "--no-write", action="store_true", help="do not store the verdict in the report and history"
    )

    comment = sub.add_parser("comment", help="the PR comment (Markdown with a marker for one sticky comment)")
    _report_args(comment)
    comment.add_argument("--output", metavar="FILE", help="write here instead of standard output")
    comment.add_argument("--link", metavar="URL", help="link to the full report")
    comment.add_argument("--github-step-summary", action="store_true", help="append to $GITHUB_STEP_SUMMARY")
    comment.add_argument(
        "--annotations", action="store_true", help="print ::error:: lines for failing conditions"
    )

    badge = sub.add_parser("badge", help="SVG badges and shields.io endpoint JSON (smoke, coverage, verdict)")
    _report_args(badge)
    badge.add_argument("--out", metavar="DIR", help="where the badges go (default: next to the report)")

    dash = sub.add_parser(
        "dashboard", help="serve the Streamlit dashboard (reads the report and history only)"
    )
    dash.add_argument(
        "--report", metavar="PATH", help="latest.json (default: latest.json in the output folder)"
    )
    dash.add_argument("--history", metavar="URL", help="history store (default: next to the report)")
    dash.add_argument(
        "--config", metavar="PYPROJECT", default=None, help="config file (default: nearest pyproject.toml)"
    )
    _serve_args(dash)

    demo = sub.add_parser(
        "demo", help="build a history from the bundled real sample artifacts, then open the dashboard on it"
    )
    demo.add_argument(
        "--out", metavar="DIR", default=None, help="output folder (default: docs/audits/health)"
    )
    demo.add_argument("--runs", type=int, default=30, help="runs of history to build (default 30)")
    demo.add_argument("--no-dashboard", action="store_true", help="only build the report and history")
    demo.add_argument("-q", "--quiet", action="store_true")
    _serve_args(demo)
    return parser


def _when(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)  # naive = UTC, never local time


def _guardian_args(p: argparse.ArgumentParser, required: bool = False) -> None:
    p.add_argument(
        "--guardian-permissive", "--permissive", dest="guardian_permissive", action="append",
        default=[], required=required, metavar="PATH", help="decision log(s) of the permissive run (JSONL, .gz, glob)",
    )  # fmt: skip
    p.add_argument(
        "--guardian-strict", "--strict", dest="guardian_strict", action="append",
        default=[], required=required, metavar="PATH", help="decision log(s) of the strict rehearsal",
    )  # fmt: skip
    p.add_argument("--rehearsal-permissive", action="append", default=[], metavar="JUNIT",
                   help="JUnit XML of the smoke suite run against permissive Guardian")  # fmt: skip
    p.add_argument("--rehearsal-strict", action="append", default=[], metavar="JUNIT",
                   help="JUnit XML of the smoke suite run against strict Guardian")  # fmt: skip


def _serve_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", type=int, default=8501, help="port (default 8501)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")


def _store_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--history", metavar="URL", help="history store: sqlite:///PATH or postgresql://... "
                   "(default: [tool.healthdeck] history, else history.sqlite in the output folder)")  # fmt: skip
    p.add_argument(
        "--config", metavar="PYPROJECT", default=None, help="config file (default: nearest pyproject.toml)"
    )


def _report_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--report", metavar="PATH", help="latest.json (default: latest.json in the output folder)")
    p.add_argument(
        "--baseline", metavar="SPEC", help=f"compare with: {BASELINE_HELP} (default: gates.baseline)"
    )
    _store_args(p)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--out", metavar="DIR", default=None, help="output folder (default: [tool.healthdeck] out)"
    )
    p.add_argument(
        "--config", metavar="PYPROJECT", default=None, help="config file (default: nearest pyproject.toml)"
    )
    p.add_argument("--root", metavar="DIR", default=None, help="project root for lanes and paths")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    p.add_argument("--history", metavar="URL", help="history store to append the run to (default: "
                   "[tool.healthdeck] history, else history.sqlite in the output folder)")  # fmt: skip
    p.add_argument("--no-history", action="store_true", help="do not record the run in the history store")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)  # exits 2 on usage errors, like every argparse tool
    try:
        if args.command == "demo":
            return _demo(args)
        if args.command == "dashboard":
            config = load_config(args.config)
            report = Path(args.report or Path(config.out) / "latest.json")
            history = args.history or config.history or default_url(report.parent)
            return serve(
                report, history, Path(config.source) if config.source else None, args.host, args.port
            )
        if args.command == "guardian-delta":
            return _guardian_delta(args)
        config = load_config(args.config)
        if args.command == "collect":
            if args.root:
                config = replace(config, root=str(Path(args.root).resolve()), source=None)
            return _collect(args, config)
        return _release(args, config)
    except (ConfigError, UsageError, BaselineError) as exc:
        return _fail(EXIT_USAGE, str(exc))
    except (CollectorError, InputError, ImportError_) as exc:
        return _fail(EXIT_INPUT, str(exc))
    except (OutputError, HistoryError) as exc:
        return _fail(EXIT_OUTPUT if args.command == "collect" else EXIT_INPUT, str(exc))


def _release(args: argparse.Namespace, config: Config) -> int:
    report_path = Path(getattr(args, "report", None) or Path(config.out) / "latest.json")
    # The history a report was recorded in lives next to it unless configured elsewhere.
    folder = report_path.parent if args.command != "history" else Path(config.out)
    store = open_store(args.history or config.history or default_url(folder))
    try:
        if args.command == "history":
            if args.history_command == "show":
                rows = history_rows(store, config, branch=args.branch, limit=args.limit)
                print(json.dumps(rows, indent=2) if args.format == "json" else format_history(rows), end="")
            else:
                folder = args.folder if args.history_command == "import-dir" else None
                repo, path, ref = (None, None, "HEAD") if folder else (args.repo, args.path, args.ref)
                print(cmd_import(store, folder=folder, repo=repo, path=path, ref=ref))
            return EXIT_OK
        if args.command == "gate":
            verdict = cmd_gate(
                config,
                report_path,
                store,
                baseline=args.baseline,
                junit=args.junit_xml,
                write=not args.no_write,
            )
            return EXIT_NO_GO if verdict["blocks"] else EXIT_OK
        report = load_report(report_path)
        if args.command == "badge":
            for path in cmd_badge(config, report, Path(args.out) if args.out else report_path.parent):
                print(f"wrote {path}")
            return EXIT_OK
        text = cmd_comment(config, report, store, baseline=args.baseline, link=args.link)
        if args.output:
            write_atomic({Path(args.output): text})
        elif not args.github_step_summary:
            sys.stdout.write(text)
        if args.github_step_summary and not github_step_summary(text):
            raise UsageError("--github-step-summary: $GITHUB_STEP_SUMMARY is not set")
        if args.annotations:
            print("\n".join(annotations(report)))
        return EXIT_OK
    finally:
        store.close()


def _fail(code: int, message: str) -> int:
    print(f"healthdeck: error: {message}", file=sys.stderr)
    return code


def _collect(args: argparse.Namespace, config: Config) -> int:
    collected = collect_inputs(args, config)
    if not any((collected.tests, collected.coverage, collected.ruff, collected.compileall, collected.guardian,
                collected.prometheus)):  # fmt: skip
        raise UsageError(
            "nothing to collect: give at least one of --junit, --coverage, --ruff, --compileall, "
            "--guardian-permissive/--guardian-strict, --prometheus"
        )
    out = Path(args.out or config.out)
    report = build_report(collected, config, read_stamp(config.root_path))
    if not args.no_history:
        report["summary"]["run_key"] = f"collect:{uuid.uuid4().hex}"
    validate_report(report)
    write_atomic(
        {
            out / "latest.json": json.dumps(report, indent=2, ensure_ascii=False) + "\n",
            out / "latest.md": render_markdown(report, config.coverage_precision),
        }
    )
    if not args.no_history:
        url = args.history or config.history or default_url(out)
        store = open_store(url)
        try:
            store.append(report["summary"], source="collect", run_key=report["summary"]["run_key"],
                         failing=failing_tests(collected), report_schema=report["schema_version"],
                         figures=flatten(report["summary"], report["details"]))  # fmt: skip
        finally:
            store.close()
    if not args.quiet:
        print(f"wrote {out / 'latest.json'} and {out / 'latest.md'}")
        print(headline(report))
    return EXIT_OK


def failing_tests(collected: Collected) -> list[tuple[str, str, str]]:
    """Every non-passing test of the run (not only the ones listed in the report), for history."""
    rows = []
    for suite, result in collected.tests.items():
        rows += [(suite, f.test_id, f.outcome) for f in result.failing]
        rows += [(suite, test_id, "flaky") for test_id in result.flaky]
    return rows


def collect_inputs(args: argparse.Namespace, config: Config) -> Collected:
    """Run every collector the arguments ask for. Any failure aborts before anything is written."""
    suites: dict[str, list[str]] = {}
    for suite, pattern in args.junit:
        suites.setdefault(suite, []).append(pattern)
    options = JUnitOptions(message_chars=config.message_chars, slowest=config.slowest)
    root = config.root_path
    guardian = config.guardian
    url = args.prometheus or guardian.prometheus_url
    return Collected(
        tests={suite: collect_junit(expand_paths("junit", pats), options) for suite, pats in suites.items()},
        coverage=collect_coverage(args.coverage, root) if args.coverage else None,
        ruff=collect_ruff(args.ruff, root) if args.ruff else None,
        compileall=collect_compileall(args.compileall) if args.compileall else None,
        guardian=guardian_inputs(args),
        prometheus=collect_prometheus(
            url, args.window or guardian.window, at=args.at, names=guardian.metrics, timeout=guardian.timeout
        )
        if url
        else None,
    )


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


def _guardian_delta(args: argparse.Namespace) -> int:
    inputs = guardian_inputs(args)
    if inputs is None:  # unreachable: the parser requires both runs
        raise UsageError("guardian-delta needs --permissive and --strict")
    summary, details = build_guardian(inputs)
    if args.format == "json":
        text = json.dumps({"summary": summary, "details": details}, indent=2, ensure_ascii=False) + "\n"
    else:
        text = render_rehearsal_markdown(summary, details)
    if args.output:
        write_atomic({Path(args.output): text})
    else:
        sys.stdout.write(text)
    return EXIT_OK


def headline(report: dict) -> str:
    """One line for a CI log."""
    s = report["summary"]
    parts = []
    for suite, t in (s["tests"] or {}).items():
        parts.append(f"{suite} {percent(t['pass_rate'])} ({t['failed']} failed, {t['errors']} errors)")
    if s["coverage"] and s["coverage"]["percent"] is not None:
        parts.append(f"coverage {s['coverage']['percent']:.2f} %")
    if s["ruff"]:
        parts.append(f"ruff {s['ruff']['count']['total']}")
    if s["compileall"]:
        parts.append(f"compileall {s['compileall']['failures']} failures")
    g = s["guardian"]
    if g and g.get("permissive"):
        parts.append(
            f"guardian would-deny {g['permissive']['would_deny']} → denied {g['strict']['denied']}"
            f" ({g['new_in_strict']} new in strict)"
        )
    if s["missing"]:
        parts.append("missing: " + ", ".join(s["missing"]))
    return " · ".join(parts)


def _demo(args: argparse.Namespace) -> int:
    out = Path(args.out or "docs/audits/health")
    try:
        config = demo.build(out, runs=max(args.runs, 2), progress=not args.quiet)
    except demo.DemoError as exc:
        raise UsageError(str(exc)) from exc
    if not args.quiet:
        print(f"wrote {out / 'latest.json'}, {out / 'latest.md'} and {out / 'history.sqlite'}")
        print(headline(load_report(out / "latest.json")))
    if args.no_dashboard:
        return EXIT_OK
    return serve(out / "latest.json", default_url(out), config, args.host, args.port)


def serve(report: Path, history: str, config: Path | None, host: str, port: int) -> int:
    """Run `streamlit run dashboard/app.py` with the dashboard's read-only settings."""
    app = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
    env = {**os.environ, "HEALTHDECK_REPORT": str(report.resolve()), "HEALTHDECK_HISTORY": _absolute(history)}
    if config:
        env["HEALTHDECK_CONFIG"] = str(Path(config).resolve())
    print(f"dashboard: http://{host}:{port}  (Ctrl-C stops it)", flush=True)
    command = [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port),
               "--server.address", host]  # fmt: skip
    try:
        # cwd = dashboard/, so its .streamlit/config.toml (read-only deployment settings) applies
        return subprocess.run(command, env=env, cwd=app.parent, check=False).returncode
    except KeyboardInterrupt:
        return EXIT_OK


def _absolute(url: str) -> str:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        return "sqlite:///" + str(Path(url.removeprefix("sqlite:///")).resolve())
    return url


if __name__ == "__main__":
    sys.exit(main())

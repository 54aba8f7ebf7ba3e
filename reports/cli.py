"""The `healthdeck` command. `main(argv) -> int` so tests call it as a function.

Exit codes (docs/cli.md):
  0  success
  1  the gate says no-go (reserved for `healthdeck gate`)
  2  usage or configuration error
  3  an input artifact is missing, unreadable or malformed
  4  an output could not be written
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from collectors import CollectorError
from collectors.base import expand_paths
from collectors.compileall import collect_compileall
from collectors.coveragepy import collect_coverage
from collectors.junit import JUnitOptions, collect_junit
from collectors.ruff import collect_ruff

from . import __version__
from .build import Collected, build_report
from .config import Config, ConfigError, load_config
from .output import OutputError, write_atomic
from .render.markdown import percent, render_markdown
from .schema import validate_report
from .stamp import read_stamp

EXIT_OK, EXIT_NO_GO, EXIT_USAGE, EXIT_INPUT, EXIT_OUTPUT = 0, 1, 2, 3, 4
SAMPLES = Path(__file__).parent / "samples" / "dateutil"


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
    _common(collect)

    demo = sub.add_parser("demo", help="run `collect` on the bundled sample artifacts (python-dateutil)")
    demo.add_argument(
        "--out", metavar="DIR", default=None, help="output folder (default: docs/audits/health)"
    )
    demo.add_argument("-q", "--quiet", action="store_true")
    return parser


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--out", metavar="DIR", default=None, help="output folder (default: [tool.healthdeck] out)"
    )
    p.add_argument(
        "--config", metavar="PYPROJECT", default=None, help="config file (default: nearest pyproject.toml)"
    )
    p.add_argument("--root", metavar="DIR", default=None, help="project root for lanes and paths")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)  # exits 2 on usage errors, like every argparse tool
    try:
        if args.command == "demo":
            return _demo(args)
        config = load_config(args.config)
        if args.root:
            config = replace(config, root=str(Path(args.root).resolve()), source=None)
        return _collect(args, config)
    except (ConfigError, UsageError) as exc:
        return _fail(EXIT_USAGE, str(exc))
    except CollectorError as exc:
        return _fail(EXIT_INPUT, str(exc))
    except OutputError as exc:
        return _fail(EXIT_OUTPUT, str(exc))


def _fail(code: int, message: str) -> int:
    print(f"healthdeck: error: {message}", file=sys.stderr)
    return code


def _collect(args: argparse.Namespace, config: Config) -> int:
    collected = collect_inputs(args, config)
    if not (collected.tests or collected.coverage or collected.ruff or collected.compileall):
        raise UsageError("nothing to collect: give at least one of --junit, --coverage, --ruff, --compileall")
    out = Path(args.out or config.out)
    report = build_report(collected, config, read_stamp(config.root_path))
    validate_report(report)
    write_atomic(
        {
            out / "latest.json": json.dumps(report, indent=2, ensure_ascii=False) + "\n",
            out / "latest.md": render_markdown(report, config.coverage_precision),
        }
    )
    if not args.quiet:
        print(f"wrote {out / 'latest.json'} and {out / 'latest.md'}")
        print(headline(report))
    return EXIT_OK


def collect_inputs(args: argparse.Namespace, config: Config) -> Collected:
    """Run every collector the arguments ask for. Any failure aborts before anything is written."""
    suites: dict[str, list[str]] = {}
    for suite, pattern in args.junit:
        suites.setdefault(suite, []).append(pattern)
    options = JUnitOptions(message_chars=config.message_chars, slowest=config.slowest)
    root = config.root_path
    return Collected(
        tests={suite: collect_junit(expand_paths("junit", pats), options) for suite, pats in suites.items()},
        coverage=collect_coverage(args.coverage, root) if args.coverage else None,
        ruff=collect_ruff(args.ruff, root) if args.ruff else None,
        compileall=collect_compileall(args.compileall) if args.compileall else None,
    )


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
    if s["missing"]:
        parts.append("missing: " + ", ".join(s["missing"]))
    return " · ".join(parts)


def _demo(args: argparse.Namespace) -> int:
    argv = [
        "collect",
        "--config",
        str(SAMPLES / "pyproject.toml"),
        "--junit",
        f"smoke={SAMPLES / 'smoke.junit.xml.gz'}",
        "--junit",
        f"unit={SAMPLES / 'unit.junit.xml.gz'}",
        "--coverage",
        str(SAMPLES / "coverage.xml.gz"),
        "--ruff",
        str(SAMPLES / "ruff.json.gz"),
        "--compileall",
        str(SAMPLES / "compileall.txt"),
        "--out",
        args.out or "docs/audits/health",
    ]
    return main([*argv, "--quiet"] if args.quiet else argv)


if __name__ == "__main__":
    sys.exit(main())

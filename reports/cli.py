"""The `healthdeck` command. `main(argv) -> int` so tests call it as a function; its exit codes are
listed in reports/errors.py (and README.md, docs/gate.md)."""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Callable, Sequence

from . import DEFAULT_REPORT, __version__
from .errors import (
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_NO_GO,
    EXIT_OK,
    EXIT_OUTPUT,
    EXIT_PIPE,
    EXIT_USAGE,
    one_line,
)
from .history import BASELINE_HELP

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:
    from datetime import datetime
    from typing import NoReturn

__all__ = [
    "EXIT_INPUT",
    "EXIT_NO_GO",
    "EXIT_OK",
    "EXIT_OUTPUT",
    "EXIT_USAGE",
    "main",
]  # tests import them here


def _suite_spec(value: str) -> tuple[str, str]:
    suite, sep, path = value.partition("=")
    if not sep or not suite or not path:
        raise argparse.ArgumentTypeError(f"expected SUITE=PATH (e.g. tests=junit.xml), got {value!r}")
    return suite, path


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line. For a known `command`, only that command and its own arguments are declared:
    declaring every command costs as much as a light command's whole run. Otherwise (--help, a
    misspelt command) every command is listed with its one-line help."""
    parser = _Parser(prog="healthdeck", description="Release-health report for a project.")
    parser.add_argument("--version", action="version", version=f"healthdeck {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, declare) in COMMANDS.items():
        if command in COMMANDS and name != command:
            continue
        p = sub.add_parser(name, help=help_text)
        if name == command:
            declare(p)
            parser.command_parser = p
    return parser


class _Parser(argparse.ArgumentParser):
    """argparse builds a help formatter for every argument it declares (to check its metavar), and each
    asks shutil for the terminal's width: importing shutil, and the compression modules it brings, is a
    visible share of a light command's start. Ours finds the width the way shutil does, without it.
    (Subcommand parsers are of the same class: add_subparsers makes them so.)"""

    command_parser: argparse.ArgumentParser | None = None  # the declared command's, on the top level

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        """One line, as every other error (argparse prints the whole usage block first), naming the
        command; an option argparse does not know gets the nearest one the command has."""
        parser = self.command_parser or self  # unknown arguments are found by the top level
        hint = _nearest_option(parser, message) if message.startswith("unrecognized arguments:") else ""
        self.exit(EXIT_USAGE, f"{parser.prog}: error: {message}{hint} (see `{parser.prog} --help`)\n")


def _nearest_option(parser: argparse.ArgumentParser, message: str) -> str:
    import difflib  # here: only a mistyped command line pays for it

    known = [option for action in parser._actions for option in action.option_strings]
    for word in message.partition(":")[2].split():
        if word.startswith("--") and (close := difflib.get_close_matches(word.split("=")[0], known, n=1)):
            return f"; did you mean {close[0]}?"
    return ""


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.HelpFormatter(prog, width=_terminal_columns() - 2)  # argparse keeps 2 columns free


def _terminal_columns() -> int:
    """shutil.get_terminal_size().columns: $COLUMNS, else the terminal's width, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


def command_word(argv: Sequence[str]) -> str | None:
    """The command word: the first argument that is not an option (the top level has no option that
    takes a value)."""
    return next((a for a in argv if not a.startswith("-")), None)


def _collect_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--junit",
        action="append",
        type=_suite_spec,
        default=[],
        metavar="SUITE=PATH",
        help="JUnit XML for a suite (plain or .gz; a glob is allowed; repeat for more files or suites)",
    )
    p.add_argument("--coverage", metavar="PATH", help="coverage.py XML, `coverage json` output or .coverage")
    p.add_argument("--ruff", metavar="PATH", help="ruff --statistics (text/JSON) or --output-format json")
    p.add_argument("--compileall", metavar="PATH", help="output of python -m compileall -q")
    p.add_argument("--openapi", nargs=2, metavar=("BASE", "HEAD"),
                   help="diff two OpenAPI specs (JSON/YAML; needs the 'openapi' extra)")  # fmt: skip
    p.add_argument(
        "--openapi-report", metavar="PATH", help="a report of npm openapi-diff or oasdiff --format json"
    )
    p.add_argument(
        "--baseline", metavar="SPEC",
        help=f"compare failures and durations with: {BASELINE_HELP} (default: [tool.healthdeck.gates] "
        "baseline, else previous)",
    )  # fmt: skip
    _common(p)
    # Guardian is one team's policy engine: its inputs stand apart in --help, for the projects that use it.
    guardian = p.add_argument_group("Guardian policy engine (only for projects that use it)")
    _guardian_args(guardian)
    guardian.add_argument("--prometheus", metavar="URL", help="read Guardian's counters from this Prometheus")
    guardian.add_argument(
        "--window", metavar="DURATION", help="Prometheus window, e.g. 24h (default: config or 24h)"
    )
    guardian.add_argument(
        "--at",
        metavar="ISO-TIME",
        type=_when,
        help="end of the Prometheus window (default: now), e.g. for backfills",
    )


def _guardian_delta_args(p: argparse.ArgumentParser) -> None:
    _guardian_args(p, required=True)
    p.add_argument(
        "--format",
        choices=("markdown", "json"),
        default="markdown",
        help="markdown (default: the rehearsal comment) or json",
    )
    p.add_argument("--output", metavar="FILE", help="write here (atomically) instead of standard output")
    p.add_argument(
        "--config", metavar="PYPROJECT", default=None, help="config file (default: nearest pyproject.toml)"
    )


def _history_args(p: argparse.ArgumentParser) -> None:
    hsub = p.add_subparsers(dest="history_command", required=True, metavar="ACTION")
    show = hsub.add_parser("show", help="runs with smoke pass rate, coverage, ruff and their changes")
    show.add_argument("--branch", help="only runs of this branch")
    show.add_argument("--limit", type=int, default=30, help="the newest N runs (default 30)")
    show.add_argument("--format", choices=("table", "json"), default="table")
    show.add_argument(
        "--all-projects", action="store_true", help="every project's runs, not only this project's"
    )
    _store_args(show)
    prune = hsub.add_parser(
        "prune", help="delete old runs (keeps runs of release tags); safe while CI writes"
    )
    prune.add_argument("--keep-days", type=float, metavar="N", help="keep every run younger than N days")
    prune.add_argument("--keep-runs", type=int, metavar="N", help="keep the newest N runs of each branch")
    prune.add_argument(
        "--repo", metavar="DIR", help="also keep runs at commits a tag of this repository points at"
    )
    prune.add_argument("--all-projects", action="store_true", help="prune every project, not only this one")
    prune.add_argument("--dry-run", action="store_true", help="only say what would be deleted")
    _lock_timeout(prune)
    _store_args(prune)
    migrate = hsub.add_parser(
        "migrate", help="bring the store to this healthdeck's schema; runs without a project join this one"
    )
    _store_args(migrate)
    idir = hsub.add_parser("import-dir", help="import every *.json report under a folder")
    idir.add_argument("folder")
    _store_args(idir)
    igit = hsub.add_parser(
        "import-git", help="import every committed version of a report file (bare repos too)"
    )
    igit.add_argument("--repo", default=".", help="repository (default: .)")
    igit.add_argument("--path", default=DEFAULT_REPORT, help="the report file in the repository")
    igit.add_argument("--ref", default="HEAD", help="history to walk (default: HEAD)")
    _store_args(igit)


def _gate_args(p: argparse.ArgumentParser) -> None:
    _report_args(p)
    p.add_argument("--junit-xml", metavar="PATH", help="also write the verdict as JUnit XML")
    p.add_argument(
        "--no-write",
        action="store_true",
        help="do not store the verdict in the report and history (read-only)",
    )
    _lock_timeout(p)


def _comment_args(p: argparse.ArgumentParser) -> None:
    _report_args(p)
    p.add_argument("--output", metavar="FILE", help="write here instead of standard output")
    p.add_argument("--link", metavar="URL", help="link to the full report")
    p.add_argument("--github-step-summary", action="store_true", help="append to $GITHUB_STEP_SUMMARY")
    p.add_argument(
        "--annotations",
        action="store_true",
        help="print ::error:: and ::warning:: workflow commands for failing and blocking-unknown conditions",
    )
    p.add_argument(
        "--post", action="store_true",
        help="keep one sticky comment on the pull request (GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_EVENT_PATH)",
    )  # fmt: skip
    p.add_argument(
        "--pr", type=int, metavar="N", help="the pull request to post to (default: from the event)"
    )
    p.add_argument(
        "--no-report", metavar="REASON",
        help="no report could be built (collect failed): write and post a comment saying so with REASON, "
             "replacing an earlier push's verdict",
    )  # fmt: skip


def _review_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--report", metavar="PATH", help="the candidate's latest.json (default: latest.json in the "
                   "output folder, else the stored run of the checked-out commit, else branch)")  # fmt: skip
    p.add_argument("--run", metavar="KEY", help="the candidate run: a run key, or branch:NAME | sha:PREFIX | "
                   "tag:NAME (the newest such run of the project)")  # fmt: skip
    p.add_argument("--baseline", metavar="SPEC", help="the run to review against: a run key (run:KEY), "
                   "tag:NAME, branch:NAME, sha:PREFIX or previous (default: the last release before the "
                   "candidate, else the run its gate compared it with, else the previous run on its branch)")  # fmt: skip
    p.add_argument("--output", metavar="FILE", help="write here instead of standard output")
    _store_args(p)


def _badge_args(p: argparse.ArgumentParser) -> None:
    _report_args(p, baseline=False)
    p.add_argument("--out", metavar="DIR", help="where the badges go (default: next to the report)")


def _dashboard_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--report", metavar="PATH", help="latest.json (default: latest.json in the output folder)")
    p.add_argument("--history", metavar="URL", help="history store (default: HEALTHDECK_HISTORY, else "
                   "[tool.healthdeck] history, else history.sqlite next to the report)")  # fmt: skip
    p.add_argument(
        "--project",
        metavar="NAME",
        help="the project to show first (default: the report file's, else the first by name)",
    )
    p.add_argument("--config", metavar="PYPROJECT", default=None,
                   help="config file (default: HEALTHDECK_CONFIG, else the nearest pyproject.toml)")  # fmt: skip
    _serve_args(p)


def _demo_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", metavar="DIR", default=None, help="output folder (default: docs/audits/health)")
    p.add_argument("--runs", type=int, default=30, help="runs of history to build (default 30)")
    p.add_argument("--no-dashboard", action="store_true", help="only build the report and history")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    _serve_args(p)


COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "collect": ("read CI artifacts and write latest.json + latest.md", _collect_args),
    "guardian-delta": (
        "permissive-versus-strict Guardian delta as Markdown (rehearsal comment) or JSON",
        _guardian_delta_args,
    ),
    "history": ("the run history: show trends, import past reports", _history_args),
    "gate": (
        "go/no-go against the release checklist; exit 0 go, 1 no-go (or incomplete, unless unknown_blocks = false)",
        _gate_args,
    ),
    "comment": ("the PR comment (Markdown with a marker for one sticky comment)", _comment_args),
    "badge": ("SVG badges and shields.io endpoint JSON (smoke, coverage, verdict)", _badge_args),
    "review": ("the release review of a run against a baseline run, as Markdown", _review_args),
    "dashboard": ("serve the Streamlit dashboard (reads the report and history only)", _dashboard_args),
    "demo": (
        "build a history from the bundled real sample artifacts, then open the dashboard on it",
        _demo_args,
    ),
}


def _when(value: str) -> datetime:
    from datetime import UTC, datetime  # only the options that take a time (collect --at) need it

    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)  # naive = UTC, never local time


def _guardian_args(p: argparse.ArgumentParser | argparse._ArgumentGroup, required: bool = False) -> None:
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


def _lock_timeout(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lock-timeout", type=float, metavar="SECONDS",
                   help="give up when the history store stays locked this long (default: [tool.healthdeck] "
                   "history_lock_timeout, else 60)")  # fmt: skip


def _project(p: argparse.ArgumentParser) -> None:
    p.add_argument("--project", metavar="NAME", help="the project runs belong to (default: [tool.healthdeck] "
                   "project, else GITHUB_REPOSITORY, else the git remote's owner/name, else the folder name)")  # fmt: skip


def _store_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--history", metavar="URL", help="history store: sqlite:///PATH or postgresql://... "
                   "(default: HEALTHDECK_HISTORY, else [tool.healthdeck] history, else history.sqlite in the output folder)")  # fmt: skip
    _project(p)
    p.add_argument(
        "--config", metavar="PYPROJECT", default=None, help="config file (default: nearest pyproject.toml)"
    )


def _report_args(p: argparse.ArgumentParser, baseline: bool = True) -> None:
    p.add_argument("--report", metavar="PATH", help="latest.json (default: latest.json in the output folder, "
                   "else the stored run of the checked-out commit, else branch)")  # fmt: skip
    p.add_argument("--run", metavar="KEY", help="read this run from the history store instead of a file: "
                   "a run key, or branch:NAME | sha:PREFIX | tag:NAME (the newest such run of the project)")  # fmt: skip
    if baseline:  # badges show one run's figures: nothing to compare with
        p.add_argument("--baseline", metavar="SPEC", help=f"compare with: {BASELINE_HELP} (default: the "
                       "baseline the report was compared with when collected or gated, else gates.baseline)")  # fmt: skip
    _store_args(p)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--out", metavar="DIR", default=None, help="output folder (default: [tool.healthdeck] out)"
    )
    p.add_argument(
        "--config", metavar="PYPROJECT", default=None, help="config file (default: nearest pyproject.toml)"
    )
    p.add_argument("--root", metavar="DIR", default=None, help="project root for lanes and paths")
    p.add_argument(
        "-q", "--quiet", action="store_true", help="print no summary (warnings still go to stderr)"
    )
    p.add_argument("--history", metavar="URL", help="history store to append the run to (default: "
                   "HEALTHDECK_HISTORY, else [tool.healthdeck] history, else history.sqlite in the output folder)")  # fmt: skip
    p.add_argument("--no-history", action="store_true", help="do not record the run in the history store")
    _project(p)
    _lock_timeout(p)


# Each error type's exit code, found by module name: an error can only have been raised if its module was
# imported, so mapping it never imports anything (light commands stay light).
_EXIT_CODES: tuple[tuple[str, str, int], ...] = (
    ("healthdeck.reports.config", "ConfigError", EXIT_USAGE),
    ("healthdeck.reports.errors", "UsageError", EXIT_USAGE),
    ("healthdeck.reports.history.trends", "BaselineError", EXIT_USAGE),
    ("healthdeck.collectors.errors", "CollectorError", EXIT_INPUT),
    ("healthdeck.reports.errors", "InputError", EXIT_INPUT),
    ("healthdeck.reports.history.importers", "ImportError_", EXIT_INPUT),
    ("healthdeck.reports.output", "OutputError", EXIT_OUTPUT),
    ("healthdeck.reports.schema", "ReportError", EXIT_INTERNAL),
    ("healthdeck.reports.github", "GitHubError", EXIT_OUTPUT),  # the comment could not be posted
)


# Commands a CI job runs several times, each done in tens of milliseconds.
LIGHT = ("gate", "comment", "badge", "review")


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = command_word(argv)
    # A light command allocates little and exits at once: the garbage collector's passes over everything
    # it imported would cost more than the garbage they could find (about a fifth of a bare start).
    paused = command in LIGHT and gc.isenabled()
    if paused:
        gc.disable()
    try:
        return _run(argv, command)
    finally:
        if paused:
            gc.enable()


def _run(argv: list[str], command: str | None) -> int:
    args = _parser(command).parse_args(argv)  # exits 2 on usage errors, like every argparse tool
    module = args.command.replace("-", "_")
    try:
        return importlib.import_module(f".commands.{module}", __package__).run(args)
    except Exception as exc:
        code = _exit_code(exc, args.command)
        if code is None:
            raise
        print(f"healthdeck: error: {_message(exc)}", file=sys.stderr)
        return code


def entry() -> int:
    """The `healthdeck` command: `main`, where a crash is exit 5 (internal error), never Python's exit 1,
    which a CI script reads as the gate's NO-GO. The traceback stays: it is what a bug report needs."""
    try:
        return main()
    except KeyboardInterrupt:  # Ctrl-C: what was written is whole (every write is atomic); say so in one line
        print("healthdeck: interrupted; nothing half-written is left", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader went away (`healthdeck comment | head`): stop quietly, as Unix tools do; Python's last
        # flush at exit cannot fail
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PIPE
    except Exception as exc:  # a healthdeck bug, or a broken environment (e.g. a dependency that fails)
        import traceback

        traceback.print_exc()
        print(f"healthdeck: internal error: {type(exc).__name__}: {exc} (exit 5; if healthdeck shares its "
              "environment with the project, install it in a venv of its own)", file=sys.stderr)  # fmt: skip
        return EXIT_INTERNAL


def _database_error(exc: Exception) -> bool:
    """An error of the history store's database that no store method turned into a HistoryError (a
    server gone mid-command, a read that timed out on a lock): still one line, not a traceback."""
    sa_exc = sys.modules.get("sqlalchemy.exc")
    return bool(
        sa_exc
        and "healthdeck.reports.history.store" in sys.modules
        and isinstance(exc, sa_exc.SQLAlchemyError)
    )


def _message(exc: Exception) -> str:
    """One line: a newline or terminal escape in a file name (a glob matched it) is shown escaped, so it
    can neither start a second line — on GitHub, a workflow command such as `::error` — nor recolour
    the terminal."""
    if not _database_error(exc):
        return one_line(str(exc))
    from healthdeck.collectors.errors import exception_text  # here: --help and every light command skip it

    return one_line("history store: " + exception_text(exc))


def _exit_code(exc: Exception, command: str) -> int | None:
    history = sys.modules.get("healthdeck.reports.history.reader")
    if history and isinstance(exc, history.StoreContentError):  # what a shared store holds is input
        return EXIT_INPUT
    if (history and isinstance(exc, history.HistoryError)) or _database_error(exc):
        # collect could not record its run (an output); every other command could not read (an input)
        return EXIT_OUTPUT if command == "collect" else EXIT_INPUT
    for module_name, name, code in _EXIT_CODES:
        module = sys.modules.get(module_name)
        if module and isinstance(exc, getattr(module, name)):
            return code
    return None


if __name__ == "__main__":
    sys.exit(entry())

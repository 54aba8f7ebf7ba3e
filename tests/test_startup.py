"""Start-up and packaging: light commands import nothing heavy, a missing extra is one line, the dashboard
process stops with healthdeck. (Timing lives in benchmarks/bench_startup.py; these check what is imported.)"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from healthdeck.reports.cli import EXIT_OK, EXIT_USAGE, main
from healthdeck.reports.render.md import display_covered
from tests.github_standin import GitHubStandIn
from tests.services import free_port, wait_http

DATEUTIL = Path(__file__).resolve().parents[1] / "reports" / "samples" / "dateutil"
# What a CI step that only reads a report must never pay for.
HEAVY = {"pandas", "plotly", "streamlit", "numpy", "pyarrow", "lxml", "coverage", "jsonschema", "httpx",
         "requests", "urllib3", "prometheus_api_client", "psycopg", "orjson", "sqlalchemy"}  # fmt: skip

# Standard-library modules that each cost a light command a visible share of its start on a CI runner
# (docs/benchmarks.md): dataclasses (with inspect: ~1 ms per class defined), tempfile and shutil (with
# random and the compression modules; argparse's own terminal-width lookup brings shutil), subprocess
# (gate asks git through os.posix_spawn), sockets and TLS (only comment --post), html's entity
# table, difflib.
COSTLY_STDLIB = {"dataclasses", "inspect", "tempfile", "shutil", "random", "subprocess", "http", "email", "ssl",
                 "socket", "html", "difflib", "urllib.request", "asyncio", "concurrent", "logging",
                 "importlib.metadata"}  # fmt: skip

# Modules the interpreter already holds before healthdeck runs (site's .pth files can load some, e.g. a
# certificate hook importing certifi and with it tempfile) are not healthdeck's cost: only what it adds counts.
PROBE = """
import sys
before = set(sys.modules)
import json
from healthdeck.reports.cli import main
try:
    code = main(sys.argv[2:])
except SystemExit as exc:
    code = exc.code
with open(sys.argv[1], "w") as fh:
    json.dump({"before": sorted(before), "after": sorted(sys.modules)}, fh)
sys.exit(code)
"""


def probe(tmp_path: Path, *argv: str, env: dict | None = None) -> tuple[set[str], set[str]]:
    """(modules held before healthdeck, modules held after one whole `healthdeck` run) in a fresh interpreter."""
    modules = tmp_path / "modules.json"
    done = subprocess.run([sys.executable, "-c", PROBE, str(modules), *argv], capture_output=True, text=True,
                          env=env, cwd=tmp_path, check=False)  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    held = json.loads(modules.read_text())
    return set(held["before"]), set(held["after"])


def loaded(tmp_path: Path, *argv: str, env: dict | None = None) -> set[str]:
    """The modules one whole `healthdeck` run adds to what the interpreter held at start."""
    before, after = probe(tmp_path, *argv, env=env)
    return after - before


def imported(tmp_path: Path, *argv: str, env: dict | None = None) -> set[str]:
    """Top-level packages loaded by one whole `healthdeck` run in a fresh interpreter."""
    return {m.split(".")[0] for m in loaded(tmp_path, *argv, env=env)}


def _costly(modules: set[str]) -> set[str]:
    return {m for m in COSTLY_STDLIB if m in modules}


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("startup")
    (out / "pyproject.toml").write_text("[tool.healthdeck]\n")
    assert main(["collect", "-q", "--config", str(out / "pyproject.toml"), "--out", str(out),
                 "--junit", f"smoke={DATEUTIL / 'smoke.junit.xml.gz'}",
                 "--coverage", str(DATEUTIL / "coverage.xml.gz")]) == EXIT_OK  # fmt: skip
    return out / "latest.json"


def test_help_and_badge_import_nothing_heavy(tmp_path, report) -> None:
    assert imported(tmp_path, "--help") & HEAVY == set()
    assert imported(tmp_path, "badge", "--report", str(report), "--out", str(tmp_path)) & HEAVY == set()


def test_gate_and_comment_read_sqlite_history_without_sqlalchemy(tmp_path, report) -> None:
    """The SQLite history is read (and gate's verdict stored) through the standard library's sqlite3."""
    r = ["--report", str(report)]
    assert imported(tmp_path, "gate", *r, "--no-write") & HEAVY == set()
    assert imported(tmp_path, "comment", *r) & HEAVY == set()
    # writing the verdict checks the report file against its schema first, with healthdeck's own validator
    assert imported(tmp_path, "gate", *r) & HEAVY == set()


def test_review_reads_the_store_without_anything_heavy(tmp_path, report) -> None:
    """`healthdeck review` from the history store alone (two runs): as light as gate and comment."""
    config = report.parent / "pyproject.toml"
    assert main(["collect", "-q", "--config", str(config), "--out", str(report.parent),
                 "--junit", f"smoke={DATEUTIL / 'smoke.junit.xml.gz'}"]) == EXIT_OK  # fmt: skip
    argv = [
        "review",
        "--history",
        f"sqlite:///{report.parent / 'history.sqlite'}",
        "--out",
        str(tmp_path / "r.md"),
    ]
    modules = loaded(tmp_path, *argv)
    assert (tmp_path / "r.md").read_text().startswith("# Release review: ")
    assert {m.split(".")[0] for m in modules} & HEAVY == set() and _costly(modules) == set()


def test_comment_post_adds_only_the_http_client(tmp_path, report) -> None:
    with GitHubStandIn() as github:
        env = {**os.environ, **github.env()}
        modules = imported(
            tmp_path, "comment", "--report", str(report), "--post", "--pr", str(github.pr), env=env
        )
        assert len(github.calls("POST")) == 1
    assert modules & HEAVY == set()  # sockets (reports/http_client.py)


def test_light_commands_skip_the_costly_standard_modules(tmp_path, report) -> None:
    """Not a timing test: the modules whose import was most of what a light command cost stay out."""
    env = {**os.environ, "GITHUB_REPOSITORY": "octo/app"}  # as in CI: naming the project needs no git
    r = ["--report", str(report)]
    light = (["--help"], ["badge", *r, "--out", str(tmp_path)], ["comment", *r], ["gate", *r, "--no-write"],
             ["gate", *r])  # fmt: skip
    for argv in light:
        assert _costly(loaded(tmp_path, *argv, env=env)) == set(), argv
    with GitHubStandIn() as github:
        before, after = probe(
            tmp_path, "comment", *r, "--post", "--pr", str(github.pr), env={**env, **github.env()}
        )
        assert len(github.calls("POST")) == 1
    # sockets, no more: no http.client (nor the email package it parses headers with), and no ssl for
    # an http:// URL (the TLS tests post over https://)
    assert _costly(after - before) == {"socket"} - before


def test_after_collect_the_config_costs_no_toml_parser_and_no_typing(tmp_path, report) -> None:
    """collect parsed pyproject.toml (the `report` fixture): gate, comment and badge read that parse back
    (reports.config._read_toml) and import neither tomllib nor typing, which were a sixth of their start."""
    config = ["--config", str(report.parent / "pyproject.toml")]
    r = ["--report", str(report)]
    for argv in (
        ["gate", *r, *config],
        ["comment", *r, *config],
        ["badge", *r, *config, "--out", str(tmp_path)],
    ):
        assert {"tomllib", "typing"} & loaded(tmp_path, *argv) == set(), argv
    (report.parent / "pyproject.toml").write_text("[tool.healthdeck]\n\n")  # new text: parsed again
    assert "tomllib" in loaded(tmp_path, "gate", *r, *config, "--no-write")


def test_git_without_subprocess(tmp_path) -> None:
    """gate asks git through os.posix_spawn (stamp.run_briefly): output of both pipes, exit status,
    a missing program, and a command that outlives its timeout (killed)."""
    from healthdeck.reports.stamp import run_briefly

    big = "import sys; sys.stdout.write('o' * 300000); sys.stderr.write('e' * 300000); sys.exit(3)"
    code, out, err = run_briefly([sys.executable, "-c", big], timeout=60)  # both pipes past their buffers
    assert (code, len(out), len(err), set(out), set(err)) == (3, 300000, 300000, {"o"}, {"e"})
    assert run_briefly(["git", "-C", str(tmp_path), "rev-parse", "HEAD"], timeout=30)[0] == 128
    with pytest.raises(FileNotFoundError):
        run_briefly(["no-such-program-here"], timeout=5)
    with pytest.raises(TimeoutError):
        run_briefly([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)


def test_every_command_still_declares_its_arguments(capsys) -> None:
    """Only the chosen command's arguments are declared (start-up): each one's --help still shows them."""
    from healthdeck.reports.cli import COMMANDS

    for name in COMMANDS:
        with pytest.raises(SystemExit) as done:
            main([name, "--help"])
        assert done.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith(f"usage: healthdeck {name} ") and "options:" in out, name
    with pytest.raises(SystemExit):
        main(["--help"])
    listing = capsys.readouterr().out
    assert all(name in listing for name in COMMANDS)  # the top level lists them all
    with pytest.raises(SystemExit) as done:
        main(["gat"])
    assert done.value.code == EXIT_USAGE and "invalid choice: 'gat'" in capsys.readouterr().err


# What the extras bring (pyproject.toml): a CI job that installed only the core has none of them.
NOT_IN_CORE = ["jsonschema", "referencing", "jsonschema_path", "openapi_spec_validator", "yaml", "httpx",
               "requests", "streamlit", "pandas", "plotly", "psycopg", "prometheus_api_client", "prometheus_client"]  # fmt: skip
WITHOUT_EXTRAS = f"""
import sys
for name in {NOT_IN_CORE!r}:
    sys.modules[name] = None  # importing it fails, as in a venv with only the core installed
from healthdeck.reports.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_ci_job_needs_no_extra(tmp_path) -> None:
    """collect (every input a CI job has that needs no extra), gate, comment, badge and history show run
    with none of the extras' packages importable."""
    samples = DATEUTIL.parent
    g, out = samples / "guardian", tmp_path / "out"
    (tmp_path / "pyproject.toml").write_text("[tool.healthdeck]\n")
    commands = [
        ["collect", "-q", "--out", str(out), "--junit", f"smoke={DATEUTIL / 'smoke.junit.xml.gz'}",
         "--coverage", str(DATEUTIL / "coverage.xml.gz"), "--ruff", str(DATEUTIL / "ruff.json.gz"),
         "--compileall", str(DATEUTIL / "compileall.txt"),
         "--openapi-report", str(samples / "openapi" / "openapi-diff.txt"),
         "--guardian-permissive", str(g / "permissive.jsonl.gz"), "--guardian-strict", str(g / "strict.jsonl.gz")],
        ["gate", "--report", str(out / "latest.json")],
        ["comment", "--report", str(out / "latest.json")],
        ["badge", "--report", str(out / "latest.json")],
        ["history", "show", "--history", f"sqlite:///{out / 'history.sqlite'}"],
    ]  # fmt: skip
    for argv in commands:
        done = subprocess.run([sys.executable, "-c", WITHOUT_EXTRAS, *argv], capture_output=True, text=True,
                              cwd=tmp_path, check=False)  # fmt: skip
        assert done.returncode in (0, 1), (argv[0], done.stderr[-2000:])


def test_coverage_rounding_restated_exactly() -> None:
    from coverage.results import display_covered as coverage_display

    values = [0.0, 0.004, 0.005, 0.01, 33.333, 49.995, 50.005, 66.666, 99.99, 99.994, 99.995, 99.9999, 100.0]
    values += [i / 997 * 100 for i in range(998)]
    for precision in (0, 1, 2, 3):
        assert [display_covered(v, precision) for v in values] == [
            coverage_display(v, precision) for v in values
        ]


def test_a_missing_extra_is_named_in_one_line(tmp_path, monkeypatch, capsys) -> None:
    real = importlib.util.find_spec
    missing = {"streamlit", "psycopg", "prometheus_api_client"}
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name in missing else real(name, *a)
    )
    cases = [
        (["dashboard", "--report", str(tmp_path / "latest.json")], "[dashboard]"),
        (["history", "show", "--history", "postgresql://ci@db.example/health"], "[postgres]"),
        (["collect", "--out", str(tmp_path), "--prometheus", "http://127.0.0.1:9"], "[prometheus]"),
    ]
    for argv, extra in cases:
        assert main(argv) == EXIT_USAGE
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and extra in err[0] and f"pip install 'healthdeck{extra}'" in err[0]


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as fh:
        return [int(p) for p in fh.read().split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL], ids=lambda s: s.name)
def test_stopping_the_dashboard_stops_streamlit_and_frees_the_port(tmp_path, stop) -> None:
    """A supervisor stops `healthdeck dashboard` (SIGTERM), its terminal closes (SIGHUP) or it is killed
    (SIGKILL, which cannot be forwarded): Streamlit goes with it, and nothing was written meanwhile."""
    pytest.importorskip("streamlit")
    port, home, data = free_port(), tmp_path / "home", tmp_path / "data"
    home.mkdir()
    data.mkdir()
    env = {**os.environ, "HOME": str(home)}
    process = subprocess.Popen(
        [sys.executable, "-m", "healthdeck.reports.cli", "dashboard", "--report", str(data / "latest.json"),
         "--port", str(port)], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_http(f"http://127.0.0.1:{port}/_stcore/health", timeout=60, expect=b"ok")
        streamlit = _children(process.pid)
        assert len(streamlit) == 1
        process.send_signal(stop)
        code = process.wait(timeout=30)
        deadline = time.monotonic() + 30
        while _alive(streamlit[0]) and time.monotonic() < deadline:  # reaped by init after a SIGKILL
            time.sleep(0.1)
    finally:
        if process.poll() is None:
            process.kill()
    stopped_by = signal.SIGTERM if stop == signal.SIGHUP else stop  # a hang-up reaches Streamlit as SIGTERM
    assert code in ((0, 128 + stopped_by) if stop != signal.SIGKILL else (-signal.SIGKILL,))
    assert not _alive(streamlit[0])
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=5):
        pass  # nothing listens any more
    with (
        socket.socket() as sock
    ):  # and a new server can take the port (TIME_WAIT does not block SO_REUSEADDR)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen()
    assert list(data.iterdir()) == [] and list(home.iterdir()) == []


def test_the_console_script_pauses_the_collector_for_light_commands_only(monkeypatch) -> None:
    """`healthdeck` (reports/__main__.py) pauses the garbage collector before the CLI's imports and gives it
    back to the commands that build large structures; argparse's strings stay as written."""
    import argparse
    import gc

    from healthdeck.reports import __main__ as launcher
    from healthdeck.reports import cli

    seen: dict[str, bool] = {}
    monkeypatch.setattr(argparse, "_", argparse._)  # restored after the test
    monkeypatch.setattr(cli, "entry", lambda: seen.setdefault(sys.argv[1], gc.isenabled()) and 0)
    try:
        for word in ("gate", "comment", "collect", "import"):
            monkeypatch.setattr(sys, "argv", ["healthdeck", word])
            launcher.entry()
    finally:
        gc.enable()
    assert seen == {"gate": False, "comment": False, "collect": True, "import": True}
    assert argparse._("usage: ") == "usage: "

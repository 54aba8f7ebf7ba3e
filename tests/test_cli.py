"""`healthdeck` as users call it: exit codes, one-line errors, atomic outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from healthdeck.reports.cli import EXIT_INPUT, EXIT_OK, EXIT_OUTPUT, EXIT_USAGE, main
from tests.conftest import EDGE, REAL


def _collect(out: Path, *extra: str) -> int:
    return main(["collect", "--out", str(out), "--quiet", *extra])


def test_collect_all_inputs(tmp_path) -> None:
    code = _collect(
        tmp_path,
        "--junit",
        f"smoke={EDGE / 'reruns.xml'}",
        "--junit",
        f"unit={REAL / 'dateutil.junit-reruns.xml.gz'}",
        "--coverage",
        str(REAL / "packaging.coverage.json.gz"),
        "--ruff",
        str(REAL / "dateutil15.ruff-statistics.txt"),
        "--compileall",
        str(REAL / "dateutil15.compileall.txt"),
    )
    assert code == EXIT_OK
    report = json.loads((tmp_path / "latest.json").read_text())
    s = report["summary"]
    assert s["tests"]["smoke"]["flaky"] == 1
    assert s["tests"]["unit"]["failed"] == 4
    assert round(s["coverage"]["percent"], 2) == 84.19
    assert s["ruff"]["count"]["total"] == 2683
    assert s["ruff"]["stats"]["invalid-syntax"] == 76
    assert s["compileall"]["failures"] == 7
    assert (tmp_path / "latest.md").read_text().startswith("# Health report")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "history.sqlite",
        "latest.json",
        "latest.md",
    ]  # no temp files


def test_same_suite_twice_and_glob_merge_files(tmp_path) -> None:
    code = _collect(tmp_path, "--junit", f"smoke={EDGE / 'xunit2.xml'}", "--junit", f"smoke={EDGE}/re*.xml")
    assert code == EXIT_OK
    report = json.loads((tmp_path / "latest.json").read_text())
    assert report["details"]["tests"]["smoke"]["files"] == [
        str(EDGE / "xunit2.xml"),
        str(EDGE / "reruns.xml"),
    ]
    assert report["summary"]["tests"]["smoke"]["total"] == 16


def test_bad_input_is_one_line_exit_3_and_previous_report_survives(tmp_path, capsys) -> None:
    assert _collect(tmp_path, "--ruff", str(REAL / "more-itertools.ruff-statistics.txt")) == EXIT_OK
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    bad = tmp_path.parent / "bad.xml"
    bad.write_bytes(b"<testsuites><testcase")
    capsys.readouterr()
    code = _collect(
        tmp_path, "--ruff", str(REAL / "more-itertools.ruff-statistics.txt"), "--junit", f"smoke={bad}"
    )
    assert code == EXIT_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(bad) in err and "malformed XML" in err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_usage_errors_exit_2(tmp_path, capsys) -> None:
    assert _collect(tmp_path) == EXIT_USAGE
    assert "nothing to collect" in capsys.readouterr().err
    capsys.readouterr()
    for argv, said in [
        (
            ["collect", "--junit", "no-equals-sign"],
            "argument --junit: expected SUITE=PATH (e.g. tests=junit.xml)",
        ),
        (
            ["collect", "--juint", "unit=x.xml"],
            "unrecognized arguments: --juint unit=x.xml; did you mean --junit?",
        ),
        (["gate", "--no-wirte"], "did you mean --no-write?"),
        (["colect"], "invalid choice: 'colect'"),
    ]:
        with pytest.raises(SystemExit) as info:
            main(argv)
        err = capsys.readouterr().err
        assert info.value.code == EXIT_USAGE
        # one line naming the command, not argparse's usage block first
        assert err.count("\n") == 1 and said in err and err.startswith("healthdeck"), err
        assert err.rstrip().endswith("--help`)") and "usage:" not in err


def test_bad_config_exit_2(tmp_path, capsys) -> None:
    cfg = tmp_path / "pyproject.toml"
    cfg.write_text("[tool.healthdeck]\nslowest = 'ten'\n")
    assert _collect(tmp_path / "out", "--config", str(cfg), "--ruff", str(REAL / "mi.txt")) == EXIT_USAGE
    assert "slowest must be a non-negative integer" in capsys.readouterr().err


def test_output_path_is_a_file_exit_4(tmp_path, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert (
        _collect(blocker / "sub", "--ruff", str(REAL / "more-itertools.ruff-statistics.txt")) == EXIT_OUTPUT
    )
    err = capsys.readouterr().err  # the history is recorded first, so it is what cannot be made
    assert "Not a directory" in err and err.count("\n") == 1
    assert (
        _collect(blocker / "sub", "--no-history", "--ruff", str(REAL / "more-itertools.ruff-statistics.txt"))
        == EXIT_OUTPUT
    )
    assert "cannot write" in capsys.readouterr().err


def test_config_lanes_are_used(tmp_path) -> None:
    cfg = tmp_path / "pyproject.toml"
    cfg.write_text('[tool.healthdeck]\nout = "reports"\n[tool.healthdeck.lanes]\nlib = "more_itertools"\n')
    code = main(
        [
            "collect",
            "--quiet",
            "--config",
            str(cfg),
            "--out",
            str(tmp_path / "o"),
            "--ruff",
            str(REAL / "more-itertools.ruff-violations.json.gz"),
        ]
    )
    assert code == EXIT_OK
    report = json.loads((tmp_path / "o" / "latest.json").read_text())
    assert report["summary"]["ruff"]["count"]["lanes"] == {"lib": 72}
    assert report["config"]["lanes"] == {"lib": ["more_itertools/"]}


def test_console_script_demo(tmp_path) -> None:
    """The README's main command, through the installed entry point."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "healthdeck.reports.cli",
            "demo",
            "--no-dashboard",
            "--runs",
            "3",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "smoke 99.67 %" in done.stdout
    report = json.loads((tmp_path / "latest.json").read_text())
    assert report["summary"]["tests"]["unit"]["passed"] == 4908
    assert report["summary"]["missing"] == []  # the demo includes every input
    assert report["summary"]["verdict"] in ("GO", "NO-GO", "INCOMPLETE")  # the demo gates every run


@pytest.mark.parametrize("theirs", ["latest.json", "latest.md", "history.sqlite"])
def test_the_demo_never_overwrites_a_projects_own_report(tmp_path, capsys, theirs) -> None:
    """Run in a project that keeps its report in the default folder (its store elsewhere, so no
    history.sqlite there), the demo refuses instead of replacing the project's report with samples."""
    own = tmp_path / theirs
    own.write_bytes(b"the project's own\n")
    assert main(["demo", "--no-dashboard", "--runs", "2", "--out", str(tmp_path)]) == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and theirs in err and "another --out" in err
    assert own.read_bytes() == b"the project's own\n"
    assert [p.name for p in tmp_path.iterdir()] == [theirs]


def test_a_crash_is_exit_5_never_the_gates_exit_1(tmp_path) -> None:
    """An unexpected error (a healthdeck bug, or a dependency the project broke in a shared environment):
    exit 5 with the traceback from the console script's entry, never Python's exit 1, which CI reads as
    the gate's NO-GO."""
    code = (
        "import sys\n"
        "from healthdeck.reports import cli\n"
        "from healthdeck.reports.commands import collect\n"
        "def broken(args, config):\n"
        "    raise SyntaxError('invalid syntax (as a broken dependency raises it)')\n"
        "collect.collect = broken\n"
        "sys.argv = ['healthdeck', 'collect', '--no-history', '--junit', sys.argv[1]]\n"
        "sys.exit(cli.entry())\n"
    )
    done = subprocess.run([sys.executable, "-c", code, f"smoke={EDGE / 'xunit2.xml'}"], capture_output=True,
                          text=True, cwd=tmp_path, check=False)  # fmt: skip
    assert done.returncode == 5, done.stderr
    assert "Traceback" in done.stderr and "SyntaxError" in done.stderr
    assert done.stderr.splitlines()[-1].startswith("healthdeck: internal error: SyntaxError:")
    assert not (tmp_path / "docs").exists()


def test_output_closed_early_stops_quietly(tmp_path) -> None:
    """`healthdeck … | head` closes the pipe before healthdeck is done writing: no traceback, no "internal
    error", and the documented exit code."""
    code = "import sys\nfrom healthdeck.reports import cli\nsys.argv = ['healthdeck', *sys.argv[1:]]\nsys.exit(cli.entry())\n"
    reader, writer = os.pipe()
    os.close(reader)  # the reader is gone before the first write
    args = ["collect", "--no-history", "--out", "out", "--junit", f"smoke={EDGE / 'xunit2.xml'}"]
    done = subprocess.run([sys.executable, "-c", code, *args], stdout=writer, stderr=subprocess.PIPE, text=True,
                          cwd=tmp_path, check=False)  # fmt: skip
    os.close(writer)
    assert done.returncode == 141, done.stderr
    assert "Traceback" not in done.stderr and "error" not in done.stderr, done.stderr
    assert (tmp_path / "out" / "latest.json").exists()  # the work was done; only its printout was cut


def test_ctrl_c_is_one_line_and_exit_130(tmp_path, monkeypatch, capsys) -> None:
    """Ctrl-C while a command works (here: while collect reads its input) ends in one line and 130, the
    code a shell gives a tool SIGINT stopped, and leaves no report behind."""
    from healthdeck.reports import cli
    from healthdeck.reports.commands import collect

    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt  # what Python raises when SIGINT arrives

    monkeypatch.setattr(collect, "collect_junit", interrupted)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["healthdeck", "collect", "--no-history", "--out", "out",
                                      "--junit", f"smoke={EDGE / 'xunit2.xml'}"])  # fmt: skip
    assert cli.entry() == 130
    assert capsys.readouterr().err.strip().splitlines() == [
        "healthdeck: interrupted; nothing half-written is left"
    ]
    assert not (tmp_path / "out").exists()


def test_output_errors_name_the_path_the_user_gave(tmp_path, capsys) -> None:
    """Never the temporary file written beside it, and "a file, not a folder" rather than "File exists"."""
    junit = ["--junit", f"smoke={EDGE / 'xunit2.xml'}"]
    (tmp_path / "a-file").write_text("")
    (tmp_path / "a-dir").mkdir()
    assert main(["collect", "-q", "--no-history", "--out", str(tmp_path / "a-file"), *junit]) == 4
    assert (
        capsys.readouterr().err.strip()
        == f"healthdeck: error: {tmp_path / 'a-file'}: cannot write there: it is a file, not a folder"
    )
    assert main(["collect", "-q", "--no-history", "--out", str(tmp_path / "out"), *junit]) == 0
    assert (
        main(
            [
                "comment",
                "--report",
                str(tmp_path / "out" / "latest.json"),
                "--output",
                str(tmp_path / "a-dir"),
            ]
        )
        == 4
    )
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith(f"healthdeck: error: {tmp_path / 'a-dir'}: cannot write: it is a directory")
    )


def test_a_store_baseline_with_no_history_is_said(tmp_path, capsys) -> None:
    junit = ["--junit", f"smoke={EDGE / 'xunit2.xml'}"]
    assert (
        main(["collect", "--no-history", "--out", str(tmp_path / "out"), "--baseline", "tag:v1.0", *junit])
        == 0
    )
    assert "baseline tag:v1.0: --no-history reads no history store" in capsys.readouterr().err


def test_an_output_that_is_not_a_regular_file_is_written_into_not_replaced(tmp_path, capsys) -> None:
    """`--output /dev/stdout`, `/dev/null` or `>(cat)`: renaming over them would replace the device or the
    pipe itself (as root, /dev/null for every process on the machine). A pipe stands in for the device
    here; a symlinked output keeps its link and replaces the file it points to."""
    import os

    junit = ["--junit", f"smoke={EDGE / 'xunit2.xml'}"]
    assert main(["collect", "-q", "--no-history", "--out", str(tmp_path / "out"), *junit]) == 0
    report = ["--report", str(tmp_path / "out" / "latest.json")]
    fifo = tmp_path / "comment.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader is there before the write (else ENXIO)
    try:
        assert main(["comment", *report, "--output", str(fifo)]) == 0
        received = os.read(reader, 1 << 20)  # the comment is far below the pipe's buffer
    finally:
        os.close(reader)
    assert received.startswith(b"<!-- healthdeck:comment -->")
    assert fifo.is_fifo()  # still the pipe, not a file renamed over it
    capsys.readouterr()
    assert main(["comment", *report, "--output", str(fifo)]) == 4  # nobody reads it now: no wait for ever
    assert (
        capsys.readouterr().err.strip()
        == f"healthdeck: error: {fifo}: cannot write: it is a pipe nobody reads"
    )
    (tmp_path / "real.md").write_text("old")
    (tmp_path / "link.md").symlink_to("real.md")
    assert main(["comment", *report, "--output", str(tmp_path / "link.md")]) == 0
    assert (tmp_path / "link.md").is_symlink() and "healthdeck:comment" in (tmp_path / "real.md").read_text()
    (tmp_path / "loop-a").symlink_to("loop-b")
    (tmp_path / "loop-b").symlink_to("loop-a")
    capsys.readouterr()
    assert main(["comment", *report, "--output", str(tmp_path / "loop-a")]) == 4  # as a shell's `>` fails
    assert (
        tmp_path / "loop-a"
    ).is_symlink() and "Too many levels of symbolic links" in capsys.readouterr().err


def test_long_output_names(tmp_path, capsys) -> None:
    """A name the file system allows (up to 255 bytes) is written, its temporary sibling included; a longer
    one is one line and exit 4 — looking at it to word the error raised too (exit 5, a traceback)."""
    junit = ["--junit", f"smoke={EDGE / 'xunit2.xml'}"]
    assert main(["collect", "-q", "--no-history", "--out", str(tmp_path / "out"), *junit]) == 0
    report = ["--report", str(tmp_path / "out" / "latest.json")]
    longest = tmp_path / ("a" * 252 + ".md")
    assert main(["comment", *report, "--output", str(longest)]) == 0 and longest.exists()
    capsys.readouterr()
    too_long = tmp_path / ("b" * 253 + ".md")
    assert main(["comment", *report, "--output", str(too_long)]) == 4
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.endswith(": cannot write: File name too long")
    deep = tmp_path.joinpath(*["d" * 230] * 20)  # over PATH_MAX
    assert main(["collect", "-q", "--no-history", "--out", str(deep), *junit]) == 4
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_gate_on_a_report_from_a_pipe_gives_the_verdict_and_writes_nothing_back(tmp_path, capsys) -> None:
    """`gate --report <(…)` wrote its verdict back to /dev/fd/63 and /dev/fd/63.md: exit 4 hid the verdict."""
    import os
    import threading

    junit = ["--junit", f"smoke={EDGE / 'xunit2.xml'}"]
    assert main(["collect", "-q", "--no-history", "--out", str(tmp_path / "out"), *junit]) == 0
    data = (tmp_path / "out" / "latest.json").read_bytes()
    read, write = os.pipe()
    threading.Thread(target=lambda: (os.write(write, data), os.close(write)), daemon=True).start()
    capsys.readouterr()
    assert main(["gate", "--report", f"/dev/fd/{read}"]) == 1  # the sample's smoke suite fails the checklist
    os.close(read)
    err = capsys.readouterr().err
    assert f"/dev/fd/{read} is not a file (a pipe?): the verdict is not written back to it" in err
    assert (tmp_path / "out" / "latest.json").read_bytes() == data


def test_the_wrote_lines_escape_a_newline_in_a_path(tmp_path, capsys) -> None:
    junit = ["--junit", f"smoke={EDGE / 'xunit2.xml'}"]
    out = tmp_path / "o\nut\x1b[31m"
    assert main(["collect", "--no-history", "--out", str(out), *junit]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("wrote ") and "o\\nut\\x1b[31m/latest.json" in lines[0]
    assert main(["badge", "--report", str(out / "latest.json"), "--out", str(out)]) == 0
    assert all(line.startswith("wrote ") for line in capsys.readouterr().out.splitlines())


@pytest.mark.parametrize(
    ("option", "writer"),
    [
        (["--junit", "unit=gone.xml"], "pytest writes no JUnit XML"),
        (["--junit", "unit=gone-*.xml"], "pytest writes no JUnit XML"),
        (["--coverage", "gone.xml"], "`coverage xml` or `coverage json` writes it"),
        (["--ruff", "gone.json"], "`ruff check --output-format json --output-file FILE` writes it"),
        (["--compileall", "gone.txt"], "`python -m compileall -q SRC > FILE` writes it"),
    ],
)
def test_an_input_that_is_not_there_asks_whether_its_step_ran(option, writer, tmp_path, capsys) -> None:
    """Every input a CI step writes, missing, is one line in the same words: the reason, did the step
    that writes it finish, and what writes it."""
    assert _collect(tmp_path / "out", "--no-history", *option) == EXIT_INPUT
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"healthdeck: error: {option[1].partition('=')[2] or option[1]}: ")
    assert "; did the step that writes " in line and line.endswith(")") and writer in line
    assert not (tmp_path / "out").exists()  # nothing written


def test_names_from_artifacts_and_git_reach_no_terminal_badge_or_markdown_raw(
    tmp_path, monkeypatch, capsys
) -> None:
    """A suite name, a project and a branch carry a terminal escape (window title, clear screen), a
    direction override and markup: every line printed shows them escaped, the badges stay XML, and
    latest.md's verdict line renders no image."""
    import xml.dom.minidom

    junit = tmp_path / "j.xml"
    junit.write_text('<testsuite name="s"><testcase classname="m" name="t"><failure message="x"/></testcase>'
                     '<testcase classname="m" name="u"/></testsuite>')  # fmt: skip
    suite = "\x1b[31mS\u202e![i](http://127.0.0.2:9/i.png)"
    monkeypatch.setenv("GITHUB_REF_NAME", "\x1b]0;TITLE\x07\x1b[2Jbranch")
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    assert (
        main(["collect", "--project", "\x1b[32mproj", "--junit", f"{suite}={junit}", "--history", url]) == 0
    )
    assert main(["gate", "--no-write", "--history", url, "--project", "\x1b[32mproj"]) == 1
    assert main(["history", "show", "--history", url, "--project", "\x1b[32mproj"]) == 0
    assert main(["badge", "--out", str(tmp_path / "b")]) == 0
    printed = "".join(capsys.readouterr())
    assert "\x1b" not in printed and "\u202e" not in printed and "\\x1b[31mS\\u202e" in printed
    for svg in (tmp_path / "b").glob("*.svg"):
        xml.dom.minidom.parse(str(svg))  # a control character is no XML at all
    md = (tmp_path / "docs" / "audits" / "health" / "latest.md").read_text()
    assert "\x1b" not in md and "](http" not in md  # the verdict line's suite name is escaped too

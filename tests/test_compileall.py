"""compileall collector: real output from Python 2 code, and a live run."""

from __future__ import annotations

import subprocess
import sys

import pytest

from healthdeck.collectors import CollectorError
from healthdeck.collectors.compileall import collect_compileall
from tests.conftest import REAL, expected


def test_real_failures() -> None:
    result = collect_compileall(REAL / "dateutil15.compileall.txt")
    want = expected("compileall")["dateutil15.compileall.txt"]
    assert len(result.failures) == want["error_compiling_blocks"]
    first = result.failures[0]
    assert (first.path, first.line, first.message) == (
        "dateutil/easter.py",
        55,
        "SyntaxError: invalid syntax",
    )


@pytest.mark.parametrize("quiet", [True, False], ids=["-q", "verbose"])
def test_live_run(tmp_path, quiet: bool) -> None:
    src = tmp_path / "src"
    (src / "core").mkdir(parents=True)
    (src / "core" / "ok.py").write_text("x = 1\n")
    (src / "core" / "bad.py").write_text("def f(:\n    pass\n")
    (src / "worse.py").write_text("print 'hi'\n")
    done = subprocess.run(
        [sys.executable, "-m", "compileall", *(["-q"] if quiet else []), "src"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    (tmp_path / "out.txt").write_text(done.stdout + done.stderr)
    result = collect_compileall(tmp_path / "out.txt")
    assert sorted(f.path for f in result.failures) == ["src/core/bad.py", "src/worse.py"]
    assert all(f.message.startswith("SyntaxError") and f.line == 1 for f in result.failures)


def test_empty_output_is_a_clean_run(write) -> None:
    assert collect_compileall(write("c.txt", "")).failures == ()


def test_unrelated_text_is_refused(write) -> None:
    with pytest.raises(CollectorError, match="line 1 is not compileall output"):
        collect_compileall(write("c.txt", "<testsuites/>\n"))


def test_a_folder_compileall_could_not_list_is_not_a_clean_run(tmp_path) -> None:
    """`python -m compileall -q src` in a project without src/ prints one line and exits 0: it compiled
    nothing, which must not read as "0 failures"."""
    done = subprocess.run([sys.executable, "-m", "compileall", "-q", "src"], cwd=tmp_path,
                          capture_output=True, text=True, check=False)  # fmt: skip
    (tmp_path / "c.txt").write_text(done.stdout + done.stderr)
    with pytest.raises(
        CollectorError, match="could not list 'src' \\(no such folder\\?\\), so it compiled nothing"
    ):
        collect_compileall(tmp_path / "c.txt")


def test_the_comment_names_the_files_that_do_not_compile(tmp_path, capsys) -> None:
    """A pull request that breaks compilation: the comment names the first files (and how many more),
    so the author need not open the artifact to learn which file to fix."""
    from healthdeck.reports.cli import main

    want = expected("compileall")["dateutil15.compileall.txt"]["error_compiling_blocks"]
    out = tmp_path / "out"
    assert main(["collect", "-q", "--no-history", "--out", str(out),
                 "--compileall", str(REAL / "dateutil15.compileall.txt")]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["comment", "--report", str(out / "latest.json")]) == 0
    row = next(
        line for line in capsys.readouterr().out.splitlines() if line.startswith("| compileall failures")
    )
    assert f"| {want} |" in row and "`dateutil/easter.py:55`" in row and f"and {want - 3} more" in row

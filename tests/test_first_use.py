"""What a first-time user meets: figures that never round to a lie, badges that read well, config
errors in one plain line, and a dashboard that never borrows another project's config."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from healthdeck.reports.cli import EXIT_USAGE, main
from healthdeck.reports.commands import dashboard as dashboard_cmd
from healthdeck.reports.commands.badge import cmd_badge
from healthdeck.reports.config import Config
from healthdeck.reports.gate import show
from healthdeck.reports.render.md import percent


@pytest.mark.parametrize(("passed", "total"), [(1999, 2000), (19999, 20000), (199_999, 200_000)])
def test_a_failure_never_shows_as_100_percent(passed: int, total: int) -> None:
    rate = passed / total
    assert percent(rate) != "100.00 %" and percent(rate, 1) != "100.0 %"
    assert show(rate, "fraction") != "100.00 %"
    assert show(99.999, "percent") == "99.99 %"  # coverage.py's own display for an incomplete total
    assert percent(1.0) == "100.00 %" and percent(0.0) == "0.00 %" and percent(0.95) == "95.00 %"


def _badges(tmp_path: Path, suite: str, rate: float, cov: float) -> dict[str, dict]:
    summary = {"tests": {suite: {"pass_rate": rate}}, "coverage": {"percent": cov}, "verdict": None}
    cmd_badge(Config(), {"summary": summary}, tmp_path)
    return {n: json.loads((tmp_path / f"badge-{n}.json").read_text()) for n in ("smoke", "coverage")}


def test_badges_round_like_coverage_py_and_name_the_suite_once(tmp_path: Path) -> None:
    b = _badges(tmp_path, "tests", 19999 / 20000, 99.996)  # one failure in 20 000; a line uncovered
    assert b["smoke"]["label"] == "tests" and b["smoke"]["message"] == "99.99%"
    assert b["coverage"]["message"] == "99.99%"
    b = _badges(tmp_path, "smoke", 1.0, 100.0)
    assert b["smoke"]["label"] == "smoke tests" and b["smoke"]["message"] == "100.00%"
    assert b["coverage"]["message"] == "100.00%"


def test_missing_config_is_one_plain_line(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nothere.toml"
    assert main(["gate", "--config", str(missing), "--report", str(tmp_path / "r.json")]) == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert err == f"healthdeck: error: {missing}: cannot read config: No such file or directory"


@pytest.fixture
def streamlit_env(monkeypatch) -> dict[str, str]:
    """The environment `healthdeck dashboard` would start Streamlit with (nothing is started)."""
    seen: dict[str, str] = {}

    class Child:
        def __init__(self, command: list[str], env: dict[str, str], **_kw: object) -> None:
            seen.update(env)

    monkeypatch.setattr(dashboard_cmd.subprocess, "Popen", Child)
    monkeypatch.setattr(dashboard_cmd, "_supervise", lambda child: 0)
    return seen


def test_the_dashboard_wrapper_reads_the_dashboards_own_variables(
    tmp_path: Path, monkeypatch, streamlit_env
) -> None:
    """A dashboard host sets HEALTHDECK_HISTORY (deployment.md); the wrapper must not replace it with
    a SQLite file next to a report that is not there. A flag still wins."""
    seen = streamlit_env
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HEALTHDECK_HISTORY", "postgresql://health_ro@db.internal/health")
    assert main(["dashboard"]) == 0
    assert seen["HEALTHDECK_HISTORY"] == "postgresql://health_ro@db.internal/health"
    assert main(["dashboard", "--history", "sqlite:///elsewhere.sqlite"]) == 0
    assert seen["HEALTHDECK_HISTORY"] == f"sqlite:///{tmp_path / 'elsewhere.sqlite'}"


def test_dashboard_without_a_project_config_uses_the_defaults(
    tmp_path: Path, monkeypatch, streamlit_env
) -> None:
    """Streamlit runs in healthdeck's dashboard/ folder: searching from there would find healthdeck's own
    pyproject (its prod lanes, its checklist) and show a stranger's figures for the user's report."""
    seen = streamlit_env
    monkeypatch.delenv("HEALTHDECK_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)  # no pyproject.toml here or above
    assert main(["dashboard", "--report", str(tmp_path / "latest.json")]) == 0
    assert seen["HEALTHDECK_CONFIG"] == ""
    # a HEALTHDECK_CONFIG that names no file is said (deployment.md: the wrapper reads the variable)
    monkeypatch.setenv("HEALTHDECK_CONFIG", str(tmp_path / "elsewhere" / "pyproject.toml"))
    assert main(["dashboard", "--report", str(tmp_path / "latest.json")]) == 2

    from healthdeck.dashboard.data import source

    monkeypatch.setenv("HEALTHDECK_CONFIG", "")
    monkeypatch.chdir(Path(dashboard_cmd.__file__).resolve().parents[2] / "dashboard")
    assert source().config == Config()
    assert os.environ["HEALTHDECK_CONFIG"] == ""


def _readme_ci_snippet() -> str:
    text = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    after = text[text.index("Anywhere else, the same steps as commands") :]
    return after[after.index("```bash\n") + len("```bash\n") : after.index("\n```", after.index("```bash"))]


def _snippet_project(tmp_path: Path) -> None:
    """A small project with a failing test and an HTTP API whose spec breaks the released one."""
    import shutil

    samples = Path(__file__).parents[1] / "reports" / "samples" / "openapi"
    (tmp_path / "src" / "app").mkdir(parents=True)
    (tmp_path / "src" / "app" / "__init__.py").write_text("def double(x):\n    return 2 * x\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_app.py").write_text(
        "from app import double\n\ndef test_ok():\n    assert double(2) == 4\n\n"
        "def test_broken():\n    assert double(3) == 7\n"
    )
    (tmp_path / "base").mkdir()
    shutil.copy(samples / "base.json", tmp_path / "base" / "openapi.json")
    shutil.copy(samples / "head.json", tmp_path / "openapi.json")
    (tmp_path / "reports").mkdir()
    (tmp_path / "pyproject.toml").write_text("[tool.pytest.ini_options]\npythonpath = ['src']\n")


def _run_snippet(tmp_path: Path) -> subprocess.CompletedProcess:
    """The README's steps as a strict CI shell runs them (POSIX `sh -e`, dash on Debian: no brace
    expansion or other bash-only syntax; no GitHub variables), all but the install line (no network)."""
    import shutil
    import sys

    snippet = _readme_ci_snippet()
    assert snippet.splitlines()[0].startswith("pipx install")
    script = "set -e\n" + "\n".join(snippet.splitlines()[1:]) + "\n"
    bin_dir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    for tool in ("pytest", "ruff", "healthdeck"):
        assert shutil.which(tool, path=env["PATH"]), f"{tool} is not installed beside this Python"
    return subprocess.run(["sh", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          check=False)  # fmt: skip


def test_the_readmes_ci_snippet_runs_as_written_under_sh_e(tmp_path: Path) -> None:
    """The README's "anywhere else" steps on a small project with a failing test: every step runs, the
    comment and badges are written on the NO-GO, and the job's exit code is the gate's."""
    _snippet_project(tmp_path)
    # an earlier run's output that the unit glob would match: the snippet deletes it before pytest runs
    (tmp_path / "reports" / "junit-unit-earlier.xml").write_text(
        '<testsuite name="s" tests="5">' + "".join(f'<testcase classname="t" name="t{i}"/>' for i in range(5))
        + "</testsuite>"
    )  # fmt: skip
    done = _run_snippet(tmp_path)
    report = json.loads((tmp_path / "docs/audits/health/latest.json").read_text())
    assert [report["summary"]["tests"]["unit"][k] for k in ("passed", "failed")] == [1, 1]  # this run's alone
    assert report["summary"]["verdict"] == "NO-GO"  # 50 % pass rate, and the sample API breaks
    assert done.returncode == 1, done.stderr  # the gate's code, after comment and badges ran
    assert (tmp_path / "reports" / "comment.md").read_text().startswith("<!-- healthdeck:comment -->")
    assert (tmp_path / "docs/audits/health/badge-verdict.svg").exists()
    assert "breaking" in (tmp_path / "reports" / "comment.md").read_text()


def test_the_readmes_ci_snippet_never_gates_an_earlier_report(tmp_path: Path) -> None:
    """The next run in the same workspace, where pytest cannot start (a broken conftest writes no JUnit):
    collect fails, so the steps say "no report" in the comment and end with collect's exit 3; the gate
    never judges the earlier run's report, and its JUnit verdict file is gone."""
    _snippet_project(tmp_path)
    assert _run_snippet(tmp_path).returncode == 1
    before = (tmp_path / "docs/audits/health/latest.json").read_bytes()
    (tmp_path / "tests" / "conftest.py").write_text("import does_not_exist\n")
    done = _run_snippet(tmp_path)
    assert done.returncode == 3, done.stderr
    comment = (tmp_path / "reports" / "comment.md").read_text()
    assert "Release health: **no report**" in comment and "junit-unit*.xml" in comment
    assert not (tmp_path / "reports" / "gate.xml").exists()
    assert (tmp_path / "docs/audits/health/latest.json").read_bytes() == before


def test_the_readmes_ci_snippet_names_a_test_module_that_does_not_parse(tmp_path: Path) -> None:
    """The commonest broken pull request: a test module with a syntax error. pytest stops at collection and
    pytest-cov writes no coverage file, so collect cannot build the report; the "no report" comment says
    what the tests' own JUnit says stopped them, not only that the coverage file is missing."""
    _snippet_project(tmp_path)
    (tmp_path / "tests" / "test_new.py").write_text("def test_x(:\n    pass\n")
    done = _run_snippet(tmp_path)
    assert done.returncode == 3, done.stderr
    comment = (tmp_path / "reports" / "comment.md").read_text()
    assert "Release health: **no report**" in comment and "coverage.xml" in comment
    assert "tests.test_new: SyntaxError: invalid syntax" in comment


def test_a_command_run_in_a_subfolder_uses_the_projects_folders(tmp_path: Path, monkeypatch) -> None:
    """Paths written in pyproject.toml (`out`, a relative SQLite `history`) are relative to the folder that
    holds it, as ruff's and pytest's are: `collect` run from a subfolder writes the same report and store
    as from the root, later commands anywhere in the project read them, and a `git:REF` baseline finds
    the committed report. Paths given on the command line stay relative to the working directory."""
    import subprocess

    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
                       cwd=tmp_path, check=True, capture_output=True)  # fmt: skip

    junit = (
        '<testsuite name="s" tests="2"><testcase classname="t" name="test_a"/>'
        '<testcase classname="t" name="test_b">{}</testcase></testsuite>'
    )
    (tmp_path / "pyproject.toml").write_text(
        '[tool.healthdeck]\nhistory = "sqlite:///.healthdeck/history.sqlite"\n'
        "[tool.healthdeck.gates]\nsmoke_pass_rate_min = 0.5\n"
    )
    sub = tmp_path / "services" / "api"
    sub.mkdir(parents=True)
    (sub / "smoke.xml").write_text(junit.format(""))
    git("init", "-q")
    monkeypatch.chdir(sub)
    assert main(["collect", "--junit", "smoke=smoke.xml", "-q"]) in (0, 1)
    report = tmp_path / "docs" / "audits" / "health" / "latest.json"
    assert report.exists() and not (sub / "docs").exists()
    assert (tmp_path / ".healthdeck" / "history.sqlite").exists() and not (sub / ".healthdeck").exists()
    git("add", "-A")
    git("commit", "-q", "-m", "base")
    git("tag", "v1")

    (sub / "smoke.xml").write_text(junit.format('<failure message="boom"/>'))
    assert main(["collect", "--junit", "smoke=smoke.xml", "--baseline", "git:v1", "-q"]) in (0, 1)
    doc = json.loads(report.read_text())
    assert doc["summary"]["tests"]["smoke"]["failed"] == 1
    transitions = doc["details"]["tests"]["smoke"]["transitions"]
    assert transitions["new"] == ["t::test_b"], transitions  # compared with the report committed at v1
    monkeypatch.chdir(tmp_path / "services")
    assert main(["history", "show"]) == 0  # the store beside pyproject.toml, found from another folder
    assert main(["badge"]) == 0
    assert (tmp_path / "docs" / "audits" / "health" / "badge-verdict.svg").exists()


def test_outcome_words_read_like_pytest() -> None:
    from healthdeck.reports.failures import outcome_words

    one = {"passed": 20, "failed": 12, "errors": 1, "skipped": 0}
    assert outcome_words(one) == "20 passed, 12 failed, 1 error"  # never "1 errors"
    assert outcome_words({**one, "errors": 0, "skipped": 3}) == "20 passed, 12 failed, 0 errors, 3 skipped"


def test_a_missing_junit_file_says_which_step_to_look_at(tmp_path: Path, capsys) -> None:
    """pytest stopped by a broken conftest (exit 4) writes no JUnit XML: the line says where to look."""
    missing = tmp_path / "reports" / "junit-unit.xml"
    assert (
        main(["collect", "-q", "--no-history", "--out", str(tmp_path / "out"), "--junit", f"unit={missing}"])
        == 3
    )
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"healthdeck: error: {missing}: junit: No such file or directory; did the step")

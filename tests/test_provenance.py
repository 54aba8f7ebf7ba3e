"""Where a run came from: its project, the PR head commit in a pull-request event, release tags, and
git that cannot be read (said on stderr and in latest.md, with the fix). Also the dashboard reading
the history store alone, with the report's own configuration."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from healthdeck.reports.cli import EXIT_OK, main
from healthdeck.reports.history.store import open_store
from healthdeck.reports.stamp import read_stamp, remote_name, resolve_project
from tests.conftest import EDGE, REAL

SMALL = [
    "--junit",
    f"smoke={EDGE / 'xunit2.xml'}",
    "--ruff",
    str(REAL / "more-itertools.ruff-statistics.txt"),
]
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@e",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@e",
}


@pytest.fixture
def plain_git(tmp_path, monkeypatch):
    """git with no global or system configuration (no safe.directory = * from the machine)."""
    empty = tmp_path / "gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GITHUB_SHA", "GITHUB_REF_NAME", "GITHUB_HEAD_REF", "GITHUB_REPOSITORY", "GITHUB_EVENT_NAME",
                 "GITHUB_EVENT_PATH", "GITHUB_REF_TYPE", "CI_COMMIT_SHA", "CI_COMMIT_TAG", "SOURCE_DATE_EPOCH"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


def _repo(path: Path, *, remote: str | None = None) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **GIT_ENV}
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True, env=env)
    subprocess.run(
        ["git", "-C", str(path), "commit", "-q", "--allow-empty", "-m", "one"], check=True, env=env
    )
    if remote:
        subprocess.run(["git", "-C", str(path), "remote", "add", "origin", remote], check=True, env=env)
    return path


@pytest.mark.skipif(os.geteuid() != 0, reason="making git see another owner needs root (chown)")
def test_dubious_ownership_is_said_with_the_fix(plain_git, tmp_path, monkeypatch, capsys) -> None:
    """The CI-container case for real: the checkout belongs to another user, so git refuses to read it."""
    repo = _repo(tmp_path / "checkout")
    shutil.chown(repo, "nobody")
    for path in repo.rglob("*"):
        shutil.chown(path, "nobody")
    stamp = read_stamp(repo, env={})
    assert stamp.git_sha is None and stamp.branch is None
    [warning] = stamp.warnings
    assert "dubious ownership" in warning and f"git config --global --add safe.directory {repo}" in warning
    monkeypatch.chdir(repo)
    assert main(["collect", "--no-history", "--out", str(tmp_path / "out"), *SMALL]) == EXIT_OK
    assert "safe.directory" in capsys.readouterr().err
    markdown = (tmp_path / "out" / "latest.md").read_text()
    assert "**Warning:** git refused to read" in markdown and "safe.directory" in markdown
    report = json.loads((tmp_path / "out" / "latest.json").read_text())
    assert report["details"]["metadata"]["warnings"] == [warning]
    # with the fix applied, git reads the checkout again and nothing is said
    subprocess.run(["git", "config", "--global", "--add", "safe.directory", str(repo)], check=True)
    assert read_stamp(repo, env={}).warnings == () and read_stamp(repo, env={}).git_sha


def test_a_pull_request_run_is_keyed_by_the_head_commit(plain_git, tmp_path, monkeypatch) -> None:
    head, merge = "a" * 40, "b" * 40
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 17, "head": {"sha": head, "ref": "feature"}}}))
    env = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(event), "GITHUB_SHA": merge,
           "GITHUB_HEAD_REF": "feature", "GITHUB_REPOSITORY": "octo/app", "SOURCE_DATE_EPOCH": "1700000000"}  # fmt: skip
    stamp = read_stamp(_repo(tmp_path / "repo"), env=env)
    assert (stamp.git_sha, stamp.merge_sha, stamp.pull_request, stamp.project) == (
        head,
        merge,
        17,
        "octo/app",
    )
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path / "repo")
    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    assert main(["collect", "-q", "--out", str(tmp_path / "out"), "--history", url, *SMALL]) == EXIT_OK
    summary = json.loads((tmp_path / "out" / "latest.json").read_text())["summary"]
    assert (summary["git_sha_full"], summary["merge_sha"], summary["pull_request"]) == (head, merge, 17)
    header = (tmp_path / "out" / "latest.md").read_text().splitlines()[:3]
    assert (
        header[0].endswith(f"`{head[:8]}`")
        and "(pull request #17: tested on its merge commit `bbbbbbbb`)" in header[2]
    )
    store = open_store(url, readonly=True)
    assert store.latest_for_sha(head[:8], "octo/app").run_key == summary["run_key"]  # found by the head
    assert store.latest_for_sha(merge[:8]) is None
    store.close()
    event.write_text("{not json")
    assert "unreadable" in read_stamp(tmp_path / "repo", env=env).warnings[0]
    # a local re-run of CI steps: the event named, no payload and no GITHUB_SHA — said as it is
    local = {"GITHUB_EVENT_NAME": "pull_request"}
    [said] = read_stamp(tmp_path / "repo", env=local).warnings
    assert (
        said
        == "a pull-request run without GITHUB_EVENT_PATH: the run is keyed by the checked-out commit, not the PR head"
    )
    event.write_text("{}")
    [said] = read_stamp(tmp_path / "repo", env=env).warnings
    assert "(no pull_request object)" in said and "keyed by the merge commit GITHUB_SHA" in said


def test_a_work_tree_changed_before_collect_is_said(plain_git, tmp_path, monkeypatch, capsys) -> None:
    """In CI, ruff with `fix = true` (or a formatter) rewrote tracked files before collect: the figures are
    of those files, not of the commit; said on stderr, in latest.md and beside the gate's PASS."""
    repo = _repo(tmp_path / "repo")
    env = {**os.environ, **GIT_ENV}
    (repo / "mod.py").write_text("import os\n")
    subprocess.run(["git", "-C", str(repo), "add", "mod.py"], check=True, env=env)
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "-m", "two"], check=True, env=env)
    assert not any("uncommitted" in w for w in read_stamp(repo, env={}).warnings)
    (repo / "mod.py").write_text("")  # what `ruff check` with fix = true does to an unused import
    assert not any("uncommitted" in w for w in read_stamp(repo, env={}).warnings)  # a developer's own changes
    monkeypatch.chdir(repo)
    monkeypatch.setenv("CI", "true")  # a CI job's checkout, which nothing should have changed
    assert main(["collect", "--out", "out", *SMALL]) == 0
    assert "uncommitted changes to tracked files" in capsys.readouterr().err
    assert "ruff check --no-fix" in (repo / "out" / "latest.md").read_text()
    assert main(["gate", "--report", "out/latest.json"]) in (0, 1)
    said = capsys.readouterr().out
    assert "made from the checked-out commit, with uncommitted changes to tracked files" in said


def test_release_tags_are_recorded(plain_git, tmp_path) -> None:
    repo = _repo(tmp_path / "repo")
    assert read_stamp(repo, env={}).tag is None
    subprocess.run(["git", "-C", str(repo), "tag", "v2.0"], check=True)
    assert read_stamp(repo, env={}).tag == "v2.0"  # a tag exactly at HEAD
    assert read_stamp(repo, env={"GITHUB_REF_TYPE": "tag", "GITHUB_REF_NAME": "v2.1"}).tag == "v2.1"
    assert read_stamp(repo, env={"CI_COMMIT_TAG": "v2.2"}).tag == "v2.2"


def test_project_resolution_order(plain_git, tmp_path) -> None:
    repo = _repo(tmp_path / "service-folder", remote="git@github.com:octo/service.git")
    env = {"GITHUB_REPOSITORY": "octo/from-env"}
    assert resolve_project(repo, "configured", "explicit", env) == ("explicit", "--project")
    assert resolve_project(repo, "configured", None, env) == ("configured", "[tool.healthdeck] project")
    assert resolve_project(repo, None, None, env) == ("octo/from-env", "GITHUB_REPOSITORY")
    assert resolve_project(repo, None, None, {}) == ("octo/service", "git remote origin")
    bare = tmp_path / "no-git-here"
    bare.mkdir()
    assert resolve_project(bare, None, None, {}) == ("no-git-here", "project folder name")
    assert remote_name("https://github.com/octo/service.git") == "octo/service"
    assert remote_name("ssh://git@gitlab.example:2222/group/sub/service.git") == "group/sub/service"
    assert remote_name("/srv/git/service.git") == "service"


def test_the_dashboard_reads_the_store_alone_with_the_report_configuration(
    plain_git, tmp_path, monkeypatch
) -> None:
    """No report file anywhere, a local pyproject that says otherwise: the dashboard shows the stored run's
    verdict and failing test, with the prod lanes the report was made with."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    made_with = tmp_path / "made-with.toml"
    made_with.write_text(
        '[tool.healthdeck]\nprod_lanes = ["core"]\n[tool.healthdeck.lanes]\ncore = ["more_itertools/"]\n'
    )
    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    for k in range(3):
        monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(time.time()) - 3600 + k))  # inside the default window
        args = ["collect", "-q", "--config", str(made_with), "--project", "svc", "--out", str(tmp_path / "out"),
                "--history", url, "--junit", f"smoke={EDGE / 'xunit2.xml'}",
                "--ruff", str(REAL / "more-itertools.ruff-violations.json.gz")]  # fmt: skip
        assert main(args) == EXIT_OK
    gate = [
        "gate",
        "--config",
        str(made_with),
        "--report",
        str(tmp_path / "out" / "latest.json"),
        "--history",
        url,
    ]
    assert main(gate) == 1
    failing = json.loads((tmp_path / "out" / "latest.json").read_text())["details"]["tests"]["smoke"][
        "failing"
    ][0]
    shutil.rmtree(tmp_path / "out")
    elsewhere = tmp_path / "dashboard-host"
    elsewhere.mkdir()
    (elsewhere / "pyproject.toml").write_text("[tool.healthdeck]\nprod_lanes = []\n")
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("HEALTHDECK_REPORT", str(elsewhere / "latest.json"))  # not there
    monkeypatch.setenv("HEALTHDECK_HISTORY", url)
    monkeypatch.delenv("HEALTHDECK_CONFIG", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(
        str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py"), default_timeout=60
    )
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not any("No report yet" in i.value for i in at.info)
    assert "NO-GO" in at.error[0].value
    ctx = at.session_state["healthdeck_ctx"]
    assert ctx.verdict_stored and ctx.verdict["status"] == "NO-GO"  # the verdict the gate stored
    assert ctx.src.config.prod_lanes == ("core",) and ctx.src.project == "svc"  # the report's, not the host's
    assert "differs from pyproject.toml" in ctx.src.config_notes[0]
    assert len(ctx.runs) == 3
    at.switch_page("app_pages/tests.py").run()
    assert not at.exception
    frames = [df.value for df in at.dataframe if "test_id" in df.value.columns]
    [row] = [r for f in frames for _, r in f.iterrows() if r["test_id"] == failing["test_id"]]
    assert row["message"] == failing["message"]  # the failing test with its message, from the store


# -- an earlier run's files in a workspace that outlives runs ---------------------------------------------
def _stale_project(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A project with a green run's JUnit on disk (its tool outputs untracked under reports/)."""
    repo = _repo(tmp_path / "proj")
    (repo / "pyproject.toml").write_text(
        "[tool.healthdeck]\n[tool.healthdeck.gates]\nopenapi_breaking_max = false\n"
        "ruff_prod_max = false\ncompileall_prod_max = false\n"
    )
    (repo / "src").mkdir()
    (repo / "src" / "app.py").write_text("x = 1\n")
    (repo / "reports").mkdir()
    shutil.copy(EDGE / "xunit2.xml", repo / "reports" / "junit-unit.xml")
    env = {**os.environ, **GIT_ENV}
    subprocess.run(["git", "-C", str(repo), "add", "pyproject.toml", "src"], check=True, env=env)
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "-m", "green"], check=True, env=env)
    return repo, env


def _current(repo: Path, capsys) -> str:
    """The gate's "health report is current" line after a collect of the JUnit in reports/."""
    config = str(repo / "pyproject.toml")
    junit = ["--junit", f"unit={repo / 'reports' / 'junit-unit.xml'}"]
    assert main(["collect", "-q", "--config", config, "--no-history", *junit]) == EXIT_OK
    capsys.readouterr()
    main(["gate", "--config", config, "--no-write"])
    return next(x for x in capsys.readouterr().out.splitlines() if "health report is current" in x)


def test_an_earlier_run_s_junit_fails_report_current(plain_git, tmp_path, monkeypatch, capsys) -> None:
    """The next commit's tests never ran (pytest stopped before writing), the last run's JUnit is still
    there: not GO, and the detail says which file, which change, and the fix."""
    repo, env = _stale_project(tmp_path)
    monkeypatch.chdir(repo)
    assert _current(repo, capsys).startswith("PASS")  # written after the commit: this run's
    hour_ago = time.time() - 3600
    os.utime(repo / "reports" / "junit-unit.xml", (hour_ago, hour_ago))
    (repo / "src" / "app.py").write_text("x = 2\n")  # the new commit's change, as a checkout writes it
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "-am", "broken conftest"], check=True, env=env)
    line = _current(repo, capsys)
    assert line.startswith("FAIL") and "reports/junit-unit.xml (junit unit) is older than this commit's change " \
        "to src/app.py" in line and "delete the tools' outputs before they run" in line  # fmt: skip
    report = json.loads((repo / "docs" / "audits" / "health" / "latest.json").read_text())
    assert [s["path"] for s in report["summary"]["stale_inputs"]] == ["reports/junit-unit.xml"]
    # the checklist row's actual figure is not the threshold it fails against, and the comment says, before
    # its figures, that they are an earlier run's
    assert "+ 1 stale input" in line
    assert main(["comment", "--config", str(repo / "pyproject.toml")]) == EXIT_OK
    comment = capsys.readouterr().out
    warning = comment.index(
        "**Stale inputs:** `reports/junit-unit.xml` (junit unit) is older than this commit"
    )
    assert warning < comment.index("| unit pass rate")


def test_a_changed_file_edited_since_the_commit_does_not_make_the_inputs_stale(
    plain_git, tmp_path, monkeypatch, capsys
) -> None:
    """A laptop: the tests ran, then pyproject.toml (which the commit changed) got its [tool.healthdeck]
    table. The edit's time is not when the commit reached the work tree: the run is still current. A
    change the commit made and nobody edited since still counts."""
    repo, env = _stale_project(tmp_path)
    monkeypatch.chdir(repo)
    hour_ago = time.time() - 3600
    os.utime(repo / "reports" / "junit-unit.xml", (hour_ago, hour_ago))
    os.utime(repo / "src" / "app.py", (hour_ago - 60, hour_ago - 60))  # the checkout, before the tests
    with (repo / "pyproject.toml").open("a") as fh:
        fh.write("# an edit after the tests ran\n")
    assert _current(repo, capsys).startswith("PASS")
    subprocess.run(["git", "-C", str(repo), "checkout", "-q", "--", "pyproject.toml"], check=True, env=env)
    assert _current(repo, capsys).startswith("FAIL")  # the commit's own change, as checked out: newer


def test_inputs_that_are_not_a_run_s_outputs_are_not_stale(plain_git, tmp_path, monkeypatch, capsys) -> None:
    """A committed input, one outside the work tree, or a change only to the committed report pair."""
    repo, env = _stale_project(tmp_path)
    monkeypatch.chdir(repo)
    hour_ago = time.time() - 3600
    os.utime(repo / "reports" / "junit-unit.xml", (hour_ago, hour_ago))
    out = repo / "docs" / "audits" / "health"
    out.mkdir(parents=True)
    (out / "latest.md").write_text("the committed report pair\n")
    subprocess.run(["git", "-C", str(repo), "add", "docs"], check=True, env=env)
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "-m", "health artifacts"], check=True, env=env)
    assert _current(repo, capsys).startswith("PASS")  # the commit changed only the report pair
    (repo / "src" / "app.py").write_text("x = 3\n")
    subprocess.run(["git", "-C", str(repo), "add", "-f", "reports/junit-unit.xml"], check=True, env=env)
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "-am", "fixture"], check=True, env=env)
    os.utime(repo / "reports" / "junit-unit.xml", (hour_ago, hour_ago))
    assert _current(repo, capsys).startswith("PASS")  # committed: a fixture, not a run's output


def test_a_committed_input_in_a_subfolder_project_is_not_stale(
    plain_git, tmp_path, monkeypatch, capsys
) -> None:
    """git -C <project folder> names tracked files relative to that folder, not to the repository's top."""
    repo = _repo(tmp_path / "mono")
    project = repo / "backend"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        "[tool.healthdeck]\n[tool.healthdeck.gates]\nopenapi_breaking_max = false\n"
        "ruff_prod_max = false\ncompileall_prod_max = false\n"
    )
    (project / "reports").mkdir()
    shutil.copy(EDGE / "xunit2.xml", project / "reports" / "junit-unit.xml")
    hour_ago = time.time() - 3600
    os.utime(project / "reports" / "junit-unit.xml", (hour_ago, hour_ago))
    env = {**os.environ, **GIT_ENV}
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "-m", "fixture"], check=True, env=env)
    os.utime(project / "reports" / "junit-unit.xml", (hour_ago, hour_ago))
    monkeypatch.chdir(project)
    assert _current(project, capsys).startswith("PASS")

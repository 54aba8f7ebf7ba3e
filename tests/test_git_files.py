"""gate reads HEAD's commit and origin's URL from the repository's files instead of starting git: each layout
it reads must give what git itself says, and every layout it does not read must fall back to git."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from healthdeck.reports.stamp import _head_from_files, _origin_from_files, checked_out, resolve_project


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path) -> Path:
    repo = tmp_path / "app"
    (repo / "src" / "pkg").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    for i in range(3):
        (repo / "src" / "pkg" / "f.py").write_text(f"x = {i}\n")
        git(repo, "add", ".")
        git(repo, "-c", "user.email=a@b", "-c", "user.name=a", "commit", "-qm", f"c{i}")
    git(repo, "remote", "add", "origin", "git@github.com:octo/app.git")
    return repo


def test_loose_packed_detached_and_from_a_subfolder(repo) -> None:
    assert _head_from_files(repo) == git(repo, "rev-parse", "HEAD")
    assert _head_from_files(repo / "src" / "pkg") == git(repo, "rev-parse", "HEAD")
    git(repo, "pack-refs", "--all")  # what a fresh clone has: refs in packed-refs, no loose file
    assert not (repo / ".git" / "refs" / "heads" / "main").exists()
    assert _head_from_files(repo) == git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "--detach", "HEAD~1")  # how CI checks out a pull request
    assert _head_from_files(repo) == git(repo, "rev-parse", "HEAD") == checked_out(repo)


def test_a_linked_worktree_reads_its_own_head(repo, tmp_path) -> None:
    git(repo, "worktree", "add", "-q", "-b", "topic", str(tmp_path / "wt"), "HEAD~2")
    assert _head_from_files(tmp_path / "wt") == git(tmp_path / "wt", "rev-parse", "HEAD")
    assert _head_from_files(tmp_path / "wt") != _head_from_files(repo)


def test_origin_url_as_git_gives_it(repo, tmp_path) -> None:
    git(repo, "remote", "rename", "origin", "upstream")
    assert _origin_from_files(repo) == ""  # known to have no origin: git need not be asked
    assert resolve_project(repo, None, env={}) == ("app", "project folder name")
    git(repo, "remote", "rename", "upstream", "origin")
    assert _origin_from_files(repo) == git(repo, "remote", "get-url", "origin")
    assert resolve_project(repo, None, env={}) == ("octo/app", "git remote origin")
    git(repo, "config", "url.https://github.com/.insteadOf", "git@github.com:")  # a rewrite: git is asked
    assert _origin_from_files(repo) is None
    assert resolve_project(repo, None, env={})[0] == "octo/app"


def test_what_is_not_read_falls_back_to_git(repo, tmp_path, monkeypatch) -> None:
    fresh = tmp_path / "fresh"
    git(tmp_path, "init", "-q", "-b", "main", str(fresh))  # unborn branch: no commit yet
    assert _head_from_files(fresh) is None and checked_out(fresh) is None
    assert _head_from_files(repo / ".git") is None and checked_out(repo / ".git") is None  # not a work tree
    outside = tmp_path / "outside"
    outside.mkdir()
    assert checked_out(outside) is None or checked_out(outside) != git(repo, "rev-parse", "HEAD")
    monkeypatch.setenv("GIT_DIR", str(repo / ".git"))
    assert _head_from_files(outside) is None
    assert checked_out(outside) == git(repo, "rev-parse", "HEAD")  # git honours GIT_DIR, so do we

"""Where a report came from: project, commit, branch, tag, version, time, CI run. CI variables first, then git.

When git cannot be read the run is still recorded, and `Stamp.warnings` says why its commit or
version is missing and how to fix it (the usual cause in CI containers is git's "dubious ownership").
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from healthdeck.collectors.files import read_named, rereadable
from healthdeck.collectors.records import Record

from .errors import UsageError, one_line


class Stamp(Record):
    git_sha: str | None  # full; in a pull-request event the PR head commit, which baselines are keyed by
    branch: str | None
    version: str | None  # git describe
    ts: int  # epoch seconds
    ci_run_id: str | None
    project: str | None = None
    merge_sha: str | None = None  # in a pull-request event: the merge commit CI checked out and tested
    pull_request: int | None = None
    tag: str | None = None  # the release tag this run is of (CI tag builds, or a tag at HEAD)
    warnings: tuple[str, ...] = ()

    @property
    def timestamp_iso(self) -> str:
        return utc_text(self.ts, "%Y-%m-%dT%H:%M:%SZ")


def utc_text(ts: int, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An epoch time as UTC text. time.gmtime rather than datetime, whose import is a fiftieth of gate's start."""
    return time.strftime(fmt, time.gmtime(ts))


class _Git(Record):
    out: str | None
    error: str | None  # git's own message when it failed


def _git(root: Path, *args: str) -> _Git:
    try:
        code, out, err = run_briefly(["git", "-C", str(root), *args], timeout=10)
    except FileNotFoundError:
        return _Git(None, "git is not installed")
    except OSError as exc:  # TimeoutError too
        return _Git(None, str(exc))
    out = out.strip()
    if code == 0:
        return _Git(out or None, None)
    return _Git(None, " ".join(err.split()) or f"git {args[0]} exited {code}")


def run_briefly(argv: list[str], timeout: float) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of a short command, run without a shell; TimeoutError (after killing
    it) when it takes longer than `timeout` seconds.

    os.posix_spawnp and two pipes rather than subprocess: importing subprocess (threading, selectors,
    signal) costs half a bare interpreter's start, and `gate` asks git for the checked-out commit on
    every run. Where there is no posix_spawn (Windows), subprocess it is.
    """
    if not hasattr(os, "posix_spawnp"):
        import subprocess

        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise TimeoutError(f"{argv[0]} took longer than {timeout:g} s") from exc
        return done.returncode, done.stdout, done.stderr
    import select

    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    try:
        pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, out_w, 1),
            (os.POSIX_SPAWN_DUP2, err_w, 2),
        ])  # fmt: skip
    except OSError:
        os.close(out_r)
        os.close(err_r)
        raise
    finally:
        os.close(out_w)
        os.close(err_w)
    read: dict[int, list[bytes]] = {out_r: [], err_r: []}
    deadline = time.monotonic() + timeout
    try:
        pending = [out_r, err_r]
        while pending:  # both pipes at once: a full stderr pipe must not block the child's stdout
            left = deadline - time.monotonic()
            ready = select.select(pending, [], [], max(left, 0))[0]
            if not ready and left <= 0:
                os.kill(pid, 9)  # SIGKILL, without importing signal
                os.waitpid(pid, 0)
                raise TimeoutError(f"{argv[0]} took longer than {timeout:g} s")
            for fd in ready:
                chunk = os.read(fd, 65536)
                if chunk:
                    read[fd].append(chunk)
                else:
                    pending.remove(fd)
        status = os.waitpid(pid, 0)[1]
    finally:
        os.close(out_r)
        os.close(err_r)
    out, err = (b"".join(read[fd]).decode("utf-8", "replace") for fd in (out_r, err_r))
    return os.waitstatus_to_exitcode(status), out, err


def git_problem(root: Path, error: str, missing: str = "commit, branch or version") -> str:
    """One line for stderr and latest.md: what git said, what it means for the run, and the fix."""
    if "dubious ownership" in error or "safe.directory" in error:
        return (
            f'git refused to read {root} ("dubious ownership": the checkout belongs to another user), '
            f"so this run has no {missing} from git. Fix: git config --global --add safe.directory {root}"
        )
    if "not a git repository" in error:
        return f"{root} is not a git repository, so this run has no {missing}"
    return f"git could not be read in {root} ({error[:200]}), so this run has no {missing}"


def read_stamp(root: Path, env: dict[str, str] | None = None, project: str | None = None) -> Stamp:
    """SOURCE_DATE_EPOCH pins the time (reproducible builds); GitHub/GitLab variables win over git.

    `project`: the --project option, which wins over every other source (see `resolve_project`).
    """
    env = dict(os.environ) if env is None else env
    warnings: list[str] = []
    problems: list[str] = []

    def git(*args: str) -> str | None:
        found = _git(root, *args)
        if found.error and found.error not in problems:
            problems.append(found.error)
        return found.out

    head, number = _pull_request_head(env, warnings)
    env_sha = _ci_commit(env)
    sha = head or env_sha or git("rev-parse", "HEAD")
    branch = _ci_branch(env) or git("rev-parse", "--abbrev-ref", "HEAD")
    if branch == "HEAD":  # detached checkout
        branch = None
    version = git("describe", "--tags", "--always", "--dirty")
    tag = _tag(env) or (git("describe", "--tags", "--exact-match", "HEAD") if not problems else None)
    problems = [p for p in problems if "no tag exactly matches" not in p and "cannot describe" not in p]
    missing = [
        name for name, value in (("commit", sha), ("branch", branch), ("version", version)) if not value
    ]
    if problems and missing:
        warnings.append(git_problem(root, problems[0], " or ".join(missing)))
    if version and version.endswith("-dirty") and env.get("CI", "").lower() in ("true", "1"):
        warnings.append(DIRTY)  # in CI only: on a developer's machine uncommitted changes are the point
    pinned = pinned_time(env)
    ts = int(time.time()) if pinned is None else pinned  # 0 is a time too
    run_id = env.get("GITHUB_RUN_ID") or env.get("CI_PIPELINE_ID")
    name, _ = resolve_project(root, configured=None, explicit=project, env=env)
    return Stamp(
        sha, branch, version, ts, run_id, name, env_sha if head else None, number, tag, tuple(warnings)
    )


LATEST_TIME = 2**40  # seconds: the year 36812; a later time overflows the platform's time_t in formatting


def pinned_time(env: dict[str, str] | None = None) -> int | None:
    """SOURCE_DATE_EPOCH (reproducible builds pin "now"), None when unset; UsageError when it is no time."""
    epoch = (os.environ if env is None else env).get("SOURCE_DATE_EPOCH")
    if not epoch:
        return None
    if not epoch.isdigit() or int(epoch) >= LATEST_TIME:
        raise UsageError(
            f"SOURCE_DATE_EPOCH={one_line(epoch[:40])}: not a Unix time in seconds (0 to {LATEST_TIME - 1})"
        )
    return int(epoch)


# In CI the figures are of the files as they were, which a step before collect changed: said, not refused
# (build steps that touch tracked files are common); the first suspect is ruff's `fix = true`.
DIRTY = (
    "the work tree has uncommitted changes to tracked files (git describe --dirty), so the figures are of "
    "those files, not of the commit as pushed; did a step before collect rewrite them? (ruff with `fix = true` "
    "does unless run as `ruff check --no-fix`; a formatter or code generator can)"
)


def _pull_request_head(env: dict[str, str], warnings: list[str]) -> tuple[str | None, int | None]:
    """In a GitHub pull_request run GITHUB_SHA is a merge commit that exists only for this run; the PR
    head commit (what the author pushed, what later runs can find) is in the event payload."""
    if env.get("GITHUB_EVENT_NAME") not in ("pull_request", "pull_request_target"):
        return None, None
    path = env.get("GITHUB_EVENT_PATH")
    keyed = "the merge commit GITHUB_SHA" if env.get("GITHUB_SHA") else "the checked-out commit"
    if not path:
        warnings.append(
            f"a pull-request run without GITHUB_EVENT_PATH: the run is keyed by {keyed}, not the PR head"
        )
        return None, None
    try:
        event = json.loads(read_named(path).decode("utf-8"))
        if not isinstance(event, dict) or not isinstance(event.get("pull_request"), dict):
            raise ValueError("no pull_request object")
        pr = event["pull_request"]
        head, number = pr["head"]["sha"], pr.get("number")
        if not isinstance(head, str) or not re.fullmatch(r"[0-9a-f]{40,64}", head):
            raise ValueError(f"head sha {head!r}")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        why = (
            exc.strerror
            if isinstance(exc, OSError) and exc.strerror
            else f"no {exc}"
            if isinstance(exc, KeyError)
            else exc
        )
        state = (
            "unreadable"
            if isinstance(exc, OSError | json.JSONDecodeError | UnicodeDecodeError)
            else "not usable"
        )
        warnings.append(
            f"pull-request event payload {path} {state} ({why}): the run is keyed by {keyed}, not the PR head"
        )
        return None, None
    return head, number if isinstance(number, int) else None


def _tag(env: dict[str, str]) -> str | None:
    if env.get("GITHUB_REF_TYPE") == "tag":
        return env.get("GITHUB_REF_NAME")
    return env.get("CI_COMMIT_TAG") or None


def resolve_project(
    root: Path, configured: str | None, explicit: str | None = None, env: dict[str, str] | None = None
) -> tuple[str, str]:
    """(project, where it came from): --project, else `project` in config, else GITHUB_REPOSITORY
    (owner/name), else the git remote `origin` (its owner/name path), else the project folder's name."""
    env = dict(os.environ) if env is None else env
    if explicit:
        return explicit, "--project"
    if configured:
        return configured, "[tool.healthdeck] project"
    if env.get("GITHUB_REPOSITORY"):
        return env["GITHUB_REPOSITORY"], "GITHUB_REPOSITORY"
    remote = _origin_from_files(root)
    if remote is None:
        remote = _git(root, "remote", "get-url", "origin").out
    name = remote_name(remote) if remote else None
    if name:
        return name, "git remote origin"
    return root.resolve().name, "project folder name"


def remote_name(url: str) -> str | None:
    """`owner/name` of a remote URL (https, ssh, scp-like), or the last path part of a local one."""
    url = url.strip().removesuffix("/").removesuffix(".git")
    hosted = re.match(r"^[a-z+]+://[^/]+/(.+)$", url) or re.match(r"^[^/:]+@[^:/]+:(.+)$", url)
    path = hosted.group(1) if hosted else url.rsplit("/", 1)[-1]
    return path.strip("/") or None


def checked_out(root: Path) -> str | None:
    """The commit checked out in the git work tree at `root`; None outside a work tree (or without git)."""
    if found := _head_from_files(root):
        return found
    lines = (_git(root, "rev-parse", "--is-inside-work-tree", "HEAD").out or "").splitlines()
    return lines[1] if len(lines) == 2 and lines[0] == "true" else None  # one git run, not two


def _ci_commit(env: dict[str, str]) -> str | None:
    return env.get("GITHUB_SHA") or env.get("CI_COMMIT_SHA")


def _ci_branch(env: dict[str, str]) -> str | None:
    """The branch CI names (a pull request's head branch first); a tag push's GITHUB_REF_NAME is the tag."""
    return env.get("GITHUB_HEAD_REF") or env.get("GITHUB_REF_NAME") or env.get("CI_COMMIT_REF_NAME")


def checkout_refs(root: Path, env: dict[str, str] | None = None) -> tuple[list[str], str | None]:
    """(commits, branch) a run collected in this checkout is stored under, as read_stamp names them: in
    a pull-request event the PR head first (runs are keyed by it), then the CI commit and the checked-out
    one; the branch from CI's variables, else HEAD's branch. Outside a work tree: CI's variables only."""
    env = dict(os.environ) if env is None else env
    head, _ = _pull_request_head(env, [])
    commits = [c for c in (head, _ci_commit(env), checked_out(root)) if c]
    branch = _ci_branch(env)
    if not branch and commits:
        branch = _branch_from_files(root)
        if branch is None:
            found = _git(root, "rev-parse", "--abbrev-ref", "HEAD").out
            branch = found if found and found != "HEAD" else None
    return list(dict.fromkeys(commits)), branch or None


REPORT_FILES = ("latest.json", "latest.md", "badge-*")  # what a project commits of the output folder


def only_changed(root: Path, since: str, until: str, folder: Path) -> bool:
    """Whether commit `until` differs from `since` in nothing but the report's own files in `folder`
    (committed after the report was made). False when git cannot tell (`since` absent from a shallow
    clone) and for anything that is not a commit id: it comes from a report, and git must never read a
    value of it as an option (`--output=FILE` truncates FILE)."""
    if not (_SHA_PREFIX.fullmatch(since) and _SHA_PREFIX.fullmatch(until)):
        return False
    try:
        where = folder.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:  # the report lives outside the work tree: any change is a change of the code
        return False
    # the files, not the folder: with the report at the root (`out = "."`) the folder is all the code
    outside = [f":(exclude,glob){name if where == '.' else f'{where}/{name}'}" for name in REPORT_FILES]
    try:
        code, _, _ = run_briefly(
            ["git", "-C", str(root), "diff", "--quiet", since, until, "--", ":/", *outside], timeout=10
        )
    except OSError:
        return False
    return code == 0


# `gate` runs on every CI job and only needs HEAD's commit (and, without GITHUB_REPOSITORY, origin's URL):
# starting git for that was a tenth of gate's start. The plain layouts (a .git folder or a worktree's
# .git file; loose or packed refs) are read directly; anything else (GIT_DIR and friends, reftable,
# url rewrites, an unborn branch) returns None and git is asked as before.
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_SHA_PREFIX = re.compile(r"[0-9a-f]{4,64}")
_GIT_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_CEILING_DIRECTORIES")


def _git_dirs(root: Path) -> tuple[Path, Path] | None:
    """(git dir, common dir) of the work tree holding `root`, found as git finds them in the plain layouts."""
    if any(name in os.environ for name in _GIT_ENV):
        return None
    try:
        here = root.resolve()
        if ".git" in here.parts:  # inside the repository's own files: not a work tree
            return None
        for folder in (here, *here.parents):
            dot = folder / ".git"
            if dot.is_dir():
                git_dir = dot
            elif dot.is_file():  # a linked worktree or a submodule: "gitdir: <path>"
                pointer = dot.read_text(encoding="utf-8").strip()
                if not pointer.startswith("gitdir:"):
                    return None
                git_dir = (folder / pointer.removeprefix("gitdir:").strip()).resolve()
            else:
                continue
            common = git_dir / "commondir"
            shared = (
                (git_dir / common.read_text(encoding="utf-8").strip()).resolve()
                if common.is_file()
                else git_dir
            )
            return git_dir, shared
    except (OSError, UnicodeDecodeError):
        return None
    return None


def _head_from_files(root: Path) -> str | None:
    """HEAD's commit read from the repository's files; None when git must be asked."""
    dirs = _git_dirs(root)
    if dirs is None:
        return None
    git_dir, common = dirs
    try:
        head = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
        if _SHA.fullmatch(head):  # detached, as CI checks out pull requests
            return head
        if not head.startswith("ref: refs/"):
            return None
        ref = head.removeprefix("ref: ")
        loose = common / ref
        if loose.is_file():
            sha = loose.read_text(encoding="utf-8").strip()
            return sha if _SHA.fullmatch(sha) else None
        packed = common / "packed-refs"
        if packed.is_file():
            for line in packed.read_text(encoding="utf-8").splitlines():
                sha, _, name = line.partition(" ")
                if name == ref and _SHA.fullmatch(sha):
                    return sha
    except (OSError, UnicodeDecodeError):
        return None
    return None


def _branch_from_files(root: Path) -> str | None:
    """HEAD's branch read from the repository's files; "" when detached, None when git must be asked."""
    dirs = _git_dirs(root)
    if dirs is None:
        return None
    try:
        head = (dirs[0] / "HEAD").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if _SHA.fullmatch(head):
        return ""
    return head.removeprefix("ref: refs/heads/") if head.startswith("ref: refs/heads/") else None


def _origin_from_files(root: Path) -> str | None:
    """The URL of remote "origin" from the repository's config file, "" when that file names no origin,
    None when git must be asked."""
    dirs = _git_dirs(root)
    if dirs is None:
        return None
    try:
        text = (dirs[1] / "config").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if re.search(r"insteadof|\[include|\[remote\s*\.", text, re.IGNORECASE):  # rewrites, includes: git knows
        return None
    section = re.search(r'^\s*\[remote\s+"origin"\]\s*$(.*?)(?=^\s*\[|\Z)', text, re.MULTILINE | re.DOTALL)
    if section is None:
        return ""
    url = re.search(r"^\s*url\s*=\s*(\S.*?)\s*$", section.group(1), re.MULTILINE)
    return url.group(1) if url and not url.group(1).startswith('"') else None  # quoted: git unquotes


STALE_TOLERANCE = 60  # seconds: a file written within a minute of the change is taken as this run's


def stale_inputs(root: Path, inputs: list[tuple[str, Path]], out: Path) -> list[dict]:
    """The tool outputs (`(what, path)`: JUnit, coverage, ruff, compileall) written before the checked-out
    commit's changes reached the work tree: an earlier run's files that a workspace kept (a self-hosted
    runner, a laptop) while this run's tool wrote nothing (pytest stopped by a broken conftest writes no
    JUnit). The changes are the files the commit changed (a pull request's merge commit: against its base),
    as the work tree has them: a checkout rewrites them, an edit touches them. Only inputs inside the work
    tree that git does not track are outputs of a run; files under `out` (the report pair a team commits)
    are not changes that count, nor are files edited since the commit (on a laptop, adding
    `[tool.healthdeck]` to pyproject.toml after the tests ran): their time is the edit's, not the time
    the commit's change reached the work tree. No git, or git failing: no check.
    """
    top = _git(root, "rev-parse", "--show-toplevel").out
    if top is None:
        return []
    base = Path(top).resolve()
    candidates = [(what, path.resolve()) for what, path in inputs if rereadable(path)]
    candidates = [(what, path) for what, path in candidates if path.is_relative_to(base)]
    if not candidates:
        return []
    found = _git(root, "diff-tree", "-r", "-z", "--name-only", "--no-commit-id", "--root", "-m",
                 "--first-parent", "HEAD")  # fmt: skip
    if found.out is None:
        return []
    tracked = _git(root, "ls-files", "-z", "--", *(str(p) for _, p in candidates)).out or ""
    committed = {(root.resolve() / name).resolve() for name in tracked.split("\0") if name}  # relative to -C
    candidates = [(what, path) for what, path in candidates if path not in committed]
    out = out.resolve()
    edited = set(
        (_git(root, "diff", "-z", "--name-only", "HEAD", "--").out or "").split("\0")
    )  # from the top
    newest: tuple[float, str] | None = None
    for name in dict.fromkeys(n for n in found.out.split("\0") if n and n not in edited):
        path = (base / name).resolve()  # diff-tree names are relative to the top
        # under out: the report pair a team commits; not a regular file: deleted by the commit
        if path.is_relative_to(out) or not rereadable(path):
            continue
        changed = path.stat().st_mtime
        if newest is None or changed > newest[0]:
            newest = (changed, name)
    if newest is None:
        return []
    return [
        {"input": what, "path": str(path.relative_to(base)), "written": _iso(path.stat().st_mtime),
         "changed": newest[1], "changed_at": _iso(newest[0])}
        for what, path in candidates
        if path.stat().st_mtime < newest[0] - STALE_TOLERANCE
    ]  # fmt: skip


def _iso(mtime: float) -> str:
    return utc_text(int(mtime), "%Y-%m-%dT%H:%M:%SZ")


def stale_text(entry: dict) -> str:
    """One stale input, as the gate's detail and collect's warning say it."""
    written, changed_at = (entry[k].replace("T", " ").replace("Z", " UTC") for k in ("written", "changed_at"))
    return (
        f"{entry['path']} ({entry['input']}) is older than this commit's change to {entry['changed']} "
        f"(written {written}; the change reached the work tree {changed_at}), so it holds an earlier run's "
        "results: delete the tools' outputs before they run, so that a tool that fails leaves none"
    )

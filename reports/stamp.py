"""Where a report came from: commit, branch, version, time, CI run. Read from CI variables, then git."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class Stamp:
    git_sha: str | None  # full
    branch: str | None
    version: str | None  # git describe
    ts: int  # epoch seconds
    ci_run_id: str | None

    @property
    def timestamp_iso(self) -> str:
        return datetime.fromtimestamp(self.ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    out = done.stdout.strip()
    return out if done.returncode == 0 and out else None


def read_stamp(root: Path, env: dict[str, str] | None = None) -> Stamp:
    """SOURCE_DATE_EPOCH pins the time (reproducible builds); GitHub/GitLab variables win over git."""
    env = dict(os.environ) if env is None else env
    sha = env.get("GITHUB_SHA") or env.get("CI_COMMIT_SHA") or _git(root, "rev-parse", "HEAD")
    branch = (
        env.get("GITHUB_HEAD_REF")
        or env.get("GITHUB_REF_NAME")
        or env.get("CI_COMMIT_REF_NAME")
        or _git(root, "rev-parse", "--abbrev-ref", "HEAD")
    )
    if branch == "HEAD":  # detached checkout
        branch = None
    version = _git(root, "describe", "--tags", "--always", "--dirty")
    epoch = env.get("SOURCE_DATE_EPOCH")
    ts = int(epoch) if epoch and epoch.isdigit() else int(time.time())
    run_id = env.get("GITHUB_RUN_ID") or env.get("CI_PIPELINE_ID")
    return Stamp(sha, branch, version, ts, run_id)


def checked_out(root: Path) -> str | None:
    """The commit checked out in the git work tree at `root`; None outside a work tree (or without git)."""
    if _git(root, "rev-parse", "--is-inside-work-tree") != "true":
        return None
    return _git(root, "rev-parse", "HEAD")

"""Trends from day one: import past reports from a folder or from the git history of a committed file.

Accepts healthdeck reports (any schema 1.x) and every shape the upstream LUKHAS health report was
ever committed in (`{summary, raw}`; `summary.tests.<suite>` as counts, as `{summary: "<console tail>"}`,
as null, or with string counts). The upstream test figures came from console parsing that was
sometimes wrong, so such runs are stored as *approximate*: kept, shown, and marked — never trusted
as exact or silently dropped.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from healthdeck.collectors.files import read_named, rereadable

from ..errors import InputError
from ..report_file import report_json
from ..schema import schema_error

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:
    from .store import HistoryStore

_COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)")


class ImportError_(Exception):
    """The source of an import cannot be read at all (a bad file inside it is only skipped)."""


@dataclass
class ImportResult:
    imported: int = 0
    already: int = 0
    skipped: list[str] = field(default_factory=list)  # "where: why"
    summary_only: list[str] = field(default_factory=list)  # "where: why": figures kept, report not


def normalize(
    data: object, fallback_sha: str | None = None, fallback_ts: int | None = None
) -> tuple[dict, bool]:
    """(summary in healthdeck's shape, approximate?) for a healthdeck or upstream report."""
    if not isinstance(data, dict) or not isinstance(data.get("summary"), dict):
        raise ValueError("not a health report (no summary object)")
    s = data["summary"]
    if "schema_version" in data:
        summary = dict(s)
        summary.setdefault("ts", fallback_ts)
        return summary, False
    ts = _int(s.get("ts")) or fallback_ts
    if ts is None:
        raise ValueError("no timestamp in the report or its commit")
    tests = {}
    for suite, value in (s.get("tests") or {}).items():
        figures = _upstream_tests(value)
        if figures is not None:
            tests[suite] = figures
    ruff = s.get("ruff") if isinstance(s.get("ruff"), dict) else None
    ruff_total = _int((ruff or {}).get("count", {}).get("total")) if ruff else None
    stats = {str(k): _int(v) for k, v in ((ruff or {}).get("stats") or {}).items() if _int(v) is not None}
    # upstream's git_sha is the commit the report was generated on (8 hex digits); the commit that
    # stored the file is later. The full sha is only known when they agree.
    upstream_sha = s.get("git_sha") if isinstance(s.get("git_sha"), str) else None
    full = (
        fallback_sha if fallback_sha and (not upstream_sha or fallback_sha.startswith(upstream_sha)) else None
    )
    summary = {
        "git_sha": (upstream_sha or fallback_sha or "")[:8] or None,
        "git_sha_full": full,
        "branch": None,
        "version": s.get("version"),
        "ts": ts,
        "timestamp_iso": datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ci_run_id": None,
        "tests": tests or None,
        "coverage": None,
        "ruff": {"count": {"total": ruff_total, "lanes": None}, "stats": stats, "syntax_errors": 0}
        if ruff_total is not None
        else None,
        "compileall": None,
        "guardian": None,
        "missing": [],
        "imported_from": "upstream",
    }
    summary["missing"] = [
        k for k in ("tests", "coverage", "ruff", "compileall", "guardian") if summary[k] is None
    ]
    return summary, True


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _upstream_tests(value: object) -> dict | None:
    """One upstream suite entry -> healthdeck suite figures (approximate), or None when unusable."""
    counts: dict[str, int] = {}
    if isinstance(value, dict) and "summary" in value and isinstance(value["summary"], str):
        for n, word in _COUNT.findall(value["summary"]):
            counts["errors" if word.startswith("error") else word] = int(n)
    elif isinstance(value, dict):
        counts = {
            k: v
            for k in ("passed", "failed", "errors", "skipped", "xfailed")
            if (v := _int(value.get(k))) is not None
        }
    if "passed" not in counts and "failed" not in counts:
        return None
    passed, failed, errors = counts.get("passed", 0), counts.get("failed", 0), counts.get("errors", 0)
    ran = passed + failed + errors
    return {
        "passed": passed,
        "failed": failed,
        "errors": counts.get("errors"),
        "skipped": counts.get("skipped"),
        "xfailed": counts.get("xfailed"),
        "flaky": None,
        "total": None,  # console counts are results, not distinct tests
        "pass_rate": passed / ran if ran else None,
        "approximate": True,
    }


def _append(store: HistoryStore, data: object, key: str, source: str, result: ImportResult, where: str,
            sha: str | None = None, ts: int | None = None, project: str | None = None) -> None:  # fmt: skip
    try:
        summary, approximate = normalize(data, sha, ts)
    except ValueError as exc:
        result.skipped.append(f"{where}: {exc}")
        return
    # a healthdeck report is stored whole, so readers of the store get its details too; one that breaks
    # the report's schema (edited by hand, cut short) would be refused by every reader: its figures only
    full = {**data, "summary": summary} if isinstance(data, dict) and not approximate else None
    if full is not None and (problem := schema_error(full)):
        result.summary_only.append(f"{where}: not a valid report at {problem}")
        full = None
    if (
        store.append(
            summary, source=source, run_key=key, approximate=approximate, report=full, project=project
        )
        is None
    ):
        result.already += 1
    else:
        result.imported += 1


def import_dir(store: HistoryStore, folder: str | Path, project: str | None = None) -> ImportResult:
    """Every *.json report under `folder`; runs whose report names no project get `project`."""
    root = Path(folder)
    if not root.is_dir():
        raise ImportError_(f"{root}: not a folder")
    result = ImportResult()
    files = sorted(root.rglob("*.json"))
    loaded = []
    for path in files:
        if not rereadable(path):  # a FIFO or a device among the reports would stall or never end
            result.skipped.append(f"{path}: not a regular file")
            continue
        try:
            raw = read_named(path)  # a report; capped, so a huge stray file is skipped, not read whole
        except OSError as exc:
            result.skipped.append(f"{path}: cannot read: {exc.strerror or exc}")
            continue
        try:
            loaded.append((path, raw, report_json(raw, str(path))))
        except InputError as exc:
            result.skipped.append(str(exc))
    for path, raw, data in loaded:
        key = "file:" + hashlib.sha256(raw).hexdigest()
        _append(store, data, key, "import-dir", result, str(path), project=project)
    return result


def _git(repo: str | Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise ImportError_(f"{repo}: git {' '.join(args[:2])} failed: {' '.join(done.stderr.split())[:200]}")
    return done.stdout


def import_git(
    store: HistoryStore, repo: str | Path, path: str, ref: str = "HEAD", project: str | None = None
) -> ImportResult:
    """Every committed version of `path` (oldest first) becomes a run keyed by its commit (of `project`
    unless the report names its own).

    Works on bare repositories too (only `git log` and `git show` are used).
    """
    result = ImportResult()
    log = _git(repo, "log", "--format=%H %ct", "--reverse", ref, "--", path)
    for line in log.splitlines():
        commit, committed = line.split()
        try:
            raw = _git(repo, "show", f"{commit}:{path}")
        except ImportError_:
            result.skipped.append(f"{commit[:8]}: {path} deleted in this commit")
            continue
        try:
            data = report_json(raw, commit[:8])
        except InputError as exc:
            result.skipped.append(str(exc))
            continue
        _append(store, data, f"git:{commit}:{path}", "import-git", result, commit[:8], commit, int(committed),
                project)  # fmt: skip
    return result

"""`healthdeck history show|prune|migrate|import-dir|import-git`: the trend per run, retention, importers."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from ..config import Config, load_config
from ..errors import InputError, UsageError, one_line
from ..failures import number
from ..gate import comparable_coverage, smoke_name
from ..history.importers import import_dir, import_git
from ..history.urls import safe_url, store_exists
from ..reading import open_history, open_store_for, project_in_store, store_url
from ..render.md import change, count_change, display_covered, plural
from ..stamp import resolve_project

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:
    from ..history.reader import HistoryReader
    from ..history.store import HistoryStore


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.history_command == "show":
        return show(args, config)
    project, _ = resolve_project(config.root_path, config.project, args.project)
    timeout = getattr(args, "lock_timeout", None)
    url = store_url(args, config, config.out_path)
    if args.history_command in ("prune", "migrate") and not store_exists(url):  # a typo made an empty store
        raise InputError(f"{safe_url(url)}: no history store there")
    store = open_history(url, project=project,
                       lock_timeout=config.history_lock_timeout if timeout is None else timeout)  # fmt: skip
    try:
        if args.history_command == "prune":
            print(cmd_prune(store, args, project))
        elif args.history_command == "migrate":
            claimed = store.claimed + store.claim_projectless(project)
            print(
                f"history at schema {store.schema_version()}; {claimed} runs without a project assigned to {project}"
            )
        else:
            folder = args.folder if args.history_command == "import-dir" else None
            repo, path, ref = (None, None, "HEAD") if folder else (args.repo, args.path, args.ref)
            print(cmd_import(store, folder=folder, repo=repo, path=path, ref=ref, project=project))
    finally:
        store.close()
    return 0


def _one_scope(args: argparse.Namespace) -> None:
    """--all-projects with --project NAME would silently drop the name: one or the other."""
    if args.all_projects and args.project:
        raise UsageError("give --project NAME or --all-projects, not both")


def show(args: argparse.Namespace, config: Config) -> int:
    _one_scope(args)
    store = open_store_for(args, config, config.out_path, writable=False)
    if store is None:
        raise InputError(f"{safe_url(store_url(args, config, config.out_path))}: no history store there")
    try:
        project = None
        if not args.all_projects:
            project, note = project_in_store(store, args, config)
            if note:
                print(one_line(f"healthdeck: note: {note}"), file=sys.stderr)
        rows = history_rows(store, config, branch=args.branch, limit=args.limit, project=project)
        if not rows and args.branch:  # a misspelt branch is said, not an empty table
            branches = store.branches(project)
            known = ", ".join(branches[:10]) + (
                f" and {len(branches) - 10} more" if len(branches) > 10 else ""
            )
            print(one_line(f"healthdeck: note: no runs on branch {args.branch!r} (branches in the store: {known or 'none'})"),
                  file=sys.stderr)  # fmt: skip
        elif not rows and project is not None:  # a misspelt --project is said too
            names = ", ".join(n or "(no project)" for n in store.project_names()[:10])
            print(one_line(f"healthdeck: note: no runs of project {project!r} (projects in the store: {names or 'none'})"),
                  file=sys.stderr)  # fmt: skip
    finally:
        store.close()
    print(json.dumps(rows, indent=2) + "\n" if args.format == "json" else format_history(rows), end="")
    return 0


def history_rows(
    store: HistoryReader, config: Config, *, branch: str | None, limit: int, project: str | None = None
) -> list[dict]:
    """Runs oldest first with the headline figures and their change from the previous row of the same
    project and branch: with every branch shown, a main run compares with main's previous run, never with
    a feature branch's run that landed in between (a branch's first row in the window shows no change)."""
    rows = []
    previous: dict[tuple[str | None, str | None], tuple[dict, dict]] = {}  # (row, summary)
    for run in store.runs(branch=branch, limit=limit, project=project):
        figures = store.metrics_of(run.id)
        suite = smoke_name(run.summary, config.smoke_suite)
        row = {
            "run_key": run.run_key, "project": run.project, "ts": run.ts,
            "time": time.strftime("%Y-%m-%d %H:%M", time.gmtime(run.ts)),
            "git_sha": run.short_sha, "branch": run.branch, "tag": run.tag, "source": run.source,
            "approximate": run.approximate, "verdict": run.verdict,
            "smoke_suite": suite,
            "smoke_pass_rate": figures.get(f"tests.{suite}.pass_rate"),
            "coverage": figures.get("coverage.percent"),
            "ruff": _count(figures.get("ruff.total")),
            "compileall": _count(figures.get("compileall.failures")),
            "guardian_new_in_strict": _count(figures.get("guardian.new_in_strict")),
        }  # fmt: skip
        before = previous.get((run.project, run.branch))
        for key in ("smoke_pass_rate", "ruff", "compileall"):
            value = before[0].get(key) if before else None
            row[f"{key}_delta"] = None if row[key] is None or value is None else row[key] - value
        row["coverage_delta"] = _coverage_change(run.summary, before[1] if before else None)
        rows.append(row)
        previous[(run.project, run.branch)] = (row, run.summary)
    return rows


def _coverage_change(now: dict, before: dict | None) -> float | None:
    """Like for like, as the gate compares: statements only when one side measured no branches."""
    a, b = now.get("coverage") or {}, (before or {}).get("coverage") or {}
    _, key = comparable_coverage(a, b)
    if a.get(key) is None or b.get(key) is None:
        return None
    return a[key] - b[key]


def _count(value: float | None) -> int | None:
    """Counts are stored as floats beside the rates; JSON readers expect 79, not 79.0."""
    return None if value is None else int(value)


def _cols(ch: str) -> int:
    """Terminal columns of one character: a CJK character takes two, an accent none."""
    from unicodedata import combining, east_asian_width

    return 0 if combining(ch) else 2 if east_asian_width(ch) in "WF" else 1


def _width(texts: Iterable[str], least: int, most: int) -> int:
    """A column as wide as its widest text, within [least, most]: team stores' names share long
    prefixes (`org/service-a`, `org/service-b`), which a fixed narrow column cut to the same text."""
    return max(least, min(most, max((sum(map(_cols, one_line(t))) for t in texts), default=0)))


def _fit(text: str, width: int, *, right: bool = False) -> str:
    """`text` cut ("…") and padded to `width` terminal columns, so a branch named in Chinese or Japanese
    does not push the columns after it out of line; a terminal escape or direction override in it (a
    branch or project name from git or CI) is shown escaped, never sent to the terminal."""
    text = one_line(text)
    used = sum(map(_cols, text))
    if used > width:
        kept, used = [], 1  # room for the ellipsis
        for ch in text:
            if used + _cols(ch) > width:
                break
            kept.append(ch)
            used += _cols(ch)
        text = "".join(kept) + "…"
    pad = " " * (width - used)
    return pad + text if right else text + pad


def format_history(rows: list[dict]) -> str:
    def fmt(value: float | None, kind: str) -> str:
        if value is None:
            return "—"
        if kind == "int":
            return f"{value:.0f}"
        # never "100.00%" while something failed or was not covered (the report's own rounding)
        return f"{display_covered(value * 100 if kind == 'rate' else value, 2)}%"

    def fmt_delta(value: float | None, kind: str) -> str:
        if value is None:
            return ""
        # the report's wording of a change ("+<0.01" when too small to show, never a signed zero), narrower
        text = (
            count_change(value)
            if kind == "int"
            else change(value * 100 if kind == "rate" else value, unit="")
        )
        return "0" if text == "no change" else text

    projects = {r["project"] for r in rows}
    by_project = len(projects) > 1  # --all-projects: which project each row is

    # the headline suite as the project names it ("unit", "smoke", ...), "pass rate" when runs differ
    suites = {r["smoke_suite"] for r in rows}
    suite = _fit(next(iter(suites)) if len(suites) == 1 else "pass rate", 9, right=True)
    wide = _width((r["project"] or "—" for r in rows), 7, 40) if by_project else 0
    branch_w = _width((r["branch"] or "—" for r in rows), 6, 30)
    header = (_fit("project", wide) + " " if by_project else "") + \
        f"{'time (UTC)':<16} {'sha':<8} {_fit('branch', branch_w)} {suite} {'Δ':>7} {'coverage':>9} {'Δ':>7} " \
        f"{'ruff':>6} {'Δ':>6} {'compile':>7} {'Δ':>4} {'verdict':<10}"  # fmt: skip
    lines = [header, "-" * len(header)]
    for r in rows:
        mark = "~" if r["approximate"] else " "
        lines.append(
            (f"{_fit(r['project'] or '—', wide)} " if by_project else "")
            + f"{r['time']:<16} {r['git_sha'] or '—':<8} {_fit(r['branch'] or '—', branch_w)} "
            f"{fmt(r['smoke_pass_rate'], 'rate'):>8}{mark} {fmt_delta(r['smoke_pass_rate_delta'], 'rate'):>7} "
            f"{fmt(r['coverage'], 'pct'):>9} {fmt_delta(r['coverage_delta'], 'pct'):>7} "
            f"{fmt(r['ruff'], 'int'):>6} {fmt_delta(r['ruff_delta'], 'int'):>6} {fmt(r['compileall'], 'int'):>7} "
            f"{fmt_delta(r['compileall_delta'], 'int'):>4} {r['verdict'] or 'not gated':<10}"
        )
    if any(r["approximate"] for r in rows):
        lines.append(
            "~ approximate: imported from console-parsed figures (upstream report), not from JUnit XML"
        )
    if rows:
        lines.append(
            "ruff and compile: findings and failing files in the whole tree (the gate counts prod lanes)"
        )
        lines.append(
            "coverage Δ: against the branch's previous run, statements only where one side measured no "
            "branches (as the gate compares)"
        )
    return "\n".join(lines) + "\n"


def cmd_import(
    store: HistoryStore,
    *,
    folder: str | None,
    repo: str | None,
    path: str | None,
    ref: str,
    project: str | None = None,
) -> str:
    if folder:
        result = import_dir(store, folder, project=project)
    else:
        result = import_git(store, repo or ".", path or "", ref, project=project)
    text = (
        f"imported {result.imported} runs, {result.already} already in history, {len(result.skipped)} skipped"
    )
    kept = [f"  figures only (its report is not stored) {s}" for s in result.summary_only]
    return "\n".join([text, *(f"  skipped {s}" for s in result.skipped), *kept])


def cmd_prune(store: HistoryStore, args: argparse.Namespace, project: str) -> str:
    _one_scope(args)
    if args.keep_days is None and args.keep_runs is None:
        raise UsageError("history prune: give --keep-days N and/or --keep-runs N (what to keep)")
    tagged = tagged_commits(Path(args.repo)) if args.repo else set()
    result = store.prune(
        keep_days=args.keep_days, keep_runs=args.keep_runs, now=int(time.time()),
        project=None if args.all_projects else project, keep_shas=tagged, dry_run=args.dry_run,
    )  # fmt: skip
    verb = "would delete" if args.dry_run else "deleted"
    lines = [f"{verb} {plural(len(result.deleted), 'run')}, kept {number(result.kept)}"]
    if result.deleted:
        lines.append(f"{'to be deleted' if args.dry_run else 'deleted'} (run key, project, branch, day):")
    lines += [f"  {r.run_key} {r.project or '(no project)'} {r.branch or '—'} {time.strftime('%Y-%m-%d', time.gmtime(r.ts))}"
              for r in result.deleted[:20]]  # fmt: skip
    if len(result.deleted) > 20:
        lines.append(f"  … and {number(len(result.deleted) - 20)} more")
    return "\n".join(lines)


def tagged_commits(repo: Path) -> set[str]:
    """Every commit a tag points at in `repo` (runs there are release runs, whatever was recorded)."""
    done = subprocess.run(["git", "-C", str(repo), "show-ref", "--tags", "-d"], capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    if done.returncode not in (0, 1):  # 1: no tags at all
        raise InputError(
            f"history prune --repo {repo}: git show-ref failed: {' '.join(done.stderr.split())[:200]}"
        )
    return {line.split()[0] for line in done.stdout.splitlines() if line.strip()}

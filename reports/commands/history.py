"""`healthdeck history show|import-dir|import-git`: the trend per run and importers of past reports."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from ..config import Config, load_config
from ..history.importers import import_dir, import_git
from ..history.store import HistoryStore
from . import store_for
from .badge import smoke_suite


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    store = store_for(args, config, Path(config.out))
    try:
        if args.history_command == "show":
            rows = history_rows(store, config, branch=args.branch, limit=args.limit)
            print(json.dumps(rows, indent=2) if args.format == "json" else format_history(rows), end="")
        else:
            folder = args.folder if args.history_command == "import-dir" else None
            repo, path, ref = (None, None, "HEAD") if folder else (args.repo, args.path, args.ref)
            print(cmd_import(store, folder=folder, repo=repo, path=path, ref=ref))
    finally:
        store.close()
    return 0


def history_rows(store: HistoryStore, config: Config, *, branch: str | None, limit: int) -> list[dict]:
    """Runs oldest first with the headline figures and their change from the previous row."""
    rows = []
    previous: dict | None = None
    for run in store.runs(branch=branch, limit=limit):
        figures = store.metrics_of(run.id)
        suite = smoke_suite(config, run.summary)
        row = {
            "run_key": run.run_key, "ts": run.ts,
            "time": time.strftime("%Y-%m-%d %H:%M", time.gmtime(run.ts)),
            "git_sha": run.short_sha, "branch": run.branch, "source": run.source,
            "approximate": run.approximate, "verdict": run.verdict,
            "smoke_suite": suite,
            "smoke_pass_rate": figures.get(f"tests.{suite}.pass_rate"),
            "coverage": figures.get("coverage.percent"),
            "ruff": figures.get("ruff.total"),
            "compileall": figures.get("compileall.failures"),
            "guardian_new_in_strict": figures.get("guardian.new_in_strict"),
        }  # fmt: skip
        for key in ("smoke_pass_rate", "coverage", "ruff", "compileall"):
            before = previous.get(key) if previous else None
            row[f"{key}_delta"] = None if row[key] is None or before is None else row[key] - before
        rows.append(row)
        previous = row
    return rows


def format_history(rows: list[dict]) -> str:
    def fmt(value: float | None, kind: str) -> str:
        if value is None:
            return "—"
        return {"rate": f"{value * 100:.2f}%", "pct": f"{value:.2f}%", "int": f"{value:.0f}"}[kind]

    def fmt_delta(value: float | None, kind: str) -> str:
        if value is None:
            return ""
        return {"rate": f"{value * 100:+.2f}", "pct": f"{value:+.2f}", "int": f"{value:+.0f}"}[kind]

    header = f"{'time (UTC)':<16} {'sha':<8} {'branch':<14} {'smoke':>8} {'Δ':>7} {'coverage':>9} {'Δ':>7} " \
             f"{'ruff':>6} {'Δ':>6} {'compile':>7} {'verdict':<10}"  # fmt: skip
    lines = [header, "-" * len(header)]
    for r in rows:
        mark = "~" if r["approximate"] else " "
        lines.append(
            f"{r['time']:<16} {r['git_sha'] or '—':<8} {(r['branch'] or '—')[:14]:<14} "
            f"{fmt(r['smoke_pass_rate'], 'rate'):>7}{mark} {fmt_delta(r['smoke_pass_rate_delta'], 'rate'):>7} "
            f"{fmt(r['coverage'], 'pct'):>9} {fmt_delta(r['coverage_delta'], 'pct'):>7} "
            f"{fmt(r['ruff'], 'int'):>6} {fmt_delta(r['ruff_delta'], 'int'):>6} {fmt(r['compileall'], 'int'):>7} "
            f"{r['verdict'] or '':<10}"
        )
    if any(r["approximate"] for r in rows):
        lines.append(
            "~ approximate: imported from console-parsed figures (upstream report), not from JUnit XML"
        )
    return "\n".join(lines) + "\n"


def cmd_import(
    store: HistoryStore, *, folder: str | None, repo: str | None, path: str | None, ref: str
) -> str:
    result = import_dir(store, folder) if folder else import_git(store, repo or ".", path or "", ref)
    text = (
        f"imported {result.imported} runs, {result.already} already in history, {len(result.skipped)} skipped"
    )
    return "\n".join([text, *(f"  skipped {s}" for s in result.skipped)])

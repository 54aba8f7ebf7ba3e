"""Where a reading command (gate, comment, badge) gets its report: a file, or the history store alone.

In order: `--report PATH`; `--run KEY|branch:NAME|sha:PREFIX|tag:NAME` from the store; the report file
in the output folder when it exists (the run this machine just collected); else the newest run of the
project in the store. The store is opened read-only unless the command writes to it (`gate` without
`--no-write`). Whatever was chosen is said on stderr when it is not the local file, and so is every
setting on which the report's own configuration and the local one disagree.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from healthdeck.collectors.records import Record

from . import SCHEMA_VERSION, __version__
from .config import Config
from .errors import InputError, UsageError, one_line
from .history.model import Run
from .history.urls import safe_url
from .report_config import effective_config
from .report_file import load_report, torn_pair_note
from .stamp import checkout_refs, resolve_project, utc_text

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:
    from .history.reader import HistoryReader
    from .history.store import HistoryStore


class Reading(Record):
    report: dict
    path: Path | None  # the report file it came from; None when it came from the store
    run: Run | None  # the report's run in the store, when the store has it
    store: HistoryReader | None
    config: Config  # the configuration in force (the report's own, unless --config)
    project: str | None
    notes: list[str]

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


def history_url(flag: str | None, config: Config, folder: Path) -> str:
    """Where the history is, as every command and the dashboard find it: --history, else
    HEALTHDECK_HISTORY, else the configured store, else history.sqlite in `folder`."""
    from .history.urls import default_url

    return flag or os.environ.get("HEALTHDECK_HISTORY") or config.history_url or default_url(folder)


def store_url(args: argparse.Namespace, config: Config, folder: Path) -> str:
    """history_url from the command's flags; a URL that cannot be a store is a usage error (exit 2)."""
    from .history.urls import url_problem

    url = history_url(getattr(args, "history", None), config, folder)
    if problem := url_problem(url):
        raise UsageError(f"{safe_url(url)}: {problem}")
    return url


def open_history(
    url: str, *, readonly: bool = False, project: str | None = None, lock_timeout: float = 60
) -> HistoryStore:
    """Open a history store; a PostgreSQL URL without the [postgres] extra installed is one line (exit 2)."""
    from .history.store import open_store

    if url.startswith("postgresql"):
        from .commands import require_extra

        require_extra("postgres", "psycopg", f"a PostgreSQL history store ({url.split('@')[-1]})")
    return open_store(url, readonly=readonly, project=project, lock_timeout=lock_timeout)


def _store_exists(url: str) -> bool:
    from .history.urls import store_exists

    return store_exists(url)


def open_store_for(
    args: argparse.Namespace, config: Config, folder: Path, *, writable: bool, required: bool = True
) -> HistoryReader | None:
    """The store a command reads (read-only unless `writable`, and then only to store gate's verdict):
    a SQLite file through sqlite3 (sqlite.py), so reading costs no SQLAlchemy import. A SQLite file that
    is not there is an error when the command needs the store, else no store (a report file is read
    without history)."""
    url = store_url(args, config, folder)
    if not _store_exists(url):
        if required:
            raise InputError(f"{safe_url(url)}: no history store there")
        return None
    project = resolve_project(config.root_path, config.project, getattr(args, "project", None))[0]
    timeout = getattr(args, "lock_timeout", None)
    if url.startswith("postgresql"):
        return open_history(url, readonly=not writable, project=project,
                            lock_timeout=config.history_lock_timeout if timeout is None else timeout)  # fmt: skip
    from .history import open_reader

    return open_reader(url, readonly=not writable, project=project,
                       lock_timeout=config.history_lock_timeout if timeout is None else timeout)  # fmt: skip


def open_reading(
    args: argparse.Namespace, local: Config, *, writable: bool = False, history: bool = True, out=None
) -> Reading:
    """The report the command reads, the store around it and the configuration in force.

    `history=False`: the command needs no history beside a report file (badge).
    """
    err = out or sys.stderr
    explicit = getattr(args, "report", None)
    run_spec = getattr(args, "run", None)
    default = local.report_path
    path = Path(explicit) if explicit else default
    from_file = bool(explicit) or (run_spec is None and default.exists())
    report = load_report(path) if from_file else None  # a bad file is named before any store is opened
    if not from_file and not _store_exists(store_url(args, local, path.parent)):
        raise InputError(
            f"no report at {default} and no history store at {safe_url(store_url(args, local, default.parent))}: "
            f"run healthdeck collect first, or give --report PATH or --history URL"
        )
    store = (
        open_store_for(args, local, path.parent, writable=writable, required=not from_file)
        if history or not from_file
        else None
    )
    notes: list[str] = []
    try:
        if report is not None:
            run = (
                store.run(report["summary"]["run_key"])
                if store and report["summary"].get("run_key")
                else None
            )
            project = getattr(args, "project", None) or report["summary"].get("project")
            if note := torn_pair_note(path, report):
                notes.append(note)
            source: Path | None = path
        else:
            assert store is not None
            run, project, note, why = _stored_run(store, args, local, run_spec)
            notes += [note] if note else []
            why = f", {why}," if why else ""
            notes.append(
                f"reading run {run.run_key} ({_describe(run)}){why} from the history store {safe_url(store.url)}"
            )
            report = store.report(run)
            if report is None:
                report = _summary_only(run, store.verdict_detail(run))
                notes.append(
                    f"run {run.run_key} was recorded before full reports were stored: only its figures are known"
                )
            source = None
        config, config_notes = effective_config(
            report, local, prefer_local=bool(getattr(args, "config", None))
        )
    except BaseException:
        if store is not None:
            store.close()
        raise
    # projects and branches come from git and CI: no escape in them reaches the terminal
    for note in [*notes, *config_notes]:
        print(one_line(f"healthdeck: note: {note}"), file=err)
    return Reading(report, source, run, store, config, project, [*notes, *config_notes])


def _stored_run(
    store: HistoryReader, args: argparse.Namespace, local: Config, spec: str | None
) -> tuple[Run, str | None, str | None, str]:
    """(the run, its project, a note, why this run): `--run`, else the run of this checkout."""
    from .history.trends import resolve_baseline

    project, note = project_in_store(store, args, local)
    if spec:
        run = store.run(spec)
        kind = spec.partition(":")[0]
        if run is None and kind in ("branch", "sha", "tag"):
            probe = Run(0, "", None, None, None, 2**62, None, "probe", False, None, {}, project)
            run = resolve_baseline(store, spec, probe)
        if run is None:
            raise InputError(f"{safe_url(store.url)}: no run {spec!r} in the history of project {project}")
        return run, run.project, note, ""
    run, why = _checkout_run(store, local, project)
    if run is None:
        raise InputError(f"{safe_url(store.url)}: no runs of project {project} in the history yet")
    return run, project, note, why


def _checkout_run(store: HistoryReader, local: Config, project: str | None) -> tuple[Run | None, str]:
    """With no --run, the run this checkout stands for: the newest of its commit, else of its branch;
    outside a work tree (a dashboard host, a bare runner) the newest of the default branch, as the
    dashboard's headline. In a store shared by branches, the newest run of all may be another branch's
    pull request: a badge job on main published its NO-GO."""
    commits, branch = checkout_refs(local.root_path)
    for commit in commits:
        if run := store.latest_for_sha(commit, project):
            return run, f"the newest run of the checked-out commit {commit[:8]}"
    newest = store.latest(project)
    if newest is None:
        return None, ""
    shown = f" (none of the checked-out commit {commits[-1][:8]})" if commits else ""
    if branch and (run := store.latest(project, branch)):
        return run, f"the newest run of the checked-out branch {branch}{shown}; --run KEY reads another"
    for name in () if branch else local.default_branches:
        if run := store.latest(project, name):
            which = "" if run.id == newest.id else f", not the newest of all ({newest.branch or 'no branch'})"
            return run, f"the newest run of the default branch {name}{which}; --run KEY reads another"
    return newest, f"the newest run of the project{shown}; --run KEY reads another"


def project_in_store(store: HistoryReader, args: argparse.Namespace, local: Config) -> tuple[str, str | None]:
    """(the project to read, a note): --project / config / GITHUB_REPOSITORY / git remote / folder name.
    When only the weak guesses (remote, folder) name it and the store holds runs of one other project
    alone (a dashboard host, a bare runner), that one; several projects: an error listing them."""
    project, where = resolve_project(local.root_path, local.project, getattr(args, "project", None))
    if where not in ("git remote origin", "project folder name") or store.latest(project) is not None:
        return project, None
    names = store.project_names()
    if not names:
        return project, None
    if len(names) == 1 and names[0] is not None:
        return names[
            0
        ], f"no runs of project {project} ({where}) in the store, which holds one project: reading {names[0]}"
    shown = ", ".join(n or "(no project)" for n in names)
    raise InputError(
        f"{safe_url(store.url)}: no runs of project {project} ({where}); projects in this store: {shown} — give --project NAME"
    )


def _describe(run: Run) -> str:
    when = utc_text(run.ts, "%Y-%m-%d %H:%M UTC")
    parts = [f"project {run.project}" if run.project else None, f"branch {run.branch}" if run.branch else None,
             f"commit {run.short_sha}" if run.git_sha else None, when]  # fmt: skip
    return ", ".join(p for p in parts if p)


def _summary_only(run: Run, verdict: dict | None) -> dict:
    """A report holding only the stored summary (and the gate's stored verdict, so the comment and the
    review say the verdict `history show` and the badge say), for runs recorded before full reports
    were stored."""
    return {
        "schema_version": SCHEMA_VERSION,
        "generator": {"name": "healthdeck", "version": __version__},
        "summary": {**run.summary, "run_key": run.run_key, "verdict": run.verdict},
        "details": {"verdict": verdict} if verdict else {},
    }

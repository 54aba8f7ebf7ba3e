"""What a run is compared with: a stored run, a report file, or the report as committed at a git ref.

`report:PATH` (a base-branch latest.json, e.g. a downloaded artifact) and `git:REF` (the report file
committed at REF) need no history store, so a fresh CI runner gets the same deltas, new-failure marks
and gate conditions as it would from a store baseline. A report lists at most `max_failing_listed`
failing tests per suite; where its list was cut, a test missing from it proves nothing, and the
comparison says "unknown" for such tests instead of "new".
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from healthdeck.collectors.files import MIB, SMALL_FILE_LIMIT
from healthdeck.collectors.records import Record

from .. import DEFAULT_REPORT
from ..errors import InputError, one_line
from ..ordering import Smallest, natural_key
from ..report_file import check_report, load_report, parse_report
from .model import FAILING, Run
from .trends import STORE_KINDS, BaselineError, resolve_baseline

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:
    import subprocess

    from .reader import HistoryReader

FILE_KINDS = ("report", "git")


class Baseline(Record):
    run: Run  # a stored run, or a stand-in (id 0) made from a report file
    failing: dict[tuple[str, str], str]  # a report file's (suite, test id) -> failed | error | flaky
    partial: frozenset[str]  # suites whose failing list was cut: absence from it proves nothing
    origin: str  # history | report | git
    # A report file's cause ids per suite, for the suites whose list of causes is complete (a stored
    # baseline's causes come from the store); a suite missing here cannot say which causes are new.
    causes: dict[str, set[str]]
    # A stored run's store: its failing tests are read from there as needed (a page or a lookup at a
    # time: a million of them were 340 MB as a dict), and `failing` is empty.
    store: HistoryReader | None = None

    @property
    def summary(self) -> dict:
        return self.run.summary

    def ran(self, suite: str) -> bool:
        return suite in (self.summary.get("tests") or {})

    def rows(self, suite: str) -> Iterator[tuple[str, str]]:
        """(test id, outcome) of each of the suite's non-passing tests in the baseline."""
        if self.store is None:
            yield from ((t, o) for (su, t), o in self.failing.items() if su == suite)
            return
        for page in self.store.failing_pages(self.run.id, suite):
            yield from page

    def failing_among(self, suite: str, test_ids: Iterable[str]) -> set[str]:
        """Those of `test_ids` that failed (failed or error) in the suite in the baseline."""
        if self.store is None:
            return {t for t in test_ids if self.failing.get((suite, t)) in FAILING}
        return {t for t, o in self.store.outcomes_in(self.run.id, suite, test_ids).items() if o in FAILING}

    def classify(self, suite: str, failing: Iterable[str]) -> dict[str, str]:
        """new / known / unknown for each failing test id of one suite of the compared run: "unknown"
        where the baseline cannot tell (it did not run the suite, or its list was cut)."""
        if not self.ran(suite):
            return dict.fromkeys(failing, "unknown")
        ids = list(failing)
        known = self.failing_among(suite, ids)
        missing = "unknown" if suite in self.partial else "new"  # a cut list may have left it out
        return {t: "known" if t in known else missing for t in ids}

    @classmethod
    def of_run(cls, store: HistoryReader, run: Run) -> Baseline:
        """A stored run as a baseline (the store keeps every failing test: no list is cut)."""
        return cls(run, {}, frozenset(), "history", {}, store)


class NewFailures(Record):
    """Failing tests that did not fail in the baseline: the exact count, and the first of them named."""

    count: int
    named: list[tuple[str, str]]  # (suite, test id), at most NEW_NAMED, in the order count_new gives
    exact: bool  # False when the baseline could not tell for some (its suite did not run, its list was cut)

    def labels(self) -> list[str]:
        """'test id (suite)' each, as the gate's log names them."""
        return [f"{test_id} ({suite})" for suite, test_id in self.named]


NEW_NAMED = 1000  # new failures named (the gate shows five, a review lists them); the count is exact


# (suite, failing test ids, the ones of them the baseline failed too; None: ask the baseline)
Piece = tuple[str, list[str], "set[str] | None"]


def count_new(failing: Iterable[Piece], base: Baseline, first: Sequence[tuple[str, str]] = ()) -> NewFailures:
    """New failures among `failing` — (suite, failing test ids, the ones the baseline failed too, or None
    to ask it) pieces, a run's or a report's — against `base`, counted a piece at a time. Named: those
    of `first` ((suite, test id), in its order), then the rest by suite and natural order of ids,
    NEW_NAMED in all."""
    rank = {key: i for i, key in enumerate(first)}
    count, exact = 0, True
    ranked: list[tuple[int, str, str]] = []
    rest = Smallest(NEW_NAMED, key=lambda key: (key[0], natural_key(key[1])))  # (suite, id)
    for suite, ids, known in failing:
        if not ids:
            continue
        if known is None:
            known = base.failing_among(suite, ids) if base.ran(suite) else set()
        if not base.ran(suite) or suite in base.partial:  # it cannot say these are new: a floor
            exact = exact and not set(ids) - known
            continue
        for test_id in ids:
            if test_id in known:
                continue
            count += 1
            at = rank.get((suite, test_id))
            if at is not None:
                ranked.append((at, suite, test_id))
            else:
                rest.add((suite, test_id))
    named = [(s, t) for _, s, t in sorted(ranked)]
    named += rest.result()[: max(0, NEW_NAMED - len(named))]
    return NewFailures(count, named, exact)


def stored_failing(store: HistoryReader, run: Run, base: Baseline) -> Iterator[Piece]:
    """A stored run's failing tests (failed or error: a flaky one passed in the end) as count_new's
    pieces, a page at a time; against a run of the same store, each page joined with it in SQL."""
    same = base.store is store
    for suite in sorted(run.summary.get("tests") or {}):
        if same and base.ran(suite):
            for rows in store.failing_pages_against(run.id, suite, base.run.id):
                now = [(t, before) for t, o, before in rows if o in FAILING]
                yield suite, [t for t, _ in now], {t for t, before in now if before in FAILING}
        else:
            for page in store.failing_pages(run.id, suite):
                yield suite, [t for t, o in page if o in FAILING], None


def check_spec(spec: str) -> None:
    kind, _, value = spec.partition(":")
    if kind not in (*STORE_KINDS, *FILE_KINDS) or (kind != "previous" and not value):
        from . import BASELINE_HELP

        raise BaselineError(f"baseline {spec!r} is not one of: {BASELINE_HELP}")


def find_baseline(
    store: HistoryReader | None,
    spec: str,
    current: Run,
    *,
    repo: str | Path = ".",
    committed_report: str | Path = DEFAULT_REPORT,
) -> Baseline | None:
    """The baseline `spec` names; None when there is none (no such run, or no store to look in).

    `committed_report`: where the report file lives in the working tree, for `git:REF`.
    """
    check_spec(spec)
    kind, _, value = spec.partition(":")
    if kind == "report":
        path = Path(value)
        if path.is_dir():  # the folder an artifact download makes
            if not (path / "latest.json").exists():  # a folder is no missing artifact: a wrong one
                raise InputError(f"baseline report:{value}: a folder without latest.json")
            path = path / "latest.json"
        # the first run, or an expired artifact (a link to it too): nothing, as with an empty store; a
        # link loop is there and unreadable, which load_report says
        if not path.exists() and not _link_loop(path):
            return None
        report = load_report(path)
        check_report(report, f"baseline report:{value}")  # a downloaded artifact of any version or origin
        _warn_if_foreign(report, current, spec)
        return from_report(report, f"report:{value}", "report")
    if kind == "git":
        report, inside = report_at_ref(Path(repo), value, Path(committed_report))
        check_report(report, f"baseline git:{value}:{inside}")
        _warn_if_foreign(report, current, spec)
        return from_report(report, f"git:{value}:{inside}", "git")
    if store is None:
        return None
    run = resolve_baseline(store, spec, current, repo)
    return Baseline.of_run(store, run) if run else None


def _warn_if_foreign(report: dict, current: Run, spec: str) -> None:
    """A file baseline is taken as given, but one of another project (a wrong artifact downloaded, a
    report path of another repository) would compare unrelated tests: said, once, on stderr."""
    theirs, ours = report["summary"].get("project"), current.project
    if theirs and ours and theirs != ours:
        print(f"healthdeck: warning: baseline {one_line(spec)} is a report of project {one_line(str(theirs))}, "
              f"this run is of {one_line(ours)}: its figures and failures are compared as given", file=sys.stderr)  # fmt: skip


def from_report(report: dict, key: str, origin: str) -> Baseline:
    s = report["summary"]
    run = Run(
        id=0, run_key=s.get("run_key") or key, git_sha=s.get("git_sha_full") or s.get("git_sha"),
        branch=s.get("branch"), version=s.get("version"), ts=int(s.get("ts") or 0), ci_run_id=s.get("ci_run_id"),
        source=origin, approximate=False, verdict=s.get("verdict"), summary=s, project=s.get("project"),
        tag=s.get("tag"),
    )  # fmt: skip
    failing: dict[tuple[str, str], str] = {}
    partial = set()
    causes: dict[str, set[str]] = {}
    for suite, det in ((report.get("details") or {}).get("tests") or {}).items():
        failing.update({(suite, t): "flaky" for t in det.get("flaky") or []})
        failing.update({(suite, f["test_id"]): f["outcome"] for f in det.get("failing") or []})
        if det.get("failing_truncated"):
            partial.add(suite)
        listed, counted = det.get("causes"), ((s.get("tests") or {}).get(suite) or {}).get("causes")
        if listed is not None and counted is not None and len(listed) == counted:
            causes[suite] = {c["id"] for c in listed}
    return Baseline(run, failing, frozenset(partial), origin, causes)


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    import subprocess  # here: only a git: baseline runs git

    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InputError(f"git {args[0]} in {repo}: {exc}") from exc


def _link_loop(path: Path) -> bool:
    try:
        os.stat(path)
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def report_at_ref(repo: Path, ref: str, path: Path) -> tuple[dict, str]:
    """The report file at `path` (in the working tree of `repo`; relative: from `repo`) as committed at
    `ref`, and its path inside the repository."""
    top = _git(repo, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        said = " ".join(top.stderr.decode(errors="replace").split())
        if "dubious ownership" in said:  # a CI container running as another user than the checkout's
            raise InputError(f"baseline git:{ref}: git refuses {repo.resolve()} (dubious ownership); fix: "
                             f"git config --global --add safe.directory {repo.resolve()}")  # fmt: skip
        raise InputError(f"baseline git:{ref}: {repo.resolve()} is not a git repository")
    commit = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if commit.returncode != 0:
        shallow = _git(repo, "rev-parse", "--is-shallow-repository").stdout.strip() == b"true"
        relative = any(c in ref for c in "~^@")  # main~3: ancestors, which a refspec cannot name
        hint = (
            "this is a shallow clone: fetch more history first (git fetch --deepen=N, or actions/checkout "
            "with fetch-depth: 0)"
            if shallow and relative
            # a fetched branch lands as origin/NAME (the default refspec), never as NAME
            else f"this is a shallow clone: fetch it first ({'' if ref.startswith('origin/') else f'a tag: git fetch --depth=1 origin tag {ref}; '}"
            f"a branch: git fetch --depth=1 origin {ref.removeprefix('origin/')}, then give git:origin/"
            f"{ref.removeprefix('origin/')}; or actions/checkout with fetch-depth: 0)"
            if shallow
            else "no such commit, branch or tag in this repository"
        )
        raise InputError(f"baseline git:{ref}: {ref} is not in this clone; {hint}")
    root = Path(top.stdout.decode().strip()).resolve()
    absolute = (path if path.is_absolute() else Path(repo) / path).resolve()
    try:
        inside = absolute.relative_to(root).as_posix()
    except ValueError as exc:
        raise InputError(f"baseline git:{ref}: {path} is outside the repository {root}") from exc
    sha = commit.stdout.decode().strip()
    size = _git(repo, "cat-file", "-s", f"{sha}:{inside}")  # asked first: `git show` hands over all of it
    if size.returncode == 0 and int(size.stdout or 0) > SMALL_FILE_LIMIT:
        raise InputError(f"baseline git:{ref}: {inside} at {ref} is {int(size.stdout) // MIB:,} MiB, more than the "
                         f"{SMALL_FILE_LIMIT // MIB} MiB a report file may take")  # fmt: skip
    shown = _git(repo, "show", f"{sha}:{inside}")
    if shown.returncode != 0:
        raise InputError(f"baseline git:{ref}: no {inside} committed at {ref} ({sha[:8]})")
    return parse_report(shown.stdout, f"git:{ref}:{inside}"), inside

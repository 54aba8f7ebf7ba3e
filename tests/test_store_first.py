"""Data that travels: readers work from the history store alone, report files and git refs are
baselines, runs belong to projects, outputs are readable by others.

Inputs are the real python-dateutil artifacts bundled as samples. Earlier runs are derived from them
the way history happens: a test that fails in the real run passed before (its failure and rerun attempt
removed), and coverage was higher or lower (covered lines marked missed).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from healthdeck.reports.cli import EXIT_INPUT, EXIT_NO_GO, EXIT_OK, EXIT_USAGE, main
from healthdeck.reports.history.store import open_store

REPO = Path(__file__).resolve().parents[1]
DATEUTIL = REPO / "reports" / "samples" / "dateutil"
NEW = "tests.test_tz::test_gettz_link[tzpath-Europe/Monaco-Europe/Paris]"  # fails in the real run only
KNOWN = "tests.test_imports::test_version_matches_distribution_metadata"  # fails in every run
NEW_MESSAGE = "AssertionError: assert tzfile('/usr/share/zoneinfo/Europe/Monaco')"

CONFIG = """
[tool.healthdeck]
{project}out = "docs/audits/health"
prod_lanes = ["tz", "parser"]
[tool.healthdeck.lanes]
tz = ["src/dateutil/tz/"]
parser = ["src/dateutil/parser/"]
[tool.healthdeck.gates]
pass_rate_min = {{ smoke = 0.99 }}
coverage_drop_max = 0.5
no_new_failures = true
"""


def passing(target: Path, *test_ids: str) -> Path:
    """The real smoke JUnit with `test_ids` passing: their failure and failed rerun attempts removed."""
    with gzip.open(DATEUTIL / "smoke.junit.xml.gz") as fh:
        tree = etree.parse(fh)
    wanted = {tuple(t.split("::", 1)) for t in test_ids}
    last: dict[tuple, etree._Element] = {}
    for case in list(tree.iter("testcase")):
        key = (case.get("classname"), case.get("name"))
        if key not in wanted:
            continue
        if key in last:  # an earlier attempt of the same test: a failed rerun attempt
            last[key].getparent().remove(last[key])
        last[key] = case
        for child in case.findall("failure"):
            case.remove(child)
    assert set(last) == wanted, "the sample no longer has these failing tests"
    suite = tree.find(".//testsuite")
    suite.set("failures", str(int(suite.get("failures")) - len(wanted)))  # the suite's own count agrees
    with gzip.open(target, "wb") as fh:
        tree.write(fh, xml_declaration=True, encoding="utf-8")
    return target


def lower_coverage(target: Path, lines: int) -> Path:
    """The real coverage XML with `lines` covered statements (without branches) marked missed."""
    with gzip.open(DATEUTIL / "coverage.xml.gz") as fh:
        tree = etree.parse(fh)
    changed = 0
    for line in tree.iter("line"):
        if changed < lines and line.get("hits") != "0" and line.get("branch") != "true":
            line.set("hits", "0")
            changed += 1
    root = tree.getroot()
    covered = int(root.get("lines-covered")) - changed
    root.set("lines-covered", str(covered))
    root.set("line-rate", f"{covered / int(root.get('lines-valid')):.4f}")
    with gzip.open(target, "wb") as fh:
        tree.write(fh, xml_declaration=True, encoding="utf-8")
    return target


@pytest.fixture
def artifacts(tmp_path) -> dict[str, list[str]]:
    """Three runs' inputs: all passing; KNOWN failing; KNOWN and NEW failing with coverage down."""
    folder = tmp_path / "artifacts"
    folder.mkdir()
    real = ["--ruff", str(DATEUTIL / "ruff.json.gz"), "--compileall", str(DATEUTIL / "compileall.txt")]
    return {
        "green": ["--junit", f"smoke={passing(folder / 'green.xml.gz', NEW, KNOWN)}",
                  "--coverage", str(DATEUTIL / "coverage.xml.gz"), *real],
        "known": ["--junit", f"smoke={passing(folder / 'known.xml.gz', NEW)}",
                  "--coverage", str(DATEUTIL / "coverage.xml.gz"), *real],
        "new": ["--junit", f"smoke={DATEUTIL / 'smoke.junit.xml.gz'}",
                "--coverage", str(lower_coverage(folder / 'lower.xml.gz', 40)), *real],
    }  # fmt: skip


@pytest.fixture
def ci(monkeypatch):
    """CI variables of one run: commit, branch, time; nothing of the machine running the tests."""
    for name in (
        "GITHUB_REPOSITORY",
        "GITHUB_EVENT_NAME",
        "GITHUB_HEAD_REF",
        "CI_COMMIT_SHA",
        "GITHUB_REF_TYPE",
    ):
        monkeypatch.delenv(name, raising=False)

    def run(k: int, branch: str = "main") -> None:
        monkeypatch.setenv("GITHUB_SHA", f"{k:040x}")
        monkeypatch.setenv("GITHUB_REF_NAME", branch)
        monkeypatch.setenv("SOURCE_DATE_EPOCH", str(1_767_000_000 + 3600 * k))

    return run


def _project(folder: Path, project: str | None = "svc") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(
        CONFIG.format(project=f'project = "{project}"\n' if project else "")
    )
    return folder


def test_three_runs_then_every_local_file_deleted(
    store_url, artifacts, ci, tmp_path, monkeypatch, capsys
) -> None:
    """The team set-up: CI writes to a shared store; a fresh runner has nothing but the store's URL."""
    checkout = _project(tmp_path / "checkout")
    monkeypatch.chdir(checkout)
    for k, name in enumerate(("green", "known", "new"), 1):
        ci(k)
        assert main(["collect", "-q", "--history", store_url, *artifacts[name]]) == EXIT_OK
    shutil.rmtree(checkout)  # every local file: reports, Markdown, configuration
    fresh = tmp_path / "fresh-runner"
    fresh.mkdir()
    monkeypatch.chdir(fresh)
    capsys.readouterr()

    assert main(["gate", "--no-write", "--history", store_url]) == EXIT_NO_GO
    out, err = capsys.readouterr()
    assert "verdict: NO-GO" in out
    assert "FAIL     new failing tests vs baseline: 1" in out and NEW in out
    assert "FAIL     coverage change vs baseline" in out
    assert "PASS     smoke pass rate" in out
    assert "reading run collect:" in err and "project svc" in err  # says where the report came from
    assert not list(fresh.iterdir())  # a reader writes nothing

    assert main(["gate", "--history", store_url]) == EXIT_NO_GO  # stores the verdict in the store
    capsys.readouterr()
    assert main(["comment", "--history", store_url]) == EXIT_OK
    comment = capsys.readouterr().out
    assert "Release health: **NO-GO**" in comment
    lines = [line for line in comment.splitlines() if line.startswith("- `")]  # the failing tests
    [new_line] = [line for line in lines if NEW.split("[")[0] in line]
    assert "failed, new)" in new_line and NEW_MESSAGE.split("(")[0] in new_line
    [known_line] = [line for line in lines if KNOWN in line]
    assert ", new" not in known_line
    assert lines.index(new_line) < lines.index(known_line)  # newest failure first
    assert "pts vs base" in comment

    assert main(["badge", "--history", store_url, "--out", str(tmp_path / "badges")]) == EXIT_OK
    verdict_badge = json.loads((tmp_path / "badges" / "badge-verdict.json").read_text())
    assert verdict_badge["message"] == "NO-GO"
    capsys.readouterr()
    assert main(["history", "show", "--history", store_url, "--format", "json"]) == EXIT_OK
    rows = json.loads(capsys.readouterr().out)
    assert [r["verdict"] for r in rows] == [None, None, "NO-GO"] and {r["project"] for r in rows} == {"svc"}


def test_run_key_and_run_specs_read_one_stored_run(artifacts, ci, tmp_path, monkeypatch, capsys) -> None:
    checkout = _project(tmp_path / "checkout")
    monkeypatch.chdir(checkout)
    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    for k, name in enumerate(("green", "new"), 1):
        ci(k, branch="main" if k == 1 else "feature")
        assert main(["collect", "-q", "--history", url, *artifacts[name]]) == EXIT_OK
    shutil.rmtree(checkout / "docs")
    store = open_store(url, readonly=True)
    first = store.runs()[0]
    store.close()
    capsys.readouterr()
    assert main(["comment", "--history", url, "--run", first.run_key]) == EXIT_OK
    assert "Failing tests" not in capsys.readouterr().out  # the green run
    assert main(["comment", "--history", url, "--run", "branch:feature"]) == EXIT_OK
    assert NEW in capsys.readouterr().out
    assert main(["comment", "--history", url, "--run", f"sha:{1:040x}"]) == EXIT_OK
    assert "Failing tests" not in capsys.readouterr().out
    assert main(["comment", "--history", url, "--run", "collect:nope"]) == EXIT_INPUT
    assert "no run 'collect:nope'" in capsys.readouterr().err


def test_no_report_and_no_store_is_one_line(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(_project(tmp_path / "p"))
    assert main(["gate", "--no-write"]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no report at docs/audits/health/latest.json and no history store" in err


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True,
                          env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
                               "GIT_COMMITTER_EMAIL": "t@e"})  # fmt: skip
    return done.stdout


def test_a_store_shared_by_branches_reads_the_run_of_this_checkout(
    artifacts, ci, tmp_path, monkeypatch, capsys
) -> None:
    """With no report file and no --run, a reader takes the run of the checked-out commit, else of its
    branch; outside a work tree the default branch's, as the dashboard does: a pull request's run that
    landed last is never a badge job's verdict on main."""
    repo = _project(tmp_path / "repo")
    monkeypatch.chdir(repo)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "pyproject.toml")
    _git(repo, "commit", "-q", "-m", "main")
    main_sha = _git(repo, "rev-parse", "HEAD").strip()
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    ci(1)
    monkeypatch.setenv("GITHUB_SHA", main_sha)
    assert main(["collect", "-q", "--history", url, *artifacts["green"]]) == EXIT_OK
    ci(2, branch="feature")  # a pull request's run, stored after main's
    assert main(["collect", "-q", "--history", url, *artifacts["new"]]) == EXIT_OK
    shutil.rmtree(repo / "docs")
    for name in ("GITHUB_SHA", "GITHUB_REF_NAME"):  # a later job: only the checkout tells
        monkeypatch.delenv(name)
    capsys.readouterr()

    def read() -> tuple[str, str]:
        assert main(["comment", "--history", url]) == EXIT_OK
        out, err = capsys.readouterr()
        return out.splitlines()[1], err

    headline, err = read()
    assert f"`main` · `{main_sha[:8]}`" in headline
    assert f"the newest run of the checked-out commit {main_sha[:8]}" in err
    _git(repo, "checkout", "-q", "-b", "feature")
    _git(repo, "commit", "-q", "--allow-empty", "-m", "not collected yet")
    headline, err = read()
    assert "`feature`" in headline and "the newest run of the checked-out branch feature" in err
    elsewhere = tmp_path / "dashboard-host"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    headline, err = read()
    assert "`main`" in headline and "the newest run of the default branch main, not the newest of all" in err
    assert main(["comment", "--history", url, "--run", "branch:feature"]) == EXIT_OK  # the other, asked for
    assert "`feature`" in capsys.readouterr().out.splitlines()[1]


def test_a_pruned_baseline_is_said_not_taken_for_none(
    store_url, artifacts, ci, tmp_path, monkeypatch, capsys
) -> None:
    """The run a verdict compared with, pruned since: the comment says so, as the gate does, rather than
    "no baseline run"."""
    monkeypatch.chdir(_project(tmp_path / "checkout"))
    for k, name in enumerate(("green", "new"), 1):
        ci(k)
        assert main(["collect", "-q", "--history", store_url, *artifacts[name]]) == EXIT_OK
    assert main(["gate", "--history", store_url]) == EXIT_NO_GO  # compared with run 1, stored
    first = open_store(store_url, readonly=True).runs()[0]
    assert (
        main(["history", "prune", "--history", store_url, "--keep-days", "0", "--keep-runs", "1"]) == EXIT_OK
    )
    capsys.readouterr()
    assert main(["comment", "--history", store_url]) == EXIT_OK
    comment = capsys.readouterr().out
    assert (
        f"The run the verdict compared with, `{first.run_key}` (commit `{first.short_sha}`), is no longer"
        in comment
    )
    assert "No baseline run" not in comment


def test_report_file_and_git_tag_baselines_match_the_store(
    artifacts, ci, tmp_path, monkeypatch, capsys
) -> None:
    """A fresh runner with a base report (artifact file or committed at a tag) comments like one with
    the whole history: only the newly failing test is new, and coverage shows its change."""
    repo = _project(tmp_path / "repo")
    monkeypatch.chdir(repo)
    _git(repo, "init", "-q", "-b", "main")
    report = repo / "docs" / "audits" / "health" / "latest.json"
    ci(1)
    assert main(["collect", "-q", *artifacts["known"]]) == EXIT_OK  # the base branch's run
    shutil.copy(report, tmp_path / "base.json")
    _git(repo, "add", "pyproject.toml", str(report))
    _git(repo, "commit", "-q", "-m", "release")
    _git(repo, "tag", "v1.0")
    ci(2, branch="feature")
    assert main(["collect", "-q", *artifacts["new"]]) == EXIT_OK  # the PR's run
    _git(repo, "commit", "-q", "-am", "the PR's report")
    capsys.readouterr()

    assert main(["comment", "--baseline", "branch:main"]) == EXIT_OK  # from the history store
    from_store = capsys.readouterr().out
    for stale in report.parent.glob("history.sqlite*"):
        stale.unlink()  # now a fresh runner: no store at all
    assert main(["comment", "--baseline", f"report:{tmp_path / 'base.json'}"]) == EXIT_OK
    from_file = capsys.readouterr().out
    assert main(["comment", "--baseline", "git:v1.0"]) == EXIT_OK
    from_tag = capsys.readouterr().out
    assert from_file == from_tag == from_store
    marked = [line for line in from_file.splitlines() if ", new)" in line]
    assert len(marked) == 1 and NEW in marked[0]
    [coverage_row] = [line for line in from_file.splitlines() if line.startswith("| coverage |")]
    assert "pts vs base" in coverage_row and "(-" in coverage_row

    assert main(["gate", "--no-write", "--baseline", "git:v1.0"]) == EXIT_NO_GO
    out = capsys.readouterr().out
    assert "FAIL     new failing tests vs baseline: 1" in out and NEW in out

    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow)], check=True)
    monkeypatch.chdir(shallow)
    assert main(["comment", "--baseline", "git:v1.0"]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "v1.0 is not in this clone; this is a shallow clone" in err
    assert main(["comment", "--baseline", "git:HEAD~3"]) == EXIT_INPUT  # ancestors: no refspec names them
    assert "fetch more history first (git fetch --deepen=N" in capsys.readouterr().err
    assert main(["comment", "--baseline", "git:nope"]) == EXIT_INPUT
    # a fetched branch lands as origin/NAME: the hint names the ref to give after the fetch
    assert "git fetch --depth=1 origin nope, then give git:origin/nope;" in capsys.readouterr().err
    # a base report that does not exist yet (the first pull request, an expired artifact): no baseline
    assert main(["comment", "--baseline", f"report:{tmp_path / 'missing.json'}"]) == EXIT_OK
    assert "Compared with" not in capsys.readouterr().out
    # a base report of another project (a wrong artifact): compared as given, and said
    monkeypatch.chdir(repo)
    other = json.loads((tmp_path / "base.json").read_text())
    other["summary"]["project"] = "someone/else"
    (tmp_path / "other.json").write_text(json.dumps(other))
    assert main(["comment", "--baseline", f"report:{tmp_path / 'other.json'}"]) == EXIT_OK
    err = capsys.readouterr().err
    assert (
        f"healthdeck: warning: baseline report:{tmp_path / 'other.json'} is a report of project someone/else, "
        in err
    )
    assert main(["comment", "--baseline", f"report:{tmp_path / 'base.json'}"]) == EXIT_OK
    assert "is a report of project" not in capsys.readouterr().err  # the same project: nothing to say


def test_imported_reports_compare_with_the_run_before_not_themselves(
    artifacts, ci, tmp_path, monkeypatch, capsys
) -> None:
    """Reports brought in with `history import-dir` carry no run key: read back from the store, the newest
    one's "previous" is the run before it, not itself (every change "no change")."""
    monkeypatch.chdir(_project(tmp_path / "p"))
    folder = tmp_path / "reports"
    folder.mkdir()
    for k, name in enumerate(("known", "green", "new"), 1):
        ci(k)
        assert main(["collect", "-q", "--no-history", *artifacts[name]]) == EXIT_OK
        report = json.loads(Path("docs/audits/health/latest.json").read_text())
        assert "run_key" not in report["summary"]  # a report made without a store names no run
        (folder / f"{k}.json").write_text(json.dumps(report))
    shutil.rmtree("docs")
    url = f"sqlite:///{tmp_path / 'imported.sqlite'}"
    assert main(["history", "import-dir", str(folder), "--history", url, "--project", "svc"]) == EXIT_OK
    capsys.readouterr()
    assert main(["comment", "--history", url]) == EXIT_OK
    compared = next(
        line for line in capsys.readouterr().out.splitlines() if line.startswith("_Compared with")
    )
    assert "2025-12-29 11:20 UTC" in compared, compared  # the second run (the third is 12:20)


def test_two_projects_in_one_store_each_with_its_own_previous(
    artifacts, ci, tmp_path, monkeypatch, capsys
) -> None:
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    monkeypatch.chdir(_project(tmp_path / "p", project=None))
    keys = []
    for k, (project, name) in enumerate((("api", "known"), ("web", "green"), ("api", "new")), 1):
        ci(k)
        assert main(["collect", "-q", "--project", project, "--history", url, *artifacts[name]]) == EXIT_OK
        keys.append(json.loads(Path("docs/audits/health/latest.json").read_text())["summary"]["run_key"])
    shutil.rmtree("docs")
    assert main(["gate", "--history", url, "--project", "api"]) == EXIT_NO_GO
    # web's first run has no earlier run of its own to compare with (api's do not count): not GO
    assert main(["gate", "--history", url, "--project", "web"]) == EXIT_NO_GO
    store = open_store(url, readonly=True)
    api, web = store.report(store.run(keys[2])), store.report(store.run(keys[1]))
    assert api["details"]["verdict"]["baseline"]["run_key"] == keys[0]  # not web's run between them
    assert web["details"]["verdict"]["baseline"] is None  # web has no earlier run
    web_status = {c["name"]: c["status"] for c in web["details"]["verdict"]["conditions"]}
    assert (
        web_status["coverage_drop"] == web_status["no_new_failures"] == "UNKNOWN"
    )  # nothing to compare with
    assert [p.project for p in store.projects()] == ["api", "web"]
    store.close()
    capsys.readouterr()
    assert main(["history", "show", "--history", url, "--project", "web", "--format", "json"]) == EXIT_OK
    assert [r["run_key"] for r in json.loads(capsys.readouterr().out)] == [keys[1]]
    assert main(["history", "show", "--history", url, "--all-projects", "--format", "json"]) == EXIT_OK
    assert len(json.loads(capsys.readouterr().out)) == 3
    for command in ("show", "prune"):  # both would silently drop the name
        assert main(["history", command, "--history", url, "--project", "web", "--all-projects", "--keep-runs", "1"]
                    if command == "prune" else ["history", command, "--history", url, "--project", "web",
                                                "--all-projects"]) == EXIT_USAGE  # fmt: skip
    capsys.readouterr()
    assert main(["history", "show", "--history", url, "--all-projects"]) == EXIT_OK
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("project ") and sorted(line.split()[0] for line in table[2:5]) == [
        "api",
        "api",
        "web",
    ]
    assert main(["gate", "--history", url]) == EXIT_INPUT  # two projects, none named: say which exist
    assert "projects in this store: api, web" in capsys.readouterr().err


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_outputs_follow_the_umask(umask, mode, artifacts, ci, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(_project(tmp_path / "p"))
    ci(1)
    old = os.umask(umask)
    try:
        assert main(["collect", "-q", *artifacts["known"]]) == EXIT_OK
        assert main(["gate", "--junit-xml", "gate.xml"]) == EXIT_NO_GO  # no baseline yet: INCOMPLETE blocks
    finally:
        os.umask(old)
    folder = Path("docs/audits/health")
    for path in (folder / "latest.json", folder / "latest.md", Path("gate.xml")):
        assert stat.S_IMODE(path.stat().st_mode) == mode, path
    assert sorted(p.name for p in folder.iterdir()) == [
        "history.sqlite",
        "latest.json",
        "latest.md",
    ]  # no temp files


def test_failures_in_a_suite_the_baseline_did_not_run_are_not_called_new_or_known(
    artifacts, ci, tmp_path, monkeypatch, capsys
) -> None:
    """No evidence either way: the condition is UNKNOWN and says why, never a silent PASS."""
    monkeypatch.chdir(_project(tmp_path / "p"))
    ci(1)
    assert main(["collect", "-q", *artifacts["green"]]) == EXIT_OK  # smoke only
    ci(2)
    unit = ["--junit", f"unit={DATEUTIL / 'unit.junit.xml.gz'}"]
    assert main(["collect", "-q", *artifacts["green"], *unit]) == EXIT_OK  # unit fails, smoke green
    capsys.readouterr()
    assert main(["gate", "--no-write"]) == EXIT_NO_GO
    [line] = [x for x in capsys.readouterr().out.splitlines() if "new failing tests vs baseline:" in x]
    assert line.startswith("UNKNOWN") and line.endswith("the baseline cannot tell which failures are new: unit "
                                                        "did not run there")  # fmt: skip
    # the release review of the same two runs says the same, not "New failures (N)" from the unit suite
    assert main(["review", "--baseline", "previous"]) == EXIT_OK
    review = capsys.readouterr().out
    assert "## New failures: unknown" in review and "## New failures (" not in review
    assert "| new failing tests vs baseline |" in review and "| UNKNOWN —" in review


def test_a_git_baseline_too_large_for_a_report_is_refused_before_it_is_read(
    tmp_path, monkeypatch, capsys
) -> None:
    """A 70 MiB file committed where the report lives (it packs to some 70 kB): its size is asked of git
    first; `git show` would hand all of it over (a 512 MiB one took 1.07 GB to refuse)."""
    repo = _project(tmp_path / "repo")
    monkeypatch.chdir(repo)
    _git(repo, "init", "-q", "-b", "main")
    report = repo / "docs" / "audits" / "health" / "latest.json"
    report.parent.mkdir(parents=True)
    with report.open("wb") as fh:
        fh.write(b"{")
        for _ in range(70):
            fh.write(b" " * (1 << 20))
        fh.write(b"}")
    _git(repo, "add", "-f", str(report))
    _git(repo, "commit", "-q", "-m", "a large file where the report lives")
    report.unlink()
    code = main(
        [
            "collect",
            "-q",
            "--no-history",
            "--baseline",
            "git:HEAD",
            "--junit",
            f"smoke={DATEUTIL / 'smoke.junit.xml.gz'}",
        ]
    )
    assert code == EXIT_INPUT
    assert "is 70 MiB, more than the 64 MiB a report file may take" in capsys.readouterr().err

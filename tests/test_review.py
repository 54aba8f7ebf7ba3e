"""The release review: `healthdeck review` and the dashboard's Release review page, one review.

A real store: three runs collected from the bundled python-dateutil artifacts in a git checkout, the
second one at a release tag and gated there, the third on a feature branch with a newly failing test and
coverage down. Each run shows the verdict its gate stored; a run never gated is evaluated here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from healthdeck.reports.cli import EXIT_INPUT, EXIT_OK, main
from healthdeck.reports.gate import condition_figures
from healthdeck.reports.history.store import open_store
from healthdeck.reports.render.md import cell
from tests.test_store_first import DATEUTIL, KNOWN, NEW, _git, _project, lower_coverage, passing

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")


def _collect(monkeypatch, k: int, branch: str, inputs: list[str], url: str) -> None:
    monkeypatch.setenv("GITHUB_REF_NAME", branch)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(1_767_000_000 + 3600 * k))
    assert main(["collect", "-q", "--history", url, *inputs]) == EXIT_OK


def _checkout(tmp: Path, mp: pytest.MonkeyPatch) -> tuple[Path, str]:
    """A project's git checkout with one commit on main, as the working folder, outside CI (no CI
    variables), and the URL of an empty SQLite store beside it."""
    for name in ("GITHUB_REPOSITORY", "GITHUB_EVENT_NAME", "GITHUB_HEAD_REF", "CI_COMMIT_SHA", "GITHUB_SHA",
                 "GITHUB_REF_TYPE", "CI_COMMIT_TAG", "HEALTHDECK_PROJECT"):  # fmt: skip
        mp.delenv(name, raising=False)
    repo = _project(tmp / "repo")
    (repo / ".gitignore").write_text("docs/\n")
    mp.chdir(repo)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "one")
    return repo, f"sqlite:///{tmp / 'history.sqlite'}"


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> dict:
    """Runs: 1 main, all passing, never gated; 2 main at tag v1.0, KNOWN failing, gated; 3 feature,
    KNOWN and NEW failing and coverage down, never gated. Returns the store's URL and the runs."""
    tmp = tmp_path_factory.mktemp("review")
    with pytest.MonkeyPatch.context() as mp:
        repo, url = _checkout(tmp, mp)
        real = ["--ruff", str(DATEUTIL / "ruff.json.gz"), "--compileall", str(DATEUTIL / "compileall.txt")]
        cov = ["--coverage", str(DATEUTIL / "coverage.xml.gz")]
        _collect(
            mp, 1, "main", ["--junit", f"smoke={passing(tmp / 'green.xml.gz', NEW, KNOWN)}", *cov, *real], url
        )
        _git(repo, "commit", "-q", "--allow-empty", "-m", "release")
        _git(repo, "tag", "v1.0")
        _collect(mp, 2, "main", ["--junit", f"smoke={passing(tmp / 'known.xml.gz', NEW)}", *cov, *real], url)
        assert main(["gate", "--history", url]) in (0, 1)  # stores its verdict, against run 1
        _git(repo, "commit", "-q", "--allow-empty", "-m", "feature")
        lower = ["--coverage", str(lower_coverage(tmp / "lower.xml.gz", 40))]
        _collect(
            mp, 3, "feature", ["--junit", f"smoke={DATEUTIL / 'smoke.junit.xml.gz'}", *lower, *real], url
        )
        shutil.copy(repo / "pyproject.toml", tmp / "pyproject.toml")
        shutil.rmtree(repo)  # nothing but the store (and, for the page, the configuration) is left
    reader = open_store(url, readonly=True)
    runs = reader.runs()
    stored = reader.report(runs[1])["details"]["verdict"]
    reader.close()
    assert [r.version == "v1.0" for r in runs] == [False, True, False] and runs[2].branch == "feature"
    return {"url": url, "runs": runs, "gated": stored, "config": tmp / "pyproject.toml"}


def _review(capsys, *argv: str) -> str:
    assert main(["review", *argv]) == EXIT_OK, capsys.readouterr().err
    return capsys.readouterr().out


def _rows(markdown: str) -> dict[str, list[str]]:
    """The checklist table: label -> [threshold, baseline cell, candidate cell]."""
    rows = {}
    for line in markdown.partition("## Every figure")[0].splitlines():
        if line.startswith("| ") and not line.startswith(("| Condition", "| ---")):
            label, *rest = [c.strip() for c in line.strip("|").split(" | ")]
            rows[label] = rest
    return rows


def test_review_from_the_store_alone(store, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)  # no report file, no configuration, no checkout: the store's URL alone
    first, release, candidate = store["runs"]
    # outside a work tree the default candidate is the default branch's newest run, not the feature's
    assert release.short_sha in _review(capsys, "--history", store["url"]).splitlines()[0]
    text = _review(capsys, "--history", store["url"], "--run", "branch:feature")
    # the newest run against the last release before it, not against the previous run on main
    heading, _, base_line, _, verdict_line = text.splitlines()[:5]
    assert candidate.short_sha in heading and "feature" in heading and heading.endswith(" · not gated")
    gated = store["gated"]
    assert release.short_sha in base_line and " · v1.0 · " in base_line
    # the baseline's verdict is the one its gate stored, against its own baseline (run 1), item by item
    assert base_line.endswith(f" · {gated['status']} — as gated, against {first.short_sha} on main")
    rows = _rows(text)
    for c in gated["conditions"]:
        label, actual, _ = condition_figures(c)
        if cell(label) in rows:
            assert rows[cell(label)][1] == f"{c['status']} {cell(actual)}", label
    assert rows["new failing tests vs baseline"][1] == "FAIL 1"  # KNOWN began failing at the release
    # the candidate, never gated, is evaluated here against the release, without the "current" item
    assert "health report is current" not in rows
    assert rows["new failing tests vs baseline"][2] == "FAIL 1"  # NEW only: KNOWN failed in the release too
    assert rows["coverage change vs baseline"][2].startswith("FAIL -")
    assert (
        verdict_line
        == "**Verdict: NO-GO** (blocks the release) — the checklist evaluated here: this run was never gated"
    )
    assert text.split("## New failures (1)\n\n")[1].strip() == f"- `{NEW}` (smoke)"  # the id alone in code
    # --output writes the same text; --run/--baseline name any pair
    assert (
        main(
            [
                "review",
                "--history",
                store["url"],
                "--run",
                "branch:feature",
                "--output",
                str(tmp_path / "r.md"),
            ]
        )
        == EXIT_OK
    )
    assert (tmp_path / "r.md").read_text() == text
    capsys.readouterr()
    same = _review(
        capsys, "--history", store["url"], "--run", "branch:feature", "--baseline", f"run:{release.run_key}"
    )
    assert same == text


def test_a_baseline_never_gated_is_evaluated_and_says_so(store, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    first, release, _ = store["runs"]
    text = _review(
        capsys, "--history", store["url"], "--run", release.run_key, "--baseline", f"run:{first.run_key}"
    )
    lines = text.splitlines()
    assert lines[2].endswith(" · not gated — the checklist evaluated here: this run was never gated")
    assert lines[4].startswith(f"**Verdict: {store['gated']['status']}**")
    assert lines[4].endswith(f" — as gated, against {first.short_sha} on main")
    rows = _rows(text)
    # the release's stored items, beside the first run's evaluated here (without a baseline of its own)
    assert rows["new failing tests vs baseline"] == ["0", "UNKNOWN —", "FAIL 1"]
    assert rows["health report is current"][1] == "—"  # evaluated here: left out


def test_review_errors_are_one_line(store, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["review", "--history", store["url"], "--baseline", "run:collect:nope"]) == EXIT_INPUT
    err = capsys.readouterr().err
    [error] = [line for line in err.splitlines() if not line.startswith("healthdeck: note:")]
    assert "no such run in the history store" in error
    assert main(["review", "--history", f"sqlite:///{tmp_path / 'none.sqlite'}"]) == EXIT_INPUT
    assert "no history store" in capsys.readouterr().err


def test_a_first_run_is_reviewed_alone(store, tmp_path, monkeypatch, capsys) -> None:
    """The oldest run has no release and no run before it: its own figures and verdict, said so, exit 0
    (as collect, gate and comment carry on without a baseline)."""
    monkeypatch.chdir(tmp_path)
    first = store["runs"][0]
    assert main(["review", "--history", store["url"], "--run", first.run_key]) == EXIT_OK
    text = capsys.readouterr().out
    assert "Baseline: none — no release and no earlier run of its branch" in text
    assert "**Verdict: " in text and "No baseline: nothing to compare with." in text
    rows = [line for line in text.splitlines() if line.startswith("| smoke: ")]  # the suite's figures
    assert rows and all(line.rstrip(" |").endswith("—") for line in rows)  # no baseline figure, no change


def _page(**params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/review.py")
    at.query_params.update(params)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_page_offers_the_same_markdown(store, tmp_path, monkeypatch, capsys) -> None:
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    first, release, candidate = store["runs"]
    monkeypatch.chdir(tmp_path)
    offered: list[str] = []
    original = st.download_button

    def download_button(label, data, *args, **kwargs):
        offered.append(data)
        return original(label, data, *args, **kwargs)

    monkeypatch.setattr(st, "download_button", download_button)
    monkeypatch.setenv("HEALTHDECK_REPORT", str(tmp_path / "latest.json"))  # none: the store alone
    monkeypatch.setenv("HEALTHDECK_HISTORY", store["url"])
    monkeypatch.setenv("HEALTHDECK_CONFIG", str(store["config"]))
    at = _page(candidate=candidate.run_key)
    assert at.selectbox(key="base").value == release.run_key  # the last release by default
    cli = _review(
        capsys, "--history", store["url"], "--config", str(store["config"]), "--run", candidate.run_key
    )
    assert offered[-1] == cli
    # the baseline is headed with the verdict its gate stored, as its picker label says
    gated = store["gated"]["status"]
    assert f"Baseline: {gated}" in [h.value for h in at.subheader]
    from healthdeck.dashboard.widgets import md

    # the run its gate's conditions compared with
    against = md(f"as gated, against {first.short_sha} on main")
    assert f"The verdict `healthdeck gate` gave this run ({against})." in [c.value for c in at.caption]
    assert at.selectbox(key="base").format_func(release.run_key).endswith(f" · {gated}")
    conditions = at.dataframe[0].value  # one checklist table: the candidate's columns, then the baseline's
    checked = conditions[conditions["baseline"] != "—"]
    from healthdeck.reports.gate import condition_figures

    assert dict(zip(checked["condition"], checked["baseline"], strict=True)) == {
        condition_figures(c)[0]: c["status"] for c in store["gated"]["conditions"]
    }
    # a baseline never gated: evaluated here, and labelled so
    at = _page(candidate=candidate.run_key, base=first.run_key)  # a pasted link, outside the window
    assert at.selectbox(key="base").value == first.run_key
    assert not at.exception
    assert any(
        c.value.startswith("The checklist evaluated here says ")
        and c.value.endswith("this run was never gated.")
        for c in at.caption
    )
    table = at.dataframe[0].value
    names = list(table[table["baseline"] != "—"]["condition"])  # the items evaluated on the baseline
    assert names and "health report is current" not in names and "report age" not in names
    cli = _review(
        capsys,
        "--history",
        store["url"],
        "--config",
        str(store["config"]),
        "--baseline",
        f"run:{first.run_key}",
        "--run",
        candidate.run_key,
    )
    assert offered[-1] == cli


def test_the_cards_say_which_run_they_show_when_the_trends_show_another_branch(
    store, tmp_path, monkeypatch
) -> None:
    """From the store alone, the verdict, cards and tables show the newest run of the branch the trends
    show (main by default: not the feature branch's run that landed last). With a report file (a CI
    artifact) the filter starts on its branch and they show its run; another branch shows that branch's
    newest stored run; all branches keeps the file's run, and a caption says so."""
    import json

    import streamlit as st

    from healthdeck.reports.history.store import open_store

    st.cache_data.clear()
    st.cache_resource.clear()
    _, release, candidate = store["runs"]  # release: main's newest run; candidate: the newest, on feature
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HEALTHDECK_REPORT", str(tmp_path / "latest.json"))
    monkeypatch.setenv("HEALTHDECK_HISTORY", store["url"])
    monkeypatch.setenv("HEALTHDECK_CONFIG", str(store["config"]))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="branch").value == "main"
    assert at.session_state["healthdeck_ctx"].current.run_key == release.run_key
    assert not [c.value for c in at.caption if c.value.startswith("Verdict and cards: ")]
    at.selectbox(key="branch").set_value("feature").run()
    assert at.session_state["healthdeck_ctx"].current.run_key == candidate.run_key
    # a report file: the run CI just made is the subject, and the trends start on its branch
    (tmp_path / "latest.json").write_text(
        json.dumps(open_store(store["url"], readonly=True).report(candidate))
    )
    shown = f"the report's run (`{candidate.short_sha}` on `feature`)"
    for page, what in (
        ("overview", "Verdict and cards"),
        ("tests", "Tables"),
        ("coverage", "Tables"),
        ("lint", "Tables"),
    ):
        at = AppTest.from_file(APP, default_timeout=60)
        if page != "overview":
            at.switch_page(f"app_pages/{page}.py")
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert at.selectbox(key="branch").value == "feature"  # the file's branch
        assert at.session_state["healthdeck_ctx"].current.run_key == candidate.run_key
        assert not [c.value for c in at.caption if c.value.startswith(f"{what}: ")], page  # the same run
        at.selectbox(key="branch").set_value("all branches").run()
        assert f"{what}: {shown}; trends: all branches." in [c.value for c in at.caption], page
        # another branch, picked: its newest stored run, as the trends show it (not the file's)
        at.selectbox(key="branch").set_value("main").run()
        assert at.session_state["healthdeck_ctx"].current.run_key == release.run_key, page
        assert not [c.value for c in at.caption if c.value.startswith(f"{what}: ")], page


def test_a_change_too_small_to_show_is_not_called_no_change() -> None:
    """99.4849 % against 99.4847 % shows as 99.48 % beside 99.48 %, but 99.4851 % against 99.4847 % shows
    as 99.49 % beside 99.48 %: "no change" between two different figures reads as a mistake."""
    from healthdeck.reports.render.md import change

    assert change(0.0) == "no change"
    assert (change(99.4851 - 99.4847), change(99.4847 - 99.4851)) == ("+<0.01 pts", "-<0.01 pts")
    assert change(1.2) == "+1.20 pts" and change(-0.5) == "-0.50 pts"


def test_a_never_gated_run_with_no_evidence_blocks_even_when_unknown_items_do_not() -> None:
    """The readers' checklist left out the report's age only after evaluating it: its PASS (the age of a
    run at its own time is 0) counted as evidence, so a run with no figures at all did not block."""
    from healthdeck.reports.config import Config, GateConfig
    from healthdeck.reports.review import evaluated_here

    verdict = evaluated_here(
        {"ts": 1_700_000_000, "tests": {}}, Config(gates=GateConfig(unknown_blocks=False))
    )
    assert (verdict["status"], verdict["evaluated"], verdict["blocks"]) == ("INCOMPLETE", 0, True)
    assert {c["name"] for c in verdict["conditions"]}.isdisjoint({"report_current", "freshness"})


def test_new_failures_are_compared_suite_by_suite(tmp_path) -> None:
    """A test failing in the candidate's smoke suite is new there even when a test of the same id failed
    in the baseline's unit suite; a flaky test (it passed in the end) is not failing; a suite the baseline
    did not run makes the answer unknown, as the gate's."""
    from healthdeck.reports.review import new_failures

    def summary(ts: int, suites: tuple[str, ...]) -> dict:
        return {"ts": ts, "git_sha": "a" * 8, "branch": "main",
                "tests": {s: {"passed": 1, "failed": 1, "errors": 0, "total": 2, "pass_rate": 0.5} for s in suites}}  # fmt: skip

    store = open_store(f"sqlite:///{tmp_path / 'h.sqlite'}")
    store.append(summary(1, ("smoke", "unit")), failing=[("unit", "t::same_id", "failed")])
    store.append(summary(2, ("smoke", "unit")), failing=[("smoke", "t::same_id", "failed"),
                                                         ("smoke", "t::wobbly", "flaky")])  # fmt: skip
    store.append(summary(3, ("smoke", "unit", "e2e")), failing=[("e2e", "t::other", "failed")])
    base, candidate, wider = store.runs()
    assert new_failures(store, candidate, base).named == [("smoke", "t::same_id")]
    assert new_failures(store, wider, candidate) is None  # e2e did not run in the baseline
    store.close()


def test_a_review_of_many_new_failures_counts_them_all_and_names_the_first(tmp_path, capsys) -> None:
    """50 020 new failing tests (past a page of the store and past the 1 000 named): the heading has the
    exact count, the list the first 1 000 in natural order, and a line says how many more."""
    from healthdeck.reports.history.baselines import NEW_NAMED

    n = 50_020
    store = open_store(f"sqlite:///{tmp_path / 'h.sqlite'}")
    tests = {"smoke": {"passed": 0, "failed": n, "errors": 0, "total": n, "pass_rate": 0.0}}
    store.append(
        {
            "ts": 1,
            "git_sha": "a" * 8,
            "branch": "main",
            "project": "p",
            "tests": {"smoke": {**tests["smoke"], "failed": 0}},
        }
    )
    store.append({"ts": 2, "git_sha": "b" * 8, "branch": "main", "project": "p", "tests": tests},
                 failing=[("smoke", f"t::case[{i}]", "failed") for i in range(n)])  # fmt: skip
    store.close()
    assert main(["review", "--history", f"sqlite:///{tmp_path / 'h.sqlite'}", "--project", "p"]) == EXIT_OK
    text = capsys.readouterr().out.split(f"## New failures ({n // 1000} {n % 1000:03d})\n\n")[1]
    listed = [line for line in text.splitlines() if line.startswith("- `")]
    assert listed[:3] == ["- `t::case[0]` (smoke)", "- `t::case[1]` (smoke)", "- `t::case[2]` (smoke)"]
    assert len(listed) == NEW_NAMED and listed[-1] == f"- `t::case[{NEW_NAMED - 1}]` (smoke)"
    assert f"- … and {(n - NEW_NAMED) // 1000} {(n - NEW_NAMED) % 1000:03d} more" in text


def test_every_figure_is_named_for_a_person_and_judged() -> None:
    """The review's figures read as words (suite and lane names as the project gives them), and a change
    says whether it is better or worse where one way is. Figures each run counted against its own gate's
    baseline (transitions, slower tests) are left out: under the review's baseline they contradicted its
    own New failures count."""
    from healthdeck.reports.render.review import metric_deltas

    before = {"tests.unit.fast.pass_rate": 0.9, "tests.unit.fast.transitions.flaky": 0, "ruff.lanes.app": 3,
              "coverage.branches_percent": 80.0, "tests.unit.fast.skipped": 1, "coverage.percent": 90.0,
              "tests.unit.fast.duration_regressions": 0, "tests.transitions.passed": 5}  # fmt: skip
    after = {"tests.unit.fast.pass_rate": 0.95, "tests.unit.fast.transitions.flaky": 2, "ruff.lanes.app": 1,
             "coverage.branches_percent": 79.0, "tests.unit.fast.skipped": 4, "coverage.percent": 90.0,
             "tests.unit.fast.transitions.new": 3, "tests.unit.fast.duration_regressions": 1,
             "tests.transitions.passed": 6}  # fmt: skip
    rows = {d["label"]: d["shown"]["change"] for d in metric_deltas(after, before)}
    assert rows == {
        "unit.fast: pass rate": "+5.00 pts (better)",
        "ruff findings in lane app": "-2 (better)",
        "branch coverage": "-1.00 pts (worse)",
        "unit.fast: skipped": "+3",  # neither way is better
        "coverage": "no change",
        "transitions: passed": "+1 (better)",  # a suite may be named "transitions"
    }, rows


def test_a_pull_requests_first_push_is_reviewed_against_the_run_its_gate_compared_with(
    tmp_path, monkeypatch, capsys
) -> None:
    """No release and no earlier run of the branch: the review compares with the run of the base branch
    that the run's own gate compared with (as its comment and verdict do), not with nothing."""
    repo, url = _checkout(tmp_path, monkeypatch)
    _collect(
        monkeypatch, 1, "main", ["--junit", f"smoke={passing(tmp_path / 'green.xml.gz', NEW, KNOWN)}"], url
    )
    _git(repo, "commit", "-q", "--allow-empty", "-m", "feature")
    _collect(monkeypatch, 2, "feature", ["--junit", f"smoke={passing(tmp_path / 'new.xml.gz')}",
                                         "--baseline", "branch:main"], url)  # fmt: skip
    assert main(["gate", "--history", url]) in (0, 1)  # gated against run 1, on main
    capsys.readouterr()
    text = _review(capsys, "--history", url)
    first = open_store(url, readonly=True).runs()[0]
    base_line = text.splitlines()[2]
    assert base_line.startswith("Baseline: ") and f" · {first.short_sha} · main · " in base_line, base_line
    # both failing tests passed on main: both are new, as the gate and the comment said
    assert f"## New failures (2)\n\n- `{KNOWN}` (smoke)\n- `{NEW}` (smoke)" in text or (
        "## New failures (2)" in text and f"`{NEW}` (smoke)" in text and f"`{KNOWN}` (smoke)" in text
    )


def test_a_baseline_of_another_project_is_never_the_reviews_default(tmp_path, monkeypatch, capsys) -> None:
    """A run collected against another project's run (`--baseline run:KEY` in a shared store) is
    reviewed against its own project's runs only: here none, so alone."""
    _, url = _checkout(tmp_path, monkeypatch)
    junit = ["--junit", f"smoke={passing(tmp_path / 'green.xml.gz', NEW, KNOWN)}"]
    _collect(monkeypatch, 1, "main", [*junit, "--project", "octo/one"], url)
    other = open_store(url, readonly=True).runs()[0].run_key
    _collect(monkeypatch, 2, "main", [*junit, "--project", "octo/two", "--baseline", f"run:{other}"], url)
    capsys.readouterr()
    text = _review(capsys, "--history", url, "--project", "octo/two")
    assert "Baseline: none" in text, text.splitlines()[:4]

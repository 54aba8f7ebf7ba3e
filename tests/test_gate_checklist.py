"""The release checklist by default: a new project with no configuration gets the team's five items, a
half-checked run is never GO, and a typo in the configuration is an error, never a switched-off gate."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from healthdeck.reports.cli import EXIT_NO_GO, EXIT_OK, EXIT_USAGE, main
from healthdeck.reports.config import ConfigError, load_config
from healthdeck.reports.gate import FAIL, GO, INCOMPLETE, NO_GO, PASS, UNKNOWN, evaluate
from healthdeck.reports.ordering import natural_key
from healthdeck.reports.render.comment import GITHUB_LIMIT, MARKER

REPO = Path(__file__).resolve().parents[1]
RELEASE = REPO / "tests" / "fixtures" / "release"
DATEUTIL = REPO / "reports" / "samples" / "dateutil"
SHOP = REPO / "tests" / "fixtures" / "openapi" / "shop.yaml"


@pytest.fixture
def empty_project(tmp_path, monkeypatch) -> Path:
    """A folder with no pyproject.toml anywhere above it and no git: nothing configured."""
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    assert load_config().source is None
    return project


def _run(*argv: str) -> int:
    return main(list(argv))


def test_10000_failing_run_is_no_go_everywhere(empty_project, capsys) -> None:
    assert _run("collect", "-q", "--junit", f"smoke={RELEASE / 'many.baseline.junit.xml.gz'}") == EXIT_OK
    assert _run("collect", "--junit", f"smoke={RELEASE / 'many.candidate.junit.xml.gz'}") == EXIT_OK
    collected = capsys.readouterr().out
    assert (
        "verdict: NO-GO by the checklist (fails: smoke pass rate (smoke)" in collected
    )  # collect says it too
    # so does the badge, before the gate: the checklist's word, red, as latest.md and the comment say it
    assert _run("badge") == EXIT_OK
    verdict_badge = empty_project / "docs" / "audits" / "health" / "badge-verdict.json"
    badge = json.loads(verdict_badge.read_text())
    assert (badge["message"], badge["color"]) == ("NO-GO (not gated)", "cf222e")
    capsys.readouterr()
    assert _run("gate") == EXIT_NO_GO
    gate = capsys.readouterr().out
    assert gate.splitlines()[0] == (
        "checklist: the default release checklist (no [tool.healthdeck.gates] table; no [tool.healthdeck] found)"
    )
    assert (
        "FAIL     smoke pass rate (smoke): 1.96 % (threshold 95.00 %) — 200 passed, 10 000 failed, 0 errors"
        in gate
    )
    assert (
        gate.rstrip().splitlines()[-1].startswith("verdict: NO-GO (fails: smoke pass rate (smoke); unknown:")
    )
    out = empty_project / "docs" / "audits" / "health"
    report = json.loads((out / "latest.json").read_text())
    smoke = report["details"]["tests"]["smoke"]
    assert (report["summary"]["verdict"], smoke["failing_total"], len(smoke["failing"])) == (
        NO_GO,
        10_000,
        200,
    )
    md = (out / "latest.md").read_text()
    assert "## Verdict: **NO-GO** — blocks the release" in md
    assert "### Failing tests — smoke: 10 000 failing tests — showing 200" in md
    assert _run("comment", "--output", str(empty_project / "comment.md")) == EXIT_OK
    comment = (empty_project / "comment.md").read_text()
    assert comment.startswith(MARKER + "\n## ❌ Release health: **NO-GO**")
    assert "**10 000 failing tests (9 800 new) — showing 10**" in comment
    listed = [line for line in comment.splitlines() if line.startswith("- `test_many::")]
    assert len(listed) == 10 and all(", new)" in line for line in listed)
    # new first, then by how many tests share the cause, then by name: "value <i> is out of range" with its
    # numbers normalised is one cause of 5 000 tests, like "database unavailable", so the tie goes by name
    names = [line.split("`")[1] for line in listed]
    assert names == sorted(names, key=natural_key) and {
        "database unavailable" in line for line in listed
    } == {True, False}
    assert "- … and 9 990 more failing tests" in comment
    assert len(comment) < GITHUB_LIMIT
    assert (
        "_Compared with commit `" in comment and "run `collect:" in comment
    )  # the stored verdict's baseline
    assert _run("badge") == EXIT_OK
    badge = json.loads((out / "badge-verdict.json").read_text())
    assert (badge["message"], badge["color"]) == ("NO-GO", "cf222e")


def test_only_junit_is_not_go_and_names_the_missing_inputs(empty_project, capsys) -> None:
    assert _run("collect", "-q", "--junit", f"smoke={DATEUTIL / 'smoke.junit.xml.gz'}") == EXIT_OK
    assert _run("badge") == EXIT_OK
    badge = json.loads((empty_project / "docs" / "audits" / "health" / "badge-verdict.json").read_text())
    assert badge["message"] == "INCOMPLETE (not gated)"
    capsys.readouterr()
    assert _run("gate") == EXIT_NO_GO
    gate = capsys.readouterr().out
    assert "PASS     smoke pass rate (smoke): 99.67 %" in gate
    for flag in ("--ruff PATH", "--compileall PATH", "--openapi BASE HEAD"):
        assert flag in gate
    assert gate.rstrip().splitlines()[-1] == (
        "verdict: INCOMPLETE (unknown: ruff findings in prod lanes, compileall failures in prod lanes, "
        "breaking OpenAPI changes) — blocks the release"
    )
    assert _run("comment") == EXIT_OK
    assert "## ⚠️ Release health: **INCOMPLETE**" in capsys.readouterr().out


def _clean_artifacts(folder: Path) -> tuple[Path, Path]:
    """A real ruff JSON run with no findings and a real, empty compileall output."""
    src = folder / "src"
    src.mkdir()
    (src / "ok.py").write_text('"""Fine."""\n\nVALUE = 1\n')
    ruff = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--output-format",
                           "json", str(src)], capture_output=True, text=True, check=True)  # fmt: skip
    (folder / "ruff.json").write_text(ruff.stdout)
    done = subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(src)], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout == ""
    (folder / "compileall.txt").write_text(done.stdout)
    return folder / "ruff.json", folder / "compileall.txt"


def _healthy_inputs(folder: Path) -> list[str]:
    """`collect` arguments for a run every checklist item passes, but the OpenAPI item (dropped)."""
    ruff, compileall = _clean_artifacts(folder)
    return [
        "--junit",
        f"smoke={DATEUTIL / 'smoke.junit.xml.gz'}",
        "--ruff",
        str(ruff),
        "--compileall",
        str(compileall),
    ]


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return done.stdout.strip()


def test_complete_healthy_run_is_go(empty_project, tmp_path, capsys) -> None:
    ruff, compileall = _clean_artifacts(tmp_path)
    head = tmp_path / "head.yaml"
    head.write_text(SHOP.read_text() + "  # unused\n")  # same document ...
    text = SHOP.read_text().replace("components:\n", "  /health:\n    get:\n      responses:\n"
                                    '        "200":\n          description: alive\ncomponents:\n', 1)  # fmt: skip
    head.write_text(text)  # ... plus one path
    assert _run("collect", "-q", "--junit", f"smoke={DATEUTIL / 'smoke.junit.xml.gz'}", "--ruff", str(ruff),
                "--compileall", str(compileall), "--openapi", str(SHOP), str(head)) == EXIT_OK  # fmt: skip
    assert _run("gate") == EXIT_OK
    gate = capsys.readouterr().out
    assert [line.split()[0] for line in gate.splitlines()[2:-1]] == [PASS] * 5
    assert "breaking OpenAPI changes: 0 (threshold 0) — healthdeck; 1 non-breaking" in gate
    assert gate.rstrip().splitlines()[-1] == "verdict: GO"
    assert _run("comment") == EXIT_OK
    assert "## ✅ Release health: **GO**" in capsys.readouterr().out


def test_collect_alone_names_a_failing_checklist_in_every_headline(empty_project, tmp_path, capsys) -> None:
    """Before `gate` runs, a failing item is already NO-GO in the comment and latest.md headings."""
    junit = tmp_path / "smoke.xml"
    junit.write_text('<testsuite name="s"><testcase classname="t" name="ok"/>'
                     '<testcase classname="t" name="bad"><failure message="boom"/></testcase></testsuite>')  # fmt: skip
    assert _run("collect", "--junit", f"smoke={junit}") == EXIT_OK
    capsys.readouterr()
    md = (empty_project / "docs" / "audits" / "health" / "latest.md").read_text()
    assert "## Verdict: **NO-GO** (not gated yet)" in md
    assert _run("comment") == EXIT_OK
    assert "## ❌ Release health: **NO-GO** (not gated yet)" in capsys.readouterr().out
    assert _run("gate") == EXIT_NO_GO  # and the gate agrees
    capsys.readouterr()
    assert _run("comment") == EXIT_OK
    assert "## ❌ Release health: **NO-GO**" in capsys.readouterr().out


def test_collect_alone_never_says_go(empty_project, tmp_path, capsys) -> None:
    ruff, compileall = _clean_artifacts(tmp_path)
    assert _run("collect", "--junit", f"smoke={DATEUTIL / 'smoke.junit.xml.gz'}", "--ruff", str(ruff),
                "--compileall", str(compileall), "--openapi", str(SHOP), str(SHOP)) == EXIT_OK  # fmt: skip
    printed = capsys.readouterr().out
    assert (
        "verdict: not gated yet — no checklist item fails so far; `healthdeck gate` records the verdict"
        in printed
    )
    md = (empty_project / "docs" / "audits" / "health" / "latest.md").read_text()
    assert "## Verdict: not gated yet" in md and "GO" not in md.split("## Tests")[0].replace("not gated", "")
    assert _run("comment") == EXIT_OK
    assert "Release health: not gated yet" in capsys.readouterr().out
    assert _run("badge") == EXIT_OK
    assert (
        json.loads((empty_project / "docs/audits/health/badge-verdict.json").read_text())["message"]
        == "not gated"
    )


def _summary(**kw) -> dict:
    s = {"ts": 1000, "tests": {"unit": {"pass_rate": 0.99, "passed": 99, "failed": 1, "errors": 0}},
         "ruff": {"count": {"total": 0, "lanes": None}}, "compileall": {"failures": 0, "lanes": {}},
         "openapi": {"breaking": 0, "non_breaking": 0, "source": "oasdiff"}}  # fmt: skip
    return {**s, **kw}


def test_smoke_is_the_only_suite_and_says_so() -> None:
    from healthdeck.reports.config import GateConfig

    verdict = evaluate(_summary(), GateConfig(), (), now=1000)
    smoke = verdict["conditions"][0]
    assert (smoke["status"], smoke["description"]) == (PASS, "smoke pass rate (unit)")
    assert "the only suite (no suite named 'smoke')" in smoke["detail"]
    assert verdict["status"] == GO
    two = _summary(tests={"unit": {"pass_rate": 1.0}, "integration": {"pass_rate": 1.0}})
    smoke = evaluate(two, GateConfig(), (), now=1000)["conditions"][0]
    assert smoke["status"] == UNKNOWN and "smoke_suite" in smoke["detail"]


def test_no_prod_lanes_means_the_whole_tree() -> None:
    from healthdeck.reports.config import GateConfig

    verdict = evaluate(_summary(ruff={"count": {"total": 4, "lanes": None}}), GateConfig(), (), now=1000)
    ruff = next(c for c in verdict["conditions"] if c["name"] == "ruff_prod")
    assert (ruff["status"], ruff["actual"], ruff["detail"]) == (
        FAIL,
        4,
        "whole tree (no prod_lanes configured)",
    )


def test_report_current_follows_the_checkout(tmp_path, monkeypatch, capsys) -> None:
    _git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "pyproject.toml").write_text("[tool.healthdeck.gates]\nopenapi_breaking_max = false\n")
    _git(tmp_path, "commit", "-q", "--allow-empty", "-m", "one")
    for var in ("GITHUB_SHA", "CI_COMMIT_SHA", "GITHUB_REF_NAME", "GITHUB_HEAD_REF"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    inputs = _healthy_inputs(tmp_path)
    assert _run("collect", "-q", *inputs) == EXIT_OK
    assert _run("gate") == EXIT_OK
    assert "PASS     health report is current" in capsys.readouterr().out
    (tmp_path / "code.py").write_text("x = 1\n")
    _git(tmp_path, "add", "code.py")
    _git(tmp_path, "commit", "-q", "-m", "two")
    assert _run("gate", "--no-write") == EXIT_NO_GO
    printed = capsys.readouterr().out
    assert (
        "FAIL     health report is current" in printed
        and "another commit than the one checked out" in printed
    )
    # the report made at "two", then committed (for `--baseline git:REF`): the code is the report's
    assert _run("collect", "-q", *inputs) == EXIT_OK
    _git(tmp_path, "add", "-f", "docs/audits/health/latest.json", "docs/audits/health/latest.md")
    _git(tmp_path, "commit", "-q", "-m", "the health report")
    assert _run("gate", "--no-write") == EXIT_OK
    assert "the commits since change only the report's folder" in capsys.readouterr().out
    (tmp_path / "code.py").write_text("x = 2\n")  # and one more that changes code: stale again
    _git(tmp_path, "commit", "-q", "-am", "three")
    assert _run("gate", "--no-write") == EXIT_NO_GO


def test_nothing_evaluated_is_never_go(tmp_path, capsys) -> None:
    config = tmp_path / "pyproject.toml"
    config.write_text("[tool.healthdeck.gates]\nsmoke_pass_rate_min = false\nruff_prod_max = false\n"
                      "compileall_prod_max = false\nreport_current = false\nopenapi_breaking_max = false\n"
                      "unknown_blocks = false\n")  # fmt: skip
    out = tmp_path / "out"
    assert _run("collect", "-q", "--config", str(config), "--out", str(out), "--junit",
                f"smoke={DATEUTIL / 'smoke.junit.xml.gz'}") == EXIT_OK  # fmt: skip
    assert _run("gate", "--config", str(config), "--report", str(out / "latest.json")) == EXIT_NO_GO
    printed = capsys.readouterr().out
    assert "every item is dropped" in printed and printed.rstrip().endswith("blocks the release")
    from healthdeck.reports.config import GateConfig

    only_unknown = evaluate({}, GateConfig(unknown_blocks=False), (), now=1)
    assert (only_unknown["status"], only_unknown["blocks"]) == (INCOMPLETE, True)  # no evidence at all


@pytest.mark.parametrize(
    "toml, message",
    [
        ("[tool.healthdeck.gate]\nruff_prod_max = 0\n", "unknown table [tool.healthdeck.gate]; did you mean [tool.healthdeck.gates]?"),
        ("[tool.healthdeck]\ngate = {ruff_prod_max = 0}\n", "did you mean [tool.healthdeck.gates]?"),
        ("[tool.healthdeck]\nprod_lane = ['core']\n", "unknown key 'prod_lane'; did you mean 'prod_lanes'?"),
        ("[tool.healthdeck.gates]\ncoverage_mn = 80\n", "unknown key 'coverage_mn'; did you mean 'coverage_min'?"),
        ("[tool.healthdeck.guardian]\nprometheus = 'http://x'\n", "did you mean 'prometheus_url'?"),
        ("[tool.healthdeck.gates]\ncoverage_min = 0.8\n", "coverage thresholds are percent, not fractions; for 80 % write 80"),
        ("[tool.healthdeck.gates]\ncoverage_min = 150\n", "coverage_min must be a percentage from 0 to 100, not 150"),
        ("[tool.healthdeck.gates]\npass_rate_min = {smoke = 95}\n", "pass rates are fractions between 0 and 1; for 95 % write 0.95"),
        ("[tool.healthdeck.badge_thresholds]\ncoverage = [0.9, 0.8]\n", "for 90 % write 90"),
        ("[tool.healthdeck.badge_thresholds]\ncoverage = [10, 90]\n", "the green bound comes first and is not below the yellow one"),
        ("[tool.healthdeck]\nprod_lanes = ['core']\n", "prod_lanes names lanes that [tool.healthdeck.lanes] does not define: core"),
        ("[tool.healthdek.gates]\ncoverage_min = 80\n", "[tool.healthdek] is not read; did you mean [tool.healthdeck]?"),
        ("[tools.healthdeck.gates]\ncoverage_min = 80\n", "[tools.healthdeck] is not read; did you mean [tool.healthdeck]?"),
        ("[tool.health-deck]\nprod_lanes = []\n", "[tool.health-deck] is not read"),
        ("[tool.healthdeck.gates]\nopenapi_breaking_max = 0.5\n", "openapi_breaking_max = 0.5: it counts findings, files or changes; write a whole number"),
    ],
)  # fmt: skip
def test_config_mistakes_are_errors_with_a_suggestion(tmp_path, capsys, toml, message) -> None:
    (tmp_path / "pyproject.toml").write_text(toml)
    with pytest.raises(ConfigError, match=None) as exc:
        load_config(tmp_path / "pyproject.toml")
    assert message in str(exc.value)
    report = tmp_path / "latest.json"
    assert _run("gate", "--config", str(tmp_path / "pyproject.toml"), "--report", str(report)) == EXIT_USAGE
    assert message in capsys.readouterr().err


def test_checklist_description_names_drops_changes_and_additions(tmp_path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.healthdeck.gates]\nruff_prod_max = 0\ncompileall_prod_max = 2\n"
                                             "openapi_breaking_max = false\nguardian_new_in_strict_max = 0\n")  # fmt: skip
    assert (
        load_config(tmp_path / "pyproject.toml")
        .gates.describe()
        .endswith(
            "(dropped: openapi_breaking_max; changed: compileall_prod_max = 2; added: guardian_new_in_strict_max)"
        )
    )


def test_empty_gates_table_is_the_default_checklist(tmp_path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.healthdeck.gates]\n")
    gates = load_config(tmp_path / "pyproject.toml").gates
    assert gates.describe().endswith("(unchanged)")
    assert (gates.smoke_pass_rate_min, gates.ruff_prod_max, gates.compileall_prod_max, gates.report_current,
            gates.openapi_breaking_max) == (0.95, 0, 0, True, 0)  # fmt: skip


def test_gate_junit_lists_every_item(empty_project) -> None:
    assert _run("collect", "-q", "--junit", f"smoke={DATEUTIL / 'smoke.junit.xml.gz'}") == EXIT_OK
    assert _run("gate", "--junit-xml", "gate.xml") == EXIT_NO_GO
    names = [c.get("name") for c in etree.parse(str(empty_project / "gate.xml")).iter("testcase")]
    assert names == ["smoke_pass_rate", "ruff_prod", "compileall_prod", "report_current", "openapi_breaking"]


@pytest.mark.parametrize("unknown_blocks", [True, False])
def test_annotations_and_the_gates_junit_agree_on_what_blocks(unknown_blocks: bool) -> None:
    from healthdeck.reports.commands.comment import annotations
    from healthdeck.reports.gate import junit_xml

    conditions = [
        {"name": "smoke_pass_rate", "description": "smoke pass rate (smoke)", "status": "FAIL", "actual": 0.5,
         "threshold": 0.95, "detail": "1 passed, 1 failed, 0 errors", "unit": "fraction"},
        {"name": "openapi_breaking", "description": "breaking OpenAPI changes", "status": "UNKNOWN", "actual": None,
         "threshold": 0, "detail": "no OpenAPI input", "unit": "count"},
        {"name": "ruff_prod", "description": "ruff findings in prod lanes", "status": "PASS", "actual": 0,
         "threshold": 0, "detail": "", "unit": "count"},
    ]  # fmt: skip
    verdict = {"status": "NO-GO", "conditions": conditions, "unknown_blocks": unknown_blocks}
    lines = annotations({"details": {"verdict": verdict}})
    assert [line.split(" title=")[0] for line in lines] == [
        "::error",
        "::error" if unknown_blocks else "::warning",
    ]
    assert (
        "50.00 %25 vs threshold 95.00 %25" in lines[0]
    )  # % escaped as workflow commands need and "— vs threshold 0" in lines[1]
    xml = junit_xml(verdict)
    assert "None" not in xml and "actual" not in xml
    assert 'message="breaking OpenAPI changes: — vs threshold 0. no OpenAPI input"' in xml


def test_a_pull_request_run_is_current_on_its_merge_commit(tmp_path, monkeypatch, capsys) -> None:
    """GitHub checks out and tests the merge commit of a pull request, while the run is keyed by the PR
    head: the report made in that job is current for that checkout, and for nothing else."""

    def git(*args: str) -> str:
        return _git(tmp_path, *args)

    git("init", "-q", "-b", "main")
    (tmp_path / "pyproject.toml").write_text("[tool.healthdeck.gates]\nopenapi_breaking_max = false\n")
    git("add", "pyproject.toml")
    git("commit", "-q", "-m", "base")
    git("checkout", "-q", "-b", "feature")
    (tmp_path / "feature.py").write_text("")
    git("add", "feature.py")
    git("commit", "-q", "-m", "feature")
    head = git("rev-parse", "HEAD")
    git("checkout", "-q", "main")
    (tmp_path / "main.py").write_text("")
    git("add", "main.py")
    git("commit", "-q", "-m", "main moved on")
    git("merge", "-q", "--no-ff", "-m", "merge", "feature")
    merge = git("rev-parse", "HEAD")
    git("checkout", "-q", "--detach", merge)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7, "head": {"sha": head, "ref": "feature"}}}))
    for var in ("CI_COMMIT_SHA", "GITHUB_REF_NAME", "GITHUB_HEAD_REF"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GITHUB_EVENT_NAME", "pull_request")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    monkeypatch.setenv("GITHUB_SHA", merge)
    monkeypatch.chdir(tmp_path)
    assert _run("collect", "-q", *_healthy_inputs(tmp_path)) == EXIT_OK
    report = json.loads((tmp_path / "docs/audits/health/latest.json").read_text())
    assert (report["summary"]["git_sha_full"], report["summary"]["merge_sha"]) == (head, merge)
    assert _run("gate", "--no-write") == EXIT_OK
    printed = capsys.readouterr().out
    # named by the head, as the run is everywhere else, with the merge commit the checkout matched
    assert (
        f"PASS     health report is current: {head[:8]} (merge {merge[:8]}) (checked out {merge[:8]})"
        in printed
    )
    assert f"head {head[:8]}" in printed
    git("checkout", "-q", head)  # the PR head itself, the commit the run is keyed by: current too
    assert _run("gate", "--no-write") == EXIT_OK
    git("checkout", "-q", "main~1")
    assert _run("gate", "--no-write") == EXIT_NO_GO


@pytest.mark.parametrize(
    "tests, reason",
    [
        ("", "the suite holds no tests; check the test path or selection"),
        ("import pytest\n\n@pytest.mark.skip\ndef test_a():\n    pass\n", "no test ran (every test skipped or xfailed)"),
    ],
)  # fmt: skip
def test_an_empty_suite_is_told_from_an_all_skipped_one(tmp_path, capsys, tests, reason) -> None:
    """Real pytest runs: one that collected nothing (exit 5), one whose only test is skipped."""
    import subprocess
    import sys

    (tmp_path / "t").mkdir()
    if tests:
        (tmp_path / "t" / "test_a.py").write_text(tests)
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "t"),
                    f"--junitxml={tmp_path / 'smoke.xml'}"], cwd=tmp_path, capture_output=True, check=False)  # fmt: skip
    out = tmp_path / "out"
    assert (
        _run("collect", "-q", "--no-history", "--out", str(out), "--junit", f"smoke={tmp_path / 'smoke.xml'}")
        == 0
    )
    capsys.readouterr()
    assert _run("gate", "--report", str(out / "latest.json"), "--no-write") == EXIT_NO_GO
    [line] = [x for x in capsys.readouterr().out.splitlines() if x.startswith("UNKNOWN  smoke pass rate")]
    assert reason in line


def test_report_current_asks_git_only_about_commit_ids_and_the_report_files(
    tmp_path, monkeypatch, capsys
) -> None:
    """A report's commit comes from the report (or a shared store): one that is no commit id is never
    handed to git (`--output=FILE` made git truncate FILE). With the report at the project root, a
    commit that changes code is no "report only" commit."""
    _git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.healthdeck]\nout = "."\n[tool.healthdeck.gates]\nopenapi_breaking_max = false\n'
    )
    (tmp_path / "code.py").write_text("x = 1\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "one")
    for var in ("GITHUB_SHA", "CI_COMMIT_SHA", "GITHUB_REF_NAME", "GITHUB_HEAD_REF"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    assert _run("collect", "-q", *_healthy_inputs(tmp_path)) == EXIT_OK
    (tmp_path / "code.py").write_text("x = 2\n")
    _git(tmp_path, "commit", "-q", "-am", "code, with the report at the root")
    assert _run("gate", "--no-write") == EXIT_NO_GO
    assert "FAIL     health report is current" in capsys.readouterr().out
    precious = tmp_path / "precious.txt"
    precious.write_text("kept\n")
    report = json.loads((tmp_path / "latest.json").read_text())
    report["summary"]["git_sha_full"] = f"--output={precious}"
    (tmp_path / "latest.json").write_text(json.dumps(report))
    assert _run("gate", "--no-write") in (EXIT_NO_GO, 3)
    assert precious.read_text() == "kept\n"

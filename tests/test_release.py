"""The gate, the PR comment and the badges, through the CLI as CI calls them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from healthdeck.collectors.junit import collect_junit
from healthdeck.reports.cli import EXIT_NO_GO, EXIT_OK, main
from healthdeck.reports.config import GateConfig
from healthdeck.reports.gate import FAIL, GO, INCOMPLETE, NO_GO, PASS, UNKNOWN, evaluate
from healthdeck.reports.history.baselines import NewFailures
from healthdeck.reports.render.comment import GITHUB_LIMIT, MARKER, render_comment
from tests.conftest import EDGE, REAL

REPO = Path(__file__).resolve().parents[1]
DATEUTIL = REPO / "reports" / "samples" / "dateutil"
GUARDIAN = REPO / "reports" / "samples" / "guardian"

CONFIG = """
[tool.healthdeck]
prod_lanes = ["tz", "parser"]
[tool.healthdeck.lanes]
tz = ["src/dateutil/tz/"]
parser = ["src/dateutil/parser/"]
[tool.healthdeck.gates]
{gates}
"""


@pytest.fixture
def project(tmp_path):
    def make(gates: str) -> Path:
        (tmp_path / "pyproject.toml").write_text(CONFIG.format(gates=gates))
        return tmp_path / "pyproject.toml"

    return make


def _collect(config: Path, out: Path, *inputs: str) -> None:
    assert main(["collect", "-q", "--config", str(config), "--out", str(out), *inputs]) == EXIT_OK


SAMPLE = [
    "--junit", f"smoke={DATEUTIL / 'smoke.junit.xml.gz'}", "--coverage", str(DATEUTIL / "coverage.xml.gz"),
    "--ruff", str(DATEUTIL / "ruff.json.gz"), "--compileall", str(DATEUTIL / "compileall.txt"),
]  # fmt: skip


def _summary(**overrides) -> dict:
    summary = {"ts": 1000, "tests": {"smoke": {"pass_rate": 0.97}}, "coverage": {"percent": 81.0},
               "ruff": {"count": {"total": 3, "lanes": {"core": 0, "api": 3}}}, "compileall": {"failures": 0,
               "lanes": {"core": 0, "api": 0}}, "guardian": None}  # fmt: skip
    summary.update(overrides)
    return summary


def test_new_failures_unknown_names_why() -> None:
    """The reason an undecidable "no new failures" gives names the suite the baseline did not run, or
    says that the baseline's list was cut."""
    only = GateConfig(smoke_pass_rate_min=None, ruff_prod_max=None, compileall_prod_max=None,
                      report_current=False, openapi_breaking_max=None, no_new_failures=True)  # fmt: skip
    tests = {"smoke": {"pass_rate": 1.0, "failed": 0}, "unit": {"pass_rate": 0.9, "failed": 2}}
    absent = evaluate(_summary(tests=tests), only, (), baseline={"tests": {"smoke": {}}}, now=1000)
    [condition] = absent["conditions"]
    assert condition["status"] == "UNKNOWN" and condition["detail"].endswith(": unit did not run there")
    cut = evaluate(_summary(tests=tests), only, (), baseline={"tests": {"smoke": {}, "unit": {}}}, now=1000)
    assert cut["conditions"][0]["detail"].endswith("its list of failing tests was cut (max_failing_listed)")


def test_each_condition_pass_fail_unknown() -> None:
    gates = GateConfig(ruff_prod_max=0, compileall_prod_max=0, pass_rate_min={"smoke": 0.95, "unit": 0.9},
                       coverage_min=80, coverage_drop_max=1.0, max_age_hours=24, no_new_failures=True,
                       guardian_new_in_strict_max=0)  # fmt: skip
    verdict = evaluate(_summary(), gates, ("core", "api"), baseline={"coverage": {"percent": 83.0}},
                       new_failures=NewFailures(0, [], True), now=1000 + 3600)  # fmt: skip
    status = {c["name"]: c["status"] for c in verdict["conditions"]}
    assert status == {
        "smoke_pass_rate": PASS, "pass_rate.unit": UNKNOWN, "ruff_prod": FAIL, "compileall_prod": PASS,
        "report_current": PASS, "openapi_breaking": UNKNOWN, "coverage_min": PASS, "coverage_drop": FAIL,
        "no_new_failures": PASS, "guardian_new_in_strict": UNKNOWN,
    }  # fmt: skip
    assert verdict["status"] == NO_GO and verdict["blocks"]
    drop = next(c for c in verdict["conditions"] if c["name"] == "coverage_drop")
    assert drop["actual"] == pytest.approx(2.0) and drop["threshold"] == 1.0
    api = next(c for c in verdict["conditions"] if c["name"] == "openapi_breaking")
    assert "--openapi BASE HEAD" in api["detail"] and "--openapi-report" in api["detail"]


def test_unknown_blocks_or_not() -> None:
    summary = _summary(coverage=None, openapi={"breaking": 0, "non_breaking": 1, "source": "oasdiff"})
    only = {"ruff_prod_max": None, "compileall_prod_max": None}
    unknown = GateConfig(**only, pass_rate_min={"smoke": 0.9}, coverage_min=50, unknown_blocks=True)
    verdict = evaluate(summary, unknown, (), now=1000)
    assert (verdict["status"], verdict["blocks"]) == (INCOMPLETE, True)
    relaxed = GateConfig(**only, pass_rate_min={"smoke": 0.9}, coverage_min=50, unknown_blocks=False)
    verdict = evaluate(summary, relaxed, (), now=1000)
    assert (verdict["status"], verdict["blocks"]) == (INCOMPLETE, False)
    assert evaluate(summary, GateConfig(**only, pass_rate_min={"smoke": 0.9}), (), now=1000)["status"] == GO


def test_ruff_statistics_cannot_answer_a_lane_question() -> None:
    verdict = evaluate(_summary(ruff={"count": {"total": 3, "lanes": None}}), GateConfig(), ("core",))
    [condition] = [c for c in verdict["conditions"] if c["name"] == "ruff_prod"]
    assert condition["status"] == UNKNOWN and "--output-format json" in condition["detail"]


def test_gate_cli_exit_codes_junit_and_stored_verdict(project, tmp_path, capsys) -> None:
    config = project("pass_rate_min = { smoke = 0.95 }\ncoverage_min = 85\nno_new_failures = true\n"
                     "ruff_prod_max = false\ncompileall_prod_max = false\nopenapi_breaking_max = false")  # fmt: skip
    out = tmp_path / "out"
    _collect(
        config,
        out,
        "--junit",
        f"smoke={EDGE / 'xunit2.xml'}",
        "--coverage",
        str(DATEUTIL / "coverage.xml.gz"),
    )
    capsys.readouterr()
    code = main(["gate", "--config", str(config), "--report", str(out / "latest.json"), "--junit-xml",
                 str(tmp_path / "gate.xml")])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == EXIT_NO_GO
    assert printed.startswith(f"checklist: the default release checklist as adjusted by [tool.healthdeck.gates] in {config} "
                              "(dropped: ruff_prod_max, compileall_prod_max, openapi_breaking_max; added: pass_rate_min, "
                              "coverage_min, no_new_failures)\n")  # fmt: skip
    assert (
        "FAIL     smoke pass rate (smoke): 35.71 % (threshold 95.00 %) — 5 passed, 6 failed, 3 errors"
        in printed
    )
    assert "UNKNOWN  new failing tests vs baseline: — (threshold 0) — no run to compare with" in printed
    assert printed.rstrip().endswith("blocks the release")
    junit = collect_junit([tmp_path / "gate.xml"])  # our own collector reads the gate's JUnit
    assert (junit.counts.total, junit.counts.failed, junit.counts.errors) == (4, 1, 1)
    report = json.loads((out / "latest.json").read_text())
    assert report["summary"]["verdict"] == NO_GO
    assert "## Verdict: **NO-GO**" in (out / "latest.md").read_text()
    assert (
        main(["history", "show", "--config", str(config), "--history", f"sqlite:///{out / 'history.sqlite'}"])
        == 0
    )
    assert "NO-GO" in capsys.readouterr().out

    _collect(config, out, *SAMPLE)  # every dateutil failure is new against the edge-case run: no-go
    assert main(["gate", "--config", str(config), "--report", str(out / "latest.json")]) == EXIT_NO_GO
    assert "FAIL     new failing tests vs baseline: 2 (threshold 0)" in capsys.readouterr().out
    _collect(config, out, *SAMPLE)  # the same failures again: known, so go
    assert main(["gate", "--config", str(config), "--report", str(out / "latest.json")]) == EXIT_OK
    assert capsys.readouterr().out.rstrip().endswith("verdict: GO")


def test_comment_new_first_flaky_marked_and_deltas(project, tmp_path, capsys) -> None:
    config = project("no_new_failures = true")
    out = tmp_path / "out"
    # test_flaky passed on a rerun in the first run and fails in the second: a new failure, known flaky
    _collect(config, out, "--junit", f"smoke={EDGE / 'reruns.xml'}")
    _collect(config, out, "--junit", f"smoke={EDGE / 'xunit2.xml'}",
             "--guardian-permissive", str(GUARDIAN / "permissive.jsonl.gz"),
             "--guardian-strict", str(GUARDIAN / "strict.jsonl.gz"))  # fmt: skip
    capsys.readouterr()
    assert main(["gate", "--config", str(config), "--report", str(out / "latest.json")]) == EXIT_NO_GO
    capsys.readouterr()
    assert (
        main(["comment", "--config", str(config), "--report", str(out / "latest.json"), "--annotations"]) == 0
    )
    text = capsys.readouterr().out
    assert text.startswith(MARKER + "\n## ❌ Release health: **NO-GO**")
    assert "(-7.14 pts vs base)" in text  # 6/14 -> 5/14
    assert "1 882 → 751" in text
    lines = [line for line in text.splitlines() if line.startswith("- `")]
    assert lines[0].startswith(
        "- `test_edge::test_flaky` (smoke, failed, new, flaky): AssertionError: attempt 0"
    )
    assert all(", new" not in line for line in lines[1:])  # new first, then the known ones
    assert "::error title=healthdeck gate no_new_failures::" in text
    why = next(line for line in text.splitlines() if line.startswith("| new failing tests vs baseline"))
    assert why.endswith("| marked **new** in the failing tests below |")  # named once, in the list
    assert not text.splitlines()[1].endswith(" ")  # no git here: no branch or commit after the verdict
    assert f"_Full report: `{(out / 'latest.md').as_posix()}` in the CI artifacts._" in text  # the one read


def _failures(n: int, name: str = "test_{i}") -> list[dict]:
    return [{"suite": "smoke", "test_id": f"tests.test_mod::{name.format(i=i)}", "outcome": "failed",
             "message": "AssertionError: " + "x" * 500, "status": "new" if i % 3 else "known", "flaky": i % 7 == 0}
            for i in range(n)]  # fmt: skip


def test_comment_stays_under_the_limit_with_10000_failures() -> None:
    summary = {"branch": "main", "git_sha": "abcdef12", "tests": {"smoke": {"pass_rate": 0.5, "passed": 10000,
               "failed": 10000, "errors": 0, "flaky": 0}}}  # fmt: skip
    long_names = _failures(10_000, name="test_{i}_" + "really_long_parametrised_name_" * 30)
    text = render_comment(summary, {}, verdict=None, baseline=None, failures=long_names, smoke_suite="smoke",
                          prod_lanes=(), limit=GITHUB_LIMIT)  # fmt: skip
    assert len(text) <= GITHUB_LIMIT
    assert "… and 9 990 more failing tests" in text
    tight = render_comment(summary, {}, verdict=None, baseline=None, failures=long_names, smoke_suite="smoke",
                           prod_lanes=(), limit=3_000)  # fmt: skip
    assert len(tight) <= 3_000 and tight.startswith(MARKER)


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        "@security-team please look",
        "a | b | c",
        "```\ncode",
        "[x](https://evil)",
        "`x` `` y",
        "<img src=x onerror=alert(1)>",
    ],
)
def test_test_names_cannot_inject(hostile: str) -> None:
    failures = [{"suite": "smoke", "test_id": hostile, "outcome": "failed", "message": hostile, "status": "new",
                 "flaky": False}]  # fmt: skip
    text = render_comment({"tests": None}, {}, verdict=None, baseline=None, failures=failures, smoke_suite="smoke",
                          prod_lanes=())  # fmt: skip
    line = next(line for line in text.splitlines() if line.startswith("- "))
    code_span, _, message = line[2:].partition(" (smoke, failed, new): ")
    fence = code_span[: len(code_span) - len(code_span.lstrip("`"))]
    assert fence and code_span.endswith(fence) and fence not in code_span[len(fence) : -len(fence)]
    for bad in ("<script", "<img", "@security", "](", "```"):
        assert bad not in message.replace("\\`", "").replace("\\]", "")
    assert "\n" not in code_span


def test_step_summary_appends(project, tmp_path, monkeypatch) -> None:
    config = project("")
    out = tmp_path / "out"
    _collect(config, out, *SAMPLE)
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert (
        main(
            [
                "comment",
                "--config",
                str(config),
                "--report",
                str(out / "latest.json"),
                "--github-step-summary",
            ]
        )
        == 0
    )
    text = summary.read_text()
    assert text.startswith("earlier step\n" + MARKER)


def test_badges(project, tmp_path) -> None:
    config = project("ruff_prod_max = false\nopenapi_breaking_max = false")
    out = tmp_path / "out"
    _collect(config, out, *SAMPLE)
    assert main(["gate", "--config", str(config), "--report", str(out / "latest.json")]) == EXIT_OK
    assert main(["badge", "--config", str(config), "--report", str(out / "latest.json")]) == EXIT_OK
    for name, message, color in (("smoke", "99.67%", "2da44e"), ("coverage", "90.42%", "2da44e"),
                                 ("verdict", "GO", "2da44e")):  # fmt: skip
        endpoint = json.loads((out / f"badge-{name}.json").read_text())
        assert (endpoint["schemaVersion"], endpoint["message"], endpoint["color"]) == (1, message, color)
        svg = etree.fromstring((out / f"badge-{name}.svg").read_bytes())
        assert svg.tag == "{http://www.w3.org/2000/svg}svg" and message in "".join(svg.itertext())


def test_badge_colours_follow_thresholds(tmp_path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.healthdeck.badge_thresholds]\ncoverage = [95, 91]\n")
    out = tmp_path / "out"
    assert main(["collect", "-q", "--config", str(tmp_path / "pyproject.toml"), "--out", str(out), "--coverage",
                 str(REAL / "packaging.coverage.xml.gz")]) == 0  # fmt: skip
    assert (
        main(["badge", "--config", str(tmp_path / "pyproject.toml"), "--report", str(out / "latest.json")])
        == 0
    )
    assert json.loads((out / "badge-coverage.json").read_text())["color"] == "cf222e"  # 84.19 < 91: red
    assert json.loads((out / "badge-smoke.json").read_text())["message"] == "unknown"


def test_report_errors(tmp_path, capsys) -> None:
    (tmp_path / "bad.json").write_text("{}")
    assert (
        main(["gate", "--report", str(tmp_path / "bad.json"), "--history", f"sqlite:///{tmp_path}/h.sqlite"])
        == 3
    )
    assert "not a healthdeck report" in capsys.readouterr().err
    assert (
        main(["gate", "--report", str(tmp_path / "none.json"), "--history", f"sqlite:///{tmp_path}/h.sqlite"])
        == 3
    )
    assert main(["gate", "--baseline", "nonsense", "--report", str(tmp_path / "bad.json"),
                 "--history", f"sqlite:///{tmp_path}/h.sqlite"]) in (2, 3)  # fmt: skip


def test_a_kilobyte_test_id_is_shortened_in_the_comment() -> None:
    long_id = "tests.test_mod::test_case[" + "x" * 2000 + "]"
    failures = [{"suite": "smoke", "test_id": long_id, "outcome": "failed", "message": "boom", "status": "new",
                 "flaky": False}]  # fmt: skip
    text = render_comment({"tests": None}, {}, verdict=None, baseline=None, failures=failures, smoke_suite="smoke",
                          prod_lanes=())  # fmt: skip
    line = next(line for line in text.splitlines() if line.startswith("- "))
    assert line.startswith("- `tests.test_mod::test_case[xxx") and "…` (smoke, failed, new): boom" in line
    assert len(line) < 400


def test_the_gate_names_its_baseline_and_warns_when_it_is_not_collects(project, tmp_path, capsys) -> None:
    """One report, one baseline: `gate --baseline` naming another run than collect's would mix two runs
    in one comment (its "new" marks against one, its new/fixed lists against the other); it says so."""
    config = project("ruff_prod_max = false\nopenapi_breaking_max = false")
    out = tmp_path / "out"
    keys = []
    for _ in range(3):
        _collect(config, out, *SAMPLE)
        keys.append(json.loads((out / "latest.json").read_text())["summary"]["run_key"])
    report = str(out / "latest.json")
    capsys.readouterr()
    main(["gate", "--config", str(config), "--report", report, "--no-write"])
    printed = capsys.readouterr()
    assert f"\nbaseline: run {keys[1]} · " in printed.out and "warning" not in printed.err
    main(["gate", "--config", str(config), "--report", report, "--no-write", "--baseline", f"run:{keys[0]}"])
    printed = capsys.readouterr()
    assert f"\nbaseline: run {keys[0]} · " in printed.out and f"(run:{keys[0]})" in printed.out
    assert f"lists compare with run {keys[1]} (collect's baseline), this gate with {keys[0]}" in printed.err


def test_a_gate_never_puts_back_an_older_run_over_a_newer_collect(project, tmp_path, capsys) -> None:
    """A gate reads run 1; before it stores its verdict, a collect writes run 2 into the same folder. The
    gate records run 1's verdict in the history and leaves the folder to run 2 (it used to write run 1
    back over it). The moment is staged: run 1's latest.json beside run 2's latest.md is what the gate
    finds under the folder lock when a collect finished between its read and its write."""
    config = project("ruff_prod_max = false\nopenapi_breaking_max = false")
    out = tmp_path / "out"
    _collect(config, out, *SAMPLE)
    first = (out / "latest.json").read_text()
    _collect(config, out, *SAMPLE)
    second_md = (out / "latest.md").read_text()
    second_key = json.loads((out / "latest.json").read_text())["summary"]["run_key"]
    (out / "latest.json").write_text(first)  # what the gate read
    capsys.readouterr()
    assert main(["gate", "--config", str(config), "--report", str(out / "latest.json")]) == EXIT_OK
    assert f"now holds run {second_key} (a collect that finished meanwhile)" in capsys.readouterr().err
    assert (out / "latest.md").read_text() == second_md and (out / "latest.json").read_text() == first


def test_a_baseline_collect_did_not_find_is_not_replaced_by_another_run(project, tmp_path, capsys) -> None:
    """collect asked for branch:main and found none: the gate (no --baseline) asks for the same and says
    so, instead of falling back to `previous` and comparing with a run the report's lists do not."""
    config = project("ruff_prod_max = false\nopenapi_breaking_max = false")
    out = tmp_path / "out"
    _collect(config, out, *SAMPLE)  # an earlier run: what `previous` would find
    _collect(config, out, *SAMPLE, "--baseline", "branch:no-such-branch")
    capsys.readouterr()
    main(["gate", "--config", str(config), "--report", str(out / "latest.json"), "--no-write"])
    assert (
        "\nbaseline: none (branch:no-such-branch): no run to compare with (no checklist item needs one"
        in (capsys.readouterr().out)
    )  # this checklist has no baseline item: nothing is UNKNOWN for want of one


def test_the_baseline_line_says_unknown_only_where_an_item_needs_a_baseline() -> None:
    from healthdeck.reports.commands.gate import baseline_text
    from healthdeck.reports.config import GateConfig

    needs, alone = GateConfig(no_new_failures=True).baseline_keys(), GateConfig().baseline_keys()
    assert needs == ["no_new_failures"] and alone == []  # the default checklist has no baseline item
    assert baseline_text(None, "previous", bool(needs)).endswith(
        "so the conditions against a baseline are UNKNOWN"
    )
    assert "no checklist item needs one" in baseline_text(None, "previous", bool(alone))


def test_a_baseline_run_key_the_history_lacks_is_said_not_taken_for_a_first_run(
    project, tmp_path, capsys
) -> None:
    """`--baseline run:KEY` names one run exactly: a typo or another store's key is said as such by gate
    and comment, not reported as an ordinary 'no run to compare with'."""
    config = project("ruff_prod_max = false\nopenapi_breaking_max = false\nno_new_failures = true")
    out = tmp_path / "out"
    _collect(config, out, *SAMPLE)
    capsys.readouterr()
    r = ["--config", str(config), "--report", str(out / "latest.json"), "--baseline", "run:no-such-key"]
    main(["gate", *r, "--no-write"])
    assert (
        "\nbaseline: none (run:no-such-key): the history has no run no-such-key (`healthdeck history show` lists "
        "the stored runs), so the conditions against a baseline are UNKNOWN\n" in capsys.readouterr().out
    )
    assert main(["comment", *r]) == EXIT_OK
    assert (
        "healthdeck: warning: baseline run:no-such-key: the history has no run no-such-key; the comment shows no "
        "changes" in capsys.readouterr().err
    )


def test_a_go_above_new_failures_says_the_checklist_does_not_gate_them() -> None:
    """The default checklist holds the smoke pass rate, not "no new failures": a GO over new failures says
    so under the headline, and names the setting; a checklist that gates them needs no such line."""
    summary = {"branch": "feature", "git_sha": "abcdef12", "missing": [],
               "tests": {"smoke": {"pass_rate": 0.99, "passed": 396, "failed": 4, "errors": 0, "flaky": 0}}}  # fmt: skip
    smoke = {"name": "smoke_pass_rate", "label": "smoke pass rate (smoke)", "status": "PASS", "actual": 0.99,
             "threshold": 0.95, "unit": "fraction", "detail": ""}  # fmt: skip
    go = {
        "status": "GO",
        "blocks": False,
        "conditions": [smoke],
        "checklist": "the default release checklist",
    }
    failures = [{**f, "status": "new"} for f in _failures(4)]
    text = render_comment(
        summary, {}, verdict=go, baseline={}, failures=failures, smoke_suite="smoke", prod_lanes=()
    )
    assert text.startswith(MARKER + "\n## ✅ Release health: **GO**")
    assert (
        "> ⚠️ **4 new failing tests** against the baseline: this checklist does not gate new failures" in text
    )
    gated = {**go, "conditions": [smoke, {**smoke, "name": "no_new_failures", "label": "new failing tests vs baseline",
                                          "actual": 0, "threshold": 0, "unit": "count"}]}  # fmt: skip
    known = [{**f, "status": "known"} for f in _failures(4)]
    for verdict, listed in ((gated, failures), (go, known)):
        text = render_comment(summary, {}, verdict=verdict, baseline={}, failures=listed, smoke_suite="smoke",
                              prod_lanes=())  # fmt: skip
        assert "does not gate new failures" not in text


def test_the_gate_log_and_latest_md_warn_of_new_failures_under_a_go(project, tmp_path, capsys) -> None:
    """The warning the comment gives a GO over new failures is in the gate's log and latest.md too: a
    reviewer reading either sees it."""
    config = project("ruff_prod_max = false\ncompileall_prod_max = false\nopenapi_breaking_max = false\n"
                     "report_current = false")  # fmt: skip
    out = tmp_path / "out"

    def junit(failing: int) -> str:
        path = tmp_path / f"junit{failing}.xml"
        cases = "".join(f'<testcase classname="t" name="t{i}">' + ("<failure message='boom'/>" if i < failing else "")
                        + "</testcase>" for i in range(100))  # fmt: skip
        path.write_text(f"<testsuites><testsuite name='pytest'>{cases}</testsuite></testsuites>")
        return f"smoke={path}"

    _collect(config, out, "--junit", junit(0))
    _collect(config, out, "--junit", junit(2))  # 98 %: the smoke pass rate holds
    capsys.readouterr()
    assert main(["gate", "--config", str(config), "--report", str(out / "latest.json")]) == EXIT_OK
    printed = capsys.readouterr().out.splitlines()
    assert printed[-2] == "verdict: GO"
    assert printed[-1] == ("warning: 2 new failing tests against the baseline: this checklist does not gate new "
                           "failures (`no_new_failures = true` in `[tool.healthdeck.gates]` would)")  # fmt: skip
    md = (out / "latest.md").read_text()
    assert "## Verdict: **GO**\n\n> ⚠️ 2 new failing tests against the baseline: this checklist does not" in md


def test_a_collection_error_is_said_to_leave_tests_out_of_the_rate(project, tmp_path, capsys) -> None:
    """A file pytest could not collect weighs one error in the pass rate, whatever it held: the gate's
    detail and latest.md say so next to the figure (singular "error" where there is one)."""
    config = project("ruff_prod_max = false\ncompileall_prod_max = false\nopenapi_breaking_max = false")
    out = tmp_path / "out"
    _collect(config, out, "--junit", f"smoke={EDGE / 'xunit2.xml'}")
    capsys.readouterr()
    main(["gate", "--config", str(config), "--report", str(out / "latest.json")])
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("FAIL     smoke pass rate"))
    assert line.endswith("5 passed, 6 failed, 3 errors; 1 collection error (a test file that could not be "
                         "collected: its tests did not run and are in no figure, the file counts as one error)")  # fmt: skip
    assert (
        "- **smoke**: 1 collection error (a test file that could not be collected: its tests did not run"
        in (out / "latest.md").read_text()
    )


def test_the_no_report_comment_names_the_push(tmp_path, monkeypatch, capsys) -> None:
    """When collect failed, the comment that replaces the last verdict names the push it speaks for, as
    a report's headline does (overlapping pushes are told apart)."""
    monkeypatch.chdir(tmp_path)
    for name in ("GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITHUB_HEAD_REF", "CI_COMMIT_SHA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GITHUB_SHA", "abcdef12" + "0" * 32)
    monkeypatch.setenv("GITHUB_REF_NAME", "main")
    assert main(["comment", "--no-report", "reports/coverage.xml: coverage: cannot read"]) == EXIT_OK
    assert (
        capsys.readouterr().out.splitlines()[1] == "## ❌ Release health: **no report** `main` · `abcdef12`"
    )

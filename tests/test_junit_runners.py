"""JUnit from real runs of other runners (tests/fixtures/runners/regenerate.sh): healthdeck's figures
equal each runner's own summary wherever the runner's XML carries the information."""

from __future__ import annotations

import json

import pytest

from healthdeck.collectors.junit import collect_junit
from tests.conftest import FIXTURES

RUNNERS = FIXTURES / "runners"
EXPECTED = {
    k: v for k, v in json.loads((RUNNERS / "EXPECTED.json").read_text()).items() if not k.startswith("_")
}
FIGURES = ("passed", "failed", "errors", "skipped", "flaky", "total")


def _read(name: str):
    target = RUNNERS / name
    paths = sorted(target.glob("*.xml")) if target.is_dir() else [target]
    return collect_junit(paths)


def _in_runner_terms(result) -> dict[str, int]:
    c = result.counts
    return {
        "passed": c.passed,
        "failing": c.failed + c.errors,
        "skipped": c.skipped + c.xfailed,
        "total": c.total,
        "flaky": c.flaky,
    }


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_figures_as_expected(name: str) -> None:
    want = EXPECTED[name]
    result = _read(name)
    assert {k: getattr(result.counts, k) for k in FIGURES if k != "total"} | {
        "total": result.counts.total
    } == want["healthdeck"], want["summary"]
    assert {r.dialect for r in result.readings} == {want["dialect"]}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_agrees_with_the_runners_own_summary(name: str) -> None:
    want = EXPECTED[name]
    ours = _in_runner_terms(_read(name))
    for key in want["equal"]:
        assert ours[key] == want["runner_figures"][key], f"{key}: {want['summary']}"
    if "failing" not in want["equal"]:
        # only these make the failing figures differ: node's parent tests, unittest counting failed
        # subTests (and class fixtures) in its failures/errors, PHPUnit's risky tests written as errors,
        # jasmine's failed beforeAll, which its reporter does not write, Catch2's sections
        assert any(
            why in want["differs"] for why in ("parent", "subTest", "risky", "beforeAll", "section")
        ), name


def test_go_package_that_did_not_build_is_a_failing_entry() -> None:
    result = _read("gotestsum.xml")
    entries = [f for f in result.failing if f.test_id.endswith("(no testcase)")]
    assert [(f.outcome, f.test_id) for f in entries] == [("error", "the file's <testsuites> (no testcase)")]
    assert entries[0].message.startswith("its error count is 1 more than its testcases carry")
    assert any("without a testcase" in note for note in result.readings[0].notes)


def test_tap_script_that_died_is_a_failing_entry() -> None:
    result = _read("tap.xml")
    dead = [f for f in result.failing if f.test_id == "suite math_t (no testcase)"]
    assert len(dead) == 1 and dead[0].outcome == "error"
    assert dead[0].message.startswith("Dubious, test returned 255")
    # the file counts 3 errors (the death and 2 planned tests that never ran): the reading says why 1 is reported
    notes = [n for reading in result.readings for n in reading.notes]
    assert (
        "suite math_t counts 3 errors; its error outside any testcase stands for the 2 it does not list"
        in " ".join(notes)
    )


def test_playwright_projects_are_separate_tests() -> None:
    result = _read("playwright.xml")
    ids = [f.test_id for f in result.failing]
    assert "math.spec.ts::math › multiplies wrong [desktop]" in ids
    assert "math.spec.ts::math › multiplies wrong [mobile]" in ids
    assert result.attempts == result.counts.total == 16


def test_cargo_stream_is_read_document_by_document() -> None:
    result = _read("cargo.xml")
    assert (RUNNERS / "cargo.xml").read_text().count("<?xml") == 3
    assert result.attempts == 6  # the ignored test is only in the suite's skipped count
    assert [f.test_id for f in result.failing] == ["tests::adds_wrong"]


def test_same_test_name_in_two_describe_blocks_is_two_tests() -> None:
    # node writes classname="test" for every test; the suite tells them apart
    result = collect_junit([RUNNERS / "node-test.xml"])
    assert result.counts.flaky == 0
    assert [f.test_id for f in result.failing] == [
        "math::multiplies wrong",
        "math::throws",
        "parent with subtests::second step",
    ]


def test_ampersands_are_read_as_written() -> None:
    messages = [f.message for name in EXPECTED for f in _read(name).failing]
    assert any("&" in m for m in messages)
    assert not any("&#38;" in m or "&amp;" in m for m in messages)


def test_every_file_that_disagrees_with_itself_says_how_it_was_resolved() -> None:
    for name in ("mocha.xml", "cargo.xml", "gotestsum.xml", "surefire-reruns.xml"):
        readings = _read(name).readings
        assert readings[0].notes, name
    assert _read("vitest.xml").readings[0].notes == []


MESSAGES = RUNNERS / "messages"


def test_unittest_subtests_are_the_tests_failed_subtests() -> None:
    """unittest-xml-reporting and nose2 write each failed subTest as a testcase "test_x (n=1)" and none
    for the test: unittest ran 9 tests, not 11. A setUpClass error ("setUpClass (module.Class)") stays an
    entry of its own."""
    for name in ("xmlrunner", "nose2.xml"):
        result = _read(name)
        by_id = {f.test_id: f for f in result.failing}
        subtests = by_id["test_calc.Calc::test_subtests"]
        assert (subtests.outcome, subtests.failed_subtests) == ("failed", 2), name
        assert result.failed_subtests == 2 and not any("(n=" in i for i in by_id), name
        assert any(i.startswith("setUpClass (test_calc") for i in by_id), name
        assert (result.counts.skipped, result.counts.xfailed) == (1, 1), name  # unittest's expected failure


def test_a_unittest_test_whose_subtests_failed_is_fixed_when_it_passes(tmp_path, monkeypatch) -> None:
    """Red: two of test_values's subTests fail (no testcase test_values); green: test_values passes.
    With the subTests read as tests of their own, test_values was never "fixed"."""
    from healthdeck.reports.cli import main

    monkeypatch.chdir(tmp_path)
    history = f"sqlite:///{tmp_path / 'h.sqlite'}"
    for xml in ("xmlrunner-subtests-red.xml", "xmlrunner-subtests-green.xml"):
        assert main(["collect", "-q", "--out", "out", "--history", history, "--junit",
                     f"unit={MESSAGES / xml}"]) == 0  # fmt: skip
    report = json.loads((tmp_path / "out" / "latest.json").read_text())
    moved = report["details"]["tests"]["unit"]["transitions"]
    assert sorted(moved["fixed"]) == ["test_s.S::test_plain", "test_s.S::test_values"]
    assert report["summary"]["tests"]["unit"]["total"] == 2  # unittest: "Ran 2 tests"


@pytest.mark.parametrize(
    ("xml", "messages", "causes"),
    [
        # PHPUnit writes no message attribute; its text starts with the test's own name
        ("phpunit-samecause.xml", {"RuntimeException: db not reachable at 10.0.0.5:5432"}, 1),
        # Robot: "Parent suite setup failed:", the reason on the next line
        (
            "robot-setup.xml",
            {
                "Parent suite setup failed: database not reachable",
                "Parent suite setup failed: license server returned 403",
            },
            2,
        ),
        # unittest-xml-reporting puts a whole import traceback in the attribute
        (
            "xmlrunner-importerror.xml",
            {
                "ModuleNotFoundError: No module named 'not_installed_pkg'",
                "ModuleNotFoundError: No module named 'yaml_is_missing_here'",
            },
            2,
        ),
    ],
)
def test_a_failure_says_what_its_runner_wrote_where_the_message_says_less(xml, messages, causes) -> None:
    from healthdeck.reports.causes import group_causes

    result = collect_junit([MESSAGES / xml])
    assert {f.message for f in result.failing} == messages
    assert len(group_causes(result.failing)) == causes


def test_placeholder_messages_give_way_to_the_failure_body() -> None:
    """nose2 writes "test failure" on every failure (one cause for six different exceptions); bats writes
    only where, in the text; behave writes "None" for an undefined step."""
    nose2 = {f.test_id: f.message for f in _read("nose2.xml").failing}
    assert nose2["test_calc.Calc::test_errors"] == "KeyError: 'missing-config'"
    assert not any(m == "test failure" for m in nose2.values())
    bats = {f.message for f in _read("bats.xml").failing}
    assert '`[ "$result" -eq 5 ]\' failed' in bats and not any(m.startswith("(in test file") for m in bats)
    behave = {f.test_id: f.message for f in _read("behave.xml").failing}
    assert behave["calc.Calculator::undefined step"].startswith("Failing step: Then something nobody wrote")


def test_node_top_level_tests_keep_the_describe_names_of_the_others(tmp_path, monkeypatch) -> None:
    """A top-level test() sits straight under <testsuites>: the file was read as generic and every test
    lost its describe block ("test::works" twice), so a newly failing cart::works read as still failing."""
    from healthdeck.reports.cli import main

    red = collect_junit([MESSAGES / "node-toplevel-red.xml"])
    assert red.readings[0].dialect == "node-test"
    assert sorted(f.test_id for f in red.failing) == ["cart::totals", "checkout::works"]
    monkeypatch.chdir(tmp_path)
    assert main(["collect", "-q", "--no-history", "--out", "red", "--junit",
                 f"node={MESSAGES / 'node-toplevel-red.xml'}"]) == 0  # fmt: skip
    assert main(["collect", "-q", "--no-history", "--out", "next", "--baseline", "report:red/latest.json",
                 "--junit", f"node={MESSAGES / 'node-toplevel-next.xml'}"]) == 0  # fmt: skip
    moved = json.loads((tmp_path / "next" / "latest.json").read_text())["details"]["tests"]["node"][
        "transitions"
    ]
    assert (moved["new"], moved["fixed"], moved["still_failing"]) == (["cart::works"], ["checkout::works"],
                                                                      ["cart::totals"])  # fmt: skip


def test_a_tap_script_exit_status_is_not_a_second_failure() -> None:
    """TAP::Formatter::JUnit adds "Dubious, test returned N" to every script that exits non-zero; a
    Test::More script exits with its number of failed tests, already listed (exit 255: it died)."""
    result = _read("tap-failing.xml")
    assert sorted((f.outcome, f.test_id) for f in result.failing) == [
        ("error", "suite dies_t (no testcase)"), ("failed", "2 - two fails")]  # fmt: skip
    assert any("is the script's exit status" in n for r in result.readings for n in r.notes)


def test_panics_and_placeholders_are_told_by_the_test_output() -> None:
    """libtest writes an empty <failure type="assert"/> and the panic in the test's <system-out>; gotestsum
    writes message="Failed" on every failure, and a Go panic in the text."""
    from healthdeck.reports.causes import group_causes

    cargo = collect_junit([MESSAGES / "cargo-panics.xml"])
    assert {f.message for f in cargo.failing} == {"assertion `left == right` failed: math is broken",
                                                  "boom at 127.0.0.1:8080"}  # fmt: skip
    assert len(group_causes(cargo.failing)) == 2  # were one cause, "assert"
    go = {
        f.test_id.rsplit("::", 1)[-1]: f.message
        for f in collect_junit([MESSAGES / "gotestsum-panic.xml"]).failing
    }
    assert go["TestB"] == "b is wrong" and go["TestE"] == "panic: assignment to entry in nil map"
    assert go["TestD"] == "Failed"  # failed through its subtest only: its text says no more


def test_deno_steps_are_part_of_their_test() -> None:
    """Deno writes each t.step as a testcase "test > step" after the tests: 9 tests, not 16, as Deno's
    "5 passed (6 steps) | 3 failed (1 step) | 1 ignored" counts them; the failed step tells its test's
    failure (the test's own testcase says only "1 test step failed")."""
    result = _read("deno.xml")
    assert (result.counts.total, result.counts.failed, result.failed_subtests) == (9, 3, 1)
    parent = next(f for f in result.failing if f.test_id == "./steps_test.ts::parent")
    assert (
        parent.message.startswith("Uncaught AssertionError: Values are not equal.")
        and parent.failed_subtests == 1
    )
    assert not any(" > " in f.test_id for f in result.failing)
    (note,) = [n for r in result.readings for n in r.notes]
    assert note.startswith("the file says 16 tests: 9 tests and 7 steps")


def test_catch2_expected_failures_and_exceptions() -> None:
    """[!shouldfail] and [!mayfail] tests that failed carry <skipped> and <failure>: failed as expected, as
    Catch2 counts them; an exception's body opens with Catch2's "FAILED:", and the message is what follows."""
    result = _read("catch2.xml")
    assert result.counts.xfailed == 2 and result.counts.errors == 1
    error = next(f for f in result.failing if f.outcome == "error")
    assert (error.test_id, error.message) == (
        "tests.global::throws runtime_error",
        "boom: the widget is broken",
    )
    assert [n for r in result.readings for n in r.notes] == [
        "the file says 16 tests, which Catch2 counts in assertions; healthdeck counts its 12 testcase elements: one "
        "per test case and per section with assertions of its own"
    ]

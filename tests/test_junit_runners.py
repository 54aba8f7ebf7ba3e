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
        assert "parent" in want["differs"]  # only node's parent tests may make the failing figures differ


def test_go_package_that_did_not_build_is_a_failing_entry() -> None:
    result = _read("gotestsum.xml")
    entries = [f for f in result.failing if f.test_id.endswith("(no testcase)")]
    assert [(f.outcome, f.test_id) for f in entries] == [("error", "the file's <testsuites> (no testcase)")]
    assert "1 error that no testcase carries" in entries[0].message
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

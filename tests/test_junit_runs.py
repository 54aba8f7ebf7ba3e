"""Runs of plain testcases are read from the bytes (collectors/junit_runs.py), and say exactly what
expat says.

Every document here is read twice: as shipped, and with run reading switched off so that every
byte goes through expat and the reader's general path. Both readings must agree on every figure,
the first must really have taken runs (or must not have, where expat would not read a testcase),
and each case also states the counts it expects.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import NamedTuple
from xml.parsers import expat

import pytest

from healthdeck.collectors import CollectorError, junit
from healthdeck.collectors.junit import JUnitOptions, JUnitResult, collect_junit

OPTIONS = JUnitOptions(keep_outcomes=True, durations_above=0.9, slowest=5)
READ_RUN = junit.read_run


def _plain(first: int, count: int, module: str = "m.A", end: str = " />") -> str:
    return "".join(
        f'<testcase classname="{module}" name="test_{i}" time="0.{i % 1000:03d}"{end}'
        for i in range(first, first + count)
    )


class Readings(NamedTuple):
    with_runs: JUnitResult
    expat_only: JUnitResult  # every byte through expat
    taken: int  # testcases taken in runs
    tried: int  # bytes offered to read_run


def _read_both(monkeypatch: pytest.MonkeyPatch, paths: list[Path]) -> Readings:
    taken = tried = 0

    def counting(shape, run: bytes, prefix: bytes):  # type: ignore[no-untyped-def]
        nonlocal taken, tried
        found = READ_RUN(shape, run, prefix)
        taken += len(found[0]) if found else 0
        tried += len(run)
        return found

    monkeypatch.setattr(junit, "read_run", counting)
    with_runs = collect_junit(paths, OPTIONS)
    monkeypatch.setattr(junit, "read_run", lambda *args: None)
    return Readings(with_runs, collect_junit(paths, OPTIONS), taken, tried)


def _same(a: JUnitResult, b: JUnitResult) -> None:
    assert dataclasses.asdict(a) == dataclasses.asdict(b)


def _pytest_file(body: str) -> str:
    return f'<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">{body}</testsuites>'


def test_a_large_pytest_file_reads_the_same(write, monkeypatch) -> None:
    # several 64 KiB pieces; between the runs: failures, skips, an xfail, reruns, a test that comes
    # back 4 000 testcases later, suite-level output and a failure outside any testcase
    body = (
        '<testsuite name="pytest" tests="6005" failures="1" skipped="1">'
        '<properties><property name="p" value="v"/></properties>'
        + _plain(0, 2000)
        + '<testcase classname="m.A" name="test_f" time="0.5"><failure message="boom">E   AssertionError'
        "\n\nt.py:3: AssertionError</failure></testcase>"
        + _plain(2000, 1000)
        + '<testcase classname="m.A" name="test_s" time="0"><skipped type="pytest.skip" message="no">t.py:9: no'
        '</skipped></testcase><testcase classname="m.A" name="test_x" time="0"><skipped type="pytest.xfail" '
        'message="bug" /></testcase>'
        + '<testcase classname="m.A" name="test_r" time="0.1" /><testcase classname="m.A" name="test_r" time="0.2" />'
        + "<system-out>suite output</system-out>"
        + _plain(3000, 1000)
        + '<error message="teardown of the module failed">x</error>'
        + _plain(4000, 2000)
        + '<testcase classname="m.A" name="test_5" time="0.9" />'  # test_5 again, far away: a rerun
        + "</testsuite>"
    )
    path = write("big.xml", _pytest_file(body))
    assert path.stat().st_size > 4 * 64 * 1024
    with_runs, expat_only, taken, _ = _read_both(monkeypatch, [path])
    _same(with_runs, expat_only)
    assert taken > 5_900
    c = with_runs.counts
    # 6 000 + test_f, test_s, test_x, test_r, and the stray error as an entry of its own
    assert (c.total, c.failed, c.errors, c.skipped, c.xfailed) == (6005, 1, 1, 1, 1)
    assert with_runs.attempts == 6000 + 3 + 2 + 1
    assert with_runs.flaky == ["m.A::test_5", "m.A::test_r"]
    assert with_runs.outcomes["m.A::test_5999"] == "passed"


def test_nested_and_same_named_suites_keep_their_tests_apart(write, monkeypatch) -> None:
    body = (
        '<testsuite name="outer">'
        + _plain(0, 300)
        + '<testsuite name="inner">'
        + _plain(0, 300)
        + "</testsuite>"
        + _plain(300, 300)
        + '</testsuite><testsuite name="outer">'
        + _plain(0, 300)
        + "</testsuite>"
    )
    path = write("nested.xml", f"<testsuites>{body}</testsuites>")
    with_runs, expat_only, taken, _ = _read_both(monkeypatch, [path])
    _same(with_runs, expat_only)
    assert taken > 1_000
    # the inner suite inherits the outer's label; the second "outer" is a suite of its own
    assert with_runs.counts.total == 600 + 300 + 300
    assert "m.A::test_0 [outer #2]" in with_runs.outcomes


@pytest.mark.parametrize(
    "between",
    [
        '<!-- <testcase classname="m.A" name="fake" time="1" /> -->',
        '<?pi <testcase classname="m.A" name="fake" time="1" /> ?>',
        '<system-out><![CDATA[<testcase classname="m.A" name="fake" time="1" />]]></system-out>',
        '<testcase classname="m.A" name="outer" time="1"><testcase classname="m.A" name="fake" time="1" />'
        "</testcase>",
    ],
    ids=["comment", "processing-instruction", "cdata", "nested-testcase"],
)
def test_testcases_expat_would_not_read_are_not_counted(write, monkeypatch, between: str) -> None:
    # the fake testcase sits in a stretch as long as the reader's pieces, so it is cut at every offset
    filler = _plain(0, 700)
    path = write(
        "fake.xml", _pytest_file(f'<testsuite name="pytest">{filler}{between}{_plain(700, 700)}</testsuite>')
    )
    with_runs, expat_only, taken, _ = _read_both(monkeypatch, [path])
    _same(with_runs, expat_only)
    assert taken > 1_000
    assert "m.A::fake" not in with_runs.outcomes


def test_values_expat_would_change_go_through_expat(write, monkeypatch) -> None:
    # entities, character references and tabs in attribute values, non-ASCII names, single quotes,
    # another attribute order, whitespace between testcases, a name that is empty
    odd = (
        '<testcase name="a &amp; b" classname="m.A" time="0.1" />'
        '<testcase name="x&#10;y" classname="m.A" time="0.1" />'
        '<testcase name="tab\there" classname="m.A" time="0.1" />'
        "<testcase name='quoted' classname='m.A' time='0.1' />"
        '<testcase name="" classname="m.A" time="0.1" />'
        '<testcase name="caf\u00e9 \u4e2d\u6587" classname="m.\u00c9" time="\u0661.5" />'
    )

    def plain(first: int) -> str:
        return "".join(
            f'\n    <testcase name="t{i}" classname="m.B" time="0.001" />' for i in range(first, first + 1500)
        )

    path = write(
        "odd.xml", _pytest_file(f'<testsuite name="pytest">{plain(0)}{odd}{plain(1500)}</testsuite>')
    )
    with_runs, expat_only, taken, _ = _read_both(monkeypatch, [path])
    _same(with_runs, expat_only)
    assert taken > 2_000
    assert {
        "m.A::a & b",
        "m.A::x\ny",
        "m.A::tab here",
        "m.A::quoted",
        "m.\u00c9::caf\u00e9 \u4e2d\u6587",
    } <= set(with_runs.outcomes)
    assert with_runs.time_seconds == pytest.approx(
        0.5 + 1.5 + 3.0, abs=1e-6
    )  # "\u0661.5" is 1.5 to expat too


@pytest.mark.parametrize(
    ("child", "outcome"),
    [
        ('<skipped type="pytest.skip" message="no network">t.py:9: no network</skipped>', "skipped"),
        ('<skipped type="pytest.xfail" message="known bug" />', "xfailed"),
        ('<skipped type="pytest.skip" message="a &amp; b">x</skipped>', "skipped"),  # an entity
        ('<skipped type="pytest.skip" message="m">say "hi" &gt; 3</skipped>', "skipped"),
        ('<skipped type="pytest.xfail" message="caf\u00e9">\u4e2d\u6587</skipped>', "xfailed"),
        ('<skipped type="pytest.skip" message="m">line\nline</skipped>', "skipped"),
        ('<skipped type="p&#46;xfail" message="m"/>', "skipped"),  # a reference in the type: not pytest.xfail
        ('<skipped message="no type" />', "skipped"),
        ('<skipped type="pytest.xfail" message="m"/><system-out>out</system-out>', "xfailed"),
    ],
)
def test_skipped_testcases_in_runs(write, monkeypatch, child: str, outcome: str) -> None:
    body = "".join(
        _plain(i * 100, 100) + f'<testcase classname="m.S" name="s{i}" time="0.5">{child}</testcase>'
        for i in range(30)
    )
    path = write("skips.xml", _pytest_file(f'<testsuite name="pytest">{body}</testsuite>'))
    with_runs, expat_only, taken, _ = _read_both(monkeypatch, [path])
    _same(with_runs, expat_only)
    assert taken > 2_000
    assert getattr(with_runs.counts, outcome) == 30 and with_runs.counts.total == 3030


def _every_tenth(odd: str) -> str:
    """3 000 plain testcases; every tenth is written `odd` ({i} is its number)."""
    return "".join(
        odd.format(i=i) if i % 10 == 5 else f'<testcase classname="m.A" name="test_{i}" time="0.001" />'
        for i in range(3000)
    )


@pytest.mark.parametrize(
    "odd",
    [
        '<testcase classname="m.A" name="test_{i}[a&amp;b]" time="0.001" />',
        "<testcase classname='m.A' name='test_{i}' time='0.001' />",
        '<testcase classname="m.A" name="test_{i}" time="0.001" /><!-- <testcase classname="x" name="y" /> -->',
        '<testcase classname="m.A" name="test_{i}" time="0.001"><skipped type="s" message="&amp;">x</skipped>'
        "</testcase>",
        '\n   <testcase classname="m.A" name="test_{i}" time="0.001" />\n',
    ],
    ids=["entity", "single-quotes", "comment", "skip-with-entity", "other-whitespace"],
)
def test_odd_testcases_among_runs_cost_one_look_each(write, monkeypatch, odd: str) -> None:
    # a stretch with an odd testcase in it is cut there, not tried again from each testcase after it
    path = write("odd.xml", _pytest_file(f'<testsuite name="pytest">{_every_tenth(odd)}</testsuite>'))
    with_runs, expat_only, _, tried = _read_both(monkeypatch, [path])
    _same(with_runs, expat_only)
    assert with_runs.counts.total == 3000
    assert tried <= 3 * path.stat().st_size  # each byte offered to the run check a few times at most


def test_text_that_expat_refuses_inside_a_skip_is_an_error(write) -> None:
    body = (
        _plain(0, 1000) + '<testcase classname="m.S" name="s" time="0"><skipped type="t" message="m">a ]]> b'
    )
    path = write(
        "cdata-end.xml", _pytest_file(f'<testsuite name="pytest">{body}</skipped></testcase></testsuite>')
    )
    with pytest.raises(CollectorError, match="malformed XML"):
        collect_junit([path])


def _jest(first: int, count: int, name: str = "adds {i}") -> str:
    """Jest's way: a passing testcase has an end tag, indented on the next line."""
    cases = []
    for i in range(first, first + count):
        title = name.format(i=i)
        body = "\n      <failure>Error: expect(received).toBe(expected)</failure>" if i % 100 == 7 else ""
        cases.append(
            f'\n    <testcase classname="math {title}" name="math {title}" time="0.01">{body}\n    </testcase>'
        )
    return "".join(cases)


def test_passes_written_with_an_end_tag_are_runs_too(write, monkeypatch) -> None:
    jest = f'<testsuites name="jest tests">\n  <testsuite name="math">{_jest(0, 3000)}\n  </testsuite>\n</testsuites>'
    path = write("jest.xml", jest)
    with_runs, expat_only, taken, _ = _read_both(monkeypatch, [path])
    _same(with_runs, expat_only)
    assert taken > 2_800
    assert (with_runs.counts.total, with_runs.counts.failed) == (3000, 30)


@pytest.mark.parametrize("end_tag_first", [False, True])
def test_both_ways_of_writing_a_pass_in_one_file(write, monkeypatch, end_tag_first: bool) -> None:
    # compact end tags (gotestsum's) among self-closed testcases, a <skipped/> child on its own line
    mixed = "".join(
        _plain(i * 10, 10) + f'<testcase classname="m.A" name="t{i}" time="0.1"></testcase>'
        for i in range(300)
    )
    mixed += '<testcase classname="m.A" name="s" time="0">\n  <skipped/>\n</testcase>' + _plain(5000, 500)
    if end_tag_first:
        mixed = '<testcase classname="m.A" name="first" time="0.1"></testcase>' + mixed
    path = write("mixed.xml", _pytest_file(f'<testsuite name="pytest">{mixed}</testsuite>'))
    with_runs, expat_only, taken, _ = _read_both(monkeypatch, [path])
    _same(with_runs, expat_only)
    # a file whose first pass has an end tag is read in runs of those; self-closed ones among them
    # are left to expat (a run writes its testcases one way)
    assert taken > (0 if end_tag_first else 3_000)
    assert (with_runs.counts.total, with_runs.counts.skipped) == (3801 + end_tag_first, 1)


def test_a_file_where_no_testcase_is_plain_is_read_by_expat(write, monkeypatch) -> None:
    # Vitest's names carry "&gt;": no run anywhere, and the file reads the same
    vitest = _jest(0, 4000, "describe &gt; adds {i}")
    path = write(
        "vitest.xml", f'<testsuites name="vitest tests"><testsuite name="m">{vitest}</testsuite></testsuites>'
    )
    with_runs, expat_only, taken, tried = _read_both(monkeypatch, [path])
    _same(with_runs, expat_only)
    assert taken == 0 and tried == 0
    assert "math describe > adds 3::math describe > adds 3" in with_runs.outcomes


def test_a_file_declared_in_another_encoding_is_read_by_expat(write, monkeypatch) -> None:
    cases = _plain(0, 1500, "m.\u00e9")
    text = f'<?xml version="1.0" encoding="ISO-8859-1"?><testsuites><testsuite name="s">{cases}</testsuite></testsuites>'
    path = write("latin1.xml", text.encode("latin-1"))
    with_runs, expat_only, taken, _ = _read_both(monkeypatch, [path])
    _same(with_runs, expat_only)
    assert taken == 0
    assert "m.\u00e9::test_0" in with_runs.outcomes


def test_several_documents_and_several_files(write, monkeypatch) -> None:
    doc = '<?xml version="1.0"?><testsuites><testsuite name="test">{}</testsuite></testsuites>\n'
    first = write("stream.xml", doc.format(_plain(0, 800)) + doc.format(_plain(0, 800)))
    # a rerun file: its passes make the first file's failures flaky
    second = write(
        "rerun.xml",
        doc.format(
            '<testcase classname="m.A" name="test_3" time="1"><failure message="again"/></testcase>'
            + _plain(0, 900)
        ),
    )
    with_runs, expat_only, taken, _ = _read_both(monkeypatch, [first, second])
    _same(with_runs, expat_only)
    assert taken > 2_000
    assert with_runs.counts.total == 800 + 800 + 100  # the stream's second binary is another suite
    assert with_runs.flaky == ["m.A::test_3"]


def test_a_testcase_with_children_across_a_piece_boundary(write, monkeypatch) -> None:
    head = _pytest_file("").split("</testsuites>")[0] + '<testsuite name="pytest">'
    filler = _plain(0, 800)
    failing = '<testcase classname="m.A" name="test_f" time="1"><failure message="boom">' + "x" * 3000
    failing += "</failure></testcase>"
    for shift in range(0, 3000, 500):  # the 64 KiB cut falls before, inside and after the failure
        body = head + filler[: 64 * 1024 - len(head) - 200 - shift] + "/>"
        body = body[: body.rfind("<testcase")] + failing + _plain(1000, 800) + "</testsuite></testsuites>"
        path = write(f"cut{shift}.xml", body)
        with_runs, expat_only, taken, _ = _read_both(monkeypatch, [path])
        _same(with_runs, expat_only)
        assert taken > 1_000 and with_runs.counts.failed == 1


def test_malformed_xml_after_runs_names_the_place_expat_finds(write) -> None:
    lines = "\n".join(_plain(i * 100, 100) for i in range(30))  # runs taken out of expat's input
    text = _pytest_file(
        f'<testsuite name="pytest">\n{lines}\n<testcase classname="a" name="b" time="1"></testsuite>'
    )
    path = write("broken.xml", text)
    parser = expat.ParserCreate()
    with pytest.raises(expat.ExpatError) as plain:
        parser.Parse(text.encode(), True)
    with pytest.raises(CollectorError) as reading:
        collect_junit([path])
    assert f"(line {plain.value.lineno}, column {plain.value.offset + 1})" in str(reading.value)
    assert plain.value.lineno == 32


def test_attributes_are_read_by_name_not_by_place(write) -> None:
    # the first testcase sets where classname, name and time sit; a later one with flaky="true" where
    # time was is a flaky pass, not a pass with an unreadable time
    path = write(
        "flank.xml",
        _pytest_file(
            '<testsuite name="s"><testcase classname="a" name="t1" time="1" />'
            '<testcase classname="a" name="t2" flaky="true" /></testsuite>'
        ),
    )
    result = collect_junit([path])
    assert result.flaky == ["a::t2"] and result.warnings == []


_EVERY_FIXTURE = sorted(
    p for p in (Path(__file__).parent / "fixtures").rglob("*.xml*")
    if p.suffix in (".xml", ".gz") and "coverage" not in p.name and "gcovr" not in str(p)
)  # fmt: skip


def test_outcomes_of_some_tests_agree_with_every_tests_outcome(tmp_path) -> None:
    """`Outcomes.of` names only the keys that could be the asked-for ids: on every JUnit fixture (labels,
    `::` in names, unnamed testcases, one id in several files) it gives what the whole mapping gives."""
    tricky = tmp_path / "tricky.xml"
    tricky.write_text(
        '<testsuites><testsuite name="outer [x]"><testcase classname="a::b" name="c::d [e]"/>'
        '<testcase name="plain"/><testcase/><testcase classname="k" name="t"><failure message="m"/></testcase>'
        "</testsuite></testsuites>"
    )
    read = 0
    for path in [*_EVERY_FIXTURE, tricky]:
        try:
            whole = collect_junit([path, path], JUnitOptions(keep_outcomes=True)).outcomes
            asked = collect_junit([path, path], JUnitOptions(keep_outcomes=True)).outcomes
        except CollectorError:  # not a JUnit file (a fixture of another format): nothing to compare
            continue
        everything = dict(whole)
        assert asked.of([*everything, "no such::test", "x [y]"]) == everything, path
        some = sorted(everything)[::3]
        assert asked.of(some) == {t: everything[t] for t in some}, path
        read += bool(everything)
    assert read >= 15

"""Hand-written JUnit dialects and situations real pytest runs rarely show."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from healthdeck.collectors import CollectorError, junit
from healthdeck.collectors.base import expand_paths
from healthdeck.collectors.junit import FailingTest, JUnitOptions, collect_junit
from tests.conftest import FIXTURES


def _suite(body: str, root: str = "testsuites") -> str:
    return f'<?xml version="1.0"?><{root}>{body}</{root}>' if root == "testsuites" else body


def test_bare_testsuite_root_and_nested_suites(write) -> None:
    path = write(
        "nested.xml",
        '<testsuite name="outer" tests="99"><testsuite name="inner">'
        '<testcase classname="a" name="t1"/><testcase classname="a" name="t2"><failure message="x"/></testcase>'
        '</testsuite><testcase classname="b" name="t3"><skipped/></testcase></testsuite>',
    )
    c = collect_junit([path]).counts
    assert (c.passed, c.failed, c.skipped, c.total) == (1, 1, 1, 3)


def test_surefire_flaky_and_rerun_failures(write) -> None:
    path = write(
        "surefire.xml",
        _suite(
            '<testsuite name="s">'
            '<testcase classname="C" name="flaky"><flakyFailure message="boom"/></testcase>'
            '<testcase classname="C" name="broken"><failure message="final"/><rerunFailure message="first"/>'
            "</testcase>"
            '<testcase classname="C" name="ok"/>'
            "</testsuite>"
        ),
    )
    result = collect_junit([path])
    c = result.counts
    assert (c.passed, c.flaky, c.failed, c.total) == (2, 1, 1, 3)
    assert result.flaky == ["C::flaky"]
    assert [f.message for f in result.failing] == ["final"]


def test_flank_flaky_attribute(write) -> None:
    path = write(
        "flank.xml", _suite('<testsuite><testcase classname="C" name="t" flaky="true"/></testsuite>')
    )
    assert collect_junit([path]).counts.flaky == 1


def test_same_test_in_two_shards_is_one_test_not_flaky(write) -> None:
    one = write("shard1.xml", _suite('<testsuite><testcase classname="C" name="t"/></testsuite>'))
    two = write("shard2.xml", _suite('<testsuite><testcase classname="C" name="t"/></testsuite>'))
    c = collect_junit([one, two]).counts
    assert (c.total, c.passed, c.flaky) == (1, 1, 0)


def test_failed_in_first_file_passed_in_rerun_file_is_flaky(write) -> None:
    # A CI job that reruns failures into a second JUnit file (pytest --lf --junitxml=rerun.xml).
    first = write(
        "first.xml", _suite('<testsuite><testcase classname="C" name="t"><failure/></testcase></testsuite>')
    )
    rerun = write("rerun.xml", _suite('<testsuite><testcase classname="C" name="t"/></testsuite>'))
    c = collect_junit([first, rerun]).counts
    assert (c.total, c.passed, c.flaky, c.failed) == (1, 1, 1, 0)


def test_ruff_junit_is_not_counted_as_tests(write) -> None:
    ruff = write(
        "ruff.xml",
        '<testsuites name="ruff"><testsuite name="ruff" package="org.ruff">'
        '<testcase name="No errors found" classname="ruff"/></testsuite></testsuites>',
    )
    tests = write("t.xml", _suite('<testsuite><testcase classname="C" name="t"/></testsuite>'))
    result = collect_junit([tests, ruff])
    assert result.counts.total == 1
    assert "ruff" in result.warnings[0]


def test_gzip_and_glob(write, tmp_path, monkeypatch) -> None:
    body = _suite('<testsuite><testcase classname="C" name="t"/></testsuite>').encode()
    write("a.xml.gz", gzip.compress(body))
    write("b.xml", body.replace(b'name="t"', b'name="u"'))
    monkeypatch.chdir(tmp_path)
    paths = expand_paths("junit", ["*.xml*"])
    assert [p.name for p in paths] == ["a.xml.gz", "b.xml"]
    assert collect_junit(paths).counts.total == 2


def test_glob_without_match_is_an_error(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CollectorError, match="glob matched no files"):
        expand_paths("junit", ["reports/*.xml"])


def test_a_name_with_brackets_is_the_file_it_names(tmp_path, monkeypatch) -> None:
    """tox and CI matrices name files junit[py3.11].xml: as a glob it matches junit3.xml, not itself."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "junit[py3.11].xml").write_text("<testsuite/>")
    (tmp_path / "junit3.xml").write_text("<testsuite/>")
    assert expand_paths("junit", ["junit[py3.11].xml"]) == [Path("junit[py3.11].xml")]
    assert expand_paths("junit", ["junit[0-9].xml"]) == [Path("junit3.xml")]  # still a glob when no such file


def test_huge_system_out_is_not_kept(write) -> None:
    noise = "x" * 2_000_000
    path = write(
        "big.xml",
        _suite(
            f'<testsuite><testcase classname="C" name="t"><failure message="m"/><system-out>{noise}</system-out>'
            "</testcase></testsuite>"
        ),
    )
    result = collect_junit([path])
    assert result.failing[0].message == "m"


BAD_INPUTS = {
    "empty.xml": (b"", "empty file"),
    "truncated.xml": (b'<?xml version="1.0"?><testsuites><testsuite><testcase name="a"', "malformed XML"),
    "binary.xml": (bytes(range(256)) * 4, "malformed XML"),
    "latin1.xml": (
        '<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite><testcase name="café"/>'
        "</testsuite></testsuites>"
    ).encode("latin-1"),
    "coverage.xml": (
        b'<?xml version="1.0"?><coverage line-rate="1"></coverage>',
        "root element is <coverage>",
    ),
    "laughs.xml": (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        b'<testsuites><testsuite><testcase classname="&lol3;" name="t"/></testsuite></testsuites>',
        "DOCTYPE",
    ),
    "xxe.xml": (
        b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b'<testsuites><testsuite><testcase classname="&xxe;" name="t"/></testsuite></testsuites>',
        "DOCTYPE",
    ),
    "truncated.xml.gz": (
        gzip.compress(b"<testsuites><testsuite>" + b"<testcase name='a'/>" * 500)[:60],
        "cannot decompress",
    ),
}
BAD_INPUTS["latin1.xml"] = (BAD_INPUTS["latin1.xml"], "malformed XML")


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_is_one_clear_error(write, name: str) -> None:
    content, reason = BAD_INPUTS[name]
    path = write(name, content)
    with pytest.raises(CollectorError) as info:
        collect_junit([path])
    message = str(info.value)
    assert str(path) in message and reason in message
    assert "\n" not in message


def test_no_testcases_is_zero_tests_with_a_warning(write) -> None:
    result = collect_junit(
        [write("none.xml", '<testsuites><testsuite name="pytest" tests="0"/></testsuites>')]
    )
    assert result.counts.total == 0
    assert result.warnings == ["no <testcase> elements: no test ran"]


def test_missing_file(tmp_path) -> None:
    with pytest.raises(CollectorError, match="No such file"):
        collect_junit([tmp_path / "nope.xml"])


def test_testcases_without_name_or_classname_stay_separate(write) -> None:
    path = write(
        "unnamed.xml",
        _suite("<testsuite>" + "<testcase/>" * 3 + "<testcase><failure/></testcase></testsuite>"),
    )
    result = collect_junit([path])
    assert (result.counts.total, result.counts.passed, result.counts.failed) == (4, 3, 1)
    assert [f.test_id for f in result.failing] == ["(testcase without a name #4)"]


def test_same_name_in_two_suites_of_one_file_is_two_tests(write) -> None:
    body = '<testsuite name="s"><testcase classname="C" name="t"/></testsuite>'
    path = write("matrix.xml", _suite(body + body.replace("/>", "><failure/></testcase>")))
    result = collect_junit([path])
    assert (result.counts.total, result.counts.passed, result.counts.failed, result.counts.flaky) == (
        2,
        1,
        1,
        0,
    )
    assert [f.test_id for f in result.failing] == ["C::t [s #2]"]


def test_count_only_suite_is_read_from_its_counts(write) -> None:
    path = write(
        "counts.xml",
        _suite(
            '<testsuite name="legacy" tests="10" failures="2" errors="1" skipped="3"/>'
            '<testsuite name="s"><testcase classname="C" name="t"/></testsuite>'
        ),
    )
    result = collect_junit([path])
    c = result.counts
    assert (c.passed, c.failed, c.errors, c.skipped, c.total) == (5, 2, 1, 3, 11)
    assert {f.outcome for f in result.failing} == {"failed", "error"}
    assert any("read from its counts" in n for n in result.readings[0].notes)


def test_not_run_attributes_are_skipped_not_passed(write) -> None:
    path = write(
        "notrun.xml",
        _suite(
            '<testsuite name="s"><testcase classname="C" name="a" status="notrun"/>'
            '<testcase classname="C" name="b" status="disabled"/>'
            '<testcase classname="C" name="c" result="suppressed"/><testcase classname="C" name="d"/>'
            "</testsuite>"
        ),
    )
    c = collect_junit([path]).counts
    assert (c.skipped, c.passed) == (3, 1)


def test_stray_error_under_a_suite_is_a_failing_entry(write) -> None:
    path = write(
        "stray.xml",
        _suite(
            '<testsuite name="t/db.t" tests="1"><testcase name="1 - connects"/>'
            '<error message="Looks like your test exited with 255 &amp; died"/></testsuite>'
        ),
    )
    result = collect_junit([path])
    assert (result.counts.passed, result.counts.errors) == (1, 1)
    assert result.failing[0].message == "Looks like your test exited with 255 & died"


def test_several_documents_in_one_stream(write) -> None:
    doc = '<?xml version="1.0" encoding="UTF-8"?><testsuites><testsuite name="test" tests="1">{}</testsuite></testsuites>\n'
    path = write(
        "stream.xml",
        doc.format('<testcase classname="a" name="x"/>')
        + doc.format('<testcase classname="b" name="y"><failure/></testcase>'),
    )
    c = collect_junit([path]).counts
    assert (c.total, c.passed, c.failed) == (2, 1, 1)


def test_xml_declaration_inside_cdata_is_not_a_new_document(write) -> None:
    path = write(
        "cdata.xml",
        _suite(
            '<testsuite><testcase classname="C" name="t"><system-out><![CDATA[</testsuites>\n'
            '<?xml version="1.0"?><x>]]></system-out></testcase></testsuite>'
        ),
    )
    assert collect_junit([path]).counts.total == 1


@pytest.mark.parametrize(
    "value", ["nan", "inf", "-inf", "-1", "1e400", "NaN", "1_000"]
)  # "1_000": float() reads it
def test_non_finite_time_is_missing_and_said(write, value: str) -> None:
    path = write("t.xml", _suite(f'<testsuite><testcase classname="C" name="t" time="{value}"/></testsuite>'))
    result = collect_junit([path])
    assert result.time_seconds == 0.0 and result.slowest == []
    assert "not a finite, non-negative number" in result.warnings[0]


def test_ampersand_is_stored_as_written(write) -> None:
    path = write(
        "amp.xml",
        _suite(
            '<testsuite><testcase classname="a &amp; b" name="t[x&amp;y]">'
            '<failure message="x &amp; y &lt; z"/></testcase></testsuite>'
        ),
    )
    failing = collect_junit([path]).failing[0]
    assert (failing.test_id, failing.message) == ("a & b::t[x&y]", "x & y < z")


DOC = (
    '<?xml version="1.0" encoding="{enc}"?><testsuites><testsuite name="s" tests="2">'
    '<testcase classname="c" name="テスト" time="0.1"/>'
    '<testcase classname="c" name="b" time="0.2"><failure message="失敗 boom">x</failure></testcase>'
    "</testsuite></testsuites>"
)


@pytest.mark.parametrize(
    ("declared", "codec", "mark"),
    [("Shift_JIS", "shift_jis", b""), ("UTF-16", "utf-16-le", b"\xff\xfe"), ("UTF-16", "utf-16-be", b""),
     ("UTF-32", "utf-32-le", b"\xff\xfe\x00\x00"), ("EUC-JP", "euc_jp", b"")],
)  # fmt: skip
def test_a_document_in_another_encoding_reads_as_in_utf8(tmp_path, declared, codec, mark) -> None:
    """What Windows tools and older runners write (UTF-16 with its mark, Shift_JIS): expat reads no
    multi-byte encoding but UTF-16, and the byte scanner needs ASCII markup, so it is read in UTF-8."""
    path = tmp_path / "junit.xml"
    path.write_bytes(mark + DOC.format(enc=declared).encode(codec))
    result = collect_junit([path], JUnitOptions(keep_outcomes=True))
    assert (result.counts.passed, result.counts.failed) == (1, 1)
    assert [(f.test_id, f.message) for f in result.failing] == [("c::b", "失敗 boom")]
    assert set(result.outcomes) == {"c::テスト", "c::b"}


@pytest.mark.parametrize(
    ("content", "reason"),
    [(DOC.format(enc="x-nonsense").encode(), "names encoding 'x-nonsense', which is not a known encoding"),
     (DOC.format(enc="UTF-16").encode("utf-16-le")[:-1], "not valid utf-16-le text"),
     (b"\xfe\xff" + DOC.format(enc="UTF-16").encode("utf-8"), "malformed XML")],
)  # fmt: skip
def test_an_encoding_that_cannot_be_read_is_one_line(tmp_path, content, reason) -> None:
    path = tmp_path / "junit.xml"
    path.write_bytes(content)
    with pytest.raises(CollectorError, match=reason):
        collect_junit([path])


@pytest.mark.parametrize(
    ("attrs", "reason"),
    [('tests="99999999999999999999999"', "tests has 23 digits, not a plausible count"),
     ('tests="3" failures="-3"', "failures is '-3', not a whole number"),
     ('tests="3" failures="2.5"', "failures is '2.5', not a whole number"),
     ('tests="3" errors="nan"', "errors is 'nan', not a whole number")],
)  # fmt: skip
def test_a_suite_read_from_its_counts_refuses_impossible_ones(tmp_path, attrs, reason) -> None:
    """A suite without testcases is read from its counts: one that cannot be a count is refused, not
    read as passes (a failing suite reading green) or as an absurd total."""
    path = tmp_path / "junit.xml"
    path.write_text(f'<testsuites><testsuite name="s" {attrs}/></testsuites>')
    with pytest.raises(CollectorError, match=f"suite s: {reason}"):
        collect_junit([path])


def test_a_namespace_prefixed_root_is_refused_not_read_as_no_tests(tmp_path) -> None:
    """`<j:testsuites xmlns:j=…>`: its elements are no JUnit elements to the reader, so reading it gave
    an empty run and hid its failing test; refused, naming the prefix (a default namespace reads)."""
    body = '<{p}testsuite name="s"><{p}testcase classname="c" name="a"><{p}failure message="m"/></{p}testcase></{p}testsuite>'
    path = tmp_path / "junit.xml"
    path.write_text(f'<j:testsuites xmlns:j="urn:x">{body.format(p="j:")}</j:testsuites>')
    with pytest.raises(CollectorError, match=r"root element is <j:testsuites>: a namespace prefix \(j:\)"):
        collect_junit([path])
    path.write_text(f'<testsuites xmlns="urn:x">{body.format(p="")}</testsuites>')
    assert collect_junit([path]).counts.failed == 1


def test_an_underscored_time_among_many_plain_testcases_is_no_time(write) -> None:
    """Runs of plain testcases are read in bulk, their times as bytes: "1_000" is refused there too."""
    cases = "".join(
        f'<testcase classname="C" name="t{i}" time="{"1_000" if i == 150 else "0.5"}"/>' for i in range(300)
    )
    result = collect_junit([write("bulk.xml", _suite(f"<testsuite>{cases}</testsuite>"))])
    assert result.counts.passed == 300 and result.time_seconds == pytest.approx(299 * 0.5)
    assert "not a finite, non-negative number" in result.warnings[0]


def test_failing_tests_are_a_sorted_sequence_ties_in_the_order_read(write) -> None:
    """JUnitResult.failing keeps its failures column by column and makes each FailingTest when asked for;
    it is sorted by id, and an id two entries share lists the testcase first, then the suite's own."""
    path = write(
        "ties.xml",
        '<testsuites><testsuite name="s"><testcase name="z"><error message="e" type="OSError">Traceback (most recent call last):\n'
        '  File "t.py", line 3, in z\nOSError: boom</error></testcase><testcase name="suite s (no testcase)"><failure message="m"/>'
        '</testcase><testcase name="a" classname="k"><failure message="m"/></testcase>'
        '<error message="stray"/></testsuite></testsuites>',
    )
    failing = collect_junit([path]).failing
    expected = [
        FailingTest("k::a", "failed", "m"),
        FailingTest("suite s (no testcase)", "failed", "m"),
        FailingTest("suite s (no testcase)", "error", "stray", str(path)),
        FailingTest("z", "error", "e", None, "OSError", "OSError: boom", "t.py:3 in z"),
    ]
    assert failing == expected and list(failing) == expected and len(failing) == 4
    assert failing[-1] == expected[-1] and failing[1].message is failing[0].message  # one "m" for both


def test_a_test_whose_one_attempt_failed_is_one_test_when_read_again(write) -> None:
    """A test whose one attempt failed is held by its failure alone, in no set of ids: read again, pieces
    later in its file or in another file, it is still one test, flaky when it then passes."""
    failed = "".join(
        f'<testcase classname="C" name="t{i}"><failure message="m{i}"/></testcase>' for i in range(3000)
    )
    again = "".join(f'<testcase classname="C" name="t{i}"/>' for i in range(1000)) + "".join(
        f'<testcase classname="C" name="t{i}"><error message="e"/></testcase>' for i in range(1000, 2000)
    )
    one = write("one.xml", _suite(f'<testsuite name="s">{failed}{again}</testsuite>'))
    assert len(failed) > 3 * 2**16  # several pieces: the failures are settled before they come again
    rerun = "".join(f'<testcase classname="C" name="t{i}"/>' for i in range(2000, 2500))
    two = write("rerun.xml", _suite(f'<testsuite name="s">{rerun}</testsuite>'))
    result = collect_junit([one, two], JUnitOptions(keep_outcomes=True))
    c = result.counts
    assert (c.total, c.passed, c.flaky, c.failed, c.errors) == (3000, 1500, 1500, 1500, 0)
    assert result.attempts == 5500
    still = [*range(1000, 2000), *range(2500, 3000)]
    assert result.failing == sorted((FailingTest(f"C::t{i}", "failed", f"m{i}") for i in still),
                                    key=lambda f: f.test_id)  # fmt: skip
    assert result.flaky == sorted(f"C::t{i}" for i in (*range(1000), *range(2000, 2500)))
    outcomes = {f"C::t{i}": "failed" if i in still else "passed" for i in range(3000)}
    assert dict(result.outcomes) == outcomes
    asked = ["C::t5", "C::t1500", "C::t2100", "C::t2900", "C::t3000"]
    fresh = collect_junit([one, two], JUnitOptions(keep_outcomes=True)).outcomes
    assert fresh.of(asked) == {t: outcomes[t] for t in asked[:4]}


def test_an_id_a_failing_and_a_passing_test_share_is_failing_in_outcomes() -> None:
    """test_edge::test_flaky fails in the xunit1 file (its key holds file="test_edge.py") and passes on a
    rerun in the other: two tests shown by one id. Its outcome was whichever key a set gave last (it
    changed with PYTHONHASHSEED); the failing one is now, as it is listed among the failing tests."""
    paths = [FIXTURES / "edge" / "reruns.xml", FIXTURES / "edge" / "xunit1.xml"]
    result = collect_junit(paths, JUnitOptions(keep_outcomes=True))
    assert ("test_edge::test_flaky", "failed") in [(f.test_id, f.outcome) for f in result.failing]
    assert "test_edge::test_flaky" in result.flaky
    assert result.outcomes["test_edge::test_flaky"] == "failed"
    fresh = collect_junit(paths, JUnitOptions(keep_outcomes=True)).outcomes
    assert fresh.of(["test_edge::test_flaky"]) == {"test_edge::test_flaky": "failed"}


@pytest.mark.parametrize("at_once", [1, 2, 3])
def test_failing_tests_are_sorted_a_chunk_at_a_time_as_a_whole(write, monkeypatch, at_once: int) -> None:
    """_failing sorts the failing tests' keys by display id a chunk at a time and merges the chunks: the
    order (ties included: one id from several files, the last read first) is a whole sort's."""
    cases = "".join(f'<testcase classname="C" name="t{i % 4}" file="f{i % 3}.py"><failure message="m{i}"/></testcase>'
                    for i in range(12))  # fmt: skip
    path = write("ties.xml", _suite(f'<testsuite name="s">{cases}</testsuite>'))
    whole = collect_junit([path]).failing
    monkeypatch.setattr(junit, "_SORTED_AT_ONCE", at_once)
    assert collect_junit([path]).failing == whole
    assert [f.test_id for f in whole] == list(whole.test_ids) == sorted(whole.test_ids)
    assert [f.message for f in whole][:3] == [
        "m8",
        "m4",
        "m0",
    ]  # C::t0 from f2.py, f1.py, f0.py: the last read first


def test_a_file_counts_the_elements_that_repeat_an_id_of_an_alone_test(write) -> None:
    """pytest's totals note says how many testcase elements repeat a test id: the ids held by their
    failure alone count as the file's ids, whether they come again in the same file or the next."""
    sub = '<testcase classname="C" name="sub{n}"><failure message="a"/><failure message="b"/></testcase>'
    failed = "".join(
        f'<testcase classname="C" name="t{i}"><failure message="m{i}"/></testcase>' for i in range(2000)
    )
    passed = "".join(f'<testcase classname="C" name="t{i}"/>' for i in range(1000))
    one = write(
        "one.xml",
        _suite(f'<testsuite name="pytest" tests="9999">{failed}{passed}{sub.format(n=1)}</testsuite>'),
    )
    twice = "".join(f'<testcase classname="C" name="t{i}"/>' * 2 for i in range(1000, 1500))
    two = write(
        "two.xml", _suite(f'<testsuite name="pytest" tests="9999">{twice}{sub.format(n=2)}</testsuite>')
    )
    readings = collect_junit([one, two]).readings
    assert [r.counted["testcases"] for r in readings] == [3001, 1001]
    assert [r.notes[0].rsplit("; ", 1)[1] for r in readings] == [
        f"{n} testcase elements repeat a test id (reruns, teardown errors)" for n in (1000, 500)
    ]

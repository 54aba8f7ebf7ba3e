"""Hand-written JUnit dialects and situations real pytest runs rarely show."""

from __future__ import annotations

import gzip

import pytest

from healthdeck.collectors import CollectorError
from healthdeck.collectors.base import expand_paths
from healthdeck.collectors.junit import collect_junit


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
        "cannot read",
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

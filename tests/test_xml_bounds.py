"""XML inputs stay within bounded memory and time whatever they hold, and odd-but-honest headers are
read: a compression bomb, oversized tokens, a gcovr DOCTYPE, a JaCoCo report."""

from __future__ import annotations

import gzip
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from healthdeck.collectors import CollectorError
from healthdeck.collectors.base import InputLimits, input_limits
from healthdeck.collectors.coveragepy import collect_coverage
from healthdeck.collectors.junit import collect_junit
from tests.conftest import FIXTURES

GCOVR = FIXTURES / "runners" / "gcovr"
PEAK_RSS_LIMIT = 300 * 2**20

# Runs one command in a fresh interpreter and reports its children's peak RSS, so the figure is the
# command's own and not the largest child the test process ever waited for.
_MEASURE = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps({"rc": done.returncode, "stderr": done.stderr, "stdout": done.stdout, "peak": peak}))
"""


def _collect(*args: str, cwd: Path, history: bool = False) -> dict:
    argv = [sys.executable, "-c", "from healthdeck.reports.cli import main; raise SystemExit(main())"]
    store = ["--history", f"sqlite:///{cwd / 'out' / 'h.sqlite'}"] if history else ["--no-history"]
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, *argv, "collect", *args, "--out", str(cwd / "out"), *store],
        capture_output=True, text=True, cwd=cwd, check=True, timeout=300,
    )  # fmt: skip
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    """1 MB of gzip that inflates to a 1 GiB attribute value."""
    path = tmp_path_factory.mktemp("bomb") / "junit.xml.gz"
    block = b"a" * (1 << 20)
    with gzip.open(path, "wb", compresslevel=6) as out:
        out.write(b'<?xml version="1.0"?><testsuites><testsuite name="s"><testcase classname="c" name="')
        for _ in range(1024):
            out.write(block)
        out.write(b'"/></testsuite></testsuites>')
    assert path.stat().st_size < 2 * 2**20
    return path


def test_compression_bomb_is_one_line_exit_3_and_bounded_memory(bomb: Path, tmp_path: Path) -> None:
    run = _collect("--junit", f"unit={bomb}", cwd=tmp_path)
    assert run["rc"] == 3, run["stderr"]
    lines = run["stderr"].strip().splitlines()
    assert len(lines) == 1
    assert str(bomb) in lines[0] and "larger than 32 MiB (limit max_token_mb" in lines[0]
    assert run["peak"] < PEAK_RSS_LIMIT, f"peak RSS {run['peak'] / 2**20:.0f} MiB"
    print(f"compression bomb: peak RSS {run['peak'] / 2**20:.0f} MiB")


def test_token_limit_is_configurable(write, tmp_path: Path) -> None:
    path = write(
        "big.xml", f'<testsuites><testsuite><testcase name="{"x" * (3 * 2**20)}"/></testsuite></testsuites>'
    )
    assert collect_junit([path]).counts.total == 1  # within the default
    (tmp_path / "pyproject.toml").write_text("[tool.healthdeck]\nmax_token_mb = 2\n")
    run = _collect("--junit", f"unit={path}", cwd=tmp_path)
    assert run["rc"] == 3 and "larger than 2 MiB (limit max_token_mb" in run["stderr"]


@pytest.mark.parametrize(
    "body",
    [
        "<![CDATA[" + "<a>" * 700_000 + "]]>",  # CDATA may hold "<", so it is measured as one token
        "<!--" + "<b>" * 700_000 + "-->",
    ],
)
def test_cdata_and_comments_are_tokens_too(write, body: str) -> None:
    path = write(
        "t.xml",
        f"<testsuites><testsuite><testcase name='t'><system-out>{body}</system-out></testcase></testsuite></testsuites>",
    )
    with input_limits(InputLimits(max_token_mb=1)), pytest.raises(CollectorError, match="larger than 1 MiB"):
        collect_junit([path])


def test_decompressed_size_is_capped(write) -> None:
    cases = "".join(f'<testcase classname="c" name="t{i}"/>' for i in range(40_000))
    path = write(
        "many.xml.gz", gzip.compress(f"<testsuites><testsuite>{cases}</testsuite></testsuites>".encode())
    )
    assert collect_junit([path]).counts.total == 40_000
    with input_limits(InputLimits(max_input_mb=1)), pytest.raises(CollectorError) as info:
        collect_junit([path])
    assert "decompresses to more than 1 MiB (limit max_input_mb" in str(info.value)


@pytest.mark.parametrize("value", [0, 5000, "32", True])
def test_limits_are_range_checked(tmp_path: Path, value) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.healthdeck]\nmax_token_mb = {json.dumps(value)}\n")
    run = _collect("--junit", "unit=x.xml", cwd=tmp_path)
    assert run["rc"] == 2 and "max_token_mb" in run["stderr"]


def _attributes(n: int) -> str:
    return " ".join(f'a{i}="1"' for i in range(n))


def test_an_element_with_too_many_attributes_is_one_line_exit_3(write, tmp_path: Path) -> None:
    """2 million attributes on one element (a 4.7 MB .gz) took 607 MB; refused as it streams by."""
    junit = write(
        "junit.xml.gz",
        gzip.compress(f'<testsuites><testsuite name="s"><testcase name="t" {_attributes(200_000)}/>'
                      "</testsuite></testsuites>".encode()),
    )  # fmt: skip
    coverage = write(
        "coverage.xml", f'<?xml version="1.0"?><coverage {_attributes(10_001)}><packages/></coverage>'
    )
    for option, path, source in (
        ("--junit", f"unit={junit}", "junit"),
        ("--coverage", str(coverage), "coverage"),
    ):
        run = _collect(option, path, cwd=tmp_path)
        assert run["rc"] == 3, run["stderr"]
        assert run["stderr"].splitlines() == [
            f"healthdeck: error: {path.removeprefix('unit=')}: {source}: an XML element has more than 10000 "
            "attributes (limit max_attributes in [tool.healthdeck])"
        ]
        assert run["peak"] < 100 * 2**20, f"peak RSS {run['peak'] / 2**20:.0f} MiB"


def test_attributes_are_counted_per_element_wherever_the_chunks_split(write, tmp_path: Path) -> None:
    # values holding `>`, `=` and the other quote are one attribute each; text full of `=` holds none;
    # one element with 150 attributes (too many) in the first 64 KiB, one far past it
    odd = " ".join(f"""b{i}='x > "=" y' c{i}="'>'=" """ for i in range(49))
    text = "=" * 200_000
    cases = "".join(f'<testcase name="t{i}" {_attributes(99)}/>' for i in range(100))
    ok = f'<testsuites><testsuite name="s"><testcase name="odd" {odd}><system-out>{text}</system-out></testcase>{cases}'
    path = write("ok.xml", ok + "</testsuite></testsuites>")
    with input_limits(InputLimits(max_attributes=100)):
        assert collect_junit([path]).counts.total == 101
        for where in (ok.index("<testcase"), ok.index('<testcase name="t50"')):
            bad = write(
                f"bad{where}.xml", ok[:where] + f'<testcase name="x" {_attributes(150)}/>' + ok[where:]
            )
            with pytest.raises(CollectorError, match="more than 100 attributes"):
                collect_junit([bad])
    (tmp_path / "pyproject.toml").write_text("[tool.healthdeck]\nmax_attributes = 100\n")
    run = _collect("--junit", f"unit={bad}", cwd=tmp_path)
    assert run["rc"] == 3 and "more than 100 attributes (limit max_attributes" in run["stderr"]
    (tmp_path / "pyproject.toml").write_text("[tool.healthdeck]\nmax_attributes = 99\n")
    assert _collect("--junit", f"unit={path}", cwd=tmp_path)["rc"] == 2


def test_gcovr_doctype_is_ignored_and_never_loaded() -> None:
    # gcovr 8.8 on tests/fixtures/runners/gcovr/calc.c: lines 6 of 8 (75%), branches 1 of 4 (25%)
    assert (GCOVR / "gcovr.xml").read_text().splitlines()[1].startswith("<!DOCTYPE coverage SYSTEM")
    result = collect_coverage(GCOVR / "gcovr.xml", "/work/gcovr")
    t = result.totals
    assert (t.statements, t.covered_statements, t.branches, t.covered_branches) == (8, 6, 4, 1)
    assert (t.statements_percent, t.branches_percent(True)) == (75.0, 25.0)


def test_jacoco_is_named(write, tmp_path: Path) -> None:
    path = write(
        "jacoco.xml",
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><!DOCTYPE report PUBLIC '
        '"-//JACOCO//DTD Report 1.1//EN" "report.dtd"><report name="corpus"><counter type="LINE" '
        'missed="0" covered="1"/></report>',
    )
    run = _collect("--coverage", str(path), cwd=tmp_path)
    assert run["rc"] == 3
    assert (
        run["stderr"]
        .strip()
        .endswith("JaCoCo XML is not supported; use coverage.py's Cobertura XML (coverage xml)")
    )


def test_inline_dtd_with_entities_stays_refused(write) -> None:
    path = write(
        "c.xml",
        '<?xml version="1.0"?><!DOCTYPE coverage [<!ENTITY x "y">]><coverage lines-valid="1"/>',
    )
    with pytest.raises(CollectorError, match="inline DTD"):
        collect_coverage(path)


def test_cobertura_paths_keep_their_ampersand(write) -> None:
    path = write(
        "c.xml",
        '<?xml version="1.0"?><coverage lines-valid="1" lines-covered="1" line-rate="1" branches-valid="0" '
        'branches-covered="0" branch-rate="0"><packages><package name="p"><classes>'
        '<class name="a" filename="r&amp;d/a.py"><lines><line number="1" hits="1"/></lines></class>'
        "</classes></package></packages></coverage>",
    )
    assert [f.path for f in collect_coverage(path).files] == ["r&d/a.py"]


def test_suite_properties_are_not_held(write, tmp_path: Path) -> None:
    """Only the <property> names the dialect guess reads are kept (3 million took 381 MB)."""
    props = "".join(f'<property name="p{i}" value="v"/>' for i in range(1_200_000))
    path = write(
        "junit.xml.gz",
        gzip.compress(f'<testsuites><testsuite name="s"><properties>{props}<property name="go.version" '
                      'value="go1.22"/></properties><testcase classname="c" name="t"/></testsuite></testsuites>'.encode()),
    )  # fmt: skip
    run = _collect("--junit", f"unit={path}", cwd=tmp_path)
    assert run["rc"] == 0, run["stderr"]
    assert run["peak"] < 80 * 2**20, f"peak RSS {run['peak'] / 2**20:.0f} MiB"
    print(f"1.2 million properties: peak RSS {run['peak'] / 2**20:.0f} MiB")
    small = write("go.xml", '<testsuites><testsuite name="s"><properties><property name="a" value="1"/><property '
                  'name="go.version" value="go1.22"/></properties><testcase classname="c" name="t"/></testsuite></testsuites>')  # fmt: skip
    assert collect_junit([small]).readings[0].dialect == "gotestsum"


def _failing_suite(n: int) -> bytes:
    """n failing tests, as a broken dependency fails them: 50 messages, each with its pytest traceback."""
    cases = "".join(
        f'<testcase classname="tests.test_api" name="test_{i}"><failure message="AssertionError: status {i % 50}">'
        f"tests/test_api.py:{i % 50}: in test_call\n    assert status == 200\nE   AssertionError: status {i % 50}"
        "</failure></testcase>"
        for i in range(n)
    )
    return gzip.compress(f'<testsuites><testsuite name="s">{cases}</testsuite></testsuites>'.encode())


def test_failing_tests_are_held_compactly(write, tmp_path: Path) -> None:
    """100 000 failing tests peaked at 114 MiB (a million: 564 MB): an object per failing test and per
    message, trace facts and sort key. Now their ids and shared messages (63 MiB), with the figures
    unchanged."""
    path = write("junit.xml.gz", _failing_suite(100_000))
    run = _collect("--junit", f"unit={path}", cwd=tmp_path)
    assert run["rc"] == 0, run["stderr"]
    assert run["peak"] < 90 * 2**20, f"peak RSS {run['peak'] / 2**20:.0f} MiB"
    report = json.loads((tmp_path / "out" / "latest.json").read_text())
    tests, details = report["summary"]["tests"]["unit"], report["details"]["tests"]["unit"]
    assert (tests["failed"], tests["total"], tests["causes"]) == (100_000, 100_000, 1)
    assert details["failing_total"] == 100_000 and len(details["failing"]) == 200
    assert details["failing"][0] == {
        "test_id": "tests.test_api::test_0", "outcome": "failed", "message": "AssertionError: status 0",
        "file": None, "cause": details["causes"][0]["id"], "failed_subtests": 0,
    }  # fmt: skip
    assert details["causes"][0]["count"] == 100_000
    assert details["causes"][0]["tests"][:3] == [f"tests.test_api::test_{i}" for i in (0, 1, 2)]


def test_failing_tests_recorded_in_history_are_held_once(write, tmp_path: Path) -> None:
    """200 000 failing tests, each with its own message, recorded in the history store peaked at 138 MiB
    (a million: 420 MiB): for the run-to-run comparison every test id stayed in the tally's set and
    `single` dict beside its failure, and the store gathered them in a dict of its own. Now each is held
    by its failure alone (109 MiB), with the same figures and rows."""
    # ("Err", not "E": "E123456" is seven hex digits, an id the cause signature takes out)
    cases = "".join(f'<testcase classname="c" name="t{i}"><failure message="Err{i} at 0x{i * 7919:x}">tb {i}'
                    "</failure></testcase>" for i in range(200_000))  # fmt: skip
    path = write(
        "junit.xml.gz",
        gzip.compress(f'<testsuites><testsuite name="s">{cases}</testsuite></testsuites>'.encode()),
    )
    run = _collect("--junit", f"unit={path}", cwd=tmp_path, history=True)
    assert run["rc"] == 0, run["stderr"]
    assert run["peak"] < 125 * 2**20, f"peak RSS {run['peak'] / 2**20:.0f} MiB"
    print(f"200 000 failing tests with history: peak RSS {run['peak'] / 2**20:.0f} MiB")
    report = json.loads((tmp_path / "out" / "latest.json").read_text())
    tests, details = report["summary"]["tests"]["unit"], report["details"]["tests"]["unit"]
    assert (tests["failed"], tests["total"], tests["causes"], details["failing_total"]) == (200_000,) * 4
    listed = {e["test_id"]: e["message"] for e in details["failing"]}
    assert len(listed) == 200 and all(
        m == f"Err{t[4:]} at 0x{int(t[4:]) * 7919:x}" for t, m in listed.items()
    )
    with sqlite3.connect(tmp_path / "out" / "h.sqlite") as db:
        rows = db.execute("SELECT count(*), count(DISTINCT test_id), min(test_id), max(test_id) FROM test_results "
                          "WHERE outcome = 'failed'").fetchone()  # fmt: skip
    assert rows == (200_000, 200_000, "c::t0", "c::t99999")


def test_the_testcases_of_a_suite_are_capped(write, tmp_path: Path) -> None:
    """Every test id of a suite is held: a suite's files may hold at most max_testcases <testcase>
    elements, counted as they stream by (a million tiny testcases under a cap of 100 000 were read whole)."""
    tiny = write("tiny.xml.gz", gzip.compress(
        ('<testsuites><testsuite name="s">'
         + "".join(f'<testcase classname="c" name="t{i}" time="0.001"/>' for i in range(1_000_000))
         + "</testsuite></testsuites>").encode()))  # fmt: skip
    (tmp_path / "pyproject.toml").write_text("[tool.healthdeck]\nmax_testcases = 100000\n")
    run = _collect("--junit", f"unit={tiny}", cwd=tmp_path)
    assert run["rc"] == 3, run["stderr"]
    assert run["stderr"].splitlines() == [
        f"healthdeck: error: {tiny}: junit: more than 100000 <testcase> elements in the files of one suite "
        "(limit max_testcases in [tool.healthdeck])"
    ]
    assert run["peak"] < 60 * 2**20, f"peak RSS {run['peak'] / 2**20:.0f} MiB"
    # the files of one suite count together (a rerun file, shards); each suite on its own
    cases = "".join(f'<testcase classname="c" name="t{i}"/>' for i in range(600))
    first, second = (write(f"{n}.xml", f"<testsuite>{cases}</testsuite>") for n in ("a", "b"))
    with input_limits(InputLimits(max_testcases=1000)):
        assert collect_junit([first]).counts.total == 600
        with pytest.raises(CollectorError) as info:
            collect_junit([first, second])
    assert info.value.path == str(second)  # where the count went past the cap
    with input_limits(InputLimits(max_testcases=1200)):
        assert collect_junit([first, second]).attempts == 1200
    (tmp_path / "pyproject.toml").write_text("[tool.healthdeck]\nmax_testcases = 0\n")
    run = _collect("--junit", f"unit={first}", cwd=tmp_path)
    assert run["rc"] == 2 and "max_testcases" in run["stderr"]

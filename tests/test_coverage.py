"""Coverage collector: real fixtures and live coverage.py runs; the figure equals `coverage report`."""

from __future__ import annotations

import gzip
import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from coverage.results import display_covered

from healthdeck.collectors import CollectorError
from healthdeck.collectors.base import InputLimits, input_limits
from healthdeck.collectors.coveragepy import collect_coverage
from tests.conftest import REAL, expected
from tests.coverage_project import run_coverage as _run_coverage

REAL_COVERAGE = expected("coverage")


@pytest.mark.parametrize("name", sorted(REAL_COVERAGE))
def test_real_totals_equal_coverage_report(name: str) -> None:
    want = REAL_COVERAGE[name]
    result = collect_coverage(REAL / name)
    assert display_covered(result.totals.percent, 2) == want["coverage_report_total_precision_2"]
    assert display_covered(result.totals.percent, 0) == want["coverage_report_total"]
    assert (result.totals.statements, result.totals.branches) == (want["statements"], want["branches"])
    assert result.branch_measured
    # the statements-only figure is Cobertura's line-rate, and it differs from the total
    assert result.totals.statements_percent != pytest.approx(result.totals.percent)


def test_xml_and_json_of_the_same_run_agree() -> None:
    xml = collect_coverage(REAL / "packaging.coverage.xml.gz")
    js = collect_coverage(REAL / "packaging.coverage.json.gz")
    assert xml.totals == js.totals
    assert {f.path: f.numbers for f in xml.files} == {f.path: f.numbers for f in js.files}


def _tool_total(cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "coverage", "report", "--format=total", "--precision=2"],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


@pytest.mark.parametrize("branch", [True, False], ids=["branch", "statements-only"])
@pytest.mark.parametrize("artifact", ["cov.xml", "cov.json", ".coverage"])
def test_live_run_every_format_equals_coverage_report(
    tmp_path, monkeypatch, branch: bool, artifact: str
) -> None:
    project = _run_coverage(tmp_path, branch)
    monkeypatch.chdir(project)  # .coverage is analysed against the sources, from where it was measured
    result = collect_coverage(project / artifact, root=project)
    assert display_covered(result.totals.percent, 2) == _tool_total(project)
    assert result.branch_measured is branch
    assert result.totals.branches_percent(result.branch_measured) is None or branch
    assert {f.path for f in result.files} >= {"pkg/core.py", "other/mod.py"}


def test_a_gzipped_data_file_reads_as_the_plain_one(tmp_path, monkeypatch) -> None:
    project = _run_coverage(tmp_path, branch=True)
    monkeypatch.chdir(project)
    packed = tmp_path / "coverage-data.gz"
    packed.write_bytes(gzip.compress((project / ".coverage").read_bytes()))
    plain, unpacked = (
        collect_coverage(project / ".coverage", root=project),
        collect_coverage(packed, root=project),
    )
    assert unpacked.file == str(packed) and unpacked.totals == plain.totals and unpacked.files == plain.files
    with input_limits(InputLimits(max_text_mb=1)):
        packed.write_bytes(gzip.compress((project / ".coverage").read_bytes() + bytes(2 * 1024 * 1024)))
        with pytest.raises(CollectorError) as info:
            collect_coverage(packed, root=project)
    assert f"{packed}: coverage: decompresses to more than 1 MiB (limit max_text_mb" in str(info.value)


@pytest.mark.parametrize("limit", ["max_text_mb", "max_input_mb"])
def test_a_data_file_past_the_input_limit_is_refused_before_coverage_reads_it(tmp_path, limit: str) -> None:
    """coverage.py loads a .coverage file whole, outside healthdeck's streaming readers: its size is held
    to max_text_mb (or a lower max_input_mb) first, as other inputs read whole are, in the same words."""
    data = tmp_path / ".coverage"
    data.write_bytes(b"SQLite format 3\x00" + bytes(2 * 1024 * 1024))
    with input_limits(InputLimits(**{limit: 1})), pytest.raises(CollectorError) as info:
        collect_coverage(data)
    assert str(data) in str(info.value) and f"larger than 1 MiB (limit {limit}" in str(info.value)


@pytest.mark.parametrize(
    ("sql", "value", "reason"),
    [
        # 1 MiB of 0xff is 8 M "executed lines": coverage.py took 1.09 GB to decode it and said 100 %
        (
            "UPDATE line_bits SET numbits = ?",
            b"\xff" * (1 << 20),
            "line numbers, more than coverage.py can analyse",
        ),
        ("UPDATE file SET path = path || ?", "x" * 100_000, "characters long; no real path is longer"),
    ],
    ids=["line-bits", "path"],
)
def test_a_data_file_coverage_py_would_choke_on_is_refused_before_it_reads_it(
    tmp_path, monkeypatch, sql: str, value: object, reason: str
) -> None:
    project = _run_coverage(tmp_path, branch=False)
    monkeypatch.chdir(project)
    data = project / ".coverage"
    with closing(sqlite3.connect(data)) as db, db:
        db.execute(sql, (value,))
    with pytest.raises(CollectorError) as info:
        collect_coverage(data, root=project)
    message = str(info.value)
    assert reason in message and len(message) < 500, message
    if "numbits" in sql:
        assert "limit max_decoded_mb" in message


def test_stub_xml_means_no_data(write) -> None:
    result = collect_coverage(
        write("stub.xml", '<?xml version="1.0" ?>\n<coverage line-rate="0.0"></coverage>')
    )
    assert result.has_data is False


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.xml", b"", "empty file"),
        ("junk.txt", b"hello", "not a coverage.py"),
        ("wrong.xml", b"<testsuites/>", "root element is <testsuites>"),
        ("bad.json", b'{"totals": ', "malformed JSON"),
        ("other.json", b'{"a": 1}', "not `coverage json` output"),
        ("trunc.xml", b'<coverage lines-valid="3"><packages><package>', "malformed XML"),
        ("bomb.xml", b'<!DOCTYPE c [<!ENTITY a "aaaa">]><coverage/>', "DOCTYPE"),
        ("data.coverage", b"SQLite format 3\x00" + b"\x00" * 100, "could not report"),
    ],
)
def test_bad_input(write, name: str, content: bytes, reason: str) -> None:
    path = write(name, content)
    with pytest.raises(CollectorError) as info:
        collect_coverage(path)
    assert str(path) in str(info.value) and reason in str(info.value)


def test_same_named_files_in_several_sources_keep_root_totals(write) -> None:
    # Real coverage.py behaviour with --cov=a --cov=b: both a/__init__.py and b/__init__.py are
    # written as <class filename="__init__.py">, one overwrites the other, the root counts both.
    path = write(
        "multi.xml",
        '<coverage lines-valid="3" lines-covered="2" branches-valid="0" branches-covered="0">'
        "<sources><source>/p/a</source><source>/p/b</source></sources><packages><package><classes>"
        '<class filename="__init__.py"><lines><line number="1" hits="1"/><line number="2" hits="0"/>'
        "</lines></class></classes></package></packages></coverage>",
    )
    result = collect_coverage(path)
    assert (result.totals.statements, result.totals.covered_statements) == (3, 2)
    assert "1 lost" in result.warnings[0]


def test_a_line_listed_twice_is_one_statement(tmp_path) -> None:
    """A merged or hand-made Cobertura file listing line 1 a thousand times: one statement, covered if any
    listing hit it, so the per-file figure agrees with the root's 1 of 2 (it was 1 000 of 1 001)."""
    lines = '<line number="1" hits="1"/>' * 1000
    path = tmp_path / "coverage.xml"
    path.write_text(
        '<coverage lines-valid="2" lines-covered="1" line-rate="0.5" branches-valid="0" branches-covered="0">'
        '<packages><package name="p"><classes><class name="m" filename="m.py"><lines>'
        f'{lines}<line number="2" hits="0"/></lines></class></classes></package></packages></coverage>'
    )
    result = collect_coverage(path)
    assert (result.totals.statements, result.totals.covered_statements) == (2, 1) and not result.warnings
    path.write_text(
        path.read_text().replace(
            '<line number="2" hits="0"/>', '<line number="2" hits="0"/><line number="2" hits="4"/>'
        )
    )
    result = collect_coverage(path)
    assert (result.totals.statements, result.totals.covered_statements) == (2, 2)  # hit in its second listing


def test_the_reports_file_list_is_capped_lowest_covered_first_with_the_exact_total(tmp_path) -> None:
    """A coverage report of many files: details.coverage.files holds coverage_files_listed of them (the
    lowest covered), files_total says how many there were; the totals are every file's."""
    from healthdeck.reports.cli import main

    classes = "".join(
        f'<class name="m{i}" filename="m{i}.py"><lines><line number="1" hits="1"/>'
        f'<line number="2" hits="{1 if i % 2 else 0}"/></lines></class>'
        for i in range(30)
    )
    path = tmp_path / "coverage.xml"
    path.write_text(f'<coverage lines-valid="60" lines-covered="45" line-rate="0.75"><packages><package name="p">'
                    f"<classes>{classes}</classes></package></packages></coverage>")  # fmt: skip
    (tmp_path / "pyproject.toml").write_text("[tool.healthdeck]\ncoverage_files_listed = 10\n")
    out = tmp_path / "out"
    assert main(["collect", "-q", "--no-history", "--config", str(tmp_path / "pyproject.toml"), "--out", str(out),
                 "--coverage", str(path)]) == 0  # fmt: skip
    report = json.loads((out / "latest.json").read_text())
    files = report["details"]["coverage"]["files"]
    assert report["details"]["coverage"]["files_total"] == 30 and report["summary"]["coverage"]["files"] == 30
    assert len(files) == 10 and all(f["percent"] == 50.0 for f in files)  # the half-covered ones
    assert [f["path"] for f in files] == sorted(f["path"] for f in files)


@pytest.mark.parametrize("kind", ["xml", "json"])
@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-32"])
def test_a_report_written_with_a_byte_order_mark_reads_as_in_utf8(tmp_path, kind, encoding) -> None:
    """Windows PowerShell's `>` writes UTF-16 with its mark (older ones UTF-8 with a BOM): the same
    figures, not "not a coverage.py XML, JSON or .coverage data file"."""
    source = REAL / ("packaging.coverage.xml.gz" if kind == "xml" else "packaging.coverage.json.gz")
    text = gzip.decompress(source.read_bytes()).decode("utf-8")
    if kind == "xml":
        text = text.replace('encoding="UTF-8"', f'encoding="{encoding.removesuffix("-sig").upper()}"', 1)
    path = tmp_path / f"coverage.{kind}"
    path.write_bytes(text.encode(encoding))
    assert collect_coverage(path).totals == collect_coverage(source).totals


def test_a_report_of_files_that_are_not_here_is_said_to_be_another_project_s(
    tmp_path, monkeypatch, capsys
) -> None:
    """python-dateutil's coverage read in a project that has none of its files: the figures are read,
    and the warning asks whether it is another project's report. Where one listed file is present, or
    with the check turned off, nothing is said."""
    from healthdeck.reports.cli import EXIT_OK, main

    sample = Path(__file__).resolve().parents[1] / "reports" / "samples" / "dateutil" / "coverage.xml.gz"
    monkeypatch.chdir(tmp_path)

    def warned(*config: str) -> list[str]:
        (tmp_path / "pyproject.toml").write_text("[tool.healthdeck]\n" + "".join(config))
        assert main(["collect", "-q", "--no-history", "--out", "out", "--coverage", str(sample)]) == EXIT_OK
        err = [line for line in capsys.readouterr().err.splitlines() if "is under the project root" in line]
        assert bool(err) == ("is under the project root" in (tmp_path / "out" / "latest.md").read_text())
        return err

    [line] = warned()
    assert line.startswith(
        "healthdeck: warning: coverage: none of the first 21 files it lists is under the project"
    )
    assert "(such as src/dateutil/__init__.py): is it another project's report" in line
    assert warned("coverage_paths_checked = false\n") == []
    (tmp_path / "src" / "dateutil").mkdir(parents=True)
    (tmp_path / "src" / "dateutil" / "easter.py").write_text("")  # not the first listed: the fifth
    assert warned() == []

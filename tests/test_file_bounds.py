"""Coverage and ruff reports of a million files stay within bounded memory: every file counts in the
totals and lanes, only the files a report lists are held, and a file's lines are bits, not strings."""

from __future__ import annotations

import gzip
import json
import os
import random
from pathlib import Path, PurePath

import pytest

from healthdeck.collectors import CollectorError
from healthdeck.collectors.coveragepy import MAX_LINE, CoverageOptions, collect_coverage
from healthdeck.collectors.ruff import _base_dir, _relative
from healthdeck.reports.build import Collected, build_report, coverage_options
from healthdeck.reports.config import Config
from healthdeck.reports.stamp import Stamp
from tests.test_xml_bounds import _collect

STAMP = Stamp(None, None, None, 1795488000, None)
LANES = "[tool.healthdeck.lanes]\nsrc = ['src/']\ntests = ['tests/']\n"


def _cobertura(classes: str, root: str = "") -> str:
    return f"<coverage{root}><packages><package name='p'><classes>{classes}</classes></package></packages></coverage>"


def test_a_million_line_file_and_200_000_files_stay_small(tmp_path: Path) -> None:
    """200 000 files held as objects took some 330 bytes each, 1 000 000 lines of one file as a set of
    their strings some 120 bytes each: about 220 MiB here. The figures are every file's."""
    lines = 1_000_000
    big = "".join(f'<line number="{n}" hits="{n % 4 and 1}"/>' for n in range(1, lines + 1))
    classes = [f'<class name="big" filename="src/big.py"><lines>{big}</lines></class>']
    classes += [
        f'<class name="m" filename="{"src" if i % 3 else "tests"}/d{i % 7}/m{i}.py"><lines>'
        f'<line number="1" hits="1"/><line number="2" hits="{i % 2}"/></lines></class>'
        for i in range(200_000)
    ]
    path = tmp_path / "coverage.xml.gz"
    path.write_bytes(gzip.compress(_cobertura("".join(classes)).encode(), compresslevel=1))
    (tmp_path / "pyproject.toml").write_text(LANES)
    run = _collect("--coverage", str(path), cwd=tmp_path)
    assert run["rc"] == 0, run["stderr"]
    assert run["peak"] < 100 * 2**20, f"peak RSS {run['peak'] / 2**20:.0f} MiB"
    report = json.loads((tmp_path / "out" / "latest.json").read_text())
    summary, detail = report["summary"]["coverage"], report["details"]["coverage"]
    small = {"src": [i for i in range(200_000) if i % 3], "tests": [i for i in range(200_000) if i % 3 == 0]}
    covered = {lane: sum(1 + i % 2 for i in files) for lane, files in small.items()}
    assert (summary["statements"], summary["covered_statements"], summary["files"]) == (
        lines + 400_000,
        lines - lines // 4 + covered["src"] + covered["tests"],
        200_001,
    )
    assert summary["lanes"]["src"]["files"] == len(small["src"]) + 1
    assert summary["lanes"]["src"]["covered_statements"] == lines - lines // 4 + covered["src"]
    assert summary["lanes"]["tests"]["statements"] == 2 * len(small["tests"])
    assert detail["files_total"] == 200_001 and len(detail["files"]) == 10_000
    # the lowest covered: the half-covered small files, by path ("src/d0/m1.py", "src/d0/m103.py", ...)
    half = sorted(f"{'src' if i % 3 else 'tests'}/d{i % 7}/m{i}.py" for i in range(200_000) if i % 2 == 0)
    assert [f["path"] for f in detail["lowest_files"]] == half[:10]
    assert [f["path"] for f in detail["files"]] == half[:10_000]


def _random_cobertura(rng: random.Random) -> str:
    """Files of a few folders, some listed twice (Java inner classes), many of the same percent."""
    classes = []
    for _ in range(rng.randrange(0, 60)):
        name = f"{rng.choice(['src', 'tests', 'other'])}/m{rng.randrange(12)}.py"
        lines = "".join(f'<line number="{n}" hits="{rng.randrange(2)}"/>' for n in range(rng.randrange(0, 5)))
        classes.append(f'<class name="c" filename="{name}"><lines>{lines}</lines></class>')
    return _cobertura("".join(classes), ' lines-valid="7" lines-covered="3"' if rng.randrange(2) else "")


@pytest.mark.parametrize("seed", range(40))
def test_holding_only_the_listed_files_makes_the_same_report(write, seed: int) -> None:
    """Whatever the ties, repeats and limits, the report made from the files kept is the one made from
    every file (the lowest covered by percent, then path, then reading order)."""
    rng = random.Random(seed)
    path = write("c.xml", _random_cobertura(rng))
    config = Config(lanes={"src": ("src/",), "tests": ("tests/",)}, lowest_files=rng.randrange(0, 12),
                    coverage_files_listed=rng.randrange(0, 20))  # fmt: skip
    try:
        every = collect_coverage(path, path.parent, CoverageOptions(10**9, coverage_options(config).lane))
    except CollectorError:
        return
    kept = collect_coverage(path, path.parent, coverage_options(config))
    assert len(kept.files) == min(every.files_total, max(config.lowest_files, config.coverage_files_listed))
    assert build_report(Collected(coverage=kept), config, STAMP) == build_report(
        Collected(coverage=every), config, STAMP
    )


def test_lines_are_counted_once_however_many_and_wherever_they_are(write) -> None:
    """A line listed again is one statement, covered if any listing hit it, past the set a file's first
    lines are held in (SET_LINES) and up to MAX_LINE; a number is read as a count is ("01" is line 1)."""
    rng = random.Random(7)
    numbers = [rng.choice([rng.randrange(1, 50), rng.randrange(1, 20_000), MAX_LINE]) for _ in range(30_000)]
    hits = [rng.randrange(3) == 0 for _ in numbers]
    lines = "".join(f'<line number="{n}" hits="{int(h)}"/>' for n, h in zip(numbers, hits, strict=True))
    path = write(
        "c.xml", _cobertura(f'<class filename="a.py"><lines>{lines}<line number="0001"/></lines></class>')
    )
    covered = {n for n, h in zip(numbers, hits, strict=True) if h}
    assert collect_coverage(path).totals.figures == (len(set(numbers)), len(covered), 0, 0)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('<line number="x1" hits="1"/>', "<line number='x1'> of 'a.py': number is 'x1', not a whole number"),
        (
            f'<line number="{MAX_LINE + 1}" hits="1"/>',
            f"<line number='{MAX_LINE + 1}'> of 'a.py': no source file has {MAX_LINE + 1} lines "
            f"(at most {MAX_LINE} are read)",
        ),
    ],
)
def test_a_line_number_no_file_has_is_one_line_exit_3(write, tmp_path: Path, line: str, reason: str) -> None:
    path = write("c.xml", _cobertura(f'<class filename="a.py"><lines>{line}</lines></class>'))
    run = _collect("--coverage", str(path), cwd=tmp_path)
    assert (run["rc"], run["stderr"].splitlines()) == (3, [f"healthdeck: error: {path}: coverage: {reason}"])


def test_sources_come_before_the_files_they_place(write, tmp_path: Path) -> None:
    classes = '<class filename="a.py"><lines><line number="1" hits="1"/></lines></class>'
    doc = f"<coverage><packages><package name='p'><classes>{classes}</classes></package></packages>"
    path = write("c.xml", doc + "<sources><source>/src</source></sources></coverage>")
    run = _collect("--coverage", str(path), cwd=tmp_path)
    assert (run["rc"], run["stderr"].splitlines()) == (
        3,
        [
            f"healthdeck: error: {path}: coverage: a <source> after a <class>: Cobertura lists its <sources> first"
        ],
    )


def test_ruff_findings_in_300_000_files_stay_small(write, tmp_path: Path) -> None:
    """300 000 findings, each in its own file written from another checkout: 259 MiB held as objects
    (and a split of every path to find their common folder); the report's figures are every finding's."""
    findings = [{"code": f"F{i % 50}", "filename": f"/w/pkg/d{i % 100}/m{i}.py", "location": {"row": i % 400 + 1},
                 "message": "unused"} for i in range(300_000)]  # fmt: skip
    path = write("ruff.json", json.dumps(findings))
    (tmp_path / "pyproject.toml").write_text(
        "[tool.healthdeck]\nprod_lanes = ['d1']\n[tool.healthdeck.lanes]\nd1 = ['d1/']\n"
    )
    run = _collect("--ruff", str(path), cwd=tmp_path)
    assert run["rc"] == 0, run["stderr"]
    assert run["peak"] < 180 * 2**20, f"peak RSS {run['peak'] / 2**20:.0f} MiB"
    report = json.loads((tmp_path / "out" / "latest.json").read_text())
    assert report["summary"]["ruff"]["count"] == {"total": 300_000, "lanes": {"d1": 3000}}
    detail = report["details"]["ruff"]
    assert detail["findings_total"] == 300_000 and "common folder /w/pkg" in detail["warnings"][0]
    d1 = sorted(range(1, 300_000, 100), key=lambda i: (len(str(i)), str(i)))  # natural order of m{i}.py
    assert [(f["path"], f["line"]) for f in detail["findings"]] == [
        (f"d1/m{i}.py", i % 400 + 1) for i in d1[:50]
    ]
    assert [f["count"] for f in detail["top_files"]] == [1] * 10


@pytest.mark.parametrize("base", ["/", "/w", "/w/pkg", "/w/pk", "//w"])
def test_ruff_paths_are_placed_as_pure_paths_place_them(base: str) -> None:
    names = ["/w/pkg/a.py", "/w/pkg", "/w/pkg/", "/w//pkg/./b.py", "//w/pkg/c.py", "w/pkg/d.py", "./e.py", "",
             "/w/pkga/f.py", "/w/pkg/../g.py", "/", "."]  # fmt: skip
    for name in names:
        pure = PurePath(name)
        expected = pure.relative_to(base).as_posix() if pure.is_relative_to(base) else pure.as_posix()
        assert _relative(name, Path(base)) == expected, name
    for subset in (names[:3], names[3:5], [n for n in names if n.startswith("/")]):
        assert _base_dir(subset, Path("/nowhere")) == _base_dir_of_old(subset, Path("/nowhere"))


def _base_dir_of_old(filenames: list[str], root: Path) -> Path:
    """ruff._base_dir as it was, with commonpath over every name."""
    absolute = [f for f in filenames if PurePath(f).is_absolute()]
    resolved = root.resolve()
    if not absolute or any(PurePath(f).is_relative_to(resolved) for f in absolute):
        return resolved
    common = PurePath(os.path.commonpath(absolute))
    common = common.parent if str(common) in absolute else common
    for base in reversed((common, *common.parents)):
        if all((resolved / PurePath(f).relative_to(base)).is_file() for f in absolute[:50]):
            return Path(base)
    return Path(common)


def _random_coverage_json(rng: random.Random) -> str:
    """Entries good and bad, names given several times, sometimes two "files" objects."""

    def entry() -> str:
        statements = rng.randrange(4)
        if rng.randrange(10):
            return json.dumps(
                {"summary": {"num_statements": statements, "covered_lines": rng.randrange(statements + 1)}}
            )
        return rng.choice([
            json.dumps({"summary": {"num_statements": 1, "covered_lines": 2}}),  # impossible
            str(rng.randrange(9)), '{"summary": "x"}', '{"summary": {"num_statements": "two", "covered_lines": 1}}',
        ])  # fmt: skip

    def files() -> str:
        return "{" + ", ".join(f'"m{rng.randrange(8)}.py": {entry()}' for _ in range(rng.randrange(12))) + "}"

    totals = '"totals": {"num_statements": 3, "covered_lines": 1}'
    return "{" + ", ".join([f'"files": {files()}'] * rng.randrange(1, 3) + [totals]) + "}"


@pytest.mark.parametrize("seed", range(200))
def test_coverage_json_reads_as_json_loads_reads_it(write, seed: int) -> None:
    """Bad entries are not held as they are read; a file refused is still the first in name order whose
    entry read last (as json.loads keeps it) is bad, and its reason that entry's."""
    from healthdeck.collectors.coveragepy import Invalid, _json_entry, _unpacked

    text = _random_coverage_json(random.Random(seed))
    entries = json.loads(text)["files"]
    figures = {name: _json_entry(entries[name], name) for name in sorted(entries)}
    bad = [reason for reason in figures.values() if isinstance(reason, Invalid)]
    path = write("c.json", text)
    if bad:
        with pytest.raises(CollectorError) as refused:
            collect_coverage(path)
        assert refused.value.reason == str(bad[0])
    elif any(not isinstance(v, Invalid) and _unpacked(v).statements for v in figures.values()):
        result = collect_coverage(path)
        assert [(f.path, f.numbers) for f in result.files] == [(n, _unpacked(v)) for n, v in figures.items()]


def test_a_million_bad_coverage_json_entries_are_not_held(write, tmp_path: Path) -> None:
    """The reasons of 3.8 million tiny entries ("0": 0) took 4 GB; now the report is read again for the
    first of them."""
    files = ",".join(f'"{i}": {i}' for i in range(1_000_000, 0, -1))
    path = write("c.json", '{"files": {' + files + '}, "totals": {"num_statements": 1, "covered_lines": 1}}')
    run = _collect("--coverage", str(path), cwd=tmp_path)
    assert run["stderr"].splitlines() == [
        f"healthdeck: error: {path}: coverage: files['1'] is a number, expected an object"
    ]
    assert run["rc"] == 3 and run["peak"] < 100 * 2**20, f"peak RSS {run['peak'] / 2**20:.0f} MiB"


@pytest.mark.parametrize(
    ("sources", "reason"),
    [
        ("<source>/s</source>" * 1001, "more than 1000 <source> folders"),
        (f"<source>/{'s' * 10_000}</source>", "a <source> of more than 8192 characters, no folder's path"),
    ],
)
def test_sources_no_report_has_are_one_line_exit_3(write, tmp_path: Path, sources: str, reason: str) -> None:
    """Each file is placed under every <source>: a million of them (or one of 30 MiB) are no folders."""
    classes = '<class filename="a.py"><lines><line number="1" hits="1"/></lines></class>'
    path = write("c.xml", f"<coverage><sources>{sources}</sources>{_cobertura(classes)[10:]}")
    run = _collect("--coverage", str(path), cwd=tmp_path)
    assert (run["rc"], run["stderr"].splitlines()) == (3, [f"healthdeck: error: {path}: coverage: {reason}"])
    at_the_limit = sources.replace("<source>/s</source>", "", 1).replace("s" * 10_000, "s" * 8191)
    path = write("ok.xml", f"<coverage><sources>{at_the_limit}</sources>{_cobertura(classes)[10:]}")
    assert collect_coverage(path).totals.statements == 1

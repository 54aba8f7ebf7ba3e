"""Hostile and malformed inputs through the real command: one line naming the file and the reason,
exit 3, nothing written. Plus the cases where the input is usable but its own figures disagree
(the per-file data wins, and the run says so), the strict writer, and configuration ranges."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import math
import re
import zipfile
from pathlib import Path

import pytest

from healthdeck.collectors.coveragepy import collect_coverage
from healthdeck.reports.cli import EXIT_INPUT, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, main
from healthdeck.reports.config import _INT_KEYS, INT_RANGES
from healthdeck.reports.output import json_text
from healthdeck.reports.schema import ReportError
from tests.conftest import EDGE, REAL

BIG = "9" * 5000
NESTED = "[" * 100_000 + "]" * 100_000
COV_TOTALS = {"num_statements": 10, "covered_lines": 5}


def _cov_json(**changes: object) -> str:
    doc = {"meta": {"version": "7.6", "branch_coverage": False}, "totals": COV_TOTALS, "files": {}}
    return json.dumps({**doc, **changes})


def _cobertura(root: str, lines: str = "") -> str:
    classes = f'<class filename="a.py"><lines>{lines}</lines></class>' if lines else ""
    return (
        f"<coverage {root}><sources><source>/p</source></sources><packages><package><classes>{classes}"
        "</classes></package></packages></coverage>"
    )


def _zipped(name: str, text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, text)
    return buffer.getvalue()


VIOLATION = {"code": "F401", "message": "x", "filename": "/p/a.py", "location": {"row": 1, "column": 1}}
STAT = {"code": "F401", "name": "unused-import", "count": 5, "fixable": True}

# (flag, file name, content, what the one line must say)
HOSTILE: list[tuple[str, str, str | bytes, str]] = [
    ("--coverage", "files-list.json", _cov_json(files=[]), "files is a list, expected an object"),
    ("--coverage", "meta-string.json", _cov_json(meta="x"), "meta is a string, expected an object"),
    ("--coverage", "1e400.json", _cov_json().replace('"num_statements": 10', '"num_statements": 1e400'),
     "totals.num_statements is inf, not a finite number"),
    ("--coverage", "bigint.json", _cov_json().replace('"num_statements": 10', f'"num_statements": {BIG}'),
     "a number with more digits than any count has"),
    ("--coverage", "nested.json", '{"meta": ' + NESTED + ', "totals": {}, "files": {}}', "nested too deeply"),
    ("--coverage", "negative.json", _cov_json(totals={"num_statements": -10, "covered_lines": 0}),
     "num_statements is -10, a count cannot be negative"),
    ("--coverage", "nan.json", _cov_json().replace('"covered_lines": 5', '"covered_lines": NaN'),
     "NaN is not a JSON number"),
    ("--coverage", "string-count.json", _cov_json(totals={"num_statements": "ten", "covered_lines": 0}),
     "num_statements is 'ten', not a whole number"),
    ("--coverage", "bool-count.json", _cov_json(totals={"num_statements": True, "covered_lines": 0}),
     "num_statements is True (bool), not a whole number"),
    ("--coverage", "file-summary-list.json",
     _cov_json(files={"a.py": {"summary": [1, 2]}}), "files['a.py'].summary is a list, expected an object"),
    ("--coverage", "branch-flag.json", _cov_json(meta={"branch_coverage": "yes"}),
     "meta.branch_coverage is 'yes', not true or false"),
    ("--coverage", "covered-over-valid.json", _cov_json(totals={"num_statements": 5, "covered_lines": 9}),
     "9 covered of 5 is impossible"),
    ("--coverage", "impossible.xml", _cobertura('lines-valid="10" lines-covered="20"'),
     "lines-covered/lines-valid: 20 covered of 10 is impossible"),
    ("--coverage", "negative.xml", _cobertura('lines-valid="-10" lines-covered="0"'),
     "lines-valid is '-10', not a whole number"),
    ("--coverage", "bigint.xml", _cobertura(f'lines-valid="{BIG}" lines-covered="1"'),
     "lines-valid has 5000 digits, not a plausible count"),
    ("--coverage", "hits.xml", _cobertura('lines-valid="1" lines-covered="1"', '<line number="1" hits="banana"/>'),
     "<line number='1'> of 'a.py': hits is 'banana', not a whole number"),
    ("--coverage", "condition.xml",
     _cobertura('lines-valid="1" lines-covered="1"',
                '<line number="1" hits="1" branch="true" condition-coverage="150% (3/2)"/>'),
     "condition-coverage: 3 covered of 2 is impossible"),
    ("--coverage", "condition-big.xml",
     _cobertura('lines-valid="1" lines-covered="1"',
                f'<line number="1" hits="1" branch="true" condition-coverage="50% ({BIG}/2)"/>'),
     "covered branches has 5000 digits"),
    ("--coverage", "nested.xml", "<coverage>" + "<a>" * 100_000 + "</a>" * 100_000 + "</coverage>",
     "elements nested more than 64 deep"),
    ("--coverage", "class-in-class.xml",
     '<coverage lines-valid="1"><class filename="a.py"><class filename="b.py"/></class></coverage>',
     "<class> inside <class filename='a.py'>"),
    ("--ruff", "1e400.json", '[{"code": "F401", "name": "x", "count": 1e400}]', "count is inf, not a finite number"),
    ("--ruff", "bigint.json", f'[{{"code": "F401", "name": "x", "count": {BIG}}}]', "more digits than any count"),
    ("--ruff", "bigint.txt", f"{BIG}\tF401\t[*] unused-import\n", "line 1: count has 5000 digits"),
    ("--ruff", "found-bigint.txt", f"1\tF401\t[*] unused-import\nFound {BIG} errors.\n", "line 2: 'Found N errors.'"),
    ("--ruff", "nested.json", NESTED, "nested too deeply"),
    ("--ruff", "code-list.json", json.dumps([{**VIOLATION, "code": ["F401"]}]), "entry 0: code is ['F401'] (list)"),
    ("--ruff", "code-list-stats.json", json.dumps([{**STAT, "code": ["F401"]}]), "entry 0: code is ['F401'] (list)"),
    ("--ruff", "negative.json", json.dumps([{**STAT, "count": -5}]), "count is -5, a count cannot be negative"),
    ("--ruff", "float-count.json", json.dumps([{**STAT, "count": 2.5}]), "count is 2.5 (float), not a whole number"),
    ("--ruff", "mixed.json", json.dumps([VIOLATION, STAT]), "mixes 1 violations (entry 0) with 1 statistics"),
    ("--ruff", "mixed-stats-first.json", json.dumps([STAT, VIOLATION, VIOLATION]), "mixes 2 violations (entry 1)"),
    ("--ruff", "location-string.json", json.dumps([{**VIOLATION, "location": "1:1"}]), "location is a string"),
    ("--ruff", "filename-number.json", json.dumps([{**VIOLATION, "filename": 7}]), "filename is 7 (int)"),
    ("--ruff", "object.json", '[{"code": "F401"}, 3]', "not a list of ruff objects"),
    ("--ruff", "unicode-digits.txt", "١٢\tF401\t[*] unused-import\n", "line 1: count is '١٢', not a whole number"),
    ("--compileall", "binary.txt", b"\x00\x01", "binary content"),
    ("--compileall", "latin1.txt", "*** Error compiling 'caf\xe9.py'...\n".encode("latin-1"), "not valid UTF-8"),
    # packed the ways a CI hands files around: named for what they are, not "malformed XML"
    ("--coverage", "coverage.zip", _zipped("coverage.xml", _cobertura('line-rate="1"')), "a zip archive"),
    ("--coverage", "coverage.xml.bz2", bz2.compress(_cobertura('line-rate="1"').encode()), "compressed with bzip2"),
    ("--ruff", "ruff.json.xz", lzma.compress(json.dumps([VIOLATION]).encode()), "compressed with xz"),
    ("--ruff", "ruff.json.gz.gz", gzip.compress(gzip.compress(json.dumps([VIOLATION]).encode())), "gzip inside gzip"),
    ("--compileall", "compileall.txt.gz", gzip.compress(b"Listing 'x'...")[:12], "cannot decompress"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("flag", "name", "content", "reason"), HOSTILE, ids=[f"{f[2:]}-{n}" for f, n, _, _ in HOSTILE]
)
def test_hostile_input_is_one_line_and_exit_3(tmp_path, capsys, flag, name, content, reason) -> None:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    code = main(["collect", "--no-history", "--out", str(tmp_path / "out"), flag, str(path)])
    err = capsys.readouterr().err
    assert (code, err.count("\n")) == (EXIT_INPUT, 1), err[:2000]
    assert err.startswith(f"healthdeck: error: {path}: ") and reason in err
    assert len(err) < 500  # never the 5 000 digits back
    assert not (tmp_path / "out").exists()


def test_gzipped_hostile_input_is_the_same_error(tmp_path, capsys) -> None:
    path = tmp_path / "ruff.json.gz"
    path.write_bytes(gzip.compress(json.dumps([VIOLATION, STAT]).encode()))
    assert main(["collect", "--no-history", "--out", str(tmp_path), "--ruff", str(path)]) == EXIT_INPUT
    assert "mixes 1 violations" in capsys.readouterr().err


def test_corrupt_gzip_decision_log_is_exit_3(tmp_path, capsys) -> None:
    sample = Path(__file__).parents[1] / "reports" / "samples" / "guardian"
    data = bytearray((sample / "permissive.jsonl.gz").read_bytes())
    data[12:40] = b"\xff" * 28  # a deflate stream that zlib refuses ("invalid block type")
    bad = tmp_path / "permissive.jsonl.gz"
    bad.write_bytes(bytes(data))
    code = main(["collect", "--no-history", "--out", str(tmp_path / "out"),
                 "--guardian-permissive", str(bad), "--guardian-strict", str(sample / "strict.jsonl.gz")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == EXIT_INPUT and err.count("\n") == 1 and "cannot decompress" in err and str(bad) in err


# --- usable inputs whose own figures disagree: the per-file data wins, and the run says so ---

LINES_3_OF_4 = "".join(f'<line number="{n}" hits="{h}"/>' for n, h in ((1, 1), (2, 0), (3, 1), (4, 1)))


@pytest.mark.parametrize(
    ("root", "want"),
    [
        ('lines-valid="4" lines-covered="4" branches-valid="0" branches-covered="0"', "disagree with its per-file data"),
        ('line-rate="0.5"', "the report has no totals; computed from its 1 files"),
        ('lines-valid="4" lines-covered="9"', "the report's totals are unusable"),
    ],
    ids=["root-says-100", "lines-valid-missing", "root-impossible"],
)  # fmt: skip
def test_per_file_data_wins_and_is_reported(tmp_path, capsys, monkeypatch, root: str, want: str) -> None:
    monkeypatch.chdir(tmp_path)  # the project root, where the report's a.py is
    (tmp_path / "a.py").write_text("x = 1\n")
    path = tmp_path / "coverage.xml"
    path.write_text(_cobertura(root, LINES_3_OF_4))
    assert main(["collect", "--no-history", "--out", str(tmp_path), "--coverage", str(path)]) == EXIT_OK
    report = json.loads((tmp_path / "latest.json").read_text())
    assert report["summary"]["coverage"]["percent"] == 75.0
    assert (
        report["summary"]["coverage"]["statements"],
        report["summary"]["coverage"]["covered_statements"],
    ) == (4, 3)
    # one line about coverage (beside the one that says the folder is no git work tree)
    [err] = [line for line in capsys.readouterr().err.splitlines() if "is not a git repository" not in line]
    assert err.startswith("healthdeck: warning: coverage: ") and want in err
    assert want in (tmp_path / "latest.md").read_text()


def test_json_totals_that_disagree_with_files_lose(write) -> None:
    files = {"a.py": {"summary": {"num_statements": 10, "covered_lines": 9}}}
    result = collect_coverage(
        write("c.json", _cov_json(totals={"num_statements": 10, "covered_lines": 10}, files=files))
    )
    assert result.totals.covered_statements == 9 and "disagree" in result.warnings[0]


def test_real_report_has_no_warning() -> None:
    for name in ("dateutil.coverage.xml.gz", "packaging.coverage.xml.gz", "packaging.coverage.json.gz"):
        assert collect_coverage(REAL / name).warnings == ()


def test_stub_and_empty_file_lists_keep_their_meaning(write) -> None:
    stub = collect_coverage(write("stub.xml", '<coverage line-rate="0.0"></coverage>'))
    assert stub.has_data is False  # nothing measured: no data, never 0 % and never 100 %
    root_only = collect_coverage(
        write("root.xml", '<coverage lines-valid="10" lines-covered="4"></coverage>')
    )
    assert root_only.totals.percent == 40.0 and root_only.warnings == ()


def test_java_style_method_lines_are_not_counted_twice(write) -> None:
    method = '<methods><method name="f"><lines><line number="1" hits="1"/></lines></method></methods>'
    lines = '<lines><line number="1" hits="1"/><line number="2" hits="0"/></lines>'
    doc = f'<coverage lines-valid="2" lines-covered="1"><class filename="a.py">{method}{lines}</class></coverage>'
    result = collect_coverage(write("java.xml", doc))
    assert (result.totals.statements, result.warnings) == (2, ())


# --- the writer ---


def test_writer_refuses_non_finite_numbers() -> None:
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ReportError, match=r"non-finite number at summary\.tests\.unit\.time_seconds"):
            json_text({"summary": {"tests": {"unit": {"time_seconds": bad}}}})
    assert json.loads(json_text({"a": [1.5, None]})) == {"a": [1.5, None]}


def test_report_failing_its_schema_is_exit_5_one_line(tmp_path, capsys, monkeypatch) -> None:
    # A collector bug that lets a negative count through: the report is refused before writing.
    from healthdeck.reports import build

    real = build._ruff
    monkeypatch.setattr(
        build,
        "_ruff",
        lambda result, config: (lambda s, d: ({**s, "syntax_errors": -1}, d))(*real(result, config)),
    )
    code = main(["collect", "--no-history", "--out", str(tmp_path), "--ruff", str(REAL / "more-itertools.ruff-statistics.txt")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == EXIT_INTERNAL == 5 and err.count("\n") == 1
    assert "internal error: the report does not match its schema at summary.ruff.syntax_errors" in err
    assert not (tmp_path / "latest.json").exists()


def test_gate_refuses_a_hand_edited_report_in_one_line(tmp_path, capsys) -> None:
    """A latest.json edited by hand (a count made a string, a section cut out): exit 3, one line naming
    the file and the place, the file left as it was, with and without --no-write."""
    out = tmp_path / "out"
    collect = ["collect", "-q", "--no-history", "--out", str(out), "--ruff", str(REAL / "more-itertools.ruff-statistics.txt")]  # fmt: skip
    assert main(collect) == EXIT_OK
    path = out / "latest.json"
    report = json.loads(path.read_text())
    edits = [("summary", "ruff", "count", "total", "12"), ("summary", "ts", None)]
    for *keys, value in edits:
        edited = json.loads(json.dumps(report))
        node = edited
        for key in keys[:-1]:
            node = node[key]
        if value is None:
            del node[keys[-1]]
        else:
            node[keys[-1]] = value
        path.write_text(json.dumps(edited))
        before = path.read_bytes()
        for extra in ([], ["--no-write"]):
            capsys.readouterr()
            assert main(["gate", "--report", str(path), *extra]) == EXIT_INPUT
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and f"{path}: not a valid healthdeck report at " in err
            assert (".".join(keys) if value is not None else "'ts' is a required property") in err
            assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda r: r["summary"].update(tests="lots"), "not a valid healthdeck report at summary.tests"),
        (lambda r: r.update(schema_version="9.0"), "report schema '9.0': this healthdeck reads schema 1.x"),
        ("NaN", "NaN is not a JSON number"),
        ("deep", "not a JSON report"),
        ("bignum", "not a JSON report"),
    ],
)
def test_every_reader_refuses_a_hostile_report_in_one_line(tmp_path, capsys, edit, words) -> None:
    """gate, comment, badge and a `report:` baseline: exit 3 and one line naming the file, never a
    traceback from whatever part of the report a reader touches first."""
    out = tmp_path / "out"
    collect = ["collect", "-q", "--no-history", "--out", str(out), "--junit", f"unit={EDGE / 'xunit2.xml'}"]
    assert main(collect) == EXIT_OK
    path = out / "latest.json"
    text = path.read_text()
    if callable(edit):
        report = json.loads(text)
        edit(report)
        text = json.dumps(report)
    else:
        text = {"NaN": text.replace('"ts": ', '"ts": NaN, "x": ', 1),
                "deep": "[" * 100_000 + "]" * 100_000,
                "bignum": '{"schema_version": "1.7", "summary": {"ts": ' + "9" * 5000 + "}}"}[edit]  # fmt: skip
    bad = tmp_path / "bad.json"
    bad.write_text(text)
    for args in (["gate", "--no-write", "--report", str(bad)], ["comment", "--report", str(bad)],
                 ["badge", "--report", str(bad), "--out", str(tmp_path / "b")],
                 [*collect, "--baseline", f"report:{bad}"]):  # fmt: skip
        capsys.readouterr()
        assert main(args) == EXIT_INPUT, args
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and str(bad) in err and words in err, (args, err)


def test_a_baseline_folder_without_a_report_is_refused(tmp_path, capsys) -> None:
    """A downloaded artifact folder without latest.json is the wrong artifact, not the first run."""
    collect = ["collect", "-q", "--no-history", "--out", str(tmp_path / "out"), "--junit", f"unit={EDGE / 'xunit2.xml'}"]  # fmt: skip
    assert main([*collect, "--baseline", f"report:{tmp_path}/empty"]) == EXIT_OK  # missing: the first run
    (tmp_path / "empty").mkdir()
    assert main([*collect, "--baseline", f"report:{tmp_path}/empty"]) == EXIT_INPUT
    assert "a folder without latest.json" in capsys.readouterr().err


# --- configuration ---


@pytest.mark.parametrize(
    ("toml", "reason"),
    [
        ('[tool]\nhealthdeck = "x"\n', "[tool.healthdeck] must be a table, not str"),
        ('[tool.healthdeck]\nroot = "/nonexistent/x"\n', "root = '/nonexistent/x': no such folder"),
        # a pull request can commit this pyproject.toml: tomllib recurses, Python's stack does not
        ("[tool.healthdeck]\nx = " + "[" * 5000 + "]" * 5000 + "\n", "arrays or tables nested too deeply"),
        ("[a]\nx = " + "{y=" * 3000 + "1" + "}" * 3000 + "\n", "arrays or tables nested too deeply"),
        ('tool = "x"\n', "[tool] must be a table, not str"),
        ("[tool.healthdeck]\ncoverage_precision = 100000000\n", "coverage_precision must be from 0 to 10"),
        ("[tool.healthdeck]\nmessage_chars = 0\n", "message_chars must be from 1 to 100000"),
        ("[tool.healthdeck.guardian]\ntimeout = nan\n", "timeout must be a number of seconds above 0"),
        ("[tool.healthdeck.guardian]\ntimeout = 1e9\n", "at most 3600"),
        ("[tool.healthdeck.gates]\ncoverage_min = 150\n", "coverage_min must be a percentage from 0 to 100"),
        ("[tool.healthdeck.gates]\nmax_age_hours = inf\n", "max_age_hours must be a non-negative number"),
        ("[tool.healthdeck.badge_thresholds]\ncoverage = [nan, 1]\n", "coverage must be [green_at_or_above"),
        ("[tool.healthdeck.gates]\nmax_age_hours = 1e308\n", "max_age_hours = 1e+308: at most 8784 hours"),
        ('[tool.healthdeck.guardian]\npreset = ["x"]\n', "preset must be one of"),
        ('\ufeff[tool.healthdeck]\nproject = "x"\n', "starts with a byte-order mark"),
        (
            '[tool.healthdeck.categories]\ninfra = {message = "a{4294967295}"}\n',
            "not a valid regular expression",
        ),
    ],
)
def test_bad_config_is_one_line_and_exit_2(tmp_path, capsys, toml: str, reason: str) -> None:
    cfg = tmp_path / "pyproject.toml"
    cfg.write_text(toml)
    code = main(["collect", "--no-history", "--config", str(cfg), "--out", str(tmp_path / "out"),
                 "--ruff", str(REAL / "more-itertools.ruff-statistics.txt")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == EXIT_USAGE and err.count("\n") == 1 and reason in err, err


def test_every_integer_setting_has_a_range() -> None:
    assert set(INT_RANGES) == _INT_KEYS


def _special(tmp_path: Path, kind: str) -> str:
    """A FIFO nobody writes to (open() would block for ever), or a device that never ends."""
    if kind == "fifo":
        import os

        fifo = tmp_path / "artifact.fifo"
        os.mkfifo(fifo)
        return str(fifo)
    return "/dev/zero"


SPECIAL_INPUTS = [
    (["collect", "--no-history", "--junit", "unit={path}"], EXIT_INPUT),
    (["collect", "--no-history", "--coverage", "{path}"], EXIT_INPUT),
    (["collect", "--no-history", "--ruff", "{path}"], EXIT_INPUT),
    (["collect", "--no-history", "--compileall", "{path}"], EXIT_INPUT),
    (["gate", "--no-write", "--report", "{path}"], EXIT_INPUT),
    (["badge", "--report", "{path}"], EXIT_INPUT),
    (["gate", "--config", "{path}", "--report", "latest.json"], EXIT_USAGE),
]


@pytest.mark.parametrize("kind", ["fifo", "device"])
@pytest.mark.parametrize(
    "command, code", SPECIAL_INPUTS, ids=lambda v: " ".join(v) if isinstance(v, list) else str(v)
)
def test_a_fifo_or_a_device_is_one_line_not_a_hang_or_unbounded_memory(tmp_path, capsys, monkeypatch, kind,
                                                                       command, code) -> None:  # fmt: skip
    import resource

    from healthdeck.collectors import files

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(files, "PIPE_WAIT_SECONDS", 0.3)  # nobody will write: the wait ends, then one line
    path = _special(tmp_path, kind)
    path_named = True  # a FIFO nobody writes is not an empty input: a compileall "clean run" would be a lie
    args = [a.format(path=path) for a in command]
    if args[0] == "collect":
        args[1:1] = ["--out", str(tmp_path / "out")]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert main(args) == code  # a hang would time the test out; /dev/zero read whole would exhaust memory
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # KiB: under 200 MB more
    if path_named:
        [line] = capsys.readouterr().err.strip().splitlines()
        assert line.startswith("healthdeck: error: ") and path in line


def _piped(data: bytes) -> str:
    """What `<(zcat f.gz)` hands a command: /dev/fd/N of a pipe that a writer is filling."""
    import os
    import threading

    read, write = os.pipe()

    def writer() -> None:
        with os.fdopen(write, "wb") as sink:
            sink.write(data)

    threading.Thread(target=writer, daemon=True).start()
    return f"/dev/fd/{read}"


PIPED = [
    ("--junit", "unit={}", REAL / "more-itertools.junit.xml", 2000),
    ("--coverage", "{}", REAL / "more-itertools.coverage.xml.gz", None),  # gzip, as a pipe of zcat's output
    ("--coverage", "{}", REAL / "more-itertools.coverage.xml.gz", 3000),
]


@pytest.mark.parametrize(("flag", "value", "source", "cut"), PIPED)
def test_process_substitution_reads_like_the_file(tmp_path, capsys, flag, value, source, cut) -> None:
    """A pipe is read once: a reader that looks twice (the format, then the content; an error's line) must
    not find it empty. Whole, the figures are the file's; cut short, the reason is the file's reason."""
    data = source.read_bytes()
    data = gzip.decompress(data) if source.suffix == ".gz" and cut else data
    data = data[:cut] if cut else data
    plain = tmp_path / "plain"
    plain.write_bytes(data)
    runs = {}
    for name, path in (("file", str(plain)), ("pipe", _piped(data))):
        code = main(
            ["collect", "-q", "--no-history", "--out", str(tmp_path / name), flag, value.format(path)]
        )
        # the JUnit reader skips runs of plain testcases, so expat's place in a pipe is not the file's,
        # and a pipe cannot be read again to find it: the reason comes without it
        runs[name] = (
            code,
            re.sub(r" \(line \d+, column \d+\)", "", capsys.readouterr().err.replace(path, "PATH")),
        )
    assert runs["pipe"] == runs["file"]
    if cut:
        assert runs["file"][0] == EXIT_INPUT and "malformed XML" in runs["file"][1]
    else:
        summary = {
            n: json.loads((tmp_path / n / "latest.json").read_text())["summary"]["coverage"] for n in runs
        }
        assert summary["pipe"] == summary["file"] and summary["file"]["percent"] > 0


def test_a_file_name_with_a_newline_or_an_escape_stays_one_line(tmp_path, capsys) -> None:
    """A glob matched a file whose name holds a newline and a workflow command, and a terminal escape."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "x\n::error file=app.py,line=1::injected\x1b[31m.xml").write_text("<testsuite")
    assert main(["collect", "-q", "--no-history", "--out", str(tmp_path / "out"), "--junit",
                 f"unit={tmp_path / 'in' / '*.xml'}"]) == EXIT_INPUT  # fmt: skip
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "x\\n::error file=app.py,line=1::injected\\x1b[31m.xml: junit: " in line


def test_a_pipe_whose_writer_starts_late_is_waited_for(tmp_path, capsys) -> None:
    """A named FIFO read before its writer opens it read as empty: for compileall, a clean run that was not.
    The first byte (or the writer's close) is now waited for."""
    import os
    import threading
    import time

    source = REAL / "dateutil15.compileall.txt"
    fifo = tmp_path / "compileall.fifo"
    os.mkfifo(fifo)

    def late_writer() -> None:
        time.sleep(1.0)
        with open(fifo, "wb") as sink:
            sink.write(source.read_bytes())

    threading.Thread(target=late_writer, daemon=True).start()
    assert (
        main(["collect", "-q", "--no-history", "--out", str(tmp_path / "pipe"), "--compileall", str(fifo)])
        == 0
    )
    assert (
        main(["collect", "-q", "--no-history", "--out", str(tmp_path / "file"), "--compileall", str(source)])
        == 0
    )
    got = [
        json.loads((tmp_path / n / "latest.json").read_text())["summary"]["compileall"]
        for n in ("pipe", "file")
    ]
    assert got[0] == got[1] and got[1]["failures"] > 0


def test_a_config_from_a_pipe_reads_its_paths_against_the_working_directory(tmp_path, monkeypatch) -> None:
    """`--config <(…)` is /dev/fd/N: its folder is no project's (`out = ".."` would be /dev)."""
    import os
    import threading

    monkeypatch.chdir(tmp_path)
    read, write = os.pipe()
    text = b'[tool.healthdeck]\nout = "rep"\nroot = "."\n'
    threading.Thread(target=lambda: (os.write(write, text), os.close(write)), daemon=True).start()
    assert main(["collect", "-q", "--no-history", "--config", f"/dev/fd/{read}",
                 "--ruff", str(REAL / "more-itertools.ruff-statistics.txt")]) == EXIT_OK  # fmt: skip
    assert (tmp_path / "rep" / "latest.json").exists()


def test_a_config_from_a_pipe_is_named_by_its_path_in_notes(tmp_path, monkeypatch, capsys) -> None:
    """A note about `--config <(…)` named the file "63" (the last part of /dev/fd/63)."""
    import os
    import threading

    monkeypatch.chdir(tmp_path)
    assert main(["collect", "-q", "--no-history", "--out", "rep",
                 "--ruff", str(REAL / "more-itertools.ruff-statistics.txt")]) == EXIT_OK  # fmt: skip
    read, write = os.pipe()
    text = b'[tool.healthdeck]\nsmoke_suite = "unit"\n'
    threading.Thread(target=lambda: (os.write(write, text), os.close(write)), daemon=True).start()
    capsys.readouterr()
    main(["gate", "--no-write", "--report", "rep/latest.json", "--config", f"/dev/fd/{read}"])
    note = capsys.readouterr().err.splitlines()[0]
    assert f"differs from /dev/fd/{read} (" in note and f"using /dev/fd/{read}'s (--config)" in note


@pytest.mark.parametrize("flag", ["--ruff", "--compileall"])
def test_an_endless_pipe_into_a_report_read_whole_stays_bounded(tmp_path, capsys, flag) -> None:
    """`--ruff <(yes)`: a report read whole was read up to max_input_mb (4 GiB) into memory first."""
    import os
    import resource
    import threading

    read, write = os.pipe()

    def endless() -> None:
        chunk = b"y\n" * (1 << 16)
        try:
            while True:
                os.write(write, chunk)
        except OSError:  # the reader gave up: BrokenPipeError
            os.close(write)

    threading.Thread(target=endless, daemon=True).start()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    code = main(["collect", "-q", "--no-history", "--out", str(tmp_path / "out"), flag, f"/dev/fd/{read}"])
    os.close(read)
    assert code == EXIT_INPUT
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # KiB
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.endswith("larger than 64 MiB (limit max_text_mb in [tool.healthdeck])")


def test_a_report_made_large_by_one_test_name_names_it(tmp_path, monkeypatch, capsys) -> None:
    """A test named with megabytes (no runner does; a hostile or broken input can) makes a report no list
    setting shortens: the one line says where that text is instead of advising list settings."""
    from healthdeck.reports import output

    junit = tmp_path / "junit.xml"
    junit.write_text(f'<testsuite name="s"><testcase classname="c" name="t{"x" * 1_000_000}">'
                     '<failure message="boom"/></testcase></testsuite>')  # fmt: skip
    monkeypatch.setattr(output, "SMALL_FILE_LIMIT", 2 * 2**20)  # the readers' limit, made small
    assert main(["collect", "--no-history", "--junit", f"unit={junit}", "--out", str(tmp_path / "out")]) == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        len(err) == 1 and "much of it is one text of 1 MiB, at details.tests.unit.failing.0.test_id" in err[0]
    )
    assert "lower max_failing_listed" not in err[0] and not (tmp_path / "out" / "latest.json").exists()


def test_collect_never_writes_a_report_the_readers_refuse(tmp_path, monkeypatch, capsys) -> None:
    """Lists cut high enough (max_failing_listed, message_chars …) can make a report larger than gate,
    comment and the dashboard read: collect says so in one line, exit 4, and writes and records nothing."""
    from healthdeck.reports import output

    sample = Path(__file__).resolve().parents[1] / "reports" / "samples" / "dateutil"
    argv = ["collect", "--junit", f"smoke={sample / 'smoke.junit.xml.gz'}", "--coverage",
            str(sample / "coverage.xml.gz"), "--out", str(tmp_path / "out")]  # fmt: skip
    monkeypatch.setattr(output, "SMALL_FILE_LIMIT", 4096)  # the readers' limit, made small
    assert main(argv) == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and re.search(r"the report would be \d+ MiB, over the 0 MiB that gate", err[0]), err
    assert not (tmp_path / "out" / "latest.json").exists()
    store = tmp_path / "out" / "history.sqlite"
    if store.exists():  # created before the report was built: it must hold no run
        from healthdeck.reports.history.store import open_store

        reader = open_store(f"sqlite:///{store}", readonly=True)
        assert reader.runs() == []
        reader.close()

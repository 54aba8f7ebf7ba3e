"""ruff collector: every output format gives ruff's own "Found N errors." total."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from healthdeck.collectors import CollectorError
from healthdeck.collectors.ruff import SYNTAX_ERROR_KEY, collect_ruff
from tests.conftest import REAL, expected

REAL_RUFF = expected("ruff")


@pytest.mark.parametrize("name", sorted(REAL_RUFF))
def test_real_total_equals_found_n_errors(name: str) -> None:
    want = REAL_RUFF[name]
    result = collect_ruff(REAL / name)
    assert result.total == want["found"]
    code, count = want["top"]
    assert result.stats[code] == count
    assert result.stats.get(SYNTAX_ERROR_KEY, 0) == want.get("syntax_errors", 0)


def test_text_keeps_warning_preamble_and_trailer() -> None:
    result = collect_ruff(REAL / "dateutil15.ruff-statistics.txt")
    assert result.reported_total == 2683
    assert result.warnings == ["The following rules have been removed and ignoring them has no effect: E999"]
    assert result.names[SYNTAX_ERROR_KEY] == "invalid-syntax"


def test_violations_give_files_relative_to_the_project() -> None:
    result = collect_ruff(REAL / "more-itertools.ruff-violations.json.gz")
    assert result.by_file is not None
    assert sum(result.by_file.values()) == 203
    assert result.by_file["more_itertools/more.py"] == 47
    assert "common folder" in result.warnings[0]  # ruff ran on another machine


def test_all_three_formats_agree() -> None:
    stats = [
        collect_ruff(REAL / f"dateutil15.ruff-{kind}").stats
        for kind in ("statistics.txt", "statistics.json", "violations.json.gz")
    ]
    assert stats[0] == stats[1] == stats[2]


RUFF = shutil.which("ruff") or shutil.which(
    "ruff", path=str(__import__("pathlib").Path(sys.executable).parent)
)


@pytest.mark.skipif(RUFF is None, reason="ruff is not installed (pip install -e '.[dev]')")
def test_live_ruff_run(tmp_path) -> None:
    (tmp_path / "lukhas").mkdir()
    (tmp_path / "lukhas" / "a.py").write_text("import os\nimport sys\nx = 1 \n")
    (tmp_path / "b.py").write_text("print 'py2'\ndef f(:\n")
    args = [RUFF, "check", "--no-cache", "--isolated", "--select", "E,F,W"]
    text = subprocess.run([*args, "--statistics", "."], cwd=tmp_path, capture_output=True, text=True)
    (tmp_path / "stats.txt").write_text(text.stdout + text.stderr)
    violations = subprocess.run(
        [*args, "--output-format", "json", "."], cwd=tmp_path, capture_output=True, text=True
    )
    (tmp_path / "v.json").write_text(violations.stdout)
    found = int(text.stdout.split("Found ")[1].split()[0])
    from_text = collect_ruff(tmp_path / "stats.txt")
    from_json = collect_ruff(tmp_path / "v.json", root=tmp_path)
    assert from_text.total == from_json.total == found
    assert from_text.stats[SYNTAX_ERROR_KEY] >= 1
    assert from_json.by_file["lukhas/a.py"] == 3


@pytest.mark.skipif(RUFF is None, reason="ruff is not installed (pip install -e '.[dev]')")
def test_ruff_run_in_another_checkout_keeps_the_package_folder(tmp_path) -> None:
    """ruff in a container sees the checkout at /github/workspace; healthdeck on the runner sees it
    elsewhere. Every finding is in pkg/: the paths must stay pkg/..., where the prod lane expects them,
    not be cut to the files' common folder (that would leave them in no lane, and the gate would pass)."""
    import json

    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("import os\nimport sys\n")
    (tmp_path / "pkg" / "b.py").write_text("import json\n")
    args = [RUFF, "check", "--no-cache", "--isolated", "--select", "F", "--output-format", "json", "."]
    found = json.loads(subprocess.run(args, cwd=tmp_path, capture_output=True, text=True).stdout)
    assert len(found) == 3
    for finding in found:  # as written in the container
        finding["filename"] = finding["filename"].replace(str(tmp_path.resolve()), "/github/workspace")
    (tmp_path / "ruff.json").write_text(json.dumps(found))
    result = collect_ruff(tmp_path / "ruff.json", root=tmp_path)
    assert result.by_file == {"pkg/a.py": 2, "pkg/b.py": 1}
    assert (
        "ruff ran in another checkout; /github/workspace there is taken as the project root"
        in result.warnings[0]
    )
    (tmp_path / "other").mkdir()  # a root the files are not in: their common folder, and a warning
    elsewhere = collect_ruff(tmp_path / "ruff.json", root=tmp_path / "other")
    assert elsewhere.by_file == {"a.py": 2, "b.py": 1} and "lanes may not match" in elsewhere.warnings[0]


def test_clean_run_is_zero_everywhere(write) -> None:
    # A clean run has no findings in any lane, whatever the format, so lanes are 0 rather than unknown.
    for name, content in (("clean.txt", "All checks passed!\n"), ("clean.json", "[]")):
        result = collect_ruff(write(name, content))
        assert (result.total, result.by_file) == (0, {})
    # `[]` is what both JSON outputs write when clean: read as violations, a clean base lists its (no)
    # findings, so a pull request's findings against it are marked new
    clean = collect_ruff(write("clean.json", "[]"))
    assert clean.format == "violations-json" and clean.findings is not None and not list(clean.findings)
    assert collect_ruff(REAL / "more-itertools.ruff-statistics.txt").by_file is None


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("", "empty file: ruff writes nothing with --statistics when it finds nothing"),
        (" \n", "empty file: ruff writes nothing with --statistics when it finds nothing"),
        ("12\tF401\t[*] unused-import\nFound 13 errors.\n", "add up to 12"),
        ("12\tF401\t[*] unused-import\nTraceback (most recent call last):\n", "line 2 is not ruff"),
        ("pkg/a.py:1:8: F401 [*] `os` imported but unused\nFound 1 error.\n", "--output-format json"),
        ('[{"count": "x", "code": "F401"}]', "not a whole number"),
        ("[1, 2]", "not a list of ruff objects"),
        ('[{"what": 1}]', "neither"),
        ("[{", "malformed JSON"),
        # GitLab code quality: a location, no ruff keys (it was one "invalid-syntax" finding)
        (
            '[{"check_name": "F401", "description": "x", "location": {"path": "a.py", "lines": {"begin": 1}}}]',
            "no 'code' and 'filename'",
        ),
    ],
)
def test_bad_input(write, content: str, reason: str) -> None:
    path = write("ruff.out", content)
    with pytest.raises(CollectorError) as info:
        collect_ruff(path)
    assert str(path) in str(info.value) and reason in str(info.value)


def test_non_utf8(write) -> None:
    with pytest.raises(CollectorError, match="not valid UTF-8"):
        collect_ruff(write("latin.txt", "1\tE501\t[ ] line-too-long caf\xe9\n".encode("latin-1")))


def test_binary(write) -> None:
    with pytest.raises(CollectorError, match="binary"):
        collect_ruff(write("bin.txt", b"\x00\x01\x02"))


@pytest.mark.skipif(RUFF is None, reason="ruff is not installed (pip install -e '.[dev]')")
def test_findings_are_listed_prod_lanes_first_with_their_place(tmp_path, monkeypatch, capsys) -> None:
    """latest.md lists what to fix (file:line, rule, message), the findings the gate counts first, under
    the exact count; the comment names the first of them."""
    import json

    from healthdeck.reports.cli import main

    (tmp_path / "web").mkdir()
    (tmp_path / "tools").mkdir()
    (tmp_path / "web" / "core.py").write_text("import os\n")
    (tmp_path / "tools" / "a.py").write_text("import sys\nimport json\n")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.healthdeck]\nprod_lanes = ["web"]\nfindings_listed = 2\n'
        '[tool.healthdeck.lanes]\nweb = ["web/"]\ntools = ["tools/"]\n'
    )
    args = [RUFF, "check", "--no-cache", "--isolated", "--select", "F", "--output-format", "json", "."]
    (tmp_path / "ruff.json").write_text(
        subprocess.run(args, cwd=tmp_path, capture_output=True, text=True).stdout
    )
    monkeypatch.chdir(tmp_path)
    assert main(["collect", "-q", "--no-history", "--ruff", "ruff.json"]) == 0
    details = json.loads((tmp_path / "docs/audits/health/latest.json").read_text())["details"]["ruff"]
    assert details["findings_total"] == 3
    assert [(f["path"], f["line"], f["code"], f["lane"]) for f in details["findings"]] == [
        ("web/core.py", 1, "F401", "web"),  # the prod lane first, though tools/ sorts before it
        ("tools/a.py", 1, "F401", "tools"),
    ]
    md = (tmp_path / "docs/audits/health/latest.md").read_text()
    assert "### Findings: 3 — showing 2 (prod lanes first, then by file)" in md
    assert "| `web/core.py:1` | `F401` | \\`os\\` imported but unused |" in md
    capsys.readouterr()
    assert main(["comment"]) == 0
    row = next(
        line for line in capsys.readouterr().out.splitlines() if line.startswith("| ruff (prod lanes)")
    )
    assert row.endswith("| 3 in all files; first: `web/core.py:1` `F401` |"), row


@pytest.mark.skipif(RUFF is None, reason="ruff is not installed (pip install -e '.[dev]')")
def test_the_comment_names_the_findings_the_baseline_did_not_have(tmp_path, monkeypatch, capsys) -> None:
    """Real ruff on a project, twice: the second commit adds an unused import above the old one (lines
    move) — the comment leads with the new finding, not the findings that were already there."""
    from healthdeck.reports.cli import main

    (tmp_path / "web").mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.healthdeck]\nprod_lanes = ["web"]\n'
                                             '[tool.healthdeck.lanes]\nweb = ["web/"]\n')  # fmt: skip
    monkeypatch.chdir(tmp_path)
    args = [RUFF, "check", "--no-cache", "--isolated", "--select", "F", "--output-format", "json", "."]

    def run(source: str) -> str:
        (tmp_path / "web" / "core.py").write_text(source)
        (tmp_path / "ruff.json").write_text(subprocess.run(args, capture_output=True, text=True).stdout)
        assert main(["collect", "-q", "--ruff", "ruff.json"]) == 0
        capsys.readouterr()
        assert main(["comment"]) == 0
        return next(x for x in capsys.readouterr().out.splitlines() if x.startswith("| ruff (prod lanes)"))

    assert "; first: `web/core.py:1` `F401`" in run("import os\n")  # no baseline yet
    assert "; none new; first: `web/core.py:1` `F401`" in run("import os\n")
    row = run("import sys\nimport os\n")  # os moved to line 2; sys is new
    assert row.endswith("| 2 (+1 vs base) | 2 in all files; new: `web/core.py:1` `F401` |"), row


@pytest.mark.skipif(RUFF is None, reason="ruff is not installed (pip install -e '.[dev]')")
def test_lanes_configured_after_the_base_give_no_change_not_all_findings_as_new(
    tmp_path, monkeypatch, capsys
):
    """The base was collected before lanes existed (its prod figure was the whole tree): "+N vs base" would
    read as N new findings on the run that set the lanes up."""
    from healthdeck.reports.cli import main

    (tmp_path / "web").mkdir()
    (tmp_path / "tools").mkdir()
    (tmp_path / "web" / "core.py").write_text("import os\n")
    (tmp_path / "tools" / "a.py").write_text("import sys\nimport json\n")
    args = [RUFF, "check", "--no-cache", "--isolated", "--select", "F", "--output-format", "json", "."]
    (tmp_path / "ruff.json").write_text(
        subprocess.run(args, cwd=tmp_path, capture_output=True, text=True).stdout
    )
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.healthdeck]\n")
    assert main(["collect", "-q", "--ruff", "ruff.json"]) == 0
    (tmp_path / "pyproject.toml").write_text('[tool.healthdeck]\nprod_lanes = ["web"]\n'
                                             '[tool.healthdeck.lanes]\nweb = ["web/"]\ntools = ["tools/"]\n')  # fmt: skip
    assert main(["collect", "-q", "--ruff", "ruff.json"]) == 0
    capsys.readouterr()
    assert main(["comment"]) == 0
    row = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("| ruff (prod lanes)"))
    assert row.startswith("| ruff (prod lanes) | 1 (not counted by lane in the base) | 3 in all files"), row
    assert main(["collect", "-q", "--ruff", "ruff.json"]) == 0  # the next run compares like with like
    capsys.readouterr()
    assert main(["comment"]) == 0
    assert "| ruff (prod lanes) | 1 (no change vs base) |" in capsys.readouterr().out


def test_ruff_output_saved_by_powershell_in_utf16_reads(write) -> None:
    """`ruff check --statistics > ruff.txt` in Windows PowerShell writes UTF-16 with its mark."""
    text = (REAL / "more-itertools.ruff-statistics.txt").read_text(encoding="utf-8")
    assert (
        collect_ruff(write("ruff16.txt", text.encode("utf-16"))).stats
        == collect_ruff(REAL / "more-itertools.ruff-statistics.txt").stats
    )

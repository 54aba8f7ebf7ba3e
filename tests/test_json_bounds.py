"""JSON reports (ruff, `coverage json`) are decoded entry by entry, not whole: memory holds the text and
what the report keeps, and every document reads as json.loads reads it, errors included."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from healthdeck.collectors.checks import (
    MIB,
    Invalid,
    count,
    decoded_size,
    json_array,
    json_object,
    load_json,
    plain_count,
)
from healthdeck.collectors.coveragepy import collect_coverage
from healthdeck.collectors.ruff import MESSAGE_CHARS, collect_ruff
from tests.test_xml_bounds import PEAK_RSS_LIMIT, _collect

VIOLATION = {"cell": None, "code": "F401", "end_location": {"column": 10, "row": 1}, "fix": None,
             "location": {"column": 8, "row": 1}, "message": "`os` imported but unused", "noqa_row": 1,
             "url": "https://docs.astral.sh/ruff/rules/unused-import"}  # fmt: skip


def test_json_reports_stay_near_their_size_in_memory(write, tmp_path: Path) -> None:
    """30 MB of ruff findings took 196 MB decoded whole, 30 MB of `coverage json` 213 MB; now about 90."""
    ruff = write(
        "ruff.json", json.dumps([{**VIOLATION, "filename": f"pkg/m{i % 500}.py"} for i in range(120_000)])
    )
    summary = {"covered_lines": 3, "num_statements": 4, "percent_covered": 75.0, "missing_lines": 1}
    entry = {
        "executed_lines": list(range(1, 90)),
        "missing_lines": [90],
        "excluded_lines": [],
        "summary": summary,
    }
    files = {f"pkg/m{i}.py": entry for i in range(60_000)}
    coverage = write("coverage.json", json.dumps({"meta": {"format": 3}, "files": files,
                                                  "totals": {"covered_lines": 180_000, "num_statements": 240_000}}))  # fmt: skip
    for option, path in (("--ruff", ruff), ("--coverage", coverage)):
        assert path.stat().st_size > 25 * 2**20
        run = _collect(option, str(path), cwd=tmp_path)
        assert run["rc"] == 0, run["stderr"]
        assert run["peak"] < 140 * 2**20, f"{option}: peak RSS {run['peak'] / 2**20:.0f} MiB"
        report = json.loads((tmp_path / "out" / "latest.json").read_text())["summary"]
        if option == "--ruff":
            assert report["ruff"]["count"]["total"] == 120_000
        else:
            assert (report["coverage"]["statements"], report["coverage"]["files"]) == (240_000, 60_000)


CASES = [
    '[1, 2, {"a": [3, {"b": null}]}]',
    " [ ] ",
    "[]",
    "[1,]",
    "[1 2]",
    "[1",
    "[1] x",
    "",
    "[NaN]",
    "[1e400]",
    "[" * 100_000 + "]" * 100_000,
    '[{"a": 1,}]',
    '{"a": 1}',
    "3",
    '"x"',
    "[1" + "0" * 5000 + "]",
]
OBJECTS = [
    '{"files": {"a": {"x": 1}, "b": 2}, "totals": {}}',
    '{"files": [1], "x": 2}',
    "{}",
    '{"a" 1}',
    '{"a": 1,}',
    '{"files": {"a": 1,}}',
    '{"files": {"a": 1}} x',
    "{1: 2}",
    "[1]",
    '{"files": {"a": 1 "b": 2}}',
    '{"files": {"a": 1}, "files": {"b": 2}}',
    ' { "files" : { } } ',
]


def _read(read, text: str) -> object:
    try:
        return read(text)
    except Invalid as exc:
        return f"refused: {exc}"


@pytest.mark.parametrize("text", CASES)
def test_arrays_read_as_json_loads_reads_them(text: str) -> None:
    whole = _read(load_json, text)
    expected = whole if not isinstance(whole, dict | int | str) or str(whole).startswith("refused") else (
        f"refused: the document is a {'JSON object' if isinstance(whole, dict) else 'number' if isinstance(whole, int) else 'string'}, expected a list"
    )  # fmt: skip
    assert _read(lambda t: list(json_array(t, "the document")), text) == expected


@pytest.mark.parametrize("text", OBJECTS)
def test_objects_read_as_json_loads_reads_them(text: str) -> None:
    def streamed(t: str) -> dict:
        read = {}
        for key, value in json_object(t, "the document", "files"):
            read[key] = dict(value) if key == "files" and not isinstance(value, dict | list) else value
        return read

    whole = _read(load_json, text)
    expected = "refused: the document is a list, expected an object" if isinstance(whole, list) else whole
    assert _read(streamed, text) == expected


@pytest.mark.parametrize("text", [t for t in CASES if t.lstrip().startswith("[")])
def test_arrays_read_in_windows_as_json_loads_reads_them(text: str) -> None:
    """Past the budget, each element is decoded from a window of the text that grows until it holds
    the element: the same values and the same errors, lines included."""
    budget = decoded_size(text) - 1  # the whole text is past it, each element within it
    assert _read(lambda t: list(json_array(t, "the document", budget)), text) == _read(load_json, text)


def test_a_large_entry_is_read_across_windows_and_an_error_in_it_keeps_its_line() -> None:
    big = {**VIOLATION, "fix": {"edits": [{"content": '[{,"' * 3, "rows": list(range(40))}] * 3000}}
    entries = [VIOLATION] * 3000 + [big] + [VIOLATION] * 3000
    text = json.dumps(entries, indent=1)
    budget = decoded_size(text) // 2  # the whole text is past it, the large entry (a quarter) is not
    assert decoded_size(json.dumps(big, indent=1)) < budget
    assert list(json_array(text, "the document", budget)) == entries
    broken = text.replace('"rows": [\n', '"rows": [\n,', 2000)  # an error deep inside the large entry
    expected = _read(lambda t: load_json(t, 2**40), broken)
    assert expected.startswith("refused: malformed JSON: Expecting value (line ")
    assert _read(lambda t: list(json_array(t, "the document", budget)), broken) == expected


def test_an_entry_past_the_budget_is_refused_before_it_is_decoded() -> None:
    """64 MiB of `[[],[],...]` in one entry decoded to 1.6 GB; an entry past the budget is refused when
    its window reaches the budget, having decoded no more than that window."""
    text = "[" + json.dumps(VIOLATION) + ",\n [" + ",".join(["[]"] * 400_000) + "]]"
    budget = 4 * MIB  # the entry would take some 40 MiB
    entries = json_array(text, "the document", budget)
    assert next(entries) == VIOLATION
    tracemalloc.start()
    try:
        with pytest.raises(Invalid) as info:
            next(entries)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(info.value) == (
        "the JSON value at line 2 would take more than 4 MiB to decode (limit max_decoded_mb in [tool.healthdeck])"
    )
    assert peak < 2 * budget, f"{peak / MIB:.1f} MiB"
    with pytest.raises(
        Invalid, match=r"^the JSON document would take some 40 MiB, more than 4 MiB to decode"
    ):
        load_json(text, budget)


@pytest.mark.parametrize("option", ["--ruff", "--coverage"])
def test_one_huge_entry_is_one_line_exit_3_and_bounded_memory(option: str, write, tmp_path: Path) -> None:
    """A 63 MB report whose one entry holds 21 million empty lists: refused at `max_decoded_mb`, under
    the hardening bound, where decoding it took 1.6 GB."""
    lists = "[" + ",".join(["[]"] * 21_000_000) + "]"
    if option == "--ruff":
        text = json.dumps([{**VIOLATION, "filename": "a.py"}])[:-2] + ', "x": ' + lists + "}]"
    else:
        text = ('{"meta": {"version": "7.6.1"}, "files": {"a.py": {"executed_lines": ' + lists + ', "summary": '
                '{"num_statements": 1, "covered_lines": 1}}}, "totals": {"num_statements": 1, "covered_lines": 1}}')  # fmt: skip
    path = write("report.json", text)
    run = _collect(option, str(path), cwd=tmp_path)
    assert run["rc"] == 3, run["stderr"]
    [line] = run["stderr"].strip().splitlines()
    assert str(path) in line and "would take more than 256 MiB to decode (limit max_decoded_mb" in line, line
    assert run["peak"] < PEAK_RSS_LIMIT, f"peak RSS {run['peak'] / MIB:.0f} MiB"
    print(f"{option} entry of 21 million lists: peak RSS {run['peak'] / MIB:.0f} MiB")


def test_a_huge_ruff_message_is_cut(write) -> None:
    path = write("ruff.json", json.dumps([{**VIOLATION, "filename": "a.py", "message": "m" * 2**21}]))
    [finding] = collect_ruff(path, path.parent).findings or []
    assert len(finding.message) == MESSAGE_CHARS and finding.message.endswith("m…")


def test_coverage_json_entries_given_twice_count_as_their_last(write) -> None:
    good = {"summary": {"covered_lines": 1, "num_statements": 2}}
    text = ('{"files": {"a.py": 3}, "totals": {"covered_lines": 1, "num_statements": 2}, '
            f'"files": {{"a.py": 7, "a.py": {json.dumps(good)}}}}}')  # fmt: skip
    result = collect_coverage(write("c.json", text))
    assert [(f.path, f.numbers.statements) for f in result.files] == [("a.py", 2)]
    bad = write("bad.json", text.replace('"a.py": 7, ', '"b.py": 7, '))
    with pytest.raises(Exception, match=r"files\['b.py'\] is a number, expected an object"):
        collect_coverage(bad)


@pytest.mark.parametrize(
    "value",
    [0, 7, 2**53 - 1, 2**53, -1, True, 5.0, float("nan"), None, [], "0", "42", " 42", "42 ", "+1", "-1",
     "٣", "9007199254740991", "9007199254740992", "12345678901234567", "", "1e3", "0x10"],
)  # fmt: skip
def test_plain_count_is_count_without_its_message(value) -> None:
    """The hot loops' shortcut: a value it takes is count()'s value; any other goes to count()."""
    plain = plain_count(value)
    try:
        want = count(value, "x")
    except Invalid:
        want = None
    assert plain is None or (plain == want and type(plain) is int)
    assert plain is not None or want is None or (isinstance(value, str) and value != value.strip())

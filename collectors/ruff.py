"""ruff check output: `--statistics` text or JSON, or the `--output-format json` violation list.

The total always equals ruff's own "Found N errors." line. Syntax errors have no rule code (an empty
code column in the text table, `code: null` in statistics JSON, `"invalid-syntax"` in violations
JSON); they are kept under the key SYNTAX_ERROR_KEY.
"""

from __future__ import annotations

import os
import re
from array import array
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from .base import CollectorError, as_posix, clipped, current_limits, read_text
from .checks import Invalid, count, json_array, mapping, plain_count, shown
from .checks import text as text_

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

SOURCE = "ruff"
SYNTAX_ERROR_KEY = "invalid-syntax"
MESSAGE_CHARS = 1000  # of a finding's message (ruff's are one short line)

# `  76\tF405 \t[ ] undefined-local...`: count, code (possibly blank), fix marker, rule name.
_STAT_ROW = re.compile(r"^\s*(\d+)\t([A-Z]+[0-9]+)?\s*\t(?:\[[ *\-]\] )?(\S+)\s*$")
_LEADING_BLANK = re.compile(r"\s*")
_FOUND = re.compile(r"^Found (\d+) errors?\.")
_IGNORABLE = (
    re.compile(r"^warning: "),
    re.compile(r"^\s+- \S+$"),  # continuation of a warning's rule list
    re.compile(r"^\[\*\] \d+ fixable"),
    re.compile(r"^No fixes available"),
    re.compile(r"^All checks passed!"),
)


@dataclass(frozen=True, slots=True)
class Finding:
    path: str  # relative to the project root, like `by_file`'s keys
    line: int | None
    code: str
    message: str


@dataclass(slots=True)
class RuffResult:
    file: str
    format: str  # "statistics-text" | "statistics-json" | "violations-json"
    stats: dict[str, int]  # rule code (or SYNTAX_ERROR_KEY) -> count
    names: dict[str, str]  # rule code -> rule name
    by_file: dict[str, int] | None  # the violations format says where; statistics only when clean
    reported_total: int | None  # ruff's own "Found N errors." when the input carries it
    warnings: list[str] = field(default_factory=list)
    findings: Findings | None = None  # each finding, in ruff's order (violations JSON only)

    @property
    def total(self) -> int:
        return sum(self.stats.values())


def collect_ruff(path: str | Path, root: str | Path | None = None) -> RuffResult:
    text = read_text(SOURCE, path)
    if text[_LEADING_BLANK.match(text).end() :][:1] == "[":  # type: ignore[union-attr]
        entries = json_array(text, "the document", current_limits().max_decoded)
        del text  # the reader holds it while it reads, and no longer: the findings are built without it
        return _from_json(path, entries, Path(root) if root else Path.cwd())
    return _from_text(path, text)


def _from_text(path: str | Path, text: str) -> RuffResult:
    if not text.strip():  # a clean `--statistics` run writes nothing, and so does a ruff that never ran
        raise CollectorError(
            SOURCE,
            path,
            "empty file: ruff writes nothing with --statistics when it finds nothing, and nothing when it "
            "did not run (not installed?), so no count can be read from it; write `ruff check "
            "--output-format json`, which writes `[]` for a clean run",
        )
    stats: dict[str, int] = {}
    names: dict[str, str] = {}
    warnings: list[str] = []
    reported: int | None = None
    saw_pass = False
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        row = _STAT_ROW.match(line)
        if row:
            count = _count(path, row.group(1), f"line {number}: count")
            code, name = row.group(2) or SYNTAX_ERROR_KEY, row.group(3)
            stats[code] = stats.get(code, 0) + count
            names[code] = name
            continue
        found = _FOUND.match(line)
        if found:
            reported = _count(path, found.group(1), f"line {number}: 'Found N errors.'")
            continue
        if line.startswith("All checks passed!"):
            saw_pass = True
        if line.startswith("warning: "):
            warnings.append(line[len("warning: ") :].strip())
        elif warnings and line.startswith("    - "):
            warnings[-1] += " " + line.strip()[2:]
        if any(p.match(line) for p in _IGNORABLE):
            continue
        raise CollectorError(
            SOURCE,
            path,
            f"line {number} is not ruff --statistics output: {line[:80]!r}; ruff's default output lists"
            " findings healthdeck does not read: write `ruff check --output-format json` (files, for lanes)"
            " or `ruff check --statistics`",
        )
    if not stats and reported is None and not saw_pass:
        raise CollectorError(
            SOURCE, path, "no statistics rows, no 'Found N errors.' and no 'All checks passed!'"
        )
    result = RuffResult(str(path), "statistics-text", stats, names, _where(stats), reported, warnings)
    _check_total(path, result)
    return result


def _count(path: str | Path, value: object, what: str) -> int:
    try:
        return count(value, what)
    except Invalid as exc:
        raise CollectorError(SOURCE, path, str(exc)) from exc


def _from_json(path: str | Path, entries: Iterator[Any], root: Path) -> RuffResult:
    """Either JSON output, read entry by entry (a 62 MB report decoded whole took 450 MB). Each entry is
    read as both kinds would read it; which kind the document is, and so which entry's error counts, is
    known at its end. A document wrong in several ways is refused for the same one as when read whole:
    malformed JSON, then an entry that is no object, then mixed kinds, then an entry of neither kind."""
    violations = _Violations()
    statistics = _Statistics()
    firsts: dict[str, int] = {}  # "location" / "count" / "neither": the first such entry
    counts: Counter[str] = Counter()
    not_object = False
    neither = ""
    try:
        for i, item in enumerate(entries):
            if not isinstance(item, dict):
                not_object = True
                continue
            kind = "location" if "location" in item else "count" if "count" in item else "neither"
            counts[kind] += 1
            firsts.setdefault(kind, i)
            if kind == "location":
                violations.add(item, i)
            elif kind == "count":
                statistics.add(item, i)
            elif counts[kind] == 1:
                neither = shown(item)
        if not_object:
            raise Invalid("JSON is not a list of ruff objects")
        if counts["location"] and counts["count"]:
            # Two ruff outputs concatenated (or hand-merged): counting either way would be wrong.
            raise Invalid(
                f"mixes {counts['location']} violations (entry {firsts['location']}) with {counts['count']} "
                f"statistics entries (entry {firsts['count']}); give one ruff output per file"
            )
        if counts["neither"]:
            raise Invalid(
                f"entry {firsts['neither']} has neither 'count' (statistics) nor 'location' (violations): {neither}"
            )
        # `[]` (a clean run) is both outputs; as violations it has lanes and files
        if counts["location"] or not counts["count"]:
            return violations.result(path, root)
        return statistics.result(path)
    except Invalid as exc:
        raise CollectorError(SOURCE, path, str(exc)) from exc


class _Statistics:
    def __init__(self) -> None:
        self.stats: dict[str, int] = {}
        self.names: dict[str, str] = {}
        self.problem: Invalid | None = None  # the first entry that cannot be read

    def add(self, item: dict, i: int) -> None:
        if self.problem is not None:
            return
        try:
            code = _code(item, i)
            self.stats[code] = self.stats.get(code, 0) + count(item["count"], f"entry {i}: count")
            name = _text(item, "name", i)
            message = _text(item, "message", i)
            self.names[code] = name or message or code
        except Invalid as exc:
            self.problem = exc

    def result(self, path: str | Path) -> RuffResult:
        if self.problem is not None:
            raise self.problem
        return RuffResult(str(path), "statistics-json", self.stats, self.names, _where(self.stats), None)


class Findings:
    """Every finding of a violations report, held as columns: a million findings as objects took
    some 100 bytes each; here a reference each for the path, code and message, and the line's 8 bytes."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.lines = array("q")  # -1: none
        self.codes: list[str] = []
        self.messages: list[str] = []

    def append(self, path: str, line: int | None, code: str, message: str) -> None:
        self.paths.append(path)
        self.lines.append(-1 if line is None else line)
        self.codes.append(code)
        self.messages.append(message)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> Finding:
        line = self.lines[i]
        return Finding(self.paths[i], None if line < 0 else line, self.codes[i], self.messages[i])

    def __iter__(self) -> Iterator[Finding]:
        return map(self.__getitem__, range(len(self)))


class _Violations:
    def __init__(self) -> None:
        self.stats: Counter[str] = Counter()
        self.names: dict[str, str] = {}
        self.findings = Findings()
        self.strings: dict[str, str] = {}  # one string per file and rule, not one per finding
        self.problem: Invalid | None = None

    def add(self, item: dict, i: int) -> None:
        if self.problem is not None:
            return
        try:
            self._add(item, i)
        except Invalid as exc:
            self.problem = exc

    def _add(self, item: dict, i: int) -> None:
        if "filename" not in item or "code" not in item:  # a syntax error has "code": null, never no code
            raise Invalid(
                f"entry {i} has a location but no 'code' and 'filename' as ruff's findings have: "
                f"{shown(item)} (another tool's report, e.g. GitLab code quality?); give "
                "`ruff check --output-format json` output"
            )
        code = _code(item, i)
        location = mapping(item["location"], f"entry {i}: location")
        self.stats[code] += 1
        self.names.setdefault(code, _text(item, "name", i) or code)
        filename = _text(item, "filename", i) or ""
        row = location.get("row")
        line = None if row is None else plain_count(row)
        if line is None and row is not None:
            line = count(row, f"entry {i}: location.row")
        # ruff's are one short line; the report lists a few as they are
        message = clipped(_text(item, "message", i) or "", MESSAGE_CHARS)
        same = self.strings.setdefault
        self.findings.append(same(filename, filename), line, same(code, code), message)

    def result(self, path: str | Path, root: Path) -> RuffResult:
        if self.problem is not None:
            raise self.problem
        self.strings = {}
        findings = self.findings
        by_file = Counter(findings.paths)  # in the order the files first come, as when counted one by one
        warnings: list[str] = []
        base = _base_dir(list(by_file), root)
        if base != root.resolve():
            placed = all(
                (root.resolve() / _relative(name, base)).is_file() for name in list(by_file)[:50] if name
            )
            warnings.append(
                "file paths are not under the project root: ruff ran in another checkout; "
                f"{base} there is taken as the project root"
                if placed
                else "file paths are not under the project root and the files are not in it; made "
                f"relative to their common folder {base}, so lanes may not match: run ruff in this checkout"
            )
        shown_as = {name: _relative(name, base) for name in by_file}
        relative = {shown_as[name]: n for name, n in by_file.items()}
        del by_file
        findings.paths = [shown_as[name] for name in findings.paths]
        return RuffResult(
            str(path),
            "violations-json",
            dict(self.stats),
            self.names,
            relative,
            None,
            warnings,
            findings,
        )


def _code(item: dict, i: int) -> str:
    """A rule code; null or empty is a syntax error (ruff has no code for those)."""
    return _text(item, "code", i) or SYNTAX_ERROR_KEY


def _text(item: dict, key: str, i: int) -> str | None:
    """An optional string field of entry `i` (its name for the message built only when it is not one)."""
    value = item.get(key)
    return value if type(value) is str else text_(value, f"entry {i}: {key}", optional=True)


def _base_dir(filenames: list[str], root: Path) -> Path:
    """The project root, or, when ruff ran in another checkout (a container's /github/workspace, another
    runner), the folder there that stands for the project root: the shallowest one under which the reported
    files exist in this checkout (so `pkg/mod.py` keeps its `pkg/` and its lane). Without the files here, the
    folder they all share."""
    absolute = [f for f in filenames if (f.startswith("/") if os.sep == "/" else PurePath(f).is_absolute())]
    resolved = root.resolve()
    if not absolute or any(_inside(f, resolved) is not None for f in absolute):
        return resolved
    # os.path.commonpath of them all; on POSIX of the two it would compare, for it splits every one at
    # once (90 MB for 300 000 files)
    ends = [min(absolute, key=_parts), max(absolute, key=_parts)] if os.sep == "/" else absolute
    common = PurePath(os.path.commonpath(ends))
    common = common.parent if str(common) in absolute else common
    sample = absolute[:50]  # enough to tell where the checkout sits; a lint run may list thousands
    for base in reversed((common, *common.parents)):
        if all((resolved / PurePath(f).relative_to(base)).is_file() for f in sample):
            return Path(base)
    return Path(common)


def _parts(path: str) -> list[str]:
    """What posixpath.commonpath orders paths by."""
    return [part for part in path.split("/") if part and part != "."]


def _relative(filename: str, base: Path) -> str:
    shown = _inside(filename, base)
    if shown is None:
        shown = as_posix(filename)
    return filename if shown == filename else shown  # one string for both, when they are the same


def _inside(filename: str, base: Path) -> str | None:
    """PurePath(filename).relative_to(base).as_posix(), None when the file is not under `base`: on
    POSIX by comparing strings (a PurePath per file was most of the time a million files took)."""
    tidy = as_posix(filename)
    if os.sep != "/" or tidy.startswith("//"):  # a drive, or POSIX's own `//` root: as PurePath says
        pure = PurePath(filename)
        return pure.relative_to(base).as_posix() if pure.is_relative_to(base) else None
    folder = str(base)
    if tidy == folder:
        return "."
    prefix = folder if folder.endswith("/") else folder + "/"
    return tidy[len(prefix) :] if tidy.startswith(prefix) else None


def _where(stats: dict[str, int]) -> dict[str, int] | None:
    """Statistics do not say where findings are, except when there are none: then nowhere."""
    return {} if not any(stats.values()) else None


def _check_total(path: str | Path, result: RuffResult) -> None:
    if result.reported_total is not None and result.reported_total != result.total:
        raise CollectorError(
            SOURCE,
            path,
            f"statistics rows add up to {result.total} but ruff reported 'Found {result.reported_total} errors.'"
            " (truncated or concatenated output?)",
        )

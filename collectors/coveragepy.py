"""coverage.py results: Cobertura XML, `coverage json` output, or the `.coverage` data file.

The headline percentage is computed exactly as `coverage report` does:
(covered statements + covered branches) / (statements + branches), using coverage.py's own rounding
for display. The Cobertura `line-rate` is statements only and is reported separately.
"""

from __future__ import annotations

import errno
import os
import re
import sqlite3
import tempfile
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from types import GeneratorType

from .base import (
    CollectorError,
    XmlRefused,
    XmlTarget,
    current_limits,
    marked_encoding,
    open_binary,
    parse_xml,
    read_text,
)
from .checks import Invalid, count, covered_within, json_object, mapping, shown
from .checks import text as text_
from .files import rereadable, spooled

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

SOURCE = "coverage"
_CONDITION = re.compile(r"\((\d+)/(\d+)\)")
_SQLITE_MAGIC = b"SQLite format 3\x00"
_ROOT_ATTRS = ("lines-valid", "lines-covered", "branches-valid", "branches-covered")
MAX_DEPTH = 64  # coverage.py's Cobertura nests 7 deep; anything near this is not a coverage report


@dataclass(frozen=True, slots=True)
class Numbers:
    statements: int = 0
    covered_statements: int = 0
    branches: int = 0
    covered_branches: int = 0

    def __add__(self, other: Numbers) -> Numbers:
        return Numbers(
            self.statements + other.statements,
            self.covered_statements + other.covered_statements,
            self.branches + other.branches,
            self.covered_branches + other.covered_branches,
        )

    @property
    def percent(self) -> float:
        """coverage.py's total: statements and branches together; 100 when there is nothing to cover."""
        denominator = self.statements + self.branches
        if denominator == 0:
            return 100.0
        return 100.0 * (self.covered_statements + self.covered_branches) / denominator

    @property
    def statements_percent(self) -> float:
        return 100.0 * self.covered_statements / self.statements if self.statements else 100.0

    def branches_percent(self, measured: bool) -> float | None:
        if not measured:
            return None
        return 100.0 * self.covered_branches / self.branches if self.branches else 100.0


@dataclass(frozen=True, slots=True)
class FileCoverage:
    path: str  # relative to the project root when it can be placed there, else as the tool wrote it
    numbers: Numbers


@dataclass(frozen=True, slots=True)
class CoverageResult:
    file: str
    format: str  # "cobertura-xml" | "coverage-json" | "coverage-data"
    branch_measured: bool
    has_data: bool  # False for coverage.py's stub XML written when nothing was measured
    totals: Numbers
    files: tuple[FileCoverage, ...]
    tool_version: str | None = None
    warnings: tuple[str, ...] = ()


def collect_coverage(path: str | Path, root: str | Path | None = None) -> CoverageResult:
    """Read any coverage.py output; the format is recognised from the content, not the file name."""
    if rereadable(path):
        return _collect(path, root)
    try:  # a pipe is read once: recognising the format and reading it take a copy
        with spooled(path, current_limits().max_input) as copy:
            return replace(_collect(copy, root), file=str(path))
    except CollectorError as exc:
        raise CollectorError(SOURCE, path, exc.reason) from None
    except OSError as exc:
        limit = " (limit max_input_mb in [tool.healthdeck])" if exc.errno == errno.EFBIG else ""
        raise CollectorError(SOURCE, path, f"cannot read: {exc.strerror or exc}{limit}") from exc


def _collect(path: str | Path, root: str | Path | None) -> CoverageResult:
    head = _head(path)
    if codec := marked_encoding(head):  # UTF-16/32 (PowerShell's `>`): recognised by what it says
        head = head.decode(codec, "ignore").encode()
    head = head.removeprefix(b"\xef\xbb\xbf")
    if head.startswith(_SQLITE_MAGIC):
        return _from_data_file(path)
    if head.lstrip().startswith(b"<"):
        return _from_xml(path, Path(root) if root else Path.cwd())
    if head.lstrip().startswith(b"{"):
        return _from_json_text(path, read_text(SOURCE, path), SOURCE)
    if not head.strip():
        raise CollectorError(SOURCE, path, "empty file")
    raise CollectorError(SOURCE, path, "not a coverage.py XML, JSON or .coverage data file")


def _head(path: str | Path) -> bytes:
    """The first bytes of the (decompressed) content, to recognise the format."""
    with open_binary(SOURCE, path) as fh:
        try:
            return fh.read(64)
        except (OSError, EOFError, zlib.error) as exc:
            raise CollectorError(SOURCE, path, f"cannot decompress: {exc}") from exc


class _CoberturaTarget(XmlTarget):
    """Streaming parser target: per-<class> (file) line and branch counts, plus the root totals.

    Every figure is checked as it streams by (counts are whole numbers, a line covers at most the
    branches it has); a bad one stops the parse with the element it came from.
    """

    roots = ("coverage",)

    def __init__(self) -> None:
        self.attrs: dict[str, str] = {}
        self.sources: list[str] = []
        self.files: list[tuple[str, Numbers]] = []  # Cobertura filename, counts
        self.filename: str | None = None
        self.counts = [0, 0, 0, 0]  # statements, covered, branches, covered branches
        self.text: list[str] | None = None
        self.in_method = 0  # Java-style Cobertura repeats a class's lines under <method>: not counted twice
        self.seen: set[str] = set()  # the class's line numbers: a line listed twice is one statement
        self.hit: set[str] = set()

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        if self.depth == 0:
            self.check_root(tag)
            self.attrs = dict(attrib)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise XmlRefused(f"elements nested more than {MAX_DEPTH} deep; Cobertura nests about 10")
        try:
            if tag == "line" and self.filename is not None and not self.in_method:
                self._line(attrib)
            elif tag == "class":
                if self.filename is not None:
                    raise Invalid(f"<class> inside <class filename={shown(self.filename)}>")
                self.filename = attrib.get("filename") or ""
                self.counts = [0, 0, 0, 0]
                self.seen, self.hit = set(), set()
            elif tag == "method":
                self.in_method += 1
            elif tag == "source":
                self.text = []
        except Invalid as exc:
            raise XmlRefused(str(exc)) from exc

    def _line(self, attrib: dict[str, str]) -> None:
        number = attrib.get("number")
        where = f"<line number={shown(number)}> of {shown(self.filename)}"
        counts = self.counts
        hits = count(attrib.get("hits", "0"), f"{where}: hits")
        if number is not None and number in self.seen:
            # a merged or hand-made report listing a line again: covered if any listing hit it (its
            # branches are the first listing's); counting it twice made 1 000 statements of a 2-line file
            if hits and number not in self.hit:
                self.hit.add(number)
                counts[1] += 1
            return
        if number is not None:
            self.seen.add(number)
        counts[0] += 1
        if hits:
            counts[1] += 1
            if number is not None:
                self.hit.add(number)
        if attrib.get("branch") == "true":
            match = _CONDITION.search(attrib.get("condition-coverage") or "")
            if match:
                covered = count(match.group(1), f"{where}: covered branches")
                branches = count(match.group(2), f"{where}: branches")
                covered_within(covered, branches, f"{where}: condition-coverage")
                counts[3] += covered
                counts[2] += branches

    def data(self, text: str) -> None:
        if self.text is not None:
            self.text.append(text)

    def end(self, tag: str) -> None:
        self.depth -= 1
        if tag == "class" and self.filename is not None:
            self.files.append((self.filename, Numbers(*self.counts)))
            self.filename = None
        elif tag == "method":
            self.in_method -= 1
        elif tag == "source" and self.text is not None:
            self.sources.append("".join(self.text).strip())
            self.text = None


def _from_xml(path: str | Path, root: Path) -> CoverageResult:
    target = _CoberturaTarget()
    parse_xml(SOURCE, path, target)
    attrs = target.attrs
    files = tuple(
        FileCoverage(_project_path(name, target.sources, root), numbers) for name, numbers in target.files
    )
    try:
        declared = _xml_root_numbers(attrs)
    except Invalid as exc:
        declared = exc
    if declared is None and not _measured(files):
        # coverage.py writes a bare <coverage line-rate="0.0"/> when nothing was measured: no data, not 0 %.
        return CoverageResult(
            str(path), "cobertura-xml", False, False, Numbers(), files, attrs.get("version")
        )
    totals, warnings = _reconcile(path, declared, files, lost_files_possible=len(target.sources) > 1)
    return CoverageResult(
        file=str(path),
        format="cobertura-xml",
        branch_measured=totals.branches > 0,
        has_data=True,
        totals=totals,
        files=files,
        tool_version=attrs.get("version"),
        warnings=tuple(warnings),
    )


def _xml_root_numbers(attrs: dict[str, str]) -> Numbers | None:
    """The root element's totals; None when it has none (lines-valid absent)."""
    if "lines-valid" not in attrs:
        return None
    values = [count(attrs.get(name, "0"), name) for name in _ROOT_ATTRS]
    return _checked(Numbers(*values), "lines-covered/lines-valid", "branches-covered/branches-valid")


def _checked(n: Numbers, lines: str, branches: str) -> Numbers:
    covered_within(n.covered_statements, n.statements, lines)
    covered_within(n.covered_branches, n.branches, branches)
    return n


def _measured(files: tuple[FileCoverage, ...]) -> bool:
    return any(f.numbers.statements or f.numbers.branches for f in files)


def _reconcile(
    path: str | Path,
    declared: Numbers | Invalid | None,
    files: tuple[FileCoverage, ...],
    *,
    lost_files_possible: bool,
) -> tuple[Numbers, list[str]]:
    """The report's own totals checked against its per-file data; returns the totals to use and why.

    The per-file data is the evidence (line by line), so it wins when the totals are missing,
    impossible, or disagree with it. One disagreement is real coverage.py behaviour and keeps the
    totals: with several <source> folders, same-named files (each package's __init__.py) overwrite
    each other in the per-file data while the totals count them all, so the files fall short.
    """
    from_files = sum((f.numbers for f in files), Numbers())
    if not _measured(files):
        if isinstance(declared, Numbers):
            lost = ["the per-file data lists no lines; the totals are the report's own"] if files else []
            return declared, lost
        reason = str(declared) if declared else "no totals"
        raise CollectorError(SOURCE, path, f"unusable totals ({reason}) and no per-file data")
    if declared is None:
        return from_files, [
            f"the report has no totals; computed from its {len(files)} files: {_figure(from_files)}"
        ]
    if isinstance(declared, Invalid):
        return from_files, [
            f"the report's totals are unusable ({declared}); computed from its files: {_figure(from_files)}"
        ]
    if declared == from_files:
        return declared, []
    shortfall = Numbers(
        declared.statements - from_files.statements,
        declared.covered_statements - from_files.covered_statements,
        declared.branches - from_files.branches,
        declared.covered_branches - from_files.covered_branches,
    )
    if lost_files_possible and _possible(shortfall):
        return declared, [
            f"per-file data covers {from_files.statements} of {declared.statements} statements "
            f"({shortfall.statements} lost, likely same-named files under different <source> folders); "
            "totals are from the report root, lanes and file lists may be incomplete"
        ]
    return from_files, [
        f"the report's totals ({_figure(declared)}) disagree with its per-file data ({_figure(from_files)}); "
        "the per-file figures are used"
    ]


def _possible(n: Numbers) -> bool:
    return min(n.statements, n.covered_statements, n.branches, n.covered_branches) >= 0 and (
        n.covered_statements <= n.statements and n.covered_branches <= n.branches
    )


def _figure(n: Numbers) -> str:
    branches = f", {n.covered_branches}/{n.branches} branches" if n.branches else ""
    return f"{n.percent:.2f} %: {n.covered_statements}/{n.statements} statements{branches}"


def _project_path(filename: str, sources: list[str], root: Path) -> str:
    """Place a Cobertura filename (relative to one of the <source> dirs) relative to the project root."""
    candidates = [Path(s) / filename for s in sources] if sources else [Path(filename)]
    if len(candidates) > 1:
        existing = [c for c in candidates if c.exists()]
        candidates = existing or candidates
    for candidate in candidates:
        try:
            return candidate.resolve().relative_to(root.resolve()).as_posix()
        except (ValueError, OSError):
            continue
    return Path(filename).as_posix()


def _from_json_text(path: str | Path, text: str, fmt_source: str) -> CoverageResult:
    """`coverage json` output, read member by member: each file's entry is reduced to its summary's
    figures as it is read (300 000 files, a 58 MB report, took 374 MB decoded whole). As when decoded
    whole, a member given twice counts as its last, and the first bad entry in name order is refused."""
    members = json_object(text, "the document", "files")
    del text  # the reader holds it while it reads, and no longer
    return _from_json(path, members, fmt_source)


def _from_json(path: str | Path, members: Iterator[tuple[str, Any]], fmt_source: str) -> CoverageResult:
    data: dict[str, Any] = {}
    numbers: dict[str, Numbers | Invalid] = {}
    try:
        for key, value in members:
            if isinstance(value, GeneratorType):  # "files", an object: its members as they are read
                numbers = {}  # a second "files" replaces the first, as json.loads reads it
                for name, entry in value:
                    numbers[name] = _json_entry(entry, name)
                value = numbers
            data[key] = value
        if "totals" not in data or "files" not in data:
            raise Invalid("JSON is not `coverage json` output (no totals/files)")
        meta = mapping(data.get("meta") or {}, "meta")
        entries = mapping(data["files"], "files")
        if entries is not numbers:  # not an object as it was read: its entries were not read yet
            entries = {name: _json_entry(entry, name) for name, entry in entries.items()}
        # each entry leaves the dict as its file joins the list: a million files are not held twice
        files = tuple(FileCoverage(_posix(name), _valid(entries.pop(name))) for name in sorted(entries))
        branch_coverage = meta.get("branch_coverage")
        if branch_coverage is not None and not isinstance(branch_coverage, bool):
            raise Invalid(f"meta.branch_coverage is {shown(branch_coverage)}, not true or false")
        version = text_(meta.get("version"), "meta.version", optional=True)
    except Invalid as exc:
        raise CollectorError(SOURCE, path, str(exc)) from exc
    try:
        declared: Numbers | Invalid = _json_summary(mapping(data["totals"], "totals"), "totals")
    except Invalid as exc:
        declared = exc
    totals, warnings = _reconcile(path, declared, files, lost_files_possible=False)
    return CoverageResult(
        file=str(path),
        format="coverage-json" if fmt_source == SOURCE else "coverage-data",
        branch_measured=branch_coverage if branch_coverage is not None else totals.branches > 0,
        has_data=True,
        totals=totals,
        files=files,
        tool_version=version,
        warnings=tuple(warnings),
    )


def _posix(name: str) -> str:
    posix = Path(name).as_posix()
    return name if posix == name else posix  # one string, not two equal ones


def _json_entry(entry: object, name: str) -> Numbers | Invalid:
    """A file's figures, or why its entry is refused (raised only if no later entry of its name replaces it)."""
    where = f"files[{shown(name)}]"
    try:
        summary = mapping(mapping(entry, where).get("summary"), f"{where}.summary")
        return _json_summary(summary, f"{where}.summary")
    except Invalid as exc:
        return exc


def _valid(numbers: Numbers | Invalid) -> Numbers:
    if isinstance(numbers, Invalid):
        raise numbers
    return numbers


def _json_summary(summary: dict, where: str) -> Numbers:
    if "num_statements" not in summary or "covered_lines" not in summary:
        raise Invalid(f"{where} has no num_statements/covered_lines")
    n = Numbers(
        count(summary["num_statements"], f"{where}.num_statements"),
        count(summary["covered_lines"], f"{where}.covered_lines"),
        count(summary.get("num_branches", 0), f"{where}.num_branches"),
        count(summary.get("covered_branches", 0), f"{where}.covered_branches"),
    )
    return _checked(n, f"{where} covered_lines/num_statements", f"{where} covered_branches/num_branches")


def _from_data_file(path: str | Path) -> CoverageResult:
    """Let coverage.py itself analyse the data file (it needs the measured sources on disk)."""
    import coverage  # local: only this input needs the measurement machinery
    from coverage.exceptions import CoverageException

    try:
        cov = coverage.Coverage(data_file=str(path))
        cov.load()
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "coverage.json")
            cov.json_report(outfile=out)
            text = Path(out).read_text(encoding="utf-8")
    except (CoverageException, sqlite3.Error) as exc:
        raise CollectorError(SOURCE, path, f"coverage.py could not report on this data file: {exc}") from exc
    except Exception as exc:
        # coverage.py's reader is not hardened against corrupt files (a flipped byte gives
        # UnicodeDecodeError, IndexError, ... from inside it): that is the same unreadable file.
        raise CollectorError(
            SOURCE, path, f"coverage.py could not read this data file (corrupt?): {type(exc).__name__}: {exc}"
        ) from exc
    return _from_json_text(path, text, "data")

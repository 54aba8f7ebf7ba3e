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
    as_posix,
    current_limits,
    marked_encoding,
    not_written,
    open_binary,
    parse_xml,
    read_text,
)
from .checks import MAX_COUNT, Invalid, count, covered_within, json_object, mapping, plain_count, shown
from .checks import text as text_
from .files import MIB, rereadable, spooled

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

SOURCE = "coverage"
_CONDITION = re.compile(r"\((\d+)/(\d+)\)")
_SQLITE_MAGIC = b"SQLite format 3\x00"
_ROOT_ATTRS = ("lines-valid", "lines-covered", "branches-valid", "branches-covered")
MAX_DEPTH = 64  # coverage.py's Cobertura nests 7 deep; anything near this is not a coverage report
# A line number past this is no line of a source file; a file's lines are one bit each up to it (see _Lines)
MAX_LINE = 1 << 24
# coverage.py lists each measured source folder; past these a <source> list is no such list (and every
# file would be looked for under each folder)
MAX_SOURCES = 1000
MAX_SOURCE_CHARS = 8192


@dataclass(frozen=True, slots=True)
class Numbers:
    statements: int = 0
    covered_statements: int = 0
    branches: int = 0
    covered_branches: int = 0

    @property
    def figures(self) -> tuple[int, int, int, int]:
        return (self.statements, self.covered_statements, self.branches, self.covered_branches)

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
class CoverageOptions:
    """What a report needs of the per-file figures. Every file counts in the totals, the lanes and
    `files_total`; only the `files_kept` lowest covered are held (all of a million files took 380 MB)."""

    files_kept: int = 10_000
    lane: Callable[[str], str | None] | None = None  # a project-relative path's lane; None: no lanes
    paths_checked: bool = True  # with a root given: say when none of the first files listed is under it


@dataclass(frozen=True, slots=True)
class LaneFigures:
    numbers: Numbers
    files: int


@dataclass(frozen=True, slots=True)
class CoverageResult:
    file: str
    format: str  # "cobertura-xml" | "coverage-json" | "coverage-data"
    branch_measured: bool
    has_data: bool  # False for coverage.py's stub XML written when nothing was measured
    totals: Numbers
    # the `files_kept` lowest covered (by percent, then path), in the order the report lists them
    files: tuple[FileCoverage, ...]
    files_total: int
    lanes: dict[str, LaneFigures] | None  # lanes with files; None without CoverageOptions.lane
    tool_version: str | None = None
    warnings: tuple[str, ...] = ()


def collect_coverage(
    path: str | Path, root: str | Path | None = None, options: CoverageOptions | None = None
) -> CoverageResult:
    """Read any coverage.py output; the format is recognised from the content, not the file name."""
    options = options or CoverageOptions()
    if rereadable(path):
        return _collect(path, root, options)
    try:  # a pipe is read once: recognising the format and reading it take a copy
        with spooled(path, current_limits().max_input) as copy:
            return replace(_collect(copy, root, options), file=str(path))
    except CollectorError as exc:
        raise CollectorError(SOURCE, path, exc.reason) from None
    except FileNotFoundError as exc:
        raise CollectorError(SOURCE, path, not_written(SOURCE, exc.strerror or str(exc))) from exc
    except OSError as exc:
        limit = " (limit max_input_mb in [tool.healthdeck])" if exc.errno == errno.EFBIG else ""
        raise CollectorError(SOURCE, path, f"cannot read: {exc.strerror or exc}{limit}") from exc


def _collect(path: str | Path, root: str | Path | None, options: CoverageOptions) -> CoverageResult:
    head = _head(path)
    if codec := marked_encoding(head):  # UTF-16/32 (PowerShell's `>`): recognised by what it says
        head = head.decode(codec, "ignore").encode()
    head = head.removeprefix(b"\xef\xbb\xbf")
    if head.startswith(_SQLITE_MAGIC):
        if _gzipped(path):  # SQLite needs the plain file: inflate a copy, within the same size limit
            return _from_gzipped_data_file(path, options)
        return _from_data_file(path, options)
    if head.lstrip().startswith(b"<"):
        return _from_xml(path, Path(root) if root else None, options)
    if head.lstrip().startswith(b"{"):
        return _from_json_text(path, read_text(SOURCE, path), SOURCE, options, Path(root) if root else None)
    if not head.strip():
        raise CollectorError(SOURCE, path, "empty file")
    raise CollectorError(SOURCE, path, "not a coverage.py XML, JSON or .coverage data file")


def _gzipped(path: str | Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _from_gzipped_data_file(path: str | Path, options: CoverageOptions) -> CoverageResult:
    limits = current_limits()
    name = limits.max_text_name
    with tempfile.TemporaryDirectory(prefix="healthdeck-") as folder:
        copy = Path(folder) / ".coverage"
        with open_binary(SOURCE, path) as source, copy.open("wb") as sink:
            try:
                while chunk := source.read(MIB):
                    if sink.tell() + len(chunk) > limits.max_text:
                        raise CollectorError(SOURCE, path, f"decompresses to more than {limits.max_text // MIB} "
                                             f"MiB (limit {name} in [tool.healthdeck])")  # fmt: skip
                    sink.write(chunk)
            except (OSError, EOFError, zlib.error) as exc:
                raise CollectorError(SOURCE, path, f"cannot decompress: {exc}") from exc
        try:
            return replace(_from_data_file(copy, options), file=str(path))
        except CollectorError as exc:
            raise CollectorError(SOURCE, path, exc.reason) from None


def _head(path: str | Path) -> bytes:
    """The first bytes of the (decompressed) content, to recognise the format."""
    with open_binary(SOURCE, path) as fh:
        try:
            return fh.read(64)
        except (OSError, EOFError, zlib.error) as exc:
            raise CollectorError(SOURCE, path, f"cannot decompress: {exc}") from exc


_LOOKED_FOR = 50  # files of a report looked for under the project root: one found is enough


class _Files:
    """Each file's figures as they are read: added to the totals and to its lane's, counted, and held
    only while among the `files_kept` lowest covered (by percent, then path, then reading order: the
    order a stable sort of every file gives)."""

    def __init__(self, options: CoverageOptions, root: Path | None = None) -> None:
        self.keep = options.files_kept
        self.root = root  # where the listed files should be: the first few are looked for (`elsewhere`)
        self.looked, self.found, self.missing = 0, 0, ""
        self.lane = options.lane
        self.sums = [0, 0, 0, 0]  # statements, covered, branches, covered branches
        self.count = 0
        self.measured = False  # some file has a statement or a branch
        self.lanes: dict[str, list[int]] = {}  # lane -> its sums and files
        self.kept: list[tuple[float, str, int, FileCoverage]] = []
        self.cutoff: tuple[float, str] | None = None  # the last kept one's: a file from here on is not kept

    def add(self, path: str, n: Numbers) -> None:
        if self.root is not None and self.looked < _LOOKED_FOR:
            self.looked += 1
            if os.path.exists(os.path.join(self.root, path)):
                self.found += 1
            elif not self.missing:
                self.missing = path
        figures = n.figures
        self._sum(self.sums, figures)
        self.count += 1
        self.measured = self.measured or bool(n.statements or n.branches)
        if self.lane is not None and (lane := self.lane(path)) is not None:
            if lane not in self.lanes:
                self.lanes[lane] = [0, 0, 0, 0, 0]
            sums = self.lanes[lane]
            self._sum(sums, figures)
            sums[4] += 1
        percent = n.percent
        if self.keep and (self.cutoff is None or (percent, path) < self.cutoff):
            self.kept.append((percent, path, self.count, FileCoverage(path, n)))
            if len(self.kept) >= 2 * self.keep:  # cut back now and then: a sort per `keep` files
                self._cut()

    @staticmethod
    def _sum(sums: list[int], figures: tuple[int, int, int, int]) -> None:
        for i, value in enumerate(figures):
            sums[i] += value

    def _cut(self) -> None:
        self.kept.sort(key=lambda k: k[:3])
        del self.kept[self.keep :]
        if len(self.kept) == self.keep:
            self.cutoff = self.kept[-1][:2]

    @property
    def totals(self) -> Numbers:
        return Numbers(*self.sums)

    def elsewhere(self) -> list[str]:
        """Why the figures may not be this project's: not one of the first files the report lists is
        under the project root (another project's report, or another checkout's when read where the
        code is not)."""
        if not self.looked or self.found:
            return []
        return [
            f"none of the first {self.looked} files it lists is under the project root {self.root} "
            f"(such as {self.missing}): is it another project's report, or is healthdeck running where "
            "the code is not checked out? Its figures are not checked against this project"
        ]

    def files(self) -> tuple[FileCoverage, ...]:
        """The kept files, in reading order."""
        self._cut()
        return tuple(k[3] for k in sorted(self.kept, key=lambda k: k[2]))

    def lane_figures(self) -> dict[str, LaneFigures] | None:
        if self.lane is None:
            return None
        return {lane: LaneFigures(Numbers(*sums[:4]), sums[4]) for lane, sums in self.lanes.items()}


class _Lines:
    """A file's line numbers: a set while they are few, then one bit per line up to the largest
    (5 million lines as a set of their strings took 600 MB; as bits, 600 KB)."""

    SET_LINES = 4096  # up to this many, a set: a file of one line numbered 16 million takes no 2 MB

    def __init__(self) -> None:
        self.few: set[int] | None = set()
        self.bits = bytearray()

    def __contains__(self, line: int) -> bool:
        if self.few is not None:
            return line in self.few
        byte = line >> 3
        return byte < len(self.bits) and bool(self.bits[byte] >> (line & 7) & 1)

    def add(self, line: int) -> None:
        if self.few is not None:
            self.few.add(line)
            if len(self.few) <= self.SET_LINES:
                return
            few, self.few = self.few, None
            self.bits = bytearray((max(few) >> 3) + 1)
            for n in few:
                self._set(n)
        else:
            self._set(line)

    def _set(self, line: int) -> None:
        byte = line >> 3
        if byte >= len(self.bits):
            size = min(max(byte + 1, 2 * len(self.bits)), (MAX_LINE >> 3) + 1)  # at most 2 MiB
            self.bits.extend(bytes(size - len(self.bits)))
        self.bits[byte] |= 1 << (line & 7)


class _CoberturaTarget(XmlTarget):
    """Streaming parser target: per-<class> (file) line and branch counts, plus the root totals.

    Every figure is checked as it streams by (counts are whole numbers, a line covers at most the
    branches it has); a bad one stops the parse with the element it came from. Each class's figures go
    to `files` as its element ends, placed under the project root by `place`.
    """

    roots = ("coverage",)

    def __init__(self, files: _Files, root: Path) -> None:
        self.attrs: dict[str, str] = {}
        self.sources: list[str] = []
        self.files = files
        self.place = _Places(self.sources, root)
        self.classes = 0
        self.filename: str | None = None
        self.counts = [0, 0, 0, 0]  # statements, covered, branches, covered branches
        self.text: list[str] | None = None  # a <source>'s, while it is read
        self.chars = 0
        self.in_method = 0  # Java-style Cobertura repeats a class's lines under <method>: not counted twice
        self.seen = _Lines()  # the class's line numbers: a line listed twice is one statement
        self.hit = _Lines()

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
                self.seen, self.hit = _Lines(), _Lines()
            elif tag == "method":
                self.in_method += 1
            elif tag == "source":
                if self.classes:  # each class is placed under the sources as it ends
                    raise Invalid("a <source> after a <class>: Cobertura lists its <sources> first")
                if len(self.sources) == MAX_SOURCES:
                    raise Invalid(f"more than {MAX_SOURCES} <source> folders")
                self.text, self.chars = [], 0
        except Invalid as exc:
            raise XmlRefused(str(exc)) from exc

    def _line(self, attrib: dict[str, str]) -> None:
        number = attrib.get("number")
        counts = self.counts
        hits = self._count(attrib.get("hits", "0"), number, "hits")
        line = None if number is None else self._count(number, number, "number")
        if line is not None and line > MAX_LINE:
            raise Invalid(
                f"{self._where(number)}: no source file has {line} lines (at most {MAX_LINE} are read)"
            )
        if line is not None and line in self.seen:
            # a merged or hand-made report listing a line again: covered if any listing hit it (its
            # branches are the first listing's); counting it twice made 1 000 statements of a 2-line file
            if hits and line not in self.hit:
                self.hit.add(line)
                counts[1] += 1
            return
        if line is not None:
            self.seen.add(line)
        counts[0] += 1
        if hits:
            counts[1] += 1
            if line is not None:
                self.hit.add(line)
        if attrib.get("branch") == "true":
            match = _CONDITION.search(attrib.get("condition-coverage") or "")
            if match:
                where = self._where(number)
                covered = count(match.group(1), f"{where}: covered branches")
                branches = count(match.group(2), f"{where}: branches")
                covered_within(covered, branches, f"{where}: condition-coverage")
                counts[3] += covered
                counts[2] += branches

    def _count(self, value: str, number: str | None, what: str) -> int:
        plain = plain_count(value)
        return plain if plain is not None else count(value, f"{self._where(number)}: {what}")

    def _where(self, number: str | None) -> str:
        return f"<line number={shown(number)}> of {shown(self.filename)}"

    def data(self, text: str) -> None:
        if self.text is not None:
            self.chars += len(text)
            if self.chars > MAX_SOURCE_CHARS:
                raise XmlRefused(f"a <source> of more than {MAX_SOURCE_CHARS} characters, no folder's path")
            self.text.append(text)

    def end(self, tag: str) -> None:
        self.depth -= 1
        if tag == "class" and self.filename is not None:
            self.files.add(self.place(self.filename), Numbers(*self.counts))
            self.classes += 1
            self.filename = None
        elif tag == "method":
            self.in_method -= 1
        elif tag == "source" and self.text is not None:
            self.sources.append("".join(self.text).strip())
            self.text = None


def _from_xml(path: str | Path, root: Path | None, options: CoverageOptions) -> CoverageResult:
    """Cobertura XML; files are placed relative to `root` (else the working folder), and looked for
    under it only when it is given (as the CLI gives the project root)."""
    files = _Files(options, root if options.paths_checked else None)
    target = _CoberturaTarget(files, root or Path.cwd())
    parse_xml(SOURCE, path, target)
    attrs = target.attrs
    try:
        declared = _xml_root_numbers(attrs)
    except Invalid as exc:
        declared = exc
    if declared is None and not files.measured:
        # coverage.py writes a bare <coverage line-rate="0.0"/> when nothing was measured: no data, not 0 %.
        return CoverageResult(str(path), "cobertura-xml", False, False, Numbers(), files.files(), files.count,
                              files.lane_figures(), attrs.get("version"))  # fmt: skip
    totals, warnings = _reconcile(path, declared, files, lost_files_possible=len(target.sources) > 1)
    warnings += files.elsewhere()
    return CoverageResult(
        file=str(path),
        format="cobertura-xml",
        branch_measured=totals.branches > 0,
        has_data=True,
        totals=totals,
        files=files.files(),
        files_total=files.count,
        lanes=files.lane_figures(),
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


def _reconcile(
    path: str | Path,
    declared: Numbers | Invalid | None,
    files: _Files,
    *,
    lost_files_possible: bool,
) -> tuple[Numbers, list[str]]:
    """The report's own totals checked against its per-file data; returns the totals to use and why.

    The per-file data is the evidence (line by line), so it wins when the totals are missing,
    impossible, or disagree with it. One disagreement is real coverage.py behaviour and keeps the
    totals: with several <source> folders, same-named files (each package's __init__.py) overwrite
    each other in the per-file data while the totals count them all, so the files fall short.
    """
    from_files = files.totals
    if not files.measured:
        if isinstance(declared, Numbers):
            lost = (
                ["the per-file data lists no lines; the totals are the report's own"] if files.count else []
            )
            return declared, lost
        reason = str(declared) if declared else "no totals"
        raise CollectorError(SOURCE, path, f"unusable totals ({reason}) and no per-file data")
    if declared is None:
        return from_files, [
            f"the report has no totals; computed from its {files.count} files: {_figure(from_files)}"
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


class _Places:
    """Cobertura filenames (relative to one of the <source> folders) placed relative to the project
    root, as `Path.resolve().relative_to(root)` places them, with the root resolved once and a folder
    once for the files of it that follow each other (a million files took a minute)."""

    def __init__(self, sources: list[str], root: Path) -> None:
        self.sources = sources  # filled as the parser reads them, all before the first class
        self.root = str(root.resolve())
        self.under = os.path.join(self.root, "")
        self.folder = ("", "")  # the last folder resolved, and where it is

    def __call__(self, filename: str) -> str:
        candidates = [as_posix(os.path.join(s, filename)) for s in self.sources] or [as_posix(filename)]
        if len(candidates) > 1:
            existing = [c for c in candidates if os.path.exists(c)]
            candidates = existing or candidates
        for candidate in candidates:
            try:
                real = self._resolved(candidate)
            except OSError:
                continue
            if real == self.root:
                return "."
            if real.startswith(self.under):
                return real[len(self.under) :].replace(os.sep, "/")
        return as_posix(filename)

    def _resolved(self, path: str) -> str:
        """str(Path(path).resolve()): its folder resolved, then the file itself when it is a link."""
        folder, name = os.path.split(path)
        if name in ("", ".."):
            return str(Path(path).resolve())
        if folder != self.folder[0]:
            self.folder = (folder, str(Path(folder).resolve()))
        real = os.path.join(self.folder[1], name)
        return os.path.realpath(real) if os.path.islink(real) else real


def _from_json_text(
    path: str | Path, text: str, fmt_source: str, options: CoverageOptions, root: Path | None = None
) -> CoverageResult:
    """`coverage json` output, read member by member: each file's entry is reduced to its summary's
    figures, packed in one int, as it is read (300 000 files, a 58 MB report, took 374 MB decoded
    whole). As when decoded whole, a member given twice counts as its last, and the first bad entry in
    name order is refused."""
    budget = current_limits().max_decoded
    read = lambda: json_object(text, "the document", "files", budget)  # noqa: E731 - read twice at most
    return _from_json(path, read, fmt_source, options, root)


def _from_json(
    path: str | Path,
    read: Callable[[], Iterator[tuple[str, Any]]],
    fmt_source: str,
    options: CoverageOptions,
    root: Path | None,
) -> CoverageResult:
    data: dict[str, Any] = {}
    numbers: dict[str, int] = {}  # name -> figures, of each file whose entry read last is a good one
    refused = False  # some entry is a bad one (unless a later one of its name replaces it)
    files = _Files(options, root if options.paths_checked else None)
    try:
        for key, value in read():
            if isinstance(value, GeneratorType):  # "files", an object: its members as they are read
                numbers, refused = {}, False  # a second "files" replaces the first, as json.loads reads it
                for name, entry in value:
                    figures = _json_entry(entry, name)
                    if isinstance(figures, Invalid):
                        numbers.pop(name, None)
                        refused = True
                    else:
                        numbers[name] = figures
                value = numbers
            data[key] = value
        if "totals" not in data or "files" not in data:
            raise Invalid("JSON is not `coverage json` output (no totals/files)")
        meta = mapping(data.get("meta") or {}, "meta")
        mapping(data["files"], "files")
        if refused and (reason := _first_refused(read(), numbers)):
            raise reason
        for name in sorted(numbers):  # each entry leaves the dict as it is counted
            files.add(as_posix(name), _unpacked(numbers.pop(name)))
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
    warnings += files.elsewhere()
    return CoverageResult(
        file=str(path),
        format="coverage-json" if fmt_source == SOURCE else "coverage-data",
        branch_measured=branch_coverage if branch_coverage is not None else totals.branches > 0,
        has_data=True,
        totals=totals,
        files=files.files(),
        files_total=files.count,
        lanes=files.lane_figures(),
        tool_version=version,
        warnings=tuple(warnings),
    )


def _json_entry(entry: object, name: str) -> int | Invalid:
    """A file's figures packed in one int, or why its entry is refused (raised only if no later entry
    of its name replaces it)."""
    summary = entry.get("summary") if type(entry) is dict else None
    if type(summary) is dict:  # the usual entry, read without building the messages it does not need
        figures = [summary.get(key, 0) for key in _SUMMARY_KEYS]
        if "num_statements" in summary and "covered_lines" in summary and _plausible(*figures):
            return _packed(*figures)
    where = f"files[{shown(name)}]"
    try:
        summary = mapping(mapping(entry, where).get("summary"), f"{where}.summary")
        return _packed(*_json_summary(summary, f"{where}.summary").figures)
    except Invalid as exc:
        return exc


_SUMMARY_KEYS = ("num_statements", "covered_lines", "num_branches", "covered_branches")


def _plausible(statements: object, covered: object, branches: object, covered_branches: object) -> bool:
    """What _json_summary accepts, for whole numbers given as JSON integers."""
    return (
        type(statements) is type(covered) is type(branches) is type(covered_branches) is int
        and 0 <= covered <= statements <= MAX_COUNT  # type: ignore[operator]
        and 0 <= covered_branches <= branches <= MAX_COUNT  # type: ignore[operator]
    )


def _packed(statements: int, covered: int, branches: int, covered_branches: int) -> int:
    """Four counts (each below 2**53) in one int: a Numbers and its ints take some 170 bytes more."""
    return statements | covered << 53 | branches << 106 | covered_branches << 159


def _unpacked(packed: int) -> Numbers:
    mask = MAX_COUNT
    return Numbers(packed & mask, packed >> 53 & mask, packed >> 106 & mask, packed >> 159)


def _first_refused(members: Iterator[tuple[str, Any]], good: dict[str, int]) -> Invalid | None:
    """Why the first file in name order whose entry read last is a bad one is refused, if one is. Bad
    entries are not held as they are read (the reasons for 4 million tiny ones took 4 GB): the report
    is read again."""
    first: tuple[str, Invalid] | None = None
    for _, value in members:
        if isinstance(value, GeneratorType):
            first = None  # the last "files" is the one read
            for name, entry in value:
                if name in good or (first is not None and name > first[0]):
                    continue
                figures = _json_entry(entry, name)
                if isinstance(figures, Invalid):  # of a name given twice, its last entry's reason
                    first = (name, figures)
    return first and first[1]


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


def _from_data_file(path: str | Path, options: CoverageOptions) -> CoverageResult:
    """Let coverage.py itself analyse the data file (it needs the measured sources on disk)."""
    import coverage  # local: only this input needs the measurement machinery
    from coverage.exceptions import CoverageException

    limits = current_limits()
    # coverage.py reads it whole, as ruff's or `coverage json`'s reports are read: held to the same limit
    name = limits.max_text_name
    if os.path.getsize(path) > limits.max_text:
        raise CollectorError(
            SOURCE, path, f"larger than {limits.max_text // MIB} MiB (limit {name} in [tool.healthdeck])"
        )
    _check_data_file(path, limits.max_decoded)
    try:
        cov = coverage.Coverage(data_file=str(path))
        cov.load()
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "coverage.json")
            cov.json_report(outfile=out)
            try:  # read as a `coverage json` input is, under the same text limit
                text = read_text(SOURCE, out)
            except CollectorError as exc:
                raise CollectorError(SOURCE, path, f"coverage.py's report on it: {exc.reason}") from None
    except CollectorError:
        raise
    except (CoverageException, sqlite3.Error) as exc:
        raise CollectorError(SOURCE, path, f"coverage.py could not report on this data file: {exc}") from exc
    except Exception as exc:
        # coverage.py's reader is not hardened against corrupt files (a flipped byte gives
        # UnicodeDecodeError, IndexError, ... from inside it): that is the same unreadable file.
        raise CollectorError(
            SOURCE, path, f"coverage.py could not read this data file (corrupt?): {type(exc).__name__}: {exc}"
        ) from exc
    return _from_json_text(path, text, "data", options)


# coverage.py turns a file's line bits into a list and a set of line numbers, and its arcs into tuples,
# one file at a time, and keeps each file's lists for the report: about this many bytes per line number
# or arc at its peak (measured: 8 M line numbers from a 1 MiB blob of 0xff bytes took 1.09 GB).
_BYTES_PER_LINE = 128
_MAX_PATH_CHARS = 4096  # PATH_MAX: a longer "file path" is no path coverage.py could have measured


def _check_data_file(path: str | Path, budget: int) -> None:
    """Refuse a data file that coverage.py would take more than `budget` bytes (max_decoded_mb) to
    analyse, before it reads it: its line bits and arcs are counted in SQLite, not decoded."""
    try:
        db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return  # coverage.py says what is wrong with it
    try:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        longest = db.execute("SELECT max(length(path)) FROM file").fetchone()[0] if "file" in tables else 0
        if (longest or 0) > _MAX_PATH_CHARS:
            raise CollectorError(SOURCE, path, f"a measured file's path is {longest:,} characters long; no real "
                                 f"path is longer than {_MAX_PATH_CHARS:,}")  # fmt: skip
        # A file's line bits hold up to 8 line numbers a byte; its contexts' bits are OR-ed together.
        lines = (
            db.execute("SELECT sum(m) FROM (SELECT max(length(numbits)) AS m FROM line_bits GROUP BY file_id)")
            .fetchone()[0] or 0
        ) * 8 if "line_bits" in tables else 0  # fmt: skip
        # arcs are stored per context; coverage.py reads each file's distinct ones
        arcs = (
            db.execute("SELECT count(*) FROM (SELECT DISTINCT file_id, fromno, tono FROM arc)").fetchone()[0]
            if "arc" in tables else 0
        )  # fmt: skip
    except sqlite3.Error:
        return
    finally:
        db.close()
    if (lines + arcs) * _BYTES_PER_LINE > budget:
        what = f"{lines:,} line numbers" if lines >= arcs else f"{arcs:,} arcs"
        raise CollectorError(SOURCE, path, f"its measured data holds up to {what}, more than coverage.py can "
                             f"analyse within {budget // MIB} MiB (limit max_decoded_mb in [tool.healthdeck])")  # fmt: skip

"""coverage.py results: Cobertura XML, `coverage json` output, or the `.coverage` data file.

The headline percentage is computed exactly as `coverage report` does:
(covered statements + covered branches) / (statements + branches), using coverage.py's own rounding
for display. The Cobertura `line-rate` is statements only and is reported separately.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from .base import CollectorError, XmlTarget, open_binary, parse_xml, read_text

SOURCE = "coverage"
_CONDITION = re.compile(r"\((\d+)/(\d+)\)")
_SQLITE_MAGIC = b"SQLite format 3\x00"


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
    head = _head(path)
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
    """Streaming parser target: per-<class> (file) line and branch counts, plus the root totals."""

    roots = ("coverage",)

    def __init__(self) -> None:
        self.attrs: dict[str, str] = {}
        self.sources: list[str] = []
        self.files: list[tuple[str, Numbers]] = []  # Cobertura filename, counts
        self.filename: str | None = None
        self.counts = [0, 0, 0, 0]  # statements, covered, branches, covered branches
        self.text: list[str] | None = None

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        if self.depth == 0:
            self.check_root(tag)
            self.attrs = dict(attrib)
        self.depth += 1
        if tag == "line" and self.filename is not None:
            counts = self.counts
            counts[0] += 1
            if attrib.get("hits", "0") != "0":
                counts[1] += 1
            if attrib.get("branch") == "true":
                match = _CONDITION.search(attrib.get("condition-coverage") or "")
                if match:
                    counts[3] += int(match.group(1))
                    counts[2] += int(match.group(2))
        elif tag == "class":
            self.filename = attrib.get("filename") or ""
            self.counts = [0, 0, 0, 0]
        elif tag == "source":
            self.text = []

    def data(self, text: str) -> None:
        if self.text is not None:
            self.text.append(text)

    def end(self, tag: str) -> None:
        self.depth -= 1
        if tag == "class" and self.filename is not None:
            self.files.append((self.filename, Numbers(*self.counts)))
            self.filename = None
        elif tag == "source" and self.text is not None:
            self.sources.append("".join(self.text).strip())
            self.text = None


def _from_xml(path: str | Path, root: Path) -> CoverageResult:
    target = _CoberturaTarget()
    parse_xml(SOURCE, path, target)
    attrs = target.attrs
    if "lines-valid" not in attrs:
        # coverage.py writes a bare <coverage line-rate="0.0"/> when nothing was measured: no data, not 0 %.
        return CoverageResult(str(path), "cobertura-xml", False, False, Numbers(), (), attrs.get("version"))
    files = [
        FileCoverage(_project_path(name, target.sources, root), numbers) for name, numbers in target.files
    ]
    totals = sum((f.numbers for f in files), Numbers())
    declared = Numbers(
        _int(path, attrs, "lines-valid"),
        _int(path, attrs, "lines-covered"),
        _int(path, attrs, "branches-valid"),
        _int(path, attrs, "branches-covered"),
    )
    warnings = []
    if files and totals != declared:
        # coverage.py keys <class> by the path relative to its <source>: with several sources, files
        # of the same relative name (each package's __init__.py) overwrite each other, while the root
        # totals still count them all. The root is what `coverage report` says, so it is kept.
        missing = declared.statements - totals.statements
        warnings.append(
            f"per-file data covers {totals.statements} of {declared.statements} statements "
            f"({missing} lost, likely same-named files under different <source> folders); "
            "totals are from the report root, lanes and file lists may be incomplete"
        )
    return CoverageResult(
        file=str(path),
        format="cobertura-xml",
        branch_measured=declared.branches > 0,
        has_data=True,
        totals=declared,
        files=tuple(files),
        tool_version=attrs.get("version"),
        warnings=tuple(warnings),
    )


def _project_path(filename: str, sources: list[str], root: Path) -> str:
    """Place a Cobertura filename (relative to one of the <source> dirs) relative to the project root."""
    candidates = [Path(s) / filename for s in sources] if sources else [Path(filename)]
    if len(candidates) > 1:
        existing = [c for c in candidates if c.exists()]
        candidates = existing or candidates
    for candidate in candidates:
        try:
            return candidate.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            continue
    return Path(filename).as_posix()


def _int(path: str | Path, attrs: dict[str, str], name: str) -> int:
    try:
        return int(attrs.get(name, "0"))
    except ValueError as exc:
        raise CollectorError(SOURCE, path, f"attribute {name}={attrs.get(name)!r} is not an integer") from exc


def _from_json_text(path: str | Path, text: str, fmt_source: str) -> CoverageResult:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CollectorError(SOURCE, path, f"malformed JSON: {exc.msg} (line {exc.lineno})") from exc
    if not isinstance(data, dict) or "totals" not in data or "files" not in data:
        raise CollectorError(SOURCE, path, "JSON is not `coverage json` output (no totals/files)")
    meta = data.get("meta") or {}
    try:
        files = tuple(
            FileCoverage(Path(name).as_posix(), _json_numbers(entry["summary"]))
            for name, entry in sorted(data["files"].items())
        )
        totals = _json_numbers(data["totals"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CollectorError(SOURCE, path, f"unexpected `coverage json` shape: missing {exc}") from exc
    return CoverageResult(
        file=str(path),
        format="coverage-json" if fmt_source == SOURCE else "coverage-data",
        branch_measured=bool(meta.get("branch_coverage", totals.branches > 0)),
        has_data=True,
        totals=totals,
        files=files,
        tool_version=meta.get("version"),
    )


def _json_numbers(summary: dict) -> Numbers:
    return Numbers(
        int(summary["num_statements"]),
        int(summary["covered_lines"]),
        int(summary.get("num_branches", 0)),
        int(summary.get("covered_branches", 0)),
    )


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
    return _from_json_text(path, text, "data")

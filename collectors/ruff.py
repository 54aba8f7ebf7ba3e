"""ruff check output: `--statistics` text or JSON, or the `--output-format json` violation list.

The total always equals ruff's own "Found N errors." line. Syntax errors have no rule code (an empty
code column in the text table, `code: null` in statistics JSON, `"invalid-syntax"` in violations
JSON); they are kept under the key SYNTAX_ERROR_KEY.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from .base import CollectorError, read_text
from .checks import Invalid, array, count, load_json, mapping, shown
from .checks import text as text_

SOURCE = "ruff"
SYNTAX_ERROR_KEY = "invalid-syntax"

# `  76\tF405 \t[ ] undefined-local...`: count, code (possibly blank), fix marker, rule name.
_STAT_ROW = re.compile(r"^\s*(\d+)\t([A-Z]+[0-9]+)?\s*\t(?:\[[ *\-]\] )?(\S+)\s*$")
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
    findings: list[Finding] | None = None  # each finding, in ruff's order (violations JSON only)

    @property
    def total(self) -> int:
        return sum(self.stats.values())


def collect_ruff(path: str | Path, root: str | Path | None = None) -> RuffResult:
    text = read_text(SOURCE, path)
    stripped = text.lstrip()
    if stripped.startswith("["):
        return _from_json(path, text, Path(root) if root else Path.cwd())
    return _from_text(path, text)


def _from_text(path: str | Path, text: str) -> RuffResult:
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


def _from_json(path: str | Path, text: str, root: Path) -> RuffResult:
    try:
        data = array(load_json(text), "the document")
        if not all(isinstance(item, dict) for item in data):
            raise Invalid("JSON is not a list of ruff objects")
        violations = [i for i, item in enumerate(data) if "location" in item]
        statistics = [i for i, item in enumerate(data) if "count" in item]
        if violations and statistics:
            # Two ruff outputs concatenated (or hand-merged): counting either way would be wrong.
            raise Invalid(
                f"mixes {len(violations)} violations (entry {violations[0]}) with {len(statistics)} "
                f"statistics entries (entry {statistics[0]}); give one ruff output per file"
            )
        if len(violations) + len(statistics) < len(data):
            first = next(i for i, item in enumerate(data) if "location" not in item and "count" not in item)
            raise Invalid(
                f"entry {first} has neither 'count' (statistics) nor 'location' (violations): "
                f"{shown(data[first])}"
            )
        if violations or not data:  # `[]` (a clean run) is both outputs; as violations it has lanes and files
            return _from_violations(path, data, root)
        return _from_statistics(path, data)
    except Invalid as exc:
        raise CollectorError(SOURCE, path, str(exc)) from exc


def _from_statistics(path: str | Path, data: list[dict]) -> RuffResult:
    stats: dict[str, int] = {}
    names: dict[str, str] = {}
    for i, item in enumerate(data):
        code = _code(item, i)
        stats[code] = stats.get(code, 0) + count(item["count"], f"entry {i}: count")
        name = text_(item.get("name"), f"entry {i}: name", optional=True)
        message = text_(item.get("message"), f"entry {i}: message", optional=True)
        names[code] = name or message or code
    return RuffResult(str(path), "statistics-json", stats, names, _where(stats), None)


def _from_violations(path: str | Path, data: list[dict], root: Path) -> RuffResult:
    stats: Counter[str] = Counter()
    by_file: Counter[str] = Counter()
    names: dict[str, str] = {}
    raw: list[tuple[str, int | None, str, str]] = []
    for i, item in enumerate(data):
        if "filename" not in item or "code" not in item:  # a syntax error has "code": null, never no code
            raise Invalid(
                f"entry {i} has a location but no 'code' and 'filename' as ruff's findings have: "
                f"{shown(item)} (another tool's report, e.g. GitLab code quality?); give "
                "`ruff check --output-format json` output"
            )
        code = _code(item, i)
        location = mapping(item["location"], f"entry {i}: location")
        stats[code] += 1
        names.setdefault(code, text_(item.get("name"), f"entry {i}: name", optional=True) or code)
        filename = text_(item.get("filename"), f"entry {i}: filename", optional=True) or ""
        by_file[filename] += 1
        row = location.get("row")
        line = count(row, f"entry {i}: location.row") if row is not None else None
        raw.append(
            (filename, line, code, text_(item.get("message"), f"entry {i}: message", optional=True) or "")
        )
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
    relative = Counter({_relative(name, base): n for name, n in by_file.items()})
    shown_as = {name: _relative(name, base) for name in by_file}
    findings = [Finding(shown_as[f], line, code, message) for f, line, code, message in raw]
    return RuffResult(
        str(path), "violations-json", dict(stats), names, dict(relative), None, warnings, findings
    )


def _code(item: dict, i: int) -> str:
    """A rule code; null or empty is a syntax error (ruff has no code for those)."""
    return text_(item.get("code"), f"entry {i}: code", optional=True) or SYNTAX_ERROR_KEY


def _base_dir(filenames: list[str], root: Path) -> Path:
    """The project root, or, when ruff ran in another checkout (a container's /github/workspace, another
    runner), the folder there that stands for the project root: the shallowest one under which the reported
    files exist in this checkout (so `pkg/mod.py` keeps its `pkg/` and its lane). Without the files here, the
    folder they all share."""
    absolute = [f for f in filenames if PurePath(f).is_absolute()]
    resolved = root.resolve()
    if not absolute or any(PurePath(f).is_relative_to(resolved) for f in absolute):
        return resolved
    common = PurePath(os.path.commonpath(absolute))
    common = common.parent if str(common) in absolute else common
    sample = absolute[:50]  # enough to tell where the checkout sits; a lint run may list thousands
    for base in reversed((common, *common.parents)):
        if all((resolved / PurePath(f).relative_to(base)).is_file() for f in sample):
            return Path(base)
    return Path(common)


def _relative(filename: str, base: Path) -> str:
    pure = PurePath(filename)
    return pure.relative_to(base).as_posix() if pure.is_relative_to(base) else pure.as_posix()


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

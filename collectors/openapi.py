"""OpenAPI changes between two versions of an API: the built-in diff of two spec files, or a report
written by a tool teams already run. Both give one `OpenAPIResult`.

Reports read (the format is recognised from the content, not the file name):

* npm `openapi-diff` (Atlassian): a header line ("Breaking changes found between the two
  specifications:", "Non breaking changes found …:" or "No changes found …") and, unless there
  were none, a JSON object with `breakingDifferences`, `nonBreakingDifferences`,
  `unclassifiedDifferences`. Its own classification is kept; unclassified differences are counted
  as non-breaking and say so.
* `oasdiff breaking|changelog --format json`: a JSON array of findings `{id, text, level, operation,
  path, ...}` (level 3 = error = breaking, 2 = warning, 1 = info), or `{"changes": [...]}`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from .base import CollectorError, current_limits, read_text
from .checks import Invalid, within_budget
from .openapi_diff import ERROR, INFO, WARNING, Change, diff_specs
from .openapi_load import SOURCE, load_spec

_OPENAPI_DIFF_HEADERS = (
    "Breaking changes found between the two specifications",
    "Non breaking changes found between the two specifications",
    "No changes found between the two specifications",
)
# openapi-diff's error ("OpenApiDiffErrorImpl [VError]: Validation errors in …") and oasdiff's ("Error: …")
_TOOL_ERROR = re.compile(r"^(?:OpenApiDiffError\w*(?: \[\w+\])?|Error): (?P<reason>.+)")
_OASDIFF_LEVELS = {3: ERROR, 2: WARNING, 1: INFO, "error": ERROR, "err": ERROR, "warning": WARNING,
                   "warn": WARNING, "info": INFO}  # fmt: skip


@dataclass(frozen=True)
class OpenAPIResult:
    source: str  # "healthdeck" (built-in diff) | "openapi-diff" | "oasdiff"
    files: tuple[str, ...]  # BASE and HEAD specs, or the report read
    changes: tuple[Change, ...]

    @property
    def breaking(self) -> int:
        return sum(c.breaking for c in self.changes)

    @property
    def non_breaking(self) -> int:
        return len(self.changes) - self.breaking


def collect_openapi(base: str | Path, head: str | Path) -> OpenAPIResult:
    """The built-in diff of two spec files (needs the `openapi` extra)."""
    changes = diff_specs(load_spec(base), load_spec(head))
    return OpenAPIResult("healthdeck", (str(base), str(head)), tuple(changes))


def collect_openapi_report(path: str | Path) -> OpenAPIResult:
    """A report of npm openapi-diff or oasdiff (no extra needed: both are JSON)."""
    text = read_text(SOURCE, path).strip()
    try:
        within_budget(text, current_limits().max_decoded, "the report")
    except Invalid as exc:
        raise CollectorError(SOURCE, path, str(exc)) from None
    first, _, rest = text.partition("\n")
    if first.rstrip(":").strip() in _OPENAPI_DIFF_HEADERS:
        return _openapi_diff(path, first, rest)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # also 5 000-digit numbers and nesting past the parser's
        if failed := _TOOL_ERROR.match(first):  # the tool's own error, captured with 2>&1: say it
            raise CollectorError(SOURCE, path, f"the diff tool failed instead of writing a report: "
                                 f"{failed['reason'][:300]}") from None  # fmt: skip
        raise CollectorError(SOURCE, path, "not an openapi-diff or oasdiff report (neither its header line "
                             f"nor JSON: {exc})") from exc  # fmt: skip
    if isinstance(data, dict) and isinstance(data.get("changes"), list):
        data = data["changes"]
    if isinstance(data, list) and all(isinstance(x, dict) and "id" in x and "level" in x for x in data):
        return _oasdiff(path, data)
    if (
        isinstance(data, dict) and "breakingDifferencesFound" in data
    ):  # openapi-diff's JSON without its header
        return _openapi_diff(path, "", text)
    raise CollectorError(SOURCE, path, "not an openapi-diff or oasdiff report (JSON of another shape)")


def _openapi_diff(path: str | Path, header: str, body: str) -> OpenAPIResult:
    if header.startswith("No changes found"):
        return OpenAPIResult("openapi-diff", (str(path),), ())
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise CollectorError(SOURCE, path, f"openapi-diff header without its JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise CollectorError(SOURCE, path, "openapi-diff output is not a JSON object")
    changes = []
    for key, level in (("breakingDifferences", ERROR), ("nonBreakingDifferences", INFO),
                       ("unclassifiedDifferences", WARNING)):  # fmt: skip
        items = data.get(key) or []
        if not isinstance(items, list):
            raise CollectorError(SOURCE, path, f"openapi-diff {key} is not a list")
        changes += [_openapi_diff_change(path, item, level) for item in items if isinstance(item, dict)]
    found = data.get("breakingDifferencesFound", False)
    if not isinstance(found, bool):
        raise CollectorError(
            SOURCE, path, f"openapi-diff breakingDifferencesFound is {found!r}, not true or false"
        )
    if found != any(c.breaking for c in changes):
        raise CollectorError(SOURCE, path, "openapi-diff says breakingDifferencesFound="
                             f"{data.get('breakingDifferencesFound')} but lists otherwise")  # fmt: skip
    return OpenAPIResult("openapi-diff", (str(path),), tuple(changes))


def _openapi_diff_change(path: str | Path, item: dict, level: str) -> Change:
    details = item.get("sourceSpecEntityDetails") or item.get("destinationSpecEntityDetails") or [{}]
    if not isinstance(details, list) or not isinstance(details[0] or {}, dict):
        raise CollectorError(SOURCE, path, f"openapi-diff finding {str(item.get('code'))[:80]!r}: its entity "
                             "details are not a list of objects")  # fmt: skip
    location = str((details[0] or {}).get("location", ""))
    path, method, rest = _split_location(location)
    code = str(item.get("code", ""))
    note = " (unclassified by openapi-diff)" if level == WARNING else ""
    return Change(
        code, level, method, path, rest, f"{item.get('action', '')} {item.get('entity', '')}{note}".strip()
    )


def _split_location(location: str) -> tuple[str | None, str | None, str]:
    """'paths./users/{id}.get.responses.200…' -> ('/users/{id}', 'GET', 'responses.200…')."""
    if not location.startswith("paths."):
        return None, None, location
    rest = location[len("paths.") :]
    for method in ("get", "put", "post", "delete", "options", "head", "patch", "trace"):
        marker = f".{method}"
        index = rest.find(marker + ".")
        if index < 0 and rest.endswith(marker):
            index = len(rest) - len(marker)
        if index > 0:
            return rest[:index], method.upper(), rest[index + len(marker) + 1 :]
    return rest, None, ""


def _oasdiff(path: str | Path, items: list[dict]) -> OpenAPIResult:
    changes = []
    for item in items:
        raw = item["level"]
        # a level is a number or a name; bool is an int to Python (true would read as level 1)
        level = _OASDIFF_LEVELS.get(raw.lower() if isinstance(raw, str) else raw) if isinstance(
            raw, str | int) and not isinstance(raw, bool) else None  # fmt: skip
        if level is None:
            raise CollectorError(
                SOURCE, path, f"oasdiff finding {item['id']!r} has an unknown level {item['level']!r}"
            )
        operation, where = item.get("operation") or None, item.get("path") or None
        if not isinstance(operation, str | None) or not isinstance(where, str | None):
            raise CollectorError(SOURCE, path, f"oasdiff finding {str(item['id'])[:80]!r}: operation and path "
                                 "must be text")  # fmt: skip
        changes.append(Change(str(item["id"]), level, operation, where,
                              str(item.get("section") or ""), str(item.get("text") or "")))  # fmt: skip
    return OpenAPIResult("oasdiff", (str(path),), tuple(changes))

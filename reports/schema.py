"""The shipped JSON Schema of latest.json, and validation against it.

The validator is ours and small: it knows exactly the JSON Schema (draft 2020-12) keywords the shipped
schema uses, and refuses a schema that uses any other, so it can never pass a report by ignoring a
rule. Importing `jsonschema` would cost `gate` more than everything else it does; the tests hold this
validator to jsonschema's verdicts on real reports and on thousands of broken ones.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:
    from typing import Any

SCHEMA_FILE = "health-report.schema.json"
Path_ = tuple[str | int, ...]
Found = tuple[Path_, str] | tuple[Path_, str, str] | None  # a keyword's first error: where, why (, keyword)
# Keywords that do not constrain the instance.
_ANNOTATIONS = {"$schema", "$id", "$defs", "title", "description"}


class ReportError(Exception):
    """The report healthdeck built is not valid: a healthdeck bug, never the input's fault.

    The CLI prints it as one line and exits 5 (documented), and nothing is written.
    """


class SchemaError(Exception):
    """The schema uses a keyword this validator does not know (a healthdeck bug, caught by the tests)."""


@cache
def report_schema() -> dict:
    return json.loads((Path(__file__).parent / "schema" / SCHEMA_FILE).read_text(encoding="utf-8"))


def validate_report(report: dict, part: str | None = None) -> None:
    """Raise ReportError (one line: where and why) if the report does not match its schema; with `part`
    (a top-level key), only that part of it is checked."""
    found = schema_error(report) if part is None else _part_error(report, part)
    if found is not None:
        raise ReportError(
            f"internal error: the report does not match its schema at {found}; nothing was written"
        )


def schema_error(report: dict, schema: dict | None = None) -> str | None:
    """Where and why `report` breaks the schema ("summary.ts: 'x' is not of type 'integer'"), or None."""
    root = schema if schema is not None else report_schema()
    error = _Validator(root).first_error(report, root, ())
    return None if error is None else _where(error)


def _part_error(report: dict, part: str) -> str | None:
    root = report_schema()
    error = _Validator(root).first_error(report.get(part), root["properties"][part], (part,))
    return None if error is None else _where(error)


def _where(error: tuple[Path_, str, str]) -> str:
    path, reason, _ = error
    return f"{'.'.join(str(p) for p in path) or 'the top level'}: {' '.join(reason.split())[:200]}"


def _is_integer(value: object) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, float) and value.is_integer()
    )


_TYPES = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": _is_integer,
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
}


def _equal(a: object, b: object) -> bool:
    """JSON equality: 1 == 1.0, but True is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


class _Validator:
    def __init__(self, root: dict) -> None:
        self.root = root

    def resolve(self, ref: str) -> dict:
        if not ref.startswith("#/"):
            raise SchemaError(f"only local references are supported, not {ref!r}")
        node = self.root
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def first_error(self, value: object, schema: dict, path: Path_) -> tuple[Path_, str, str] | None:
        """The first rule `value` breaks, as (where, why, the keyword); None when it satisfies `schema`."""
        for keyword, rule in schema.items():
            check = _KEYWORDS.get(keyword)
            if check is None:
                if keyword in _ANNOTATIONS:
                    continue
                raise SchemaError(f"the schema uses {keyword!r}, which this validator does not know")
            error = check(self, value, rule, schema, path)
            if error is not None:
                return error if len(error) == 3 else (*error, keyword)
        return None

    # -- keywords: each returns the first error or None ----------------------------------------
    def ref(self, value: Any, rule: Any, schema: dict, path: Path_) -> Found:
        return self.first_error(value, self.resolve(rule), path)

    def type(self, value: Any, rule: Any, schema: dict, path: Path_) -> Found:
        kinds = [rule] if isinstance(rule, str) else rule
        if any(_TYPES[kind](value) for kind in kinds):
            return None
        shown = repr(rule) if isinstance(rule, str) else ", ".join(repr(k) for k in rule)
        return path, f"{_show(value)} is not of type {shown}"

    def enum(self, value: Any, rule: Any, schema: dict, path: Path_) -> Found:
        return (
            None
            if any(_equal(value, option) for option in rule)
            else (path, f"{_show(value)} is not one of {rule!r}")
        )

    def const(self, value: Any, rule: Any, schema: dict, path: Path_) -> Found:
        return None if _equal(value, rule) else (path, f"{rule!r} was expected")

    def pattern(self, value: Any, rule: Any, schema: dict, path: Path_) -> Found:
        if not isinstance(value, str) or re.search(rule, value):
            return None
        return path, f"{_show(value)} does not match {rule!r}"

    def minimum(self, value: Any, rule: Any, schema: dict, path: Path_) -> Found:
        if _TYPES["number"](value) and value < rule:
            return path, f"{_show(value)} is less than the minimum of {rule}"
        return None

    def maximum(self, value: Any, rule: Any, schema: dict, path: Path_) -> Found:
        if _TYPES["number"](value) and value > rule:
            return path, f"{_show(value)} is greater than the maximum of {rule}"
        return None

    def min_items(self, value: Any, rule: Any, schema: dict, path: Path_) -> Found:
        if isinstance(value, list) and len(value) < rule:
            return path, f"{_show(value)} should have at least {rule} items"
        return None

    def max_items(self, value: Any, rule: Any, schema: dict, path: Path_) -> Found:
        if isinstance(value, list) and len(value) > rule:
            return path, f"{_show(value)} should have at most {rule} items"
        return None

    def required(self, value: Any, rule: Any, schema: dict, path: Path_) -> Found:
        if isinstance(value, dict):
            for name in rule:
                if name not in value:
                    return path, f"{name!r} is a required property"
        return None

    def dependent_required(self, value: Any, rule: Any, schema: dict, path: Path_) -> Found:
        if isinstance(value, dict):
            for present, needed in rule.items():
                for name in needed if present in value else ():
                    if name not in value:
                        return path, f"{name!r} is a dependency of {present!r}"
        return None

    def properties(self, value: Any, rule: Any, schema: dict, path: Path_) -> Found:
        if isinstance(value, dict):
            for name, sub in rule.items():
                if name in value and (error := self.first_error(value[name], sub, (*path, name))):
                    return error
        return None

    def additional_properties(self, value: Any, rule: Any, schema: dict, path: Path_) -> Found:
        if not isinstance(value, dict):
            return None
        extra = [name for name in value if name not in schema.get("properties", {})]
        if rule is False and extra:
            return path, f"Additional properties are not allowed ({', '.join(map(repr, extra))} unexpected)"
        for name in extra if isinstance(rule, dict) else ():
            if error := self.first_error(value[name], rule, (*path, name)):
                return error
        return None

    def items(self, value: Any, rule: Any, schema: dict, path: Path_) -> Found:
        if isinstance(value, list):
            for i, item in enumerate(value):
                if error := self.first_error(item, rule, (*path, i)):
                    return error
        return None

    def all_of(self, value: Any, rule: Any, schema: dict, path: Path_) -> Found:
        for sub in rule:
            if error := self.first_error(value, sub, path):
                return error
        return None

    def one_of(self, value: Any, rule: Any, schema: dict, path: Path_) -> Found:
        errors = [self.first_error(value, sub, path) for sub in rule]
        matched = errors.count(None)
        if matched == 1:
            return None
        if matched > 1:
            return path, f"{_show(value)} is valid under each of several of the given schemas"
        # A branch of the value's own type says best what is wrong (a missing or wrong field of an
        # object, rather than "not null"); the one that got furthest into the value.
        telling = [e for e in errors if e is not None and not (e[2] == "type" and e[0] == path)]
        if telling:
            return max(telling, key=lambda e: len(e[0]))
        return path, f"{_show(value)} is not valid under any of the given schemas"


_KEYWORDS = {
    "$ref": _Validator.ref,
    "type": _Validator.type,
    "enum": _Validator.enum,
    "const": _Validator.const,
    "pattern": _Validator.pattern,
    "minimum": _Validator.minimum,
    "maximum": _Validator.maximum,
    "minItems": _Validator.min_items,
    "maxItems": _Validator.max_items,
    "required": _Validator.required,
    "dependentRequired": _Validator.dependent_required,
    "properties": _Validator.properties,
    "additionalProperties": _Validator.additional_properties,
    "items": _Validator.items,
    "allOf": _Validator.all_of,
    "oneOf": _Validator.one_of,
}


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."

"""The shipped JSON Schema of latest.json, and validation against it before anything is written."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files

SCHEMA_FILE = "health-report.schema.json"


@cache
def report_schema() -> dict:
    return json.loads(files("healthdeck.reports").joinpath("schema", SCHEMA_FILE).read_text(encoding="utf-8"))


def validate_report(report: dict) -> None:
    """Raise jsonschema.ValidationError if the report does not match its schema (a healthdeck bug)."""
    import jsonschema

    jsonschema.Draft202012Validator(report_schema()).validate(report)

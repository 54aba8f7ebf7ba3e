"""The shipped JSON Schema of latest.json, and validation against it before anything is written."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files

SCHEMA_FILE = "health-report.schema.json"


class ReportError(Exception):
    """The report healthdeck built is not valid: a healthdeck bug, never the input's fault.

    The CLI prints it as one line and exits 5 (documented), and nothing is written.
    """


@cache
def report_schema() -> dict:
    return json.loads(files("healthdeck.reports").joinpath("schema", SCHEMA_FILE).read_text(encoding="utf-8"))


def validate_report(report: dict) -> None:
    """Raise ReportError (one line: where and why) if the report does not match its schema."""
    import jsonschema

    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(report_schema()).iter_errors(report)
    )
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "the top level"
        reason = " ".join(error.message.split())
        raise ReportError(
            f"internal error: the report does not match its schema at {where}: {reason[:200]}; "
            "nothing was written"
        )

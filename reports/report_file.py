"""Reading a report file (latest.json or a base-branch copy of it), and telling a torn pair."""

from __future__ import annotations

import json
from pathlib import Path

from healthdeck.collectors.files import read_named

from .errors import InputError
from .output import md_run_key


def parse_report(text: str | bytes, where: str) -> dict:
    """A healthdeck report from its JSON text; InputError naming `where` otherwise."""
    try:
        report = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{where}: not a JSON report: {exc}") from exc
    if (
        not isinstance(report, dict)
        or not isinstance(report.get("summary"), dict)
        or "schema_version" not in report
    ):
        raise InputError(f"{where}: not a healthdeck report (no schema_version/summary)")
    return report


def load_report(path: str | Path) -> dict:
    try:
        text = read_named(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the report: {exc.strerror or exc}") from exc
    return parse_report(text, str(path))


def torn_pair_note(path: Path, report: dict) -> str | None:
    """A note when latest.md beside the report is from another run (a write interrupted between the
    two renames; the JSON, renamed last, is the one that counts)."""
    key = report["summary"].get("run_key")
    md_key = md_run_key(path.with_suffix(".md"))
    if key and md_key and md_key != key:
        return (
            f"{path.with_suffix('.md')} is from run {md_key}, {path.name} from run {key} (a write was "
            f"interrupted); {path.name} is used and the next collect rewrites both"
        )
    return None

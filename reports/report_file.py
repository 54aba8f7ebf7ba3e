"""Reading a report file (latest.json or a base-branch copy of it), and telling a torn pair."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

from healthdeck.collectors.checks import DECODED_MB, MIB, decoded_size
from healthdeck.collectors.files import read_named

from .errors import InputError
from .output import md_run_key


def _not_strict(constant: str) -> float:
    raise ValueError(f"{constant} is not a JSON number (healthdeck writes strict JSON)")


def report_json(text: str | bytes, where: str) -> object:
    """The JSON of a report file, strictly read; InputError naming `where` otherwise. NaN and Infinity
    are refused here: they pass every range check of the schema (a comparison with NaN is always
    false). A file that would take more than the default `max_decoded_mb` to decode is refused before
    it is decoded (a 64 MiB file of empty lists takes 1.3 GB)."""
    if isinstance(text, bytes):  # in the encoding json.loads would detect, so the size is counted on text
        try:
            text = text.decode(json.detect_encoding(text))
        except UnicodeDecodeError as exc:
            raise InputError(f"{where}: not a JSON report: {exc.reason} at byte {exc.start}") from exc
    if (size := decoded_size(text)) > (budget := DECODED_MB * MIB):
        raise InputError(
            f"{where}: not read: it would take some {size // MIB:,} MiB to decode, more than the "
            f"{budget // MIB:,} MiB a report may take (no healthdeck report comes near it)"
        )
    try:
        return json.loads(text, parse_constant=_not_strict)
    except (ValueError, RecursionError) as exc:  # also 5 000-digit numbers, nesting past the parser's depth
        raise InputError(f"{where}: not a JSON report: {' '.join(str(exc).split())[:200]}") from exc


def parse_report(text: str | bytes, where: str) -> dict:
    """A healthdeck report from its JSON text (`report_json`); InputError naming `where` otherwise."""
    report = report_json(text, where)
    if (
        not isinstance(report, dict)
        or not isinstance(report.get("summary"), dict)
        or "schema_version" not in report
    ):
        raise InputError(f"{where}: not a healthdeck report (no schema_version/summary)")
    version = report["schema_version"]
    if not isinstance(version, str) or not version.startswith("1."):
        raise InputError(f"{where}: report schema {version!r}: this healthdeck reads schema 1.x reports")
    return report


def check_report(report: dict, where: str) -> None:
    """The whole report against its JSON Schema: a hand-edited or foreign file is one line, not a traceback
    in whatever reads the broken part first."""
    from .schema import schema_error  # the walk costs a few ms: only where a report file is judged

    if problem := schema_error(report):
        raise InputError(f"{where}: not a valid healthdeck report at {problem}")


@contextlib.contextmanager
def blamed_on(path: str | Path | None, report: dict | None) -> Iterator[None]:
    """A reader (comment, badge) that trips over a report file: when the file breaks the schema, that is
    the input error it is (exit 3), said in one line; otherwise the error is healthdeck's own. The schema
    is walked only then, so a good report costs nothing more to read."""
    try:
        yield
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
        if path is not None and report is not None:
            check_report(report, str(path))
        raise exc from None


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

"""Writing outputs: strict JSON text, and atomic writes.

Every output is rendered in memory first, then each file lands by rename. A failure anywhere before
the renames leaves the previous files untouched; temp files are removed.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path

from .schema import ReportError, validate_report


class OutputError(Exception):
    """An output could not be written; the message names the path."""


def json_text(data: object) -> str:
    """Pretty JSON that every parser accepts: NaN and Infinity are refused (ReportError), not written.

    Collectors turn non-finite inputs into missing values and say so; one reaching this point is a
    healthdeck bug, so the run fails rather than writing `NaN` that JavaScript, Go and strict parsers
    reject.
    """
    where = _non_finite(data, "")
    if where is not None:
        raise ReportError(
            f"internal error: non-finite number at {where or 'the top level'}; nothing was written"
        )
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def report_json(report: dict) -> str:
    """latest.json's text: schema-valid and strict JSON, or ReportError."""
    text = json_text(report)
    validate_report(report)
    return text


def _non_finite(data: object, where: str) -> str | None:
    """The dotted path of the first NaN/±Infinity in `data`, or None."""
    if isinstance(data, float):
        return None if math.isfinite(data) else where
    items = (
        data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list | tuple) else ()
    )
    for key, value in items:
        found = _non_finite(value, f"{where}.{key}" if where else str(key))
        if found is not None:
            return found
    return None


def write_atomic(files: dict[Path, str]) -> None:
    """Write all `files` (path -> text) or none of them."""
    staged: list[tuple[str, Path]] = []
    try:
        for target, text in files.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            staged.append((tmp, target))
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
        for tmp, target in staged:
            os.replace(tmp, target)
    except OSError as exc:
        for tmp, _ in staged:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        raise OutputError(f"{exc.filename or target}: cannot write: {exc.strerror or exc}") from exc

"""Atomic writes: every output is rendered in memory first, then each file lands by rename.

A failure anywhere before the renames leaves the previous files untouched; temp files are removed.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


class OutputError(Exception):
    """An output could not be written; the message names the path."""


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

"""The collectors' one error type, in a module of its own so readers that only name it stay light."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:  # light: readers that only name the error do not import pathlib for it
    from pathlib import Path


REASON_CHARS = 1000


class CollectorError(Exception):
    """An artifact could not be read. Carries the source kind, the file and a one-line reason."""

    def __init__(self, source: str, path: str | Path, reason: str) -> None:
        self.source = source
        self.path = str(path)
        text = str(reason)  # always one short line, whatever the parser said (it may quote the input)
        self.reason = " ".join(text[:REASON_CHARS].split()) + ("…" if len(text) > REASON_CHARS else "")
        super().__init__(f"{self.path}: {self.source}: {self.reason}")


def exception_text(exc: BaseException, limit: int = 300) -> str:
    """An exception's own message on one bounded line: a database driver's (SQLAlchemy keeps it as
    `orig`, without its statement dump), else the exception's; its type's name when it says nothing."""
    text = " ".join(str(getattr(exc, "orig", None) or exc).split())[:limit]
    return text or type(exc).__name__

"""History store URLs: where a store is, whether it can be one, and how a message shows it.

Apart from reader.py so that a command that only names the store in a message (badge, a report read from
a file) pays for no more than `re`.
"""

from __future__ import annotations

import re
from pathlib import Path


def default_url(out: str | Path) -> str:
    return f"sqlite:///{Path(out) / 'history.sqlite'}"


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory SQLite)."""
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[1] if "///" in url else ""
    return Path(path) if path and path != ":memory:" else None


def store_exists(url: str) -> bool:
    """False only for a SQLite file that is not there (a server database is assumed to exist)."""
    path = sqlite_path(url)
    try:
        return path is None or path.exists()
    except OSError:  # a path no file system can hold: no store there (url_problem says why)
        return False


def safe_url(url: str) -> str:
    """The URL without its password, for messages: everything up to the last `@`, so a password with an
    unencoded `@` (or `/`) is masked whole, never in part."""
    return re.sub(r"^([a-z0-9+]+://[^:/@]*):.*@", r"\1:***@", url, flags=re.DOTALL)


def url_problem(url: str) -> str | None:
    """Why `url` cannot be a history store, or None: a store is a SQLite file or a PostgreSQL database."""
    from urllib.parse import urlsplit

    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme == "sqlite":
        path = sqlite_path(url)
        if path is None:
            return "names no file (an in-memory store is lost at exit); give sqlite:///PATH"
        if "?" in str(path):  # SQLAlchemy would drop it with a warning, the sqlite3 reader would keep it
            return "a SQLite store URL takes no query (`?...`): give sqlite:///PATH"
        if any(len(part.encode("utf-8", "surrogateescape")) > 255 for part in path.parts):
            return "a name in its path is longer than the 255 bytes a file system allows"
        return None
    if scheme not in ("postgresql", "postgresql+psycopg"):
        return "not a history store URL: give sqlite:///PATH or postgresql://USER@HOST/DB"
    if url.rsplit("@", 1)[0].count("@"):
        return "the password holds an '@': percent-encode it (%40)"
    try:
        urlsplit(url).port  # noqa: B018 - parsing is the check: a port that is no number, a broken [IPv6]
    except ValueError as exc:
        return f"not a valid URL: {exc}"
    return None

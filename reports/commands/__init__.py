"""One module per `healthdeck` command, each with `run(args) -> int`.

`healthdeck.reports.cli` parses the command line and imports only the module of the command it runs, so a
light command never pays for the imports of a heavy one.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import Config
from ..errors import UsageError

if TYPE_CHECKING:  # the store (SQLAlchemy) is imported only by a command that opens it
    from ..history.store import HistoryStore


def report_path(args: argparse.Namespace, config: Config) -> Path:
    return Path(getattr(args, "report", None) or Path(config.out) / "latest.json")


def store_for(args: argparse.Namespace, config: Config, folder: Path) -> HistoryStore:
    """The history store the command reads: --history, else the configured one, else the one in `folder`."""
    from ..history.store import default_url, open_store

    url = args.history or config.history or default_url(folder)
    if url.startswith("postgresql"):
        require_extra("postgres", "psycopg", f"a PostgreSQL history store ({url.split('@')[-1]})")
    return open_store(url)


def require_extra(extra: str, module: str, what: str) -> None:
    """One line naming the extra to install when `module` is missing (exit 2, like any usage error)."""
    from importlib.util import find_spec

    if find_spec(module) is None:
        raise UsageError(f"{what} needs the [{extra}] extra: pip install 'healthdeck[{extra}]'")

"""One module per `healthdeck` command, each with `run(args) -> int`.

`healthdeck.reports.cli` parses the command line and imports only the module of the command it runs, so a
light command never pays for the imports of a heavy one.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config import Config
from ..history.store import HistoryStore, default_url, open_store


def report_path(args: argparse.Namespace, config: Config) -> Path:
    return Path(getattr(args, "report", None) or Path(config.out) / "latest.json")


def store_for(args: argparse.Namespace, config: Config, folder: Path) -> HistoryStore:
    """The history store the command reads: --history, else the configured one, else the one in `folder`."""
    return open_store(args.history or config.history or default_url(folder))

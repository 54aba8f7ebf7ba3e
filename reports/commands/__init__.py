"""One module per `healthdeck` command, each with `run(args) -> int`.

`healthdeck.reports.cli` parses the command line and imports only the module of the command it runs, so a
light command never pays for the imports of a heavy one. Reading commands get their report through
`healthdeck.reports.reading` (a file, or the history store alone).
"""

from __future__ import annotations

from ..errors import UsageError


def require_extra(extra: str, module: str, what: str) -> None:
    """One line naming the extra to install when `module` is missing (exit 2, like any usage error)."""
    from importlib.util import find_spec

    if find_spec(module) is None:
        raise UsageError(f"{what} needs the [{extra}] extra: pip install 'healthdeck[{extra}]'")

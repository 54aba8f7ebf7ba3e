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
        raise UsageError(f"{what} needs the [{extra}] extra: {install_line(extra)}")


def install_line(extra: str) -> str:
    """The pip command that adds `extra` to this very install: from the wheel, checkout or git URL it came
    from (its PEP 610 record), since a bare `healthdeck[extra]` from an index may be another project."""
    import json
    from importlib.metadata import PackageNotFoundError, distribution
    from urllib.parse import unquote, urlsplit

    try:
        origin = json.loads(distribution("healthdeck").read_text("direct_url.json") or "null")
    except (PackageNotFoundError, OSError, ValueError):
        origin = None
    url = origin.get("url") if isinstance(origin, dict) else None
    if not isinstance(url, str):
        return f"pip install 'healthdeck[{extra}]'"
    if isinstance(vcs := origin.get("vcs_info"), dict):
        ref = f"@{vcs['commit_id']}" if isinstance(vcs.get("commit_id"), str) else ""
        return f"pip install 'healthdeck[{extra}] @ {vcs.get('vcs', 'git')}+{url}{ref}'"
    parts = urlsplit(url)
    if parts.scheme != "file":
        return f"pip install 'healthdeck[{extra}] @ {url}'"
    path = unquote(parts.path)
    editable = isinstance(origin.get("dir_info"), dict) and origin["dir_info"].get("editable")
    return f"pip install {'-e ' if editable else ''}'{path}[{extra}]'"

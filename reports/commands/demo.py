"""`healthdeck demo`: build the sample history with the real commands, then open the dashboard on it."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import DEFAULT_OUT
from ..demo.history import DemoError, build
from ..errors import UsageError, one_line
from ..history.store import default_url
from ..report_file import load_report
from . import require_extra
from .collect import headline
from .dashboard import serve


def run(args: argparse.Namespace) -> int:
    if not args.no_dashboard:  # say so before building anything
        require_extra("dashboard", "streamlit", "the demo's dashboard (or run it with --no-dashboard)")
    out = Path(args.out or DEFAULT_OUT)
    try:
        config = build(out, runs=max(args.runs, 2), progress=not args.quiet)
    except DemoError as exc:
        raise UsageError(str(exc)) from exc
    if not args.quiet:
        print(one_line(f"wrote {out / 'latest.json'}, {out / 'latest.md'} and {out / 'history.sqlite'}"))
        print(headline(load_report(out / "latest.json")))
    if args.no_dashboard:
        return 0
    return serve(out / "latest.json", default_url(out), config, args.host, args.port)

"""`healthdeck dashboard`: serve the Streamlit dashboard over a report and its history, read-only."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from ..config import load_config
from ..history.store import default_url


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    report = Path(args.report or Path(config.out) / "latest.json")
    history = args.history or config.history or default_url(report.parent)
    return serve(report, history, Path(config.source) if config.source else None, args.host, args.port)


def serve(report: Path, history: str, config: Path | None, host: str, port: int) -> int:
    """Run `streamlit run dashboard/app.py` with the dashboard's read-only settings."""
    app = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
    env = {**os.environ, "HEALTHDECK_REPORT": str(report.resolve()), "HEALTHDECK_HISTORY": _absolute(history)}
    if config:
        env["HEALTHDECK_CONFIG"] = str(Path(config).resolve())
    print(f"dashboard: http://{host}:{port}  (Ctrl-C stops it)", flush=True)
    command = [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port),
               "--server.address", host]  # fmt: skip
    try:
        # cwd = dashboard/, so its .streamlit/config.toml (read-only deployment settings) applies
        return subprocess.run(command, env=env, cwd=app.parent, check=False).returncode
    except KeyboardInterrupt:
        return 0


def _absolute(url: str) -> str:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        return "sqlite:///" + str(Path(url.removeprefix("sqlite:///")).resolve())
    return url

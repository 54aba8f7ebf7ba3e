"""`healthdeck dashboard`: serve the Streamlit dashboard over a report and its history, read-only.

Streamlit runs as a child process in a session of its own. SIGINT and SIGTERM sent to healthdeck are
forwarded to it and healthdeck exits when it does (with its status), so a supervisor that stops
healthdeck never leaves Streamlit holding the port; a child that ignores the signal is killed after a
grace period. The child writes nothing: its settings come from dashboard/.streamlit/config.toml
(headless, no file watcher, no usage statistics), and the report and store are only read.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from ..config import Config, load_config
from . import require_extra

GRACE_SECONDS = 10.0  # after forwarding a stop signal, before the child is killed


def run(args: argparse.Namespace) -> int:
    from ..reading import store_url

    # as the dashboard reads HEALTHDECK_CONFIG: "" is no pyproject (the defaults)
    path = args.config or os.environ.get("HEALTHDECK_CONFIG")
    config = Config() if path == "" else load_config(path or None)
    # the flags, else the variables the dashboard itself reads (deployment.md), else the project's config;
    # the store is found as every other command finds it
    report = Path(args.report or os.environ.get("HEALTHDECK_REPORT") or config.report_path)
    history = store_url(args, config, report.parent)
    config_file = Path(config.source) if config.source else None
    return serve(report, history, config_file, args.host, args.port, project=args.project)


def serve(
    report: Path, history: str, config: Path | None, host: str, port: int, project: str | None = None
) -> int:
    """Run `streamlit run dashboard/app.py` with the dashboard's read-only settings until it stops. Without a report
    file the dashboard reads the project's newest run from the history store."""
    require_extra("dashboard", "streamlit", "the dashboard")
    app = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
    env = {**os.environ, "HEALTHDECK_REPORT": str(report.resolve()), "HEALTHDECK_HISTORY": _absolute(history)}
    env["HEALTHDECK_CONFIG"] = (
        str(Path(config).resolve()) if config else ""
    )  # "": defaults, see dashboard/data.py
    if project:
        env["HEALTHDECK_PROJECT"] = project
    print(f"dashboard: http://{host}:{port}  (Ctrl-C stops it)", flush=True)
    command = [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port),
               "--server.address", host]  # fmt: skip
    # cwd = dashboard/, so its .streamlit/config.toml (read-only deployment settings) applies. A session of
    # its own: a terminal's Ctrl-C reaches healthdeck only, which forwards it once (never twice).
    child = subprocess.Popen(command, env=env, cwd=app.parent, start_new_session=True,
                             preexec_fn=_die_with(os.getpid()) if sys.platform.startswith("linux") else None)  # fmt: skip
    return _supervise(child)


def _die_with(parent: int) -> Callable[[], None]:
    """Linux: Streamlit is sent SIGTERM when healthdeck dies, even by SIGKILL, which cannot be forwarded
    (PR_SET_PDEATHSIG); if healthdeck is already gone when this runs, Streamlit does not start."""

    def arm() -> None:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
        if os.getppid() != parent:
            os._exit(1)

    return arm


def _supervise(child: subprocess.Popen) -> int:
    """Wait for the child, forwarding SIGINT, SIGTERM and SIGHUP (a closed terminal or ssh session); its
    exit status, or 128+N when a signal N ended it."""
    stopping: list[float] = []

    def forward(signum: int, _frame: object) -> None:
        stopping.append(time.monotonic())
        if (
            child.poll() is None
        ):  # Streamlit stops cleanly on SIGINT/SIGTERM only: a hang-up is passed as SIGTERM
            child.send_signal(signal.SIGTERM if signum == signal.SIGHUP else signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        while True:
            try:
                code = child.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                if stopping and time.monotonic() - stopping[0] > GRACE_SECONDS:
                    child.kill()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code if code >= 0 else 128 - code


def _absolute(url: str) -> str:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        return "sqlite:///" + str(Path(url.removeprefix("sqlite:///")).resolve())
    return url

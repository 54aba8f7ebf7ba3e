"""Real services for tests (Prometheus now; PostgreSQL and Chromium later): start, wait, stop.

Locally a missing service skips its tests with the reason; in CI (CI=true) it fails them, because
.ci/run installs every service and a skip there would hide a broken install.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest


def require(binary: str, install: str, *alternatives: str) -> str:
    """The path of `binary` (else of the first alternative found, e.g. Google Chrome on GitHub's Ubuntu
    runners, where the chromium package is a snap stub); a skip locally, a failure under CI=true."""
    # also beside this interpreter: a venv's tools (check-jsonschema, actionlint) when it is not activated
    beside = str(Path(sys.executable).parent)
    found = (shutil.which(name) or shutil.which(name, path=beside) for name in (binary, *alternatives))
    path = next(filter(None, found), None)
    if path is None:
        message = f"{binary} is not installed ({install})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}: CI must install it (.ci/run)")
        pytest.skip(message)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float = 30.0, expect: bytes | None = None) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                body = response.read()
                if response.status == 200 and (expect is None or expect in body):
                    return
        except OSError as exc:
            last = exc
        time.sleep(0.1)
    raise TimeoutError(f"{url} not ready after {timeout:g}s ({last})")


class Prometheus:
    """A Prometheus 2.x on 127.0.0.1 with its own config and TSDB folder."""

    def __init__(self, folder: Path, scrape_targets: list[str] | None = None) -> None:
        self.binary = require("prometheus", "apt-get install prometheus")
        self.promtool = require("promtool", "apt-get install prometheus")
        self.folder = folder
        self.data = folder / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n"
        if scrape_targets:
            config += "  - job_name: guardian\n    scrape_interval: 1s\n    static_configs:\n"
            config += f"      - targets: [{', '.join(repr(t) for t in scrape_targets)}]\n"
        else:
            config = config.replace("scrape_configs:\n", "scrape_configs: []\n")
        (folder / "prometheus.yml").write_text(config)
        self.process: subprocess.Popen | None = None

    def backfill(self, openmetrics: str) -> None:
        source = self.folder / "backfill.om"
        source.write_text(openmetrics)
        subprocess.run(
            [self.promtool, "tsdb", "create-blocks-from", "openmetrics", str(source), str(self.data)],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> Prometheus:
        self.process = subprocess.Popen(
            [
                self.binary,
                f"--config.file={self.folder / 'prometheus.yml'}",
                f"--storage.tsdb.path={self.data}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--storage.tsdb.retention.time=100y",
                "--web.enable-lifecycle",
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(self.folder / "prometheus.log", "wb"),  # noqa: SIM115 - lives as long as the process
        )
        wait_http(f"{self.url}/-/ready")
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


class Postgres:
    """A throw-away PostgreSQL cluster on 127.0.0.1 (initdb into a temp folder, trust auth).

    HEALTHDECK_TEST_POSTGRES_URL, when set, is used instead (a server the CI provides).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.process_started = False
        self.url = os.environ.get("HEALTHDECK_TEST_POSTGRES_URL", "")
        if self.url:
            return
        # Debian keeps the server binaries off PATH, under /usr/lib/postgresql/<major>/bin.
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        initdb = (
            str(bins[-1])
            if bins
            else shutil.which("initdb") or require("initdb", "apt-get install postgresql")
        )
        self.bin = Path(initdb).parent
        self.port = free_port()
        if os.geteuid() == 0:
            # The server runs as the postgres user, who cannot enter root's private pytest folders.
            self.folder = Path(tempfile.mkdtemp(prefix="healthdeck-pg-"))
            shutil.chown(self.folder, "postgres", "postgres")
        self.data = self.folder / "pgdata"

    def _as_postgres(self, *args: str) -> list[str]:
        # PostgreSQL refuses to run as root; CI runs as root, so drop to the postgres user there.
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *args]
        return list(args)

    def start(self) -> Postgres:
        if self.url:
            return self
        subprocess.run(
            self._as_postgres(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"),
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-w", "-t", "60",
                              "-l", str(self.folder / "postgres.log"), "start"),
            check=True, capture_output=True, timeout=90,
        )  # fmt: skip
        self.process_started = True
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        return self

    def create_database(self, name: str) -> str:
        import sqlalchemy as sa

        admin = sa.create_engine(
            self.url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def stop(self) -> None:
        if self.process_started:
            subprocess.run(
                self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop"),
                capture_output=True, timeout=60,
            )  # fmt: skip
            shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def streamlit(app: Path, env: dict[str, str]) -> Iterator[str]:
    """`streamlit run APP` on a free loopback port with `env` added; yields its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
        cwd=app.parent, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_http(f"http://127.0.0.1:{port}/_stcore/health", timeout=60, expect=b"ok")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)

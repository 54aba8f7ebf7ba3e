"""A small project with a real git history whose suite breaks the way suites break, for the dashboard's
triage views: four commits, each tested with pytest and collected into one history store.

1. all pass;
2. the database is down: the `db` tests fail with ConnectionRefusedError on their own ports (one
   cause), two lookups fail with KeyError on different user ids (one cause), one assertion fails;
3. the same breakage (causes are stable);
4. the lookups are fixed, the database is still down, a new ZeroDivisionError appears, and
   `test_slow` became more than 2x slower, above the floor.

Everything is real: the ConnectionRefusedError comes from connecting to a closed loopback port.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from healthdeck.reports.cli import main

DB_TESTS = 6
TEST_FILE = """
import socket
import time
from pathlib import Path

import pytest

MODE = Path(__file__).with_name("mode.txt").read_text().split()


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("shard", range({db}))
def test_db(shard):
    if "db-down" in MODE:
        socket.create_connection(("127.0.0.1", closed_port()), timeout=2)


@pytest.mark.parametrize("user", ["user-4821", "user-9932"])
def test_lookup(user):
    users = {{}} if "lookup-broken" in MODE else {{user: 1}}
    assert users[user] == 1


def test_total():
    assert (41 if "assert-broken" in MODE else 42) == 42


def test_ratio():
    assert 1 / (0 if "zero" in MODE else 1) == 1


def test_slow():
    time.sleep(0.7 if "slow" in MODE else 0.3)


def test_fine():
    pass
"""
COMMITS = [
    ("all green", ""),
    ("database down", "db-down lookup-broken assert-broken"),
    ("database still down", "db-down lookup-broken assert-broken"),
    ("lookups fixed, new division", "db-down zero slow"),
]
CONFIG = """[tool.healthdeck]
out = "out"
smoke_suite = "unit"

[tool.healthdeck.categories]
infrastructure = { message = "Connection(Refused|Reset)Error" }
"product defect" = { outcome = ["failed"] }
"""


def _git(folder: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "dev", "GIT_AUTHOR_EMAIL": "dev@example.invalid", "GIT_COMMITTER_NAME": "dev",
           "GIT_COMMITTER_EMAIL": "dev@example.invalid", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}  # fmt: skip
    done = subprocess.run(["git", *args], cwd=folder, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def build(folder: Path, history: str | None = None) -> dict:
    """Collects the four runs into `history` (default: SQLite in out/); returns paths and the shas."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "test_app.py").write_text(TEST_FILE.format(db=DB_TESTS))
    (folder / "pyproject.toml").write_text(CONFIG)
    (folder / ".gitignore").write_text("out/\n*.xml\n__pycache__/\n")
    _git(folder, "init", "-q", "-b", "main")
    out = folder / "out"
    history = history or f"sqlite:///{out / 'history.sqlite'}"
    shas = []
    start = int(time.time()) - 4 * 3600
    saved = {
        k: os.environ.pop(k)
        for k in list(os.environ)
        if k.startswith(("GITHUB_", "CI_COMMIT", "CI_PIPELINE"))
    }
    try:
        for i, (message, mode) in enumerate(COMMITS):
            (folder / "mode.txt").write_text(mode + "\n")
            _git(folder, "add", "-A")
            _git(folder, "commit", "-q", "--allow-empty", "-m", message)
            shas.append(_git(folder, "rev-parse", "HEAD"))
            junit = folder / f"junit-{i}.xml"
            subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}",
                            "test_app.py"], cwd=folder, capture_output=True, timeout=120, check=False)  # fmt: skip
            os.environ["SOURCE_DATE_EPOCH"] = str(start + i * 3600)
            code = main(["collect", "-q", "--config", str(folder / "pyproject.toml"), "--out", str(out),
                         "--history", history, "--junit", f"unit={junit}"])  # fmt: skip
            assert code == 0, code
    finally:
        os.environ.pop("SOURCE_DATE_EPOCH", None)
        os.environ.update(saved)
    return {"folder": folder, "config": folder / "pyproject.toml", "report": out / "latest.json",
            "history": history, "shas": shas}  # fmt: skip

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.services import Postgres

FIXTURES = Path(__file__).parent / "fixtures"
REAL = FIXTURES / "real"
EDGE = FIXTURES / "edge"


def expected(kind: str) -> dict:
    return json.loads((REAL / "EXPECTED.json").read_text())[kind]


@pytest.fixture(scope="session", autouse=True)
def _own_cache_dir(tmp_path_factory):
    """healthdeck's parse cache (reports.config) in the run's own folder, not the user's home; the
    commands the tests start as processes inherit it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HEALTHDECK_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(autouse=True)
def _dashboard_settled():
    """A dashboard run leaves its all-time read to a background thread; it ends with its test, so it
    never reads a store another test is counting reads of (or deleting)."""
    yield
    data = sys.modules.get("healthdeck.dashboard.data")
    if data is not None:
        assert data.background_done(timeout=120), "a dashboard background read is still running"


@pytest.fixture
def write(tmp_path: Path):
    """Write a small hand-made artifact and return its path."""

    def _write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return _write


@pytest.fixture(scope="session")
def postgres(tmp_path_factory):
    """One real PostgreSQL server for the whole run; each test makes its own database."""
    server = Postgres(tmp_path_factory.mktemp("pg")).start()
    yield server
    server.stop()


_DB_COUNTER = iter(range(100_000))


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> str:
    """A fresh, empty history store: a SQLite file, and a database on the real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'history.sqlite'}"
    server = request.getfixturevalue("postgres")
    return server.create_database(f"hd_{next(_DB_COUNTER)}")

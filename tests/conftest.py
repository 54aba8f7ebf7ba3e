from __future__ import annotations

import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
REAL = FIXTURES / "real"
EDGE = FIXTURES / "edge"


def expected(kind: str) -> dict:
    return json.loads((REAL / "EXPECTED.json").read_text())[kind]


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

"""Property-based: any mutation of real `python -m compileall` output gives a result or one
CollectorError, and what is accepted makes a valid report."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from healthdeck.collectors.compileall import collect_compileall
from tests.fuzzing import (
    REAL,
    assert_reportable,
    maybe_gzip,
    mutate_bytes,
    mutate_lines,
    outcome,
    read_seed,
    write,
)

SEED = REAL / "dateutil15.compileall.txt"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz-compileall")


@given(data=st.data())
def test_compileall_mutations(folder: Path, data: st.DataObject) -> None:
    text = data.draw(mutate_lines(read_seed(SEED).decode()))
    doc = data.draw(maybe_gzip(data.draw(mutate_bytes(text.encode()))))
    result = outcome(lambda: collect_compileall(write(folder / "compileall.txt", doc)))
    if result is not None:
        assert all(f.line is None or 0 <= f.line < 10**9 for f in result.failures)
        assert_reportable(compileall=result)

"""Property-based: any mutation of real ruff outputs (statistics text, statistics JSON, violations
JSON) gives a result or one CollectorError, and what is accepted makes a valid report."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from healthdeck.collectors.ruff import RuffResult, collect_ruff
from tests.fuzzing import (
    REAL,
    assert_reportable,
    json_seed,
    maybe_gzip,
    mutate_bytes,
    mutate_json,
    mutate_lines,
    outcome,
    read_seed,
    write,
)

TEXT_SEEDS = [REAL / "dateutil15.ruff-statistics.txt", REAL / "more-itertools.ruff-statistics.txt"]
JSON_SEEDS = [
    REAL / "dateutil15.ruff-statistics.json",
    REAL / "more-itertools.ruff-statistics.json",
    REAL / "dateutil15.ruff-violations.json.gz",
    REAL / "more-itertools.ruff-violations.json.gz",
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz-ruff")


def _check(result: RuffResult | None) -> None:
    if result is None:
        return
    assert all(isinstance(n, int) and n >= 0 for n in result.stats.values())
    if result.reported_total is not None:
        assert result.reported_total == result.total  # ruff's own figure, or refused
    assert_reportable(ruff=result)


@given(data=st.data(), seed=st.sampled_from(TEXT_SEEDS))
def test_statistics_text_mutations(folder: Path, data: st.DataObject, seed: Path) -> None:
    text = data.draw(mutate_lines(read_seed(seed).decode()))
    doc = data.draw(maybe_gzip(data.draw(mutate_bytes(text.encode()))))
    _check(outcome(lambda: collect_ruff(write(folder / "ruff.txt", doc), root=folder)))


@given(data=st.data(), seed=st.sampled_from(JSON_SEEDS))
def test_json_mutations(folder: Path, data: st.DataObject, seed: Path) -> None:
    doc = data.draw(maybe_gzip(data.draw(mutate_bytes(data.draw(mutate_json(json_seed(seed)))))))
    _check(outcome(lambda: collect_ruff(write(folder / "ruff.json", doc), root=folder)))

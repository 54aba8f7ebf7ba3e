"""Property-based, black box: any mutation of real JUnit XML gives a result or one CollectorError,
never another exception (the JUnit collector's own rules are tested elsewhere)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from healthdeck.collectors.junit import JUnitOptions, collect_junit
from tests.fuzzing import REAL, ROOT, maybe_gzip, mutate_bytes, mutate_xml, outcome, read_seed, write

SEEDS = [
    REAL / "more-itertools.junit.xml",
    REAL / "packaging.junit-collection-errors.xml",
    REAL / "dateutil.junit-reruns.xml.gz",
    ROOT / "fixtures" / "edge" / "xunit1.xml",
    ROOT / "fixtures" / "edge" / "reruns.xml",
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz-junit")


@given(data=st.data(), seed=st.sampled_from(SEEDS), keep=st.booleans())
def test_junit_mutations(folder: Path, data: st.DataObject, seed: Path, keep: bool) -> None:
    doc = data.draw(mutate_xml(read_seed(seed)))
    doc = data.draw(maybe_gzip(data.draw(mutate_bytes(doc))))
    options = JUnitOptions(keep_outcomes=keep)
    outcome(lambda: collect_junit([write(folder / "junit.xml", doc)], options), max_reason=None)

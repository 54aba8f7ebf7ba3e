"""Property-based: any mutation of real coverage.py outputs (Cobertura XML, `coverage json`, the
.coverage data file) gives a result or one CollectorError, and what is accepted makes a valid report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from healthdeck.collectors.coveragepy import CoverageResult, collect_coverage
from tests.fuzzing import (
    REAL,
    assert_reportable,
    json_seed,
    maybe_gzip,
    mutate_bytes,
    mutate_json,
    mutate_xml,
    outcome,
    read_seed,
    write,
)

XML_SEEDS = [
    REAL / n
    for n in ("dateutil.coverage.xml.gz", "more-itertools.coverage.xml.gz", "packaging.coverage.xml.gz")
]
JSON_SEED = REAL / "packaging.coverage.json.gz"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz-coverage")


def _check(result: CoverageResult | None) -> None:
    if result is None:
        return
    for n in (result.totals, *(f.numbers for f in result.files)):
        assert 0 <= n.covered_statements <= n.statements and 0 <= n.covered_branches <= n.branches
    assert_reportable(coverage=result)


@given(data=st.data(), seed=st.sampled_from(XML_SEEDS))
def test_cobertura_mutations(folder: Path, data: st.DataObject, seed: Path) -> None:
    doc = data.draw(mutate_xml(read_seed(seed)))
    doc = data.draw(maybe_gzip(data.draw(mutate_bytes(doc))))
    _check(outcome(lambda: collect_coverage(write(folder / "c.xml", doc), root=folder)))


@given(data=st.data())
def test_coverage_json_mutations(folder: Path, data: st.DataObject) -> None:
    doc = data.draw(maybe_gzip(data.draw(mutate_bytes(data.draw(mutate_json(json_seed(JSON_SEED)))))))
    _check(outcome(lambda: collect_coverage(write(folder / "c.json", doc), root=folder)))


@pytest.fixture(scope="module")
def data_file(folder: Path) -> bytes:
    """A real .coverage data file of a tiny measured project (coverage.py needs the sources there)."""
    project = folder / "project"
    (project / "pkg").mkdir(parents=True)
    (project / "pkg" / "__init__.py").write_text("def f(x):\n    if x:\n        return 1\n    return 2\n")
    (project / "run.py").write_text("from pkg import f\nf(1)\n")
    subprocess.run([sys.executable, "-m", "coverage", "run", "--branch", "--source=.", "run.py"],
                   cwd=project, check=True, capture_output=True)  # fmt: skip
    return (project / ".coverage").read_bytes()


@given(data=st.data())
def test_coverage_data_file_mutations(
    folder: Path, data_file: bytes, data: st.DataObject, monkeypatch
) -> None:
    monkeypatch.chdir(folder / "project")  # where it was measured: coverage.py reads the sources
    doc = data.draw(mutate_bytes(data_file))
    _check(outcome(lambda: collect_coverage(write(folder / "project" / "mutated.coverage", doc))))

"""The report: required keys with correct values, schema, golden Markdown, missing sections."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from healthdeck.collectors.compileall import collect_compileall
from healthdeck.collectors.coveragepy import collect_coverage
from healthdeck.collectors.junit import collect_junit
from healthdeck.collectors.ruff import collect_ruff
from healthdeck.reports.build import Collected, build_report, coverage_options, pass_rate
from healthdeck.reports.config import Config
from healthdeck.reports.render.markdown import render_markdown
from healthdeck.reports.render.md import cell, code, prose
from healthdeck.reports.schema import ReportError, validate_report
from healthdeck.reports.stamp import Stamp
from tests.conftest import EDGE, FIXTURES, REAL

STAMP = Stamp("0123456789abcdef0123456789abcdef01234567", "main", "v1.2.0-3-g0123456", 1795488000, None)
LANES = {"more_itertools": ("more_itertools/",), "tests": ("tests/",), "docs": ("docs/",)}
GOLDEN = FIXTURES / "golden"
REPO = FIXTURES.parents[1]


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch) -> None:
    monkeypatch.chdir(REPO)


def _full_report() -> dict:
    """A report over real fixtures, with input paths relative to the repository (machine-independent)."""
    return _build_full_report(EDGE.relative_to(REPO), REAL.relative_to(REPO))


def _build_full_report(EDGE: Path, REAL: Path) -> dict:
    collected = Collected(
        tests={
            "smoke": collect_junit([EDGE / "reruns.xml"]),
            "unit": collect_junit([REAL / "dateutil.junit-reruns.xml.gz"]),
        },
        coverage=collect_coverage(
            REAL / "more-itertools.coverage.xml.gz", None, coverage_options(Config(lanes=LANES))
        ),
        ruff=collect_ruff(REAL / "more-itertools.ruff-violations.json.gz"),
        compileall=collect_compileall(REAL / "dateutil15.compileall.txt"),
    )
    return build_report(collected, Config(lanes=LANES), STAMP)


def test_required_keys_and_values() -> None:
    s = _full_report()["summary"]
    smoke = s["tests"]["smoke"]
    assert {k: smoke[k] for k in ("passed", "failed", "errors", "skipped", "xfailed", "flaky", "total")} == {
        "passed": 6,
        "failed": 5,
        "errors": 3,
        "skipped": 1,
        "xfailed": 1,
        "flaky": 1,
        "total": 16,
    }
    assert smoke["pass_rate"] == pytest.approx(6 / 14)
    assert s["tests"]["unit"]["pass_rate"] == pytest.approx(4908 / 4912)
    assert s["coverage"]["percent"] == pytest.approx(100 * (2229 + 898) / (2229 + 908))
    assert s["coverage"]["statements_percent"] == 100.0
    assert s["coverage"]["branches_percent"] == pytest.approx(100 * 898 / 908)
    assert s["ruff"]["count"]["total"] == 203
    assert s["ruff"]["stats"]["E731"] == 61
    # independent count from the raw violations: ruff ran in the project folder, so paths share it
    raw = json.loads(gzip.decompress((REAL / "more-itertools.ruff-violations.json.gz").read_bytes()))
    by_lane = {lane: sum(f"/{prefix[0]}" in v["filename"] for v in raw) for lane, prefix in LANES.items()}
    assert s["ruff"]["count"]["lanes"] == by_lane
    assert s["compileall"]["failures"] == 7
    assert s["git_sha"] == "01234567" and s["branch"] == "main" and s["missing"] == ["openapi"]


def test_schema_accepts_reports_and_rejects_broken_ones() -> None:
    report = _full_report()
    validate_report(report)
    report["summary"]["tests"]["smoke"]["pass_rate"] = 1.5
    with pytest.raises(ReportError, match=r"at summary\.tests\.smoke\.pass_rate: 1\.5 is greater than"):
        validate_report(report)


def test_missing_inputs_are_null_not_zero() -> None:
    report = build_report(
        Collected(ruff=collect_ruff(REAL / "more-itertools.ruff-statistics.txt")), Config(), STAMP
    )
    validate_report(report)
    s = report["summary"]
    assert s["missing"] == [
        "tests",
        "coverage",
        "compileall",
        "openapi",
    ]  # no Guardian configured: not expected
    assert s["tests"] is None and s["coverage"] is None and s["compileall"] is None
    assert s["ruff"]["count"]["lanes"] is None  # statistics do not say where
    md = render_markdown(report)
    assert (
        "_No JUnit input was given._" in md
        and "**Missing inputs:** tests, coverage, compileall, openapi —" in md
        and "Guardian" not in md
    )


def test_pass_rate_formula() -> None:
    assert pass_rate(0, 0, 0) is None
    assert pass_rate(3, 1, 0) == 0.75
    assert pass_rate(1, 1, 2) == 0.25


def test_lane_without_files_is_unknown_not_full() -> None:
    config = Config(lanes={"src": ("src/packaging/",), "nothing": ("nowhere/",)})
    coverage = collect_coverage(REAL / "packaging.coverage.xml.gz", None, coverage_options(config))
    report = build_report(Collected(coverage=coverage), config, STAMP)
    lanes = report["summary"]["coverage"]["lanes"]
    assert lanes["nothing"] is None
    assert lanes["src"]["statements"] == 4440


@pytest.mark.parametrize("name", ["full.md", "full.json"])
def test_golden(name: str) -> None:
    report = _full_report()
    text = (
        render_markdown(report)
        if name.endswith(".md")
        else json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    )
    golden = GOLDEN / name
    if os.environ.get("HEALTHDECK_UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), (
        "re-run with HEALTHDECK_UPDATE_GOLDEN=1 and review the diff"
    )


def test_markdown_has_no_python_reprs() -> None:
    md = render_markdown(_full_report())
    for repr_marker in ("{'passed'", "'pass_rate'", ": None", "TestCounts(", "FailingTest(", "Numbers("):
        assert repr_marker not in md
    assert "pass rate = passed ÷ (passed + failed + errors)" in md
    assert "(covered statements + covered branches) ÷ (statements + branches)" in md


HOSTILE = [
    "<script>alert(1)</script>",
    "@team ping",
    "a | b",
    "``x``",
    "[click](http://evil)",
    "line\nbreak",
    "see https://evil.example/x",
]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_cell_cannot_break_markdown(hostile: str) -> None:
    rendered = cell(hostile)
    assert "\n" not in rendered
    assert "<" not in rendered and "](" not in rendered.replace("\\]", "")
    assert "@team" not in rendered and "https://" not in rendered
    assert "|" not in rendered.replace("\\|", "")
    assert "`" not in rendered.replace("\\`", "")


@pytest.mark.parametrize("hostile", HOSTILE)
def test_code_span_holds_anything_verbatim(hostile: str) -> None:
    rendered = code(hostile)
    assert "\n" not in rendered
    fence = rendered[: len(rendered) - len(rendered.lstrip("`"))]
    inner = rendered[len(fence) : -len(fence)]
    assert fence not in inner  # the span cannot be closed early, so nothing inside is interpreted
    assert "|" not in inner.replace("\\|", "")


@pytest.mark.parametrize("hostile", HOSTILE)
def test_prose_keeps_its_code_spans_and_escapes_the_rest(hostile: str) -> None:
    rendered = prose(f"give `healthdeck collect --openapi A B` for {hostile} or set `x_y = false`")
    assert rendered.startswith("give `healthdeck collect --openapi A B` for ")
    assert rendered.endswith(" or set `x_y = false`")
    assert "\n" not in rendered and "<script" not in rendered and "@team" not in rendered
    assert "https://" not in rendered and "|" not in rendered.replace("\\|", "")


def test_prose_with_an_odd_backtick_is_all_text() -> None:
    assert prose("a ` b `c` d") == cell("a ` b `c` d")


def test_guardian_is_missing_only_where_the_project_uses_it() -> None:
    ruff = collect_ruff(REAL / "more-itertools.ruff-statistics.txt")
    report = build_report(Collected(ruff=ruff), Config(uses_guardian=True), STAMP)
    assert report["summary"]["missing"] == ["tests", "coverage", "compileall", "openapi", "guardian"]
    assert "## Guardian" in render_markdown(report)
    generic = build_report(Collected(ruff=ruff), Config(), STAMP)
    assert "guardian" not in generic["summary"]["missing"] and "Guardian" not in render_markdown(generic)
    # likewise the OpenAPI item: missing unless the checklist drops it (a project without an API)
    no_api = Config(gates=Config().gates._replace(openapi_breaking_max=None))
    dropped = build_report(Collected(ruff=ruff), no_api, STAMP)
    assert "openapi" not in dropped["summary"]["missing"] and "OpenAPI" not in render_markdown(dropped)

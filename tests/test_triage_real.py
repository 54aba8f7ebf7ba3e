"""Failure triage on real runs (tests/fixtures/triage, made by its regenerate.sh): counts against pytest's
own summary, causes against pytest's own failure reasons, transitions between two real runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from healthdeck.collectors.junit import collect_junit
from healthdeck.reports.causes import group_causes
from tests.conftest import FIXTURES
from tests.test_triage import Runs

TRIAGE = FIXTURES / "triage"
RUNS = ["requests-no-httpbin", "requests-no-socks", "redis-no-server"]
_COUNT = re.compile(r"(\d+) (failed|passed|skipped|xfailed|errors?)\b")
_LINE = re.compile(r"^(FAILED|ERROR) (.+?)(?: - (.*))?$")  # ids can hold spaces


def pytest_summary(name: str) -> dict[str, int]:
    """pytest's closing line: {"failed": 4, "passed": 410, "errors": 203, ...}."""
    last = (TRIAGE / f"{name}.console.txt").read_text().splitlines()[-1]
    return {("errors" if k.startswith("error") else k): int(n) for n, k in _COUNT.findall(last)}


def pytest_failures(name: str) -> dict[str, str | None]:
    """Test id (healthdeck's classname::name form) -> pytest's short reason (None when it gives none)."""
    out = {}
    for line in (TRIAGE / f"{name}.console.txt").read_text().splitlines():
        found = _LINE.match(line)
        if found:
            out[_test_id(found[2])] = found[3]
    return out


def _test_id(nodeid: str) -> str:
    """tests/test_requests.py::TestTimeout::test_x[p] -> tests.test_requests.TestTimeout::test_x[p]"""
    path, *scopes, name = nodeid.split("::")
    return "::".join([".".join([path.removesuffix(".py").replace("/", "."), *scopes]), name])


def _available(name: str) -> Path:
    path = TRIAGE / f"{name}.junit.xml.gz"
    if not path.exists():  # pragma: no cover - the fixture is committed
        pytest.fail(f"{path} is missing: run tests/fixtures/triage/regenerate.sh")
    return path


@pytest.mark.parametrize("name", RUNS)
def test_counts_and_failing_tests_equal_pytests_own(name: str) -> None:
    result = collect_junit([_available(name)])
    c = result.counts
    want = pytest_summary(name)
    assert {"failed": c.failed, "passed": c.passed, "skipped": c.skipped, "xfailed": c.xfailed,
            "errors": c.errors} == {k: want.get(k, 0) for k in ("failed", "passed", "skipped", "xfailed", "errors")}  # fmt: skip
    assert {f.test_id for f in result.failing} == set(pytest_failures(name))


@pytest.mark.parametrize("name", RUNS)
def test_causes_agree_with_pytests_reasons(name: str) -> None:
    """Tests pytest gives the same reason share a cause; different reasons are different causes."""
    causes = group_causes(collect_junit([_available(name)]).failing)
    reasons = {t: r for t, r in pytest_failures(name).items() if r}
    by_reason: dict[str, set[str]] = {}
    for test_id, reason in reasons.items():
        by_reason.setdefault(reason, set()).add(test_id)
    by_cause = [set(c.tests) & set(reasons) for c in causes]
    assert sorted(map(sorted, filter(None, by_cause))) == sorted(map(sorted, by_reason.values()))
    assert sum(c.count for c in causes) == len(pytest_failures(name))  # every failing test in one cause


def test_broken_fixtures_are_two_causes_named_after_them() -> None:
    """Without pytest-httpbin, requests' own `httpbin` and `httpbin_secure` fixtures recurse (pytest gives
    no short reason for these errors: the cause comes from the failure body)."""
    causes = group_causes(collect_junit([_available("requests-no-httpbin")]).failing)
    errors = {c.signature: c.count for c in causes if c.outcomes.get("error")}
    erroring = sum(1 for r in pytest_failures("requests-no-httpbin").values() if r is None)
    assert sorted(errors) == [
        "recursive dependency involving fixture 'httpbin' detected",
        "recursive dependency involving fixture 'httpbin_secure' detected",
    ]
    assert sum(errors.values()) == erroring == pytest_summary("requests-no-httpbin")["errors"]


def test_transitions_between_two_real_runs(tmp_path, monkeypatch, capsys) -> None:
    """Run 1 without pytest-httpbin, run 2 with it (still without PySocks): what pytest lists as failing
    in each run decides fixed, still failing and new."""
    runs = Runs(tmp_path, monkeypatch)
    first = runs.collect(_available("requests-no-httpbin"))
    report = runs.collect(_available("requests-no-socks"))
    before, now = set(pytest_failures("requests-no-httpbin")), set(pytest_failures("requests-no-socks"))
    moved = report["details"]["tests"]["unit"]["transitions"]
    assert moved["baseline"]["run_key"] == first["summary"]["run_key"]
    assert moved["still_failing"] == sorted(before & now) and moved["new"] == sorted(now - before)
    # every test failing before and not now passed in run 2 (none was skipped or removed)
    assert moved["fixed_total"] == len(before - now) and set(moved["fixed"]) <= before - now
    assert report["summary"]["tests"]["unit"]["transitions"] == {
        "new": len(now - before), "fixed": len(before - now), "still_failing": len(before & now), "flaky": 0,
    }  # fmt: skip
    causes = {c["signature"]: c for c in report["details"]["tests"]["unit"]["causes"]}
    socks = causes["requests.exceptions.InvalidSchema: Missing dependencies for SOCKS support."]
    timeout = causes["Failed: The connect() request should time out."]
    assert (socks["new"], timeout["new"]) == (True, False)
    assert timeout["first_seen"]["run_key"] == first["summary"]["run_key"]
    text = runs.comment(capsys)
    failing = len(now)
    assert f"**{failing} failing tests, 2 causes**" in text
    assert (
        f"- **Fixed ({len(before - now)})**:" in text
        and f"- **Still failing ({len(before & now)})**:" in text
    )


def test_a_database_that_is_not_there_is_one_cause() -> None:
    """redis-py's suite with no Redis server: setup errors and call failures, one cause whatever the port."""
    causes = group_causes(collect_junit([_available("redis-no-server")]).failing)
    refused = [c for c in causes if "Connection refused" in c.signature]
    assert len(refused) == 1 and refused[0] is causes[0]  # one cause, the largest
    assert refused[0].signature == (
        "redis.exceptions.ConnectionError: Error <n> connecting to localhost:<n>. Connection refused."
    )
    reasons = pytest_failures("redis-no-server")
    assert refused[0].count == sum(1 for r in reasons.values() if r and "Connection refused" in r)
    assert set(refused[0].outcomes) == {"failed", "error"}


def test_a_test_module_that_does_not_parse_is_one_cause_named_for_the_syntax_error() -> None:
    """more-itertools with a test file that does not parse: pytest stops at collection ("1 error"). Python
    prints where (file, line), the source line and a caret before the error; the cause is the error."""
    name = "more-itertools-syntax-error"
    result = collect_junit([_available(name)])
    assert (result.counts.errors, result.counts.passed) == (pytest_summary(name)["errors"], 0) == (1, 0)
    [cause] = group_causes(result.failing)
    assert (cause.signature, cause.tests) == ("SyntaxError: invalid syntax", ["tests.test_broken"])

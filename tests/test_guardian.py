"""Guardian decision logs: collector figures against the traffic generator's own counts, the delta,
the exact per-request diff, the rehearsal test delta, the producer/format contract and the CLI."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from pathlib import Path

import jsonschema
import pytest

from healthdeck.collectors import CollectorError
from healthdeck.collectors.guardian.decisions import collect_decisions
from healthdeck.collectors.guardian.format import DEFAULT_DENY_RULE, FIELDS, PRESETS, MetricNames
from healthdeck.collectors.junit import JUnitOptions, collect_junit
from healthdeck.guardian import DecisionLogger, GuardianMetrics
from healthdeck.reports.cli import EXIT_OK, EXIT_USAGE, main
from healthdeck.reports.demo.traffic import POLICY_V1, POLICY_V2, Expected, rehearsal, replay
from healthdeck.reports.guardian.delta import build_guardian, read_logs, rehearsal_delta

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "reports" / "samples" / "guardian"
MALFORMED_EVERY = 500


@pytest.fixture(scope="module")
def logs(tmp_path_factory) -> tuple[Path, Path, Expected, object]:
    """A generated rehearsal: permissive log gzip-compressed with malformed lines, strict log plain."""
    folder = tmp_path_factory.mktemp("guardian")
    run = rehearsal(3_000, seed=3)
    expected = Expected()
    with gzip.open(folder / "permissive.jsonl.gz", "wb") as sink:
        replay(sink, run.permissive, "permissive", POLICY_V1, expected, malformed_every=MALFORMED_EVERY)
    with open(folder / "strict.jsonl", "wb") as sink:
        replay(sink, run.strict, "strict", POLICY_V2, expected)
    return folder / "permissive.jsonl.gz", folder / "strict.jsonl", expected, run


def test_collector_counts_equal_the_generator(logs) -> None:
    perm_path, strict_path, expected, _ = logs
    log = collect_decisions([perm_path, strict_path])
    allow, deny = Counter(), Counter()
    for (mode, decision, enforced, rule, tenant, action), n in expected.decisions.items():
        if decision == "allow":
            allow[(mode, tenant, action)] += n
        else:
            deny[(mode, enforced, rule, tenant, action)] += n
    assert log.allow == allow
    assert Counter({(m, e, r, t, a): n for (m, e, r, _reason, t, a, _etag), n in log.deny.items()}) == deny
    assert log.records == sum(expected.decisions.values())
    assert log.modes() == ["permissive", "strict"]


def test_malformed_lines_are_counted_with_line_numbers(logs) -> None:
    perm_path, _, expected, _ = logs
    log = collect_decisions([perm_path])
    assert log.malformed == expected.malformed == 3_000 // MALFORMED_EVERY
    # a malformed line follows every MALFORMED_EVERY records, so it is line k * (MALFORMED_EVERY + 1)
    assert [m.line for m in log.malformed_samples] == [k * (MALFORMED_EVERY + 1) for k in range(1, 6)]
    reasons = [m.reason for m in log.malformed_samples]
    assert reasons[1].startswith("not valid JSON") and reasons[2] == "missing field 'decision'"
    assert reasons[3] == "mode 'audit' is not one of permissive, strict"


def test_one_file_with_both_modes_gives_the_same_figures(logs, tmp_path) -> None:
    perm_path, strict_path, _, _ = logs
    both = tmp_path / "both.jsonl"
    both.write_bytes(gzip.decompress(perm_path.read_bytes()) + b"\n\n" + strict_path.read_bytes())
    together = build_guardian(read_logs([both], [both]))[0]
    apart = build_guardian(read_logs([perm_path], [strict_path]))[0]
    assert together == apart


def _expected_delta(expected: Expected) -> tuple[Counter, Counter]:
    perm, strict = Counter(), Counter()
    for (mode, decision, enforced, rule, tenant, action), n in expected.decisions.items():
        if decision == "deny" and mode == "permissive" and not enforced:
            perm[(rule or DEFAULT_DENY_RULE, tenant, action)] += n
        if decision == "deny" and mode == "strict" and enforced:
            strict[(rule or DEFAULT_DENY_RULE, tenant, action)] += n
    return perm, strict


def test_delta_against_the_generator(logs) -> None:
    perm_path, strict_path, expected, _ = logs
    summary, details = build_guardian(read_logs([perm_path], [strict_path]))
    perm, strict = _expected_delta(expected)
    assert summary["permissive"]["would_deny"] == sum(perm.values())
    assert summary["strict"]["denied"] == sum(strict.values())
    assert summary["permissive"]["decisions"] == expected.count("permissive")
    assert summary["strict"]["decisions"] == expected.count("strict")
    for rule, row in summary["delta"]["by_rule"].items():
        assert row["would_deny"] == sum(n for k, n in perm.items() if k[0] == rule)
        assert row["denied"] == sum(n for k, n in strict.items() if k[0] == rule)
        assert row["delta"] == row["denied"] - row["would_deny"]
        assert row["denied_per_1000"] == round(1000 * row["denied"] / summary["strict"]["decisions"], 3)
    new = {k for k in strict if k not in perm}
    gone = {k for k in perm if k not in strict}
    assert summary["new_in_strict"] == sum(strict[k] for k in new) > 0
    assert summary["not_reproduced"] == sum(perm[k] for k in gone) > 0
    assert {(r["rule_id"], r["tenant"], r["action"]) for r in details["new_in_strict"]} == new
    assert {r["rule_id"] for r in details["new_in_strict"]} == {"R-007"}  # the rule policy v2 added
    assert summary["malformed_lines"] == expected.malformed
    assert summary["permissive"]["policy_etags"] == [POLICY_V1.etag]
    assert summary["strict"]["policy_etags"] == [POLICY_V2.etag]


def test_exact_per_request_diff_against_the_policies(logs) -> None:
    perm_path, strict_path, _, run = logs
    summary, details = build_guardian(read_logs([perm_path], [strict_path]))
    seen = {r.trace_id for r in run.permissive}
    newly = no_longer = 0
    for req in run.strict:
        if req.trace_id not in seen:
            continue  # not replayed traffic: no per-request comparison possible
        before = POLICY_V1.evaluate(req.tenant, req.action, req.scopes)[0]
        after = POLICY_V2.evaluate(req.tenant, req.action, req.scopes)[0]
        newly += before == "allow" and after == "deny"
        no_longer += before == "deny" and after == "allow"
    assert summary["exact"]["newly_denied"] == newly > 0
    assert summary["exact"]["no_longer_denied"] == no_longer > 0
    sample = details["exact_samples"]["newly_denied"][0]
    assert sample["strict"] == "deny (R-007)" and sample["permissive"].startswith("allow")


def test_no_exact_diff_without_shared_trace_ids(tmp_path) -> None:
    expected = Expected()
    with open(tmp_path / "p.jsonl", "wb") as sink:
        replay(sink, rehearsal(300, seed=1).permissive, "permissive", POLICY_V1, expected)
    with open(tmp_path / "s.jsonl", "wb") as sink:
        replay(sink, rehearsal(300, seed=2).permissive, "strict", POLICY_V2, expected)
    summary, details = build_guardian(read_logs([tmp_path / "p.jsonl"], [tmp_path / "s.jsonl"]))
    assert summary["exact"] is None and details["exact_samples"] is None


def test_rehearsal_test_delta_from_real_pytest_runs() -> None:
    options = JUnitOptions(keep_outcomes=True)
    perm = collect_junit([SAMPLES / "smoke-permissive.xml"], options)
    strict = collect_junit([SAMPLES / "smoke-strict.xml"], options)
    summary, details = rehearsal_delta(perm, strict)
    assert summary == {"broken_in_strict": 2, "fixed_in_strict": 0, "tests_in_one_run_only": 0}
    broken = {t["test_id"]: t["message"] for t in details["broken_in_strict"]}
    assert broken == {
        "guardian_smoke.test_smoke::test_request_is_served[hooli-memory.write]":
            "AssertionError: 403 Forbidden: deny_rule_matched:R-007",
        "guardian_smoke.test_smoke::test_request_is_served[umbrella-identity.update]":
            "AssertionError: 403 Forbidden: deny_rule_matched:R-008",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "no valid decision records (0 malformed lines)"),
        (b"\n\n", "no valid decision records (0 malformed lines)"),
        (b"<testsuites/>\n", "no valid decision records (1 malformed lines; first: line 1: not valid JSON"),
        (b"[1, 2]\n", "line 1: not a JSON object"),
        (bytes(range(256)), "no valid decision records"),
    ],
)
def test_a_log_without_any_valid_record_is_one_error(tmp_path, content: bytes, reason: str) -> None:
    path = tmp_path / "log.jsonl"
    path.write_bytes(content)
    with pytest.raises(CollectorError) as info:
        collect_decisions([path])
    assert str(path) in str(info.value) and reason in str(info.value)


def test_producer_writes_exactly_the_documented_format(tmp_path) -> None:
    schema = json.loads((REPO / "reports" / "schema" / "guardian-decision.schema.json").read_text())
    doc = (REPO / "docs" / "guardian-decision-log.md").read_text()
    with open(tmp_path / "log.jsonl", "wb") as sink:
        logger = DecisionLogger(sink, "permissive")
        logger.log(tenant="acme", action="dreams.create", decision="deny", rule_id="R-002",
                   reason="deny_rule_matched:R-002", user="u-1", scopes=["dreams:write"], trace_id="ab" * 16)  # fmt: skip
        logger.log(tenant="acme", action="dreams.read", decision="allow", rule_id="R-001",
                   reason="allow_rule_matched:R-001")  # fmt: skip
    records = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    for record in records:
        assert tuple(record) == FIELDS
        jsonschema.validate(record, schema)
    assert tuple(schema["properties"]) == FIELDS
    assert set(schema["required"]) == set(FIELDS)
    assert set(re.findall(r"^\| `(\w+)` \|", doc, re.M)) == set(FIELDS)
    log = collect_decisions([tmp_path / "log.jsonl"])
    assert (log.records, log.malformed) == (2, 0)
    with pytest.raises(ValueError, match="decision must be one of"):
        logger.log(tenant="acme", action="x", decision="maybe", reason="?")


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_metrics_follow_the_log(preset: str) -> None:
    from prometheus_client import CollectorRegistry

    names = PRESETS[preset]
    registry = CollectorRegistry()
    metrics = GuardianMetrics(names, registry)
    sink = __import__("io").BytesIO()
    for mode in ("permissive", "strict"):
        logger = DecisionLogger(sink, mode, metrics)
        logger.log(
            tenant="acme",
            action="memory.write",
            decision="deny",
            rule_id="R-007",
            reason="deny_rule_matched:R-007",
        )
        logger.log(tenant="acme", action="memory.write", decision="allow", rule_id="R-006", reason="allow_rule_matched:R-006")  # fmt: skip
    label = names.decision_labels["decision"]
    total = {
        value: registry.get_sample_value(names.decisions, {**labels, label: value})
        for value in ("allow", "deny", "would_deny")
        for labels in [_labels(names, "decisions", mode="strict" if value == "deny" else "permissive")]
    }
    if names.decision_labels.get("mode"):
        assert total == {"allow": 1.0, "deny": 1.0, "would_deny": 1.0}
    else:  # the lukhas preset has no mode label: both allows land in one series
        assert total == {"allow": 2.0, "deny": 1.0, "would_deny": 1.0}


def _labels(names: MetricNames, counter: str, mode: str) -> dict[str, str]:
    values = {"tenant": "acme", "action": "memory.write", "mode": mode, "scope": ""}
    mapping = names.decision_labels if counter == "decisions" else names.deny_labels
    return {key: values[concept] for concept, key in mapping.items() if key and concept != "decision"}


def test_cli_collect_keys_and_guardian_delta(logs, tmp_path, capsys) -> None:
    perm_path, strict_path, expected, _ = logs
    code = main(["collect", "-q", "--out", str(tmp_path), "--guardian-permissive", str(perm_path),
                 "--guardian-strict", str(strict_path)])  # fmt: skip
    assert code == EXIT_OK
    g = json.loads((tmp_path / "latest.json").read_text())["summary"]["guardian"]
    assert g["permissive"]["decisions"] == expected.count("permissive")
    assert g["permissive"]["would_deny"] == expected.count("permissive", decision="deny")
    assert g["strict"]["decisions"] == expected.count("strict")
    assert g["strict"]["denied"] == expected.count("strict", decision="deny")
    assert set(g["delta"]["by_rule"]["R-007"]) >= {"would_deny", "denied", "delta"}
    assert g["new_in_strict"] > 0 and g["malformed_lines"] == expected.malformed
    assert "## Guardian: permissive → strict" in (tmp_path / "latest.md").read_text()

    capsys.readouterr()
    args = ["guardian-delta", "--permissive", str(perm_path), "--strict", str(strict_path),
            "--rehearsal-permissive", str(SAMPLES / "smoke-permissive.xml"),
            "--rehearsal-strict", str(SAMPLES / "smoke-strict.xml")]  # fmt: skip
    assert main(args) == EXIT_OK
    md = capsys.readouterr().out
    assert md.startswith("# Guardian: permissive → strict")
    assert (
        "**New in strict**" in md and "`R-007`" in md and "test_request_is_served[hooli-memory.write]" in md
    )
    assert main([*args, "--format", "json", "--output", str(tmp_path / "delta.json")]) == EXIT_OK
    data = json.loads((tmp_path / "delta.json").read_text())
    assert data["summary"]["rehearsal"]["broken_in_strict"] == 2


def test_cli_guardian_needs_both_runs(logs, tmp_path, capsys) -> None:
    perm_path, *_ = logs
    assert main(["collect", "--out", str(tmp_path), "--guardian-permissive", str(perm_path)]) == EXIT_USAGE
    assert "go together" in capsys.readouterr().err


def test_parallel_read_of_a_big_plain_file_equals_the_serial_one(logs, tmp_path, monkeypatch) -> None:
    import healthdeck.collectors.guardian.decisions as decisions

    perm_path, *_ = logs
    plain = tmp_path / "permissive.jsonl"
    plain.write_bytes(gzip.decompress(perm_path.read_bytes()))
    serial = collect_decisions([plain])
    monkeypatch.setattr(decisions, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(decisions.os, "cpu_count", lambda: 3)
    assert len(decisions._windows(plain)) == 3
    parallel = collect_decisions([plain])
    assert (parallel.allow, parallel.deny, parallel.malformed) == (
        serial.allow,
        serial.deny,
        serial.malformed,
    )
    assert parallel.malformed_samples == serial.malformed_samples  # line numbers continue across windows


def test_a_watched_allow_is_counted_once_and_not_malformed(tmp_path) -> None:
    """An allow carries no `enforced` or `rule_id`: watching its trace id made the same line a decision
    and a malformed line at once, so the malformed count depended on which traces were watched."""
    from healthdeck.collectors.guardian.decisions import collect_decisions

    log = tmp_path / "perm.jsonl"
    log.write_text(
        '{"decision":"allow","mode":"permissive","tenant":"t","action":"read","trace_id":"abc"}\n'
        '{"decision":"deny","mode":"permissive","enforced":false,"rule_id":"r1","reason":"x","tenant":"t",'
        '"action":"write","policy_etag":"e1","trace_id":"def"}\n'
    )
    plain, watched = collect_decisions([log]), collect_decisions([log], watch={"abc", "def"})
    assert plain.records == watched.records == 2
    assert plain.malformed == watched.malformed == 0
    assert watched.watched["permissive"]["abc"][:4] == ("permissive", "allow", None, None)

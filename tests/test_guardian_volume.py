"""Guardian decision logs at volume: high-cardinality tenants and actions give exact totals and cut,
bounded tables; blank lines in bulk are skipped at C speed with the line numbers kept."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import pytest

import healthdeck.collectors.guardian.decisions as decisions
from healthdeck.collectors.guardian.decisions import OTHER, collect_decisions
from healthdeck.reports.cli import EXIT_OK, EXIT_USAGE, main
from healthdeck.reports.config import ConfigError, load_config
from healthdeck.reports.guardian.delta import build_guardian, read_logs
from healthdeck.reports.schema import validate_report

TENANTS = 20_000
BIG = 5  # tenants 0..4 have extra would-denies, tenant k gets 10 * (BIG - k) more: the top of every list


def _record(mode: str, decision: str, tenant: str, action: str, trace: str, rule: str = "R-1") -> bytes:
    enforced = mode == "strict"
    rule_id = rule if decision == "deny" else "R-allow"
    return json.dumps({
        "ts": "2026-03-01T00:00:00.000Z", "mode": mode, "decision": decision, "enforced": enforced,
        "tenant": tenant, "user": None, "scopes": [], "action": action, "resource": None, "rule_id": rule_id,
        "reason": f"deny_rule_matched:{rule_id}", "policy_etag": "e1", "trace_id": trace, "latency_ms": None,
    }, separators=(",", ":")).encode() + b"\n"  # fmt: skip


def _extra(k: int) -> int:
    return 10 * (BIG - k) if k < BIG else 0


@pytest.fixture(scope="module")
def wide(tmp_path_factory) -> tuple:
    """A permissive log of TENANTS tenants (one would-deny each, more for the first BIG) and an allow
    per tenant; a strict log of a few denies."""
    folder = tmp_path_factory.mktemp("wide")
    perm, strict = folder / "permissive.jsonl", folder / "strict.jsonl"
    lines = []
    for i in range(TENANTS):
        tenant = f"tenant-{i:05d}"
        lines += [
            _record("permissive", "deny", tenant, "dreams.create", f"p{i}-{j}") for j in range(1 + _extra(i))
        ]
        lines.append(_record("permissive", "allow", tenant, "dreams.read", f"a{i}"))
    perm.write_bytes(b"".join(lines))
    strict.write_bytes(
        b"".join(_record("strict", "deny", "acme", f"GET /v1/users/{i}", f"s{i}") for i in range(3))
    )
    would = TENANTS + sum(_extra(k) for k in range(BIG))
    return perm, strict, would


def test_a_wide_log_gives_exact_totals_and_cut_lists(wide) -> None:
    perm, strict, would = wide
    summary, details = build_guardian(read_logs([perm], [strict]), listed=25)
    assert summary["permissive"] == {"decisions": would + TENANTS, "allow": TENANTS, "would_deny": would,
                                     "denied": 0, "policy_etags": ["e1"]}  # fmt: skip
    assert summary["not_reproduced"] == would and summary["new_in_strict"] == 3
    assert summary["folded"]["permissive"] == summary["folded"]["strict"] == 0
    by_tenant = summary["delta"]["by_tenant"]
    assert summary["delta_total"] == {"by_rule": 1, "by_tenant": TENANTS + 1, "by_action": 4}
    assert len(by_tenant) == 25
    # largest |Δ| first, then by key: the big tenants, the strict run's acme (Δ +3), then the one-deny
    # tenants by name
    expected = [
        *(f"tenant-{k:05d}" for k in range(BIG)),
        "acme",
        f"tenant-{BIG:05d}",
        f"tenant-{BIG + 1:05d}",
    ]
    assert list(by_tenant)[: BIG + 3] == expected
    assert [r["delta"] for r in by_tenant.values()][: BIG + 2] == [
        *(-1 - _extra(k) for k in range(BIG)),
        3,
        -1,
    ]
    assert len(summary["delta"]["by_action"]) == 4  # under the limit: whole
    assert details["not_reproduced_total"] == TENANTS and len(details["not_reproduced"]) == 25
    assert details["new_in_strict_total"] == 3 and len(details["new_in_strict"]) == 3
    assert (
        details["by_rule_tenant_action_total"] == TENANTS + 3 and details["by_rule_tenant_action_truncated"]
    )
    assert details["decisions_by_tenant_total"] == {"permissive": TENANTS, "strict": 1}
    assert list(details["decisions_by_tenant"]["permissive"].values())[:2] == [2 + _extra(0), 2 + _extra(1)]
    assert len(details["decisions_by_tenant"]["permissive"]) == 25


def test_collect_writes_a_small_report_that_says_it_cut(wide, tmp_path) -> None:
    perm, strict, would = wide
    (tmp_path / "pyproject.toml").write_text("[tool.healthdeck]\nguardian_rows_listed = 30\n")
    out = tmp_path / "out"
    assert main(["collect", "-q", "--no-history", "--config", str(tmp_path / "pyproject.toml"), "--out", str(out),
                 "--guardian-permissive", str(perm), "--guardian-strict", str(strict)]) == EXIT_OK  # fmt: skip
    text = (out / "latest.json").read_text()
    assert len(text) < 200_000  # 20 000 tenants, listed 30 at a time
    report = json.loads(text)
    validate_report(report)
    g = report["summary"]["guardian"]
    assert g["permissive"]["would_deny"] == would and len(g["delta"]["by_tenant"]) == 30
    md = (out / "latest.md").read_text()
    assert f"### By tenant — showing 30 of {TENANTS + 1:,} (largest |Δ| first)".replace(",", " ") in md
    assert f"showing 30 of {TENANTS:,} (largest first)".replace(",", " ") in md  # not reproduced
    assert "### By action\n" in md  # whole: no "showing"
    assert main(["gate", "--report", str(out / "latest.json")]) in (0, 1)  # read, judged (no tests: no-go)


def test_guardian_delta_takes_the_limit_from_the_config(wide, tmp_path, capsys) -> None:
    perm, strict, _ = wide
    (tmp_path / "pyproject.toml").write_text("[tool.healthdeck]\nguardian_rows_listed = 0\n")
    args = ["guardian-delta", "--config", str(tmp_path / "pyproject.toml"), "--permissive", str(perm),
            "--strict", str(strict)]  # fmt: skip
    assert main([*args, "--format", "json"]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert (
        data["summary"]["delta"]["by_tenant"] == {}
        and data["summary"]["delta_total"]["by_tenant"] == TENANTS + 1
    )
    assert data["details"]["not_reproduced"] == [] and data["details"]["not_reproduced_total"] == TENANTS


def test_past_the_key_bound_new_keys_are_folded_with_exact_totals(wide, monkeypatch) -> None:
    perm, strict, would = wide
    monkeypatch.setattr(decisions, "MAX_KEYS", 1_000)
    log = collect_decisions([perm])
    assert len(log.deny) <= 1_001 and len(log.allow) <= 1_001
    assert log.records == would + TENANTS
    # the first 1 000 keys of each table are kept; every later record is counted under OTHER
    assert log.deny[("permissive", False, "R-1", "deny_rule_matched:R-1", OTHER, OTHER, "e1")] == would - sum(
        log.deny[k] for k in log.deny if k[4] != OTHER
    )
    assert log.folded == {"permissive": (TENANTS - 1_000) * 2}
    summary, _ = build_guardian(read_logs([perm], [strict]), listed=5)
    assert summary["permissive"]["would_deny"] == would and summary["permissive"]["allow"] == TENANTS
    assert summary["folded"] == {
        "permissive": (TENANTS - 1_000) * 2,
        "strict": 0,
        "keys_max": 1_000,
        "label": OTHER,
    }
    assert next(iter(summary["delta"]["by_tenant"])) == OTHER  # the largest row, and named as such


def test_keys_that_never_repeat_in_any_field_stop_at_the_bound(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(decisions, "MAX_KEYS", 100)
    monkeypatch.setattr(decisions, "FOLD_ROOM", 10)
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"".join(_record("permissive", "deny", f"t{i}", f"a{i}", f"x{i}", rule=f"R-{i}")
                              for i in range(2_000)))  # fmt: skip
    log = collect_decisions([path], trace_denies=True)
    assert len(log.deny) <= 112 and log.records == 2_000
    assert log.deny[("permissive", False, OTHER, OTHER, OTHER, OTHER, None)] > 0


def test_a_parallel_read_keeps_the_bound_and_the_totals(wide, monkeypatch) -> None:
    perm, _, would = wide
    monkeypatch.setattr(decisions, "MAX_KEYS", 1_000)
    monkeypatch.setattr(decisions, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(decisions.os, "cpu_count", lambda: 3)
    log = collect_decisions([perm])
    assert len(log.deny) <= 1_001 and len(log.allow) <= 1_001
    assert log.records == would + TENANTS and sum(log.folded.values()) >= (TENANTS - 1_000) * 2


def test_deny_traces_past_their_bound_are_counted_not_kept(wide, monkeypatch) -> None:
    perm, _, would = wide
    monkeypatch.setattr(decisions, "MAX_TRACED", 100)
    log = collect_decisions([perm], trace_denies=True)
    assert sum(len(t) for t in log.deny_traces.values()) == 100 and log.untraced == would - 100


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 20])
def test_blank_lines_whitespace_and_chunk_edges_keep_line_numbers(tmp_path, monkeypatch, chunk) -> None:
    """Any chunk size gives the line numbers and counts of a plain line-by-line read."""
    good = _record("permissive", "deny", "acme", "a", "t").rstrip(b"\n")
    lines = (
        [good, b"", b"", b"  \t", b"{broken", good, b"", b"[1]", b"\r", good, b"not json"]
        + [b""] * 50
        + [good]
    )
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"\n".join(lines))  # no newline after the last line
    monkeypatch.setattr(decisions, "CHUNK_BYTES", chunk)
    log = collect_decisions([path])
    bad = [n for n, line in enumerate(lines, 1) if line.strip() and line != good]
    assert log.records == 4 and log.malformed == len(bad)
    assert [m.line for m in log.malformed_samples] == bad


def test_a_line_without_end_is_malformed_not_read_whole(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(decisions, "MAX_LINE_BYTES", 1000)
    monkeypatch.setattr(decisions, "CHUNK_BYTES", 256)
    good = _record("permissive", "allow", "acme", "a", "t")
    path = tmp_path / "log.jsonl"
    path.write_bytes(good + b"x" * 5_000 + b"\n" + good + b"y" * 5_000)
    log = collect_decisions([path])
    assert log.records == 2 and log.malformed == 2
    assert [(m.line, m.reason.startswith("line longer than")) for m in log.malformed_samples] == [
        (2, True),
        (4, True),
    ]


def test_a_gzip_of_hundreds_of_megabytes_of_newlines_reads_at_decompression_speed(tmp_path) -> None:
    """Gzip members concatenate: 300 copies of one compressed MiB of newlines inflate to 300 MiB (about
    315 million blank lines, which a line-by-line read took some 15 minutes over)."""
    good = _record("permissive", "deny", "acme", "a", "t")
    blank = gzip.compress(b"\n" * (1 << 20), compresslevel=1)
    path = tmp_path / "blank.jsonl.gz"
    with open(path, "wb") as out:
        out.write(gzip.compress(good))
        for k in range(300):
            out.write(blank)
            if k == 150:
                out.write(gzip.compress(b"  \n{not json\n" + good))
    started = time.monotonic()
    log = collect_decisions([path])
    elapsed = time.monotonic() - started
    assert log.records == 2 and log.malformed == 1
    assert log.malformed_samples[0].line == 1 + 151 * (1 << 20) + 2
    assert elapsed < 60, f"{elapsed:.0f} s for 300 MiB of newlines"


@pytest.mark.parametrize(("value", "message"), [
    ("10001", "guardian_rows_listed must be from 0 to 10000, not 10001"),
    ("-1", "guardian_rows_listed must be a non-negative integer"),
    ("2.5", "guardian_rows_listed must be a non-negative integer"),
    ('"50"', "guardian_rows_listed must be a non-negative integer"),
])  # fmt: skip
def test_guardian_rows_listed_is_range_checked(tmp_path, value: str, message: str) -> None:
    config = tmp_path / "pyproject.toml"
    config.write_text(f"[tool.healthdeck]\nguardian_rows_listed = {value}\n")
    with pytest.raises(ConfigError, match=message):
        load_config(config)
    assert (
        main(["guardian-delta", "--config", str(config), "--permissive", "x", "--strict", "y"]) == EXIT_USAGE
    )


def test_guardian_rows_listed_defaults_to_50(tmp_path) -> None:
    config = tmp_path / "pyproject.toml"
    config.write_text("[tool.healthdeck]\n")
    assert load_config(config).guardian_rows_listed == 50
    config.write_text("[tool.healthdeck]\nguardian_rows_listed = 10000\n")
    assert load_config(config).guardian_rows_listed == 10_000


def test_the_dashboard_names_the_totals_of_a_cut_report(wide, tmp_path, monkeypatch) -> None:
    """The page showed the listed rows' number as the count ("the first 5 of 50 combinations")."""
    from streamlit.testing.v1 import AppTest

    perm, strict, _ = wide
    config = tmp_path / "pyproject.toml"
    config.write_text("[tool.healthdeck]\nguardian_rows_listed = 2\n")
    out = tmp_path / "out"
    assert main(["collect", "-q", "--config", str(config), "--out", str(out), "--guardian-permissive", str(perm),
                 "--guardian-strict", str(strict)]) == EXIT_OK  # fmt: skip
    monkeypatch.setenv("HEALTHDECK_REPORT", str(out / "latest.json"))
    monkeypatch.setenv("HEALTHDECK_HISTORY", f"sqlite:///{out / 'history.sqlite'}")
    monkeypatch.setenv("HEALTHDECK_CONFIG", str(config))
    at = AppTest.from_file(
        str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py"), default_timeout=60
    )
    at.run()
    at.switch_page("app_pages/guardian.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("(the first 2 of 3 combinations)" in e.value for e in at.error)
    assert any(f"the 2 largest of {TENANTS + 3:,}".replace(",", " ") in x.label for x in at.expander)


def test_guardian_delta_reads_under_the_configured_input_limits(tmp_path, capsys) -> None:
    """`guardian-delta` reads the logs under [tool.healthdeck] max_input_mb, as collect does: the sample's
    logs inflate past a 1 MiB limit: one line, exit 3."""
    samples = Path(__file__).resolve().parents[1] / "reports" / "samples" / "guardian"
    config = tmp_path / "pyproject.toml"
    config.write_text("[tool.healthdeck]\nmax_input_mb = 1\n")
    argv = ["guardian-delta", "--config", str(config), "--permissive", str(samples / "permissive.jsonl.gz"),
            "--strict", str(samples / "strict.jsonl.gz"), "--format", "json"]  # fmt: skip
    assert main(argv) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        len(err) == 1
        and ".jsonl.gz: guardian-log: cannot read: decompresses to" in err[0]
        and "1 MiB" in err[0]
    )
    config.write_text("[tool.healthdeck]\n")
    assert main(argv) == EXIT_OK

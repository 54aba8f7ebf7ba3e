"""The Prometheus collector against a real Prometheus: backfilled counters from the traffic generator,
a live exporter built with the producer helper, and the failure modes of prometheus-api-client."""

from __future__ import annotations

import http.server
import io
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from healthdeck.collectors import CollectorError
from healthdeck.collectors.guardian.format import DEFAULT_DENY_RULE, MetricNames, metric_decision
from healthdeck.collectors.guardian.prometheus import collect_prometheus
from healthdeck.guardian import DecisionLogger, GuardianMetrics
from healthdeck.reports.cli import EXIT_OK, main
from healthdeck.reports.demo.traffic import POLICY_V1, POLICY_V2, Expected, rehearsal, replay
from tests.services import Prometheus, free_port

END = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # the rehearsal's "now"; in the past, as backfills must be
WINDOW = timedelta(hours=28)  # covers the permissive day (27 h to 3 h before END) and the rehearsal
STEP = timedelta(minutes=5)


def _openmetrics(records: list[dict], names: MetricNames) -> str:
    """Cumulative counters sampled every STEP from END - WINDOW (all zero there) to END."""
    decisions: dict[tuple, list[datetime]] = {}
    denies: dict[tuple, list[datetime]] = {}
    for r in records:
        at = datetime.strptime(r["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        decision = metric_decision(r["decision"], r["enforced"])
        decisions.setdefault((r["tenant"], r["action"], decision, r["mode"]), []).append(at)
        if r["decision"] == "deny":
            denies.setdefault((r["rule_id"] or DEFAULT_DENY_RULE, r["reason"], r["mode"]), []).append(at)
    lines = []
    for metric, labels, series in (
        (names.decisions, ("tenant", "action", "decision", "mode"), decisions),
        (names.denies, ("rule_id", "reason", "mode"), denies),
    ):
        family = metric.removesuffix("_total")
        lines.append(f"# TYPE {family} counter")
        for key, times in sorted(series.items()):
            times.sort()
            label_text = ",".join(f'{k}="{v}"' for k, v in zip(labels, key, strict=True))
            t, i = END - WINDOW, 0
            while t <= END:
                while i < len(times) and times[i] <= t:
                    i += 1
                lines.append(f"{metric}{{{label_text}}} {i} {int(t.timestamp())}")
                t += STEP
    return "\n".join(lines) + "\n# EOF\n"


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory):
    run = rehearsal(2_000, seed=5, now=END)
    expected = Expected()
    sink = io.BytesIO()
    replay(sink, run.permissive, "permissive", POLICY_V1, expected, keep_records=True)
    replay(sink, run.strict, "strict", POLICY_V2, expected, keep_records=True)
    server = Prometheus(tmp_path_factory.mktemp("prometheus"))
    server.backfill(_openmetrics(expected.records, MetricNames()))
    server.start()
    yield server, expected
    server.stop()


def test_decisions_by_decision_and_mode(backfilled) -> None:
    server, expected = backfilled
    result = collect_prometheus(server.url, "28h", at=END)
    got = {(d["decision"], d["mode"]): round(d["value"]) for d in result.decisions}
    want = Counter()
    for (mode, decision, enforced, _rule, _tenant, _action), n in expected.decisions.items():
        want[(metric_decision(decision, enforced), mode)] += n
    assert got == dict(want)


def test_deny_delta_by_tenant_keeps_one_sided_series(backfilled) -> None:
    server, expected = backfilled
    result = collect_prometheus(server.url, "28h", at=END)
    tenants = {t for (_m, _d, _e, _r, t, _a) in expected.decisions}
    want = {
        t: expected.count("strict", decision="deny", tenant=t)
        - expected.count("permissive", decision="deny", tenant=t)
        for t in tenants
    }
    got = {row.key: round(row.value) for row in result.delta_by_tenant}
    assert got == {t: v for t, v in want.items() if expected.count("strict", decision="deny", tenant=t)
                   or expected.count("permissive", decision="deny", tenant=t)}  # fmt: skip
    actions = {row.key: round(row.value) for row in result.delta_by_action}
    # memory.write is denied only in strict (rule R-007): a one-sided series, which plain A - B drops
    assert actions["memory.write"] == expected.count("strict", decision="deny", action="memory.write") > 0


def test_would_deny_share_per_tenant(backfilled) -> None:
    server, expected = backfilled
    result = collect_prometheus(server.url, "28h", at=END)
    for row in result.would_deny_share_by_tenant:
        decisions = expected.count("permissive", tenant=row.key) + expected.count("strict", tenant=row.key)
        would = expected.count("permissive", decision="deny", tenant=row.key)
        assert row.value == pytest.approx(would / decisions, rel=1e-9)


def test_top_rules_is_an_instant_topk(backfilled) -> None:
    server, expected = backfilled
    result = collect_prometheus(server.url, "28h", at=END, top=3)
    per_rule = Counter()
    for (_m, decision, _e, rule, _t, _a), n in expected.decisions.items():
        if decision == "deny":
            per_rule[rule or DEFAULT_DENY_RULE] += n
    assert [(r.key, round(r.value)) for r in result.top_rules] == per_rule.most_common(3)


def test_series_is_bounded(backfilled) -> None:
    server, _ = backfilled
    result = collect_prometheus(server.url, "28h", at=END)
    assert set(result.series) == {"allow", "deny", "would_deny"}
    assert all(len(points) <= 61 for points in result.series.values())


def test_collect_folds_prometheus_into_the_report(backfilled, tmp_path) -> None:
    server, _ = backfilled
    code = main(["collect", "-q", "--out", str(tmp_path), "--prometheus", server.url, "--window", "28h",
                 "--at", END.isoformat()])  # fmt: skip
    assert code == EXIT_OK
    import json

    report = json.loads((tmp_path / "latest.json").read_text())
    p = report["summary"]["guardian"]["prometheus"]
    assert p["window"] == "28h" and p["decisions"]
    assert "### Prometheus" in (tmp_path / "latest.md").read_text()


def test_lukhas_preset_reports_missing_breakdowns(backfilled) -> None:
    server, _ = backfilled
    from healthdeck.collectors.guardian.format import PRESETS

    result = collect_prometheus(server.url, "28h", at=END, names=PRESETS["lukhas"])
    assert result.decisions == []  # nothing exported under those names here
    assert result.delta_by_tenant is None and result.top_rules is None


def test_live_exporter_scraped(tmp_path) -> None:
    from prometheus_client import CollectorRegistry, start_http_server

    port = free_port()
    registry = CollectorRegistry()
    metrics = GuardianMetrics(registry=registry)
    http_server, _thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    server = Prometheus(tmp_path, scrape_targets=[f"127.0.0.1:{port}"]).start()
    try:
        logger = DecisionLogger(io.BytesIO(), "permissive", metrics)
        for i in range(30):
            logger.log(tenant="acme", action="memory.write", decision="deny" if i % 3 == 0 else "allow",
                       rule_id="R-007" if i % 3 == 0 else "R-006", reason="x")  # fmt: skip
        from prometheus_api_client import PrometheusConnect

        prom = PrometheusConnect(server.url)
        deadline = time.monotonic() + 60
        totals: dict[str, float] = {}
        while time.monotonic() < deadline:  # first scrape lands after a few seconds: poll, don't sleep
            data = prom.custom_query("sum by (decision) (guardian_decisions_total)")
            totals = {d["metric"]["decision"]: float(d["value"][1]) for d in data}
            if totals == {"allow": 20.0, "would_deny": 10.0}:
                break
            time.sleep(0.5)
        assert totals == {"allow": 20.0, "would_deny": 10.0}
        for _ in range(12):  # more traffic on an existing series after the first scrape: increase() > 0
            logger.log(tenant="acme", action="memory.write", decision="deny", rule_id="R-007", reason="x")
        seen: dict[str, float] = {}
        while time.monotonic() < deadline:  # increase() needs two samples of a series in the window
            result = collect_prometheus(server.url, "5m")
            seen = {d["decision"]: d["value"] for d in result.decisions}
            if seen.get("would_deny", 0) > 0 and "allow" in seen:
                break
            time.sleep(0.5)
        assert seen.get("would_deny", 0) > 0 and "allow" in seen
    finally:
        server.stop()
        http_server.shutdown()


def test_unreachable_is_one_error_within_the_timeout() -> None:
    started = time.monotonic()
    with pytest.raises(CollectorError, match="unreachable within 1s"):
        collect_prometheus(f"http://127.0.0.1:{free_port()}", "1h", timeout=1)
    assert time.monotonic() - started < 5


def test_server_error_is_one_error() -> None:
    class Failing(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(503)
            self.end_headers()
            self.wfile.write(b"overloaded")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Failing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        started = time.monotonic()
        with pytest.raises(CollectorError) as info:
            collect_prometheus(f"http://127.0.0.1:{server.server_port}", "1h", timeout=2)
        assert "503" in str(info.value) and "\n" not in str(info.value)
        assert time.monotonic() - started < 5  # no retries
    finally:
        server.shutdown()


def test_bad_window_and_bad_query_are_errors(backfilled) -> None:
    server, _ = backfilled
    with pytest.raises(CollectorError, match="not a Prometheus duration"):
        collect_prometheus(server.url, "yesterday")
    with pytest.raises(CollectorError, match="failed"):
        collect_prometheus(server.url, "1h", names=MetricNames(decisions="bad-name{"))

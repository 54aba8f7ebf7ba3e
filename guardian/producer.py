"""The producer side of the Guardian decision log: a helper a policy engine calls once per decision.

    logger = DecisionLogger(open("guardian-decisions.jsonl", "a"), mode="permissive",
                            metrics=GuardianMetrics())            # optional Prometheus counters
    logger.log(tenant="acme", user="u-1", scopes=["dreams:write"], action="dreams.create",
               resource="/v1/dreams", decision="deny", rule_id="R-002",
               reason="deny_rule_matched:R-002", policy_etag=etag, trace_id=trace, latency_ms=0.4)

It writes exactly the record that `collectors.guardian.decisions` reads (both use
`collectors.guardian.format`), so producer and consumer cannot drift.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import orjson

from healthdeck.collectors.guardian.format import (
    DECISIONS,
    DEFAULT_DENY_RULE,
    MODES,
    MetricNames,
    metric_decision,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:
    from typing import IO


class GuardianMetrics:
    """Prometheus counters matching the decision log, with configurable names and label keys.

    decisions counter: {tenant, action, decision ∈ allow/deny/would_deny[, mode]};
    denies counter (every deny decision, enforced or not): {rule_id, reason[, mode]}.
    """

    def __init__(self, names: MetricNames | None = None, registry: object | None = None) -> None:
        from prometheus_client import REGISTRY, Counter

        self.names = names or MetricNames()
        self._decision_concepts = [c for c, k in self.names.decision_labels.items() if k]
        self._deny_concepts = [c for c, k in self.names.deny_labels.items() if k]
        registry = registry if registry is not None else REGISTRY
        self.decisions = Counter(
            _base(self.names.decisions),
            "Guardian policy decisions (would_deny = denied in permissive mode, not enforced)",
            [self.names.decision_labels[c] for c in self._decision_concepts],
            registry=registry,
        )
        self.denies = Counter(
            _base(self.names.denies),
            "Guardian deny decisions by rule (enforced or not)",
            [self.names.deny_labels[c] for c in self._deny_concepts],
            registry=registry,
        )

    def observe(self, record: dict) -> None:
        values = {**record, "decision": metric_decision(record["decision"], record["enforced"])}
        values["rule_id"] = record.get("rule_id") or DEFAULT_DENY_RULE
        self.decisions.labels(*[str(values.get(c) or "") for c in self._decision_concepts]).inc()
        if record["decision"] == "deny":
            self.denies.labels(*[str(values.get(c) or "") for c in self._deny_concepts]).inc()


def _base(name: str) -> str:
    # prometheus_client appends "_total" itself.
    return name.removesuffix("_total")


class DecisionLogger:
    """Writes one JSON line per decision; `enforced` follows the mode (strict enforces denies)."""

    def __init__(self, sink: IO[bytes], mode: str, metrics: GuardianMetrics | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        self.sink = sink
        self.mode = mode
        self.metrics = metrics

    def log(
        self,
        *,
        tenant: str,
        action: str,
        decision: str,
        reason: str,
        rule_id: str | None = None,
        user: str | None = None,
        scopes: Sequence[str] = (),
        resource: str | None = None,
        policy_etag: str | None = None,
        trace_id: str | None = None,
        latency_ms: float | None = None,
        ts: datetime | None = None,
    ) -> dict:
        if decision not in DECISIONS:
            raise ValueError(f"decision must be one of {DECISIONS}, not {decision!r}")
        when = (ts or datetime.now(UTC)).astimezone(UTC)
        record = {
            "ts": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z",
            "mode": self.mode,
            "decision": decision,
            "enforced": self.mode == "strict",
            "tenant": tenant,
            "user": user,
            "scopes": list(scopes),
            "action": action,
            "resource": resource,
            "rule_id": rule_id,
            "reason": reason,
            "policy_etag": policy_etag,
            "trace_id": trace_id,
            "latency_ms": latency_ms,
        }
        self.sink.write(orjson.dumps(record) + b"\n")
        if self.metrics is not None:
            self.metrics.observe(record)
        return record

"""Realistic Guardian traffic for tests, the demo and the benchmark.

A small ABAC policy engine (deny-overrides, default deny) evaluates generated requests from several
tenants; the permissive run uses policy v1, the strict rehearsal replays part of the same traffic
(same trace ids) under policy v2, which adds and narrows rules. Records are written through the
producer helper, a few malformed lines are mixed in, and the generator keeps its own counts so tests
can check the collector against them.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import IO

from healthdeck.guardian import DecisionLogger, GuardianMetrics


@dataclass(frozen=True)
class Rule:
    id: str
    effect: str  # "allow" | "deny"
    actions: frozenset[str]
    tenants: frozenset[str] | None = None  # None = every tenant
    missing_scope: str | None = None  # deny rules: match only when the request lacks this scope

    def matches(self, tenant: str, action: str, scopes: frozenset[str]) -> bool:
        if action not in self.actions or (self.tenants is not None and tenant not in self.tenants):
            return False
        return self.missing_scope is None or self.missing_scope not in scopes


@dataclass(frozen=True)
class Policy:
    rules: tuple[Rule, ...]

    @property
    def etag(self) -> str:
        return hashlib.sha256(repr(self.rules).encode()).hexdigest()[:8]

    def evaluate(self, tenant: str, action: str, scopes: frozenset[str]) -> tuple[str, str | None, str]:
        """(decision, rule_id, reason) under deny-overrides with default deny."""
        for rule in self.rules:
            if rule.effect == "deny" and rule.matches(tenant, action, scopes):
                return "deny", rule.id, f"deny_rule_matched:{rule.id}"
        for rule in self.rules:
            if rule.effect == "allow" and rule.matches(tenant, action, scopes):
                return "allow", rule.id, f"allow_rule_matched:{rule.id}"
        return "deny", None, "default_deny"


TENANTS = {"acme": 30, "globex": 20, "initech": 15, "umbrella": 15, "hooli": 12, "stark": 8}
ACTIONS = {
    "dreams.read": 25, "dreams.create": 15, "memory.read": 20, "memory.write": 12,
    "identity.update": 8, "admin.export": 5, "consciousness.query": 15,
}  # fmt: skip
SCOPES = ("dreams:write", "memory:write", "identity:admin")
READS = frozenset({"dreams.read", "memory.read"})

POLICY_V1 = Policy((
    Rule("R-001", "allow", READS),
    Rule("R-002", "deny", frozenset({"dreams.create"}), missing_scope="dreams:write"),
    Rule("R-003", "allow", frozenset({"dreams.create"})),
    Rule("R-004", "deny", frozenset({"admin.export"}), tenants=frozenset({"globex", "initech", "umbrella", "hooli"})),
    Rule("R-005", "allow", frozenset({"admin.export"})),
    Rule("R-006", "allow", frozenset({"memory.write"})),
    Rule("R-008", "deny", frozenset({"identity.update"}), tenants=frozenset({"umbrella"})),
    Rule("R-009", "allow", frozenset({"identity.update"})),
))  # fmt: skip
# The strict rehearsal runs the next policy: R-007 is new (hooli may no longer write memory), R-004 is
# narrowed to initech, and R-010 lets acme query consciousness (no more default deny there).
POLICY_V2 = Policy((
    Rule("R-001", "allow", READS),
    Rule("R-002", "deny", frozenset({"dreams.create"}), missing_scope="dreams:write"),
    Rule("R-003", "allow", frozenset({"dreams.create"})),
    Rule("R-004", "deny", frozenset({"admin.export"}), tenants=frozenset({"initech"})),
    Rule("R-005", "allow", frozenset({"admin.export"})),
    Rule("R-006", "allow", frozenset({"memory.write"})),
    Rule("R-007", "deny", frozenset({"memory.write"}), tenants=frozenset({"hooli"})),
    Rule("R-008", "deny", frozenset({"identity.update"}), tenants=frozenset({"umbrella"})),
    Rule("R-009", "allow", frozenset({"identity.update"})),
    Rule("R-010", "allow", frozenset({"consciousness.query"}), tenants=frozenset({"acme"})),
))  # fmt: skip

MALFORMED_LINES = (
    b'{"ts": "2026-03-01T10:00:00.000Z", "mode": "permissive", "decision": "de',  # truncated write
    b"Traceback (most recent call last):",  # a crash message in the log stream
    b'{"ts": "2026-03-01T10:00:01.000Z", "mode": "permissive", "tenant": "acme"}',  # no decision
    b'{"ts": "2026-03-01T10:00:02.000Z", "mode": "audit", "decision": "deny", "enforced": false, '
    b'"tenant": "acme", "action": "x", "rule_id": null, "reason": "default_deny", "policy_etag": null}',
)


@dataclass(frozen=True)
class Request:
    trace_id: str
    tenant: str
    user: str
    action: str
    scopes: frozenset[str]
    at: datetime


@dataclass
class Expected:
    """The generator's own bookkeeping, independent of the collector."""

    decisions: Counter[tuple[str, str, bool, str | None, str, str]] = field(default_factory=Counter)
    malformed: int = 0
    records: list[dict] = field(default_factory=list)  # kept only when asked (Prometheus backfill)

    def count(
        self, mode: str, *, decision: str | None = None, enforced: bool | None = None, **dims: str
    ) -> int:
        total = 0
        for (m, d, e, rule, tenant, action), n in self.decisions.items():
            values = {"rule_id": rule, "tenant": tenant, "action": action}
            if m != mode or (decision and d != decision) or (enforced is not None and e != enforced):
                continue
            if all(values[k] == v for k, v in dims.items()):
                total += n
        return total


def requests(n: int, seed: int, start: datetime, span: timedelta) -> list[Request]:
    rng = random.Random(seed)
    tenants, t_weights = zip(*TENANTS.items(), strict=True)
    actions, a_weights = zip(*ACTIONS.items(), strict=True)
    out = []
    for i in range(n):
        scopes = frozenset(s for s in SCOPES if rng.random() < 0.7)
        at = start + span * (i / max(n, 1))
        out.append(Request(
            trace_id=f"{rng.getrandbits(128):032x}",
            tenant=rng.choices(tenants, t_weights)[0],
            user=f"u-{rng.randrange(1, 5000)}",
            action=rng.choices(actions, a_weights)[0],
            scopes=scopes,
            at=at,
        ))  # fmt: skip
    return out


def replay(
    sink: IO[bytes],
    traffic: list[Request],
    mode: str,
    policy: Policy,
    expected: Expected,
    *,
    metrics: GuardianMetrics | None = None,
    malformed_every: int = 0,
    keep_records: bool = False,
) -> None:
    """Evaluate and log every request; every `malformed_every` records, write a malformed line."""
    logger = DecisionLogger(sink, mode, metrics)
    rng = random.Random(len(traffic))
    for i, req in enumerate(traffic, 1):
        decision, rule_id, reason = policy.evaluate(req.tenant, req.action, req.scopes)
        record = logger.log(
            tenant=req.tenant, user=req.user, scopes=sorted(req.scopes), action=req.action,
            resource=f"/v1/{req.action.replace('.', '/')}", decision=decision, rule_id=rule_id, reason=reason,
            policy_etag=policy.etag, trace_id=req.trace_id, latency_ms=round(rng.uniform(0.1, 3.0), 2), ts=req.at,
        )  # fmt: skip
        expected.decisions[(mode, decision, mode == "strict", rule_id, req.tenant, req.action)] += 1
        if keep_records:
            expected.records.append(record)
        if malformed_every and i % malformed_every == 0:
            sink.write(MALFORMED_LINES[(i // malformed_every - 1) % len(MALFORMED_LINES)] + b"\n")
            expected.malformed += 1


@dataclass
class Rehearsal:
    permissive: list[Request]
    strict: list[Request]  # a replayed subset (same trace ids) plus requests seen only in strict


def rehearsal(n: int, seed: int = 7, replayed: float = 0.5, now: datetime | None = None) -> Rehearsal:
    """A permissive day of traffic and a strict rehearsal replaying part of it the next night."""
    now = now or datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    day = requests(n, seed, now - timedelta(days=1, hours=3), timedelta(hours=24))
    replay_count = int(n * replayed)
    rehearsal_start = now - timedelta(hours=1)
    replayed_requests = [
        Request(r.trace_id, r.tenant, r.user, r.action, r.scopes, rehearsal_start + (r.at - day[0].at) / 24)
        for r in day[:replay_count]
    ]
    fresh = requests(max(n // 50, 1), seed + 1, now - timedelta(minutes=5), timedelta(minutes=4))
    return Rehearsal(day, replayed_requests + fresh)

"""The Guardian decision-log record and metric names: the one definition producer and consumer share.

A record is one JSON object per line (UTF-8). docs/guardian-decision-log.md documents it and
reports/schema/guardian-decision.schema.json is its JSON Schema; tests check all three agree.
"""

from __future__ import annotations

from healthdeck.collectors.records import Record

MODES = ("permissive", "strict")
DECISIONS = ("allow", "deny")
# Field order used when writing; every field is always present (null when unknown).
FIELDS = (
    "ts",
    "mode",
    "decision",
    "enforced",
    "tenant",
    "user",
    "scopes",
    "action",
    "resource",
    "rule_id",
    "reason",
    "policy_etag",
    "trace_id",
    "latency_ms",
)
REQUIRED = ("ts", "mode", "decision", "enforced", "tenant", "action", "rule_id", "reason")

# How a decision without a rule (deny-by-default) is named in tables and in the rule_id metric label.
DEFAULT_DENY_RULE = "default_deny"

# The metric label value that marks "would deny" (permissive mode logged a deny it did not enforce).
WOULD_DENY = "would_deny"


def metric_decision(decision: str, enforced: bool) -> str:
    """allow | deny | would_deny: the bounded `decision` label of the decisions counter."""
    return WOULD_DENY if decision == "deny" and not enforced else decision


class MetricNames(Record):
    """Metric names and label keys. A label mapped to None is not exported (and cannot be queried)."""

    decisions: str = "guardian_decisions_total"
    denies: str = "guardian_denies_total"
    # concept -> label key on the decisions counter
    # (A record's default is one object shared by every instance: these dicts are never changed in
    # place; `_replace` makes a new MetricNames.)
    decision_labels: dict[str, str | None] = {  # noqa: RUF012
        "tenant": "tenant",
        "action": "action",
        "decision": "decision",
        "mode": "mode",
    }
    # concept -> label key on the denies counter
    deny_labels: dict[str, str | None] = {"rule_id": "rule_id", "reason": "reason", "mode": "mode"}  # noqa: RUF012

    def label(self, counter: str, concept: str) -> str | None:
        labels = self.decision_labels if counter == "decisions" else self.deny_labels
        return labels.get(concept)


PRESETS: dict[str, MetricNames] = {
    "healthdeck": MetricNames(),
    # What the LUKHAS code exported before it had decision logs: no tenant, no rule id, no mode.
    "lukhas": MetricNames(
        decisions="lukhas_guardian_decision_total",
        denies="lukhas_guardian_denied_total",
        decision_labels={
            "tenant": None,
            "action": "route",
            "decision": "outcome",
            "scope": "scope",
            "mode": None,
        },
        deny_labels={"rule_id": None, "reason": "reason", "action": "route", "mode": None},
    ),
}

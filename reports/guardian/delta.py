"""Permissive-versus-strict: what would start denying when Guardian is flipped to strict.

Inputs are the decision logs of a permissive run and of a strict rehearsal (which replays the smoke
traffic with the policy enforced), optionally the JUnit results of the smoke suite in both modes.
The figures are an estimate (`ESTIMATE_NOTE`); where both runs carry the same trace ids, the exact
per-request diff is computed too.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from healthdeck.collectors.guardian import decisions as decision_log
from healthdeck.collectors.guardian.decisions import (
    OTHER,
    DecisionLog,
    TraceInfo,
    collect_decisions,
    deny_info,
)
from healthdeck.collectors.guardian.format import DEFAULT_DENY_RULE
from healthdeck.collectors.junit import JUnitResult

from ..history.model import FAILING

ESTIMATE_NOTE = (
    "The delta is an estimate: the two runs saw different traffic volumes (so counts are also shown per "
    "1 000 decisions of their own run), and under deny-overrides a request denied by one rule never "
    "reaches the rules after it, so a rule's count in one mode is not the count it would have in the other."
)
SAMPLES = 10
# Rows listed per table ([tool.healthdeck] guardian_rows_listed): the delta by rule, tenant and action,
# the rule × tenant × action rows, new in strict, not reproduced and the decisions per tenant. Every
# count stays exact, and each table's `…_total` says how many rows it has in all.
ROWS_LISTED = 50
DIMENSIONS = ("rule_id", "tenant", "action")
Combo = tuple[str, str, str]  # rule_id, tenant, action


@dataclass
class ModeFigures:
    """One mode's figures from a decision log."""

    decisions: int = 0
    allow: int = 0
    would_deny: int = 0  # deny, not enforced
    denied: int = 0  # deny, enforced
    policy_etags: set[str] = field(default_factory=set)
    decisions_by: dict[str, Counter[str]] = field(
        default_factory=lambda: {"tenant": Counter(), "action": Counter()}
    )
    # (rule_id, tenant, action) -> count, for would-deny (permissive side) or denied (strict side)
    combos: Counter[Combo] = field(default_factory=Counter)


def mode_figures(log: DecisionLog, mode: str, deny_enforced: bool) -> ModeFigures:
    """Figures of `mode`; `combos` counts the denies with enforced == `deny_enforced`."""
    fig = ModeFigures()
    for (m, tenant, action), n in log.allow.items():
        if m == mode:
            fig.allow += n
            fig.decisions_by["tenant"][tenant] += n
            fig.decisions_by["action"][action] += n
    for (m, enforced, rule_id, _reason, tenant, action, etag), n in log.deny.items():
        if m != mode:
            continue
        fig.decisions_by["tenant"][tenant] += n
        fig.decisions_by["action"][action] += n
        if etag:
            fig.policy_etags.add(etag)
        if enforced:
            fig.denied += n
        else:
            fig.would_deny += n
        if enforced == deny_enforced:
            fig.combos[(rule_id or DEFAULT_DENY_RULE, tenant, action)] += n
    fig.decisions = fig.allow + fig.would_deny + fig.denied
    return fig


@dataclass
class ExactDiff:
    """Per-request diff by trace id: requests allowed in one run and denied in the other."""

    matched: int  # deny decisions of either run whose trace id was found in the other run
    newly_denied: int  # allowed in permissive, denied in strict
    no_longer_denied: int  # would-denied in permissive, allowed in strict
    # the first SAMPLES of each by trace id: (trace, permissive decision, strict decision)
    samples: dict[str, list[tuple[str, TraceInfo, TraceInfo]]]
    untraced: int = 0  # deny decisions past MAX_TRACED in either log: the diff covers the others


@dataclass
class GuardianInputs:
    permissive: DecisionLog
    strict: DecisionLog
    exact: ExactDiff | None = None
    rehearsal_permissive: JUnitResult | None = None
    rehearsal_strict: JUnitResult | None = None


def read_logs(permissive: Sequence[str | Path], strict: Sequence[str | Path]) -> GuardianInputs:
    """Collect both logs, with trace ids, and derive the exact per-request diff (three streaming passes).

    Memory follows the number of deny decisions (at most MAX_TRACED per log), never the traffic: pass 1
    keeps the strict denies' trace ids, pass 2 reads the permissive log watching those, pass 3 re-reads
    the strict log watching the permissive would-denies it did not deny.
    """
    strict_log = collect_decisions(strict, trace_denies=True)
    strict_denies = strict_log.deny_traces.get("strict", {})
    strict_denied = {t for t, key in strict_denies.items() if key[1]}
    perm_log = collect_decisions(permissive, trace_denies=True, watch=strict_denied)
    perm_denies = perm_log.deny_traces.get("permissive", {})
    watch_strict = {t for t, key in perm_denies.items() if not key[1]} - strict_denied
    strict_watch = collect_decisions(strict, watch=watch_strict).watched if watch_strict else {}
    in_perm = perm_log.watched.get("permissive", {})
    in_strict = strict_watch.get("strict", {})
    newly = sorted(t for t in strict_denied if t in in_perm and in_perm[t][1] == "allow")
    no_longer = sorted(t for t in watch_strict if t in in_strict and in_strict[t][1] == "allow")
    matched = sum(1 for t in strict_denied if t in in_perm) + len(in_strict)
    if not matched:
        return GuardianInputs(perm_log, strict_log)
    samples = {
        "newly_denied": [(t, in_perm[t], deny_info(strict_denies[t])) for t in newly[:SAMPLES]],
        "no_longer_denied": [(t, deny_info(perm_denies[t]), in_strict[t]) for t in no_longer[:SAMPLES]],
    }
    untraced = perm_log.untraced + strict_log.untraced
    return GuardianInputs(
        perm_log, strict_log, ExactDiff(matched, len(newly), len(no_longer), samples, untraced)
    )


def _per_1000(count: int, decisions: int) -> float | None:
    return round(1000 * count / decisions, 3) if decisions else None


def _row(would: int, denied: int, perm: ModeFigures, strict: ModeFigures) -> dict:
    p, s = _per_1000(would, perm.decisions), _per_1000(denied, strict.decisions)
    return {
        "would_deny": would,
        "denied": denied,
        "delta": denied - would,
        "would_deny_per_1000": p,
        "denied_per_1000": s,
        "delta_per_1000": round(s - p, 3) if p is not None and s is not None else None,
    }


def build_guardian(inputs: GuardianInputs, listed: int = ROWS_LISTED) -> tuple[dict, dict]:
    """(summary.guardian, details.guardian) for the report; each table cut to its `listed` largest rows.

    Rows are made for the listed keys only: a log of 100 000 tenants must not become 100 000 row
    dicts (and their JSON) to list fifty.
    """
    perm = mode_figures(inputs.permissive, "permissive", deny_enforced=False)
    strict = mode_figures(inputs.strict, "strict", deny_enforced=True)
    delta: dict[str, dict] = {}
    delta_total: dict[str, int] = {}
    for index, dim in enumerate(DIMENSIONS):
        would, denied = Counter[str](), Counter[str]()
        for combo, n in perm.combos.items():
            would[combo[index]] += n
        for combo, n in strict.combos.items():
            denied[combo[index]] += n
        keys = would.keys() | denied.keys()
        name = f"by_{dim.removesuffix('_id')}"
        top = heapq.nsmallest(listed, keys, key=lambda k: (-abs(denied[k] - would[k]), k))
        delta[name] = {k: _row(would[k], denied[k], perm, strict) for k in top}
        delta_total[name] = len(keys)
    combos = perm.combos.keys() | strict.combos.keys()
    new_in_strict = [c for c in strict.combos if c not in perm.combos]
    not_reproduced = [c for c in perm.combos if c not in strict.combos]
    # The same file may be given for both runs; its malformed lines are counted once.
    strict_apart = set(inputs.strict.files) != set(inputs.permissive.files)
    malformed = inputs.permissive.malformed + (inputs.strict.malformed if strict_apart else 0)
    summary = {
        "permissive": _mode_summary(perm),
        "strict": _mode_summary(strict),
        "delta": delta,
        "delta_total": delta_total,
        "new_in_strict": sum(strict.combos[c] for c in new_in_strict),
        "not_reproduced": sum(perm.combos[c] for c in not_reproduced),
        "malformed_lines": malformed,
        "exact": _exact_summary(inputs.exact),
        "rehearsal": None,
        "estimate": True,
        "folded": _folded(inputs),
    }
    details = {
        "files": {"permissive": inputs.permissive.files, "strict": inputs.strict.files},
        "note": ESTIMATE_NOTE,
        "by_rule_tenant_action": _combo_rows(combos, listed, perm, strict),
        "by_rule_tenant_action_truncated": len(combos) > listed,
        "by_rule_tenant_action_total": len(combos),
        "new_in_strict": _combo_rows(new_in_strict, listed, perm, strict),
        "new_in_strict_total": len(new_in_strict),
        "not_reproduced": _combo_rows(not_reproduced, listed, perm, strict),
        "not_reproduced_total": len(not_reproduced),
        "exact_samples": _exact_samples(inputs.exact),
        "malformed": [
            {"file": m.file, "line": m.line, "reason": m.reason}
            for m in (
                inputs.permissive.malformed_samples
                + (inputs.strict.malformed_samples if inputs.strict is not inputs.permissive else [])
            )
        ],
        "rehearsal": None,
        "decisions_by_tenant": {
            "permissive": _largest(perm.decisions_by["tenant"], listed),
            "strict": _largest(strict.decisions_by["tenant"], listed),
        },
        "decisions_by_tenant_total": {
            "permissive": len(perm.decisions_by["tenant"]),
            "strict": len(strict.decisions_by["tenant"]),
        },
    }
    if inputs.rehearsal_permissive and inputs.rehearsal_strict:
        summary["rehearsal"], details["rehearsal"] = rehearsal_delta(
            inputs.rehearsal_permissive, inputs.rehearsal_strict
        )
    return summary, details


def _combo_rows(combos: Iterable[Combo], listed: int, perm: ModeFigures, strict: ModeFigures) -> list[dict]:
    """The `listed` combinations of largest |Δ| (then by rule, tenant, action), as rows."""
    p, s = perm.combos, strict.combos
    top = heapq.nsmallest(listed, combos, key=lambda c: (-abs(s[c] - p[c]), *c))
    return [{"rule_id": r, "tenant": t, "action": a, **_row(p[(r, t, a)], s[(r, t, a)], perm, strict)}
            for (r, t, a) in top]  # fmt: skip


def _largest(counts: Counter[str], listed: int) -> dict[str, int]:
    """The `listed` largest counts, largest first (ties by key)."""
    return dict(heapq.nsmallest(listed, counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _folded(inputs: GuardianInputs) -> dict:
    """Decisions counted under OTHER because a log had more than MAX_KEYS distinct keys (see
    collectors.guardian.decisions._admit): their totals are exact, their tenant and action unknown."""
    return {
        "permissive": inputs.permissive.folded.get("permissive", 0),
        "strict": inputs.strict.folded.get("strict", 0),
        "keys_max": decision_log.MAX_KEYS,  # read now: a test may lower it
        "label": OTHER,
    }


def _mode_summary(fig: ModeFigures) -> dict:
    return {
        "decisions": fig.decisions,
        "allow": fig.allow,
        "would_deny": fig.would_deny,
        "denied": fig.denied,
        "policy_etags": sorted(fig.policy_etags),
    }


def _exact_summary(exact: ExactDiff | None) -> dict | None:
    if exact is None:
        return None
    return {
        "matched_requests": exact.matched,
        "newly_denied": exact.newly_denied,
        "no_longer_denied": exact.no_longer_denied,
        "untraced_denies": exact.untraced,
    }


def _exact_samples(exact: ExactDiff | None) -> dict | None:
    if exact is None:
        return None

    def sample(pairs: list[tuple[str, TraceInfo, TraceInfo]]) -> list[dict]:
        return [
            {
                "trace_id": trace,
                "tenant": strict[4],
                "action": strict[5],
                "permissive": _decision_text(perm),
                "strict": _decision_text(strict),
            }
            for trace, perm, strict in pairs
        ]

    return {key: sample(pairs) for key, pairs in exact.samples.items()}


def _decision_text(info: TraceInfo) -> str:
    _mode, decision, enforced, rule_id, _tenant, _action = info
    label = "would deny" if decision == "deny" and not enforced else decision
    return f"{label} ({rule_id or DEFAULT_DENY_RULE})"


def rehearsal_delta(permissive: JUnitResult, strict: JUnitResult) -> tuple[dict, dict]:
    """Tests that pass in the permissive smoke run and fail in the strict one (and the reverse), by name."""
    perm_out, strict_out = permissive.outcomes or {}, strict.outcomes or {}
    messages = {f.test_id: f.message for f in strict.failing}
    perm_messages = {f.test_id: f.message for f in permissive.failing}
    broken = [
        {"test_id": t, "outcome": o, "message": messages.get(t, "")}
        for t, o in sorted(strict_out.items())
        if o in FAILING and perm_out.get(t) == "passed"
    ]
    fixed = [
        {"test_id": t, "outcome": perm_out[t], "message": perm_messages.get(t, "")}
        for t, o in sorted(strict_out.items())
        if o == "passed" and perm_out.get(t) in FAILING
    ]
    only_one = len(set(perm_out) ^ set(strict_out))
    summary = {
        "broken_in_strict": len(broken),
        "fixed_in_strict": len(fixed),
        "tests_in_one_run_only": only_one,
    }
    return summary, {"broken_in_strict": broken, "fixed_in_strict": fixed}

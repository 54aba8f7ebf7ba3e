"""Permissive-versus-strict: what would start denying when Guardian is flipped to strict.

Inputs are the decision logs of a permissive run and of a strict rehearsal (which replays the smoke
traffic with the policy enforced), optionally the JUnit results of the smoke suite in both modes.
The figures are an estimate (`ESTIMATE_NOTE`); where both runs carry the same trace ids, the exact
per-request diff is computed too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from healthdeck.collectors.guardian.decisions import DecisionLog, TraceInfo, collect_decisions
from healthdeck.collectors.guardian.format import DEFAULT_DENY_RULE
from healthdeck.collectors.junit import JUnitResult

ESTIMATE_NOTE = (
    "The delta is an estimate: the two runs saw different traffic volumes (so counts are also shown per "
    "1 000 decisions of their own run), and under deny-overrides a request denied by one rule never "
    "reaches the rules after it, so a rule's count in one mode is not the count it would have in the other."
)
SAMPLES = 10
COMBO_ROWS = 50
DIMENSIONS = ("rule_id", "tenant", "action")


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
    combos: Counter[tuple[str, str, str]] = field(default_factory=Counter)


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
    newly_denied: dict[str, tuple[TraceInfo, TraceInfo]]  # trace -> (permissive allow, strict deny)
    no_longer_denied: dict[str, tuple[TraceInfo, TraceInfo]]  # trace -> (permissive would-deny, strict allow)


@dataclass
class GuardianInputs:
    permissive: DecisionLog
    strict: DecisionLog
    exact: ExactDiff | None = None
    rehearsal_permissive: JUnitResult | None = None
    rehearsal_strict: JUnitResult | None = None


def read_logs(permissive: Sequence[str | Path], strict: Sequence[str | Path]) -> GuardianInputs:
    """Collect both logs, with trace ids, and derive the exact per-request diff (three streaming passes).

    Memory follows the number of deny decisions, never the traffic: pass 1 keeps the strict denies'
    trace ids, pass 2 reads the permissive log watching those, pass 3 re-reads the strict log watching
    the permissive would-denies it did not deny.
    """
    strict_log = collect_decisions(strict, trace_denies=True)
    strict_denied = {t for (m, t), info in strict_log.deny_traces.items() if m == "strict" and info[2]}
    perm_log = collect_decisions(permissive, trace_denies=True, watch=strict_denied)
    would = {t for (m, t), info in perm_log.deny_traces.items() if m == "permissive" and not info[2]}
    watch_strict = would - strict_denied
    strict_watch = collect_decisions(strict, watch=watch_strict).watched if watch_strict else {}
    in_perm = {t: info for (m, t), info in perm_log.watched.items() if m == "permissive"}
    in_strict = {t: info for (m, t), info in strict_watch.items() if m == "strict"}
    newly = {
        t: (in_perm[t], strict_log.deny_traces[("strict", t)])
        for t in sorted(strict_denied)
        if t in in_perm and in_perm[t][1] == "allow"
    }
    no_longer = {
        t: (perm_log.deny_traces[("permissive", t)], in_strict[t])
        for t in sorted(watch_strict)
        if t in in_strict and in_strict[t][1] == "allow"
    }
    matched = sum(1 for t in strict_denied if t in in_perm) + len(in_strict)
    exact = ExactDiff(matched, newly, no_longer) if matched else None
    return GuardianInputs(perm_log, strict_log, exact)


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


def build_guardian(inputs: GuardianInputs) -> tuple[dict, dict]:
    """(summary.guardian, details.guardian) for the report."""
    perm = mode_figures(inputs.permissive, "permissive", deny_enforced=False)
    strict = mode_figures(inputs.strict, "strict", deny_enforced=True)
    delta: dict[str, dict] = {}
    for index, dim in enumerate(DIMENSIONS):
        would, denied = Counter[str](), Counter[str]()
        for combo, n in perm.combos.items():
            would[combo[index]] += n
        for combo, n in strict.combos.items():
            denied[combo[index]] += n
        keys = sorted(set(would) | set(denied), key=lambda k: (-abs(denied[k] - would[k]), k))
        delta[f"by_{dim.removesuffix('_id')}"] = {k: _row(would[k], denied[k], perm, strict) for k in keys}
    combos = set(perm.combos) | set(strict.combos)
    rows = [
        {
            "rule_id": r,
            "tenant": t,
            "action": a,
            **_row(perm.combos[(r, t, a)], strict.combos[(r, t, a)], perm, strict),
        }
        for (r, t, a) in combos
    ]
    rows.sort(key=lambda row: (-abs(row["delta"]), row["rule_id"], row["tenant"], row["action"]))
    new_in_strict = [row for row in rows if row["denied"] and not row["would_deny"]]
    not_reproduced = [row for row in rows if row["would_deny"] and not row["denied"]]
    # The same file may be given for both runs; its malformed lines are counted once.
    strict_apart = set(inputs.strict.files) != set(inputs.permissive.files)
    malformed = inputs.permissive.malformed + (inputs.strict.malformed if strict_apart else 0)
    summary = {
        "permissive": _mode_summary(perm),
        "strict": _mode_summary(strict),
        "delta": delta,
        "new_in_strict": sum(row["denied"] for row in new_in_strict),
        "not_reproduced": sum(row["would_deny"] for row in not_reproduced),
        "malformed_lines": malformed,
        "exact": _exact_summary(inputs.exact),
        "rehearsal": None,
        "estimate": True,
    }
    details = {
        "files": {"permissive": inputs.permissive.files, "strict": inputs.strict.files},
        "note": ESTIMATE_NOTE,
        "by_rule_tenant_action": rows[:COMBO_ROWS],
        "by_rule_tenant_action_truncated": len(rows) > COMBO_ROWS,
        "new_in_strict": new_in_strict,
        "not_reproduced": not_reproduced,
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
            "permissive": dict(perm.decisions_by["tenant"]),
            "strict": dict(strict.decisions_by["tenant"]),
        },
    }
    if inputs.rehearsal_permissive and inputs.rehearsal_strict:
        summary["rehearsal"], details["rehearsal"] = rehearsal_delta(
            inputs.rehearsal_permissive, inputs.rehearsal_strict
        )
    return summary, details


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
        "newly_denied": len(exact.newly_denied),
        "no_longer_denied": len(exact.no_longer_denied),
    }


def _exact_samples(exact: ExactDiff | None) -> dict | None:
    if exact is None:
        return None

    def sample(pairs: dict[str, tuple[TraceInfo, TraceInfo]]) -> list[dict]:
        return [
            {
                "trace_id": trace,
                "tenant": strict[4],
                "action": strict[5],
                "permissive": _decision_text(perm),
                "strict": _decision_text(strict),
            }
            for trace, (perm, strict) in list(pairs.items())[:SAMPLES]
        ]

    return {"newly_denied": sample(exact.newly_denied), "no_longer_denied": sample(exact.no_longer_denied)}


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
        if o in ("failed", "error") and perm_out.get(t) == "passed"
    ]
    fixed = [
        {"test_id": t, "outcome": perm_out[t], "message": perm_messages.get(t, "")}
        for t, o in sorted(strict_out.items())
        if o == "passed" and perm_out.get(t) in ("failed", "error")
    ]
    only_one = len(set(perm_out) ^ set(strict_out))
    summary = {
        "broken_in_strict": len(broken),
        "fixed_in_strict": len(fixed),
        "tests_in_one_run_only": only_one,
    }
    return summary, {"broken_in_strict": broken, "fixed_in_strict": fixed}

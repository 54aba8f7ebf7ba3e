"""Guardian permissive-versus-strict, as Markdown: a section of latest.md and the rehearsal comment."""

from __future__ import annotations

from ..failures import number
from .md import cell, code, plural, table

_DIM_TITLES = {"by_rule": "Rule", "by_tenant": "Tenant", "by_action": "Action"}


def _n(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}".replace(",", " ")


def _int(value: int) -> str:
    return number(value)


def guardian_section(summary: dict | None, details: dict | None, heading: str = "##") -> list[str]:
    out = [f"{heading} Guardian: permissive → strict", ""]
    if not summary:
        return [*out, "_No Guardian decision logs or Prometheus URL were given._", ""]
    if summary.get("permissive") and details:
        out += _logs(summary, details, heading + "#")
    if summary.get("prometheus"):
        out += prometheus_section(summary["prometheus"], heading + "#")
    return out


def _logs(s: dict, d: dict, h: str) -> list[str]:
    perm, strict = s["permissive"], s["strict"]
    out = [
        f"Strict rehearsal: **{_int(strict['denied'])}** of {_int(strict['decisions'])} decisions denied "
        f"({_n(_rate(strict['denied'], strict['decisions']))} per 1 000). Permissive run: "
        f"{_int(perm['would_deny'])} of {_int(perm['decisions'])} would have been denied "
        f"({_n(_rate(perm['would_deny'], perm['decisions']))} per 1 000).",
        "",
        f"_{d['note']}_",
        "",
    ]
    if perm["policy_etags"] != strict["policy_etags"]:
        out += [
            f"**The policy changed between the runs**: permissive ran {_etags(perm['policy_etags'])}, "
            f"strict ran {_etags(strict['policy_etags'])}.",
            "",
        ]
    out += _folded(s.get("folded"))
    out += [f"{h} Read first", ""]
    out += _combo_block(
        f"**New in strict** — {plural(s['new_in_strict'], 'request')} denied under rules/tenants/actions that "
        "never would-deny in permissive",
        d["new_in_strict"],
        d.get("new_in_strict_total"),
        "denied",
    )
    out += _combo_block(
        f"**Not reproduced** — {plural(s['not_reproduced'], 'permissive would-deny decision')} with no strict deny "
        "for the same rule, tenant and action",
        d["not_reproduced"],
        d.get("not_reproduced_total"),
        "would_deny",
    )
    if d.get("rehearsal") is not None:
        out += rehearsal_section(s["rehearsal"], d["rehearsal"], h)
    if s["exact"] is not None:
        e, samples = s["exact"], d["exact_samples"]
        out += [
            f"{h} Exact per-request diff (same trace ids in both runs)",
            "",
            f"{_int(e['matched_requests'])} deny decisions matched by trace id: **{_int(e['newly_denied'])}** requests "
            f"allowed in permissive are denied in strict; {_int(e['no_longer_denied'])} would-denied in permissive "
            "are allowed in strict."
            + (
                f" It covers the traced deny decisions: {_int(e['untraced_denies'])} more were past the bound "
                "on trace ids kept per log."
                if e.get("untraced_denies")
                else ""
            ),
            "",
        ]
        for key, title in (("newly_denied", "Newly denied"), ("no_longer_denied", "No longer denied")):
            if samples[key]:
                out += [f"{title} (samples):", ""]
                out += table(
                    ["Trace", "Tenant", "Action", "Permissive", "Strict"],
                    [
                        [
                            code(x["trace_id"]),
                            cell(x["tenant"]),
                            code(x["action"]),
                            cell(x["permissive"]),
                            cell(x["strict"]),
                        ]
                        for x in samples[key]
                    ],
                    "lllll",
                )
                out.append("")
    for dim, rows in s["delta"].items():
        total = (s.get("delta_total") or {}).get(dim)
        out += [f"{h} By {_DIM_TITLES[dim].lower()}{_showing(len(rows), total, 'largest |Δ| first')}", ""]
        out += table(
            [_DIM_TITLES[dim], "Would deny (permissive)", "Denied (strict)", "Δ", "Per 1 000: permissive",
             "strict", "Δ"],
            [
                [code(key), _int(r["would_deny"]), _int(r["denied"]), f"{r['delta']:+d}", _n(r["would_deny_per_1000"]),
                 _n(r["denied_per_1000"]), _signed(r["delta_per_1000"])]
                for key, r in rows.items()
            ],
        )  # fmt: skip
        out.append("")
    if s["malformed_lines"]:
        out += [
            f"**{plural(s['malformed_lines'], 'malformed log line')}** (not counted); the first ones:",
            "",
        ]
        out += [
            f"- {code(m['file'], in_table=False)} line {m['line']}: {cell(m['reason'])}"
            for m in d["malformed"]
        ]
        out.append("")
    return out


def _showing(listed: int, total: int | None, order: str, sep: str = " — ") -> str:
    """`sep` + "showing N of M (order)" when a table was cut to `listed` rows of `total`; reports
    before schema 1.8 carry no total (their tables were whole)."""
    if total is None or total <= listed:
        return ""
    return f"{sep}showing {_int(listed)} of {_int(total)} ({order})"


def _folded(folded: dict | None) -> list[str]:
    if not folded or not (folded["permissive"] or folded["strict"]):
        return []
    return [
        f"**Too many distinct keys**: a log had more than {_int(folded['keys_max'])} distinct tenant × action × "
        f"rule combinations, so {_int(folded['permissive'])} permissive and {_int(folded['strict'])} strict "
        f"decisions of combinations first seen after that are counted under {code(folded['label'], in_table=False)} "
        "(tenant and action). Every total is exact; the breakdowns do not name those tenants and actions.",
        "",
    ]


def _combo_block(title: str, rows: list[dict], total: int | None, field: str) -> list[str]:
    if not rows:
        return [title + ": none.", ""]
    out = [title + _showing(len(rows), total, "largest first", sep="; ") + ":", ""]
    out += table(
        ["Rule", "Tenant", "Action", "Requests", "Per 1 000"],
        [[code(r["rule_id"]), cell(r["tenant"]), code(r["action"]), _int(r[field]), _n(r[f"{field}_per_1000"])]
         for r in rows],
        "lllrr",
    )  # fmt: skip
    return [*out, ""]


def rehearsal_section(summary: dict, details: dict, h: str) -> list[str]:
    out = [
        f"{h} Tests that break in strict (smoke rehearsal)",
        "",
        f"{plural(summary['broken_in_strict'], 'test')} pass in permissive and fail in strict; "
        f"{summary['fixed_in_strict']} fail in permissive and pass in strict.",
        "",
    ]
    for key, title in (("broken_in_strict", "Break in strict"), ("fixed_in_strict", "Fixed in strict")):
        if details[key]:
            out += [f"{title}:", ""]
            out += table(
                ["Test", "Outcome", "Message"],
                [[code(t["test_id"]), t["outcome"], cell(t["message"]) or "—"] for t in details[key]],
                "lll",
            )
            out.append("")
    return out


def prometheus_section(p: dict, h: str) -> list[str]:
    out = [
        f"{h} Prometheus ({cell(p['url'])}, last {cell(p['window'])} to {p['at_iso']})",
        "",
        "_Counts are PromQL `increase()` over the window: extrapolated, so rounded here._",
        "",
    ]
    if p["decisions"]:
        out += table(
            ["Decision", "Mode", "Decisions"],
            [[code(r["decision"]), cell(r["mode"] or "—"), _int(round(r["value"]))] for r in p["decisions"]],
            "llr",
        )
        out.append("")
    for key, title in (("delta_by_tenant", "tenant"), ("delta_by_action", "action")):
        rows = p.get(key)
        if rows is None:
            out += [f"Deny delta by {title}: not available (no {title} label with this metric preset).", ""]
        elif rows:
            out += [f"Strict deny − permissive would-deny, by {title}:", ""]
            out += table(
                [title.capitalize(), "Δ"], [[cell(r["key"]), f"{round(r['value']):+d}"] for r in rows]
            )
            out.append("")
    if p.get("top_rules"):
        out += ["Top deny rules:", ""]
        out += table(["Rule", "Denies"], [[code(r["key"]), _int(round(r["value"]))] for r in p["top_rules"]])
        out.append("")
    warnings = p.get("warnings") or []
    return out + [f"- {cell(w)}" for w in warnings] + ([""] if warnings else [])


def render_rehearsal_markdown(summary: dict, details: dict) -> str:
    """The standalone nightly rehearsal comment (`healthdeck guardian-delta`)."""
    return "\n".join(guardian_section(summary, details, heading="#")).rstrip() + "\n"


def _rate(count: int, decisions: int) -> float | None:
    return 1000 * count / decisions if decisions else None


def _signed(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1f}"


def _etags(etags: list[str]) -> str:
    return ", ".join(code(e, in_table=False) for e in etags) or "no etag"

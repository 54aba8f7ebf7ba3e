"""The PR comment / step summary: one sticky Markdown comment a bot updates in place.

Always under GitHub's 65 536-character limit: lists are cut (saying so) until it fits, and test
names can never break the Markdown or inject HTML, links or mentions (they are code spans).
"""

from __future__ import annotations

from ..gate import show
from .md import cell, code, coverage_pc, percent, plural, table
from .triage import comment_causes, comment_transitions

MARKER = "<!-- healthdeck:comment -->"
GITHUB_LIMIT = 65_536
TOP_FAILING = 10
TOP_CAUSES = 5
TRANSITION_NAMES = 10  # test names shown per transition list
_ICONS = {"GO": "✅", "NO-GO": "❌", "INCOMPLETE": "⚠️", "PASS": "✅", "FAIL": "❌", "UNKNOWN": "❔"}


def _signed(value: float | None, unit: str = "", digits: int = 2) -> str:
    return "" if value is None else f" ({value:+.{digits}f}{unit} vs base)"


def render_comment(
    summary: dict,
    details: dict,
    *,
    verdict: dict | None,
    baseline: dict | None,
    failures: list[dict],
    smoke_suite: str,
    prod_lanes: tuple[str, ...],
    link: str | None = None,
    limit: int = GITHUB_LIMIT,
) -> str:
    """`failures`: [{suite, test_id, outcome, message, status: new|known|unknown, flaky: bool}]."""
    shown = min(TOP_FAILING, len(failures))
    message_chars = 200
    names = TRANSITION_NAMES
    while True:
        text = _render(
            summary, details, verdict, baseline, failures, shown, message_chars, names, smoke_suite, prod_lanes,
            link,
        )  # fmt: skip
        if len(text) <= limit or (shown == 0 and message_chars == 0 and names == 0):
            return text[:limit] if len(text) > limit else text
        if message_chars > 40:
            message_chars //= 2
        elif shown > 0:
            shown -= 1
        elif names > 0:
            names //= 2
        else:
            message_chars = 0


def _render(
    s, details, verdict, baseline, failures, shown, message_chars, names, smoke_suite, prod_lanes, link
) -> str:
    out = [MARKER]
    where = " · ".join(code(x) for x in (s.get("branch"), s.get("git_sha")) if x)
    if verdict:
        out.append(f"## {_ICONS[verdict['status']]} Release health: **{verdict['status']}** {where}")
    else:
        out.append(f"## Release health {where}")
    out.append("")
    base = baseline or {}
    rows = []
    tests = (s.get("tests") or {}).get(smoke_suite)
    if tests:
        base_rate = ((base.get("tests") or {}).get(smoke_suite) or {}).get("pass_rate")
        d = (
            None
            if tests["pass_rate"] is None or base_rate is None
            else 100 * (tests["pass_rate"] - base_rate)
        )
        rows.append([f"{cell(smoke_suite)} pass rate", percent(tests["pass_rate"]) + _signed(d, " pts"),
                     f"{tests['passed']} passed, {tests['failed']} failed, {tests['errors']} errors, {tests['flaky']} flaky"])  # fmt: skip
    cov = s.get("coverage")
    if cov and cov.get("percent") is not None:
        base_cov = (base.get("coverage") or {}).get("percent")
        d = None if base_cov is None else cov["percent"] - base_cov
        rows.append(
            ["coverage", coverage_pc(cov["percent"], 2) + _signed(d, " pts"), "statements + branches"]
        )
    ruff = s.get("ruff")
    if ruff:
        lanes = ruff["count"].get("lanes")
        if lanes is not None and prod_lanes:
            prod = sum(lanes.get(lane, 0) for lane in prod_lanes)
            base_lanes = ((base.get("ruff") or {}).get("count") or {}).get("lanes")
            d = None if base_lanes is None else prod - sum(base_lanes.get(lane, 0) for lane in prod_lanes)
            rows.append(
                ["ruff (prod lanes)", f"{prod}{_signed(d, '', 0)}", f"{ruff['count']['total']} in all"]
            )
        else:
            base_total = ((base.get("ruff") or {}).get("count") or {}).get("total")
            d = None if base_total is None else ruff["count"]["total"] - base_total
            rows.append(["ruff", f"{ruff['count']['total']}{_signed(d, '', 0)}", "all files"])
    g = s.get("guardian") or {}
    if g.get("permissive"):
        rows.append(["Guardian would-deny → deny",
                     f"{g['permissive']['would_deny']} → {g['strict']['denied']}",
                     f"{g['new_in_strict']} new in strict, {g['not_reproduced']} not reproduced (estimate)"])  # fmt: skip
    if rows:
        out += [*table(["", "now", "detail"], rows, "lll"), ""]
    if verdict:
        failing = [c for c in verdict["conditions"] if c["status"] != "PASS"]
        if failing:
            out += table(
                ["condition", "status", "actual", "threshold"],
                [
                    [
                        cell(c["description"]),
                        f"{_ICONS[c['status']]} {c['status']}",
                        cell(show(c["actual"], c.get("unit", "count"))),
                        cell(show(c["threshold"], c.get("unit", "count"))),
                    ]
                    for c in failing
                ],
                "llrr",
            )
            out.append("")
    if s.get("tests"):
        triage = (details or {}).get("tests") or {}
        out += comment_causes(s["tests"], triage, TOP_CAUSES if names else 0)
        out += comment_transitions(s["tests"], triage, names)
    if failures:
        ordered = sorted(
            failures, key=lambda f: (f["status"] != "new", not f.get("flaky"), f["suite"], f["test_id"])
        )
        out.append(
            f"**Failing tests** ({len(failures)}; new first"
            + (f", top {shown}" if shown < len(failures) else "")
            + "):"
        )
        out.append("")
        for f in ordered[:shown]:
            tags = " ".join(
                t
                for t in (f["status"] if f["status"] == "new" else "", "flaky" if f.get("flaky") else "")
                if t
            )
            message = cell(f["message"][:message_chars]) if message_chars and f["message"] else ""
            out.append(f"- {code(f['test_id'])} ({cell(f['suite'])}, {f['outcome']}{', ' + tags if tags else ''})"
                       + (f": {message}" if message else ""))  # fmt: skip
        if shown < len(failures):
            out.append(f"- … and {plural(len(failures) - shown, 'more failing test')}")
        out.append("")
    out.append(
        f"[Full report]({link})"
        if link
        else "_Full report: `docs/audits/health/latest.md` in the CI artifacts._"
    )
    return "\n".join(out) + "\n"

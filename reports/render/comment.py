"""The PR comment / step summary: one sticky Markdown comment a bot updates in place.

Always under GitHub's 65 536-character limit: lists are cut (saying so) until it fits, and test
names can never break the Markdown or inject HTML, links or mentions (they are code spans).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from ..config import ruff_in_prod
from ..failures import FailureCounts, cause_sizes, number, ordered, outcome_words, total_failing
from ..gate import comparable_coverage, condition_figures, ungated_new_failures, verdict_line
from .md import (
    cell,
    change,
    code,
    count_change,
    coverage_measure,
    coverage_pc,
    located,
    percent,
    plural,
    prose,
    table,
)
from .triage import comment_causes, comment_transitions, short

MARKER = "<!-- healthdeck:comment -->"
GITHUB_LIMIT = 65_536
TOP_FAILING = 10
TOP_CAUSES = 5
TRANSITION_NAMES = 10  # test names shown per transition list
_ICONS = {"GO": "✅", "NO-GO": "❌", "INCOMPLETE": "⚠️", "PASS": "✅", "FAIL": "❌", "UNKNOWN": "❔"}
LISTED_ID_CHARS = 300  # a parametrised test id can be kilobytes long; the comment shows its start


def _signed(value: float | None, unit: str = "", digits: int = 2) -> str:
    if value is None:
        return ""
    return f" ({count_change(value) if digits == 0 else change(value, digits, unit)} vs base)"


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
    report_md: str | None = None,
    limit: int = GITHUB_LIMIT,
    counts: FailureCounts | None = None,
    baseline_ref: dict | None = None,
    base_findings: list[dict] | None = None,
    baseline_gone: dict | None = None,
) -> str:
    """`failures`: [{suite, test_id, outcome, message, status: new|known|unknown, flaky: bool}] (the listed
    ones); `counts`: the exact totals (default: what `failures` and the summary say); `verdict`: the
    gate's stored verdict, None before the gate has run (then the headline never says GO);
    `base_findings`: the baseline's ruff findings, all of them (None: not known), so the new ones lead;
    `baseline_gone`: the run the verdict compared with, looked up in the store and no longer there."""
    counts = counts or FailureCounts(
        total_failing(summary) or len(failures), len(failures),
        sum(f["status"] == "new" for f in failures) if any(f["status"] != "unknown" for f in failures) else None,
        True,
    )  # fmt: skip
    ranked = ordered(failures, cause_sizes(details))
    shown = min(TOP_FAILING, len(ranked))
    message_chars = 200
    names = TRANSITION_NAMES
    while True:
        text = _render(summary, details, verdict, baseline, baseline_ref, ranked, counts, shown, message_chars,
                       names, smoke_suite, prod_lanes, link, report_md, base_findings, baseline_gone)  # fmt: skip
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


def _render(s: dict, details: dict, verdict: dict | None, baseline: dict | None, baseline_ref: dict | None,
            failures: list[dict], counts: FailureCounts, shown: int, message_chars: int, names: int,
            smoke_suite: str, prod_lanes: tuple[str, ...], link: str | None, report_md: str | None,
            base_findings: list[dict] | None, baseline_gone: dict | None) -> str:  # fmt: skip
    """One rendering at the given cuts (rows shown, message length, transition names per list)."""
    out = [MARKER]
    named = [code(x, in_table=False) for x in (s.get("branch"), s.get("git_sha")) if x]
    where = f" {' · '.join(named)}" if named else ""  # no trailing space in a headline without git
    preview = details.get("checklist")
    if verdict:
        out += [f"## {_ICONS[verdict['status']]} Release health: **{verdict['status']}**{where}", ""]
    elif preview and preview["status"] != "GO":
        # A checklist item already fails or is unknown: the headline says so, as `gate` will.
        out += [f"## {_ICONS[preview['status']]} Release health: **{preview['status']}** (not gated yet){where}", "",
                prose(verdict_line(preview, gated=False)) + ".", ""]  # fmt: skip
    else:
        out += [f"## ⏳ Release health: not gated yet{where}", "",
                prose(verdict_line(preview, gated=False)) + ".", ""]  # fmt: skip
    decided = verdict or preview
    out += [_baseline_line(baseline_ref, baseline_gone), ""]
    if warning := ungated_new_failures(decided, counts.new):  # a green check above new failures
        count, _, rest = warning.partition(" against")
        out += [f"> ⚠️ **{count}** against{rest}.", ""]
    if stale := s.get("stale_inputs"):  # the figures below are partly an earlier run's: say so before them
        named = ", ".join(f"{code(e['path'], in_table=False)} ({cell(e['input'])})" for e in stale[:5])
        more = f" and {number(len(stale) - 5)} more" if len(stale) > 5 else ""
        is_, its, it = ("is", "its", "it") if len(stale) == 1 else ("are", "their", "them")
        out += [f"> ⚠️ **Stale inputs:** {named}{more} {is_} older than this commit, so {its} figures below are "
                f"an earlier run's (the step that writes {it} did not run or failed).", ""]  # fmt: skip
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
                     outcome_words(tests)])  # fmt: skip
    cov = s.get("coverage")
    if cov and cov.get("percent") is not None:
        rows.append(_coverage_row(cov, base.get("coverage") or {}))
    ruff = s.get("ruff")
    if ruff:
        prod = ruff_in_prod(s, prod_lanes) if prod_lanes else None
        if prod is not None:
            before = ruff_in_prod(base, prod_lanes)
            unlike = (
                before is None and base.get("ruff") is not None
            )  # the base run had no figure for these lanes (none configured, or others)
            change = (
                " (not counted by lane in the base)"
                if unlike
                else _signed(None if before is None else prod - before, "", 0)
            )
            rows.append(["ruff (prod lanes)", f"{number(prod)}{change}",
                         f"{number(ruff['count']['total'])} in all files" + _first_findings(details, prod_lanes, base_findings)])  # fmt: skip
        else:
            base_total = ((base.get("ruff") or {}).get("count") or {}).get("total")
            d = None if base_total is None else ruff["count"]["total"] - base_total
            rows.append(["ruff", f"{number(ruff['count']['total'])}{_signed(d, '', 0)}",
                         "whole tree" + _first_findings(details, (), base_findings)])  # fmt: skip
    broken = (details.get("compileall") or {}).get("failures") or []
    if broken:  # what an author fixes first: the files that do not even compile
        where = ", ".join(code(located(f) if f["path"] else f["message"]) for f in broken[:3])
        more = f" and {len(broken) - 3} more" if len(broken) > 3 else ""
        rows.append(["compileall failures", number(len(broken)), where + more])
    api = s.get("openapi")
    if api:
        rows.append(["OpenAPI breaking changes", number(api["breaking"]),
                     f"{number(api['non_breaking'])} non-breaking ({cell(api['source'])})"])  # fmt: skip
    g = s.get("guardian") or {}
    if g.get("permissive"):
        rows.append(["Guardian would-deny → deny",
                     f"{number(g['permissive']['would_deny'])} → {number(g['strict']['denied'])}",
                     f"{number(g['new_in_strict'])} new in strict, {number(g['not_reproduced'])} not reproduced (estimate)"])  # fmt: skip
    if rows:
        out += [*table(["", "now", "detail"], rows, "lll"), ""]
    if s.get("missing"):  # a row left out above is not measured, which a reviewer must not read as fine
        out += [f"_Not measured in this run: {', '.join(cell(m) for m in s['missing'])} (not given to "
                "`healthdeck collect`)._", ""]  # fmt: skip
    if decided:
        failing = [c for c in decided["conditions"] if c["status"] != "PASS"]
        if failing:
            passed = len(decided["conditions"]) - len(failing)
            out += [f"_{passed} of {plural(len(decided['conditions']), 'checklist condition')} pass; "
                    f"the {'one that does' if len(failing) == 1 else 'ones that do'} not:_", ""]  # fmt: skip
            out += table(
                ["condition", "status", "actual", "threshold", "why"],
                [
                    [
                        cell(label),
                        f"{_ICONS[c['status']]} {c['status']}",
                        cell(actual),
                        cell(threshold),
                        _why(c, bool(failures) and shown > 0),
                    ]
                    for c in failing
                    for label, actual, threshold in [condition_figures(c)]
                ],
                "llrrl",
            )
            out.append("")
    out += _breaking_api(api, details.get("openapi") or [], TOP_FAILING)
    if s.get("tests"):
        triage = (details or {}).get("tests") or {}
        out += comment_causes(s["tests"], triage, TOP_CAUSES if names else 0)
        listed = frozenset((f["suite"], f["test_id"]) for f in failures[:shown])  # named in the list below
        out += comment_transitions(s["tests"], triage, names, listed)
    if failures or counts.total:
        out += [
            f"**{counts.headline(shown)}**"
            + (" (new first, then the most shared causes)" if shown else "")
            + ":",
            "",
        ]
        for f in failures[:shown]:
            against_base = {"new": "new", "known": "still failing"}.get(f["status"], "")  # vs the baseline
            tags = ", ".join(t for t in (against_base, "flaky" if f.get("flaky") else "") if t)
            message = cell(short(f["message"], message_chars)) if message_chars and f["message"] else ""
            out.append(f"- {code(short(f['test_id'], LISTED_ID_CHARS), in_table=False)} ({cell(f['suite'])}, {f['outcome']}{', ' + tags if tags else ''})"
                       + (f": {message}" if message else ""))  # fmt: skip
        if shown < counts.total:
            more = counts.total - shown
            out.append(f"- … and {number(more)} more failing {'test' if more == 1 else 'tests'}")
        out.append("")
    out.append(
        f"[Full report]({link})"
        if link
        else f"_Full report: {code(report_md or 'latest.md', in_table=False)} in the CI artifacts._"
    )
    return "\n".join(out) + "\n"


def _why(condition: dict, failures_listed: bool) -> str:
    """The condition's detail; new failing tests are not named here when the list below names them."""
    if condition["name"] == "no_new_failures" and condition["status"] == "FAIL" and failures_listed:
        return "marked **new** in the failing tests below"
    return prose(condition["detail"]) or "—"


def _first_findings(
    details: dict, prod_lanes: tuple[str, ...], base: list[dict] | None, shown: int = 3
) -> str:
    """Where the findings the gate counts are, so the author knows what to fix without the artifact: the
    ones the baseline did not have first (matched by file, rule and message, not line, which moves)."""
    listed = (details.get("ruff") or {}).get("findings") or []
    counted = [f for f in listed if not prod_lanes or f["lane"] in prod_lanes]
    if not counted:
        return ""
    label = "first"
    if base is not None:
        before = Counter((f["path"], f["code"], f["message"]) for f in base)
        new = []
        for f in counted:
            key = (f["path"], f["code"], f["message"])
            if before[key]:
                before[key] -= 1
            else:
                new.append(f)
        counted, label = (new, "new") if new else (counted, "none new; first")
    where = ", ".join(f"{code(located(f))} {code(f['code'])}" for f in counted[:shown])
    return f"; {label}: {where}" + (" …" if len(counted) > shown else "")


def _baseline_line(ref: dict | None, gone: dict | None = None) -> str:
    """Which run the changes are against: the same one the stored verdict used, unless asked otherwise.
    `gone`: that run, as the verdict recorded it, asked of the store and no longer there (pruned): that
    is the reason, not "no baseline"."""
    if not ref and gone:
        sha = f" (commit {code(gone['git_sha'], in_table=False)})" if gone.get("git_sha") else ""
        return (f"_The run the verdict compared with, {code(gone['run_key'], in_table=False)}{sha}, is no "
                "longer in the history (pruned?): no changes are shown._")  # fmt: skip
    if not ref:
        return "_No baseline run: no changes are shown._"
    when = (
        datetime.fromtimestamp(ref["ts"], UTC).strftime("%Y-%m-%d %H:%M UTC")
        if ref.get("ts")
        else "unknown time"
    )
    parts = [f"commit {code(ref.get('git_sha') or 'unknown', in_table=False)}",
             f"branch {code(ref.get('branch') or 'unknown', in_table=False)}", when,
             f"run {code(ref['run_key'], in_table=False)}"]  # fmt: skip
    return "_Compared with " + " · ".join(parts) + "._"


def _coverage_row(cov: dict, base: dict) -> list[str]:
    """Coverage now, and its change measured the same way on both sides."""
    measure, key = comparable_coverage(cov, base)
    d = None if base.get(key) is None or cov.get(key) is None else cov[key] - base[key]
    what = coverage_measure(cov)
    if d is not None and key != "percent" and cov.get("branch_measured"):
        what += f"; the change is {measure} ({coverage_pc(cov[key], 2)} now)"
    return ["coverage", coverage_pc(cov["percent"], 2) + _signed(d, " pts"), what]


def _breaking_api(api: dict | None, changes: list[dict], limit: int) -> list[str]:
    breaking = [c for c in changes if c["breaking"]]
    if not api or not breaking:
        return []
    listed = breaking[:limit]
    out = [f"**{plural(api['breaking'], 'breaking OpenAPI change')}**"
           + (f" — showing {len(listed)}" if len(listed) < api["breaking"] else "") + ":", ""]  # fmt: skip
    for c in listed:
        op = " ".join(x for x in (c["method"], c["path"]) if x)
        out.append(f"- {code(c['rule'], in_table=False)} {code(op, in_table=False) if op else ''}"
                   f"{' ' + code(c['location'], in_table=False) if c['location'] else ''}"
                   f": {cell(c['message'])}")  # fmt: skip
    return [*out, ""]


def render_no_report(
    reason: str, link: str | None = None, branch: str | None = None, sha: str | None = None
) -> str:
    """The sticky comment when no report could be built (a test step wrote no JUnit, an input was
    malformed): it replaces an earlier push's verdict, which no longer speaks for this one. `branch` and
    `sha` name the push, as a report's headline does, so overlapping pushes are told apart."""
    reason = code(reason[:2000], in_table=False)
    named = [code(x, in_table=False) for x in (branch, sha[:8] if sha else None) if x]
    where = f" {' · '.join(named)}" if named else ""
    out = [MARKER, f"## ❌ Release health: **no report**{where}", "",
           f"`healthdeck collect` could not build the report for this push: {reason}", "",
           "No verdict: an earlier push's verdict does not speak for this one. Fix what the line above "
           "names (an input's step, the job's set-up or healthdeck's configuration; the job's log says more) "
           "and push again."]  # fmt: skip
    if link:
        out += ["", f"[The job's log]({link})"]
    return "\n".join(out) + "\n"

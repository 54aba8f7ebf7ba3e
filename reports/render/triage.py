"""Failures by cause, transitions against the baseline and slower tests, as Markdown.

Shared by the PR comment (short: the top causes and a few names per list) and latest.md (everything the
report lists). Every count shown is the exact one from the report, never the length of a capped list.
"""

from __future__ import annotations

from ..failures import number, total_failing
from ..stamp import utc_text
from .md import cell, code, plural, table

# Transition lists, in the order a reviewer reads them.
TRANSITIONS = (
    ("new", "New failures"),
    ("fixed", "Fixed"),
    ("still_failing", "Still failing"),
    ("flaky", "Flaky"),
)
ID_CHARS = 120  # a parametrised test id can be kilobytes long


def short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def failing_headline(tests: dict) -> str | None:
    """'10 000 failing tests, 3 causes' over all suites; None when nothing fails."""
    failing = total_failing({"tests": tests})
    if not failing:
        return None
    causes = sum(t.get("causes") or 0 for t in tests.values())
    noun = "failing test" if failing == 1 else "failing tests"
    return f"{number(failing)} {noun}, {number(causes)} {'cause' if causes == 1 else 'causes'}"


def _ranked_causes(details: dict) -> list[tuple[str, dict]]:
    """(suite, cause) over all suites, largest first."""
    rows = [(suite, c) for suite, d in details.items() for c in d.get("causes") or []]
    return sorted(rows, key=lambda sc: (-sc[1]["count"], sc[0], sc[1]["signature"]))


def _new(cause: dict) -> str:
    return {True: "**new**", False: "known", None: "—"}[cause.get("new")]


def middle_cut(text: str, limit: int) -> str:
    """`text` cut in its middle: a signature's end often holds what tells two causes apart (the SSL
    error inside "Max retries exceeded … (Caused by …)"), so two cut causes never read the same."""
    if len(text) <= limit:
        return text
    tail = limit // 3
    return text[: limit - tail - 1] + "…" + text[-tail:]


def _cause_cell(cause: dict, limit: int) -> str:
    label = code(middle_cut(cause["signature"], limit))
    return f"{cell(cause['category'])}: {label}" if cause.get("category") else label


def comment_causes(summary_tests: dict, details: dict, top: int, signature_chars: int = 120) -> list[str]:
    """The comment's lead: the headline and a small table of the top causes."""
    headline = failing_headline(summary_tests)
    if headline is None:
        return []
    ranked = _ranked_causes(details)
    several = len({suite for suite, _ in ranked}) > 1
    out = [f"**{headline}**", ""]
    if ranked and top:
        header = ["Cause", *(["Suite"] if several else []), "Tests", "New?", "Example test"]
        rows = [
            [_cause_cell(c, signature_chars), *([cell(suite)] if several else []), number(c["count"]), _new(c),
             code(short(c["example_test"], ID_CHARS))]
            for suite, c in ranked[:top]
        ]  # fmt: skip
        out += table(header, rows, "l" + ("l" if several else "") + "rll")
        total = sum(t.get("causes") or 0 for t in summary_tests.values())
        if total > min(top, len(ranked)):
            out.append(
                f"\n_Top {min(top, len(ranked))} of {number(total)} causes; the full report lists them._"
            )
        hidden = [c for _, c in ranked[top:] if c.get("new")]  # small, but new: what this change broke
        if hidden:
            named = ", ".join(code(short(c["signature"], 80), in_table=False) for c in hidden[:3])
            more = f" and {number(len(hidden) - 3)} more" if len(hidden) > 3 else ""
            tests = sum(c["count"] for c in hidden)
            out.append(
                f"\n**Also new** ({plural(len(hidden), 'cause')}, {plural(tests, 'test')}): {named}{more}"
            )
        out.append("")
    return out


def comment_transitions(
    summary_tests: dict, details: dict, names: int, listed: frozenset[tuple[str, str]] = frozenset()
) -> list[str]:
    """One line per suite: 'Fixed (2): `a`, `b` · New failures (1): `c` …', against the named baseline.
    Tests in `listed` ((suite, test id) of the failing-tests list that follows) are counted, not named
    again."""
    out = []
    for suite, d in details.items():
        moved = d.get("transitions")
        if not moved:
            continue
        parts = []
        for key, title in TRANSITIONS:
            total = moved[f"{key}_total"]
            if not total:
                continue
            below = sum(1 for t in moved[key] if (suite, t) in listed)
            unnamed = [t for t in moved[key] if (suite, t) not in listed]
            shown = [code(short(t, ID_CHARS), in_table=False) for t in unnamed[:names]]
            more = total - below - len(shown)
            # the tests the list below names first, then the others: '10 in the list below; also `a`, `b`
            # … and 9 980 more' adds up as it is read
            said = f"{number(below)} in the list below" if below else ""
            if shown:
                said += ("; also " if said else "") + ", ".join(shown)
            if more:  # the parts always add up to the count in the title
                said += (
                    f" … and {number(more)} more" if shown else f" and {number(more)} more" if said else ""
                )
            parts.append(f"- **{title} ({number(total)})**" + (f": {said}" if said else ""))
        base = _baseline(moved["baseline"])
        label = f"**{cell(suite)} against {base}**" if len(details) > 1 else f"**Against {base}**"
        out += [label + (":" if parts else ": no failures in either run."), *parts, ""]
    return out


def runner_speed_note(slower: dict) -> str:
    """How the whole run's timing moved (schema 1.8), so that load on the runner is not read as code;
    "" when too few tests were timed in both runs."""
    median = slower.get("median_ratio")
    if median is None:
        return ""
    said = f"The {number(slower['timed_in_both'])} tests timed in both runs took a median {median:.2f}× their baseline time"
    return said + (
        ": the runner as a whole was slower, so part of this list is its speed, not the code."
        if median >= 1.25
        else "."
    )


def _baseline(ref: dict) -> str:
    """`main` `abc12345`, or the run's time when git could not say where it came from."""
    where = " ".join(code(x, in_table=False) for x in (ref.get("branch"), ref.get("git_sha")) if x)
    return where or f"the run of {_when(ref['ts'])} UTC"


def _when(ts: int) -> str:
    return utc_text(ts)


def markdown_suite(suite: str, summary: dict, details: dict, sha: str | None = None) -> list[str]:
    """latest.md, per suite: every listed cause with its tests, the transitions, slower tests. `sha`: the
    run's commit, to say when the baseline is the same one (then only the runner's timing differs)."""
    out: list[str] = []
    causes = details.get("causes") or []
    if causes:
        failing = summary["failed"] + summary["errors"]
        out += [f"### Failures by cause — {cell(suite)}", "",
                f"{number(failing)} failing {'test' if failing == 1 else 'tests'}, "
                f"{plural(summary['causes'], 'cause')}. A cause is the exception type and message with numbers, "
                "ids, addresses, paths and times replaced by placeholders.", ""]  # fmt: skip
        # Columns nothing fills (no categories configured, no history read) are left out.
        columns = [
            ("#", "r", lambda i, c: i),
            ("Cause", "l", lambda i, c: code(c["signature"])),
            ("Category", "l", lambda i, c: cell(c["category"] or "—")),
            ("Tests", "r", lambda i, c: number(c["count"])),
            ("New?", "l", lambda i, c: _new(c)),
            ("First seen", "l", lambda i, c: _first_seen(c["first_seen"])),
            ("Example message", "l", lambda i, c: cell(c["example_message"]) or "—"),
        ]
        optional = {"Category": "category", "New?": "new", "First seen": "first_seen"}
        columns = [col for col in columns if col[0] not in optional or any(c[optional[col[0]]] is not None
                                                                           for c in causes)]  # fmt: skip
        out += table(
            [name for name, _, _ in columns],
            [[render(i, c) for _, _, render in columns] for i, c in enumerate(causes, 1)],
            "".join(align for _, align, _ in columns),
        )
        if details.get("causes_total", len(causes)) > len(causes):
            out.append(f"\n_Showing the {len(causes)} largest of {number(details['causes_total'])} causes._")
        out.append("")
        for i, c in enumerate(causes, 1):
            shown = [code(t, in_table=False) for t in c["tests"]]
            more = c["count"] - len(shown)
            tests = f"{number(c['count'])} test{'' if c['count'] == 1 else 's'}"
            out.append(f"- Cause {i}, {tests}: " + ", ".join(shown)
                       + (f" … and {number(more)} more" if more else ""))  # fmt: skip
        out.append("")
    moved = details.get("transitions")
    if moved:
        out += [
            f"### Against the baseline — {cell(suite)}",
            "",
            f"Baseline: {_baseline(moved['baseline'])}.",
            "",
        ]
        for key, title in TRANSITIONS:
            total = moved[f"{key}_total"]
            listed = moved[key]
            line = f"- **{title} ({number(total)})**" + (
                ": " + ", ".join(code(t, in_table=False) for t in listed) if listed else ""
            )
            out.append(line + (f" … and {number(total - len(listed))} more" if total > len(listed) else ""))
        out.append("")
    slower = details.get("duration_regressions")
    if slower and slower["tests_total"]:
        out += [f"### Slower than the baseline — {cell(suite)}", "",
                f"Tests taking at least {slower['floor_seconds']:g} s and {slower['ratio']:g}× their time in "
                f"{_baseline(slower['baseline'])}: {number(slower['tests_total'])}."
                + (" The baseline is this same commit: the code did not change, the runner's timing did."
                   if sha and slower["baseline"].get("git_sha") and sha.startswith(slower["baseline"]["git_sha"])
                   else "") + (f" {note}" if (note := runner_speed_note(slower)) else ""), ""]  # fmt: skip
        out += table(
            ["Test", "Seconds", "Baseline", "Ratio"],
            [[code(x["test_id"]), f"{x['seconds']:.3f}", f"{x['baseline_seconds']:.3f}", f"{x['ratio']:.1f}×"]
             for x in slower["tests"]],
        )  # fmt: skip
        if slower["tests_total"] > len(slower["tests"]):
            out.append(f"\n_Showing {len(slower['tests'])} of {number(slower['tests_total'])}._")
        out.append("")
    if slower and slower.get("unrecorded"):
        out += [f"_{cell(suite)}: {unrecorded_note(slower)}_", ""]
    if moved and slower is None:  # compared, but not for time: "nothing got slower" would be a guess
        out += [
            f"_{cell(suite)}: test durations not compared — the baseline holds none (a report file, or a "
            "run stored before durations were kept); a baseline from the history store has them._",
            "",
        ]
    return out


def unrecorded_note(slower: dict) -> str:
    """Why tests that are slow now may be missing from the slower list: their baseline time is unknown."""
    n = slower["unrecorded"]
    return (f"{number(n)} {'test' if n == 1 else 'tests'} taking at least {slower['floor_seconds']:g} s now "
            f"{'has' if n == 1 else 'have'} no recorded time in the baseline (under "
            f"{slower['floor_seconds'] / 2:g} s then, or new), so whether {'it is' if n == 1 else 'they are'} "
            "slower is not known")  # fmt: skip


def _first_seen(ref: dict | None) -> str:
    if not ref:
        return "—"
    return " ".join([_when(ref["ts"]), *([code(ref["git_sha"])] if ref.get("git_sha") else [])])

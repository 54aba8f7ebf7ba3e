"""The release go/no-go review as Markdown: a candidate run against a baseline, to keep with the decision."""

from __future__ import annotations

import re

from ..failures import number
from ..gate import condition_figures
from ..history.metrics import describe
from .md import cell, change, code, count_change, coverage_pc, table

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:
    from ..history.baselines import NewFailures


def unit_of(metric: str) -> str:
    """How a stored figure reads: pass rates are fractions, coverage is percent, the rest are counts."""
    if metric.endswith(".pass_rate"):
        return "fraction"
    if metric.startswith("coverage.") and metric.endswith("percent"):
        return "percent"
    return "count"


def figure(value: float | None, unit: str, signed: bool = False) -> str:
    """A figure rounded to its unit's precision; a change reads "+1.20 pts", "−3" or "no change"."""
    if value is None:
        return "—"
    if unit in ("fraction", "percent"):
        shown = value * 100 if unit == "fraction" else value
        # never "100.00 %" while a test failed or a line is uncovered, as in latest.md and the comment
        return change(shown) if signed else coverage_pc(shown, 2)
    return count_change(value) if signed else number(round(value))


ORDER = ("tests", "coverage", "ruff", "compileall", "guardian")


def metric_deltas(candidate: dict[str, float], baseline: dict[str, float]) -> list[dict]:
    """Every headline figure of either run with its change (per-file coverage left out), the numbers
    and, under `shown`, the same rounded to the figure's unit."""
    names = sorted(
        (
            n
            for n in set(candidate) | set(baseline)
            if not n.startswith(("coverage.file.", "ruff.rule.")) and not _against_own_baseline(n)
        ),
        key=lambda n: (ORDER.index(k) if (k := n.partition(".")[0]) in ORDER else len(ORDER), describe(n)[0]),
    )  # as the checklist reads: tests, then coverage, lint, compile, Guardian; by name within each
    rows = []
    for n in names:
        before, now, unit = baseline.get(n), candidate.get(n), unit_of(n)
        change = None if now is None or before is None else now - before
        words, better = describe(n)
        judged = (
            None
            if not change or better is None
            else "better"
            if (change > 0) == (better == "higher")
            else "worse"
        )
        shown_change = figure(change, unit, signed=True)
        if judged and shown_change != "no change":  # a change the rounding hides is judged neither way
            shown_change += f" ({judged})"
        rows.append({"metric": n, "label": words, "baseline": before, "candidate": now, "change": change, "unit": unit,
                     "judged": judged, "shown": {"baseline": figure(before, unit), "candidate": figure(now, unit),
                                                 "change": shown_change}})  # fmt: skip
    return rows


# the transition and slower-test figures of a suite (a suite may be named "transitions", or hold dots)
_OWN_BASELINE = re.compile(r"tests\..+\.(transitions\.(new|fixed|still_failing|flaky)|duration_regressions)")


def _against_own_baseline(name: str) -> bool:
    """A figure each run counted against the baseline its own gate compared it with (new, fixed, still
    failing, slower tests): set side by side under the review's baseline, "new failures 3" contradicted
    the review's own count against the release. The review's comparison is its New failures section."""
    return bool(_OWN_BASELINE.fullmatch(name))


UNKNOWN_NEW = (
    "The baseline did not run a suite that fails in the candidate, so it cannot tell which failures are new."
)


def render_review(
    candidate: dict,
    baseline: dict | None,
    verdicts: tuple[dict, dict | None],
    deltas: list[dict],
    new_failures: NewFailures | None,
) -> str:
    """`candidate`/`baseline`: {label, summary}; `verdicts`: the candidate's and the baseline's, each as
    `healthdeck gate` gave it, or marked `evaluated_here` for a run nobody gated."""
    now, before = verdicts
    out = [
        f"# Release review: {cell(candidate['label'])}",
        "",
        f"Baseline: {cell(baseline['label'])}" + (f" — {given(before)}" if before else "")
        if baseline
        else "Baseline: none — no release and no earlier run of its branch in the history store; the "
        "candidate is shown alone (`--baseline SPEC` names one).",
        "",
        f"**Verdict: {now['status']}**"
        + (" (blocks the release)" if now["blocks"] else "")
        + f" — {given(now)}",
        "",
    ]
    rows = []
    old = {c["name"]: c for c in (before or {}).get("conditions", [])}
    for c in now["conditions"]:
        label, actual, threshold = condition_figures(c)
        if c.get("unit") == "commit":  # each side is judged against its own checkout, not the candidate's
            threshold = "the commit checked out"
        prior = old.get(c["name"])
        rows.append([cell(label), cell(threshold),
                     f"{prior['status']} {cell(condition_figures(prior)[1])}" if prior else "—",
                     f"{c['status']} {cell(actual)}"])  # fmt: skip
    if rows:
        out += [*table(["Condition", "Threshold", "Baseline", "Candidate"], rows, "lrll"), ""]
    out += ["## Every figure", ""]
    out += table(
        ["Figure", "Baseline", "Candidate", "Change"],
        [[cell(d["label"]), d["shown"]["baseline"], d["shown"]["candidate"], d["shown"]["change"]] for d in deltas],
    )  # fmt: skip
    if baseline is None:
        out += ["", "## New failures", "", "No baseline: nothing to compare with."]
    elif new_failures is None:
        out += ["", "## New failures: unknown", "", UNKNOWN_NEW]
    else:
        out += ["", f"## New failures ({number(new_failures.count)})", ""]
        out += [f"- {code(t, in_table=False)} ({cell(s)})" for s, t in new_failures.named] or [
            "None: every failing test of the candidate also failed in the baseline."
        ]
        if new_failures.count > len(new_failures.named):  # the count is every one, the list the first
            out += [f"- … and {number(new_failures.count - len(new_failures.named))} more"]
    return "\n".join(out) + "\n"


def given(verdict: dict) -> str:
    """How the verdict came to be: evaluated here, or as gated (and against which run, when it had one)."""
    if verdict.get("evaluated_here"):
        return "the checklist evaluated here: this run was never gated"
    ref = verdict.get("baseline") or {}
    against = ref.get("git_sha") or ref.get("spec") or ref.get("run_key")
    where = f" on {ref['branch']}" if against and ref.get("branch") else ""
    return f"as gated, against {against}{where}" if against else "as gated"

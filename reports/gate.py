"""The go/no-go verdict: the release checklist (reports.config.GateConfig) against one report.

Each item is PASS, FAIL or UNKNOWN (its input is missing; the detail names the flag that supplies it)
with the actual figure and the threshold. The verdict is NO-GO when any item fails, INCOMPLETE when
none fails but some are unknown, GO otherwise. INCOMPLETE blocks the release unless `unknown_blocks`
is off, and never when nothing at all could be evaluated: GO needs evidence.
"""

from __future__ import annotations

import math
import time

from healthdeck.collectors.records import Record

from .config import GateConfig
from .failures import collection_errors, number
from .render.md import change, display_covered, percent, plural

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:
    from collections.abc import Callable

    from .history.baselines import NewFailures

PASS, FAIL, UNKNOWN = "PASS", "FAIL", "UNKNOWN"
GO, NO_GO, INCOMPLETE = "GO", "NO-GO", "INCOMPLETE"
NOT_GATED = "not gated"  # a run `healthdeck gate` has not decided on
DEFAULT_MAX_AGE_HOURS = 24  # "health artifacts current" outside a git work tree

# What to give `healthdeck collect` for each input an item needs (named in the UNKNOWN detail).
SUPPLY = {
    "tests": "give `healthdeck collect --junit smoke=PATH` (JUnit XML)",
    "ruff": "give `healthdeck collect --ruff PATH` (ruff check --output-format json)",
    "compileall": "give `healthdeck collect --compileall PATH` (python -m compileall -q output)",
    "openapi": (
        "give `healthdeck collect --openapi BASE HEAD` (two spec files) or `--openapi-report FILE`; "
        "no HTTP API: set `openapi_breaking_max = false` in [tool.healthdeck.gates]"
    ),
    "coverage": "give `healthdeck collect --coverage PATH`",
    "guardian": "give `healthdeck collect --guardian-permissive LOG --guardian-strict LOG`",
    # the first run of a branch or of a fresh runner (docs/github-actions.md, "The first run")
    "baseline": (
        "to compare a pull request with its base branch, give `collect --baseline branch:BASE` (a stored "
        "run), `report:PATH` (its artifact) or `git:REF` (a committed report)"
    ),
}


def no_baseline(summary: dict, asked: str | None, having: str = "") -> str:
    """Why there is no baseline, and what gives one. With the default baseline (the branch's previous
    run) on a branch's first run, advice to record a run of the branch read as a contradiction: this
    run is that record, and the next one compares with it."""
    branch = summary.get("branch")
    if asked and asked != "previous":
        first = f"no run{having} matches the baseline {asked}"
    elif branch:
        first = f"no earlier run of {branch}{having} to compare with (the next run compares with this one)"
    else:
        first = f"no run{having} to compare with"
    return f"{first}; {SUPPLY['baseline']}"


class Condition(Record):
    name: str
    description: str
    status: str
    actual: float | int | str | None
    threshold: float | int | str | None
    detail: str = ""
    unit: str = "count"  # count | fraction | percent | points | hours: how to show actual and threshold


def show(value: float | int | str | None, unit: str) -> str:
    """A condition figure for people: 0.9967 as '99.67 %', 1.5 points as '1.50 pts'."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return {
        "fraction": percent(value),
        "percent": f"{display_covered(value, 2)} %",
        "points": f"{value:.2f} pts",
        # tenths rounded up: an age just past the limit never reads as the limit ("24.0 h vs 24.0 h")
        "hours": f"{math.ceil(round(value * 10, 6)) / 10:.1f} h",
    }.get(unit, f"{value:g}")


def condition_figures(c: dict) -> tuple[str, str, str]:
    """(label, actual, threshold) as a person reads them. A drop is shown as the change it is:
    coverage going from 90 to 91 % is "coverage change +1.00 pts", never "drop −1.00 pts"."""
    unit = c.get("unit", "count")
    if c["name"] == "coverage_drop":
        actual = "—" if c["actual"] is None else change(-c["actual"])
        return "coverage change vs baseline", actual, f"no drop over {show(c['threshold'], unit)}"
    return c["description"], show(c["actual"], unit), show(c["threshold"], unit)


def against(c: dict) -> str:
    """What a condition is held against, for "actual (threshold X)": a commit is no threshold."""
    return "checked out" if c.get("unit") == "commit" else "threshold"


def smoke_suite(summary: dict, configured: str) -> tuple[str | None, str]:
    """The suite the checklist calls smoke, and a note when it is not the configured name.

    The configured `smoke_suite` when the report has it; otherwise the only suite, saying so; with
    several suites and none of that name there is no smoke suite (None, and why).
    """
    tests = summary.get("tests") or {}
    if configured in tests:
        return configured, ""
    if len(tests) == 1:
        only = next(iter(tests))
        return only, f"suite {only!r}: the only suite (no suite named {configured!r})"
    if not tests:
        return None, f"no test results; {SUPPLY['tests']}"
    return None, (
        f"no suite named {configured!r} among {', '.join(sorted(tests))}: set [tool.healthdeck] smoke_suite "
        "or name the suite in --junit"
    )


def smoke_name(summary: dict, configured: str) -> str:
    """The smoke suite's name for figures: `smoke_suite`'s, else the configured name, so a figure shows
    as unknown rather than as some other suite's (badges, the comment, history show)."""
    return smoke_suite(summary, configured)[0] or configured


def pass_rate_minimums(gates: GateConfig, summary: dict, configured: str) -> dict[str, float]:
    """The pass rate the checklist asks of each suite it judges: the smoke suite's (its own `pass_rate_min`,
    else `smoke_pass_rate_min`, unless that item is dropped) and each other suite's `pass_rate_min`.
    Suites the checklist does not judge are absent."""
    minimums = dict(gates.pass_rate_min)
    suite = smoke_suite(summary, configured)[0]
    if gates.smoke_pass_rate_min is not None and suite is not None:
        minimums[suite] = gates.pass_rate_min.get(suite, gates.smoke_pass_rate_min)
    return minimums


def evaluate(
    summary: dict,
    gates: GateConfig,
    prod_lanes: tuple[str, ...],
    *,
    baseline: dict | None = None,
    new_failures: NewFailures | None = None,
    now: float | None = None,
    smoke: str = "smoke",
    checkout: str | None = None,
    asked: str | None = None,
    report_only_since: bool = False,
) -> dict:
    """The verdict as a JSON-ready dict.

    `new_failures` is None when there is no baseline to compare. `smoke` is the configured smoke suite.
    `checkout` is the commit checked out where the gate runs (None outside a git work tree): the report
    is current when it was made from that commit; without one, when it is at most max_age_hours old.
    `asked`: the baseline spec asked for, to say why none was found. `report_only_since`: the commits
    from the report's to the checkout change nothing but the report's own folder (it was committed).
    """
    now = time.time() if now is None else now  # a pinned 0 is a time too
    conditions: list[Condition] = []
    add = conditions.append
    if gates.smoke_pass_rate_min is not None:
        add(_smoke(summary, gates, smoke))
    for suite, minimum in gates.pass_rate_min.items():
        if gates.smoke_pass_rate_min is not None and suite == smoke_suite(summary, smoke)[0]:
            continue  # the smoke item above already used this suite's threshold
        add(_pass_rate(summary, suite, minimum))
    if gates.ruff_prod_max is not None:
        add(_prod("ruff_prod", "ruff findings in prod lanes", summary.get("ruff"), prod_lanes, gates.ruff_prod_max,
                  lambda s: s["count"]["lanes"], lambda s: s["count"]["total"], "ruff",
                  "ruff input is statistics only (no files); give ruff --output-format json"))  # fmt: skip
    if gates.compileall_prod_max is not None:
        add(_prod("compileall_prod", "compileall failures in prod lanes", summary.get("compileall"), prod_lanes,
                  gates.compileall_prod_max, lambda s: s["lanes"], lambda s: s["failures"], "compileall", ""))  # fmt: skip
    if gates.report_current:
        add(_current(summary, checkout, age_limit_hours(gates), now, report_only_since))
    elif gates.max_age_hours is not None:
        age = round((now - summary["ts"]) / 3600, 2) if summary.get("ts") else None
        add(_compare("freshness", "report age", age, gates.max_age_hours, at_least=False, unit="hours"))
    if gates.openapi_breaking_max is not None:
        api = summary.get("openapi")
        add(_compare("openapi_breaking", "breaking OpenAPI changes", api["breaking"] if api else None,
                     gates.openapi_breaking_max, at_least=False,
                     detail=f"{api['source']}; {api['non_breaking']} non-breaking"
                     + ("; each is listed in latest.md and the comment" if api["breaking"] else "") if api
                     else f"no OpenAPI input; {SUPPLY['openapi']}"))  # fmt: skip
    coverage = (summary.get("coverage") or {}).get("percent")
    if gates.coverage_min is not None:
        add(_compare("coverage_min", "coverage (coverage.py total)", coverage, gates.coverage_min, at_least=True,
                     detail="" if coverage is not None else f"no coverage data; {SUPPLY['coverage']}",
                     unit="percent"))  # fmt: skip
    if gates.coverage_drop_max is not None:
        add(_coverage_drop(summary, baseline, gates.coverage_drop_max, asked))
    if gates.no_new_failures:
        add(_new_failures(summary, new_failures, baseline, asked))
    if gates.guardian_new_in_strict_max is not None:
        g = summary.get("guardian") or {}
        value = g.get("new_in_strict") if g.get("permissive") else None
        add(_compare("guardian_new_in_strict", "Guardian denies new in strict", value, gates.guardian_new_in_strict_max,
                     at_least=False, detail="" if value is not None else f"no Guardian decision logs; {SUPPLY['guardian']}"))  # fmt: skip
    if not conditions:
        add(Condition("checklist", "release checklist", UNKNOWN, None, None,
                      "every item is dropped in [tool.healthdeck.gates]: nothing to decide on"))  # fmt: skip
    statuses = [c.status for c in conditions]
    status = NO_GO if FAIL in statuses else INCOMPLETE if UNKNOWN in statuses else GO
    evaluated = sum(s != UNKNOWN for s in statuses)
    return {
        "status": status,
        # unknown_blocks = false lets an unknown item through, never a checklist with no evidence at all
        "blocks": status == NO_GO or (status == INCOMPLETE and (gates.unknown_blocks or not evaluated)),
        "unknown_blocks": gates.unknown_blocks,
        "evaluated": evaluated,
        "conditions": [c._asdict() for c in conditions],
        "evaluated_at": int(now),
    }


def _smoke(summary: dict, gates: GateConfig, configured: str) -> Condition:
    suite, note = smoke_suite(summary, configured)
    if suite is None:
        return Condition("smoke_pass_rate", f"{configured} pass rate", UNKNOWN, None, gates.smoke_pass_rate_min,
                         note, "fraction")  # fmt: skip
    minimum = pass_rate_minimums(gates, summary, configured)[suite]
    condition = _pass_rate(summary, suite, minimum)
    detail = "; ".join(x for x in (note, condition.detail) if x)
    return Condition("smoke_pass_rate", f"smoke pass rate ({suite})", condition.status, condition.actual,
                     minimum, detail, "fraction")  # fmt: skip


def _pass_rate(summary: dict, suite: str, minimum: float) -> Condition:
    t = (summary.get("tests") or {}).get(suite)
    rate = (t or {}).get("pass_rate")
    if t is None:
        detail = f"no {suite} results; give `healthdeck collect --junit {suite}=PATH`"
    elif rate is None and not any(t.get(k) for k in ("total", "skipped", "xfailed", "xpassed")):
        detail = "the suite holds no tests; check the test path or selection (pytest exits 5 when it collects none)"
    elif rate is None:
        detail = "no test ran (every test skipped or xfailed)"
    else:  # imported past reports may lack the counts
        detail = ", ".join(f"{number(t[k])} {'error' if k == 'errors' and t[k] == 1 else k}"
                           for k in ("passed", "failed", "errors") if k in t)  # fmt: skip
        if t.get("collection_errors"):
            detail += f"; {collection_errors(t['collection_errors'])}"
    return _compare(f"pass_rate.{suite}", f"{suite} pass rate", rate, minimum, at_least=True, detail=detail,
                    unit="fraction")  # fmt: skip


def made_from(summary: dict, checkout: str) -> bool:
    """Whether the report was made from commit `checkout` (either may be abbreviated). A pull-request
    run is keyed by the PR head but checks out and tests GitHub's merge commit: either counts."""
    tested = [
        c for c in (summary.get("git_sha_full") or summary.get("git_sha"), summary.get("merge_sha")) if c
    ]
    return any(checkout.startswith(c) or c.startswith(checkout) for c in tested)


def _current(
    summary: dict, checkout: str | None, max_age: float, now: float, report_only_since: bool
) -> Condition:
    """Inside a git work tree: made from the checked-out commit. Elsewhere: young enough."""
    name, description = "report_current", "health report is current"
    if checkout:
        made = summary.get("git_sha_full") or summary.get("git_sha")
        if not made:
            return Condition(name, description, UNKNOWN, None, checkout[:8],
                             "the report names no commit, so it cannot be matched to the checkout")  # fmt: skip
        ok, merge = made_from(summary, checkout), summary.get("merge_sha")
        detail = (
            "made from the checked-out commit" if ok else "made from another commit than the one checked out"
        )
        shown = made[:8]
        if not ok and report_only_since:  # the report, committed after it was made: the same code
            ok, detail = (
                True,
                "made from an earlier commit; the commits since change only the report's folder",
            )
        if ok and merge and not made_from({"git_sha": made}, checkout):
            detail = f"made from the checked-out merge commit of pull request head {made[:8]}"
            shown = f"{made[:8]} (merge {merge[:8]})"  # the head names the run everywhere else
        if ok and str(summary.get("version") or "").endswith("-dirty"):
            detail += ", with uncommitted changes to tracked files"
        if ok and (stale := summary.get("stale_inputs")):  # the commit is right, some figures are not its
            from .stamp import stale_text

            more = f" (and {plural(len(stale) - 1, 'more input')})" if len(stale) > 1 else ""
            return Condition(name, description, FAIL, f"{shown} + {plural(len(stale), 'stale input')}", checkout[:8],
                             f"made from the checked-out commit, but {stale_text(stale[0])}{more}", "commit")  # fmt: skip
        return Condition(name, description, PASS if ok else FAIL, shown, checkout[:8], detail, "commit")
    age = round((now - summary["ts"]) / 3600, 2) if summary.get("ts") else None
    return _compare(name, description, age, max_age, at_least=False, unit="hours",
                    detail=f"no commit could be read (not a git work tree, one with no commit yet, or one git refuses to read): the report must be at most {max_age:g} h old")  # fmt: skip


def _coverage_drop(summary: dict, baseline: dict | None, maximum: float, asked: str | None) -> Condition:
    """Like for like: statements-only on both sides unless both measured branches."""
    now, base = summary.get("coverage") or {}, (baseline or {}).get("coverage") or {}
    measure, key = comparable_coverage(now, base)
    if base.get("percent") is None:
        why = no_baseline(summary, asked, " with coverage")
    elif now.get("percent") is None:
        why = f"no coverage data; {SUPPLY['coverage']}"
    else:
        why = ""
    if not why and (base.get(key) is None or now.get(key) is None):
        why = f"no {measure} figure on both sides"
    drop = None if why else round(base[key] - now[key], 4)
    detail = why or f"{measure}: baseline {base[key]:.2f} %, now {now[key]:.2f} %"
    return _compare("coverage_drop", "coverage drop vs baseline", drop, maximum, at_least=False, detail=detail,
                    unit="points")  # fmt: skip


def comparable_coverage(now: dict, base: dict) -> tuple[str, str]:
    """The measure both coverage summaries share: (label, summary key)."""
    if "branch_measured" not in now or "branch_measured" not in base:  # a report that predates the split
        return "coverage as reported", "percent"
    if now.get("branch_measured") and base.get("branch_measured"):
        return "statements + branches", "percent"
    if now.get("branch_measured") or base.get("branch_measured"):
        return "statements only (branches were measured on one side only)", "statements_percent"
    return "statements only (branches not measured)", "statements_percent"


def _new_failures(
    summary: dict, new_failures: NewFailures | None, baseline: dict | None, asked: str | None
) -> Condition:
    if new_failures is None or not summary.get("tests"):
        if not summary.get("tests"):
            reason = f"no tests in the report; {SUPPLY['tests']}"
        elif baseline is not None:
            failing = [suite for suite, t in summary["tests"].items() if t.get("failed") or t.get("errors")]
            absent = [suite for suite in failing if suite not in (baseline.get("tests") or {})]
            reason = "the baseline cannot tell which failures are new: " + (
                f"{', '.join(absent)} did not run there" if absent
                else "its list of failing tests was cut (max_failing_listed)"
            )  # fmt: skip
        else:
            reason = no_baseline(summary, asked)
        return Condition("no_new_failures", "new failing tests vs baseline", UNKNOWN, None, 0, reason)
    count = new_failures.count
    shown = ", ".join(new_failures.labels()[:5]) + (" …" if count > 5 else "")
    return _compare("no_new_failures", "new failing tests vs baseline", count, 0, at_least=False,
                    detail=shown)  # fmt: skip


def _compare(
    name: str,
    description: str,
    actual: float | int | None,
    threshold: float | int,
    *,
    at_least: bool,
    detail: str = "",
    unit: str = "count",
) -> Condition:
    if actual is None:
        return Condition(name, description, UNKNOWN, None, threshold, detail or "no data", unit)
    ok = actual >= threshold if at_least else actual <= threshold
    return Condition(name, description, PASS if ok else FAIL, actual, threshold, detail, unit)


def _prod(
    name: str,
    description: str,
    section: dict | None,
    prod_lanes: tuple[str, ...],
    maximum: int,
    lanes_of: Callable[[dict], dict[str, int]],
    total_of: Callable[[dict], int],
    input_name: str,
    no_lanes: str,
) -> Condition:
    """Findings in the prod lanes; with no prod lanes configured the whole tree is prod."""
    if section is None:
        return Condition(
            name, description, UNKNOWN, None, maximum, f"no {input_name} input; {SUPPLY[input_name]}"
        )
    if not prod_lanes:
        actual = total_of(section)
        return Condition(name, description, PASS if actual <= maximum else FAIL, actual, maximum,
                         "whole tree (no prod_lanes configured)")  # fmt: skip
    lanes = lanes_of(section)
    if lanes is None:
        return Condition(name, description, UNKNOWN, None, maximum, no_lanes)
    missing = [lane for lane in prod_lanes if lane not in lanes]
    if missing:
        return Condition(
            name,
            description,
            UNKNOWN,
            None,
            maximum,
            f"lanes not configured when collected: {', '.join(missing)}",
        )
    actual = sum(lanes[lane] for lane in prod_lanes)
    return Condition(name, description, PASS if actual <= maximum else FAIL, actual, maximum,
                     ", ".join(f"{lane} {lanes[lane]}" for lane in prod_lanes))  # fmt: skip


def junit_xml(verdict: dict) -> str:
    """The verdict as JUnit XML (one testcase per condition) so any CI UI shows it."""
    from xml.sax.saxutils import quoteattr

    cases = []
    failures = errors = skipped = 0
    for c in verdict["conditions"]:
        head = f'<testcase classname="healthdeck.gate" name={quoteattr(c["name"])}>'
        label, actual, threshold = condition_figures(c)
        text = quoteattr(f"{label}: {actual} vs threshold {threshold}. {c['detail']}".strip())
        if c["status"] == FAIL:
            failures += 1
            cases.append(f"{head}<failure message={text}/></testcase>")
        elif c["status"] == UNKNOWN and verdict["unknown_blocks"]:
            errors += 1
            cases.append(f"{head}<error message={text}/></testcase>")
        elif c["status"] == UNKNOWN:
            skipped += 1
            cases.append(f"{head}<skipped message={text}/></testcase>")
        else:
            cases.append(f"{head}</testcase>")
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<testsuites><testsuite name="healthdeck gate" tests="{len(cases)}" failures="{failures}" '
        f'errors="{errors}" skipped="{skipped}">' + "".join(cases) + "</testsuite></testsuites>\n"
    )


def ungated_new_failures(verdict: dict | None, new: int | None) -> str | None:
    """The warning a GO needs when tests fail now that did not in the baseline and the checklist in
    force does not gate new failures (the default one does not): said wherever the GO is (the gate's
    log, latest.md, the comment), so a green verdict never hides them. None otherwise."""
    if not verdict or verdict["status"] != GO or not new:
        return None
    if any(c["name"] == "no_new_failures" for c in verdict.get("conditions", [])):
        return None
    return (f"{number(new)} new failing test{'' if new == 1 else 's'} against the baseline: this checklist "
            "does not gate new failures (`no_new_failures = true` in `[tool.healthdeck.gates]` would)")  # fmt: skip


def ungated_status(evaluated: str) -> str:
    """What to call a run nobody gated, from the checklist evaluated on it: a failing checklist is NO-GO
    whoever evaluates it; anything else is "not gated" — never GO, since GO is the gate's to give."""
    return NO_GO if evaluated == NO_GO else NOT_GATED


def ungated_word(evaluated: str | None) -> str:
    """How a badge or a table names a run nobody gated, from the checklist evaluated on it: its word with
    "(not gated)" ("NO-GO (not gated)", "INCOMPLETE (not gated)"), except GO, the gate's to give."""
    return NOT_GATED if evaluated in (None, GO) else f"{evaluated} (not gated)"


def age_limit_hours(gates: GateConfig) -> float | None:
    """How old a report may be under the checklist in force (None: any age). `report_current` checks the
    commit inside a git work tree and this age outside one, e.g. where a dashboard serves."""
    if gates.report_current:
        return gates.max_age_hours or DEFAULT_MAX_AGE_HOURS
    return gates.max_age_hours


def verdict_line(verdict: dict | None, gated: bool) -> str:
    """One line a log or summary can carry next to the figures, so healthy-looking figures always come
    with the verdict they imply. Before `healthdeck gate` has run it never says GO."""
    if verdict is None:
        return "verdict: not gated yet — run `healthdeck gate`"
    failing = [c["description"] for c in verdict["conditions"] if c["status"] == FAIL]
    unknown = [c["description"] for c in verdict["conditions"] if c["status"] == UNKNOWN]
    parts = [f"fails: {', '.join(failing)}"] if failing else []
    parts += [f"unknown: {', '.join(unknown)}"] if unknown else []
    reasons = f" ({'; '.join(parts)})" if parts else ""
    if gated:
        return f"verdict: {verdict['status']}{reasons}" + (
            " — blocks the release" if verdict["blocks"] else ""
        )
    if verdict["status"] == GO:
        return (
            "verdict: not gated yet — no checklist item fails so far; `healthdeck gate` records the verdict"
        )
    supply = " and says what supplies each unknown item" if unknown else ""
    return f"verdict: {verdict['status']} by the checklist{reasons} — `healthdeck gate` records it{supply}"

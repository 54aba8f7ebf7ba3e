"""The go/no-go verdict: the release checklist from [tool.healthdeck.gates] against one report.

Each configured condition is PASS, FAIL or UNKNOWN (its input is missing) with the actual figure
and the threshold. The verdict is NO-GO when any condition fails, INCOMPLETE when none fails but
some are unknown, GO otherwise. Whether INCOMPLETE blocks the release is `unknown_blocks`.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from .config import GateConfig

PASS, FAIL, UNKNOWN = "PASS", "FAIL", "UNKNOWN"
GO, NO_GO, INCOMPLETE = "GO", "NO-GO", "INCOMPLETE"


@dataclass(frozen=True)
class Condition:
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
        "fraction": f"{value * 100:.2f} %",
        "percent": f"{value:.2f} %",
        "points": f"{value:.2f} pts",
        "hours": f"{value:.1f} h",
    }.get(unit, f"{value:g}")


def evaluate(
    summary: dict,
    gates: GateConfig,
    prod_lanes: tuple[str, ...],
    *,
    baseline: dict | None = None,
    new_failures: list[str] | None = None,
    now: float | None = None,
) -> dict:
    """The verdict as a JSON-ready dict. `new_failures` is None when there is no baseline to compare."""
    conditions: list[Condition] = []
    add = conditions.append
    if gates.ruff_prod_max is not None:
        add(_lane_sum("ruff_prod", "ruff findings in prod lanes", summary.get("ruff"), prod_lanes,
                      gates.ruff_prod_max, lambda s: s["count"]["lanes"], "ruff input is statistics only (no files); "
                      "give ruff --output-format json"))  # fmt: skip
    if gates.compileall_prod_max is not None:
        add(_lane_sum("compileall_prod", "compileall failures in prod lanes", summary.get("compileall"), prod_lanes,
                      gates.compileall_prod_max, lambda s: s["lanes"], ""))  # fmt: skip
    for suite, minimum in gates.pass_rate_min.items():
        rate = ((summary.get("tests") or {}).get(suite) or {}).get("pass_rate")
        detail = "" if rate is not None else f"no {suite} results (or no test ran)"
        add(_compare(f"pass_rate.{suite}", f"{suite} pass rate", rate, minimum, at_least=True, detail=detail,
                     unit="fraction"))  # fmt: skip
    coverage = (summary.get("coverage") or {}).get("percent")
    if gates.coverage_min is not None:
        add(_compare("coverage_min", "coverage (coverage.py total)", coverage, gates.coverage_min, at_least=True,
                     detail="" if coverage is not None else "no coverage data", unit="percent"))  # fmt: skip
    if gates.coverage_drop_max is not None:
        base = ((baseline or {}).get("coverage") or {}).get("percent")
        drop = None if coverage is None or base is None else round(base - coverage, 4)
        why = (
            "no baseline run with coverage"
            if base is None
            else ("no coverage data" if coverage is None else "")
        )
        add(_compare("coverage_drop", "coverage drop vs baseline", drop, gates.coverage_drop_max,
                     at_least=False, detail=why or f"baseline {base:.2f} %", unit="points"))  # fmt: skip
    if gates.max_age_hours is not None:
        age = round(((now or time.time()) - summary["ts"]) / 3600, 2) if summary.get("ts") else None
        add(_compare("freshness", "report age", age, gates.max_age_hours, at_least=False, unit="hours"))
    if gates.no_new_failures:
        if new_failures is None or not summary.get("tests"):
            reason = (
                "no tests in the report" if not summary.get("tests") else "no baseline run to compare with"
            )
            add(Condition("no_new_failures", "new failing tests vs baseline", UNKNOWN, None, 0, reason))
        else:
            shown = ", ".join(new_failures[:5]) + (" …" if len(new_failures) > 5 else "")
            add(_compare("no_new_failures", "new failing tests vs baseline", len(new_failures), 0, at_least=False,
                         detail=shown))  # fmt: skip
    if gates.guardian_new_in_strict_max is not None:
        g = summary.get("guardian") or {}
        value = g.get("new_in_strict") if g.get("permissive") else None
        add(_compare("guardian_new_in_strict", "Guardian denies new in strict", value, gates.guardian_new_in_strict_max,
                     at_least=False, detail="" if value is not None else "no Guardian decision logs"))  # fmt: skip
    statuses = {c.status for c in conditions}
    status = NO_GO if FAIL in statuses else INCOMPLETE if UNKNOWN in statuses else GO
    return {
        "status": status,
        "blocks": status == NO_GO or (status == INCOMPLETE and gates.unknown_blocks),
        "unknown_blocks": gates.unknown_blocks,
        "conditions": [asdict(c) for c in conditions],
        "evaluated_at": int(now or time.time()),
    }


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


def _lane_sum(name, description, section, prod_lanes, maximum, lanes_of, no_lanes) -> Condition:
    if section is None:
        return Condition(name, description, UNKNOWN, None, maximum, "input not given")
    if not prod_lanes:
        return Condition(name, description, UNKNOWN, None, maximum, "no prod_lanes configured")
    lanes = lanes_of(section)
    if lanes is None:
        return Condition(name, description, UNKNOWN, None, maximum, no_lanes)
    missing = [lane for lane in prod_lanes if lane not in lanes]
    if missing:
        return Condition(
            name, description, UNKNOWN, None, maximum, f"lanes not configured: {', '.join(missing)}"
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
        text = quoteattr(
            f"{c['description']}: actual {c['actual']} vs threshold {c['threshold']}. {c['detail']}".strip()
        )
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

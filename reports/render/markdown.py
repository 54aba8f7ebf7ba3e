"""latest.md: the health report for humans. Tables, stated formulas, nothing a person has to decode."""

from __future__ import annotations

from ..failures import FAILING_ORDER, FailureCounts, collection_errors, number
from ..gate import condition_figures, ungated_new_failures, verdict_line
from .guardian import guardian_section
from .md import cell, code, coverage_pc, located, percent, plural, prose, table
from .triage import failing_headline, markdown_suite

PASS_RATE_FORMULA = "pass rate = passed ÷ (passed + failed + errors)"
COVERAGE_FORMULA = "coverage = (covered statements + covered branches) ÷ (statements + branches)"


def render_markdown(report: dict, precision: int = 2) -> str:
    s = report["summary"]
    d = report["details"]
    where = " · ".join(code(x) for x in (s.get("branch"), s.get("git_sha")) if x) or "unknown commit"
    out = [
        f"# Health report — {where}",
        "",
        f"Generated {s['timestamp_iso']} by healthdeck {report['generator']['version']}"
        f" (report schema {report['schema_version']})"
        + (f", version `{s['version']}`" if s.get("version") else "")
        # a pull request's run names its head commit above and describes the merge commit it tested
        + (
            f" (pull request #{s['pull_request']}: tested on its merge commit `{s['merge_sha'][:8]}`)"
            if s.get("pull_request") and s.get("merge_sha")
            else ""
        ),
        "",
    ]
    for warning in (d.get("metadata") or {}).get("warnings") or []:
        out += [f"**Warning:** {cell(warning)}", ""]
    out += verdict_section(s, d)
    if s["missing"]:
        out += [
            f"**Missing inputs:** {', '.join(s['missing'])} — not provided to this run, so not reported.",
            "",
        ]
    out += _tests(s["tests"], d["tests"], s.get("git_sha"))
    out += _coverage(s["coverage"], d["coverage"], precision)
    out += _ruff(s["ruff"], d["ruff"], (report.get("config") or {}).get("prod_lanes") or [])
    out += _compileall(s["compileall"], d["compileall"])
    if s.get("openapi") is not None or "openapi" in s["missing"]:  # only where the checklist has the item
        out += openapi_section(s.get("openapi"), d.get("openapi"))
    if s["guardian"] is not None or "guardian" in s["missing"]:  # only where the project uses Guardian
        out += guardian_section(s["guardian"], d["guardian"])
    return "\n".join(out).rstrip() + "\n"


def _tests(summary: dict | None, details: dict | None, sha: str | None = None) -> list[str]:
    out = ["## Tests", ""]
    if summary is None or details is None:
        return [*out, "_No JUnit input was given._", ""]
    rows = [
        [
            cell(suite),
            percent(t["pass_rate"]),
            *(number(t[k]) for k in ("passed", "failed", "errors", "skipped", "xfailed", "flaky", "total")),
        ]
        for suite, t in summary.items()
    ]
    headline = failing_headline(summary)
    out += [f"**{headline}**", ""] if headline else []
    out += table(
        ["Suite", "Pass rate", "Passed", "Failed", "Errors", "Skipped", "xfailed", "Flaky", "Tests"], rows
    )
    out += [
        "",
        f"_{PASS_RATE_FORMULA}; skipped and xfailed tests are not counted. A test is a distinct test id: "
        "reruns and subtests are not extra tests; a test whose teardown errored is that error, not also a "
        "pass (pytest counts both), and a non-strict XPASS is a pass (JUnit XML cannot tell them apart). "
        "Flaky = failed, then passed on a rerun in the same run; flaky tests are counted as passed and "
        "listed below._",
        "",
    ]
    for suite, t in summary.items():
        det = details[suite]
        notes = []
        if t["collection_errors"]:
            notes.append(collection_errors(t["collection_errors"]))
        if t["failed_subtests"]:
            notes.append(plural(t["failed_subtests"], "failed subtest"))
        notes += det["warnings"]
        if notes:
            out += [f"- **{cell(suite)}**: " + "; ".join(cell(n) for n in notes), ""]
        out += _readings(suite, det.get("readings") or [])
        out += markdown_suite(suite, t, det, sha)
        if det["failing"]:
            total = det.get("failing_total", t["failed"] + t["errors"])
            counts = FailureCounts(total, len(det["failing"]), None, True).headline(len(det["failing"]))
            out += [f"### Failing tests — {cell(suite)}: {counts}", ""]
            out += table(
                ["Test", "Outcome", "Message"],
                [[code(f["test_id"]), f["outcome"], cell(f["message"]) or "—"] for f in det["failing"]],
                "lll",
            )
            if len(det["failing"]) < total:
                out += ["", f"_{FAILING_ORDER}_"]
            out.append("")
        if det["flaky"]:
            out += (
                [f"### Flaky tests — {cell(suite)}", ""]
                + [f"- {code(x, in_table=False)}" for x in det["flaky"]]
                + [""]
            )
        if det["slowest"]:
            out += [f"### Slowest tests — {cell(suite)}", ""]
            out += table(
                ["Test", "Seconds"], [[code(x["test_id"]), f"{x['seconds']:.3f}"] for x in det["slowest"]]
            )
            out.append("")
    return out


def _readings(suite: str, readings: list[dict]) -> list[str]:
    """Files whose own totals disagree with their testcases, with how each difference was resolved."""
    disagreeing = [r for r in readings if r["notes"]]
    if not disagreeing:
        return []
    out = [
        f"### Files whose own totals differ from their testcases, and how that was read — {cell(suite)}",
        "",
    ]
    for r in disagreeing:
        out.append(f"- {code(r['file'], in_table=False)} (read as {cell(r['dialect'])}):")
        out += [f"  - {cell(note)}" for note in r["notes"]]
    return [*out, ""]


def _coverage(summary: dict | None, details: dict | None, precision: int) -> list[str]:
    out = ["## Coverage", ""]
    if summary is None or details is None:
        return [*out, "_No coverage input was given._", ""]
    if not summary["has_data"]:
        return [
            *out,
            f"_The coverage file {code(details['file'])} holds no data (no test was measured)._",
            "",
        ]
    branches = (
        coverage_pc(summary["branches_percent"], precision) if summary["branch_measured"] else "not measured"
    )
    out += [
        f"**{coverage_pc(summary['percent'], precision)}** total — statements "
        f"{coverage_pc(summary['statements_percent'], precision)}, branches {branches}.",
        "",
        f"_{COVERAGE_FORMULA}, exactly as `coverage report` computes it. "
        "The statements-only figure is Cobertura's `line-rate`._",
        "",
    ]
    if summary["lanes"]:
        rows = []
        for lane, n in summary["lanes"].items():
            if n is None:
                rows.append([cell(lane), "no files measured", "—", "—", 0])
            else:
                rows.append(
                    [
                        cell(lane),
                        coverage_pc(n["percent"], precision),
                        f"{n['covered_statements']}/{n['statements']}",
                        f"{n['covered_branches']}/{n['branches']}" if summary["branch_measured"] else "—",
                        n["files"],
                    ]
                )
        out += [*table(["Lane", "Coverage", "Statements", "Branches", "Files"], rows), ""]
    out += [*(f"- {cell(w)}" for w in details["warnings"]), *([""] if details["warnings"] else [])]
    if details["lowest_files"]:
        out += ["### Lowest-covered files", ""]
        out += table(
            ["File", "Coverage", "Statements", "Branches"],
            [
                [
                    code(f["path"]),
                    coverage_pc(f["percent"], precision),
                    f"{f['covered_statements']}/{f['statements']}",
                    f"{f['covered_branches']}/{f['branches']}" if summary["branch_measured"] else "—",
                ]
                for f in details["lowest_files"]
            ],
        )
        out.append("")
    return out


def _ruff(summary: dict | None, details: dict | None, prod: list[str]) -> list[str]:
    out = ["## Lint (ruff)", ""]
    if summary is None or details is None:
        return [*out, "_No ruff input was given._", ""]
    total = summary["count"]["total"]
    line = f"**{plural(total, 'finding')}**"
    if details["reported_total"] is not None:
        line += f" (ruff: “Found {details['reported_total']} errors.”)"
    if summary["syntax_errors"]:
        n = summary["syntax_errors"]
        line += f", of which **{plural(n, 'syntax error')}** (where ruff could not parse the code)"
    out += [line + ".", ""]
    if lanes := summary["count"]["lanes"]:
        # as the gate counts: every finding is prod when no lane is named prod
        rows = [[cell(k), number(v), "yes" if not prod or k in prod else ""] for k, v in lanes.items()]
        if outside := total - sum(lanes.values()):  # a table that adds up to the total above it
            rows.append(["(outside every lane)", number(outside), "" if prod else "yes"])
        out += [*table(["Lane", "Findings", "Prod"], rows, "lrl"), ""]
        if not prod:
            out += ["_No `prod_lanes` configured: the gate counts every finding._", ""]
    if summary["stats"]:
        out += table(
            ["Rule", "Name", "Count"],
            [
                [code(rule), cell(name if (name := details["names"].get(rule, "")) != rule else ""), n]
                for rule, n in summary["stats"].items()
            ],  # ("invalid-syntax" is its own name: said once)
            "llr",
        )
        out.append("")
    if details["top_files"]:
        out += ["### Files with the most findings", ""]
        out += [
            *table(["File", "Findings"], [[code(f["path"]), f["count"]] for f in details["top_files"]]),
            "",
        ]
    listed, listed_total = details.get("findings") or [], details.get("findings_total") or 0
    if listed:  # reports before 1.6 have no findings
        shown = f" — showing {number(len(listed))}" if len(listed) < listed_total else ""
        out += [f"### Findings: {number(listed_total)}{shown} (prod lanes first, then by file)", ""]
        out += [
            *table(
                ["Where", "Rule", "Message"],
                [
                    [
                        code(located(f)),
                        code(f["code"]),
                        cell(f["message"]),
                    ]
                    for f in listed
                ],
                "lll",
            ),
            "",
        ]
    out += [f"- {cell(w)}" for w in details["warnings"]]
    return [*out, ""] if details["warnings"] else out


def _compileall(summary: dict | None, details: dict | None) -> list[str]:
    out = ["## Compile (compileall)", ""]
    if summary is None or details is None:
        return [*out, "_No compileall input was given._", ""]
    n = summary["failures"]
    out += [f"**{plural(n, 'file')}** failed to compile.", ""]
    if details["failures"]:
        out += table(
            ["File", "Line", "Lane", "Message"],
            [
                [
                    code(f["path"]),
                    f["line"] if f["line"] is not None else "—",
                    cell(f["lane"] or "—"),
                    cell(f["message"]),
                ]
                for f in details["failures"]
            ],
            "lrll",
        )
        out.append("")
    return out


def verdict_section(summary: dict, details: dict) -> list[str]:
    """The gate's verdict; before the gate has run, what the checklist says of these figures (never GO)."""
    verdict = details.get("verdict") if summary.get("verdict") else None
    if verdict:
        blocks = " — blocks the release" if verdict["blocks"] else ""
        out = [f"## Verdict: **{verdict['status']}**{blocks}", ""]
    else:
        verdict = details.get("checklist")
        # A preview that already fails or is unknown is named in the heading, as `gate` will name it.
        status = (
            f"**{verdict['status']}** (not gated yet)"
            if verdict and verdict["status"] != "GO"
            else "not gated yet"
        )
        out = [f"## Verdict: {status}", "", f"_{prose(verdict_line(verdict, gated=False))}._", ""]
        if not verdict:
            return out
    new = sum(
        ((t or {}).get("transitions") or {}).get("new") or 0 for t in (summary.get("tests") or {}).values()
    )
    if warning := ungated_new_failures(verdict, new):  # a GO above new failures (collect's baseline)
        out += [f"> ⚠️ {warning}.", ""]
    if verdict.get("checklist"):
        out += [f"_Checklist: {cell(verdict['checklist'])}._", ""]
    out += table(
        ["Condition", "Status", "Actual", "Threshold", "Detail"],
        [[cell(label), c["status"], cell(actual), cell(threshold), prose(c["detail"]) or "—"]
         for c in verdict["conditions"] for label, actual, threshold in [condition_figures(c)]],
        "llrrl",
    )  # fmt: skip
    return [*out, ""]


def openapi_section(summary: dict | None, changes: list[dict] | None) -> list[str]:
    out = ["## OpenAPI changes", ""]
    if summary is None or changes is None:
        return [*out, "_No OpenAPI input was given._", ""]
    source = {"healthdeck": "the built-in diff of", "openapi-diff": "the openapi-diff report", "oasdiff":
              "the oasdiff report"}[summary["source"]]  # fmt: skip
    files = " → ".join(code(f) for f in summary.get("files") or [])
    total = summary["breaking"] + summary["non_breaking"]
    cut = (
        f" Showing the first {number(len(changes))}, breaking first."
        if changes and len(changes) < total
        else ""
    )
    out += [f"**{plural(summary['breaking'], 'breaking change')}**, {summary['non_breaking']} non-breaking "
            f"(from {source} {files}).{cut}", ""]  # fmt: skip
    if changes:
        out += table(
            ["", "Rule", "Operation", "Location", "Change"],
            [["breaking" if c["breaking"] else c["level"], code(c["rule"]),
              code(" ".join(x for x in (c["method"], c["path"]) if x)) if c["path"] else "—",
              code(c["location"]) if c["location"] else "—", cell(c["message"])] for c in changes],
            "lllll",
        )  # fmt: skip
        out.append("")
    return out

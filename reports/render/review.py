"""The release go/no-go review as Markdown: a candidate run against a baseline, to keep with the decision."""

from __future__ import annotations

from ..gate import show
from .md import cell, code, table


def metric_deltas(candidate: dict[str, float], baseline: dict[str, float]) -> list[dict]:
    """Every headline figure of either run with its change (per-file coverage left out)."""
    names = sorted(
        n for n in set(candidate) | set(baseline) if not n.startswith(("coverage.file.", "ruff.rule."))
    )
    return [
        {"metric": n, "baseline": baseline.get(n), "candidate": candidate.get(n),
         "change": None if n not in candidate or n not in baseline else candidate[n] - baseline[n]}
        for n in names
    ]  # fmt: skip


def render_review(
    candidate: dict,
    baseline: dict,
    verdicts: tuple[dict, dict | None],
    deltas: list[dict],
    new_failures: list[str],
) -> str:
    """`candidate`/`baseline`: {label, summary}; `verdicts`: the candidate's and the baseline's (if stored)."""
    now, before = verdicts
    out = [
        f"# Release review: {cell(candidate['label'])}",
        "",
        f"Baseline: {cell(baseline['label'])}",
        "",
        f"**Verdict: {now['status']}**" + (" (blocks the release)" if now["blocks"] else ""),
        "",
    ]
    rows = []
    old = {c["name"]: c for c in (before or {}).get("conditions", [])}
    for c in now["conditions"]:
        unit = c.get("unit", "count")
        prior = old.get(c["name"])
        rows.append([cell(c["description"]), show(c["threshold"], unit),
                     f"{prior['status']} {show(prior['actual'], unit)}" if prior else "—",
                     f"{c['status']} {show(c['actual'], unit)}"])  # fmt: skip
    if rows:
        out += [*table(["Condition", "Threshold", "Baseline", "Candidate"], rows, "lrll"), ""]
    out += ["## Every figure", ""]
    out += table(
        ["Metric", "Baseline", "Candidate", "Change"],
        [[code(d["metric"]), _num(d["baseline"]), _num(d["candidate"]), _num(d["change"], signed=True)] for d in deltas],
    )  # fmt: skip
    out += ["", f"## New failures ({len(new_failures)})", ""]
    out += [f"- {code(t)}" for t in new_failures] or [
        "None: every failing test of the candidate also failed in the baseline."
    ]
    return "\n".join(out) + "\n"


def _num(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "—"
    text = f"{value:+.4g}" if signed else f"{value:.4g}"
    return text

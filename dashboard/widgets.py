"""Small drawing helpers shared by the pages."""

from __future__ import annotations

import re
import time
from pathlib import PureWindowsPath

import pandas as pd
import streamlit as st

from healthdeck.dashboard import charts
from healthdeck.dashboard.context import Ctx
from healthdeck.reports.failures import number
from healthdeck.reports.gate import show

# Material icons: they render without an emoji font (headless browsers, locked-down desktops).
ICONS = {"GO": ":material/check_circle:", "NO-GO": ":material/block:", "INCOMPLETE": ":material/help:",
         "PASS": ":material/check:", "FAIL": ":material/close:", "UNKNOWN": ":material/question_mark:"}  # fmt: skip
VERDICTS = ("GO", "NO-GO", "INCOMPLETE")
DETAIL_CHARS = 160
NEW_IN_STRICT_SHOWN = 5

# Terminal escape sequences (CSI, OSC, two-byte ESC), control characters, and the invisible
# direction overrides that make text read differently from what it is.
_TERMINAL = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])?")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Every ASCII punctuation mark may be backslash-escaped in Markdown: escaping them all leaves no syntax.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# Streamlit finds links, e-mail addresses, icons (:material/x:), emoji (:x:) and colours (:green[x]) in
# the text *after* escapes are resolved, so a zero-width space has to break each of those sequences.
_ZWSP = "\u200b"
_AFTER_ESCAPES = re.compile(r"(?i)(\\:|\\@)(?=\S)|(?<![\w\u200b])(w)(?=ww\\\.)")
_ICON_IN_CODE = re.compile(r":(?=material/)")


def md(value: object, *, code: bool = False, limit: int | None = None) -> str:
    """Text from an artifact, a log or git, made safe for any Streamlit Markdown sink.

    Prose is shown literally (every Markdown special escaped, links and shortcodes broken); with
    `code=True` it is an inline code span, which suits identifiers (test ids, rules, etags, branches).
    Terminal escapes and control characters go, line breaks become spaces (a heading or list cannot
    start), and `limit` shortens the text before escaping so an escape is never cut in half.
    """
    text = " ".join(_CONTROL.sub("", _TERMINAL.sub("", str(value)).replace("\t", " ")).split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    if code:
        text = _ICON_IN_CODE.sub(":" + _ZWSP, text)
        fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
        pad = " " if text.startswith("`") or text.endswith("`") else ""
        return f"{fence}{pad}{text}{pad}{fence}"
    return _AFTER_ESCAPES.sub(
        lambda m: (m[1] + _ZWSP) if m[1] else m[2] + _ZWSP, _PUNCTUATION.sub(r"\\\1", text)
    )


def missing(what: str, how: str) -> None:
    st.info(f"**No {what} yet.** {how}", icon=":material/info:")


def verdict_banner(ctx: Ctx) -> None:
    verdict = ctx.verdict
    if verdict is None:
        missing(
            "report",
            "Run `healthdeck collect` (or `healthdeck demo`) to write docs/audits/health/latest.json.",
        )
        return
    status = verdict["status"]
    trouble = [c for c in verdict["conditions"] if c["status"] != "PASS"]
    lines = [f"- {ICONS[c['status']]} **{md(c['description'])}**: {md(show(c['actual'], c.get('unit', 'count')))} "
             f"vs {md(show(c['threshold'], c.get('unit', 'count')))}"
             + (f" — {md(c['detail'], limit=DETAIL_CHARS)}" if c["detail"] else "") for c in trouble]  # fmt: skip
    if not verdict["conditions"]:
        st.warning(
            f"### {ICONS['INCOMPLETE']} No release checklist in force\n\nNothing was checked: this is not a GO."
        )
        return
    body = "\n".join(lines) if lines else "Every condition passes."
    if ctx.verdict_stored:
        shown = status if status in VERDICTS else md(status)
        heading = f"### {ICONS.get(status, ICONS['INCOMPLETE'])} {shown}"
        {"GO": st.success, "NO-GO": st.error}.get(status, st.warning)(f"{heading}\n\n{body}")
        return
    # No stored verdict: `healthdeck gate` has not decided on this run, so the banner never says GO.
    # A failing condition is still a NO-GO whoever evaluates it; anything else is "not gated yet".
    note = f"_Not gated yet: the checklist evaluated now says {md(status)}; `healthdeck gate` decides and stores it._"
    if status == "NO-GO":
        st.error(f"### {ICONS['NO-GO']} NO-GO\n\n{body}\n\n{note}")
    else:
        st.warning(f"### {ICONS['INCOMPLETE']} Not gated yet\n\n{body}\n\n{note}")


def compact(n: int) -> str:
    """1 882 -> "1.9k": KPI values must fit a quarter of a 1280 px screen."""
    return f"{n / 1000:.1f}k" if 1000 <= n < 10_000 else f"{n // 1000}k" if n >= 10_000 else str(n)


def conditions_table(verdict: dict) -> list[dict]:
    return [{"condition": c["description"], "status": c["status"], "actual": show(c["actual"], c.get("unit", "count")),
             "threshold": show(c["threshold"], c.get("unit", "count")), "detail": c["detail"]}
            for c in verdict["conditions"]]  # fmt: skip


def provenance(ctx: Ctx) -> None:
    s = ctx.summary
    if not s:
        return
    age_h = (time.time() - s["ts"]) / 3600
    limit = ctx.src.config.gates.max_age_hours or 24
    parts = [f"commit {md(s.get('git_sha') or 'unknown', code=True)}",
             f"branch {md(s.get('branch') or 'unknown', code=True)}", f"generated {md(s.get('timestamp_iso'))}"]  # fmt: skip
    if ctx.baseline:
        parts.append(
            f"baseline {md(ctx.baseline.short_sha or ctx.baseline.run_key, code=True)} ({md(ctx.baseline_spec)})"
        )
    st.caption(" · ".join(parts))
    config_notes(ctx)
    if age_h > limit:
        st.warning(
            f"The latest report is stale: {age_h:.0f} hours old (limit {limit:g} h).",
            icon=":material/schedule:",
        )


def config_notes(ctx: Ctx) -> None:
    """Which configuration the figures are read with, where the report's own and the local one disagree."""
    notes = ctx.src.config_notes
    if notes:
        differ = (
            f"{len(notes)} {'setting differs' if len(notes) == 1 else 'settings differ'} from the local one"
        )
        with st.expander(f"Configuration in force: the report's own — {differ}", icon=":material/tune:"):
            st.markdown("\n".join(f"- {md(n)}" for n in notes))


def pct(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f} %"


def deny_delta(ctx: Ctx, key: str) -> None:
    g = ctx.summary.get("guardian") or {}
    if not g.get("permissive"):
        missing(
            "Guardian deny deltas",
            "Give `--guardian-permissive` and `--guardian-strict` decision logs to collect.",
        )
        return
    dim = st.segmented_control("Deny delta by", ["rule", "tenant", "action"], default="rule", key=f"{key}_dim",
                               bind="query-params")  # fmt: skip
    dim = dim or "rule"
    field = {"rule": "rule_id", "tenant": "tenant", "action": "action"}[dim]
    new = {row[field] for row in ctx.details.get("guardian", {}).get("new_in_strict", [])}
    st.plotly_chart(charts.deny_delta(g["delta"][f"by_{dim}"], dim, new), key=f"{key}_deny")
    if g["new_in_strict"]:
        combos = ctx.details["guardian"]["new_in_strict"]
        shown = ", ".join(f"{md(r['rule_id'], code=True)} {md(r['tenant'])} {md(r['action'], code=True)}"
                          for r in combos[:NEW_IN_STRICT_SHOWN])  # fmt: skip
        cut = (
            f" (the first {NEW_IN_STRICT_SHOWN} of {number(len(combos))} combinations)"
            if len(combos) > NEW_IN_STRICT_SHOWN
            else ""
        )
        st.error(f"**{number(g['new_in_strict'])} requests are denied in strict** under rules, tenants and actions "
                 f"that never would-deny in permissive: {shown}{cut}")  # fmt: skip
    st.caption(md(ctx.details.get("guardian", {}).get("note", "")))


def openapi_changes(summary: dict, details: dict | None, *, baseline: dict | None = None) -> None:
    """The OpenAPI diff of a run: exact counts (and the baseline's, on a review), and every change when
    the run's details are at hand (`details` None: only the summary is)."""
    api = summary.get("openapi")
    if not api:
        missing("OpenAPI diff", "Give `healthdeck collect --openapi BASE HEAD` (two spec files) or "
                "`--openapi-report FILE` (npm openapi-diff or oasdiff output).")  # fmt: skip
        return
    files = ", ".join(md(PureWindowsPath(str(f)).name, code=True) for f in api.get("files") or [])
    before = (baseline or {}).get("openapi")
    was = f" (baseline: {number(before['breaking'])} breaking)" if before else ""
    text = (f"**{number(api['breaking'])} breaking OpenAPI {'change' if api['breaking'] == 1 else 'changes'}**, "
            f"{number(api['non_breaking'])} non-breaking{was} — {md(api.get('source') or '?')}"
            + (f" on {files}" if files else ""))  # fmt: skip
    (st.error if api["breaking"] else st.success)(text, icon=":material/api:")
    if details is None:
        return
    changes = details.get("openapi") or []
    if changes:
        columns = ["breaking", "rule", "method", "path", "location", "message"]
        st.dataframe(pd.DataFrame(changes).reindex(columns=columns), hide_index=True)
    shown = sum(1 for c in changes if c.get("breaking"))
    if shown < api["breaking"]:
        st.caption(f"{number(api['breaking'])} breaking changes — showing {number(shown)}")


def table_or(rows: list, empty: str) -> None:
    """The rows as a table, or a success note saying why there is none."""
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True)
    else:
        st.success(empty)

"""Markdown building blocks shared by every renderer: safe cells, code spans, tables, numbers."""

from __future__ import annotations

import re
from collections.abc import Callable

from ..failures import number
from ..visible import visible

# Only what can break a table row or start markup: emphasis, code, links/images, HTML, strikethrough.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_AUTOLINK = re.compile(r"(?i)(https?|ftp)://|www\.")


def cell(text: object) -> str:
    """Text that can sit in a table cell without breaking it, injecting HTML, links or mentions."""
    s = " ".join(visible(str(text)).split())  # newlines would end the table row
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _MD_SPECIAL.sub(r"\\\1", s)
    s = _AUTOLINK.sub(lambda m: m.group(0)[0] + "\u200b" + m.group(0)[1:], s)  # no bare-URL autolinks
    return s.replace("@", "@\u200b")  # a zero-width space keeps "@team" from notifying anyone


def prose(text: object) -> str:
    """A cell of healthdeck's own wording, whose `...` spans (commands, config keys) show as code; the
    rest is escaped as `cell` does."""
    return with_code_spans(str(text), cell, code)


def with_code_spans(text: str, escape: Callable[[str], str], span: Callable[[str], str]) -> str:
    """healthdeck's own wording with its `...` spans rendered by `span` and the text between them by
    `escape` (which drops the spaces at either end that separate text from a span: they are kept).
    With an odd number of backticks (a value holding one, or a cut through a span) no span can be
    trusted, and all of it is escaped text. Shared by the Markdown renderers and the dashboard."""
    parts = text.split("`")
    if len(parts) % 2 == 0:
        return escape(text)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(span(part) if part else "")
        else:
            lead = " " if part[:1].isspace() else ""
            trail = " " if part[-1:].isspace() and part.strip() else ""
            out.append(lead + escape(part) + trail)
    return "".join(out)


def code(text: object, *, in_table: bool = True) -> str:
    """Inline code for identifiers (test ids, paths, rule codes): shown verbatim, never interpreted.

    In a table a `|` must be escaped even inside code (GitHub then shows `|`); outside a table the
    escape would be shown, and a test id copied from it would not exist."""
    s = " ".join(visible(str(text)).split())
    s = s.replace("|", "\\|") if in_table else s
    longest = max((len(run) for run in re.findall(r"`+", s)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def plural(n: int, noun: str) -> str:
    """'1 cause', '10 000 causes': the count as every figure is written (thousands separated)."""
    return f"{number(n)} {noun}{'' if n == 1 else 's'}"


def percent(fraction: float | None, digits: int = 2) -> str:
    """A fraction as a percentage that never reads 100 while something failed (nor 0 while something passed)."""
    return "—" if fraction is None else f"{display_covered(fraction * 100, digits)} %"


def change(value: float, digits: int = 2, unit: str = " pts") -> str:
    """A change in percentage points as a person reads it: "no change" only when nothing changed; a change
    too small to show is "+<0.01 pts" (two figures that differ in their last digit never sit beside "no
    change"), never a signed zero."""
    if abs(value) < 1e-9:  # float noise of a subtraction is no change
        return "no change"
    if round(value, digits) == 0:
        return f"{'+' if value > 0 else '-'}<{10**-digits:.{digits}f}{unit}"
    return f"{value:+.{digits}f}{unit}"


def count_change(value: float) -> str:
    """A change in a count: "+3", "-1 200" or "no change"."""
    count = round(value)
    return "no change" if count == 0 else f"{'+' if count > 0 else '-'}{number(abs(count))}"


def coverage_measure(coverage: dict) -> str:
    """What coverage.py's total counts in this report: branches only when they were measured."""
    return (
        "statements + branches"
        if coverage.get("branch_measured")
        else "statements only (branches not measured)"
    )


def coverage_pc(value: float | None, precision: int) -> str:
    """coverage.py's own display rounding: never shows 100 unless complete, or 0 unless nothing."""
    return "—" if value is None else f"{display_covered(value, precision)} %"


def display_covered(pc: float, precision: int) -> str:
    """coverage.results.display_covered, restated: importing coverage costs every light command ~20 ms.

    tests/test_startup.py checks it against coverage.py's own function, so the two cannot drift.
    """
    near0 = 1.0 / 10**precision
    if 0 < pc < near0:
        pc = near0
    elif (100.0 - near0) < pc < 100:
        pc = 100.0 - near0
    else:
        pc = round(pc, precision)
    return f"{pc:.{precision}f}"


def table(header: list[str], rows: list[list[object]], align: str = "") -> list[str]:
    align = align or "l" + "r" * (len(header) - 1)
    marks = {"l": "---", "r": "---:", "c": ":---:"}
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(marks[a] for a in align) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def located(finding: dict) -> str:
    """`path:line` of a finding (its path alone when it has no line)."""
    return f"{finding['path']}:{finding['line']}" if finding.get("line") else finding["path"]

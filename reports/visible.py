"""Text as it reads: terminal escapes, control characters and invisible direction overrides removed.

Shared by every place artifact text is shown or compared: the Markdown renderers (comment, latest.md),
the dashboard's Markdown sinks, and the failure causes (colours on or off, one failure is one cause).
"""

from __future__ import annotations

import functools
import re


@functools.cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Compiled on first need: most text has nothing to remove, and gate, comment and badge start in tens
    of milliseconds."""
    # Terminal escape sequences (CSI, OSC, two-byte ESC), also as pytest's JUnit XML writes ESC: the text
    # "#x1B" (XML 1.0 cannot carry the character itself).
    terminal = re.compile(
        r"(?:\x1b|#x1[Bb])(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])?"
    )
    # Control characters and the invisible direction marks and overrides that make text read differently
    # from what it is ("Trojan source": `test_\u202eevil` shows as `test_live`).
    control = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
    return terminal, control


def visible(text: str) -> str:
    """`text` without terminal escapes, control characters or direction controls (tabs become spaces;
    line breaks stay for the caller to fold)."""
    if text.isprintable() and "#x1" not in text:  # no control or format character, no encoded ESC
        return text
    terminal, control = _patterns()
    return control.sub("", terminal.sub("", text.replace("\t", " ")))

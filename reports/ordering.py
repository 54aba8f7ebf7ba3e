"""Test ids in the order a person reads them: `test[2]` before `test[10]` before `test[1000]`."""

from __future__ import annotations

import re

# Runs of at most 18 digits, so a hostile 5 000-digit id costs no giant int (and stays below Python's
# int-from-string limit); a longer run compares chunk by chunk, still in order for equal lengths.
_DIGITS = re.compile(r"([0-9]{1,18})")


def natural_key(text: str) -> tuple[tuple[str | int, ...], str]:
    """Digit runs compare as numbers; the text itself breaks ties (`t[07]` and `t[7]`), so the order
    is total and the same on every run."""
    parts: list[str | int] = list(_DIGITS.split(text))
    parts[1::2] = [int(p) for p in parts[1::2]]
    return tuple(parts), text

"""Checks on values read from artifacts: counts, finite numbers, JSON that cannot blow the stack.

A failed check raises `Invalid` with a short reason (never the whole value); each collector turns
that into its CollectorError, which adds the file. So every malformed figure ends as one line.
"""

from __future__ import annotations

import json
import math
import re

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

# What decoding JSON may take, by default (`max_decoded_mb` in [tool.healthdeck]): a whole document read at
# once (a spec, a diff report, a report file) or one entry of a report read entry by entry (ruff,
# `coverage json`). Measured as `decoded_size` estimates it, before anything is decoded.
DECODED_MB = 256
MIB = 1024 * 1024

# Counts above this are not counts of anything a test run produces, and beyond 2**53 they would no
# longer be exact in the JSON readers of the report (JavaScript, Go float64).
MAX_COUNT = 2**53 - 1
_COUNT_DIGITS = len(str(MAX_COUNT))
SHOWN_CHARS = 40


class Invalid(ValueError):
    """A value read from an artifact has the wrong type, range or shape."""


def shown(value: object) -> str:
    """A bounded repr of a value for an error message: a 5 000-digit number is not echoed back."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def count(value: object, what: str) -> int:
    """A non-negative whole number up to MAX_COUNT, given as a JSON integer or a string of digits."""
    if isinstance(value, str):
        text = value.strip()
        if not text.isascii() or not text.isdigit():
            raise Invalid(f"{what} is {shown(value)}, not a whole number")
        if len(text) > _COUNT_DIGITS:
            raise Invalid(f"{what} has {len(text)} digits, not a plausible count")
        value = int(text)
    elif isinstance(value, float) and not math.isfinite(value):
        raise Invalid(f"{what} is {value}, not a finite number")
    elif not isinstance(value, int) or isinstance(value, bool):
        raise Invalid(f"{what} is {shown(value)} ({type(value).__name__}), not a whole number")
    if value < 0:
        raise Invalid(f"{what} is {value}, a count cannot be negative")
    if value > MAX_COUNT:
        raise Invalid(f"{what} is {shown(value)}, not a plausible count")
    return value


def plain_count(value: object) -> int | None:
    """`value` as count() returns it when it is plainly one (an int, not a bool, or a string of ASCII
    digits, from 0 to MAX_COUNT), else None: then count() reads it and says what is wrong. For hot loops,
    whose count() message naming the field would be formatted for every value."""
    if type(value) is str and value.isdigit() and value.isascii() and len(value) <= _COUNT_DIGITS:
        value = int(value)
    return value if type(value) is int and 0 <= value <= MAX_COUNT else None


def covered_within(covered: int, valid: int, what: str) -> None:
    """0 ≤ covered ≤ valid: more covered than there is to cover is an impossible report."""
    if covered > valid:
        raise Invalid(f"{what}: {covered} covered of {valid} is impossible")


def number(value: object, what: str) -> float:
    """A number (JSON number or numeric string). Non-finite results (NaN, ±Inf) are returned as they
    are: the caller decides whether they mean "missing" (and says so) or are an error."""
    if isinstance(value, bool):
        raise Invalid(f"{what} is {shown(value)}, not a number")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and len(value) <= 64:
        try:
            return float(value)
        except ValueError:
            pass
    raise Invalid(f"{what} is {shown(value)}, not a number")


def text(value: object, what: str, *, optional: bool = False) -> str | None:
    """A string field; None is accepted only when `optional`."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise Invalid(f"{what} is {shown(value)} ({type(value).__name__}), not a string")
    return value


def mapping(value: object, what: str) -> dict:
    if not isinstance(value, dict):
        raise Invalid(f"{what} is a {_kind(value)}, expected an object")
    return value


def array(value: object, what: str) -> list:
    if not isinstance(value, list):
        raise Invalid(f"{what} is a {_kind(value)}, expected a list")
    return value


def _kind(value: object) -> str:
    return {dict: "JSON object", list: "list", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number" if isinstance(value, int | float) else type(value).__name__
    )


def decoded_size(text_: str, start: int = 0, end: int | None = None) -> int:
    """What decoding `text_[start:end]` as JSON may take, in bytes, estimated from what it holds (each
    count runs in C, nothing is decoded): each `{` a dict (184 bytes up to five keys), each `[` a list,
    each `,` one more element or member (a number, a slot, a dict entry), each `"` half a string's
    header, and the text itself. Measured against tracemalloc on the costliest shapes (lists or dicts
    of empty containers, chains of one-key dicts, numbers, short strings, distinct keys), what decoding
    took was 0.55-0.97 of it: a bound, never a small fraction of the truth either way."""
    end = len(text_) if end is None else end
    return (
        184 * text_.count("{", start, end)
        + 64 * text_.count("[", start, end)
        + 40 * text_.count(",", start, end)
        + 32 * text_.count('"', start, end)
        + (end - start)
    )


def too_large(budget: int, where: str, size: int | None = None) -> Invalid:
    """`where` (a document, or a value in one) would take more than `budget` to decode: `size`, when
    the whole of it was estimated."""
    some = f"some {size // MIB:,} MiB, " if size is not None else ""
    return Invalid(
        f"{where} would take {some}more than {budget // MIB:,} MiB to decode "
        "(limit max_decoded_mb in [tool.healthdeck])"
    )


def within_budget(text_: str, budget: int, where: str) -> None:
    """Refuses (`Invalid`) a JSON document `where` whose decoding `decoded_size` puts above `budget`."""
    if (size := decoded_size(text_)) > budget:
        raise too_large(budget, where, size)


def load_json(text_: str, budget: int = DECODED_MB * MIB) -> Any:
    """json.loads that reports every way a hostile document fails as `Invalid`: malformed syntax,
    NaN/Infinity literals (not JSON), nesting deep enough to exhaust the stack, numbers with more
    digits than Python converts, and a document whose decoding would take more than `budget` bytes
    (64 MiB of `[[],[],...]` takes 1.3 GB). Numbers too large for a float (1e400) come back as ±inf:
    checks on the value refuse or drop them."""
    within_budget(text_, budget, "the JSON document")
    try:
        return json.loads(text_, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise _malformed(exc) from exc


def _malformed(exc: ValueError | RecursionError) -> Invalid:
    if isinstance(exc, json.JSONDecodeError):
        return Invalid(f"malformed JSON: {exc.msg} (line {exc.lineno})")
    if isinstance(exc, RecursionError):
        return Invalid("malformed JSON: nested too deeply to read")
    # a NaN/Infinity literal, or an integer past Python's digit limit
    reason = str(exc) if "JSON number" in str(exc) else "a number with more digits than any count has"
    return Invalid(f"malformed JSON: {reason}")


class _Cursor:
    """A place in a JSON text; each value under it is decoded by json's own scanner, on its own.

    When the whole text could take more than `budget` to decode, an array or object under the cursor
    is decoded from a window of the text that grows until the value fits in it, each window held to
    the budget before it is decoded (`decoded_size`): one entry of `[[],[],...]` as large as the
    report is refused at the budget, not decoded to 1.6 GB."""

    def __init__(self, text_: str, budget: int) -> None:
        self.text = text_
        self.pos = 0
        self.budget = None if decoded_size(text_) <= budget else budget  # None: decode in place
        self.window = _FIRST_WINDOW

    def peek(self) -> str:
        self.pos = _BLANK.match(self.text, self.pos).end()  # type: ignore[union-attr]
        return self.text[self.pos : self.pos + 1]

    def value(self) -> Any:
        if self.budget is not None and self.peek() in ("[", "{"):
            return self._windowed(self.budget)
        self.peek()  # a string or a number costs about its own text: decoded in place
        try:
            found, self.pos = _DECODER.raw_decode(self.text, self.pos)
        except (ValueError, RecursionError) as exc:
            raise _malformed(exc) from exc
        return found

    def _windowed(self, budget: int) -> Any:
        text, start = self.text, self.pos
        size, last = self.window, False
        while True:
            end = min(len(text), start + size)
            # a window so small that even 184 bytes a character fit the budget need not be counted
            if (end - start) * _MOST_PER_CHAR > budget and decoded_size(text, start, end) > budget:
                end, last = self._widest(start, end, budget), True
            try:  # a container decoded from a piece is whole: its closing bracket was in the piece
                found, used = _DECODER.raw_decode(text[start:end])
            except RecursionError as exc:
                raise _malformed(exc) from exc
            except ValueError as exc:
                if not (end < len(text) and _cut_short(exc, end - start)):
                    raise _malformed_at(exc, text, start) from exc
                if last:
                    raise too_large(budget, f"the JSON value at line {_line(text, start)}") from None
                size *= 4
                continue
            self.pos = start + used
            self.window = max(_FIRST_WINDOW, 4 * used)  # the next entry is likely of the same size
            return found

    def _widest(self, start: int, end: int, budget: int) -> int:
        """The end of the widest window from `start` within `budget`, to some 1/4096 of `end - start`."""
        low, high = start, end
        while high - low > max(64, (end - start) >> 12):
            middle = (low + high) // 2
            if decoded_size(self.text, start, middle) <= budget:
                low = middle
            else:
                high = middle
        return low

    def take(self, char: str, missing: str) -> None:
        if self.peek() != char:
            raise _malformed(json.JSONDecodeError(missing, self.text, self.pos))
        self.pos += 1

    def members(self, close: str) -> Iterator[None]:
        """Once per member of the array or object just opened, with the cursor at it (an object's key
        first); the caller reads the member before the next."""
        if self.peek() == close:
            self.pos += 1
            return
        while True:
            yield
            if self.peek() != ",":
                self.take(close, "Expecting ',' delimiter")
                return
            self.pos += 1

    def key(self) -> str:
        if self.peek() != '"':
            self.take('"', "Expecting property name enclosed in double quotes")
        key = self.value()
        self.take(":", "Expecting ':' delimiter")
        self.peek()
        return key

    def end(self) -> None:
        if self.peek():
            raise _malformed(json.JSONDecodeError("Extra data", self.text, self.pos))


_BLANK = re.compile(r"[ \t\n\r]*")
_FIRST_WINDOW = 4096
_MOST_PER_CHAR = 184  # decoded_size's largest weight: what one character (a `{`) may cost


def _cut_short(exc: ValueError, length: int) -> bool:
    """Whether decoding a piece of `length` characters may have failed only because the value goes on
    past it: the error is at its very end, or is a string left open (reported where it starts)."""
    return isinstance(exc, json.JSONDecodeError) and (
        exc.pos >= length - 8 or exc.msg.startswith("Unterminated string")
    )


def _malformed_at(exc: ValueError, text_: str, start: int) -> Invalid:
    """`_malformed` for an error in a piece starting at `start`: the line is the whole text's."""
    if isinstance(exc, json.JSONDecodeError):
        return Invalid(f"malformed JSON: {exc.msg} (line {_line(text_, start + exc.pos)})")
    return _malformed(exc)


def _line(text_: str, pos: int) -> int:
    return text_.count("\n", 0, pos) + 1


def json_array(text_: str, what: str, budget: int = DECODED_MB * MIB) -> Iterator[Any]:
    """The elements of the JSON array `text_`, decoded one at a time: memory holds the text and one
    element, not every element's objects at once (a 62 MB ruff report decoded whole took 450 MB), and
    no element may take more than `budget` to decode. Refused as `load_json` and `array` refuse it,
    whatever element the reader stops at."""
    cursor = _Cursor(text_, budget)
    if cursor.peek() != "[":
        array(load_json(text_, budget), what)  # refuses it, as it refuses what is not a list
    cursor.pos += 1
    for _ in cursor.members("]"):
        yield cursor.value()
    cursor.end()


def json_object(
    text_: str, what: str, streamed: str, budget: int = DECODED_MB * MIB
) -> Iterator[tuple[str, Any]]:
    """The members of the JSON object `text_`, as `json_array` reads elements; the value of a member
    named `streamed` that is itself an object comes as an iterator of its (key, value) members, to be
    read before the next member is asked for."""
    cursor = _Cursor(text_, budget)
    if cursor.peek() != "{":
        mapping(load_json(text_, budget), what)
    cursor.pos += 1
    for _ in cursor.members("}"):
        key = cursor.key()
        if key == streamed and cursor.peek() == "{":
            cursor.pos += 1
            pairs = _pairs(cursor)
            yield key, pairs
            for _ in pairs:  # what the reader left unread
                pass
        else:
            yield key, cursor.value()
    cursor.end()


def _pairs(cursor: _Cursor) -> Iterator[tuple[str, Any]]:
    for _ in cursor.members("}"):
        key = cursor.key()
        yield key, cursor.value()


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


_DECODER = json.JSONDecoder(parse_constant=_no_constant)

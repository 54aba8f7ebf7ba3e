"""Runs of plain testcases, read from the raw bytes without the XML parser.

Most of a large JUnit file is a run of childless testcases written the same way, for example pytest's
`<testcase classname="m" name="t" time="0.001" />` a million times. Handing each to expat costs two
Python callbacks and an attribute list; reading a whole run with a few C-level bytes operations
costs a fraction of that. The JUnit reader (collectors/junit.py) takes a run out of expat's input
only where expat would read it as elements of the open suite (see `_FileReader._feed`), and this
module accepts a run only when the bytes say exactly what expat would report, else the reader feeds
them to expat as usual. `read_run` accepts a run when:

* every testcase is `<testcase` followed by the file's three attributes (classname, name, time, in
  its first testcase's order), each `="..."` with one space before it, then optional whitespace and
  `/>`, or `>` and an end tag with only whitespace before it; whitespace may separate testcases,
  the same between every two of them;
* no value holds `&` (an entity or a character reference), a control character (tabs and line
  ends are normalised to spaces in attribute values), U+FFFE/U+FFFF, or bytes that are not UTF-8;
  so each value is its own bytes, decoded;
* every name is non-empty (a nameless testcase gets a key of its own, on the general path).

Files whose passing testcases are written with an end tag (`<testcase ...></testcase>`: Jest,
Vitest, Mocha, Playwright and gotestsum) end their stretches only at other end tags (`END_TAGS`).
Two kinds of testcase written with an end tag can sit among self-closing ones, so that they do not
cut runs short (`unit_at` finds them at that end tag): an empty one, and one whose only child is
pytest's `<skipped type="..." message="...">text</skipped>` (or the self-closing form that xfail
writes), with no `&` and only characters expat takes as they are, and no `]]>` in the text.
`rewrite` writes each as a plain testcase for `read_run`, which checks its attributes like any
other's, and says where it is in the run.

Nothing else in XML can look like this: `<` cannot appear inside an attribute value or text, and
comments, CDATA sections and processing instructions are excluded by where the reader looks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from healthdeck.collectors.records import Record

_C0 = bytes(range(32))  # control characters: refused or normalised by XML in attribute values
_NOT_XML = (b"\xef\xbf\xbe", b"\xef\xbf\xbf")  # U+FFFE, U+FFFF: valid UTF-8, not XML characters
_SPACE = rb"[ \t\r\n]*"
_CLOSE = _SPACE + rb"(?:/>|>" + _SPACE + rb"</testcase>)"  # a childless testcase's end, either way


@dataclass(frozen=True, slots=True)
class RunShape:
    """How this file writes a plain testcase: its attribute names in order."""

    start: bytes  # b'<testcase classname="', where a run can begin
    open: bytes  # the first piece of a run split on '"'
    inner: bytes  # the pieces between a testcase's values, joined: b' name= time='
    between: re.Pattern[bytes]  # the piece between two testcases: close one, open the next
    plain: re.Pattern[bytes]  # plain testcases, most of these checks in one (slow) regex: to find the odd one
    close: re.Pattern[bytes]  # the last piece: whitespace and "/>"
    classname_at: int  # where each value sits among the six pieces of a testcase
    name_at: int
    time_at: int
    # separators that matched `between` or `close` already (a file uses one or two of each)
    checked: tuple[set[bytes], set[bytes]] = field(default_factory=lambda: (set(), set()))


def run_shape(names: list[str]) -> RunShape:
    """The shape of plain testcases whose attributes are `names` (classname, name and time, in order)."""
    first, second, third = (name.encode() for name in names)
    opener = b"<testcase " + first + b"="
    value = b'"[^"<&\\x00-\\x1f]*"'
    tag = opener + value + b" " + second + b"=" + value + b" " + third + b"=" + value + _CLOSE
    return RunShape(
        start=opener + b'"',
        open=opener,
        inner=b" " + second + b"= " + third + b"=",
        between=re.compile(_CLOSE + _SPACE + re.escape(opener)),
        plain=re.compile(b"(?:" + tag + _SPACE + b")*"),
        close=re.compile(_CLOSE),
        classname_at=1 + 2 * names.index("classname"),
        name_at=1 + 2 * names.index("name"),
        time_at=1 + 2 * names.index("time"),
    )


def read_run(shape: RunShape, run: bytes, prefix: bytes) -> tuple[list[str], list[bytes]] | None:
    """The keys (`prefix` classname \\x1f name) and raw times of a run of plain testcases, or None
    when `run` is not exactly such a run (see the module docstring)."""
    parts = run.split(b'"')
    count, rest = divmod(len(parts), 6)
    if rest != 1 or not count:
        return None
    # every piece between two values at once: what the shape says, with one `between` throughout
    between, close = parts[6] if count > 1 else b"", parts[-1]
    if count > 1 and not _matches(shape.between, between, shape.checked[0]):
        return None
    if not _matches(shape.close, close, shape.checked[1]):
        return None
    if b"".join(parts[0::2]) != shape.open + (shape.inner + between) * (count - 1) + shape.inner + close:
        return None
    # so only the values can hide markup or characters expat would refuse or change
    values = b"".join(parts[1::2])
    if b"<" in values or b"&" in values or len(values.translate(None, _C0)) != len(values):
        return None
    ascii = values.isascii()
    if not ascii and (_NOT_XML[0] in values or _NOT_XML[1] in values):
        return None
    names = parts[shape.name_at :: 6]
    if b"" in names:
        return None
    # one blob of \x00 prefix classname \x1f name per testcase (no XML text holds NUL), decoded at once
    flat = [b"\x00" + prefix, b"", b"\x1f", b""] * count
    flat[1::4] = parts[shape.classname_at :: 6]
    flat[3::4] = names
    try:
        keys = b"".join(flat)[1:].decode("utf-8").split("\x00")
    except UnicodeDecodeError:
        return None
    times = parts[shape.time_at :: 6]
    if not ascii:  # float() reads non-ASCII digits from str only
        try:
            times = [t.decode("utf-8") for t in times]  # type: ignore[misc]
        except UnicodeDecodeError:
            return None
    return keys, times


def _matches(pattern: re.Pattern[bytes], piece: bytes, checked: set[bytes]) -> bool:
    if piece in checked:
        return True
    if pattern.fullmatch(piece) is None:
        return False
    if len(checked) < 16:
        checked.add(piece)
    return True


# pytest's only child of a skipped or xfailed test; type, message and text need no decoding to be read
_SKIPPED = re.compile(
    rb'<skipped type="([^"<&\x00-\x1f]*)" message="[^"<&\x00-\x08\x0b\x0c\x0e-\x1f]*"'
    rb"(?:" + _SPACE + rb"/>|>([^<&\x00-\x08\x0b\x0c\x0e-\x1f]*)</skipped>)"
)
_SKIPPED_END = b"</skipped></testcase>"
_CASE_END = b"</testcase>"


class Unit(Record):
    """A testcase with an end tag that a run can hold: data[start:head] is its start tag but the ">"."""

    start: int
    head: int
    end: int
    skipped: bool  # its child is <skipped>
    xfail: bool  # and it is pytest's xfail


def unit_at(shape: RunShape, data: bytes, begin: int, stop: int, skips: bool) -> Unit | None:
    """The testcase that the end tag at `stop` closes, if it is one a run can hold: empty, or (with
    `skips`) skipped."""
    if not data.startswith(_CASE_END, stop):
        return (skips and _skipped(shape, data, begin, stop)) or None
    start = data.rfind(shape.start, begin, stop)
    if start < 0:
        return None
    head = start + len(data[start:stop].rstrip(b" \t\r\n")) - 1
    if data[head] == 0x3E and data.find(b"<", start + 1, head) < 0:  # its start tag, then whitespace
        return Unit(start, head, stop + len(_CASE_END), False, False)
    return (skips and data[stop - 2 : stop] == b"/>" and _skipped(shape, data, begin, stop)) or None


def _skipped(shape: RunShape, data: bytes, begin: int, stop: int) -> Unit | None:
    """The testcase closed at `stop` whose only child is pytest's <skipped>, if a run can hold it."""
    if data.startswith(_SKIPPED_END, stop):
        child_end, end = stop + len(b"</skipped>"), stop + len(_SKIPPED_END)
    elif data.startswith(_CASE_END, stop):
        child_end, end = stop, stop + len(_CASE_END)
    else:
        return None
    start = data.rfind(shape.start, begin, stop)
    head = data.find(b"><skipped ", start, stop) if start >= 0 else -1
    if head < 0:
        return None
    child = _SKIPPED.fullmatch(data, head + 1, child_end)
    if child is None or (child[2] and b"]]>" in child[2]):  # "]]>" is not allowed in text
        return None
    text = data[head + 1 : child_end]
    if not text.isascii():
        try:
            text.decode("utf-8")
        except UnicodeDecodeError:
            return None
        if _NOT_XML[0] in text or _NOT_XML[1] in text:
            return None
    return Unit(start, head, end, True, child[1] == b"pytest.xfail")


def rewrite(
    shape: RunShape, data: bytes, begin: int, end: int, units: list[Unit], close: bytes
) -> tuple[bytes, list[int]]:
    """data[begin:end] with each of `units` written as a plain testcase closed by `close`, and where in
    the run each of them is (its index among the run's testcases)."""
    pieces: list[bytes] = []
    places: list[int] = []
    at, index = begin, 0
    start = shape.start
    for unit in units:
        index += data.count(start, at, unit.start)
        places.append(index)
        index += 1
        pieces += (data[at : unit.head], close)
        at = unit.end
    pieces.append(data[at:end])
    return b"".join(pieces), places


# Where stretches end: at any end tag in files that write passing testcases self-closed, at end tags
# other than </testcase> where passes have one. (re finds them several times faster than bytes.find,
# whose "<" is everywhere.)
END_TAGS = re.compile(b"</")
END_TAGS_BUT_TESTCASE = re.compile(b"</(?!testcase>)")


def stretch(
    shape: RunShape, data: bytes, begin: int, skips: bool, end_tags: re.Pattern[bytes]
) -> tuple[int, list[Unit]]:
    """Where the stretch of testcases from `begin` ends: at the next of `end_tags`, or the end of
    `data`, but for end tags that close testcases a run can hold (`unit_at`), which are listed."""
    found = end_tags.search(data, begin)
    stop = found.start() if found else len(data)
    units: list[Unit] = []
    while unit := unit_at(shape, data, begin, stop, skips):
        units.append(unit)
        found = end_tags.search(data, unit.end)
        stop = found.start() if found else len(data)
    return stop, units


def run_end(data: bytes, start: bytes, begin: int, stop: int) -> int:
    """Where a run that begins at `begin` may end, before `stop` (the stretch's end): after the last
    testcase when it ends in the stretch, else before it (its children come before `stop`); -1 if
    nowhere."""
    last = data.rfind(start, begin, stop)
    if last < 0:
        return -1
    close = data.find(b">", last, stop)
    if close > 0 and data[close - 1] == 0x2F:  # "/>"
        return close + 1
    closed = data.rfind(_CASE_END, last, stop)
    if closed >= 0:
        return closed + len(_CASE_END)
    return _last_end(data, begin, last)


def _last_end(data: bytes, begin: int, limit: int) -> int:
    """The end of the last testcase ended (by "/>" or an end tag) between `begin` and `limit`, or -1."""
    close = data.rfind(b"/>", begin, limit)
    closed = data.rfind(_CASE_END, max(close, begin), limit)
    if closed >= 0:
        return closed + len(_CASE_END)
    return close + 2 if close >= 0 else -1


def cut(data: bytes, begin: int, limit: int, units: list[Unit]) -> tuple[int, list[Unit]]:
    """The end of the last whole testcase from `begin` (plain, or one of `units`) that ends before
    `limit`, and those of `units` before it."""
    units = [unit for unit in units if unit.end <= limit]
    after = units[-1].end if units else begin
    return max(_last_end(data, after, limit), after), units


def plain_end(shape: RunShape, data: bytes, begin: int, end: int) -> int:
    """The end of the plain testcases that data[begin:end] starts with, by `shape.plain` (which always
    matches, maybe nothing): where its first odd testcase begins, for a run cut there."""
    valid = shape.plain.match(data, begin, end)
    return max(_last_end(data, begin, valid.end() if valid else begin), begin)

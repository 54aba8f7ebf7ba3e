"""Shared pieces of the property-based (Hypothesis) tests: profiles, seeds, mutations, the property.

Every fuzz test starts from a real artifact in tests/fixtures (or the bundled samples) and mutates it
the way broken CI artifacts and hostile files look: truncations, flipped bytes, values swapped for
other types, huge or negative numbers, NaN and 1e400, deep nesting, gzip around it all. The property
is the same everywhere: the collector returns a result or raises CollectorError (one line), never
anything else.

Profiles (HEALTHDECK_FUZZ): `quick` (default, and what CI runs: few examples, derandomized so a run is
reproducible) and `long` (thousands of random examples per test; docs/inputs.md has the command);
HEALTHDECK_FUZZ_EXAMPLES overrides the number of examples of either.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from healthdeck.collectors import CollectorError

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]
settings.register_profile(
    "quick", max_examples=25, deadline=None, derandomize=True, database=None, suppress_health_check=_SLOW_OK
)
settings.register_profile("long", max_examples=2_000, deadline=None, suppress_health_check=_SLOW_OK)
_profile = os.environ.get("HEALTHDECK_FUZZ", "quick")
if os.environ.get("HEALTHDECK_FUZZ_EXAMPLES"):  # e.g. HEALTHDECK_FUZZ_EXAMPLES=20000: about 35 min on 2 cores
    settings.register_profile(
        "sized", settings.get_profile(_profile), max_examples=int(os.environ["HEALTHDECK_FUZZ_EXAMPLES"])
    )
    _profile = "sized"
settings.load_profile(_profile)

ROOT = Path(__file__).parent
REAL = ROOT / "fixtures" / "real"
SAMPLES = ROOT.parent / "reports" / "samples"

# Raw JSON tokens json.dumps cannot write (or that Python could not read back as numbers).
RAW_TOKENS = [
    "1e400", "-1e400", "NaN", "Infinity", "-Infinity", "9" * 5000, "-" + "9" * 5000, "1" * 4000,
    "[" * 100_000 + "]" * 100_000, '{"a":' * 5_000 + "1" + "}" * 5_000, "-0", "1.5e308", "0.0000001",
]  # fmt: skip
HOSTILE_VALUES: list[Any] = [
    None, True, False, -1, -5, 0, 2**53, 2**63, 10**30, 2.5, -0.5, 1e308, "", "x", "-10", "1e400", "nan",
    "banana", "9" * 50, [], {}, [1, 2], {"a": 1}, ["F401"], "\x00", "\u202e", "<b>&amp;</b>",
]  # fmt: skip
HOSTILE_TEXT = [
    "-1", "-10", "0", "1e400", "nan", "inf", "9" * 5000, "99999999999999999999", "2.5", "", "banana", "١٢",
    "&amp;", "&#38;", "\u202e", "\t", "100% (3/2)", "50% (1/0)", "(-1/2)",
]  # fmt: skip


def read_seed(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


@cache
def json_seed(path: Path) -> Any:
    return json.loads(read_seed(path))


def outcome(collect: Callable[[], Any], *, max_reason: int | None = 600) -> Any | None:
    """The property: a result, or a CollectorError that is one line (and short, when asked)."""
    try:
        return collect()
    except CollectorError as exc:
        message = str(exc)
        assert "\n" not in message and "\r" not in message, message[:300]
        if max_reason is not None:
            assert len(exc.reason) <= max_reason, exc.reason[:300]
        return None


# --- byte- and text-level mutations ---


@st.composite
def mutate_bytes(draw: st.DrawFn, data: bytes) -> bytes:
    """Truncate, flip, insert or delete a few bytes anywhere."""
    kind = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "none"]))
    if not data or kind == "none":
        return data
    at = draw(st.integers(0, len(data) - 1))
    if kind == "truncate":
        return data[:at]
    if kind == "flip":
        return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    if kind == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    return data[:at] + data[at + draw(st.integers(1, 64)) :]


@st.composite
def maybe_gzip(draw: st.DrawFn, data: bytes) -> bytes:
    """Sometimes gzip the artifact (every collector reads .gz), sometimes cut the gzip stream short."""
    kind = draw(st.sampled_from(["plain", "plain", "gzip", "gzip-truncated"]))
    if kind == "plain":
        return data
    packed = gzip.compress(data, compresslevel=1, mtime=0)
    return packed if kind == "gzip" else packed[: draw(st.integers(0, len(packed) - 1))]


@st.composite
def mutate_lines(draw: st.DrawFn, text: str) -> str:
    """Line-level changes for line formats: swap a number, drop/duplicate a line, add a junk line."""
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["number", "drop", "dup", "junk", "cut"]))
        if kind == "number":
            lines[i] = _swap_number(lines[i], draw(st.sampled_from(HOSTILE_TEXT)), draw(st.integers(0, 3)))
        elif kind == "drop":
            del lines[i]
        elif kind == "dup":
            lines.insert(i, lines[i])
        elif kind == "junk":
            lines.insert(i, draw(st.text(max_size=40)))
        else:
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
    return "\n".join(lines) + ("\n" if draw(st.booleans()) else "")


def _swap_number(line: str, value: str, which: int) -> str:
    import re

    numbers = list(re.finditer(r"\d+", line))
    if not numbers:
        return value + line
    m = numbers[which % len(numbers)]
    return line[: m.start()] + value + line[m.end() :]


# --- XML: attribute values, deep nesting, DOCTYPE ---


@cache
def _attributes(data: bytes) -> list[tuple[int, int]]:
    import re

    return [m.span(1) for m in re.finditer(rb'[\w:-]+="([^"]*)"', data)]


@st.composite
def mutate_xml(draw: st.DrawFn, data: bytes) -> bytes:
    kind = draw(st.sampled_from(["attribute", "attribute", "attribute", "nest", "doctype", "entity"]))
    spans = _attributes(data)
    if kind == "attribute" and spans:
        for _ in range(draw(st.integers(1, 3))):
            start, end = spans[draw(st.integers(0, len(spans) - 1))]
            value = draw(st.sampled_from(HOSTILE_TEXT)).encode()
            data = data[:start] + value + data[end:]
            spans = _attributes(data)
        return data
    if kind == "nest":
        tags = [i for i in range(1, len(data)) if data[i - 1 : i] == b">"][:2000]
        at = draw(st.sampled_from(tags)) if tags else 0
        depth = draw(st.sampled_from([10, 300, 100_000]))
        return data[:at] + b"<x>" * depth + b"</x>" * depth + data[at:]
    if kind == "doctype":
        return b'<!DOCTYPE x [<!ENTITY a "' + b"a" * 100 + b'">]>' + data.split(b"?>", 1)[-1]
    return data.replace(b'name="', b'name="&a;', 1)


# --- JSON: structured mutations on the parsed seed, serialized, raw tokens spliced in ---

_TOKEN = "\x00raw{}\x00"


def _paths(doc: Any, prefix: tuple = (), limit: int = 400) -> list[tuple]:
    """Up to `limit` paths into the document (breadth-first, so the top levels are always there)."""
    out: list[tuple] = []
    queue = [(prefix, doc)]
    while queue and len(out) < limit:
        path, value = queue.pop(0)
        out.append(path)
        items = (
            value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        )
        queue += [((*path, key), child) for key, child in list(items)[:20]]
    return out


def _replace(doc: Any, path: tuple, make: Callable[[Any], Any]) -> Any:
    """A copy of `doc` with the value at `path` replaced by make(old); only the path is copied."""
    if not path:
        return make(doc)
    head, rest = path[0], path[1:]
    copy = dict(doc) if isinstance(doc, dict) else list(doc)
    copy[head] = _replace(doc[head], rest, make)
    return copy


def _delete(doc: Any, path: tuple) -> Any:
    def without(container: Any) -> Any:
        copy = dict(container) if isinstance(container, dict) else list(container)
        del copy[path[-1]]
        return copy

    return _replace(doc, path[:-1], without) if path else doc


@st.composite
def mutate_json(draw: st.DrawFn, doc: Any) -> bytes:
    paths = _paths(doc)
    tokens: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths))
        kind = draw(st.sampled_from(["value", "value", "token", "wrap", "delete", "stringify"]))
        if kind == "value":
            doc = _replace(doc, path, lambda _old: draw(st.sampled_from(HOSTILE_VALUES)))
        elif kind == "token":
            tokens.append(draw(st.sampled_from(RAW_TOKENS)))
            marker = _TOKEN.format(len(tokens) - 1)
            doc = _replace(doc, path, lambda _old, m=marker: m)
        elif kind == "wrap":
            doc = _replace(doc, path, lambda old: [old] if draw(st.booleans()) else {"x": old})
        elif kind == "stringify":
            doc = _replace(doc, path, lambda old: json.dumps(old)[:100])
        elif path:
            doc = _delete(doc, path)
        paths = _paths(doc)
    text = json.dumps(doc)
    for i, token in enumerate(tokens):
        text = text.replace(json.dumps(_TOKEN.format(i)), token)
    return text.encode()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def assert_reportable(**collected: Any) -> None:
    """What a collector accepted must make a report that passes its own checks (never exit 5)."""
    from healthdeck.reports.build import Collected, build_report
    from healthdeck.reports.config import Config
    from healthdeck.reports.output import report_json
    from healthdeck.reports.stamp import Stamp

    lanes = {"src": ("src/",), "more_itertools": ("more_itertools/",), "dateutil": ("dateutil/",)}
    report = build_report(
        Collected(**collected), Config(lanes=lanes), Stamp(None, None, None, 1795488000, None)
    )
    json.loads(report_json(report))

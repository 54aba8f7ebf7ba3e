"""Guardian decision logs (JSONL, plain or gzip; one file may hold both modes) -> aggregated counts.

Streaming, one line at a time; memory holds only the aggregates (bounded by the number of distinct
mode × tenant × action × rule combinations), never the records. Malformed lines are counted and the
first few kept with their line numbers; they never stop the run.

Counting: allow decisions are counted per (mode, tenant, action); deny decisions per (mode,
enforced, rule_id, reason, tenant, action, policy_etag). would-deny = deny and not enforced;
denied = deny and enforced. The split keeps the hot loop close to a bare parse (see
benchmarks/bench_guardian.py): nine in ten decisions are allows and need only three fields.
"""

from __future__ import annotations

import io
import itertools
import multiprocessing
import os
import zlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

import orjson

from ..base import GZIP_MAGIC, CollectorError, open_binary
from ..checks import shown
from .format import DECISIONS, MODES

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:
    from typing import IO

SOURCE = "guardian-log"
MALFORMED_SAMPLES = 5
MAX_FIELD_CHARS = 256  # tenant, action, rule_id, reason, policy_etag

AllowKey = tuple[str, str, str]  # mode, tenant, action
DenyKey = tuple[
    str, bool, str | None, str, str, str, str | None
]  # mode, enforced, rule, reason, tenant, action, etag
TraceInfo = tuple[
    str, str, bool | None, str | None, str, str
]  # mode, decision, enforced, rule_id, tenant, action
# what a malformed record raises (orjson's JSONDecodeError is a ValueError); anything else is a bug, not a line
_BAD_RECORD = (ValueError, KeyError, TypeError, AttributeError)

_allow_key = itemgetter("mode", "tenant", "action")
_deny_key = itemgetter("mode", "enforced", "rule_id", "reason", "tenant", "action", "policy_etag")


def _trace_info(record: dict) -> TraceInfo:
    """A traced decision as the delta shows it; an allow has no rule and may carry no `enforced`."""
    return (record["mode"], record["decision"], record.get("enforced"), record.get("rule_id"), record["tenant"],
            record["action"])  # fmt: skip


@dataclass(frozen=True, slots=True)
class Malformed:
    file: str
    line: int
    reason: str


@dataclass
class DecisionLog:
    files: list[str]
    malformed: int = 0  # non-blank lines that are not a valid decision record
    malformed_samples: list[Malformed] = field(default_factory=list)
    allow: dict[AllowKey, int] = field(default_factory=dict)
    deny: dict[DenyKey, int] = field(default_factory=dict)
    # Only with trace collection on, keyed by (mode, trace id) since one file may hold both modes:
    # the deny decisions, and every decision of the watched trace ids.
    deny_traces: dict[tuple[str, str], TraceInfo] = field(default_factory=dict)
    watched: dict[tuple[str, str], TraceInfo] = field(default_factory=dict)

    @property
    def records(self) -> int:
        """Valid decision records counted."""
        return sum(self.allow.values()) + sum(self.deny.values())

    def modes(self) -> list[str]:
        seen = {k[0] for k in self.allow} | {k[0] for k in self.deny}
        return [m for m in MODES if m in seen]


def collect_decisions(
    paths: Sequence[str | Path],
    *,
    trace_denies: bool = False,
    watch: Collection[str] = frozenset(),
) -> DecisionLog:
    """Aggregate decision records from `paths`.

    `trace_denies` also keeps the trace id of every deny decision; `watch` keeps every decision of
    the given trace ids. Both serve the exact per-request diff and cost memory in proportion to the
    denies (not the traffic), so they are off unless asked for.
    """
    if not paths:
        raise CollectorError(SOURCE, "<none>", "no decision log files given")
    log = DecisionLog(files=[str(p) for p in paths])
    traced = trace_denies or bool(watch)
    for path in paths:
        try:
            windows = [] if traced else _windows(path)
            if len(windows) > 1:
                _read_parallel(log, str(path), windows)
                continue
            with open_binary(SOURCE, path) as raw:
                stream = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw, 1 << 20)
                if traced:
                    _read_traced(log, str(path), stream, trace_denies, watch)
                else:
                    _read(log, str(path), stream)
        except (OSError, EOFError, zlib.error) as exc:  # zlib.error: a corrupt deflate stream
            raise CollectorError(SOURCE, path, f"cannot read: {exc}") from exc
    if not log.allow and not log.deny:
        first = log.malformed_samples[0] if log.malformed_samples else None
        detail = f"; first: line {first.line}: {first.reason}" if first else ""
        raise CollectorError(
            SOURCE, paths[0], f"no valid decision records ({log.malformed} malformed lines{detail})"
        )
    return log


def _read(log: DecisionLog, path: str, stream: io.BufferedReader) -> int:
    """Count every line of `stream`; returns how many lines it had (blank ones included)."""
    # The hot loop (benchmarked): `_count` inlined, so one parse, one itemgetter and one dict update
    # per line; a key is validated only the first time it is seen. Any bad line is data about the
    # log (counted as malformed), never a crash.
    loads, allow, deny = orjson.loads, log.allow, log.deny
    allow_get, deny_get = allow.get, deny.get
    number = 0
    for number, line in enumerate(stream, 1):
        try:
            record = loads(line)
            decision = record["decision"]
            if decision == "allow":
                key = _allow_key(record)
                count = allow_get(key)
                if count is None:
                    _check_allow(key)
                    count = 0
                allow[key] = count + 1
            elif decision == "deny":
                key = _deny_key(record)
                count = deny_get(key)
                if count is None:
                    _check_deny(key)
                    count = 0
                deny[key] = count + 1
            else:
                _bad_decision(decision)
        except _BAD_RECORD as exc:
            if line.strip():
                _malformed(log, path, number, exc)
    return number


# Plain files at least this big are split across processes, one per core (gzip cannot be split).
PARALLEL_MIN_BYTES = 32 << 20


def _windows(path: str | Path) -> list[tuple[int, int]]:
    """Byte ranges that start and end on line boundaries, one per core; [] when not worth it."""
    workers = os.cpu_count() or 1
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            if workers < 2 or size < PARALLEL_MIN_BYTES or fh.read(2) == GZIP_MAGIC:
                return []
            cuts = [0]
            for i in range(1, workers):
                fh.seek(size * i // workers)
                fh.readline()  # move to the start of the next line
                cuts.append(max(fh.tell(), cuts[-1]))
    except OSError as exc:
        raise CollectorError(SOURCE, path, exc.strerror or str(exc)) from exc
    cuts.append(size)
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]


def _read_window(path: str, start: int, end: int) -> tuple[DecisionLog, int]:
    """Worker: count one byte range of a plain file (lines numbered from 1 within the range)."""
    log = DecisionLog(files=[path])
    with open(path, "rb") as fh:
        fh.seek(start)
        lines = _read(log, path, io.BufferedReader(_Window(fh, end - start), 1 << 20))
    return log, lines


def _read_parallel(log: DecisionLog, path: str, windows: list[tuple[int, int]]) -> None:
    methods = multiprocessing.get_all_start_methods()
    with multiprocessing.get_context("fork" if "fork" in methods else "spawn").Pool(len(windows)) as pool:
        parts = pool.starmap(_read_window, [(path, a, b) for a, b in windows])
    offset = 0  # line numbers of later windows continue those of the earlier ones
    for part, lines in parts:
        for key, n in part.allow.items():
            log.allow[key] = log.allow.get(key, 0) + n
        for key, n in part.deny.items():
            log.deny[key] = log.deny.get(key, 0) + n
        log.malformed += part.malformed
        room = MALFORMED_SAMPLES - len(log.malformed_samples)
        log.malformed_samples += [
            Malformed(m.file, m.line + offset, m.reason) for m in part.malformed_samples[:room]
        ]
        offset += lines


class _Window(io.RawIOBase):
    """The next `length` bytes of an open file, as a stream of its own."""

    def __init__(self, fh: IO[bytes], length: int) -> None:
        self.fh, self.left = fh, length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.left <= 0:
            return 0
        data = self.fh.read(min(len(buffer), self.left))
        buffer[: len(data)] = data
        self.left -= len(data)
        return len(data)


def _read_traced(
    log: DecisionLog, path: str, stream: io.BufferedReader, trace_denies: bool, watch: Collection[str]
) -> None:
    loads = orjson.loads
    for number, line in enumerate(stream, 1):
        try:
            record = loads(line)
            decision = _count(log, record)
            trace = record.get("trace_id")
            # A record is counted whatever its trace id, so counts never depend on tracing; only a
            # string id can be matched (a list or number would also be unhashable here).
            if isinstance(trace, str) and trace:
                if trace_denies and decision == "deny":
                    log.deny_traces[(record["mode"], trace)] = _trace_info(record)
                if trace in watch:
                    log.watched[(record["mode"], trace)] = _trace_info(record)
        except _BAD_RECORD as exc:
            if line.strip():
                _malformed(log, path, number, exc)


def _count(log: DecisionLog, record: dict) -> str:
    """Count one record (the readable form of the hot loop in `_read`); returns its decision."""
    decision = record["decision"]
    if decision == "allow":
        key = _allow_key(record)
        _check_allow(key)
        log.allow[key] = log.allow.get(key, 0) + 1
    elif decision == "deny":
        key = _deny_key(record)
        _check_deny(key)
        log.deny[key] = log.deny.get(key, 0) + 1
    else:
        _bad_decision(decision)
    return decision


def _bad_decision(decision: object) -> None:
    raise ValueError(f"decision {shown(decision)} is not one of {', '.join(DECISIONS)}")


def _check_allow(key: AllowKey) -> None:
    mode, tenant, action = key
    _check_mode(mode)
    _check_str("tenant", tenant)
    _check_str("action", action)


def _check_deny(key: DenyKey) -> None:
    mode, enforced, rule_id, reason, tenant, action, etag = key
    _check_mode(mode)
    if not isinstance(enforced, bool):
        raise TypeError(f"enforced must be true or false, not {shown(enforced)}")
    if rule_id is not None:
        _check_str("rule_id", rule_id)
    _check_str("reason", reason)
    _check_str("tenant", tenant)
    _check_str("action", action)
    if etag is not None:
        _check_str("policy_etag", etag)


def _check_mode(mode: object) -> None:
    if mode not in MODES:
        raise ValueError(f"mode {shown(mode)} is not one of {', '.join(MODES)}")


def _check_str(name: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise TypeError(f"{name} must be a non-empty string, not {shown(value)}")
    if len(value) > MAX_FIELD_CHARS:
        # These are identifiers that become report keys and chart labels; a megabyte "tenant" is junk.
        raise ValueError(f"{name} is {len(value)} characters long (at most {MAX_FIELD_CHARS})")


def _malformed(log: DecisionLog, path: str, number: int, exc: Exception) -> None:
    log.malformed += 1
    if len(log.malformed_samples) < MALFORMED_SAMPLES:
        log.malformed_samples.append(Malformed(path, number, _reason(exc)))


def _reason(exc: Exception) -> str:
    if isinstance(exc, orjson.JSONDecodeError):
        return f"not valid JSON ({str(exc).split(':')[0]})"
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    text = " ".join(str(exc).split())
    if isinstance(exc, TypeError) and ("indices must be" in text or "not subscriptable" in text):
        return "not a JSON object"
    return text[:200]

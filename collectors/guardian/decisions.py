"""Guardian decision logs (JSONL, plain or gzip; one file may hold both modes) -> aggregated counts.

Streaming, a block of lines at a time; memory holds only the aggregates, never the records, and they
are bounded whatever the log holds: at most MAX_KEYS distinct keys per table (a new key past that is
counted under OTHER, see `_admit`) and at most MAX_TRACED traced denies per log. Every count stays
exact. Malformed lines are counted and the first few kept with their line numbers; they never stop
the run. Blank lines are skipped a block at a time (a log of nothing but newlines reads at the speed
of decompression).

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
import re
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
    from collections.abc import Callable, Iterator
    from typing import IO

SOURCE = "guardian-log"
MALFORMED_SAMPLES = 5
MAX_FIELD_CHARS = 256  # tenant, action, rule_id, reason, policy_etag
# Distinct keys kept per table (allow, deny) of one log: a log with a tenant or an action per request
# (ids in the action) would otherwise hold one key per record. Past it, a new key is counted under
# OTHER (its tenant and action; also its rule, reason and etag past MAX_KEYS + FOLD_ROOM), so the
# totals per mode stay exact and the report says how many decisions were folded.
MAX_KEYS = 100_000
FOLD_ROOM = 10_000
OTHER = "(other)"
# Deny decisions whose trace id is kept for the exact per-request diff, per log; the rest are counted
# (`DecisionLog.untraced`) and the diff says it covers the traced ones only.
MAX_TRACED = 500_000
CHUNK_BYTES = 1 << 20
# A longer line is malformed without being parsed (a record is well under 4 KiB): a file with no
# newline must not be read into memory whole.
MAX_LINE_BYTES = 4 << 20

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


def deny_info(key: DenyKey) -> TraceInfo:
    """A traced deny (kept as its deny key) as the delta shows a traced decision."""
    mode, enforced, rule_id, _reason, tenant, action, _etag = key
    return (mode, "deny", enforced, rule_id, tenant, action)


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
    # Only with trace collection on, by mode since one file may hold both modes: the deny decisions
    # (trace id -> the deny key it was counted under, that very tuple, so a trace costs its id and a
    # dict slot), and every decision of the watched trace ids.
    deny_traces: dict[str, dict[str, DenyKey]] = field(default_factory=dict)
    watched: dict[str, dict[str, TraceInfo]] = field(default_factory=dict)
    untraced: int = 0  # deny decisions with a trace id not kept (past MAX_TRACED)
    traced: int = 0  # deny trace ids kept
    deny_keys: dict[DenyKey, DenyKey] = field(default_factory=dict, repr=False, compare=False)  # traced only
    # decisions counted under a folded key (past MAX_KEYS distinct keys), per mode
    folded: dict[str, int] = field(default_factory=dict)
    # one object per distinct field value: 100 000 keys naming the same rule share one string
    strings: dict[str, str] = field(
        default_factory=lambda: {v: v for v in (*MODES, *DECISIONS)}, repr=False, compare=False
    )

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
    # per line; a key is validated (and admitted, see `_admit`) only the first time it is seen. Any
    # bad line is data about the log (counted as malformed), never a crash.
    loads, allow, deny = orjson.loads, log.allow, log.deny
    allow_get, deny_get = allow.get, deny.get
    lines = _Lines(log, path, stream)
    for first, block in lines:
        for number, line in enumerate(block, first):
            try:
                record = loads(line)
                decision = record["decision"]
                if decision == "allow":
                    key = _allow_key(record)
                    count = allow_get(key)
                    if count is None:
                        _check_allow(key)
                        key = _admit(log, allow, key, _fold_allow)
                        count = allow_get(key, 0)
                    allow[key] = count + 1
                elif decision == "deny":
                    key = _deny_key(record)
                    count = deny_get(key)
                    if count is None:
                        _check_deny(key)
                        key = _admit(log, deny, key, _fold_deny)
                        count = deny_get(key, 0)
                    deny[key] = count + 1
                else:
                    _bad_decision(decision)
            except _BAD_RECORD as exc:
                if line.strip():
                    _malformed(log, path, number, exc)
    return lines.count


# Runs of non-empty lines, in a block that has blank ones.
_NON_EMPTY_RUN = re.compile(rb"[^\n]+(?:\n[^\n]+)*")


class _Lines:
    """The lines of `stream` as (first line number, [lines]) blocks, without the newlines.

    Blank lines never reach the per-line loop when they come in bulk: a block of whitespace only is
    counted by `bytes.count` and skipped, and a block with empty lines is cut into its runs of
    non-empty lines by one regex scan. Both run at C speed, so a gzip inflating to gigabytes of
    newlines costs its decompression. `count` is the number of lines read, blank ones included.
    """

    def __init__(self, log: DecisionLog, path: str, stream: IO[bytes]) -> None:
        self.log, self.path, self.stream, self.count = log, path, stream, 0

    def __iter__(self) -> Iterator[tuple[int, list[bytes]]]:
        read, rest, skipping = self.stream.read, b"", False
        while chunk := read(CHUNK_BYTES):
            if skipping:  # the tail of an over-long line
                end = chunk.find(b"\n")
                if end < 0:
                    continue
                skipping, chunk = False, chunk[end + 1 :]
                self.count += 1
            data = rest + chunk if rest else chunk
            cut = data.rfind(b"\n") + 1
            if not cut:
                rest = data
                if len(rest) > MAX_LINE_BYTES:
                    skipping, rest = True, b""
                    _too_long(self.log, self.path, self.count + 1)
                continue
            whole, rest = data[:cut], data[cut:]
            yield from self._blocks(whole)
        if rest:
            yield from self._blocks(rest + b"\n")
        elif skipping:
            self.count += 1

    def _blocks(self, whole: bytes) -> Iterator[tuple[int, list[bytes]]]:
        """`whole`: complete lines, each ending in a newline."""
        first = self.count + 1
        if whole.isspace():  # blank lines only: counted, never split
            self.count += whole.count(b"\n")
            return
        lines = whole.split(b"\n")
        lines.pop()  # the empty string after the last newline
        self.count += len(lines)
        if b"" not in lines:  # the common case: no empty line (a scan in C)
            yield first, lines
            return
        at = 0
        for run in _NON_EMPTY_RUN.finditer(whole):
            first += whole.count(b"\n", at, run.start())
            yield first, run[0].split(b"\n")
            at = run.start()


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
        for table, counts, fold in ((log.allow, part.allow, _fold_allow), (log.deny, part.deny, _fold_deny)):
            for key, n in counts.items():
                if key not in table:
                    key = _admit(log, table, key, fold, n)
                table[key] = table.get(key, 0) + n
        for mode, n in part.folded.items():
            log.folded[mode] = log.folded.get(mode, 0) + n
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
    for first, block in _Lines(log, path, stream):
        for number, line in enumerate(block, first):
            try:
                record = loads(line)
                decision, key = _count(log, record)
                trace = record.get("trace_id")
                # A record is counted whatever its trace id, so counts never depend on tracing; only a
                # string id can be matched (a list or number would also be unhashable here).
                if isinstance(trace, str) and trace:
                    if trace_denies and decision == "deny":
                        _trace_deny(log, key, trace)
                    if trace in watch:
                        info = _shared(log, _trace_info(record))
                        log.watched.setdefault(info[0], {})[trace] = info
            except _BAD_RECORD as exc:
                if line.strip():
                    _malformed(log, path, number, exc)


def _trace_deny(log: DecisionLog, key: DenyKey, trace: str) -> None:
    """Keep a deny's trace id with the key it was counted under, up to MAX_TRACED per log."""
    traces = log.deny_traces.setdefault(key[0], {})
    if trace not in traces:
        if log.traced >= MAX_TRACED:
            log.untraced += 1
            return
        log.traced += 1
    traces[trace] = log.deny_keys.setdefault(key, key)


def _count(log: DecisionLog, record: dict) -> tuple[str, tuple]:
    """Count one record (the readable form of the hot loop in `_read`); returns its decision and the
    key it was counted under."""
    decision = record["decision"]
    if decision == "allow":
        key = _allow_key(record)
        if key not in log.allow:
            _check_allow(key)
            key = _admit(log, log.allow, key, _fold_allow)
        log.allow[key] = log.allow.get(key, 0) + 1
    elif decision == "deny":
        key = _deny_key(record)
        if key not in log.deny:
            _check_deny(key)
            key = _admit(log, log.deny, key, _fold_deny)
        log.deny[key] = log.deny.get(key, 0) + 1
    else:
        _bad_decision(decision)
    return decision, key


def _admit(
    log: DecisionLog, table: dict, key: tuple, fold: Callable[[tuple, bool], tuple], count: int = 1
) -> tuple:
    """The key that `count` decisions under `key`, a key not in `table` yet, are counted under.

    Below MAX_KEYS distinct keys, `key` itself, its strings shared with the other keys' (a log of
    300 000 tenants would otherwise hold every record's rule, reason and etag as strings of their
    own). Past it, `key` with tenant and action as OTHER; past MAX_KEYS + FOLD_ROOM (rules, reasons
    or etags that never repeat either), every string field as OTHER, so the table stops growing.
    """
    if len(table) >= MAX_KEYS:
        folded = fold(key, len(table) >= MAX_KEYS + FOLD_ROOM)
        if folded != key:  # (equal: a worker's folded key, merged; the worker counted it)
            log.folded[key[0]] = log.folded.get(key[0], 0) + count
            key = folded
        if key in table:
            return key
    strings = log.strings
    return tuple(strings.setdefault(v, v) if v.__class__ is str else v for v in key)


def _shared(log: DecisionLog, info: TraceInfo) -> TraceInfo:
    """`info` with the strings the counted keys hold where they are the same (a record's own strings
    cost some 60 bytes each: 300 000 watched decisions would hold 90 MB of copies of the same modes,
    decisions, rules and actions)."""
    strings = log.strings
    return tuple(strings.get(v, v) if v.__class__ is str else v for v in info)  # type: ignore[return-value]


def _fold_allow(key: AllowKey, _whole: bool) -> AllowKey:
    return (key[0], OTHER, OTHER)


def _fold_deny(key: DenyKey, whole: bool) -> DenyKey:
    mode, enforced, rule_id, reason, _tenant, _action, etag = key
    if whole:
        return (mode, enforced, OTHER, OTHER, OTHER, OTHER, None)
    return (mode, enforced, rule_id, reason, OTHER, OTHER, etag)


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
    _malformed_line(log, path, number, _reason(exc))


def _too_long(log: DecisionLog, path: str, number: int) -> None:
    _malformed_line(log, path, number, f"line longer than {MAX_LINE_BYTES >> 20} MiB (not read)")


def _malformed_line(log: DecisionLog, path: str, number: int, reason: str) -> None:
    log.malformed += 1
    if len(log.malformed_samples) < MALFORMED_SAMPLES:
        log.malformed_samples.append(Malformed(path, number, reason))


def _reason(exc: Exception) -> str:
    if isinstance(exc, orjson.JSONDecodeError):
        return f"not valid JSON ({str(exc).split(':')[0]})"
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    text = " ".join(str(exc).split())
    if isinstance(exc, TypeError) and ("indices must be" in text or "not subscriptable" in text):
        return "not a JSON object"
    return text[:200]

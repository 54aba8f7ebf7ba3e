"""`python -m compileall [-q]` output -> one failure per file that did not compile.

Each failure is a block that starts with `*** Error compiling '<path>'...` and runs to the next blank
line; its `File "...", line N` and last line (`SyntaxError: ...`) give the location and message.
Without `-q`, compileall also prints `Listing '...'...` and `Compiling '...'...` lines. Anything else
is not compileall output and is refused rather than silently read as "0 failures". Empty output is
a clean run (compileall -q prints nothing when every file compiles).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePath

from .base import CollectorError, read_text

SOURCE = "compileall"

_HEADER = re.compile(r"^\*\*\* Error compiling '(.+)'\.\.\.$")
_OTHER_ERROR = re.compile(r"^\*\*\* .+$")  # e.g. "*** Can't list 'x'" or "*** PermissionError: ..."
_PROGRESS = re.compile(r"^(Listing|Compiling) '.+'\.\.\.$")
_CANT_LIST = re.compile(r"^Can't list (.+)$")
_LOCATION = re.compile(r'^\s*File "(.+)", line ([0-9]{1,9})\b')  # a line number, not 5 000 digits


@dataclass(frozen=True, slots=True)
class CompileFailure:
    path: str
    line: int | None
    message: str


@dataclass(frozen=True, slots=True)
class CompileallResult:
    file: str
    failures: tuple[CompileFailure, ...]


def collect_compileall(path: str | Path) -> CompileallResult:
    text = read_text(SOURCE, path)
    failures: list[CompileFailure] = []
    block: list[str] | None = None
    for number, line in enumerate(text.splitlines(), 1):
        header = _HEADER.match(line)
        if header or _OTHER_ERROR.match(line):
            if block is not None:
                failures.append(_failure(block))
            block = [line]
        elif not line.strip():
            if block is not None:
                failures.append(_failure(block))
            block = None
        elif block is not None:
            block.append(line)
        elif unlisted := _CANT_LIST.match(line):  # compileall's whole answer for a missing folder, exit 0
            raise CollectorError(
                SOURCE, path, f"compileall could not list {unlisted.group(1)} (no such folder?), so it "
                "compiled nothing: point python -m compileall at the project's package folder",
            )  # fmt: skip
        elif not _PROGRESS.match(line):
            raise CollectorError(SOURCE, path, f"line {number} is not compileall output: {line[:80]!r}")
    if block is not None:
        failures.append(_failure(block))
    return CompileallResult(str(path), tuple(failures))


def _failure(block: list[str]) -> CompileFailure:
    # -q prints "*** Error compiling 'x'..." then the error; verbose mode prints "Compiling 'x'..."
    # on its own line and starts the block with "***   File "x", line N".
    header = _HEADER.match(block[0])
    lines = block[1:] if header else [block[0].removeprefix("***"), *block[1:]]
    target = header.group(1) if header else ""
    line_no: int | None = None
    for line in lines:
        location = _LOCATION.match(line)
        if location:
            target = target or location.group(1)
            line_no = int(location.group(2))
            break
    if not target:  # a one-line "*** Can't list '...'" style error
        return CompileFailure("", None, block[0].removeprefix("***").strip())
    message = block[-1].strip() if len(block) > 1 else "error compiling (no message)"
    return CompileFailure(_clean(target), line_no, message)


def _clean(target: str) -> str:
    # compileall prints paths as given ("./pkg/x.py"); strip the "./" so lanes match.
    parts = PurePath(target).parts
    return PurePath(*parts[1:]).as_posix() if parts and parts[0] == "." else PurePath(target).as_posix()

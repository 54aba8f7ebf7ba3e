"""What a failure body (the traceback text inside `<failure>`/`<error>`) says, in a few bounded facts.

A `message` attribute is often not enough to tell failures apart: pytest writes "collection failure" for
every module that cannot be imported (the reason, "No module named 'pretend'", is only in the body), and
a bare `raise Exception()` has an empty message. So the JUnit reader reads, from the first and the last
few KB of a failing test's body (`read_trace`):

* `exception`: the exception line the traceback ends with (pytest's last block of `E   ` lines, or the
  last `Type: message` line of a plain Python traceback), else the first located message
  (Go's `    calc_test.go:13: got 4, want 5`), else the line after a bare location (GoogleTest's
  `calc_test.cpp:10` then `Expected equality of these values:`);
* `exception_type`: the exception's type as pytest's long traceback closes it (`path.py:42: Type`);
* `last_frame`: the innermost frame (`path.py:42 in func`, or a Java/JavaScript `at ...` line).

Nothing else of the body is kept, so memory stays proportional to the number of failing tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KEEP_CHARS = 2048  # of the head and of the tail of a failure body

# pytest --tb=long/auto closes with the location and the type: "tests/test_x.py:42: AssertionError".
_PYTEST_CLOSE = re.compile(r"^(?P<path>[^\s:][^:\n]*?):(?P<line>\d+): (?P<type>[A-Za-z_][\w.]*)[ \t]*$", re.M)
# pytest frames in --tb=short and in import/collection tracebacks: "tests/test_x.py:18: in <module>".
_PYTEST_FRAME = re.compile(r"^(?P<path>[^\s:][^:\n]*?):(?P<line>\d+): in (?P<func>\S+)[ \t]*$", re.M)
_PYTHON_FRAME = re.compile(r'^[ \t]*File "(?P<path>[^"\n]+)", line (?P<line>\d+), in (?P<func>\S+)', re.M)
_STACK_FRAME = re.compile(r"^[ \t]+at (?P<where>\S[^\n]*?)[ \t]*$", re.M)  # Java, JavaScript, C#
# how Python shows where a SyntaxError is (no function: the code never ran)
_SYNTAX_WHERE = re.compile(r'^File "[^"\n]+", line \d+$')
_E_LINE = re.compile(r"^E(?: +(?P<text>\S[^\n]*?))?[ \t]*$")
_PYTHON_EXCEPTION = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::[ \t]*(?P<message>[^\n]*))?$")
# "path.ext:line: message" (Go's t.Errorf, compilers); pytest's "path:line: in func" frames are not messages
_LOCATED = re.compile(
    r"^[ \t]*(?P<path>[\w./\\-]+\.\w+):(?P<line>\d+):(?:\d+:)? (?!in \S+[ \t]*$)(?P<message>\S[^\n]*)$", re.M
)
# A first line that says only where: GoogleTest writes the location, then the message on the next line;
# pytest's fixture errors start "file /src/tests/test_x.py, line 289" and say what went wrong in E lines.
# bats writes only "(in test file ./calc.bats, line 9)" (or "(from function `f' in test file …)") first.
BARE_LOCATION = re.compile(
    r"^(?:[\w./\\-]+\.\w+:\d+|unknown file|file \S.*, line \d+|\((?:in|from function .+ in) test file .+, line \d+\))$"
)
# Messages a writer puts on every failure, which say nothing of this one: nose2's "test failure",
# behave's "None" for an undefined step, gotestsum's "Failed". The body tells what happened.
PLACEHOLDERS = frozenset(("test failure", "none", "failed"))
# Go: "panic: assignment to entry in nil map" (what a panicking test died of); the runner's own lines
_GO_PANIC = re.compile(r"^panic: (?P<text>\S[^\n]*?)(?: \[recovered\])?[ \t]*$", re.M)
_GO_MARKERS = ("=== RUN", "=== PAUSE", "=== CONT", "=== NAME", "--- FAIL:", "--- PASS:", "--- SKIP:")
_CATCH2_MARKER = "FAILED:"  # the line Catch2 opens every failure body with
# Rust: "thread 'tests::adds' (22652) panicked at src/lib.rs:7:31:", the panic's message on the next line
_RUST_PANIC = re.compile(r"^thread '[^'\n]*'(?: \(\d+\))? panicked at [^\n]+:[ \t]*$", re.M)
_YAML_MESSAGE = re.compile(r"^[ \t]*message:[ \t]*(?P<text>\S[^\n]*?)[ \t]*$", re.M)
_YAML_NAME = re.compile(r"^[ \t]*name:[ \t]*(?P<text>[A-Za-z_][\w.]*)[ \t]*$", re.M)


@dataclass(frozen=True, slots=True)
class TraceFacts:
    exception: str | None = None
    exception_type: str | None = None
    last_frame: str | None = None


NO_TRACE = TraceFacts()


def read_trace(body: str | None, limit: int = 300) -> TraceFacts:
    """The exception line, the exception type and the innermost frame a failure body shows, if any.

    Only the first and last KEEP_CHARS of the body are read: tracebacks can be megabytes long, and
    what tells a cause lies at their ends (Python's innermost frame last, Java's first).
    """
    if not body or not body.strip():
        return NO_TRACE
    if len(body) > 2 * KEEP_CHARS:
        body = body[:KEEP_CHARS] + "\n" + body[-KEEP_CHARS:]
    close = _last(_PYTEST_CLOSE, body)
    return TraceFacts(
        exception=_bounded(_exception_line(body), limit),
        exception_type=close["type"] if close else None,
        last_frame=_bounded(_frame(body, close), limit),
    )


def body_message(body: str, test_name: str) -> str | None:
    """What a failure body (or a test's output) says, for an element whose message attribute is missing or
    a placeholder: the panic a Go or Rust test died of; the exception line of a traceback; in a TAP YAML
    block (tap-xunit) its `message:`; else its first line that is neither the test's own name (PHPUnit
    starts with "Class::test"), only a location (bats) nor the runner's own marker (Go's "=== RUN").
    None when it says nothing more."""
    if len(body) > 2 * KEEP_CHARS:
        body = body[:KEEP_CHARS] + "\n" + body[-KEEP_CHARS:]
    if panic := _GO_PANIC.search(body):
        return f"panic: {panic['text']}"
    if rust := _RUST_PANIC.search(body):
        after = [line.strip() for line in body[rust.end() :].splitlines() if line.strip()]
        if after:
            return after[0]
    exception = _exception_line(body)
    if exception:
        return exception
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    if lines and lines[0] == "---" and (message := _YAML_MESSAGE.search(body)):
        name = _YAML_NAME.search(body)
        return f"{name['text']}: {message['text']}" if name else message["text"]
    for line in lines:
        if (line != test_name and f"::{test_name}" not in line and not BARE_LOCATION.match(line)
                and not line.startswith(_GO_MARKERS) and line != _CATCH2_MARKER):  # fmt: skip
            return line
    return None


def _last(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """The last match of a pattern that matches within one line, from its start (`^`, re.M): tried
    line by line from the end, as the last match is nearly always near it."""
    end = len(text)
    while end >= 0:
        start = text.rfind("\n", 0, end) + 1
        found = pattern.match(text, start, end)
        if found:
            return found
        end = start - 1
    return None


def _exception_line(body: str) -> str | None:
    lines = body.splitlines()
    # pytest: the first line of the last block of "E   " lines is the exception the test ended with.
    end = next(
        (i for i in range(len(lines) - 1, -1, -1) if lines[i][:1] == "E" and _E_LINE.match(lines[i])), None
    )
    if end is not None:
        start = end
        while start > 0 and _E_LINE.match(lines[start - 1]):
            start -= 1
        block = [text for line in lines[start : end + 1] if (text := _E_LINE.match(line)["text"])]
        if block and _SYNTAX_WHERE.match(block[0]):
            # a SyntaxError block starts with where (file, line), then the source and a caret; the error
            # itself ("SyntaxError: invalid syntax") is the block's last exception-shaped line
            return next((text for text in reversed(block) if _PYTHON_EXCEPTION.match(text)), block[0])
        if block:
            return block[0]
    # A plain Python traceback ends with "Type: message" after its last frame.
    frames = list(_PYTHON_FRAME.finditer(body))
    if frames:
        for line in body[frames[-1].end() :].splitlines()[1:]:
            if line and not line[0].isspace() and _PYTHON_EXCEPTION.match(line):
                return line.strip()
    located = _LOCATED.search(body)
    if located:
        return located["message"]
    text = [line.strip() for line in lines if line.strip()]
    if len(text) > 1 and BARE_LOCATION.match(text[0]):
        return text[1]
    return None


def _frame(body: str, close: re.Match[str] | None) -> str | None:
    # Python frames are innermost last; the closing pytest line is the innermost of all.
    if close:
        return f"{close['path']}:{close['line']}"
    python = max(
        (m for m in (_last(_PYTEST_FRAME, body), _last(_PYTHON_FRAME, body)) if m),
        key=lambda m: m.start(),
        default=None,
    )
    if python:
        return f"{python['path']}:{python['line']} in {python['func']}"
    # Java/JavaScript stacks are innermost first.
    stack = _STACK_FRAME.search(body)
    if stack:
        return stack["where"]
    located = _LOCATED.search(body)
    return f"{located['path']}:{located['line']}" if located else None


def _bounded(text: str | None, limit: int) -> str | None:
    if not text:
        return None
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"

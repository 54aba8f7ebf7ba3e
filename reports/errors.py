"""The command layer's own errors and the exit codes (README.md, docs/gate.md) the CLI maps them to.

0  success
1  the gate says NO-GO (or a blocking INCOMPLETE)
2  usage or configuration error
3  an input artifact is missing, unreadable or malformed
4  an output could not be written
5  internal error: the report healthdeck built is invalid (a bug; nothing was written)
130  interrupted (SIGINT), as a shell reports it
141  standard output closed early (`| head`), as a shell reports a tool SIGPIPE stopped
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

EXIT_OK, EXIT_NO_GO, EXIT_USAGE, EXIT_INPUT, EXIT_OUTPUT, EXIT_INTERNAL = 0, 1, 2, 3, 4, 5
EXIT_INTERRUPTED, EXIT_PIPE = 130, 141


class UsageError(Exception):
    """The command line asks for something impossible (exit 2)."""


class InputError(Exception):
    """A report or history the command needs cannot be read; one line, names the file (exit 3)."""


def one_line(text: str) -> str:
    """`text` with what is not printable shown escaped: a newline or a terminal escape in a file name can
    neither start a second line (on GitHub, a workflow command such as `::error`) nor recolour the
    terminal. For every line healthdeck prints that holds a path or a message from an artifact."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def shown_path(path: str | PathLike[str]) -> str:
    """`path` as a message or a report shows it: relative to the working directory when it lies inside
    it (no runner's home directory in an artifact), else as given."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        return Path(path).as_posix()

"""Opening a file a user named on the command line or in the environment, safely.

A FIFO with no writer would block `open()` forever (a stalled CI job until the runner's timeout), and a
device such as /dev/zero never ends (memory grows without bound). So a named file is opened without
blocking, a device is refused, and a pipe (`<(zcat f.gz)`, a named FIFO) is read once something comes
through it or its writer closes it: a writer that starts late is waited for, one that never writes (or
never opens the FIFO) ends the wait after PIPE_WAIT_SECONDS with an error — never an empty input read
as a clean one. Light on purpose: the light commands import it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:
    from typing import BinaryIO

MIB = 1024 * 1024
SMALL_FILE_LIMIT = 64 * MIB  # reports, configs, event payloads: far below this; /dev/zero is not
PIPE_WAIT_SECONDS = 60.0  # for a pipe's first byte (or its end): a producer may start late, not never


def open_named(path: str | Path) -> BinaryIO:
    """`open(path, "rb")` that never hangs and never opens a device; OSError as `open` raises it."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
        if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
            raise OSError(errno.EINVAL, "not a regular file (a device or socket)", str(path))
        if stat.S_ISFIFO(mode):
            _await(fd, path)
        os.set_blocking(fd, True)  # once data flows, a pipe is read to its end, as `cat` would
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _await(fd: int, path: str | Path) -> None:
    """Until something comes through the pipe or its writer closes it; OSError ETIMEDOUT after the wait
    (no writer yet, or a silent one: its output is not there to read)."""
    import select

    poller = select.poll()
    poller.register(fd, select.POLLIN)
    if not poller.poll(int(PIPE_WAIT_SECONDS * 1000)):
        raise OSError(
            errno.ETIMEDOUT,
            f"nothing came through this pipe in {PIPE_WAIT_SECONDS:g} s (is the command that writes it running?)",
            str(path),
        )


def read_named(path: str | Path, limit: int = SMALL_FILE_LIMIT) -> bytes:
    """The whole file, refused past `limit` bytes (OSError EFBIG) rather than read without end."""
    with open_named(path) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise _too_large(path, limit)
    return data


def _too_large(path: str | Path, limit: int) -> OSError:
    return OSError(errno.EFBIG, f"larger than {limit // MIB} MiB", str(path))


def rereadable(path: str | Path) -> bool:
    """Whether opening `path` again reads the same bytes: a regular file, not a pipe (`<(zcat f.gz)`)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


@contextlib.contextmanager
def spooled(path: str | Path, limit: int) -> Iterator[Path]:
    """A pipe's bytes copied to a temporary file, for a reader that must look twice (recognise a format,
    then read it) or needs a real file (SQLite); OSError EFBIG past `limit` bytes."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="healthdeck-") as folder, open_named(path) as source:
        copy = Path(folder) / "spooled"
        with copy.open("wb") as sink:
            while chunk := source.read(MIB):
                if sink.tell() + len(chunk) > limit:  # an endless writer must not fill the disk
                    raise _too_large(path, limit)
                sink.write(chunk)
        yield copy

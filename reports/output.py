"""Writing outputs: strict JSON text, and atomic writes.

Every output is rendered in memory first, then each file lands by rename (an output that is a device
or a pipe, such as /dev/stdout, is written into). A failure anywhere before the renames leaves the
previous files untouched; temp files are removed.
Files get the mode a plain `open()` would give them (0644 under umask 022), not mkstemp's 0600, so a
web server or a dashboard running as another user can read them.

The report pair (latest.json + latest.md) is written under a lock on its folder, Markdown first
and JSON last: latest.json is the commit point. Both carry the run key, so a reader can tell the
rare torn pair that a crash between the two renames leaves (`md_run_key`).
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from healthdeck.collectors.files import MIB, SMALL_FILE_LIMIT

from .schema import ReportError, validate_report


class OutputError(Exception):
    """An output could not be written; the message names the path."""


def json_text(data: object) -> str:
    """Pretty JSON that every parser accepts: NaN and Infinity are refused (ReportError), not written.

    Collectors turn non-finite inputs into missing values and say so; one reaching this point is a
    healthdeck bug, so the run fails rather than writing `NaN` that JavaScript, Go and strict parsers
    reject.
    """
    try:
        return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    except ValueError:  # only then look for where it is (a walk over the whole report)
        where = _non_finite(data)
        if where is None:
            raise
        raise ReportError(
            f"internal error: non-finite number at {where or 'the top level'}; nothing was written"
        ) from None


def report_json(report: dict) -> str:
    """latest.json's text: schema-valid and strict JSON, or ReportError; OutputError when it is larger
    than the readers (gate, comment, badge, the dashboard) read, so collect never writes a report that
    the steps after it refuse."""
    text = json_text(report)
    validate_report(report)
    if len(text) > SMALL_FILE_LIMIT // 4 and (size := len(text.encode())) > SMALL_FILE_LIMIT:
        length, where = _longest_text(report)
        advice = (  # one huge value (a test id listed as failing, as its cause's example, …): say which
            f"much of it is one text of {length / MIB:.0f} MiB, at {where} (and where it is listed again), that "
            "no list setting shortens: is the input that named it so right?"
            if length * 8 >= size
            else "lower max_failing_listed, message_chars, causes_listed, cause_tests_listed, findings_listed "
            "or coverage_files_listed in [tool.healthdeck]"
        )
        raise OutputError(
            f"the report would be {size / MIB:.0f} MiB, over the {SMALL_FILE_LIMIT // MIB} MiB that gate, comment "
            f"and the dashboard read; {advice}; no report was written or recorded"
        )
    return text


def _longest_text(data: object) -> tuple[int, str]:
    """(length, dotted path) of the longest string in `data`: what to name when one value is most of a report."""
    return max(((len(v), where) for where, v in _leaves(data) if isinstance(v, str)), default=(0, ""),
               key=lambda found: found[0])  # fmt: skip


def _non_finite(data: object) -> str | None:
    """The dotted path of the first NaN/±Infinity in `data`, or None."""
    return next((where for where, v in _leaves(data) if isinstance(v, float) and not math.isfinite(v)), None)


def _leaves(data: object, where: str = "") -> Iterator[tuple[str, object]]:
    """(dotted path, value) of every value in `data` that is not a dict, list or tuple, in order."""
    if not isinstance(data, dict | list | tuple):
        yield where, data
        return
    for key, value in data.items() if isinstance(data, dict) else enumerate(data):
        yield from _leaves(value, f"{where}.{key}" if where else str(key))


def write_atomic(files: dict[Path, str]) -> None:
    """Write all `files` (path -> text) or none of them.

    Only regular files are replaced by rename, and through a symlink it is the file it points to. An
    output that exists and is something else — /dev/stdout, /dev/null, a terminal, a pipe (`>(cat)`) — is
    written into: renaming over it would replace the device itself (as root, /dev/null for everyone)."""
    staged: list[tuple[str, Path, Path]] = []  # (temporary file, where it lands, the path the user gave)
    target = next(iter(files), Path())
    try:
        for target, text in files.items():
            if _stream(target):
                _write_into(target, text)
                continue
            real = Path(os.path.realpath(target)) if target.is_symlink() else target
            if real.is_symlink():  # a loop: realpath gives up on it, a rename would replace the link
                raise OSError(errno.ELOOP, "Too many levels of symbolic links", str(target))
            real.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = _new_temp(real)
            staged.append((tmp, real, target))
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o666 & ~_umask())
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
        for tmp, real, target in staged:  # noqa: B007 - `target` names the file in the error below
            os.replace(tmp, real)
    except OSError as exc:
        for tmp, _, _ in staged:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        raise OutputError(_cannot_write(target, exc)) from exc


def _write_into(target: Path | str, text: str, *, append: bool = False) -> None:
    """Write into a device or a pipe (or append to a file, created if missing); a FIFO nobody reads is an
    error (ENXIO), not a write that waits for ever."""
    flags = os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(target, flags | os.O_APPEND | os.O_CREAT if append else flags, 0o666)
    os.set_blocking(fd, True)
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def append_text(path: str, text: str) -> None:
    """Append to a file a CI runner names (GITHUB_STEP_SUMMARY), never waiting on a pipe nobody reads; OSError."""
    _write_into(path, text, append=True)


def pipe_reason(exc: OSError) -> str:
    """What an OSError from writing means, in a user's words."""
    return "it is a pipe nobody reads" if exc.errno == errno.ENXIO else str(exc.strerror or exc)


def _stream(target: Path) -> bool:
    """Whether `target` exists and is neither a regular file nor a folder (it is followed if a symlink)."""
    try:
        mode = os.stat(target).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _cannot_write(target: Path, exc: OSError) -> str:
    """Named after the path the user gave, never the temporary file beside it. Looking at the path can
    fail too (a name longer than the file system allows): then the error says what it is."""
    try:
        folder = next((f for f in (target.parent, *target.parent.parents) if f.exists()), None)
        if folder is not None and not folder.is_dir():
            return f"{folder}: cannot write there: it is a file, not a folder"
        if target.is_dir() and target.name:
            return f"{target}: cannot write: it is a directory"
    except OSError:
        pass
    return f"{target}: cannot write: {pipe_reason(exc)}"


def _new_temp(target: Path) -> tuple[int, str]:
    """A new file beside `target` that nobody else can have opened (O_EXCL): what tempfile.mkstemp
    gives, without importing tempfile (which brings shutil, random and the compression modules)."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        tmp = str(target.parent / f"{_temp_prefix(target)}{os.urandom(6).hex()}.tmp")
        try:
            return os.open(tmp, flags, 0o600), tmp
        except FileExistsError:  # 48 random bits: practically never
            continue


def _temp_prefix(target: Path) -> str:
    """How temporary files beside `target` start: its name, cut so that a name the file system allows
    (up to 255 bytes) still leaves room for the random part."""
    return f".{target.name[:100]}."


def _umask() -> int:
    """The process umask, read without changing it where Linux allows (/proc), else set and restored."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


RUN_MARK = "<!-- healthdeck:run {} -->"


def write_report_pair(
    json_path: Path, json_text: str, md_text: str, run_key: str | None, *, replacing: bool = False
) -> str | None:
    """latest.md then latest.json, atomically each, under the folder's lock (parallel writers of one
    folder cannot interleave their pairs); the Markdown ends with the run key. Temp files a killed
    writer left behind are removed first.

    `replacing`: the pair is the same run rewritten (a gate storing its verdict); if a newer collect
    wrote another run meanwhile, nothing is written and that run's key is returned (else None).
    """
    md_path = json_path.with_suffix(".md")
    if run_key:
        md_text = (md_text if md_text.endswith("\n") else md_text + "\n") + RUN_MARK.format(run_key) + "\n"
    with folder_lock(json_path.parent):
        if replacing and run_key and (now := md_run_key(md_path)) not in (None, run_key):
            return now
        # temp files of a writer killed mid-write (we hold the lock); a listing, not a glob: the glob's
        # pattern compiles into regular expressions, a few percent of gate's start-up
        prefixes, stale = (_temp_prefix(md_path), _temp_prefix(json_path)), []
        with contextlib.suppress(OSError), os.scandir(json_path.parent) as entries:
            stale = [
                entry.path
                for entry in entries
                if entry.name.startswith(prefixes) and entry.name.endswith(".tmp")
            ]
        for path in stale:
            with contextlib.suppress(OSError):
                os.unlink(path)
        write_atomic({md_path: md_text, json_path: json_text})
    return None


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive advisory lock on the folder itself (POSIX flock on its descriptor: no lock file to
    leave behind or commit by mistake); elsewhere no lock."""
    try:
        import fcntl
    except ImportError:  # Windows: renames stay atomic, only the pair ordering is unguarded
        yield
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder, os.O_RDONLY)
    except OSError as exc:
        raise OutputError(_cannot_write(folder / "latest.json", exc)) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def md_run_key(md_path: Path) -> str | None:
    """The run key at the end of a latest.md (None when the file or the mark is absent)."""
    try:
        with open(md_path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 512))
            tail = fh.read().decode("utf-8", "replace")
    except OSError:
        return None
    prefix, suffix = RUN_MARK.split("{}")
    marks = [line for line in tail.splitlines() if line.startswith(prefix) and line.endswith(suffix)]
    return marks[-1].removeprefix(prefix).removesuffix(suffix).strip() if marks else None

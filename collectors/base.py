"""Shared plumbing for collectors: the one error type, gzip-aware opening, size limits, hardened XML.

Every input is read as a stream under limits (`InputLimits`, configured by `max_input_mb`,
`max_token_mb` and `max_attributes` in `[tool.healthdeck]`), so no input of any size or compression
ratio can take more memory than about the token limit: a compressed file may not inflate past
`max_input_mb`, no single XML token (an attribute value, a text or CDATA section, a comment) may
exceed `max_token_mb`, and no element may carry more than `max_attributes` attributes (a parser
holds an element's attributes together, at some 300 bytes each). All are checked on the bytes before
the parser sees them, so the parser never buffers an oversized token or tag, and the refusal names
the limit in the user's terms rather than the parser's. What a reader keeps for each record is
bounded by a count: JUnit keeps every test's id, so one suite's files may hold at most
`max_testcases` testcase elements.
"""

from __future__ import annotations

import contextlib
import glob
import gzip
import io
import os
import re
import zlib
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path, PurePath
from xml.parsers import expat

from lxml import etree

from .checks import DECODED_MB
from .errors import CollectorError
from .files import MIB, open_named

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:
    from typing import IO

GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class InputLimits:
    """How much any one input may inflate to, and how large one XML token may be (MiB)."""

    max_input_mb: int = 4096
    max_token_mb: int = 32
    max_text_mb: int = 64  # a report read whole into memory: a far smaller cap than a streamed one's
    max_attributes: int = 10_000  # on one XML element: the parser holds them all at once
    max_testcases: int = 1_000_000  # in one suite's JUnit files: each test's id is held (about 0.1 KB)
    max_decoded_mb: int = (
        DECODED_MB  # JSON decoded at once: a document, or one entry of a ruff/coverage report
    )

    @property
    def max_input(self) -> int:
        return self.max_input_mb * MIB

    @property
    def max_text(self) -> int:
        return min(self.max_text_mb, self.max_input_mb) * MIB

    @property
    def max_text_name(self) -> str:
        """The setting that sets `max_text`, to name in a refusal."""
        return "max_text_mb" if self.max_text_mb <= self.max_input_mb else "max_input_mb"

    @property
    def max_token(self) -> int:
        return self.max_token_mb * MIB

    @property
    def max_decoded(self) -> int:
        return self.max_decoded_mb * MIB


# Set once per command by the CLI (from [tool.healthdeck]); collectors read it, so their signatures
# stay the same whatever the limits are.
_LIMITS: ContextVar[InputLimits] = ContextVar("healthdeck_input_limits", default=InputLimits())  # noqa: B039 - frozen


def current_limits() -> InputLimits:
    return _LIMITS.get()


@contextlib.contextmanager
def input_limits(limits: InputLimits) -> Iterator[None]:
    """Apply `limits` to every collector called inside the block."""
    token = _LIMITS.set(limits)
    try:
        yield
    finally:
        _LIMITS.reset(token)


class InputTooLarge(OSError):
    """A size limit was hit while streaming; the message says which, in user terms.

    An OSError, so readers that already turn read errors into one line (`cannot read: ...`) keep doing so.
    """


class _CappedRaw(io.RawIOBase):
    """A decompressing stream that stops with InputTooLarge past `limit` bytes of output."""

    def __init__(self, inner: IO[bytes], limit: int, limit_name: str) -> None:
        self.inner = inner
        self.limit = limit
        self.limit_name = limit_name
        self.total = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        data = self.inner.read(len(buffer))
        size = len(data)
        self.total += size
        if self.total > self.limit:
            raise InputTooLarge(
                f"decompresses to more than {self.limit // MIB} MiB (limit {self.limit_name} in "
                "[tool.healthdeck]); a compressed report this large is refused as a decompression bomb"
            )
        buffer[:size] = data
        return size

    def close(self) -> None:
        self.inner.close()
        super().close()


_UNTIDY = re.compile(
    r"//|(?:^|/)\.(?:/|$)|/$"
)  # what PurePosixPath would rewrite: doubled slashes, ./, a / at the end


def as_posix(name: str) -> str:
    """PurePath(name).as_posix(), the very string when it is one already: most are, and a PurePath
    per file was most of the time a million-file report took."""
    if os.sep == "/" and name and not _UNTIDY.search(name):
        return name
    posix = PurePath(name).as_posix()
    return name if posix == name else posix  # one string, not two equal ones


# What writes each input, for the message when it is not there (an input that names no writer: none)
_WRITTEN_BY = {
    "junit": "pytest writes no JUnit XML when it stops with a usage or conftest error",
    "coverage": "`coverage xml` or `coverage json` writes it once the tests have run",
    "ruff": "`ruff check --output-format json --output-file FILE` writes it, findings or none",
    "compileall": "`python -m compileall -q SRC > FILE` writes it, empty when every file compiles",
}


def not_written(source: str, reason: str, files: str = "it") -> str:
    """`reason` (no such file, no match) with what a user checks first, in the same words for every
    input a CI step writes: did that step finish? (An OpenAPI spec is committed: the reason alone.)"""
    hint = _WRITTEN_BY.get(source)
    return f"{reason}; did the step that writes {files} run to the end? ({hint})" if hint else reason


def open_binary(source: str, path: str | Path) -> IO[bytes]:
    """Open an artifact for reading, transparently gunzipping when the file starts with the gzip magic.

    Decompressed output is capped at the current `max_input_mb`; reading past it raises InputTooLarge.
    """
    try:
        raw = open_named(path)  # handed to the caller, who closes it; never hangs on a FIFO
    except FileNotFoundError as exc:  # the usual cause: the step that writes it stopped before it did
        raise CollectorError(source, path, not_written(source, exc.strerror or str(exc))) from exc
    except OSError as exc:
        raise CollectorError(source, path, exc.strerror or str(exc)) from exc
    try:
        head = raw.peek(8)[:8]
        _refuse_packed(source, path, head)
        if head[:2] != GZIP_MAGIC:
            return raw
        inflated = io.BufferedReader(_CappedRaw(gzip.GzipFile(fileobj=raw, mode="rb"), current_limits().max_input,
                                                "max_input_mb"), MIB)  # fmt: skip
        if inflated.peek(2)[:2] == GZIP_MAGIC:
            raise CollectorError(
                source, path, "gzip inside gzip: gunzip it once and pass the .gz (or the file)"
            )
        return inflated
    except (OSError, EOFError, zlib.error) as exc:  # a damaged gzip header, met by the peek
        raw.close()
        raise CollectorError(source, path, f"cannot decompress: {exc}") from exc
    except CollectorError:
        raw.close()
        raise


# Packed formats people hand us for a report (an Actions artifact downloads as a zip), named for what they are.
_PACKED = (
    (
        b"PK\x03\x04",
        "a zip archive (Actions artifacts download as .zip): unzip it and pass the report inside",
    ),
    (b"PK\x05\x06", "an empty zip archive"),
    (b"BZh", "compressed with bzip2; healthdeck reads plain or gzip files: bunzip2 it first"),
    (b"\xfd7zXZ\x00", "compressed with xz; healthdeck reads plain or gzip files: unxz it first"),
    (b"\x28\xb5\x2f\xfd", "compressed with zstd; healthdeck reads plain or gzip files: unzstd it first"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive: extract it and pass the report inside"),
)


def _refuse_packed(source: str, path: str | Path, head: bytes) -> None:
    for magic, what in _PACKED:
        if head.startswith(magic):
            raise CollectorError(source, path, what)


def read_text(source: str, path: str | Path) -> str:
    """Whole artifact as text. Strict UTF-8: a mis-encoded file is an error, not silently mangled.

    Held to `max_text_mb` (and `max_input_mb`), compressed or not: it is read whole into memory.
    """
    limits = current_limits()
    limit, name = limits.max_text, limits.max_text_name
    with open_binary(source, path) as fh:
        try:
            data = fh.read(limit + 1)
        except InputTooLarge as exc:
            raise CollectorError(source, path, str(exc)) from exc
        except (OSError, EOFError, zlib.error) as exc:
            raise CollectorError(source, path, f"cannot decompress: {exc}") from exc
    if len(data) > limit:
        raise CollectorError(
            source, path, f"larger than {limit // MIB} MiB (limit {name} in [tool.healthdeck])"
        )
    codec = marked_encoding(data)  # Windows PowerShell's `>` writes UTF-16 with its mark
    if codec is None and b"\x00" in data:
        raise CollectorError(source, path, "binary content (NUL bytes), not a text report")
    try:
        return data.decode(codec or "utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CollectorError(source, path, f"not valid {codec or 'UTF-8'} at byte {exc.start}") from exc


def marked_encoding(data: bytes) -> str | None:
    """'utf-16' or 'utf-32' when `data` starts with that encoding's byte-order mark, else None."""
    for mark, codec in _BOMS[:4]:
        if data.startswith(mark):
            return codec
    return None


class XmlRefused(Exception):
    """Raised by a parser target to stop the parse with a reason (wrong root, DTD, ...)."""


# Root elements of formats people hand us by mistake, named for what they are.
FOREIGN_ROOTS = {
    "report": "JaCoCo XML is not supported; use coverage.py's Cobertura XML (coverage xml)",
}


def root_refusal(tag: str, roots: Sequence[str]) -> str:
    """Why a document whose root is `tag` is not one of `roots`, in user terms."""
    if tag in FOREIGN_ROOTS:
        return FOREIGN_ROOTS[tag]
    expected = " or ".join(f"<{r}>" for r in roots)
    prefix, _, name = tag.rpartition(":")
    if prefix and name in roots:  # read as no element at all, it would be an empty run
        return f"root element is <{tag}>: a namespace prefix ({prefix}:), which {expected} never carries; write the elements without it"
    return f"root element is <{tag}>, expected {expected}"


class XmlTarget:
    """Base of the streaming parser targets: lxml calls start/end (and data, when defined) per event.

    No tree is built, so memory is whatever the target keeps. A plain DOCTYPE (gcovr's
    `<!DOCTYPE coverage SYSTEM ...>`) is ignored and never loaded; an inline DTD is refused before
    parsing (see `_Prolog`). The root element must be one of `roots`.
    """

    roots: tuple[str, ...] = ()
    depth = 0

    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        return None  # the external DTD is never loaded (load_dtd=False, no_network=True)

    def check_root(self, tag: str) -> None:
        if tag not in self.roots:
            raise XmlRefused(root_refusal(tag, self.roots))

    def close(self) -> None:
        return None


_CHUNK = 64 * 1024  # libxml2 parses much slower when fed megabyte chunks
_PARSER_OPTIONS = {
    # Only the five predefined entities and character references are resolved: inline DTDs are
    # refused before parsing and external ones are never loaded, so there is nothing else to expand.
    "resolve_entities": "internal",
    "load_dtd": False,
    "no_network": True,
    # Our own token limit replaces libxml2's fixed 10 MB one (which it applies only after buffering).
    "huge_tree": True,
    "remove_pis": True,
}
_ROOT_TAG = re.compile(rb"<([A-Za-z_][\w.\-]*(?::[\w.\-]+)?)")
_XML_DECL = re.compile(rb"<\?xml\s")
_BOM = b"\xef\xbb\xbf"


class _Prolog:
    """What precedes a document's root element: its DOCTYPE policy and the root's tag."""

    @staticmethod
    def root_tag(head: bytes) -> str | None:
        """The root element's tag name, refusing inline DTDs; None when the head holds no element yet."""
        pos = 0
        while True:
            start = head.find(b"<", pos)
            if start < 0:
                return None
            if head.startswith(b"<?", start):
                end = head.find(b"?>", start)
            elif head.startswith(b"<!--", start):
                end = head.find(b"-->", start)
            elif head.startswith(b"<!DOCTYPE", start):
                end = head.find(b">", start)
                bracket = head.find(b"[", start, end if end >= 0 else len(head))
                if bracket >= 0:
                    raise XmlRefused(
                        "XML with an inline DTD (<!DOCTYPE ... [ ... ]>) is refused: entity "
                        "declarations are unsafe"
                    )
            else:
                match = _ROOT_TAG.match(head, start)
                if not match:
                    raise XmlRefused("malformed XML: the content does not start with an XML element")
                return match.group(1).decode("utf-8", "replace")  # a prefix stays: the parsers read none
            if end < 0:
                return None
            pos = end + 1


_SNIFF = 4 * MIB


def _sniff_root(head: bytes) -> str | None:
    """Root tag from the first bytes of a document (None: not there yet); refuses inline DTDs."""
    root = _Prolog.root_tag(head[:_SNIFF])
    if root is None and len(head) > _SNIFF:
        raise XmlRefused(f"no XML root element in the first {_SNIFF // MIB} MiB")
    return root


class _Scanner:
    """Checks the raw bytes before the parser sees them: token sizes and document boundaries.

    A token is what lies between two tags: an attribute value or a text never contains `<`, so the
    distance between consecutive `<` bounds them; CDATA sections and comments may contain `<` and
    are measured from their opening to their closing marker. `<?xml` outside those can only start a
    new document (several documents in one stream: `cargo test --format junit`).
    """

    _MARKERS = ((b"<![CDATA[", b"]]>"), (b"<!--", b"-->"))
    HOLD = 9  # bytes kept back so that no marker is split between two chunks

    def __init__(self, max_token: int, max_attributes: int) -> None:
        self.max_token = max_token
        self.max_attributes = max_attributes
        self.tag = False  # the run started at a tag whose `>` has not come yet: its attributes are counted
        self.quote: bytes | None = None  # inside that tag, the quote of the attribute value it is in
        self.attributes = 0
        self.run = 0  # bytes since the last `<` outside CDATA/comments
        self.closer: bytes | None = None  # inside CDATA or a comment: its closing marker
        self.inner = 0  # bytes inside the current CDATA section or comment
        self.started = False  # markup seen: a later `<?xml` declaration starts another document

    @property
    def token(self) -> int:
        """Bytes of the token still open at the end of what was scanned."""
        return self.inner if self.closer is not None else self.run

    def _token(self, size: int) -> None:
        if size > self.max_token:
            raise InputTooLarge(
                f"an XML attribute, text or comment is larger than {self.max_token // MIB} MiB "
                "(limit max_token_mb in [tool.healthdeck])"
            )

    def _open_tag(self, buf: bytes, pos: int, end: int) -> None:
        """A tag starts at buf[pos - 1] (its `<`) and runs at least to `end`: count its attributes."""
        self.tag, self.quote, self.attributes = True, None, 0
        self._attributes(buf, pos, end)

    def _attributes(self, buf: bytes, pos: int, end: int) -> None:
        """Follow the open tag through buf[pos:end]: each quoted value outside another is one attribute."""
        quote = self.quote
        while pos < end:
            if quote is not None:
                pos = buf.find(quote, pos, end)
                if pos < 0:
                    break
                quote, pos = None, pos + 1
                continue
            found = _TAG_STOP.search(buf, pos, end)
            if found is None:
                break
            if found.group() == b">":
                self.tag = False
                break
            quote, pos = found.group(), found.end()
            self.attributes += 1
            if self.attributes > self.max_attributes:
                raise InputTooLarge(
                    f"an XML element has more than {self.max_attributes} attributes "
                    "(limit max_attributes in [tool.healthdeck])"
                )
        self.quote = quote

    def _tags(self, buf: bytes, first: int, last: int, stop: int) -> None:
        """Count the attributes of the tags opening at `first` … `last` (each a `<` in buf, none between
        `last` and `stop`). A tag inside the stretch has an `=` per attribute, so the stretch is only
        walked tag by tag when it holds more `=` than one tag may have attributes: real reports never do."""
        if buf.count(b"=", first, last) > self.max_attributes:
            at = first
            while at < last:
                after = buf.find(b"<", at + 1, last + 1)
                self._open_tag(buf, at + 1, after)
                at = after
        self._open_tag(buf, last + 1, stop)

    def scan(self, buf: bytes, limit: int) -> list[int]:
        """Check buf[:limit]; return the offsets (in buf) where a new XML document starts."""
        starts: list[int] = []
        pos = 0
        while pos < limit:
            if self.closer is not None:
                end = buf.find(self.closer, pos)
                if end < 0 or end >= limit:
                    self.inner += limit - pos
                    self._token(self.inner)
                    break
                self.inner += end - pos
                self._token(self.inner)
                pos = end + len(self.closer)
                self.closer = None
                self.run = 0
                continue
            special = _find_after_lt(buf, b"!", pos, limit)
            decl = _find_after_lt(
                buf, b"?", pos, limit
            )  # any "<?": a processing instruction or a declaration
            stop = min(x for x in (special, decl, limit) if x >= 0)
            first = buf.find(b"<", pos, stop)
            if first < 0:
                # a byte-order mark or whitespace before the first declaration is not a document
                self.started = self.started or bool(buf[pos:stop].replace(_BOM, b"").strip())
                self.run += stop - pos
                self._token(self.run)
                if self.tag:
                    self._attributes(buf, pos, stop)
            else:
                self._token(self.run + first - pos)
                if self.tag:
                    self._attributes(buf, pos, first)
                self.started = True
                last = buf.rfind(b"<", pos, stop)
                # runs strictly inside this stretch are shorter than a chunk, hence than the limit
                self.run = stop - last - 1
                self._tags(buf, first, last, stop)
            if stop == limit:
                break
            self.tag = False  # `<!` and `<?` open no element
            if stop == decl:
                if self.started and _XML_DECL.match(buf, decl):
                    starts.append(decl)
                self.started = True
                self.run = 0
                pos = decl + 2
                continue
            for opener, closer in self._MARKERS:
                if buf.startswith(opener, special):
                    self.closer, self.inner, pos = closer, 0, special + len(opener)
                    break
            else:
                self.run, pos = 0, special + 2
            self.started = True
        return starts


_TAG_STOP = re.compile(rb"[\"'>]")


def _find_after_lt(buf: bytes, rest: bytes, pos: int, limit: int) -> int:
    """Where `<` + rest starts in buf[pos:limit], or -1. Searches for the rare byte after the `<`:
    `<` itself is everywhere in XML, so searching for "<!" stops at every tag."""
    at = buf.find(rest, pos + 1, limit + len(rest))
    while at >= 0 and buf[at - 1] != 0x3C:  # "<"
        at = buf.find(rest, at + 1, limit + len(rest))
    return at - 1 if at >= 0 and at - 1 < limit else -1


def _read_chunks(source: str, path: str | Path) -> Iterator[bytes]:
    """The file's bytes, in UTF-8 or an encoding both parsers and the byte scanner read as they are."""
    with open_binary(source, path) as fh:
        try:
            chunk = fh.read(_CHUNK)
            if not chunk:
                raise CollectorError(source, path, "empty file")
            codec = _foreign_encoding(chunk)
            chunks = _chunks(fh, chunk)
            yield from chunks if codec is None else _transcoded(source, path, codec, chunks)
        except InputTooLarge as exc:
            raise CollectorError(source, path, str(exc)) from exc
        except (OSError, EOFError, zlib.error) as exc:
            raise CollectorError(source, path, f"cannot read: {exc}") from exc


def _chunks(fh: io.BufferedIOBase, first: bytes) -> Iterator[bytes]:
    chunk = first
    while chunk:
        yield chunk
        chunk = fh.read(_CHUNK)


# Encodings expat reads itself, in which every markup byte is ASCII (what _Scanner looks for).
_NATIVE = {"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "iso8859-1"}
_BOMS = (  # UTF-32 first: its little-endian mark starts with UTF-16's
    (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\xfe\xff", "utf-16"), (b"\xff\xfe", "utf-16"),
    (b"\x00<\x00", "utf-16-be"), (b"<\x00", "utf-16-le"),  # UTF-16 without a mark: '<' as two bytes
)  # fmt: skip
_DECL_ENCODING = re.compile(rb"""(<\?xml\s[^>]*?\bencoding\s*=\s*)(["'])([^"'<>]{1,40})\2""")


def _foreign_encoding(head: bytes) -> str | None:
    """The codec a document is written in when the parsers cannot take its bytes as they are (UTF-16,
    UTF-32, Shift_JIS, …): its byte-order mark, else its declaration. None for UTF-8 and the rest."""
    for mark, codec in _BOMS:
        if head.startswith(mark):
            return codec
    found = _DECL_ENCODING.match(head.removeprefix(_BOM), 0, 200)
    if found is None:
        return None
    name = found.group(3).decode("ascii", "replace").strip()
    return None if name.lower() in _NATIVE else name


def _transcoded(source: str, path: str | Path, codec: str, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """`chunks` in UTF-8, every XML declaration saying so (expat knows few encodings and no multi-byte
    one but UTF-16; the byte scanner needs ASCII markup)."""
    import codecs

    try:
        decoder = codecs.getincrementaldecoder(codec)("strict")
    except LookupError:
        raise CollectorError(source, path, f"its XML declaration names encoding {codec!r}, which is not a "
                             "known encoding; write it as UTF-8") from None  # fmt: skip
    try:
        for chunk in chunks:
            yield _DECL_ENCODING.sub(rb"\1\2UTF-8\2", decoder.decode(chunk).encode("utf-8"))
        yield decoder.decode(b"", True).encode("utf-8")
    except UnicodeError as exc:
        raise CollectorError(source, path, f"not valid {codec} text ({exc.reason} at byte {exc.start} of a "
                             "piece); write it as UTF-8") from None  # fmt: skip


_LONG_TOKEN = MIB


def _documents(source: str, path: str | Path) -> Iterator[tuple[bool, bytes]]:
    """(starts a new document, bytes) pieces of a stream, after the size checks of `_Scanner`.

    While a long token is open, pieces are held back and handed on only when they double what the
    parser has of it: expat re-reads an unfinished token from its start on every feed, so feeding a
    64 MiB attribute 64 KiB at a time would cost a thousand re-reads; doubling keeps it linear.
    """
    limits = current_limits()
    scanner = _Scanner(limits.max_token, limits.max_attributes)
    carry = b""
    held: list[bytes] = []
    size = 0
    try:
        for chunk in _read_chunks(source, path):
            buf = carry + chunk if carry else chunk
            limit = max(0, len(buf) - _Scanner.HOLD)
            for new_document, piece in _split(buf, limit, scanner.scan(buf, limit)):
                if new_document:
                    if held:
                        yield False, b"".join(held)
                        held, size = [], 0
                    yield True, piece
                    continue
                held.append(piece)
                size += len(piece)
                if scanner.token < _LONG_TOKEN or 2 * size >= scanner.token:
                    yield False, b"".join(held) if len(held) > 1 else piece
                    held, size = [], 0
            carry = buf[limit:]
        for new_document, piece in _split(carry, len(carry), scanner.scan(carry, len(carry))):
            if new_document:
                yield False, b"".join(held)
                yield True, piece
                held = []
            else:
                held.append(piece)
        if held:
            yield False, b"".join(held)
    except InputTooLarge as exc:
        raise CollectorError(source, path, str(exc)) from exc


def _split(buf: bytes, limit: int, starts: list[int]) -> Iterator[tuple[bool, bytes]]:
    pos = 0
    for start in starts:
        if start > pos:
            yield False, buf[pos:start]
        pos = start
        yield True, b""
    if limit > pos:
        yield False, buf[pos:limit]


def _syntax_error(source: str, path: str | Path, exc: etree.XMLSyntaxError) -> CollectorError:
    msg = str(exc.msg or exc)
    if "entity" in msg.lower():
        reason = f"entity reference refused; only the predefined XML entities are read ({msg})"
    else:
        reason = f"{msg} (line {exc.lineno})" if exc.lineno and f"line {exc.lineno}" not in msg else msg
    return CollectorError(source, path, f"malformed XML: {reason}")


def parse_xml(source: str, path: str | Path, target: XmlTarget) -> None:
    """Feed an artifact (plain or gzip, one document) through a hardened streaming parser into `target`."""
    parser = etree.XMLParser(target=target, remove_comments=True, **_PARSER_OPTIONS)
    head: bytes | None = b""
    try:
        for new_document, piece in _documents(source, path):
            if new_document:
                raise XmlRefused("more than one XML document in one file")
            if head is not None:
                head += piece
                head = None if _sniff_root(head) is not None else head
            parser.feed(piece)
        parser.close()
    except XmlRefused as exc:
        raise CollectorError(source, path, str(exc)) from exc
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(source, path, exc) from exc


def xml_pieces(source: str, path: str | Path, roots: Sequence[str]) -> Iterator[tuple[bool, bytes]]:
    """`path` (plain or gzip) as (starts another XML document, bytes) pieces for a streaming parser.

    The size limits and the DTD policy are applied, and each document's root must be one of `roots`;
    several documents in a row (`cargo test --format junit`) come one after the other.
    """
    head: bytes | None = b""
    try:
        for new_document, piece in _documents(source, path):
            if new_document:
                head = b""
            if head is not None and piece:
                head += piece
                root = _sniff_root(head)
                if root is not None:
                    if root not in roots:
                        raise XmlRefused(root_refusal(root, roots))
                    head = None
            yield new_document, piece
    except XmlRefused as exc:
        raise CollectorError(source, path, str(exc)) from exc


def xml_syntax_error(
    source: str, path: str | Path, exc: expat.ExpatError, *, placed: bool = True
) -> CollectorError:
    """expat's complaint about malformed XML as this file's one-line error; `placed=False` when expat's
    line and column are not the file's (what it was fed was not the file as it is)."""
    reason = expat.errors.messages.get(exc.code, str(exc)) if exc.code else str(exc)
    where = f" (line {exc.lineno}, column {exc.offset + 1})" if placed else ""
    return CollectorError(source, path, f"malformed XML: {reason}{where}")


def first_line(text: str | None, limit: int) -> str:
    """A bounded, single-line excerpt of a message."""
    if not text:
        return ""
    for line in text.strip().splitlines():
        if line.strip():
            return clipped(line.strip(), limit)
    return ""


def clipped(text: str, limit: int) -> str:
    """`text` at most `limit` characters, its end cut to an ellipsis when longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def expand_paths(source: str, patterns: Sequence[str]) -> list[Path]:
    """Expand glob patterns (sorted, de-duplicated, order of patterns kept); no match is an error. A path
    that exists as written is that file, whatever `[`, `*` or `?` it holds."""
    found: list[Path] = []
    for pattern in patterns:
        if glob.has_magic(pattern) and not os.path.lexists(pattern):  # junit[py3.11].xml is a name
            matches = sorted(glob.glob(pattern, recursive=True))
            if not matches:
                raise CollectorError(source, pattern, not_written(source, "glob matched no files", "them"))
            found.extend(Path(m) for m in matches)
        else:
            found.append(Path(pattern))
    return list(dict.fromkeys(found))

"""Shared plumbing for collectors: the one error type, gzip-aware opening, hardened XML streaming."""

from __future__ import annotations

import glob
import gzip
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from lxml import etree

from .errors import CollectorError

GZIP_MAGIC = b"\x1f\x8b"


def open_binary(source: str, path: str | Path) -> IO[bytes]:
    """Open an artifact for reading, transparently gunzipping when the file starts with the gzip magic."""
    try:
        raw = open(path, "rb")  # noqa: SIM115 - handed to the caller, who closes it
    except OSError as exc:
        raise CollectorError(source, path, exc.strerror or str(exc)) from exc
    if raw.peek(2)[:2] == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw, mode="rb")
    return raw


def read_text(source: str, path: str | Path) -> str:
    """Whole artifact as text. Strict UTF-8: a mis-encoded file is an error, not silently mangled."""
    with open_binary(source, path) as fh:
        try:
            data = fh.read()
        except (OSError, EOFError, zlib.error) as exc:
            raise CollectorError(source, path, f"cannot decompress: {exc}") from exc
    if b"\x00" in data:
        raise CollectorError(source, path, "binary content (NUL bytes), not a text report")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CollectorError(source, path, f"not valid UTF-8 at byte {exc.start}") from exc


class XmlRefused(Exception):
    """Raised by a parser target to stop the parse with a reason (wrong root, DTD, ...)."""


class XmlTarget:
    """Base of the streaming parser targets: lxml calls start/end (and data, when defined) per event.

    No tree is built, so memory is whatever the target keeps. A DOCTYPE is refused outright: no
    report format we read uses one, and it is how entity bombs and external-entity reads arrive
    (entities are never expanded or fetched either way). The root element must be one of `roots`.
    """

    roots: tuple[str, ...] = ()
    depth = 0

    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise XmlRefused("XML with a DOCTYPE/DTD is refused (entity declarations are unsafe)")

    def check_root(self, tag: str) -> None:
        if tag not in self.roots:
            expected = " or ".join(f"<{r}>" for r in self.roots)
            raise XmlRefused(f"root element is <{tag}>, expected {expected}")

    def close(self) -> None:
        return None


_CHUNK = 1 << 20


def parse_xml(source: str, path: str | Path, target: XmlTarget) -> None:
    """Feed an artifact (plain or gzip) through a hardened streaming parser into `target`."""
    parser = etree.XMLParser(
        target=target,
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    with open_binary(source, path) as fh:
        try:
            chunk = fh.read(_CHUNK)
            if not chunk:
                raise CollectorError(source, path, "empty file")
            while chunk:
                parser.feed(chunk)
                chunk = fh.read(_CHUNK)
            parser.close()
        except XmlRefused as exc:
            raise CollectorError(source, path, str(exc)) from exc
        except etree.XMLSyntaxError as exc:
            raise CollectorError(source, path, f"malformed XML: {_xml_reason(exc)}") from exc
        except (OSError, EOFError, zlib.error) as exc:
            raise CollectorError(source, path, f"cannot read: {exc}") from exc


def _xml_reason(exc: etree.XMLSyntaxError) -> str:
    msg = str(exc.msg or exc)
    if "entity" in msg.lower():
        return f"entity reference refused; XML with a DOCTYPE/entity declarations is not read ({msg})"
    return f"{msg} (line {exc.lineno})" if exc.lineno and f"line {exc.lineno}" not in msg else msg


def first_line(text: str | None, limit: int) -> str:
    """A bounded, single-line excerpt of a message."""
    if not text:
        return ""
    for line in text.strip().splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""


def expand_paths(source: str, patterns: Sequence[str]) -> list[Path]:
    """Expand glob patterns (sorted, de-duplicated, order of patterns kept); no match is an error."""
    found: list[Path] = []
    for pattern in patterns:
        if glob.has_magic(pattern):
            matches = sorted(glob.glob(pattern, recursive=True))
            if not matches:
                raise CollectorError(source, pattern, "glob matched no files")
            found.extend(Path(m) for m in matches)
        else:
            found.append(Path(pattern))
    return list(dict.fromkeys(found))

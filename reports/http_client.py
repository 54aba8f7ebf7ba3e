"""A small HTTP/1.1 client on the standard library's sockets, for `comment --post`.

Not an HTTP library, and not `http.client` either: importing http.client (it parses headers with the
`email` package) cost `comment --post` more than everything else the command does, and httpx more
still. What this client keeps of what an HTTP library does:

- proxies from the environment: HTTPS_PROXY, HTTP_PROXY, ALL_PROXY (upper or lower case; credentials
  in the proxy URL are sent as Proxy-Authorization) and NO_PROXY (`*`, host names, `.domain` suffixes,
  `host:port`, IP addresses — IPv6 with or without brackets — and CIDR ranges); https:// goes through
  the proxy with CONNECT, http:// is forwarded;
- TLS verified against SSL_CERT_FILE and/or SSL_CERT_DIR when set, else the system's hashed CA folder
  (OpenSSL's default, /etc/ssl/certs on Debian and Ubuntu — GitHub's runners), else certifi's bundle.
  The folder is read lazily, only the certificate a server needs (0.4 ms here), where a bundle is parsed
  whole for every context (certifi's: about 40 ms, more than the rest of `comment --post`); a server the
  folder cannot verify is tried once more with certifi's bundle, so an out-of-date system store costs a
  second handshake, not a failure. `ssl` is imported for https:// only;
- timeouts: one for connecting and for every read, and a deadline for each whole answer, so a server
  that trickles bytes cannot hold a CI job;
- redirects followed (at most 5): 303 and a POST answered 301/302 go on as GET, everything else keeps
  its method and body; the Authorization header is sent only to the origin (scheme, host and port) it
  was first sent to;
- one connection kept open per origin, so the pages and the write of one post share it. A kept
  connection the server has closed while idle is opened again before anything is sent on it; a
  request that fails after it was sent is sent again only when its method is idempotent (a POST the
  server may have applied is the caller's to check, `TransportError.sent`);
- answers framed as HTTP/1.1 frames them: Content-Length, chunked, or read to the end; interim 1xx
  answers skipped (a few); lines, header lines and bodies bounded, a body by its bytes in memory
  whatever its chunking (a hostile or broken server is an error, not a memory blow-up);
- host names sent as IDNA (punycode) in the Host header, the proxy's request line and CONNECT.

Anything that leaves no HTTP answer (refused, reset, timed out, TLS failure, a malformed answer) is a
`TransportError`; `permanent` when trying again cannot help. Messages never show the credentials of a
URL.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import socket
import sys
import time
from collections.abc import Mapping
from urllib.parse import SplitResult, unquote, urljoin, urlsplit

from healthdeck.collectors.checks import DECODED_MB, MIB, decoded_size

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:
    import ssl

MAX_REDIRECTS = 5
MAX_LINE = 65536  # one status or header line (http.client's limit)
MAX_HEADERS = 100  # header lines of one answer (http.client's limit); trailers likewise
MAX_INTERIM = 10  # 1xx answers before the final one (a server sends one or two)
MAX_BODY = 64 << 20  # a page of 100 comments of 65 536 characters is under 7 MB
ANSWER_DEADLINE = 60.0  # seconds for one whole answer, however the bytes arrive
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"})  # PATCH: GitHub's sets a body
_DEFAULT_PORTS = {"https": 443, "http": 80}
_REDIRECTS = (301, 302, 303, 307, 308)
_HASHED = re.compile(r"[0-9a-f]{8}\.[0-9]+")  # c_rehash / update-ca-certificates link names
_UNSAFE = re.compile(r"[\x00-\x20\x7f]")  # in a request target: would split the request
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")
_CHOOSE_ISSUER = (18, 19, 20, 21)  # OpenSSL: self-signed or unknown issuer, where a private CA helps


def system_ca_dir() -> str | None:
    """OpenSSL's CA folder when it holds hashed links that OpenSSL can look certificates up by, else None
    (Fedora and macOS keep a bundle file only; a container may have no CA store at all)."""
    import ssl

    paths = ssl.get_default_verify_paths()
    for folder in dict.fromkeys(p for p in (paths.capath, paths.openssl_capath) if p):
        try:
            with os.scandir(folder) as entries:
                if any(_HASHED.fullmatch(entry.name) for entry in entries):
                    return folder
        except OSError:
            continue
    return None


class TransportError(Exception):
    """No HTTP answer came; the message says what happened instead. `permanent`: trying again cannot help.
    `sent`: the request may have reached the server (it failed after being sent), so a non-idempotent one
    may have been applied."""

    def __init__(self, message: str, *, permanent: bool = False, sent: bool = False) -> None:
        super().__init__(message)
        self.permanent, self.sent = permanent, sent


class _Late(TimeoutError):
    """The deadline of a whole answer ran out (the server kept sending, too slowly): not worth a retry."""


class _Malformed(Exception):
    """The server's bytes are not an HTTP/1.x answer, or exceed a limit (either way, permanent)."""


class Headers(dict):
    """An answer's headers: names are case-insensitive for `in`, `[]` and `get`; a repeated header's
    values are joined with ", " (RFC 9110, 5.3)."""

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(name.lower())

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return super().get(name.lower(), default)


class Response:
    def __init__(self, status_code: int, headers: Headers, content: bytes, url: str = "") -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.url = url  # where it came from, after redirects (a relative Link resolves against it)

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> object:
        """The body as JSON; ValueError when it is not, AnswerTooLarge (one) when decoding it would take
        more than the default `max_decoded_mb` (64 MiB of `[[],[],...]` decodes to 1.3 GB)."""
        text = self.content.decode(json.detect_encoding(self.content))  # as json.loads decodes bytes
        if (size := decoded_size(text)) > (budget := DECODED_MB * MIB):
            raise AnswerTooLarge(
                f"the answer would take some {size // MIB:,} MiB to decode, more than {budget // MIB:,} MiB"
            )
        return json.loads(text)


class AnswerTooLarge(ValueError):
    """An answer whose JSON would take more memory to decode than any answer healthdeck reads takes."""


def masked(url: str) -> str:
    """The URL for a message: whatever is before an `@` in its authority (user and password) is masked."""
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@", r"\1***@", url)


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port filled in; the Authorization header stays
    within one origin."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return parts.scheme.lower(), (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(parts.scheme)


def proxy_for(url: SplitResult, env: Mapping[str, str]) -> SplitResult | None:
    """The proxy the environment names for `url`, or None (no proxy, or NO_PROXY covers the host)."""

    def variable(name: str) -> str:
        return env.get(name.lower()) or env.get(name) or ""

    proxy = variable(f"{url.scheme.upper()}_PROXY") or variable("ALL_PROXY")
    if not proxy or _bypassed(url, variable("NO_PROXY")):
        return None
    return urlsplit(proxy if "://" in proxy else f"http://{proxy}")


def _bypassed(url: SplitResult, no_proxy: str) -> bool:
    host = (url.hostname or "").lower()
    url_port = str(url.port or _DEFAULT_PORTS.get(url.scheme))
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if entry == "*":
            return True
        name, port = _no_proxy_entry(entry)
        if not name or (port and port != url_port):
            continue
        if host == name or host.endswith(f".{name}") or _in_network(host, name):
            return True
    return False


def _no_proxy_entry(entry: str) -> tuple[str, str]:
    """(name, port) of a NO_PROXY entry: `host`, `.domain`, `host:port`, `::1`, `[::1]`, `[::1]:port`,
    `10.0.0.0/8`."""
    if entry.startswith("["):
        name, _, rest = entry[1:].partition("]")
        return name, rest.removeprefix(":")
    if entry.count(":") > 1:  # a bare IPv6 address (or range): no port
        return entry, ""
    name, _, port = entry.partition(":")
    return name.lstrip("."), port


def _in_network(host: str, entry: str) -> bool:
    """Whether an IP address host is in the CIDR range (or is the address) `entry`."""
    if "/" not in entry and ":" not in entry:
        return False
    import ipaddress  # pathlib's urllib.parse has imported it already

    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return False


def _unverified(exc: BaseException) -> bool:
    ssl = sys.modules.get("ssl")  # not imported: no TLS was tried, so no certificate was refused
    return ssl is not None and isinstance(exc, ssl.SSLCertVerificationError)


def _proxy_authorization(proxy: SplitResult) -> dict[str, str]:
    if not proxy.username:
        return {}
    import base64

    pair = f"{unquote(proxy.username)}:{unquote(proxy.password or '')}".encode()
    return {"Proxy-Authorization": "Basic " + base64.b64encode(pair).decode()}


def _host_ascii(host: str) -> str:
    """The host as the wire carries it: ASCII, IDNA (punycode) for another name. Encoding here keeps the
    IDNA codec (a few ms of `comment --post`) unimported for an ASCII name."""
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise TransportError(f"host name {host!r}: {exc}", permanent=True) from None


def _authority(host: str, port: int | None, scheme: str) -> str:
    """host[:port] for a Host header; the scheme's default port is left out."""
    name = f"[{host}]" if ":" in host else _host_ascii(host)
    return name if port is None or port == _DEFAULT_PORTS[scheme] else f"{name}:{port}"


class _Reader:
    """Buffered reads from one socket, each answer within a deadline: the socket's timeout bounds every
    wait, the deadline the whole answer."""

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        self.sock, self.timeout = sock, timeout
        self.buffer = bytearray()
        self.deadline, self.seconds = float("inf"), 0.0

    def start(self, seconds: float) -> None:
        self.deadline, self.seconds = time.monotonic() + seconds, seconds

    def pending(self) -> bool:
        return bool(self.buffer)

    def _fill(self) -> bool:
        """Read what the socket has; False at the end of the stream."""
        wait = min(self.timeout, self.deadline - time.monotonic())
        try:
            if wait <= 0:
                raise TimeoutError
            self.sock.settimeout(wait)
            data = self.sock.recv(65536)
        except TimeoutError:
            if wait < self.timeout:  # the deadline, not one silence, ran out
                raise _Late(
                    f"the answer did not arrive whole within the {self.seconds:g} s deadline"
                ) from None
            raise
        self.buffer += data
        return bool(data)

    def readline(self) -> bytes:
        """One line with its end, b"" at the end of the stream (a last line without end as it is)."""
        start = 0
        while (end := self.buffer.find(b"\n", start)) < 0:
            if len(self.buffer) > MAX_LINE:
                raise _Malformed(f"a line longer than {MAX_LINE} bytes")
            start = len(self.buffer)
            if not self._fill():
                end = len(self.buffer) - 1
                break
        if end >= MAX_LINE:
            raise _Malformed(f"a line longer than {MAX_LINE} bytes")
        line = bytes(self.buffer[: end + 1])
        del self.buffer[: end + 1]
        return line

    def read_into(self, body: bytearray, size: int) -> int:
        """Move up to `size` bytes into `body` (fewer at the end of the stream); how many were moved."""
        moved = 0
        while moved < size:
            if not self.buffer and not self._fill():
                break
            piece = self.buffer[: size - moved]
            body += piece
            del self.buffer[: len(piece)]
            moved += len(piece)
        return moved


def _head(reader: _Reader) -> tuple[str, int, Headers]:
    """An answer's status line and headers: (HTTP version, status, headers). EOFError when the server
    closed the connection before the first byte."""
    status_line = reader.readline()
    if not status_line:
        raise EOFError("the server closed the connection without answering")
    version, _, rest = status_line.decode("latin-1").rstrip("\r\n").partition(" ")
    code = rest[:3]
    if (
        not version.startswith("HTTP/1.")
        or not (code.isdigit() and code.isascii() and 100 <= int(code) <= 599)
        or rest[3:4] not in ("", " ")
    ):
        raise _Malformed(f"not an HTTP/1.x status line: {status_line[:80]!r}")
    headers = Headers()
    name = ""
    for count in itertools.count():
        if (line := reader.readline()) in (b"\r\n", b"\n"):
            break
        if not line:
            raise _Malformed("the answer ended inside its headers")
        if count == MAX_HEADERS:  # lines, not names: a repeated header cannot grow without bound either
            raise _Malformed(f"more than {MAX_HEADERS} header lines")
        text = line.decode("latin-1").rstrip("\r\n")
        if text[:1] in (" ", "\t") and name:  # an obsolete folded continuation of the previous header
            dict.__setitem__(headers, name, f"{dict.__getitem__(headers, name)} {text.strip()}")
            continue
        name, colon, value = text.partition(":")
        name = name.lower()
        if not colon or not name or name != name.strip():
            raise _Malformed(f"not a header line: {line[:80]!r}")
        value = value.strip(" \t")
        known = dict.get(headers, name)
        dict.__setitem__(headers, name, value if known is None else f"{known}, {value}")
    return version, int(code), headers


def _exactly(reader: _Reader, body: bytearray, size: int) -> None:
    if len(body) + size > MAX_BODY:
        raise _Malformed(f"a body over the {MAX_BODY} bytes allowed")
    got = reader.read_into(body, size)
    if got < size:
        raise _Malformed(f"the answer ended after {got} of its {size} bytes")


def _chunked(reader: _Reader, body: bytearray) -> None:
    """A chunked body into `body`: its bytes in memory, not one object per chunk, however small they are."""
    while True:
        line = reader.readline()
        if not line:
            raise _Malformed("the answer ended inside its chunked body")
        size_text = line.split(b";", 1)[0].strip()
        if not _HEX.fullmatch(size_text):
            raise _Malformed(f"not a chunk size: {size_text[:40]!r}")
        size = int(size_text, 16)
        if size == 0:
            for _ in range(MAX_HEADERS + 1):  # trailers, which nothing here reads
                if reader.readline() in (b"\r\n", b"\n", b""):
                    return
            raise _Malformed(f"more than {MAX_HEADERS} trailer lines")
        _exactly(reader, body, size)
        if reader.readline() not in (b"\r\n", b"\n"):
            raise _Malformed("a chunk not followed by CRLF")


def _answer(reader: _Reader, method: str) -> tuple[int, Headers, bytes, bool]:
    """The next final answer on the connection, and whether the connection can carry another request."""
    version, status, headers = _head(reader)
    for _ in range(MAX_INTERIM):  # interim answers (100 Continue, 103 Early Hints) precede the real one
        if status >= 200:
            break
        version, status, headers = _head(reader)
    else:
        if status < 200:
            raise _Malformed(f"more than {MAX_INTERIM} interim (1xx) answers")
    tokens = {t.strip().lower() for t in (headers.get("connection") or "").split(",")}
    keep = "close" not in tokens and (version != "HTTP/1.0" or "keep-alive" in tokens)
    coding = (headers.get("transfer-encoding") or "").lower()
    length = headers.get("content-length")
    body = bytearray()
    if method == "HEAD" or status in (204, 304):
        pass
    elif coding.rsplit(",", 1)[-1].strip() == "chunked":
        _chunked(reader, body)
    elif length is not None and not coding:
        values = {v.strip() for v in length.split(",")}  # a repeated, equal Content-Length is allowed
        if len(values) != 1 or not (value := values.pop()).isdigit() or not value.isascii():
            raise _Malformed(f"Content-Length {length!r}")
        _exactly(reader, body, int(value))
    else:  # no length (or a coding other than chunked last): the body runs to the end of the connection
        if reader.read_into(body, MAX_BODY + 1) > MAX_BODY:
            raise _Malformed(f"a body over the {MAX_BODY} bytes allowed")
        keep = False
    return status, headers, bytes(body), keep and not reader.pending()


class _Connection:
    """One socket (TLS or not) and the reader over it; `reused` once it has carried an answer."""

    def __init__(self, sock: socket.socket, forwarding: bool, timeout: float) -> None:
        self.sock, self.forwarding, self.reused = sock, forwarding, False
        self.reader = _Reader(sock, timeout)

    def dropped(self) -> bool:
        """Whether the server closed this idle kept connection (or sent on it unasked): it then reads as
        ready. Asked before a request is sent on it, so nothing is sent into a closed connection."""
        import select

        return bool(select.select([self.sock], [], [], 0)[0])

    def exchange(self, request: bytes, method: str, deadline: float) -> tuple[int, Headers, bytes, bool]:
        self.sock.settimeout(self.reader.timeout)
        self.sock.sendall(request)
        self.reader.start(deadline)
        return _answer(self.reader, method)

    def close(self) -> None:
        self.sock.close()


class Client:
    """Requests with fixed headers; `close()` (or `with`) lets the connections go. `timeout` bounds every
    wait (connecting, each read); `deadline` each whole answer."""

    def __init__(
        self,
        headers: dict[str, str],
        *,
        timeout: float,
        deadline: float = ANSWER_DEADLINE,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.headers, self.timeout, self.deadline = headers, timeout, max(deadline, timeout)
        self.env = os.environ if env is None else env
        self._connections: dict[tuple[str, str, int | None], _Connection] = {}
        self._system_trust = not (self.env.get("SSL_CERT_FILE") or self.env.get("SSL_CERT_DIR"))

    def close(self) -> None:
        for conn in self._connections.values():
            conn.close()
        self._connections.clear()

    def request(self, method: str, url: str, json_body: object = None, *, fresh: bool = False) -> Response:
        """`fresh`: on a new connection, not a kept one (a retry after an answer was lost on a kept one)."""
        body = None if json_body is None else json.dumps(json_body).encode("utf-8")
        first, authorized = origin(url), True
        for _ in range(MAX_REDIRECTS + 1):
            authorized = authorized and origin(url) == first  # once left, the origin gets no credentials back
            response = self._send(method, url, body, authorized, fresh)
            location = response.headers.get("location")
            if response.status_code not in _REDIRECTS or not location:
                return response
            if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
                method, body = "GET", None
            url = urljoin(url, location)
        raise TransportError(f"{method} {masked(url)}: more than {MAX_REDIRECTS} redirects", permanent=True)

    def _send(self, method: str, url: str, body: bytes | None, authorized: bool, fresh: bool) -> Response:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TransportError(
                f"cannot send to {masked(url)!r}: not an http:// or https:// URL", permanent=True
            )
        try:
            port = parts.port
        except ValueError as exc:
            raise TransportError(f"cannot send to {masked(url)!r}: {exc}", permanent=True) from None
        headers = {k: v for k, v in self.headers.items() if authorized or k.lower() != "authorization"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        key = (parts.scheme, parts.hostname, port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request: bytes | None = None
        if fresh:
            self._drop(key)
        for _ in range(2):
            conn = self._connections.get(key)
            if conn is not None and conn.dropped():
                self._drop(key)
                conn = None
            sent = False
            try:
                if conn is None:
                    conn = self._connections[key] = self._open(parts, port)
                if request is None:
                    request = self._request(method, parts, port, target, headers, body, conn.forwarding)
                sent = True
                status, answer_headers, content, keep = conn.exchange(request, method, self.deadline)
            except (OSError, EOFError, _Malformed) as exc:
                self._drop(key)
                retry = conn is not None and conn.reused and method in IDEMPOTENT
                if retry and isinstance(exc, (EOFError, ConnectionError)):
                    continue  # a kept connection the server closed meanwhile: once more on a new one
                raise self._transport_error(exc, sent=sent) from exc
            except BaseException:
                self._drop(key)
                raise
            conn.reused = True
            if not keep:
                self._drop(key)
            return Response(status, answer_headers, content, url)
        raise TransportError("the server closed the connection without answering, twice", sent=True)

    def _request(
        self,
        method: str,
        url: SplitResult,
        port: int | None,
        target: str,
        headers: dict[str, str],
        body: bytes | None,
        forwarding: bool,
    ) -> bytes:
        host = _authority(url.hostname or "", port, url.scheme)
        if _UNSAFE.search(method + target):
            raise TransportError(
                f"{method} {target[:200]!r}: a control character or space in the URL", permanent=True
            )
        if forwarding:  # an http:// URL through a proxy: the proxy gets the whole URL
            target = f"{url.scheme}://{host}{target}"
            headers = {**headers, **_proxy_authorization(proxy_for(url, self.env))}
        for name, value in headers.items():
            if any(c in f"{name}{value}" for c in "\r\n\0"):
                raise TransportError(
                    f"the {name} header holds a line break or NUL (from the environment?)", permanent=True
                )
        lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in headers.items())]
        lines.append("Accept-Encoding: identity")  # no header would mean any coding is acceptable
        if body is not None or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body or b'')}")
        try:
            return "\r\n".join([*lines, "", ""]).encode("latin-1") + (body or b"")
        except UnicodeEncodeError as exc:
            near = exc.object[max(0, exc.start - 20) : exc.end + 20]
            raise TransportError(f"a header that is not Latin-1: {near!r}", permanent=True) from None

    def _drop(self, key: tuple[str, str, int | None]) -> None:
        conn = self._connections.pop(key, None)
        if conn is not None:
            conn.close()

    def _transport_error(self, exc: BaseException, *, sent: bool) -> TransportError:
        if _unverified(exc):
            code = getattr(exc, "verify_code", None)
            hint = " (a private CA: point SSL_CERT_FILE at its certificate)" if code in _CHOOSE_ISSUER else ""
            return TransportError(f"{type(exc).__name__}: {exc}{hint}", permanent=True)
        if isinstance(exc, _Malformed):
            return TransportError(f"malformed answer: {exc}", permanent=True, sent=sent)
        if isinstance(exc, _Late):
            return TransportError(f"TimeoutError: {exc}", permanent=True, sent=sent)
        return TransportError(f"{type(exc).__name__}: {exc}", sent=sent)

    def _open(self, url: SplitResult, port: int | None) -> _Connection:
        """A connected socket for the URL's origin: directly, forwarding through an http:// proxy, or
        tunnelled through one (CONNECT) and then TLS."""
        host = url.hostname or ""
        proxy = proxy_for(url, self.env)
        if proxy is not None and proxy.scheme != "http":
            raise TransportError(
                f"proxy {masked(proxy.geturl())!r}: only http:// proxies are supported", permanent=True
            )
        if proxy is not None:
            try:
                address = (_host_ascii(proxy.hostname or ""), proxy.port or 80)
            except ValueError as exc:  # a port out of range
                raise TransportError(f"proxy {masked(proxy.geturl())!r}: {exc}", permanent=True) from None
        else:
            address = (_host_ascii(host), port or _DEFAULT_PORTS[url.scheme])
        # bytes, not str: for a str host both getaddrinfo and ssl import the IDNA codec (a few ms of
        # `comment --post`); _host_ascii has already made the name ASCII
        sock = socket.create_connection((address[0].encode("ascii"), address[1]), timeout=self.timeout)
        try:
            if url.scheme == "http":
                return _Connection(sock, proxy is not None, self.timeout)
            if proxy is not None:
                self._tunnel(sock, f"{_authority(host, None, 'https')}:{port or 443}", proxy)
            context = self._tls()
            try:
                return _Connection(
                    context.wrap_socket(sock, server_hostname=_host_ascii(host).encode("ascii")),
                    False,
                    self.timeout,
                )
            except OSError as exc:
                if not (self._system_trust and _unverified(exc)):
                    raise
            # nothing was sent: the handshake comes first. Once more, trusting certifi's bundle
            self._system_trust = False
            sock.close()
            return self._open(url, port)
        except BaseException:
            sock.close()
            raise

    def _tunnel(self, sock: socket.socket, authority: str, proxy: SplitResult) -> None:
        """CONNECT through the proxy; a refusal is a TransportError that names the proxy and its answer."""
        where = f"proxy {proxy.hostname}:{proxy.port or 80}"
        lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}"]
        lines += [f"{k}: {v}" for k, v in _proxy_authorization(proxy).items()]
        sock.sendall("\r\n".join([*lines, "", ""]).encode("latin-1"))
        reader = _Reader(sock, self.timeout)
        reader.start(self.deadline)
        try:
            _, status, _ = _head(reader)
        except EOFError:
            raise TransportError(f"{where} closed the connection before answering CONNECT") from None
        except _Malformed as exc:
            raise TransportError(f"{where} answered CONNECT with no HTTP answer: {exc}") from None
        if not 200 <= status < 300:  # 407: credentials missing or wrong, which no retry changes
            raise TransportError(f"{where} refused the tunnel: {status}", permanent=status == 407)
        if reader.pending():
            raise TransportError(f"{where} sent bytes after its CONNECT answer, before the TLS handshake")

    def _tls(self) -> ssl.SSLContext:
        import ssl

        cafile, capath = self.env.get("SSL_CERT_FILE") or None, self.env.get("SSL_CERT_DIR") or None
        if cafile or capath:  # both when both are set, as OpenSSL itself does
            try:
                return ssl.create_default_context(cafile=cafile, capath=capath)
            except (OSError, ssl.SSLError) as exc:
                named = " and ".join(
                    f"{n}={v}" for n, v in (("SSL_CERT_FILE", cafile), ("SSL_CERT_DIR", capath)) if v
                )
                raise TransportError(
                    f"cannot load the CA certificates of {named}: {exc}", permanent=True
                ) from None
        folder = system_ca_dir() if self._system_trust else None
        if folder:
            return ssl.create_default_context(capath=folder)
        self._system_trust = False  # nothing to fall back from
        import certifi

        return ssl.create_default_context(cafile=certifi.where())

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""A small HTTP/1.1 client on the standard library's sockets, for `comment --post`.

Not an HTTP library, and not `http.client` either: importing http.client (it parses headers with the
`email` package) cost `comment --post` more than everything else the command does, and httpx more
still. What this client keeps of what httpx did for us:

- proxies from the environment: HTTPS_PROXY, HTTP_PROXY, ALL_PROXY (upper or lower case; credentials
  in the proxy URL are sent as Proxy-Authorization) and NO_PROXY (`*`, host names, `.domain` suffixes,
  `host:port`); https:// goes through the proxy with CONNECT, http:// is forwarded;
- TLS verified against SSL_CERT_FILE and/or SSL_CERT_DIR when set, else the system's hashed CA folder
  (OpenSSL's default, /etc/ssl/certs on Debian and Ubuntu — GitHub's runners), else certifi's bundle.
  The folder is read lazily, only the certificate a server needs (0.4 ms here), where a bundle is parsed
  whole for every context (certifi's: about 40 ms, more than the rest of `comment --post`); a server the
  folder cannot verify is tried once more with certifi's bundle, so an out-of-date system store costs a
  second handshake, not a failure. `ssl` is imported for https:// only;
- one timeout, for connecting and for every read;
- redirects followed (at most 5): 303 and a POST answered 301/302 go on as GET, everything else keeps
  its method and body; the Authorization header is never sent on to another host;
- one connection kept open per host, so the pages and the write of one post share it; a kept
  connection the server has closed meanwhile is opened again once;
- answers framed as HTTP/1.1 frames them: Content-Length, chunked, or read to the end; interim 1xx
  answers skipped; lines, header counts and bodies bounded (a hostile or broken server is an error,
  not a memory blow-up).

Anything that leaves no HTTP answer (refused, reset, timed out, TLS failure, a malformed answer) is a
`TransportError`.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import socket
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, unquote, urljoin, urlsplit

if TYPE_CHECKING:
    import ssl
    from typing import BinaryIO

MAX_REDIRECTS = 5
MAX_LINE = 65536  # one status or header line (http.client's limit)
MAX_HEADERS = 100
MAX_BODY = 64 << 20  # a page of 100 comments of 65 536 characters is under 7 MB
_REDIRECTS = (301, 302, 303, 307, 308)
_HASHED = re.compile(r"[0-9a-f]{8}\.[0-9]+")  # c_rehash / update-ca-certificates link names
_UNSAFE = re.compile(r"[\x00-\x20\x7f]")  # in a request target or a header: would split the request


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
    """No HTTP answer came; the message says what happened instead. `permanent`: trying again cannot help
    (a certificate nothing here trusts)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class _Malformed(Exception):
    """The server's bytes are not an HTTP/1.x answer (or exceed a limit)."""


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
    def __init__(self, status_code: int, headers: Headers, content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> object:
        """The body as JSON; ValueError when it is not."""
        return json.loads(self.content)


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
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if entry == "*":
            return True
        name, _, port = entry.partition(":")
        name = name.lstrip(".")
        if not name or (port and port != str(url.port or {"https": 443, "http": 80}.get(url.scheme))):
            continue
        if host == name or host.endswith(f".{name}"):
            return True
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


def _line(reader: BinaryIO) -> bytes:
    line = reader.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise _Malformed(f"a line longer than {MAX_LINE} bytes")
    return line


def _head(reader: BinaryIO) -> tuple[str, int, Headers]:
    """An answer's status line and headers: (HTTP version, status, headers). EOFError when the server
    closed the connection before the first byte."""
    status_line = _line(reader)
    if not status_line:
        raise EOFError("the server closed the connection without answering")
    version, _, rest = status_line.decode("latin-1").rstrip("\r\n").partition(" ")
    code = rest[:3]
    if (
        not version.startswith("HTTP/1.")
        or not (code.isdigit() and code.isascii())
        or rest[3:4] not in ("", " ")
    ):
        raise _Malformed(f"not an HTTP/1.x status line: {status_line[:80]!r}")
    headers = Headers()
    name = ""
    for count in itertools.count():
        if (line := _line(reader)) in (b"\r\n", b"\n"):
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


def _exactly(reader: BinaryIO, size: int) -> bytes:
    if size > MAX_BODY:
        raise _Malformed(f"a body of {size} bytes, over the {MAX_BODY} allowed")
    data = reader.read(size)
    if len(data) < size:
        raise _Malformed(f"the answer ended after {len(data)} of its {size} bytes")
    return data


def _chunked(reader: BinaryIO) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        size_text = _line(reader).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise _Malformed(f"not a chunk size: {size_text[:40]!r}") from None
        if size < 0:
            raise _Malformed(f"not a chunk size: {size_text[:40]!r}")
        if size == 0:
            for _ in range(MAX_HEADERS + 1):  # trailers, which nothing here reads
                if _line(reader) in (b"\r\n", b"\n", b""):
                    return b"".join(parts)
            raise _Malformed(f"more than {MAX_HEADERS} trailer lines")
        total += size
        parts.append(_exactly(reader, size if total <= MAX_BODY else MAX_BODY + 1))
        if _line(reader) not in (b"\r\n", b"\n"):
            raise _Malformed("a chunk not followed by CRLF")


def _answer(reader: BinaryIO, method: str) -> tuple[Response, bool]:
    """The next final answer on the connection and whether the connection can carry another request."""
    version, status, headers = _head(reader)
    while 100 <= status < 200:  # interim answers (100 Continue, 103 Early Hints) precede the real one
        version, status, headers = _head(reader)
    tokens = {t.strip().lower() for t in (headers.get("connection") or "").split(",")}
    keep = "close" not in tokens and (version != "HTTP/1.0" or "keep-alive" in tokens)
    coding = (headers.get("transfer-encoding") or "").lower()
    length = headers.get("content-length")
    if method == "HEAD" or status in (204, 304):
        body = b""
    elif coding.rsplit(",", 1)[-1].strip() == "chunked":
        body = _chunked(reader)
    elif length is not None and not coding:
        values = {v.strip() for v in length.split(",")}  # a repeated, equal Content-Length is allowed
        if len(values) != 1 or not (value := values.pop()).isdigit() or not value.isascii():
            raise _Malformed(f"Content-Length {length!r}")
        body = _exactly(reader, int(value))
    else:  # no length (or a coding other than chunked last): the body runs to the end of the connection
        body, keep = reader.read(MAX_BODY + 1), False
    if len(body) > MAX_BODY:
        raise _Malformed(f"a body over the {MAX_BODY} bytes allowed")
    return Response(status, headers, body), keep


def _host_bytes(host: str) -> bytes:
    """The host as the resolver and TLS take it: bytes, so that neither imports the IDNA codec for an
    ASCII name (a few ms of `comment --post`)."""
    try:
        return host.encode("ascii") if host.isascii() else host.encode("idna")
    except UnicodeError as exc:
        raise TransportError(f"host name {host!r}: {exc}") from None


def _authority(host: str, port: int | None, scheme: str) -> str:
    """host[:port] for a Host header; the scheme's default port is left out."""
    name = f"[{host}]" if ":" in host else host
    return name if port is None or port == {"https": 443, "http": 80}[scheme] else f"{name}:{port}"


class _Connection:
    """One socket (TLS or not) and the buffered reader over it; `reused` once it has carried an answer."""

    def __init__(self, sock: socket.socket, forwarding: bool) -> None:
        self.sock, self.forwarding, self.reused = sock, forwarding, False
        self.reader: BinaryIO = sock.makefile("rb")

    def exchange(self, request: bytes, method: str) -> tuple[Response, bool]:
        self.sock.sendall(request)
        return _answer(self.reader, method)

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


class Client:
    """Requests with fixed headers; `close()` (or `with`) lets the connections go."""

    def __init__(
        self, headers: dict[str, str], *, timeout: float, env: Mapping[str, str] | None = None
    ) -> None:
        self.headers, self.timeout = headers, timeout
        self.env = os.environ if env is None else env
        self._connections: dict[tuple[str, str, int | None], _Connection] = {}
        self._system_trust = not (self.env.get("SSL_CERT_FILE") or self.env.get("SSL_CERT_DIR"))

    def close(self) -> None:
        for conn in self._connections.values():
            conn.close()
        self._connections.clear()

    def request(self, method: str, url: str, json_body: object = None) -> Response:
        body = None if json_body is None else json.dumps(json_body).encode("utf-8")
        authorized = True
        for _ in range(MAX_REDIRECTS + 1):
            response = self._send(method, url, body, authorized)
            location = response.headers.get("location")
            if response.status_code not in _REDIRECTS or not location:
                return response
            target = urljoin(url, location)
            if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
                method, body = "GET", None
            authorized = authorized and urlsplit(target).hostname == urlsplit(url).hostname
            url = target
        raise TransportError(f"{method} {url}: more than {MAX_REDIRECTS} redirects")

    def _send(self, method: str, url: str, body: bytes | None, authorized: bool) -> Response:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TransportError(f"cannot send to {url!r}: not an http:// or https:// URL")
        try:
            port = parts.port
        except ValueError as exc:
            raise TransportError(f"cannot send to {url!r}: {exc}") from None
        headers = {k: v for k, v in self.headers.items() if authorized or k.lower() != "authorization"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        key = (parts.scheme, parts.hostname, port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request: bytes | None = None
        for _ in range(2):
            conn = self._connections.get(key)
            try:
                if conn is None:
                    conn = self._connections[key] = self._open(parts, port)
                if request is None:
                    request = self._request(method, parts, port, target, headers, body, conn.forwarding)
                response, keep = conn.exchange(request, method)
            except (OSError, EOFError, _Malformed) as exc:
                self._drop(key)
                if conn is not None and conn.reused and isinstance(exc, (EOFError, ConnectionError)):
                    continue  # a kept connection the server closed meanwhile: once more on a new one
                raise self._transport_error(exc) from exc
            except BaseException:
                self._drop(key)
                raise
            conn.reused = True
            if not keep:
                self._drop(key)
            return response
        raise TransportError("the server closed the connection without answering, twice")

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
        if forwarding:  # an http:// URL through a proxy: the proxy gets the whole URL
            target = f"{url.scheme}://{url.netloc.rpartition('@')[2]}{target}"
            headers = {**headers, **_proxy_authorization(proxy_for(url, self.env))}
        lines = [f"{method} {target} HTTP/1.1", f"Host: {_authority(url.hostname or '', port, url.scheme)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append("Accept-Encoding: identity")  # no header would mean any coding is acceptable
        if body is not None or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body or b'')}")
        if _UNSAFE.search(method + target) or any("\r" in line or "\n" in line for line in lines):
            raise TransportError(f"{method} {target[:200]!r}: a control character or space in the request")
        try:
            return "\r\n".join([*lines, "", ""]).encode("latin-1") + (body or b"")
        except UnicodeEncodeError:
            raise TransportError(f"{method} {target[:200]!r}: a header that is not Latin-1") from None

    def _drop(self, key: tuple[str, str, int | None]) -> None:
        conn = self._connections.pop(key, None)
        if conn is not None:
            conn.close()

    def _transport_error(self, exc: BaseException) -> TransportError:
        if _unverified(exc):
            return TransportError(
                f"{type(exc).__name__}: {exc} (a private CA: point SSL_CERT_FILE at its certificate)",
                permanent=True,
            )
        what = "malformed answer" if isinstance(exc, _Malformed) else type(exc).__name__
        return TransportError(f"{what}: {exc}")

    def _open(self, url: SplitResult, port: int | None) -> _Connection:
        """A connected socket for the URL's host: directly, forwarding through an http:// proxy, or tunnelled
        through one (CONNECT) and then TLS."""
        host = url.hostname or ""
        proxy = proxy_for(url, self.env)
        if proxy is not None and proxy.scheme != "http":
            raise TransportError(f"proxy {proxy.geturl()!r}: only http:// proxies are supported")
        if proxy is not None:
            try:
                address = (_host_bytes(proxy.hostname or ""), proxy.port or 80)
            except ValueError as exc:  # a port out of range
                raise TransportError(f"proxy {proxy.geturl()!r}: {exc}") from None
        else:
            address = (_host_bytes(host), port or {"https": 443, "http": 80}[url.scheme])
        sock = socket.create_connection(address, timeout=self.timeout)
        try:
            if url.scheme == "http":
                return _Connection(sock, forwarding=proxy is not None)
            if proxy is not None:
                self._tunnel(sock, f"{_authority(host, None, 'https')}:{port or 443}", proxy)
            try:
                return _Connection(self._tls().wrap_socket(sock, server_hostname=_host_bytes(host)), False)
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
        """CONNECT through the proxy; a refusal is a TransportError that names the proxy's answer."""
        lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}"]
        lines += [f"{k}: {v}" for k, v in _proxy_authorization(proxy).items()]
        sock.sendall("\r\n".join([*lines, "", ""]).encode("latin-1"))
        with sock.makefile("rb") as reader:  # the proxy says nothing more before the TLS handshake
            _, status, _ = _head(reader)
        if not 200 <= status < 300:
            raise TransportError(f"proxy {proxy.hostname}:{proxy.port or 80} refused the tunnel: {status}")

    def _tls(self) -> ssl.SSLContext:
        import ssl

        cafile, capath = self.env.get("SSL_CERT_FILE") or None, self.env.get("SSL_CERT_DIR") or None
        if cafile or capath:  # both when both are set, as OpenSSL itself does
            return ssl.create_default_context(cafile=cafile, capath=capath)
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

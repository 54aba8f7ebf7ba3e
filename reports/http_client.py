"""A small HTTP/1.1 client on the standard library's `http.client`, for `comment --post`.

An HTTP library would cost `comment --post` more than everything else the command does (httpx: about
80 ms of imports, and a TLS context built for every client, even for an http:// URL). What this client
keeps of what httpx did for us:

- proxies from the environment: HTTPS_PROXY, HTTP_PROXY, ALL_PROXY (upper or lower case; credentials
  in the proxy URL are sent as Proxy-Authorization) and NO_PROXY (`*`, host names, `.domain` suffixes,
  `host:port`); https:// goes through the proxy with CONNECT, http:// is forwarded;
- TLS verified against SSL_CERT_FILE and/or SSL_CERT_DIR when set, else the system's hashed CA folder
  (OpenSSL's default, /etc/ssl/certs on Debian and Ubuntu — GitHub's runners), else certifi's bundle.
  The folder is read lazily, only the certificate a server needs (0.4 ms here), where a bundle is parsed
  whole for every context (certifi's: about 40 ms, more than the rest of `comment --post`); a server the
  folder cannot verify is tried once more with certifi's bundle, so an out-of-date system store costs a
  second handshake, not a failure;
- one timeout, for connecting and for every read;
- redirects followed (at most 5): 303 and a POST answered 301/302 go on as GET, everything else keeps
  its method and body; the Authorization header is never sent on to another host;
- one connection kept open per host, so the pages and the write of one post share it.

Anything that leaves no HTTP answer (refused, reset, timed out, TLS failure, a malformed answer) is a
`TransportError`.
"""

from __future__ import annotations

import http.client
import json
import os
import re
from collections.abc import Mapping
from urllib.parse import SplitResult, unquote, urljoin, urlsplit

MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)
_HASHED = re.compile(r"[0-9a-f]{8}\.[0-9]+")  # c_rehash / update-ca-certificates link names


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


class Response:
    def __init__(self, status_code: int, headers: http.client.HTTPMessage, content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers  # names are case-insensitive, for `in` and `get` alike
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
    import ssl

    return isinstance(exc, ssl.SSLCertVerificationError)


def _proxy_authorization(proxy: SplitResult) -> dict[str, str]:
    if not proxy.username:
        return {}
    import base64

    pair = f"{unquote(proxy.username)}:{unquote(proxy.password or '')}".encode()
    return {"Proxy-Authorization": "Basic " + base64.b64encode(pair).decode()}


class Client:
    """Requests with fixed headers; `close()` (or `with`) lets the connections go."""

    def __init__(
        self, headers: dict[str, str], *, timeout: float, env: Mapping[str, str] | None = None
    ) -> None:
        self.headers, self.timeout = headers, timeout
        self.env = os.environ if env is None else env
        self._connections: dict[tuple[str, str, int | None], tuple[http.client.HTTPConnection, bool]] = {}
        self._system_trust = not (self.env.get("SSL_CERT_FILE") or self.env.get("SSL_CERT_DIR"))

    def close(self) -> None:
        for conn, _ in self._connections.values():
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
        headers = {k: v for k, v in self.headers.items() if authorized or k.lower() != "authorization"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        key = (parts.scheme, parts.hostname or "", parts.port)
        conn, forwarding = self._connections.get(key) or self._open(parts)
        self._connections[key] = (conn, forwarding)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if forwarding:  # an http:// URL through a proxy: the proxy gets the whole URL
            target = f"{parts.scheme}://{parts.netloc}{target}"
            headers.update(_proxy_authorization(proxy_for(parts, self.env)))
        try:
            conn.request(method, target, body=body, headers=headers)
            answer = conn.getresponse()
            content = answer.read()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            del self._connections[key]
            if self._system_trust and _unverified(exc):  # nothing was sent: the handshake came first
                self._system_trust = False
                return self._send(method, url, body, authorized)
            if _unverified(exc):
                raise TransportError(
                    f"{type(exc).__name__}: {exc} (a private CA: point SSL_CERT_FILE at its certificate)",
                    permanent=True,
                ) from exc
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        if answer.will_close:
            conn.close()
        return Response(answer.status, answer.headers, content)

    def _open(self, url: SplitResult) -> tuple[http.client.HTTPConnection, bool]:
        """A connection for the URL's host (not connected yet), and whether it forwards through a proxy."""
        if url.scheme not in ("http", "https") or not url.hostname:
            raise TransportError(f"cannot send to {url.geturl()!r}: not an http:// or https:// URL")
        proxy = proxy_for(url, self.env)
        if proxy is not None and proxy.scheme != "http":
            raise TransportError(f"proxy {proxy.geturl()!r}: only http:// proxies are supported")
        host, port = (proxy.hostname, proxy.port or 80) if proxy else (url.hostname, url.port)
        if url.scheme == "http":
            return http.client.HTTPConnection(host, port, timeout=self.timeout), proxy is not None
        conn = http.client.HTTPSConnection(host, port, timeout=self.timeout, context=self._tls())
        if proxy is not None:
            conn.set_tunnel(url.hostname, url.port or 443, headers=_proxy_authorization(proxy))
        return conn, False

    def _tls(self):  # -> ssl.SSLContext
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

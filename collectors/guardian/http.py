"""An HTTP session whose every request has a total deadline: connect, headers and body together.

requests' `timeout` bounds each socket operation, so a server that sends one byte every 2 s keeps a
request alive forever. Here a timer shuts the request's sockets down when the deadline passes,
whatever the request is doing (connecting, TLS, headers, body), and the request fails with one
reason. Answers are also bounded in size and must be JSON (a proxy's HTML page is named as such,
not taken for an unreachable server).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from ..base import current_limits
from ..checks import decoded_size

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:
    from typing import Any

MAX_ANSWER_BYTES = 64 << 20  # far above what the collector's queries return; memory stays bounded
_CHUNK = 1 << 16


class AnswerError(Exception):
    """The server did not give a usable answer in time (deadline, size, not JSON); one-line reason."""


class _Deadline:
    """Shuts down every socket opened under it once `seconds` have passed."""

    _current = threading.local()

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds
        self.fired = False
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []  # dups: ours to shut down and close, never reused
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        _Deadline._current.value = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        _Deadline._current.value = None
        with self._lock:
            for sock in self._socks:
                sock.close()
            self._socks.clear()

    def remaining(self) -> float:
        return max(self.end - time.monotonic(), 0.001)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            for sock in self._socks:
                _shutdown(sock)

    @classmethod
    def watch(cls, sock: socket.socket) -> None:
        deadline = getattr(cls._current, "value", None)
        if deadline is None:
            return
        with deadline._lock:
            # A dup shares the connection (shutdown acts on it) but not the descriptor, so the
            # timer never touches a descriptor urllib3 closed and the system reused.
            dup = sock.dup()
            deadline._socks.append(dup)
            if deadline.fired:
                _shutdown(dup)


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by the other side
        sock.shutdown(socket.SHUT_RDWR)


class _HTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _Deadline.watch(sock)
        return sock


class _HTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _Deadline.watch(sock)
        return sock


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class _Adapter(HTTPAdapter):
    """No retries (a retry would restart the clock), connections that the deadline can cut."""

    def __init__(self) -> None:
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        manager.pool_classes_by_scheme = _POOLS
        return manager


class DeadlineSession(requests.Session):
    """A requests.Session (for prometheus-api-client) whose requests end within `timeout` seconds."""

    def __init__(self, timeout: float, max_bytes: int | None = None) -> None:
        super().__init__()
        self.deadline_seconds = timeout
        self.max_bytes = max_bytes or MAX_ANSWER_BYTES
        self.mount("http://", _Adapter())
        self.mount("https://", _Adapter())

    def take_over(self, url: str) -> None:
        """Mount the deadline adapter on `url` again, after a client mounted its own there."""
        self.mount(url, _Adapter())

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        with _Deadline(self.deadline_seconds) as deadline:
            kwargs.update(stream=True, timeout=(deadline.remaining(), deadline.remaining()))
            try:
                response = super().request(method, url, *args, **kwargs)
                body = self._body(response)
            except requests.exceptions.RequestException as exc:
                # Both socket timeouts are the deadline's remaining time, so a timeout is the deadline
                # too, even when it beats the timer by a few milliseconds.
                if deadline.fired or isinstance(exc, requests.exceptions.Timeout):
                    raise self._late() from exc
                raise
            if deadline.fired:  # a cut connection can look like an answer that ended early
                raise self._late()
        response._content = body
        kind = response.headers.get("Content-Type", "").split(";")[0].strip() or "no content type"
        if "json" not in kind:
            status = "" if response.status_code == 200 else f"HTTP {response.status_code}, "
            raise AnswerError(f"not a Prometheus API (answered {status}{kind})")
        budget = current_limits().max_decoded  # the client decodes it whole: 64 MiB of `[[],...]` is 1.3 GB
        if (size := decoded_size(body.decode("utf-8", "replace"))) > budget:
            raise AnswerError(f"answer would take some {size >> 20:,} MiB to decode, more than {budget >> 20:,} "
                              "MiB (limit max_decoded_mb in [tool.healthdeck])")  # fmt: skip
        return response

    def _body(self, response: requests.Response) -> bytes:
        parts: list[bytes] = []
        size = 0
        for chunk in response.iter_content(_CHUNK):
            size += len(chunk)
            if size > self.max_bytes:
                response.close()
                raise AnswerError(f"answer larger than {self.max_bytes >> 20} MiB, not read")
            parts.append(chunk)
        return b"".join(parts)

    def _late(self) -> AnswerError:
        return AnswerError(f"no complete answer within {self.deadline_seconds:g}s (total deadline)")

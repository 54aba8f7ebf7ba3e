"""Prometheus against misbehaving servers on real local sockets: a slow drip must end within the
configured timeout (a total deadline, not a per-read one), and bad answers are input errors, named
for what they are."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from healthdeck.collectors import CollectorError
from healthdeck.collectors.guardian.prometheus import collect_prometheus
from healthdeck.reports.cli import EXIT_INPUT, EXIT_OK, main

Handler = Callable[[socket.socket, bytes], None]  # (connection, the request's first bytes)
DRIP_SECONDS = 2.0  # one byte every 2 s: every single read finishes well inside a 3 s read timeout


class RawServer:
    """A TCP server on 127.0.0.1 that runs `handle(conn)` for each connection, in a thread."""

    def __init__(self, handle: Handler) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.handle = handle
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):  # the client gave up (the point of the drip tests)
            self.handle(conn, conn.recv(65536))

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


def _drip(payload: bytes, stop: threading.Event) -> Handler:
    def handle(conn: socket.socket, _request: bytes) -> None:
        for i in range(len(payload)):
            conn.sendall(payload[i : i + 1])
            if stop.wait(DRIP_SECONDS):
                return

    return handle


def _answer(status: str, content_type: str, body: bytes) -> Handler:
    def handle(conn: socket.socket, _request: bytes) -> None:
        head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        conn.sendall(head.encode() + b"Connection: close\r\n\r\n" + body)

    return handle


@pytest.fixture
def server() -> Iterator[Callable[[Handler], RawServer]]:
    started: list[RawServer] = []

    def start(handle: Handler) -> RawServer:
        started.append(RawServer(handle))
        return started[-1]

    yield start
    for s in started:
        s.close()


VECTOR = {"status": "success", "data": {"resultType": "vector", "result": []}}


@pytest.mark.parametrize(
    "payload",
    [
        # headers dripped: the status line never completes within the deadline
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n",
        # headers at once, then the body dripped (Content-Length says more is coming)
        None,
    ],
    ids=["drip-headers", "drip-body"],
)
def test_slow_drip_ends_within_the_timeout(server, payload: bytes | None) -> None:
    stop = threading.Event()
    body = json.dumps(VECTOR).encode()
    if payload is None:
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        s = server(lambda conn, request: (conn.sendall(head.encode()), _drip(body, stop)(conn, request)))
    else:
        s = server(_drip(payload + body, stop))
    started = time.monotonic()
    try:
        with pytest.raises(CollectorError, match=r"no complete answer within 3s \(total deadline\)"):
            collect_prometheus(s.url, "1h", timeout=3)
        elapsed = time.monotonic() - started
    finally:
        stop.set()
    assert 2.5 < elapsed < 4.5  # the deadline, not the first read that exceeds a per-read timeout


def test_slow_drip_through_the_cli_is_one_line_and_exit_3(server, tmp_path, capsys) -> None:
    stop = threading.Event()
    s = server(_drip(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{}", stop))
    config = tmp_path / "pyproject.toml"
    config.write_text("[tool.healthdeck.guardian]\ntimeout = 2\n")
    started = time.monotonic()
    try:
        code = main(["collect", "-q", "--no-history", "--config", str(config), "--out", str(tmp_path / "out"),
                     "--prometheus", s.url])  # fmt: skip
        elapsed = time.monotonic() - started
    finally:
        stop.set()
    err = capsys.readouterr().err
    assert code == EXIT_INPUT and elapsed < 3.5
    assert err.count("\n") == 1 and "within 2s (total deadline)" in err and s.url in err
    assert not (tmp_path / "out").exists()  # nothing written


@pytest.mark.parametrize(
    ("status", "content_type", "body", "reason"),
    [
        ("200 OK", "text/html; charset=utf-8", b"<html><body>Sign in</body></html>",
         "not a Prometheus API (answered text/html)"),
        ("404 Not Found", "text/html", b"<html>nginx</html>", "not a Prometheus API (answered HTTP 404, text/html)"),
        ("200 OK", "application/json", b"{not json", "is not valid JSON"),
        ("200 OK", "application/json", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        ("200 OK", "application/json", b'{"status": "success", "data": {"result": {"a": 1}}}',
         "result is a JSON object, expected a list"),
        ("200 OK", "application/json", b'{"status": "success", "data": {"result": [{"metric": {}, "value": 5}]}}',
         "sample is a number, expected a list"),
        ("200 OK", "application/json",
         b'{"status": "success", "data": {"result": [{"metric": {"decision": ["x"]}, "value": [1, "1"]}]}}',
         "are not all strings"),
    ],
    ids=["html", "html-404", "bad-json", "deep-json", "result-object", "value-number", "label-list"],
)  # fmt: skip
def test_bad_answers_are_named_input_errors(server, status, content_type, body, reason) -> None:
    s = server(_answer(status, content_type, body))
    with pytest.raises(CollectorError) as info:
        collect_prometheus(s.url, "1h", timeout=3)
    assert reason in str(info.value) and "unreachable" not in str(info.value)
    assert "\n" not in str(info.value) and len(str(info.value)) < 400


def _vector(value: object, metric: dict | None = None) -> bytes:
    result = [{"metric": metric or {"decision": "allow", "mode": "strict"}, "value": [1772420400, value]}]
    return json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}}).encode()


def test_banana_sample_is_an_input_error(server) -> None:
    s = server(_answer("200 OK", "application/json", _vector("banana")))
    with pytest.raises(CollectorError, match="sample value is 'banana', not a number"):
        collect_prometheus(s.url, "1h", timeout=3)


def test_non_finite_samples_are_missing_and_said_so(server, tmp_path) -> None:
    # Every instant query answers a NaN, an +Inf and a finite series; the range query a matrix
    # with one NaN point.
    def answer(conn: socket.socket, request: bytes) -> None:
        labels = [{"decision": d, "mode": "strict", "tenant": t, "rule_id": r}
                  for d, t, r in (("allow", "a", "R1"), ("deny", "b", "R2"), ("would_deny", "c", "R3"))]  # fmt: skip
        if b"query_range" in request:
            result = [{"metric": labels[0], "values": [[1, "1"], [2, "NaN"], [3, "2"]]}]
        else:
            result = [
                {"metric": m, "value": [1, v]} for m, v in zip(labels, ("NaN", "+Inf", "4"), strict=True)
            ]
        _answer(
            "200 OK",
            "application/json",
            json.dumps({"status": "success", "data": {"result": result}}).encode(),
        )(conn, request)

    s = server(answer)
    result = collect_prometheus(s.url, "1h", timeout=3)
    assert [d["value"] for d in result.decisions] == [4.0]
    assert result.warnings and all("non-finite" in w and "missing" in w for w in result.warnings)
    # the collector's own output goes through the strict writer: the report is valid JSON
    code = main(["collect", "-q", "--no-history", "--out", str(tmp_path), "--prometheus", s.url])
    assert code == EXIT_OK
    text = (tmp_path / "latest.json").read_text()
    json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in latest.json"))
    assert "non-finite sample" in (tmp_path / "latest.md").read_text()


def test_oversized_answer_is_refused_without_reading_it_all(server, monkeypatch) -> None:
    from healthdeck.collectors.guardian import http

    monkeypatch.setattr(http, "MAX_ANSWER_BYTES", 1 << 20)
    s = server(_answer("200 OK", "application/json", b" " * (3 << 20) + _vector("1")))
    with pytest.raises(CollectorError, match="answer larger than 1 MiB"):
        collect_prometheus(s.url, "1h", timeout=5)


def test_an_answer_too_costly_to_decode_is_refused_before_it_is_decoded(server) -> None:
    """3 million empty lists in 9 MB: within the size cap, but some 300 MiB decoded (the client decodes
    the whole answer), so it is refused as a JSON input of that cost is."""
    lists = b"[" + b",".join([b"[]"] * 3_000_000) + b"]"
    s = server(
        _answer("200 OK", "application/json", b'{"status": "success", "data": {"result": ' + lists + b"}}")
    )
    with pytest.raises(CollectorError) as info:
        collect_prometheus(s.url, "1h", timeout=10)
    assert "MiB to decode, more than 256 MiB (limit max_decoded_mb in [tool.healthdeck])" in str(info.value)
    assert "\n" not in str(info.value)

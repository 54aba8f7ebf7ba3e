"""`comment --post`'s HTTP client (reports/http_client.py) the way CI uses it: real TLS to a stand-in
with a certificate of a throwaway CA, through a real proxy (proxy.py: CONNECT for https://, forwarding for
http://, with credentials), NO_PROXY, a renamed repository's redirects, and a server that never answers."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import trustme

from healthdeck.reports.cli import EXIT_OK, main
from healthdeck.reports.github import GitHub, GitHubError, PullRequest
from healthdeck.reports.http_client import proxy_for
from healthdeck.reports.render.comment import MARKER
from tests.github_standin import GitHubStandIn

DATEUTIL = Path(__file__).resolve().parents[1] / "reports" / "samples" / "dateutil"
PROXY_ENV = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in PROXY_ENV:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture(scope="module")
def ca(tmp_path_factory) -> tuple[trustme.CA, Path]:
    ca = trustme.CA()
    bundle = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return ca, bundle


@pytest.fixture
def https_github(ca):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca[0].issue_cert("127.0.0.1").configure_cert(context)
    with GitHubStandIn(tls=context) as standin:
        yield standin


@pytest.fixture
def proxy(tmp_path):
    """A real HTTP proxy (proxy.py) on 127.0.0.1 that wants credentials; yields (url with them, log)."""
    port_file, log = tmp_path / "proxy.port", tmp_path / "proxy.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "proxy", "--hostname", "127.0.0.1", "--port", "0", "--port-file", str(port_file),
         "--num-acceptors", "1", "--num-workers", "1", "--basic-auth", "ci:s3cret", "--log-file", str(log),
         "--log-level", "INFO"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            assert process.poll() is None and time.monotonic() < deadline, "proxy.py did not start"
            time.sleep(0.05)
        yield f"http://ci:s3cret@127.0.0.1:{port_file.read_text().split()[0]}", log
    finally:
        process.terminate()
        process.wait(timeout=30)


def _client(attempts: int = 1, **options) -> GitHub:
    return GitHub("ghs_standin", attempts=attempts, sleep=lambda _: None, **options)


def _post(client: GitHub, standin: GitHubStandIn) -> str:
    pr = PullRequest(standin.url, standin.repository, standin.pr, standin.token)
    with client:
        return client.upsert(pr, MARKER + "\nbody", MARKER).action


def test_comment_post_over_tls_verified_against_ssl_cert_file(
    https_github, ca, tmp_path, monkeypatch, capsys
):
    (tmp_path / "pyproject.toml").write_text("[tool.healthdeck]\n")
    out = tmp_path / "out"
    assert main(["collect", "-q", "--config", str(tmp_path / "pyproject.toml"), "--out", str(out),
                 "--junit", f"smoke={DATEUTIL / 'smoke.junit.xml.gz'}"]) == EXIT_OK  # fmt: skip
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": https_github.pr}}))
    for key, value in {
        **https_github.env(),
        "GITHUB_EVENT_PATH": str(event),
        "SSL_CERT_FILE": str(ca[1]),
    }.items():
        monkeypatch.setenv(key, value)
    argv = [
        "comment",
        "--report",
        str(out / "latest.json"),
        "--config",
        str(tmp_path / "pyproject.toml"),
        "--post",
    ]
    assert main(argv) == EXIT_OK and main(argv) == EXIT_OK
    assert [len(https_github.calls("POST")), len(https_github.calls("PATCH"))] == [1, 1]
    assert "comment updated: " in capsys.readouterr().out


def test_an_untrusted_certificate_is_no_answer(https_github) -> None:
    """Without SSL_CERT_FILE the stand-in's CA is not trusted (the system's CAs and certifi's are): nothing
    is sent, the line says how to trust a private CA, and no retry waits (it cannot start to verify)."""
    waits: list[float] = []
    client = GitHub("ghs_standin", attempts=4, sleep=waits.append)
    with pytest.raises(GitHubError, match=r"no answer: .*CERTIFICATE_VERIFY_FAILED") as caught:
        _post(client, https_github)
    assert caught.value.status is None and https_github.requests == [] and waits == []
    assert "point SSL_CERT_FILE at its certificate" in str(caught.value)


def _hashed_folder(folder: Path, *cas: trustme.CA) -> str:
    """A CA folder as update-ca-certificates writes it: each certificate under its subject hash."""
    folder.mkdir()
    for n, ca in enumerate(cas):
        pem = folder / f"ca{n}.pem"
        ca.cert_pem.write_to_path(str(pem))
        digest = subprocess.run(["openssl", "x509", "-subject_hash", "-noout", "-in", str(pem)],
                                capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
        (folder / f"{digest}.0").symlink_to(pem.name)
    return str(folder)


def test_the_system_ca_folder_is_used_without_certifi(https_github, ca, tmp_path, monkeypatch) -> None:
    """GitHub's runners: the hashed /etc/ssl/certs, read lazily; certifi's bundle is not opened."""
    import certifi

    from healthdeck.reports import http_client

    folder = _hashed_folder(tmp_path / "certs", ca[0])
    monkeypatch.setattr(http_client, "system_ca_dir", lambda: folder)
    monkeypatch.setattr(certifi, "where", lambda: str(tmp_path / "no-bundle-here.pem"))
    assert _post(_client(), https_github) == "created"


def test_a_server_the_system_folder_cannot_verify_is_tried_with_certifi(
    https_github, ca, tmp_path, monkeypatch
) -> None:
    """An out-of-date system store costs a second handshake, not the post; nothing was sent before."""
    import certifi

    from healthdeck.reports import http_client

    folder = _hashed_folder(tmp_path / "certs", trustme.CA())
    monkeypatch.setattr(http_client, "system_ca_dir", lambda: folder)
    monkeypatch.setattr(certifi, "where", lambda: str(ca[1]))
    assert _post(_client(), https_github) == "created"
    assert len(https_github.calls("POST")) == 1
    monkeypatch.setattr(certifi, "where", lambda: str(tmp_path / "certs" / "ca0.pem"))  # neither trusts it
    with pytest.raises(GitHubError, match=r"no answer: .*CERTIFICATE_VERIFY_FAILED"):
        _post(_client(), https_github)


@pytest.mark.parametrize(
    ("names", "found"), [((), False), (("README", "ca.pem"), False), (("5ad8a5d6.0",), True)]
)
def test_system_ca_dir_wants_hashed_links(tmp_path, monkeypatch, names, found) -> None:
    from healthdeck.reports.http_client import system_ca_dir

    for name in names:
        (tmp_path / name).write_text("")
    paths = ssl.DefaultVerifyPaths(
        None, str(tmp_path), "SSL_CERT_FILE", None, "SSL_CERT_DIR", str(tmp_path / "no")
    )
    monkeypatch.setattr(ssl, "get_default_verify_paths", lambda: paths)
    assert system_ca_dir() == (str(tmp_path) if found else None)


def test_https_through_a_proxy_with_connect(https_github, ca, proxy, monkeypatch) -> None:
    url, log = proxy
    monkeypatch.setenv("SSL_CERT_FILE", str(ca[1]))
    monkeypatch.setenv("HTTPS_PROXY", url)
    assert _post(_client(), https_github) == "created"
    assert f"CONNECT 127.0.0.1:{https_github.url.rsplit(':', 1)[1]}" in log.read_text()
    monkeypatch.setenv("HTTPS_PROXY", url.replace("s3cret", "wrong"))
    with pytest.raises(GitHubError, match=r"no answer: .*407"):
        _post(_client(), https_github)


def test_http_forwarded_by_a_proxy_and_no_proxy_skips_it(proxy, monkeypatch) -> None:
    url, log = proxy
    with GitHubStandIn() as github:
        monkeypatch.setenv("http_proxy", url)  # lower case, as curl and most CI images spell it
        assert _post(_client(), github) == "created"
        assert f"GET {github.url.removeprefix('http://')}/repos/" in log.read_text()
        monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")  # nothing listens there
        with pytest.raises(GitHubError, match="no answer"):
            _post(_client(), github)
        monkeypatch.setenv("NO_PROXY", "example.com, 127.0.0.1")
        assert _post(_client(), github) == "updated"


def test_a_renamed_repository_is_followed_keeping_method_and_body() -> None:
    with GitHubStandIn() as github:
        github.moved["octo/old-name"] = github.repository
        pr = PullRequest(github.url, "octo/old-name", github.pr, github.token)
        with _client() as client:
            assert client.upsert(pr, MARKER + "\nfirst", MARKER).action == "created"
            assert client.upsert(pr, MARKER + "\nsecond", MARKER).action == "updated"
        assert [c["body"] for c in github.comments] == [MARKER + "\nsecond"]
        moved = [r for r in github.requests if r["path"].startswith("/repos/octo/old-name/")]
        assert [r["method"] for r in moved] == ["GET", "POST", "GET", "PATCH"]  # each answered 301/307
        assert all(r["authorization"] == f"Bearer {github.token}" for r in github.requests)


def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as listener:  # connections wait in the backlog: connected, never answered
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        pr = PullRequest(f"http://127.0.0.1:{listener.getsockname()[1]}", "octo/app", 7, "t")
        started = time.monotonic()
        with pytest.raises(GitHubError, match=r"no answer: .*timed out"), _client(timeout=0.5) as client:
            client.comments(pr)
        assert time.monotonic() - started < 10


@pytest.mark.parametrize(
    ("env", "url", "want"),
    [
        ({"HTTPS_PROXY": "proxy:3128"}, "https://api.github.com/x", "http://proxy:3128"),
        ({"https_proxy": "http://a:1", "HTTPS_PROXY": "http://b:2"}, "https://api.github.com", "http://a:1"),
        ({"ALL_PROXY": "http://all:1"}, "http://ghe.corp/api", "http://all:1"),
        ({"HTTP_PROXY": "http://p:1"}, "https://api.github.com", None),  # http's proxy is not https's
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"}, "https://api.github.com", None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": ".github.com"}, "https://api.github.com", None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "github.com"}, "https://api.github.com", None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "notgithub.com"}, "https://github.com", "http://p:1"),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "ghe.corp:8443"}, "https://ghe.corp/api", "http://p:1"),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "ghe.corp:443"}, "https://ghe.corp/api", None),
        ({"HTTP_PROXY": "http://p:1", "NO_PROXY": "localhost,127.0.0.1,::1"}, "http://[::1]:8080/x", None),
        ({"HTTP_PROXY": "http://p:1", "NO_PROXY": "[::1]"}, "http://[::1]:8080/x", None),
        ({"HTTP_PROXY": "http://p:1", "NO_PROXY": "[::1]:8080"}, "http://[::1]:8080/x", None),
        ({"HTTP_PROXY": "http://p:1", "NO_PROXY": "[::1]:9"}, "http://[::1]:8080/x", "http://p:1"),
        ({"HTTP_PROXY": "http://p:1", "NO_PROXY": "127.0.0.0/8"}, "http://127.0.0.1:8080/x", None),
        ({"HTTP_PROXY": "http://p:1", "NO_PROXY": "10.0.0.0/8"}, "http://127.0.0.1:8080/x", "http://p:1"),
    ],
)
def test_which_proxy(env, url, want) -> None:
    from urllib.parse import urlsplit

    found = proxy_for(urlsplit(url), env)
    assert (found.geturl() if found else None) == want


def test_no_http_library_is_imported(tmp_path) -> None:
    code = "import sys, healthdeck.reports.github as g; g.GitHub('t'); print(sorted(m for m in ('httpx', 'requests', 'urllib3') if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=os.environ.copy(), check=True
    )
    assert done.stdout.strip() == "[]"


# -- how answers are framed: a scripted server, since the stand-in always answers with Content-Length ----
class Scripted:
    """A server on 127.0.0.1 that reads each request and writes the next scripted answer as given; b"" as an
    answer closes the connection without one, (answer,) closes it after the answer, a callable is given the
    connection to answer as it likes. Records (connection number, request line) and the whole head of each
    request."""

    def __init__(self, answers: list) -> None:
        self.answers, self.seen, self.heads = list(answers), [], []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        for number in itertools.count():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn, conn.makefile("rb") as reader:
                while self.answers:
                    head = []
                    while (line := reader.readline()) not in (b"\r\n", b""):
                        head.append(line.decode("latin-1").strip())
                    if not head:
                        break
                    length = next(
                        (int(h.split(":")[1]) for h in head if h.lower().startswith("content-length")), 0
                    )
                    reader.read(length)
                    self.seen.append((number, head[0]))
                    self.heads.append(head)
                    answer = self.answers.pop(0)
                    if callable(answer):
                        answer(conn)
                        break
                    if not answer:
                        break
                    conn.sendall(answer[0] if isinstance(answer, tuple) else answer)
                    if isinstance(answer, tuple):
                        break

    def close(self) -> None:
        self.listener.close()


def _get(answers: list, *paths: str) -> tuple[list, Scripted]:
    from healthdeck.reports.http_client import Client

    server = Scripted(answers)
    try:
        with Client({"User-Agent": "t"}, timeout=5, env={}) as client:
            return [client.request("GET", server.url + p) for p in paths], server
    finally:
        server.close()


def test_chunked_and_length_answers_share_one_kept_connection() -> None:
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Two: a\r\nx-two: b\r\n\r\n4;ext=1\r\n[1, \r\n2\r\n2]\r\n0\r\nTrailer: t\r\n\r\n"
    interim = b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
    (first, second), server = _get([chunked, interim], "/a?x=1", "/b")
    assert first.json() == [1, 2] and first.headers["X-TWO"] == "a, b" and "x-two" in first.headers
    assert second.json() == {} and second.status_code == 200
    assert server.seen == [(0, "GET /a?x=1 HTTP/1.1"), (0, "GET /b HTTP/1.1")]


def test_a_body_without_length_runs_to_the_close_and_a_closed_kept_connection_is_reopened() -> None:
    unframed = b"HTTP/1.0 200 OK\r\n\r\n" + b"x" * 70000
    kept = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\ny"
    (first, second, third), server = _get([(unframed,), kept, b"", kept], "/1", "/2", "/3")
    assert (first.content, second.content, third.content) == (b"x" * 70000, b"y", b"y")
    # the unframed answer closes connection 0; the server then drops the kept connection 1 unanswered
    assert [n for n, _ in server.seen] == [0, 1, 1, 2]


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (b"SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP/1.x status line"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "ended after 5 of its 10 bytes"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\nx", "Content-Length"),
        (b"HTTP/1.1 200 OK\r\nX: " + b"y" * 70000 + b"\r\n\r\n", "a line longer than 65536 bytes"),
        (
            b"HTTP/1.1 200 OK\r\n" + b"".join(b"H%d: v\r\n" % i for i in range(101)) + b"\r\n",
            "more than 100 header lines",
        ),
        (b"HTTP/1.1 200 OK\r\n" + b"Link: <x>\r\n" * 101 + b"\r\n", "more than 100 header lines"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + b"T: x\r\n" * 101, "trailer lines"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "not a chunk size"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", "over the 67108864 bytes allowed"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "not a header line"),
        (b"", "closed the connection without answering"),
        (b"HTTP/1.1 000 Zero\r\n\r\n", "not an HTTP/1.x status line"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\nab\r\n0\r\n\r\n", "not a chunk size"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n",
            "ended inside its chunked body",
        ),
        (b"HTTP/1.1 100 Continue\r\n\r\n" * 11 + b"HTTP/1.1 204 No Content\r\n\r\n", "interim (1xx) answers"),
    ],
)
def test_a_malformed_or_oversized_answer_is_one_transport_error(answer, why) -> None:
    from healthdeck.reports.http_client import TransportError

    with pytest.raises(TransportError, match=re.escape(why)):
        _get([answer], "/")


def test_a_header_or_target_that_would_split_the_request_is_refused() -> None:
    from healthdeck.reports.http_client import Client, TransportError

    server = Scripted([b"HTTP/1.1 204 No Content\r\n\r\n"] * 3)
    try:
        headers = {"Authorization": "Bearer t\r\nX-Injected: 1"}
        with (
            Client(headers, timeout=5, env={}) as client,
            pytest.raises(TransportError, match="line break") as e,
        ):
            client.request("GET", server.url + "/")
        assert e.value.permanent and "Authorization header" in str(e.value)
        with Client({}, timeout=5, env={}) as client:
            with pytest.raises(TransportError, match="control character"):
                client.request("GET", server.url + "/a b")
            assert client.request("GET", server.url + "/").status_code == 204
    finally:
        server.close()
    assert [line for _, line in server.seen] == ["GET / HTTP/1.1"]


def test_a_host_name_that_cannot_be_encoded_is_one_transport_error() -> None:
    from healthdeck.reports.http_client import Client, TransportError

    with Client({}, timeout=2, env={}) as client, pytest.raises(TransportError, match="host name"):
        client.request("GET", "http://a\x80b.example/")


def _standard_server(answers: list) -> Scripted:
    return Scripted(answers)


KEPT = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"


def test_a_post_that_failed_after_it_was_sent_is_not_sent_again() -> None:
    """RFC 9112, 9.3.1: GitHub may have applied it; the caller looks before it tries again."""
    from healthdeck.reports.http_client import Client, TransportError

    server = Scripted([KEPT, b""])  # the POST is read, then the connection closes unanswered
    try:
        with Client({}, timeout=5, env={}) as client:
            client.request("GET", server.url + "/a")
            with pytest.raises(TransportError, match="closed the connection") as caught:
                client.request("POST", server.url + "/a", {"body": "x"})
    finally:
        server.close()
    assert caught.value.sent and [line for _, line in server.seen] == ["GET /a HTTP/1.1", "POST /a HTTP/1.1"]


def test_a_kept_connection_closed_while_idle_is_reopened_before_the_post() -> None:
    from healthdeck.reports.http_client import Client

    server = Scripted([(KEPT,), KEPT])  # the server closes the kept connection after the GET
    try:
        with Client({}, timeout=5, env={}) as client:
            client.request("GET", server.url + "/a")
            time.sleep(0.2)  # the close reaches the client
            assert client.request("POST", server.url + "/a", {"body": "x"}).status_code == 200
    finally:
        server.close()
    assert server.seen == [(0, "GET /a HTTP/1.1"), (1, "POST /a HTTP/1.1")]  # the POST went once, anew


def test_an_answer_that_trickles_meets_the_deadline() -> None:
    from healthdeck.reports.http_client import Client, TransportError

    def trickle(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        with contextlib.suppress(OSError):
            for _ in range(100):
                conn.sendall(b"x")
                time.sleep(0.1)

    server = Scripted([trickle])
    started = time.monotonic()
    try:
        with (
            Client({}, timeout=1, deadline=1.5, env={}) as client,
            pytest.raises(TransportError, match="deadline") as caught,
        ):
            client.request("GET", server.url + "/")
    finally:
        server.close()
    assert time.monotonic() - started < 4  # each byte came within the 1 s timeout; the whole did not
    assert caught.value.permanent  # a server that slow is not worth four more minutes


def test_a_body_of_tiny_chunks_is_held_as_its_bytes(monkeypatch) -> None:
    """One object per chunk would make 2-byte chunks cost ~20x their bytes in memory: the body is one
    buffer, and the limit counts its bytes however the chunks come."""
    import tracemalloc

    from healthdeck.reports import http_client

    chunks = 100_000
    answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"2\r\nab\r\n" * chunks + b"0\r\n\r\n"
    tracemalloc.start()
    try:
        (response,), _ = _get([answer], "/")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert response.content == b"ab" * chunks
    assert peak < 8 * len(answer)  # the answer's bytes, the buffer and the body: not 100 000 objects
    monkeypatch.setattr(http_client, "MAX_BODY", 2 * chunks - 2)
    with pytest.raises(http_client.TransportError, match="body over the 199998 bytes allowed"):
        _get([answer], "/")


def test_credentials_stay_within_the_origin_they_were_sent_to() -> None:
    """A redirect to another port (or scheme, or host) gets no Authorization, nor does a redirect back."""
    from healthdeck.reports.http_client import Client

    other = Scripted([])
    first = Scripted([])
    first.answers += [
        f"HTTP/1.1 307 Temporary Redirect\r\nLocation: {other.url}/b\r\nContent-Length: 0\r\n\r\n".encode()
    ]
    other.answers += [
        f"HTTP/1.1 307 Temporary Redirect\r\nLocation: {first.url}/c\r\nContent-Length: 0\r\n\r\n".encode()
    ]
    first.answers += [KEPT]
    try:
        with Client({"Authorization": "Bearer secret"}, timeout=5, env={}) as client:
            assert client.request("GET", first.url + "/a").status_code == 200
    finally:
        first.close()
        other.close()
    authorized = [
        any(h.lower().startswith("authorization:") for h in head) for head in first.heads + other.heads
    ]
    assert authorized == [True, False, False]  # /a, back at /c (first's heads), then /b


def test_a_host_name_is_sent_as_idna_to_a_proxy(monkeypatch) -> None:
    from healthdeck.reports.http_client import Client

    proxy = Scripted([KEPT])
    try:
        with Client({}, timeout=5, env={"HTTP_PROXY": proxy.url}) as client:
            client.request("GET", "http://bücher.example/x")
    finally:
        proxy.close()
    assert proxy.heads[0][:2] == [
        "GET http://xn--bcher-kva.example/x HTTP/1.1",
        "Host: xn--bcher-kva.example",
    ]


def test_messages_never_show_a_url_s_credentials(tmp_path) -> None:
    from healthdeck.reports.http_client import Client, TransportError

    env = {"HTTPS_PROXY": "socks5://user:PROXY_PASSWORD@127.0.0.1:1080"}
    with Client({}, timeout=2, env=env) as client, pytest.raises(TransportError) as caught:
        client.request("GET", "https://api.example/x")
    assert "PROXY_PASSWORD" not in str(caught.value) and "***@127.0.0.1:1080" in str(caught.value)
    assert caught.value.permanent
    with Client({}, timeout=2, env={}) as client, pytest.raises(TransportError) as caught:
        client.request("GET", "ftp://admin:API_PASSWORD@host/x")
    assert "API_PASSWORD" not in str(caught.value)


def test_a_missing_ca_file_is_named_and_not_retried(tmp_path) -> None:
    from healthdeck.reports.http_client import Client, TransportError

    server = Scripted([KEPT])
    missing = tmp_path / "no-ca.pem"
    try:
        with (
            Client({}, timeout=2, env={"SSL_CERT_FILE": str(missing)}) as client,
            pytest.raises(TransportError) as caught,
        ):
            client.request("GET", server.url.replace("http://", "https://") + "/")
    finally:
        server.close()
    assert f"SSL_CERT_FILE={missing}" in str(caught.value) and caught.value.permanent

"""A local stand-in for the part of GitHub's REST API that a sticky PR comment uses, as GitHub documents it.

    GET   /repos/{owner}/{repo}/issues/{number}/comments?per_page=N&page=P   200, a `Link` header with
                                                                          rel="next"/"last"/"first"/"prev"
    POST  /repos/{owner}/{repo}/issues/{number}/comments   {"body"}       201 + Location
    PATCH /repos/{owner}/{repo}/issues/comments/{id}       {"body"}       200

Every answer carries the primary rate-limit headers (x-ratelimit-limit/-remaining/-used/-reset/-resource).
Errors have GitHub's shape {"message", "documentation_url"[, "errors"]}: 401 "Bad credentials" for a
wrong or missing token, 404 "Not Found" for another repository, pull request or comment id, 422
"Validation Failed" for a body over 65 536 characters or without `body`, and — with `read_only` — 403
"Resource not accessible by integration" on writes, the answer a fork's pull request gets. `fail_next`
queues answers (5xx, secondary rate limits) served before the normal handling of matching requests.
`moved` maps an old repository name to its new one, answered as GitHub answers for a renamed repository:
301 to the new URL for GET, 307 for other methods. `tls` (a server-side SSLContext) serves https://.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

DOCS = "https://docs.github.com/rest"
LIMIT = 65_536


@dataclass
class Queued:
    method: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict | bytes = field(default_factory=dict)  # bytes: sent as they are


class GitHubStandIn:
    def __init__(
        self,
        repository: str = "octo/app",
        pr: int = 7,
        token: str = "ghs_standin",
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.repository, self.pr, self.token = repository, pr, token
        self.moved: dict[str, str] = {}
        self.comments: list[dict] = []  # oldest first, as GitHub lists them
        self.requests: list[dict] = []  # {method, path, query, authorization}
        self.queued: list[Queued] = []
        self.read_only = False
        self.dropped: dict[str, int] = {}  # method -> requests to handle and leave unanswered
        self._next_id = 1000
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    # -- set-up ---------------------------------------------------------------------------------------
    def __enter__(self) -> GitHubStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def env(self) -> dict[str, str]:
        return {"GITHUB_TOKEN": self.token, "GITHUB_REPOSITORY": self.repository, "GITHUB_API_URL": self.url}

    def add_comments(self, n: int, body: str = "a reviewer's comment", login: str = "someone") -> None:
        for _ in range(n):
            self._create(body, login)

    def fail_next(self, method: str, status: int, headers: dict | None = None, message: str = "") -> None:
        """Answer the next `method` request (any path) with this status before handling it normally."""
        body = {"message": message or {502: "Server Error"}.get(status, "error"), "documentation_url": DOCS}
        self.queued.append(Queued(method, status, headers or {}, body))

    def answer_next(self, method: str, status: int, raw: bytes, headers: dict | None = None) -> None:
        """Answer the next `method` request with these bytes as the body (not JSON, say), unhandled."""
        self.queued.append(Queued(method, status, headers or {}, raw))

    def drop_answers(self, method: str, times: int = 1) -> None:
        """Handle the next `times` `method` requests (a POST creates its comment) and close the connection
        without answering, as a server that fails between applying a request and answering it."""
        self.dropped[method] = self.dropped.get(method, 0) + times

    def calls(self, method: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == method]

    # -- the API ------------------------------------------------------------------------------------------
    def _create(self, body: str, login: str = "github-actions[bot]") -> dict:
        self._next_id += 1
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        comment = {
            "id": self._next_id,
            "node_id": f"IC_{self._next_id}",
            "url": f"{self.url}/repos/{self.repository}/issues/comments/{self._next_id}",
            "html_url": f"https://github.example/{self.repository}/pull/{self.pr}#issuecomment-{self._next_id}",
            "issue_url": f"{self.url}/repos/{self.repository}/issues/{self.pr}",
            "body": body,
            "user": {"login": login, "type": "Bot" if login.endswith("[bot]") else "User"},
            "created_at": now,
            "updated_at": now,
        }
        self.comments.append(comment)
        return comment

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet test output
                return None

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_PATCH(self) -> None:
                self._handle("PATCH")

            def _handle(self, method: str) -> None:
                split = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                with standin._lock:
                    standin.requests.append({"method": method, "path": split.path, "query": split.query,
                                             "authorization": self.headers.get("authorization"),
                                             "api_version": self.headers.get("x-github-api-version")})  # fmt: skip
                    status, headers, body = standin._route(method, split.path, parse_qs(split.query), raw,
                                                           self.headers.get("authorization"))  # fmt: skip
                    drop = standin.dropped.get(method, 0) > 0
                    if drop:
                        standin.dropped[method] -= 1
                if drop:
                    self.close_connection = True
                    return
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                if not isinstance(body, bytes):  # raw bytes come with the headers they were queued with
                    self.send_header("content-type", "application/json; charset=utf-8")
                self.send_header("content-length", str(len(data)))
                remaining = str(max(0, 5000 - len(standin.requests)))
                base = {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": remaining,
                        "x-ratelimit-used": str(len(standin.requests)), "x-ratelimit-resource": "core",
                        "x-ratelimit-reset": str(int(time.time()) + 3600)}  # fmt: skip
                for key, value in {**base, **headers}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def _route(self, method: str, path: str, query: dict, raw: bytes, auth: str | None):
        for i, q in enumerate(self.queued):
            if q.method == method:
                del self.queued[i]
                return q.status, q.headers, q.body
        if auth not in (f"Bearer {self.token}", f"token {self.token}"):
            return 401, {}, {"message": "Bad credentials", "documentation_url": DOCS}
        for old, new in self.moved.items():
            if path.startswith(f"/repos/{old}/"):
                location = f"{self.url}/repos/{new}/{path.removeprefix(f'/repos/{old}/')}"
                query_string = "&".join(f"{k}={v}" for k, values in query.items() for v in values)
                location += f"?{query_string}" if query_string else ""
                return (301 if method == "GET" else 307), {"location": location}, {
                    "message": "Moved Permanently", "url": location, "documentation_url": DOCS}  # fmt: skip
        prefix = f"/repos/{self.repository}/issues/"
        if not path.startswith(prefix):
            return _not_found()
        rest = path.removeprefix(prefix).split("/")
        if method == "GET" and rest == [str(self.pr), "comments"]:
            return self._list(path, query)
        if self.read_only and method in ("POST", "PATCH"):
            return 403, {}, {"message": "Resource not accessible by integration", "documentation_url": DOCS}
        if method == "POST" and rest == [str(self.pr), "comments"]:
            body, status, error = _body(raw)
            if error:
                return status, {}, error
            comment = self._create(body)
            return 201, {"location": comment["url"]}, comment
        if method == "PATCH" and len(rest) == 2 and rest[0] == "comments":
            comment = next((c for c in self.comments if str(c["id"]) == rest[1]), None)
            if comment is None:
                return _not_found()
            body, status, error = _body(raw)
            if error:
                return status, {}, error
            comment.update(body=body, updated_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
            return 200, {}, comment
        return _not_found()

    def _list(self, path: str, query: dict):
        per_page = min(100, int(query.get("per_page", ["30"])[0]))
        page = max(1, int(query.get("page", ["1"])[0]))
        last = max(1, -(-len(self.comments) // per_page))
        items = self.comments[(page - 1) * per_page : page * per_page]
        links = []
        link = f"{self.url}{path}?per_page={per_page}&page={{}}"
        if page < last:
            links += [f'<{link.format(page + 1)}>; rel="next"', f'<{link.format(last)}>; rel="last"']
        if page > 1:
            links += [f'<{link.format(page - 1)}>; rel="prev"', f'<{link.format(1)}>; rel="first"']
        return 200, ({"link": ", ".join(links)} if links else {}), items


def _not_found():
    return 404, {}, {"message": "Not Found", "documentation_url": DOCS}


def _body(raw: bytes) -> tuple[str, int, dict | None]:
    try:
        body = json.loads(raw or b"{}").get("body")
    except (ValueError, AttributeError):
        return "", 400, {"message": "Problems parsing JSON", "documentation_url": DOCS}
    if not isinstance(body, str):
        return "", 422, {"message": 'Invalid request.\n\n"body" wasn\'t supplied.', "documentation_url": DOCS}
    if len(body) > LIMIT:
        return "", 422, {"message": "Validation Failed", "documentation_url": DOCS, "errors": [
            {"resource": "IssueComment", "code": "custom", "field": "body",
             "message": f"body is too long (maximum is {LIMIT} characters)"}]}  # fmt: skip
    return body, 200, None

"""One sticky pull-request comment through GitHub's REST API: update the comment carrying the marker, else create it.

Configured the way every Action step is: GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL (GitHub
Enterprise differs) and GITHUB_EVENT_PATH (the event payload, whose pull_request.number is the PR).

Endpoints (REST API version 2022-11-28):
  GET   /repos/{owner}/{repo}/issues/{number}/comments?per_page=100   pages announced in `Link: rel="next"`
  POST  /repos/{owner}/{repo}/issues/{number}/comments                201
  PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}            200

Requests go through a small client on the standard library (http_client.py: proxies, TLS, timeouts and
redirects as an HTTP library would handle them, at a fraction of the start-up cost).
Server errors (5xx), secondary rate limits (403/429 with `retry-after`, or `x-ratelimit-remaining: 0`
with `x-ratelimit-reset`) and dropped connections are retried with a bounded backoff: a few attempts,
never more than `max_wait` seconds of waiting in all. Everything else is a `GitHubError` carrying the
status, so the command can tell a read-only token (403/404: a pull request from a fork) from the rest.

One sticky comment, whatever the network does: a POST is never sent again blindly. When its answer is
lost (a dropped connection after sending, a 5xx) GitHub may have created the comment, so the comments
are listed again and the marker comment, if it is there now, is updated instead.

What GitHub answers is checked before it is used (a JSON list of comments, a comment with an id); the
pages of comments are followed within the API's origin (the token is never sent elsewhere), at most
MAX_PAGES of them, and each page is scanned and let go, so memory holds one page.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from urllib.parse import urljoin, urlsplit

from healthdeck.collectors.files import read_named
from healthdeck.collectors.records import Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:
    from .http_client import Response

API_VERSION = "2022-11-28"
BODY_LIMIT = 65_536  # GitHub refuses a longer comment body (422)
DEFAULT_API_URL = "https://api.github.com"
MAX_PAGES = 100  # pages of 100 comments: far more than any pull request's conversation holds
# one link of a Link header (RFC 8288): <target>; params, where rel may be quoted and hold several types
_LINK = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,]+)*)")
_NEXT_REL = re.compile(r'(?i)(?:^|;)\s*rel\s*=\s*(?:"[^"]*\bnext\b[^"]*"|next\b)')


class GitHubError(Exception):
    """GitHub refused or could not be reached. `status` is the HTTP status, None when no answer came."""

    def __init__(
        self,
        status: int | None,
        message: str,
        *,
        rate_limited: bool = False,
        maybe_applied: bool = False,
        method: str | None = None,
    ) -> None:
        self.status = status
        self.method = method  # the refused request's: a GET refused is not a read-only token's doing
        self.rate_limited = (
            rate_limited  # still limited when the bounded wait ran out: not a permissions matter
        )
        self.maybe_applied = maybe_applied  # a POST whose answer was lost or a 5xx: GitHub may have done it
        super().__init__(message)


class PullRequest(Record):
    api_url: str
    repository: str  # owner/name
    number: int
    token: str

    @property
    def comments_url(self) -> str:
        return f"{self.api_url}/repos/{self.repository}/issues/{self.number}/comments"


class Posted(Record):
    action: str  # created | updated
    comment_id: int
    url: str


_REPO_PART = re.compile(r"[A-Za-z0-9_.-]+")


def pull_request_from_env(env: Mapping[str, str], number: int | None = None) -> PullRequest:
    """The pull request to comment on, from the Actions variables; `number` (--pr) overrides the event's.

    Raises ValueError with a one-line reason naming the missing variable.
    """
    token = env.get("GITHUB_TOKEN") or ""
    repository = env.get("GITHUB_REPOSITORY") or ""
    if not token:
        raise ValueError(
            "GITHUB_TOKEN is not set (pass `github-token` or `env: GITHUB_TOKEN: ${{ github.token }}`)"
        )
    owner, _, name = repository.partition("/")
    # GitHub's own characters only: a "?" or "#" would send the comment to another endpoint than the PR's
    if not (_REPO_PART.fullmatch(owner) and _REPO_PART.fullmatch(name)) or name in (".", ".."):
        raise ValueError(f"GITHUB_REPOSITORY must be owner/name, got {repository!r}")
    if number is None:
        number = _event_pr_number(env.get("GITHUB_EVENT_PATH"))
    api_url = (env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")
    try:
        parts = urlsplit(api_url)
        parts.port  # noqa: B018 - parsing is the check: a port that is no number, a broken [IPv6]
    except ValueError as exc:
        raise ValueError(f"GITHUB_API_URL is not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"GITHUB_API_URL must be an http(s) URL, got {api_url!r}")
    return PullRequest(api_url, repository, number, token)


class EventUnreadable(ValueError):
    """GITHUB_EVENT_PATH names a file that cannot be read as JSON: an input error, not a usage one."""


def _event_pr_number(path: str | None) -> int:
    if not path:
        raise ValueError("no pull request: GITHUB_EVENT_PATH is not set and no --pr was given")
    try:
        event = json.loads(read_named(path).decode("utf-8"))
    except OSError as exc:  # strerror alone: the path starts the line
        raise EventUnreadable(
            f"{path}: cannot read the event payload (GITHUB_EVENT_PATH): {exc.strerror or exc}"
        ) from exc
    except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than the parser goes
        raise EventUnreadable(f"{path}: the event payload (GITHUB_EVENT_PATH) is not JSON: {exc}") from exc
    pull = event.get("pull_request") if isinstance(event, dict) else None
    number = pull.get("number") if isinstance(pull, dict) else None
    if not isinstance(number, int):
        raise ValueError(
            f"{path}: the event has no pull_request.number (not a pull_request event?); pass --pr N"
        )
    return number


class GitHub:
    """A small REST client: auth and API headers on every request, bounded retries, one error type.

    `sleep` and `now` are injectable so tests can check the waits without waiting.
    """

    def __init__(
        self,
        token: str,
        *,
        attempts: int = 5,
        max_wait: float = 90.0,
        timeout: float = 15.0,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
    ) -> None:
        from . import http_client  # here, not at the top: only `comment --post` pays for the HTTP client

        self._transport_error = http_client.TransportError
        self.attempts, self.max_wait, self.sleep, self.now = attempts, max_wait, sleep, now
        # redirects are followed: a renamed repository answers with a redirect to its new name
        self.client = http_client.Client(
            {
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": "healthdeck",
            },
            timeout=timeout,
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> GitHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, url: str, body: dict | None = None, *, fresh: bool = False) -> Response:
        """Send, retrying what GitHub says is temporary; a final non-2xx answer raises GitHubError. A POST
        that GitHub may have applied (its answer lost, or a 5xx) is not sent again: GitHubError with
        `maybe_applied`, for the caller to look before it tries again."""
        waited = 0.0
        for attempt in range(1, self.attempts + 1):
            maybe_applied = False
            try:
                response = self.client.request(method, url, body, fresh=fresh)
            except self._transport_error as exc:
                response, reason = None, str(exc)
                wait = None if exc.permanent else 2.0 ** (attempt - 1)
                maybe_applied = method == "POST" and exc.sent
            else:
                if response.is_success:
                    return response
                wait = self._retry_after(response, attempt)
                reason = _reason(response)
                maybe_applied = method == "POST" and response.status_code >= 500
            if maybe_applied:
                raise GitHubError(
                    response.status_code if response is not None else None,
                    f"{method} {_path(url)}: {_status(response)}{reason}",
                    maybe_applied=True,
                )
            if wait is None or attempt == self.attempts or waited + wait > self.max_wait:
                status = response.status_code if response is not None else None
                limited = wait is not None and status in (403, 429)
                more = (
                    f" (rate limited; retrying needs {wait:.0f} s more than the {self.max_wait:.0f} s allowed)"
                    if limited
                    else f" ({attempt} attempts over {waited:.0f} s)"  # not one refusal: it was retried
                    if attempt > 1
                    else ""
                )
                raise GitHubError(
                    status,
                    f"{method} {_path(url)}: {_status(response)}{reason}{more}",
                    rate_limited=limited,
                    method=method,
                )
            self.sleep(wait)
            waited += wait
        raise AssertionError("unreachable: the loop returns or raises")

    def _retry_after(self, response: Response, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None when the answer is final."""
        status, headers = response.status_code, response.headers
        if status >= 500:
            return 2.0 ** (attempt - 1)
        limited = status == 429 or (
            status == 403
            and (
                "retry-after" in headers
                or headers.get("x-ratelimit-remaining") == "0"
                or "rate limit" in _reason(response).lower()
            )
        )
        if not limited:
            return None
        if "retry-after" in headers:
            try:
                return max(0.0, float(headers["retry-after"]))
            except ValueError:
                return 60.0
        if headers.get("x-ratelimit-remaining") == "0" and headers.get("x-ratelimit-reset", "").isdigit():
            return max(0.0, int(headers["x-ratelimit-reset"]) - self.now())
        return 60.0 * 2 ** (attempt - 1)  # GitHub: "wait for at least one minute", then longer

    def pages(self, pr: PullRequest) -> Iterator[list[dict]]:
        """The pull request's comments, a page at a time (oldest first), following `Link: rel="next"` within
        the API's origin; at most MAX_PAGES pages, none twice."""
        from .http_client import masked, origin

        url: str | None = f"{pr.comments_url}?per_page=100"
        seen: set[str] = set()
        while url is not None:
            if len(seen) == MAX_PAGES:
                raise GitHubError(
                    None, f"GET {_path(pr.comments_url)}: more than {MAX_PAGES} pages of comments"
                )
            seen.add(url)
            response = self.request("GET", url)
            page = _json(response, f"GET {_path(url)}")
            if not isinstance(page, list) or not all(isinstance(c, dict) for c in page):
                raise GitHubError(response.status_code, f"GET {_path(url)}: expected a list of comments")
            yield page
            url = _next_link(response.headers.get("link") or "", response.url or url)
            if url is not None and origin(url) != origin(pr.comments_url):
                raise GitHubError(None, f"GET {_path(pr.comments_url)}: the next page is on another origin "
                                        f"({masked(url)}); not sending the token there")  # fmt: skip
            if url in seen:
                raise GitHubError(
                    None, f"GET {_path(url)}: the pages of comments link back to a page already read"
                )

    def comments(self, pr: PullRequest) -> list[dict]:
        """Every comment on the pull request."""
        return [comment for page in self.pages(pr) for comment in page]

    def find(self, pr: PullRequest, marker: str) -> dict | None:
        """The first comment whose body starts with `marker`; the pages after it are not read."""
        for page in self.pages(pr):
            for comment in page:
                if str(comment.get("body") or "").startswith(marker):
                    return comment
        return None

    def upsert(self, pr: PullRequest, body: str, marker: str) -> Posted:
        """Update the comment that starts with `marker`, else create one; never two."""
        body = body if len(body) <= BODY_LIMIT else body[: BODY_LIMIT - 1] + "…"
        for attempt in range(1, self.attempts + 1):
            mine = self.find(pr, marker)
            if mine is not None:  # after a lost POST, the comment it made: this run created it
                url = f"{pr.api_url}/repos/{pr.repository}/issues/comments/{_comment_id(mine, 'GET')}"
                action = "updated" if attempt == 1 else "created"
                return _posted(action, self.request("PATCH", url, {"body": body}), "PATCH")
            try:  # after a lost answer, on a new connection: the kept one may be what failed
                posted = self.request("POST", pr.comments_url, {"body": body}, fresh=attempt > 1)
                return _posted("created", posted, "POST")
            except GitHubError as exc:
                if not exc.maybe_applied or attempt == self.attempts:
                    raise
                self.sleep(2.0 ** (attempt - 1))  # then look: the lost POST may have made the comment
        raise AssertionError("unreachable: the loop returns or raises")


def _json(response: Response, what: str) -> object:
    """The answer's JSON, or GitHubError naming what came instead (a proxy's login page, a compressed
    body)."""
    from .http_client import AnswerTooLarge  # loaded already: the response came through it

    try:
        return response.json()
    except AnswerTooLarge as exc:
        raise GitHubError(
            response.status_code, f"{what}: {response.status_code} answer not read: {exc}"
        ) from None
    except ValueError:
        kind = response.headers.get("content-type") or "no content type"
        coding = response.headers.get("content-encoding")
        detail = f"{kind}, {coding}" if coding else kind
        raise GitHubError(
            response.status_code,
            f"{what}: {response.status_code} answer is not JSON ({detail}): {_excerpt(response)}",
        ) from None


def _comment_id(comment: object, method: str) -> int:
    found = comment.get("id") if isinstance(comment, dict) else None
    if not isinstance(found, int) or isinstance(found, bool):
        raise GitHubError(None, f"{method}: GitHub's comment has no numeric id ({repr(found)[:40]})")
    return found


def _posted(action: str, response: Response, method: str) -> Posted:
    done = _json(response, method)
    comment_id = _comment_id(done, method)  # a dict, then
    return Posted(action, comment_id, str(done.get("html_url") or ""))  # type: ignore[union-attr]


def _next_link(header: str, base: str) -> str | None:
    """The target of the Link header's rel="next" (RFC 8288: quoted or not, among other types), resolved
    against the page's URL."""
    for target, params in _LINK.findall(header):
        if _NEXT_REL.search(params):
            return urljoin(base, target.strip())
    return None


def post_sticky(pr: PullRequest, body: str, marker: str, **client_options) -> Posted:
    with GitHub(pr.token, **client_options) as github:
        return github.upsert(pr, body, marker)


def read_only_cause(error: GitHubError, pr: PullRequest) -> str | None:
    """Why a token may write nothing: the explanation for 403/404, the statuses a fork's token gets. A
    fork's token still reads the comments, so a 404 on reading them is a wrong number or repository."""
    if error.status == 404 and error.method == "GET":
        return (
            f"GitHub shows this token no pull request #{pr.number} in {pr.repository} — check --pr, "
            "GITHUB_REPOSITORY and GITHUB_API_URL (a fork's read-only token can still read it)"
        )
    if error.status in (403, 404) and not error.rate_limited:
        return (
            "the token cannot write to this pull request — on a pull request from a fork GitHub gives a "
            "read-only token whatever the workflow asks; otherwise the workflow needs `permissions: "
            "pull-requests: write`"
        )
    return None


def _excerpt(response: Response) -> str:
    """The start of a body for a one-line message: text with its controls escaped, or what it is."""
    try:
        text = " ".join(response.content.decode("utf-8").split())[:200]
    except UnicodeDecodeError:
        return f"{len(response.content)} bytes that are not text"
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text) or "(empty)"


def _reason(response: Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return _excerpt(response)
    message = str(payload.get("message") or "") if isinstance(payload, dict) else ""
    errors = payload.get("errors") if isinstance(payload, dict) else None
    if isinstance(errors, list) and errors:
        message += " (" + "; ".join(str(e.get("message") or e) for e in errors if e)[:200] + ")"
    return message


def _status(response: Response | None) -> str:
    return f"{response.status_code} " if response is not None else "no answer: "


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)

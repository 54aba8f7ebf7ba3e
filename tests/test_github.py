"""`healthdeck comment --post` against a local stand-in for GitHub's REST API (tests/github_standin.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from healthdeck.reports.cli import EXIT_INPUT, EXIT_OK, EXIT_OUTPUT, EXIT_USAGE, main
from healthdeck.reports.github import BODY_LIMIT, GitHub, GitHubError, PullRequest, pull_request_from_env
from healthdeck.reports.render.comment import MARKER
from tests.github_standin import GitHubStandIn

DATEUTIL = Path(__file__).resolve().parents[1] / "reports" / "samples" / "dateutil"


@pytest.fixture
def github():
    with GitHubStandIn() as standin:
        yield standin


@pytest.fixture
def report(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    (tmp_path / "pyproject.toml").write_text("[tool.healthdeck]\n")
    args = ["collect", "-q", "--config", str(tmp_path / "pyproject.toml"), "--out", str(out),
            "--junit", f"smoke={DATEUTIL / 'smoke.junit.xml.gz'}", "--coverage", str(DATEUTIL / "coverage.xml.gz")]  # fmt: skip
    assert main(args) == EXIT_OK
    return out / "latest.json"


@pytest.fixture
def actions_env(github, tmp_path, monkeypatch):
    """The variables a pull_request run of GitHub Actions sets, pointing at the stand-in."""
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"action": "synchronize", "pull_request": {"number": github.pr}}))
    summary = tmp_path / "step-summary.md"
    for key, value in {
        **github.env(),
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_STEP_SUMMARY": str(summary),
    }.items():
        monkeypatch.setenv(key, value)
    return summary


def _post(report: Path, *extra: str) -> int:
    # --config: the configuration the report was made with, so no note says the two differ
    return main(["comment", "--report", str(report), "--history", f"sqlite:///{report.parent / 'h.sqlite'}",
                 "--config", str(report.parent.parent / "pyproject.toml"),
                 "--post", *extra])  # fmt: skip


def _mine(github: GitHubStandIn) -> list[dict]:
    return [c for c in github.comments if c["body"].startswith(MARKER)]


def test_two_posts_make_one_comment_created_then_updated(github, report, actions_env, capsys) -> None:
    github.add_comments(2)
    assert _post(report) == EXIT_OK
    assert _post(report) == EXIT_OK
    assert [len(github.calls("POST")), len(github.calls("PATCH"))] == [1, 1]
    assert len(_mine(github)) == 1 and len(github.comments) == 3
    assert all(r["authorization"] == f"Bearer {github.token}" for r in github.requests)  # every request
    assert all(r["api_version"] == "2022-11-28" for r in github.requests)
    out = capsys.readouterr().out
    assert "comment created: " in out and "comment updated: " in out
    assert not actions_env.exists()  # posted: nothing went to the step summary


def test_an_older_marker_comment_on_page_two_is_updated_not_duplicated(github, report, actions_env) -> None:
    github.add_comments(120)
    github.add_comments(1, body=MARKER + "\nan older healthdeck comment", login="github-actions[bot]")
    github.add_comments(30)
    old_id = _mine(github)[0]["id"]
    assert _post(report) == EXIT_OK
    gets = github.calls("GET")
    assert [g["query"] for g in gets] == ["per_page=100", "per_page=100&page=2"]  # followed Link rel="next"
    assert not github.calls("POST")
    assert [p["path"] for p in github.calls("PATCH")] == [
        f"/repos/{github.repository}/issues/comments/{old_id}"
    ]
    assert len(github.comments) == 151 and len(_mine(github)) == 1
    assert "older healthdeck comment" not in _mine(github)[0]["body"]


@pytest.mark.parametrize(("setup", "status"), [("read_only", "403"), ("other_repo", "404")])
def test_a_token_that_cannot_write_falls_back_to_the_step_summary(
    github, report, actions_env, monkeypatch, capsys, setup, status
) -> None:
    if setup == "read_only":
        github.read_only = True  # what a pull request from a fork gets
    else:
        monkeypatch.setenv("GITHUB_REPOSITORY", "someone/else")
    assert _post(report) == EXIT_OK  # not the job's failure
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and status in lines[0] and "Traceback" not in captured.err
    assert "fork" in lines[0] and "step summary" in lines[0]
    # a fork's token reads the comments: a 404 on reading them names the likelier cause
    assert ("check --pr, GITHUB_REPOSITORY" in lines[0]) == (status == "404")
    assert (
        captured.out.startswith("::warning title=healthdeck comment not posted::") and status in captured.out
    )
    # the comment is still readable on the run's page, saying why it is there
    summary = actions_env.read_text()
    note, comment = summary.split("\n\n", 1)
    assert (
        note.startswith("> **healthdeck:** this comment was not posted on the pull request")
        and status in note
    )
    assert comment.startswith(MARKER) and summary.count(MARKER) == 1
    assert not _mine(github)


def test_a_wrong_token_is_one_line_and_exit_4(github, report, actions_env, monkeypatch, capsys) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_wrong")
    assert _post(report) == EXIT_OUTPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "401 Bad credentials" in err[0]
    assert not actions_env.exists()


def test_pr_number_from_the_event_or_the_option(github, report, actions_env, monkeypatch, tmp_path) -> None:
    assert _post(report, "--pr", "99") == EXIT_OK  # no such pull request on the stand-in: 404, falls back
    assert github.calls("GET")[0]["path"] == f"/repos/{github.repository}/issues/99/comments"
    monkeypatch.delenv("GITHUB_EVENT_PATH")
    with pytest.raises(ValueError, match="GITHUB_EVENT_PATH is not set"):
        pull_request_from_env({**github.env()})
    push = tmp_path / "push.json"
    push.write_text('{"ref": "refs/heads/main"}')
    with pytest.raises(ValueError, match=r"no pull_request\.number"):
        pull_request_from_env({**github.env(), "GITHUB_EVENT_PATH": str(push)})
    assert pull_request_from_env({**github.env()}, number=5).number == 5
    assert pull_request_from_env(
        {**github.env(), "GITHUB_API_URL": "https://ghe.example/api/v3/"}, 5
    ).api_url == ("https://ghe.example/api/v3")


def test_missing_token_is_a_usage_error(report, monkeypatch, capsys) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    assert _post(report, "--pr", "3") == EXIT_USAGE
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "GITHUB_TOKEN" in err[0]


# -- the client on its own: retries and waits, with the clock injected (no test sleeps) --------------------


class Clock:
    def __init__(self) -> None:
        self.t = 1_700_000_000.0
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.t += seconds

    def now(self) -> float:
        return self.t


def _client(github: GitHubStandIn, clock: Clock, **options) -> tuple[GitHub, PullRequest]:
    pr = PullRequest(github.url, github.repository, github.pr, github.token)
    return GitHub(github.token, sleep=clock.sleep, now=clock.now, **options), pr


def test_server_errors_are_retried_with_backoff(github) -> None:
    clock = Clock()
    github.fail_next("POST", 502)
    github.fail_next("POST", 503)
    client, pr = _client(github, clock)
    with client:
        assert client.upsert(pr, MARKER + "\nbody", MARKER).action == "created"
    assert clock.waits == [1.0, 2.0]
    assert len(_mine(github)) == 1


def test_secondary_rate_limits_wait_as_github_says(github) -> None:
    clock = Clock()
    github.fail_next("GET", 403, {"retry-after": "30"}, "You have exceeded a secondary rate limit.")
    reset = int(clock.t) + 30 + 20  # the reset is 20 s after the first wait ends
    github.fail_next("POST", 429, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)})
    client, pr = _client(github, clock)
    with client:
        assert client.upsert(pr, MARKER, MARKER).action == "created"
    assert clock.waits == [30.0, 20.0]


def test_waiting_is_bounded(github) -> None:
    clock = Clock()
    github.fail_next("GET", 403, {"retry-after": "600"}, "You have exceeded a secondary rate limit.")
    client, pr = _client(github, clock, max_wait=90)
    with pytest.raises(GitHubError) as caught:
        client.upsert(pr, MARKER, MARKER)
    assert clock.waits == [] and caught.value.status == 403 and caught.value.rate_limited
    for _ in range(5):
        github.fail_next("GET", 500)
    with client, pytest.raises(GitHubError, match="500"):
        client.comments(pr)
    assert clock.waits == [1.0, 2.0, 4.0, 8.0]  # five attempts, four waits, 15 s in all


def test_connection_refused_is_retried_then_reported(github) -> None:
    clock = Clock()
    pr = PullRequest(
        "http://127.0.0.1:9", github.repository, github.pr, github.token
    )  # discard port: nothing listens
    client = GitHub(github.token, sleep=clock.sleep, now=clock.now, attempts=3)
    with client, pytest.raises(GitHubError, match="no answer") as caught:
        client.comments(pr)
    assert caught.value.status is None and clock.waits == [1.0, 2.0]
    assert str(caught.value).endswith("(3 attempts over 3 s)")  # retried, not one refusal


def test_a_body_over_the_limit_is_cut_to_fit(github) -> None:
    clock = Clock()
    client, pr = _client(github, clock)
    with client:
        client.upsert(pr, MARKER + "x" * (BODY_LIMIT + 500), MARKER)
    assert len(_mine(github)[0]["body"]) == BODY_LIMIT  # the stand-in answers 422 past the limit


def test_the_stand_in_validates_like_github(github) -> None:
    clock = Clock()
    client, pr = _client(github, clock)
    with pytest.raises(GitHubError, match=r"422 Validation Failed .*too long"):
        client.request("POST", pr.comments_url, {"body": "x" * (BODY_LIMIT + 1)})
    with client, pytest.raises(GitHubError, match="404 Not Found"):
        client.request("PATCH", f"{github.url}/repos/{github.repository}/issues/comments/1", {"body": "x"})
    assert clock.waits == []


@pytest.mark.parametrize(
    "variable, value, code, words",
    [
        ("GITHUB_API_URL", "http://u:pw@[::1", EXIT_USAGE, "GITHUB_API_URL is not a valid URL"),
        ("GITHUB_API_URL", "api.github.com", EXIT_USAGE, "GITHUB_API_URL must be an http(s) URL"),
        ("GITHUB_STEP_SUMMARY", "{tmp}", EXIT_OUTPUT, "cannot write the step summary (GITHUB_STEP_SUMMARY): Is a directory"),
        ("GITHUB_EVENT_PATH", "{tmp}/gone.json", EXIT_INPUT,
         "gone.json: cannot read the event payload (GITHUB_EVENT_PATH): No such file or directory"),
        # "?" or "#" in the repository would send the comment to another endpoint than the pull request's
        ("GITHUB_REPOSITORY", "o/r?x=1#", EXIT_USAGE, "GITHUB_REPOSITORY must be owner/name, got 'o/r?x=1#'"),
        ("GITHUB_REPOSITORY", "o/..", EXIT_USAGE, "GITHUB_REPOSITORY must be owner/name"),
        ("GITHUB_EVENT_PATH", "{tmp}/pr_int.json", EXIT_USAGE, "the event has no pull_request.number"),
        ("GITHUB_EVENT_PATH", "{tmp}/deep.json", EXIT_INPUT, "the event payload (GITHUB_EVENT_PATH) is not JSON"),
        # a FIFO nobody reads: one line, not a job that waits until the runner's timeout
        ("GITHUB_STEP_SUMMARY", "{fifo}", EXIT_OUTPUT,
         "cannot write the step summary (GITHUB_STEP_SUMMARY): it is a pipe nobody reads"),
    ],
)  # fmt: skip
def test_broken_actions_variables_are_one_line(report, actions_env, monkeypatch, capsys, tmp_path, variable,
                                               value, code, words) -> None:  # fmt: skip
    import os

    os.mkfifo(tmp_path / "summary.fifo")
    (tmp_path / "pr_int.json").write_text('{"pull_request": 5}')
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    monkeypatch.setenv(variable, value.format(tmp=tmp_path, fifo=tmp_path / "summary.fifo"))
    extra = ("--github-step-summary",) if variable == "GITHUB_STEP_SUMMARY" else ()
    args = ["comment", "--report", str(report), "--config", str(report.parent.parent / "pyproject.toml"),
            *extra] if extra else None  # fmt: skip
    assert (main(args) if args else _post(report)) == code
    [line] = capsys.readouterr().err.strip().splitlines()
    assert words in line and "pw" not in line


# -- one sticky comment whatever the network does, and only GitHub's answers believed ------------------------
def test_a_post_whose_answer_is_lost_makes_one_comment(github) -> None:
    """GitHub created the comment and the answer never came: the comments are listed again and the one
    it made is updated, not duplicated; a 5xx on the POST likewise."""
    clock = Clock()
    github.drop_answers("POST")
    client, pr = _client(github, clock)
    with client:
        assert client.upsert(pr, MARKER + "\nfirst", MARKER).action == "created"
    assert [c["body"] for c in _mine(github)] == [MARKER + "\nfirst"]
    assert [r["method"] for r in github.requests] == ["GET", "POST", "GET", "PATCH"] and clock.waits == [1.0]


def test_a_post_that_was_not_applied_is_sent_again_after_looking(github) -> None:
    clock = Clock()
    github.fail_next("POST", 502)
    client, pr = _client(github, clock)
    with client:
        assert client.upsert(pr, MARKER, MARKER).action == "created"
    assert [r["method"] for r in github.requests] == ["GET", "POST", "GET", "POST"] and len(
        _mine(github)
    ) == 1


@pytest.mark.parametrize(
    ("raw", "headers", "why"),
    [
        (b"<html>Sign in to the proxy</html>", {"content-type": "text/html"}, "is not JSON (text/html)"),
        (
            b"\x1f\x8b\x08\x00",
            {"content-encoding": "gzip"},
            "is not JSON (no content type, gzip): 4 bytes that are not text",
        ),
        (b"[1, 2]", {}, "expected a list of comments"),
        (b"", {}, "is not JSON"),
        (b"[" + b",".join([b"[]"] * 3_000_000) + b"]", {}, "200 answer not read: the answer would take some"),
    ],
)
def test_a_listing_that_is_not_github_s_is_one_error(github, raw, headers, why) -> None:
    github.answer_next("GET", 200, raw, headers)
    client, pr = _client(github, Clock())
    with client, pytest.raises(GitHubError, match=re.escape(why)):
        client.upsert(pr, MARKER, MARKER)
    assert github.calls("POST") == []


@pytest.mark.parametrize(
    ("raw", "why"),
    [(b"{}", "no numeric id (None)"), (b'{"id": "abc"}', "no numeric id ('abc')"), (b"ok", "not JSON")],
)
def test_a_post_answer_without_a_comment_is_one_error(github, raw, why) -> None:
    github.answer_next("POST", 201, raw)
    client, pr = _client(github, Clock())
    with client, pytest.raises(GitHubError, match=re.escape(why)):
        client.upsert(pr, MARKER, MARKER)


def test_pages_are_followed_within_the_api_s_origin_and_never_twice(github) -> None:
    client, pr = _client(github, Clock())
    page = f"{github.url}/repos/{github.repository}/issues/{github.pr}/comments?per_page=100"
    github.answer_next("GET", 200, b"[]", {"link": f'<{page}>; rel="next"'})  # links to itself
    with client, pytest.raises(GitHubError, match="link back to a page already read"):
        client.find(pr, MARKER)
    github.answer_next("GET", 200, b"[]", {"link": '<http://127.0.0.2:9/x?page=2>; rel="next"'})
    with client, pytest.raises(GitHubError, match=r"another origin \(http://127.0.0.2:9/x\?page=2\)"):
        client.find(pr, MARKER)
    assert len(github.calls("GET")) == 2  # the other origin was never asked


def test_a_relative_or_unquoted_next_link_is_followed(github) -> None:
    """RFC 8288 allows both; a stand-in or a GHE proxy may write them."""
    github.add_comments(1, body=MARKER + "\nolder")
    path = f"/repos/{github.repository}/issues/{github.pr}/comments?per_page=100&page=1"
    github.answer_next("GET", 200, b"[]", {"link": f"<{path}>; rel=next"})
    client, pr = _client(github, Clock())
    with client:
        assert client.upsert(pr, MARKER + "\nnew", MARKER).action == "updated"
    assert [c["body"] for c in _mine(github)] == [MARKER + "\nnew"]


def test_more_pages_than_a_conversation_holds_is_one_error(github, monkeypatch) -> None:
    from healthdeck.reports import github as module

    monkeypatch.setattr(module, "MAX_PAGES", 2)
    github.add_comments(250)
    client, pr = _client(github, Clock())
    with client, pytest.raises(GitHubError, match="more than 2 pages of comments"):
        client.find(pr, MARKER)

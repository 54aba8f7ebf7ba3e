"""Property-based: Guardian decision logs (mutated lines of the bundled real-format sample) and
Prometheus answers (mutated real answers, served over a local socket) give a result or one
CollectorError. A bad log line is counted as malformed, never lost and never fatal on its own."""

from __future__ import annotations

import gzip
import http.server
import json
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlparse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from healthdeck.collectors.guardian.decisions import collect_decisions
from healthdeck.collectors.guardian.prometheus import collect_prometheus
from healthdeck.reports.guardian.delta import read_logs
from tests.fuzzing import (
    REAL,
    SAMPLES,
    assert_reportable,
    maybe_gzip,
    mutate_bytes,
    mutate_json,
    mutate_lines,
    outcome,
    write,
)

LINES = 60  # per mode: enough to hold every field shape, small enough to mutate quickly


def _seed(mode: str) -> list[bytes]:
    with gzip.open(SAMPLES / "guardian" / f"{mode}.jsonl.gz") as fh:
        return [next(fh).rstrip(b"\n") for _ in range(LINES)]


PERMISSIVE, STRICT = _seed("permissive"), _seed("strict")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz-guardian")


@st.composite
def mutated_log(draw: st.DrawFn, lines: list[bytes]) -> bytes:
    seed, lines = lines, list(lines)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        lines[i] = draw(mutate_json(json.loads(seed[i])))  # the seed line: a mutated one may not parse
    text = draw(mutate_lines(b"\n".join(lines).decode()))
    return draw(mutate_bytes(text.encode()))


@given(data=st.data())
def test_decision_log_mutations(folder: Path, data: st.DataObject) -> None:
    plain = data.draw(mutated_log(PERMISSIVE))
    doc = data.draw(maybe_gzip(plain))
    path = write(folder / "permissive.jsonl", doc)
    log = outcome(lambda: collect_decisions([path]))
    if log is None:
        return
    # every non-blank line is either counted or malformed; tracing never changes the counts
    assert log.records + log.malformed == sum(1 for line in plain.split(b"\n") if line.strip())
    traced = collect_decisions([path], trace_denies=True)
    assert (traced.allow, traced.deny, traced.malformed) == (log.allow, log.deny, log.malformed)
    strict = write(folder / "strict.jsonl", data.draw(mutated_log(STRICT)))
    inputs = outcome(lambda: read_logs([path], [strict]))
    if inputs is not None:
        assert_reportable(guardian=inputs)


# --- Prometheus: replay real answers, one of them mutated ---

RECORDED = json.loads((REAL / "prometheus-answers.json").read_text())
AT = datetime.fromisoformat(RECORDED["at"])


class Replay(http.server.BaseHTTPRequestHandler):
    answers: ClassVar[dict[str, bytes]] = {}

    def do_GET(self) -> None:
        query = parse_qs(urlparse(self.path).query).get("query", [""])[0]
        body = self.answers.get(
            query, b'{"status": "success", "data": {"resultType": "vector", "result": []}}'
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def replay() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Replay)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@given(data=st.data(), query=st.sampled_from(sorted(RECORDED["answers"])))
def test_prometheus_answer_mutations(replay: str, data: st.DataObject, query: str) -> None:
    answers = {q: json.dumps(a["body"]).encode() for q, a in RECORDED["answers"].items()}
    answers[query] = data.draw(mutate_bytes(data.draw(mutate_json(RECORDED["answers"][query]["body"]))))
    Replay.answers = answers
    result = outcome(lambda: collect_prometheus(replay, RECORDED["window"], at=AT, timeout=5))
    if result is not None:
        from healthdeck.reports.build import prometheus_summary
        from healthdeck.reports.output import json_text

        json_text(prometheus_summary(result))  # strict JSON: no NaN/Infinity got through


def test_recorded_answers_replay_to_the_real_figures(replay: str) -> None:
    # the seeds are sound: unmutated, they give what the real Prometheus gave
    Replay.answers = {q: json.dumps(a["body"]).encode() for q, a in RECORDED["answers"].items()}
    result = collect_prometheus(replay, RECORDED["window"], at=AT, timeout=5)
    assert result.decisions and result.top_rules and result.series and result.warnings == []

"""Failure-cause grouping benchmark: time to compute the causes of N failing tests.

    python benchmarks/bench_causes.py [--failures 10000 100000] [--repeat 3] [--junit]

Two shapes per size: "3 breakages" (the Done-when case: three messages that differ only in numbers, ids,
ports and line numbers, so every raw message is distinct and must be normalised) and "mixed" (20 message
templates with timestamps, UUIDs, addresses, temp paths and quoted ids, plus pytest failure bodies).
Times `group_causes` alone (best of --repeat, wall and CPU time, in this process); with --junit, also the
whole JUnit read
plus grouping of a generated pytest-shaped file, in a fresh interpreter (benchmarks/harness.py).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from harness import best

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from healthdeck.collectors.junit import FailingTest
from healthdeck.reports.causes import group_causes

THREE = (
    (
        0.6,
        "failed on setup with \"ConnectionRefusedError: [Errno 111] Connect call failed ('127.0.0.1', {port})\"",
    ),
    (0.3, "KeyError: 'user-{id}' not in cache (line {line})"),
    (0.1, "TimeoutError: GET http://localhost:{port}/api/items/{n} timed out after {n}s"),
)
MIXED = [
    "AssertionError: assert {n} == {m}",
    "AssertionError: expected status 200, got {n} for /api/orders/{id}",
    "ValueError: invalid request id {uuid}",
    "FileNotFoundError: [Errno 2] No such file or directory: '/tmp/pytest-of-ci/pytest-{n}/test_{m}0/data.json'",
    "TimeoutError: job {hex} did not finish by {ts}",
    "redis.exceptions.ConnectionError: Error 111 connecting to localhost:{port}. Connection refused.",
    'psycopg.OperationalError: connection to server at "10.0.{n}.{m}", port {port} failed: timeout expired',
    "RuntimeError: worker <Worker object at 0x7f{hex6}> died after {n} retries",
    "KeyError: 'tenant-{id}'",
    "collection failure",
    "TypeError: unsupported operand type(s) for +: 'int' and 'NoneType'",
    "AttributeError: 'NoneType' object has no attribute 'id'",
    "Failed: DID NOT RAISE <class 'ValueError'>",
    "OSError: [Errno 98] Address already in use: ('0.0.0.0', {port})",
    "AssertionError: {n} != {m} (tolerance {n}.{m}ms)",
    "json.decoder.JSONDecodeError: Expecting value: line {n} column {m} (char {port})",
    "PermissionError: [Errno 13] Permission denied: '/var/tmp/cache-{id}/lock'",
    "ssl.SSLError: certificate expired on {ts}",
    'django.db.utils.IntegrityError: duplicate key value violates unique constraint "users_pkey" DETAIL: Key (id)=({n}) already exists.',
    "AssertionError: snapshot {hex} does not match (line {line})",
]


def _values(rng: random.Random) -> dict[str, object]:
    return {
        "n": rng.randint(0, 999), "m": rng.randint(0, 999), "port": rng.randint(1024, 65535),
        "id": rng.randint(1000, 999_999), "line": rng.randint(1, 3000),
        "uuid": "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}".format(*(rng.getrandbits(b) for b in (32, 16, 12, 12, 48))),
        "hex": f"{rng.getrandbits(64):016x}", "hex6": f"{rng.getrandbits(24):06x}",
        "ts": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00Z",
    }  # fmt: skip


def failures(count: int, shape: str, seed: int = 5) -> list[FailingTest]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        if shape == "3 breakages":
            roll, template = rng.random(), THREE[-1][1]
            for share, candidate in THREE:
                if roll < share:
                    template = candidate
                    break
                roll -= share
            out.append(
                FailingTest(f"tests.test_mod{i % 97}::test_{i}", "failed", template.format(**_values(rng)))
            )
        else:
            template = MIXED[i % len(MIXED)]
            message = template.format(**_values(rng))
            exception = (
                f"ModuleNotFoundError: No module named 'plugin_{i % 7}'"
                if message == "collection failure"
                else None
            )
            out.append(FailingTest(f"tests.test_mod{i % 97}::test_{i}", "error", message, None, None, exception,
                                   f"tests/test_mod{i % 97}.py:{rng.randint(1, 900)}"))  # fmt: skip
    return out


def time_grouping(items: list[FailingTest], repeat: int) -> tuple[float, float, int]:
    """Best wall time and best CPU time of this process (CPU time is what a busy shared machine distorts least)."""
    walls, cpus = [], []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        causes = group_causes(items)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus), len(causes)


def junit_file(path: Path, items: list[FailingTest]) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">')
        for f in items:
            cls, name = f.test_id.split("::")
            body = f"def {name}():\n>       call()\nE       {f.message}\n\n{f.last_frame or 'tests/x.py:1'}: Error"
            out.write(f'<testcase classname="{cls}" name="{name}" time="0.01"><failure message={quoteattr(f.message)}>'
                      f"{escape(body)}</failure></testcase>")  # fmt: skip
        out.write("</testsuite></testsuites>")


JUNIT_BODY = """
from healthdeck.collectors.junit import collect_junit
from healthdeck.reports.causes import group_causes
result = len(group_causes(collect_junit([PATH]).failing))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--failures", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--junit", action="store_true", help="also time reading a JUnit file plus grouping")
    args = parser.parse_args()
    print(f"{'failures':>9} {'shape':<12} {'causes':>6} {'wall':>8} {'CPU':>8} {'CPU/failure':>12}"
          + (f" {'JUnit read + group (wall)':>26}" if args.junit else ""))  # fmt: skip
    for count in args.failures:
        for shape in ("3 breakages", "mixed"):
            items = failures(count, shape)
            wall, cpu, causes = time_grouping(items, args.repeat)
            line = (
                f"{count:>9} {shape:<12} {causes:>6} {wall:>7.3f}s {cpu:>7.3f}s {cpu / count * 1e6:>10.1f}µs"
            )
            if args.junit:
                with tempfile.TemporaryDirectory() as tmp:
                    path = Path(tmp) / "junit.xml"
                    junit_file(path, items)
                    line += f" {best(JUNIT_BODY, path, args.repeat)['wall']:>25.3f}s"
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())

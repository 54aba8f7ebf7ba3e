"""JUnit collector benchmark: healthdeck vs the floor (bare iterparse) vs the common approach (junitparser).

    python benchmarks/bench_junit.py [--cases 1000000] [--repeat 3] [--check]

Generates a pytest-shaped JUnit file (~1 % failures, ~3 % skips, a few xfails and reruns), then runs
each contender in its own fresh interpreter (so peak RSS is its own) and prints wall time and peak
RSS with ratios against the baselines measured in the same run. Best of --repeat runs for wall time.
Targets (issue): wall <= 2x the bare pass, peak RSS <= 1/4 of the junitparser walk.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

from harness import best

CONTENDERS = {
    "bare lxml iterparse (floor)": """
from lxml import etree
n = 0
for _, elem in etree.iterparse(PATH, events=("end",)):
    if elem.tag == "testcase":
        n += 1
    elem.clear()
result = n
""",
    "healthdeck collect_junit": """
from healthdeck.collectors.junit import collect_junit
r = collect_junit([PATH])
result = r.attempts
""",
    "junitparser DOM walk": """
import junitparser
xml = junitparser.JUnitXml.fromfile(PATH)
n = 0
for suite in xml:
    for case in suite:
        n += 1
        _ = case.result
result = n
""",
}


def generate(path: Path, cases: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">')
        out.write(f'<testsuite name="pytest" errors="0" failures="0" skipped="0" tests="{cases}" time="1.0">')
        for i in range(cases):
            module = f"tests.unit.test_mod{i // 500:04d}"
            name = f"test_case_{i % 500}[param-{i % 7}]"
            head = f'<testcase classname="{module}" name="{name}" time="{rng.random() / 50:.3f}"'
            roll = rng.random()
            if roll < 0.01:
                out.write(
                    f'{head}><failure message="AssertionError: assert {i} == {i + 1}">def test():\n'
                    f">       assert {i} == {i + 1}\nE       AssertionError\n\ntests/unit.py:{i % 300}: "
                    "AssertionError</failure></testcase>"
                )
            elif roll < 0.04:
                out.write(
                    f'{head}><skipped type="pytest.skip" message="needs network">skip</skipped></testcase>'
                )
            elif roll < 0.045:
                out.write(f'{head}><skipped type="pytest.xfail" message="known bug" /></testcase>')
            elif roll < 0.046:
                out.write(f"{head} />{head} />")  # a rerun: failed once, then passed
            else:
                out.write(f"{head} />")
        out.write("</testsuite></testsuites>")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "junit.xml"
        generate(path, args.cases)
        size_mb = path.stat().st_size / 1e6
        results = {name: best(body, path, args.repeat) for name, body in CONTENDERS.items()}
    floor = results["bare lxml iterparse (floor)"]
    dom = results["junitparser DOM walk"]
    ours = results["healthdeck collect_junit"]
    print(
        f"JUnit benchmark: {args.cases:,} testcases, {size_mb:.0f} MB, Python {sys.version.split()[0]}, "
        f"best of {args.repeat}"
    )
    print()
    print("| contender | wall (s) | peak RSS (MB) | wall vs floor | RSS vs junitparser |")
    print("|---|---:|---:|---:|---:|")
    for name, r in results.items():
        print(
            f"| {name} | {r['wall']:.2f} | {r['rss'] / 1e6:.0f} | {r['wall'] / floor['wall']:.2f}x "
            f"| {r['rss'] / dom['rss']:.2f}x |"
        )
    wall_ok = ours["wall"] <= 2 * floor["wall"]
    rss_ok = ours["rss"] <= dom["rss"] / 4
    print()
    print(f"target wall <= 2x floor: {'met' if wall_ok else 'MISSED'} ({ours['wall'] / floor['wall']:.2f}x)")
    print(f"target RSS <= 1/4 junitparser: {'met' if rss_ok else 'MISSED'} ({ours['rss'] / dom['rss']:.2f}x)")
    return 0 if (wall_ok and rss_ok) or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())

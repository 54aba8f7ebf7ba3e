"""JUnit ingest benchmark: healthdeck against the true floor, in-process and as whole processes.

    python benchmarks/bench_junit.py [--cases 1000000] [--repeat 3] [--check]

Generates a pytest-shaped JUnit file (~1 % failures with tracebacks, ~3 % skips, a few xfails and
reruns) and measures, each contender in its own fresh interpreter:

* the floor: one `lxml.etree.iterparse(PATH, tag="testcase")` pass that clears each element and
  deletes its previous siblings, the least any Python reader of every testcase can do;
* healthdeck's `collect_junit` (full normalisation: ids, reruns, failing tests with their trace
  facts, slowest tests, the file's own totals reconciled);
* `healthdeck collect` as a whole process (start-up, imports, parse, report, latest.json/latest.md),
  without and with the history store;
* a junitparser DOM walk, the common approach, for memory.

In-process figures time the parse alone (imports excluded); whole-process figures are timed from
outside, start-up included, against the floor run as a whole process too. Wall time is the best of
--repeat; CPU time is shown too, because on a shared machine wall time swings with the load.
Targets: whole process <= 2x the floor, in-process <= 1.5x, peak RSS <= 1/4 of junitparser's.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

from harness import best, best_of, run_command

FLOOR = """
n = 0
for _, elem in etree.iterparse(PATH, tag="testcase"):
    n += 1
    elem.clear()
    while elem.getprevious() is not None:
        del elem.getparent()[0]
result = n
"""
IN_PROCESS = {
    "floor: iterparse(tag=testcase), clear + delete siblings": ("from lxml import etree", FLOOR),
    "healthdeck collect_junit": (
        "from healthdeck.collectors.junit import collect_junit",
        "result = collect_junit([PATH]).attempts",
    ),
    "junitparser DOM walk": (
        "import junitparser",
        """
xml = junitparser.JUnitXml.fromfile(PATH)
n = 0
for suite in xml:
    for case in suite:
        n += 1
        _ = case.result
result = n
""",
    ),
}
FLOOR_SCRIPT = "import sys\nfrom lxml import etree\nPATH = sys.argv[1]\n" + FLOOR
CLI = "from healthdeck.reports.cli import main; raise SystemExit(main())"


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
        inside = {name: best(body, path, args.repeat, setup) for name, (setup, body) in IN_PROCESS.items()}
        collect = [sys.executable, "-c", CLI, "collect", "--junit", f"unit={path}", "--out", tmp, "--quiet"]
        whole = {
            "floor as a process (python -c, lxml import)": best_of(
                lambda: run_command([sys.executable, "-c", FLOOR_SCRIPT, str(path)]), args.repeat
            ),
            "healthdeck collect --no-history": best_of(
                lambda: run_command([*collect, "--no-history"]), args.repeat
            ),
            "healthdeck collect (SQLite history)": best_of(
                lambda: run_command([*collect, "--history", f"sqlite:///{tmp}/h.sqlite"]), args.repeat
            ),
        }
    floor, ours, dom = (inside[k] for k in IN_PROCESS)
    assert ours["result"] == floor["result"], (ours["result"], floor["result"])  # every testcase read
    floor_process = whole["floor as a process (python -c, lxml import)"]
    print(
        f"JUnit benchmark: {args.cases:,} testcases, {size_mb:.0f} MB, Python {sys.version.split()[0]}, "
        f"best of {args.repeat}"
    )
    print()
    print("In-process (the parse alone, imports excluded):")
    print()
    print(
        "| contender | wall (s) | CPU (s) | peak RSS (MB) | wall vs floor | CPU vs floor | RSS vs junitparser |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in inside.items():
        print(
            f"| {name} | {r['wall']:.2f} | {r['cpu']:.2f} | {r['rss'] / 1e6:.0f} | "
            f"{r['wall'] / floor['wall']:.2f}x | {r['cpu'] / floor['cpu']:.2f}x | {r['rss'] / dom['rss']:.2f}x |"
        )
    print()
    print("Whole processes (start-up, imports, parse and, for collect, the report):")
    print()
    print("| command | wall (s) | CPU (s) | peak RSS (MB) | wall vs floor | CPU vs floor |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in whole.items():
        print(
            f"| {name} | {r['wall']:.2f} | {r['cpu']:.2f} | {r['rss'] / 1e6:.0f} | "
            f"{r['wall'] / floor_process['wall']:.2f}x | {r['cpu'] / floor_process['cpu']:.2f}x |"
        )
    collect_ratio = whole["healthdeck collect --no-history"]["wall"] / floor_process["wall"]
    targets = [
        ("whole process <= 2x floor", collect_ratio, collect_ratio <= 2),
        ("in-process <= 1.5x floor", ours["wall"] / floor["wall"], ours["wall"] <= 1.5 * floor["wall"]),
        ("peak RSS <= 1/4 junitparser", ours["rss"] / dom["rss"], ours["rss"] <= dom["rss"] / 4),
    ]
    print()
    for label, ratio, met in targets:
        print(f"target {label}: {'met' if met else 'MISSED'} ({ratio:.2f}x)")
    return 0 if all(met for *_, met in targets) or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())

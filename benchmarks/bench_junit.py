"""JUnit ingest benchmark: healthdeck against the true floor, in-process and as whole processes.

    python benchmarks/bench_junit.py [--cases 1000000] [--repeat 3] [--check] [--all-pass]

Generates a pytest-shaped JUnit file (~1 % failures with tracebacks, ~3 % skips, a few xfails and
reruns; with --all-pass, passing testcases only) and measures, each contender in its own fresh interpreter:

* the floor: one `lxml.etree.iterparse(PATH, tag="testcase")` pass that clears each element and
  deletes its previous siblings, the least any Python reader of every testcase can do;
* healthdeck's `collect_junit` (full normalisation: ids, reruns, failing tests with their trace
  facts, slowest tests, the file's own totals reconciled);
* `healthdeck collect` as a whole process (start-up, imports, parse, report, latest.json/latest.md),
  without and with the history store;
* a junitparser DOM walk, the common approach, for memory.

In-process figures time the parse alone (imports excluded); whole-process figures are timed from
outside, start-up included, against the floor run as a whole process too. The floor and healthdeck
runs are interleaved, `--repeat` times each, and the best of each is kept; junitparser and the run with
the history store run once. CPU time (user + system) is what the targets are checked on: on a shared
machine wall time also holds the time other work had the cores, and the load average is printed.
Targets: whole process <= 2x the floor, in-process <= 1.5x, peak RSS <= 1/4 of junitparser's.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
from pathlib import Path

from harness import best_run, run, run_command

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
FLOOR_PROCESS = "floor as a process (python -c, lxml import)"
COLLECT = "healthdeck collect --no-history"
COLLECT_HISTORY = "healthdeck collect (SQLite history)"


def generate(path: Path, cases: int, seed: int = 7, all_pass: bool = False) -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">')
        out.write(f'<testsuite name="pytest" errors="0" failures="0" skipped="0" tests="{cases}" time="1.0">')
        i = 0
        while i < cases:  # `cases` testcase elements, a rerun's two included: max_testcases counts elements
            module = f"tests.unit.test_mod{i // 500:04d}"
            name = f"test_case_{i % 500}[param-{i % 7}]"
            head = f'<testcase classname="{module}" name="{name}" time="{rng.random() / 50:.3f}"'
            roll = 1.0 if all_pass else rng.random()
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
            elif roll < 0.046 and i + 1 < cases:
                out.write(f"{head} />{head} />")  # a rerun: failed once, then passed
                i += 1
            else:
                out.write(f"{head} />")
            i += 1
        out.write("</testsuite></testsuites>")


TARGET_CASES = 1_000_000  # the size the targets are stated for (docs/benchmarks.md)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--all-pass", action="store_true", help="a file of passing testcases only")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "junit.xml"
        generate(path, args.cases, all_pass=args.all_pass)
        size_mb = path.stat().st_size / 1e6
        collect = [sys.executable, "-c", CLI, "collect", "--junit", f"unit={path}", "--out", tmp, "--quiet"]
        floor_name, ours_name, dom_name = IN_PROCESS
        paired = {
            floor_name: lambda: run(IN_PROCESS[floor_name][1], path, IN_PROCESS[floor_name][0]),
            ours_name: lambda: run(IN_PROCESS[ours_name][1], path, IN_PROCESS[ours_name][0]),
            FLOOR_PROCESS: lambda: run_command([sys.executable, "-c", FLOOR_SCRIPT, str(path)]),
            COLLECT: lambda: run_command([*collect, "--no-history"]),
        }
        runs: dict[str, list[dict]] = {name: [] for name in paired}
        for _ in range(args.repeat):  # interleaved, so that load on the machine hits each alike
            for name, measure in paired.items():
                runs[name].append(measure())
        measured = {name: best_run(found) for name, found in runs.items()}
        measured[dom_name] = run(IN_PROCESS[dom_name][1], path, IN_PROCESS[dom_name][0])
        measured[COLLECT_HISTORY] = run_command([*collect, "--history", f"sqlite:///{tmp}/h.sqlite"])
    load_after = os.getloadavg()[0]
    floor, ours, dom = (measured[k] for k in IN_PROCESS)
    assert ours["result"] == floor["result"], (ours["result"], floor["result"])  # every testcase read
    floor_process = measured[FLOOR_PROCESS]
    print(
        f"JUnit benchmark: {args.cases:,} {'passing ' if args.all_pass else ''}testcases, {size_mb:.0f} MB; "
        f"Python {sys.version.split()[0]}, "
        f"{versions()}; {os.cpu_count()} cores ({cpu_model()}), load average {load_before:.1f} before, "
        f"{load_after:.1f} after; best of {args.repeat} (junitparser and the history run: once)"
    )
    print()
    print("In-process (the parse alone, imports excluded):")
    print()
    print(
        "| contender | wall (s) | CPU (s) | peak RSS (MB) | wall vs floor | CPU vs floor | RSS vs junitparser |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in IN_PROCESS:
        r = measured[name]
        print(
            f"| {name} | {r['wall']:.2f} | {r['cpu']:.2f} | {r['rss'] / 1e6:.0f} | "
            f"{r['wall'] / floor['wall']:.2f}x | {r['cpu'] / floor['cpu']:.2f}x | {r['rss'] / dom['rss']:.2f}x |"
        )
    print()
    print("Whole processes (start-up, imports, parse and, for collect, the report):")
    print()
    print("| command | wall (s) | CPU (s) | peak RSS (MB) | wall vs floor | CPU vs floor |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in (FLOOR_PROCESS, COLLECT, COLLECT_HISTORY):
        r = measured[name]
        print(
            f"| {name} | {r['wall']:.2f} | {r['cpu']:.2f} | {r['rss'] / 1e6:.0f} | "
            f"{r['wall'] / floor_process['wall']:.2f}x | {r['cpu'] / floor_process['cpu']:.2f}x |"
        )
    targets = [
        ("whole process <= 2x the floor (CPU)", measured[COLLECT]["cpu"] / floor_process["cpu"], 2.0),
        ("in-process <= 1.5x the floor (CPU)", ours["cpu"] / floor["cpu"], 1.5),
        ("peak RSS <= 1/4 of junitparser's", ours["rss"] / dom["rss"], 0.25),
    ]
    print()
    judged = args.cases >= TARGET_CASES  # smaller files: the interpreter's own memory and start-up weigh more
    for label, ratio, limit in targets:
        verdict = (
            ("met" if ratio <= limit else "MISSED")
            if judged
            else f"not judged below {TARGET_CASES:,} testcases"
        )
        print(f"target {label}: {verdict} ({ratio:.2f}x)")
    return 0 if all(ratio <= limit for _, ratio, limit in targets) or not (args.check and judged) else 1


def versions() -> str:
    from importlib.metadata import version
    from xml.parsers import expat

    from lxml import etree

    libxml2 = ".".join(map(str, etree.LIBXML_VERSION))
    return (
        f"lxml {etree.__version__} (libxml2 {libxml2}), {expat.EXPAT_VERSION.replace('_', ' ')}, "
        f"junitparser {version('junitparser')}"
    )


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            return next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        return "CPU model unknown"


if __name__ == "__main__":
    sys.exit(main())

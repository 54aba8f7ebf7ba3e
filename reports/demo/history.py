"""`healthdeck demo`: a realistic history made by really running `collect` and `gate` on a sequence of
artifacts, ending with the bundled real ones, so every dashboard page has something to show.

The earlier runs' artifacts are derived from the real python-dateutil samples: a drifting set of
failing and flaky tests, coverage and ruff findings that improve over time, a compile failure that
gets fixed, and Guardian rehearsals in the last runs. Nothing is written into the database by hand.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

from .traffic import POLICY_V1, POLICY_V2, Expected, rehearsal, replay

SAMPLES = Path(__file__).parents[1] / "samples"
DATEUTIL = SAMPLES / "dateutil"
GUARDIAN = SAMPLES / "guardian"
OPENAPI = SAMPLES / "openapi"
MARKER = ".healthdeck-demo"
DEMO_CONFIG = """# written by `healthdeck demo`: the sample project's settings
[tool.healthdeck]
prod_lanes = ["tz", "parser"]
coverage_paths_checked = false  # the sample's files are python-dateutil's, not in this folder

[tool.healthdeck.lanes]
tz = ["src/dateutil/tz/"]
parser = ["src/dateutil/parser/"]
core = ["src/dateutil/"]

[tool.healthdeck.gates]
# the default release checklist, adjusted for a demo whose commits are made up
report_current = false
max_age_hours = 48
coverage_min = 85
coverage_drop_max = 1.0
no_new_failures = true
guardian_new_in_strict_max = 0
unknown_blocks = false
"""


class DemoError(Exception):
    pass


@contextlib.contextmanager
def environment(**values: str) -> Iterator[None]:
    """os.environ with `values` set for the block, restored after it (a collect reads CI variables)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _read_xml(path: Path) -> etree._ElementTree:
    with gzip.open(path) as fh:  # our own bundled sample, not user input
        return etree.parse(fh)


def _junit(source: Path, target: Path, rng: random.Random, failing: int, flaky: int, keep_real: bool) -> None:
    tree = _read_xml(source)
    cases = [c for c in tree.iter("testcase") if not len(c)]
    if not keep_real:  # this run passes the real failures: drop them with their rerun attempts
        seen: dict[tuple[str | None, str | None], etree._Element] = {}
        for case in list(tree.iter("testcase")):
            key = (case.get("classname"), case.get("name"))
            if key in seen:
                seen[key].getparent().remove(seen[key])
            seen[key] = case
            for failure in case.findall("failure"):
                case.remove(failure)
    for case in rng.sample(cases, min(failing, len(cases))):
        etree.SubElement(case, "failure", message=f"AssertionError: drifted value {rng.randrange(1000)}")
    for case in rng.sample(cases, min(flaky, len(cases))):
        rerun = etree.Element("testcase", dict(case.attrib))  # pytest-rerunfailures: a failed attempt first
        case.addprevious(rerun)
    with gzip.open(target, "wb") as fh:
        tree.write(fh, xml_declaration=True, encoding="utf-8")


def _coverage(target: Path, rng: random.Random, lose: float) -> None:
    tree = _read_xml(DATEUTIL / "coverage.xml.gz")
    covered = 0
    for line in tree.iter("line"):
        if line.get("hits") != "0" and rng.random() < lose:
            line.set("hits", "0")
        covered += line.get("hits") != "0"
    tree.getroot().set("lines-covered", str(covered))
    with gzip.open(target, "wb") as fh:
        tree.write(fh, xml_declaration=True, encoding="utf-8")


def _ruff(target: Path, rng: random.Random, extra: int) -> None:
    violations = json.loads(gzip.decompress((DATEUTIL / "ruff.json.gz").read_bytes()))
    prod = [
        v
        for v in violations
        if "/src/dateutil/tz/" in v["filename"] or "/src/dateutil/parser/" in v["filename"]
    ]
    violations += [dict(rng.choice(prod)) for _ in range(extra)]
    target.write_text(json.dumps(violations))


def build(out: Path, runs: int = 30, progress: bool = True) -> Path:
    """Write the demo history and latest report into `out`; returns the config file it used."""
    from healthdeck.reports.cli import main

    out.mkdir(parents=True, exist_ok=True)
    # A project's own report or store in the default folder is never overwritten by sample data.
    theirs = [out / name for name in ("history.sqlite", "latest.json", "latest.md")]
    if not (out / MARKER).exists() and (found := next((p for p in theirs if p.exists()), None)):
        raise DemoError(f"{found} exists and was not made by the demo; give the demo another --out")
    for stale in out.glob("history.sqlite*"):
        stale.unlink()
    (out / MARKER).write_text("made by healthdeck demo; safe to delete\n")
    config = out / "demo-pyproject.toml"
    config.write_text(DEMO_CONFIG)
    now = int(time.time())
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for k in range(runs):
            last = k == runs - 1
            rng = random.Random(k)
            age = (runs - 1 - k) * 86_400 + (rng.randrange(3600) if not last else 0)
            sha = hashlib.sha1(f"demo-{k}".encode()).hexdigest()
            branch = "feature/tz-cache" if k % 6 == 4 else "main"
            args = ["collect", "-q", "--config", str(config), "--out", str(out)]
            if last:  # the real artifacts, untouched
                args += ["--junit", f"smoke={DATEUTIL / 'smoke.junit.xml.gz'}", "--junit", f"unit={DATEUTIL / 'unit.junit.xml.gz'}",
                         "--coverage", str(DATEUTIL / "coverage.xml.gz"), "--ruff", str(DATEUTIL / "ruff.json.gz"),
                         "--compileall", str(DATEUTIL / "compileall.txt"),
                         "--guardian-permissive", str(GUARDIAN / "permissive.jsonl.gz"),
                         "--guardian-strict", str(GUARDIAN / "strict.jsonl.gz"),
                         "--rehearsal-permissive", str(GUARDIAN / "smoke-permissive.xml"),
                         "--rehearsal-strict", str(GUARDIAN / "smoke-strict.xml"),
                         "--openapi-report", str(OPENAPI / "openapi-diff.txt")]  # fmt: skip
            else:
                keep_real = k >= runs - 8  # the two real failures appear a week before the end: known by then
                _junit(DATEUTIL / "smoke.junit.xml.gz", work / "smoke.xml.gz", rng, rng.choice([0, 0, 0, 0, 1, 2, 9]) if k < runs - 8 else rng.choice([0, 0, 0, 1]),
                       rng.choice([0, 1, 2]), keep_real)  # fmt: skip
                _coverage(work / "coverage.xml.gz", rng, lose=0.08 * (1 - k / runs) + rng.uniform(0, 0.01))
                _ruff(work / "ruff.json", rng, extra=int(60 * (1 - k / runs)) + rng.randrange(5))
                compile_out = work / "compileall.txt"
                compile_out.write_text(
                    "*** Error compiling 'src/dateutil/parser/_parser.py'...\n"
                    '  File "src/dateutil/parser/_parser.py", line 412\n    if x = 1:\n         ^\n'
                    "SyntaxError: invalid syntax. Maybe you meant '==' or ':=' instead of '='?\n\n"
                    if k < 4 else ""
                )  # fmt: skip
                args += ["--junit", f"smoke={work / 'smoke.xml.gz'}", "--coverage", str(work / "coverage.xml.gz"),
                         "--ruff", str(work / "ruff.json"), "--compileall", str(compile_out)]  # fmt: skip
                if k >= runs - 6:
                    run = rehearsal(1_500, seed=k)
                    expected = Expected()
                    with open(work / "perm.jsonl", "wb") as sink:
                        replay(sink, run.permissive, "permissive", POLICY_V1, expected)
                    with open(work / "strict.jsonl", "wb") as sink:
                        replay(
                            sink, run.strict, "strict", POLICY_V2 if k >= runs - 3 else POLICY_V1, expected
                        )
                    args += [
                        "--guardian-permissive",
                        str(work / "perm.jsonl"),
                        "--guardian-strict",
                        str(work / "strict.jsonl"),
                    ]
            with environment(
                SOURCE_DATE_EPOCH=str(now - age),
                GITHUB_SHA=sha,
                GITHUB_REF_NAME=branch,
                GITHUB_RUN_ID=str(1000 + k),
            ):
                said = io.StringIO()  # the made-up runs' own warnings (no git, ruff run elsewhere) are noise
                with contextlib.redirect_stderr(said):
                    code = main(args)
                if code != 0:
                    sys.stderr.write(said.getvalue())
                    raise DemoError(f"collect failed for demo run {k}")
                with contextlib.redirect_stdout(io.StringIO()):  # the verdict is stored; no need to print 30
                    main(["gate", "--config", str(config), "--report", str(out / "latest.json")])
            if progress and sys.stdout.isatty():  # one line redrawn in a terminal
                print(f"\rdemo history: run {k + 1}/{runs}", end="", flush=True)
            elif progress and ((k + 1) % 10 == 0 or k + 1 == runs):  # a log: a line every 10 runs
                print(f"demo history: run {k + 1}/{runs}", flush=True)
    if progress and sys.stdout.isatty():
        print()
    return config

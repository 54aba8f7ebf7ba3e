"""A project whose artifacts carry markup, as an outside contributor or caller could craft them.

The test ids come from a real pytest run of a parametrized test (ids are whatever a contributor
writes), the Guardian logs from healthdeck's own producer fed request data (tenants are request
data), and the report from `healthdeck collect` and `healthdeck gate` as CI runs them: the first run
passes, the second fails every crafted test, so the gate lists them as new failures (NO-GO).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from healthdeck.guardian.producer import DecisionLogger
from healthdeck.reports.cli import main

BEACON = "http://127.0.0.2:9/"  # nothing listens there: a request to it is the proof of a leak
PHISH = "https://evil.example/phish"
IMAGE_ID = f"![x]({BEACON}beacon.png)"
LINK_ID = f"[Approve release]({PHISH})"
EMPHASIS_ID = "a*b*c"
GREEN_ID = ":green[GO]"
# In the order the gate lists new failures (by name); each test id is `c::t[ID]`.
IDS = [IMAGE_ID, GREEN_ID, LINK_ID, EMPHASIS_ID]
TENANT = f"![t]({BEACON}tenant.png) :material/check_circle:"
RULE = f"R-1`![r]({BEACON}rule.png)`"
ETAG = f"![e]({BEACON}etag.png)"
ACTION = f'dreams.create <a href="{PHISH}">x</a> <b>y</b> \x1b[31m'
TERMINAL = "\x1b[32mGO\x1b[0m\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07"

TEST_FILE = """
import os

import pytest

IDS = {ids!r}


@pytest.mark.parametrize("case", IDS, ids=IDS)
def t(case):
    if not os.environ.get("CRAFTED_PASS"):
        pytest.fail(f"failed on {{case}} <b>bold</b> [link]({phish}) {terminal}")
"""


def run_pytest(folder: Path, junit: Path, passing: bool) -> None:
    env = {"PATH": "/usr/bin:/bin", "CRAFTED_PASS": "1" if passing else ""}
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "python_functions=t",
         "-o", "python_files=c.py", f"--junitxml={junit}", "c.py"],
        cwd=folder, env=env, capture_output=True, timeout=120, check=False,
    )  # fmt: skip


def _guardian(folder: Path) -> tuple[Path, Path]:
    """Permissive: the tenant is allowed. Strict: the same tenant denied by a crafted rule and etag."""
    permissive, strict = folder / "permissive.jsonl", folder / "strict.jsonl"
    common = {"user": "u-1", "scopes": ["dreams:write"], "resource": "/v1/dreams", "latency_ms": 0.4}
    with permissive.open("wb") as sink:
        log = DecisionLogger(sink, "permissive")
        for i in range(20):
            log.log(tenant=TENANT, action=ACTION, decision="allow", rule_id="R-001", reason="allow_rule_matched:R-001",
                    policy_etag="v1", trace_id=f"{i:032x}", **common)  # fmt: skip
        sink.write(json.dumps({"mode": f"![m]({BEACON}mode.png)", "decision": TERMINAL}).encode() + b"\n")
    with strict.open("wb") as sink:
        log = DecisionLogger(sink, "strict")
        for i in range(20):
            log.log(tenant=TENANT, action=ACTION, decision="deny", rule_id=RULE, reason=f"deny_rule_matched:{RULE}",
                    policy_etag=ETAG, trace_id=f"{i:032x}", **common)  # fmt: skip
    return permissive, strict


def build(folder: Path) -> dict[str, Path]:
    """Two collected runs (passing, then failing) and a gate; returns the report, history, config."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "c.py").write_text(TEST_FILE.format(ids=IDS, phish=PHISH, terminal=TERMINAL))
    config = folder / "pyproject.toml"
    config.write_text(
        '[tool.healthdeck]\nout = "out"\n'
        "[tool.healthdeck.gates]\nno_new_failures = true\npass_rate_min = { smoke = 0.95 }\n"
        "guardian_new_in_strict_max = 0\n"
    )
    out = folder / "out"
    history = f"sqlite:///{out / 'history.sqlite'}"
    permissive, strict = _guardian(folder)
    common = ["--config", str(config), "--out", str(out), "--history", history]
    for passing in (True, False):
        junit = folder / f"junit-{'pass' if passing else 'fail'}.xml"
        run_pytest(folder, junit, passing)
        code = main(["collect", "-q", *common, "--junit", f"smoke={junit}", "--guardian-permissive",
                     str(permissive), "--guardian-strict", str(strict)])  # fmt: skip
        assert code == 0, code
    main(["gate", "--config", str(config), "--report", str(out / "latest.json"), "--history", history])
    return {"report": out / "latest.json", "history": out / "history.sqlite", "config": config}

"""The composite Action run as a runner runs it: each step's `run:` under `bash -eo pipefail`, its `if:`
and `${{ }}` expressions evaluated, GITHUB_OUTPUT / GITHUB_PATH / RUNNER_TEMP as the runner sets them,
and the sticky comment posted to the local stand-in for GitHub's REST API.

The install step is not run in the job: it pip-installs healthdeck from the Action's checkout, which
CI's own install already did; its venv is this interpreter's. Its requirement (the `version` input with
the extras the inputs need) is checked on its own, with a python that records what pip was asked for.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.github_standin import GitHubStandIn

REPO = Path(__file__).resolve().parents[1]
DATEUTIL = REPO / "reports" / "samples" / "dateutil"
STATUS_FUNCTIONS = ("success()", "failure()", "always()", "cancelled()")


class Runner:
    """Runs action.yml's steps for one job; `ran` names the steps run, `failed` whether the job failed."""

    def __init__(self, workdir: Path, temp: Path, inputs: dict[str, str], github: dict[str, str]) -> None:
        self.spec = yaml.safe_load((REPO / "action.yml").read_text())
        self.inputs = {k: str(v.get("default", "")) for k, v in self.spec["inputs"].items()} | inputs
        self.workdir, self.temp, self.github = workdir, temp, github
        self.steps: dict[str, dict] = {}
        self.ran: list[str] = []
        self.failed = False
        self.path = [str(temp / "healthdeck-venv" / "bin")]
        self.log: list[str] = []

    def _get(self, context: str, name: str) -> object:
        if context == "inputs":
            return self.inputs.get(name, "")
        if context == "github":
            return self.github.get(name, "")
        step, _, rest = name.partition(".")
        found = self.steps.get(step, {})
        return (
            found.get("outcome", "")
            if rest == "outcome"
            else found.get("outputs", {}).get(rest.split(".")[-1], "")
        )

    def evaluate(self, expr: str) -> object:
        """A GitHub expression in Python terms: `&&`/`||` return an operand, as `and`/`or` do."""
        python = re.sub(r"\b(inputs|github|steps)\.([A-Za-z0-9_.-]*[A-Za-z0-9_])",
                        lambda m: f"get({m[1]!r}, {m[2]!r})", expr)  # fmt: skip
        python = python.replace("&&", " and ").replace("||", " or ")
        names = {"get": self._get, "format": lambda f, *a: f.format(*a), "failure": lambda: self.failed,
                 "success": lambda: not self.failed, "always": lambda: True}  # fmt: skip
        return eval(python, {"__builtins__": {}}, names)  # the Action's own expressions, no builtins

    def substitute(self, text: str) -> str:
        def one(match: re.Match) -> str:
            value = self.evaluate(match[1])
            return ("true" if value else "false") if isinstance(value, bool) else str(value or "")

        return re.sub(r"\$\{\{(.*?)\}\}", one, str(text))

    def run(self) -> None:
        for i, step in enumerate(self.spec["runs"]["steps"]):
            if step["name"] == "Install healthdeck":
                continue
            condition = step.get("if", "")
            if not any(f in condition for f in STATUS_FUNCTIONS):  # GitHub's implicit success()
                condition = f"success() && ({condition})" if condition else "success()"
            if not self.evaluate(condition):
                continue
            output, path = self.temp / f"output-{i}", self.temp / f"path-{i}"
            output.write_text("")
            path.write_text("")
            env = {**os.environ, **{k: self.substitute(v) for k, v in (step.get("env") or {}).items()},
                   "GITHUB_OUTPUT": str(output), "GITHUB_PATH": str(path), "RUNNER_TEMP": str(self.temp),
                   "PATH": os.pathsep.join([*self.path, os.environ["PATH"]])}  # fmt: skip
            done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                                  cwd=self.workdir, env=env, capture_output=True, text=True, check=False)  # fmt: skip
            self.ran.append(step["name"])
            self.log.append(f"--- {step['name']} (exit {done.returncode})\n{done.stdout}{done.stderr}")
            outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
            if "id" in step:
                self.steps[step["id"]] = {
                    "outputs": outputs,
                    "outcome": "failure" if done.returncode else "success",
                }
            self.path[:0] = [line for line in path.read_text().splitlines() if line]
            self.failed = self.failed or done.returncode != 0


@pytest.fixture
def job(tmp_path: Path):
    """A pull_request job's workspace: the project's artifacts and config, the runner's temp folder with
    healthdeck's venv (this interpreter), the event payload, and the GitHub stand-in."""
    workdir, temp = tmp_path / "work", tmp_path / "temp"
    (workdir / "reports").mkdir(parents=True)
    temp.mkdir()
    # the whole environment, not its bin/ alone: a venv's python finds its packages by pyvenv.cfg beside bin/
    (temp / "healthdeck-venv").symlink_to(sys.prefix)
    for name in ("smoke.junit.xml.gz", "coverage.xml.gz", "ruff.json.gz"):
        shutil.copy(DATEUTIL / name, workdir / "reports" / name)
    shutil.copy(DATEUTIL / "compileall.txt", workdir / "reports" / "compileall.txt")
    (workdir / "pyproject.toml").write_text("[tool.healthdeck.gates]\nopenapi_breaking_max = false\n"
                                            "ruff_prod_max = false\n")  # fmt: skip
    with GitHubStandIn() as github:
        event = tmp_path / "event.json"
        event.write_text(json.dumps({"pull_request": {"number": github.pr, "head": {"sha": "a" * 40}}}))

        def make(junit: str) -> Runner:
            inputs = {"junit": f"smoke={junit}", "coverage": "reports/coverage.xml.gz", "ruff": "reports/ruff.json.gz",
                      "compileall": "reports/compileall.txt", "history": f"sqlite:///{tmp_path / 'store.sqlite'}",
                      "github-token": github.token}  # fmt: skip
            context = {"event_name": "pull_request", "base_ref": "main", "server_url": "https://github.example",
                       "repository": github.repository, "run_id": "7", "token": github.token}  # fmt: skip
            os.environ.update(
                github.env(), GITHUB_EVENT_PATH=str(event), GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md")
            )
            return Runner(workdir, temp, inputs, context)

        saved = dict(os.environ)
        try:
            yield make, github, tmp_path
        finally:
            os.environ.clear()
            os.environ.update(saved)


def test_a_push_whose_tests_wrote_no_junit_replaces_the_earlier_verdict(job) -> None:
    """Push 1 is gated and commented; push 2's test step wrote no JUnit, so collect fails: the same sticky
    comment now says there is no report (it said GO), and the job fails."""
    make, github, _ = job
    first = make("reports/smoke.junit.xml.gz")
    first.run()
    assert not first.failed, "\n".join(first.log)
    assert first.ran == ["Collect", "Gate", "Comment", "Badges", "Verdict"]
    [comment] = github.comments
    assert "Release health: **GO**" in comment["body"]

    second = make("reports/junit-that-was-never-written.xml")
    second.run()
    assert second.failed and second.ran == ["Collect", "No report"], "\n".join(second.log)
    [comment] = github.comments  # the same comment, updated: never a second one
    assert "Release health: **no report**" in comment["body"]
    assert "junit-that-was-never-written.xml: junit: No such file or directory" in comment["body"]
    assert "https://github.example/" in comment["body"] and len(github.calls("PATCH")) == 1


def test_a_no_go_run_still_comments_writes_badges_and_then_fails_the_job(job) -> None:
    make, github, tmp_path = job
    (tmp_path / "work" / "pyproject.toml").write_text(
        "[tool.healthdeck.gates]\nopenapi_breaking_max = false\n"
    )
    runner = make("reports/smoke.junit.xml.gz")  # the sample's ruff findings in the whole tree: NO-GO
    runner.run()
    assert runner.failed and runner.ran == ["Collect", "Gate", "Comment", "Badges", "Verdict"]
    assert runner.steps["gate"]["outputs"] == {"exit": "1", "verdict": "NO-GO"}
    [comment] = github.comments
    assert "Release health: **NO-GO**" in comment["body"]
    assert (tmp_path / "work" / "docs" / "audits" / "health" / "badge-verdict.svg").exists()
    assert "Release health: **NO-GO**" in (tmp_path / "summary.md").read_text()


FAKE_PYTHON = """#!/bin/sh
# `python -m venv DIR` makes DIR/bin/python this same script; `python -m pip install ...` records its last argument
if [ "$2" = venv ]; then mkdir -p "$3/bin" && cp "$0" "$3/bin/python"; exit 0; fi
for last; do :; done
printf '%s\\n' "$last" >> "$PIP_LOG"
"""


@pytest.mark.parametrize(
    ("version", "history", "wanted"),
    [
        ("healthdeck==0.1.0", "postgresql://ci@db/health", "healthdeck[postgres]==0.1.0"),
        ("healthdeck>=0.1,<0.2", "postgresql://ci@db/health", "healthdeck[postgres]>=0.1,<0.2"),
        ("healthdeck @ git+https://github.com/o/healthdeck@v0.1.0", "postgresql://ci@db/health",
         "healthdeck[postgres] @ git+https://github.com/o/healthdeck@v0.1.0"),
        ("git+https://github.com/o/healthdeck@v0.1.0", "postgresql://ci@db/health",
         "healthdeck[postgres] @ git+https://github.com/o/healthdeck@v0.1.0"),
        ("healthdeck[postgres]==0.1.0", "postgresql://ci@db/health", "healthdeck[postgres]==0.1.0"),
        ("healthdeck", "postgresql://ci@db/health", "healthdeck[postgres]"),
        ("healthdeck==0.1.0", "", "healthdeck==0.1.0"),
        ("", "postgresql://ci@db/health", "{source}[postgres]"),
        ("", "", "{source}"),
    ],
)  # fmt: skip
def test_the_install_step_puts_extras_after_the_name(tmp_path, version, history, wanted) -> None:
    """pip refuses `healthdeck==0.1.0[postgres]` ("Extras after version"): a pinned team set-up must install."""
    step = next(s for s in yaml.safe_load((REPO / "action.yml").read_text())["runs"]["steps"]
                if s["name"] == "Install healthdeck")  # fmt: skip
    assert "${{" not in step["run"]  # every input reaches the script through env
    python = tmp_path / "python"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    env = {**os.environ, "HD_PYTHON": str(python), "HD_VERSION": version, "HD_HISTORY": history, "HD_OPENAPI": "",
           "HD_SOURCE": str(REPO), "RUNNER_TEMP": str(tmp_path), "GITHUB_PATH": str(tmp_path / "path"),
           "PIP_LOG": str(tmp_path / "pip.log")}  # fmt: skip
    subprocess.run(["bash", "-eo", "pipefail", "-c", step["run"]], env=env, check=True)
    assert (tmp_path / "pip.log").read_text().splitlines() == [wanted.format(source=REPO)]
    if version:  # what pip itself parses (a folder is not a requirement)
        from packaging.requirements import Requirement

        assert Requirement(wanted).name == "healthdeck"


def test_a_config_in_a_subfolder_puts_the_report_beside_it(job) -> None:
    """A monorepo's `config: backend/pyproject.toml` with `out = "health"`: healthdeck writes
    backend/health/latest.json (out is relative to the pyproject), and the later steps read it there."""
    make, github, tmp_path = job
    work = tmp_path / "work"
    (work / "backend").mkdir()
    (work / "pyproject.toml").rename(work / "backend" / "pyproject.toml")
    with (work / "backend" / "pyproject.toml").open("a") as config:
        config.write('[tool.healthdeck]\nout = "health"\n')
    runner = make("reports/smoke.junit.xml.gz")
    runner.inputs["config"] = "backend/pyproject.toml"
    runner.run()
    assert not runner.failed and runner.ran == ["Collect", "Gate", "Comment", "Badges", "Verdict"], "\n".join(
        runner.log
    )
    assert runner.steps["collect"]["outputs"]["report"] == "backend/health/latest.json"
    assert "Release health: **GO**" in github.comments[0]["body"]

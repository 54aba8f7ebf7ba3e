"""A small project measured by coverage.py itself, with or without branches, for tests that need real
coverage output of one code base measured both ways."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

PROJECT = {
    "pkg/__init__.py": "",
    "pkg/core.py": """
        def classify(n):
            if n < 0:
                return "neg"
            elif n == 0:
                return "zero"
            return "pos"

        def unused(x):
            for i in range(x):
                if i % 2:
                    print(i)
    """,
    "other/mod.py": """
        def f(a):
            return a if a else None
    """,
    "run.py": """
        from pkg.core import classify
        from other.mod import f
        classify(5); classify(0); f(1)
    """,
}


def run_coverage(tmp_path: Path, branch: bool) -> Path:
    """Measure the project in `tmp_path` (written there) and write cov.xml, cov.json and .coverage."""
    for name, body in PROJECT.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body))
    args = [
        sys.executable,
        "-m",
        "coverage",
        "run",
        "--source=.",
        *(["--branch"] if branch else []),
        "run.py",
    ]
    subprocess.run(args, cwd=tmp_path, check=True, capture_output=True)
    for extra in (["xml", "-o", "cov.xml"], ["json", "-o", "cov.json"]):
        subprocess.run(
            [sys.executable, "-m", "coverage", *extra], cwd=tmp_path, check=True, capture_output=True
        )
    return tmp_path

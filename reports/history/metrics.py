"""A report summary as flat, named figures: what history stores per run and trends read back."""

from __future__ import annotations

from collections.abc import Iterator


def flatten(summary: dict, details: dict | None = None) -> dict[str, float]:
    """{"tests.smoke.pass_rate": 0.99, "coverage.lanes.core.percent": 91.2, "ruff.rule.E501": 3, ...}

    With the report's details, also every file's coverage ("coverage.file.<path>"), so drops per file
    can be found against any baseline.
    """
    figures = {name: float(value) for name, value in _walk(summary) if value is not None}
    for f in ((details or {}).get("coverage") or {}).get("files", []):
        figures[f"coverage.file.{f['path']}"] = float(f["percent"])
    return figures


def _walk(s: dict) -> Iterator[tuple[str, float | int | None]]:
    for suite, t in (s.get("tests") or {}).items():
        for key in ("passed", "failed", "errors", "skipped", "xfailed", "flaky", "total", "pass_rate", "causes",
                    "duration_regressions"):  # fmt: skip
            yield f"tests.{suite}.{key}", t.get(key)
        for key, n in (t.get("transitions") or {}).items():  # new, fixed, still_failing, flaky
            yield f"tests.{suite}.transitions.{key}", n
    cov = s.get("coverage")
    if cov:
        for key in ("percent", "statements_percent", "branches_percent"):
            yield f"coverage.{key}", cov.get(key)
        for lane, n in (cov.get("lanes") or {}).items():
            yield f"coverage.lanes.{lane}.percent", n["percent"] if n else None
    ruff = s.get("ruff")
    if ruff:
        yield "ruff.total", ruff["count"]["total"]
        for lane, n in (ruff["count"].get("lanes") or {}).items():
            yield f"ruff.lanes.{lane}", n
        for code, n in ruff.get("stats", {}).items():
            yield f"ruff.rule.{code}", n
    comp = s.get("compileall")
    if comp:
        yield "compileall.failures", comp["failures"]
        for lane, n in (comp.get("lanes") or {}).items():
            yield f"compileall.lanes.{lane}", n
    g = s.get("guardian")
    if g and g.get("permissive"):
        yield "guardian.permissive.decisions", g["permissive"]["decisions"]
        yield "guardian.permissive.would_deny", g["permissive"]["would_deny"]
        yield "guardian.strict.decisions", g["strict"]["decisions"]
        yield "guardian.strict.denied", g["strict"]["denied"]
        for key in ("new_in_strict", "not_reproduced", "malformed_lines"):
            yield f"guardian.{key}", g[key]

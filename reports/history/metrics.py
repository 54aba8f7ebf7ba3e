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


# The words a person reads for each flat name (the review's "Every figure"), and which way is better.
_TEST_FIGURES = {  # the two-part names first: "flaky" would also end "transitions.flaky"
    "transitions.new": ("new failures", "lower"), "transitions.fixed": ("fixed", "higher"),
    "transitions.still_failing": ("still failing", "lower"), "transitions.flaky": ("flaky against the baseline", "lower"),
    "passed": ("passed", "higher"), "failed": ("failed", "lower"), "errors": ("errors", "lower"),
    "skipped": ("skipped", None), "xfailed": ("xfailed", None), "flaky": ("flaky", "lower"),
    "total": ("tests", None), "pass_rate": ("pass rate", "higher"), "causes": ("failure causes", "lower"),
    "duration_regressions": ("tests slower than the baseline", "lower"),
}  # fmt: skip
_FIGURES = {
    "coverage.percent": ("coverage", "higher"), "coverage.statements_percent": ("statement coverage", "higher"),
    "coverage.branches_percent": ("branch coverage", "higher"), "ruff.total": ("ruff findings", "lower"),
    "compileall.failures": ("compileall failures", "lower"),
    "guardian.permissive.decisions": ("Guardian permissive decisions", None),
    "guardian.permissive.would_deny": ("Guardian permissive would-deny", None),
    "guardian.strict.decisions": ("Guardian strict decisions", None),
    "guardian.strict.denied": ("Guardian strict denied", None),
    "guardian.new_in_strict": ("Guardian denials new in strict", "lower"),
    "guardian.not_reproduced": ("Guardian would-deny not reproduced in strict", None),
    "guardian.malformed_lines": ("Guardian malformed log lines", "lower"),
}  # fmt: skip


def describe(name: str) -> tuple[str, str | None]:
    """(what a person reads for the flat figure `name`, "higher" or "lower" when that way is better, else
    None). Suite and lane names are the project's own; an unknown name is shown as it is."""
    if name in _FIGURES:
        return _FIGURES[name]
    kind, _, rest = name.partition(".")
    if kind == "tests":
        for key, (words, better) in _TEST_FIGURES.items():
            if rest.endswith(f".{key}"):  # a suite's name may hold dots: it is what comes before
                return f"{rest[: -len(key) - 1]}: {words}", better
    if kind == "coverage" and rest.startswith("lanes.") and rest.endswith(".percent"):
        return f"coverage of lane {rest[6:-8]}", "higher"
    if kind in ("ruff", "compileall") and rest.startswith("lanes."):
        return f"{'ruff findings' if kind == 'ruff' else 'compileall failures'} in lane {rest[6:]}", "lower"
    return name, None

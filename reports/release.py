"""What CI and release reviews act on: history, the gate, the PR comment and the badge.

The command handlers behind `healthdeck history|gate|comment|badge`; each reads latest.json and
the history store, never raw artifacts.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .config import Config
from .gate import evaluate, junit_xml, show
from .history.importers import import_dir, import_git
from .history.store import HistoryStore, Run
from .history.trends import classify_failures, flaky_tests, resolve_baseline
from .output import write_atomic
from .render.badge import color_for, endpoint, svg
from .render.comment import render_comment
from .render.markdown import render_markdown
from .render.md import percent
from .schema import validate_report


class InputError(Exception):
    """A report or history the command needs cannot be read; one line, names the file."""


def load_report(path: str | Path) -> dict:
    try:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read the report: {exc.strerror or exc}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a JSON report: {exc}") from exc
    if not isinstance(report, dict) or "summary" not in report or "schema_version" not in report:
        raise InputError(f"{path}: not a healthdeck report (no schema_version/summary)")
    return report


@dataclass
class Context:
    """A report, the history around it, and what comparing them says."""

    report: dict
    store: HistoryStore
    current: Run | None
    baseline: Run | None
    failures: list[dict]  # every failing test of the report, marked new/known and flaky

    @property
    def summary(self) -> dict:
        return self.report["summary"]


def context(report: dict, store: HistoryStore, spec: str, repo: str | Path = ".") -> Context:
    s = report["summary"]
    current = store.run(s["run_key"]) if s.get("run_key") else None
    probe = current or Run(0, s.get("run_key") or "", s.get("git_sha_full"), s.get("branch"), s.get("version"),
                           int(s["ts"]), None, "report", False, None, s)  # fmt: skip
    baseline = resolve_baseline(store, spec, probe, repo)
    base_failing = store.failing_of(baseline.id) if baseline else None
    failures = []
    for suite, det in ((report.get("details") or {}).get("tests") or {}).items():
        current_failing = {f["test_id"]: f["outcome"] for f in det["failing"]}
        # A suite the baseline did not run cannot tell new failures from known ones.
        ran_before = base_failing is not None and suite in (baseline.summary.get("tests") or {})
        base = {t: o for (su, t), o in base_failing.items() if su == suite} if ran_before else None
        status = classify_failures(current_failing, base)
        flaky = {f.test_id for f in flaky_tests(store, suite, branch=s.get("branch"))}
        for f in det["failing"]:
            failures.append(
                {**f, "suite": suite, "status": status[f["test_id"]], "flaky": f["test_id"] in flaky}
            )
    return Context(report, store, current, baseline, failures)


def cmd_gate(
    config: Config,
    report_path: Path,
    store: HistoryStore,
    *,
    baseline: str | None,
    junit: str | None,
    write: bool,
    out=None,
) -> tuple[dict, int]:
    """Evaluate, print every condition, store the verdict in the report and history; (verdict, exit code)."""
    out = out or sys.stdout
    report = load_report(report_path)
    ctx = context(report, store, baseline or config.gates.baseline)
    new = (
        [f"{f['test_id']} ({f['suite']})" for f in ctx.failures if f["status"] == "new"]
        if ctx.baseline
        else None
    )
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")  # reproducible builds: "now" is pinned
    verdict = evaluate(
        ctx.summary, config.gates, config.prod_lanes,
        baseline=ctx.baseline.summary if ctx.baseline else None, new_failures=new,
        now=int(epoch) if epoch.isdigit() else None,
    )  # fmt: skip
    verdict["baseline"] = _run_ref(ctx.baseline)
    for c in verdict["conditions"]:
        print(f"{c['status']:<8} {c['description']}: {show(c['actual'], c.get('unit', 'count'))} "
              f"(threshold {show(c['threshold'], c.get('unit', 'count'))})" + (f" — {c['detail']}" if c["detail"] else ""),
              file=out)  # fmt: skip
    if not verdict["conditions"]:
        print("UNKNOWN  no conditions configured in [tool.healthdeck.gates]", file=out)
    print(f"verdict: {verdict['status']}" + (" (blocks the release)" if verdict["blocks"] else ""), file=out)
    outputs: dict[Path, str] = {}
    if write:
        report["summary"]["verdict"] = verdict["status"]
        report.setdefault("details", {})["verdict"] = verdict
        validate_report(report)
        outputs[report_path] = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
        outputs[report_path.with_suffix(".md")] = render_markdown(report, config.coverage_precision)
    if junit:
        outputs[Path(junit)] = junit_xml(verdict)
    if outputs:
        write_atomic(outputs)
    if write and ctx.summary.get("run_key"):
        store.set_verdict(ctx.summary["run_key"], verdict["status"], verdict)
    return verdict


def _run_ref(run: Run | None) -> dict | None:
    return (
        None
        if run is None
        else {"run_key": run.run_key, "git_sha": run.short_sha, "branch": run.branch, "ts": run.ts}
    )


def cmd_comment(
    config: Config, report: dict, store: HistoryStore, *, baseline: str | None, link: str | None
) -> str:
    ctx = context(report, store, baseline or config.gates.baseline)
    verdict = (report.get("details") or {}).get("verdict")
    return render_comment(
        ctx.summary, report.get("details") or {}, verdict=verdict,
        baseline=ctx.baseline.summary if ctx.baseline else None, failures=ctx.failures,
        smoke_suite=_smoke(config, ctx.summary), prod_lanes=config.prod_lanes, link=link,
    )  # fmt: skip


def annotations(report: dict) -> list[str]:
    """GitHub workflow commands for failing and blocking-unknown gate conditions."""
    verdict = (report.get("details") or {}).get("verdict") or {"conditions": [], "unknown_blocks": True}
    lines = []
    for c in verdict["conditions"]:
        if c["status"] == "FAIL" or (c["status"] == "UNKNOWN" and verdict["unknown_blocks"]):
            text = (f"{c['description']}: {show(c['actual'], c.get('unit', 'count'))} vs threshold {show(c['threshold'], c.get('unit', 'count'))}"
                    + (f" ({c['detail']})" if c["detail"] else ""))  # fmt: skip
            level = "error" if c["status"] == "FAIL" else "warning"
            lines.append(f"::{level} title=healthdeck gate {c['name']}::{_escape_command(text)}")
    return lines


def _escape_command(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _smoke(config: Config, summary: dict) -> str:
    tests = summary.get("tests") or {}
    return config.smoke_suite if config.smoke_suite in tests or not tests else next(iter(tests))


def cmd_badge(config: Config, report: dict, out: Path) -> list[Path]:
    s = report["summary"]
    suite = _smoke(config, s)
    rate = ((s.get("tests") or {}).get(suite) or {}).get("pass_rate")
    cov = (s.get("coverage") or {}).get("percent")
    verdict = s.get("verdict")
    badges = {
        "smoke": (f"{suite} tests", percent(rate, 1).replace(" ", "") if rate is not None else "unknown",
                  color_for(rate, config.badge_thresholds["pass_rate"])),
        "coverage": ("coverage", f"{cov:.1f}%" if cov is not None else "unknown",
                     color_for(cov, config.badge_thresholds["coverage"])),
        "verdict": ("release", verdict or "not gated",
                    {"GO": "green", "NO-GO": "red", "INCOMPLETE": "yellow"}.get(verdict or "", "grey")),
    }  # fmt: skip
    files: dict[Path, str] = {}
    for name, (label, message, color) in badges.items():
        files[out / f"badge-{name}.svg"] = svg(label, message, color)
        files[out / f"badge-{name}.json"] = endpoint(label, message, color)
    write_atomic(files)
    return sorted(files)


def history_rows(store: HistoryStore, config: Config, *, branch: str | None, limit: int) -> list[dict]:
    """Runs oldest first with the headline figures and their change from the previous row."""
    rows = []
    previous: dict | None = None
    for run in store.runs(branch=branch, limit=limit):
        figures = store.metrics_of(run.id)
        suite = _smoke(config, run.summary)
        row = {
            "run_key": run.run_key, "ts": run.ts,
            "time": time.strftime("%Y-%m-%d %H:%M", time.gmtime(run.ts)),
            "git_sha": run.short_sha, "branch": run.branch, "source": run.source,
            "approximate": run.approximate, "verdict": run.verdict,
            "smoke_suite": suite,
            "smoke_pass_rate": figures.get(f"tests.{suite}.pass_rate"),
            "coverage": figures.get("coverage.percent"),
            "ruff": figures.get("ruff.total"),
            "compileall": figures.get("compileall.failures"),
            "guardian_new_in_strict": figures.get("guardian.new_in_strict"),
        }  # fmt: skip
        for key in ("smoke_pass_rate", "coverage", "ruff", "compileall"):
            before = previous.get(key) if previous else None
            row[f"{key}_delta"] = None if row[key] is None or before is None else row[key] - before
        rows.append(row)
        previous = row
    return rows


def format_history(rows: list[dict]) -> str:
    def fmt(value: float | None, kind: str) -> str:
        if value is None:
            return "—"
        return {"rate": f"{value * 100:.2f}%", "pct": f"{value:.2f}%", "int": f"{value:.0f}"}[kind]

    def fmt_delta(value: float | None, kind: str) -> str:
        if value is None:
            return ""
        return {"rate": f"{value * 100:+.2f}", "pct": f"{value:+.2f}", "int": f"{value:+.0f}"}[kind]

    header = f"{'time (UTC)':<16} {'sha':<8} {'branch':<14} {'smoke':>8} {'Δ':>7} {'coverage':>9} {'Δ':>7} " \
             f"{'ruff':>6} {'Δ':>6} {'compile':>7} {'verdict':<10}"  # fmt: skip
    lines = [header, "-" * len(header)]
    for r in rows:
        mark = "~" if r["approximate"] else " "
        lines.append(
            f"{r['time']:<16} {r['git_sha'] or '—':<8} {(r['branch'] or '—')[:14]:<14} "
            f"{fmt(r['smoke_pass_rate'], 'rate'):>7}{mark} {fmt_delta(r['smoke_pass_rate_delta'], 'rate'):>7} "
            f"{fmt(r['coverage'], 'pct'):>9} {fmt_delta(r['coverage_delta'], 'pct'):>7} "
            f"{fmt(r['ruff'], 'int'):>6} {fmt_delta(r['ruff_delta'], 'int'):>6} {fmt(r['compileall'], 'int'):>7} "
            f"{r['verdict'] or '':<10}"
        )
    if any(r["approximate"] for r in rows):
        lines.append(
            "~ approximate: imported from console-parsed figures (upstream report), not from JUnit XML"
        )
    return "\n".join(lines) + "\n"


def cmd_import(
    store: HistoryStore, *, folder: str | None, repo: str | None, path: str | None, ref: str
) -> str:
    result = import_dir(store, folder) if folder else import_git(store, repo or ".", path or "", ref)
    text = (
        f"imported {result.imported} runs, {result.already} already in history, {len(result.skipped)} skipped"
    )
    return "\n".join([text, *(f"  skipped {s}" for s in result.skipped)])


def github_step_summary(text: str) -> bool:
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return False
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text if text.endswith("\n") else text + "\n")
    return True

"""`healthdeck badge`: SVG badges and shields.io endpoint JSON for the smoke pass rate, coverage and verdict."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config import Config, load_config
from ..errors import one_line
from ..gate import smoke_name, ungated_word
from ..output import write_atomic
from ..reading import open_reading
from ..render.badge import color_for, endpoint, svg
from ..render.md import display_covered, percent
from ..report_file import blamed_on


def run(args: argparse.Namespace) -> int:
    local = load_config(args.config)
    reading = open_reading(args, local, history=False)
    reading.close()
    out = Path(args.out) if args.out else (reading.path.parent if reading.path else local.out_path)
    with blamed_on(reading.path, reading.report):
        written = cmd_badge(reading.config, reading.report, out)
    for path in written:
        print(one_line(f"wrote {path}"))
    return 0


def smoke_label(suite: str) -> str:
    """'smoke tests', but 'tests' rather than 'tests tests' for a suite already named so."""
    return suite if suite.lower().endswith(("test", "tests")) else f"{suite} tests"


def cmd_badge(config: Config, report: dict, out: Path) -> list[Path]:
    s = report["summary"]
    suite = smoke_name(s, config.smoke_suite)
    rate = ((s.get("tests") or {}).get(suite) or {}).get("pass_rate")
    cov = (s.get("coverage") or {}).get("percent")
    # Before `healthdeck gate` has run, the checklist `collect` evaluated (details.checklist) names a failing
    # or incomplete run as latest.md and the comment do ("NO-GO (not gated)"), never GO.
    preview = ((report.get("details") or {}).get("checklist") or {}).get("status")
    status = s.get("verdict") or (
        preview if preview != "GO" else None
    )  # its colour: GO is the gate's to give
    shown = s.get("verdict") or ungated_word(preview)
    badges = {
        "smoke": (smoke_label(suite), percent(rate).replace(" ", "") if rate is not None else "unknown",
                  color_for(rate, config.badge_thresholds["pass_rate"])),
        "coverage": ("coverage", f"{display_covered(cov, config.coverage_precision)}%" if cov is not None else "unknown",
                     color_for(cov, config.badge_thresholds["coverage"])),
        "verdict": ("release", shown, {"GO": "green", "NO-GO": "red", "INCOMPLETE": "yellow"}.get(status or "", "grey")),
    }  # fmt: skip
    files: dict[Path, str] = {}
    for name, (label, message, color) in badges.items():
        files[out / f"badge-{name}.svg"] = svg(label, message, color)
        files[out / f"badge-{name}.json"] = endpoint(label, message, color)
    write_atomic(files)
    return sorted(files)

"""The configuration a report was made with, carried in its `config` block, and which one a reader uses.

A report's lane figures were computed with its own lanes, and its verdict with its own checklist, so a
reader on another machine (a fresh runner, the dashboard host) uses the report's configuration. A
`--config` given on the command line is the reader asking for its local policy: then the local prod
lanes, smoke suite, checklist and badge thresholds apply (lanes cannot change after the fact). Either
way, every setting on which the two disagree is named in a note.
"""

from __future__ import annotations

import json
from pathlib import Path

from healthdeck.collectors.files import rereadable

from .config import Config, GateConfig

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:
    from typing import Any

# Settings that decide how a report is read (and can be taken from either side) ...
POLICY_KEYS = ("prod_lanes", "smoke_suite", "gates", "badge_thresholds", "coverage_precision")
# ... and settings that decided how its figures were made (always the report's).
MADE_WITH_KEYS = ("lanes", "max_failing_listed", "message_chars", "slowest", "lowest_files")


def config_block(config: Config) -> dict:
    """The report's `config` block: JSON-ready, no machine paths."""
    block: dict[str, Any] = {
        "lanes": {lane: list(prefixes) for lane, prefixes in config.lanes.items()},
        "prod_lanes": list(config.prod_lanes),
        "smoke_suite": config.smoke_suite,
        "gates": _jsonable({**config.gates._asdict(), "origin": _name(config.gates.origin)}),
        "badge_thresholds": {k: list(v) for k, v in config.badge_thresholds.items()},
        "coverage_precision": config.coverage_precision,
        "max_failing_listed": config.max_failing_listed,
        "message_chars": config.message_chars,
        "slowest": config.slowest,
        "lowest_files": config.lowest_files,
        "source": _name(config.source),
    }
    return block


def _name(path: str | None) -> str | None:
    return Path(path).name if path else None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _from_block(block: dict, base: Config) -> tuple[Config, list[str]]:
    """`base` with every setting the block carries; settings this healthdeck cannot read are named."""
    values: dict[str, Any] = {}
    unreadable: list[str] = []
    if isinstance(block.get("lanes"), dict):
        values["lanes"] = {lane: tuple(p) for lane, p in block["lanes"].items()}
    if isinstance(block.get("prod_lanes"), list):
        values["prod_lanes"] = tuple(block["prod_lanes"])
    if isinstance(block.get("badge_thresholds"), dict):
        values["badge_thresholds"] = {k: tuple(v) for k, v in block["badge_thresholds"].items()}
    for key in (
        "smoke_suite",
        "coverage_precision",
        "max_failing_listed",
        "message_chars",
        "slowest",
        "lowest_files",
    ):
        if key in block and block[key] is not None:
            values[key] = block[key]
    if isinstance(block.get("gates"), dict):
        known = set(GateConfig._fields)
        unreadable += [f"gates.{k}" for k in block["gates"] if k not in known]
        try:
            gates = {
                k: tuple(v) if isinstance(v, list) else v for k, v in block["gates"].items() if k in known
            }
            values["gates"] = GateConfig(**gates)
        except TypeError:
            unreadable.append("gates")
    return base._replace(**values), unreadable


def effective_config(report: dict, local: Config, prefer_local: bool = False) -> tuple[Config, list[str]]:
    """(the configuration to read `report` with, notes for stderr or the page).

    Reports made before the `config` block carried the checklist (only lanes) are read with the local
    configuration.
    """
    block = report.get("config") or {}
    if "prod_lanes" not in block:
        return local, []
    from_report, unreadable = _from_block(block, local)
    notes = (
        [f"the report's setting {', '.join(unreadable)} is unknown to this healthdeck and ignored"]
        if unreadable
        else []
    )
    if prefer_local:
        chosen = local._replace(**{k: getattr(from_report, k) for k in MADE_WITH_KEYS})
    else:
        chosen = from_report
    if local.source:  # a local [tool.healthdeck] exists: say where it disagrees, in one line
        mine, theirs = config_block(local), config_block(from_report)  # both as a report stores them
        differ = [key for key in (*POLICY_KEYS, "lanes") if mine[key] != theirs[key]]
        if differ:
            # a pipe's name (/dev/fd/63) says nothing once cut to its last part
            where = Path(local.source).name if rereadable(local.source) else str(local.source)
            shown = "; ".join(
                f"{name}: report {_show(a)}, {where} {_show(b)}"
                for key in differ
                for name, a, b in _differences(key, theirs[key], mine[key])
            )
            used = (
                f"using {where}'s (--config), except lanes, which made the report's figures"
                if prefer_local
                else f"using the report's (give --config {where} to use the local one)"
            )
            notes.append(f"the report's configuration differs from {where} ({shown}); {used}")
    return chosen, notes


def _differences(name: str, a: Any, b: Any) -> list[tuple[str, Any, Any]]:
    """(dotted name, report's, local) of each setting that differs: a table's differing keys, not two
    long dumps that agree as far as they are shown."""
    if not (isinstance(a, dict) and isinstance(b, dict)):
        return [(name, a, b)]
    return [
        (f"{name}.{key}", a.get(key), b.get(key))
        for key in sorted(set(a) | set(b), key=str)
        if a.get(key) != b.get(key)
    ]


def _show(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"))
    return text if len(text) <= 80 else text[:77] + "..."

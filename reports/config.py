"""`[tool.healthdeck]` in pyproject.toml, found the way ruff and pytest find theirs (cwd, then upward)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from collectors.guardian.format import PRESETS, MetricNames

DEFAULT_OUT = "docs/audits/health"


class ConfigError(Exception):
    """The configuration is unusable; the message names the file and the key."""


@dataclass(frozen=True)
class GuardianConfig:
    """[tool.healthdeck.guardian]: metric names/labels (a preset plus overrides) and Prometheus."""

    metrics: MetricNames = field(default_factory=MetricNames)
    prometheus_url: str | None = None
    window: str = "24h"
    timeout: float = 5.0


@dataclass(frozen=True)
class Config:
    out: str = DEFAULT_OUT
    root: str = "."  # project root: lanes and file paths are relative to it
    lanes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # lane -> path prefixes
    message_chars: int = 300  # failing-test message excerpt
    slowest: int = 10
    max_failing_listed: int = 200  # per suite, in latest.json/latest.md (counts stay exact)
    lowest_files: int = 10
    coverage_precision: int = 2
    guardian: GuardianConfig = field(default_factory=GuardianConfig)
    source: str | None = None  # the pyproject.toml it came from

    @property
    def root_path(self) -> Path:
        base = Path(self.source).parent if self.source else Path.cwd()
        return (base / self.root).resolve()


_INT_KEYS = {f.name for f in fields(Config) if f.type == "int"}


def find_pyproject(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_config(path: str | Path | None = None, start: Path | None = None) -> Config:
    """Read the config from `path`, or from the nearest pyproject.toml; absent section = defaults."""
    source = Path(path) if path else find_pyproject((start or Path.cwd()).resolve())
    if source is None:
        return Config()
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{source}: cannot read config: {exc}") from exc
    section = data.get("tool", {}).get("healthdeck")
    if section is None:
        return Config(source=str(source)) if path else Config()
    return _parse(section, source)


def _parse(section: dict[str, Any], source: Path) -> Config:
    known = {f.name for f in fields(Config)} - {"source"}
    values: dict[str, Any] = {"source": str(source)}
    for key, value in section.items():
        if key not in known:
            continue  # other sections (gates, guardian, history) belong to their own readers
        if key == "lanes":
            values[key] = _lanes(value, source)
        elif key == "guardian":
            values[key] = _guardian(value, source)
        elif key in _INT_KEYS:
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"{source}: [tool.healthdeck] {key} must be a non-negative integer")
            values[key] = value
        else:
            if not isinstance(value, str):
                raise ConfigError(f"{source}: [tool.healthdeck] {key} must be a string")
            values[key] = value
    return Config(**values)


def _lanes(value: Any, source: Path) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: [tool.healthdeck.lanes] must be a table of lane = [prefixes]")
    lanes: dict[str, tuple[str, ...]] = {}
    for lane, prefixes in value.items():
        if isinstance(prefixes, str):
            prefixes = [prefixes]
        if not isinstance(prefixes, list) or not all(isinstance(p, str) and p for p in prefixes):
            raise ConfigError(f"{source}: [tool.healthdeck.lanes] {lane} must be a list of path prefixes")
        lanes[lane] = tuple(p if p.endswith("/") else p + "/" for p in prefixes)
    return lanes


def _guardian(value: Any, source: Path) -> GuardianConfig:
    where = f"{source}: [tool.healthdeck.guardian]"
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table")
    preset = value.get("preset", "healthdeck")
    if preset not in PRESETS:
        raise ConfigError(f"{where} preset must be one of {', '.join(PRESETS)}, not {preset!r}")
    metrics = PRESETS[preset]
    for key, attr in (("decisions_metric", "decisions"), ("denies_metric", "denies")):
        if key in value:
            metrics = replace(metrics, **{attr: _string(value[key], f"{where} {key}")})
    for key in ("decision_labels", "deny_labels"):
        if key in value:
            labels = value[key]
            if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
                raise ConfigError(f"{where} {key} must map concepts to label keys (strings)")
            metrics = replace(metrics, **{key: {**getattr(metrics, key), **labels}})
    timeout = value.get("timeout", 5.0)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
        raise ConfigError(f"{where} timeout must be a positive number of seconds")
    url = value.get("prometheus_url")
    return GuardianConfig(
        metrics=metrics,
        prometheus_url=_string(url, f"{where} prometheus_url") if url is not None else None,
        window=_string(value.get("window", "24h"), f"{where} window"),
        timeout=float(timeout),
    )


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where} must be a non-empty string")
    return value


def lane_of(path: str, lanes: dict[str, tuple[str, ...]]) -> str | None:
    """The first lane whose prefix the (project-relative, POSIX) path starts with."""
    for lane, prefixes in lanes.items():
        if path.startswith(prefixes):
            return lane
    return None

"""The parse cache of pyproject.toml (reports.config._read_toml): a later command reads collect's parse back
instead of importing tomllib, and never a parse of other text."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from healthdeck.reports.config import ConfigError, load_config

GATES = '[tool.healthdeck]\nsmoke_suite = "smoke"\n[tool.healthdeck.gates]\nsmoke_pass_rate_min = {}\n'


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("HEALTHDECK_CACHE_DIR", str(folder))
    return folder


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def test_a_parse_is_reused_for_the_same_text_only(tmp_path, cache) -> None:
    project = tmp_path / "pyproject.toml"
    project.write_text(GATES.format("0.9"))
    first = load_config(project)
    assert first.gates.smoke_pass_rate_min == 0.9 and len(entries(cache)) == 1
    # a fresh process reads the parse back: no tomllib, the same settings
    probe = (
        "import sys; from healthdeck.reports.config import load_config; c = load_config(sys.argv[1]); "
        "print(c.gates.smoke_pass_rate_min, 'tomllib' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(project)], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["0.9", "False"]
    # an edit of the same length is parsed again; the entry is replaced, not added to
    project.write_text(GATES.format("0.8"))
    assert load_config(project).gates.smoke_pass_rate_min == 0.8 and len(entries(cache)) == 1
    done = subprocess.run(
        [sys.executable, "-c", probe, str(project)], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["0.8", "False"]


def test_a_damaged_or_foreign_entry_is_parsed_past(tmp_path, cache) -> None:
    project = tmp_path / "pyproject.toml"
    project.write_text(GATES.format("0.9"))
    load_config(project)
    (entry,) = entries(cache)
    for damaged in ("{", "[]", '{"toml": 1, "data": {}}', '{"toml": "x", "data": {}}', "\x00" * 10):
        entry.write_text(damaged)
        assert load_config(project).gates.smoke_pass_rate_min == 0.9, damaged
        assert '"smoke_pass_rate_min": 0.9' in entry.read_text()  # written back whole


def test_no_cache_where_none_can_be_kept(tmp_path, monkeypatch) -> None:
    """An unwritable cache folder, an empty HEALTHDECK_CACHE_DIR, a TOML date (not JSON): each run
    parses, and the settings are the same."""
    project = tmp_path / "pyproject.toml"
    project.write_text(GATES.format("0.9"))
    blocked = tmp_path / "file"
    blocked.write_text("")
    monkeypatch.setenv("HEALTHDECK_CACHE_DIR", str(blocked / "cache"))  # a folder under a file
    assert load_config(project).gates.smoke_pass_rate_min == 0.9
    monkeypatch.setenv("HEALTHDECK_CACHE_DIR", "")
    assert load_config(project).gates.smoke_pass_rate_min == 0.9
    folder = tmp_path / "cache"
    monkeypatch.setenv("HEALTHDECK_CACHE_DIR", str(folder))
    project.write_text(GATES.format("0.9") + "[tool.other]\nwhen = 1979-05-27T07:32:00Z\n")
    assert load_config(project).gates.smoke_pass_rate_min == 0.9 and entries(folder) == []


def test_errors_are_never_cached(tmp_path, cache) -> None:
    project = tmp_path / "pyproject.toml"
    project.write_text("[tool.healthdeck\n")
    for _ in range(2):
        with pytest.raises(ConfigError, match="cannot read config"):
            load_config(project)
    assert entries(cache) == []
    project.write_text(GATES.format("1.5"))  # parsed, cached, and still refused by the range check
    for _ in range(2):
        with pytest.raises(ConfigError, match="smoke_pass_rate_min"):
            load_config(project)


def test_only_the_users_own_plain_entries_are_trusted(tmp_path, cache) -> None:
    """An entry is taken as the parse of the text it holds: one that others can write (a shared or
    restored cache folder), a FIFO (it would block) or a link to a device is parsed past, never used."""
    import os

    project = tmp_path / "pyproject.toml"
    project.write_text(GATES.format("0.9"))
    load_config(project)
    (entry,) = entries(cache)
    assert entry.stat().st_mode & 0o777 == 0o600  # written for the user alone, whatever the umask
    poisoned = entry.read_text().replace('"smoke_pass_rate_min": 0.9', '"smoke_pass_rate_min": 0.01')
    entry.write_text(poisoned)
    entry.chmod(0o666)  # the right text, crafted data, writable by anyone: not trusted
    assert load_config(project).gates.smoke_pass_rate_min == 0.9
    for odd in ("fifo", "device"):
        entry.unlink(missing_ok=True)
        if odd == "fifo":
            os.mkfifo(entry)
        else:
            entry.symlink_to("/dev/zero")
        assert load_config(project).gates.smoke_pass_rate_min == 0.9, odd  # neither hangs nor reads forever


def test_an_integer_too_long_to_convert_is_a_configuration_error(tmp_path, cache) -> None:
    """Python converts at most 4 300 digits: a longer integer anywhere in pyproject.toml is one line."""
    project = tmp_path / "pyproject.toml"
    project.write_text("[tool.other]\nn = " + "9" * 5000 + "\n")
    with pytest.raises(ConfigError, match=r"cannot read config: .*digits"):
        load_config(project)

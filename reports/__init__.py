"""Reports: build the versioned health report from collector records, decide, render and write it."""

SCHEMA_VERSION = "1.9"
DEFAULT_OUT = "docs/audits/health"  # where reports go ([tool.healthdeck] out)
DEFAULT_REPORT = f"{DEFAULT_OUT}/latest.json"

# The one place the version is written: pyproject.toml reads it ([tool.setuptools.dynamic]), and a plain
# constant costs nothing at start-up (importlib.metadata would cost ~20 ms on every command).
__version__ = "0.1.0"

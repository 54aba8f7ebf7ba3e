"""Reports: build the versioned health report from collector records, decide, render and write it."""

from importlib.metadata import PackageNotFoundError, version

SCHEMA_VERSION = "1.1"

try:
    __version__ = version("healthdeck")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
